
/*
 * The location settings of a load balancer: region_pools, country_pools
 * and pop_pools (geo steering's maps), and location_strategy.  A map
 * value is a pool list in failover order; its pools need not be in
 * "pools" (the product's rule), each becomes an entry of the load
 * balancer.  At a decision, geo steering takes the first list defined
 * of this node's PoP, the client's country, the client's region, and
 * then the view's pools.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_lb.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_maps.h"


/* a map as read: its keys, checked; the pool names resolved at init */
typedef struct {
    ngx_uint_t                type;          /* NGX_CFLB_GEO_* */
    ngx_str_t                 key;           /* as written */
    ngx_uint_t                code;          /* region, country index */
    ngx_array_t               names;         /* ngx_str_t */
    u_char                   *file;
    ngx_uint_t                line;
} ngx_cflb_map_t;


static char *ngx_cflb_map_entry(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_uint_t type, ngx_str_t *arg);
static ngx_int_t ngx_cflb_map_key(ngx_conf_t *cf, ngx_uint_t type,
    ngx_str_t *key, ngx_uint_t *code);
static ngx_cflb_pools_t *ngx_cflb_map_list(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_map_t *m);
static int ngx_libc_cdecl ngx_cflb_country_cmp(const void *a, const void *b);


static const char  *ngx_cflb_map_names[] = {
    NULL, "pop_pools", "country_pools", "region_pools"
};


/* region_pools | country_pools | pop_pools KEY=POOL[,POOL...] ... */

