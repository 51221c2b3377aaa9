
/*
 * The status document: every load balancer, pool and endpoint with its
 * configuration and its shared counters, as JSON.  Both subsystems serve
 * the same document from their own conf; the http one adds the stream
 * zone's, found through the cycle's shared memory (each dynamic module
 * has its own copy of this code, so no symbol of the other is named).
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_status.h"
#include "ngx_cflb_shm.h"
#include "ngx_cflb_conf.h"
#include "ngx_cflb_json.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_geo.h"
#include "ngx_cflb_state.h"
#include "ngx_cflb_dns_zone.h"
#include "ngx_cflb_cluster.h"
#include "ngx_cflb_resolve.h"


static u_char *ngx_cflb_status_doc(u_char *p, ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_status_geo(u_char *p, ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_status_lbs(u_char *p, ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_status_pools(u_char *p, ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_status_lb(u_char *p, ngx_cflb_lb_t *lb);
static u_char *ngx_cflb_status_pool(u_char *p, ngx_cflb_pool_t *pool);
static u_char *ngx_cflb_status_counters(u_char *p, ngx_cflb_counters_t *c);
static u_char *ngx_cflb_status_endpoint(u_char *p, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep);
static u_char *ngx_cflb_status_drain(u_char *p, ngx_cflb_endpoint_t *ep);
static size_t ngx_cflb_status_size(ngx_cflb_conf_t *ccf);
static const char *ngx_cflb_policy_name(ngx_int_t policy);


/* the most one object of the document takes, besides its names */
#define NGX_CFLB_STATUS_OBJ   1024


ngx_buf_t *
ngx_cflb_status_json(ngx_pool_t *pool, ngx_cflb_conf_t *ccf, ngx_uint_t what,
    void *obj)
{
    u_char           *p;
    size_t            size;
    ngx_buf_t        *b;
    ngx_cflb_conf_t  *stream;

    size = ngx_cflb_status_size(ccf);
    stream = NULL;

    if (what == NGX_CFLB_STATUS_DOC) {
        stream = ngx_cflb_status_stream(ccf);

        if (stream) {
            size += ngx_cflb_status_size(stream);
        }
    }

    b = ngx_create_temp_buf(pool, size);
    if (b == NULL) {
        return NULL;
    }

    p = b->last;

    switch (what) {

    case NGX_CFLB_STATUS_LBS:
        p = ngx_cflb_status_lbs(p, ccf);
        break;

    case NGX_CFLB_STATUS_POOLS:
        p = ngx_cflb_status_pools(p, ccf);
        break;

    case NGX_CFLB_STATUS_POOL:
        p = ngx_cflb_status_pool(p, obj);
        break;

    case NGX_CFLB_STATUS_ENDPOINT:
        p = ngx_cflb_status_endpoint(p, ((ngx_cflb_endpoint_t *) obj)->pool,
                                     obj);
        break;

    default: /* NGX_CFLB_STATUS_DOC */
        p = ngx_sprintf(p, "{\"time\":%T,\"subsystem\":\"%s\",",
                        ngx_time(), ccf->http ? "http" : "stream");
        p = ngx_cflb_status_doc(p, ccf);

        if (stream) {
            p = ngx_sprintf(p, ",\"stream\":{");
            p = ngx_cflb_status_doc(p, stream);
            *p++ = '}';
        }

        *p++ = '}';
    }

    *p++ = '\n';

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    return b;
}


/*
 * The stream module's conf: the data of its zone, if the cycle has one.
 * Both modules are built from one tree, so the conf has the layout this
 * code knows.
 */

ngx_cflb_conf_t *
ngx_cflb_status_stream(ngx_cflb_conf_t *ccf)
{
    ngx_cflb_conf_t  *scf;

    if (!ccf->http) {
        return NULL;
    }

    scf = ngx_cflb_zone_conf((ngx_cycle_t *) ngx_cycle,
                             "ngx_stream_cflb_module");

    return (scf && scf->sh && scf->lbs.nelts) ? scf : NULL;
}


/* "lbs" and "pools" of one conf, and "geo" if it locates clients */

