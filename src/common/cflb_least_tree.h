
/*
 * cflb_least_tree: the shared state behind least_outstanding_requests and
 * least_connections for large sets, so that a pick costs O(log n) rather
 * than one load() call per member.
 *
 * One tree per set (the endpoints of a pool, or the pools of a load
 * balancer).  It lives in memory the caller provides, normally a
 * shared-memory zone: no pointers inside, only integers, updated with
 * atomic builtins, so every worker process may count and pick at once
 * without a lock.  Per member it keeps one 64-bit word (the in-flight
 * count, the weight and a down flag); above the members, a Fenwick tree
 * of the partial sums of tw = w * 2^24 / (count + 1), the weights of the
 * product's draw P = tw / sum(tw) (cflb_steer_least.c).
 *
 * Exactness: a count or weight change is one atomic operation on the
 * member's word that returns the word it replaced, so whoever made the
 * change knows tw before and after exactly and adds the difference to
 * the partial sums.  Integer additions commute, so once the updates in
 * progress have finished every partial sum equals the sum of its
 * members' tw, whatever the interleaving: no drift, no resync.
 *
 * Error bound while updates run: a pick may read partial sums that miss
 * the differences not yet added by updates in progress (at most one per
 * worker, each at most w * 2^23 in tw units, half the member's tw at
 * count 0); member i's probability is then off by at most
 * (sum of those differences) / (total tw), and the error goes away when
 * the updates finish.  Whatever it reads, a pick returns only a member
 * whose word has weight > 0, no down flag, and that usable() accepted.
 *
 * Small sets (n <= CFLB_LEAST_LINEAR) keep only the member words: a
 * count change is one atomic add, and a pick reads the n words (cheaper
 * than maintaining the partial sums at that size, see
 * docs/performance.md).
 */

#ifndef _CFLB_LEAST_TREE_H_INCLUDED_
#define _CFLB_LEAST_TREE_H_INCLUDED_


#include "cflb_steer.h"


/* tw = w * 2^CFLB_LEAST_SHIFT / (load + 1); w * 2^24 < 2^31 for w <= 100 */
#define CFLB_LEAST_SHIFT   24

/* sets up to this size are scanned, larger ones get partial sums */
#ifndef CFLB_LEAST_LINEAR
#define CFLB_LEAST_LINEAR  8
#endif

/* draws before cflb_least_tree_pick() falls back to an exact O(n) pass */
#define CFLB_LEAST_TRIES   8


typedef struct cflb_least_tree_s  cflb_least_tree_t;


/*
 * The draw weight of a member with the given weight (0..CFLB_WEIGHT_SCALE)
 * and in-flight load: w * 2^24 / (load + 1), truncated, and at least 1
 * for a member with a weight, so that an absurd load never makes it
 * ineligible; 0 for weight 0.  One definition for the tree and the
 * linear pick, so both draw from the same distribution.
 */
static inline uint32_t
cflb_least_tw(uint32_t weight, uint64_t load)
{
    uint32_t  w;

    w = weight << CFLB_LEAST_SHIFT;

    if (w == 0) {
        return 0;
    }

    /* load >= w makes w / (load + 1) zero; load + 1 may wrap */
    return (load >= w) ? 1 : w / ((uint32_t) load + 1);
}


/*
 * cflb_least_tree_size() returns the bytes a tree of n members needs
 * (memory aligned to 8 bytes), or 0 if n is too large (n > 2^30, or
 * the size overflows size_t).
 */
size_t cflb_least_tree_size(unsigned n);

/*
 * cflb_least_tree_init() lays out a tree of n members in mem, which has
 * cflb_least_tree_size(n) bytes, with weights[i] (0..CFLB_WEIGHT_SCALE)
 * and counts[i] (NULL: all 0); every member starts up (no down flag).
 * O(n).  Not safe against concurrent use of the same memory: call it
 * before the memory is shared (the master's zone init).  Returns the
 * tree (mem), or NULL if n is too large or a weight is out of range.
 */
