
/*
 * cflb_least_tree.c: layout, the draw's distribution (the seed's worked
 * example, 4 and 1,000 members, refused members, the exact fallback),
 * updates against a model, reads torn by concurrent updates, and a
 * pthread stress test that must leave the tree equal to a fresh build.
 *
 * Tolerances.  Shares of a few members: 600,000 samples give a standard
 * deviation of at most 0.065 percentage points, so +-0.5pp is over 7
 * sigma.  Many members: Pearson's chi-square over the members that may
 * be drawn, df = m - 1, must stay below df + 6 * sqrt(2 df) (about
 * 5.5 sigma after the Wilson-Hilferty transform, p < 1e-7 for a correct
 * draw); a draw that ignored the counts scores in the tens of thousands.
 * Seeds are fixed, so every run draws the same numbers.
 */


#define _POSIX_C_SOURCE  200809L

#include <pthread.h>

#include "cflb_test.h"
#include "cflb_least_tree.h"


#define SAMPLES     600000UL
#define TOL         0.5

/* the stress test: operations per thread */
#define STRESS_ADDS    200000U
#define STRESS_SETS     40000U
#define STRESS_PICKS   100000U
#define STRESS_OPEN        64U


typedef struct {
    cflb_least_tree_t    *tree;
    size_t                size;
} cflb_lt_t;


static void cflb_lt_new(cflb_lt_t *lt, unsigned n, const uint32_t *weights,
    const uint32_t *counts);
static unsigned long cflb_lt_sample(cflb_lt_t *lt, cflb_pick_t *pk,
    unsigned long samples, unsigned long *counts);
static void cflb_lt_shares(cflb_test_t *t, const char *what, unsigned n,
    const unsigned long *counts, unsigned long samples, const double *want);
static void cflb_lt_chi2(cflb_test_t *t, const char *what, unsigned n,
    const unsigned long *counts, unsigned long samples, const double *p);
static void cflb_lt_want(unsigned n, const uint32_t *w, const uint32_t *c,
    const unsigned char *down, double *p);
static double cflb_lt_sqrt(double x);
static int cflb_lt_same(cflb_lt_t *lt, unsigned n, const uint32_t *w,
    const uint32_t *c, const unsigned char *down);

static void cflb_lt_test_layout(cflb_test_t *t);
static void cflb_lt_test_seed(cflb_test_t *t);
static void cflb_lt_test_four(cflb_test_t *t);
static void cflb_lt_test_thousand(cflb_test_t *t, int refuse);
static void cflb_lt_test_fallback(cflb_test_t *t);
static void cflb_lt_test_model(cflb_test_t *t, unsigned n);
static void cflb_lt_test_wrap(cflb_test_t *t);
static void cflb_lt_test_pick_all(cflb_test_t *t);
static void cflb_lt_test_torn(cflb_test_t *t);
static void cflb_lt_test_attach(cflb_test_t *t);
static void cflb_lt_test_stress(cflb_test_t *t, unsigned n);


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    cflb_lt_test_layout(&t);
    cflb_lt_test_seed(&t);
    cflb_lt_test_four(&t);
    cflb_lt_test_thousand(&t, 0);
    cflb_lt_test_thousand(&t, 1);
    cflb_lt_test_fallback(&t);
    cflb_lt_test_model(&t, 1);
    cflb_lt_test_model(&t, 5);
    cflb_lt_test_model(&t, 9);
    cflb_lt_test_model(&t, 100);
    cflb_lt_test_model(&t, 1000);
    cflb_lt_test_wrap(&t);
    cflb_lt_test_pick_all(&t);
    cflb_lt_test_torn(&t);
    cflb_lt_test_attach(&t);
    cflb_lt_test_stress(&t, 6);
    cflb_lt_test_stress(&t, 1000);

    return cflb_test_done(&t, "cflb_least_tree_test");
}


/* helpers */

