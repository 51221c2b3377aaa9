
/*
 * The records of the cflb shared-memory zone: one per pool and per
 * endpoint, found by name, so that "nginx -s reload" keeps counters,
 * health and runtime overrides of the objects that stay; the tables of
 * each configuration that workers run (its endpoints by index, its
 * least-load trees), so that a worker that dies leaves no in-flight
 * count behind; worker slots; the header session table.  Types, and the
 * in-flight count every attempt makes.
 */

#ifndef _NGX_CFLB_SHM_H_INCLUDED_
#define _NGX_CFLB_SHM_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "cflb_override.h"
#include "cflb_session.h"
#include "cflb_quorum.h"
#include "cflb_least_tree.h"
#include "cflb_claim.h"


/*
 * Worker slots per zone.  Each worker owns one while it lives and counts
 * its own share of every in-flight counter there, so that a replacement
 * for a crashed worker can take back what the dead one left behind.  Two
 * generations of workers live side by side during a reload.
 */
#define NGX_CFLB_SLOTS         64

#define NGX_CFLB_ZONE_MAGIC    0x62666c63      /* "cflb" */
#define NGX_CFLB_ZONE_LAYOUT   10

/* room for why the last write of the state file failed */
#define NGX_CFLB_STATE_ERR     256


/*
 * Counters of one endpoint or pool, kept in the zone.  "active" counts
 * requests in flight at layer 7 and open sessions at layer 4: nginx sends
 * one request at a time over an upstream connection, so in-flight
 * requests and connections in use are the same number there.  All but
 * "active" only grow; they share the cache line get and free touch.
 */
typedef struct {
    ngx_atomic_t              active;
    ngx_atomic_t              requests;      /* total attempts */
    ngx_atomic_t              fails;         /* total failed attempts */
    ngx_atomic_t              failovers;     /* attempts after the first */
    ngx_atomic_t              sent;          /* bytes to the endpoint */
    ngx_atomic_t              received;      /* bytes from the endpoint */
    ngx_atomic_t              sessions;      /* affinity sessions made */
} ngx_cflb_counters_t;


/*
 * Shared state of a pool: in the zone, found by the pool name in a hash
 * table whose chains link the records.  "changes" moves, under the zone
 * mutex, whenever something the least-load trees fold into their words
 * changes for the pool or one of its endpoints (health, runtime
 * overrides, passive health), so that every worker brings its trees up
 * to date (ngx_cflb_trees.c).
 */
struct ngx_cflb_sh_pool_s {
    ngx_cflb_sh_pool_t       *next;          /* in its hash chain */
    uint32_t                  hash;
    uint32_t                  refs;          /* endpoint records */
    uint32_t                  generation;    /* last config that used it */
    ngx_cflb_counters_t       c;
    ngx_uint_t                changes;       /* under the mutex */
    time_t                    wake;          /* a passive fail_timeout
                                                ends, sec; 0: none */
    ngx_uint_t                health;        /* cflb_pool_health_e + 1 */
    uint32_t                  rtt;           /* usec, moving average */

    /* runtime override (ngx_cflb_runtime.c), under the mutex */
    cflb_override_t           rt_enabled;

    uint32_t                  len;
    u_char                    name[1];
};


/*
 * Shared state of an endpoint, found by pool, endpoint name and address,
 * so that a reload keeps it and a changed address starts fresh.  The key
 * is the pool record, then the name and the address after the record.
 */
struct ngx_cflb_sh_endpoint_s {
    ngx_cflb_sh_endpoint_t   *next;          /* in its hash chain */
    uint32_t                  hash;
    uint32_t                  generation;    /* last config that used it */
    ngx_cflb_sh_pool_t       *pool;
    ngx_cflb_counters_t       c;

    /* health: the check is claimed lock-free, the rest under the mutex */
    cflb_claim_t              check;         /* who probes it, when next */
    time_t                    last_check;    /* wall clock, 0: never */
    time_t                    since;         /* of the health state */
    ngx_atomic_t              probes;        /* total */

    time_t                    disabled_at;   /* 0: enabled; drain start */

