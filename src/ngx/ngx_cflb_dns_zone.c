
/*
 * DNS-only configuration: the cflb_dns_zone blocks (the apex's SOA and
 * NS records), a load balancer's hostname, ttl and enabled, and what
 * they become once every block is read: the name table the responder
 * looks each query up in (apexes, hostnames, and the empty names between
 * them, which exist but hold no record), and per endpoint what it is
 * answered as.  The counters in the cflb zone, found again by name at
 * every reload, are at the end.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_dns_zone.h"
#include "ngx_cflb_conf.h"


static char *ngx_cflb_dns_zone_handler(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_cflb_dns_zone_soa(ngx_conf_t *cf, ngx_cflb_dns_zone_t *zone);
static char *ngx_cflb_dns_zone_ns(ngx_conf_t *cf, ngx_cflb_dns_zone_t *zone);
static ngx_int_t ngx_cflb_dns_soa_param(ngx_str_t *param, uint32_t *v);
static u_char *ngx_cflb_dns_wire(ngx_conf_t *cf, ngx_str_t *text,
    const char *what, size_t *len);
static ngx_cflb_lb_t *ngx_cflb_dns_lb(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_cflb_dns_place(ngx_conf_t *cf, ngx_cflb_dns_conf_t *dns,
    ngx_cflb_lb_t *lb, cflb_allocator_t *a);
static ngx_int_t ngx_cflb_dns_rrs(ngx_conf_t *cf, ngx_cflb_lb_t *lb);
static ngx_int_t ngx_cflb_dns_rr(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_endpoint_t *ep, ngx_cflb_dns_rr_t *rr);
static ngx_cflb_sh_dns_lb_t *ngx_cflb_dns_zone_lb(ngx_cflb_conf_t *ccf,
    ngx_cflb_lb_t *lb);


ngx_cflb_dns_conf_t *
ngx_cflb_dns_conf(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_cflb_dns_conf_t  *dns;

    if (ccf->dns) {
        return ccf->dns;
    }

    dns = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_dns_conf_t));
    if (dns == NULL) {
        return NULL;
    }

    if (ngx_array_init(&dns->zones, cf->pool, 2,
                       sizeof(ngx_cflb_dns_zone_t *))
        != NGX_OK
        || ngx_array_init(&dns->lbs, cf->pool, 4, sizeof(ngx_cflb_lb_t *))
           != NGX_OK
        || ngx_array_init(&dns->servers, cf->pool, 2, sizeof(void *))
           != NGX_OK)
    {
        return NULL;
    }

    /* a new serial with every configuration, as secondaries expect */
    dns->serial = (uint32_t) ngx_time();

    ccf->dns = dns;

    return dns;
}


/* cflb_dns_zone NAME { soa MNAME RNAME [param=value ...]; ns NAME ...; } */

char *
ngx_cflb_dns_zone_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    char                  *rv;
    ngx_str_t             *value;
    ngx_uint_t             i;
    ngx_conf_t             save;
    ngx_cflb_dns_conf_t   *dns;
    ngx_cflb_dns_zone_t   *zone, **zones;

    value = cf->args->elts;

    dns = ngx_cflb_dns_conf(cf, ccf);
    zone = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_dns_zone_t));

    if (dns == NULL || zone == NULL
        || ngx_array_init(&zone->ns, cf->pool, 2, sizeof(u_char *)) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    zone->wire = ngx_cflb_dns_wire(cf, &value[1], "cflb_dns_zone name",
                                   &zone->wire_len);
    if (zone->wire == NULL) {
        return NGX_CONF_ERROR;
    }

    zones = dns->zones.elts;

    for (i = 0; i < dns->zones.nelts; i++) {
        if (cflb_dns_name_eq(zones[i]->wire, zones[i]->wire_len, zone->wire,
                             zone->wire_len))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate cflb_dns_zone \"%V\", first "
                               "defined in %s:%ui", &value[1],
                               zones[i]->file, zones[i]->line);
            return NGX_CONF_ERROR;
        }
    }

    zone->name = value[1];
    zone->ttl = NGX_CONF_UNSET_UINT;
    zone->file = cf->conf_file->file.name.data;
    zone->line = cf->conf_file->line;

    save = *cf;
    cf->handler = ngx_cflb_dns_zone_handler;
    cf->handler_conf = (char *) zone;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (zone->soa.mname == NULL || zone->ns.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_dns_zone \"%V\" needs \"%s\"", &zone->name,
                           zone->soa.mname ? "ns" : "soa");
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_uint_value(zone->ttl, NGX_CFLB_DNS_ZONE_TTL);

    zones = ngx_array_push(&dns->zones);
    if (zones == NULL) {
        return NGX_CONF_ERROR;
    }

    *zones = zone;

    return NGX_CONF_OK;
}


