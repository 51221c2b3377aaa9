
/*
 * cflb_json: a recursive descent over RFC 8259's grammar, bounded by
 * CFLB_JSON_MAX_DEPTH, handing each value to a visitor as it is read.
 */


#include <string.h>

#include "cflb_json_read.h"


typedef struct {
    const unsigned char  *start;
    const unsigned char  *p;
    const unsigned char  *end;
    cflb_json_visit_pt    visit;
    void                 *data;
    cflb_json_path_t      path;
    const char           *msg;
} cflb_json_t;


static int cflb_json_value(cflb_json_t *j);
static int cflb_json_object(cflb_json_t *j);
static int cflb_json_array(cflb_json_t *j);
static int cflb_json_string(cflb_json_t *j, const unsigned char **s,
    size_t *len);
static int cflb_json_number(cflb_json_t *j);
static int cflb_json_literal(cflb_json_t *j, const char *lit, size_t len,
    cflb_json_type_e type);
static int cflb_json_emit(cflb_json_t *j, cflb_json_type_e type,
    const unsigned char *text, size_t len);
static void cflb_json_space(cflb_json_t *j);
static int cflb_json_fail(cflb_json_t *j, const char *msg);
static int cflb_json_hex4(const unsigned char *s, uint32_t *v);
static size_t cflb_json_utf8(uint32_t c, unsigned char *out);


#define cflb_json_digit(c)  ((c) >= '0' && (c) <= '9')


int
cflb_json_walk(const unsigned char *text, size_t len,
    cflb_json_visit_pt visit, void *data, cflb_err_t *err)
{
    int          rc;
    cflb_json_t  j;

    memset(&j, 0, sizeof(cflb_json_t));

    j.start = text;
    j.p = text;
    j.end = text + len;
    j.visit = visit;
    j.data = data;

    cflb_json_space(&j);

    rc = cflb_json_value(&j);

    if (rc == CFLB_OK) {
        cflb_json_space(&j);

        if (j.p != j.end) {
            rc = cflb_json_fail(&j, "text after the value");
        }
    }

    if (rc == CFLB_ERROR && j.msg && err) {
        err->msg = j.msg;
        err->offset = (size_t) (j.p - j.start);
    }

    return rc;
}


static int
cflb_json_value(cflb_json_t *j)
{
    int                   rc;
    size_t                len;
    const unsigned char  *s;

    if (j->p == j->end) {
        return cflb_json_fail(j, "a value expected");
    }

    switch (*j->p) {

    case '{':
        return cflb_json_object(j);

    case '[':
        return cflb_json_array(j);

    case '"':
        rc = cflb_json_string(j, &s, &len);

        if (rc != CFLB_OK) {
            return rc;
        }

        return cflb_json_emit(j, CFLB_JSON_STRING, s, len);

    case 't':
        return cflb_json_literal(j, "true", 4, CFLB_JSON_TRUE);

    case 'f':
        return cflb_json_literal(j, "false", 5, CFLB_JSON_FALSE);

    case 'n':
        return cflb_json_literal(j, "null", 4, CFLB_JSON_NULL);

    default:
        return cflb_json_number(j);
    }
}


static int
cflb_json_object(cflb_json_t *j)
{
    int                   rc;
    size_t                len;
    unsigned              d;
    const unsigned char  *name;

    d = j->path.depth;

    if (d == CFLB_JSON_MAX_DEPTH) {
        return cflb_json_fail(j, "nested too deep");
    }

    rc = cflb_json_emit(j, CFLB_JSON_OBJECT, j->p, 1);
    if (rc != CFLB_OK) {
        return rc;
    }

    j->p++;
    cflb_json_space(j);

    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return cflb_json_emit(j, CFLB_JSON_OBJECT_END, j->p - 1, 1);
    }

    for ( ;; ) {
        if (j->p == j->end || *j->p != '"') {
            return cflb_json_fail(j, "a member name expected");
        }

        rc = cflb_json_string(j, &name, &len);
        if (rc != CFLB_OK) {
            return rc;
        }

        cflb_json_space(j);

        if (j->p == j->end || *j->p != ':') {
            return cflb_json_fail(j, "\":\" expected");
        }

        j->p++;
        cflb_json_space(j);

        j->path.depth = d + 1;
        j->path.name[d + 1].data = (unsigned char *) name;
        j->path.name[d + 1].len = len;
        j->path.index[d + 1] = 0;

        rc = cflb_json_value(j);

        j->path.depth = d;

        if (rc != CFLB_OK) {
            return rc;
        }

        cflb_json_space(j);

        if (j->p == j->end) {
            return cflb_json_fail(j, "\",\" or \"}\" expected");
        }

        if (*j->p == '}') {
            j->p++;
            return cflb_json_emit(j, CFLB_JSON_OBJECT_END, j->p - 1, 1);
        }

        if (*j->p != ',') {
            return cflb_json_fail(j, "\",\" or \"}\" expected");
        }

        j->p++;
        cflb_json_space(j);
    }
}


