
/*
 * cflb_steer_least.c: least_outstanding_requests and least_connections,
 * P = tw / sum(tw) with tw = w / (load + 1).
 *
 * Tolerance as in the random test: 600,000 samples, standard deviation
 * at most 0.065pp per share, checked at +-0.5pp.
 */


#include "cflb_test.h"


#define SAMPLES  600000UL
#define TOL      0.5


static void cflb_least_test_dist(cflb_test_t *t, cflb_policy_e policy,
    const char *what, unsigned n, const uint32_t *weights,
    const uint64_t *load, const unsigned char *down, const double *want);
static void cflb_least_test_calls(cflb_test_t *t);
static void cflb_least_test_edges(cflb_test_t *t, cflb_policy_e policy);


int
main(void)
{
    unsigned     i;
    uint32_t     w[10];
    uint64_t     l[10];
    double       want[10], sum;
    cflb_test_t  t = { 0, 0 };

    /* the seed's worked example: A .4 with 3 open, B .6 with 0 open */
    static const uint32_t  wab[] = { 40, 60 };
    static const uint64_t  lab[] = { 3, 0 };
    static const double    pab[] = { 14.286, 85.714 };

    /* all loads 0 is weighted random (the seed's random examples) */
    static const uint32_t  w456[] = { 40, 50, 60 };
    static const double    p456[] = { 26.667, 33.333, 40.000 };
    static const uint32_t  w856[] = { 80, 50, 60 };
    static const double    p856[] = { 42.105, 26.316, 31.579 };

    /* exclusions: weight 0 (any load), unusable (even idle) */
    static const uint32_t       wx[] = { 40, 0, 60, 100 };
    static const uint64_t       lx[] = { 3, 0, 0, 0 };
    static const unsigned char  dx[] = { 0, 0, 0, 1 };
    static const double         px[] = { 14.286, 0, 85.714, 0 };

    /* absurd loads keep everyone eligible, equally */
    static const uint32_t  wh[] = { 100, 100 };
    static const uint64_t  lh[] = { UINT64_MAX, UINT64_MAX - 1 };
    static const double    ph[] = { 50, 50 };

    cflb_least_test_dist(&t, CFLB_STEER_LORS, "seed", 2, wab, lab, NULL,
                         pab);
    cflb_least_test_dist(&t, CFLB_STEER_LEAST_CONN, "seed", 2, wab, lab,
                         NULL, pab);
    cflb_least_test_dist(&t, CFLB_STEER_LORS, ".4/.5/.6", 3, w456, NULL,
                         NULL, p456);
    cflb_least_test_dist(&t, CFLB_STEER_LORS, ".8/.5/.6", 3, w856, NULL,
                         NULL, p856);
    cflb_least_test_dist(&t, CFLB_STEER_LORS, "excluded", 4, wx, lx, dx,
                         px);
    cflb_least_test_dist(&t, CFLB_STEER_LORS, "huge", 2, wh, lh, NULL, ph);

    /* equal weights, loads 0..9: P proportional to 1 / (load + 1) */

    sum = 0;

    for (i = 0; i < 10; i++) {
        w[i] = 50;
        l[i] = i;
        sum += 1.0 / (i + 1);
    }

    for (i = 0; i < 10; i++) {
        want[i] = 100.0 / (i + 1) / sum;
    }

    cflb_least_test_dist(&t, CFLB_STEER_LEAST_CONN, "harmonic", 10, w, l,
                         NULL, want);

    cflb_least_test_calls(&t);
    cflb_least_test_edges(&t, CFLB_STEER_LORS);
    cflb_least_test_edges(&t, CFLB_STEER_LEAST_CONN);

    return cflb_test_done(&t, "cflb_steer_least_test");
}