static char *
ngx_cflb_dns_zone_handler(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_cflb_dns_zone_t *zone = conf;

    ngx_str_t  *value;
    time_t      ttl;

    value = cf->args->elts;

    if (ngx_strcmp(value[0].data, "soa") == 0) {
        if (zone->soa.mname) {
            goto duplicate;
        }

        return ngx_cflb_dns_zone_soa(cf, zone);
    }

    if (ngx_strcmp(value[0].data, "ns") == 0 && cf->args->nelts > 1) {
        return ngx_cflb_dns_zone_ns(cf, zone);
    }

    if (ngx_strcmp(value[0].data, "ttl") == 0 && cf->args->nelts == 2) {
        if (zone->ttl != NGX_CONF_UNSET_UINT) {
            goto duplicate;
        }

        ttl = ngx_parse_time(&value[1], 1);

        if (ttl == (time_t) NGX_ERROR || ttl > NGX_MAX_INT32_VALUE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid ttl \"%V\" in cflb_dns_zone \"%V\"",
                               &value[1], &zone->name);
            return NGX_CONF_ERROR;
        }

        zone->ttl = ttl;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown directive or wrong number of arguments "
                       "\"%V\" in cflb_dns_zone", &value[0]);

    return NGX_CONF_ERROR;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" directive is duplicate in cflb_dns_zone \"%V\"",
                       &value[0], &zone->name);

    return NGX_CONF_ERROR;
}


/*
 * soa MNAME RNAME [serial=N] [refresh=T] [retry=T] [expire=T]
 *     [minimum=T]: the defaults are those of the product's example, and
 * minimum is the TTL of negative answers (RFC 2308).
 */