static int
cflb_json_array(cflb_json_t *j)
{
    int       rc;
    unsigned  d;
    uint32_t  i;

    d = j->path.depth;

    if (d == CFLB_JSON_MAX_DEPTH) {
        return cflb_json_fail(j, "nested too deep");
    }

    rc = cflb_json_emit(j, CFLB_JSON_ARRAY, j->p, 1);
    if (rc != CFLB_OK) {
        return rc;
    }

    j->p++;
    cflb_json_space(j);

    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return cflb_json_emit(j, CFLB_JSON_ARRAY_END, j->p - 1, 1);
    }

    for (i = 0; /* void */ ; i++) {
        if (i == UINT32_MAX) {
            return cflb_json_fail(j, "too many elements");
        }

        j->path.depth = d + 1;
        j->path.name[d + 1].data = NULL;
        j->path.name[d + 1].len = 0;
        j->path.index[d + 1] = i;

        rc = cflb_json_value(j);

        j->path.depth = d;

        if (rc != CFLB_OK) {
            return rc;
        }

        cflb_json_space(j);

        if (j->p == j->end) {
            return cflb_json_fail(j, "\",\" or \"]\" expected");
        }

        if (*j->p == ']') {
            j->p++;
            return cflb_json_emit(j, CFLB_JSON_ARRAY_END, j->p - 1, 1);
        }

        if (*j->p != ',') {
            return cflb_json_fail(j, "\",\" or \"]\" expected");
        }

        j->p++;
        cflb_json_space(j);
    }
}


/* a string at j->p (its quote): its raw content in *s, *len */

static int
cflb_json_string(cflb_json_t *j, const unsigned char **s, size_t *len)
{
    uint32_t              v;
    const unsigned char  *p;

    p = j->p + 1;
    *s = p;

    while (p < j->end && *p != '"') {

        if (*p < 0x20) {
            j->p = p;
            return cflb_json_fail(j, "a control byte in a string");
        }

        if (*p != '\\') {
            p++;
            continue;
        }

        if (j->end - p < 2) {
            break;
        }

        switch (p[1]) {

        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            p += 2;
            break;

        case 'u':
            if (j->end - p < 6 || cflb_json_hex4(p + 2, &v) != CFLB_OK) {
                j->p = p;
                return cflb_json_fail(j, "an invalid \\u escape");
            }

            p += 6;
            break;

        default:
            j->p = p;
            return cflb_json_fail(j, "an invalid escape");
        }
    }

    if (p == j->end) {
        j->p = p;
        return cflb_json_fail(j, "an unterminated string");
    }

    *len = (size_t) (p - *s);
    j->p = p + 1;

    return CFLB_OK;
}


static int
cflb_json_number(cflb_json_t *j)
{
    const unsigned char  *p, *start;

    p = j->p;
    start = p;

    if (p < j->end && *p == '-') {
        p++;
    }

    if (p == j->end || !cflb_json_digit(*p)) {
        j->p = p;
        return cflb_json_fail(j, "a value expected");
    }

    if (*p == '0') {
        p++;

    } else {
        while (p < j->end && cflb_json_digit(*p)) {
            p++;
        }
    }

    if (p < j->end && *p == '.') {
        p++;

        if (p == j->end || !cflb_json_digit(*p)) {
            j->p = p;
            return cflb_json_fail(j, "a digit expected");
        }

        while (p < j->end && cflb_json_digit(*p)) {
            p++;
        }
    }

    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < j->end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == j->end || !cflb_json_digit(*p)) {
            j->p = p;
            return cflb_json_fail(j, "a digit expected");
        }

        while (p < j->end && cflb_json_digit(*p)) {
            p++;
        }
    }

    j->p = p;

    return cflb_json_emit(j, CFLB_JSON_NUMBER, start, (size_t) (p - start));
}


static int
cflb_json_literal(cflb_json_t *j, const char *lit, size_t len,
    cflb_json_type_e type)
{
    const unsigned char  *start;

    if ((size_t) (j->end - j->p) < len || memcmp(j->p, lit, len) != 0) {
        return cflb_json_fail(j, "a value expected");
    }

    start = j->p;
    j->p += len;

    return cflb_json_emit(j, type, start, len);
}


