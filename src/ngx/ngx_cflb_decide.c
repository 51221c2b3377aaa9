
/*
 * The decision engine: traffic steering picks a pool of the view's list,
 * endpoint steering an endpoint in it, and the fallback pool serves when
 * no pool can; a session's endpoint goes first, and zero-downtime
 * failover's retry follows a failed choice.  Nothing here knows a
 * connection: callers that send traffic commit the choice (counters, the
 * tried bitmap) and release it; a DNS answer only decides.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_decide.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_trace.h"
#include "ngx_cflb_maps.h"
#include "ngx_cflb_location.h"
#include "ngx_cflb_trees.h"
#include "ngx_cflb_resolve.h"


static ngx_cflb_endpoint_t *ngx_cflb_pin(ngx_cflb_decision_t *d,
    ngx_log_t *log);
static ngx_cflb_endpoint_t *ngx_cflb_retry(ngx_cflb_decision_t *d,
    ngx_log_t *log);
static ngx_cflb_endpoint_t *ngx_cflb_select(ngx_cflb_decision_t *d,
    ngx_log_t *log, ngx_uint_t fallback);
static ngx_cflb_endpoint_t *ngx_cflb_select_endpoint(ngx_cflb_decision_t *d,
    ngx_cflb_lb_pool_t *entry);
static ngx_uint_t ngx_cflb_pool_skip(ngx_cflb_decision_t *d,
    ngx_cflb_lb_pool_t *entry);
static ngx_inline int ngx_cflb_pick(ngx_cflb_decision_t *d, cflb_set_t *set,
    cflb_least_tree_t *draw, const uint32_t *map, cflb_pick_t *pk,
    ngx_uint_t all);
static int ngx_cflb_pool_usable(void *ctx, unsigned i);
static int ngx_cflb_pool_usable_traced(void *ctx, unsigned i);
static uint64_t ngx_cflb_pool_load(void *ctx, unsigned i);
static uint64_t ngx_cflb_pool_rtt(void *ctx, unsigned i);
static ngx_uint_t ngx_cflb_endpoint_skip(ngx_cflb_decision_t *d,
    ngx_uint_t i);
static int ngx_cflb_endpoint_usable(void *ctx, unsigned i);
static int ngx_cflb_endpoint_usable_traced(void *ctx, unsigned i);
static uint64_t ngx_cflb_endpoint_load(void *ctx, unsigned i);
static ngx_uint_t ngx_cflb_shed(ngx_cflb_decision_t *d,
    ngx_cflb_lb_pool_t *entry);


#define ngx_cflb_listed(list, entry)                                          \
    ((list)->mask & ((uint64_t) 1 << (entry)->index))

/* the endpoint i of the pool being picked from */
#define ngx_cflb_entry_endpoint(d, i)                                         \
    ((ngx_cflb_endpoint_t *) (d)->entry->pool->endpoints.elts + (i))


ngx_cflb_endpoint_t *
ngx_cflb_decide(ngx_cflb_decision_t *d, ngx_log_t *log)
{
    ngx_cflb_endpoint_t  *ep;

    if (d->retry) {
        ep = ngx_cflb_retry(d, log);

    } else if (d->sess && d->sess->pinned) {
        ep = ngx_cflb_pin(d, log);

        /* without zero-downtime failover a pinned session fails as is */
        d->no_retry = (d->view->affinity->zdf == NGX_CFLB_ZDF_NONE);

    } else {
        ep = ngx_cflb_select(d, log, 1);
    }

    if (d->trace) {
        ngx_cflb_trace_pick(d, ep);
    }

    d->retry = 1;

    if (ep) {
        d->last = ep;
        d->addr = NULL;
    }

    return ep;
}


ngx_cflb_endpoint_t *
ngx_cflb_decide_next(ngx_cflb_decision_t *d)
{
    if (d->entry == NULL) {
        return NULL;
    }

    return ngx_cflb_select_endpoint(d, d->entry);
}


/*
 * The session's endpoint (d->entry is its pool, found with it), unless
 * its pool sheds the session: then the request is steered afresh, away
 * from that pool, into a new session.  A pool only the fallback brings
 * sheds nothing, as the fallback pick ignores shedding.
 */

