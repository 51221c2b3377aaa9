
/*
 * The records of the cflb shared-memory zone: one per pool and per
 * endpoint, found by name, so that "nginx -s reload" keeps counters,
 * health and runtime overrides of the objects that stay; worker slots, so
 * that a worker that dies leaves no in-flight count behind; the header
 * session table.  Types, and the in-flight count every attempt makes.
 */

#ifndef _NGX_CFLB_SHM_H_INCLUDED_
#define _NGX_CFLB_SHM_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "cflb_override.h"
#include "cflb_session.h"
#include "cflb_quorum.h"


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


/* shared state of a pool: in the zone, found by the pool name */
struct ngx_cflb_sh_pool_s {
    ngx_str_node_t            sn;
    ngx_cflb_counters_t       c;
    ngx_queue_t               queue;
    ngx_uint_t                generation;    /* last config that used it */
    ngx_uint_t                refs;          /* endpoint records */
    ngx_uint_t                health;        /* cflb_pool_health_e + 1 */
    uint32_t                  rtt;           /* usec, moving average */

    /* runtime override (ngx_cflb_runtime.c), under the mutex */
    cflb_override_t           rt_enabled;
};


/*
 * Shared state of an endpoint, found by pool name, endpoint name and
 * address, so that a reload keeps it and a changed address starts fresh.
 */
struct ngx_cflb_sh_endpoint_s {
    ngx_str_node_t            sn;
    ngx_cflb_counters_t       c;
    ngx_cflb_sh_pool_t       *pool;
    ngx_queue_t               queue;
    ngx_uint_t                generation;

    /* health: owner is claimed atomically, the rest under the mutex */
    ngx_atomic_t              owner;         /* pid probing it, or 0 */
    ngx_msec_t                claimed;       /* when owner took it */
    ngx_msec_t                next_check;    /* monotonic msec */
    time_t                    last_check;    /* wall clock, 0: never */
    time_t                    since;         /* of the health state */
    ngx_pid_t                 prober;        /* who probed last */
    cflb_health_t             health;
    uint32_t                  rtt;           /* usec, moving average */
    uint16_t                  reason;        /* cflb_reason_e */
    uint16_t                  code;          /* last HTTP status */
    ngx_atomic_t              probes;        /* total */

    time_t                    disabled_at;   /* 0: enabled; drain start */

    /* passive health: failed attempts in a row, and out of steering until */
    ngx_atomic_t              pf_fails;
    time_t                    pf_until;      /* sec, 0: never */

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

    /* each worker's share of "active", by slot */
    uint32_t                  slot_active[NGX_CFLB_SLOTS];
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


typedef struct {
    ngx_pid_t                 pid;
    ngx_uint_t                generation;
} ngx_cflb_slot_t;


/* shpool->data */
struct ngx_cflb_sh_s {
    ngx_uint_t                magic;
    ngx_uint_t                layout;
    ngx_uint_t                generation;    /* bumped by every (re)load */
    ngx_rbtree_t              pool_tree;
    ngx_rbtree_node_t         pool_sentinel;
    ngx_rbtree_t              endpoint_tree;
    ngx_rbtree_node_t         endpoint_sentinel;
    ngx_queue_t               pools;         /* ngx_cflb_sh_pool_t */
    ngx_queue_t               endpoints;     /* ngx_cflb_sh_endpoint_t */
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

    /* session affinity: the key made with the zone, header sessions */
    u_char                    key[32];
    cflb_sessions_t          *sessions;      /* made when first needed */

    /* DNS-only counters (ngx_cflb_dns_zone.c), made when first needed */
    ngx_cflb_sh_dns_t        *dns;

    /* cflb_cluster: the etcd connection's state, node names */
    ngx_cflb_sh_cluster_t    *cluster;       /* made when first needed */
};


/*
 * In-flight counts, into the shared totals of the endpoint and its pool
 * and this worker's own slot: n is 1 when an attempt starts, -1 when it
 * ends.  No lock: atomics, and a slot only its worker writes.
 */
static ngx_inline void
ngx_cflb_count(ngx_cflb_conf_t *ccf, ngx_cflb_sh_endpoint_t *she,
    ngx_atomic_int_t n)
{
    (void) ngx_atomic_fetch_add(&she->c.active, n);
    (void) ngx_atomic_fetch_add(&she->pool->c.active, n);

    if (ccf->slot < NGX_CFLB_SLOTS) {
        she->slot_active[ccf->slot] += n;
    }
}


#endif /* _NGX_CFLB_SHM_H_INCLUDED_ */
