
/*
 * A pool: the cflb_pool block (endpoints, endpoint steering, health
 * threshold, load shedding), the endpoint steering set built from it, and
 * the pool's state as its endpoints' records make it.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_conf.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_location.h"
#include "ngx_cflb_notify.h"
#include "ngx_cflb_resolve.h"


static char *ngx_cflb_pool_handler(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_cflb_pool_shedding(ngx_conf_t *cf, ngx_cflb_pool_t *pool);
static char *ngx_cflb_pool_endpoint(ngx_conf_t *cf, ngx_cflb_pool_t *pool);
static char *ngx_cflb_endpoint_param(ngx_conf_t *cf,
    ngx_cflb_endpoint_t *ep, ngx_str_t *param);
static cflb_str_t ngx_cflb_endpoint_key(void *data, uint32_t pos);
static ngx_int_t ngx_cflb_valid_host(ngx_str_t *host);
static ngx_uint_t ngx_cflb_pool_count_ready(ngx_cflb_pool_t *pool);
static char *ngx_cflb_pool_coordinates(ngx_conf_t *cf, ngx_cflb_pool_t *pool);
static char *ngx_cflb_pool_passive(ngx_conf_t *cf, ngx_cflb_pool_t *pool);
static char *ngx_cflb_passive_param(ngx_conf_t *cf, ngx_str_t *param,
    ngx_uint_t *max_fails, time_t *fail_timeout);


char *
ngx_cflb_pool_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    char                 *rv;
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_conf_t            save;
    cflb_names_t          names;
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
    pool->max_fails = NGX_CONF_UNSET_UINT;
    pool->fail_timeout = NGX_CONF_UNSET;
    pool->file = cf->conf_file->file.name.data;
    pool->line = cf->conf_file->line;

    pp = ngx_array_push(&ccf->pools);
    if (pp == NULL) {
        return NGX_CONF_ERROR;
    }

    *pp = pool;

    if (cflb_names_add(&ccf->pool_index, ccf->pools.nelts - 1, NULL)
        != CFLB_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the endpoints' names, for the duplicate check, while reading */
    if (cflb_names_init(&names, &ccf->alloc, 0, 0, ngx_cflb_endpoint_key,
                        pool)
        != CFLB_OK)
    {
        return NGX_CONF_ERROR;
    }

    pool->names = &names;

    save = *cf;
    cf->handler = ngx_cflb_pool_handler;
    cf->handler_conf = (char *) pool;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    pool->names = NULL;
    cflb_names_free(&names);

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

    /* passive health is off unless asked for (the product's ZDF does
       not mark an endpoint down); fail_timeout as nginx's, 10s */
    ngx_conf_init_uint_value(pool->max_fails, 0);
    ngx_conf_init_value(pool->fail_timeout, 10);

    /* what runtime overrides start from and are checked against */
    pool->conf_enabled = pool->enabled;
    eps = pool->endpoints.elts;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        eps[i].conf_weight = eps[i].weight;
        eps[i].conf_disabled = eps[i].disabled;

        if (eps[i].max_fails == NGX_CONF_UNSET_UINT) {
            eps[i].max_fails = pool->max_fails;
        }

        if (eps[i].fail_timeout == NGX_CONF_UNSET) {
            eps[i].fail_timeout = pool->fail_timeout;
        }
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

    if (ngx_strcmp(value[0].data, "passive_health") == 0) {
        if (pool->max_fails != NGX_CONF_UNSET_UINT) {
            goto duplicate;
        }

        return ngx_cflb_pool_passive(cf, pool);
    }

    if (ngx_strcmp(value[0].data, "notification_filter") == 0) {
        return ngx_cflb_notify_pool_filter(cf, pool);
    }

    if (ngx_strcmp(value[0].data, "load_shedding") == 0) {
        if (pool->shed_set) {
            goto duplicate;
        }

        return ngx_cflb_pool_shedding(cf, pool);
    }

    if (ngx_strcmp(value[0].data, "coordinates") == 0
        && cf->args->nelts == 3)
    {
        if (pool->coords) {
            goto duplicate;
        }

        return ngx_cflb_pool_coordinates(cf, pool);
    }

    if (cf->args->nelts != 2) {
        goto unknown;
    }

    if (ngx_strcmp(value[0].data, "endpoint_steering") == 0) {
        if (pool->policy != NGX_CONF_UNSET) {
            goto duplicate;
        }

        n = ngx_cflb_policy(cf, pool->conf, &value[1], CFLB_LEVEL_ENDPOINT);
        if (n == NGX_ERROR) {
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


/* passive_health max_fails=N [fail_timeout=TIME] */

static char *
ngx_cflb_pool_passive(ngx_conf_t *cf, ngx_cflb_pool_t *pool)
{
    char        *rv;
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        rv = ngx_cflb_passive_param(cf, &value[i], &pool->max_fails,
                                    &pool->fail_timeout);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (pool->max_fails == NGX_CONF_UNSET_UINT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "passive_health of cflb_pool \"%V\" needs "
                           "max_fails=N", &pool->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* max_fails=N (0: off) or fail_timeout=TIME, as nginx's server takes them */

static char *
ngx_cflb_passive_param(ngx_conf_t *cf, ngx_str_t *param,
    ngx_uint_t *max_fails, time_t *fail_timeout)
{
    ngx_int_t  n;
    ngx_str_t  v;

    if (ngx_strncmp(param->data, "max_fails=", 10) == 0) {
        n = ngx_atoi(param->data + 10, param->len - 10);

        if (n == NGX_ERROR || n > 1000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\", max_fails takes 0 to 1000",
                               param);
            return NGX_CONF_ERROR;
        }

        *max_fails = n;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(param->data, "fail_timeout=", 13) == 0) {
        v.data = param->data + 13;
        v.len = param->len - 13;

        n = ngx_parse_time(&v, 1);

        if (n == NGX_ERROR || n == 0 || n > 86400) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\", fail_timeout takes 1s to 1d",
                               param);
            return NGX_CONF_ERROR;
        }

        *fail_timeout = n;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid passive_health parameter \"%V\", expected "
                       "max_fails= or fail_timeout=", param);

    return NGX_CONF_ERROR;
}


/* coordinates LATITUDE LONGITUDE, in decimal degrees */

static char *
ngx_cflb_pool_coordinates(ngx_conf_t *cf, ngx_cflb_pool_t *pool)
{
    ngx_str_t   *value;
    u_char       at[NGX_CFLB_COORD_AT_LEN];
    ngx_uint_t   lon;
    cflb_err_t   err;
    int32_t      deg[2];

    value = cf->args->elts;

    for (lon = 0; lon < 2; lon++) {
        if (cflb_geo_coord_parse(value[1 + lon].data, value[1 + lon].len,
                                 (int) lon, &deg[lon], &err)
            != CFLB_OK)
        {
            ngx_cflb_coord_at(at, &err);

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %s \"%V\" in coordinates of "
                               "cflb_pool \"%V\": %s%s",
                               lon ? "longitude" : "latitude",
                               &value[1 + lon], &pool->name, err.msg, at);
            return NGX_CONF_ERROR;
        }
    }

    pool->lat = deg[0];
    pool->lon = deg[1];
    pool->coords = 1;
    cflb_geo_vec(pool->lat, pool->lon, &pool->where);

    return NGX_CONF_OK;
}


