
/*
 * Runtime overrides of pools and endpoints (set by the http API), kept
 * in the zone, applied by every worker, saved in the state file.
 */

#ifndef _NGX_CFLB_RUNTIME_H_INCLUDED_
#define _NGX_CFLB_RUNTIME_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"


/* a change asked for: NGX_CONF_UNSET_UINT leaves that field alone */
typedef struct {
    ngx_uint_t                enabled;
    ngx_uint_t                weight;        /* 0..CFLB_WEIGHT_SCALE */
} ngx_cflb_change_t;

/* what ngx_cflb_runtime_changed() reports */
enum {
    NGX_CFLB_CHANGE_ENABLED = 0,
    NGX_CFLB_CHANGE_DISABLED,
    NGX_CFLB_CHANGE_WEIGHT
};

/*
 * ngx_cflb_runtime_set() applies ch to the pool (ep NULL) or endpoint in
 * the zone, for every worker, starts or ends a drain, then updates this
 * worker and the state file.  Takes the zone mutex.  NGX_OK, or
 * NGX_ERROR when the change is applied but the state file could not be
 * written: why says what failed, in len bytes, NUL-terminated.  A change
 * to what is in effect already writes the file only if the last write
 * failed, so that repeating a change retries it.
 */
ngx_int_t ngx_cflb_runtime_set(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch, u_char *why,
    size_t len);

/* this worker takes the zone's overrides (sets rebuilt as needed) */
void ngx_cflb_runtime_apply(ngx_cflb_conf_t *ccf);

/* one atomic read where a request, a health round or a render starts */
#define ngx_cflb_runtime_sync(ccf)                                            \
    ((ccf)->runtime_gen != (ccf)->sh->runtime_gen                             \
     ? ngx_cflb_runtime_apply(ccf) : (void) 0)

/*
 * At (re)load, in the master with the zone mutex held: drop overrides
 * the configuration outdated, take those of the state file, and set the
 * drain start from the resulting state.
 */
void ngx_cflb_runtime_bind_pool(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_sh_pool_t *shp);
void ngx_cflb_runtime_bind_endpoint(ngx_cflb_conf_t *ccf,
    ngx_cflb_endpoint_t *ep, ngx_cflb_sh_endpoint_t *she);

/* after the bind, without the mutex: warnings, and the file rewritten */
void ngx_cflb_runtime_loaded(ngx_cflb_conf_t *ccf, ngx_log_t *log);

/* the worker's rebuilt sets freed (exit_process) */
void ngx_cflb_runtime_exit_worker(ngx_cflb_conf_t *ccf);


#endif /* _NGX_CFLB_RUNTIME_H_INCLUDED_ */
