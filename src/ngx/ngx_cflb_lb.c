
/*
 * A load balancer: the cflb_lb block and what it becomes once read.
 * Every pool it may reach (listed, fallback, and those that maps and
 * rules name) is an entry with its own range of peer indices; pools in
 * priority order with their traffic steering form a pool list; the
 * configured load balancer is a view that a decision reads.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_conf.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_lb.h"
#include "ngx_cflb_decide.h"
#include "ngx_cflb_maps.h"
#include "ngx_cflb_location.h"
#include "ngx_cflb_rules.h"


static ngx_int_t ngx_cflb_lb_resolve(ngx_conf_t *cf, ngx_cflb_lb_t *lb);
static ngx_int_t ngx_cflb_pools_weigh(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_pools_t *list, ngx_array_t *weights, ngx_uint_t dflt);


#define ngx_cflb_lb_conf(cf, conf)                                            \
    if (conf == NULL) {                                                       \
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,                              \
                           "\"%V\" directive is allowed only inside cflb_lb", \
                           &((ngx_str_t *) cf->args->elts)[0]);               \
        return NGX_CONF_ERROR;                                                \
    }


ngx_cflb_lb_t *
ngx_cflb_lb_create(ngx_conf_t *cf, ngx_cflb_conf_t *ccf, ngx_url_t *u)
{
    int              i;
    ngx_str_t       *name;
    ngx_cflb_lb_t  **lbs, *lb;

    name = (ngx_str_t *) cf->args->elts + 1;
    lbs = ccf->lbs.elts;

    /* caseless, as nginx's upstream names */
    i = cflb_names_find(&ccf->lb_index, name->data, name->len);

    if (i >= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate cflb_lb \"%V\", first defined "
                           "in %s:%ui", name, lbs[i]->file, lbs[i]->line);
        return NULL;
    }

    lb = ngx_cflb_lb_alloc(cf, ccf);
    if (lb == NULL) {
        return NULL;
    }

    ngx_memzero(u, sizeof(ngx_url_t));
    u->host = *name;
    u->no_resolve = 1;
    u->no_port = 1;

    lb->name = *name;

    lbs = ngx_array_push(&ccf->lbs);
    if (lbs == NULL) {
        return NULL;
    }

    *lbs = lb;

    if (cflb_names_add(&ccf->lb_index, ccf->lbs.nelts - 1, NULL) != CFLB_OK) {
        return NULL;
    }

    return lb;
}


/*
 * Settings not yet read: the cflb_lb block's, and a rule's overrides,
 * which the same directives fill.
 */

