
/*
 * cflb JSON strings (cflb_json.h): the UTF-8 check follows Table 3-7 of
 * the Unicode Standard ("Well-Formed UTF-8 Byte Sequences").
 */


#include <string.h>

#include "cflb_json.h"


static const char  cflb_hex[] = "0123456789abcdef";
static const char  cflb_hex_uc[] = "0123456789ABCDEF";  /* as nginx logs */
static const char  cflb_json_short[] = "\b\f\n\r\t";


size_t
cflb_utf8_valid(const unsigned char *p, size_t len)
{
    size_t         n, i;
    unsigned char  lo, hi;

    if (len == 0) {
        return 0;
    }

    if (p[0] < 0x80) {
        return 1;
    }

    /* the length, and the range of the second byte (Table 3-7) */

    lo = 0x80;
    hi = 0xbf;

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;

        if (p[0] == 0xe0) {
            lo = 0xa0;                      /* no overlong forms */

        } else if (p[0] == 0xed) {
            hi = 0x9f;                      /* no surrogates */
        }

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;

        if (p[0] == 0xf0) {
            lo = 0x90;

        } else if (p[0] == 0xf4) {
            hi = 0x8f;                      /* nothing past U+10FFFF */
        }

    } else {
        return 0;                           /* 80..c1, f5..ff */
    }

    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


unsigned char *
cflb_json_escape(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t          n;
    const char     *e;
    unsigned char   c;

    while (len) {
        c = *src;

        if (c >= 0x80) {
            n = cflb_utf8_valid(src, len);

            if (n == 0) {
                *dst++ = '\\';
                *dst++ = '\\';
                *dst++ = 'x';
                *dst++ = cflb_hex_uc[c >> 4];
                *dst++ = cflb_hex_uc[c & 0xf];
                src++;
                len--;
                continue;
            }

            while (n--) {
                *dst++ = *src++;
                len--;
            }

            continue;
        }

        src++;
        len--;

        if (c == '"' || c == '\\') {
            *dst++ = '\\';
            *dst++ = c;
            continue;
        }

        if (c >= 0x20) {
            *dst++ = c;
            continue;
        }

        *dst++ = '\\';

        /* the short escapes JSON has, \u00XX for the rest */
        e = memchr(cflb_json_short, c, sizeof(cflb_json_short) - 1);

        if (e != NULL) {
            *dst++ = (unsigned char) "bfnrt"[e - cflb_json_short];
            continue;
        }

        *dst++ = 'u';
        *dst++ = '0';
        *dst++ = '0';
        *dst++ = cflb_hex[c >> 4];
        *dst++ = cflb_hex[c & 0xf];
    }

    return dst;
}
