
/*
 * cflb rules: compile-time memory, error reporting and the tokens the
 * parser asks for (identifiers, keywords, strings, integers, addresses).
 * Tokens are read on demand, because what a literal means depends on
 * where it is: a quoted string after "matches" follows the regex escape
 * rules, and an address may only be a CIDR or a range inside a set.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cflb_rules_int.h"


#define CFLB_RULES_CHUNK  4096


static int cflb_rules_hex(unsigned char c);
static int cflb_rules_quoted(cflb_rules_parser_t *p, cflb_str_t *s,
    int regex);
static int cflb_rules_escape(cflb_rules_parser_t *p, size_t *i,
    unsigned char *out);
static int cflb_rules_raw(cflb_rules_parser_t *p, cflb_str_t *s);
static int cflb_rules_ip_text(const unsigned char *s, size_t len,
    cflb_rules_ip_t *ip);
static int cflb_rules_ipv4(const unsigned char *s, size_t len,
    unsigned char *out);
static int cflb_rules_ipv6(const unsigned char *s, size_t len,
    unsigned char *out);
static int cflb_rules_cidr(const unsigned char *s, size_t len,
    cflb_rules_ip_t *lo, cflb_rules_ip_t *hi);


void *
cflb_rules_alloc(cflb_rules_arena_t *arena, size_t size)
{
    size_t               csize;
    unsigned char       *p;
    cflb_rules_chunk_t  *c;

    size = (size + 7) & ~(size_t) 7;
    c = arena->chunks;

    if (c == NULL || c->size - c->used < size) {
        csize = size > CFLB_RULES_CHUNK ? size : CFLB_RULES_CHUNK;

        c = arena->a.alloc(arena->a.data, sizeof(cflb_rules_chunk_t) + csize);
        if (c == NULL) {
            return NULL;
        }

        c->next = arena->chunks;
        c->size = csize;
        c->used = 0;
        arena->chunks = c;
    }

    /* the chunk header is 3 words, so the data after it stays aligned */
    p = (unsigned char *) (c + 1) + c->used;
    c->used += size;

    memset(p, 0, size);

    return p;
}


void
cflb_rules_arena_free(cflb_rules_arena_t *arena)
{
    cflb_rules_chunk_t  *c, *next;

    for (c = arena->chunks; c != NULL; c = next) {
        next = c->next;
        arena->a.free(arena->a.data, c);
    }

    arena->chunks = NULL;
}


int
cflb_rules_error(cflb_rules_parser_t *p, size_t pos, const char *fmt, ...)
{
    size_t             i, line_start;
    va_list            args;
    cflb_rules_err_t  *err;

    err = p->err;

    if (err->msg[0] != '\0') {
        return CFLB_ERROR;
    }

    if (pos > p->len) {
        pos = p->len;
    }

    err->line = 1;
    line_start = 0;

    for (i = 0; i < pos; i++) {
        if (p->text[i] == '\n') {
            err->line++;
            line_start = i + 1;
        }
    }

    err->column = (unsigned) (pos - line_start + 1);
    err->offset = pos;

    va_start(args, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, args);
    va_end(args);

    return CFLB_ERROR;
}


int
cflb_rules_nomem(cflb_rules_parser_t *p)
{
    p->err->msg[0] = '\0';

    return cflb_rules_error(p, p->pos, "out of memory");
}


/*
 * s for a message: at most 64 bytes of it and what fits in size (at
 * least 16), non-printable bytes as \xHH, "..." when cut
 */

char *
cflb_rules_quote(char *buf, size_t size, const unsigned char *s, size_t len)
{
    size_t  i, o;

    o = 0;

    for (i = 0; i < len; i++) {
        if (i == 64 || o + 4 + 4 >= size) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }

        if (s[i] >= 0x20 && s[i] < 0x7f) {
            buf[o++] = (char) s[i];

        } else {
            o += (size_t) snprintf(buf + o, size - o, "\\x%02x", s[i]);
        }
    }

    buf[o] = '\0';

    return buf;
}


/* spaces, tabs and line breaks: wirefilter takes no tabs, nginx does */