static ngx_cflb_endpoint_t *
ngx_cflb_pin(ngx_cflb_decision_t *d, ngx_log_t *log)
{
    ngx_uint_t  listed;

    listed = d->entry != d->view->fallback
             || ngx_cflb_listed(d->view->pools, d->entry);

    if (listed && d->entry->pool->shed_set && ngx_cflb_shed(d, d->entry)) {
        d->sess->pinned = NULL;
        d->new_session = 1;

        if (d->trace) {
            ngx_cflb_trace(d)->affinity = NGX_CFLB_AFF_SHED;
        }

        return ngx_cflb_select(d, log, 1);
    }

    /* a session in a pool only the fallback brings is the fallback's */
    d->fallback = !listed;

    return d->sess->pinned;
}


/*
 * Zero-downtime failover: one retry, on another healthy endpoint of the
 * pool that failed, or with failover_across_pools of the next pool in
 * steering order.  A pinned session moves only with "sticky".
 */

static ngx_cflb_endpoint_t *
ngx_cflb_retry(ngx_cflb_decision_t *d, ngx_log_t *log)
{
    ngx_cflb_view_t      *view;
    ngx_cflb_endpoint_t  *ep;

    view = d->view;

    if (d->sess && d->sess->pinned) {
        d->sess->pinned = NULL;
        d->new_session = (view->affinity->zdf == NGX_CFLB_ZDF_STICKY);
    }

    if (d->entry == NULL) {
        return NULL;
    }

    ep = ngx_cflb_select_endpoint(d, d->entry);

    if (ep || !view->affinity->across_pools || d->fallback) {
        return ep;
    }

    d->exhausted |= (uint64_t) 1 << d->entry->index;

    return ngx_cflb_select(d, log, 0);
}


/*
 * Traffic steering over the pools that can serve, then endpoint steering
 * inside the chosen one; a pool whose endpoints all turn out unusable is
 * left out and the pick repeats.  With no pool left the fallback serves,
 * its health ignored, if fallback allows.
 */

static ngx_cflb_endpoint_t *
ngx_cflb_select(ngx_cflb_decision_t *d, ngx_log_t *log, ngx_uint_t fallback)
{
    int                   i;
    cflb_pick_t           pk;
    ngx_cflb_place_t     *place;
    ngx_cflb_pools_t     *list;
    ngx_cflb_endpoint_t  *ep;

    list = d->view->pools;
    pk.where = NULL;

    if (list->set.ops->inputs & CFLB_NEED_LOCATION) {
        place = ngx_cflb_locate(d);

        if (d->view->maps) {
            list = ngx_cflb_maps_list(d, place);
        }

        if (place && (list->set.ops->inputs & CFLB_NEED_COORDS)) {
            pk.where = ngx_cflb_place_where(place);
        }
    }

    d->list = list;

    pk.usable = d->trace ? ngx_cflb_pool_usable_traced
                         : ngx_cflb_pool_usable;

    /* a load the mode does not have counts 0 (NULL): weighted random */
    pk.load = (list->set.ops->counts & d->mode) ? ngx_cflb_pool_load : NULL;
    pk.rtt = ngx_cflb_pool_rtt;
    pk.ctx = d;
    pk.key = 0;
    pk.rng = &d->view->lb->conf->rng;

    if (d->ip_pick) {
        /* ip_cookie: the same address, the same choice on every node */
        pk.load = NULL;
        pk.rng = &d->sess->ip_rng;
    }

    d->fallback = 0;

    for ( ;; ) {
        i = ngx_cflb_pick(d, &list->set, list->draw, list->pick_map, &pk, 0);

        if (i < 0) {
            break;
        }

        ep = ngx_cflb_select_endpoint(d, list->entries[i]);

        if (ep) {
            return ep;
        }

        d->exhausted |= (uint64_t) 1 << list->entries[i]->index;
    }

    if (!fallback) {
        return NULL;
    }

    ngx_log_debug1(d->view->lb->conf->debug, log, 0,
                   "cflb get peer, no usable pool, fallback: \"%V\"",
                   &d->view->fallback->pool->name);

    d->fallback = 1;

    return ngx_cflb_select_endpoint(d, d->view->fallback);
}


