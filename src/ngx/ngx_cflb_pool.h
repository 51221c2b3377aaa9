
/*
 * A pool: the cflb_pool block, the endpoint steering set built from it,
 * and what a pool's state is, as steering and alerts see it.
 */

#ifndef _NGX_CFLB_POOL_H_INCLUDED_
#define _NGX_CFLB_POOL_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"


char *ngx_cflb_pool_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* the pool of ccf named name, or NULL */
ngx_cflb_pool_t *ngx_cflb_find_pool(ngx_cflb_conf_t *ccf, ngx_str_t *name);

/* the pool's endpoint steering set, built once whoever asks first */
ngx_int_t ngx_cflb_pool_init(ngx_conf_t *cf, ngx_cflb_pool_t *pool);

/* the record's health counts for steering: monitored and healthy */
#define ngx_cflb_endpoint_healthy(ep)                                         \
    ((ep)->pool->monitor == NULL || (ep)->sh->health.healthy)

/*
 * Is the pool out of steering (critical), as this worker sees it now:
 * recounted only when some health changed since this worker counted.
 */
ngx_uint_t ngx_cflb_pool_critical(ngx_cflb_pool_t *pool);

/*
 * How many endpoints steering may choose in the pool now (enabled,
 * weight > 0, healthy or unmonitored): whether a retry has somewhere
 * to go.
 */
#define ngx_cflb_pool_ready(pool)                                             \
    ((pool)->monitor == NULL ? (pool)->nusable                                \
                             : ngx_cflb_pool_ready_monitored(pool))

ngx_uint_t ngx_cflb_pool_ready_monitored(ngx_cflb_pool_t *pool);

/* is the endpoint out of steering after failed attempts (passive_health) */
#define ngx_cflb_endpoint_failing(ep)                                         \
    ((ep)->max_fails && (ep)->sh->pf_until > ngx_time())

/*
 * The pool's health from its enabled endpoints; with ep not NULL, ep's
 * health taken as h; with assume set, one not checked yet counts healthy
 * (the product's assumption, so that starting nginx alerts only on what
 * is down).
 */
cflb_pool_health_e ngx_cflb_pool_health(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_health_t *h, ngx_uint_t assume);

/*
 * The pool's counters as shown: its record's, with the bytes of its
 * endpoints summed (requests count them once, on the endpoint).
 */
void ngx_cflb_pool_counters(ngx_cflb_pool_t *pool, ngx_cflb_counters_t *c);

/* is the pool critical as alerts see it (assumed healthy until checked) */
#define ngx_cflb_pool_alert_critical(pool, ep, h)                             \
    ((pool)->monitor != NULL                                                  \
     && ngx_cflb_pool_health(pool, ep, h, 1) == CFLB_POOL_CRITICAL)


#endif /* _NGX_CFLB_POOL_H_INCLUDED_ */
