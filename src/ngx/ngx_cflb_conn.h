
/*
 * Outbound connections of the module's own (health probes, webhooks):
 * non-blocking connect, the test of its end, sending a buffer, and TLS
 * as a client (https webhooks).
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

/* closes c, ending its TLS without waiting for the peer */
void ngx_cflb_close(ngx_connection_t *c);


#if (NGX_SSL)

/* room for what ngx_cflb_ssl_verify() says */
#define NGX_CFLB_SSL_WHY   160

/*
 * ngx_cflb_ssl_client() makes ssl a client context: TLS 1.2 and 1.3,
 * and, unless trusted is NULL, certificates checked against the
 * system's roots and the file trusted names, if any (relative to the
 * prefix).  Its cleanup goes with cf->pool.  NGX_OK or NGX_ERROR
 * (logged).
 */
ngx_int_t ngx_cflb_ssl_client(ngx_conf_t *cf, ngx_ssl_t *ssl,
    ngx_str_t *trusted);

/*
 * ngx_cflb_ssl_start() starts the handshake on the connected c (c->pool
 * holds the TLS state), with name as SNI unless it is an IP literal.
 * handler(c) runs when the handshake ends, well or not
 * (c->ssl->handshaked), possibly before this returns; the caller must
 * not touch c after.  NGX_ERROR: nothing was started.
 */
ngx_int_t ngx_cflb_ssl_start(ngx_connection_t *c, ngx_ssl_t *ssl,
    ngx_str_t *name, ngx_connection_handler_pt handler);

/*
 * ngx_cflb_ssl_verify(): the peer's certificate chains to a trusted root
 * and is for name (a host name, or an IP address, bracketed or not).
 * NGX_OK, or NGX_ERROR with why (NGX_CFLB_SSL_WHY bytes) saying which.
 */
ngx_int_t ngx_cflb_ssl_verify(ngx_connection_t *c, ngx_str_t *name,
    u_char *why, size_t len);

#endif


#endif /* _NGX_CFLB_CONN_H_INCLUDED_ */
