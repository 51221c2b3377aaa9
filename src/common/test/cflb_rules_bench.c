
/*
 * cflb rules micro-benchmark: ns per cflb_rules_eval() for a typical
 * rule of 4 and 5 comparisons, the five non-matching rules of issue 12
 * (a path "contains", a header "eq", a CIDR "in", a "matches", a
 * lower() with starts_with()), and 100 rules evaluated in turn for one
 * request.  "cold" starts every evaluation with an empty cache, as a new
 * request does, so it includes the callbacks; "warm" reuses the cache
 * and shows the evaluation alone.  The request is the tests'
 * (cflb_test_rules.h) and function results come from a bump pool reset
 * per request, as nginx's request pool.  Built by "make bench" with -O2
 * and no sanitizers.  Time is the thread's CPU time, and each cell the
 * best of 5 rounds of about 40 ms, so that other work on a shared
 * machine inflates the figures less.
 */


#define _POSIX_C_SOURCE  199309L

#include <time.h>

#include "cflb_test.h"
#include "cflb_test_rules.h"


#define CFLB_BENCH_MS     40
#define CFLB_BENCH_ROUNDS 5
#define CFLB_BENCH_BATCH  1000
#define CFLB_BENCH_POOL   65536
#define CFLB_BENCH_RULES  100


typedef struct {
    unsigned char         buf[CFLB_BENCH_POOL];
    size_t                used;
} cflb_bench_pool_t;


typedef struct {
    cflb_rules_scheme_t   scheme;
    cflb_test_re_t        re;
    cflb_test_req_t       req;
    cflb_bench_pool_t     pool;
    cflb_allocator_t      pa;
    cflb_test_mem_t       mem;
    cflb_allocator_t      a;
    int                   jit;
} cflb_bench_t;


static void cflb_bench_one(cflb_bench_t *b, const char *name,
    const char *text, int jit);
static void cflb_bench_many(cflb_bench_t *b);
static double cflb_bench_best(cflb_bench_t *b, cflb_rules_expr_t **e,
    size_t n, int cold, unsigned *matched);
static double cflb_bench_run(cflb_bench_t *b, cflb_rules_expr_t **e,
    size_t n, int cold, unsigned *matched);
static void *cflb_bench_alloc(void *data, size_t size);
static void cflb_bench_nofree(void *data, void *p);
static void *cflb_bench_re_compile(void *data, const unsigned char *pattern,
    size_t len, char *errbuf, size_t errlen);
static double cflb_bench_now(void);


int
main(void)
{
    cflb_bench_t  *b;

    b = calloc(1, sizeof(cflb_bench_t));
    if (b == NULL) {
        return 1;
    }

    cflb_test_re_init(&b->re);
    cflb_test_scheme(&b->scheme, &b->re);
    b->scheme.regex_compile = cflb_bench_re_compile;
    cflb_test_req_default(&b->req);
    cflb_test_allocator(&b->a, &b->mem);

    b->pa.alloc = cflb_bench_alloc;
    b->pa.free = cflb_bench_nofree;
    b->pa.data = &b->pool;

    printf("cflb rules micro-benchmark: ns per evaluation (one thread, -O2)"
           "\n\n%-44s %6s %9s %9s\n", "rule", "match", "cold", "warm");

    cflb_bench_one(b, "typical, 4 comparisons",
                   "http.request.method eq \"POST\" and "
                   "http.request.uri.path contains \"/api/\" and "
                   "ip.src in {203.0.113.0/24 198.51.100.0/24} and "
                   "http.host eq \"www.Example.com\"", 0);
    cflb_bench_one(b, "typical, 5 comparisons",
                   "http.request.method in {\"POST\" \"PUT\"} and "
                   "http.request.uri.path contains \"/api/\" and "
                   "ip.src in {203.0.113.0/24 198.51.100.0/24} and "
                   "lower(http.host) eq \"www.example.com\" and "
                   "cf.edge.server_port eq 443", 0);
    cflb_bench_one(b, "typical, 4 comparisons, no match",
                   "http.request.method eq \"GET\" or "
                   "http.request.uri.path contains \"/static/\" or "
                   "ip.src in {10.0.0.0/8} or "
                   "http.host eq \"static.example.com\"", 0);

    printf("\nissue 12, non-matching:\n");
    cflb_bench_one(b, "path contains",
                   "http.request.uri.path contains \"/blog/\"", 0);
    cflb_bench_one(b, "header eq",
                   "http.request.headers[\"content-type\"][0] eq "
                   "\"text/plain\"", 0);
    cflb_bench_one(b, "CIDR in",
                   "ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 "
                   "fc00::/7}", 0);
    cflb_bench_one(b, "matches (PCRE2, interpreter)",
                   "http.request.uri.path matches "
                   "\"^/static/.*\\.(css|js)$\"", 0);
    cflb_bench_one(b, "matches (PCRE2, JIT)",
                   "http.request.uri.path matches "
                   "\"^/static/.*\\.(css|js)$\"", 1);
    cflb_bench_one(b, "lower() + starts_with()",
                   "starts_with(lower(http.host), \"admin.\")", 0);

    printf("\n");
    cflb_bench_many(b);

    cflb_test_re_done(&b->re);
    free(b);

    return 0;
}


static void
cflb_bench_one(cflb_bench_t *b, const char *name, const char *text, int jit)
{
    double              cold, warm;
    unsigned            matched;
    cflb_rules_err_t    err;
    cflb_rules_expr_t  *e;

    b->jit = jit;

    e = cflb_rules_compile(&b->scheme, (const unsigned char *) text,
                           strlen(text), &b->a, &err);
    if (e == NULL) {
        printf("%s: %u:%u: %s\n", name, err.line, err.column, err.msg);
        exit(1);
    }

    cold = cflb_bench_best(b, &e, 1, 1, &matched);
    warm = cflb_bench_best(b, &e, 1, 0, &matched);

    printf("%-44s %6s %9.1f %9.1f\n", name, matched ? "yes" : "no", cold,
           warm);

    cflb_rules_free(e);
}


