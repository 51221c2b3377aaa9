
/*
 * ngx_stream_cflb_module: the stream glue.  A cflb_lb block is a stream
 * upstream whose peers the decision engine chooses per connection or UDP
 * session: "proxy_pass NAME" and proxy_next_upstream work as usual.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_cflb_conf.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_lb.h"
#include "ngx_cflb_peer.h"
#include "ngx_cflb_zone.h"
#include "ngx_cflb_process.h"
#include "ngx_cflb_health.h"
#include "ngx_cflb_notify.h"
#include "ngx_cflb_state.h"
#include "ngx_cflb_trace.h"
#include "ngx_cflb_maps.h"
#include "ngx_cflb_location.h"
#include "ngx_stream_cflb.h"
#include "ngx_stream_cflb_dns.h"
#include "ngx_cflb_cluster.h"
#include "ngx_cflb_resolve.h"




static char *ngx_stream_cflb_lb_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_stream_cflb_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us);
static ngx_int_t ngx_stream_cflb_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us);
static void ngx_stream_cflb_free_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_int_t ngx_stream_cflb_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_stream_cflb_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_stream_cflb_postconfiguration(ngx_conf_t *cf);
static void *ngx_stream_cflb_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_stream_cflb_init_process(ngx_cycle_t *cycle);


/*
 * The same directives as in http{}, with the same syntax; the layer-7
 * ones are here to be refused with the reason (ngx_cflb_lb_l7()).
 */

