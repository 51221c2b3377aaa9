
/*
 * The decision engine: which pool and endpoint serve one request (http),
 * one session (stream) or one query (DNS-only), apart from any
 * connection.  Deciding reads a view of the load balancer and the
 * request's inputs, and leaves what $cflb_trace needs; committing the
 * choice (counters, the tried bitmap) is a second step that only callers
 * that send traffic take.
 */

#ifndef _NGX_CFLB_DECIDE_H_INCLUDED_
#define _NGX_CFLB_DECIDE_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_zone.h"


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


/*
 * One decision's state: set up by the caller (zeroed, then view, mode,
 * client, tried and sess), read and updated by each ngx_cflb_decide().
 */
typedef struct {
    ngx_cflb_view_t          *view;
    ngx_cflb_lb_pool_t       *entry;         /* the pool picked from */
    ngx_cflb_endpoint_t      *last;          /* the latest choice */
    struct sockaddr          *client;        /* for hash steering */
    uint64_t                  key;           /* its hash, once needed */
    uint64_t                  exhausted;     /* entries, bitmap */
    uintptr_t                *tried;         /* peers, bitmap */
    ngx_cflb_sess_t          *sess;          /* affinity, shedding */
    ngx_uint_t                mode;          /* CFLB_MODE_* */

    unsigned                  key_set:1;
    unsigned                  retry:1;       /* decided before */
    unsigned                  fallback:1;    /* in the fallback pool */
    unsigned                  ip_pick:1;     /* steer by client address */
    unsigned                  new_session:1; /* the response makes one */
    unsigned                  trace:1;       /* sess is a trace's */
    unsigned                  no_retry:1;    /* the choice fails as is */
} ngx_cflb_decision_t;


#define ngx_cflb_tried(d, n)                                                  \
    ((d)->tried[(n) / (8 * sizeof(uintptr_t))]                                \
     & ((uintptr_t) 1 << (n) % (8 * sizeof(uintptr_t))))

#define ngx_cflb_set_tried(d, n)                                              \
    (d)->tried[(n) / (8 * sizeof(uintptr_t))]                                 \
        |= (uintptr_t) 1 << (n) % (8 * sizeof(uintptr_t))

/* the peer index of ep, an endpoint of d->entry */
#define ngx_cflb_peer_index(d, ep)                                            \
    ((d)->entry->base                                                         \
     + ((ep) - (ngx_cflb_endpoint_t *) (ep)->pool->endpoints.elts))


/*
 * ngx_cflb_decide() makes the next choice of d: the session's endpoint,
 * or steering's (the fallback pool when no pool can serve); after a
 * choice, the retry of zero-downtime failover.  Returns the endpoint and
 * sets d->entry, or NULL: nothing may serve.  Touches no counter and no
 * connection.
 */
ngx_cflb_endpoint_t *ngx_cflb_decide(ngx_cflb_decision_t *d, ngx_log_t *log);

/*
 * ngx_cflb_decide_next() is another endpoint of d->entry that d has not
 * tried (a DNS answer marks each address it takes as tried), or NULL.
 */
ngx_cflb_endpoint_t *ngx_cflb_decide_next(ngx_cflb_decision_t *d);

/*
 * ngx_cflb_commit() sends traffic to ep, d's choice: marks it tried and
 * counts the attempt (in flight, requests, failovers after the first);
 * returns ep's peer index.  ngx_cflb_release() ends the attempt: in
 * flight given back, bytes and a failure counted.
 */
ngx_uint_t ngx_cflb_commit(ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep,
    ngx_uint_t failover);
void ngx_cflb_release(ngx_cflb_endpoint_t *ep, ngx_uint_t failed,
    off_t sent, off_t received);

/* the hash steering key: the client address, without its port */
uint64_t ngx_cflb_client_key(struct sockaddr *sa);


/*
 * ngx_cflb_affinity_resume() honours the request's token (the __cflb
 * cookie value) or header session key, if valid and its endpoint may
 * still serve: sets d->sess->pinned and d->entry.  Either may be NULL.
 * Otherwise the request starts a new session (d->new_session).
 */
void ngx_cflb_affinity_resume(ngx_cflb_decision_t *d, ngx_str_t *token,
    uint64_t *hkey, ngx_log_t *log);

/*
 * ngx_cflb_affinity_commit() makes the new session of d once its
 * endpoint answered: writes the token to out (CFLB_TOKEN_LEN bytes) and
 * returns NGX_OK, or stores the header session (hkey) and returns
 * NGX_DECLINED; NGX_ERROR on failure.
 */
ngx_int_t ngx_cflb_affinity_commit(ngx_cflb_decision_t *d, uint64_t *hkey,
    u_char *out);

/*
 * The zone's part of affinity, the random token key made with the zone
 * and the header session table (made when first needed: NGX_ERROR if the
 * zone has no room); each worker's part, the token MAC and the cache of
 * verified tokens.
 */
void ngx_cflb_affinity_init_zone(ngx_cflb_sh_t *sh);
ngx_int_t ngx_cflb_affinity_sessions(ngx_cflb_conf_t *ccf, ngx_log_t *log);
ngx_int_t ngx_cflb_affinity_init_worker(ngx_cflb_conf_t *ccf,
    ngx_log_t *log);
void ngx_cflb_affinity_exit_worker(ngx_cflb_conf_t *ccf);

/* may ep, a session's endpoint, still serve under the view's drain */
ngx_uint_t ngx_cflb_affinity_usable(ngx_cflb_view_t *view,
    ngx_cflb_endpoint_t *ep);


#endif /* _NGX_CFLB_DECIDE_H_INCLUDED_ */
