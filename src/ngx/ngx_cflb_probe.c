
/*
 * One health check of one endpoint: a non-blocking nginx connection that
 * speaks the monitor's protocol (tcp, http, https, smtp, udp_icmp), with
 * immediate retries, a deadline per attempt and bounded memory whatever
 * the endpoint sends.  The result goes to a callback.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include <netinet/ip_icmp.h>

#if (NGX_ZLIB)
#include <zlib.h>
#endif

#include "ngx_cflb_health.h"
#include "ngx_cflb_conn.h"
#include "ngx_cflb_resolve.h"
#include "cflb_http_resp.h"


#define NGX_CFLB_PROBE_HEAD     16384      /* the largest response head */
#define NGX_CFLB_PROBE_BODY     10240      /* body bytes expected_body reads */
#define NGX_CFLB_PROBE_BUF      4096
#define NGX_CFLB_PROBE_REDIRECTS  5

#define NGX_CFLB_USER_AGENT                                                   \
    "User-Agent: Mozilla/5.0 (compatible; cflb-health-check/1.0; pool: "


typedef struct {
    ngx_cflb_endpoint_t      *ep;
    ngx_cflb_monitor_t       *mon;
    ngx_cflb_probe_done_pt    done;
    ngx_pool_t               *pool;
    ngx_log_t                *log;
    ngx_peer_connection_t     pc;
    u_char                    sockaddr[NGX_SOCKADDRLEN];
    socklen_t                 socklen;
    ngx_str_t                 name;
    ngx_str_t                 host;
    ngx_str_t                 path;
    ngx_buf_t                *out;
    ngx_buf_t                *in;
    cflb_http_resp_t         *resp;
    u_char                   *body;
    size_t                    body_len;
    ngx_uint_t                attempt;
    ngx_uint_t                redirects;
    ngx_uint_t                phase;        /* smtp: replies read */
    ngx_uint_t                code;
    ngx_msec_t                start;

    unsigned                  connected:1;
    unsigned                  head_done:1;
} ngx_cflb_probe_t;


static void ngx_cflb_probe_target(ngx_cflb_probe_t *p);
static ngx_int_t ngx_cflb_probe_connect(ngx_cflb_probe_t *p);
static void ngx_cflb_probe_handler(ngx_event_t *ev);
static ngx_int_t ngx_cflb_probe_connected(ngx_cflb_probe_t *p);
#if (NGX_SSL)
static ngx_int_t ngx_cflb_probe_ssl(ngx_cflb_probe_t *p);
static void ngx_cflb_probe_ssl_handshaked(ngx_connection_t *c);
#endif
static ngx_int_t ngx_cflb_probe_request(ngx_cflb_probe_t *p);
static ngx_int_t ngx_cflb_probe_send(ngx_cflb_probe_t *p);
static ngx_int_t ngx_cflb_probe_read(ngx_cflb_probe_t *p);
static ngx_int_t ngx_cflb_probe_http(ngx_cflb_probe_t *p, u_char *data,
    size_t len, ngx_uint_t eof);
static ngx_int_t ngx_cflb_probe_http_head(ngx_cflb_probe_t *p);
static ngx_int_t ngx_cflb_probe_smtp(ngx_cflb_probe_t *p, ngx_uint_t eof);
static ngx_int_t ngx_cflb_probe_gunzip(ngx_cflb_probe_t *p);
static ngx_int_t ngx_cflb_probe_redirect(ngx_cflb_probe_t *p);
static ngx_int_t ngx_cflb_probe_ldap(ngx_cflb_probe_t *p, ngx_uint_t eof);
static ngx_int_t ngx_cflb_probe_icmp(ngx_cflb_probe_t *p);
static void ngx_cflb_probe_icmp_handler(ngx_event_t *ev);
static uint16_t ngx_cflb_icmp_sum(u_char *data, size_t len);
static ngx_uint_t ngx_cflb_probe_errno(ngx_err_t err);
static void ngx_cflb_probe_finish(ngx_cflb_probe_t *p, ngx_uint_t reason);
static void ngx_cflb_probe_close(ngx_cflb_probe_t *p);