    /* passive health: failed attempts in a row, and out of steering until */
    ngx_atomic_t              pf_fails;
    time_t                    pf_until;      /* sec, 0: never */

    cflb_health_t             health;
    ngx_pid_t                 prober;        /* who probed last */
    uint32_t                  rtt;           /* usec, moving average */
    uint16_t                  reason;        /* cflb_reason_e */
    uint16_t                  code;          /* last HTTP status */

    /* runtime overrides (ngx_cflb_runtime.c), under the mutex */
    cflb_override_t           rt_enabled;
    cflb_override_t           rt_weight;

    /*
     * health quorum ("quorum majority", ngx_cflb_health.c), under the
     * mutex: "health" above is then the fleet's verdict, "local" this
     * node's own, "votes" the live peers' (ngx_cflb_cluster.c)
     */
    cflb_health_t             local;
    cflb_votes_t              votes;

    /* its slot in the newest tree of its pool (ngx_cflb_trees.c) */
    uint32_t                  tree_id;
    uint32_t                  slot;

    /*
     * The key after the pool record: name, then address.  The record is
     * 220 bytes before it on 64-bit platforms (192 without the fleet's
     * quorum fields), so that with the names of most configurations (up
     * to 36 bytes for the two) it takes a 256-byte slab slot
     * (docs/directives.md, cflb_zone).
     */
    uint16_t                  name_len;
    uint16_t                  addr_len;
    u_char                    key[1];
};


/*
 * A least-load tree in the zone (cflb_least_tree.c): the in-flight
 * counts of a pool's endpoints, or of a load balancer's pools, and the
 * partial sums a pick descends.  Its members are slots, not positions
 * in one configuration: a member keeps its slot over reloads (the
 * records say which, ngx_cflb_trees.c), so that every configuration in
 * the zone counts into the same tree and its counts stay exact; there is
 * room for more members than the configuration has.  The words (weight,
 * down) are set by the workers of one configuration, the owner: the
 * newest whose workers started.
 */
struct ngx_cflb_sh_tree_s {
    ngx_uint_t                refs;          /* configurations using it */
    ngx_uint_t                owner;         /* generation setting words */
    uint64_t                  key;           /* the pool or lb it is for */
    uint32_t                  id;            /* unique in the zone */
    uint32_t                  cap;           /* slots */
    uint64_t                  tree[1];       /* cflb_least_tree_t */
};

#define ngx_cflb_sh_least(st)  ((cflb_least_tree_t *) (st)->tree)


/* one place of a pool in a load balancer's pool tree */
struct ngx_cflb_sh_link_s {
    ngx_cflb_sh_tree_t       *st;
    uint32_t                  slot;          /* the pool's member there */
    uint32_t                  weight;        /* its random_steering one */
};


/* a pool of a configuration: its endpoints' indices and its trees */
typedef struct {
    ngx_cflb_sh_pool_t       *shp;
    ngx_cflb_sh_tree_t       *st;            /* its endpoints', or NULL */
    uint32_t                  first;
    uint32_t                  n;
    uint32_t                  link;          /* gen->links[link...] */
    uint32_t                  nlinks;
} ngx_cflb_sh_gpool_t;


/*
 * The tables of one configuration, made by the master at its load: what
 * its workers count into, described so that a worker of another
 * configuration can take back a dead worker's counts.  Kept while it is
 * one of the two newest or a worker slot names it.
 */
struct ngx_cflb_sh_gen_s {
    ngx_cflb_sh_gen_t        *next;          /* older */
    ngx_uint_t                generation;
    uint32_t                  npools;
    uint32_t                  nendpoints;
    uint32_t                  nlinks;
    uint32_t                  ntrees;
    ngx_cflb_sh_gpool_t      *pools;
    ngx_cflb_sh_endpoint_t  **endpoints;     /* by index */
    uint32_t                 *slots;         /* by index: in st's tree */
    ngx_cflb_sh_link_t       *links;
    ngx_cflb_sh_tree_t      **trees;
};


/*
 * Counters of a custom rule, found by load balancer and rule name, so
 * that a reload keeps them.
 */