static u_char *
ngx_cflb_status_doc(u_char *p, ngx_cflb_conf_t *ccf)
{
    p = ngx_sprintf(p, "\"lbs\":");
    p = ngx_cflb_status_lbs(p, ccf);
    p = ngx_sprintf(p, ",\"pools\":");
    p = ngx_cflb_status_pools(p, ccf);

    if (ccf->geo || ccf->node.pop.len || ccf->node.location.flags
        || ccf->node.location.region < CFLB_NREGIONS)
    {
        p = ngx_cflb_status_geo(p, ccf);
    }

    p = ngx_cflb_state_status(p, ccf);
    p = ngx_cflb_dns_status(p, ccf);

    return ngx_cflb_cluster_status(p, ccf);
}


/*
 * "geo": {"databases": [{"path", "type", "build"}],
 *         "node": {"pop", "region", "lat", "lon"}}
 */

static u_char *
ngx_cflb_status_geo(u_char *p, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t           i;
    ngx_cflb_node_t     *node;
    ngx_cflb_geo_db_t  **dbs;

    p = ngx_sprintf(p, ",\"geo\":{\"databases\":[");

    if (ccf->geo) {
        dbs = ccf->geo->elts;

        for (i = 0; i < ccf->geo->nelts; i++) {
            p = ngx_sprintf(p, "%s{\"path\":", i ? "," : "");
            p = ngx_cflb_json_str(p, &dbs[i]->path);
            p = ngx_sprintf(p, ",\"type\":");
            p = ngx_cflb_json_str(p, &dbs[i]->type);
            p = ngx_sprintf(p, ",\"build\":%T}", dbs[i]->build);
        }
    }

    node = &ccf->node;

    p = ngx_sprintf(p, "],\"node\":{\"pop\":");
    p = ngx_cflb_json_str(p, &node->pop);
    p = ngx_sprintf(p, ",\"region\":");

    if (node->location.region < CFLB_NREGIONS) {
        p = ngx_sprintf(p, "\"%s\"", cflb_region_name(node->location.region));

    } else {
        p = ngx_sprintf(p, "null");
    }

    if (node->location.flags & CFLB_LOC_COORDS) {
        p = ngx_sprintf(p, ",\"lat\":%s%d.%06d,\"lon\":%s%d.%06d",
                        node->location.lat < 0 ? "-" : "",
                        (int) (ngx_abs(node->location.lat) / 1000000),
                        (int) (ngx_abs(node->location.lat) % 1000000),
                        node->location.lon < 0 ? "-" : "",
                        (int) (ngx_abs(node->location.lon) / 1000000),
                        (int) (ngx_abs(node->location.lon) % 1000000));
    }

    return ngx_sprintf(p, "}}");
}


static u_char *
ngx_cflb_status_lbs(u_char *p, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t       i;
    ngx_cflb_lb_t  **lbs;

    *p++ = '[';

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        p = ngx_cflb_status_lb(p, lbs[i]);

        if (i + 1 < ccf->lbs.nelts) {
            *p++ = ',';
        }
    }

    *p++ = ']';

    return p;
}


static u_char *
ngx_cflb_status_pools(u_char *p, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t         i;
    ngx_cflb_pool_t  **pools;

    *p++ = '[';

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        p = ngx_cflb_status_pool(p, pools[i]);

        if (i + 1 < ccf->pools.nelts) {
            *p++ = ',';
        }
    }

    *p++ = ']';

    return p;
}


static u_char *
ngx_cflb_status_lb(u_char *p, ngx_cflb_lb_t *lb)
{
    ngx_uint_t            i;
    ngx_cflb_view_t      *view;
    ngx_cflb_pools_t     *list;
    ngx_cflb_affinity_t  *a;

    view = &lb->view;
    list = view->pools;
    a = view->affinity;

    p = ngx_sprintf(p, "{\"name\":");
    p = ngx_cflb_json_str(p, &lb->name);
    p = ngx_sprintf(p, ",\"steering\":\"%s\",\"fallback_pool\":",
                    ngx_cflb_policy_name(list->policy));
    p = ngx_cflb_json_str(p, &view->fallback->pool->name);

    if (lb->conf->http) {
        p = ngx_sprintf(p, ",\"session_affinity\":\"%V\","
                        "\"session_affinity_ttl\":%T,"
                        "\"drain_duration\":%T,"
                        "\"zero_downtime_failover\":\"%V\","
                        "\"failover_across_pools\":%s",
                        &ngx_cflb_affinity_modes[a->mode].name,
                        a->ttl, a->drain, &ngx_cflb_zdf_modes[a->zdf].name,
                        a->across_pools ? "true" : "false");
    }

    p = ngx_sprintf(p, ",\"pools\":[");

    for (i = 0; i < list->n; i++) {
        p = ngx_sprintf(p, "{\"name\":");
        p = ngx_cflb_json_str(p, &list->entries[i]->pool->name);
        p = ngx_sprintf(p, ",\"weight\":");
        p = ngx_cflb_json_weight(p, list->members[i].weight);
        p = ngx_sprintf(p, "}%s", (i + 1 < list->n) ? "," : "");
    }

    p = ngx_sprintf(p, "]");
    p = ngx_cflb_rules_status(p, lb);
    p = ngx_cflb_dns_status_lb(p, lb);

    return ngx_sprintf(p, "}");
}