/* what the state functions return besides NGX_OK / NGX_AGAIN */
#define NGX_CFLB_PROBE_PASS     1
#define NGX_CFLB_PROBE_FAIL(r)  (-100 - (ngx_int_t) (r))


ngx_int_t
ngx_cflb_probe_start(ngx_cflb_endpoint_t *ep, ngx_log_t *log,
    ngx_cflb_probe_done_pt done)
{
    ngx_pool_t          *pool;
    ngx_addr_t          *addr;
    ngx_cflb_probe_t    *p;
    ngx_cflb_monitor_t  *mon;

    mon = ep->pool->monitor;

    /* the current address: with "resolve", this worker's, maybe none */
    addr = ngx_cflb_endpoint_addr(ep);

    if (addr == NULL) {
        return NGX_DECLINED;
    }

    pool = ngx_create_pool(NGX_CFLB_PROBE_BUF, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pcalloc(pool, sizeof(ngx_cflb_probe_t));
    if (p == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    p->ep = ep;
    p->mon = mon;
    p->done = done;
    p->pool = pool;
    p->log = log;

    ngx_memcpy(p->sockaddr, addr->sockaddr, addr->socklen);
    p->socklen = addr->socklen;

    if (mon->port) {
        ngx_inet_set_port((struct sockaddr *) p->sockaddr,
                          (in_port_t) mon->port);
    }

    p->name.data = ngx_pnalloc(pool, NGX_SOCKADDR_STRLEN);
    if (p->name.data == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    p->name.len = ngx_sock_ntop((struct sockaddr *) p->sockaddr, p->socklen,
                                p->name.data, NGX_SOCKADDR_STRLEN, 1);

    ngx_cflb_probe_target(p);

    if (ngx_cflb_probe_connect(p) == NGX_ERROR) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Host: the endpoint's host=, else the monitor's, else the address */

static void
ngx_cflb_probe_target(ngx_cflb_probe_t *p)
{
    p->host = p->ep->host.len ? p->ep->host
                              : (p->mon->host.len ? p->mon->host : p->name);
    p->path = p->mon->path;
    p->redirects = 0;
}


static ngx_int_t
ngx_cflb_probe_connect(ngx_cflb_probe_t *p)
{
    ngx_int_t  rc;

    ngx_memzero(&p->pc, sizeof(ngx_peer_connection_t));

    p->pc.sockaddr = (struct sockaddr *) p->sockaddr;
    p->pc.socklen = p->socklen;
    p->pc.name = &p->name;
    p->pc.log = p->log;
    p->pc.log_error = NGX_ERROR_INFO;

    if (p->mon->type == NGX_CFLB_MON_UDP_ICMP) {
        p->pc.type = SOCK_DGRAM;
    }

    p->connected = 0;
    p->head_done = 0;
    p->phase = 0;
    p->body_len = 0;
    p->start = ngx_current_msec;

    (void) ngx_atomic_fetch_add(&p->ep->sh->probes, 1);

    if (p->mon->type == NGX_CFLB_MON_ICMP_PING) {
        return ngx_cflb_probe_icmp(p);
    }

    rc = ngx_cflb_connect(&p->pc, p, p->pool, ngx_cflb_probe_handler,
                          p->mon->timeout);

    if (rc == NGX_ERROR) {
        ngx_cflb_probe_finish(p, CFLB_REASON_TCP_FAILED);
        return NGX_OK;
    }

    if (rc == NGX_OK) {
        ngx_cflb_probe_handler(p->pc.connection->write);
    }

    return NGX_OK;
}


/* every event of the probe connection comes here */

static void
ngx_cflb_probe_handler(ngx_event_t *ev)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;
    ngx_cflb_probe_t  *p;

    c = ev->data;
    p = c->data;

    if (ev->timedout) {
        if (p->mon->type == NGX_CFLB_MON_UDP_ICMP && p->connected) {
            /* silence is health: no port unreachable came back */
            ngx_cflb_probe_finish(p, CFLB_REASON_NONE);

        } else {
            ngx_cflb_probe_finish(p, p->connected ? CFLB_REASON_HTTP_TIMEOUT
                                                  : CFLB_REASON_TCP_TIMEOUT);
        }

        return;
    }

    if (!p->connected) {
        rc = ngx_cflb_probe_connected(p);

    } else if (p->out && p->out->pos < p->out->last) {
        rc = ngx_cflb_probe_send(p);

    } else {
        rc = ngx_cflb_probe_read(p);
    }

    if (rc == NGX_DONE) {
        /* the probe went on without this connection, or ended */
        return;
    }

    if (rc == NGX_CFLB_PROBE_PASS) {
        ngx_cflb_probe_finish(p, CFLB_REASON_NONE);
        return;
    }

    if (rc <= NGX_CFLB_PROBE_FAIL(0)) {
        ngx_cflb_probe_finish(p, (ngx_uint_t) (NGX_CFLB_PROBE_FAIL(0) - rc));
        return;
    }

    if (rc == NGX_ERROR) {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
    }
}


static ngx_int_t
ngx_cflb_probe_connected(ngx_cflb_probe_t *p)
{
    ngx_int_t  rc;
    ngx_err_t  err;

    rc = ngx_cflb_connected(p->pc.connection, &err);

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc == NGX_ERROR) {
        return NGX_CFLB_PROBE_FAIL(ngx_cflb_probe_errno(err));
    }

    p->connected = 1;

    switch (p->mon->type) {

    case NGX_CFLB_MON_TCP:
        return NGX_CFLB_PROBE_PASS;

    case NGX_CFLB_MON_UDP_ICMP:
        p->out = ngx_create_temp_buf(p->pool, 16);
        if (p->out == NULL) {
            return NGX_ERROR;
        }

        p->out->last = ngx_cpymem(p->out->last, "cflb health\n", 12);
        return ngx_cflb_probe_send(p);

    case NGX_CFLB_MON_SMTP:
        return ngx_cflb_probe_read(p);

    case NGX_CFLB_MON_LDAP:
        /* an anonymous simple bind, LDAPv3, message id 1 (RFC 4511) */
        p->out = ngx_create_temp_buf(p->pool, 16);
        if (p->out == NULL) {
            return NGX_ERROR;
        }

        p->out->last = ngx_cpymem(p->out->last,
                                  "\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03"
                                  "\x04\x00\x80\x00", 14);
        return ngx_cflb_probe_send(p);

#if (NGX_SSL)
    case NGX_CFLB_MON_HTTPS:
        return ngx_cflb_probe_ssl(p);
#endif

    default: /* NGX_CFLB_MON_HTTP */
        return ngx_cflb_probe_request(p);
    }
}


#if (NGX_SSL)

static ngx_int_t
ngx_cflb_probe_ssl(ngx_cflb_probe_t *p)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = p->pc.connection;

    if (ngx_ssl_create_connection(p->mon->ssl, c, NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* SNI only with a name: the product sends none for a bare address */
    if (p->host.data != p->name.data
        && ngx_inet_addr(p->host.data, p->host.len) == INADDR_NONE)
    {
        u_char  *sni;

        sni = ngx_pnalloc(p->pool, p->host.len + 1);
        if (sni == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_cpystrn(sni, p->host.data, p->host.len + 1);

        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) sni) == 0) {
            return NGX_ERROR;
        }
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_cflb_probe_ssl_handshaked;
        return NGX_AGAIN;
    }

    ngx_cflb_probe_ssl_handshaked(c);

    return NGX_DONE;
}


static void
ngx_cflb_probe_ssl_handshaked(ngx_connection_t *c)
{
    long               rc;
    ngx_cflb_probe_t  *p;

    p = c->data;

    if (!c->ssl->handshaked) {
        ngx_cflb_probe_finish(p, CFLB_REASON_TLS_HANDSHAKE);
        return;
    }

    if (!p->mon->allow_insecure) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            ngx_log_error(NGX_LOG_INFO, p->log, 0,
                          "cflb: health check of \"%V\": certificate "
                          "verify error: (%l:%s)", &p->name, rc,
                          X509_verify_cert_error_string(rc));
            ngx_cflb_probe_finish(p, CFLB_REASON_TLS_UNTRUSTED);
            return;
        }

        if (ngx_ssl_check_host(c, &p->host) != NGX_OK) {
            ngx_cflb_probe_finish(p, CFLB_REASON_TLS_NAME);
            return;
        }
    }

    c->read->handler = ngx_cflb_probe_handler;
    c->write->handler = ngx_cflb_probe_handler;

    rc = ngx_cflb_probe_request(p);

    if (rc == NGX_ERROR) {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
        return;
    }

    if (rc <= NGX_CFLB_PROBE_FAIL(0)) {
        ngx_cflb_probe_finish(p, (ngx_uint_t) (NGX_CFLB_PROBE_FAIL(0) - rc));
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
    }
}

