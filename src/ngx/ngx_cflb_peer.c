
/*
 * Peer selection for one request (http) or session (stream): traffic
 * steering picks a pool, endpoint steering an endpoint in it, and the
 * fallback pool serves when no pool can.  get/free keep the shared
 * in-flight counters: every increment in get has its decrement in free.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_cflb.h"


#define ngx_cflb_tried(pd, n)                                                 \
    ((pd)->tried[(n) / (8 * sizeof(uintptr_t))]                               \
     & ((uintptr_t) 1 << (n) % (8 * sizeof(uintptr_t))))

#define ngx_cflb_set_tried(pd, n)                                             \
    (pd)->tried[(n) / (8 * sizeof(uintptr_t))]                                \
        |= (uintptr_t) 1 << (n) % (8 * sizeof(uintptr_t))


static ngx_cflb_endpoint_t *ngx_cflb_pin(ngx_cflb_peer_data_t *pd,
    ngx_log_t *log);
static ngx_cflb_endpoint_t *ngx_cflb_retry(ngx_cflb_peer_data_t *pd,
    ngx_log_t *log);
static ngx_cflb_endpoint_t *ngx_cflb_select(ngx_cflb_peer_data_t *pd,
    ngx_log_t *log, ngx_uint_t fallback);
static ngx_cflb_endpoint_t *ngx_cflb_select_endpoint(ngx_cflb_peer_data_t *pd,
    ngx_cflb_lb_pool_t *entry);
static ngx_uint_t ngx_cflb_pool_skip(ngx_cflb_peer_data_t *pd,
    ngx_uint_t i);
static int ngx_cflb_pool_usable(void *ctx, unsigned i);
static int ngx_cflb_pool_usable_traced(void *ctx, unsigned i);
static uint64_t ngx_cflb_pool_load(void *ctx, unsigned i);
static ngx_uint_t ngx_cflb_endpoint_skip(ngx_cflb_peer_data_t *pd,
    ngx_uint_t i);
static int ngx_cflb_endpoint_usable(void *ctx, unsigned i);
static int ngx_cflb_endpoint_usable_traced(void *ctx, unsigned i);
static uint64_t ngx_cflb_endpoint_load(void *ctx, unsigned i);
static uint64_t ngx_cflb_no_load(void *ctx, unsigned i);
static ngx_uint_t ngx_cflb_pool_shed(ngx_cflb_peer_data_t *pd, ngx_uint_t i);
static void ngx_cflb_count(ngx_cflb_conf_t *ccf, ngx_cflb_endpoint_t *ep,
    ngx_atomic_int_t n);
#if (NGX_SSL)
static ngx_int_t ngx_cflb_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_cflb_save_session(ngx_peer_connection_t *pc, void *data);
#endif


ngx_int_t
ngx_cflb_init_peer(ngx_cflb_peer_data_t *pd, ngx_pool_t *pool,
    ngx_cflb_lb_t *lb, ngx_peer_connection_t *pc, struct sockaddr *client,
    struct sockaddr *local)
{
    ngx_uint_t  n;

    ngx_cflb_runtime_sync(lb->conf);

    pd->lb = lb;
    pd->client = client;
    pd->pool = pool;

    if (local) {
        pd->local_port = ngx_inet_get_port(local);
    }

    n = 8 * sizeof(uintptr_t);

    if (lb->npeers <= n) {
        pd->tried = &pd->data;

    } else {
        pd->tried = ngx_pcalloc(pool, (lb->npeers + n - 1) / n
                                      * sizeof(uintptr_t));
        if (pd->tried == NULL) {
            return NGX_ERROR;
        }
    }

    if (lb->sess_size) {
        pd->sess = ngx_pcalloc(pool, lb->sess_size);
        if (pd->sess == NULL) {
            return NGX_ERROR;
        }

        pd->trace = lb->conf->trace;
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

    lb = pd->lb;
    failover = pd->retry;

    ngx_log_debug2(lb->conf->debug, pc->log, 0,
                   "cflb get peer, lb: \"%V\", try: %ui", &lb->name,
                   pc->tries);

    pc->cached = 0;
    pc->connection = NULL;

    if (failover) {
        ep = ngx_cflb_retry(pd, pc->log);

    } else if (pd->sess && pd->sess->pinned) {
        ep = ngx_cflb_pin(pd, pc->log);

        if (ep && lb->affinity.zdf == NGX_CFLB_ZDF_NONE) {
            pc->tries = 1;              /* a pinned session fails as is */
        }

    } else {
        ep = ngx_cflb_select(pd, pc->log, 1);
    }

    if (pd->trace) {
        ngx_cflb_trace_pick(pd, ep);
    }

    pd->retry = 1;

    if (ep == NULL) {
        pc->name = &lb->name;
        return NGX_BUSY;
    }

    pd->current_peer = pd->entry->base + (ep - (ngx_cflb_endpoint_t *)
                                               ep->pool->endpoints.elts);
    ngx_cflb_set_tried(pd, pd->current_peer);

    pd->current = ep;
    pd->last = ep;

    if (ep->no_port && pd->local_port) {
        /* layer 4 port passthrough: the port the client connected to */
        if (pd->sockaddr == NULL) {
            pd->sockaddr = ngx_palloc(pd->pool, NGX_SOCKADDRLEN);
            if (pd->sockaddr == NULL) {
                pd->current = NULL;     /* nothing was counted yet */
                return NGX_ERROR;
            }
        }

        ngx_memcpy(pd->sockaddr, ep->addr.sockaddr, ep->addr.socklen);
        ngx_inet_set_port(pd->sockaddr, pd->local_port);

        pc->sockaddr = pd->sockaddr;
        pc->socklen = ep->addr.socklen;
        pc->name = &ep->address;

    } else {
        pc->sockaddr = ep->addr.sockaddr;
        pc->socklen = ep->addr.socklen;
        pc->name = &ep->addr.name;
    }

    ngx_cflb_count(lb->conf, ep, 1);
    (void) ngx_atomic_fetch_add(&ep->sh->c.requests, 1);
    (void) ngx_atomic_fetch_add(&ep->sh->pool->c.requests, 1);

    if (failover) {
        /* counted where the request went on to, as "requests" is */
        (void) ngx_atomic_fetch_add(&ep->sh->c.failovers, 1);
        (void) ngx_atomic_fetch_add(&ep->sh->pool->c.failovers, 1);
    }

    ngx_log_debug3(lb->conf->debug, pc->log, 0,
                   "cflb get peer, pool: \"%V\", endpoint: \"%V\" %V",
                   &ep->pool->name, &ep->name, pc->name);

    return NGX_OK;
}


