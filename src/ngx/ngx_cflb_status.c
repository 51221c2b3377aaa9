
/*
 * The status document: every load balancer, pool and endpoint with its
 * configuration and its shared counters, as JSON.  Both subsystems serve
 * the same document from their own conf.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb.h"


static u_char *ngx_cflb_status_lb(u_char *p, ngx_cflb_lb_t *lb);
static u_char *ngx_cflb_status_pool(u_char *p, ngx_cflb_pool_t *pool);
static size_t ngx_cflb_status_size(ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_json_str(u_char *p, ngx_str_t *s);
static const char *ngx_cflb_policy_name(ngx_int_t policy);


/* the most one object of the document takes, besides its names */
#define NGX_CFLB_STATUS_OBJ   512


ngx_buf_t *
ngx_cflb_status(ngx_pool_t *pool, ngx_cflb_conf_t *ccf)
{
    u_char            *p;
    ngx_buf_t         *b;
    ngx_uint_t         i;
    ngx_cflb_lb_t    **lbs;
    ngx_cflb_pool_t  **pools;

    b = ngx_create_temp_buf(pool, ngx_cflb_status_size(ccf));
    if (b == NULL) {
        return NULL;
    }

    p = ngx_sprintf(b->last, "{\"lbs\":[");

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        p = ngx_cflb_status_lb(p, lbs[i]);
        *p++ = (i + 1 < ccf->lbs.nelts) ? ',' : ']';
    }

    if (ccf->lbs.nelts == 0) {
        *p++ = ']';
    }

    p = ngx_sprintf(p, ",\"pools\":[");

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        p = ngx_cflb_status_pool(p, pools[i]);
        *p++ = (i + 1 < ccf->pools.nelts) ? ',' : ']';
    }

    if (ccf->pools.nelts == 0) {
        *p++ = ']';
    }

    p = ngx_sprintf(p, "}\n");

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    return b;
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
    ngx_uint_t            i;
    ngx_cflb_endpoint_t  *ep;

    p = ngx_sprintf(p, "{\"name\":");
    p = ngx_cflb_json_str(p, &pool->name);
    p = ngx_sprintf(p, ",\"enabled\":%s,\"endpoint_steering\":\"%s\","
                    "\"minimum_origins\":%ui,\"active\":%A,\"requests\":%A,"
                    "\"fails\":%A,\"endpoints\":[",
                    pool->enabled ? "true" : "false",
                    ngx_cflb_policy_name(pool->policy),
                    pool->minimum_origins, pool->sh->c.active,
                    pool->sh->c.requests, pool->sh->c.fails);

    ep = pool->endpoints.elts;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        p = ngx_sprintf(p, "{\"name\":");
        p = ngx_cflb_json_str(p, &ep[i].name);
        p = ngx_sprintf(p, ",\"address\":");
        p = ngx_cflb_json_str(p, &ep[i].addr.name);
        p = ngx_sprintf(p, ",\"weight\":%ui.%02ui,\"enabled\":%s,"
                        "\"active\":%A,\"requests\":%A,\"fails\":%A}%s",
                        ep[i].weight / 100, ep[i].weight % 100,
                        ep[i].disabled ? "false" : "true",
                        ep[i].sh->c.active, ep[i].sh->c.requests,
                        ep[i].sh->c.fails,
                        (i + 1 < pool->endpoints.nelts) ? "," : "");
    }

    return ngx_sprintf(p, "]}");
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
