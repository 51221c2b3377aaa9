
/*
 * cflb core unit tests: shared helpers (checks, a counting allocator,
 * member sets, pick callbacks).  Header-only, static inline, so that
 * each test is one plain C program.
 */

#ifndef _CFLB_TEST_H_INCLUDED_
#define _CFLB_TEST_H_INCLUDED_


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_steer.h"


typedef struct {
    unsigned              passed;
    unsigned              failed;
} cflb_test_t;


#define cflb_check(t, cond)                                                 \
    cflb_test_check(t, (cond) != 0, __FILE__, __LINE__, "%s", #cond)

#define cflb_check_msg(t, cond, ...)                                        \
    cflb_test_check(t, (cond) != 0, __FILE__, __LINE__, __VA_ARGS__)


static inline void
cflb_test_check(cflb_test_t *t, int ok, const char *file, int line,
    const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));


static inline void
cflb_test_check(cflb_test_t *t, int ok, const char *file, int line,
    const char *fmt, ...)
{
    va_list  args;

    if (ok) {
        t->passed++;
        return;
    }

    t->failed++;

    printf("FAIL %s:%d: ", file, line);
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
}


/* the last line of every test program, parsed by the Makefile */

static inline int
cflb_test_done(cflb_test_t *t, const char *name)
{
    printf("%s: %u passed, %u failed\n", name, t->passed, t->failed);

    return t->failed ? 1 : 0;
}


/* a percentage within tol percentage points of the expectation */

static inline void
cflb_check_pct_at(cflb_test_t *t, const char *file, int line,
    const char *what, double got, double want, double tol)
{
    double  d;

    d = got - want;

    cflb_test_check(t, d <= tol && d >= -tol, file, line,
                    "%s: %.3f%%, want %.3f%% +-%.2fpp", what, got, want, tol);
}

#define cflb_check_pct(t, what, got, want, tol)                             \
    cflb_check_pct_at(t, __FILE__, __LINE__, what, got, want, tol)


/* counting allocator: every alloc must be freed, failures on demand */

typedef struct {
    size_t                allocs;
    size_t                frees;
    size_t                live;
    size_t                fail_at;      /* fail the n-th alloc, 0: never */
} cflb_test_mem_t;


static inline void *
cflb_test_alloc(void *data, size_t size)
{
    cflb_test_mem_t  *mem;

    mem = data;

    if (++mem->allocs == mem->fail_at) {
        return NULL;
    }

    mem->live++;

    return malloc(size);
}


static inline void
cflb_test_free(void *data, void *p)
{
    cflb_test_mem_t  *mem;

    mem = data;

    if (p != NULL) {
        mem->frees++;
        mem->live--;
        free(p);
    }
}


static inline void
cflb_test_allocator(cflb_allocator_t *a, cflb_test_mem_t *mem)
{
    memset(mem, 0, sizeof(cflb_test_mem_t));

    a->alloc = cflb_test_alloc;
    a->free = cflb_test_free;
    a->data = mem;
}


/* members named "<prefix><i>"; weights NULL means all 1.00 */

typedef struct {
    cflb_member_t        *members;
    char                 *names;
    unsigned              n;
} cflb_test_set_t;


#define CFLB_TEST_NAME_LEN  32


static inline void
cflb_test_members(cflb_test_set_t *ts, unsigned n, const uint32_t *weights,
    const char *prefix)
{
    unsigned  i;
    char     *name;

    ts->n = n;
    ts->members = calloc(n + 1, sizeof(cflb_member_t));
    ts->names = calloc(n + 1, CFLB_TEST_NAME_LEN);

    if (ts->members == NULL || ts->names == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    for (i = 0; i < n; i++) {
        name = ts->names + (size_t) i * CFLB_TEST_NAME_LEN;
        snprintf(name, CFLB_TEST_NAME_LEN, "%s%u", prefix, i);

        ts->members[i].name.data = (unsigned char *) name;
        ts->members[i].name.len = strlen(name);
        ts->members[i].weight = weights ? weights[i] : CFLB_WEIGHT_SCALE;
    }
}


static inline void
cflb_test_members_free(cflb_test_set_t *ts)
{
    free(ts->members);
    free(ts->names);
}


/* pick callbacks: down[i] != 0 makes i unusable; load[i], counted */

typedef struct {
    const unsigned char  *down;         /* NULL: all usable */
    const uint64_t       *load;         /* NULL: all 0 */
    unsigned             *load_calls;   /* per member, or NULL */
    const uint64_t       *rtt;          /* NULL: all 0, unknown */
} cflb_test_ctx_t;


static inline int
cflb_test_usable(void *data, unsigned i)
{
    cflb_test_ctx_t  *ctx;

    ctx = data;

    return ctx->down == NULL || !ctx->down[i];
}


static inline uint64_t
cflb_test_load(void *data, unsigned i)
{
    cflb_test_ctx_t  *ctx;

    ctx = data;

    if (ctx->load_calls != NULL) {
        ctx->load_calls[i]++;
    }

    return ctx->load ? ctx->load[i] : 0;
}


static inline uint64_t
cflb_test_rtt(void *data, unsigned i)
{
    cflb_test_ctx_t  *ctx;

    ctx = data;

    return ctx->rtt ? ctx->rtt[i] : 0;
}


static inline void
cflb_test_pick_init(cflb_pick_t *pk, cflb_test_ctx_t *ctx, cflb_rng_t *rng,
    uint64_t seed)
{
    memset(ctx, 0, sizeof(cflb_test_ctx_t));
    cflb_rng_seed(rng, seed);

    pk->usable = cflb_test_usable;
    pk->load = cflb_test_load;
    pk->rtt = cflb_test_rtt;
    pk->where = NULL;
    pk->ctx = ctx;
    pk->key = 0;
    pk->rng = rng;
}


/*
 * samples picks into counts[0..n-1]; returns the number of picks that
 * were CFLB_DECLINED, or (unsigned long) -1 on an index out of range
 */

static inline unsigned long
cflb_test_sample(cflb_set_t *set, cflb_pick_t *pk, unsigned long samples,
    unsigned long *counts)
{
    int            rc;
    unsigned long  s, declined;

    memset(counts, 0, set->n * sizeof(unsigned long));
    declined = 0;

    for (s = 0; s < samples; s++) {
        rc = cflb_set_pick(set, pk);

        if (rc == CFLB_DECLINED) {
            declined++;
            continue;
        }

        if (rc < 0 || (unsigned) rc >= set->n) {
            return (unsigned long) -1;
        }

        counts[rc]++;
    }

    return declined;
}


#endif /* _CFLB_TEST_H_INCLUDED_ */
