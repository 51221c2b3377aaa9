
/*
 * cflb rules: the matchers that need no regex engine.  "contains" and
 * the runs of a wildcard use Knuth-Morris-Pratt, so that a search is
 * linear in the subject whatever the pattern (a 64 KB URI against a
 * 4 KB needle stays cheap), with memchr() to skip to candidates while
 * nothing is matched; a subject of 64 bytes or less is searched the
 * naive way, which is bounded there and faster.  Wildcards never
 * backtrack: see cflb_rules_int.h.
 */


#include <string.h>

#include "cflb_rules_int.h"


static size_t cflb_rules_unhex(const unsigned char *s, size_t len,
    unsigned flags, unsigned char *out, size_t *used);
static size_t cflb_rules_reduce(unsigned char *out, size_t o,
    unsigned flags);
static int cflb_rules_hexval(unsigned char c);
static size_t cflb_rules_utf8(unsigned cp, unsigned char *out);


int
cflb_rules_search_init(cflb_rules_search_t *s, const unsigned char *pat,
    size_t len, unsigned ci, cflb_rules_arena_t *arena)
{
    size_t          i, k;
    unsigned char  *copy;

    copy = cflb_rules_alloc(arena, len ? len : 1);
    s->fail = cflb_rules_alloc(arena, (len ? len : 1) * sizeof(uint32_t));

    if (copy == NULL || s->fail == NULL) {
        return CFLB_ERROR;
    }

    for (i = 0; i < len; i++) {
        copy[i] = ci ? cflb_rules_lower(pat[i]) : pat[i];
    }

    /* fail[i]: the longest proper border of copy[0..i] */

    k = 0;

    for (i = 1; i < len; i++) {
        while (k > 0 && copy[i] != copy[k]) {
            k = s->fail[k - 1];
        }

        if (copy[i] == copy[k]) {
            k++;
        }

        s->fail[i] = (uint32_t) k;
    }

    s->pat = copy;
    s->len = len;
    s->ci = ci;

    return CFLB_OK;
}


/* the position of the first occurrence, or CFLB_RULES_NOTFOUND */

size_t
cflb_rules_search(const cflb_rules_search_t *s, const unsigned char *h,
    size_t n)
{
    size_t                i, j, m;
    unsigned char         c, first;
    const unsigned char  *pat, *q;

    m = s->len;
    pat = s->pat;

    if (m == 0) {
        return 0;
    }

    if (n <= 64) {
        /* a short subject: the naive search, at most 64 * m steps, wins */

        for (i = 0; i + m <= n; i++) {
            for (j = 0; j < m; j++) {
                c = s->ci ? cflb_rules_lower(h[i + j]) : h[i + j];

                if (c != pat[j]) {
                    break;
                }
            }

            if (j == m) {
                return i;
            }
        }

        return CFLB_RULES_NOTFOUND;
    }

    /* memchr() finds the first byte exactly: not a letter under ci */
    first = pat[0];
    first = (!s->ci || cflb_rules_upper(first) == first) ? first : 0;
    j = 0;

    /* at i, with j bytes matched, the rest must still fit */

    for (i = 0; n - i >= m - j; i++) {
        if (j == 0 && first && n - i > 64) {
            /* memchr() pays off on long runs only: URIs are mostly short */
            q = memchr(h + i, first, n - i - m + 1);
            if (q == NULL) {
                return CFLB_RULES_NOTFOUND;
            }

            i = (size_t) (q - h);
        }

        c = s->ci ? cflb_rules_lower(h[i]) : h[i];

        while (j > 0 && c != pat[j]) {
            j = s->fail[j - 1];
        }

        if (c == pat[j] && ++j == m) {
            return i + 1 - m;
        }
    }

    return CFLB_RULES_NOTFOUND;
}


/*
 * wirefilter's wildcards: "*" is the only metacharacter, "\*" and "\\"
 * stand for themselves, any other escape is an error, and so is "**".
 */

