
/*
 * Geo steering's maps (region_pools, country_pools, pop_pools) and
 * location_strategy, in a cflb_lb block; the pool list they give a
 * client.
 */

#ifndef _NGX_CFLB_MAPS_H_INCLUDED_
#define _NGX_CFLB_MAPS_H_INCLUDED_


#include "ngx_cflb_decision.h"


/* the three maps share a handler: cmd->offset is NGX_CFLB_GEO_* */
char *ngx_cflb_lb_map(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_location_strategy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* the maps of lb's view, resolved (from ngx_cflb_lb_init()) */
ngx_int_t ngx_cflb_maps_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_view_t *view);

/*
 * ngx_cflb_maps_build() resolves maps as read (by the directives above,
 * into lb->maps or a rule's overrides) for lb: every pool they name
 * becomes an entry of lb.  NULL after logging.
 */
ngx_cflb_maps_t *ngx_cflb_maps_build(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_array_t *read);

/*
 * The pool list geo steering gives d's client at place (NULL: unknown):
 * pop_pools, country_pools, region_pools, then the view's pools; sets
 * d->geo to which.
 */
ngx_cflb_pools_t *ngx_cflb_maps_list(ngx_cflb_decision_t *d,
    ngx_cflb_place_t *place);


#endif /* _NGX_CFLB_MAPS_H_INCLUDED_ */
