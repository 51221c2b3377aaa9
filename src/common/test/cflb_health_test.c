
/*
 * cflb_health.c: hysteresis sequences, pool health, expected codes, body
 * match and the round-trip average.
 */


#include "cflb_test.h"
#include "cflb_health.h"


static void cflb_health_test_record(cflb_test_t *t);
static void cflb_health_test_saturate(cflb_test_t *t);
static void cflb_health_test_pool(cflb_test_t *t);
static void cflb_health_test_codes(cflb_test_t *t);
static void cflb_health_test_body(cflb_test_t *t);
static void cflb_health_test_rtt(cflb_test_t *t);


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    cflb_health_test_record(&t);
    cflb_health_test_saturate(&t);
    cflb_health_test_pool(&t);
    cflb_health_test_codes(&t);
    cflb_health_test_body(&t);
    cflb_health_test_rtt(&t);

    cflb_check(&t, strcmp(cflb_reason_name(CFLB_REASON_NONE), "No failures")
                   == 0);
    cflb_check(&t, strcmp(cflb_reason_name(CFLB_REASON_NO_ECHO),
                          "No echo reply") == 0);
    cflb_check(&t, strcmp(cflb_reason_name(CFLB_REASON_N + 7),
                          "Other Failure") == 0);

    return cflb_test_done(&t, "cflb_health_test");
}


/*
 * seq: 'P' pass, 'F' fail; state after each check: 'U' unknown, 'H'
 * healthy, 'D' known unhealthy; changed: the return values
 */

static void
cflb_health_test_record(cflb_test_t *t)
{
    int            rc;
    char           st;
    size_t         i, k;
    cflb_health_t  h;

    static const struct {
        unsigned     up;
        unsigned     down;
        const char  *seq;
        const char  *state;
        const char  *changed;
    } v[] = {
        { 0, 0, "PFFPP", "HDDHH", "11010" },
        { 1, 1, "PFFPP", "HDDHH", "11010" },
        { 0, 1, "FPF", "DHD", "111" },
        { 1, 0, "FFPPF", "DDHHD", "10101" },

        { 3, 2, "PPPFPFFFPPFPPP", "UUHHHHDDDDDDDH",
                                  "00100010000001" },
        { 3, 2, "FPPFFPPP", "UUUUDDDH", "00001001" },
        { 3, 2, "PFPFPF", "UUUUUU", "000000" },
        { 3, 0, "FPPP", "DDDH", "1001" },
        { 3, 1, "PPF", "UUD", "001" },
        { 3, 1, "PPPFP", "UUHDD", "00110" },

        { 0, 2, "FFP", "UDH", "011" },
        { 0, 2, "FP", "UH", "01" },
        { 1, 2, "PFPFFP", "HHHHDH", "100011" },
        { 1, 2, "FFFPF", "UDDHH", "01010" },

        { 2, 3, "PPFFFPFPP", "UHHHDDDDH", "010010001" }
    };

    for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
        memset(&h, 0, sizeof(cflb_health_t));

        for (i = 0; v[k].seq[i]; i++) {
            rc = cflb_health_record(&h, v[k].seq[i] == 'P', v[k].up,
                                    v[k].down);

            st = !h.known ? 'U' : h.healthy ? 'H' : 'D';

            cflb_check_msg(t, st == v[k].state[i]
                              && rc == v[k].changed[i] - '0'
                              && !(h.healthy && !h.known),
                           "up %u down %u \"%s\" step %u: state %c rc %d,"
                           " want %c %c", v[k].up, v[k].down, v[k].seq,
                           (unsigned) i, st, rc, v[k].state[i],
                           v[k].changed[i]);
        }
    }
}


static void
cflb_health_test_saturate(cflb_test_t *t)
{
    unsigned       i;
    cflb_health_t  h;

    memset(&h, 0, sizeof(cflb_health_t));
    h.passes = UINT32_MAX - 1;
    h.healthy = 1;
    h.known = 1;

    for (i = 0; i < 3; i++) {
        cflb_check(t, cflb_health_record(&h, 1, 5, 5) == 0);
    }

    cflb_check(t, h.passes == UINT32_MAX && h.fails == 0 && h.healthy);

    cflb_check(t, cflb_health_record(&h, 0, 5, 2) == 0);
    cflb_check(t, h.passes == 0 && h.fails == 1 && h.healthy);

    h.fails = UINT32_MAX;
    cflb_check(t, cflb_health_record(&h, 0, 5, 2) == 1);
    cflb_check(t, h.fails == UINT32_MAX && !h.healthy && h.known);

    cflb_check(t, cflb_health_record(&h, 0, 5, 2) == 0);
    cflb_check(t, h.fails == UINT32_MAX);
}


