
/*
 * The cflb shared-memory zone's life: made or found again at every
 * (re)load, the records of the configuration's objects bound and the
 * unused ones collected, the configuration's tables made, and each
 * worker's slot taken and given back.  The records themselves are in
 * ngx_cflb_shm.h.
 */

#ifndef _NGX_CFLB_ZONE_H_INCLUDED_
#define _NGX_CFLB_ZONE_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"


/* cflb_zone NAME SIZE */
char *ngx_cflb_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* the zone's init: records bound, collected; header sessions made */
ngx_int_t ngx_cflb_init_zone(ngx_shm_zone_t *shm_zone, void *data);

/*
 * A worker takes a slot for its share of the in-flight counters (the
 * slots of workers that died are taken back first) and gives it back
 * when it exits.
 */
void ngx_cflb_zone_attach(ngx_cflb_conf_t *ccf, ngx_log_t *log);
void ngx_cflb_zone_detach(ngx_cflb_conf_t *ccf);


#endif /* _NGX_CFLB_ZONE_H_INCLUDED_ */
