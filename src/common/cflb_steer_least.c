
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
 * tw is fixed point: w * 2^24 / (load + 1), truncated (cflb_least_tw()
 * in cflb_least_tree.h).  w * 2^24 < 2^31, so the division is on 32 bits
 * and the sum of at most INT_MAX members fits 64 bits.  A member keeps
 * tw >= 1 even under an absurd load, so that it stays eligible.
 * Truncation keeps tw within 1% while tw >= 100, that is for loads below
 * about 167,000 at weight 0.01 and 16,700,000 at weight 1.00.
 *
 * Two ways to pick:
 *
 * - linear, O(n): load() once per usable weighted member, the running
 *   sums of tw in the set's scratch array, a binary search.  Always used
 *   when pk->load is NULL (every load 0: weighted random).
 * - a tree attached with cflb_steer_least_attach(): the counts and the
 *   partial sums of tw live in shared memory and a pick is O(log n)
 *   (cflb_least_tree.c); load() is not called, the tree's weights and
 *   counts are used instead of set->members' weights and load().
 */


#include <stdint.h>

#include "cflb_steer_algo.h"
#include "cflb_least_tree.h"


typedef struct {
    const cflb_least_tree_t  *tree;     /* NULL: the linear pick */
    uint64_t                  cum[];    /* n running sums */
} cflb_least_t;


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


/* set->data is a cflb_least_t, NULL if n == 0 */

static int
cflb_steer_least_init(cflb_set_t *set, cflb_allocator_t *a)
{
    size_t         size;
    cflb_least_t  *l;

    set->data = NULL;

    if (set->n == 0) {
        return CFLB_OK;
    }

    size = cflb_size_mul(set->n, sizeof(uint64_t));
    if (size == 0 || size > SIZE_MAX - sizeof(cflb_least_t)) {
        return CFLB_ERROR;
    }

    size += sizeof(cflb_least_t);

    l = a->alloc(a->data, size);
    if (l == NULL) {
        return CFLB_ERROR;
    }

    l->tree = NULL;
    set->data = l;

    return CFLB_OK;
}


int
cflb_steer_least_attach(cflb_set_t *set, const cflb_least_tree_t *tree)
{
    cflb_least_t  *l;

    if (set->ops != &cflb_steer_lors_ops
        && set->ops != &cflb_steer_least_conn_ops)
    {
        return CFLB_ERROR;
    }

    if (tree != NULL && cflb_least_tree_n(tree) != set->n) {
        return CFLB_ERROR;
    }

    l = set->data;

    if (l != NULL) {
        l->tree = tree;
    }

    return CFLB_OK;
}


/* a NULL load() counts as load 0 everywhere (as for DNS-only in the docs) */

static int
cflb_steer_least_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    unsigned       i;
    uint32_t       w;
    uint64_t       load, sum, *cum;
    cflb_least_t  *l;

    l = set->data;

    if (l == NULL) {
        return CFLB_DECLINED;
    }

    if (l->tree != NULL && pk->load != NULL) {
        return cflb_least_tree_pick(l->tree, pk);
    }

    cum = l->cum;
    sum = 0;

    for (i = 0; i < set->n; i++) {
        w = set->members[i].weight;

        if (w != 0 && cflb_member_usable(pk, i)) {
            load = (pk->load != NULL) ? pk->load(pk->ctx, i) : 0;
            sum += cflb_least_tw(w, load);
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
