
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


#include "ngx_cflb_decision.h"
#include "ngx_cflb_pool.h"


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
 * Passive health: a failed attempt on ep, whose max_fails is set, is
 * counted; at max_fails in a row the endpoint leaves steering for
 * fail_timeout, and any failure after that renews it until an attempt
 * goes well (nginx's max_fails and fail_timeout).
 */
void ngx_cflb_passive_failed(ngx_cflb_endpoint_t *ep);


/*
 * ngx_cflb_commit() sends traffic to ep, d's choice: marks it tried and
 * counts the attempt (in flight, requests, failovers after the first);
 * returns ep's peer index.  ngx_cflb_release() ends the attempt: in
 * flight given back, bytes and a failure counted.  Inline: they are a
 * few atomic adds on every request.
 */

static ngx_inline ngx_uint_t
ngx_cflb_commit(ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep,
    ngx_uint_t failover)
{
    ngx_uint_t               peer;
    ngx_cflb_sh_endpoint_t  *she;

    peer = ngx_cflb_peer_index(d, ep);
    ngx_cflb_set_tried(d, peer);

    she = ep->sh;

    ngx_cflb_count(ep, 1);
    (void) ngx_atomic_fetch_add(&she->c.requests, 1);
    (void) ngx_atomic_fetch_add(&she->pool->c.requests, 1);

    if (failover) {
        /* counted where the request went on to, as "requests" is */
        (void) ngx_atomic_fetch_add(&she->c.failovers, 1);
        (void) ngx_atomic_fetch_add(&she->pool->c.failovers, 1);
    }

    return peer;
}


static ngx_inline void
ngx_cflb_release(ngx_cflb_endpoint_t *ep, ngx_uint_t failed, off_t sent,
    off_t received)
{
    ngx_cflb_sh_endpoint_t  *she;

    she = ep->sh;

    /* a pool's bytes are its endpoints': summed when shown */
    if (sent | received) {
        (void) ngx_atomic_fetch_add(&she->c.sent, sent);
        (void) ngx_atomic_fetch_add(&she->c.received, received);
    }

    ngx_cflb_count(ep, -1);

    if (failed) {
        (void) ngx_atomic_fetch_add(&she->c.fails, 1);
        (void) ngx_atomic_fetch_add(&she->pool->c.fails, 1);

        if (ep->max_fails) {
            ngx_cflb_passive_failed(ep);
        }

    } else if (ep->max_fails && she->pf_fails) {
        /* passive health: an attempt that went well ends the count */
        she->pf_fails = 0;
    }
}


/*
 * Could a retry of d's choice find another endpoint: not when the choice
 * may not move, nor when nothing else in its pool is ready and the retry
 * may not leave the pool.  Then the first attempt is the only one, as
 * nginx does with a one-server upstream: its own response, or nginx's
 * status for its failure, goes to the client.
 */

static ngx_inline ngx_uint_t
ngx_cflb_retryable(ngx_cflb_decision_t *d)
{
    if (d->no_retry) {
        return 0;
    }

    if (d->view->affinity->across_pools && !d->fallback) {
        return 1;
    }

    return (d->fallback ? d->entry->pool->nusable
                        : ngx_cflb_pool_ready(d->entry->pool)) > 1;
}


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

/* each worker's part of affinity: the token MAC, verified tokens */
ngx_int_t ngx_cflb_affinity_init_worker(ngx_cflb_conf_t *ccf,
    ngx_log_t *log);
void ngx_cflb_affinity_exit_worker(ngx_cflb_conf_t *ccf);



#endif /* _NGX_CFLB_DECIDE_H_INCLUDED_ */
