
/*
 * cflb steering "hash": weighted consistent hashing (Karger et al.,
 * STOC 1997; the point layout of libketama).
 *
 * A member of weight w > 0 owns ceil(w * CFLB_HASH_POINTS / 100) points
 * on a 64-bit ring.  Point k of a member is cflb_hash64(name, k): it
 * derives from the member's name, never from its position, so the ring
 * of a set is the same whatever the member order, and adding or removing
 * a member adds or removes only its own points.  A key goes to the owner
 * of the first point at or after it (wrapping), or, if that member is
 * unusable, to the next usable owner clockwise; so a member going down
 * moves only its own keys, and they come back when it is up again.
 *
 * pick() is a binary search, O(log points), plus the walk past unusable
 * points.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_steer_algo.h"


/*
 * Points of a member of weight 1.00.  160 is libketama's count.  The
 * share of a member then deviates from its due by about 1/sqrt(160) = 8%
 * (one standard deviation; the worst of 20 equal members is typically
 * 15-20% off).  More points would flatten that, at the cost of memory
 * and of cache misses in the binary search.
 */
#define CFLB_HASH_POINTS  160


typedef struct {
    uint64_t               point;
    const cflb_member_t   *member;      /* into set->members */
} cflb_point_t;


typedef struct {
    cflb_point_t          *points;      /* sorted by point */
    size_t                 npoints;     /* > 0 */
} cflb_ring_t;


static int cflb_steer_hash_init(cflb_set_t *set, cflb_allocator_t *a);
static int cflb_steer_hash_cmp(const void *one, const void *two);
static int cflb_steer_hash_pick(cflb_set_t *set, cflb_pick_t *pk);
static void cflb_steer_hash_free(cflb_set_t *set, cflb_allocator_t *a);


const cflb_steer_ops_t  cflb_steer_hash_ops = {
    "hash",
    CFLB_LEVEL_ENDPOINT,               /* the product's: endpoints only */
    CFLB_MODE_ALL,
    0,
    CFLB_NEED_KEY,
    cflb_steer_hash_init,
    cflb_steer_hash_pick,
    cflb_steer_hash_free
};


#define cflb_hash_member_points(w)                                          \
    (((size_t) (w) * CFLB_HASH_POINTS + CFLB_WEIGHT_SCALE - 1)              \
     / CFLB_WEIGHT_SCALE)


static int
cflb_steer_hash_init(cflb_set_t *set, cflb_allocator_t *a)
{
    size_t                n, k, npoints;
    unsigned              i;
    cflb_ring_t          *ring;
    cflb_point_t         *p;
    const cflb_member_t  *m;

    set->data = NULL;

    /* a weight is at most 1.00, so a member has at most 160 points */

    if (set->n > 0
        && cflb_size_mul(set->n, CFLB_HASH_POINTS * sizeof(cflb_point_t))
           == 0)
    {
        return CFLB_ERROR;
    }

    npoints = 0;

    for (i = 0; i < set->n; i++) {
        npoints += cflb_hash_member_points(set->members[i].weight);
    }

    if (npoints == 0) {
        /* data stays NULL: every pick declines */
        return CFLB_OK;
    }

    ring = a->alloc(a->data, sizeof(cflb_ring_t));
    if (ring == NULL) {
        return CFLB_ERROR;
    }

    ring->points = a->alloc(a->data, npoints * sizeof(cflb_point_t));
    if (ring->points == NULL) {
        a->free(a->data, ring);
        return CFLB_ERROR;
    }

    ring->npoints = npoints;
    p = ring->points;

    for (i = 0; i < set->n; i++) {
        m = &set->members[i];
        n = cflb_hash_member_points(m->weight);

        for (k = 0; k < n; k++) {
            p->point = cflb_hash64(m->name.data, m->name.len, k);
            p->member = m;
            p++;
        }
    }

    qsort(ring->points, npoints, sizeof(cflb_point_t), cflb_steer_hash_cmp);

    set->data = ring;

    return CFLB_OK;
}


/*
 * Total order: by point, then (a 64-bit tie, practically never) by name,
 * so that ties too are independent of the member order.  Members with
 * equal names have equal points; the order among them is their position,
 * the best there is (the glue should refuse duplicate names).
 */

static int
cflb_steer_hash_cmp(const void *one, const void *two)
{
    int                  rc;
    size_t               len;
    const cflb_point_t  *a, *b;

    a = one;
    b = two;

    if (a->point != b->point) {
        return (a->point < b->point) ? -1 : 1;
    }

    len = a->member->name.len < b->member->name.len ? a->member->name.len
                                                    : b->member->name.len;

    rc = (len == 0) ? 0
                    : memcmp(a->member->name.data, b->member->name.data, len);

    if (rc != 0) {
        return rc;
    }

    if (a->member->name.len != b->member->name.len) {
        return (a->member->name.len < b->member->name.len) ? -1 : 1;
    }

    return (a->member > b->member) - (a->member < b->member);
}


static int
cflb_steer_hash_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    size_t         lo, hi, mid, k;
    unsigned       i, last;
    cflb_ring_t   *ring;
    cflb_point_t  *points;

    ring = set->data;

    if (ring == NULL) {
        return CFLB_DECLINED;
    }

    points = ring->points;

    /* the first point >= key, or the first point of all (wrap) */

    lo = 0;
    hi = ring->npoints;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (points[mid].point < pk->key) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    /* clockwise to a usable owner; set->n is never a member index */

    last = set->n;

    for (k = 0; k < ring->npoints; k++) {
        if (lo == ring->npoints) {
            lo = 0;
        }

        i = (unsigned) (points[lo].member - set->members);

        if (i != last) {
            if (cflb_member_usable(pk, i)) {
                return (int) i;
            }

            /* the same unusable owner again next is not asked again */
            last = i;
        }

        lo++;
    }

    return CFLB_DECLINED;
}


static void
cflb_steer_hash_free(cflb_set_t *set, cflb_allocator_t *a)
{
    cflb_ring_t  *ring;

    ring = set->data;

    if (ring == NULL) {
        return;
    }

    a->free(a->data, ring->points);
    a->free(a->data, ring);

    set->data = NULL;
}
