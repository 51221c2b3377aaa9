
/*
 * cflb_state_file: the runtime overrides of one zone (http{} or stream{},
 * each with its own file), written by the workers at every change and
 * read at every start and reload, so that they outlive a restart.
 */

#ifndef _NGX_CFLB_STATE_H_INCLUDED_
#define _NGX_CFLB_STATE_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "cflb_override.h"


/* an override read from the state file, applied at (re)load */
typedef struct {
    ngx_str_t                 pool;
    ngx_str_t                 endpoint;      /* empty: the pool's own */
    ngx_str_t                 address;
    ngx_str_t                 key;           /* the three, NUL-separated */
    cflb_override_t           enabled;
    cflb_override_t           weight;
    ngx_uint_t                used;          /* some object took it */
} ngx_cflb_state_t;


char *ngx_cflb_state_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * ngx_cflb_state_read() reads the file into ccf->state for the zone to
 * apply; whatever is wrong with the file is logged and ignored.  It
 * fails (NGX_ERROR) only when the other subsystem's zone names the same
 * file.
 */
ngx_int_t ngx_cflb_state_read(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/* the entry read for the pool, endpoint (empty for the pool) and address */
ngx_cflb_state_t *ngx_cflb_state_find(ngx_cflb_conf_t *ccf, ngx_str_t *pool,
    ngx_str_t *endpoint, ngx_str_t *address);

/*
 * ngx_cflb_state_write() saves the overrides of ccf's objects in the
 * file: written whole to FILE.tmp and renamed over FILE.
 */
void ngx_cflb_state_write(ngx_cflb_conf_t *ccf, ngx_log_t *log);


#endif /* _NGX_CFLB_STATE_H_INCLUDED_ */
