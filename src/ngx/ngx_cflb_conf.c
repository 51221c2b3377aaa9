
/*
 * cflb configuration: cflb_zone, cflb_pool and the body of cflb_lb, parsed
 * once for both subsystems, and the finishing steps that resolve names
 * and build the steering sets once the whole block has been read.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb.h"


static char *ngx_cflb_pool_handler(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_cflb_pool_shedding(ngx_conf_t *cf, ngx_cflb_pool_t *pool);
static char *ngx_cflb_pool_endpoint(ngx_conf_t *cf, ngx_cflb_pool_t *pool);
static char *ngx_cflb_endpoint_param(ngx_conf_t *cf,
    ngx_cflb_endpoint_t *ep, ngx_str_t *param);
static ngx_int_t ngx_cflb_valid_host(ngx_str_t *host);
static ngx_int_t ngx_cflb_pool_init(ngx_conf_t *cf, ngx_cflb_pool_t *pool);
static ngx_int_t ngx_cflb_pool_monitor(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_cflb_pool_t *pool);
static ngx_int_t ngx_cflb_lb_resolve(ngx_conf_t *cf, ngx_cflb_lb_t *lb);
static ngx_int_t ngx_cflb_lb_weights(ngx_conf_t *cf, ngx_cflb_lb_t *lb);
static void *ngx_cflb_palloc(void *data, size_t size);
static void ngx_cflb_pfree(void *data, void *p);


ngx_cflb_conf_t *
ngx_cflb_create_conf(ngx_conf_t *cf, ngx_module_t *module,
    ngx_uint_t default_port, ngx_uint_t debug)
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
     *     ccf->http = 0;
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

    ccf->module = module;
    ccf->default_port = default_port;
    ccf->debug = debug;

    return ccf;
}


char *
ngx_cflb_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (ccf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small, the minimum is %uz",
                           &value[1], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    ccf->shm_zone = ngx_shared_memory_add(cf, &value[1], size, ccf->module);
    if (ccf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ccf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    ccf->shm_zone->init = ngx_cflb_init_zone;
    ccf->shm_zone->data = ccf;

    return NGX_CONF_OK;
}


char *
ngx_cflb_pool_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    char                 *rv;
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_conf_t            save;
    ngx_cflb_pool_t      *pool, **pp;
    ngx_cflb_endpoint_t  *eps;

    value = cf->args->elts;

    if (ngx_cflb_find_pool(ccf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate cflb_pool \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    pool = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_pool_t));
    if (pool == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&pool->endpoints, cf->pool, 4,
                       sizeof(ngx_cflb_endpoint_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    pool->name = value[1];
    pool->id = cflb_token_id(pool->name.data, pool->name.len);
    pool->conf = ccf;
    pool->policy = NGX_CONF_UNSET;
    pool->minimum_origins = NGX_CONF_UNSET_UINT;
    pool->enabled = NGX_CONF_UNSET;
    pool->file = cf->conf_file->file.name.data;
    pool->line = cf->conf_file->line;

    pp = ngx_array_push(&ccf->pools);
    if (pp == NULL) {
        return NGX_CONF_ERROR;
    }

    *pp = pool;

    save = *cf;
    cf->handler = ngx_cflb_pool_handler;
    cf->handler_conf = (char *) pool;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (pool->endpoints.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_pool \"%V\" has no endpoints", &pool->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(pool->policy, CFLB_STEER_RANDOM);
    ngx_conf_init_uint_value(pool->minimum_origins, 1);
    ngx_conf_init_value(pool->enabled, 1);

    /* what runtime overrides start from and are checked against */
    pool->conf_enabled = pool->enabled;
    eps = pool->endpoints.elts;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        eps[i].conf_weight = eps[i].weight;
        eps[i].conf_disabled = eps[i].disabled;
    }

    if (pool->minimum_origins > pool->endpoints.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "minimum_origins %ui of cflb_pool \"%V\" exceeds "
                           "its %ui endpoints", pool->minimum_origins,
                           &pool->name, pool->endpoints.nelts);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the directives inside cflb_pool {}, dispatched by name */

