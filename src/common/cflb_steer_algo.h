
/*
 * cflb steering: private interface between the dispatcher (cflb_steer.c)
 * and the per-algorithm files (cflb_steer_*.c).  Not for the glue.
 */

#ifndef _CFLB_STEER_ALGO_H_INCLUDED_
#define _CFLB_STEER_ALGO_H_INCLUDED_


#include "cflb_steer.h"


/*
 * The one eligibility predicate of the algorithms: a NULL usable()
 * callback means every member may be chosen.
 */
static inline int
cflb_member_usable(cflb_pick_t *pk, unsigned i)
{
    return pk->usable == NULL || pk->usable(pk->ctx, i);
}


/* a * b for allocation sizes, or 0 if that overflows size_t */
static inline size_t
cflb_size_mul(size_t a, size_t b)
{
    return (b != 0 && a > SIZE_MAX / b) ? 0 : a * b;
}


/*
 * Index of the first of cum[0..n-1] (a running sum, non-decreasing, n > 0)
 * that exceeds x, where x < cum[n - 1]: the entry a uniform draw in
 * [0, cum[n - 1]) lands on.  Entries that did not add to the sum are
 * never returned.  O(log n).
 */
static inline unsigned
cflb_cumulative_find(const uint64_t *cum, unsigned n, uint64_t x)
{
    unsigned  lo, hi, mid;

    lo = 0;
    hi = n - 1;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (cum[mid] > x) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return lo;
}


/* the algorithm tables, indexed by cflb_policy_e in cflb_steer.c */
extern const cflb_steer_ops_t  cflb_steer_off_ops;
extern const cflb_steer_ops_t  cflb_steer_random_ops;
extern const cflb_steer_ops_t  cflb_steer_hash_ops;
extern const cflb_steer_ops_t  cflb_steer_lors_ops;
extern const cflb_steer_ops_t  cflb_steer_least_conn_ops;
extern const cflb_steer_ops_t  cflb_steer_geo_ops;
extern const cflb_steer_ops_t  cflb_steer_proximity_ops;
extern const cflb_steer_ops_t  cflb_steer_dynamic_ops;

/* the first usable member in order: "off", and geo inside its list */
int cflb_steer_first(cflb_set_t *set, cflb_pick_t *pk);


#endif /* _CFLB_STEER_ALGO_H_INCLUDED_ */
