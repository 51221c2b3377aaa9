
/*
 * Outbound connections of the module's own, for health probes and
 * webhooks: nginx's ngx_event_connect_peer() with both events on one
 * handler and one deadline for the whole exchange; TLS as a client the
 * way the https monitors speak it (verified after the handshake, as
 * proxy_ssl_verify does).
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


void
ngx_cflb_close(ngx_connection_t *c)
{
#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);
}


#if (NGX_SSL)

ngx_int_t
ngx_cflb_ssl_client(ngx_conf_t *cf, ngx_ssl_t *ssl, ngx_str_t *trusted)
{
    ngx_pool_cleanup_t  *cln;

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    if (trusted == NULL) {
        return NGX_OK;
    }

    /* checked after the handshake, as nginx's proxy_ssl_verify does */

    if (SSL_CTX_set_default_verify_paths(ssl->ctx) != 1) {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "SSL_CTX_set_default_verify_paths() failed");
        return NGX_ERROR;
    }

    if (trusted->len
        && ngx_ssl_trusted_certificate(cf, ssl, trusted, 4) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_cflb_ssl_start(ngx_connection_t *c, ngx_ssl_t *ssl, ngx_str_t *name,
    ngx_connection_handler_pt handler)
{
    u_char     *sni;
    ngx_int_t   rc;

    if (ngx_ssl_create_connection(ssl, c, NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* SNI only with a name (RFC 6066: no IP literals) */
    if (name->len && name->data[0] != '['
        && ngx_inet_addr(name->data, name->len) == INADDR_NONE)
    {
        sni = ngx_pnalloc(c->pool, name->len + 1);
        if (sni == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_cpystrn(sni, name->data, name->len + 1);

        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) sni) == 0) {
            ngx_ssl_error(NGX_LOG_ERR, c->log, 0,
                          "SSL_set_tlsext_host_name(\"%s\") failed", sni);
            return NGX_ERROR;
        }
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = handler;
        return NGX_OK;
    }

    handler(c);

    return NGX_OK;
}


ngx_int_t
ngx_cflb_ssl_verify(ngx_connection_t *c, ngx_str_t *name, u_char *why,
    size_t len)
{
    long        rc;
    u_char      ip[NGX_SOCKADDR_STRLEN], *p;
    X509       *cert;
    ngx_str_t   host;
    ngx_uint_t  ok, addr;

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        p = ngx_snprintf(why, len - 1, "certificate verify error: (%l:%s)",
                         rc, X509_verify_cert_error_string(rc));
        *p = '\0';
        return NGX_ERROR;
    }

    host = *name;
    addr = 0;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
        addr = 1;

    } else if (ngx_inet_addr(host.data, host.len) != INADDR_NONE) {
        addr = 1;
    }

    if (!addr) {
        ok = (ngx_ssl_check_host(c, &host) == NGX_OK);

    } else {
        /* an address is matched against the certificate's IP names */
        cert = SSL_get_peer_certificate(c->ssl->connection);
        ok = 0;

        if (cert && host.len < sizeof(ip)) {
            (void) ngx_cpystrn(ip, host.data, host.len + 1);
            ok = (X509_check_ip_asc(cert, (char *) ip, 0) == 1);
        }

        if (cert) {
            X509_free(cert);
        }
    }

    if (!ok) {
        p = ngx_snprintf(why, len - 1, "certificate does not match \"%V\"",
                         name);
        *p = '\0';
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif
