
/*
 * Alerts: events POSTed as JSON to the cflb_notify webhooks whose filters
 * take them, queued in the worker that saw the change and sent in the
 * background (docs/alerts.md).  Each call does nothing without
 * cflb_notify.
 */

#ifndef _NGX_CFLB_NOTIFY_H_INCLUDED_
#define _NGX_CFLB_NOTIFY_H_INCLUDED_


#include "ngx_cflb_model.h"


/* cflb_notify URL [parameters]: one webhook each (docs/alerts.md) */
char *ngx_cflb_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* notification_filter in cflb_pool: which health alerts leave the pool */
char *ngx_cflb_notify_pool_filter(ngx_conf_t *cf, ngx_cflb_pool_t *pool);

/* at postconfiguration: the pools= of each webhook found, or refused */
ngx_int_t ngx_cflb_notify_init_conf(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_notify_endpoint(): the endpoint's health changed, and with
 * pool_changed so did its pool's (crossing minimum_origins);
 * ngx_cflb_notify_pool(): the pool became healthy or critical because
 * of the endpoint cause (or NULL);
 * ngx_cflb_notify_enabled(): the pool, or its endpoint ep if not NULL,
 * was enabled or disabled at run time.
 */
void ngx_cflb_notify_endpoint(ngx_cflb_endpoint_t *ep,
    ngx_uint_t pool_changed);
void ngx_cflb_notify_pool(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *cause);
void ngx_cflb_notify_enabled(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_uint_t enabled);

ngx_int_t ngx_cflb_notify_init_worker(ngx_cycle_t *cycle,
    ngx_cflb_conf_t *ccf);
void ngx_cflb_notify_exit_worker(ngx_cflb_conf_t *ccf);


#endif /* _NGX_CFLB_NOTIFY_H_INCLUDED_ */
