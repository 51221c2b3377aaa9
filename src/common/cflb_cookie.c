
/*
 * cflb cookies.  nginx's own reader compares the name at every pair and
 * walks every byte of the values it skips; here the separators are found
 * with memchr(), so a request that carries a long token or many cookies
 * costs a few instructions per pair instead of a few per byte.
 */


#include <string.h>

#include "cflb_cookie.h"


static const unsigned char *cflb_cookie_skip(const unsigned char *p,
    const unsigned char *end);
static int cflb_cookie_name_eq(const unsigned char *p,
    const unsigned char *name, size_t n);


int
cflb_cookie_find(const unsigned char *s, size_t len,
    const unsigned char *name, size_t nlen, cflb_str_t *value)
{
    const unsigned char  *p, *q, *end, *semi;

    end = s + len;

    for (p = s; p < end; p = cflb_cookie_skip(p, end)) {

        while (p < end && *p == ' ') {
            p++;
        }

        if ((size_t) (end - p) < nlen || !cflb_cookie_name_eq(p, name, nlen)) {
            continue;
        }

        for (q = p + nlen; q < end && *q == ' '; q++) {
            /* void */
        }

        if (q == end || *q != '=') {
            continue;
        }

        for (q++; q < end && *q == ' '; q++) {
            /* void */
        }

        semi = memchr(q, ';', end - q);

        value->data = (unsigned char *) q;
        value->len = (semi ? semi : end) - q;

        return 1;
    }

    return 0;
}


/* the byte after the next ';' or ',' from p, or end */

static const unsigned char *
cflb_cookie_skip(const unsigned char *p, const unsigned char *end)
{
    const unsigned char  *semi, *comma;

    semi = memchr(p, ';', end - p);
    comma = memchr(p, ',', (semi ? semi : end) - p);

    if (comma) {
        return comma + 1;
    }

    return semi ? semi + 1 : end;
}


static int
cflb_cookie_name_eq(const unsigned char *p, const unsigned char *name,
    size_t n)
{
    size_t         i;
    unsigned char  a, b;

    for (i = 0; i < n; i++) {
        a = p[i];
        b = name[i];

        if (a == b) {
            continue;
        }

        /* equal without case only as two letters */
        a |= 0x20;

        if (a != (b | 0x20) || (unsigned char) (a - 'a') > 'z' - 'a') {
            return 0;
        }
    }

    return 1;
}