ngx_cflb_lb_t *
ngx_cflb_lb_alloc(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_cflb_lb_t  *lb;

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

    lb->conf = ccf;
    lb->steering = NGX_CONF_UNSET;
    lb->locate = NGX_CONF_UNSET_UINT;
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

    if (value[1].len == 0) {
        /* the product's "": geo with a map of pools, else off */
        return NGX_CONF_OK;
    }

    n = ngx_cflb_policy(cf, lb->conf, &value[1], CFLB_LEVEL_POOL);
    if (n == NGX_ERROR) {
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
    ngx_uint_t  i, stateful;

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

    lb->view.lb = lb;
    lb->view.pools = &lb->pools;
    lb->view.affinity = &lb->affinity;
    lb->view.locate = (lb->locate == NGX_CONF_UNSET_UINT)
                      ? NGX_CFLB_LOCATE_CLIENT : lb->locate;
    lb->view.prefer_ecs = lb->prefer_ecs;

    if (ngx_cflb_lb_resolve(cf, lb) != NGX_OK
        || ngx_cflb_pools_weigh(cf, lb, &lb->pools, &lb->weights,
                                lb->default_weight)
           != NGX_OK
        || ngx_cflb_pools_check(cf, lb, &lb->pools) != NGX_OK
        || ngx_cflb_maps_init(cf, lb, &lb->view) != NGX_OK
        || (lb->rules && ngx_cflb_rules_init(cf, lb) != NGX_OK)
        || ngx_cflb_affinity_init(cf, lb) != NGX_OK)
    {
        return NGX_ERROR;
    }

    stateful = (lb->affinity.mode != NGX_CFLB_AFFINITY_NONE)
               || (lb->rules && lb->rules->stateful);

    for (i = 0; i < lb->nentries; i++) {
        if (lb->entries[i].pool->shed_default
            || lb->entries[i].pool->shed_session)
        {
            stateful = 1;
        }
    }

    lb->sess_size = stateful ? sizeof(ngx_cflb_sess_t) : 0;

#if (NGX_SSL)
    lb->ssl = ngx_pcalloc(cf->pool, lb->npeers * sizeof(ngx_cflb_peer_ssl_t));
    if (lb->ssl == NULL) {
        return NGX_ERROR;
    }
#endif

    lb->initialized = 1;

    return NGX_OK;
}


/*
 * The listed pools, steered by the lb's policy, then the fallback, as
 * entries: peer indices follow the order of "pools".
 */

static ngx_int_t
ngx_cflb_lb_resolve(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_str_t  *names, *fallback;

    names = lb->pool_names.elts;

    if (lb->pool_names.nelts == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "cflb_lb \"%V\" has no \"pools\" in %s:%ui",
                      &lb->name, lb->file, lb->line);
        return NGX_ERROR;
    }

    /* no steering, or "": geo with a map of pools, else off (product) */
    ngx_conf_init_value(lb->steering, lb->maps ? CFLB_STEER_GEO
                                               : CFLB_STEER_OFF);
    ngx_conf_init_uint_value(lb->default_weight, CFLB_WEIGHT_SCALE);

    if (ngx_cflb_pools_init(cf, lb, &lb->pools, names, lb->pool_names.nelts,
                            lb->steering)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the product's default fallback: the last pool listed */
    fallback = lb->fallback_name.data ? &lb->fallback_name
                                      : &names[lb->pool_names.nelts - 1];

    lb->view.fallback = ngx_cflb_lb_entry(cf, lb, fallback, "fallback_pool");

    return lb->view.fallback ? NGX_OK : NGX_ERROR;
}


ngx_cflb_lb_pool_t *
ngx_cflb_lb_entry(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_str_t *name,
    const char *what)
{
    ngx_uint_t           i;
    ngx_cflb_pool_t     *pool;
    ngx_cflb_lb_pool_t  *entry;

    pool = ngx_cflb_find_pool(lb->conf, name);

    if (pool == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "unknown %s \"%V\" in cflb_lb \"%V\" in %s:%ui",
                      what, name, &lb->name, lb->file, lb->line);
        return NULL;
    }

    for (i = 0; i < lb->nentries; i++) {
        if (lb->entries[i].pool == pool) {
            return &lb->entries[i];
        }
    }

    if (lb->entries == NULL) {
        /* never moved once made: lists and views point into it */
        lb->entries = ngx_pcalloc(cf->pool, NGX_CFLB_MAX_POOLS
                                            * sizeof(ngx_cflb_lb_pool_t));
        if (lb->entries == NULL) {
            return NULL;
        }
    }

    if (lb->nentries == NGX_CFLB_MAX_POOLS) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "cflb_lb \"%V\" reaches more than %d pools in %s:%ui",
                      &lb->name, NGX_CFLB_MAX_POOLS, lb->file, lb->line);
        return NULL;
    }

    if (ngx_cflb_pool_init(cf, pool) != NGX_OK) {
        return NULL;
    }

    entry = &lb->entries[lb->nentries];
    entry->pool = pool;
    entry->base = lb->npeers;
    entry->index = lb->nentries++;

    lb->npeers += pool->endpoints.nelts;

    return entry;
}


ngx_int_t
ngx_cflb_pools_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_pools_t *list, ngx_str_t *names, ngx_uint_t n,
    ngx_int_t policy)
{
    ngx_uint_t           i;
    ngx_cflb_lb_pool_t  *entry;

    list->entries = ngx_pcalloc(cf->pool, n * sizeof(ngx_cflb_lb_pool_t *));
    list->members = ngx_pcalloc(cf->pool, n * sizeof(cflb_member_t));

    if (list->entries == NULL || list->members == NULL) {
        return NGX_ERROR;
    }

    list->n = n;
    list->policy = policy;
    list->mask = 0;

    /* a least-load tree, if any, comes with the zone (ngx_cflb_trees.c) */
    list->tree = NULL;
    list->draw = NULL;
    list->tree_sh = NULL;
    list->map = NULL;
    list->pick_map = NULL;

    for (i = 0; i < n; i++) {
        entry = ngx_cflb_lb_entry(cf, lb, &names[i], "pool");
        if (entry == NULL) {
            return NGX_ERROR;
        }

        list->entries[i] = entry;
        list->mask |= (uint64_t) 1 << entry->index;
        list->members[i].name.data = entry->pool->name.data;
        list->members[i].name.len = entry->pool->name.len;
        list->members[i].weight = CFLB_WEIGHT_SCALE;
        list->members[i].where = entry->pool->coords ? &entry->pool->where
                                                     : NULL;
    }

    return ngx_cflb_pools_steer(cf, list);
}