static void
cflb_lt_new(cflb_lt_t *lt, unsigned n, const uint32_t *weights,
    const uint32_t *counts)
{
    void  *mem;

    lt->size = cflb_least_tree_size(n);
    mem = malloc(lt->size);

    if (lt->size == 0 || mem == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    /* garbage first: init must not rely on zeroed memory */
    memset(mem, 0xA5, lt->size);

    lt->tree = cflb_least_tree_init(mem, n, weights, counts);

    if (lt->tree == NULL) {
        printf("cflb_least_tree_init(%u) failed\n", n);
        exit(1);
    }
}


static unsigned long
cflb_lt_sample(cflb_lt_t *lt, cflb_pick_t *pk, unsigned long samples,
    unsigned long *counts)
{
    int            rc;
    unsigned       n;
    unsigned long  s, declined;

    n = cflb_least_tree_n(lt->tree);
    memset(counts, 0, n * sizeof(unsigned long));
    declined = 0;

    for (s = 0; s < samples; s++) {
        rc = cflb_least_tree_pick(lt->tree, pk);

        if (rc == CFLB_DECLINED) {
            declined++;
            continue;
        }

        if (rc < 0 || (unsigned) rc >= n) {
            return (unsigned long) -1;
        }

        counts[rc]++;
    }

    return declined;
}


/* every share within TOL percentage points; want[] in percent */

static void
cflb_lt_shares(cflb_test_t *t, const char *what, unsigned n,
    const unsigned long *counts, unsigned long samples, const double *want)
{
    char      label[80];
    unsigned  i;

    for (i = 0; i < n; i++) {
        snprintf(label, sizeof(label), "%s member %u", what, i);

        if (want[i] == 0) {
            cflb_check_msg(t, counts[i] == 0, "%s: chosen %lu times", label,
                           counts[i]);
            continue;
        }

        cflb_check_pct(t, label, 100.0 * counts[i] / samples, want[i], TOL);
    }
}


/* Pearson's chi-square against probabilities p[] (sum 1) */

static void
cflb_lt_chi2(cflb_test_t *t, const char *what, unsigned n,
    const unsigned long *counts, unsigned long samples, const double *p)
{
    double         e, d, x2, df, limit;
    unsigned       i, m;
    unsigned long  never;

    x2 = 0;
    m = 0;
    never = 0;

    for (i = 0; i < n; i++) {
        if (p[i] == 0) {
            never += counts[i];
            continue;
        }

        e = p[i] * samples;
        d = counts[i] - e;
        x2 += d * d / e;
        m++;
    }

    df = m - 1;
    limit = df + 6 * cflb_lt_sqrt(2 * df);

    cflb_check_msg(t, never == 0, "%s: %lu picks of members with P = 0",
                   what, never);
    cflb_check_msg(t, x2 < limit, "%s: chi-square %.1f, df %.0f, limit %.1f",
                   what, x2, df, limit);
}


/* P proportional to w / (c + 1), in doubles: an oracle apart from tw */

static void
cflb_lt_want(unsigned n, const uint32_t *w, const uint32_t *c,
    const unsigned char *down, double *p)
{
    double    sum;
    unsigned  i;

    sum = 0;

    for (i = 0; i < n; i++) {
        p[i] = (down && down[i]) ? 0 : w[i] / (c[i] + 1.0);
        sum += p[i];
    }

    for (i = 0; i < n; i++) {
        p[i] /= sum;
    }
}


/* Newton's square root, to keep libm out of the link */

static double
cflb_lt_sqrt(double x)
{
    int     k;
    double  r;

    r = (x > 1) ? x : 1;

    for (k = 0; k < 64; k++) {
        r = (r + x / r) / 2;
    }

    return r;
}


/*
 * lt is byte for byte a fresh build of the state: weights w, counts c,
 * and the down flags
 */

static int
cflb_lt_same(cflb_lt_t *lt, unsigned n, const uint32_t *w,
    const uint32_t *c, const unsigned char *down)
{
    int        same;
    unsigned   i;
    cflb_lt_t  fresh;

    cflb_lt_new(&fresh, n, w, c);

    for (i = 0; i < n; i++) {
        if (down[i]) {
            cflb_least_tree_set(fresh.tree, i, w[i], 1);
        }
    }

    same = (fresh.size == lt->size
            && memcmp(lt->tree, fresh.tree, lt->size) == 0);

    free(fresh.tree);

    return same;
}


/* sizes, init's refusals, the initial state */

static void
cflb_lt_test_layout(cflb_test_t *t)
{
    int        down;
    uint32_t   c, w;
    cflb_lt_t  lt;
    void      *mem;

    static const uint32_t  w3[3] = { 100, 0, 40 };
    static const uint32_t  c3[3] = { 7, 0, 3 };
    static const uint32_t  bad[3] = { 100, 101, 40 };

    /* an 8-byte header, then 8 bytes per Fenwick node and per member */
    cflb_check(t, cflb_least_tree_size(0) == 8 + 8);
    cflb_check(t, cflb_least_tree_size(CFLB_LEAST_LINEAR)
                  == 8 + 8 * (1 + CFLB_LEAST_LINEAR));
    cflb_check(t, cflb_least_tree_size(1000) == 8 + 8 * (1024 + 1 + 1000));
    cflb_check(t, cflb_least_tree_size(1024) == 8 + 8 * (1024 + 1 + 1024));
    cflb_check(t, cflb_least_tree_size(1025) == 8 + 8 * (2048 + 1 + 1025));
    cflb_check(t, cflb_least_tree_size((1U << 30) + 1) == 0);
    cflb_check(t, cflb_least_tree_size(UINT32_MAX) == 0);

    mem = malloc(cflb_least_tree_size(3));
    cflb_check(t, mem != NULL
                  && cflb_least_tree_init(mem, 3, bad, NULL) == NULL
                  && cflb_least_tree_init(mem, 3, w3, c3) == mem);
    free(mem);

    cflb_lt_new(&lt, 3, w3, c3);
    cflb_check(t, cflb_least_tree_n(lt.tree) == 3);
    cflb_least_tree_get(lt.tree, 0, &c, &w, &down);
    cflb_check(t, c == 7 && w == 100 && down == 0);
    cflb_least_tree_get(lt.tree, 2, &c, &w, &down);
    cflb_check(t, c == 3 && w == 40 && down == 0);
    cflb_check(t, cflb_least_tree_set(lt.tree, 2, 101, 0) == CFLB_ERROR);
    cflb_least_tree_get(lt.tree, 2, &c, &w, &down);
    cflb_check(t, c == 3 && w == 40 && down == 0);
    cflb_check(t, cflb_least_tree_verify(lt.tree) == CFLB_OK);
    free(lt.tree);

    cflb_lt_new(&lt, 0, NULL, NULL);
    cflb_check(t, cflb_least_tree_verify(lt.tree) == CFLB_OK);
    free(lt.tree);
}


/*
 * The seed's worked example: A 0.4 with 3 open, B 0.6 idle: 0.1429 and
 * 0.8571.  As a small set (scanned), and as 2 of 16 members (the tree;
 * the others have weight 0 or are down), both placings of A and B.
 */

static void
cflb_lt_test_seed(cflb_test_t *t)
{
    unsigned          i, a, b;
    uint32_t          w[16], c[16];
    cflb_lt_t         lt;
    cflb_rng_t        rng;
    cflb_pick_t       pk;
    unsigned long     declined, counts[16];
    double            want[16];
    cflb_test_ctx_t   ctx;

    static const uint32_t  wab[2] = { 40, 60 };
    static const uint32_t  cab[2] = { 3, 0 };
    static const double    pab[2] = { 14.286, 85.714 };

    cflb_test_pick_init(&pk, &ctx, &rng, 0x5EED);

    cflb_lt_new(&lt, 2, wab, cab);
    declined = cflb_lt_sample(&lt, &pk, SAMPLES, counts);
    cflb_check(t, declined == 0);
    cflb_lt_shares(t, "seed, scanned", 2, counts, SAMPLES, pab);
    free(lt.tree);

    for (a = 0; a < 16; a += 15) {
        b = 15 - a;

        for (i = 0; i < 16; i++) {
            w[i] = (i % 3 == 0) ? 0 : 100;
            c[i] = i;
            want[i] = 0;
        }

        w[a] = 40;
        c[a] = 3;
        w[b] = 60;
        c[b] = 0;
        want[a] = 14.286;
        want[b] = 85.714;

        cflb_lt_new(&lt, 16, w, c);

        for (i = 0; i < 16; i++) {
            if (i != a && i != b && w[i] != 0) {
                cflb_check(t, cflb_least_tree_set(lt.tree, i, w[i], 1)
                              == CFLB_OK);
            }
        }

        declined = cflb_lt_sample(&lt, &pk, SAMPLES, counts);
        cflb_check(t, declined == 0);
        cflb_lt_shares(t, a == 0 ? "seed, tree, A first"
                                 : "seed, tree, A last",
                       16, counts, SAMPLES, want);
        free(lt.tree);
    }
}


/* 4 members, different weights and counts */

static void
cflb_lt_test_four(cflb_test_t *t)
{
    unsigned          i;
    cflb_lt_t         lt;
    cflb_rng_t        rng;
    cflb_pick_t       pk;
    unsigned long     counts[4];
    double            p[4], want[4];
    cflb_test_ctx_t   ctx;

    /* tw 100, 25, 6.25, 12.5 out of 143.75 */
    static const uint32_t  w[4] = { 100, 50, 25, 100 };
    static const uint32_t  c[4] = { 0, 1, 3, 7 };

    cflb_lt_want(4, w, c, NULL, p);

    for (i = 0; i < 4; i++) {
        want[i] = 100 * p[i];
    }

    cflb_test_pick_init(&pk, &ctx, &rng, 4);
    cflb_lt_new(&lt, 4, w, c);

    cflb_check(t, cflb_lt_sample(&lt, &pk, SAMPLES, counts) == 0);
    cflb_lt_shares(t, "four", 4, counts, SAMPLES, want);
    cflb_lt_chi2(t, "four", 4, counts, SAMPLES, p);

    /* a count change moves the draw at once */
    cflb_check(t, cflb_least_tree_add(lt.tree, 0, 3) == 0);
    cflb_check(t, cflb_least_tree_add(lt.tree, 3, -7) == 7);

    /* tw 25, 25, 6.25, 100 out of 156.25 */
    want[0] = 16;
    want[1] = 16;
    want[2] = 4;
    want[3] = 64;

    cflb_check(t, cflb_lt_sample(&lt, &pk, SAMPLES, counts) == 0);
    cflb_lt_shares(t, "four after adds", 4, counts, SAMPLES, want);

    free(lt.tree);
}


/*
 * 1,000 members: weights 0.01 .. 1.00, counts 0 .. 15; some down, and
 * with refuse, every tenth member refused by usable()
 */

static void
cflb_lt_test_thousand(cflb_test_t *t, int refuse)
{
    unsigned          i;
    uint32_t         *w, *c;
    cflb_lt_t         lt;
    cflb_rng_t        rng;
    cflb_pick_t       pk;
    unsigned char    *down, *out;
    unsigned long    *counts, samples;
    double           *p, idle, want;
    cflb_test_ctx_t   ctx;

    w = calloc(1000, sizeof(uint32_t));
    c = calloc(1000, sizeof(uint32_t));
    p = calloc(1000, sizeof(double));
    down = calloc(1000, 1);
    out = calloc(1000, 1);
    counts = calloc(1000, sizeof(unsigned long));

    if (!w || !c || !p || !down || !out || !counts) {
        printf("out of memory\n");
        exit(1);
    }

    cflb_test_pick_init(&pk, &ctx, &rng, 1000 + refuse);

    for (i = 0; i < 1000; i++) {
        w[i] = 1 + (i * 37) % 100;
        c[i] = (uint32_t) cflb_rng_below(&rng, 16);
        down[i] = (i % 97 == 5);
        out[i] = down[i] || (refuse && i % 10 == 0);
    }

    cflb_lt_new(&lt, 1000, w, c);

    for (i = 0; i < 1000; i++) {
        if (down[i]) {
            cflb_least_tree_set(lt.tree, i, w[i], 1);
        }
    }

    cflb_lt_want(1000, w, c, out, p);

    if (refuse) {
        ctx.down = out;
    }

    samples = 1000000;

    cflb_check(t, cflb_lt_sample(&lt, &pk, samples, counts) == 0);
    cflb_lt_chi2(t, refuse ? "1,000, 10% refused" : "1,000", 1000, counts,
                 samples, p);

    /* the idle members' share, to +-0.5pp */

    idle = 0;
    want = 0;

    for (i = 0; i < 1000; i++) {
        if (c[i] == 0) {
            idle += counts[i];
            want += p[i];
        }
    }

    cflb_check_pct(t, "1,000: the idle members", 100 * idle / samples,
                   100 * want, TOL);

    free(lt.tree);
    free(w);
    free(c);
    free(p);
    free(down);
    free(out);
    free(counts);
}


/*
 * The exact fallback: the 95 heaviest of 100 members refused, so most
 * picks run out of draws and scan; the 5 others keep exact shares.
 */

static void
cflb_lt_test_fallback(cflb_test_t *t)
{
    unsigned          i;
    uint32_t          w[100], c[100];
    cflb_lt_t         lt;
    cflb_rng_t        rng;
    cflb_pick_t       pk;
    unsigned char     refused[100];
    unsigned long     counts[100];
    double            want[100], p[16];
    cflb_test_ctx_t   ctx;

    for (i = 0; i < 100; i++) {
        w[i] = 100;
        c[i] = 0;
        refused[i] = 1;
        want[i] = 0;
    }

    /* tw 10, 20, 30, 40 (count 1 halves 80) and 0 out of 100 */
    w[3] = 10;
    w[40] = 20;
    w[41] = 30;
    w[77] = 80;
    c[77] = 1;
    w[99] = 0;

    refused[3] = refused[40] = refused[41] = refused[77] = refused[99] = 0;
    want[3] = 10;
    want[40] = 20;
    want[41] = 30;
    want[77] = 40;

    cflb_test_pick_init(&pk, &ctx, &rng, 95);
    ctx.down = refused;
    cflb_lt_new(&lt, 100, w, c);

    cflb_check(t, cflb_lt_sample(&lt, &pk, SAMPLES, counts) == 0);
    cflb_lt_shares(t, "fallback", 100, counts, SAMPLES, want);
    free(lt.tree);

    /*
     * Refused members at the front of the index range, half the weight:
     * the later draws must take the refused ones out of every partial
     * sum they read, or the members at the end lose their share.
     */

    for (i = 0; i < 16; i++) {
        w[i] = (i < 8) ? 100 : 10 * (i - 7);
        c[i] = 0;
        refused[i] = (i < 8);
        want[i] = (i < 8) ? 0 : 100.0 * w[i] / 360;
    }

    cflb_lt_new(&lt, 16, w, c);
    cflb_check(t, cflb_lt_sample(&lt, &pk, SAMPLES, counts) == 0);
    cflb_lt_shares(t, "refused first", 16, counts, SAMPLES, want);
    free(lt.tree);

    /* and at both ends, a heavier half: the draws give way to the scan */

    for (i = 0; i < 16; i++) {
        refused[i] = (i < 4 || i >= 12);
        w[i] = refused[i] ? 100 : 5 * (i + 1);
        c[i] = i & 1;
    }

    cflb_lt_want(16, w, c, refused, p);

    for (i = 0; i < 16; i++) {
        want[i] = 100 * p[i];
    }

    cflb_lt_new(&lt, 16, w, c);
    cflb_check(t, cflb_lt_sample(&lt, &pk, SAMPLES, counts) == 0);
    cflb_lt_shares(t, "refused at both ends", 16, counts, SAMPLES, want);
    free(lt.tree);

    /* a tree again, for the declines */

    for (i = 0; i < 100; i++) {
        w[i] = 100;
        c[i] = 0;
    }

    cflb_lt_new(&lt, 100, w, c);

    /* every member refused, or no weight left: declined */

    memset(refused, 1, sizeof(refused));
    cflb_check(t, cflb_least_tree_pick(lt.tree, &pk) == CFLB_DECLINED);

    for (i = 0; i < 100; i++) {
        cflb_least_tree_set(lt.tree, i, 0, 0);
    }

    memset(refused, 0, sizeof(refused));
    cflb_check(t, cflb_least_tree_pick(lt.tree, &pk) == CFLB_DECLINED);
    cflb_check(t, cflb_least_tree_verify(lt.tree) == CFLB_OK);

    free(lt.tree);
}


/*
 * Random adds and sets against a model: after each batch the tree must
 * be byte for byte what a fresh init of the model's state lays out.
 */

static void
cflb_lt_test_model(cflb_test_t *t, unsigned n)
{
    int            down, d;
    unsigned       i, k, batch, bad;
    uint32_t      *w, *c, count, weight;
    cflb_lt_t      lt;
    cflb_rng_t     rng;
    unsigned char *dn;

    w = calloc(n, sizeof(uint32_t));
    c = calloc(n, sizeof(uint32_t));
    dn = calloc(n, 1);

    if (!w || !c || !dn) {
        printf("out of memory\n");
        exit(1);
    }

    cflb_rng_seed(&rng, n);

    for (i = 0; i < n; i++) {
        w[i] = (uint32_t) cflb_rng_below(&rng, CFLB_WEIGHT_SCALE + 1);
        c[i] = (uint32_t) cflb_rng_below(&rng, 4);
    }

    cflb_lt_new(&lt, n, w, c);
    bad = 0;

    for (batch = 0; batch < 20; batch++) {

        for (k = 0; k < 500; k++) {
            i = (unsigned) cflb_rng_below(&rng, n);

            if (cflb_rng_below(&rng, 8) == 0) {
                w[i] = (uint32_t) cflb_rng_below(&rng, CFLB_WEIGHT_SCALE + 1);
                dn[i] = cflb_rng_below(&rng, 3) == 0;
                cflb_least_tree_set(lt.tree, i, w[i], dn[i]);
                continue;
            }

            /* mostly +-1, sometimes a larger step, never below 0 */
            d = (int) cflb_rng_below(&rng, 7) - 3;

            if (d < 0 && c[i] < (uint32_t) -d) {
                d = -(int) c[i];
            }

            count = cflb_least_tree_add(lt.tree, i, d);
            bad += (count != c[i]);
            c[i] += d;
        }

        cflb_check_msg(t, cflb_least_tree_verify(lt.tree) == CFLB_OK,
                       "model %u, batch %u: verify", n, batch);
        cflb_check_msg(t, cflb_lt_same(&lt, n, w, c, dn),
                       "model %u, batch %u: differs from a fresh build",
                       n, batch);
    }

    cflb_check_msg(t, bad == 0, "model %u: add() returned %u wrong counts",
                   n, bad);

    for (i = 0; i < n; i++) {
        cflb_least_tree_get(lt.tree, i, &count, &weight, &down);
        bad += (count != c[i] || weight != w[i] || down != dn[i]);
    }

    cflb_check_msg(t, bad == 0, "model %u: get() differs %u times", n, bad);

    free(lt.tree);
    free(w);
    free(c);
    free(dn);
}


/* a count taken below 0 wraps in its half; the weight is untouched */

static void
cflb_lt_test_wrap(cflb_test_t *t)
{
    int               down;
    unsigned          i, n;
    uint32_t          w[20], c[20], count, weight;
    cflb_lt_t         lt;
    cflb_rng_t        rng;
    cflb_pick_t       pk;
    unsigned long     counts[20];
    cflb_test_ctx_t   ctx;

    for (n = 2; n <= 20; n += 18) {
        for (i = 0; i < n; i++) {
            w[i] = 50;
            c[i] = 0;
        }

        cflb_lt_new(&lt, n, w, c);

        cflb_check(t, cflb_least_tree_add(lt.tree, 1, -1) == 0);
        cflb_least_tree_get(lt.tree, 1, &count, &weight, &down);
        cflb_check(t, count == UINT32_MAX && weight == 50 && down == 0);
        cflb_check(t, cflb_least_tree_verify(lt.tree) == CFLB_OK);

        /* member 1 keeps tw 1 of 50 * 2^24: in practice never drawn */
        cflb_test_pick_init(&pk, &ctx, &rng, n);
        cflb_check(t, cflb_lt_sample(&lt, &pk, 10000, counts) == 0);
        cflb_check(t, counts[1] == 0);

        cflb_check(t, cflb_least_tree_add(lt.tree, 1, 1) == UINT32_MAX);
        cflb_least_tree_get(lt.tree, 1, &count, &weight, &down);
        cflb_check(t, count == 0 && weight == 50);
        cflb_check(t, cflb_least_tree_verify(lt.tree) == CFLB_OK);

        free(lt.tree);
    }
}


/* pick_all() ignores down flags, not weight 0 or usable() */

static void
cflb_lt_test_pick_all(cflb_test_t *t)
{
    int               rc;
    unsigned          n;
    cflb_lt_t         lt;
    cflb_rng_t        rng;
    cflb_pick_t       pk;
    unsigned char     refused[12];
    unsigned long     s, counts[12];
    double            want[12];
    cflb_test_ctx_t   ctx;

    static const uint32_t  w[12] = { 40, 60, 0, 100, 100, 100,
                                     100, 100, 100, 100, 100, 100 };
    static const uint32_t  c[12] = { 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

    for (n = 3; n <= 12; n += 9) {
        cflb_test_pick_init(&pk, &ctx, &rng, 77 + n);
        memset(refused, 1, sizeof(refused));
        refused[0] = refused[1] = refused[2] = 0;
        ctx.down = refused;

        cflb_lt_new(&lt, n, w, c);
        cflb_least_tree_set(lt.tree, 0, 40, 1);
        cflb_least_tree_set(lt.tree, 1, 60, 1);

        cflb_check(t, cflb_least_tree_pick(lt.tree, &pk) == CFLB_DECLINED);

        memset(counts, 0, sizeof(counts));
        memset(want, 0, sizeof(want));
        want[0] = 14.286;
        want[1] = 85.714;

        for (s = 0; s < SAMPLES; s++) {
            rc = cflb_least_tree_pick_all(lt.tree, &pk);

            if (rc >= 0 && rc < (int) n) {
                counts[rc]++;
            }
        }

        cflb_lt_shares(t, "pick_all", n, counts, SAMPLES, want);
        free(lt.tree);
    }
}


/*
 * Reads torn by concurrent updates, made worse than any real race: the
 * partial sums are overwritten with noise (layout of cflb_least_tree.c:
 * an 8-byte header, then node[0..size]).  Every pick must still return
 * a member that is up, has a weight and is usable, or decline only when
 * there is none.
 */

static void
cflb_lt_test_torn(cflb_test_t *t)
{
    int               rc;
    unsigned          i, k, bad, declined;
    int64_t          *node, noise;
    uint32_t          w[100], c[100];
    cflb_lt_t         lt;
    cflb_rng_t        rng;
    cflb_pick_t       pk;
    unsigned char     refused[100];
    cflb_test_ctx_t   ctx;

    for (i = 0; i < 100; i++) {
        w[i] = (i % 4 == 0) ? 0 : 100;
        c[i] = i;
        refused[i] = (i % 5 == 0);
    }

    cflb_test_pick_init(&pk, &ctx, &rng, 7);
    ctx.down = refused;
    cflb_lt_new(&lt, 100, w, c);

    for (i = 0; i < 100; i += 3) {
        cflb_least_tree_set(lt.tree, i, w[i], 1);
    }

    node = (int64_t *) ((char *) lt.tree + 8);
    bad = 0;
    declined = 0;

    for (k = 0; k < 20000; k++) {
        if (k % 100 == 0) {
            for (i = 0; i <= 128; i++) {
                noise = (int64_t) (cflb_rng_next(&rng) >> 24);
                node[i] = (k % 200 == 0) ? noise : -noise;
            }

            node[128] = (int64_t) (cflb_rng_next(&rng) >> 20);
        }

        rc = cflb_least_tree_pick(lt.tree, &pk);

        if (rc == CFLB_DECLINED) {
            declined++;
            continue;
        }

        i = (unsigned) rc;
        bad += (rc < 0 || i >= 100 || w[i] == 0 || i % 3 == 0
                || refused[i]);
    }

    cflb_check_msg(t, bad == 0, "torn: %u invalid picks", bad);
    cflb_check_msg(t, declined == 0, "torn: %u declined", declined);

    free(lt.tree);
}


/* a least_* set draws from an attached tree; load() is not called */

static void
cflb_lt_test_attach(cflb_test_t *t)
{
    unsigned           i, calls[300], total;
    uint32_t           w[300], c[300];
    uint64_t           load[300];
    cflb_lt_t          lt;
    cflb_rng_t         rng;
    cflb_set_t         set, other;
    cflb_pick_t        pk;
    unsigned long      counts[300];
    double             p[300];
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    for (i = 0; i < 300; i++) {
        w[i] = 1 + i % 100;
        c[i] = i % 13;
        load[i] = 0;
    }

    cflb_test_allocator(&a, &mem);
    cflb_test_members(&ts, 300, w, "ep-");
    cflb_test_pick_init(&pk, &ctx, &rng, 300);
    ctx.load = load;
    ctx.load_calls = calls;

    cflb_lt_new(&lt, 300, w, c);

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_LORS, ts.members, 300, &a)
                  == CFLB_OK);
    cflb_check(t, cflb_set_init(&other, CFLB_STEER_RANDOM, ts.members, 300,
                                &a) == CFLB_OK);
    cflb_check(t, cflb_steer_least_attach(&other, lt.tree) == CFLB_ERROR);
    cflb_check(t, cflb_steer_least_attach(&set, lt.tree) == CFLB_OK);

    memset(calls, 0, sizeof(calls));
    cflb_lt_want(300, w, c, NULL, p);
    cflb_check(t, cflb_test_sample(&set, &pk, SAMPLES, counts) == 0);
    cflb_lt_chi2(t, "attached", 300, counts, SAMPLES, p);

    total = 0;

    for (i = 0; i < 300; i++) {
        total += calls[i];
    }

    cflb_check_msg(t, total == 0, "attached: %u load() calls", total);

    /* a NULL load(): weighted random by the members' weights */
    pk.load = NULL;
    memset(c, 0, sizeof(c));
    cflb_lt_want(300, w, c, NULL, p);
    cflb_check(t, cflb_test_sample(&set, &pk, SAMPLES, counts) == 0);
    cflb_lt_chi2(t, "attached, load NULL", 300, counts, SAMPLES, p);
    pk.load = cflb_test_load;

    /* detached: load() again, all 0 here */
    cflb_check(t, cflb_steer_least_attach(&set, NULL) == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) >= 0);

    total = 0;

    for (i = 0; i < 300; i++) {
        total += calls[i];
    }

    cflb_check(t, total == 300);

    cflb_set_free(&set, &a);
    cflb_set_free(&other, &a);
    free(lt.tree);

    /* a tree of another size is refused */
    cflb_lt_new(&lt, 299, w, c);
    cflb_check(t, cflb_set_init(&set, CFLB_STEER_LEAST_CONN, ts.members, 300,
                                &a) == CFLB_OK);
    cflb_check(t, cflb_steer_least_attach(&set, lt.tree) == CFLB_ERROR);
    cflb_set_free(&set, &a);
    free(lt.tree);

    cflb_check(t, mem.live == 0);
    cflb_test_members_free(&ts);
}


