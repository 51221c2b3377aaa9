
/*
 * cflb pick micro-benchmark: ns per pick for random, hash and
 * least_outstanding_requests over 4 to 10,000 members, all usable and
 * with every tenth member unusable (refused by usable()).  Each cell runs
 * for about 60 ms, so the whole table takes several seconds.  Built by
 * "make bench" with -O2 and no sanitizers.
 *
 * least_outstanding_requests is measured three ways:
 *
 *     linear        the set's own pick: load() and usable() for every
 *                   member, O(n)
 *     tree          the same set with a cflb_least_tree attached, so the
 *                   pick descends the partial sums, O(log n)
 *     tree+2 adds   a tree pick, then the count of the chosen member
 *                   +1 and -1: what one request costs the tree in all
 *
 * "cflb_pick_bench ir WHAT N PICKS" runs PICKS iterations of one cell
 * (WHAT: random, hash, linear, linear+2, tree, tree+2; linear+2 is the
 * linear pick and the two atomic adds the glue does on its own counter)
 * over N members, all usable, and prints nothing: "make bench-ir" runs
 * it under callgrind for two values of PICKS and reports instructions
 * per iteration from the difference, so set-up cancels out.
 */


#define _POSIX_C_SOURCE  199309L

#include <time.h>

#include "cflb_test.h"
#include "cflb_least_tree.h"


#define CFLB_BENCH_MS     60
#define CFLB_BENCH_BATCH  256
#define CFLB_BENCH_KEYS   4096          /* a power of 2 */


enum {
    CFLB_BENCH_RANDOM = 0,
    CFLB_BENCH_HASH,
    CFLB_BENCH_LINEAR,
    CFLB_BENCH_LINEAR_ADDS,
    CFLB_BENCH_TREE,
    CFLB_BENCH_TREE_ADDS,
    CFLB_BENCH_NWHAT
};


typedef struct {
    unsigned               what;
    unsigned               n;
    cflb_set_t             set;
    cflb_pick_t            pk;
    cflb_rng_t             rng;
    cflb_least_tree_t     *tree;
    uint64_t              *load;
    unsigned char         *down;
    uint64_t               keys[CFLB_BENCH_KEYS];
    cflb_test_ctx_t        ctx;
    cflb_test_set_t        ts;
    cflb_test_mem_t        mem;
    cflb_allocator_t       a;
} cflb_bench_t;


static const char  *cflb_bench_names[CFLB_BENCH_NWHAT] = {
    "random", "hash", "linear", "linear+2", "tree", "tree+2"
};

static const char  *cflb_bench_labels[CFLB_BENCH_NWHAT] = {
    "random", "hash", "least_outstanding_requests linear",
    "least_outstanding_requests linear+2 adds",
    "least_outstanding_requests tree",
    "least_outstanding_requests tree+2 adds"
};


static void cflb_bench_setup(cflb_bench_t *b, unsigned what, unsigned n,
    int some_down);
static uint64_t cflb_bench_run(cflb_bench_t *b, uint64_t picks,
    uint64_t first);
static void cflb_bench_free(cflb_bench_t *b);
static double cflb_bench_cell(unsigned what, unsigned n, int some_down,
    uint64_t *sink);
static double cflb_bench_now(void);


int
main(int argc, char **argv)
{
    size_t         k;
    uint64_t       sink;
    unsigned       n, what;
    cflb_bench_t  *b;

    static const unsigned  table[] = {
        CFLB_BENCH_RANDOM, CFLB_BENCH_HASH, CFLB_BENCH_LINEAR,
        CFLB_BENCH_TREE, CFLB_BENCH_TREE_ADDS
    };
    static const unsigned  sizes[] = { 4, 10, 100, 1000, 10000 };

    if (argc == 5 && strcmp(argv[1], "ir") == 0) {
        for (what = 0; what < CFLB_BENCH_NWHAT; what++) {
            if (strcmp(argv[2], cflb_bench_names[what]) == 0) {
                break;
            }
        }

        b = malloc(sizeof(cflb_bench_t));

        if (what == CFLB_BENCH_NWHAT || b == NULL) {
            fprintf(stderr, "cflb_pick_bench: unknown \"%s\"\n", argv[2]);
            return 1;
        }

        cflb_bench_setup(b, what, (unsigned) atoi(argv[3]), 0);
        sink = cflb_bench_run(b, strtoull(argv[4], NULL, 10), 0);
        cflb_bench_free(b);
        free(b);

        printf("(checksum %llu)\n", (unsigned long long) sink);

        return 0;
    }

    sink = 0;

    printf("cflb pick micro-benchmark: ns per pick (one thread, -O2)\n\n");
    printf("%-42s %8s %12s %14s\n", "policy", "members", "all usable",
           "10% unusable");

    for (what = 0; what < sizeof(table) / sizeof(table[0]); what++) {
        for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            n = sizes[k];

            printf("%-42s %8u", cflb_bench_labels[table[what]], n);
            printf(" %12.1f", cflb_bench_cell(table[what], n, 0, &sink));
            printf(" %14.1f\n", cflb_bench_cell(table[what], n, 1, &sink));
        }
    }

    /* the checksum keeps the picks from being optimized away */
    printf("\n(checksum %llu)\n", (unsigned long long) sink);

    return 0;
}