static ngx_cflb_endpoint_t *
ngx_cflb_select_endpoint(ngx_cflb_decision_t *d, ngx_cflb_lb_pool_t *entry)
{
    int               i;
    cflb_pick_t       pk;
    ngx_cflb_pool_t  *pool;

    pool = entry->pool;

    if (!pool->enabled) {
        return NULL;
    }

    d->entry = entry;

    pk.usable = d->trace ? ngx_cflb_endpoint_usable_traced
                         : ngx_cflb_endpoint_usable;
    pk.load = (pool->set.ops->counts & d->mode) ? ngx_cflb_endpoint_load
                                                : NULL;
    pk.rtt = NULL;
    pk.where = NULL;
    pk.ctx = d;
    pk.key = 0;
    pk.rng = &d->view->lb->conf->rng;

    if (pool->set.ops->inputs & CFLB_NEED_KEY) {
        if (!d->key_set) {
            d->key = ngx_cflb_client_key(d->client);
            d->key_set = 1;
        }

        pk.key = d->key;
    }

    if (d->ip_pick) {
        pk.load = NULL;
        pk.rng = &d->sess->ip_rng;
    }

    i = ngx_cflb_pick(d, &pool->set, pool->draw, pool->pick_map, &pk,
                      d->fallback);

    if (i < 0) {
        return NULL;
    }

    return (ngx_cflb_endpoint_t *) pool->endpoints.elts + i;
}


/*
 * A pick from the set, or from its least-load tree in O(log n) when this
 * worker draws from one and the mode has the load.  A tree draws among
 * the members that are up: a traced request asks about the others too,
 * as the linear pick asks about every weighted member, so that
 * $cflb_trace lists them (O(n), traced requests only).  all: health and
 * down flags ignored (the fallback pool), an exact O(n) draw.  Inline:
 * it is on every request, twice.
 */

static ngx_inline int
ngx_cflb_pick(ngx_cflb_decision_t *d, cflb_set_t *set,
    cflb_least_tree_t *draw, const uint32_t *map, cflb_pick_t *pk,
    ngx_uint_t all)
{
    unsigned  i;

    if (draw == NULL || pk->load == NULL) {
        return cflb_set_pick(set, pk);
    }

    for (i = 0; d->trace && i < set->n; i++) {
        if (set->members[i].weight) {
            (void) pk->usable(d, i);
        }
    }

    return ngx_cflb_trees_pick(draw, map, pk, all);
}


static int
ngx_cflb_pool_usable(void *ctx, unsigned i)
{
    ngx_cflb_decision_t *d = ctx;

    ngx_cflb_pool_t     *pool;
    ngx_cflb_lb_pool_t  *entry;

    entry = d->list->entries[i];
    pool = entry->pool;

    return !(d->exhausted & ((uint64_t) 1 << entry->index))
           && pool->enabled
           && pool->nusable > 0
           && !ngx_cflb_pool_critical(pool)
           && !(pool->shed_set && ngx_cflb_shed(d, entry));
}


/*
 * The traced requests' usable(): the same test, and for a pool that
 * fails it, why (only then, so the untraced test stays as it is).
 */

static int
ngx_cflb_pool_usable_traced(void *ctx, unsigned i)
{
    ngx_cflb_decision_t *d = ctx;

    ngx_cflb_lb_pool_t  *entry;

    if (ngx_cflb_pool_usable(ctx, i)) {
        return 1;
    }

    entry = d->list->entries[i];

    return ngx_cflb_trace_pool(d, entry, ngx_cflb_pool_skip(d, entry));
}


/* why the entry is not usable: ngx_cflb_pool_usable()'s tests, in order */

