
/*
 * ngx_http_cflb_module: the http glue.  A cflb_lb block is an upstream
 * whose peers are chosen by cflb steering, so "proxy_pass http://NAME"
 * and every upstream feature that wraps a balancer (keepalive,
 * proxy_next_upstream, proxy_ssl_*) work as with any upstream.
 */

#include "ngx_http_cflb.h"


typedef struct {
    ngx_cflb_peer_data_t      pd;            /* must be first */
    ngx_http_request_t       *r;
    ngx_buf_t                *header;        /* as the proxy module made it */
    uint64_t                  hkey[2];       /* header session key */
    unsigned                  has_hkey:1;
} ngx_http_cflb_peer_data_t;


static ngx_str_t  ngx_http_cflb_cookie = ngx_string("__cflb");

static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


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
static void ngx_http_cflb_affinity(ngx_http_request_t *r,
    ngx_http_cflb_peer_data_t *hpd);
static ngx_int_t ngx_http_cflb_session_key(ngx_http_request_t *r,
    ngx_cflb_lb_t *lb, uint64_t *hkey);
static ngx_int_t ngx_http_cflb_find(ngx_http_request_t *r,
    ngx_cflb_affinity_header_t *h, ngx_str_t *value);
static ngx_int_t ngx_http_cflb_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_cflb_set_cookie(ngx_http_request_t *r,
    ngx_http_cflb_peer_data_t *hpd);
static char *ngx_http_cflb_content(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_cflb_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cflb_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_cflb_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_cflb_create_main_conf(ngx_conf_t *cf);


static ngx_command_t  ngx_http_cflb_commands[] = {

    NGX_CFLB_COMMANDS(NGX_HTTP_MAIN_CONF, NGX_HTTP_UPS_CONF,
                      NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_SRV_CONF_OFFSET,
                      ngx_http_cflb_lb_block),

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


NGX_CFLB_MODULE(http, HTTP, , ngx_http_cflb_create_loc_conf, NULL);


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

    hpd = ngx_pcalloc(r->pool, sizeof(ngx_http_cflb_peer_data_t));
    if (hpd == NULL) {
        return NGX_ERROR;
    }

    if (ngx_cflb_init_peer(&hpd->pd, r->pool, lb, &r->upstream->peer,
                           r->connection->sockaddr, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    hpd->r = r;
    r->upstream->peer.get = ngx_http_cflb_get_peer;
    r->upstream->peer.free = ngx_http_cflb_free_peer;

    if (lb->affinity.mode != NGX_CFLB_AFFINITY_NONE) {
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

    ep = hpd->pd.current;

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


/*
 * Session affinity, read per request (never per connection): the token
 * of the __cflb cookie, or the values of the session headers.
 */

static void
ngx_http_cflb_affinity(ngx_http_request_t *r, ngx_http_cflb_peer_data_t *hpd)
{
    ngx_str_t             token;
    ngx_cflb_affinity_t  *a;

    a = &hpd->pd.lb->affinity;

    if (a->mode == NGX_CFLB_AFFINITY_HEADER) {
        if (ngx_http_cflb_session_key(r, hpd->pd.lb, hpd->hkey) == NGX_OK) {
            hpd->has_hkey = 1;
            ngx_cflb_affinity_resume(&hpd->pd, NULL, hpd->hkey,
                                     r->connection->log);
        }

        return;
    }

#if (nginx_version >= 1023000)
    if (ngx_http_parse_multi_header_lines(r, r->headers_in.cookie,
                                          &ngx_http_cflb_cookie, &token)
        == NULL)
#else
    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                          &ngx_http_cflb_cookie, &token)
        == NGX_DECLINED)
#endif
    {
        ngx_cflb_affinity_resume(&hpd->pd, NULL, NULL, r->connection->log);
        return;
    }

    ngx_cflb_affinity_resume(&hpd->pd, &token, NULL, r->connection->log);
}


/*
 * The session key: a 128-bit hash of the load balancer and of each
 * listed header's value or absence.  NGX_DECLINED: no session, since no
 * header (or with require_all_headers, not every one) is there.
 */

static ngx_int_t
ngx_http_cflb_session_key(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    uint64_t *hkey)
{
    uint64_t                     h0, h1;
    ngx_str_t                    value;
    ngx_uint_t                   i, present;
    ngx_cflb_affinity_t         *a;
    ngx_cflb_affinity_header_t  *hs;

    a = &lb->affinity;
    hs = a->headers->elts;
    h0 = lb->id;
    h1 = ~lb->id;
    present = 0;

    for (i = 0; i < a->headers->nelts; i++) {

        if (ngx_http_cflb_find(r, &hs[i], &value) == NGX_OK) {
            present++;
            h0 = cflb_hash64(value.data, value.len, h0 + i);
            h1 = cflb_hash64(value.data, value.len, h1 - i);

        } else {
            /* absent differs from present and empty */
            h0 = cflb_hash64(&i, sizeof(ngx_uint_t), ~h0);
            h1 = cflb_hash64(&i, sizeof(ngx_uint_t), ~h1);
        }
    }

    if (present == 0 || (a->require_all && present < a->headers->nelts)) {
        return NGX_DECLINED;
    }

    hkey[0] = h0;
    hkey[1] = h1;

    return NGX_OK;
}


/* a request header's value, or one cookie's */

static ngx_int_t
ngx_http_cflb_find(ngx_http_request_t *r, ngx_cflb_affinity_header_t *h,
    ngx_str_t *value)
{
    ngx_str_t         name;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *header;

    if (h->cookie && h->name.len) {
#if (nginx_version >= 1023000)
        return ngx_http_parse_multi_header_lines(r, r->headers_in.cookie,
                                                 &h->name, value)
               ? NGX_OK : NGX_DECLINED;
#else
        return ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                                 &h->name, value)
               == NGX_DECLINED ? NGX_DECLINED : NGX_OK;
#endif
    }

    if (h->cookie) {
        ngx_str_set(&name, "Cookie");

    } else {
        name = h->name;
    }

    part = &r->headers_in.headers.part;
    header = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_DECLINED;
            }

            part = part->next;
            header = part->elts;
            i = 0;
        }

        if (header[i].key.len == name.len
            && ngx_strncasecmp(header[i].key.data, name.data, name.len) == 0)
        {
            *value = header[i].value;
            return NGX_OK;
        }
    }
}


