
/*
 * ngx_http_cflb_module: the http glue.  A cflb_lb block is an upstream
 * whose peers the decision engine chooses, so "proxy_pass http://NAME"
 * and every upstream feature that wraps a balancer (keepalive,
 * proxy_next_upstream, proxy_ssl_*) work as with any upstream.
 */

#include "ngx_http_cflb.h"
#include "ngx_cflb_conf.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_lb.h"
#include "ngx_cflb_zone.h"
#include "ngx_cflb_process.h"
#include "ngx_cflb_health.h"
#include "ngx_cflb_notify.h"
#include "ngx_cflb_state.h"
#include "ngx_cflb_trace.h"
#include "ngx_cflb_maps.h"
#include "ngx_cflb_location.h"
#include "ngx_cflb_dns_zone.h"
#include "ngx_cflb_cluster.h"
#include "ngx_cflb_resolve.h"


static char *ngx_http_cflb_lb_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_cflb_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_cflb_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_cflb_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_cflb_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);
static ngx_int_t ngx_http_cflb_set_host(ngx_http_cflb_peer_data_t *hpd,
    ngx_str_t *host);
static ngx_int_t ngx_http_cflb_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cflb_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_cflb_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_cflb_create_main_conf(ngx_conf_t *cf);


static ngx_command_t  ngx_http_cflb_commands[] = {

#define NGX_CFLB_MAIN_CONF      NGX_HTTP_MAIN_CONF
#define NGX_CFLB_UPS_CONF       NGX_HTTP_UPS_CONF
#define NGX_CFLB_MAIN_OFFSET    NGX_HTTP_MAIN_CONF_OFFSET
#define NGX_CFLB_SRV_OFFSET     NGX_HTTP_SRV_CONF_OFFSET
#define NGX_CFLB_LB_BLOCK       ngx_http_cflb_lb_block

#include "ngx_cflb_commands.h"

    { ngx_string("cflb_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_cflb_content,
      0,
      0,
      ngx_http_cflb_status_handler },

    { ngx_string("cflb_dashboard"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_cflb_content,
      0,
      0,
      ngx_http_cflb_dashboard_handler },

    { ngx_string("cflb_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_cflb_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_cflb_module_ctx = {
    ngx_http_cflb_add_variables,           /* preconfiguration */
    ngx_http_cflb_postconfiguration,       /* postconfiguration */

    ngx_http_cflb_create_main_conf,        /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_cflb_create_loc_conf,         /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_cflb_module = {
    NGX_MODULE_V1,
    &ngx_http_cflb_module_ctx,             /* module context */
    ngx_http_cflb_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_cflb_init_process,                 /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_cflb_exit_process,                 /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * cflb_lb NAME { ... }: an upstream{} of our own, parsed in upstream
 * context so that the upstream directives that wrap a balancer
 * (keepalive and friends) work inside it.
 */

static char *
ngx_http_cflb_lb_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_url_t                      u;
    ngx_cflb_lb_t                 *lb;
    ngx_http_conf_ctx_t           *ctx;
    ngx_http_upstream_srv_conf_t  *uscf;

    lb = ngx_cflb_lb_create(cf, conf, &u);
    if (lb == NULL) {
        return NGX_CONF_ERROR;
    }

    uscf = ngx_http_upstream_add(cf, &u, NGX_HTTP_UPSTREAM_CREATE);
    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_conf_ctx_t));

    if (uscf == NULL || ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    /* set first, so that keepalive inside the block wraps it */
    uscf->peer.init_upstream = ngx_http_cflb_init_upstream;
    uscf->servers = ngx_array_create(cf->pool, 1,
                                     sizeof(ngx_http_upstream_server_t));

    ctx->main_conf = ((ngx_http_conf_ctx_t *) cf->ctx)->main_conf;
    ctx->srv_conf = ngx_cflb_module_confs(cf, NGX_HTTP_MODULE,
                                          ngx_http_max_module,
                                          offsetof(ngx_http_module_t,
                                                   create_srv_conf));
    ctx->loc_conf = ngx_cflb_module_confs(cf, NGX_HTTP_MODULE,
                                          ngx_http_max_module,
                                          offsetof(ngx_http_module_t,
                                                   create_loc_conf));

    if (uscf->servers == NULL || ctx->srv_conf == NULL
        || ctx->loc_conf == NULL)
    {
        return NGX_CONF_ERROR;
    }

    ctx->srv_conf[ngx_http_upstream_module.ctx_index] = uscf;
    uscf->srv_conf = ctx->srv_conf;

    return ngx_cflb_lb_parse(cf, lb, ctx, ctx->srv_conf, NGX_HTTP_UPS_CONF,
                             &uscf->flags, NGX_HTTP_UPSTREAM_CREATE);
}


static ngx_int_t
ngx_http_cflb_init_upstream(ngx_conf_t *cf, ngx_http_upstream_srv_conf_t *us)
{
    ngx_cflb_lb_t  *lb;

    lb = ngx_http_conf_upstream_srv_conf(us, ngx_http_cflb_module);

    if (ngx_cflb_lb_init(cf, lb, us->servers->nelts, us->shm_zone)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    us->peer.init = ngx_http_cflb_init_peer;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cflb_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_cflb_lb_t              *lb;
    ngx_http_cflb_peer_data_t  *hpd;

    lb = ngx_http_conf_upstream_srv_conf(us, ngx_http_cflb_module);

    hpd = NULL;

    if (lb->rules) {
        /* the context the rules of the precontent phase made, if for lb */
        hpd = ngx_http_get_module_ctx(r, ngx_http_cflb_module);
        hpd = ngx_http_cflb_ruled_for(hpd, lb);
    }

    if (hpd == NULL) {
        hpd = ngx_pcalloc(r->pool, sizeof(ngx_http_cflb_peer_data_t));
        if (hpd == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_cflb_init_peer(&hpd->pd, r->pool, lb, &r->upstream->peer,
                           r->connection->sockaddr, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    hpd->r = r;

    /* the client's place is looked up once per connection (docs/geo.md) */
    hpd->pd.d.in.cpool = r->connection->pool;

    r->upstream->peer.get = ngx_http_cflb_get_peer;
    r->upstream->peer.free = ngx_http_cflb_free_peer;

    if (lb->rules && ngx_http_cflb_rules_peer(r, lb, hpd) != NGX_OK) {
        return NGX_ERROR;
    }

    if (hpd->pd.d.view->affinity->mode != NGX_CFLB_AFFINITY_NONE) {
        ngx_http_cflb_affinity(r, hpd);
    }

    ngx_http_set_ctx(r, hpd, ngx_http_cflb_module);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cflb_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_cflb_peer_data_t *hpd = data;

    ngx_int_t             rc;
    ngx_cflb_endpoint_t  *ep;

    rc = ngx_cflb_get_peer(pc, data);

    if (rc != NGX_OK) {
        return rc;
    }

    ep = hpd->pd.d.last;

    if (ep->host.len || hpd->header) {
        if (ngx_http_cflb_set_host(hpd, &ep->host) != NGX_OK) {
            ngx_cflb_free_peer(pc, data, 0);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The attempt's bytes are in its upstream state: nginx sets them before
 * it frees the peer, after a failed attempt as after the last one.
 */

static void
ngx_http_cflb_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_cflb_peer_data_t *hpd = data;

    ngx_http_upstream_state_t  *us;

    us = hpd->r->upstream->state;

    if (us == NULL) {
        ngx_cflb_free_peer(pc, data, state);
        return;
    }

    ngx_cflb_free_peer_bytes(pc, data, state, us->bytes_sent,
                             us->bytes_received);
}


/*
 * host= replaces the Host header.  The proxy module wrote the request
 * header before the peer was chosen, so the first buffer of the request
 * is rewritten, from the original each time: a retry may land on an
 * endpoint with another host, or none.
 */

static ngx_int_t
ngx_http_cflb_set_host(ngx_http_cflb_peer_data_t *hpd, ngx_str_t *host)
{
    u_char              *p, *start, *end, *value, *eol;
    size_t               len;
    ngx_buf_t           *b, *orig;
    ngx_http_upstream_t *u;

    u = hpd->r->upstream;

    if (u->request_bufs == NULL || u->request_bufs->buf == NULL) {
        return NGX_OK;
    }

    if (hpd->header == NULL) {
        hpd->header = u->request_bufs->buf;
    }

    orig = hpd->header;

    if (host->len == 0) {
        u->request_bufs->buf = orig;
        return NGX_OK;
    }

    if (!ngx_buf_in_memory(orig)) {
        return NGX_OK;
    }

    start = orig->start ? orig->start : orig->pos;
    end = orig->last;

    /* "\r\nHost:" within the header, case-insensitively */

    for (p = start; p + 7 < end; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            if (p + 3 < end && p[2] == '\r' && p[3] == '\n') {
                return NGX_OK;
            }

            if (ngx_strncasecmp(p + 2, (u_char *) "Host:", 5) == 0) {
                break;
            }
        }
    }

    if (p + 7 >= end) {
        return NGX_OK;
    }

    value = p + 7;
    eol = ngx_strlchr(value, end, '\r');

    if (eol == NULL) {
        return NGX_OK;
    }

    len = (value - start) + 1 + host->len + (end - eol);

    b = ngx_create_temp_buf(hpd->r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, start, value - start);
    *b->last++ = ' ';
    b->last = ngx_cpymem(b->last, host->data, host->len);
    b->last = ngx_cpymem(b->last, eol, end - eol);

    b->flush = orig->flush;
    b->last_buf = orig->last_buf;
    b->last_in_chain = orig->last_in_chain;

    u->request_bufs->buf = b;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cflb_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_cflb_conf_t            *ccf;
    ngx_http_cflb_peer_data_t  *hpd;

    hpd = ngx_http_get_module_ctx(r, ngx_http_cflb_module);
    ccf = ngx_http_get_module_main_conf(r, ngx_http_cflb_module);

    ngx_cflb_variable(ccf, hpd ? &hpd->pd.d : NULL, r->connection->sockaddr,
                      r->pool, v, data);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cflb_add_variables(ngx_conf_t *cf)
{
    const ngx_cflb_var_t  *v;
    ngx_http_variable_t   *var;

    for (v = ngx_cflb_variables; v->name.len; v++) {
        var = ngx_http_add_variable(cf, (ngx_str_t *) &v->name,
                                    v->cacheable ? 0
                                                 : NGX_HTTP_VAR_NOCACHEABLE);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = ngx_http_cflb_variable;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cflb_postconfiguration(ngx_conf_t *cf)
{
    const ngx_str_t            *trace;
    ngx_cflb_conf_t            *ccf;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_cflb_affinity_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    ccf = ngx_http_conf_get_module_main_conf(cf, ngx_http_cflb_module);
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* $cflb_trace indexed by a log format, add_header, map... */
    trace = &ngx_cflb_variables[NGX_CFLB_VAR_TRACE].name;
    ccf->trace = ngx_cflb_variable_used(&cmcf->variables,
                                        sizeof(ngx_http_variable_t), trace);

    if (ngx_http_cflb_api_check(cf, ccf) != NGX_OK
        || ngx_http_cflb_phase_init(cf, ccf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* "resolve" endpoints: the http{} level resolver */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (ngx_cflb_resolve_conf(cf, ccf, clcf->resolver,
                              clcf->resolver_timeout, 0)
        != NGX_OK
        || ngx_cflb_postconfiguration(cf, ccf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_cflb_state_read(cf, ccf);
}


static void *
ngx_http_cflb_create_main_conf(ngx_conf_t *cf)
{
    ngx_cflb_conf_t  *ccf;

    ccf = ngx_cflb_create_conf(cf, &ngx_http_cflb_module, CFLB_MODE_L7);
    if (ccf == NULL) {
        return NULL;
    }

    ccf->rule_conf = ngx_http_cflb_rule_conf(cf);

    return ccf->rule_conf ? ccf : NULL;
}
