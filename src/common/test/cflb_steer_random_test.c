
/*
 * cflb_steer_random.c: weighted random distribution (the seed's worked
 * examples), exclusions, the fallback path, edge cases.
 *
 * Tolerance: 600,000 samples give a share a standard deviation of at most
 * sqrt(0.25 / 600000) = 0.065 percentage points, so +-0.5pp is over 7
 * sigma: a correct implementation never fails, while a bias of 0.5pp
 * (e.g. an off-by-one in the alias table at these weights) is caught.
 */


#include "cflb_test.h"


#define SAMPLES  600000UL
#define TOL      0.5


static void cflb_random_test_dist(cflb_test_t *t, const char *what,
    unsigned n, const uint32_t *weights, const unsigned char *down,
    const double *want);
static void cflb_random_test_edges(cflb_test_t *t);


int
main(void)
{
    unsigned       i;
    uint32_t       w[100];
    double         want[100];
    unsigned char  down[100];
    cflb_test_t    t = { 0, 0 };

    static const uint32_t  w111[] = { 100, 100, 100 };
    static const double    p111[] = { 33.333, 33.333, 33.333 };
    static const uint32_t  w456[] = { 40, 50, 60 };
    static const double    p456[] = { 26.667, 33.333, 40.000 };
    static const uint32_t  w856[] = { 80, 50, 60 };
    static const double    p856[] = { 42.105, 26.316, 31.579 };

    /* weight 0 and unusable members get nothing, the rest stay exact */
    static const uint32_t       wmix[] = { 40, 0, 50, 60, 100 };
    static const unsigned char  dmix[] = { 0, 0, 0, 0, 1 };
    static const double         pmix[] = { 26.667, 0, 33.333, 40.000, 0 };

    static const uint32_t  wone[] = { 1, 100 };
    static const double    pone[] = { 0.990, 99.010 };

    cflb_random_test_dist(&t, "1/1/1", 3, w111, NULL, p111);
    cflb_random_test_dist(&t, ".4/.5/.6", 3, w456, NULL, p456);
    cflb_random_test_dist(&t, ".8/.5/.6", 3, w856, NULL, p856);
    cflb_random_test_dist(&t, "mixed", 5, wmix, dmix, pmix);
    cflb_random_test_dist(&t, ".01/1", 2, wone, NULL, pone);

    /*
     * The fallback: 97 of 100 members (the heaviest) are unusable, so
     * nearly every pick misses 8 times and takes the linear draw.
     */

    for (i = 0; i < 100; i++) {
        w[i] = 100;
        down[i] = 1;
        want[i] = 0;
    }

    w[10] = 10;
    w[50] = 20;
    w[99] = 70;
    down[10] = down[50] = down[99] = 0;
    want[10] = 10;
    want[50] = 20;
    want[99] = 70;

    cflb_random_test_dist(&t, "fallback", 100, w, down, want);

    /* half unusable: both paths mix, still exact */

    for (i = 0; i < 100; i++) {
        w[i] = 1 + i % 100;
        down[i] = (i % 2 == 0);
        want[i] = down[i] ? 0 : 100.0 * w[i] / 2550;
    }

    cflb_random_test_dist(&t, "half down", 100, w, down, want);

    cflb_random_test_edges(&t);

    return cflb_test_done(&t, "cflb_steer_random_test");
}


static void
cflb_random_test_dist(cflb_test_t *t, const char *what, unsigned n,
    const uint32_t *weights, const unsigned char *down, const double *want)
{
    char               label[64];
    unsigned           i;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    unsigned long      declined, *counts;
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    cflb_test_allocator(&a, &mem);
    cflb_test_members(&ts, n, weights, "ep-");
    cflb_test_pick_init(&pk, &ctx, &rng, 0x5EED + n);
    ctx.down = down;

    counts = calloc(n, sizeof(unsigned long));

    cflb_check(t, counts != NULL
                  && cflb_set_init(&set, CFLB_STEER_RANDOM, ts.members, n,
                                   &a) == CFLB_OK);

    declined = cflb_test_sample(&set, &pk, SAMPLES, counts);
    cflb_check_msg(t, declined == 0, "%s: %lu declined", what, declined);

    for (i = 0; i < n; i++) {
        snprintf(label, sizeof(label), "random %s member %u", what, i);

        if (want[i] == 0) {
            cflb_check_msg(t, counts[i] == 0, "%s: chosen %lu times",
                           label, counts[i]);
            continue;
        }

        cflb_check_pct(t, label, 100.0 * counts[i] / SAMPLES, want[i], TOL);
    }

    cflb_set_free(&set, &a);
    cflb_check(t, mem.live == 0);

    free(counts);
    cflb_test_members_free(&ts);
}


static void
cflb_random_test_edges(cflb_test_t *t)
{
    size_t             allocs;
    unsigned           i;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    unsigned char      down[3] = { 1, 1, 1 };
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    static const uint32_t  zero[3] = { 0, 0, 0 };
    static const uint32_t  one[3] = { 0, 0, 70 };

    cflb_test_allocator(&a, &mem);
    cflb_test_pick_init(&pk, &ctx, &rng, 7);

    cflb_check(t, cflb_steer_ops(CFLB_STEER_RANDOM)->inputs == 0);

    /* all unusable */
    cflb_test_members(&ts, 3, NULL, "ep-");
    ctx.down = down;
    cflb_check(t, cflb_set_init(&set, CFLB_STEER_RANDOM, ts.members, 3, &a)
                  == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);

    /* NULL usable(): all usable */
    pk.usable = NULL;
    cflb_check(t, cflb_set_pick(&set, &pk) >= 0);
    pk.usable = cflb_test_usable;
    cflb_set_free(&set, &a);
    cflb_test_members_free(&ts);

    /* all weights 0: nothing allocated, always declined */
    cflb_test_members(&ts, 3, zero, "ep-");
    allocs = mem.allocs;
    ctx.down = NULL;
    cflb_check(t, cflb_set_init(&set, CFLB_STEER_RANDOM, ts.members, 3, &a)
                  == CFLB_OK);
    cflb_check(t, mem.allocs == allocs);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);
    cflb_test_members_free(&ts);

    /* one weighted member among zeros; n = 1; n = 0 */
    cflb_test_members(&ts, 3, one, "ep-");
    cflb_check(t, cflb_set_init(&set, CFLB_STEER_RANDOM, ts.members, 3, &a)
                  == CFLB_OK);

    for (i = 0; i < 100; i++) {
        cflb_check(t, cflb_set_pick(&set, &pk) == 2);
    }

    cflb_set_free(&set, &a);

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_RANDOM, ts.members + 2, 1,
                                &a) == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);
    cflb_set_free(&set, &a);

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_RANDOM, ts.members, 0, &a)
                  == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);

    cflb_test_members_free(&ts);

    cflb_check(t, mem.live == 0);
}
