
/*
 * Health: cflb_monitor blocks, the checker that claims due checks in the
 * zone from every worker's timer, one probe of one endpoint, and the
 * answers steering asks per request.
 */

#ifndef _NGX_CFLB_HEALTH_H_INCLUDED_
#define _NGX_CFLB_HEALTH_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"


/* ngx_cflb_monitor.c: cflb_monitor blocks */
char *ngx_cflb_monitor_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_cflb_monitor_t *ngx_cflb_find_monitor(ngx_cflb_conf_t *ccf,
    ngx_str_t *name);


/* ngx_cflb_health.c: the health checker, driven by worker timers */
ngx_int_t ngx_cflb_health_init_worker(ngx_cycle_t *cycle,
    ngx_cflb_conf_t *ccf);

/*
 * With "quorum majority", the peers' votes on ep changed
 * (ngx_cflb_cluster.c): its health is counted again, and a change is
 * logged, counted and alerted as a probe's would be.  Takes the mutex.
 */
void ngx_cflb_health_recount(ngx_cflb_endpoint_t *ep);

/* is the pool out of steering (critical), as this worker sees it now */
ngx_uint_t ngx_cflb_pool_critical(ngx_cflb_pool_t *pool);

/* the record's health counts for steering: monitored and healthy */
#define ngx_cflb_endpoint_healthy(ep)                                         \
    ((ep)->pool->monitor == NULL || (ep)->sh->health.healthy)


/*
 * ngx_cflb_probe.c: one check of one endpoint, at its current address;
 * NGX_DECLINED when it has none now ("resolve"): no check is made.
 */
typedef void (*ngx_cflb_probe_done_pt)(ngx_cflb_endpoint_t *ep,
    ngx_uint_t reason, ngx_uint_t code, ngx_msec_t rtt);

ngx_int_t ngx_cflb_probe_start(ngx_cflb_endpoint_t *ep, ngx_log_t *log,
    ngx_cflb_probe_done_pt done);


#endif /* _NGX_CFLB_HEALTH_H_INCLUDED_ */