static char *
ngx_cflb_dns_zone_soa(ngx_conf_t *cf, ngx_cflb_dns_zone_t *zone)
{
    size_t           len;
    uint32_t        *v;
    ngx_str_t       *value, name;
    ngx_uint_t       i;
    cflb_dns_soa_t  *soa;

    static const struct {
        ngx_str_t    name;
        size_t       offset;
    } params[] = {
        { ngx_string("serial="), offsetof(cflb_dns_soa_t, serial) },
        { ngx_string("refresh="), offsetof(cflb_dns_soa_t, refresh) },
        { ngx_string("retry="), offsetof(cflb_dns_soa_t, retry) },
        { ngx_string("expire="), offsetof(cflb_dns_soa_t, expire) },
        { ngx_string("minimum="), offsetof(cflb_dns_soa_t, minimum) }
    };

    value = cf->args->elts;
    soa = &zone->soa;

    if (cf->args->nelts < 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"soa\" needs a primary server and a mailbox "
                           "in cflb_dns_zone \"%V\"", &zone->name);
        return NGX_CONF_ERROR;
    }

    soa->mname = ngx_cflb_dns_wire(cf, &value[1], "soa name", &len);
    soa->rname = ngx_cflb_dns_wire(cf, &value[2], "soa mailbox", &len);

    if (soa->mname == NULL || soa->rname == NULL) {
        return NGX_CONF_ERROR;
    }

    soa->serial = 0;
    soa->refresh = 3600;
    soa->retry = 600;
    soa->expire = 604800;
    soa->minimum = 30;

    for (i = 3; i < cf->args->nelts; i++) {
        v = NULL;

        for (len = 0; len < sizeof(params) / sizeof(params[0]); len++) {
            name = params[len].name;

            if (value[i].len > name.len
                && ngx_strncmp(value[i].data, name.data, name.len) == 0)
            {
                v = (uint32_t *) ((u_char *) soa + params[len].offset);
                break;
            }
        }

        if (v == NULL
            || ngx_cflb_dns_soa_param(&value[i], v) != NGX_OK
            || (v == &soa->serial && *v == 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid soa parameter \"%V\" in "
                               "cflb_dns_zone \"%V\"", &value[i],
                               &zone->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* "serial=N" as a number, the others as a time (30, 10m, 1w) in sec */

static ngx_int_t
ngx_cflb_dns_soa_param(ngx_str_t *param, uint32_t *v)
{
    u_char     *eq;
    off_t       n;
    ngx_str_t   s;

    eq = ngx_strlchr(param->data, param->data + param->len, '=');

    s.data = eq + 1;
    s.len = param->data + param->len - s.data;

    if (ngx_strncmp(param->data, "serial=", 7) == 0) {
        /* the 32-bit number of RFC 1982 */
        n = ngx_atoof(s.data, s.len);

        if (n == NGX_ERROR || n > 0xffffffff) {
            return NGX_ERROR;
        }

    } else {
        n = ngx_parse_time(&s, 1);

        if (n == NGX_ERROR || n > NGX_MAX_INT32_VALUE) {
            return NGX_ERROR;
        }
    }

    *v = (uint32_t) n;

    return NGX_OK;
}


/* ns NAME [NAME ...] */

static char *
ngx_cflb_dns_zone_ns(ngx_conf_t *cf, ngx_cflb_dns_zone_t *zone)
{
    size_t       len;
    u_char      *wire, **ns;
    ngx_str_t   *value;
    ngx_uint_t   i, j;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        wire = ngx_cflb_dns_wire(cf, &value[i], "ns name", &len);
        if (wire == NULL) {
            return NGX_CONF_ERROR;
        }

        ns = zone->ns.elts;

        for (j = 0; j < zone->ns.nelts; j++) {
            if (cflb_dns_name_eq(ns[j], cflb_dns_name_len(ns[j]), wire, len))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "ns \"%V\" is listed twice in "
                                   "cflb_dns_zone \"%V\"", &value[i],
                                   &zone->name);
                return NGX_CONF_ERROR;
            }
        }

        ns = ngx_array_push(&zone->ns);
        if (ns == NULL) {
            return NGX_CONF_ERROR;
        }

        *ns = wire;
    }

    return NGX_CONF_OK;
}


/*
 * The wire form of a configured name, in cf->pool, or NULL after saying
 * why: "invalid hostname "a..b": empty label at offset 2".
 */

static u_char *
ngx_cflb_dns_wire(ngx_conf_t *cf, ngx_str_t *text, const char *what,
    size_t *len)
{
    u_char      *wire;
    cflb_err_t   err;
    u_char       buf[CFLB_DNS_NAME_MAX];

    if (cflb_dns_name_from_text(text->data, text->len, buf, len, &err)
        != CFLB_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s \"%V\": %s at offset %uz", what, text,
                           err.msg, err.offset);
        return NULL;
    }

    wire = ngx_pnalloc(cf->pool, *len);
    if (wire == NULL) {
        return NULL;
    }

    ngx_memcpy(wire, buf, *len);

    return wire;
}


/*
 * The load balancer of a hostname, ttl or enabled directive, its DNS
 * side made if new; NULL after logging: outside a cflb_lb, or in http{}.
 */

