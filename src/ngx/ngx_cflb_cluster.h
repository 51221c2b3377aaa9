
/*
 * cflb_cluster: a fleet of nodes sharing runtime changes and health
 * verdicts through etcd (docs/fleet.md).  Three files, each calling only
 * the ones after it:
 *
 *     ngx_cflb_cluster_link.c    a worker's part: the one per node and
 *                                zone that talks to etcd (watch, reads,
 *                                the lease, this node's votes)
 *     ngx_cflb_cluster_apply.c   what etcd's keys do to this node's
 *                                objects; a write the runtime API asks
 *     ngx_cflb_cluster.c         the directive, the zone's record, status
 */

#ifndef _NGX_CFLB_CLUSTER_H_INCLUDED_
#define _NGX_CFLB_CLUSTER_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_etcd.h"


/* the etcd connection of a zone, as the status document names it */
typedef enum {
    NGX_CFLB_ETCD_IDLE = 0,        /* no worker has started it yet */
    NGX_CFLB_ETCD_CONNECTING,
    NGX_CFLB_ETCD_CONNECTED,       /* watching */
    NGX_CFLB_ETCD_RECONNECTING,    /* lost one member, trying the next */
    NGX_CFLB_ETCD_UNREACHABLE      /* every member failed: backing off */
} ngx_cflb_etcd_state_e;


#define NGX_CFLB_CLUSTER_ERR   192    /* the longest error kept */
#define NGX_CFLB_CLUSTER_KEY   2048   /* the longest key read */
#define NGX_CFLB_CLUSTER_VALUE 2048   /* the longest value read */


/* cflb_cluster, as configured */
struct ngx_cflb_cluster_s {
    ngx_array_t               members;       /* ngx_cflb_etcd_member_t */
    ngx_str_t                 prefix;        /* as configured */
    ngx_str_t                 base;          /* prefix/ + "http/", ... */
    ngx_str_t                 base64;        /* the watch: base, base64 */
    ngx_str_t                 end64;         /* the end of its range */
    ngx_str_t                 node;
    ngx_msec_t                ttl;           /* of the votes' lease */
    ngx_msec_t                timeout;       /* of one request */
    ngx_uint_t                quorum;        /* some pool counts votes */
    ngx_cflb_conf_t          *ccf;
    void                     *link;          /* this worker's part */
};


/* does the pool count the fleet's votes ("quorum majority") */
#define ngx_cflb_cluster_counts(pool)                                         \
    ((pool)->monitor                                                          \
     && (pool)->monitor->quorum == NGX_CFLB_QUORUM_MAJORITY)


/* the zone's record of the fleet, under the zone mutex but "owner" */
struct ngx_cflb_sh_cluster_s {
    ngx_atomic_t              owner;         /* the worker talking to etcd */
    ngx_uint_t                owner_gen;     /* its configuration's */
    int64_t                   applied;       /* the last revision applied */
    ngx_uint_t                synced;        /* generation read whole */
    ngx_uint_t                resync;        /* a whole read is due */
    int64_t                   lease;         /* this node's votes', or 0 */
    ngx_uint_t                state;         /* ngx_cflb_etcd_state_e */
    ngx_uint_t                member;        /* in use, or tried last */
    time_t                    since;         /* of the state */
    size_t                    error_len;
    u_char                    error[NGX_CFLB_CLUSTER_ERR];  /* the last */
    cflb_nodes_t              nodes;         /* the peers that vote */
};


/* cflb_cluster etcd=URL[,URL...] [prefix=/P/] [node=NAME] [ttl=] [timeout=] */
char *ngx_cflb_cluster_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Postconfiguration: a monitor with "quorum majority" needs cflb_cluster
 * in the same block.  NGX_OK or NGX_ERROR (logged).
 */
