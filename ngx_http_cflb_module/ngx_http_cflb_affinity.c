
/*
 * Session affinity as http carries it: the session of a request, read
 * from its __cflb cookie or its session headers (never per connection),
 * and the new session started in the response of the endpoint that made
 * it (a Set-Cookie, or the header session stored in the zone).
 */

#include "ngx_http_cflb.h"


static ngx_int_t ngx_http_cflb_session_key(ngx_http_request_t *r,
    ngx_cflb_view_t *view, uint64_t *hkey);
static ngx_int_t ngx_http_cflb_find(ngx_http_request_t *r,
    ngx_cflb_affinity_header_t *h, ngx_str_t *value);
static ngx_int_t ngx_http_cflb_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_cflb_set_cookie(ngx_http_request_t *r,
    ngx_http_cflb_peer_data_t *hpd);


static ngx_str_t  ngx_http_cflb_cookie_name = ngx_string("__cflb");

static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_cflb_affinity_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_cflb_header_filter;

    return NGX_OK;
}


/*
 * Session affinity, read per request (never per connection): the token
 * of the __cflb cookie, or the values of the session headers.
 */

void
ngx_http_cflb_affinity(ngx_http_request_t *r, ngx_http_cflb_peer_data_t *hpd)
{
    ngx_str_t             token;
    ngx_cflb_decision_t  *d;

    d = &hpd->pd.d;

    if (d->view->affinity->mode == NGX_CFLB_AFFINITY_HEADER) {
        if (ngx_http_cflb_session_key(r, d->view, hpd->hkey) == NGX_OK) {
            hpd->has_hkey = 1;
            ngx_cflb_affinity_resume(d, NULL, hpd->hkey, r->connection->log);
        }

        return;
    }

    if (ngx_http_cflb_cookie(r, &ngx_http_cflb_cookie_name, &token)
        != NGX_OK)
    {
        ngx_cflb_affinity_resume(d, NULL, NULL, r->connection->log);
        return;
    }

    ngx_cflb_affinity_resume(d, &token, NULL, r->connection->log);
}


/*
 * The session key: a 128-bit hash of the load balancer and of each
 * listed header's value or absence.  NGX_DECLINED: no session, since no
 * header (or with require_all_headers, not every one) is there.
 */

static ngx_int_t
ngx_http_cflb_session_key(ngx_http_request_t *r, ngx_cflb_view_t *view,
    uint64_t *hkey)
{
    uint64_t                     h0, h1;
    ngx_str_t                    value;
    ngx_uint_t                   i, present;
    ngx_cflb_affinity_t         *a;
    ngx_cflb_affinity_header_t  *hs;

    a = view->affinity;
    hs = a->headers->elts;
    h0 = view->lb->id;
    h1 = ~view->lb->id;
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
        return ngx_http_cflb_cookie(r, &h->name, value);
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

    if (hpd == NULL || !hpd->pd.d.new_session || !hpd->pd.d.committed) {
        return ngx_http_next_header_filter(r);
    }

    hpd->pd.d.new_session = 0;

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

    a = hpd->pd.d.view->affinity;

    rc = ngx_cflb_affinity_commit(&hpd->pd.d,
                                  hpd->has_hkey ? hpd->hkey : NULL, token);

    if (rc == NGX_DECLINED) {
        return NGX_OK;                  /* a header session, kept */
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cflb: cannot make a session for \"%V\"",
                      &hpd->pd.d.view->lb->name);
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

    h = ngx_http_cflb_push_header(r);
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
