
/*
 * The status of a zone for operators: the status document (JSON, served
 * by cflb_status, the dashboard and the API) and the same counters in the
 * Prometheus text format.
 */

#ifndef _NGX_CFLB_STATUS_H_INCLUDED_
#define _NGX_CFLB_STATUS_H_INCLUDED_


#include "ngx_cflb_model.h"


/* what of the status document to render */
enum {
    NGX_CFLB_STATUS_DOC = 0,       /* the whole document */
    NGX_CFLB_STATUS_LBS,           /* the array of load balancers */
    NGX_CFLB_STATUS_POOLS,         /* the array of pools */
    NGX_CFLB_STATUS_POOL,          /* one pool, obj */
    NGX_CFLB_STATUS_ENDPOINT       /* one endpoint, obj */
};

/*
 * What of the status of ccf, as JSON ending in a newline, in one buffer.
 * The whole document of the http conf also holds the stream zone's load
 * balancers and pools, when the stream module has any.
 */
ngx_buf_t *ngx_cflb_status_json(ngx_pool_t *pool, ngx_cflb_conf_t *ccf,
    ngx_uint_t what, void *obj);

/* the stream conf beside the http conf ccf, if it has load balancers */
ngx_cflb_conf_t *ngx_cflb_status_stream(ngx_cflb_conf_t *ccf);

/* the largest drain_duration of the load balancers that reach the pool */
time_t ngx_cflb_pool_drain(ngx_cflb_pool_t *pool);


/*
 * ngx_cflb_rules_status.c: the custom rules of a load balancer,
 * ,"rules":[...] in its status object, and an upper bound of its size
 * (0 without rules); their families of the Prometheus text (nothing
 * when no load balancer of either conf has rules), and their size.
 */
u_char *ngx_cflb_rules_status(u_char *p, ngx_cflb_lb_t *lb);
size_t ngx_cflb_rules_status_size(ngx_cflb_lb_t *lb);
u_char *ngx_cflb_rules_prometheus(u_char *p, ngx_cflb_conf_t *http,
    ngx_cflb_conf_t *stream);
size_t ngx_cflb_rules_prometheus_size(ngx_cflb_conf_t *ccf);


/*
 * ngx_cflb_prometheus.c: the same counters in the Prometheus text format
 * 0.0.4, the http zone's and the stream zone's (either may be NULL).
 */
ngx_buf_t *ngx_cflb_prometheus(ngx_pool_t *pool, ngx_cflb_conf_t *http,
    ngx_cflb_conf_t *stream);

/*
 * ngx_cflb_prom_label() writes ,name="value" with \, " and newline
 * escaped as the format wants: at most 4 + name + 2 x value bytes.
 */
u_char *ngx_cflb_prom_label(u_char *p, char *name, ngx_str_t *value);


#endif /* _NGX_CFLB_STATUS_H_INCLUDED_ */
