
/*
 * cflb_monitor NAME { ... }: a health check template, parsed once for
 * both subsystems, and the "monitor" link of a pool.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_health.h"


typedef struct {
    ngx_str_t                 name;
    ngx_uint_t                types;       /* monitor types that take it */
    char                   *(*set)(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
                                   ngx_str_t *value);
} ngx_cflb_monitor_option_t;


#define NGX_CFLB_HTTP_TYPES                                                   \
    ((1 << NGX_CFLB_MON_HTTP) | (1 << NGX_CFLB_MON_HTTPS))
#define NGX_CFLB_ALL_TYPES     0xffff


static char *ngx_cflb_monitor_handler(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_cflb_monitor_check(ngx_conf_t *cf, ngx_cflb_monitor_t *mon);
static char *ngx_cflb_mon_type(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
static char *ngx_cflb_mon_str(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
static char *ngx_cflb_mon_header(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
static char *ngx_cflb_mon_codes(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
static char *ngx_cflb_mon_flag(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
static char *ngx_cflb_mon_time(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
static char *ngx_cflb_mon_num(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
static char *ngx_cflb_mon_quorum(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value);
#if (NGX_SSL)
static ngx_int_t ngx_cflb_monitor_ssl(ngx_conf_t *cf,
    ngx_cflb_monitor_t *mon);
#endif


/* by NGX_CFLB_MON_*: each value its index (ngx_cflb_model.h) */
ngx_conf_enum_t  ngx_cflb_monitor_types[] = {
    { ngx_string("http"), NGX_CFLB_MON_HTTP },
    { ngx_string("https"), NGX_CFLB_MON_HTTPS },
    { ngx_string("tcp"), NGX_CFLB_MON_TCP },
    { ngx_string("udp_icmp"), NGX_CFLB_MON_UDP_ICMP },
    { ngx_string("icmp_ping"), NGX_CFLB_MON_ICMP_PING },
    { ngx_string("smtp"), NGX_CFLB_MON_SMTP },
    { ngx_string("ldap"), NGX_CFLB_MON_LDAP },
    { ngx_null_string, 0 }
};


static ngx_cflb_monitor_option_t  ngx_cflb_monitor_options[] = {
    { ngx_string("type"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_type },
    { ngx_string("method"), NGX_CFLB_HTTP_TYPES, ngx_cflb_mon_str },
    { ngx_string("path"), NGX_CFLB_HTTP_TYPES, ngx_cflb_mon_str },
    { ngx_string("port"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_num },
    { ngx_string("header"), NGX_CFLB_HTTP_TYPES, ngx_cflb_mon_header },
    { ngx_string("expected_codes"), NGX_CFLB_HTTP_TYPES, ngx_cflb_mon_codes },
    { ngx_string("expected_body"), NGX_CFLB_HTTP_TYPES, ngx_cflb_mon_str },
    { ngx_string("follow_redirects"), NGX_CFLB_HTTP_TYPES,
      ngx_cflb_mon_flag },
    { ngx_string("allow_insecure"), 1 << NGX_CFLB_MON_HTTPS,
      ngx_cflb_mon_flag },
    { ngx_string("ssl_trusted_certificate"), 1 << NGX_CFLB_MON_HTTPS,
      ngx_cflb_mon_str },
    { ngx_string("interval"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_time },
    { ngx_string("timeout"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_time },
    { ngx_string("retries"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_num },
    { ngx_string("consecutive_up"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_num },
    { ngx_string("consecutive_down"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_num },
    { ngx_string("quorum"), NGX_CFLB_ALL_TYPES, ngx_cflb_mon_quorum },
    { ngx_null_string, 0, NULL }
};


char *
ngx_cflb_monitor_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    char                 *rv;
    ngx_str_t            *value;
    ngx_conf_t            save;
    ngx_cflb_monitor_t   *mon, **mp;

    value = cf->args->elts;

    if (ngx_cflb_find_monitor(ccf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate cflb_monitor \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    mon = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_monitor_t));
    if (mon == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mon->method = { 0, NULL };
     *     mon->path = { 0, NULL };
     *     mon->expected_body = { 0, NULL };
     *     mon->host = { 0, NULL };
     *     mon->codes_set = 0;
     */

    mon->name = value[1];
    mon->type = NGX_CONF_UNSET_UINT;
    mon->port = NGX_CONF_UNSET_UINT;
    mon->follow_redirects = NGX_CONF_UNSET;
    mon->allow_insecure = NGX_CONF_UNSET;
    mon->interval = NGX_CONF_UNSET_MSEC;
    mon->timeout = NGX_CONF_UNSET_MSEC;
    mon->retries = NGX_CONF_UNSET_UINT;
    mon->consecutive_up = NGX_CONF_UNSET_UINT;
    mon->consecutive_down = NGX_CONF_UNSET_UINT;
    mon->quorum = NGX_CONF_UNSET_UINT;
    mon->file = cf->conf_file->file.name.data;
    mon->line = cf->conf_file->line;

    if (ngx_array_init(&mon->headers, cf->pool, 2, sizeof(ngx_keyval_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    mp = ngx_array_push(&ccf->monitors);
    if (mp == NULL) {
        return NGX_CONF_ERROR;
    }

    *mp = mon;

    save = *cf;
    cf->handler = ngx_cflb_monitor_handler;
    cf->handler_conf = (char *) mon;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_cflb_monitor_check(cf, mon);
}


static char *
ngx_cflb_monitor_handler(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_cflb_monitor_t *mon = conf;

    ngx_str_t                  *value;
    ngx_uint_t                  type;
    ngx_cflb_monitor_option_t  *opt;

    value = cf->args->elts;

    for (opt = ngx_cflb_monitor_options; opt->name.len; opt++) {
        if (opt->name.len == value[0].len
            && ngx_strncmp(opt->name.data, value[0].data, value[0].len) == 0)
        {
            break;
        }
    }

    if (opt->set == NULL
        || cf->args->nelts < 2
        || (cf->args->nelts != 2 && opt->set != ngx_cflb_mon_header
            && opt->set != ngx_cflb_mon_codes)
        || (opt->set == ngx_cflb_mon_header && cf->args->nelts != 3))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown directive or wrong number of arguments "
                           "\"%V\" in cflb_monitor", &value[0]);
        return NGX_CONF_ERROR;
    }

    /* the type comes first when options depend on it */
    type = (mon->type == NGX_CONF_UNSET_UINT) ? NGX_CFLB_MON_HTTP : mon->type;

    if (!(opt->types & (1 << type))) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" makes no sense in a %V monitor",
                           &value[0], &ngx_cflb_monitor_types[type].name);
        return NGX_CONF_ERROR;
    }

    return opt->set(cf, mon, &value[1]);
}


static char *
ngx_cflb_monitor_check(ngx_conf_t *cf, ngx_cflb_monitor_t *mon)
{
    cflb_err_t  err;

    ngx_conf_init_uint_value(mon->type, NGX_CFLB_MON_HTTP);
    ngx_conf_init_uint_value(mon->port, 0);
    ngx_conf_init_value(mon->follow_redirects, 0);
    ngx_conf_init_value(mon->allow_insecure, 0);
    ngx_conf_init_msec_value(mon->interval, 60000);
    ngx_conf_init_msec_value(mon->timeout, 5000);
    ngx_conf_init_uint_value(mon->retries, 2);
    ngx_conf_init_uint_value(mon->consecutive_up, 0);
    ngx_conf_init_uint_value(mon->consecutive_down, 0);
    ngx_conf_init_uint_value(mon->quorum, NGX_CFLB_QUORUM_LOCAL);

    if (mon->method.len == 0) {
        ngx_str_set(&mon->method, "GET");
    }

    if (mon->path.len == 0) {
        ngx_str_set(&mon->path, "/");
    }

    if (!mon->codes_set
        && cflb_codes_parse((u_char *) "2xx", 3, &mon->codes, &err)
           != CFLB_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (mon->interval < 1000 || mon->interval > 3600000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "interval of cflb_monitor \"%V\" must be from 1s "
                           "to 1h", &mon->name);
        return NGX_CONF_ERROR;
    }

    if (mon->timeout == 0 || mon->timeout >= mon->interval) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "timeout of cflb_monitor \"%V\" must be shorter "
                           "than its interval", &mon->name);
        return NGX_CONF_ERROR;
    }

    if (mon->type == NGX_CFLB_MON_ICMP_PING && mon->port) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"port\" makes no sense in an icmp_ping monitor");
        return NGX_CONF_ERROR;
    }

#if (NGX_SSL)
    if (mon->type == NGX_CFLB_MON_HTTPS
        && ngx_cflb_monitor_ssl(cf, mon) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }
#else
    if (mon->type == NGX_CFLB_MON_HTTPS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "https monitors need nginx built with SSL");
        return NGX_CONF_ERROR;
    }
#endif

    return NGX_CONF_OK;
}


static char *
ngx_cflb_mon_type(ngx_conf_t *cf, ngx_cflb_monitor_t *mon, ngx_str_t *value)
{
    ngx_uint_t  i;

    if (mon->type != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (mon->method.len || mon->path.len || mon->headers.nelts
        || mon->codes_set || mon->expected_body.len)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"type\" must come first in cflb_monitor");
        return NGX_CONF_ERROR;
    }

    for (i = 0; ngx_cflb_monitor_types[i].name.len; i++) {
        if (ngx_strcmp(value->data, ngx_cflb_monitor_types[i].name.data)
            == 0)
        {
            mon->type = ngx_cflb_monitor_types[i].value;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid monitor type \"%V\", expected http, https, "
                       "tcp, udp_icmp, icmp_ping, smtp or ldap", value);

    return NGX_CONF_ERROR;
}


static char *
ngx_cflb_mon_str(ngx_conf_t *cf, ngx_cflb_monitor_t *mon, ngx_str_t *value)
{
    ngx_str_t  *name, *field;

    name = cf->args->elts;

    switch (name->data[0]) {
    case 'm':
        field = &mon->method;
        break;
    case 'p':
        field = &mon->path;
        break;
    case 'e':
        field = &mon->expected_body;
        break;
    default: /* ssl_trusted_certificate */
        field = &mon->trusted;
        break;
    }

    if (field->data) {
        return "is duplicate";
    }

    if (value->len == 0
        || (field == &mon->path && value->data[0] != '/'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\"", name, value);
        return NGX_CONF_ERROR;
    }

    *field = *value;

    return NGX_CONF_OK;
}


static char *
ngx_cflb_mon_header(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value)
{
    ngx_keyval_t  *kv;

    if (value[0].len == 10
        && ngx_strncasecmp(value[0].data, (u_char *) "User-Agent", 10) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the User-Agent of health probes cannot be "
                           "changed");
        return NGX_CONF_ERROR;
    }

    if (ngx_strlchr(value[1].data, value[1].data + value[1].len, '\r')
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '\n'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid header value \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[0].len == 4
        && ngx_strncasecmp(value[0].data, (u_char *) "Host", 4) == 0)
    {
        mon->host = value[1];
        return NGX_CONF_OK;
    }

    kv = ngx_array_push(&mon->headers);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[0];
    kv->value = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_cflb_mon_codes(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i;
    cflb_err_t   err;

    if (mon->codes_set) {
        return "is duplicate";
    }

    /* "200 301 4xx" may come as several arguments: join them */

    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        len += value[i - 1].len + 1;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        ngx_memcpy(p + len, value[i - 1].data, value[i - 1].len);
        len += value[i - 1].len;
        p[len++] = ' ';
    }

    if (cflb_codes_parse(p, len - 1, &mon->codes, &err) != CFLB_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid expected_codes \"%*s\": %s",
                           len - 1, p, err.msg);
        return NGX_CONF_ERROR;
    }

    mon->codes_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_cflb_mon_flag(ngx_conf_t *cf, ngx_cflb_monitor_t *mon, ngx_str_t *value)
{
    ngx_str_t   *name;
    ngx_flag_t  *field;

    name = cf->args->elts;
    field = (name->data[0] == 'f') ? &mon->follow_redirects
                                   : &mon->allow_insecure;

    if (*field != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    if (ngx_strcmp(value->data, "on") == 0) {
        *field = 1;

    } else if (ngx_strcmp(value->data, "off") == 0) {
        *field = 0;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\", it must be "
                           "\"on\" or \"off\"", value, name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_cflb_mon_time(ngx_conf_t *cf, ngx_cflb_monitor_t *mon, ngx_str_t *value)
{
    ngx_str_t   *name;
    ngx_msec_t  *field, t;

    name = cf->args->elts;
    field = (name->data[0] == 'i') ? &mon->interval : &mon->timeout;

    if (*field != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    t = ngx_parse_time(value, 0);

    if (t == (ngx_msec_t) NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\"", name, value);
        return NGX_CONF_ERROR;
    }

    *field = t;

    return NGX_CONF_OK;
}


static char *
ngx_cflb_mon_num(ngx_conf_t *cf, ngx_cflb_monitor_t *mon, ngx_str_t *value)
{
    ngx_int_t    n;
    ngx_str_t   *name;
    ngx_uint_t  *field, max;

    name = cf->args->elts;

    if (name->data[0] == 'p') {
        field = &mon->port;
        max = 65535;

    } else if (name->data[0] == 'r') {
        field = &mon->retries;
        max = 5;

    } else if (name->data[12] == 'u') {
        field = &mon->consecutive_up;
        max = 100;

    } else {
        field = &mon->consecutive_down;
        max = 100;
    }

    if (*field != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    n = ngx_atoi(value->data, value->len);

    if (n == NGX_ERROR || (ngx_uint_t) n > max
        || (field == &mon->port && n == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\", it must be from %ui to %ui",
                           name, value, (ngx_uint_t) (field == &mon->port),
                           max);
        return NGX_CONF_ERROR;
    }

    *field = n;

    return NGX_CONF_OK;
}


#if (NGX_SSL)

static ngx_int_t
ngx_cflb_monitor_ssl(ngx_conf_t *cf, ngx_cflb_monitor_t *mon)
{
    ngx_pool_cleanup_t  *cln;

    mon->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (mon->ssl == NULL) {
        return NGX_ERROR;
    }

    mon->ssl->log = cf->log;

    /* the product accepts TLS 1.0 and newer */
    if (ngx_ssl_create(mon->ssl, NGX_SSL_TLSv1|NGX_SSL_TLSv1_1
                                 |NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(mon->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = mon->ssl;

    if (mon->allow_insecure) {
        return NGX_OK;
    }

    /* verified after the handshake, as nginx's proxy_ssl_verify does */

    if (SSL_CTX_set_default_verify_paths(mon->ssl->ctx) != 1) {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "SSL_CTX_set_default_verify_paths() failed");
        return NGX_ERROR;
    }

    if (mon->trusted.len
        && ngx_ssl_trusted_certificate(cf, mon->ssl, &mon->trusted, 4)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif


ngx_cflb_monitor_t *
ngx_cflb_find_monitor(ngx_cflb_conf_t *ccf, ngx_str_t *name)
{
    ngx_uint_t            i;
    ngx_cflb_monitor_t  **mons;

    mons = ccf->monitors.elts;

    for (i = 0; i < ccf->monitors.nelts; i++) {
        if (mons[i]->name.len == name->len
            && ngx_strncmp(mons[i]->name.data, name->data, name->len) == 0)
        {
            return mons[i];
        }
    }

    return NULL;
}


/* quorum local | majority: whose verdict decides (cflb_cluster) */

static char *
ngx_cflb_mon_quorum(ngx_conf_t *cf, ngx_cflb_monitor_t *mon,
    ngx_str_t *value)
{
    if (mon->quorum != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (value->len == 5 && ngx_strncmp(value->data, "local", 5) == 0) {
        mon->quorum = NGX_CFLB_QUORUM_LOCAL;
        return NGX_CONF_OK;
    }

    if (value->len == 8 && ngx_strncmp(value->data, "majority", 8) == 0) {
        mon->quorum = NGX_CFLB_QUORUM_MAJORITY;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid quorum \"%V\", expected local or majority",
                       value);

    return NGX_CONF_ERROR;
}