void
ngx_cflb_free_peer(ngx_peer_connection_t *pc, void *data, ngx_uint_t state)
{
    ngx_cflb_peer_data_t *pd = data;

    ngx_cflb_endpoint_t  *ep;

    ep = pd->current;

    if (ep == NULL) {
        return;
    }

    ngx_log_debug3(pd->lb->conf->debug, pc->log, 0,
                   "cflb free peer, endpoint: \"%V\", state: %ui, "
                   "active: %A", &ep->name, state, ep->sh->c.active);

    pd->current = NULL;

    ngx_cflb_count(pd->lb->conf, ep, -1);

    if (state & NGX_PEER_FAILED) {
        (void) ngx_atomic_fetch_add(&ep->sh->c.fails, 1);
        (void) ngx_atomic_fetch_add(&ep->sh->pool->c.fails, 1);
    }

    if (pc->tries) {
        pc->tries--;
    }
}


void
ngx_cflb_free_peer_bytes(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state, off_t sent, off_t received)
{
    ngx_cflb_peer_data_t *pd = data;

    ngx_cflb_sh_endpoint_t  *she;

    if (pd->current) {
        she = pd->current->sh;

        (void) ngx_atomic_fetch_add(&she->c.sent, sent);
        (void) ngx_atomic_fetch_add(&she->c.received, received);
        (void) ngx_atomic_fetch_add(&she->pool->c.sent, sent);
        (void) ngx_atomic_fetch_add(&she->pool->c.received, received);
    }

    ngx_cflb_free_peer(pc, data, state);
}


/*
 * The session's endpoint (pd->entry is its pool, found with it), unless
 * its pool sheds the session: then the request is steered afresh, away
 * from that pool, into a new session.
 */

static ngx_cflb_endpoint_t *
ngx_cflb_pin(ngx_cflb_peer_data_t *pd, ngx_log_t *log)
{
    ngx_cflb_lb_t  *lb;

    lb = pd->lb;

    if (pd->entry != &lb->fallback
        && ngx_cflb_pool_shed(pd, pd->entry - lb->pools))
    {
        pd->sess->pinned = NULL;
        pd->new_session = 1;

        if (pd->trace) {
            ngx_cflb_trace(pd)->affinity = NGX_CFLB_AFF_SHED;
        }

        return ngx_cflb_select(pd, log, 1);
    }

    return pd->sess->pinned;
}