/* 100 rules of the shapes above, none matching, one request */

static void
cflb_bench_many(cflb_bench_t *b)
{
    char                text[256];
    double              cold, warm;
    size_t              i;
    unsigned            matched;
    cflb_rules_err_t    err;
    cflb_rules_expr_t  *e[CFLB_BENCH_RULES];

    b->jit = 1;

    for (i = 0; i < CFLB_BENCH_RULES; i++) {
        switch (i % 5) {

        case 0:
            snprintf(text, sizeof(text), "http.request.uri.path contains "
                     "\"/app%u/\"", (unsigned) i);
            break;

        case 1:
            snprintf(text, sizeof(text), "http.request.headers[\"x-tenant\"]"
                     "[0] eq \"t%u\" and http.request.method eq \"GET\"",
                     (unsigned) i);
            break;

        case 2:
            snprintf(text, sizeof(text), "ip.src in {10.%u.0.0/16 "
                     "192.168.%u.0/24} or cf.edge.server_port eq %u",
                     (unsigned) i, (unsigned) i, (unsigned) (8000 + i));
            break;

        case 3:
            snprintf(text, sizeof(text), "http.request.uri.path matches "
                     "\"^/v%u/\"", (unsigned) i);
            break;

        default:
            snprintf(text, sizeof(text), "starts_with(lower(http.host), "
                     "\"t%u.\") and ssl", (unsigned) i);
        }

        e[i] = cflb_rules_compile(&b->scheme, (const unsigned char *) text,
                                  strlen(text), &b->a, &err);
        if (e[i] == NULL) {
            printf("rule %u: %u:%u: %s\n", (unsigned) i, err.line,
                   err.column, err.msg);
            exit(1);
        }
    }

    cold = cflb_bench_best(b, e, CFLB_BENCH_RULES, 1, &matched);
    warm = cflb_bench_best(b, e, CFLB_BENCH_RULES, 0, &matched);

    printf("%-44s %6u %9.1f %9.1f\n", "100 rules, one request (per request)",
           matched, cold, warm);
    printf("%-44s %6s %9.1f %9.1f\n", "100 rules, one request (per rule)", "",
           cold / CFLB_BENCH_RULES, warm / CFLB_BENCH_RULES);

    for (i = 0; i < CFLB_BENCH_RULES; i++) {
        cflb_rules_free(e[i]);
    }
}


static double
cflb_bench_best(cflb_bench_t *b, cflb_rules_expr_t **e, size_t n, int cold,
    unsigned *matched)
{
    double    best, ns;
    unsigned  round;

    best = 0;

    for (round = 0; round < CFLB_BENCH_ROUNDS; round++) {
        ns = cflb_bench_run(b, e, n, cold, matched);

        if (round == 0 || ns < best) {
            best = ns;
        }
    }

    return best;
}


/*
 * ns per request: the n rules in turn over one input.  Cold: a fresh
 * input (an empty cache) and pool per request; warm: one input for all.
 */

static double
cflb_bench_run(cflb_bench_t *b, cflb_rules_expr_t **e, size_t n, int cold,
    unsigned *matched)
{
    int                  rc;
    double               start, elapsed;
    size_t               i, k;
    uint64_t             reqs;
    cflb_rules_input_t   in;
    cflb_rules_slot_t    slots[T_NFIELDS];
    cflb_rules_kslot_t   keys[8];

    cflb_test_input(&in, slots, keys, 8, &b->req, &b->pa);

    reqs = 0;
    *matched = 0;
    start = cflb_bench_now();

    do {
        for (k = 0; k < CFLB_BENCH_BATCH; k++) {
            if (cold) {
                cflb_test_input(&in, slots, keys, 8, &b->req, &b->pa);
                b->pool.used = 0;
            }

            for (i = 0; i < n; i++) {
                rc = cflb_rules_eval(e[i], &in);

                if (rc < 0) {
                    printf("evaluation failed\n");
                    exit(1);
                }

                if (reqs == 0 && k == 0) {
                    *matched += (unsigned) rc;
                }
            }

            if (!cold && b->pool.used > CFLB_BENCH_POOL / 2) {
                b->pool.used = 0;
            }
        }

        reqs += CFLB_BENCH_BATCH;
        elapsed = cflb_bench_now() - start;

    } while (elapsed < CFLB_BENCH_MS / 1000.0);

    return elapsed * 1e9 / (double) reqs;
}


static void *
cflb_bench_alloc(void *data, size_t size)
{
    void               *p;
    cflb_bench_pool_t  *pool;

    pool = data;
    size = (size + 15) & ~(size_t) 15;

    if (CFLB_BENCH_POOL - pool->used < size) {
        return NULL;
    }

    p = pool->buf + pool->used;
    pool->used += size;

    return p;
}


static void
cflb_bench_nofree(void *data, void *p)
{
    (void) data;
    (void) p;
}


static void *
cflb_bench_re_compile(void *data, const unsigned char *pattern, size_t len,
    char *errbuf, size_t errlen)
{
    void          *re;
    cflb_bench_t  *b;

    /* data is the test engine's state, inside the benchmark's */
    b = (cflb_bench_t *) ((char *) data - offsetof(cflb_bench_t, re));

    re = cflb_test_re_compile(data, pattern, len, errbuf, errlen);

#if CFLB_TEST_REGEX
    if (re != NULL && b->jit) {
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    }
#endif

    return re;
}


static double
cflb_bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}
