
/*
 * cflb_weights.c: golden vectors for cflb_weight_parse() and
 * cflb_weight_from_double().
 */


#include "cflb_test.h"


int
main(void)
{
    int          rc;
    size_t       i;
    uint32_t     w;
    cflb_test_t  t = { 0, 0 };

    static const struct {
        const char  *s;
        uint32_t     w;
    } good[] = {
        { "1", 100 }, { "1.0", 100 }, { "1.00", 100 }, { "0", 0 },
        { "0.0", 0 }, { "0.00", 0 }, { ".0", 0 }, { "0.6", 60 },
        { ".45", 45 }, { "0.45", 45 }, { ".4", 40 }, { "0.01", 1 },
        { ".01", 1 }, { "0.99", 99 }, { ".5", 50 }, { "0.10", 10 },
        { "0.05", 5 }
    };

    static const char  *bad[] = {
        "", "-", "+", "+1", "+0.5", "-0.5", "1.", "0.", ".", "..", "1.01",
        "1.1", "1.10", "1.9", "2", "9", "10", "01", "00", "00.5", "0.123",
        ".123", "0.001", "1.000", " 1", "1 ", "0.5 ", "0,5", "1e0", "0x1",
        "0.a", "a", ".-5", "0.+5", "1..0", "0.5.", "inf", "nan"
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        w = 12345;
        rc = cflb_weight_parse((const unsigned char *) good[i].s,
                               strlen(good[i].s), &w);

        cflb_check_msg(&t, rc == CFLB_OK && w == good[i].w,
                       "\"%s\": rc %d weight %u, want %u", good[i].s, rc,
                       (unsigned) w, (unsigned) good[i].w);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc = cflb_weight_parse((const unsigned char *) bad[i],
                               strlen(bad[i]), &w);

        cflb_check_msg(&t, rc == CFLB_ERROR, "\"%s\" accepted", bad[i]);
    }

    /* the length bounds the input: "0.55" read as "0.5", no NUL needed */

    rc = cflb_weight_parse((const unsigned char *) "0.55", 3, &w);
    cflb_check(&t, rc == CFLB_OK && w == 50);

    rc = cflb_weight_parse((const unsigned char *) "1.00x", 4, &w);
    cflb_check(&t, rc == CFLB_OK && w == 100);

    rc = cflb_weight_parse((const unsigned char *) "0\0", 2, &w);
    cflb_check(&t, rc == CFLB_ERROR);

    rc = cflb_weight_parse(NULL, 0, &w);
    cflb_check(&t, rc == CFLB_ERROR);

    /* numbers, as a JSON body gives them: every hundredth round-trips */

    for (i = 0; i <= 100; i++) {
        w = 12345;
        rc = cflb_weight_from_double((double) i / 100, &w);
        cflb_check_msg(&t, rc == CFLB_OK && w == i, "%zu/100: rc %d w %u",
                       i, rc, (unsigned) w);

        rc = cflb_weight_from_double(i * 0.01, &w);
        cflb_check_msg(&t, rc == CFLB_OK && w == i, "%zu*0.01: rc %d w %u",
                       i, rc, (unsigned) w);
    }

    {
        static const double  bad_numbers[] = {
            -0.01, 1.01, 2, -1, 0.001, 0.123, 0.29000000001, 0.5000001,
            1e300, -1e300
        };

        for (i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++) {
            rc = cflb_weight_from_double(bad_numbers[i], &w);
            cflb_check_msg(&t, rc == CFLB_ERROR, "%.17g accepted",
                           bad_numbers[i]);
        }

        rc = cflb_weight_from_double(0.0 / 0.0, &w);
        cflb_check(&t, rc == CFLB_ERROR);
    }

    return cflb_test_done(&t, "cflb_weights_test");
}