/*
 * Zero-downtime failover: one retry, on another healthy endpoint of the
 * pool that failed, or with failover_across_pools of the next pool in
 * steering order.  A pinned session moves only with "sticky".
 */

static ngx_cflb_endpoint_t *
ngx_cflb_retry(ngx_cflb_peer_data_t *pd, ngx_log_t *log)
{
    ngx_cflb_lb_t        *lb;
    ngx_cflb_endpoint_t  *ep;

    lb = pd->lb;

    if (pd->sess && pd->sess->pinned) {
        pd->sess->pinned = NULL;
        pd->new_session = (lb->affinity.zdf == NGX_CFLB_ZDF_STICKY);
    }

    if (pd->entry == NULL) {
        return NULL;
    }

    pd->ignore_health = (pd->entry == &lb->fallback);
    ep = ngx_cflb_select_endpoint(pd, pd->entry);
    pd->ignore_health = 0;

    if (ep || !lb->affinity.across_pools || pd->entry == &lb->fallback) {
        return ep;
    }

    pd->exhausted |= (uint64_t) 1 << (pd->entry - lb->pools);

    return ngx_cflb_select(pd, log, 0);
}


/*
 * Traffic steering over the pools that can serve, then endpoint steering
 * inside the chosen one; a pool whose endpoints all turn out unusable is
 * left out and the pick repeats.  With no pool left the fallback serves,
 * its health ignored, if fallback allows.
 */

static ngx_cflb_endpoint_t *
ngx_cflb_select(ngx_cflb_peer_data_t *pd, ngx_log_t *log,
    ngx_uint_t fallback)
{
    int                   i;
    cflb_pick_t           pk;
    ngx_cflb_lb_t        *lb;
    ngx_cflb_endpoint_t  *ep;

    lb = pd->lb;

    pk.usable = pd->trace ? ngx_cflb_pool_usable_traced
                          : ngx_cflb_pool_usable;
    pk.load = ngx_cflb_pool_load;
    pk.ctx = pd;

    if (lb->steering == CFLB_STEER_LORS && !lb->conf->http) {
        /* no requests to count at layer 4: LORS is weighted random */
        pk.load = ngx_cflb_no_load;
    }

    pk.key = 0;
    pk.rng = &lb->conf->rng;

    if (pd->ip_pick) {
        /* ip_cookie: the same address, the same choice on every node */
        pk.load = ngx_cflb_no_load;
        pk.rng = &pd->sess->ip_rng;
    }

    for ( ;; ) {
        i = cflb_set_pick(&lb->set, &pk);

        if (i < 0) {
            break;
        }

        ep = ngx_cflb_select_endpoint(pd, &lb->pools[i]);

        if (ep) {
            return ep;
        }

        pd->exhausted |= (uint64_t) 1 << i;
    }

    if (!fallback) {
        return NULL;
    }

    ngx_log_debug1(lb->conf->debug, log, 0,
                   "cflb get peer, no usable pool, fallback: \"%V\"",
                   &lb->fallback.pool->name);

    pd->ignore_health = 1;
    ep = ngx_cflb_select_endpoint(pd, &lb->fallback);
    pd->ignore_health = 0;

    return ep;
}


static ngx_cflb_endpoint_t *
ngx_cflb_select_endpoint(ngx_cflb_peer_data_t *pd, ngx_cflb_lb_pool_t *entry)
{
    int               i;
    cflb_pick_t       pk;
    ngx_cflb_pool_t  *pool;

    pool = entry->pool;

    if (!pool->enabled) {
        return NULL;
    }

    pd->entry = entry;

    pk.usable = pd->trace ? ngx_cflb_endpoint_usable_traced
                          : ngx_cflb_endpoint_usable;
    pk.load = ngx_cflb_endpoint_load;
    pk.ctx = pd;
    pk.key = 0;
    pk.rng = &pd->lb->conf->rng;

    if (pool->set.ops->inputs & CFLB_NEED_KEY) {
        if (!pd->key_set) {
            pd->key = ngx_cflb_client_key(pd->client);
            pd->key_set = 1;
        }

        pk.key = pd->key;
    }

    if (pool->policy == CFLB_STEER_LORS && !pd->lb->conf->http) {
        /* no requests to count at layer 4: LORS is weighted random */
        pk.load = ngx_cflb_no_load;
    }

    if (pd->ip_pick) {
        pk.load = ngx_cflb_no_load;
        pk.rng = &pd->sess->ip_rng;
    }

    i = cflb_set_pick(&pool->set, &pk);

    if (i < 0) {
        return NULL;
    }

    return (ngx_cflb_endpoint_t *) pool->endpoints.elts + i;
}


