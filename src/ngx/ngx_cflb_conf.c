
/*
 * A subsystem's cflb configuration as a whole: its main conf, the policy
 * keywords, finding the other subsystem's conf, and the checks that need
 * every block read.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_conf.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_health.h"
#include "ngx_cflb_trace.h"
#include "ngx_cflb_notify.h"
#include "ngx_cflb_cluster.h"


static ngx_int_t ngx_cflb_pool_monitor(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_cflb_pool_t *pool);
static cflb_str_t ngx_cflb_pool_key(void *data, uint32_t pos);
static cflb_str_t ngx_cflb_lb_key(void *data, uint32_t pos);
static void *ngx_cflb_palloc(void *data, size_t size);
static void ngx_cflb_pfree(void *data, void *p);


ngx_cflb_conf_t *
ngx_cflb_create_conf(ngx_conf_t *cf, ngx_module_t *module,
    ngx_uint_t mode)
{
    ngx_cflb_conf_t  *ccf;

    ccf = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ccf->shm_zone = NULL;
     *     ccf->sh = NULL;
     */

    if (ngx_array_init(&ccf->pools, cf->pool, 4, sizeof(ngx_cflb_pool_t *))
        != NGX_OK
        || ngx_array_init(&ccf->lbs, cf->pool, 4, sizeof(ngx_cflb_lb_t *))
           != NGX_OK
        || ngx_array_init(&ccf->monitors, cf->pool, 4,
                          sizeof(ngx_cflb_monitor_t *))
           != NGX_OK)
    {
        return NULL;
    }

    /* names are found by hash: a configuration loads in linear time */

    ngx_cflb_allocator(&ccf->alloc, cf->pool);

    if (cflb_names_init(&ccf->pool_index, &ccf->alloc, 0, 0,
                        ngx_cflb_pool_key, ccf)
        != CFLB_OK
        || cflb_names_init(&ccf->lb_index, &ccf->alloc, 0, 1,
                           ngx_cflb_lb_key, ccf)
           != CFLB_OK)
    {
        return NULL;
    }

    cflb_location_init(&ccf->node.location);

    ccf->cycle = cf->cycle;
    ccf->module = module;
    ccf->mode = mode;
    ccf->http = (mode == CFLB_MODE_L7);
    ccf->debug = ccf->http ? NGX_LOG_DEBUG_HTTP : NGX_LOG_DEBUG_STREAM;

    return ccf;
}


static cflb_str_t
ngx_cflb_pool_key(void *data, uint32_t pos)
{
    ngx_cflb_conf_t *ccf = data;

    cflb_str_t         s;
    ngx_cflb_pool_t  **pools;

    pools = ccf->pools.elts;
    s.data = pools[pos]->name.data;
    s.len = pools[pos]->name.len;

    return s;
}


static cflb_str_t
ngx_cflb_lb_key(void *data, uint32_t pos)
{
    ngx_cflb_conf_t *ccf = data;

    cflb_str_t       s;
    ngx_cflb_lb_t  **lbs;

    lbs = ccf->lbs.elts;
    s.data = lbs[pos]->name.data;
    s.len = lbs[pos]->name.len;

    return s;
}


ngx_int_t
ngx_cflb_policy(ngx_conf_t *cf, ngx_cflb_conf_t *ccf, ngx_str_t *value,
    ngx_uint_t level)
{
    ngx_int_t   n;
    ngx_str_t  *name;
    char        names[256];

    n = cflb_steer_policy_at(value->data, value->len, level, ccf->mode);

    if (n >= 0) {
        return n;
    }

    name = cf->args->elts;
    cflb_steer_names(names, sizeof(names), level, ccf->mode);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid %V \"%V\", expected %s", &name[0], value,
                       names);

    return NGX_ERROR;
}


ngx_int_t
ngx_cflb_postconfiguration(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t         i;
    ngx_cflb_lb_t    **lbs;
    ngx_cflb_pool_t  **pools;

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        if (!lbs[i]->initialized) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "cflb_lb \"%V\" may not use another load balancing "
                          "method in %s:%ui",
                          &lbs[i]->name, lbs[i]->file, lbs[i]->line);
            return NGX_ERROR;
        }
    }

    if (ccf->trace) {
        ngx_cflb_trace_init(ccf);
    }

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (ngx_cflb_pool_monitor(cf, ccf, pools[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_cflb_notify_init_conf(cf, ccf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_cflb_cluster_check(cf, ccf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ccf->pools.nelts && ccf->shm_zone == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"cflb_zone\" is required by cflb_pool \"%V\" "
                      "in %s:%ui", &pools[0]->name, pools[0]->file,
                      pools[0]->line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* link a pool to its monitor, which may be defined after it */

static ngx_int_t
ngx_cflb_pool_monitor(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_cflb_pool_t *pool)
{
    ngx_uint_t            i;
    ngx_cflb_endpoint_t  *eps;

    if (pool->monitor_name.data == NULL) {
        return NGX_OK;
    }

    pool->monitor = ngx_cflb_find_monitor(ccf, &pool->monitor_name);

    if (pool->monitor == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "unknown monitor \"%V\" in cflb_pool \"%V\" in %s:%ui",
                      &pool->monitor_name, &pool->name, pool->file,
                      pool->line);
        return NGX_ERROR;
    }

    if (pool->monitor->port) {
        return NGX_OK;
    }

    eps = pool->endpoints.elts;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        if (eps[i].no_port
            && pool->monitor->type != NGX_CFLB_MON_ICMP_PING)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "monitor \"%V\" needs a \"port\" to check "
                          "endpoint \"%V\" of cflb_pool \"%V\", which has "
                          "none, in %s:%ui", &pool->monitor->name,
                          &eps[i].name, &pool->name, pool->file, pool->line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_cflb_conf_t *
ngx_cflb_zone_conf(ngx_cycle_t *cycle, char *module)
{
    ngx_uint_t        i;
    ngx_module_t     *m;
    ngx_shm_zone_t   *zone;
    ngx_list_part_t  *part;

    m = NULL;

    for (i = 0; cycle->modules[i]; i++) {
        if (ngx_strcmp(cycle->modules[i]->name, module) == 0) {
            m = cycle->modules[i];
            break;
        }
    }

    if (m == NULL) {
        return NULL;
    }

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == m) {
            return zone[i].data;
        }
    }
}


void
ngx_cflb_allocator(cflb_allocator_t *a, ngx_pool_t *pool)
{
    a->alloc = ngx_cflb_palloc;
    a->free = ngx_cflb_pfree;
    a->data = pool;
}


static void *
ngx_cflb_palloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


static void
ngx_cflb_pfree(void *data, void *p)
{
    (void) ngx_pfree(data, p);
}
