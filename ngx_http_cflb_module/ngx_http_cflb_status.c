
/*
 * Whole answers of the http module: cflb_status (the status document as
 * JSON or in the Prometheus format), and the sending of a complete body
 * that the dashboard and the runtime API share.
 */

#include "ngx_http_cflb.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_status.h"


/* cflb_status, cflb_dashboard: the location's content is cmd->post's */

char *
ngx_http_cflb_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (ngx_http_handler_pt) cmd->post;

    return NGX_CONF_OK;
}


ngx_int_t
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

    h = ngx_http_cflb_push_header(r);
    if (h == NULL) {
        return NGX_ERROR;
    }

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