/*
 * The stress test.  Counting threads open and close requests on random
 * members (+1 now, -1 later, and some +-3 steps), a setting thread
 * changes weights and down flags, picking threads draw while refusing
 * every eleventh member.  Members i % 7 == 3 have weight 0 throughout.
 * Checked: no pick returns an index out of range, a weight-0 member or a
 * refused one, or declines (there is always an up member); and once all
 * threads have joined, every count and weight is what the threads' own
 * records say, and the tree equals a fresh build of that state byte for
 * byte.
 */

typedef struct {
    cflb_least_tree_t    *tree;
    unsigned              n;
    unsigned              role;         /* 0 count, 1 set, 2 pick */
    uint64_t              seed;
    int64_t              *net;          /* role 0: per member */
    uint32_t             *weight;       /* role 1: last written, per */
    unsigned char        *down;         /*   member; weight 255: never */
    unsigned              bad;          /* role 2 */
} cflb_lt_thread_t;


static int
cflb_lt_stress_usable(void *ctx, unsigned i)
{
    (void) ctx;

    return i % 11 != 0;
}


static void *
cflb_lt_stress_thread(void *data)
{
    cflb_lt_thread_t *th = data;

    int          rc, d;
    unsigned     k, i, nopen, open[STRESS_OPEN];
    cflb_rng_t   rng;
    cflb_pick_t  pk;

    cflb_rng_seed(&rng, th->seed);
    nopen = 0;

    switch (th->role) {

    case 0:
        for (k = 0; k < STRESS_ADDS; k++) {
            if (nopen == STRESS_OPEN
                || (nopen > 0 && cflb_rng_below(&rng, 2) == 0))
            {
                i = open[--nopen];
                d = -1;

            } else if (cflb_rng_below(&rng, 16) == 0) {
                i = (unsigned) cflb_rng_below(&rng, th->n);
                d = (cflb_rng_below(&rng, 2) == 0) ? 3 : -3;

            } else {
                i = (unsigned) cflb_rng_below(&rng, th->n);
                open[nopen++] = i;
                d = 1;
            }

            cflb_least_tree_add(th->tree, i, d);
            th->net[i] += d;
        }

        break;

    case 1:
        for (k = 0; k < STRESS_SETS; k++) {
            i = (unsigned) cflb_rng_below(&rng, th->n);

            /* member 1 stays up: some member is always drawable */

            if (i % 7 == 3 || i == 1) {
                continue;
            }

            th->weight[i] = 1 + (uint32_t) cflb_rng_below(&rng, 100);
            th->down[i] = cflb_rng_below(&rng, 4) == 0;
            cflb_least_tree_set(th->tree, i, th->weight[i], th->down[i]);
        }

        break;

    default:
        pk.usable = cflb_lt_stress_usable;
        pk.load = NULL;
        pk.ctx = NULL;
        pk.key = 0;
        pk.rng = &rng;

        for (k = 0; k < STRESS_PICKS; k++) {
            rc = cflb_least_tree_pick(th->tree, &pk);

            th->bad += (rc < 0 || (unsigned) rc >= th->n
                        || rc % 7 == 3 || rc % 11 == 0);
        }

        break;
    }

    return NULL;
}