void
cflb_rules_skip_ws(cflb_rules_parser_t *p)
{
    unsigned char  c;

    while (p->pos < p->len) {
        c = p->text[p->pos];

        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            break;
        }

        p->pos++;
    }
}


int
cflb_rules_peek(cflb_rules_parser_t *p, const char *s)
{
    size_t  n;

    n = strlen(s);

    return p->len - p->pos >= n && memcmp(p->text + p->pos, s, n) == 0;
}


/* a keyword, not the start of a longer name: "not" but not "nothing" */

int
cflb_rules_word(cflb_rules_parser_t *p, const char *w)
{
    size_t         n;
    unsigned char  c;

    if (!cflb_rules_peek(p, w)) {
        return 0;
    }

    n = strlen(w);

    if (p->pos + n < p->len) {
        c = p->text[p->pos + n];

        if (cflb_rules_ident_char(c) || c == '.') {
            return 0;
        }
    }

    p->pos += n;

    return 1;
}


/* the length of a dotted name at the position: a.b_c.d9 */

size_t
cflb_rules_ident(cflb_rules_parser_t *p)
{
    size_t  i, part;

    i = p->pos;

    for ( ;; ) {
        part = i;

        while (i < p->len && cflb_rules_ident_char(p->text[i])) {
            i++;
        }

        if (i == part) {
            /* "a." is the name "a" followed by a stray dot */
            return part > p->pos ? part - 1 - p->pos : 0;
        }

        if (i == p->len || p->text[i] != '.') {
            return i - p->pos;
        }

        i++;
    }
}


int
cflb_rules_string(cflb_rules_parser_t *p, cflb_str_t *s, int regex)
{
    const unsigned char  *t;

    if (p->pos >= p->len) {
        return CFLB_DECLINED;
    }

    t = p->text + p->pos;

    if (t[0] == '"') {
        return cflb_rules_quoted(p, s, regex);
    }

    if (t[0] == 'r' && p->pos + 1 < p->len && (t[1] == '"' || t[1] == '#')) {
        return cflb_rules_raw(p, s);
    }

    return CFLB_DECLINED;
}


/*
 * Quoted strings take \" \\ \xHH and \OOO.  As a regex they keep every
 * escape for the regex engine except \" (outside a class), and a quote
 * inside [...] does not end them: wirefilter's rules.  Two passes, so
 * that the copy is exactly as long as the value.
 */

static int
cflb_rules_quoted(cflb_rules_parser_t *p, cflb_str_t *s, int regex)
{
    int             rc, pass, cls;
    size_t          i, n, k, start;
    unsigned char   c, buf[2], *out;

    start = p->pos;
    out = NULL;
    n = 0;

    for (pass = 0; pass < 2; pass++) {
        i = start + 1;
        n = 0;
        cls = 0;

        for ( ;; ) {
            if (i >= p->len || (p->text[i] == '\\' && i + 1 >= p->len)) {
                return cflb_rules_error(p, start, "unterminated string");
            }

            c = p->text[i];

            if (c == '"' && !cls) {
                break;
            }

            if (c != '\\') {
                if (regex && c == '[' && !cls) {
                    cls = 1;

                } else if (regex && c == ']' && cls) {
                    cls = 0;
                }

                buf[0] = c;
                k = 1;
                i++;

            } else if (regex) {
                /* the escape stays for the engine, but for \" */
                c = p->text[i + 1];
                buf[0] = '\\';
                buf[1] = c;
                k = (cls || c != '"') ? 2 : 1;

                if (k == 1) {
                    buf[0] = c;
                }

                i += 2;

            } else {
                rc = cflb_rules_escape(p, &i, buf);
                if (rc != CFLB_OK) {
                    return rc;
                }

                k = 1;
            }

            if (out) {
                memcpy(out + n, buf, k);
            }

            n += k;
        }

        if (pass == 0) {
            out = cflb_rules_alloc(&p->expr->arena, n ? n : 1);
            if (out == NULL) {
                return cflb_rules_nomem(p);
            }

        } else {
            p->pos = i + 1;
        }
    }

    s->data = out;
    s->len = n;

    return CFLB_OK;
}


/* the escape at *i of a string (not a regex): its byte, *i moved on */