static ngx_command_t  ngx_stream_cflb_commands[] = {

#define NGX_CFLB_MAIN_CONF      NGX_STREAM_MAIN_CONF
#define NGX_CFLB_UPS_CONF       NGX_STREAM_UPS_CONF
#define NGX_CFLB_MAIN_OFFSET    NGX_STREAM_MAIN_CONF_OFFSET
#define NGX_CFLB_SRV_OFFSET     NGX_STREAM_SRV_CONF_OFFSET
#define NGX_CFLB_LB_BLOCK       ngx_stream_cflb_lb_block

#include "ngx_cflb_commands.h"

    /* DNS-only (ngx_stream_cflb_dns*.c, ngx_cflb_dns_zone.c) */

    { ngx_string("cflb_dns_zone"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_cflb_dns_zone_block,
      NGX_STREAM_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_dns"),
      NGX_STREAM_SRV_CONF|NGX_CONF_ANY,
      ngx_stream_cflb_dns,
      NGX_STREAM_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_cflb_module_ctx = {
    ngx_stream_cflb_add_variables,         /* preconfiguration */
    ngx_stream_cflb_postconfiguration,     /* postconfiguration */

    ngx_stream_cflb_create_main_conf,      /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL                                   /* merge server configuration */
};


ngx_module_t  ngx_stream_cflb_module = {
    NGX_MODULE_V1,
    &ngx_stream_cflb_module_ctx,           /* module context */
    ngx_stream_cflb_commands,              /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_stream_cflb_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_cflb_exit_process,                 /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* cflb_lb NAME { ... }: a stream upstream{} of our own */

static char *
ngx_stream_cflb_lb_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_url_t                        u;
    ngx_cflb_lb_t                   *lb;
    ngx_stream_conf_ctx_t           *ctx;
    ngx_stream_upstream_srv_conf_t  *uscf;

    lb = ngx_cflb_lb_create(cf, conf, &u);
    if (lb == NULL) {
        return NGX_CONF_ERROR;
    }

    uscf = ngx_stream_upstream_add(cf, &u, NGX_STREAM_UPSTREAM_CREATE);
    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_stream_conf_ctx_t));

    if (uscf == NULL || ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    uscf->peer.init_upstream = ngx_stream_cflb_init_upstream;
    uscf->servers = ngx_array_create(cf->pool, 1,
                                     sizeof(ngx_stream_upstream_server_t));

    ctx->main_conf = ((ngx_stream_conf_ctx_t *) cf->ctx)->main_conf;
    ctx->srv_conf = ngx_cflb_module_confs(cf, NGX_STREAM_MODULE,
                                          ngx_stream_max_module,
                                          offsetof(ngx_stream_module_t,
                                                   create_srv_conf));

    if (uscf->servers == NULL || ctx->srv_conf == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->srv_conf[ngx_stream_upstream_module.ctx_index] = uscf;
    uscf->srv_conf = ctx->srv_conf;

    return ngx_cflb_lb_parse(cf, lb, ctx, ctx->srv_conf, NGX_STREAM_UPS_CONF,
                             &uscf->flags, NGX_STREAM_UPSTREAM_CREATE);
}


static ngx_int_t
ngx_stream_cflb_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_cflb_lb_t  *lb;

    lb = ngx_stream_conf_upstream_srv_conf(us, ngx_stream_cflb_module);

    if (ngx_cflb_lb_init(cf, lb, us->servers->nelts, us->shm_zone)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    us->peer.init = ngx_stream_cflb_init_peer;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_cflb_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_cflb_lb_t         *lb;
    ngx_cflb_peer_data_t  *pd;

    lb = ngx_stream_conf_upstream_srv_conf(us, ngx_stream_cflb_module);

    /* within 128 bytes: see ngx_cflb_decision_t */
    pd = ngx_pcalloc(s->connection->pool, sizeof(ngx_cflb_peer_data_t));
    if (pd == NULL) {
        return NGX_ERROR;
    }

    if (ngx_cflb_init_peer(pd, s->connection->pool, lb,
                           &s->upstream->peer, s->connection->sockaddr,
                           s->connection->local_sockaddr)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    s->upstream->peer.free = ngx_stream_cflb_free_peer;

    if (lb->rules && lb->rules->n
        && ngx_stream_cflb_rules(s, lb, &pd->d) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_stream_set_ctx(s, pd, ngx_stream_cflb_module);

    return NGX_OK;
}


/*
 * The attempt's bytes, read from its connection: nginx frees the peer
 * before it copies them to the upstream state.  Only the last attempt
 * exchanges data (a retry follows a failed connect), so "received", a
 * total of the session, is that attempt's.  pc is the upstream's peer:
 * the upstream is found from it rather than kept in the peer data
 * (ngx_cflb_decision_t says why).
 */

static void
ngx_stream_cflb_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_stream_upstream_t  *u;

    u = (ngx_stream_upstream_t *) ((u_char *) pc
                                   - offsetof(ngx_stream_upstream_t, peer));

    ngx_cflb_free_peer_bytes(pc, data, state,
                             pc->connection ? pc->connection->sent : 0,
                             u->received);
}


static ngx_int_t
ngx_stream_cflb_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    ngx_cflb_conf_t       *ccf;
    ngx_cflb_peer_data_t  *pd;

    pd = ngx_stream_get_module_ctx(s, ngx_stream_cflb_module);
    ccf = ngx_stream_get_module_main_conf(s, ngx_stream_cflb_module);

    if (ngx_stream_get_module_srv_conf(s, ngx_stream_cflb_module)) {
        /* a cflb_dns server: its ctx starts with a DNS query's state */
        ngx_stream_cflb_dns_variable(ccf, (ngx_stream_cflb_dns_ctx_t *) pd,
                                     s->connection->pool, v, data);
        return NGX_OK;
    }

    ngx_cflb_variable(ccf, pd ? &pd->d : NULL, s->connection->sockaddr,
                      s->connection->pool, v, data);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_cflb_add_variables(ngx_conf_t *cf)
{
    const ngx_cflb_var_t   *v;
    ngx_stream_variable_t  *var;

    for (v = ngx_cflb_variables; v->name.len; v++) {
        var = ngx_stream_add_variable(cf, (ngx_str_t *) &v->name,
                                      v->cacheable
                                      ? 0 : NGX_STREAM_VAR_NOCACHEABLE);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = ngx_stream_cflb_variable;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_cflb_postconfiguration(ngx_conf_t *cf)
{
    const ngx_str_t              *trace;
    ngx_cflb_conf_t              *ccf;
    ngx_stream_core_srv_conf_t   *cscf;
    ngx_stream_core_main_conf_t  *cmcf;

    ccf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_cflb_module);
    cmcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_core_module);

    trace = &ngx_cflb_variables[NGX_CFLB_VAR_TRACE].name;
    ccf->trace = ngx_cflb_variable_used(&cmcf->variables,
                                        sizeof(ngx_stream_variable_t), trace);

    /* "resolve" endpoints: the stream{} level resolver */
    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);

    /* DNS-only pools answer with the name: they need no resolver */
    if (ngx_cflb_resolve_conf(cf, ccf, cscf->resolver,
                              cscf->resolver_timeout, ccf->dns != NULL)
        != NGX_OK
        || ngx_cflb_postconfiguration(cf, ccf) != NGX_OK
        || ngx_stream_cflb_dns_postconfiguration(cf, ccf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_cflb_state_read(cf, ccf);
}


static void *
ngx_stream_cflb_create_main_conf(ngx_conf_t *cf)
{
    ngx_cflb_conf_t  *ccf;

    ccf = ngx_cflb_create_conf(cf, &ngx_stream_cflb_module, CFLB_MODE_L4);
    if (ccf == NULL) {
        return NULL;
    }

    ccf->rule_conf = ngx_stream_cflb_rule_conf(cf);

    return ccf->rule_conf ? ccf : NULL;
}


/* the worker's part in cflb, then the DNS responder's */

static ngx_int_t
ngx_stream_cflb_init_process(ngx_cycle_t *cycle)
{
    if (ngx_cflb_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_stream_cflb_dns_init_process(cycle);
}
