
/*
 * Endpoint addresses.  A hostname resolved at load gives all its
 * addresses, taken in turn by each worker.  An endpoint with "resolve"
 * is looked up again while nginx runs, with the subsystem's "resolver":
 * each worker asks for its own copy of the endpoint (conf memory, its
 * own after fork) on a cancelable timer, every min(TTL, 5 s) (nginx's
 * resolver caches the answer for its TTL, or its valid=).  A failed
 * lookup keeps the addresses until they expire, 5 s at most after the
 * answer that gave them; then the endpoint has none, the decisions leave
 * it out (a request's reason: "dns") and its pool counts it as
 * unresolved, until a lookup answers again.
 */

#include "ngx_cflb_resolve.h"


static void ngx_cflb_resolve_set(ngx_cflb_resolve_t *res, ngx_uint_t i,
    struct sockaddr *sa, socklen_t socklen);
static void ngx_cflb_resolve_count(ngx_cflb_resolve_t *res,
    ngx_uint_t naddrs);
static void ngx_cflb_resolve_timer(ngx_event_t *ev);
static void ngx_cflb_resolve_handler(ngx_resolver_ctx_t *ctx);
static void ngx_cflb_resolve_failed(ngx_cflb_resolve_t *res,
    ngx_int_t state);


/* the next lookup after one that failed, or that could not start */
#define NGX_CFLB_RESOLVE_RETRY     1000       /* msec */


ngx_int_t
ngx_cflb_resolve_add(ngx_conf_t *cf, ngx_cflb_endpoint_t *ep, ngx_url_t *u)
{
    ngx_uint_t           i, n;
    ngx_cflb_conf_t     *ccf;
    ngx_cflb_resolve_t  *res, **rp;

    if (u->family == AF_UNIX || u->naddrs > 0
        || ngx_inet_addr(u->host.data, u->host.len) != INADDR_NONE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"resolve\" of endpoint \"%V\" needs a hostname, "
                           "\"%V\" is an address", &ep->name, &ep->address);
        return NGX_ERROR;
    }

    ccf = ep->pool->conf;

    if (ccf->resolves.elts == NULL
        && ngx_array_init(&ccf->resolves, cf->pool, 4,
                          sizeof(ngx_cflb_resolve_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    res = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_resolve_t));
    rp = ngx_array_push(&ccf->resolves);

    if (res == NULL || rp == NULL) {
        return NGX_ERROR;
    }

    *rp = res;

    res->ep = ep;
    res->host = u->host;
    res->port = u->port;
    res->file = cf->conf_file->file.name.data;
    res->line = cf->conf_file->line;

    /* the zone, the state file and the status know it as configured */
    ep->resolve = res;
    ep->naddrs = 0;
    ep->addr.name = ep->address;

    if (ngx_inet_resolve_host(cf->pool, u) != NGX_OK || u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "endpoint \"%V\": \"%V\" does not resolve now "
                           "(%s), it has no address until it does",
                           &ep->name, &res->host,
                           u->err ? u->err : "no address");
        ep->pool->unresolved++;
        return NGX_OK;
    }

    n = ngx_min(u->naddrs, NGX_CFLB_RESOLVE_ADDRS);

    for (i = 0; i < n; i++) {
        ngx_cflb_resolve_set(res, i, u->addrs[i].sockaddr,
                             u->addrs[i].socklen);
    }

    res->naddrs = n;

    /* the workers look it up again as they start */
    res->expires = ngx_time() + NGX_CFLB_RESOLVE_MAX_TTL;

    return NGX_OK;
}


