
/*
 * cflb_rng.c: splitmix64 and XXH64 golden vectors, Lemire bounds and
 * uniformity.
 */


#include "cflb_test.h"


static void cflb_rng_test_golden(cflb_test_t *t);
static void cflb_rng_test_below(cflb_test_t *t);
static void cflb_rng_test_uniform(cflb_test_t *t, uint64_t bound);
static void cflb_rng_test_hash(cflb_test_t *t);


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    cflb_rng_test_golden(&t);
    cflb_rng_test_below(&t);
    cflb_rng_test_uniform(&t, 10);
    cflb_rng_test_uniform(&t, 7);
    cflb_rng_test_uniform(&t, 1000);
    cflb_rng_test_hash(&t);

    return cflb_test_done(&t, "cflb_rng_test");
}


static void
cflb_rng_test_golden(cflb_test_t *t)
{
    unsigned    i;
    cflb_rng_t  rng;

    /* splitmix64 reference output for seed 1234567 (Rosetta Code) */
    static const uint64_t  next[] = {
        6457827717110365317ULL, 3203168211198807973ULL,
        9817491932198370423ULL, 4593380528125082431ULL,
        16408922859458223821ULL
    };

    /* computed once with this code; both the 64 and 32-bit builds agree */
    static const uint64_t  bound[] = {
        1000, 3, 0x8000000000000001ULL, 0xFFFFFFFFFFFFFFFFULL, 6, 100
    };
    static const uint64_t  below[] = {
        0x00000000000002e5ULL, 0x0000000000000000ULL,
        0x6f2218fd1e406d83ULL, 0x37e9671c45376d5cULL,
        0x0000000000000004ULL, 0x0000000000000021ULL
    };

    cflb_rng_seed(&rng, 1234567);

    for (i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
        cflb_check_msg(t, cflb_rng_next(&rng) == next[i],
                       "splitmix64 output %u", i);
    }

    cflb_rng_seed(&rng, 42);

    for (i = 0; i < sizeof(bound) / sizeof(bound[0]); i++) {
        cflb_check_msg(t, cflb_rng_below(&rng, bound[i]) == below[i],
                       "rng_below golden %u", i);
    }

    /* seed 0 is valid and not stuck */
    cflb_rng_seed(&rng, 0);
    cflb_check(t, cflb_rng_next(&rng) != cflb_rng_next(&rng));
}


static void
cflb_rng_test_below(cflb_test_t *t)
{
    unsigned    i, j, bad;
    uint64_t    x;
    cflb_rng_t  rng;

    static const uint64_t  bounds[] = {
        1, 2, 3, 5, 1000, 0xFFFFFFFFULL, 0x100000001ULL,
        0x8000000000000000ULL, 0x8000000000000001ULL,
        0xC000000000000000ULL, 0xFFFFFFFFFFFFFFFFULL
    };

    cflb_rng_seed(&rng, 1);

    for (j = 0; j < sizeof(bounds) / sizeof(bounds[0]); j++) {
        bad = 0;

        for (i = 0; i < 10000; i++) {
            x = cflb_rng_below(&rng, bounds[j]);
            bad += (x >= bounds[j]);
        }

        cflb_check_msg(t, bad == 0, "rng_below(%llu) out of range %u times",
                       (unsigned long long) bounds[j], bad);
    }

    /* the top half of a huge bound is reached, so the high word is used */

    bad = 1;

    for (i = 0; i < 100; i++) {
        if (cflb_rng_below(&rng, 0xFFFFFFFFFFFFFFFFULL)
            > 0x8000000000000000ULL)
        {
            bad = 0;
        }
    }

    cflb_check(t, bad == 0);
}


/*
 * 1,000,000 draws per bound: a bucket's count has a standard deviation
 * of at most sqrt(N p) = 1,000 at bound 7 (0.7% of the mean), so the
 * +-3.5% tolerance at 5 sigma never trips on a correct generator; bound
 * 1000 (1,000 per bucket, sd 3.2%) gets +-20%.
 */

static void
cflb_rng_test_uniform(cflb_test_t *t, uint64_t bound)
{
    double          mean, tol, d;
    unsigned        i, worst;
    unsigned long  *counts;
    cflb_rng_t      rng;

    counts = calloc(bound, sizeof(unsigned long));
    if (counts == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    cflb_rng_seed(&rng, 0xC0FFEE + bound);

    for (i = 0; i < 1000000; i++) {
        counts[cflb_rng_below(&rng, bound)]++;
    }

    mean = 1000000.0 / bound;
    tol = (bound >= 1000) ? 0.20 : 0.035;
    worst = 0;

    for (i = 1; i < bound; i++) {
        d = counts[i] > mean ? counts[i] - mean : mean - counts[i];

        if (d > (counts[worst] > mean ? counts[worst] - mean
                                       : mean - counts[worst]))
        {
            worst = i;
        }
    }

    cflb_check_msg(t, counts[worst] > mean * (1 - tol)
                      && counts[worst] < mean * (1 + tol),
                   "rng_below(%llu): bucket %u has %lu, mean %.0f",
                   (unsigned long long) bound, worst, counts[worst], mean);

    free(counts);
}


static void
cflb_rng_test_hash(cflb_test_t *t)
{
    size_t          i, len;
    unsigned        same;
    unsigned char   buf[72], moved[80];

    /* published XXH64 vectors (xxHash, python-xxhash README, zig std) */
    static const struct {
        const char  *s;
        uint64_t     seed;
        uint64_t     hash;
    } vec[] = {
        { "", 0, 0xEF46DB3751D8E999ULL },
        { "a", 0, 0xD24EC4F1A98C6E5BULL },
        { "abc", 0, 0x44BC2CF5AD770999ULL },
        { "xxhash", 0, 0x32DD38952C4BC720ULL },
        { "xxhash", 20141025, 0xB559B98D844E0635ULL },
        { "I want an unsigned 64-bit seed!", 0, 0xD4CB0A70A2B8C7C1ULL },
        { "I want an unsigned 64-bit seed!", 1, 0xCE5087F12470D961ULL },
        { "Nobody inspects the spammish repetition", 0,
          0xFBCEA83C8A378BF1ULL },

        /* ring points: computed once with this code, must never change */
        { "10.0.0.1:80", 0, 0x011facba8043b217ULL },
        { "10.0.0.1:80", 159, 0xbf0b072b07ef2018ULL },
        { "backend-a", 0, 0x2cdbacaa95d2320aULL },
        { "backend-a", 159, 0x60b054eb112b63f2ULL },
        { "pool-eu-west", 0, 0xd15f310924e3c070ULL },
        { "pool-eu-west", 159, 0xda93d029181dfb71ULL }
    };

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        cflb_check_msg(t, cflb_hash64(vec[i].s, strlen(vec[i].s), vec[i].seed)
                          == vec[i].hash,
                       "hash64(\"%s\", %llu)", vec[i].s,
                       (unsigned long long) vec[i].seed);
    }

    /* alignment does not matter: bytes are read one by one */

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char) (i * 37 + 11);
    }

    same = 1;

    for (len = 0; len <= sizeof(buf); len++) {
        for (i = 1; i < 8; i++) {
            memcpy(moved + i, buf, len);

            if (cflb_hash64(moved + i, len, 7) != cflb_hash64(buf, len, 7)) {
                same = 0;
            }
        }
    }

    cflb_check(t, same);

    /* NULL with length 0 is the empty string */
    cflb_check(t, cflb_hash64(NULL, 0, 0) == 0xEF46DB3751D8E999ULL);
}