typedef struct {
    ngx_str_node_t            sn;
    ngx_atomic_t              matches;
    ngx_atomic_t              fixed;         /* fixed responses sent */
    ngx_queue_t               queue;
    ngx_uint_t                generation;
} ngx_cflb_sh_rule_t;


/*
 * A worker's slot: its share of every endpoint's in-flight count, by
 * the endpoint's index in the configuration it runs.
 */
typedef struct {
    ngx_pid_t                 pid;
    ngx_uint_t                generation;
    ngx_cflb_sh_gen_t        *gen;
    uint32_t                 *active;        /* gen->nendpoints, or NULL */
} ngx_cflb_slot_t;


/* shpool->data */
struct ngx_cflb_sh_s {
    ngx_uint_t                magic;
    ngx_uint_t                layout;
    ngx_uint_t                generation;    /* bumped by every (re)load */
    ngx_cflb_sh_pool_t      **pool_hash;     /* chains, a power of 2 */
    ngx_uint_t                pool_mask;
    ngx_uint_t                npools;
    ngx_cflb_sh_endpoint_t  **endpoint_hash;
    ngx_uint_t                endpoint_mask;
    ngx_uint_t                nendpoints;
    ngx_cflb_sh_gen_t        *gens;          /* newest first */
    ngx_rbtree_t              rule_tree;
    ngx_rbtree_node_t         rule_sentinel;
    ngx_queue_t               rules;         /* ngx_cflb_sh_rule_t */
    ngx_cflb_slot_t           slots[NGX_CFLB_SLOTS];
    ngx_atomic_t              health_gen;    /* moves on a health change */
    ngx_atomic_t              runtime_gen;   /* moves on a runtime change */
    ngx_atomic_t              state_lock;    /* pid writing the state file */
    ngx_atomic_t              alert_seq;     /* the last alert's number */

    /* the state file's trouble (ngx_cflb_state.c), under the mutex */
    u_char                   *state_corrupt; /* slab: where it was moved */
    time_t                    state_failed;  /* of the last failed write */
    u_char                    state_error[NGX_CFLB_STATE_ERR];

    /* least-load trees: some pool's "changes" moved; the next wake */
    ngx_atomic_t              changes;
    time_t                    wake;
    uint32_t                  tree_ids;      /* the last tree id given */

    /* session affinity: the key made with the zone, header sessions */
    u_char                    key[32];
    cflb_sessions_t          *sessions;      /* made when first needed */

    /* DNS-only counters (ngx_cflb_dns_zone.c), made when first needed */
    ngx_cflb_sh_dns_t        *dns;

    /* cflb_cluster: the etcd connection's state, node names */
    ngx_cflb_sh_cluster_t    *cluster;       /* made when first needed */
};


/*
 * In-flight counts, into the shared totals of the endpoint and its pool,
 * the least-load trees that count them and this worker's own slot: n is
 * 1 when an attempt starts, -1 when it ends.  No lock: atomics, and a
 * slot only its worker writes.  The slot goes up last and down first, so
 * that a worker killed in between leaves its slot at or below what it
 * added elsewhere: recovery never takes back more than was counted.
 */
static ngx_inline void
ngx_cflb_count(ngx_cflb_endpoint_t *ep, ngx_atomic_int_t n)
{
    ngx_uint_t                i;
    ngx_cflb_conf_t          *ccf;
    ngx_cflb_pool_t          *pool;
    ngx_cflb_sh_endpoint_t   *she;

    pool = ep->pool;
    ccf = pool->conf;
    she = ep->sh;

    if (n < 0 && ccf->active) {
        ccf->active[ep->index] += n;
    }

    (void) ngx_atomic_fetch_add(&she->c.active, n);
    (void) ngx_atomic_fetch_add(&she->pool->c.active, n);

    if (pool->tree) {
        (void) cflb_least_tree_add(pool->tree, ep->slot, (int32_t) n);
    }

    for (i = 0; i < pool->nlinks; i++) {
        (void) cflb_least_tree_add(ngx_cflb_sh_least(pool->links[i].st),
                                   pool->links[i].slot, (int32_t) n);
    }

    if (n > 0 && ccf->active) {
        ccf->active[ep->index] += n;
    }
}


#endif /* _NGX_CFLB_SHM_H_INCLUDED_ */