static char *
ngx_cflb_pool_handler(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_cflb_pool_t *pool = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    value = cf->args->elts;

    if (ngx_strcmp(value[0].data, "endpoint") == 0) {
        return ngx_cflb_pool_endpoint(cf, pool);
    }

    if (ngx_strcmp(value[0].data, "load_shedding") == 0) {
        if (pool->shed_set) {
            goto duplicate;
        }

        return ngx_cflb_pool_shedding(cf, pool);
    }

    if (cf->args->nelts != 2) {
        goto unknown;
    }

    if (ngx_strcmp(value[0].data, "endpoint_steering") == 0) {
        if (pool->policy != NGX_CONF_UNSET) {
            goto duplicate;
        }

        n = cflb_steer_policy(value[1].data, value[1].len);

        if (n == CFLB_ERROR || n == CFLB_STEER_OFF) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid endpoint_steering \"%V\", expected "
                               "random, hash, least_outstanding_requests or "
                               "least_connections", &value[1]);
            return NGX_CONF_ERROR;
        }

        pool->policy = n;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[0].data, "minimum_origins") == 0) {
        if (pool->minimum_origins != NGX_CONF_UNSET_UINT) {
            goto duplicate;
        }

        n = ngx_atoi(value[1].data, value[1].len);

        if (n == NGX_ERROR || n < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid minimum_origins \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        pool->minimum_origins = n;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[0].data, "monitor") == 0) {
        if (pool->monitor_name.data) {
            goto duplicate;
        }

        pool->monitor_name = value[1];
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[0].data, "enabled") == 0) {
        if (pool->enabled != NGX_CONF_UNSET) {
            goto duplicate;
        }

        if (ngx_strcmp(value[1].data, "on") == 0) {
            pool->enabled = 1;

        } else if (ngx_strcmp(value[1].data, "off") == 0) {
            pool->enabled = 0;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"enabled\", it must "
                               "be \"on\" or \"off\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    goto unknown;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" directive is duplicate in cflb_pool \"%V\"",
                       &value[0], &pool->name);

    return NGX_CONF_ERROR;

unknown:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown directive or wrong number of arguments "
                       "\"%V\" in cflb_pool", &value[0]);

    return NGX_CONF_ERROR;
}


/* load_shedding default_percent=P [default_policy=random|hash]
                 [session_percent=P] */

static char *
ngx_cflb_pool_shedding(ngx_conf_t *cf, ngx_cflb_pool_t *pool)
{
    ngx_int_t    n;
    ngx_str_t   *value, v;
    ngx_uint_t   i, *percent;

    pool->shed_set = 1;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "default_policy=random") == 0) {
            pool->shed_hash = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "default_policy=hash") == 0) {
            pool->shed_hash = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "default_percent=", 16) == 0) {
            percent = &pool->shed_default;
            v.data = value[i].data + 16;
            v.len = value[i].len - 16;

        } else if (ngx_strncmp(value[i].data, "session_percent=", 16) == 0) {
            percent = &pool->shed_session;
            v.data = value[i].data + 16;
            v.len = value[i].len - 16;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid load_shedding parameter \"%V\", "
                               "expected default_percent=, default_policy= "
                               "or session_percent=", &value[i]);
            return NGX_CONF_ERROR;
        }

        n = ngx_atoi(v.data, v.len);

        if (n == NGX_ERROR || n > 100) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid load_shedding \"%V\", the percent "
                               "must be from 0 to 100", &value[i]);
            return NGX_CONF_ERROR;
        }

        *percent = n;
    }

    return NGX_CONF_OK;
}


/* endpoint NAME ADDRESS[:PORT] [weight=W] [host=HOST] [disabled] */

static char *
ngx_cflb_pool_endpoint(ngx_conf_t *cf, ngx_cflb_pool_t *pool)
{
    char                 *rv;
    ngx_url_t             u;
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_cflb_endpoint_t  *ep, *eps;

    value = cf->args->elts;

    if (cf->args->nelts < 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "endpoint needs a name and an address");
        return NGX_CONF_ERROR;
    }

    eps = pool->endpoints.elts;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        if (eps[i].name.len == value[1].len
            && ngx_strncmp(eps[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate endpoint \"%V\" in cflb_pool \"%V\"",
                               &value[1], &pool->name);
            return NGX_CONF_ERROR;
        }
    }

    ep = ngx_array_push(&pool->endpoints);
    if (ep == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(ep, sizeof(ngx_cflb_endpoint_t));

    ep->name = value[1];
    ep->id = cflb_token_id(ep->name.data, ep->name.len);
    ep->address = value[2];
    ep->weight = CFLB_WEIGHT_SCALE;
    ep->pool = pool;

    for (i = 3; i < cf->args->nelts; i++) {
        rv = ngx_cflb_endpoint_param(cf, ep, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[2];
    u.default_port = (in_port_t) pool->conf->default_port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in endpoint \"%V\" address \"%V\"",
                               u.err, &value[1], &value[2]);
        }

        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "endpoint \"%V\" address \"%V\" has no address",
                           &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    /* a hostname resolving to several addresses: the first one serves */
    ep->addr = u.addrs[0];
    ep->no_port = u.no_port;

    if (ep->no_port && pool->conf->default_port == 0) {
        /* the port is the client's: show the address without one */
        ep->addr.name = value[2];
    }

    return NGX_CONF_OK;
}