#endif


/* the HTTP request: method, path, Host, the fixed User-Agent, headers */

static ngx_int_t
ngx_cflb_probe_request(ngx_cflb_probe_t *p)
{
    size_t               len;
    ngx_buf_t           *b;
    ngx_uint_t           i;
    ngx_keyval_t        *h;
    ngx_cflb_monitor_t  *mon;

    mon = p->mon;
    h = mon->headers.elts;

    len = mon->method.len + 1 + p->path.len + sizeof(" HTTP/1.1\r\n") - 1
          + sizeof("Host: \r\n") - 1 + p->host.len
          + sizeof(NGX_CFLB_USER_AGENT ")\r\n") - 1 + p->ep->pool->name.len
          + sizeof("Connection: close\r\n\r\n") - 1;

    for (i = 0; i < mon->headers.nelts; i++) {
        len += h[i].key.len + 2 + h[i].value.len + 2;
    }

    b = ngx_create_temp_buf(p->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, "%V %V HTTP/1.1\r\nHost: %V\r\n"
                          NGX_CFLB_USER_AGENT "%V)\r\n",
                          &mon->method, &p->path, &p->host,
                          &p->ep->pool->name);

    for (i = 0; i < mon->headers.nelts; i++) {
        b->last = ngx_sprintf(b->last, "%V: %V\r\n", &h[i].key, &h[i].value);
    }

    b->last = ngx_cpymem(b->last, "Connection: close\r\n\r\n",
                         sizeof("Connection: close\r\n\r\n") - 1);

    p->out = b;

    return ngx_cflb_probe_send(p);
}