cflb_least_tree_t *cflb_least_tree_init(void *mem, unsigned n,
    const uint32_t *weights, const uint32_t *counts);

/* the number of members, as given to cflb_least_tree_init() */
unsigned cflb_least_tree_n(const cflb_least_tree_t *t);

/*
 * cflb_least_tree_add() adds delta to member i's in-flight count: +1
 * when a request or connection starts, -1 when it ends, -k to give back
 * a dead worker's k.  Returns the count before.  Lock-free, any process,
 * any time; one atomic add on the member's word, and in the tree mode
 * one per level whose partial sum changes.  Counts are 32 bits and wrap
 * like unsigned integers (a count below 0 reads as a huge load: the
 * member stays eligible with tw 1 until the count is back).
 */
uint32_t cflb_least_tree_add(cflb_least_tree_t *t, unsigned i,
    int32_t delta);

/*
 * cflb_least_tree_set() sets member i's weight (0..CFLB_WEIGHT_SCALE) and
 * down flag.  A down member, like one with weight 0, is never picked by
 * cflb_least_tree_pick(): use it for everything that excludes a member
 * for every request (disabled, unhealthy; a critical pool), and keep
 * usable() for what is per request (tried, load shedding).  Its count
 * goes on.  Lock-free (a compare-and-swap on the member's word), exact
 * under concurrent counts.  CFLB_OK, or CFLB_ERROR for a weight out of
 * range (nothing changed).
 */
int cflb_least_tree_set(cflb_least_tree_t *t, unsigned i, uint32_t weight,
    int down);

/* member i's count, weight and down flag, read atomically together */
void cflb_least_tree_get(const cflb_least_tree_t *t, unsigned i,
    uint32_t *count, uint32_t *weight, int *down);

/*
 * cflb_least_tree_pick() draws member i with P = tw_i / sum(tw) over the
 * members with weight > 0, not down, and accepted by pk->usable (NULL:
 * all), from pk->rng; pk->load and pk->key are not read.  Returns the
 * member's index, or CFLB_DECLINED when there is none.
 *
 * Cost, tree mode: one descent of log2(n) steps and one usable() call
 * when the drawn member is usable.  A member usable() refuses is taken
 * out of the partial sums read by the next draws (still exact); after
 * CFLB_LEAST_TRIES draws, or when the refused members hold all the
 * weight, an exact O(n) pass decides.  So usable() should refuse few
 * members: see cflb_least_tree_set().  Lock-free, read-only on the tree.
 */
int cflb_least_tree_pick(const cflb_least_tree_t *t, cflb_pick_t *pk);

/*
 * cflb_least_tree_pick_all() is the exact O(n) draw over the members with
 * weight > 0 that usable() accepts, ignoring down flags: for the rare
 * pick that must ignore health (the fallback pool when every pool is
 * down).  Returns the member, or CFLB_DECLINED.
 */
int cflb_least_tree_pick_all(const cflb_least_tree_t *t, cflb_pick_t *pk);

/*
 * cflb_least_tree_verify() checks that every partial sum equals the sum
 * of its members' tw.  Meaningful when no update is in progress (tests,
 * a debug check at a quiet moment).  CFLB_OK or CFLB_ERROR.
 */
int cflb_least_tree_verify(const cflb_least_tree_t *t);

/*
 * cflb_steer_least_attach() makes a least_outstanding_requests or
 * least_connections set draw from a tree of the same size (NULL: detach)
 * instead of calling load() for every member: cflb_set_pick() then goes
 * to cflb_least_tree_pick() whenever pk->load is not NULL.  A NULL
 * pk->load still means "every load 0" (weighted random, as for DNS
 * answers) and is served by the linear pick from set->members' weights.
 * The tree pointer must stay valid for the life of the set (shared
 * memory mapped before the workers fork).  CFLB_OK, or CFLB_ERROR for
 * another policy or a size that differs.
 */
int cflb_steer_least_attach(cflb_set_t *set, const cflb_least_tree_t *tree);


#endif /* _CFLB_LEAST_TREE_H_INCLUDED_ */