ngx_int_t ngx_cflb_cluster_check(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/* at zone init, with the mutex held: the zone's record made if needed */
ngx_int_t ngx_cflb_cluster_init_zone(ngx_cflb_conf_t *ccf, ngx_log_t *log);

/* a worker's part: its timer (claims the connection) and its end */
ngx_int_t ngx_cflb_cluster_init_worker(ngx_cycle_t *cycle,
    ngx_cflb_conf_t *ccf);
void ngx_cflb_cluster_exit_worker(ngx_cflb_conf_t *ccf);


/*
 * The end of a write: rc NGX_OK once etcd took it and this node applied
 * it, or NGX_ERROR with why in err[0..len).
 */
typedef void (*ngx_cflb_cluster_done_pt)(void *data, ngx_int_t rc,
    u_char *err, size_t len);

/*
 * ngx_cflb_cluster_write() writes ch of the pool (ep NULL) or endpoint to
 * etcd, trying each member once, and waits until this node's watch has
 * applied it (at most a second: then it is applied here directly, and a
 * whole read of the zone's keys is asked for).  done() is called once,
 * never from within this call.  Memory from pool, which must outlive
 * done(); NGX_ERROR only when out of memory (done() is then not called).
 */
ngx_int_t ngx_cflb_cluster_write(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch, ngx_pool_t *p,
    ngx_log_t *log, ngx_cflb_cluster_done_pt done, void *data);


/*
 * The status document: the zone's "cluster" object, and an endpoint's
 * "quorum" (after another member, each starting with a comma).
 */
size_t ngx_cflb_cluster_status_size(ngx_cflb_conf_t *ccf);
u_char *ngx_cflb_cluster_status(u_char *p, ngx_cflb_conf_t *ccf);
u_char *ngx_cflb_cluster_votes(u_char *p, ngx_cflb_endpoint_t *ep);

/* a node name: 1 to CFLB_NODE_NAME letters, digits, ".", "_" or "-" */
ngx_uint_t ngx_cflb_cluster_node_ok(u_char *name, size_t len);


/* ------------------- between the cluster files (ngx_cflb_cluster_apply.c) */

/* a key-value of the zone's range, as this node's objects */
typedef struct {
    cflb_etcd_key_t           k;
    cflb_etcd_value_t         v;
    ngx_cflb_pool_t          *pool;
    ngx_cflb_endpoint_t      *ep;            /* NULL: the pool's own */
    ngx_uint_t                pi;            /* the pool's index */
    size_t                    klen;          /* of key, 0: not decoded */
    u_char                    key[NGX_CFLB_CLUSTER_KEY + 4];
    u_char                    names[NGX_CFLB_CLUSTER_KEY + 4];
    u_char                    value[NGX_CFLB_CLUSTER_VALUE + 4];
} ngx_cflb_cluster_kv_t;

/*
 * ngx_cflb_cluster_kv() reads a key-value of the zone's range into x: key
 * and value decoded and parsed (x->key and x->klen as soon as the key is
 * one of the zone's), pool and endpoint found.  NGX_DECLINED for what is
 * not for this node: another layout, an object it does not have, its own
 * vote, a vote on a pool that does not count them, an invalid value
 * (logged).
 */
ngx_int_t ngx_cflb_cluster_kv(ngx_cflb_conf_t *ccf, const cflb_etcd_kv_t *kv,
    ngx_cflb_cluster_kv_t *x, ngx_log_t *log);

/*
 * The value an override key (x, read by ngx_cflb_cluster_kv()) asks of
 * this node, or -1 for none: made over another configured value than
 * this node's (logged).
 */
ngx_int_t ngx_cflb_cluster_want(ngx_cflb_cluster_kv_t *x, ngx_log_t *log);

/*
 * ngx_cflb_cluster_set() applies one field as the runtime API does,
 * through ngx_cflb_runtime_set(): want, or with -1 the configured value
 * (no override).  A drain starts at "at" (Unix seconds) when that is
 * earlier than now.
 */
void ngx_cflb_cluster_set(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_etcd_field_e field, ngx_int_t want,
    time_t at);

/*
 * A peer's index in the zone's node table: found, or with add given one;
 * -1 when the name is invalid or the table full (logged).  Takes the
 * zone mutex.
 */
ngx_int_t ngx_cflb_cluster_node(ngx_cflb_conf_t *ccf, cflb_str_t *name,
    ngx_uint_t add, ngx_log_t *log);

/* the zone applied every change up to revision; takes the mutex */
void ngx_cflb_cluster_applied(ngx_cflb_conf_t *ccf, int64_t revision);

/*
 * ngx_cflb_cluster_put() writes one put of a transaction,
 * {"request_put":{"key","value"[,"lease"]}}, for the key of kind and
 * field of pool or endpoint (or this node's vote on it) and the value
 * value[0..len); p needs ngx_cflb_cluster_put_size() bytes for a value
 * of at most that length.  Returns the end of what it wrote.
 */
u_char *ngx_cflb_cluster_put(u_char *p, ngx_cflb_cluster_t *cl,
    ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep, cflb_etcd_kind_e kind,
    cflb_etcd_field_e field, u_char *value, size_t len, int64_t lease);
size_t ngx_cflb_cluster_put_size(ngx_cflb_cluster_t *cl,
    ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep, size_t value);


#endif /* _NGX_CFLB_CLUSTER_H_INCLUDED_ */