static ngx_int_t
ngx_cflb_probe_send(ngx_cflb_probe_t *p)
{
    ngx_int_t  rc;

    rc = ngx_cflb_send(p->pc.connection, p->out);

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc == NGX_ERROR) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_RESET);
    }

    return ngx_cflb_probe_read(p);
}


static ngx_int_t
ngx_cflb_probe_read(ngx_cflb_probe_t *p)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = p->pc.connection;

    if (p->in == NULL) {
        p->in = ngx_create_temp_buf(p->pool, NGX_CFLB_PROBE_BUF);
        if (p->in == NULL) {
            return NGX_ERROR;
        }
    }

    for ( ;; ) {
        if (p->in->last == p->in->end) {
            /* the protocol handlers consume what they keep */
            p->in->pos = p->in->start;
            p->in->last = p->in->start;
        }

        n = c->recv(c, p->in->last, p->in->end - p->in->last);

        if (n == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (n == NGX_ERROR) {
            if (p->mon->type == NGX_CFLB_MON_UDP_ICMP) {
                return NGX_CFLB_PROBE_FAIL(CFLB_REASON_UDP_UNREACHABLE);
            }

            return NGX_CFLB_PROBE_FAIL(CFLB_REASON_RESET);
        }

        if (p->mon->type == NGX_CFLB_MON_UDP_ICMP) {
            return NGX_CFLB_PROBE_PASS;       /* anything answered */
        }

        p->in->last += n;

        if (p->mon->type == NGX_CFLB_MON_SMTP) {
            rc = ngx_cflb_probe_smtp(p, n == 0);

        } else if (p->mon->type == NGX_CFLB_MON_LDAP) {
            rc = ngx_cflb_probe_ldap(p, n == 0);

        } else {
            rc = ngx_cflb_probe_http(p, p->in->pos, n, n == 0);
            p->in->pos = p->in->last;
        }

        if (rc != NGX_AGAIN) {
            return rc;
        }

        if (n == 0) {
            return NGX_CFLB_PROBE_FAIL(CFLB_REASON_HTTP_INVALID);
        }
    }
}


