
/*
 * Where a client is.  cflb_geoip2 names MaxMind databases, opened with
 * the configuration (ngx_cflb_geo.c) so that a reload reads a replaced
 * file anew; cflb_node tells where this nginx is.  A decision asks for
 * its client's place only when its policy needs one (geo, proximity),
 * once per request; the strategy of the load balancer (its view) says
 * which address counts: the client's, a DNS query's subnet, or none but
 * this node.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_location.h"
#include "ngx_cflb_geo.h"


/*
 * The place of a connection's client, kept in the connection's pool as
 * the data of a cleanup whose handler marks it: nginx has no other
 * per-connection slot for a module.  The address is the key: with the
 * realip module, each request may have its own.
 */
typedef struct {
    ngx_cflb_conf_t          *ccf;           /* whose databases */
    ngx_uint_t                family;        /* AF_INET, AF_INET6, 0 */
    u_char                    addr[16];
    ngx_uint_t                known;
    ngx_cflb_place_t          place;
} ngx_cflb_kept_t;


static ngx_cflb_kept_t *ngx_cflb_kept(ngx_pool_t *keep);
static void ngx_cflb_kept_mark(void *data);
static size_t ngx_cflb_addr_key(struct sockaddr *sa, u_char **key);
static char *ngx_cflb_node_coord(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t lon, int32_t *udeg);


char *
ngx_cflb_geoip2(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ngx_str_t           *value;
    ngx_cflb_geo_db_t  **db;

    value = cf->args->elts;

    if (ccf->geo == NULL) {
        ccf->geo = ngx_array_create(cf->pool, 2, sizeof(ngx_cflb_geo_db_t *));
        if (ccf->geo == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    db = ngx_array_push(ccf->geo);
    if (db == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_cflb_geo_open(cf, &value[1], db) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_cflb_node(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    int               region;
    char             *rv;
    ngx_str_t        *value, v;
    ngx_uint_t        i, lat, lon, pop, reg;
    ngx_cflb_node_t  *node;

    node = &ccf->node;

    if (node->pop.len || node->location.flags
        || node->location.region != CFLB_REGION_NONE)
    {
        return "is duplicate";
    }

    value = cf->args->elts;
    lat = 0;
    lon = 0;
    pop = 0;
    reg = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if ((ngx_strncmp(value[i].data, "pop=", 4) == 0 && pop)
            || (ngx_strncmp(value[i].data, "region=", 7) == 0 && reg)
            || (ngx_strncmp(value[i].data, "lat=", 4) == 0 && lat)
            || (ngx_strncmp(value[i].data, "lon=", 4) == 0 && lon))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate cflb_node parameter \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (ngx_strncmp(value[i].data, "pop=", 4) == 0
            && value[i].len > 4)
        {
            node->pop.data = value[i].data + 4;
            node->pop.len = value[i].len - 4;
            pop = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "region=", 7) == 0) {
            region = cflb_region_parse(value[i].data + 7, value[i].len - 7);

            if (region == CFLB_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unknown region \"%V\" in cflb_node, "
                                   "expected one of WNAM ENAM WEU EEU NSAM "
                                   "SSAM OC ME NAF SAF SAS SEAS NEAS",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            node->location.region = (uint8_t) region;
            reg = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "lat=", 4) == 0) {
            v.data = value[i].data + 4;
            v.len = value[i].len - 4;
            rv = ngx_cflb_node_coord(cf, &v, 0, &node->location.lat);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            lat = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "lon=", 4) == 0) {
            v.data = value[i].data + 4;
            v.len = value[i].len - 4;
            rv = ngx_cflb_node_coord(cf, &v, 1, &node->location.lon);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            lon = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cflb_node parameter \"%V\", expected "
                           "pop=, region=, lat= or lon=", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (lat != lon) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_node needs both lat= and lon=, or neither");
        return NGX_CONF_ERROR;
    }

    if (lat) {
        node->location.flags |= CFLB_LOC_COORDS;
        cflb_geo_vec(node->location.lat, node->location.lon, &node->where);
    }

    return NGX_CONF_OK;
}


static char *
ngx_cflb_node_coord(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t lon,
    int32_t *udeg)
{
    u_char      at[NGX_CFLB_COORD_AT_LEN];
    cflb_err_t  err;

    if (cflb_geo_coord_parse(value->data, value->len, (int) lon, udeg, &err)
        == CFLB_OK)
    {
        return NGX_CONF_OK;
    }

    ngx_cflb_coord_at(at, &err);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid %s \"%V\" in cflb_node: %s%s",
                       lon ? "lon=" : "lat=", value, err.msg, at);

    return NGX_CONF_ERROR;
}


void
ngx_cflb_coord_at(u_char *at, cflb_err_t *err)
{
    if (err->offset == 0) {
        /* the whole token, or its value: nothing to point at */
        *at = '\0';
        return;
    }

    (void) ngx_sprintf(at, " at offset %uz%Z", err->offset);
}


ngx_uint_t
ngx_cflb_locates_coords(ngx_cflb_conf_t *ccf, ngx_uint_t strategy)
{
    ngx_uint_t           i;
    ngx_cflb_geo_db_t  **dbs;

    if (strategy == NGX_CFLB_LOCATE_POP || ccf->geo == NULL) {
        return (ccf->node.location.flags & CFLB_LOC_COORDS) != 0;
    }

    dbs = ccf->geo->elts;

    for (i = 0; i < ccf->geo->nelts; i++) {
        if (dbs[i]->fields & NGX_CFLB_GEO_CITY) {
            return 1;
        }
    }

    return 0;
}


ngx_cflb_place_t *
ngx_cflb_locate(ngx_cflb_decision_t *d)
{
    ngx_cflb_conf_t   *ccf;
    ngx_cflb_place_t  *p;

    if (d->located) {
        return d->place;
    }

    d->located = 1;

    ccf = d->view->lb->conf;

    if (d->view->locate == NGX_CFLB_LOCATE_POP || ccf->geo == NULL) {
        /* location_strategy pop, or no database: this node's place */

        if (!(ccf->node.location.flags & CFLB_LOC_COORDS)
            && ccf->node.location.region == CFLB_REGION_NONE)
        {
            return NULL;
        }

        p = ngx_pcalloc(d->pool, sizeof(ngx_cflb_place_t));
        if (p == NULL) {
            return NULL;
        }

        p->location = ccf->node.location;
        p->where = ccf->node.where;
        p->vec = 1;
        p->pop = 1;

    } else if (ngx_cflb_subnet(d) && ngx_cflb_locate_subnet(d)) {
        /* a DNS query's subnet: a place of its own, for this query */

        p = ngx_pcalloc(d->pool, sizeof(ngx_cflb_place_t));
        if (p == NULL) {
            return NULL;
        }

        p->subnet = 1;

        if (ngx_cflb_locate_addr(ccf, d->in.subnet, &p->location) != NGX_OK) {
            return NULL;
        }

    } else {
        /* a client the databases do not know has no place (docs/geo.md) */
        p = (d->client == NULL) ? NULL
            : ngx_cflb_client_place(ccf, d->client, ngx_cflb_cpool(d),
                                    d->pool);
    }

    d->place = p;

    return p;
}


ngx_cflb_place_t *
ngx_cflb_client_place(ngx_cflb_conf_t *ccf, struct sockaddr *sa,
    ngx_pool_t *keep, ngx_pool_t *pool)
{
    u_char            *key;
    size_t             len;
    ngx_cflb_kept_t   *k;
    ngx_cflb_place_t  *p;

    len = ngx_cflb_addr_key(sa, &key);
    k = (keep && len) ? ngx_cflb_kept(keep) : NULL;

    if (k) {
        if (k->ccf == ccf
            && k->family == sa->sa_family
            && ngx_memcmp(k->addr, key, len) == 0)
        {
            return k->known ? &k->place : NULL;
        }

        /* the connection's first request, or another address (realip) */
        k->ccf = ccf;
        k->family = sa->sa_family;
        ngx_memcpy(k->addr, key, len);
        k->known = 0;

        p = &k->place;
        ngx_memzero(p, sizeof(ngx_cflb_place_t));

    } else {
        p = ngx_pcalloc(pool, sizeof(ngx_cflb_place_t));
        if (p == NULL) {
            return NULL;
        }
    }

    if (ngx_cflb_locate_addr(ccf, sa, &p->location) != NGX_OK) {
        return NULL;
    }

    if (k) {
        k->known = 1;
    }

    return p;
}


cflb_geo_vec_t *
ngx_cflb_place_where(ngx_cflb_place_t *p)
{
    if (!(p->location.flags & CFLB_LOC_COORDS)) {
        return NULL;
    }

    if (!p->vec) {
        cflb_geo_vec(p->location.lat, p->location.lon, &p->where);
        p->vec = 1;
    }

    return &p->where;
}


/* the connection's kept place, found or made: NULL only without memory */

static ngx_cflb_kept_t *
ngx_cflb_kept(ngx_pool_t *keep)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = keep->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_cflb_kept_mark) {
            return cln->data;
        }
    }

    cln = ngx_pool_cleanup_add(keep, sizeof(ngx_cflb_kept_t));
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_cflb_kept_mark;
    ngx_memzero(cln->data, sizeof(ngx_cflb_kept_t));

    return cln->data;
}