char *
ngx_cflb_lb_map(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    char            *rv;
    ngx_str_t       *value;
    ngx_uint_t       i, type;
    ngx_cflb_map_t  *m;

    if (lb == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive is allowed only inside cflb_lb",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    type = cmd->offset;

    if (lb->maps) {
        m = lb->maps->elts;

        for (i = 0; i < lb->maps->nelts; i++) {
            if (m[i].type == type) {
                return "is duplicate";
            }
        }

    } else {
        lb->maps = ngx_array_create(cf->pool, 8, sizeof(ngx_cflb_map_t));
        if (lb->maps == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        rv = ngx_cflb_map_entry(cf, lb, type, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return NGX_CONF_OK;
}


/* one KEY=POOL[,POOL...] */

static char *
ngx_cflb_map_entry(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_uint_t type,
    ngx_str_t *arg)
{
    u_char          *eq, *p, *end, *comma;
    ngx_str_t        key, *name;
    ngx_uint_t       i, code;
    ngx_cflb_map_t  *m;

    end = arg->data + arg->len;
    eq = ngx_strlchr(arg->data, end, '=');

    if (eq == NULL || eq == arg->data || eq + 1 == end) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s entry \"%V\", expected KEY=POOL or "
                           "KEY=POOL,POOL...", ngx_cflb_map_names[type], arg);
        return NGX_CONF_ERROR;
    }

    key.data = arg->data;
    key.len = eq - arg->data;

    if (ngx_cflb_map_key(cf, type, &key, &code) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    m = lb->maps->elts;

    for (i = 0; i < lb->maps->nelts; i++) {
        if (m[i].type == type && m[i].code == code
            && (type != NGX_CFLB_GEO_POP
                || (m[i].key.len == key.len
                    && ngx_strncasecmp(m[i].key.data, key.data, key.len)
                       == 0)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is mapped twice in %s", &key,
                               ngx_cflb_map_names[type]);
            return NGX_CONF_ERROR;
        }
    }

    m = ngx_array_push(lb->maps);
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }

    m->type = type;
    m->key = key;
    m->code = code;
    m->file = cf->conf_file->file.name.data;
    m->line = cf->conf_file->line;

    if (ngx_array_init(&m->names, cf->pool, 2, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* each name up to a comma or the end; "a,,b" and "a," have an empty one */
    for (p = eq + 1; p <= end; p = comma + 1) {
        comma = ngx_strlchr(p, end, ',');
        comma = comma ? comma : end;

        if (comma == p) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty pool name in %s entry \"%V\"",
                               ngx_cflb_map_names[type], arg);
            return NGX_CONF_ERROR;
        }

        name = m->names.elts;

        for (i = 0; i < m->names.nelts; i++) {
            if (name[i].len == (size_t) (comma - p)
                && ngx_strncmp(name[i].data, p, name[i].len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "pool \"%V\" is listed twice in %s "
                                   "entry \"%V\"", &name[i],
                                   ngx_cflb_map_names[type], arg);
                return NGX_CONF_ERROR;
            }
        }

        name = ngx_array_push(&m->names);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        name->data = p;
        name->len = comma - p;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_cflb_map_key(ngx_conf_t *cf, ngx_uint_t type, ngx_str_t *key,
    ngx_uint_t *code)
{
    int  n;

    switch (type) {

    case NGX_CFLB_GEO_REGION:
        n = cflb_region_parse(key->data, key->len);

        if (n == CFLB_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown region \"%V\" in region_pools, "
                               "expected one of WNAM ENAM WEU EEU NSAM SSAM "
                               "OC ME NAF SAF SAS SEAS NEAS", key);
            return NGX_ERROR;
        }

        break;

    case NGX_CFLB_GEO_COUNTRY:
        n = cflb_country_parse(key->data, key->len);

        if (n == CFLB_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid country \"%V\" in country_pools, "
                               "expected an ISO 3166-1 alpha-2 code such as "
                               "DE or US", key);
            return NGX_ERROR;
        }

        break;

    default: /* NGX_CFLB_GEO_POP */
        n = 0;
    }

    *code = (ngx_uint_t) n;

    return NGX_OK;
}


/* location_strategy client | pop [prefer_ecs=always|never|proximity|geo] */

char *
ngx_cflb_lb_location_strategy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    static ngx_str_t  ecs[] = {
        ngx_string("prefer_ecs=proximity"), ngx_string("prefer_ecs=always"),
        ngx_string("prefer_ecs=never"), ngx_string("prefer_ecs=geo")
    };

    if (lb == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive is allowed only inside cflb_lb",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (lb->locate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "client") == 0) {
        lb->locate = NGX_CFLB_LOCATE_CLIENT;

    } else if (ngx_strcmp(value[1].data, "pop") == 0) {
        lb->locate = NGX_CFLB_LOCATE_POP;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid location_strategy \"%V\", expected "
                           "client or pop", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    for (i = 0; i < sizeof(ecs) / sizeof(ecs[0]); i++) {
        if (value[2].len == ecs[i].len
            && ngx_strncmp(value[2].data, ecs[i].data, ecs[i].len) == 0)
        {
            lb->prefer_ecs = i;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid location_strategy parameter \"%V\", expected "
                       "prefer_ecs=always, never, proximity or geo",
                       &value[2]);

    return NGX_CONF_ERROR;
}


/*
 * Geo steering's maps for the view, from what was read: every pool
 * named becomes an entry, the PoP list is this node's.  The maps of a
 * load balancer whose steering is not geo have no effect: said so.
 */

ngx_int_t
ngx_cflb_maps_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_cflb_view_t *view)
{
    ngx_cflb_map_t   *m;
    ngx_cflb_maps_t  *maps;

    if (lb->maps == NULL) {
        return NGX_OK;
    }

    m = lb->maps->elts;

    if (!(view->pools->set.ops->inputs & CFLB_NEED_MAPS)) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "%s of cflb_lb \"%V\" has no effect with steering %s, "
                      "only with geo, in %s:%ui",
                      ngx_cflb_map_names[m[0].type], &lb->name,
                      view->pools->set.ops->name, m[0].file, m[0].line);
        return NGX_OK;
    }

    maps = ngx_cflb_maps_build(cf, lb, lb->maps);
    if (maps == NULL) {
        return NGX_ERROR;
    }

    view->maps = maps;

    return NGX_OK;
}


