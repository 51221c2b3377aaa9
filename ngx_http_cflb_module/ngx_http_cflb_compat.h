
/*
 * The one file that knows nginx versions apart: 1.23.0 keeps the Cookie
 * header as a list of headers and links repeated headers by "next".
 * cflb builds with 1.22 (Debian bookworm) and newer.  Inline: the cookie
 * is read on every request of a load balancer with session affinity.
 */

#ifndef _NGX_HTTP_CFLB_COMPAT_H_INCLUDED_
#define _NGX_HTTP_CFLB_COMPAT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cflb_cookie.h"


/*
 * the value of the request's cookie name: NGX_OK, or NGX_DECLINED; read
 * by the core (cflb_cookie.c) with nginx's rules, a few instructions per
 * cookie rather than per byte
 */

static ngx_inline ngx_int_t
ngx_http_cflb_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    cflb_str_t        v;
    ngx_table_elt_t  *h;
#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {
#else
    ngx_uint_t         i;
    ngx_table_elt_t  **hs;

    hs = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hs[i];
#endif
        if (cflb_cookie_find(h->value.data, h->value.len, name->data,
                             name->len, &v))
        {
            value->data = v.data;
            value->len = v.len;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* an empty response header that is sent (hash 1), or NULL */

static ngx_inline ngx_table_elt_t *
ngx_http_cflb_push_header(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}


#endif /* _NGX_HTTP_CFLB_COMPAT_H_INCLUDED_ */
