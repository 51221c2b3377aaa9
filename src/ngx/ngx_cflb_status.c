
/*
 * The status document: every load balancer, pool and endpoint with its
 * configuration and its shared counters, as JSON.  Both subsystems serve
 * the same document from their own conf.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb.h"


static u_char *ngx_cflb_status_lbs(u_char *p, ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_status_pools(u_char *p, ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_status_lb(u_char *p, ngx_cflb_lb_t *lb);
static u_char *ngx_cflb_status_pool(u_char *p, ngx_cflb_pool_t *pool);
static u_char *ngx_cflb_status_endpoint(u_char *p, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep);
static size_t ngx_cflb_status_size(ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_json_str(u_char *p, ngx_str_t *s);
static const char *ngx_cflb_policy_name(ngx_int_t policy);


/* the most one object of the document takes, besides its names */
#define NGX_CFLB_STATUS_OBJ   512


ngx_buf_t *
ngx_cflb_status_json(ngx_pool_t *pool, ngx_cflb_conf_t *ccf, ngx_uint_t what,
    void *obj)
{
    u_char      *p;
    ngx_buf_t   *b;

    b = ngx_create_temp_buf(pool, ngx_cflb_status_size(ccf));
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
        p = ngx_sprintf(p, "{\"lbs\":");
        p = ngx_cflb_status_lbs(p, ccf);
        p = ngx_sprintf(p, ",\"pools\":");
        p = ngx_cflb_status_pools(p, ccf);
        *p++ = '}';
    }

    *p++ = '\n';

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    return b;
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
    ngx_uint_t  i;

    p = ngx_sprintf(p, "{\"name\":");
    p = ngx_cflb_json_str(p, &lb->name);
    p = ngx_sprintf(p, ",\"steering\":\"%s\",\"fallback_pool\":",
                    ngx_cflb_policy_name(lb->steering));
    p = ngx_cflb_json_str(p, &lb->fallback.pool->name);
    p = ngx_sprintf(p, ",\"pools\":[");

    for (i = 0; i < lb->npools; i++) {
        p = ngx_sprintf(p, "{\"name\":");
        p = ngx_cflb_json_str(p, &lb->pools[i].pool->name);
        p = ngx_sprintf(p, ",\"weight\":%ui.%02ui}%s",
                        lb->pools[i].weight / 100, lb->pools[i].weight % 100,
                        (i + 1 < lb->npools) ? "," : "");
    }

    return ngx_sprintf(p, "]}");
}


static u_char *
ngx_cflb_status_pool(u_char *p, ngx_cflb_pool_t *pool)
{
    ngx_uint_t   i, h;

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

    p = ngx_sprintf(p, ",\"active\":%A,\"requests\":%A,\"fails\":%A,"
                    "\"endpoints\":[", pool->sh->c.active,
                    pool->sh->c.requests, pool->sh->c.fails);

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
    p = ngx_sprintf(p, ",\"weight\":%ui.%02ui,\"enabled\":%s,",
                    ep->weight / 100, ep->weight % 100,
                    ep->disabled ? "false" : "true");

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
                        ngx_cflb_reason_name(she->health.known
                                             ? she->reason
                                             : NGX_CFLB_NOT_CHECKED),
                        (ngx_uint_t) she->code, she->last_check, she->since,
                        (ngx_uint_t) she->rtt / 1000,
                        (ngx_uint_t) she->rtt % 1000,
                        she->probes, she->prober);
    }

    return ngx_sprintf(p, "\"active\":%A,\"requests\":%A,\"fails\":%A}",
                       she->c.active, she->c.requests, she->c.fails);
}


/* an upper bound: names may grow sixfold when escaped */

static size_t
ngx_cflb_status_size(ngx_cflb_conf_t *ccf)
{
    size_t                size;
    ngx_uint_t            i, j;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *ep;

    size = 64;

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        size += NGX_CFLB_STATUS_OBJ + 6 * lbs[i]->name.len
                + 6 * lbs[i]->fallback.pool->name.len;

        for (j = 0; j < lbs[i]->npools; j++) {
            size += 64 + 6 * lbs[i]->pools[j].pool->name.len;
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
                    + 6 * ep[j].addr.name.len;
        }
    }

    return size;
}


static u_char *
ngx_cflb_json_str(u_char *p, ngx_str_t *s)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    return p;
}


static const char *
ngx_cflb_policy_name(ngx_int_t policy)
{
    const cflb_steer_ops_t  *ops;

    ops = cflb_steer_ops(policy);

    return ops ? ops->name : "unknown";
}