static char *
ngx_cflb_endpoint_param(ngx_conf_t *cf, ngx_cflb_endpoint_t *ep,
    ngx_str_t *param)
{
    uint32_t  w;

    if (ngx_strncmp(param->data, "weight=", 7) == 0) {
        if (cflb_weight_parse(param->data + 7, param->len - 7, &w)
            != CFLB_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid weight \"%V\" of endpoint \"%V\", "
                               "it must be 0.00 to 1.00", param, &ep->name);
            return NGX_CONF_ERROR;
        }

        ep->weight = w;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(param->data, "host=", 5) == 0) {
        if (!ep->pool->conf->http) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"host=\" of endpoint \"%V\" has no meaning "
                               "in stream{}, a TCP or UDP session has no "
                               "Host header", &ep->name);
            return NGX_CONF_ERROR;
        }

        ep->host.data = param->data + 5;
        ep->host.len = param->len - 5;

        if (ngx_cflb_valid_host(&ep->host) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid host \"%V\" of endpoint \"%V\"",
                               param, &ep->name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(param->data, "disabled") == 0) {
        ep->disabled = 1;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" of endpoint \"%V\"",
                       param, &ep->name);

    return NGX_CONF_ERROR;
}


/* a host header value: hostname or IP literal, optional port */

static ngx_int_t
ngx_cflb_valid_host(ngx_str_t *host)
{
    u_char      c;
    ngx_uint_t  i;

    if (host->len == 0 || host->len > 255) {
        return NGX_ERROR;
    }

    for (i = 0; i < host->len; i++) {
        c = host->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '.' || c == '-' || c == '_' || c == ':'
            || c == '[' || c == ']')
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_cflb_lb_t *
ngx_cflb_lb_create(ngx_conf_t *cf, ngx_cflb_conf_t *ccf, ngx_url_t *u)
{
    ngx_str_t       *name;
    ngx_uint_t       i;
    ngx_cflb_lb_t  **lbs, *lb;

    name = (ngx_str_t *) cf->args->elts + 1;
    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        if (lbs[i]->name.len == name->len
            && ngx_strncasecmp(lbs[i]->name.data, name->data, name->len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate cflb_lb \"%V\", first defined "
                               "in %s:%ui", name, lbs[i]->file, lbs[i]->line);
            return NULL;
        }
    }

    lb = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_lb_t));
    if (lb == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lb->pool_names, cf->pool, 4, sizeof(ngx_str_t))
        != NGX_OK
        || ngx_array_init(&lb->weights, cf->pool, 4,
                          sizeof(ngx_cflb_pool_weight_t))
           != NGX_OK)
    {
        return NULL;
    }

    ngx_memzero(u, sizeof(ngx_url_t));
    u->host = *name;
    u->no_resolve = 1;
    u->no_port = 1;

    lb->name = *name;
    lb->conf = ccf;
    lb->steering = NGX_CONF_UNSET;
    lb->default_weight = NGX_CONF_UNSET_UINT;
    lb->affinity.mode = NGX_CONF_UNSET_UINT;
    lb->affinity.ttl = NGX_CONF_UNSET;
    lb->affinity.samesite = NGX_CONF_UNSET_UINT;
    lb->affinity.secure = NGX_CONF_UNSET_UINT;
    lb->affinity.require_all = NGX_CONF_UNSET;
    lb->affinity.drain = NGX_CONF_UNSET;
    lb->affinity.zdf = NGX_CONF_UNSET_UINT;
    lb->affinity.across_pools = NGX_CONF_UNSET;
    lb->file = cf->conf_file->file.name.data;
    lb->line = cf->conf_file->line;
    lb->affinity.file = lb->file;
    lb->affinity.line = lb->line;

    lbs = ngx_array_push(&ccf->lbs);
    if (lbs == NULL) {
        return NULL;
    }

    *lbs = lb;

    return lb;
}


