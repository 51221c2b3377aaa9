
/*
 * cflb steering "random": weighted random, P(i) = w_i / sum(w) over the
 * usable members with a weight.
 *
 * pick() is O(1): init builds a Walker/Vose alias table (M. D. Vose, "A
 * linear algorithm for generating random numbers with a given
 * distribution", IEEE TSE 1991) over the members with weight > 0, in
 * integer arithmetic, so the sampled distribution is exactly w / sum(w).
 * A sample that lands on an unusable member is redrawn; the accepted
 * sample is then exactly weighted among the usable members.  When most
 * members are unusable, redraws would be slow, so after CFLB_RANDOM_TRIES
 * misses pick() falls back to an exact linear draw over the usable ones.
 */


#include <stdint.h>

#include "cflb_steer_algo.h"


#define CFLB_RANDOM_TRIES  8


typedef struct {
    uint64_t               prob;        /* own member if draw < prob */
    uint32_t               member;      /* the column's own member */
    uint32_t               alias;       /* the member taken otherwise */
} cflb_alias_t;


typedef struct {
    cflb_alias_t          *table;       /* m columns, one per weighted
                                           member, in member order */
    uint64_t              *scratch;     /* m words: the Vose work lists
                                           in init, running sums in the
                                           fallback */
    uint64_t               total;       /* sum of the weights, > 0 */
    unsigned               m;
} cflb_random_t;


static int cflb_steer_random_init(cflb_set_t *set, cflb_allocator_t *a);
static void cflb_steer_random_vose(cflb_random_t *r);
static int cflb_steer_random_pick(cflb_set_t *set, cflb_pick_t *pk);
static int cflb_steer_random_linear(cflb_set_t *set, cflb_random_t *r,
    cflb_pick_t *pk);
static void cflb_steer_random_free(cflb_set_t *set, cflb_allocator_t *a);


const cflb_steer_ops_t  cflb_steer_random_ops = {
    "random",
    CFLB_LEVEL_POOL|CFLB_LEVEL_ENDPOINT,
    CFLB_MODE_ALL,
    0,
    0,
    cflb_steer_random_init,
    cflb_steer_random_pick,
    cflb_steer_random_free
};


static int
cflb_steer_random_init(cflb_set_t *set, cflb_allocator_t *a)
{
    size_t          size;
    unsigned        i, m;
    uint64_t        total;
    cflb_random_t  *r;

    set->data = NULL;

    m = 0;
    total = 0;

    for (i = 0; i < set->n; i++) {
        if (set->members[i].weight > 0) {
            total += set->members[i].weight;
            m++;
        }
    }

    if (m == 0) {
        /* data stays NULL: every pick declines */
        return CFLB_OK;
    }

    size = cflb_size_mul(m, sizeof(cflb_alias_t) + sizeof(uint64_t));
    if (size == 0) {
        return CFLB_ERROR;
    }

    r = a->alloc(a->data, sizeof(cflb_random_t));
    if (r == NULL) {
        return CFLB_ERROR;
    }

    /* one block: the 16-byte columns first keep the words aligned */

    r->table = a->alloc(a->data, size);
    if (r->table == NULL) {
        a->free(a->data, r);
        return CFLB_ERROR;
    }

    r->scratch = (uint64_t *) (r->table + m);
    r->total = total;
    r->m = m;

    /* scaled by m, so that the average column holds exactly total */

    for (i = 0, m = 0; i < set->n; i++) {
        if (set->members[i].weight > 0) {
            r->table[m].prob = (uint64_t) set->members[i].weight * r->m;
            r->table[m].member = i;
            r->table[m].alias = i;
            m++;
        }
    }

    cflb_steer_random_vose(r);

    set->data = r;

    return CFLB_OK;
}


/*
 * Vose's pairing on integers: every column starts with m * w and the
 * sum is m * total, so each step fills one "small" column exactly to
 * total from a "large" one.  No rounding, hence exact probabilities.
 * The work lists share r->scratch: smalls grow from the front, larges
 * from the back, and together never hold more than m columns.
 */

static void
cflb_steer_random_vose(cflb_random_t *r)
{
    unsigned       j, ns, nl, s, l;
    uint64_t      *work;
    cflb_alias_t  *t;

    t = r->table;
    work = r->scratch;
    ns = 0;
    nl = 0;

    for (j = 0; j < r->m; j++) {
        if (t[j].prob < r->total) {
            work[ns++] = j;

        } else {
            work[r->m - ++nl] = j;
        }
    }

    while (ns > 0 && nl > 0) {
        s = (unsigned) work[--ns];
        l = (unsigned) work[r->m - nl];

        t[s].alias = t[l].member;
        t[l].prob -= r->total - t[s].prob;

        if (t[l].prob < r->total) {
            nl--;
            work[ns++] = l;
        }
    }

    /*
     * The columns left are all exactly total (the sum invariant leaves
     * no other possibility); set them anyway, as the textbook does.
     */

    while (ns > 0) {
        t[work[--ns]].prob = r->total;
    }

    while (nl > 0) {
        t[work[r->m - nl--]].prob = r->total;
    }
}


static int
cflb_steer_random_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    unsigned        k, i;
    cflb_alias_t   *col;
    cflb_random_t  *r;

    r = set->data;

    if (r == NULL) {
        return CFLB_DECLINED;
    }

    for (k = 0; k < CFLB_RANDOM_TRIES; k++) {
        col = &r->table[cflb_rng_below(pk->rng, r->m)];

        i = (cflb_rng_below(pk->rng, r->total) < col->prob) ? col->member
                                                             : col->alias;

        if (cflb_member_usable(pk, i)) {
            return (int) i;
        }
    }

    return cflb_steer_random_linear(set, r, pk);
}


/* exact weighted draw among the usable members, O(m) */

static int
cflb_steer_random_linear(cflb_set_t *set, cflb_random_t *r,
    cflb_pick_t *pk)
{
    unsigned  j, i;
    uint64_t  sum;

    sum = 0;

    for (j = 0; j < r->m; j++) {
        i = r->table[j].member;

        if (cflb_member_usable(pk, i)) {
            sum += set->members[i].weight;
        }

        r->scratch[j] = sum;
    }

    if (sum == 0) {
        return CFLB_DECLINED;
    }

    j = cflb_cumulative_find(r->scratch, r->m,
                             cflb_rng_below(pk->rng, sum));

    return (int) r->table[j].member;
}


static void
cflb_steer_random_free(cflb_set_t *set, cflb_allocator_t *a)
{
    cflb_random_t  *r;

    r = set->data;

    if (r == NULL) {
        return;
    }

    a->free(a->data, r->table);
    a->free(a->data, r);

    set->data = NULL;
}
