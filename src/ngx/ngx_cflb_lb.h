
/*
 * A load balancer: the cflb_lb block, read in the subsystem's upstream
 * context so that upstream directives (keepalive...) work inside it, its
 * pools resolved into entries, its steering, its view, and its session
 * affinity settings.
 */

#ifndef _NGX_CFLB_LB_H_INCLUDED_
#define _NGX_CFLB_LB_H_INCLUDED_


#include "ngx_cflb_model.h"


/*
 * ngx_cflb_lb_create() starts a cflb_lb block: checks the name and makes
 * the load balancer that the subsystem's block handler then parses into.
 * Returns NULL after logging the error.
 */
ngx_cflb_lb_t *ngx_cflb_lb_create(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_url_t *u);

/*
 * ngx_cflb_lb_alloc() is a load balancer with nothing set (every setting
 * unset, as the block's directives expect): the block's, or a rule's
 * overrides.  NULL if out of memory.
 */
ngx_cflb_lb_t *ngx_cflb_lb_alloc(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_module_confs() makes the srv (or loc) confs of every module of
 * one subsystem (type), for the upstream block of a load balancer: create
 * is the offset of create_srv_conf (or create_loc_conf) in the modules'
 * context of that subsystem.
 */
typedef void *(*ngx_cflb_create_conf_pt)(ngx_conf_t *cf);

void **ngx_cflb_module_confs(ngx_conf_t *cf, ngx_uint_t type,
    ngx_uint_t max, size_t create);

/*
 * ngx_cflb_lb_parse() parses the block body in the subsystem's upstream
 * context ctx (srv_conf its srv confs, cmd_type its UPS flag) and fails
 * if another balancing method changed the upstream's flags away from
 * created.
 */
char *ngx_cflb_lb_parse(ngx_conf_t *cf, ngx_cflb_lb_t *lb, void *ctx,
    void **srv_conf, ngx_uint_t cmd_type, ngx_uint_t *flags,
    ngx_uint_t created);

/*
 * ngx_cflb_lb_init() finishes a load balancer from its upstream's
 * init_upstream: refuses "server" and "zone" (nservers and zone of the
 * upstream), resolves pool names and builds the steering sets.
 */
ngx_int_t ngx_cflb_lb_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_uint_t nservers, void *zone);

/*
 * ngx_cflb_lb_entry() is the entry of the pool named name in lb, made if
 * new; what names the directive for an error ("pool", "fallback_pool").
 * NULL after logging: an unknown pool, or too many.
 */
ngx_cflb_lb_pool_t *ngx_cflb_lb_entry(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_str_t *name, const char *what);

/*
 * ngx_cflb_pools_init() makes list the pools named names[0..n-1] of lb,
 * in that order, steered by policy over equal weights;
 * ngx_cflb_pools_steer() builds the list's steering set again from its
 * members (after their weights changed).
 */
ngx_int_t ngx_cflb_pools_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_pools_t *list, ngx_str_t *names, ngx_uint_t n,
    ngx_int_t policy);
ngx_int_t ngx_cflb_pools_steer(ngx_conf_t *cf, ngx_cflb_pools_t *list);

/*
 * ngx_cflb_pools_check() refuses a list whose policy lacks an input
 * (coordinates, a way to locate clients) and warns of pools without a
 * monitor to measure; lb names it in the messages.
 */
ngx_int_t ngx_cflb_pools_check(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_pools_t *list);

/* the directives of the block */
char *ngx_cflb_lb_pools(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_fallback(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_steering(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_random_steering(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/*
 * ngx_cflb_affinity_conf.c: session affinity, drain and failover of a
 * load balancer (layer 7: refused in stream{} with the reason), and
 * cflb_affinity_key.  ngx_cflb_lb_l7() refuses the directive where it
 * has no meaning, then sets the field at cmd->offset with the setter of
 * cmd->post.
 */
typedef struct {
    char                   *(*set)(ngx_conf_t *cf, ngx_command_t *cmd,
                                   void *conf);
    void                     *post;
    char                     *why;
} ngx_cflb_setter_t;

extern ngx_cflb_setter_t  ngx_cflb_affinity_mode;
extern ngx_cflb_setter_t  ngx_cflb_affinity_ttl;
extern ngx_cflb_setter_t  ngx_cflb_affinity_samesite;
extern ngx_cflb_setter_t  ngx_cflb_affinity_secure;
extern ngx_cflb_setter_t  ngx_cflb_affinity_headers;
extern ngx_cflb_setter_t  ngx_cflb_affinity_require_all;
extern ngx_cflb_setter_t  ngx_cflb_affinity_drain;
extern ngx_cflb_setter_t  ngx_cflb_affinity_zdf;
extern ngx_cflb_setter_t  ngx_cflb_affinity_across_pools;

char *ngx_cflb_lb_l7(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_affinity_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* defaults and cross-checks, from ngx_cflb_lb_init() */
ngx_int_t ngx_cflb_affinity_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb);


#endif /* _NGX_CFLB_LB_H_INCLUDED_ */