/*
 * The confs of every module of a subsystem for a new upstream block, as
 * the subsystem's own upstream{} makes them: create is the offset of
 * create_srv_conf (or create_loc_conf) in that subsystem's module context.
 */

void **
ngx_cflb_module_confs(ngx_conf_t *cf, ngx_uint_t type, ngx_uint_t max,
    size_t create)
{
    void                    **confs;
    ngx_uint_t                m;
    ngx_module_t            **modules;
    ngx_cflb_create_conf_pt   create_conf;

    confs = ngx_pcalloc(cf->pool, max * sizeof(void *));
    if (confs == NULL) {
        return NULL;
    }

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type != type) {
            continue;
        }

        create_conf = *(ngx_cflb_create_conf_pt *)
                          ((u_char *) modules[m]->ctx + create);

        if (create_conf == NULL) {
            continue;
        }

        confs[modules[m]->ctx_index] = create_conf(cf);

        if (confs[modules[m]->ctx_index] == NULL) {
            return NULL;
        }
    }

    return confs;
}


/*
 * Read the body of a cflb_lb block in the upstream context ctx that the
 * subsystem built.  Other balancing methods (hash, least_conn, ...) set
 * the upstream's flags when they take it over; keepalive, which wraps
 * cflb, does not.
 */

char *
ngx_cflb_lb_parse(ngx_conf_t *cf, ngx_cflb_lb_t *lb, void *ctx,
    void **srv_conf, ngx_uint_t cmd_type, ngx_uint_t *flags,
    ngx_uint_t created)
{
    char        *rv;
    ngx_conf_t   save;

    /* the lb directives find their load balancer here */
    srv_conf[lb->conf->module->ctx_index] = lb;

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = cmd_type;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv == NGX_CONF_OK && *flags != created) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_lb \"%V\" may not use another load "
                           "balancing method", &lb->name);
        return NGX_CONF_ERROR;
    }

    return rv;
}


#define ngx_cflb_lb_conf(cf, conf)                                            \
    if (conf == NULL) {                                                       \
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,                              \
                           "\"%V\" directive is allowed only inside cflb_lb", \
                           &((ngx_str_t *) cf->args->elts)[0]);               \
        return NGX_CONF_ERROR;                                                \
    }


