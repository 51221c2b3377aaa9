
/*
 * The status counters in the Prometheus text exposition format 0.0.4.
 * Parsers want every sample of a metric family together, so the output
 * goes metric by metric (a table below), each over every object of the
 * http zone and then of the stream zone.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_status.h"
#include "ngx_cflb_shm.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_dns_zone.h"


enum {
    NGX_CFLB_PROM_ENDPOINT = 0,
    NGX_CFLB_PROM_POOL,
    NGX_CFLB_PROM_LB_POOL,
    NGX_CFLB_PROM_LEVELS
};


/*
 * A value of one object: NGX_OK and *v, or NGX_DECLINED for no sample
 * (a round trip without a monitor, a drain that does not run).
 */
typedef ngx_int_t (*ngx_cflb_prom_get_pt)(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_member_t *lm, uint64_t *v);

typedef struct {
    ngx_str_t                 name;
    char                     *help;
    char                     *type;
    ngx_uint_t                level;         /* NGX_CFLB_PROM_* */
    ngx_int_t                 counter;       /* offset, or -1: get */
    ngx_cflb_prom_get_pt      get;
    ngx_uint_t                decimals;      /* of *v: 0, 2 or 6 */
} ngx_cflb_metric_t;


typedef struct {
    u_char                   *p;
    ngx_cflb_conf_t          *ccf;
    const ngx_cflb_metric_t  *m;
} ngx_cflb_prom_t;


static void ngx_cflb_prom_family(ngx_cflb_prom_t *pr);
static void ngx_cflb_prom_sample(ngx_cflb_prom_t *pr, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_lb_t *lb, cflb_member_t *lm);
static void ngx_cflb_prom_size(ngx_cflb_conf_t *ccf, size_t *per);
static ngx_int_t ngx_cflb_prom_outstanding(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_member_t *lm, uint64_t *v);
static ngx_int_t ngx_cflb_prom_healthy(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_member_t *lm, uint64_t *v);
static ngx_int_t ngx_cflb_prom_enabled(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_member_t *lm, uint64_t *v);
static ngx_int_t ngx_cflb_prom_weight(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_member_t *lm, uint64_t *v);
static ngx_int_t ngx_cflb_prom_rtt(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_member_t *lm, uint64_t *v);
static ngx_int_t ngx_cflb_prom_drain(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_member_t *lm, uint64_t *v);


#define ngx_cflb_prom_counter(field)                                          \
    offsetof(ngx_cflb_counters_t, field), NULL, 0

#define ngx_cflb_prom_get(get, decimals)  -1, get, decimals

