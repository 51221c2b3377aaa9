
/*
 * What the files of the http module share: the module, the sending of a
 * whole answer, the dashboard (cflb_dashboard), a page compiled into
 * the module that renders the status document, and the runtime API
 * (ngx_http_cflb_api.c).
 * The dashboard's assets are byte arrays in a C source that
 * dashboard/embed.sh writes into the build directory at configure time.
 * The API parses JSON with jansson.
 */

#ifndef _NGX_HTTP_CFLB_H_INCLUDED_
#define _NGX_HTTP_CFLB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_cflb.h"


typedef struct {
    ngx_str_t                 name;          /* ?asset=NAME */
    ngx_str_t                 type;          /* its Content-Type */
    ngx_str_t                 data;
} ngx_http_cflb_asset_t;


/* the assets, index.html first, ended by an empty name (generated) */
extern const ngx_http_cflb_asset_t  ngx_http_cflb_dashboard_assets[];

extern ngx_module_t  ngx_http_cflb_module;

/* answers status with the buffer b, the whole body, as Content-Type type */
ngx_int_t ngx_http_cflb_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b);

/* adds the response header key: value (both static); NGX_ERROR if no memory */
ngx_int_t ngx_http_cflb_add_header(ngx_http_request_t *r,
    const ngx_str_t *key, const ngx_str_t *value);

/* cflb_dashboard's content: the page, its assets, the status JSON */
ngx_int_t ngx_http_cflb_dashboard_handler(ngx_http_request_t *r);


/* the module's location conf: set where cflb_api is */
typedef struct {
    ngx_str_t                 prefix;        /* API paths follow it */
    void                    **loc_conf;      /* the location's, merged */
    u_char                   *file;
    ngx_uint_t                line;
    unsigned                  api:1;
    unsigned                  guarded:1;     /* allow/deny or auth on it */
} ngx_http_cflb_loc_conf_t;


/* ngx_http_cflb_api.c */
char *ngx_http_cflb_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void *ngx_http_cflb_create_loc_conf(ngx_conf_t *cf);

/*
 * ngx_http_cflb_api_check() runs at postconfiguration, after the merge:
 * an API location with no access control refuses everyone, and says so.
 */
ngx_int_t ngx_http_cflb_api_check(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);


#endif /* _NGX_HTTP_CFLB_H_INCLUDED_ */