cflb_rules_wildcard_t *
cflb_rules_wildcard(cflb_rules_parser_t *p, const cflb_str_t *pattern,
    unsigned ci, size_t pos)
{
    int                     star;
    char                    c[16];
    size_t                  i, n, start, k;
    unsigned char          *lit;
    cflb_rules_wildcard_t  *wc;

    wc = cflb_rules_alloc(&p->expr->arena, sizeof(cflb_rules_wildcard_t));
    lit = cflb_rules_alloc(&p->expr->arena, pattern->len + 1);

    if (wc == NULL || lit == NULL) {
        cflb_rules_nomem(p);
        return NULL;
    }

    wc->ci = ci;
    wc->nruns = 1;
    star = 0;

    for (i = 0; i < pattern->len; i++) {
        if (pattern->data[i] == '\\') {
            i++;
            star = 0;

        } else if (pattern->data[i] == '*') {
            if (star) {
                cflb_rules_error(p, pos, "wildcard contains a double star");
                return NULL;
            }

            star = 1;
            wc->nruns++;

        } else {
            star = 0;
        }
    }

    wc->runs = cflb_rules_alloc(&p->expr->arena,
                                wc->nruns * sizeof(cflb_rules_search_t));
    if (wc->runs == NULL) {
        cflb_rules_nomem(p);
        return NULL;
    }

    /* lit collects each run, unescaped, in turn */

    n = 0;
    start = 0;
    k = 0;

    for (i = 0; i <= pattern->len; i++) {
        if (i < pattern->len && pattern->data[i] == '\\') {
            if (++i == pattern->len) {
                cflb_rules_error(p, pos, "wildcard ends with \"\\\"");
                return NULL;
            }

            if (pattern->data[i] != '*' && pattern->data[i] != '\\') {
                cflb_rules_quote(c, sizeof(c), &pattern->data[i], 1);
                cflb_rules_error(p, pos, "invalid escape \"\\%s\" in "
                                 "wildcard, expected \\* or \\\\", c);
                return NULL;
            }

            lit[n++] = pattern->data[i];
            continue;
        }

        if (i < pattern->len && pattern->data[i] != '*') {
            lit[n++] = pattern->data[i];
            continue;
        }

        if (cflb_rules_search_init(&wc->runs[k++], lit + start, n - start,
                                   ci, &p->expr->arena)
            != CFLB_OK)
        {
            cflb_rules_nomem(p);
            return NULL;
        }

        start = n;
    }

    return wc;
}


static int
cflb_rules_run_at(const cflb_rules_search_t *r, const unsigned char *s)
{
    size_t  i;

    if (!r->ci) {
        return r->len == 0 || memcmp(r->pat, s, r->len) == 0;
    }

    for (i = 0; i < r->len; i++) {
        if (cflb_rules_lower(s[i]) != r->pat[i]) {
            return 0;
        }
    }

    return 1;
}


int
cflb_rules_wildcard_match(const cflb_rules_wildcard_t *wc,
    const unsigned char *s, size_t len)
{
    size_t                      k, at, end, off;
    const cflb_rules_search_t  *first, *last;

    first = &wc->runs[0];

    if (wc->nruns == 1) {
        return len == first->len && cflb_rules_run_at(first, s);
    }

    last = &wc->runs[wc->nruns - 1];

    if (len < first->len + last->len
        || !cflb_rules_run_at(first, s)
        || !cflb_rules_run_at(last, s + len - last->len))
    {
        return 0;
    }

    at = first->len;
    end = len - last->len;

    for (k = 1; k + 1 < wc->nruns; k++) {
        off = cflb_rules_search(&wc->runs[k], s + at, end - at);

        if (off == CFLB_RULES_NOTFOUND) {
            return 0;
        }

        at += off + wc->runs[k].len;
    }

    return 1;
}


