
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
    cflb_override_t           enabled;
    cflb_override_t           weight;
    ngx_uint_t                index;         /* in its list of the file */
    ngx_uint_t                used;          /* some object took it */
} ngx_cflb_state_t;


/* warnings of one kind logged one by one, then counted */
#define NGX_CFLB_STATE_WARN   5


char *ngx_cflb_state_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * ngx_cflb_state_read() reads the file into ccf->state for the zone to
 * apply.  A file that cannot be used whole (corrupt JSON, not a version
 * 1 state file) is moved aside to FILE.corrupt-TIME (not by nginx -t)
 * and reported in the status document until the next good write;
 * invalid or repeated entries are logged and skipped.  It fails
 * (NGX_ERROR) when FILE is not a regular file, or when the other
 * subsystem's zone names the same file.
 */
ngx_int_t ngx_cflb_state_read(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_state_init_zone(), at every (re)load, in the master, with the
 * zone but not its mutex: checks that the worker processes' user can
 * create and rename files in the file's directory, which is made (0700,
 * owned by that user) if it is missing, as nginx makes its temp paths;
 * and records in the zone where a corrupt file was moved.  NGX_ERROR,
 * logged naming the directory and the user, when the workers could not
 * write the file.
 */
ngx_int_t ngx_cflb_state_init_zone(ngx_cflb_conf_t *ccf, ngx_log_t *log);

/* the entry read for the pool, endpoint (empty for the pool) and address */
ngx_cflb_state_t *ngx_cflb_state_find(ngx_cflb_conf_t *ccf, ngx_str_t *pool,
    ngx_str_t *endpoint, ngx_str_t *address);

/*
 * ngx_cflb_state_write() saves the overrides of ccf's objects in the
 * file: written whole to FILE.tmp and renamed over FILE.  NGX_OK, or
 * NGX_ERROR (logged at alert) with why, when not NULL, saying what
 * failed in len bytes, NUL-terminated.  The zone remembers the outcome
 * for the status document.
 */
ngx_int_t ngx_cflb_state_write(ngx_cflb_conf_t *ccf, ngx_log_t *log,
    u_char *why, size_t len);

/* did the last write of the file fail (then the zone holds more) */
ngx_uint_t ngx_cflb_state_unsaved(ngx_cflb_conf_t *ccf);

/*
 * The "state_file" object of the status document: the path, whether the
 * last write failed and why, where a corrupt file was moved.  The size
 * is an upper bound of what ngx_cflb_state_status() writes.
 */
size_t ngx_cflb_state_status_size(ngx_cflb_conf_t *ccf);
u_char *ngx_cflb_state_status(u_char *p, ngx_cflb_conf_t *ccf);


#endif /* _NGX_CFLB_STATE_H_INCLUDED_ */