char *
ngx_cflb_lb_pools(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    ngx_str_t   *value, *name;
    ngx_uint_t   i, j;

    ngx_cflb_lb_conf(cf, lb);

    if (lb->pool_names.nelts) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts - 1 > NGX_CFLB_MAX_POOLS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many pools, the maximum is %d",
                           NGX_CFLB_MAX_POOLS);
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        for (j = 1; j < i; j++) {
            if (value[i].len == value[j].len
                && ngx_strncmp(value[i].data, value[j].data, value[i].len)
                   == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "pool \"%V\" is listed twice", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        name = ngx_array_push(&lb->pool_names);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}


char *
ngx_cflb_lb_fallback(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    ngx_str_t  *value;

    ngx_cflb_lb_conf(cf, lb);

    if (lb->fallback_name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lb->fallback_name = value[1];

    return NGX_CONF_OK;
}


char *
ngx_cflb_lb_steering(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    ngx_cflb_lb_conf(cf, lb);

    if (lb->steering != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = cflb_steer_policy(value[1].data, value[1].len);

    if (n == CFLB_ERROR || n == CFLB_STEER_HASH) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid steering \"%V\", expected off, random, "
                           "least_outstanding_requests or least_connections",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lb->steering = n;

    return NGX_CONF_OK;
}


/* random_steering [default_weight=W] [POOL=W ...] */

char *
ngx_cflb_lb_random_steering(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    u_char                  *eq;
    uint32_t                 w;
    ngx_str_t               *value, name;
    ngx_uint_t               i, j;
    ngx_cflb_pool_weight_t  *pw;

    ngx_cflb_lb_conf(cf, lb);

    if (lb->default_weight != NGX_CONF_UNSET_UINT || lb->weights.nelts) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL || eq == value[i].data) {
            goto invalid;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;

        if (cflb_weight_parse(eq + 1, value[i].data + value[i].len - eq - 1,
                              &w)
            != CFLB_OK)
        {
            goto invalid;
        }

        if (name.len == 14
            && ngx_strncmp(name.data, "default_weight", 14) == 0)
        {
            if (lb->default_weight != NGX_CONF_UNSET_UINT) {
                goto twice;
            }

            lb->default_weight = w;
            continue;
        }

        pw = lb->weights.elts;

        for (j = 0; j < lb->weights.nelts; j++) {
            if (pw[j].name.len == name.len
                && ngx_strncmp(pw[j].name.data, name.data, name.len) == 0)
            {
                goto twice;
            }
        }

        pw = ngx_array_push(&lb->weights);
        if (pw == NULL) {
            return NGX_CONF_ERROR;
        }

        pw->name = name;
        pw->weight = w;
    }

    return NGX_CONF_OK;

twice:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" is weighted twice in random_steering", &name);

    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid random_steering parameter \"%V\", expected "
                       "default_weight=W or POOL=W with W from 0.00 to 1.00",
                       &value[i]);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_cflb_lb_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_uint_t nservers,
    void *zone)
{
    ngx_uint_t         i, stateful;
    cflb_allocator_t   a;

    if (nservers) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"server\" is not allowed in cflb_lb \"%V\" in "
                      "%s:%ui, list endpoints in a cflb_pool",
                      &lb->name, lb->file, lb->line);
        return NGX_ERROR;
    }

    if (zone) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"zone\" is not allowed in cflb_lb \"%V\" in %s:%ui, "
                      "cflb_zone keeps its state", &lb->name, lb->file,
                      lb->line);
        return NGX_ERROR;
    }

    if (ngx_cflb_lb_resolve(cf, lb) != NGX_OK
        || ngx_cflb_lb_weights(cf, lb) != NGX_OK
        || ngx_cflb_affinity_init(cf, lb) != NGX_OK)
    {
        return NGX_ERROR;
    }

    lb->members = ngx_pcalloc(cf->pool, lb->npools * sizeof(cflb_member_t));
    if (lb->members == NULL) {
        return NGX_ERROR;
    }

    stateful = (lb->affinity.mode != NGX_CFLB_AFFINITY_NONE);

    for (i = 0; i < lb->npools; i++) {
        lb->members[i].name.data = lb->pools[i].pool->name.data;
        lb->members[i].name.len = lb->pools[i].pool->name.len;
        lb->members[i].weight = (uint32_t) lb->pools[i].weight;

        if (lb->pools[i].pool->shed_default
            || lb->pools[i].pool->shed_session)
        {
            stateful = 1;
        }
    }

    lb->sess_size = stateful ? sizeof(ngx_cflb_sess_t) : 0;

    ngx_conf_init_value(lb->steering, CFLB_STEER_OFF);

    ngx_cflb_allocator(&a, cf->pool);

    if (cflb_set_init(&lb->set, lb->steering, lb->members, lb->npools, &a)
        != CFLB_OK)
    {
        return NGX_ERROR;
    }

#if (NGX_SSL)
    lb->ssl = ngx_pcalloc(cf->pool, lb->npeers * sizeof(ngx_cflb_peer_ssl_t));
    if (lb->ssl == NULL) {
        return NGX_ERROR;
    }
#endif

    lb->initialized = 1;

    return NGX_OK;
}


/* pool names to pools, the fallback, and each pool's peer index base */