static u_char *
ngx_cflb_status_pool(u_char *p, ngx_cflb_pool_t *pool)
{
    ngx_uint_t           i, h;
    ngx_cflb_counters_t  c;

    h = pool->sh->health;

    p = ngx_sprintf(p, "{\"name\":");
    p = ngx_cflb_json_str(p, &pool->name);
    p = ngx_sprintf(p, ",\"enabled\":%s,\"endpoint_steering\":\"%s\","
                    "\"minimum_origins\":%ui,\"monitor\":",
                    pool->enabled ? "true" : "false",
                    ngx_cflb_policy_name(pool->policy),
                    pool->minimum_origins);

    if (pool->monitor) {
        p = ngx_cflb_json_str(p, &pool->monitor->name);
        p = ngx_sprintf(p, ",\"health\":\"%s\",\"rtt_ms\":%ui.%03ui",
                        h ? cflb_pool_health_name(h - 1) : "unknown",
                        (ngx_uint_t) pool->sh->rtt / 1000,
                        (ngx_uint_t) pool->sh->rtt % 1000);

    } else {
        p = ngx_sprintf(p, "null,\"health\":\"unmonitored\"");
    }

    ngx_cflb_pool_counters(pool, &c);
    p = ngx_cflb_status_counters(p, &c);
    p = ngx_sprintf(p, ",\"endpoints\":[");

    for (i = 0; i < pool->endpoints.nelts; i++) {
        p = ngx_cflb_status_endpoint(p, pool,
                                     (ngx_cflb_endpoint_t *)
                                     pool->endpoints.elts + i);
        *p++ = (i + 1 < pool->endpoints.nelts) ? ',' : ']';
    }

    return ngx_sprintf(p, "}");
}


static u_char *
ngx_cflb_status_endpoint(u_char *p, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep)
{
    ngx_cflb_sh_endpoint_t  *she;

    she = ep->sh;

    p = ngx_sprintf(p, "{\"name\":");
    p = ngx_cflb_json_str(p, &ep->name);
    p = ngx_sprintf(p, ",\"address\":");
    p = ngx_cflb_json_str(p, &ep->addr.name);
    p = ngx_cflb_resolve_json(p, ep);
    p = ngx_sprintf(p, ",\"weight\":");
    p = ngx_cflb_json_weight(p, ep->weight);
    p = ngx_sprintf(p, ",\"enabled\":%s,",
                    (ep->disabled || she->disabled_at) ? "false" : "true");

    if (pool->monitor) {
        p = ngx_sprintf(p, "\"healthy\":%s,\"health\":\"%s\","
                        "\"reason\":\"%s\",\"status\":%ui,"
                        "\"last_check\":%T,\"since\":%T,"
                        "\"rtt_ms\":%ui.%03ui,\"probes\":%A,"
                        "\"prober\":%P,",
                        she->health.healthy ? "true" : "false",
                        she->health.known
                        ? (she->health.healthy ? "healthy" : "unhealthy")
                        : "unknown",
                        cflb_reason_name(she->health.known
                                             ? she->reason
                                             : CFLB_REASON_NOT_CHECKED),
                        (ngx_uint_t) she->code, she->last_check, she->since,
                        (ngx_uint_t) she->rtt / 1000,
                        (ngx_uint_t) she->rtt % 1000,
                        she->probes, she->prober);
    }

    if (ep->max_fails) {
        p = ngx_sprintf(p, "\"passive\":{\"max_fails\":%ui,"
                        "\"fail_timeout\":%T,\"fails\":%A,"
                        "\"failing\":%s,\"until\":%T},",
                        ep->max_fails, ep->fail_timeout, she->pf_fails,
                        ngx_cflb_endpoint_failing(ep) ? "true" : "false",
                        she->pf_until);
    }

    p = ngx_cflb_status_drain(p, ep);
    p = ngx_cflb_status_counters(p, &she->c);
    p = ngx_cflb_cluster_votes(p, ep);

    return ngx_sprintf(p, "}");
}