static int
cflb_rules_escape(cflb_rules_parser_t *p, size_t *i, unsigned char *out)
{
    int            v, v2, v3;
    size_t         at;
    unsigned char  c;

    at = *i;
    c = p->text[at + 1];

    if (c == '"' || c == '\\') {
        *out = c;
        *i += 2;
        return CFLB_OK;
    }

    if (c == 'x') {
        v = at + 3 < p->len ? cflb_rules_hex(p->text[at + 2]) : -1;
        v2 = at + 3 < p->len ? cflb_rules_hex(p->text[at + 3]) : -1;

        if (v < 0 || v2 < 0) {
            return cflb_rules_error(p, at, "\"\\x\" needs two hexadecimal "
                                    "digits");
        }

        *out = (unsigned char) (v << 4 | v2);
        *i += 4;
        return CFLB_OK;
    }

    if (c >= '0' && c <= '7') {
        v = c - '0';
        v2 = at + 2 < p->len ? p->text[at + 2] - '0' : -1;
        v3 = at + 3 < p->len ? p->text[at + 3] - '0' : -1;

        if (v2 < 0 || v2 > 7 || v3 < 0 || v3 > 7 || v > 3) {
            return cflb_rules_error(p, at, "\"\\\" needs three octal digits "
                                    "up to \\377");
        }

        *out = (unsigned char) (v << 6 | v2 << 3 | v3);
        *i += 4;
        return CFLB_OK;
    }

    return cflb_rules_error(p, at, "invalid escape \"\\%c\", expected \\\", "
                            "\\\\, \\xHH or \\OOO",
                            c >= 0x20 && c < 0x7f ? c : '?');
}


/* r"...", r#"..."#: no escapes at all, up to 255 #s */

static int
cflb_rules_raw(cflb_rules_parser_t *p, cflb_str_t *s)
{
    size_t          i, k, hashes, start, body;
    unsigned char  *out;

    start = p->pos;
    i = start + 1;

    while (i < p->len && p->text[i] == '#') {
        i++;
    }

    hashes = i - start - 1;

    if (hashes > 255) {
        return cflb_rules_error(p, start,
                                "a raw string takes at most 255 \"#\"");
    }

    if (i >= p->len || p->text[i] != '"') {
        return cflb_rules_error(p, i, "expected \"\\\"\" to open a raw "
                                "string");
    }

    body = ++i;

    for ( ;; ) {
        if (i >= p->len) {
            return cflb_rules_error(p, start, "unterminated raw string");
        }

        if (p->text[i++] != '"') {
            continue;
        }

        for (k = 0; k < hashes && i + k < p->len; k++) {
            if (p->text[i + k] != '#') {
                break;
            }
        }

        if (k == hashes) {
            break;
        }
    }

    s->len = i - 1 - body;

    out = cflb_rules_alloc(&p->expr->arena, s->len ? s->len : 1);
    if (out == NULL) {
        return cflb_rules_nomem(p);
    }

    memcpy(out, p->text + body, s->len);
    s->data = out;
    p->pos = i + hashes;

    return CFLB_OK;
}


/*
 * wirefilter's integers: decimal with an optional "-", "0x" hex, and a
 * leading 0 for octal (so 010 is 8); the digits run as far as hex digits
 * go, so that "12ab" is one bad number rather than 12 and a stray name.
 */

