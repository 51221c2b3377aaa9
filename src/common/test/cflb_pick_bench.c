
/*
 * cflb pick micro-benchmark: ns per cflb_set_pick() for random, hash and
 * least_outstanding_requests over 10 to 10,000 members, all usable and
 * with every tenth member unusable.  Each cell runs for about 60 ms, so
 * the whole table takes a few seconds.  Built by "make bench" with -O2
 * and no sanitizers.
 */


#define _POSIX_C_SOURCE  199309L

#include <time.h>

#include "cflb_test.h"


#define CFLB_BENCH_MS     60
#define CFLB_BENCH_BATCH  256
#define CFLB_BENCH_KEYS   4096          /* a power of 2 */


static double cflb_bench_cell(cflb_policy_e policy, unsigned n,
    int some_down, uint64_t *sink);
static double cflb_bench_now(void);


int
main(void)
{
    size_t         p, k;
    uint64_t       sink;
    unsigned       n;

    static const cflb_policy_e  policies[] = {
        CFLB_STEER_RANDOM, CFLB_STEER_HASH, CFLB_STEER_LORS
    };
    static const unsigned       sizes[] = { 10, 100, 1000, 10000 };

    sink = 0;

    printf("cflb pick micro-benchmark: ns per pick (one thread, -O2)\n\n");
    printf("%-28s %8s %12s %14s\n", "policy", "members", "all usable",
           "10% unusable");

    for (p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
        for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            n = sizes[k];

            printf("%-28s %8u", cflb_steer_ops(policies[p])->name, n);
            printf(" %12.1f", cflb_bench_cell(policies[p], n, 0, &sink));
            printf(" %14.1f\n", cflb_bench_cell(policies[p], n, 1, &sink));
        }
    }

    /* the checksum keeps the picks from being optimized away */
    printf("\n(checksum %llu)\n", (unsigned long long) sink);

    return 0;
}


static double
cflb_bench_cell(cflb_policy_e policy, unsigned n, int some_down,
    uint64_t *sink)
{
    int                rc;
    double             start, elapsed;
    unsigned           i;
    uint64_t           picks, keys[CFLB_BENCH_KEYS], *load;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    unsigned char     *down;
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    cflb_test_members(&ts, n, NULL, "10.3.");
    cflb_test_allocator(&a, &mem);
    cflb_test_pick_init(&pk, &ctx, &rng, 2024);

    down = calloc(n, 1);
    load = calloc(n, sizeof(uint64_t));

    if (down == NULL || load == NULL
        || cflb_set_init(&set, policy, ts.members, n, &a) != CFLB_OK)
    {
        printf("out of memory\n");
        exit(1);
    }

    for (i = 0; i < n; i++) {
        down[i] = some_down && i % 10 == 0;
        load[i] = cflb_rng_below(&rng, 16);
    }

    for (i = 0; i < CFLB_BENCH_KEYS; i++) {
        keys[i] = cflb_rng_next(&rng);
    }

    ctx.down = down;
    ctx.load = load;

    picks = 0;
    start = cflb_bench_now();

    do {
        for (i = 0; i < CFLB_BENCH_BATCH; i++) {
            pk.key = keys[(picks + i) & (CFLB_BENCH_KEYS - 1)];
            rc = cflb_set_pick(&set, &pk);
            *sink += (uint64_t) rc;
        }

        picks += CFLB_BENCH_BATCH;
        elapsed = cflb_bench_now() - start;

    } while (elapsed < CFLB_BENCH_MS * 1e6);

    cflb_set_free(&set, &a);
    free(down);
    free(load);
    cflb_test_members_free(&ts);

    return elapsed / picks;
}


/* monotonic clock in nanoseconds */

static double
cflb_bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e9 + ts.tv_nsec;
}