static void
cflb_health_test_pool(cflb_test_t *t)
{
    size_t              i;
    cflb_pool_health_e  h;

    static const struct {
        unsigned            healthy;
        unsigned            total;
        unsigned            minimum;
        cflb_pool_health_e  want;
    } v[] = {
        { 3, 3, 1, CFLB_POOL_HEALTHY },
        { 2, 3, 1, CFLB_POOL_DEGRADED },
        { 1, 3, 1, CFLB_POOL_DEGRADED },
        { 0, 3, 1, CFLB_POOL_CRITICAL },
        { 3, 3, 2, CFLB_POOL_HEALTHY },
        { 2, 3, 2, CFLB_POOL_DEGRADED },
        { 1, 3, 2, CFLB_POOL_CRITICAL },
        { 3, 3, 3, CFLB_POOL_HEALTHY },
        { 2, 3, 3, CFLB_POOL_CRITICAL },
        { 1, 1, 1, CFLB_POOL_HEALTHY },
        { 0, 1, 1, CFLB_POOL_CRITICAL },
        { 0, 0, 1, CFLB_POOL_CRITICAL },
        { 2, 2, 3, CFLB_POOL_CRITICAL },    /* minimum above the size */
        { 5, 3, 1, CFLB_POOL_HEALTHY },     /* more up than there are */
        { 0, 3, 0, CFLB_POOL_CRITICAL },    /* minimum 0 reads as 1 */
        { 1, 3, 0, CFLB_POOL_DEGRADED },
        { 999, 1000, 1000, CFLB_POOL_CRITICAL },
        { 999, 1000, 999, CFLB_POOL_DEGRADED }
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        h = cflb_pool_health(v[i].healthy, v[i].total, v[i].minimum);

        cflb_check_msg(t, h == v[i].want,
                       "pool %u/%u min %u: %s, want %s", v[i].healthy,
                       v[i].total, v[i].minimum, cflb_pool_health_name(h),
                       cflb_pool_health_name(v[i].want));
    }

    cflb_check(t, strcmp(cflb_pool_health_name(CFLB_POOL_HEALTHY),
                         "healthy") == 0);
    cflb_check(t, strcmp(cflb_pool_health_name(CFLB_POOL_DEGRADED),
                         "degraded") == 0);
    cflb_check(t, strcmp(cflb_pool_health_name(CFLB_POOL_CRITICAL),
                         "critical") == 0);
    cflb_check(t, cflb_pool_health_name((cflb_pool_health_e) 3) != NULL);
}


/* the codes of a set as a string "lo-hi lo-hi ..." */

static void
cflb_health_test_ranges(const cflb_codes_t *codes, char *buf, size_t size)
{
    size_t    n;
    unsigned  c, lo;

    n = 0;
    buf[0] = '\0';

    for (c = 0; c < 640; c++) {
        if (!cflb_codes_match(codes, c)) {
            continue;
        }

        lo = c;

        while (c + 1 < 640 && cflb_codes_match(codes, c + 1)) {
            c++;
        }

        n += snprintf(buf + n, size - n, n ? " %u-%u" : "%u-%u", lo, c);

        if (n >= size) {
            return;
        }
    }
}


