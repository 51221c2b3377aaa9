
/*
 * The parts of ngx_http_cflb_module split into their own files: the
 * runtime API (ngx_http_cflb_api.c) and the state file reader
 * (ngx_http_cflb_state.c).  Both parse JSON with jansson.
 */

#ifndef _NGX_HTTP_CFLB_H_INCLUDED_
#define _NGX_HTTP_CFLB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_cflb.h"


extern ngx_module_t  ngx_http_cflb_module;


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

/* a JSON weight in hundredths, as weight= takes it, or NGX_ERROR */
ngx_int_t ngx_http_cflb_json_weight(json_t *v);


/* ngx_http_cflb_state.c */
char *ngx_http_cflb_state_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * ngx_http_cflb_state_read() reads the state file into ccf->state for
 * the zone to apply.  Whatever is wrong with the file is logged and
 * ignored: it never fails the configuration.
 */
void ngx_http_cflb_state_read(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);


#endif /* _NGX_HTTP_CFLB_H_INCLUDED_ */