static void
cflb_lt_test_stress(cflb_test_t *t, unsigned n)
{
    int                down;
    unsigned           i, k, bad;
    uint32_t          *w, *c, count, weight;
    int64_t            sum;
    cflb_lt_t          lt;
    pthread_t          tid[6];
    unsigned char     *dn;
    cflb_lt_thread_t   th[6];

    static const unsigned  roles[6] = { 0, 0, 0, 1, 2, 2 };

    w = calloc(n, sizeof(uint32_t));
    c = calloc(n, sizeof(uint32_t));
    dn = calloc(n, 1);

    if (!w || !c || !dn) {
        printf("out of memory\n");
        exit(1);
    }

    for (i = 0; i < n; i++) {
        w[i] = (i % 7 == 3) ? 0 : 1 + i % 100;
        c[i] = 10;
    }

    cflb_lt_new(&lt, n, w, c);

    for (k = 0; k < 6; k++) {
        memset(&th[k], 0, sizeof(cflb_lt_thread_t));
        th[k].tree = lt.tree;
        th[k].n = n;
        th[k].role = roles[k];
        th[k].seed = 0x57E55 + k * 7919 + n;
        th[k].net = calloc(n, sizeof(int64_t));
        th[k].weight = malloc(n * sizeof(uint32_t));
        th[k].down = calloc(n, 1);

        if (!th[k].net || !th[k].weight || !th[k].down) {
            printf("out of memory\n");
            exit(1);
        }

        for (i = 0; i < n; i++) {
            th[k].weight[i] = 255;
        }
    }

    for (k = 0; k < 6; k++) {
        if (pthread_create(&tid[k], NULL, cflb_lt_stress_thread, &th[k])
            != 0)
        {
            printf("pthread_create failed\n");
            exit(1);
        }
    }

    for (k = 0; k < 6; k++) {
        pthread_join(tid[k], NULL);
    }

    bad = th[4].bad + th[5].bad;
    cflb_check_msg(t, bad == 0, "stress %u: %u bad picks", n, bad);

    /* the state the threads' records predict */

    for (i = 0; i < n; i++) {
        sum = 10;

        for (k = 0; k < 3; k++) {
            sum += th[k].net[i];
        }

        c[i] = (uint32_t) sum;

        if (th[3].weight[i] != 255) {
            w[i] = th[3].weight[i];
            dn[i] = th[3].down[i];
        }
    }

    bad = 0;

    for (i = 0; i < n; i++) {
        cflb_least_tree_get(lt.tree, i, &count, &weight, &down);
        bad += (count != c[i] || weight != w[i] || down != dn[i]);
    }

    cflb_check_msg(t, bad == 0, "stress %u: %u members differ from the "
                   "threads' records", n, bad);
    cflb_check_msg(t, cflb_least_tree_verify(lt.tree) == CFLB_OK,
                   "stress %u: verify", n);

    cflb_check_msg(t, cflb_lt_same(&lt, n, w, c, dn),
                   "stress %u: differs from a fresh build", n);

    free(lt.tree);

    for (k = 0; k < 6; k++) {
        free(th[k].net);
        free(th[k].weight);
        free(th[k].down);
    }

    free(w);
    free(c);
    free(dn);
}