static void
cflb_health_test_codes(cflb_test_t *t)
{
    int           rc;
    char          got[256];
    size_t        i, k;
    cflb_err_t    err;
    cflb_codes_t  codes, saved;

    static const struct {
        const char  *s;
        const char  *ranges;
    } good[] = {
        { "200", "200-200" },
        { "2xx", "200-299" },
        { "2XX", "200-299" },
        { "2xX", "200-299" },
        { "1xx", "100-199" },
        { "5xx", "500-599" },
        { "100", "100-100" },
        { "599", "599-599" },
        { "200 301 4xx", "200-200 301-301 400-499" },
        { "200,301", "200-200 301-301" },
        { "200, 301", "200-200 301-301" },
        { "200 ,301", "200-200 301-301" },
        { "200\t302", "200-200 302-302" },
        { "  200  ", "200-200" },
        { "200 200 2xx", "200-299" },
        { "301,302,303", "301-303" },
        { "1xx 2xx 3xx 4xx 5xx", "100-599" },
        { "404 2xx", "200-299 404-404" }
    };

    static const struct {
        const char  *s;
        size_t       offset;
    } bad[] = {
        { "", 0 }, { " ", 1 }, { ",", 0 }, { "600", 0 }, { "99", 0 },
        { "099", 0 }, { "2x", 0 }, { "2xxx", 0 }, { "abc", 0 },
        { "200,", 4 }, { ",200", 0 }, { "200,,301", 4 }, { "200, ,301", 5 },
        { "20x", 0 }, { "x00", 0 }, { "6xx", 0 }, { "0xx", 0 },
        { "2000", 0 }, { "200;301", 0 }, { "200-299", 0 }, { "+200", 0 },
        { "2 00", 0 }, { "200 60x", 4 }, { "200 301 600", 8 },
        { "0", 0 }, { "-200", 0 }, { "2yy", 0 }, { "2x0", 0 },
        { "200\n", 0 }, { "200 ,", 5 }
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        memset(&codes, 0xff, sizeof(cflb_codes_t));
        err.msg = NULL;

        rc = cflb_codes_parse((const unsigned char *) good[i].s,
                              strlen(good[i].s), &codes, &err);

        if (rc != CFLB_OK) {
            cflb_check_msg(t, 0, "\"%s\": %s at %u", good[i].s, err.msg,
                           (unsigned) err.offset);
            continue;
        }

        cflb_health_test_ranges(&codes, got, sizeof(got));

        cflb_check_msg(t, strcmp(got, good[i].ranges) == 0,
                       "\"%s\": %s, want %s", good[i].s, got,
                       good[i].ranges);
    }

    memset(&saved, 0x5a, sizeof(cflb_codes_t));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        codes = saved;
        err.msg = NULL;
        err.offset = 12345;

        rc = cflb_codes_parse((const unsigned char *) bad[i].s,
                              strlen(bad[i].s), &codes, &err);

        cflb_check_msg(t, rc == CFLB_ERROR && err.msg != NULL
                          && err.offset == bad[i].offset
                          && memcmp(&codes, &saved, sizeof(codes)) == 0,
                       "\"%s\": rc %d, offset %u, want error at %u",
                       bad[i].s, rc, (unsigned) err.offset,
                       (unsigned) bad[i].offset);
    }

    /* the length bounds the input; a NULL err is allowed */

    rc = cflb_codes_parse((const unsigned char *) "2001", 3, &codes, NULL);
    cflb_check(t, rc == CFLB_OK && cflb_codes_match(&codes, 200)
                  && !cflb_codes_match(&codes, 201));

    rc = cflb_codes_parse((const unsigned char *) "20", 2, &codes, NULL);
    cflb_check(t, rc == CFLB_ERROR);

    rc = cflb_codes_parse(NULL, 0, &codes, &err);
    cflb_check(t, rc == CFLB_ERROR && err.offset == 0);

    /* matching outside 100..599 never succeeds */

    rc = cflb_codes_parse((const unsigned char *) "1xx 5xx", 7, &codes,
                          &err);
    cflb_check(t, rc == CFLB_OK);

    for (k = 0; k < 2000; k++) {
        if (cflb_codes_match(&codes, (unsigned) k)
            != ((k >= 100 && k <= 199) || (k >= 500 && k <= 599)))
        {
            cflb_check_msg(t, 0, "code %u", (unsigned) k);
            break;
        }
    }

    cflb_check(t, !cflb_codes_match(&codes, UINT32_MAX));

    memset(&codes, 0xff, sizeof(cflb_codes_t));
    cflb_check(t, !cflb_codes_match(&codes, 99));
    cflb_check(t, !cflb_codes_match(&codes, 600));
    cflb_check(t, !cflb_codes_match(&codes, 639));
    cflb_check(t, cflb_codes_match(&codes, 599));
}