/* feed len bytes of response; decide as soon as the monitor can */

static ngx_int_t
ngx_cflb_probe_http(ngx_cflb_probe_t *p, u_char *data, size_t len,
    ngx_uint_t eof)
{
    size_t      used, n;
    ngx_int_t   rc;

    if (!p->head_done) {
        if (p->resp == NULL) {
            p->resp = ngx_palloc(p->pool, sizeof(cflb_http_resp_t));
            if (p->resp == NULL) {
                return NGX_ERROR;
            }

            cflb_http_resp_init(p->resp);
        }

        rc = cflb_http_resp_head(p->resp, data, len, NGX_CFLB_PROBE_HEAD,
                                 &used);

        if (rc == CFLB_ERROR || (rc == CFLB_AGAIN && eof)) {
            return NGX_CFLB_PROBE_FAIL(CFLB_REASON_HTTP_INVALID);
        }

        if (rc == CFLB_AGAIN) {
            return NGX_AGAIN;
        }

        p->head_done = 1;
        p->code = p->resp->status;

        rc = ngx_cflb_probe_http_head(p);

        if (rc != NGX_AGAIN) {
            return rc;
        }

        data += used;
        len -= used;
    }

    /* the body, for expected_body: its first 10 KB, decoded */

    if (p->resp->chunked && len) {
        rc = cflb_http_resp_chunked(p->resp, data, len, &len);

        if (rc == CFLB_ERROR) {
            return NGX_CFLB_PROBE_FAIL(CFLB_REASON_HTTP_INVALID);
        }

        if (rc == CFLB_OK) {
            eof = 1;
        }
    }

    n = ngx_min(len, NGX_CFLB_PROBE_BODY - p->body_len);
    ngx_memcpy(p->body + p->body_len, data, n);
    p->body_len += n;

    if (!eof && p->body_len < NGX_CFLB_PROBE_BODY
        && !(p->resp->has_length && p->body_len >= p->resp->content_length))
    {
        return NGX_AGAIN;
    }

    if (p->resp->gzip) {
        rc = ngx_cflb_probe_gunzip(p);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (cflb_body_match(p->body, p->body_len, p->mon->expected_body.data,
                        p->mon->expected_body.len))
    {
        return NGX_CFLB_PROBE_PASS;
    }

    return NGX_CFLB_PROBE_FAIL(CFLB_REASON_BODY_MISMATCH);
}


static ngx_int_t
ngx_cflb_probe_http_head(ngx_cflb_probe_t *p)
{
    ngx_uint_t  code;

    code = p->resp->status;

    if (p->mon->follow_redirects
        && (code == 301 || code == 302 || code == 303)
        && p->resp->location_len)
    {
        return ngx_cflb_probe_redirect(p);
    }

    if (!cflb_codes_match(&p->mon->codes, code)) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_CODE_MISMATCH);
    }

    if (p->mon->expected_body.len == 0) {
        return NGX_CFLB_PROBE_PASS;
    }

    p->body = ngx_pnalloc(p->pool, NGX_CFLB_PROBE_BODY);
    if (p->body == NULL) {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


#if (NGX_ZLIB)

/* a gzip body is decoded before expected_body looks at it */

static ngx_int_t
ngx_cflb_probe_gunzip(ngx_cflb_probe_t *p)
{
    int        rc;
    u_char    *out;
    z_stream   zs;

    out = ngx_pnalloc(p->pool, NGX_CFLB_PROBE_BODY);
    if (out == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&zs, sizeof(z_stream));

    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return NGX_ERROR;
    }

    zs.next_in = p->body;
    zs.avail_in = p->body_len;
    zs.next_out = out;
    zs.avail_out = NGX_CFLB_PROBE_BODY;

    rc = inflate(&zs, Z_SYNC_FLUSH);

    p->body = out;
    p->body_len = NGX_CFLB_PROBE_BODY - zs.avail_out;

    (void) inflateEnd(&zs);

    /* a truncated stream is fine: only the start of the body matters */
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_HTTP_INVALID);
    }

    return NGX_OK;
}