ngx_int_t
ngx_cflb_resolve_conf(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_resolver_t *resolver, ngx_msec_t timeout, ngx_uint_t optional)
{
    ngx_cflb_resolve_t  **rp;

    if (ccf->resolves.nelts == 0) {
        return NGX_OK;
    }

    rp = ccf->resolves.elts;

    if (resolver == NULL || resolver->connections.nelts == 0) {
        /* nginx makes a resolver without addresses when none is set */

        if (optional) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "no resolver defined to resolve \"%V\" of "
                          "endpoint \"%V\" in %s:%ui, it is resolved at "
                          "load only", &rp[0]->host, &rp[0]->ep->name,
                          rp[0]->file, rp[0]->line);
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "no resolver defined to resolve \"%V\" of endpoint "
                      "\"%V\" in %s:%ui", &rp[0]->host, &rp[0]->ep->name,
                      rp[0]->file, rp[0]->line);
        return NGX_ERROR;
    }

    if (resolver->valid == 0 || resolver->valid > NGX_CFLB_RESOLVE_MAX_TTL) {
        /* nginx's cache keeps an answer for its TTL: ours cannot be less */
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "the resolver of \"%V\" of endpoint \"%V\" in "
                      "%s:%ui keeps answers for their TTL; add "
                      "\"valid=%ds\" to \"resolver\" to look names up "
                      "again every %d seconds at least",
                      &rp[0]->host, &rp[0]->ep->name,
                      rp[0]->file, rp[0]->line, NGX_CFLB_RESOLVE_MAX_TTL,
                      NGX_CFLB_RESOLVE_MAX_TTL);
    }

    ccf->resolver = resolver;
    ccf->resolver_timeout = timeout;

    return NGX_OK;
}


ngx_int_t
ngx_cflb_resolve_init_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t            i;
    ngx_cflb_resolve_t  **rp, *res;

    if (ccf->resolver == NULL) {
        return NGX_OK;
    }

    rp = ccf->resolves.elts;

    for (i = 0; i < ccf->resolves.nelts; i++) {
        res = rp[i];

        res->timer.handler = ngx_cflb_resolve_timer;
        res->timer.data = res;
        res->timer.log = cycle->log;
        res->timer.cancelable = 1;

        /* at once: the load's answer may be old */
        ngx_add_timer(&res->timer, 1);
    }

    return NGX_OK;
}


void
ngx_cflb_resolve_exit_worker(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t            i;
    ngx_cflb_resolve_t  **rp, *res;

    rp = ccf->resolves.elts;

    for (i = 0; i < ccf->resolves.nelts; i++) {
        res = rp[i];

        if (res->timer.timer_set) {
            ngx_del_timer(&res->timer);
        }

        if (res->ctx) {
            ngx_resolve_name_done(res->ctx);
            res->ctx = NULL;
        }
    }
}


ngx_addr_t *
ngx_cflb_endpoint_next_addr(ngx_cflb_endpoint_t *ep)
{
    ngx_cflb_resolve_t  *res;

    res = ep->resolve;

    if (res == NULL) {
        return &ep->addrs[ep->next++ % ep->naddrs];
    }

    if (res->naddrs == 0) {
        return NULL;
    }

    return &res->addrs[ep->next++ % res->naddrs].addr;
}


size_t
ngx_cflb_resolve_json_size(ngx_cflb_endpoint_t *ep)
{
    if (ep->resolve == NULL) {
        return 0;
    }

    return sizeof(",\"addresses\":[]") - 1
           + NGX_CFLB_RESOLVE_ADDRS * (NGX_SOCKADDR_STRLEN + 3);
}


u_char *
ngx_cflb_resolve_json(u_char *p, ngx_cflb_endpoint_t *ep)
{
    ngx_uint_t           i;
    ngx_cflb_resolve_t  *res;

    res = ep->resolve;

    if (res == NULL) {
        return p;
    }

    p = ngx_cpymem(p, ",\"addresses\":[", sizeof(",\"addresses\":[") - 1);

    for (i = 0; i < res->naddrs; i++) {
        if (i) {
            *p++ = ',';
        }

        /* an address has nothing to escape */
        *p++ = '"';
        p = ngx_cpymem(p, res->addrs[i].addr.name.data,
                       res->addrs[i].addr.name.len);
        *p++ = '"';
    }

    *p++ = ']';

    return p;
}


/* address i of res: a copy of sa, with the endpoint's port */

static void
ngx_cflb_resolve_set(ngx_cflb_resolve_t *res, ngx_uint_t i,
    struct sockaddr *sa, socklen_t socklen)
{
    ngx_cflb_resolve_addr_t  *a;

    a = &res->addrs[i];

    socklen = ngx_min(socklen, (socklen_t) sizeof(ngx_sockaddr_t));
    ngx_memcpy(&a->sa, sa, socklen);
    ngx_inet_set_port(&a->sa.sockaddr, res->port);

    a->addr.sockaddr = &a->sa.sockaddr;
    a->addr.socklen = socklen;
    a->addr.name.data = a->text;
    a->addr.name.len = ngx_sock_ntop(&a->sa.sockaddr, socklen, a->text,
                                     NGX_SOCKADDR_STRLEN, res->port != 0);
}


/* the pool counts this worker's endpoints without an address */

static void
ngx_cflb_resolve_count(ngx_cflb_resolve_t *res, ngx_uint_t naddrs)
{
    if (res->naddrs == 0 && naddrs) {
        res->ep->pool->unresolved--;

    } else if (res->naddrs && naddrs == 0) {
        res->ep->pool->unresolved++;
    }

    res->naddrs = naddrs;
}


static void
ngx_cflb_resolve_timer(ngx_event_t *ev)
{
    ngx_cflb_resolve_t *res = ev->data;

    ngx_cflb_conf_t     *ccf;
    ngx_resolver_ctx_t  *ctx;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ccf = res->ep->pool->conf;

    ctx = ngx_resolve_start(ccf->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_cflb_resolve_failed(res, NGX_ERROR);
        return;
    }

    ctx->name = res->host;
    ctx->handler = ngx_cflb_resolve_handler;
    ctx->data = res;
    ctx->timeout = ccf->resolver_timeout;
    ctx->cancelable = 1;

    res->ctx = ctx;

    /* the handler may run at once, from the resolver's cache */
    if (ngx_resolve_name(ctx) != NGX_OK) {
        /* the resolver has freed ctx */
        res->ctx = NULL;
        ngx_cflb_resolve_failed(res, NGX_ERROR);
    }
}


static void
ngx_cflb_resolve_handler(ngx_resolver_ctx_t *ctx)
{
    ngx_cflb_resolve_t *res = ctx->data;

    time_t      now, ttl;
    ngx_int_t   state;
    ngx_uint_t  i, n;

    res->ctx = NULL;
    state = ctx->state;

    if (state != NGX_OK || ctx->naddrs == 0) {
        ngx_resolve_name_done(ctx);
        ngx_cflb_resolve_failed(res, state);
        return;
    }

    n = ngx_min(ctx->naddrs, NGX_CFLB_RESOLVE_ADDRS);

    for (i = 0; i < n; i++) {
        ngx_cflb_resolve_set(res, i, ctx->addrs[i].sockaddr,
                             ctx->addrs[i].socklen);
    }

    ngx_cflb_resolve_count(res, n);

    /* the answer's TTL (or the resolver's valid=), 1 to 5 s */
    now = ngx_time();
    ttl = ctx->valid - now;
    ttl = ngx_max(ttl, 1);
    ttl = ngx_min(ttl, NGX_CFLB_RESOLVE_MAX_TTL);

    res->expires = now + ttl;

    ngx_resolve_name_done(ctx);

    if (res->failing) {
        res->failing = 0;
        ngx_log_error(NGX_LOG_NOTICE, res->timer.log, 0,
                      "cflb: endpoint \"%V\" of pool \"%V\": \"%V\" "
                      "resolves again", &res->ep->name,
                      &res->ep->pool->name, &res->host);
    }

    ngx_add_timer(&res->timer, (ngx_msec_t) ttl * 1000);
}


/*
 * A lookup that failed (state: the resolver's, NGX_OK for an answer
 * without addresses, NGX_ERROR when none could start): the addresses
 * stay until they expire, then the endpoint has none.  Logged once as
 * it starts failing, once as it loses its addresses.
 */

static void
ngx_cflb_resolve_failed(ngx_cflb_resolve_t *res, ngx_int_t state)
{
    ngx_uint_t  had;

    had = res->naddrs;

    if (had && ngx_time() >= res->expires) {
        ngx_cflb_resolve_count(res, 0);
    }

    if (!res->failing || (had && res->naddrs == 0)) {
        ngx_log_error(NGX_LOG_WARN, res->timer.log, 0,
                      "cflb: endpoint \"%V\" of pool \"%V\": \"%V\" could "
                      "not be resolved (%i: %s), %s", &res->ep->name,
                      &res->ep->pool->name, &res->host, state,
                      state > 0 ? ngx_resolver_strerror(state)
                                : (state == NGX_OK ? "no address" : "error"),
                      res->naddrs ? "its addresses are kept until they "
                                    "expire"
                                  : "it has no address now");
        res->failing = 1;
    }

    ngx_add_timer(&res->timer, NGX_CFLB_RESOLVE_RETRY);
}
