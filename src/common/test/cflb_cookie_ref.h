
/*
 * The reference the cookie finder is checked against: the same rules
 * written the plain way, a byte at a time (cflb_cookie_test.c,
 * cflb_cookie_fuzz.c).
 */

#ifndef _CFLB_COOKIE_REF_H_INCLUDED_
#define _CFLB_COOKIE_REF_H_INCLUDED_


#include <ctype.h>

#include "cflb_cookie.h"


static inline int
cflb_cookie_ref(const unsigned char *s, size_t len,
    const unsigned char *name, size_t nlen, cflb_str_t *value)
{
    size_t  i, j, k;

    i = 0;

    while (i < len) {
        while (i < len && s[i] == ' ') {
            i++;
        }

        for (k = 0; k < nlen && i + k < len; k++) {
            if (tolower(s[i + k]) != tolower(name[k])
                || (s[i + k] != name[k] && !isalpha(s[i + k])))
            {
                break;
            }
        }

        if (k == nlen) {
            for (j = i + nlen; j < len && s[j] == ' '; j++) {
                /* void */
            }

            if (j < len && s[j] == '=') {
                for (j++; j < len && s[j] == ' '; j++) {
                    /* void */
                }

                value->data = (unsigned char *) s + j;

                for (k = j; k < len && s[k] != ';'; k++) {
                    /* void */
                }

                value->len = k - j;
                return 1;
            }
        }

        while (i < len && s[i] != ';' && s[i] != ',') {
            i++;
        }

        i++;
    }

    return 0;
}


#endif /* _CFLB_COOKIE_REF_H_INCLUDED_ */