/*
 * endpoint NAME ADDRESS[:PORT] [weight=W] [host=HOST] [max_fails=N]
 *     [fail_timeout=TIME] [disabled] [resolve]
 */

static char *
ngx_cflb_pool_endpoint(ngx_conf_t *cf, ngx_cflb_pool_t *pool)
{
    char                 *rv;
    ngx_url_t             u;
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_cflb_endpoint_t  *ep;

    value = cf->args->elts;

    if (cf->args->nelts < 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "endpoint needs a name and an address");
        return NGX_CONF_ERROR;
    }

    if (value[1].len > 0xffff || value[2].len > 0xffff) {
        /* the zone keeps both in 16 bits */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "endpoint \"%V\" has a name or an address longer "
                           "than 65535 bytes", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cflb_names_find(pool->names, value[1].data, value[1].len) >= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate endpoint \"%V\" in cflb_pool \"%V\"",
                           &value[1], &pool->name);
        return NGX_CONF_ERROR;
    }

    ep = ngx_array_push(&pool->endpoints);
    if (ep == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(ep, sizeof(ngx_cflb_endpoint_t));

    ep->name = value[1];

    if (cflb_names_add(pool->names, pool->endpoints.nelts - 1, NULL)
        != CFLB_OK)
    {
        return NGX_CONF_ERROR;
    }

    ep->id = cflb_token_id(ep->name.data, ep->name.len);
    ep->address = value[2];
    ep->weight = CFLB_WEIGHT_SCALE;
    ep->pool = pool;
    ep->max_fails = NGX_CONF_UNSET_UINT;
    ep->fail_timeout = NGX_CONF_UNSET;

    for (i = 3; i < cf->args->nelts; i++) {
        rv = ngx_cflb_endpoint_param(cf, ep, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[2];
    u.default_port = (in_port_t) ngx_cflb_default_port(pool->conf);
    u.no_resolve = ep->resolve_set;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in endpoint \"%V\" address \"%V\"",
                               u.err, &value[1], &value[2]);
        }

        return NGX_CONF_ERROR;
    }

    ep->no_port = u.no_port;

    if (ep->resolve_set) {
        /* looked up again at run time (ngx_cflb_resolve.c) */
        return ngx_cflb_resolve_add(cf, ep, &u) == NGX_OK ? NGX_CONF_OK
                                                           : NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "endpoint \"%V\" address \"%V\" has no address",
                           &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    /* a hostname resolving to several addresses: each in turn */
    ep->addr = u.addrs[0];
    ep->addrs = u.addrs;
    ep->naddrs = u.naddrs;

    if (ep->no_port && ngx_cflb_default_port(pool->conf) == 0) {
        /* the port is the client's: show the address without one */
        ep->addr.name = value[2];

    } else {
        /* the peer's fast path: one test */
        ep->direct = (ep->naddrs == 1);
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

    if (ngx_strncmp(param->data, "max_fails=", 10) == 0
        || ngx_strncmp(param->data, "fail_timeout=", 13) == 0)
    {
        return ngx_cflb_passive_param(cf, param, &ep->max_fails,
                                      &ep->fail_timeout);
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

    if (ngx_strcmp(param->data, "resolve") == 0) {
        ep->resolve_set = 1;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" of endpoint \"%V\"",
                       param, &ep->name);

    return NGX_CONF_ERROR;
}


/* the name of the endpoint at pos, for the pool's index while reading */

static cflb_str_t
ngx_cflb_endpoint_key(void *data, uint32_t pos)
{
    ngx_cflb_pool_t *pool = data;

    cflb_str_t            s;
    ngx_cflb_endpoint_t  *eps;

    eps = pool->endpoints.elts;
    s.data = eps[pos].name.data;
    s.len = eps[pos].name.len;

    return s;
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


ngx_cflb_pool_t *
ngx_cflb_find_pool(ngx_cflb_conf_t *ccf, ngx_str_t *name)
{
    int                i;
    ngx_cflb_pool_t  **pools;

    i = cflb_names_find(&ccf->pool_index, name->data, name->len);

    if (i < 0) {
        return NULL;
    }

    pools = ccf->pools.elts;

    return pools[i];
}


ngx_int_t
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

    if (cflb_set_init(&pool->set,
                      ngx_cflb_set_policy(pool->conf, pool->policy),
                      pool->members, pool->endpoints.nelts, &a)
        != CFLB_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


cflb_pool_health_e
ngx_cflb_pool_health(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    cflb_health_t *h, ngx_uint_t assume)
{
    ngx_uint_t            i, total, healthy;
    cflb_health_t        *eh;
    ngx_cflb_endpoint_t  *eps;

    eps = pool->endpoints.elts;
    total = 0;
    healthy = 0;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        if (eps[i].disabled) {
            continue;
        }

        eh = (&eps[i] == ep) ? h : &eps[i].sh->health;

        total++;

        if (eh->healthy || (assume && !eh->known)) {
            healthy++;
        }
    }

    return cflb_pool_health(healthy, total, pool->minimum_origins);
}


ngx_uint_t
ngx_cflb_pool_critical(ngx_cflb_pool_t *pool)
{
    ngx_uint_t  gen;

    if (pool->monitor == NULL) {
        return 0;
    }

    gen = pool->conf->sh->health_gen + 1;

    if (pool->health_gen != gen) {
        pool->critical = (ngx_cflb_pool_health(pool, NULL, NULL, 0)
                          == CFLB_POOL_CRITICAL);
        pool->nready = ngx_cflb_pool_count_ready(pool);
        pool->health_gen = gen;
    }

    return pool->critical;
}


/* endpoints that steering may choose: enabled, weight > 0, healthy */

static ngx_uint_t
ngx_cflb_pool_count_ready(ngx_cflb_pool_t *pool)
{
    ngx_uint_t            i, n;
    ngx_cflb_endpoint_t  *eps;

    eps = pool->endpoints.elts;
    n = 0;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        n += (!eps[i].disabled && eps[i].weight > 0
              && ngx_cflb_endpoint_healthy(&eps[i]));
    }

    return n;
}


ngx_uint_t
ngx_cflb_pool_ready_monitored(ngx_cflb_pool_t *pool)
{
    (void) ngx_cflb_pool_critical(pool);

    return pool->nready;
}


void
ngx_cflb_pool_counters(ngx_cflb_pool_t *pool, ngx_cflb_counters_t *c)
{
    ngx_uint_t            i;
    ngx_cflb_endpoint_t  *eps;

    *c = pool->sh->c;
    c->sent = 0;
    c->received = 0;

    eps = pool->endpoints.elts;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        c->sent += eps[i].sh->c.sent;
        c->received += eps[i].sh->c.received;
    }
}