static ngx_int_t
ngx_cflb_lb_resolve(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_str_t        *names;
    ngx_uint_t        i;
    ngx_cflb_pool_t  *pool;

    names = lb->pool_names.elts;
    lb->npools = lb->pool_names.nelts;

    if (lb->npools == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "cflb_lb \"%V\" has no \"pools\" in %s:%ui",
                      &lb->name, lb->file, lb->line);
        return NGX_ERROR;
    }

    lb->pools = ngx_pcalloc(cf->pool,
                            lb->npools * sizeof(ngx_cflb_lb_pool_t));
    if (lb->pools == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < lb->npools; i++) {
        pool = ngx_cflb_find_pool(lb->conf, &names[i]);

        if (pool == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown pool \"%V\" in cflb_lb \"%V\" in %s:%ui",
                          &names[i], &lb->name, lb->file, lb->line);
            return NGX_ERROR;
        }

        if (ngx_cflb_pool_init(cf, pool) != NGX_OK) {
            return NGX_ERROR;
        }

        lb->pools[i].pool = pool;
        lb->pools[i].base = lb->npeers;
        lb->npeers += pool->endpoints.nelts;
    }

    if (lb->fallback_name.data == NULL) {
        /* the product's default: the last pool listed */
        lb->fallback = lb->pools[lb->npools - 1];
        return NGX_OK;
    }

    for (i = 0; i < lb->npools; i++) {
        if (lb->pools[i].pool->name.len == lb->fallback_name.len
            && ngx_strncmp(lb->pools[i].pool->name.data,
                           lb->fallback_name.data, lb->fallback_name.len)
               == 0)
        {
            lb->fallback = lb->pools[i];
            return NGX_OK;
        }
    }

    pool = ngx_cflb_find_pool(lb->conf, &lb->fallback_name);

    if (pool == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "unknown fallback_pool \"%V\" in cflb_lb \"%V\" "
                      "in %s:%ui", &lb->fallback_name, &lb->name,
                      lb->file, lb->line);
        return NGX_ERROR;
    }

    if (ngx_cflb_pool_init(cf, pool) != NGX_OK) {
        return NGX_ERROR;
    }

    lb->fallback.pool = pool;
    lb->fallback.base = lb->npeers;
    lb->npeers += pool->endpoints.nelts;

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_lb_weights(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_uint_t               i, j;
    ngx_cflb_pool_weight_t  *pw;

    ngx_conf_init_uint_value(lb->default_weight, CFLB_WEIGHT_SCALE);

    for (i = 0; i < lb->npools; i++) {
        lb->pools[i].weight = lb->default_weight;
    }

    pw = lb->weights.elts;

    for (j = 0; j < lb->weights.nelts; j++) {
        for (i = 0; i < lb->npools; i++) {
            if (lb->pools[i].pool->name.len == pw[j].name.len
                && ngx_strncmp(lb->pools[i].pool->name.data, pw[j].name.data,
                               pw[j].name.len)
                   == 0)
            {
                lb->pools[i].weight = pw[j].weight;
                break;
            }
        }

        if (i == lb->npools) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "random_steering names pool \"%V\" that is not in "
                          "\"pools\" of cflb_lb \"%V\" in %s:%ui",
                          &pw[j].name, &lb->name, lb->file, lb->line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* build the pool's endpoint steering set, once, whoever asks first */

static ngx_int_t
ngx_cflb_pool_init(ngx_conf_t *cf, ngx_cflb_pool_t *pool)
{
    ngx_uint_t            i;
    cflb_allocator_t      a;
    ngx_cflb_endpoint_t  *eps;

    if (pool->set.ops) {
        return NGX_OK;
    }

    eps = pool->endpoints.elts;

    pool->members = ngx_pcalloc(cf->pool,
                                pool->endpoints.nelts * sizeof(cflb_member_t));
    if (pool->members == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < pool->endpoints.nelts; i++) {
        pool->members[i].name.data = eps[i].name.data;
        pool->members[i].name.len = eps[i].name.len;
        pool->members[i].weight = (uint32_t) eps[i].weight;

        if (!eps[i].disabled && eps[i].weight > 0) {
            pool->nusable++;
        }
    }

    ngx_cflb_allocator(&a, cf->pool);

    if (cflb_set_init(&pool->set, pool->policy, pool->members,
                      pool->endpoints.nelts, &a)
        != CFLB_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
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

    if (ccf->pools.nelts && ccf->shm_zone == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"cflb_zone\" is required by cflb_pool \"%V\" "
                      "in %s:%ui", &pools[0]->name, pools[0]->file,
                      pools[0]->line);
        return NGX_ERROR;
    }

    return ngx_cflb_state_read(cf, ccf);
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


ngx_cflb_pool_t *
ngx_cflb_find_pool(ngx_cflb_conf_t *ccf, ngx_str_t *name)
{
    ngx_uint_t         i;
    ngx_cflb_pool_t  **pools;

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (pools[i]->name.len == name->len
            && ngx_strncmp(pools[i]->name.data, name->data, name->len) == 0)
        {
            return pools[i];
        }
    }

    return NULL;
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