#else

static ngx_int_t
ngx_cflb_probe_gunzip(ngx_cflb_probe_t *p)
{
    return NGX_OK;
}

#endif


/* follow a 301/302/303 on the same endpoint: the path, and the host */

static ngx_int_t
ngx_cflb_probe_redirect(ngx_cflb_probe_t *p)
{
    u_char  *loc, *end, *slash;
    size_t   len;

    if (++p->redirects > NGX_CFLB_PROBE_REDIRECTS) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_CODE_MISMATCH);
    }

    len = p->resp->location_len;

    loc = ngx_pnalloc(p->pool, len);
    if (loc == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(loc, p->resp->location, len);
    end = loc + len;

    if (len > 7 && ngx_strncasecmp(loc, (u_char *) "http://", 7) == 0) {
        loc += 7;

    } else if (len > 8 && ngx_strncasecmp(loc, (u_char *) "https://", 8) == 0)
    {
        loc += 8;

    } else if (loc[0] != '/') {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_HTTP_INVALID);
    }

    if (loc[0] != '/') {
        slash = ngx_strlchr(loc, end, '/');

        p->host.data = loc;
        p->host.len = (slash ? slash : end) - loc;

        loc = slash ? slash : (u_char *) "/";
        end = slash ? end : loc + 1;
    }

    p->path.data = loc;
    p->path.len = end - loc;

    ngx_cflb_probe_close(p);

    (void) ngx_cflb_probe_connect(p);

    return NGX_DONE;
}


/* SMTP: the 220 greeting, HELO answered 250, QUIT answered 221 */

static ngx_int_t
ngx_cflb_probe_smtp(ngx_cflb_probe_t *p, ngx_uint_t eof)
{
    u_char      *nl, *line;
    ngx_int_t    code;
    ngx_buf_t   *in;

    static const ngx_uint_t  expect[] = { 220, 250, 221 };

    in = p->in;

    for ( ;; ) {
        nl = ngx_strlchr(in->pos, in->last, '\n');

        if (nl == NULL) {
            if (eof || (in->pos == in->start && in->last == in->end)) {
                return NGX_CFLB_PROBE_FAIL(CFLB_REASON_HTTP_INVALID);
            }

            /* keep the partial line at the start of the buffer */
            in->last = ngx_movemem(in->start, in->pos, in->last - in->pos);
            in->pos = in->start;

            return NGX_AGAIN;
        }

        line = in->pos;
        in->pos = nl + 1;

        if (nl - line < 3) {
            return NGX_CFLB_PROBE_FAIL(CFLB_REASON_HTTP_INVALID);
        }

        if (nl - line > 3 && line[3] == '-') {
            continue;                       /* a multi-line reply goes on */
        }

        code = ngx_atoi(line, 3);
        p->code = (code == NGX_ERROR) ? 0 : code;

        if ((ngx_uint_t) code != expect[p->phase]) {
            return NGX_CFLB_PROBE_FAIL(CFLB_REASON_SMTP_MISMATCH);
        }

        if (++p->phase == 3) {
            return NGX_CFLB_PROBE_PASS;
        }

        p->out = ngx_create_temp_buf(p->pool, 16);
        if (p->out == NULL) {
            return NGX_ERROR;
        }

        p->out->last = (p->phase == 1)
                       ? ngx_cpymem(p->out->last, "HELO cflb\r\n", 11)
                       : ngx_cpymem(p->out->last, "QUIT\r\n", 6);

        return ngx_cflb_probe_send(p);
    }
}


/*
 * ICMP echo.  An ICMP datagram socket ("ping socket") needs no privilege
 * where net.ipv4.ping_group_range admits the worker's group; otherwise a
 * raw socket, which needs CAP_NET_RAW (workers running as root have it).
 * IPv4 only.
 */

