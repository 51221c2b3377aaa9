
/*
 * cflb_dashboard: one location serves the dashboard page (no arguments),
 * its script and style (?asset=app.js, ?asset=app.css) and the status
 * document it renders (?format=json), so the page needs nothing else and
 * its Content-Security-Policy can forbid everything but its own origin.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cflb.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_status.h"


static const ngx_http_cflb_asset_t *ngx_http_cflb_dashboard_asset(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_cflb_dashboard_send(ngx_http_request_t *r,
    ngx_str_t *type, ngx_buf_t *b);


/* every answer of the location: no caching, no sniffing, no foreign */
static const ngx_keyval_t  ngx_http_cflb_dashboard_headers[] = {
    { ngx_string("Cache-Control"), ngx_string("no-store") },
    { ngx_string("X-Content-Type-Options"), ngx_string("nosniff") },
    { ngx_string("Content-Security-Policy"),
      ngx_string("default-src 'self'; base-uri 'none'; form-action 'none'; "
                 "frame-ancestors 'none'") },
    { ngx_string("Referrer-Policy"), ngx_string("no-referrer") },
    { ngx_null_string, ngx_null_string }
};


ngx_int_t
ngx_http_cflb_dashboard_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_str_t                     format, type;
    ngx_buf_t                    *b;
    ngx_cflb_conf_t              *ccf;
    const ngx_http_cflb_asset_t  *a;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {

        if (format.len != 4 || ngx_strncmp(format.data, "json", 4) != 0) {
            return NGX_HTTP_NOT_FOUND;
        }

        ccf = ngx_http_get_module_main_conf(r, ngx_http_cflb_module);

        if (ccf->sh) {
            ngx_cflb_runtime_sync(ccf);
        }

        b = ngx_cflb_status_json(r->pool, ccf, NGX_CFLB_STATUS_DOC, NULL);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_str_set(&type, "application/json");

        return ngx_http_cflb_dashboard_send(r, &type, b);
    }

    a = ngx_http_cflb_dashboard_asset(r);
    if (a == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the module's own bytes: sent from where they are, never written */
    b->pos = a->data.data;
    b->last = a->data.data + a->data.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    type = a->type;

    return ngx_http_cflb_dashboard_send(r, &type, b);
}


/* the asset ?asset=NAME names, the page without it; NULL: no such */

static const ngx_http_cflb_asset_t *
ngx_http_cflb_dashboard_asset(ngx_http_request_t *r)
{
    ngx_str_t                     name;
    const ngx_http_cflb_asset_t  *a;

    if (ngx_http_arg(r, (u_char *) "asset", 5, &name) != NGX_OK) {
        return &ngx_http_cflb_dashboard_assets[0];
    }

    for (a = ngx_http_cflb_dashboard_assets; a->name.len; a++) {
        if (a->name.len == name.len
            && ngx_strncmp(a->name.data, name.data, name.len) == 0)
        {
            return a;
        }
    }

    return NULL;
}


/* the dashboard's headers, then the answer as any of the module's */

static ngx_int_t
ngx_http_cflb_dashboard_send(ngx_http_request_t *r, ngx_str_t *type,
    ngx_buf_t *b)
{
    const ngx_keyval_t  *kv;

    for (kv = ngx_http_cflb_dashboard_headers; kv->key.len; kv++) {
        if (ngx_http_cflb_add_header(r, &kv->key, &kv->value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_cflb_send(r, NGX_HTTP_OK, type, b);
}