static void
cflb_least_test_dist(cflb_test_t *t, cflb_policy_e policy, const char *what,
    unsigned n, const uint32_t *weights, const uint64_t *load,
    const unsigned char *down, const double *want)
{
    char               label[80];
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
    cflb_test_pick_init(&pk, &ctx, &rng, 0x1EA57 + n);
    ctx.down = down;
    ctx.load = load;

    counts = calloc(n, sizeof(unsigned long));

    cflb_check(t, counts != NULL
                  && cflb_set_init(&set, policy, ts.members, n, &a)
                     == CFLB_OK);

    declined = cflb_test_sample(&set, &pk, SAMPLES, counts);
    cflb_check_msg(t, declined == 0, "%s: %lu declined", what, declined);

    for (i = 0; i < n; i++) {
        snprintf(label, sizeof(label), "%s %s member %u",
                 set.ops->name, what, i);

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


/* load() once per usable weighted member per pick, never for others */

static void
cflb_least_test_calls(cflb_test_t *t)
{
    unsigned           i, k, calls[5];
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    static const uint32_t       w[5] = { 10, 0, 20, 30, 40 };
    static const uint64_t       l[5] = { 1, 2, 3, 4, 5 };
    static const unsigned char  d[5] = { 0, 0, 1, 0, 0 };

    cflb_test_allocator(&a, &mem);
    cflb_test_members(&ts, 5, w, "ep-");
    cflb_test_pick_init(&pk, &ctx, &rng, 3);
    ctx.down = d;
    ctx.load = l;
    ctx.load_calls = calls;

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_LORS, ts.members, 5, &a)
                  == CFLB_OK);

    for (k = 1; k <= 3; k++) {
        memset(calls, 0, sizeof(calls));
        cflb_check(t, cflb_set_pick(&set, &pk) >= 0);

        for (i = 0; i < 5; i++) {
            cflb_check_msg(t, calls[i] == (w[i] != 0 && !d[i]),
                           "pick %u: load(%u) called %u times", k, i,
                           calls[i]);
        }
    }

    cflb_set_free(&set, &a);
    cflb_check(t, mem.live == 0);
    cflb_test_members_free(&ts);
}


static void
cflb_least_test_edges(cflb_test_t *t, cflb_policy_e policy)
{
    unsigned           i;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    unsigned char      down[3] = { 1, 1, 1 };
    unsigned long      counts[3];
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    static const uint32_t  zero[3] = { 0, 0, 0 };

    cflb_test_allocator(&a, &mem);
    cflb_test_pick_init(&pk, &ctx, &rng, 11);

    cflb_check(t, cflb_steer_ops(policy)->inputs == CFLB_NEED_LOAD);

    /* all unusable, then usable with a NULL load(): loads 0 */
    cflb_test_members(&ts, 3, NULL, "ep-");
    ctx.down = down;
    cflb_check(t, cflb_set_init(&set, policy, ts.members, 3, &a) == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);

    ctx.down = NULL;
    pk.load = NULL;
    cflb_check(t, cflb_test_sample(&set, &pk, 3000, counts) == 0);

    for (i = 0; i < 3; i++) {
        /* 1,000 expected, sd 26 */
        cflb_check(t, counts[i] > 850 && counts[i] < 1150);
    }

    pk.load = cflb_test_load;
    cflb_set_free(&set, &a);
    cflb_test_members_free(&ts);

    /* all weights 0 */
    cflb_test_members(&ts, 3, zero, "ep-");
    cflb_check(t, cflb_set_init(&set, policy, ts.members, 3, &a) == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);

    /* n = 1 and n = 0 */
    cflb_test_members_free(&ts);
    cflb_test_members(&ts, 1, NULL, "ep-");
    cflb_check(t, cflb_set_init(&set, policy, ts.members, 1, &a) == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);
    cflb_set_free(&set, &a);

    cflb_check(t, cflb_set_init(&set, policy, ts.members, 0, &a) == CFLB_OK);
    cflb_check(t, set.data == NULL);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);

    cflb_test_members_free(&ts);

    cflb_check(t, mem.live == 0);
}