static ngx_int_t
ngx_cflb_probe_icmp(ngx_cflb_probe_t *p)
{
    int                 raw;
    u_char              pkt[sizeof(struct icmphdr) + 16];
    ngx_socket_t        s;
    ngx_connection_t   *c;
    struct icmphdr     *icmp;

    if (p->pc.sockaddr->sa_family != AF_INET) {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
        return NGX_OK;
    }

    raw = 0;
    s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

    if (s == (ngx_socket_t) -1) {
        raw = 1;
        s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    }

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, p->log, ngx_socket_errno,
                      "cflb: icmp_ping monitor \"%V\" cannot open an ICMP "
                      "socket: it needs CAP_NET_RAW, or the workers' group "
                      "in sysctl net.ipv4.ping_group_range", &p->mon->name);
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
        return NGX_OK;
    }

    c = ngx_get_connection(s, p->log);

    if (c == NULL) {
        (void) ngx_close_socket(s);
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
        return NGX_OK;
    }

    p->pc.connection = c;
    p->connected = 1;
    p->phase = raw;
    p->code = (ngx_pid + p->attempt) & 0xffff;   /* echo id and sequence */

    c->data = p;
    c->pool = p->pool;
    c->read->log = p->log;
    c->write->log = p->log;
    c->read->handler = ngx_cflb_probe_icmp_handler;

    if (ngx_nonblocking(s) == -1) {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
        return NGX_OK;
    }

    ngx_memzero(pkt, sizeof(pkt));
    icmp = (struct icmphdr *) pkt;
    icmp->type = ICMP_ECHO;
    icmp->un.echo.id = htons((uint16_t) p->code);
    icmp->un.echo.sequence = htons((uint16_t) p->code);
    ngx_memcpy(pkt + sizeof(struct icmphdr), "cflb health chk", 15);
    icmp->checksum = ngx_cflb_icmp_sum(pkt, sizeof(pkt));

    if (sendto(s, pkt, sizeof(pkt), 0, p->pc.sockaddr, p->pc.socklen) == -1)
    {
        ngx_cflb_probe_finish(p, ngx_cflb_probe_errno(ngx_socket_errno));
        return NGX_OK;
    }

    ngx_add_timer(c->read, p->mon->timeout);

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
    }

    return NGX_OK;
}


static void
ngx_cflb_probe_icmp_handler(ngx_event_t *ev)
{
    ssize_t              n;
    size_t               hl;
    u_char               buf[512];
    socklen_t            len;
    ngx_connection_t    *c;
    ngx_cflb_probe_t    *p;
    struct icmphdr      *icmp;
    struct sockaddr_in   from, *to;

    c = ev->data;
    p = c->data;

    if (ev->timedout) {
        ngx_cflb_probe_finish(p, CFLB_REASON_NO_ECHO);
        return;
    }

    to = (struct sockaddr_in *) p->pc.sockaddr;

    for ( ;; ) {
        len = sizeof(from);
        n = recvfrom(c->fd, buf, sizeof(buf), 0, (struct sockaddr *) &from,
                     &len);

        if (n == -1) {
            break;
        }

        /* a raw socket sees every ICMP packet, IP header first */
        hl = p->phase ? (size_t) (buf[0] & 0x0f) * 4 : 0;

        if ((size_t) n < hl + sizeof(struct icmphdr)
            || from.sin_addr.s_addr != to->sin_addr.s_addr)
        {
            continue;
        }

        icmp = (struct icmphdr *) (buf + hl);

        if (icmp->type == ICMP_ECHOREPLY
            && ntohs(icmp->un.echo.sequence) == (p->code & 0xffff)
            && (!p->phase || ntohs(icmp->un.echo.id) == (p->code & 0xffff)))
        {
            p->code = 0;
            ngx_cflb_probe_finish(p, CFLB_REASON_NONE);
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_cflb_probe_finish(p, CFLB_REASON_OTHER);
    }
}


static uint16_t
ngx_cflb_icmp_sum(u_char *data, size_t len)
{
    size_t    i;
    uint32_t  sum;

    sum = 0;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t) data[i] << 8 | data[i + 1];
    }

    if (len & 1) {
        sum += (uint32_t) data[len - 1] << 8;
    }

    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }

    return htons((uint16_t) ~sum);
}


