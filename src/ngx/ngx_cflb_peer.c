
/*
 * The upstream peer hooks of both subsystems, thin callers of the
 * decision engine: get decides and commits, free releases, and every
 * increment get makes has its decrement in free.  TLS sessions to the
 * endpoints are kept per peer, in each worker's memory.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_cflb_peer.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_trees.h"
#include "ngx_cflb_resolve.h"


#if (NGX_SSL)
static ngx_int_t ngx_cflb_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_cflb_save_session(ngx_peer_connection_t *pc, void *data);
#endif
static ngx_int_t ngx_cflb_peer_addr(ngx_cflb_peer_data_t *pd,
    ngx_peer_connection_t *pc, ngx_cflb_endpoint_t *ep);


ngx_int_t
ngx_cflb_init_peer(ngx_cflb_peer_data_t *pd, ngx_pool_t *pool,
    ngx_cflb_lb_t *lb, ngx_peer_connection_t *pc, struct sockaddr *client,
    struct sockaddr *local)
{
    ngx_cflb_decision_t  *d;

    ngx_cflb_runtime_sync(lb->conf);
    ngx_cflb_trees_check(lb->conf);

    d = &pd->d;
    d->view = &lb->view;
    d->mode = lb->conf->mode;
    d->client = client;
    d->pool = pool;

    if (local) {
        pd->local_port = ngx_inet_get_port(local);
    }

    /* a bitmap in one word, or the last peer tried (decision.h) */
    d->tried = &pd->tried;
    d->tried_one = (lb->npeers > 8 * sizeof(uintptr_t));

    if (lb->sess_size) {
        d->sess = ngx_pcalloc(pool, lb->sess_size);
        if (d->sess == NULL) {
            return NGX_ERROR;
        }

        d->trace = lb->conf->trace;
    }

    pc->get = ngx_cflb_get_peer;
    pc->free = ngx_cflb_free_peer;
    pc->data = pd;

    /* the first try and, failing that, zero-downtime failover's one retry */
    pc->tries = 2;

#if (NGX_SSL)
    pc->set_session = ngx_cflb_set_session;
    pc->save_session = ngx_cflb_save_session;
#endif

    return NGX_OK;
}


ngx_int_t
ngx_cflb_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_cflb_peer_data_t *pd = data;

    ngx_uint_t            failover;
    ngx_cflb_lb_t        *lb;
    ngx_cflb_endpoint_t  *ep;

    lb = pd->d.view->lb;
    failover = pd->d.retry;

    ngx_log_debug2(lb->conf->debug, pc->log, 0,
                   "cflb get peer, lb: \"%V\", try: %ui", &lb->name,
                   pc->tries);

    pc->cached = 0;
    pc->connection = NULL;

    ep = ngx_cflb_decide(&pd->d, pc->log);

    if (ep == NULL) {
        pc->name = &lb->name;
        return NGX_BUSY;
    }

    if (!failover && !ngx_cflb_retryable(&pd->d)) {
        pc->tries = 1;
    }

    if (ep->direct) {
        pc->sockaddr = ep->addr.sockaddr;
        pc->socklen = ep->addr.socklen;
        pc->name = &ep->addr.name;

    } else if (ngx_cflb_peer_addr(pd, pc, ep) != NGX_OK) {
        return NGX_ERROR;
    }

    pd->current_peer = (uint32_t) ngx_cflb_commit(&pd->d, ep, failover);
    pd->d.committed = 1;

    ngx_log_debug3(lb->conf->debug, pc->log, 0,
                   "cflb get peer, pool: \"%V\", endpoint: \"%V\" %V",
                   &ep->pool->name, &ep->name, pc->name);

    return NGX_OK;
}


/*
 * The address of an endpoint that is not "direct": the next of several,
 * with the client's port (no_port), or with "resolve" a copy of this
 * worker's current one, which the request keeps as its own: the list
 * may change while the request lives ($upstream_addr is read at its
 * end).  The decision leaves out endpoints without an address.
 */