/* n members of weight 1.00 with loads 0..15; with some_down 10% unusable */

static void
cflb_bench_setup(cflb_bench_t *b, unsigned what, unsigned n, int some_down)
{
    unsigned         i;
    uint32_t        *w, *c;
    cflb_policy_e    policy;

    memset(b, 0, sizeof(cflb_bench_t));
    b->what = what;
    b->n = n;

    cflb_test_members(&b->ts, n, NULL, "10.3.");
    cflb_test_allocator(&b->a, &b->mem);
    cflb_test_pick_init(&b->pk, &b->ctx, &b->rng, 2024);

    policy = (what == CFLB_BENCH_RANDOM) ? CFLB_STEER_RANDOM
             : (what == CFLB_BENCH_HASH) ? CFLB_STEER_HASH
             : CFLB_STEER_LORS;

    b->down = calloc(n, 1);
    b->load = calloc(n, sizeof(uint64_t));
    w = calloc(n, sizeof(uint32_t));
    c = calloc(n, sizeof(uint32_t));

    if (b->down == NULL || b->load == NULL || w == NULL || c == NULL
        || cflb_set_init(&b->set, policy, b->ts.members, n, &b->a)
           != CFLB_OK)
    {
        printf("out of memory\n");
        exit(1);
    }

    for (i = 0; i < n; i++) {
        b->down[i] = some_down && i % 10 == 0;
        b->load[i] = cflb_rng_below(&b->rng, 16);
        w[i] = CFLB_WEIGHT_SCALE;
        c[i] = (uint32_t) b->load[i];
    }

    for (i = 0; i < CFLB_BENCH_KEYS; i++) {
        b->keys[i] = cflb_rng_next(&b->rng);
    }

    if (what == CFLB_BENCH_TREE || what == CFLB_BENCH_TREE_ADDS) {
        b->tree = malloc(cflb_least_tree_size(n));

        if (b->tree == NULL
            || cflb_least_tree_init(b->tree, n, w, c) == NULL
            || cflb_steer_least_attach(&b->set, b->tree) != CFLB_OK)
        {
            printf("out of memory\n");
            exit(1);
        }
    }

    free(w);
    free(c);

    b->ctx.down = b->down;
    b->ctx.load = b->load;
}


/* picks iterations from iteration first on; returns a checksum */

static uint64_t
cflb_bench_run(cflb_bench_t *b, uint64_t picks, uint64_t first)
{
    int       rc;
    uint64_t  k, sum;

    sum = 0;

    for (k = first; k < first + picks; k++) {
        b->pk.key = b->keys[k & (CFLB_BENCH_KEYS - 1)];
        rc = cflb_set_pick(&b->set, &b->pk);
        sum += (uint64_t) rc;

        if (rc < 0) {
            continue;
        }

        if (b->what == CFLB_BENCH_TREE_ADDS) {
            sum += cflb_least_tree_add(b->tree, rc, 1);
            sum += cflb_least_tree_add(b->tree, rc, -1);

        } else if (b->what == CFLB_BENCH_LINEAR_ADDS) {
            sum += __atomic_fetch_add(&b->load[rc], 1, __ATOMIC_RELAXED);
            sum += __atomic_fetch_sub(&b->load[rc], 1, __ATOMIC_RELAXED);
        }
    }

    return sum;
}


static void
cflb_bench_free(cflb_bench_t *b)
{
    cflb_set_free(&b->set, &b->a);
    free(b->tree);
    free(b->down);
    free(b->load);
    cflb_test_members_free(&b->ts);
}


static double
cflb_bench_cell(unsigned what, unsigned n, int some_down, uint64_t *sink)
{
    double         start, elapsed;
    uint64_t       picks;
    cflb_bench_t  *b;

    b = malloc(sizeof(cflb_bench_t));

    if (b == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    cflb_bench_setup(b, what, n, some_down);

    picks = 0;
    start = cflb_bench_now();

    do {
        *sink += cflb_bench_run(b, CFLB_BENCH_BATCH, picks);
        picks += CFLB_BENCH_BATCH;
        elapsed = cflb_bench_now() - start;

    } while (elapsed < CFLB_BENCH_MS * 1e6);

    cflb_bench_free(b);
    free(b);

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
