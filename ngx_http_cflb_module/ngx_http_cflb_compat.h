
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


/* the value of the request's cookie name: NGX_OK, or NGX_DECLINED */

static ngx_inline ngx_int_t
ngx_http_cflb_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
#if (nginx_version >= 1023000)
    return ngx_http_parse_multi_header_lines(r, r->headers_in.cookie, name,
                                             value)
           ? NGX_OK : NGX_DECLINED;
#else
    return ngx_http_parse_multi_header_lines(&r->headers_in.cookies, name,
                                             value)
           == NGX_DECLINED ? NGX_DECLINED : NGX_OK;
#endif
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
