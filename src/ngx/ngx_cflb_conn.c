
/*
 * Outbound connections of the module's own, for health probes and
 * webhooks: nginx's ngx_event_connect_peer() with both events on one
 * handler and one deadline for the whole exchange.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_cflb_conn.h"


ngx_int_t
ngx_cflb_connect(ngx_peer_connection_t *pc, void *data, ngx_pool_t *pool,
    ngx_event_handler_pt handler, ngx_msec_t timeout)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    pc->get = ngx_event_get_peer;

    rc = ngx_event_connect_peer(pc);

    /* on failure nginx closed what it opened */
    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        return NGX_ERROR;
    }

    c = pc->connection;
    c->data = data;
    c->pool = pool;
    c->log = pc->log;
    c->read->log = pc->log;
    c->write->log = pc->log;
    c->read->handler = handler;
    c->write->handler = handler;

    ngx_add_timer(c->write, timeout);

    return rc;
}


ngx_int_t
ngx_cflb_connected(ngx_connection_t *c, ngx_err_t *err)
{
    socklen_t  len;

    if (!c->write->ready && !c->read->ready) {
        return NGX_AGAIN;
    }

    *err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) err, &len) == -1) {
        *err = ngx_socket_errno;
    }

    return *err ? NGX_ERROR : NGX_OK;
}


ngx_int_t
ngx_cflb_send(ngx_connection_t *c, ngx_buf_t *b)
{
    ssize_t  n;

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (n <= 0) {
            return NGX_ERROR;
        }

        b->pos += n;
    }

    return NGX_OK;
}
