
/*
 * cflb steering "least_outstanding_requests" and "least_connections".
 *
 * One algorithm, two keywords: the glue's load() callback returns the
 * in-flight requests or the open connections of a member.  Following
 * the product's documentation, each usable member with a weight gets
 *
 *     tw = w / (load + 1)
 *
 * and is chosen with P = tw / sum(tw): a random draw, not a strict
 * minimum, so that many workers with slightly stale counts do not all
 * rush to the same member.  With every load 0 this is weighted random.
 *
 * tw is fixed point: w * 2^24 / (load + 1), truncated.  w * 2^24 < 2^31,
 * so the division is on 32 bits and the sum of at most INT_MAX members
 * fits 64 bits.  A member keeps tw >= 1 even under an absurd load, so
 * that it stays eligible.  Truncation keeps tw within 1% while
 * tw >= 100, that is for loads below about 167,000 at weight 0.01 and
 * 16,700,000 at weight 1.00.
 *
 * pick() is O(n), with load() called once per usable weighted member.
 * The per-set scratch array holds the running sums of tw, so the draw
 * finishes with a binary search.
 */


#include <stdint.h>

#include "cflb_steer_algo.h"


#define CFLB_LEAST_SHIFT  24


static int cflb_steer_least_init(cflb_set_t *set, cflb_allocator_t *a);
static int cflb_steer_least_pick(cflb_set_t *set, cflb_pick_t *pk);
static void cflb_steer_least_free(cflb_set_t *set, cflb_allocator_t *a);


const cflb_steer_ops_t  cflb_steer_lors_ops = {
    "least_outstanding_requests",
    CFLB_LEVEL_POOL|CFLB_LEVEL_ENDPOINT,
    CFLB_MODE_ALL,
    CFLB_MODE_L7,                      /* requests exist at layer 7 only */
    CFLB_NEED_LOAD,
    cflb_steer_least_init,
    cflb_steer_least_pick,
    cflb_steer_least_free
};


const cflb_steer_ops_t  cflb_steer_least_conn_ops = {
    "least_connections",
    CFLB_LEVEL_POOL|CFLB_LEVEL_ENDPOINT,
    CFLB_MODE_ALL,
    CFLB_MODE_L7|CFLB_MODE_L4,         /* a DNS answer opens none */
    CFLB_NEED_LOAD,
    cflb_steer_least_init,
    cflb_steer_least_pick,
    cflb_steer_least_free
};


/* set->data is the scratch array of n running sums, NULL if n == 0 */

static int
cflb_steer_least_init(cflb_set_t *set, cflb_allocator_t *a)
{
    size_t  size;

    set->data = NULL;

    if (set->n == 0) {
        return CFLB_OK;
    }

    size = cflb_size_mul(set->n, sizeof(uint64_t));
    if (size == 0) {
        return CFLB_ERROR;
    }

    set->data = a->alloc(a->data, size);
    if (set->data == NULL) {
        return CFLB_ERROR;
    }

    return CFLB_OK;
}


/* a NULL load() counts as load 0 everywhere (as for DNS-only in the docs) */

static int
cflb_steer_least_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    unsigned   i;
    uint32_t   tw;
    uint64_t   load, sum, *cum;

    cum = set->data;

    if (cum == NULL) {
        return CFLB_DECLINED;
    }

    sum = 0;

    for (i = 0; i < set->n; i++) {
        tw = set->members[i].weight << CFLB_LEAST_SHIFT;

        if (tw != 0 && cflb_member_usable(pk, i)) {
            load = (pk->load != NULL) ? pk->load(pk->ctx, i) : 0;

            /* load >= tw makes tw / (load + 1) zero; load + 1 may wrap */
            sum += (load >= tw) ? 1 : tw / ((uint32_t) load + 1);
        }

        cum[i] = sum;
    }

    if (sum == 0) {
        return CFLB_DECLINED;
    }

    return (int) cflb_cumulative_find(cum, set->n,
                                      cflb_rng_below(pk->rng, sum));
}


static void
cflb_steer_least_free(cflb_set_t *set, cflb_allocator_t *a)
{
    if (set->data != NULL) {
        a->free(a->data, set->data);
        set->data = NULL;
    }
}