/* the counters, after another field; "outstanding" is "active" renamed */

static u_char *
ngx_cflb_status_counters(u_char *p, ngx_cflb_counters_t *c)
{
    return ngx_sprintf(p, ",\"active\":%A,\"outstanding\":%A,"
                       "\"requests\":%A,\"fails\":%A,\"failovers\":%A,"
                       "\"bytes_sent\":%A,\"bytes_received\":%A,"
                       "\"sessions\":%A",
                       c->active, c->active, c->requests, c->fails,
                       c->failovers, c->sent, c->received, c->sessions);
}


/* null, or since when the endpoint drains and for how long still */

static u_char *
ngx_cflb_status_drain(u_char *p, ngx_cflb_endpoint_t *ep)
{
    time_t  since, duration, left;

    since = ep->sh->disabled_at;

    if (since == 0) {
        return ngx_sprintf(p, "\"drain\":null");
    }

    duration = ngx_cflb_pool_drain(ep->pool);
    left = since + duration - ngx_time();

    return ngx_sprintf(p, "\"drain\":{\"since\":%T,\"duration\":%T,"
                       "\"remaining\":%T}",
                       since, duration, left > 0 ? left : 0);
}


time_t
ngx_cflb_pool_drain(ngx_cflb_pool_t *pool)
{
    time_t           drain;
    ngx_uint_t       i, j;
    ngx_cflb_lb_t  **lbs, *lb;

    drain = 0;
    lbs = pool->conf->lbs.elts;

    for (i = 0; i < pool->conf->lbs.nelts; i++) {
        lb = lbs[i];

        if (lb->view.affinity->drain <= drain) {
            continue;
        }

        for (j = 0; j < lb->nentries; j++) {
            if (lb->entries[j].pool == pool) {
                drain = lb->view.affinity->drain;
                break;
            }
        }
    }

    return drain;
}


/* an upper bound: names may grow sixfold when escaped */

static size_t
ngx_cflb_status_size(ngx_cflb_conf_t *ccf)
{
    size_t                size;
    ngx_uint_t            i, j;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_geo_db_t   **dbs;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *ep;

    /* the top level: time, subsystem, the arrays, "stream", "geo" */
    size = 512 + 6 * ccf->node.pop.len + ngx_cflb_state_status_size(ccf)
           + ngx_cflb_dns_status_size(ccf)
           + ngx_cflb_cluster_status_size(ccf);

    if (ccf->geo) {
        dbs = ccf->geo->elts;

        for (i = 0; i < ccf->geo->nelts; i++) {
            size += 128 + 6 * (dbs[i]->path.len + dbs[i]->type.len);
        }
    }

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        size += NGX_CFLB_STATUS_OBJ + 6 * lbs[i]->name.len
                + ngx_cflb_rules_status_size(lbs[i]);

        for (j = 0; j < lbs[i]->nentries; j++) {
            size += 64 + 6 * lbs[i]->entries[j].pool->name.len;
        }
    }

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        size += NGX_CFLB_STATUS_OBJ + 6 * pools[i]->name.len;

        if (pools[i]->monitor) {
            size += 6 * pools[i]->monitor->name.len;
        }

        ep = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            size += NGX_CFLB_STATUS_OBJ + 6 * ep[j].name.len
                    + 6 * ep[j].addr.name.len
                    + ngx_cflb_resolve_json_size(&ep[j]);
        }
    }

    return size;
}


static const char *
ngx_cflb_policy_name(ngx_int_t policy)
{
    const cflb_steer_ops_t  *ops;

    ops = cflb_steer_ops(policy);

    return ops ? ops->name : "unknown";
}