int
cflb_rules_int(cflb_rules_parser_t *p, int64_t *v)
{
    int             d, neg;
    char            buf[64];
    size_t          i, start, digits;
    uint64_t        acc, limit;
    unsigned        radix;
    unsigned char   c;

    start = p->pos;
    i = start;
    neg = 0;
    radix = 10;

    if (i < p->len && p->text[i] == '-') {
        neg = 1;
        i++;
    }

    if (i >= p->len || p->text[i] < '0' || p->text[i] > '9') {
        if (neg) {
            return cflb_rules_error(p, start, "expected a number after "
                                    "\"-\"");
        }

        return CFLB_DECLINED;
    }

    if (!neg && p->text[i] == '0') {
        radix = 8;

        if (i + 1 < p->len && p->text[i + 1] == 'x') {
            radix = 16;
            i += 2;
        }
    }

    digits = i;
    acc = 0;
    limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;

    while (i < p->len && cflb_rules_hex(p->text[i]) >= 0) {
        d = cflb_rules_hex(p->text[i]);

        if ((unsigned) d >= radix) {
            goto invalid;
        }

        if (acc > (limit - (uint64_t) d) / radix) {
            while (i < p->len && cflb_rules_ident_char(p->text[i])) {
                i++;
            }

            return cflb_rules_error(p, start,
                                    "integer \"%s\" is out of range",
                                    cflb_rules_quote(buf, sizeof(buf),
                                                     p->text + start,
                                                     i - start));
        }

        acc = acc * radix + (uint64_t) d;
        i++;
    }

    c = i < p->len ? p->text[i] : ' ';

    if (i == digits || cflb_rules_ident_char(c)) {
        goto invalid;
    }

    *v = neg ? (int64_t) (0 - acc) : (int64_t) acc;
    p->pos = i;

    return CFLB_OK;

invalid:

    while (i < p->len && cflb_rules_ident_char(p->text[i])) {
        i++;
    }

    return cflb_rules_error(p, start, "invalid integer \"%s\"",
                            cflb_rules_quote(buf, sizeof(buf),
                                             p->text + start, i - start));
}


/*
 * An address, or with ranges also a CIDR (host bits must be zero) and
 * an explicit range "a..b" of one family: the token is the run of
 * characters an address can hold, as in wirefilter.  lo and hi are as
 * written (IPv4-mapped addresses are not folded here).
 */

int
cflb_rules_ip(cflb_rules_parser_t *p, cflb_rules_ip_t *lo,
    cflb_rules_ip_t *hi, int ranges)
{
    char                  buf[64];
    size_t                i, n, dots;
    unsigned char         c;
    const unsigned char  *s;

    s = p->text + p->pos;
    n = 0;

    while (p->pos + n < p->len) {
        c = s[n];

        if (cflb_rules_hex(c) < 0 && c != ':' && c != '.' && c != '/') {
            break;
        }

        n++;
    }

    if (n == 0) {
        return CFLB_DECLINED;
    }

    cflb_rules_quote(buf, sizeof(buf), s, n);

    dots = n;

    for (i = 0; i + 1 < n; i++) {
        if (s[i] == '.' && s[i + 1] == '.') {
            dots = i;
            break;
        }
    }

    if (!ranges && (dots < n || memchr(s, '/', n) != NULL)) {
        return cflb_rules_error(p, p->pos, "\"%s\" is not one address: "
                                "use \"in\" for a CIDR or a range", buf);
    }

    if (dots < n) {
        if (cflb_rules_ip_text(s, dots, lo) != CFLB_OK
            || cflb_rules_ip_text(s + dots + 2, n - dots - 2, hi) != CFLB_OK
            || lo->v6 != hi->v6
            || cflb_rules_ip_cmp(lo, hi) > 0)
        {
            return cflb_rules_error(p, p->pos, "invalid IP range \"%s\"",
                                    buf);
        }

    } else if (memchr(s, '/', n) != NULL) {
        if (cflb_rules_cidr(s, n, lo, hi) != CFLB_OK) {
            return cflb_rules_error(p, p->pos, "invalid CIDR \"%s\"", buf);
        }

    } else {
        if (cflb_rules_ip_text(s, n, lo) != CFLB_OK) {
            return cflb_rules_error(p, p->pos, "invalid IP address \"%s\"",
                                    buf);
        }

        *hi = *lo;
    }

    p->pos += n;

    return CFLB_OK;
}


static int
cflb_rules_ip_text(const unsigned char *s, size_t len, cflb_rules_ip_t *ip)
{
    memset(ip, 0, sizeof(cflb_rules_ip_t));

    if (memchr(s, ':', len) != NULL) {
        ip->v6 = 1;
        return cflb_rules_ipv6(s, len, ip->addr);
    }

    return cflb_rules_ipv4(s, len, ip->addr);
}


/* four decimal parts, 0 to 255, without leading zeros (as Rust's parser) */