static ngx_int_t
ngx_cflb_peer_addr(ngx_cflb_peer_data_t *pd, ngx_peer_connection_t *pc,
    ngx_cflb_endpoint_t *ep)
{
    size_t            size;
    ngx_str_t        *name;
    ngx_addr_t       *addr;
    struct sockaddr  *sa;

    addr = ngx_cflb_endpoint_addr(ep);

    if (addr == NULL) {
        return NGX_ERROR;
    }

    pc->socklen = addr->socklen;

    if (ep->resolve == NULL && !(ep->no_port && pd->local_port)) {
        pc->sockaddr = addr->sockaddr;
        pc->name = &addr->name;
        pd->d.addr = pc->name;
        return NGX_OK;
    }

    /*
     * the sockaddr, then with "resolve" its text, one copy a try: the
     * peer data keeps no pointer to it (see ngx_cflb_decision_t on its
     * size), and a passthrough copy stays small in a stream session's
     * 256-byte pool blocks
     */
    size = ep->resolve ? NGX_SOCKADDRLEN + sizeof(ngx_str_t)
                         + NGX_SOCKADDR_STRLEN
                       : addr->socklen;

    sa = ngx_palloc(pd->d.pool, size);
    if (sa == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(sa, addr->sockaddr, addr->socklen);
    pc->sockaddr = sa;

    if (ep->no_port && pd->local_port) {
        /* layer 4 port passthrough: the port the client connected to */
        ngx_inet_set_port(sa, pd->local_port);
    }

    if (ep->resolve == NULL) {
        pc->name = &ep->address;

    } else {
        name = (ngx_str_t *) ((u_char *) sa + NGX_SOCKADDRLEN);
        name->data = (u_char *) name + sizeof(ngx_str_t);
        name->len = ngx_sock_ntop(sa, addr->socklen, name->data,
                                  NGX_SOCKADDR_STRLEN, 1);
        pc->name = name;
    }

    pd->d.addr = pc->name;

    return NGX_OK;
}


void
ngx_cflb_free_peer(ngx_peer_connection_t *pc, void *data, ngx_uint_t state)
{
    ngx_cflb_free_peer_bytes(pc, data, state, 0, 0);
}


/*
 * free clears d.committed, so that a second call does nothing: the http
 * get_peer frees what it chose when it fails afterwards, and nginx then
 * frees again.
 */

void
ngx_cflb_free_peer_bytes(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state, off_t sent, off_t received)
{
    ngx_cflb_peer_data_t *pd = data;

    ngx_cflb_endpoint_t  *ep;

    if (!pd->d.committed) {
        return;
    }

    ep = pd->d.last;

    ngx_log_debug3(pd->d.view->lb->conf->debug, pc->log, 0,
                   "cflb free peer, endpoint: \"%V\", state: %ui, "
                   "active: %A", &ep->name, state, ep->sh->c.active);

    pd->d.committed = 0;

    ngx_cflb_release(ep, state & NGX_PEER_FAILED, sent, received);

    if (pc->tries) {
        pc->tries--;
    }
}


#if (NGX_SSL)

static ngx_int_t
ngx_cflb_set_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_cflb_peer_data_t *pd = data;

    ngx_cflb_peer_ssl_t  *ssl;

    ssl = &pd->d.view->lb->ssl[pd->current_peer];

    return ngx_ssl_set_session(pc->connection, ssl->ssl_session);
}


static void
ngx_cflb_save_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_cflb_peer_data_t *pd = data;

    ngx_ssl_session_t  *old, *session;

    session = ngx_ssl_get_session(pc->connection);

    if (session == NULL) {
        return;
    }

    old = pd->d.view->lb->ssl[pd->current_peer].ssl_session;
    pd->d.view->lb->ssl[pd->current_peer].ssl_session = session;

    if (old) {
        ngx_ssl_free_session(old);
    }
}

#endif