static void
cflb_health_test_body(cflb_test_t *t)
{
    int             rc;
    size_t          i;
    unsigned char  *big;

    static const struct {
        const char  *body;
        size_t       len;
        const char  *needle;
        size_t       nlen;
        int          want;
    } v[] = {
        { "Hello World", 11, "world", 5, 1 },
        { "Hello World", 11, "WORLD", 5, 1 },
        { "status: ALIVE", 13, "alive", 5, 1 },
        { "alive", 5, "ALIVE", 5, 1 },
        { "abc", 3, "a", 1, 1 },
        { "abc", 3, "c", 1, 1 },
        { "abc", 3, "abc", 3, 1 },
        { "abc", 3, "abcd", 4, 0 },
        { "ab", 2, "abc", 3, 0 },
        { "", 0, "", 0, 1 },
        { "abc", 3, "", 0, 1 },
        { "", 0, "a", 1, 0 },
        { "aaab", 4, "aab", 3, 1 },
        { "aaa", 3, "aab", 3, 0 },
        { "abab", 4, "bab", 3, 1 },
        { "@", 1, "`", 1, 0 },          /* 0x40 and 0x60 are no letters */
        { "[", 1, "{", 1, 0 },
        { "\xc0", 1, "\xe0", 1, 0 },    /* nor is any non-ASCII byte */
        { "\xc0", 1, "\xc0", 1, 1 },
        { "a\0b", 3, "\0B", 2, 1 },
        { "a\0b", 3, "ab", 2, 0 },
        { "ok", 2, "ok\0", 3, 0 },
        { "Zz", 2, "zZ", 2, 1 },
        { "health=OK;", 10, "=ok;", 4, 1 }
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        rc = cflb_body_match((const unsigned char *) v[i].body, v[i].len,
                             (const unsigned char *) v[i].needle, v[i].nlen);

        cflb_check_msg(t, rc == v[i].want, "\"%s\" in \"%s\": %d",
                       v[i].needle, v[i].body, rc);
    }

    /* the length bounds the body: nothing past it is read (ASan) */

    big = malloc(10240);
    if (big == NULL) {
        cflb_check_msg(t, 0, "out of memory");
        return;
    }

    memset(big, 'a', 10240);
    memcpy(big + 10240 - 5, "AlIvE", 5);

    cflb_check(t, cflb_body_match(big, 10240, (const unsigned char *)
                                  "alive", 5));
    cflb_check(t, !cflb_body_match(big, 10239, (const unsigned char *)
                                   "alive", 5));
    cflb_check(t, cflb_body_match(big, 10240, (const unsigned char *)
                                  "AAAAAAAAAAAAAAAAAAAAALIVE", 25));
    cflb_check(t, !cflb_body_match(big, 10240, (const unsigned char *)
                                   "aaaaaaaaaaaaaaaaaaaaab", 22));

    free(big);
}


static void
cflb_health_test_rtt(cflb_test_t *t)
{
    size_t    i;
    uint32_t  avg, got;

    static const struct {
        uint32_t  avg;
        uint32_t  sample;
        uint32_t  want;
    } v[] = {
        { 0, 100, 100 },
        { 0, 0, 0 },
        { 0, 4000000000U, 4000000000U },
        { 100, 100, 100 },
        { 100, 900, 200 },
        { 100, 903, 200 },              /* 200.375, +0.5 */
        { 100, 904, 201 },              /* 200.5, +0.5 */
        { 800, 0, 700 },
        { 1, 0, 1 },                    /* never 0 once known */
        { 1, 1, 1 },
        { 2, 0, 2 },                    /* 1.75 */
        { 1000, 1, 875 },               /* 875.125 */
        { 1, 4000000000U, 500000001 },
        { 4000000000U, 1, 3500000000U },
        { 4000000000U, 4000000000U, 4000000000U },
        { UINT32_MAX, UINT32_MAX, UINT32_MAX },
        { UINT32_MAX, 0, 3758096383U }  /* 3758096383.125 */
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        got = cflb_rtt_update(v[i].avg, v[i].sample);

        cflb_check_msg(t, got == v[i].want, "rtt(%u, %u) = %u, want %u",
                       (unsigned) v[i].avg, (unsigned) v[i].sample,
                       (unsigned) got, (unsigned) v[i].want);
    }

    /* converges on a constant sample, from below and from above */

    avg = cflb_rtt_update(0, 1000);

    for (i = 0; i < 200; i++) {
        avg = cflb_rtt_update(avg, 2000);
    }

    cflb_check_msg(t, avg >= 1996 && avg <= 2000, "up to %u", avg);

    for (i = 0; i < 200; i++) {
        avg = cflb_rtt_update(avg, 50);
    }

    cflb_check_msg(t, avg >= 50 && avg <= 54, "down to %u", avg);

    /* a step halves the distance in about 5 samples (7/8)^5 = 0.51 */

    avg = 1000;

    for (i = 0; i < 5; i++) {
        avg = cflb_rtt_update(avg, 9000);
    }

    cflb_check_msg(t, avg >= 4800 && avg <= 5100, "step: %u", avg);
}