/* a new session starts with the response of the endpoint that made it */

static ngx_int_t
ngx_http_cflb_header_filter(ngx_http_request_t *r)
{
    ngx_http_cflb_peer_data_t  *hpd;

    hpd = ngx_http_get_module_ctx(r, ngx_http_cflb_module);

    if (hpd == NULL || !hpd->pd.new_session || hpd->pd.current == NULL) {
        return ngx_http_next_header_filter(r);
    }

    hpd->pd.new_session = 0;

    if (ngx_http_cflb_set_cookie(r, hpd) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_cflb_set_cookie(ngx_http_request_t *r,
    ngx_http_cflb_peer_data_t *hpd)
{
    u_char               *p;
    ngx_int_t             rc;
    ngx_uint_t            secure, samesite;
    ngx_table_elt_t      *h;
    ngx_cflb_affinity_t  *a;
    ngx_uint_t            tls;
    u_char                token[CFLB_TOKEN_LEN];

    a = &hpd->pd.lb->affinity;

    rc = ngx_cflb_affinity_commit(&hpd->pd, hpd->has_hkey ? hpd->hkey : NULL,
                                  token);

    if (rc == NGX_DECLINED) {
        return NGX_OK;                  /* a header session, kept */
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cflb: cannot make a session for \"%V\"",
                      &hpd->pd.lb->name);
        return NGX_OK;                  /* the response goes on without */
    }

    tls = 0;
#if (NGX_HTTP_SSL)
    tls = (r->connection->ssl != NULL);
#endif

    /* TLS plays the product's "Always Use HTTPS" for the auto values */
    secure = (a->secure == NGX_CFLB_SECURE_ALWAYS)
             || (a->secure == NGX_CFLB_SECURE_AUTO && tls);

    samesite = a->samesite;

    if (samesite == NGX_CFLB_SAMESITE_AUTO) {
        samesite = (tls && a->secure != NGX_CFLB_SECURE_NEVER)
                   ? NGX_CFLB_SAMESITE_NONE : NGX_CFLB_SAMESITE_LAX;
    }

    /* browsers drop SameSite=None without Secure */
    secure |= (samesite == NGX_CFLB_SAMESITE_NONE);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof("__cflb=; Max-Age=; Path=/; HttpOnly; "
                                    "Secure; SameSite=Strict") - 1
                             + CFLB_TOKEN_LEN + NGX_TIME_T_LEN);
    if (p == NULL) {
        h->hash = 0;
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    p = ngx_sprintf(p, "__cflb=%*s; Max-Age=%T; Path=/; HttpOnly",
                    (size_t) CFLB_TOKEN_LEN, token, a->ttl);

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    p = ngx_sprintf(p, "; SameSite=%s",
                    samesite == NGX_CFLB_SAMESITE_LAX ? "Lax"
                    : samesite == NGX_CFLB_SAMESITE_STRICT ? "Strict" : "None");

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/* cflb_status, cflb_dashboard: the location's content is cmd->post's */

static char *
ngx_http_cflb_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (ngx_http_handler_pt) cmd->post;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cflb_status_handler(ngx_http_request_t *r)
{
    ngx_int_t         rc;
    ngx_str_t         type, format;
    ngx_buf_t        *b;
    ngx_cflb_conf_t  *ccf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    ccf = ngx_http_get_module_main_conf(r, ngx_http_cflb_module);

    if (ccf->sh) {
        ngx_cflb_runtime_sync(ccf);
    }

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) != NGX_OK) {
        ngx_str_set(&format, "json");
    }

    if (format.len == 10
        && ngx_strncmp(format.data, "prometheus", 10) == 0)
    {
        b = ngx_cflb_prometheus(r->pool, ccf, ngx_cflb_status_stream(ccf));
        ngx_str_set(&type, "text/plain; version=0.0.4; charset=utf-8");

    } else if (format.len == 4 && ngx_strncmp(format.data, "json", 4) == 0) {
        b = ngx_cflb_status_json(r->pool, ccf, NGX_CFLB_STATUS_DOC, NULL);
        ngx_str_set(&type, "application/json");

    } else {
        return NGX_HTTP_BAD_REQUEST;
    }

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cflb_send(r, NGX_HTTP_OK, &type, b);
}


ngx_int_t
ngx_http_cflb_add_header(ngx_http_request_t *r, const ngx_str_t *key,
    const ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key = *key;
    h->value = *value;

    return NGX_OK;
}


ngx_int_t
ngx_http_cflb_send(ngx_http_request_t *r, ngx_uint_t status, ngx_str_t *type,
    ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


NGX_CFLB_VARIABLES(http, HTTP, ngx_http_request_t)


static ngx_int_t
ngx_http_cflb_postconfiguration(ngx_conf_t *cf)
{
    ngx_cflb_conf_t  *ccf;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_cflb_header_filter;

    ccf = ngx_http_conf_get_module_main_conf(cf, ngx_http_cflb_module);
    ccf->trace = ngx_http_cflb_traced(cf);

    if (ngx_http_cflb_api_check(cf, ccf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_cflb_postconfiguration(cf, ccf);
}


static void *
ngx_http_cflb_create_main_conf(ngx_conf_t *cf)
{
    ngx_cflb_conf_t  *ccf;

    ccf = ngx_cflb_create_conf(cf, &ngx_http_cflb_module, 80,
                               NGX_LOG_DEBUG_HTTP);
    if (ccf == NULL) {
        return NULL;
    }

    ccf->http = 1;

    return ccf;
}
