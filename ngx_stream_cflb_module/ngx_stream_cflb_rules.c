
/*
 * Custom rules in stream{}: beyond the product, which has no rules at
 * layer 4.  The fields that mean something for a TCP connection or a UDP
 * session are the common ones (ip.src and its location, the load
 * balancer's name and region, the port the client connected to); the
 * rules run in init_peer, once per session, with the cache on the stack.
 * No fixed response: refused when the configuration is read.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_cflb.h"
#include "ngx_cflb_conf.h"


static const cflb_rules_field_t  ngx_stream_cflb_fields[] = {
    NGX_CFLB_COMMON_FIELDS
};

#define NGX_STREAM_CFLB_NFIELDS                                               \
    (sizeof(ngx_stream_cflb_fields) / sizeof(cflb_rules_field_t))


static int ngx_stream_cflb_get(void *ctx, unsigned id, cflb_rules_value_t *v);


/* the session and what the callbacks fetch from it */
typedef struct {
    ngx_cflb_rules_req_t      rq;            /* must be first */
    ngx_connection_t         *c;
} ngx_stream_cflb_rules_ctx_t;


ngx_cflb_rule_conf_t *
ngx_stream_cflb_rule_conf(ngx_conf_t *cf)
{
    return ngx_cflb_rule_conf(cf, ngx_stream_cflb_fields,
                              NGX_STREAM_CFLB_NFIELDS, 0);
}


ngx_int_t
ngx_stream_cflb_rules(ngx_stream_session_t *s, ngx_cflb_lb_t *lb,
    ngx_cflb_decision_t *d)
{
    cflb_allocator_t             a;
    cflb_rules_input_t           in;
    ngx_cflb_rules_outcome_t     out;
    ngx_stream_cflb_rules_ctx_t  sc;
    cflb_rules_slot_t            slots[NGX_STREAM_CFLB_NFIELDS];

    sc.rq.lb = lb;
    sc.rq.client = s->connection->sockaddr;
    sc.rq.local = NULL;
    sc.rq.located = 0;
    sc.c = s->connection;

    /* no map field at layer 4: no lookup to cache */
    cflb_rules_input_init(&in, slots, lb->rules->nslots, NULL, 0);

    ngx_cflb_allocator(&a, s->connection->pool);

    in.get = ngx_stream_cflb_get;
    in.ctx = &sc;
    in.pool = &a;

    ngx_memzero(&out, sizeof(ngx_cflb_rules_outcome_t));

    if (ngx_cflb_rules_run(lb, &in, s->connection->pool, d->trace,
                           s->connection->log, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_cflb_rules_apply(d, &out);

    return NGX_OK;
}


static int
ngx_stream_cflb_get(void *ctx, unsigned id, cflb_rules_value_t *v)
{
    ngx_stream_cflb_rules_ctx_t *sc = ctx;

    if (id == NGX_CFLB_FIELD_PORT) {
        /* a wildcard listen knows its address only once asked */
        if (ngx_connection_local_sockaddr(sc->c, NULL, 0) != NGX_OK) {
            return CFLB_DECLINED;
        }

        sc->rq.local = sc->c->local_sockaddr;
    }

    return ngx_cflb_rules_common(&sc->rq, id, v);
}