static ngx_cflb_lb_t *
ngx_cflb_dns_lb(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    ngx_cflb_dns_lb_t  *dl;

    if (lb == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive is allowed only inside cflb_lb",
                           &cmd->name);
        return NULL;
    }

    if (lb->conf->http) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" has no meaning in http{}: a load "
                           "balancer answers DNS queries for its hostname "
                           "in stream{} (cflb_dns)", &cmd->name);
        return NULL;
    }

    if (lb->dns) {
        return lb;
    }

    dl = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_dns_lb_t));
    if (dl == NULL) {
        return NULL;
    }

    dl->ttl = NGX_CONF_UNSET_UINT;
    dl->enabled = NGX_CONF_UNSET;
    lb->dns = dl;

    return lb;
}


char *
ngx_cflb_dns_lb_hostname(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t            *value;
    ngx_cflb_lb_t        *lb, **lbs;
    ngx_cflb_dns_lb_t    *dl;
    ngx_cflb_dns_conf_t  *dns;

    lb = ngx_cflb_dns_lb(cf, cmd, conf);
    if (lb == NULL) {
        return NGX_CONF_ERROR;
    }

    dl = lb->dns;

    if (dl->wire) {
        return "is duplicate";
    }

    value = cf->args->elts;

    dl->wire = ngx_cflb_dns_wire(cf, &value[1], "hostname", &dl->wire_len);
    dns = ngx_cflb_dns_conf(cf, lb->conf);

    if (dl->wire == NULL || dns == NULL) {
        return NGX_CONF_ERROR;
    }

    dl->hostname = value[1];
    dl->file = cf->conf_file->file.name.data;
    dl->line = cf->conf_file->line;

    lbs = ngx_array_push(&dns->lbs);
    if (lbs == NULL) {
        return NGX_CONF_ERROR;
    }

    *lbs = lb;

    return NGX_CONF_OK;
}


