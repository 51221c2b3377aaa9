
/*
 * Outbound connections of the module's own (health probes, webhooks):
 * non-blocking connect, the test of its end, and sending a buffer.
 */

#ifndef _NGX_CFLB_CONN_H_INCLUDED_
#define _NGX_CFLB_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>


/*
 * ngx_cflb_connect() starts a non-blocking connection to pc->sockaddr
 * (pc's socklen, name, log and type set by the caller): both events go
 * to handler with c->data = data and c->pool = pool, and the write event
 * times out after timeout, one deadline for the whole exchange.  Returns
 * NGX_OK (connected), NGX_AGAIN (in progress) or NGX_ERROR (nothing left
 * open).  ngx_cflb_connected() tells whether the connect ended:
 * NGX_AGAIN, NGX_OK, or NGX_ERROR with the socket error in *err.
 * ngx_cflb_send() sends the rest of b: NGX_OK (all sent), NGX_AGAIN or
 * NGX_ERROR.
 */
ngx_int_t ngx_cflb_connect(ngx_peer_connection_t *pc, void *data,
    ngx_pool_t *pool, ngx_event_handler_pt handler, ngx_msec_t timeout);
ngx_int_t ngx_cflb_connected(ngx_connection_t *c, ngx_err_t *err);
ngx_int_t ngx_cflb_send(ngx_connection_t *c, ngx_buf_t *b);


#endif /* _NGX_CFLB_CONN_H_INCLUDED_ */