/*
 * url_decode(): "+" and %20 are spaces, %HH a byte, with "u" %uHHHH a
 * UTF-8 encoded code point (surrogates stay as they are); anything
 * malformed stays as it is.  With "r" the result is decoded again until
 * nothing is left to decode, in one pass: each byte is pushed on the
 * output and the escapes it completes there are reduced at once, so a
 * deep "%252525..." costs no more than its length.  out needs len bytes.
 */

size_t
cflb_rules_url_decode(unsigned char *out, const unsigned char *in,
    size_t len, unsigned flags)
{
    size_t         i, o, n, used;
    unsigned char  c;

    o = 0;

    for (i = 0; i < len; i++) {
        c = in[i];

        if (flags & CFLB_RF_DECODE_R) {
            out[o++] = c == '+' ? ' ' : c;
            o = cflb_rules_reduce(out, o, flags);
            continue;
        }

        if (c == '+') {
            out[o++] = ' ';
            continue;
        }

        if (c == '%') {
            n = cflb_rules_unhex(in + i, len - i, flags, out + o, &used);

            if (n) {
                o += n;
                i += used - 1;
                continue;
            }
        }

        out[o++] = c;
    }

    return o;
}


/* an escape at s: the bytes it decodes to (0: none) and its length */

static size_t
cflb_rules_unhex(const unsigned char *s, size_t len, unsigned flags,
    unsigned char *out, size_t *used)
{
    int       h1, h2, h3, h4;
    unsigned  cp;

    if (len >= 3) {
        h1 = cflb_rules_hexval(s[1]);
        h2 = cflb_rules_hexval(s[2]);

        if (h1 >= 0 && h2 >= 0) {
            out[0] = (unsigned char) (h1 << 4 | h2);
            *used = 3;
            return 1;
        }
    }

    if ((flags & CFLB_RF_DECODE_U) && len >= 6
        && (s[1] == 'u' || s[1] == 'U'))
    {
        h1 = cflb_rules_hexval(s[2]);
        h2 = cflb_rules_hexval(s[3]);
        h3 = cflb_rules_hexval(s[4]);
        h4 = cflb_rules_hexval(s[5]);

        if (h1 >= 0 && h2 >= 0 && h3 >= 0 && h4 >= 0) {
            cp = (unsigned) (h1 << 12 | h2 << 8 | h3 << 4 | h4);

            if (cp < 0xd800 || cp > 0xdfff) {
                *used = 6;
                return cflb_rules_utf8(cp, out);
            }
        }
    }

    return 0;
}


/* reduces the escapes that end the output; each reduction shrinks it */

static size_t
cflb_rules_reduce(unsigned char *out, size_t o, unsigned flags)
{
    size_t         n, used;
    unsigned char  buf[4];

    for ( ;; ) {
        if (o >= 3 && out[o - 3] == '%'
            && cflb_rules_unhex(out + o - 3, 3, flags, buf, &used))
        {
            o -= 3;
            out[o++] = buf[0] == '+' ? ' ' : buf[0];
            continue;
        }

        if ((flags & CFLB_RF_DECODE_U) && o >= 6 && out[o - 6] == '%') {
            n = cflb_rules_unhex(out + o - 6, 6, flags, buf, &used);

            if (n && used == 6) {
                o -= 6;
                memcpy(out + o, buf, n);
                o += n;

                if (n == 1) {
                    out[o - 1] = buf[0] == '+' ? ' ' : buf[0];
                    continue;
                }
            }
        }

        return o;
    }
}


static int
cflb_rules_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = cflb_rules_lower(c);

    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}


static size_t
cflb_rules_utf8(unsigned cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char) cp;
        return 1;
    }

    if (cp < 0x800) {
        out[0] = (unsigned char) (0xc0 | cp >> 6);
        out[1] = (unsigned char) (0x80 | (cp & 0x3f));
        return 2;
    }

    out[0] = (unsigned char) (0xe0 | cp >> 12);
    out[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
    out[2] = (unsigned char) (0x80 | (cp & 0x3f));

    return 3;
}