char *
ngx_cflb_dns_lb_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    time_t          ttl;
    ngx_str_t      *value;
    ngx_cflb_lb_t  *lb;

    lb = ngx_cflb_dns_lb(cf, cmd, conf);
    if (lb == NULL) {
        return NGX_CONF_ERROR;
    }

    if (lb->dns->ttl != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* RFC 2181 section 8: a TTL is at most 2^31 - 1 */
    ttl = ngx_parse_time(&value[1], 1);

    if (ttl == (time_t) NGX_ERROR || ttl > NGX_MAX_INT32_VALUE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid ttl \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lb->dns->ttl = ttl;

    return NGX_CONF_OK;
}


char *
ngx_cflb_dns_lb_enabled(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t      *value;
    ngx_cflb_lb_t  *lb;

    lb = ngx_cflb_dns_lb(cf, cmd, conf);
    if (lb == NULL) {
        return NGX_CONF_ERROR;
    }

    if (lb->dns->enabled != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        lb->dns->enabled = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0) {
        lb->dns->enabled = 0;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"enabled\", it must be "
                           "\"on\" or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_cflb_dns_init(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    size_t                 n, i;
    ngx_cflb_lb_t        **lbs;
    cflb_allocator_t       a;
    ngx_cflb_dns_conf_t   *dns;
    ngx_cflb_dns_name_t   *dn;
    ngx_cflb_dns_zone_t  **zones;
    void                 **slot;

    dns = ccf->dns;

    if (dns == NULL) {
        return NGX_OK;
    }

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        if (lbs[i]->dns && lbs[i]->dns->wire == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "cflb_lb \"%V\" has \"ttl\" or \"enabled\" but no "
                          "\"hostname\" in %s:%ui", &lbs[i]->name,
                          lbs[i]->file, lbs[i]->line);
            return NGX_ERROR;
        }
    }

    /* every apex, and each label of each hostname: enough room */

    zones = dns->zones.elts;
    lbs = dns->lbs.elts;
    n = dns->zones.nelts;

    for (i = 0; i < dns->lbs.nelts; i++) {
        n += lbs[i]->dns->wire_len / 2 + 1;
    }

    ngx_cflb_allocator(&a, cf->pool);

    if (cflb_dns_table_init(&dns->names, n, (uint64_t) ngx_random(), &a)
        != CFLB_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < dns->zones.nelts; i++) {
        slot = cflb_dns_table_put(&dns->names, zones[i]->wire,
                                  zones[i]->wire_len, &a);
        dn = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_dns_name_t));

        if (slot == NULL || dn == NULL) {
            return NGX_ERROR;
        }

        dn->zone = zones[i];
        dn->apex = 1;
        *slot = dn;

        if (zones[i]->soa.serial == 0) {
            zones[i]->soa.serial = dns->serial;
        }
    }

    for (i = 0; i < dns->lbs.nelts; i++) {
        if (ngx_cflb_dns_place(cf, dns, lbs[i], &a) != NGX_OK
            || ngx_cflb_dns_rrs(cf, lbs[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }

        dns->max_peers = ngx_max(dns->max_peers, lbs[i]->npeers);
        dns->max_sess = ngx_max(dns->max_sess, lbs[i]->sess_size);
    }

    return NGX_OK;
}


/*
 * The hostname of lb in the deepest zone that holds it, and the names
 * between them (they exist: a query for one is NODATA, not NXDOMAIN).
 */

static ngx_int_t
ngx_cflb_dns_place(ngx_conf_t *cf, ngx_cflb_dns_conf_t *dns,
    ngx_cflb_lb_t *lb, cflb_allocator_t *a)
{
    size_t                 o;
    ngx_int_t              labels;
    ngx_uint_t             i;
    ngx_cflb_dns_lb_t     *dl;
    ngx_cflb_dns_name_t   *dn;
    ngx_cflb_dns_zone_t  **zones;
    void                 **slot;

    dl = lb->dns;
    zones = dns->zones.elts;
    labels = -1;

    for (i = 0; i < dns->zones.nelts; i++) {
        if (cflb_dns_name_under(dl->wire, dl->wire_len, zones[i]->wire,
                                zones[i]->wire_len)
            >= 0
            && (dl->zone == NULL || zones[i]->wire_len > dl->zone->wire_len))
        {
            dl->zone = zones[i];
            labels = cflb_dns_name_under(dl->wire, dl->wire_len,
                                         zones[i]->wire, zones[i]->wire_len);
        }
    }

    if (dl->zone == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "hostname \"%V\" of cflb_lb \"%V\" is outside every "
                      "cflb_dns_zone in %s:%ui", &dl->hostname, &lb->name,
                      dl->file, dl->line);
        return NGX_ERROR;
    }

    for (o = 0; labels >= 0; labels--, o += dl->wire[o] + 1) {
        slot = cflb_dns_table_put(&dns->names, dl->wire + o,
                                  dl->wire_len - o, a);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        dn = *slot;

        if (dn == NULL) {
            dn = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_dns_name_t));
            if (dn == NULL) {
                return NGX_ERROR;
            }

            dn->zone = dl->zone;
            *slot = dn;
        }

        if (o > 0) {
            dn->below = 1;
            continue;
        }

        if (dn->lb) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "hostname \"%V\" of cflb_lb \"%V\" in %s:%ui is "
                          "the hostname of cflb_lb \"%V\" in %s:%ui too",
                          &dl->hostname, &lb->name, dl->file, dl->line,
                          &dn->lb->name, dn->lb->dns->file,
                          dn->lb->dns->line);
            return NGX_ERROR;
        }

        dn->lb = lb;
    }

    ngx_conf_init_uint_value(dl->ttl, NGX_CFLB_DNS_TTL);
    ngx_conf_init_value(dl->enabled, 1);

    lb->view.dns_ttl = (uint32_t) dl->ttl;

    return NGX_OK;
}


/* what each endpoint lb may reach is answered as, by peer index */

