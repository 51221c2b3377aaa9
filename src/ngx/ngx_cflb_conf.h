
/*
 * A subsystem's cflb configuration as a whole: its main conf, the
 * policy keywords, and the checks that need every block read.
 */

#ifndef _NGX_CFLB_CONF_H_INCLUDED_
#define _NGX_CFLB_CONF_H_INCLUDED_


#include "ngx_cflb_model.h"


/*
 * A new main conf for the subsystem module (its create_main_conf): mode
 * is CFLB_MODE_L7 (http: requests, Host, port 80 by default) or
 * CFLB_MODE_L4 (stream: an endpoint without a port takes the client's).
 */
ngx_cflb_conf_t *ngx_cflb_create_conf(ngx_conf_t *cf, ngx_module_t *module,
    ngx_uint_t mode);

/*
 * ngx_cflb_policy() reads the policy of the directive being parsed (its
 * name is the first argument) from value, for level (CFLB_LEVEL_*) in
 * the subsystem's mode: the policy, or NGX_ERROR after saying which
 * policies the directive takes there.
 */
ngx_int_t ngx_cflb_policy(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_str_t *value, ngx_uint_t level);

/*
 * The algorithm a steering set is built with for a policy: least_* in a
 * subsystem that does not have its load (least_outstanding_requests in
 * stream{}) draws by weight alone, which the random policy's alias table
 * does in O(1) rather than the least_* scan in O(n).  The policy keeps
 * its name everywhere else (trace, status).
 */
#define ngx_cflb_set_policy(ccf, policy)                                      \
    ((cflb_steer_ops(policy)->inputs & CFLB_NEED_LOAD)                        \
     && !(cflb_steer_ops(policy)->counts & (ccf)->mode)                       \
     ? CFLB_STEER_RANDOM : (policy))

/* an endpoint without a port: 80 at layer 7, the client's (0) at layer 4 */
#define ngx_cflb_default_port(ccf)  ((ccf)->mode == CFLB_MODE_L7 ? 80 : 0)

/*
 * The conf of the cflb zone of the module named module (the other
 * subsystem's, found without naming its symbol), or NULL.  Works while
 * the configuration is read too: the zone is added with its conf.
 */
ngx_cflb_conf_t *ngx_cflb_zone_conf(ngx_cycle_t *cycle, char *module);

/* postconfiguration checks common to both subsystems */
ngx_int_t ngx_cflb_postconfiguration(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/* the core's allocator over an nginx pool */
void ngx_cflb_allocator(cflb_allocator_t *a, ngx_pool_t *pool);


#endif /* _NGX_CFLB_CONF_H_INCLUDED_ */
