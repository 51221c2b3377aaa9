
/*
 * ngx_stream_cflb_module: the stream glue.  A cflb_lb block is a stream
 * upstream whose peers are chosen by cflb steering per connection or UDP
 * session: "proxy_pass NAME" and proxy_next_upstream work as usual.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_cflb.h"


typedef struct {
    ngx_cflb_peer_data_t      pd;            /* must be first */
    ngx_stream_upstream_t    *upstream;
} ngx_stream_cflb_peer_data_t;


static char *ngx_stream_cflb_lb_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_stream_cflb_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us);
static ngx_int_t ngx_stream_cflb_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us);
static void ngx_stream_cflb_free_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_int_t ngx_stream_cflb_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_stream_cflb_postconfiguration(ngx_conf_t *cf);
static void *ngx_stream_cflb_create_main_conf(ngx_conf_t *cf);


static ngx_command_t  ngx_stream_cflb_commands[] = {

    NGX_CFLB_COMMANDS(NGX_STREAM_MAIN_CONF, NGX_STREAM_UPS_CONF,
                      NGX_STREAM_MAIN_CONF_OFFSET, NGX_STREAM_SRV_CONF_OFFSET,
                      ngx_stream_cflb_lb_block),

      ngx_null_command
};


NGX_CFLB_MODULE(stream, STREAM, );


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
    ngx_cflb_lb_t                *lb;
    ngx_stream_cflb_peer_data_t  *spd;

    lb = ngx_stream_conf_upstream_srv_conf(us, ngx_stream_cflb_module);

    spd = ngx_pcalloc(s->connection->pool,
                      sizeof(ngx_stream_cflb_peer_data_t));
    if (spd == NULL) {
        return NGX_ERROR;
    }

    if (ngx_cflb_init_peer(&spd->pd, s->connection->pool, lb,
                           &s->upstream->peer, s->connection->sockaddr,
                           s->connection->local_sockaddr)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    spd->upstream = s->upstream;
    s->upstream->peer.free = ngx_stream_cflb_free_peer;

    ngx_stream_set_ctx(s, spd, ngx_stream_cflb_module);

    return NGX_OK;
}


/*
 * The attempt's bytes, read from its connection: nginx frees the peer
 * before it copies them to the upstream state.  Only the last attempt
 * exchanges data (a retry follows a failed connect), so "received", a
 * total of the session, is that attempt's.
 */

static void
ngx_stream_cflb_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_stream_cflb_peer_data_t *spd = data;

    ngx_cflb_free_peer_bytes(pc, data, state,
                             pc->connection ? pc->connection->sent : 0,
                             spd->upstream->received);
}


NGX_CFLB_VARIABLES(stream, STREAM, ngx_stream_session_t)


static ngx_int_t
ngx_stream_cflb_postconfiguration(ngx_conf_t *cf)
{
    ngx_cflb_conf_t  *ccf;

    ccf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_cflb_module);
    ccf->trace = ngx_stream_cflb_traced(cf);

    return ngx_cflb_postconfiguration(cf, ccf);
}


static void *
ngx_stream_cflb_create_main_conf(ngx_conf_t *cf)
{
    /* no default port: an endpoint without one takes the client's */
    return ngx_cflb_create_conf(cf, &ngx_stream_cflb_module, 0,
                                NGX_LOG_DEBUG_STREAM);
}