static ngx_int_t
ngx_cflb_dns_rrs(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_uint_t            i, j;
    ngx_cflb_pool_t      *pool;
    ngx_cflb_dns_rr_t    *rr;
    ngx_cflb_endpoint_t  *ep;

    lb->dns->rrs = ngx_pcalloc(cf->pool,
                               lb->npeers * sizeof(ngx_cflb_dns_rr_t));
    if (lb->dns->rrs == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < lb->nentries; i++) {
        pool = lb->entries[i].pool;
        ep = pool->endpoints.elts;
        rr = &lb->dns->rrs[lb->entries[i].base];

        /* the answer depends on the client's address (the ECS scope) */
        if ((pool->set.ops->inputs & CFLB_NEED_KEY) || pool->shed_hash) {
            lb->dns->keyed = 1;
        }

        for (j = 0; j < pool->endpoints.nelts; j++) {
            if (ngx_cflb_dns_rr(cf, lb, &ep[j], &rr[j]) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/*
 * An endpoint whose address is an IP literal is answered with it (A or
 * AAAA); one given as a hostname as a CNAME to that name, which is what
 * the product does.  A UNIX socket is never answered.
 */

static ngx_int_t
ngx_cflb_dns_rr(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_cflb_endpoint_t *ep,
    ngx_cflb_dns_rr_t *rr)
{
    u_char     *p, *last, *colon;
    size_t      len;
    ngx_str_t   host;

    p = ep->address.data;
    last = p + ep->address.len;

    if (ep->address.len >= 5 && ngx_strncasecmp(p, (u_char *) "unix:", 5)
                                == 0)
    {
        rr->type = NGX_CFLB_DNS_RR_NONE;
        return NGX_OK;
    }

    if (*p != '[') {
        colon = ngx_strlchr(p, last, ':');

        host.data = p;
        host.len = (colon ? colon : last) - p;

        if (ngx_inet_addr(host.data, host.len) == INADDR_NONE) {
            /* a hostname: the CNAME's target */
            if (lb->dns->wire_len == lb->dns->zone->wire_len) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "endpoint \"%V\" of cflb_pool \"%V\" is a "
                              "hostname, but cflb_lb \"%V\" answers at the "
                              "zone apex, where a CNAME is not allowed",
                              &ep->name, &ep->pool->name, &lb->name);
                return NGX_ERROR;
            }

            rr->data = ngx_cflb_dns_wire(cf, &host, "endpoint hostname",
                                         &len);
            if (rr->data == NULL) {
                return NGX_ERROR;
            }

            rr->type = NGX_CFLB_DNS_RR_CNAME;
            rr->text = host;
            return NGX_OK;
        }
    }

    rr->text.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN);
    if (rr->text.data == NULL) {
        return NGX_ERROR;
    }

    rr->text.len = ngx_sock_ntop(ep->addr.sockaddr, ep->addr.socklen,
                                 rr->text.data, NGX_SOCKADDR_STRLEN, 0);

    switch (ep->addr.sockaddr->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        rr->type = NGX_CFLB_DNS_RR_AAAA;
        rr->data = ((struct sockaddr_in6 *) ep->addr.sockaddr)
                       ->sin6_addr.s6_addr;
        break;
#endif

    case AF_INET:
        rr->type = NGX_CFLB_DNS_RR_A;
        rr->data = (u_char *) &((struct sockaddr_in *) ep->addr.sockaddr)
                                   ->sin_addr.s_addr;
        break;

    default:
        rr->type = NGX_CFLB_DNS_RR_NONE;
    }

    return NGX_OK;
}


ngx_int_t
ngx_cflb_dns_zone_bind(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t        i;
    ngx_cflb_lb_t   **lbs;
    ngx_cflb_sh_t    *sh;

    if (ccf->dns == NULL) {
        return NGX_OK;
    }

    sh = ccf->sh;

    if (sh->dns == NULL) {
        sh->dns = ngx_slab_calloc_locked(ccf->shpool,
                                         sizeof(ngx_cflb_sh_dns_t));
        if (sh->dns == NULL) {
            return NGX_ERROR;
        }

        ngx_rbtree_init(&sh->dns->tree, &sh->dns->sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_queue_init(&sh->dns->lbs);
    }

    lbs = ccf->dns->lbs.elts;

    for (i = 0; i < ccf->dns->lbs.nelts; i++) {
        lbs[i]->dns->sh = ngx_cflb_dns_zone_lb(ccf, lbs[i]);
        if (lbs[i]->dns->sh == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The record of lb: its key is the name, then a checksum of what the
 * counters are counted by (pools and endpoints, in peer index order), so
 * that a reload that changes them starts afresh.
 */

static ngx_cflb_sh_dns_lb_t *
ngx_cflb_dns_zone_lb(ngx_cflb_conf_t *ccf, ngx_cflb_lb_t *lb)
{
    u_char                 *p;
    size_t                  size;
    uint32_t                crc, hash;
    ngx_str_t               key;
    ngx_uint_t              i, j;
    ngx_cflb_pool_t        *pool;
    ngx_str_node_t         *sn;
    ngx_cflb_endpoint_t    *ep;
    ngx_cflb_sh_dns_lb_t   *dsh;

    ngx_crc32_init(crc);

    for (i = 0; i < lb->nentries; i++) {
        pool = lb->entries[i].pool;
        ngx_crc32_update(&crc, pool->name.data, pool->name.len + 1);
        ep = pool->endpoints.elts;

        for (j = 0; j < pool->endpoints.nelts; j++) {
            ngx_crc32_update(&crc, ep[j].name.data, ep[j].name.len);
            ngx_crc32_update(&crc, ep[j].address.data, ep[j].address.len);
        }
    }

    ngx_crc32_final(crc);

    key.len = lb->name.len + 1 + 8;
    key.data = ngx_alloc(key.len, ngx_cycle->log);
    if (key.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(key.data, lb->name.data, lb->name.len);
    *p++ = '\0';
    ngx_sprintf(p, "%08xD", crc);

    hash = ngx_crc32_short(key.data, key.len);
    sn = ngx_str_rbtree_lookup(&ccf->sh->dns->tree, &key, hash);

    if (sn) {
        ngx_free(key.data);
        dsh = (ngx_cflb_sh_dns_lb_t *) sn;
        dsh->generation = ccf->generation;
        return dsh;
    }

    size = offsetof(ngx_cflb_sh_dns_lb_t, counts)
           + (lb->nentries + lb->npeers) * sizeof(ngx_atomic_t);

    dsh = ngx_slab_calloc_locked(ccf->shpool, size + key.len);
    if (dsh == NULL) {
        ngx_free(key.data);
        return NULL;
    }

    dsh->sn.str.data = (u_char *) dsh + size;
    dsh->sn.str.len = key.len;
    ngx_memcpy(dsh->sn.str.data, key.data, key.len);
    dsh->sn.node.key = hash;
    dsh->generation = ccf->generation;

    ngx_free(key.data);

    ngx_rbtree_insert(&ccf->sh->dns->tree, &dsh->sn.node);
    ngx_queue_insert_tail(&ccf->sh->dns->lbs, &dsh->queue);

    return dsh;
}


void
ngx_cflb_dns_zone_collect(ngx_cflb_conf_t *ccf, ngx_uint_t oldest)
{
    ngx_queue_t           *q, *next;
    ngx_cflb_sh_dns_t     *shd;
    ngx_cflb_sh_dns_lb_t  *dsh;

    shd = ccf->sh->dns;

    if (shd == NULL) {
        return;
    }

    for (q = ngx_queue_head(&shd->lbs);
         q != ngx_queue_sentinel(&shd->lbs);
         q = next)
    {
        next = ngx_queue_next(q);
        dsh = ngx_queue_data(q, ngx_cflb_sh_dns_lb_t, queue);

        if (dsh->generation >= oldest) {
            continue;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&shd->tree, &dsh->sn.node);
        ngx_slab_free_locked(ccf->shpool, dsh);
    }
}