/*
 * LDAP: the bind response must say success.  Just enough BER to find its
 * resultCode: SEQUENCE { messageID, [APPLICATION 1] { ENUMERATED ... } }.
 */

static ngx_int_t
ngx_cflb_probe_ldap(ngx_cflb_probe_t *p, ngx_uint_t eof)
{
    u_char      *b, *end;
    size_t       i, n;

    b = p->in->pos;
    end = p->in->last;

    /* tag, length (short or long form) */
    if (end - b < 2) {
        goto again;
    }

    if (b[0] != 0x30) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_INVALID);
    }

    i = 2;

    if (b[1] & 0x80) {
        n = b[1] & 0x7f;

        if (n == 0 || n > 4) {
            return NGX_CFLB_PROBE_FAIL(CFLB_REASON_INVALID);
        }

        i += n;
    }

    /* messageID: INTEGER, then bindResponse [APPLICATION 1] */
    if ((size_t) (end - b) < i + 2 || (size_t) (end - b) < i + 2 + b[i + 1]) {
        goto again;
    }

    if (b[i] != 0x02 || b[i + 1] > 4) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_INVALID);
    }

    i += 2 + b[i + 1];

    if ((size_t) (end - b) < i + 2) {
        goto again;
    }

    if (b[i] != 0x61) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_INVALID);
    }

    i += (b[i + 1] & 0x80) ? 2 + (b[i + 1] & 0x7f) : 2;

    if ((size_t) (end - b) < i + 3) {
        goto again;
    }

    if (b[i] != 0x0a || b[i + 1] != 0x01) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_INVALID);
    }

    p->code = b[i + 2];

    return p->code == 0 ? NGX_CFLB_PROBE_PASS
                        : NGX_CFLB_PROBE_FAIL(CFLB_REASON_CODE_MISMATCH);

again:

    if (eof || p->in->last == p->in->end) {
        return NGX_CFLB_PROBE_FAIL(CFLB_REASON_INVALID);
    }

    return NGX_AGAIN;
}


static ngx_uint_t
ngx_cflb_probe_errno(ngx_err_t err)
{
    switch (err) {

    case NGX_ECONNRESET:
        return CFLB_REASON_RESET;

    case NGX_EHOSTUNREACH:
        return CFLB_REASON_NO_ROUTE;

    case NGX_ENETUNREACH:
        return CFLB_REASON_UNREACHABLE;

    case NGX_ETIMEDOUT:
        return CFLB_REASON_TCP_TIMEOUT;

    default:
        return CFLB_REASON_TCP_FAILED;
    }
}


/* an attempt ended: retry at once while retries last, else report */

static void
ngx_cflb_probe_finish(ngx_cflb_probe_t *p, ngx_uint_t reason)
{
    ngx_msec_t  rtt;

    rtt = ngx_current_msec - p->start;

    ngx_cflb_probe_close(p);

    if (reason != CFLB_REASON_NONE && p->attempt < p->mon->retries) {
        p->attempt++;
        ngx_cflb_probe_target(p);
        (void) ngx_cflb_probe_connect(p);
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, p->log, 0,
                   "cflb health check of \"%V\": %s, attempt %ui",
                   &p->name, cflb_reason_name(reason), p->attempt);

    if (p->mon->type == NGX_CFLB_MON_ICMP_PING) {
        p->code = 0;                /* it held the echo id */
    }

    p->done(p->ep, reason, p->code, rtt);

    ngx_destroy_pool(p->pool);
}


static void
ngx_cflb_probe_close(ngx_cflb_probe_t *p)
{
    ngx_connection_t  *c;

    c = p->pc.connection;

    if (c == NULL) {
        return;
    }

#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);

    p->pc.connection = NULL;
    p->out = NULL;

    if (p->in) {
        p->in->pos = p->in->start;
        p->in->last = p->in->start;
    }

    if (p->resp) {
        cflb_http_resp_init(p->resp);
    }
}
