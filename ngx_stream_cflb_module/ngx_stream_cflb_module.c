
/*
 * ngx_stream_cflb_module: the stream glue.  A cflb_lb block is a stream
 * upstream whose peers are chosen by cflb steering per connection or UDP
 * session: "proxy_pass NAME" and proxy_next_upstream work as usual.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_cflb.h"


static char *ngx_stream_cflb_lb_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_stream_cflb_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us);
static ngx_int_t ngx_stream_cflb_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us);
static ngx_int_t ngx_stream_cflb_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_stream_cflb_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_stream_cflb_postconfiguration(ngx_conf_t *cf);
static void *ngx_stream_cflb_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_stream_cflb_init_process(ngx_cycle_t *cycle);
static void ngx_stream_cflb_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_stream_cflb_commands[] = {

    NGX_CFLB_COMMANDS(NGX_STREAM_MAIN_CONF, NGX_STREAM_UPS_CONF,
                      NGX_STREAM_MAIN_CONF_OFFSET, NGX_STREAM_SRV_CONF_OFFSET,
                      ngx_stream_cflb_lb_block),

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
    ngx_stream_cflb_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* cflb_lb NAME { ... }: a stream upstream{} of our own */

static char *
ngx_stream_cflb_lb_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    void                            *mconf;
    ngx_url_t                        u;
    ngx_str_t                       *value;
    ngx_uint_t                       m;
    ngx_cflb_lb_t                   *lb;
    ngx_stream_module_t             *module;
    ngx_stream_conf_ctx_t           *ctx, *stream_ctx;
    ngx_stream_upstream_srv_conf_t  *uscf;

    value = cf->args->elts;

    lb = ngx_cflb_lb_create(cf, conf, &value[1]);
    if (lb == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.host = value[1];
    u.no_resolve = 1;
    u.no_port = 1;

    uscf = ngx_stream_upstream_add(cf, &u, NGX_STREAM_UPSTREAM_CREATE);
    if (uscf == NULL) {
        return NGX_CONF_ERROR;
    }

    uscf->peer.init_upstream = ngx_stream_cflb_init_upstream;

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_stream_conf_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    stream_ctx = cf->ctx;
    ctx->main_conf = stream_ctx->main_conf;

    ctx->srv_conf = ngx_pcalloc(cf->pool,
                                sizeof(void *) * ngx_stream_max_module);
    uscf->servers = ngx_array_create(cf->pool, 1,
                                     sizeof(ngx_stream_upstream_server_t));

    if (ctx->srv_conf == NULL || uscf->servers == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->srv_conf[ngx_stream_upstream_module.ctx_index] = uscf;
    uscf->srv_conf = ctx->srv_conf;

    for (m = 0; cf->cycle->modules[m]; m++) {
        if (cf->cycle->modules[m]->type != NGX_STREAM_MODULE) {
            continue;
        }

        module = cf->cycle->modules[m]->ctx;

        if (module->create_srv_conf) {
            mconf = module->create_srv_conf(cf);
            if (mconf == NULL) {
                return NGX_CONF_ERROR;
            }

            ctx->srv_conf[cf->cycle->modules[m]->ctx_index] = mconf;
        }
    }

    ctx->srv_conf[ngx_stream_cflb_module.ctx_index] = lb;

    return ngx_cflb_lb_parse(cf, lb, ctx, NGX_STREAM_UPS_CONF, &uscf->flags,
                             NGX_STREAM_UPSTREAM_CREATE);
}


static ngx_int_t
ngx_stream_cflb_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_cflb_lb_t  *lb;

    lb = ngx_stream_conf_upstream_srv_conf(us, ngx_stream_cflb_module);

    if (us->servers->nelts || us->shm_zone) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"server\" and \"zone\" are not allowed in cflb_lb "
                      "\"%V\" in %s:%ui", &lb->name, lb->file, lb->line);
        return NGX_ERROR;
    }

    if (ngx_cflb_lb_init(cf, lb) != NGX_OK) {
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

    pd = ngx_pcalloc(s->connection->pool, sizeof(ngx_cflb_peer_data_t));
    if (pd == NULL) {
        return NGX_ERROR;
    }

    if (ngx_cflb_init_peer(pd, s->connection->pool, lb, &s->upstream->peer,
                           s->connection->sockaddr,
                           s->connection->local_sockaddr)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_stream_set_ctx(s, pd, ngx_stream_cflb_module);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_cflb_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    ngx_cflb_variable(ngx_stream_get_module_ctx(s, ngx_stream_cflb_module),
                      v, data);
    return NGX_OK;
}


static ngx_int_t
ngx_stream_cflb_add_variables(ngx_conf_t *cf)
{
    ngx_stream_variable_t     *var;
    const ngx_cflb_var_t  *v;

    for (v = ngx_cflb_variables; v->name.len; v++) {
        var = ngx_stream_add_variable(cf, (ngx_str_t *) &v->name,
                                  NGX_STREAM_VAR_NOCACHEABLE);
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
    return ngx_cflb_postconfiguration(cf,
               ngx_stream_conf_get_module_main_conf(cf,
                                                    ngx_stream_cflb_module));
}


static void *
ngx_stream_cflb_create_main_conf(ngx_conf_t *cf)
{
    /* no default port: an endpoint without one takes the client's */
    return ngx_cflb_create_conf(cf, &ngx_stream_cflb_module, 0,
                                NGX_LOG_DEBUG_STREAM);
}


static ngx_int_t
ngx_stream_cflb_init_process(ngx_cycle_t *cycle)
{
    ngx_cflb_conf_t  *ccf;

    ccf = ngx_stream_cycle_get_module_main_conf(cycle,
                                                ngx_stream_cflb_module);

    return ccf ? ngx_cflb_init_worker(cycle, ccf) : NGX_OK;
}


static void
ngx_stream_cflb_exit_process(ngx_cycle_t *cycle)
{
    ngx_cflb_conf_t  *ccf;

    ccf = ngx_stream_cycle_get_module_main_conf(cycle,
                                                ngx_stream_cflb_module);

    if (ccf) {
        ngx_cflb_exit_worker(cycle, ccf);
    }
}