static int
ngx_cflb_pool_usable(void *ctx, unsigned i)
{
    ngx_cflb_peer_data_t *pd = ctx;

    ngx_cflb_pool_t  *pool;

    pool = pd->lb->pools[i].pool;

    return !(pd->exhausted & ((uint64_t) 1 << i))
           && pool->enabled
           && pool->nusable > 0
           && !ngx_cflb_pool_critical(pool)
           && !ngx_cflb_pool_shed(pd, i);
}


/*
 * The traced requests' usable(): the same test, and for a pool that
 * fails it, why (only then, so the untraced test stays as it is).
 */

static int
ngx_cflb_pool_usable_traced(void *ctx, unsigned i)
{
    return ngx_cflb_pool_usable(ctx, i)
           || ngx_cflb_trace_pool(ctx, i, ngx_cflb_pool_skip(ctx, i));
}


/* why pool i is not usable: ngx_cflb_pool_usable()'s tests, in order */

static ngx_uint_t
ngx_cflb_pool_skip(ngx_cflb_peer_data_t *pd, ngx_uint_t i)
{
    ngx_cflb_pool_t  *pool;

    pool = pd->lb->pools[i].pool;

    if (pd->exhausted & ((uint64_t) 1 << i)) {
        return NGX_CFLB_SKIP_EXHAUSTED;
    }

    if (!pool->enabled) {
        return NGX_CFLB_SKIP_DISABLED;
    }

    if (pool->nusable == 0) {
        return NGX_CFLB_SKIP_EXHAUSTED;
    }

    if (ngx_cflb_pool_critical(pool)) {
        return NGX_CFLB_SKIP_CRITICAL;
    }

    /* load shedding, decided once per request and pool */
    return NGX_CFLB_SKIP_SHED;
}


/*
 * Load shedding: is this request shed from pool i?  Decided once per
 * request and pool: sessions by their hash, so a shed session stays
 * shed; other traffic at random or by the client address.
 */

static ngx_uint_t
ngx_cflb_pool_shed(ngx_cflb_peer_data_t *pd, ngx_uint_t i)
{
    uint64_t          bit, h;
    ngx_uint_t        percent;
    ngx_cflb_sess_t  *ss;
    ngx_cflb_pool_t  *pool;

    ss = pd->sess;

    if (ss == NULL) {
        return 0;
    }

    pool = pd->lb->pools[i].pool;
    percent = ss->session ? pool->shed_session : pool->shed_default;

    if (percent == 0) {
        return 0;
    }

    bit = (uint64_t) 1 << i;

    if (!(ss->shed_known & bit)) {
        ss->shed_known |= bit;

        if (ss->session) {
            h = cflb_hash64(&ss->session, sizeof(uint64_t), pool->id);

        } else if (pool->shed_hash) {
            if (!pd->key_set) {
                pd->key = ngx_cflb_client_key(pd->client);
                pd->key_set = 1;
            }

            h = cflb_hash64(&pd->key, sizeof(uint64_t), pool->id);

        } else {
            h = cflb_rng_next(&pd->lb->conf->rng);
        }

        if (h % 100 < percent) {
            ss->shed |= bit;
        }
    }

    return (ss->shed & bit) != 0;
}


static uint64_t
ngx_cflb_pool_load(void *ctx, unsigned i)
{
    ngx_cflb_peer_data_t *pd = ctx;

    return (uint64_t) pd->lb->pools[i].pool->sh->c.active;
}


static int
ngx_cflb_endpoint_usable(void *ctx, unsigned i)
{
    ngx_cflb_peer_data_t *pd = ctx;

    ngx_cflb_endpoint_t  *ep;

    ep = (ngx_cflb_endpoint_t *) pd->entry->pool->endpoints.elts + i;

    return !ep->disabled
           && ep->weight > 0
           && !ngx_cflb_tried(pd, pd->entry->base + i)
           && (pd->ignore_health || ngx_cflb_endpoint_healthy(ep));
}