/* only marks the cleanup that holds a kept place: nothing to release */

static void
ngx_cflb_kept_mark(void *data)
{
}


/* the address bytes of sa, the key of a kept place; 0: none (UNIX) */

static size_t
ngx_cflb_addr_key(struct sockaddr *sa, u_char **key)
{
    switch (sa->sa_family) {

    case AF_INET:
        *key = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
        return 4;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        *key = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        return 16;
#endif

    default:
        return 0;
    }
}


/* does the DNS query's subnet count for this view's steering */

ngx_uint_t
ngx_cflb_locate_subnet(ngx_cflb_decision_t *d)
{
    switch (d->view->prefer_ecs) {

    case NGX_CFLB_ECS_ALWAYS:
        return 1;

    case NGX_CFLB_ECS_NEVER:
        return 0;

    case NGX_CFLB_ECS_GEO:
        return d->view->pools->policy == CFLB_STEER_GEO;

    default: /* NGX_CFLB_ECS_PROXIMITY */
        return d->view->pools->policy == CFLB_STEER_PROXIMITY;
    }
}


ngx_int_t
ngx_cflb_locate_addr(ngx_cflb_conf_t *ccf, struct sockaddr *sa,
    cflb_location_t *loc)
{
    ngx_int_t            rc;
    ngx_uint_t           i;
    ngx_cflb_geo_db_t  **dbs;

    cflb_location_init(loc);

    if (ccf->geo == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;
    dbs = ccf->geo->elts;

    /* each database fills what the ones before it left unknown */
    for (i = 0; i < ccf->geo->nelts; i++) {
        if (ngx_cflb_geo_lookup(dbs[i], sa, loc) == NGX_OK) {
            rc = NGX_OK;
        }
    }

    return rc;
}