static ngx_uint_t
ngx_cflb_pool_skip(ngx_cflb_decision_t *d, ngx_cflb_lb_pool_t *entry)
{
    ngx_cflb_pool_t  *pool;

    pool = entry->pool;

    if (d->exhausted & ((uint64_t) 1 << entry->index)) {
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
 * Load shedding: is this request shed from the entry's pool?  Decided
 * once per request and pool (cflb_shed() says how), kept in two bitmaps.
 */

static ngx_uint_t
ngx_cflb_shed(ngx_cflb_decision_t *d, ngx_cflb_lb_pool_t *entry)
{
    uint64_t          bit, *key;
    ngx_uint_t        percent;
    ngx_cflb_sess_t  *ss;
    ngx_cflb_pool_t  *pool;

    ss = d->sess;

    if (ss == NULL) {
        return 0;
    }

    pool = entry->pool;
    percent = ss->session ? pool->shed_session : pool->shed_default;

    if (percent == 0) {
        return 0;
    }

    bit = (uint64_t) 1 << entry->index;

    if (!(ss->shed_known & bit)) {
        ss->shed_known |= bit;
        key = NULL;

        if (!ss->session && pool->shed_hash) {
            if (!d->key_set) {
                d->key = ngx_cflb_client_key(d->client);
                d->key_set = 1;
            }

            key = &d->key;
        }

        if (cflb_shed(percent, ss->session, key, pool->id,
                      &d->view->lb->conf->rng))
        {
            ss->shed |= bit;
        }
    }

    return (ss->shed & bit) != 0;
}


static uint64_t
ngx_cflb_pool_load(void *ctx, unsigned i)
{
    ngx_cflb_decision_t *d = ctx;

    return (uint64_t) d->list->entries[i]->pool->sh->c.active;
}


/* the pool's probe round trip, usec, 0 when it has none (unmonitored) */

static uint64_t
ngx_cflb_pool_rtt(void *ctx, unsigned i)
{
    ngx_cflb_decision_t *d = ctx;

    ngx_cflb_pool_t  *pool;

    pool = d->list->entries[i]->pool;

    return pool->monitor ? pool->sh->rtt : 0;
}


static int
ngx_cflb_endpoint_usable(void *ctx, unsigned i)
{
    ngx_cflb_decision_t *d = ctx;

    ngx_cflb_endpoint_t  *ep;

    ep = ngx_cflb_entry_endpoint(d, i);

    return !ep->disabled
           && ep->weight > 0
           && !ngx_cflb_tried(d, d->entry->base + i)
           && (ngx_cflb_endpoint_resolved(ep) || d->mode == CFLB_MODE_DNS)
           && (d->fallback || (ngx_cflb_endpoint_healthy(ep)
                               && !ngx_cflb_endpoint_failing(ep)));
}


static int
ngx_cflb_endpoint_usable_traced(void *ctx, unsigned i)
{
    return ngx_cflb_endpoint_usable(ctx, i)
           || ngx_cflb_trace_endpoint(ctx, i,
                                      ngx_cflb_endpoint_skip(ctx, i));
}


/* why endpoint i of d->entry is not usable, as ngx_cflb_pool_skip() */

static ngx_uint_t
ngx_cflb_endpoint_skip(ngx_cflb_decision_t *d, ngx_uint_t i)
{
    ngx_cflb_endpoint_t  *ep;

    ep = ngx_cflb_entry_endpoint(d, i);

    if (ep->disabled) {
        return NGX_CFLB_SKIP_DISABLED;
    }

    if (ep->weight == 0) {
        return NGX_CFLB_SKIP_WEIGHT0;
    }

    if (ngx_cflb_tried(d, d->entry->base + i)) {
        return NGX_CFLB_SKIP_TRIED;
    }

    /* DNS-only answers the name itself (a CNAME): it needs no address */
    if (!ngx_cflb_endpoint_resolved(ep) && d->mode != CFLB_MODE_DNS) {
        return NGX_CFLB_SKIP_DNS;
    }

    return ngx_cflb_endpoint_failing(ep) ? NGX_CFLB_SKIP_FAILING
                                         : NGX_CFLB_SKIP_UNHEALTHY;
}


static uint64_t
ngx_cflb_endpoint_load(void *ctx, unsigned i)
{
    ngx_cflb_decision_t *d = ctx;

    return (uint64_t) ngx_cflb_entry_endpoint(d, i)->sh->c.active;
}


void
ngx_cflb_passive_failed(ngx_cflb_endpoint_t *ep)
{
    time_t                   now;
    ngx_uint_t               out;
    ngx_atomic_uint_t        n;
    ngx_cflb_sh_endpoint_t  *she;

    she = ep->sh;
    n = ngx_atomic_fetch_add(&she->pf_fails, 1) + 1;

    if (n < ep->max_fails) {
        return;
    }

    now = ngx_time();
    out = (she->pf_until > now);

    /* the first to reach it logs; the others only renew the time */
    if (!out && n == ep->max_fails) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "cflb: endpoint \"%V\" of pool \"%V\" is out of "
                      "steering for %T s after %ui failed attempts",
                      &ep->name, &ep->pool->name, ep->fail_timeout, n);
    }

    she->pf_until = now + ep->fail_timeout;

    if (!out) {
        /* it leaves steering now: the least-load trees fold it */
        ngx_cflb_trees_failing(ep);
    }
}


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