static int
ngx_cflb_endpoint_usable_traced(void *ctx, unsigned i)
{
    return ngx_cflb_endpoint_usable(ctx, i)
           || ngx_cflb_trace_endpoint(ctx, i,
                                      ngx_cflb_endpoint_skip(ctx, i));
}


/* why endpoint i of pd->entry is not usable, as ngx_cflb_pool_skip() */

static ngx_uint_t
ngx_cflb_endpoint_skip(ngx_cflb_peer_data_t *pd, ngx_uint_t i)
{
    ngx_cflb_endpoint_t  *ep;

    ep = (ngx_cflb_endpoint_t *) pd->entry->pool->endpoints.elts + i;

    if (ep->disabled) {
        return NGX_CFLB_SKIP_DISABLED;
    }

    if (ep->weight == 0) {
        return NGX_CFLB_SKIP_WEIGHT0;
    }

    return ngx_cflb_tried(pd, pd->entry->base + i) ? NGX_CFLB_SKIP_TRIED
                                                   : NGX_CFLB_SKIP_UNHEALTHY;
}


static uint64_t
ngx_cflb_endpoint_load(void *ctx, unsigned i)
{
    ngx_cflb_peer_data_t *pd = ctx;

    ngx_cflb_endpoint_t  *ep;

    ep = (ngx_cflb_endpoint_t *) pd->entry->pool->endpoints.elts + i;

    return (uint64_t) ep->sh->c.active;
}


static uint64_t
ngx_cflb_no_load(void *ctx, unsigned i)
{
    return 0;
}


const ngx_cflb_var_t  ngx_cflb_variables[] = {
    { ngx_string("cflb_lb"), NGX_CFLB_VAR_LB },
    { ngx_string("cflb_pool"), NGX_CFLB_VAR_POOL },
    { ngx_string("cflb_endpoint"), NGX_CFLB_VAR_ENDPOINT },
    { ngx_string("cflb_endpoint_addr"), NGX_CFLB_VAR_ENDPOINT_ADDR },
    { ngx_string("cflb_trace"), NGX_CFLB_VAR_TRACE },
    { ngx_null_string, 0 }
};


void
ngx_cflb_variable(ngx_cflb_peer_data_t *pd, ngx_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t            *s;
    ngx_cflb_endpoint_t  *ep;

    if (data == NGX_CFLB_VAR_TRACE) {
        ngx_cflb_trace_variable(pd, v);
        return;
    }

    if (pd == NULL || pd->last == NULL) {
        v->not_found = 1;
        return;
    }

    ep = pd->last;

    switch (data) {

    case NGX_CFLB_VAR_LB:
        s = &pd->lb->name;
        break;

    case NGX_CFLB_VAR_POOL:
        s = &ep->pool->name;
        break;

    case NGX_CFLB_VAR_ENDPOINT:
        s = &ep->name;
        break;

    default: /* NGX_CFLB_VAR_ENDPOINT_ADDR */
        s = &ep->addr.name;
        break;
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/* the hash steering key: the client address, without its port */

uint64_t
ngx_cflb_client_key(struct sockaddr *sa)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    if (sa == NULL) {
        return 0;
    }

    switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        return cflb_hash64(sin6->sin6_addr.s6_addr, 16, 0);
#endif

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        return cflb_hash64(&sin->sin_addr.s_addr, 4, 0);

    default:
        return 0;
    }
}


/* count into the shared totals and into this worker's own slot */

static void
ngx_cflb_count(ngx_cflb_conf_t *ccf, ngx_cflb_endpoint_t *ep,
    ngx_atomic_int_t n)
{
    (void) ngx_atomic_fetch_add(&ep->sh->c.active, n);
    (void) ngx_atomic_fetch_add(&ep->sh->pool->c.active, n);

    if (ccf->slot < NGX_CFLB_SLOTS) {
        ep->sh->slot_active[ccf->slot] += n;
    }
}


#if (NGX_SSL)

static ngx_int_t
ngx_cflb_set_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_cflb_peer_data_t *pd = data;

    return ngx_ssl_set_session(pc->connection,
                               pd->lb->ssl[pd->current_peer].ssl_session);
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

    old = pd->lb->ssl[pd->current_peer].ssl_session;
    pd->lb->ssl[pd->current_peer].ssl_session = session;

    if (old) {
        ngx_ssl_free_session(old);
    }
}

#endif