/* the counters each endpoint and each pool has */
#define NGX_CFLB_PROM_COUNTERS(obj, OBJ, what)                                \
    { ngx_string("cflb_" obj "_requests_total"),                              \
      "Attempts sent to the " what ", retries included.", "counter",          \
      NGX_CFLB_PROM_##OBJ, ngx_cflb_prom_counter(requests) },                 \
    { ngx_string("cflb_" obj "_failures_total"),                              \
      "Attempts to the " what " that nginx marked failed.", "counter",        \
      NGX_CFLB_PROM_##OBJ, ngx_cflb_prom_counter(fails) },                    \
    { ngx_string("cflb_" obj "_failovers_total"),                             \
      "Retries the " what " took over from a failed attempt.", "counter",     \
      NGX_CFLB_PROM_##OBJ, ngx_cflb_prom_counter(failovers) },                \
    { ngx_string("cflb_" obj "_sent_bytes_total"),                            \
      "Bytes sent to the " what ".", "counter",                               \
      NGX_CFLB_PROM_##OBJ, ngx_cflb_prom_counter(sent) },                     \
    { ngx_string("cflb_" obj "_received_bytes_total"),                        \
      "Bytes received from the " what ".", "counter",                         \
      NGX_CFLB_PROM_##OBJ, ngx_cflb_prom_counter(received) },                 \
    { ngx_string("cflb_" obj "_sessions_total"),                              \
      "Affinity sessions started on the " what ".", "counter",                \
      NGX_CFLB_PROM_##OBJ, ngx_cflb_prom_counter(sessions) },                 \
    { ngx_string("cflb_" obj "_outstanding"),                                 \
      "Requests (layer 4: sessions) in flight to the " what ".", "gauge",     \
      NGX_CFLB_PROM_##OBJ, ngx_cflb_prom_get(ngx_cflb_prom_outstanding, 0) }


static const ngx_cflb_metric_t  ngx_cflb_metrics[] = {

    NGX_CFLB_PROM_COUNTERS("endpoint", ENDPOINT, "endpoint"),

    { ngx_string("cflb_endpoint_healthy"),
      "1 if the endpoint counts as healthy for steering (always without "
      "a monitor).", "gauge",
      NGX_CFLB_PROM_ENDPOINT, ngx_cflb_prom_get(ngx_cflb_prom_healthy, 0) },

    { ngx_string("cflb_endpoint_enabled"),
      "1 if the endpoint is enabled, 0 if disabled (draining).", "gauge",
      NGX_CFLB_PROM_ENDPOINT, ngx_cflb_prom_get(ngx_cflb_prom_enabled, 0) },

    { ngx_string("cflb_endpoint_weight"),
      "Configured endpoint weight, 0 to 1.", "gauge",
      NGX_CFLB_PROM_ENDPOINT, ngx_cflb_prom_get(ngx_cflb_prom_weight, 2) },

    { ngx_string("cflb_endpoint_rtt_seconds"),
      "Moving average of health probe round trips (monitored pools).",
      "gauge",
      NGX_CFLB_PROM_ENDPOINT, ngx_cflb_prom_get(ngx_cflb_prom_rtt, 6) },

    { ngx_string("cflb_endpoint_drain_remaining_seconds"),
      "Seconds a disabled endpoint still serves its sessions; 0: drained.",
      "gauge",
      NGX_CFLB_PROM_ENDPOINT, ngx_cflb_prom_get(ngx_cflb_prom_drain, 0) },

    NGX_CFLB_PROM_COUNTERS("pool", POOL, "pool's endpoints"),

    { ngx_string("cflb_pool_healthy"),
      "1 unless the pool is critical (fewer than minimum_origins healthy).",
      "gauge",
      NGX_CFLB_PROM_POOL, ngx_cflb_prom_get(ngx_cflb_prom_healthy, 0) },

    { ngx_string("cflb_pool_enabled"),
      "1 if the pool is enabled.", "gauge",
      NGX_CFLB_PROM_POOL, ngx_cflb_prom_get(ngx_cflb_prom_enabled, 0) },

    { ngx_string("cflb_pool_rtt_seconds"),
      "Moving average of the pool's health probe round trips.", "gauge",
      NGX_CFLB_PROM_POOL, ngx_cflb_prom_get(ngx_cflb_prom_rtt, 6) },

    { ngx_string("cflb_lb_pool_weight"),
      "random_steering weight of a pool in a load balancer, 0 to 1.",
      "gauge",
      NGX_CFLB_PROM_LB_POOL, ngx_cflb_prom_get(ngx_cflb_prom_weight, 2) }
};


#define NGX_CFLB_PROM_NMETRICS                                                \
    (sizeof(ngx_cflb_metrics) / sizeof(ngx_cflb_metric_t))


ngx_buf_t *
ngx_cflb_prometheus(ngx_pool_t *pool, ngx_cflb_conf_t *http,
    ngx_cflb_conf_t *stream)
{
    size_t            size, per[NGX_CFLB_PROM_LEVELS];
    ngx_buf_t        *b;
    ngx_uint_t        i;
    ngx_cflb_prom_t   pr;

    ngx_memzero(per, sizeof(per));

    ngx_cflb_prom_size(http, per);
    ngx_cflb_prom_size(stream, per);

    size = 1 + ngx_cflb_rules_prometheus_size(http)
           + ngx_cflb_rules_prometheus_size(stream)
           + ngx_cflb_dns_prometheus_size(stream);

    for (i = 0; i < NGX_CFLB_PROM_NMETRICS; i++) {
        size += 2 * ngx_cflb_metrics[i].name.len
                + ngx_strlen(ngx_cflb_metrics[i].help) + 32
                + per[ngx_cflb_metrics[i].level];
    }

    b = ngx_create_temp_buf(pool, size);
    if (b == NULL) {
        return NULL;
    }

    pr.p = b->last;

    for (i = 0; i < NGX_CFLB_PROM_NMETRICS; i++) {
        pr.m = &ngx_cflb_metrics[i];

        pr.p = ngx_sprintf(pr.p, "# HELP %V %s\n# TYPE %V %s\n",
                           &pr.m->name, pr.m->help, &pr.m->name,
                           pr.m->type);

        pr.ccf = http;
        ngx_cflb_prom_family(&pr);

        pr.ccf = stream;
        ngx_cflb_prom_family(&pr);
    }

    pr.p = ngx_cflb_rules_prometheus(pr.p, http, stream);
    pr.p = ngx_cflb_dns_prometheus(pr.p, stream);

    b->last = pr.p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    return b;
}


/* the samples of one metric over the objects of one conf */

static void
ngx_cflb_prom_family(ngx_cflb_prom_t *pr)
{
    ngx_uint_t            i, j;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_pools_t     *list;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *ep;

    if (pr->ccf == NULL) {
        return;
    }

    if (pr->m->level == NGX_CFLB_PROM_LB_POOL) {
        lbs = pr->ccf->lbs.elts;

        for (i = 0; i < pr->ccf->lbs.nelts; i++) {
            list = lbs[i]->view.pools;

            for (j = 0; j < list->n; j++) {
                ngx_cflb_prom_sample(pr, list->entries[j]->pool, NULL, lbs[i],
                                     &list->members[j]);
            }
        }

        return;
    }

    pools = pr->ccf->pools.elts;

    for (i = 0; i < pr->ccf->pools.nelts; i++) {

        if (pr->m->level == NGX_CFLB_PROM_POOL) {
            ngx_cflb_prom_sample(pr, pools[i], NULL, NULL, NULL);
            continue;
        }

        ep = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            ngx_cflb_prom_sample(pr, pools[i], &ep[j], NULL, NULL);
        }
    }
}


static void
ngx_cflb_prom_sample(ngx_cflb_prom_t *pr, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_lb_t *lb, cflb_member_t *lm)
{
    u_char               *p;
    uint64_t              v;
    ngx_cflb_counters_t   pc, *c;

    if (pr->m->get) {
        if (pr->m->get(pool, ep, lm, &v) != NGX_OK) {
            return;
        }

    } else {
        if (ep) {
            c = &ep->sh->c;

        } else {
            ngx_cflb_pool_counters(pool, &pc);
            c = &pc;
        }

        v = *(ngx_atomic_t *) ((u_char *) c + pr->m->counter);
    }

    p = ngx_sprintf(pr->p, "%V{subsystem=\"%s\"", &pr->m->name,
                    pr->ccf->http ? "http" : "stream");

    if (lb) {
        p = ngx_cflb_prom_label(p, "lb", &lb->name);
    }

    p = ngx_cflb_prom_label(p, "pool", &pool->name);

    if (ep) {
        p = ngx_cflb_prom_label(p, "endpoint", &ep->name);
    }

    switch (pr->m->decimals) {

    case 2:
        p = ngx_sprintf(p, "} %uL.%02uL\n", cflb_weight_int(v),
                        cflb_weight_frac(v));
        break;

    case 6:
        p = ngx_sprintf(p, "} %uL.%06uL\n", v / 1000000, v % 1000000);
        break;

    default:
        p = ngx_sprintf(p, "} %uL\n", v);
    }

    pr->p = p;
}


u_char *
ngx_cflb_prom_label(u_char *p, char *name, ngx_str_t *value)
{
    u_char  *s, *end;

    p = ngx_sprintf(p, ",%s=\"", name);

    end = value->data + value->len;

    for (s = value->data; s < end; s++) {

        switch (*s) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = *s;
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = *s;
        }
    }

    *p++ = '"';

    return p;
}


/*
 * Adds to per[level] the most one metric's samples of that level take in
 * this conf: names may double when escaped.
 */

static void
ngx_cflb_prom_size(ngx_cflb_conf_t *ccf, size_t *per)
{
    size_t                line;
    ngx_uint_t            i, j;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *ep;

    if (ccf == NULL) {
        return;
    }

    /* a metric name, the label names, a value of 20 digits and more */
    line = 256;

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        for (j = 0; j < lbs[i]->view.pools->n; j++) {
            per[NGX_CFLB_PROM_LB_POOL] += line + 2 * lbs[i]->name.len
                + 2 * lbs[i]->view.pools->entries[j]->pool->name.len;
        }
    }

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        per[NGX_CFLB_PROM_POOL] += line + 2 * pools[i]->name.len;

        ep = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            per[NGX_CFLB_PROM_ENDPOINT] += line + 2 * pools[i]->name.len
                                           + 2 * ep[j].name.len;
        }
    }
}


static ngx_int_t
ngx_cflb_prom_outstanding(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    cflb_member_t *lm, uint64_t *v)
{
    *v = ep ? ep->sh->c.active : pool->sh->c.active;

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_prom_healthy(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    cflb_member_t *lm, uint64_t *v)
{
    ngx_uint_t  h;

    if (ep) {
        *v = ngx_cflb_endpoint_healthy(ep) ? 1 : 0;
        return NGX_OK;
    }

    /* as the status document shows it: 0 unknown, else the state + 1 */
    h = pool->sh->health;

    *v = (pool->monitor == NULL || h != CFLB_POOL_CRITICAL + 1);

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_prom_enabled(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    cflb_member_t *lm, uint64_t *v)
{
    if (ep) {
        *v = !(ep->disabled || ep->sh->disabled_at);

    } else {
        *v = pool->enabled ? 1 : 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_prom_weight(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    cflb_member_t *lm, uint64_t *v)
{
    *v = ep ? ep->weight : lm->weight;

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_prom_rtt(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    cflb_member_t *lm, uint64_t *v)
{
    if (pool->monitor == NULL) {
        return NGX_DECLINED;
    }

    /* usec, so six decimals of a second */
    *v = ep ? ep->sh->rtt : pool->sh->rtt;

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_prom_drain(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    cflb_member_t *lm, uint64_t *v)
{
    time_t  left;

    if (ep->sh->disabled_at == 0) {
        return NGX_DECLINED;
    }

    left = ep->sh->disabled_at + ngx_cflb_pool_drain(pool) - ngx_time();

    *v = left > 0 ? left : 0;

    return NGX_OK;
}
