
/*
 * What the files of the http module share: the module, the sending of a
 * whole answer, and the dashboard (cflb_dashboard), a page compiled into
 * the module that renders the status document.  The dashboard's assets
 * are byte arrays in a C source that dashboard/embed.sh writes into the
 * build directory at configure time.
 */

#ifndef _NGX_HTTP_CFLB_H_INCLUDED_
#define _NGX_HTTP_CFLB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_str_t                 name;          /* ?asset=NAME */
    ngx_str_t                 type;          /* its Content-Type */
    ngx_str_t                 data;
} ngx_http_cflb_asset_t;


/* the assets, index.html first, ended by an empty name (generated) */
extern const ngx_http_cflb_asset_t  ngx_http_cflb_dashboard_assets[];

extern ngx_module_t  ngx_http_cflb_module;

/* answers 200 with the buffer b (its last buffer) as Content-Type type */
ngx_int_t ngx_http_cflb_send(ngx_http_request_t *r, ngx_str_t *type,
    ngx_buf_t *b);

/* cflb_dashboard's content: the page, its assets, the status JSON */
ngx_int_t ngx_http_cflb_dashboard_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CFLB_H_INCLUDED_ */