ngx_cflb_maps_t *
ngx_cflb_maps_build(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_array_t *read)
{
    ngx_str_t         *pop;
    ngx_uint_t         i;
    ngx_cflb_map_t    *m;
    ngx_cflb_maps_t   *maps;
    ngx_cflb_pools_t  *list;

    maps = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_maps_t));
    if (maps == NULL) {
        return NULL;
    }

    maps->countries = ngx_pcalloc(cf->pool, read->nelts
                                            * sizeof(ngx_cflb_country_pools_t));
    if (maps->countries == NULL) {
        return NULL;
    }

    m = read->elts;
    pop = &lb->conf->node.pop;

    for (i = 0; i < read->nelts; i++) {
        list = ngx_cflb_map_list(cf, lb, &m[i]);
        if (list == NULL) {
            return NULL;
        }

        switch (m[i].type) {

        case NGX_CFLB_GEO_REGION:
            maps->regions[m[i].code] = list;
            break;

        case NGX_CFLB_GEO_COUNTRY:
            maps->countries[maps->ncountries].country = (uint16_t) m[i].code;
            maps->countries[maps->ncountries].pools = list;
            maps->ncountries++;
            break;

        default: /* NGX_CFLB_GEO_POP: only this node's PoP counts */
            if (pop->len == m[i].key.len
                && ngx_strncasecmp(pop->data, m[i].key.data, pop->len) == 0)
            {
                maps->pop = list;
            }
        }
    }

    ngx_qsort(maps->countries, maps->ncountries,
              sizeof(ngx_cflb_country_pools_t), ngx_cflb_country_cmp);

    return maps;
}


static ngx_cflb_pools_t *
ngx_cflb_map_list(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_cflb_map_t *m)
{
    ngx_str_t         *name;
    ngx_uint_t         i;
    ngx_cflb_pools_t  *list;

    /* pools are defined anywhere in the block: known only now */
    name = m->names.elts;

    for (i = 0; i < m->names.nelts; i++) {
        if (ngx_cflb_find_pool(lb->conf, &name[i]) == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown pool \"%V\" in %s entry \"%V\" of "
                          "cflb_lb \"%V\" in %s:%ui", &name[i],
                          ngx_cflb_map_names[m->type], &m->key, &lb->name,
                          m->file, m->line);
            return NULL;
        }
    }

    list = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_pools_t));
    if (list == NULL) {
        return NULL;
    }

    if (ngx_cflb_pools_init(cf, lb, list, m->names.elts, m->names.nelts,
                            CFLB_STEER_OFF)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "in %s \"%V\" of cflb_lb \"%V\" in %s:%ui",
                      ngx_cflb_map_names[m->type], &m->key, &lb->name,
                      m->file, m->line);
        return NULL;
    }

    return list;
}


static int ngx_libc_cdecl
ngx_cflb_country_cmp(const void *a, const void *b)
{
    const ngx_cflb_country_pools_t  *x = a, *y = b;

    return (int) x->country - (int) y->country;
}


ngx_cflb_pools_t *
ngx_cflb_maps_list(ngx_cflb_decision_t *d, ngx_cflb_place_t *place)
{
    ngx_uint_t                 lo, hi, mid, country;
    ngx_cflb_maps_t           *maps;
    ngx_cflb_pools_t          *list;
    ngx_cflb_country_pools_t  *c;

    maps = d->view->maps;

    if (maps->pop) {
        d->geo = NGX_CFLB_GEO_POP;
        return maps->pop;
    }

    if (place == NULL) {
        goto pools;
    }

    country = place->location.country;
    lo = 0;
    hi = maps->ncountries;
    c = maps->countries;

    while (country != CFLB_COUNTRY_NONE && lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (c[mid].country == country) {
            d->geo = NGX_CFLB_GEO_COUNTRY;
            return c[mid].pools;
        }

        if (c[mid].country < country) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (place->location.region < CFLB_NREGIONS) {
        list = maps->regions[place->location.region];

        if (list) {
            d->geo = NGX_CFLB_GEO_REGION;
            return list;
        }
    }

pools:

    d->geo = NGX_CFLB_GEO_POOLS;

    return d->view->pools;
}
