
/*
 * cflb steering: choose one member of a weighted set (pools of a load
 * balancer, or endpoints of a pool).  One file per algorithm behind one
 * table of callbacks (cflb_steer_ops_t), dispatched by cflb_steer.c.
 *
 * A set is built once per configuration from its members' identities and
 * weights.  What changes per request (health, drain, which members this
 * request already tried, in-flight counts) reaches pick() through the
 * cflb_pick_t callbacks, so tables never need a rebuild for it.
 *
 * Locking: sets are per-process and read-only after init; pick() may
 * only write the set's private scratch space, so a set must not be picked
 * from two threads at once (nginx workers are single-threaded).
 */

#ifndef _CFLB_STEER_H_INCLUDED_
#define _CFLB_STEER_H_INCLUDED_


#include "cflb_core.h"


typedef enum {
    CFLB_STEER_OFF = 0,             /* first usable in order (failover) */
    CFLB_STEER_RANDOM,              /* weighted random */
    CFLB_STEER_HASH,                /* weighted consistent hash of a key */
    CFLB_STEER_LORS,                /* weight / (outstanding + 1) */
    CFLB_STEER_LEAST_CONN,          /* weight / (connections + 1) */
    CFLB_STEER_NPOLICIES
} cflb_policy_e;


/* inputs an algorithm reads from cflb_pick_t, checked at config time */
#define CFLB_NEED_KEY    0x01       /* pk->key */
#define CFLB_NEED_LOAD   0x02       /* pk->load() */


typedef struct {
    cflb_str_t        name;         /* identity: hash ring points derive
                                       from it, never from the position */
    uint32_t          weight;       /* 0..CFLB_WEIGHT_SCALE, 0 = never */
} cflb_member_t;


typedef struct cflb_steer_ops_s  cflb_steer_ops_t;

typedef struct {
    const cflb_steer_ops_t  *ops;
    const cflb_member_t     *members;   /* owned by the caller, kept alive */
    unsigned                 n;
    void                    *data;      /* the algorithm's table */
} cflb_set_t;


typedef struct {
    /* may member i be chosen now; NULL means every member may */
    int             (*usable)(void *ctx, unsigned i);
    /* in-flight count of member i (CFLB_NEED_LOAD only) */
    uint64_t        (*load)(void *ctx, unsigned i);
    void             *ctx;
    uint64_t          key;          /* CFLB_NEED_KEY: already hashed */
    cflb_rng_t       *rng;
} cflb_pick_t;


struct cflb_steer_ops_s {
    const char       *name;         /* the configuration keyword */
    unsigned          inputs;       /* CFLB_NEED_* */

    /* build set->data from set->members; CFLB_OK or CFLB_ERROR */
    int             (*init)(cflb_set_t *set, cflb_allocator_t *a);

    /*
     * index of the chosen member, which is usable and has weight > 0
     * (for OFF: any usable member), or CFLB_DECLINED if none is
     */
    int             (*pick)(cflb_set_t *set, cflb_pick_t *pk);

    /* release set->data; NULL if init allocates nothing */
    void            (*free)(cflb_set_t *set, cflb_allocator_t *a);
};


/*
 * cflb_steer_policy() maps a keyword ("off", "random", "hash",
 * "least_outstanding_requests", "least_connections") to its policy, or
 * returns CFLB_ERROR.
 */
int cflb_steer_policy(const unsigned char *s, size_t len);

/* the ops of a policy; never NULL for a valid policy */
const cflb_steer_ops_t *cflb_steer_ops(cflb_policy_e policy);

/*
 * cflb_set_init() builds a set over members[0..n-1] for the policy.
 * The members array must outlive the set.  CFLB_OK or CFLB_ERROR (no
 * memory); on error nothing is left allocated.
 */
int cflb_set_init(cflb_set_t *set, cflb_policy_e policy,
    const cflb_member_t *members, unsigned n, cflb_allocator_t *a);

/*
 * cflb_set_free() releases what cflb_set_init() allocated and leaves
 * set->data NULL; harmless after a failed init or a previous free.
 */
void cflb_set_free(cflb_set_t *set, cflb_allocator_t *a);


/* the per-request entry point: inline so the dispatch costs one call */
static inline int
cflb_set_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    return set->ops->pick(set, pk);
}


#endif /* _CFLB_STEER_H_INCLUDED_ */