static int
cflb_rules_ipv4(const unsigned char *s, size_t len, unsigned char *out)
{
    size_t    i, part, digits;
    unsigned  v;

    i = 0;

    for (part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.') {
                return CFLB_ERROR;
            }

            i++;
        }

        v = 0;
        digits = 0;

        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            v = v * 10 + (unsigned) (s[i] - '0');
            digits++;
            i++;
        }

        if (digits == 0 || digits > 3 || v > 255
            || (digits > 1 && s[i - digits] == '0'))
        {
            return CFLB_ERROR;
        }

        out[part] = (unsigned char) v;
    }

    return i == len ? CFLB_OK : CFLB_ERROR;
}


/* RFC 4291 text: up to 8 groups, one "::", an IPv4 tail */

static int
cflb_rules_ipv6(const unsigned char *s, size_t len, unsigned char *out)
{
    int       d, gap;
    size_t    i, j, n, k, digits;
    unsigned  g, groups[8];

    i = 0;
    n = 0;
    gap = -1;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }

    while (i < len) {
        if (n == 8) {
            return CFLB_ERROR;
        }

        for (j = i; j < len && s[j] != ':'; j++) {
            if (s[j] == '.') {
                break;
            }
        }

        if (j < len && s[j] == '.') {
            /* the IPv4 tail ends the address */
            if (n > 6 || cflb_rules_ipv4(s + i, len - i, out) != CFLB_OK) {
                return CFLB_ERROR;
            }

            groups[n++] = (unsigned) out[0] << 8 | out[1];
            groups[n++] = (unsigned) out[2] << 8 | out[3];
            i = len;
            break;
        }

        g = 0;
        digits = 0;

        while (i < len && (d = cflb_rules_hex(s[i])) >= 0) {
            if (++digits > 4) {
                return CFLB_ERROR;
            }

            g = g << 4 | (unsigned) d;
            i++;
        }

        if (digits == 0) {
            return CFLB_ERROR;
        }

        groups[n++] = g;

        if (i == len) {
            break;
        }

        if (s[i] != ':') {
            return CFLB_ERROR;
        }

        if (i + 1 < len && s[i + 1] == ':') {
            if (gap >= 0) {
                return CFLB_ERROR;
            }

            gap = (int) n;
            i += 2;
            continue;
        }

        if (++i == len) {
            return CFLB_ERROR;
        }
    }

    if ((gap < 0 && n != 8) || (gap >= 0 && n > 7)) {
        return CFLB_ERROR;
    }

    memset(out, 0, 16);

    for (k = 0; k < n; k++) {
        j = k;

        if (gap >= 0 && k >= (size_t) gap) {
            j = 8 - n + k;
        }

        out[2 * j] = (unsigned char) (groups[k] >> 8);
        out[2 * j + 1] = (unsigned char) groups[k];
    }

    return CFLB_OK;
}


static int
cflb_rules_cidr(const unsigned char *s, size_t len, cflb_rules_ip_t *lo,
    cflb_rules_ip_t *hi)
{
    size_t               i, slash, bits, max;
    const unsigned char  *p;

    p = memchr(s, '/', len);
    slash = (size_t) (p - s);

    if (cflb_rules_ip_text(s, slash, lo) != CFLB_OK) {
        return CFLB_ERROR;
    }

    max = lo->v6 ? 128 : 32;
    bits = 0;

    for (i = slash + 1; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || i - slash > 3) {
            return CFLB_ERROR;
        }

        bits = bits * 10 + (size_t) (s[i] - '0');
    }

    if (i == slash + 1 || bits > max || (i - slash > 2 && s[slash + 1] == '0'))
    {
        return CFLB_ERROR;
    }

    *hi = *lo;

    for (i = bits; i < max; i++) {
        if (lo->addr[i / 8] & (0x80 >> (i % 8))) {
            /* as the cidr crate: 10.0.0.1/8 is refused, not rounded */
            return CFLB_ERROR;
        }

        hi->addr[i / 8] |= (unsigned char) (0x80 >> (i % 8));
    }

    return CFLB_OK;
}


static int
cflb_rules_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = cflb_rules_lower(c);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
