
/*
 * cflb_cookie.c fuzz target: a Cookie header value, searched for a name
 * taken from the input, must give what the plain reference gives
 * (cflb_cookie_ref.h), the value inside the header.
 *
 * Input: byte 0 is the name's length (1 to 16, then the name follows),
 * the rest is the header value.
 *
 * Built with -DCFLB_LIBFUZZER it is a libFuzzer target ("make fuzz").
 * Otherwise main() runs the built-in seeds and their mutations.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_cookie_ref.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int         a, b;
    size_t      nlen;
    cflb_str_t  va, vb;

    if (size < 1) {
        return 0;
    }

    nlen = 1 + data[0] % 16;

    if (size < 1 + nlen) {
        return 0;
    }

    a = cflb_cookie_find(data + 1 + nlen, size - 1 - nlen, data + 1, nlen,
                         &va);
    b = cflb_cookie_ref(data + 1 + nlen, size - 1 - nlen, data + 1, nlen,
                        &vb);

    if (a != b || (a && (va.data != vb.data || va.len != vb.len))
        || (a && (va.data < data + 1 + nlen || va.data + va.len > data + size)))
    {
        fprintf(stderr, "cflb_cookie_fuzz: the finder and the reference "
                "differ\n");
        abort();
    }

    return 0;
}


#ifndef CFLB_LIBFUZZER

int
main(void)
{
    size_t          i, k, n, len;
    cflb_rng_t      rng;
    unsigned char   buf[256];

    static const char  *seeds[] = {
        "\x05__cflb__cflb=abc",
        "\x05__cflba=1; __cflb=abc; b=2",
        "\x05__cflb__CFLB = v ,x=1",
        "\x00xx=1;x=2",
        "\x05__cflbx=__cflb=1, __cflb;__cflb=2",
    };

    cflb_rng_seed(&rng, 11);
    n = 0;

    for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        len = 1 + strlen(seeds[i] + 1);
        memcpy(buf, seeds[i], len);
        LLVMFuzzerTestOneInput(buf, len);
        n++;

        for (k = 0; k < 2000; k++) {
            size_t  j, m;

            memcpy(buf, seeds[i], len);
            m = len;

            for (j = 0; j < 4; j++) {
                buf[1 + cflb_rng_below(&rng, m - 1 ? m - 1 : 1)]
                    = (unsigned char) " ;,=_cC\x7f"[cflb_rng_below(&rng, 8)];
            }

            LLVMFuzzerTestOneInput(buf, m);
            n++;
        }
    }

    printf("cflb_cookie_fuzz: %zu passed, 0 failed\n", n);

    return 0;
}

#endif