static int
cflb_json_emit(cflb_json_t *j, cflb_json_type_e type,
    const unsigned char *text, size_t len)
{
    if (j->visit == NULL) {
        return CFLB_OK;
    }

    return j->visit(j->data, &j->path, type, text, len);
}


static void
cflb_json_space(cflb_json_t *j)
{
    while (j->p < j->end
           && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n'
               || *j->p == '\r'))
    {
        j->p++;
    }
}


static int
cflb_json_fail(cflb_json_t *j, const char *msg)
{
    j->msg = msg;

    return CFLB_ERROR;
}


static int
cflb_json_hex4(const unsigned char *s, uint32_t *v)
{
    unsigned  i, c;

    *v = 0;

    for (i = 0; i < 4; i++) {
        c = s[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;

        } else {
            return CFLB_ERROR;
        }

        *v = *v << 4 | c;
    }

    return CFLB_OK;
}


int
cflb_json_unescape(const unsigned char *s, size_t len, unsigned char *out,
    size_t size, size_t *olen)
{
    size_t                n, o;
    uint32_t              c, lo;
    unsigned char         utf8[4];
    const unsigned char  *end;

    end = s + len;
    o = 0;

    while (s < end) {

        if (*s != '\\' || end - s < 2) {
            if (o == size) {
                return CFLB_ERROR;
            }

            out[o++] = *s++;
            continue;
        }

        switch (s[1]) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': c = 0x110000; break;
        default:  c = s[1]; break;
        }

        if (c != 0x110000) {
            s += 2;

        } else if (end - s < 6 || cflb_json_hex4(s + 2, &c) != CFLB_OK) {
            return CFLB_ERROR;          /* not a string the walk took */

        } else {
            s += 6;

            if (c >= 0xd800 && c <= 0xdbff && end - s >= 6 && s[0] == '\\'
                && s[1] == 'u' && cflb_json_hex4(s + 2, &lo) == CFLB_OK
                && lo >= 0xdc00 && lo <= 0xdfff)
            {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;

            } else if (c >= 0xd800 && c <= 0xdfff) {
                c = 0xfffd;
            }
        }

        n = cflb_json_utf8(c, utf8);

        if (size - o < n) {
            return CFLB_ERROR;
        }

        memcpy(out + o, utf8, n);
        o += n;
    }

    *olen = o;

    return CFLB_OK;
}


static size_t
cflb_json_utf8(uint32_t c, unsigned char *out)
{
    if (c < 0x80) {
        out[0] = (unsigned char) c;
        return 1;
    }

    if (c < 0x800) {
        out[0] = (unsigned char) (0xc0 | c >> 6);
        out[1] = (unsigned char) (0x80 | (c & 0x3f));
        return 2;
    }

    if (c < 0x10000) {
        out[0] = (unsigned char) (0xe0 | c >> 12);
        out[1] = (unsigned char) (0x80 | (c >> 6 & 0x3f));
        out[2] = (unsigned char) (0x80 | (c & 0x3f));
        return 3;
    }

    out[0] = (unsigned char) (0xf0 | c >> 18);
    out[1] = (unsigned char) (0x80 | (c >> 12 & 0x3f));
    out[2] = (unsigned char) (0x80 | (c >> 6 & 0x3f));
    out[3] = (unsigned char) (0x80 | (c & 0x3f));

    return 4;
}


int
cflb_json_int64(const unsigned char *s, size_t len, int64_t *v)
{
    int       neg;
    size_t    i;
    uint64_t  n, limit;

    neg = (len && s[0] == '-');
    i = neg ? 1 : 0;

    if (i == len || len - i > 19) {
        return CFLB_ERROR;
    }

    /* the magnitude of INT64_MIN is one more than INT64_MAX */
    limit = (uint64_t) INT64_MAX + (neg ? 1 : 0);
    n = 0;

    for ( /* void */ ; i < len; i++) {
        if (!cflb_json_digit(s[i])) {
            return CFLB_ERROR;
        }

        if (n > (limit - (s[i] - '0')) / 10) {
            return CFLB_ERROR;
        }

        n = n * 10 + (s[i] - '0');
    }

    if (neg) {
        *v = (n == (uint64_t) INT64_MAX + 1) ? INT64_MIN : -(int64_t) n;

    } else {
        *v = (int64_t) n;
    }

    return CFLB_OK;
}
