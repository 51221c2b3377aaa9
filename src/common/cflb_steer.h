
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
#include "cflb_geo.h"


typedef enum {
    CFLB_STEER_OFF = 0,             /* first usable in order (failover) */
    CFLB_STEER_RANDOM,              /* weighted random */
    CFLB_STEER_HASH,                /* weighted consistent hash of a key */
    CFLB_STEER_LORS,                /* weight / (outstanding + 1) */
    CFLB_STEER_LEAST_CONN,          /* weight / (connections + 1) */
    CFLB_STEER_GEO,                 /* a list by client location, in order */
    CFLB_STEER_PROXIMITY,           /* the nearest to the client */
    CFLB_STEER_DYNAMIC,             /* the lowest probe round trip */
    CFLB_STEER_NPOLICIES
} cflb_policy_e;


/*
 * What a policy is, as data (HAProxy's lb_* flags): the glue refuses a
 * policy where the table says it has no meaning, and supplies only the
 * inputs it asks for, so that a new policy is a file and a table row.
 */

/* where a policy may choose (cflb_steer_ops_t.levels) */
#define CFLB_LEVEL_POOL      0x01   /* "steering": one of the pools */
#define CFLB_LEVEL_ENDPOINT  0x02   /* "endpoint_steering": an endpoint */

/* the proxy modes (cflb_steer_ops_t.modes and .counts) */
#define CFLB_MODE_L7         0x01   /* http: requests */
#define CFLB_MODE_L4         0x02   /* stream: TCP and UDP sessions */
#define CFLB_MODE_DNS        0x04   /* DNS-only answers */
#define CFLB_MODE_ALL        0x07

/* inputs an algorithm reads from cflb_pick_t, supplied by the glue */
#define CFLB_NEED_KEY        0x01   /* pk->key */
#define CFLB_NEED_LOAD       0x02   /* pk->load(), in the modes of .counts */
#define CFLB_NEED_LOCATION   0x04   /* pk->where: the client's location */
#define CFLB_NEED_COORDS     0x08   /* every member has .where */
#define CFLB_NEED_RTT        0x10   /* pk->rtt() */
#define CFLB_NEED_MAPS       0x20   /* the glue picks the member list by
                                       location (region, country, PoP) */


typedef struct {
    cflb_str_t        name;         /* identity: hash ring points derive
                                       from it, never from the position */
    uint32_t          weight;       /* 0..CFLB_WEIGHT_SCALE, 0 = never */
    const cflb_geo_vec_t  *where;   /* its place (proximity), or NULL */
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
    /* round trip of member i in usec, 0: none known (CFLB_NEED_RTT) */
    uint64_t        (*rtt)(void *ctx, unsigned i);
    const cflb_geo_vec_t  *where;   /* the client, or NULL: unknown */
    void             *ctx;
    uint64_t          key;          /* CFLB_NEED_KEY: already hashed */
    cflb_rng_t       *rng;
} cflb_pick_t;


struct cflb_steer_ops_s {
    const char       *name;         /* the configuration keyword */
    unsigned          levels;       /* CFLB_LEVEL_* */
    unsigned          modes;        /* CFLB_MODE_* it may be used in */
    unsigned          counts;       /* CFLB_MODE_* that have its load: in
                                       the others the load is 0, so the
                                       policy is weighted random there */
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

/*
 * cflb_steer_policy_at() is cflb_steer_policy() for a use: the policy,
 * CFLB_ERROR for an unknown keyword, or CFLB_DECLINED for a policy that
 * cannot choose at level (CFLB_LEVEL_*) or in mode (CFLB_MODE_*).
 */
int cflb_steer_policy_at(const unsigned char *s, size_t len,
    unsigned level, unsigned mode);

/* the ops of a policy; never NULL for a valid policy */
const cflb_steer_ops_t *cflb_steer_ops(cflb_policy_e policy);

/*
 * cflb_steer_names() writes "a, b or c": the policies usable at level in
 * mode, for an error message, into buf (NUL-terminated, cut to size).
 */
void cflb_steer_names(char *buf, size_t size, unsigned level,
    unsigned mode);

/*
 * cflb_steer_load() tells whether the policy reads a real load in mode:
 * it needs one and the mode has it.  Where it does not, the glue passes
 * no load() and the draw is by weight alone.
 */
int cflb_steer_load(cflb_policy_e policy, unsigned mode);

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


/*
 * cflb_shed() decides whether load shedding (§9) turns one request away
 * from a pool that sheds percent (1..100) of its traffic.  A request of a
 * session is decided by the session's hash, so that a shed session stays
 * shed on every node; other traffic by the hash of the client key (the
 * "hash" default_policy, key not NULL) or at random.  pool, the pool's
 * identity, salts the hashes so that each pool sheds its own share.
 * Returns 1 to shed, 0 to keep.
 */
int cflb_shed(unsigned percent, uint64_t session, const uint64_t *key,
    uint64_t pool, cflb_rng_t *rng);


/*
 * cflb_dynamic_rtt() folds a probe's round trip (usec) into its pool's,
 * the one dynamic_latency steers by: a moving average that goes about
 * half way to a new round trip in one probe interval, whatever n, the
 * number of the pool's endpoints a monitor probes (each once per
 * interval).  0 is "no data": the first sample is taken as it is, and
 * the result is never 0 afterwards.
 */
uint32_t cflb_dynamic_rtt(uint32_t avg, uint32_t sample, unsigned n);


/* the per-request entry point: inline so the dispatch costs one call */
static inline int
cflb_set_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    return set->ops->pick(set, pk);
}


#endif /* _CFLB_STEER_H_INCLUDED_ */
