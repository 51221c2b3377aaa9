
/*
 * The state of one decision: what the decision engine (ngx_cflb_decide.c)
 * reads and leaves for one request, stream session or DNS query, and
 * what its callers, affinity and the trace read of it.  Types only.
 */

#ifndef _NGX_CFLB_DECISION_H_INCLUDED_
#define _NGX_CFLB_DECISION_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"


/*
 * The affinity and shedding state of a request, made only for load
 * balancers that use them, or as the head of a trace record when the
 * configuration uses $cflb_trace: the decision of every other request
 * stays small (it shares a 256-byte pool block at layer 4).
 */
typedef struct {
    ngx_cflb_endpoint_t      *pinned;        /* the session's, may serve */
    uint64_t                  session;       /* its hash, for shedding */
    uint64_t                  shed;          /* entries shed, bitmap */
    uint64_t                  shed_known;    /* entries decided, bitmap */
    cflb_rng_t                ip_rng;        /* ip_cookie's first pick */
} ngx_cflb_sess_t;


/* where the client of a decision is, found once it is needed */
typedef struct {
    cflb_location_t           location;
    cflb_geo_vec_t            where;         /* if location has coords,
                                                once asked for */
    unsigned                  pop:1;         /* it is this node's */
    unsigned                  subnet:1;      /* it is a DNS query's ECS */
    unsigned                  vec:1;         /* "where" is made */
} ngx_cflb_place_t;

/* how geo steering found its pool list ($cflb_trace) */
enum {
    NGX_CFLB_GEO_POOLS = 0,        /* no map: the pools */
    NGX_CFLB_GEO_POP,
    NGX_CFLB_GEO_COUNTRY,
    NGX_CFLB_GEO_REGION
};


/*
 * One decision's state: set up by the caller (zeroed, then view, mode,
 * client, pool, tried and sess), read and updated by each
 * ngx_cflb_decide().
 */
typedef struct {
    ngx_cflb_view_t          *view;
    ngx_cflb_pools_t         *list;          /* the pools picked from */
    ngx_cflb_lb_pool_t       *entry;         /* the pool picked from */
    ngx_cflb_endpoint_t      *last;          /* the latest choice */
    ngx_str_t                *addr;          /* its address connected
                                                to, or NULL: last->addr */
    struct sockaddr          *client;        /* for hash steering */
    uint64_t                  key;           /* its hash, once needed */
    uint64_t                  exhausted;     /* entries, bitmap */
    uintptr_t                *tried;         /* peers: a bitmap, or
                                                with tried_one the last
                                                one tried + 1 */
    ngx_cflb_sess_t          *sess;          /* affinity, shedding */
    ngx_pool_t               *pool;          /* of the request, session */

    /* an input of one mode only: read it through ngx_cflb_cpool() etc. */
    union {
        ngx_pool_t           *cpool;         /* L7: the connection's pool,
                                                keeps the client's place
                                                for its next requests */
        struct sockaddr      *subnet;        /* DNS: the ECS address */
    } in;

    ngx_cflb_place_t         *place;         /* NULL until located */

    /*
     * The rest is bit-fields: a stream session's peer data must stay
     * within 128 bytes, or the proxy's next allocations take one more
     * 256-byte pool block (docs/performance.md, Targets).
     */
    unsigned                  mode:3;        /* CFLB_MODE_* */
    unsigned                  geo:2;         /* NGX_CFLB_GEO_* */
    unsigned                  key_set:1;
    unsigned                  retry:1;       /* decided before */
    unsigned                  fallback:1;    /* in the fallback pool */
    unsigned                  ip_pick:1;     /* steer by client address */
    unsigned                  new_session:1; /* the response makes one */
    unsigned                  trace:1;       /* sess is a trace's */
    unsigned                  no_retry:1;    /* the choice fails as is */
    unsigned                  located:1;     /* place is final */
    unsigned                  tried_one:1;   /* see tried */
    unsigned                  committed:1;   /* last is counted in, its
                                                release is due */
} ngx_cflb_decision_t;


/*
 * Tried peers.  A load balancer with more peers than a word has bits
 * keeps only the last one tried (tried_one): a request or session tries
 * twice at most (pc->tries), so the retry needs only the first one, and
 * a bitmap of npeers bits from the request pool would tip requests of
 * large pools into another pool block (issue 15).  DNS answers, which
 * take many addresses, bring a bitmap of their own.
 */
#define ngx_cflb_tried(d, n)                                                  \
    ((d)->tried_one                                                           \
     ? *(d)->tried == (uintptr_t) (n) + 1                                     \
     : ((d)->tried[(n) / (8 * sizeof(uintptr_t))]                             \
        & ((uintptr_t) 1 << (n) % (8 * sizeof(uintptr_t)))) != 0)

#define ngx_cflb_set_tried(d, n)                                              \
    ((d)->tried_one                                                           \
     ? (void) (*(d)->tried = (uintptr_t) (n) + 1)                             \
     : (void) ((d)->tried[(n) / (8 * sizeof(uintptr_t))]                     \
               |= (uintptr_t) 1 << (n) % (8 * sizeof(uintptr_t))))

/* the mode's own inputs, NULL in the other modes */
#define ngx_cflb_cpool(d)                                                     \
    ((d)->mode == CFLB_MODE_L7 ? (d)->in.cpool : NULL)
#define ngx_cflb_subnet(d)                                                    \
    ((d)->mode == CFLB_MODE_DNS ? (d)->in.subnet : NULL)

/* the peer index of ep, an endpoint of d->entry */
#define ngx_cflb_peer_index(d, ep)                                            \
    ((d)->entry->base                                                         \
     + ((ep) - (ngx_cflb_endpoint_t *) (ep)->pool->endpoints.elts))


#endif /* _NGX_CFLB_DECISION_H_INCLUDED_ */