ngx_int_t
ngx_cflb_pools_steer(ngx_conf_t *cf, ngx_cflb_pools_t *list)
{
    cflb_allocator_t  a;

    ngx_cflb_allocator(&a, cf->pool);

    if (cflb_set_init(&list->set, list->policy, list->members, list->n, &a)
        != CFLB_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* random_steering: each listed pool's weight, then the set made again */

static ngx_int_t
ngx_cflb_pools_weigh(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_pools_t *list, ngx_array_t *weights, ngx_uint_t dflt)
{
    ngx_uint_t               i, j;
    ngx_cflb_pool_weight_t  *pw;

    for (i = 0; i < list->n; i++) {
        list->members[i].weight = (uint32_t) dflt;
    }

    pw = weights->elts;

    for (j = 0; j < weights->nelts; j++) {
        for (i = 0; i < list->n; i++) {
            if (list->entries[i]->pool->name.len == pw[j].name.len
                && ngx_strncmp(list->entries[i]->pool->name.data,
                               pw[j].name.data, pw[j].name.len)
                   == 0)
            {
                list->members[i].weight = (uint32_t) pw[j].weight;
                break;
            }
        }

        if (i == list->n) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "random_steering names pool \"%V\" that is not in "
                          "\"pools\" of cflb_lb \"%V\" in %s:%ui",
                          &pw[j].name, &lb->name, lb->file, lb->line);
            return NGX_ERROR;
        }
    }

    if (dflt == CFLB_WEIGHT_SCALE && weights->nelts == 0) {
        return NGX_OK;
    }

    /* the set was built with equal weights: once more with these */
    return ngx_cflb_pools_steer(cf, list);
}


/*
 * What the list's policy needs of its pools and of the configuration,
 * as its table row says: coordinates on every pool, a way to locate the
 * client, round trips (monitors) to compare.
 */

ngx_int_t
ngx_cflb_pools_check(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_pools_t *list)
{
    ngx_uint_t               i;
    ngx_cflb_pool_t         *pool;
    const cflb_steer_ops_t  *ops;

    ops = list->set.ops;

    for (i = 0; i < list->n; i++) {
        pool = list->entries[i]->pool;

        if ((ops->inputs & CFLB_NEED_COORDS) && !pool->coords) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "%s steering of cflb_lb \"%V\" needs coordinates "
                          "on every pool, cflb_pool \"%V\" has none "
                          "(\"coordinates LAT LON;\") in %s:%ui",
                          ops->name, &lb->name, &pool->name, pool->file,
                          pool->line);
            return NGX_ERROR;
        }

        if ((ops->inputs & CFLB_NEED_RTT) && pool->monitor_name.len == 0) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "%s steering of cflb_lb \"%V\": cflb_pool "
                          "\"%V\" has no monitor to measure, it comes after "
                          "the pools that have one, in %s:%ui",
                          ops->name, &lb->name, &pool->name, lb->file,
                          lb->line);
        }
    }

    if ((ops->inputs & CFLB_NEED_COORDS)
        && !ngx_cflb_locates_coords(lb->conf, lb->view.locate))
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "%s steering of cflb_lb \"%V\" needs the client's "
                      "coordinates: %s, in %s:%ui", ops->name, &lb->name,
                      (lb->view.locate == NGX_CFLB_LOCATE_POP)
                      ? "location_strategy pop takes cflb_node lat= lon="
                      : (lb->conf->geo == NULL)
                        ? "cflb_geoip2, or cflb_node lat= lon="
                        : "a cflb_geoip2 database with them (City)",
                      lb->file, lb->line);
        return NGX_ERROR;
    }

    return NGX_OK;
}
