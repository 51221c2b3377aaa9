
/*
 * Where a client is: cflb_geoip2 (MaxMind databases, looked up in the
 * order given), cflb_node (this nginx's own PoP, region and place), and
 * the location of a decision's client as location_strategy says.
 */

#ifndef _NGX_CFLB_LOCATION_H_INCLUDED_
#define _NGX_CFLB_LOCATION_H_INCLUDED_


#include "ngx_cflb_decision.h"


/* cflb_geoip2 FILE: a MaxMind DB, Country, City or ASN; several add up */
char *ngx_cflb_geoip2(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* cflb_node [pop=NAME] [region=CODE] [lat=DEG lon=DEG] */
char *ngx_cflb_node(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * ngx_cflb_locates_coords() tells whether a load balancer that locates
 * clients by strategy (NGX_CFLB_LOCATE_*) can ever know coordinates, as
 * proximity steering needs: by pop, this node's (cflb_node lat= lon=);
 * by client, a database that has them (City layouts: a Country or ASN
 * one never does), or with no database at all, this node's.
 */
ngx_uint_t ngx_cflb_locates_coords(ngx_cflb_conf_t *ccf, ngx_uint_t strategy);

/*
 * ngx_cflb_place_where() is the unit vector of p's coordinates, made the
 * first time it is asked for (proximity, its trace), or NULL when p has
 * no coordinates.
 */
cflb_geo_vec_t *ngx_cflb_place_where(ngx_cflb_place_t *p);

/*
 * ngx_cflb_coord_at() writes " at offset N" (NUL-terminated), where a
 * coordinate cflb_geo_coord_parse() refused went wrong, or "" when the
 * error is about the whole number (out of range, not a number): for
 * the messages of "coordinates" and cflb_node.
 */
#define NGX_CFLB_COORD_AT_LEN  (sizeof(" at offset ") + NGX_SIZE_T_LEN)

void ngx_cflb_coord_at(u_char *at, cflb_err_t *err);

/*
 * ngx_cflb_locate() is the place of d's client, found the first time it
 * is asked: by location_strategy client, the client's address (or the
 * DNS query's subnet, as prefer_ecs says) in the databases; by pop, or
 * without a database, this node's.  NULL when nothing is known of it.
 * The lookup allocates the place from d->pool, nothing else.
 */
ngx_cflb_place_t *ngx_cflb_locate(ngx_cflb_decision_t *d);

/*
 * ngx_cflb_locate_subnet() tells whether prefer_ecs lets a DNS query's
 * subnet locate the client for d's view and steering (when the view
 * locates by client, with a database): the ECS scope of the answer
 * follows from it.
 */
ngx_uint_t ngx_cflb_locate_subnet(ngx_cflb_decision_t *d);

/*
 * ngx_cflb_locate_addr() looks sa up in ccf's databases into loc:
 * NGX_OK, or NGX_DECLINED if nothing is known.
 */
ngx_int_t ngx_cflb_locate_addr(ngx_cflb_conf_t *ccf, struct sockaddr *sa,
    cflb_location_t *loc);

/*
 * ngx_cflb_client_place() is the place of the client at sa by ccf's
 * databases, or NULL when they do not know it.  With keep (the pool of
 * the client's connection), the place is kept there and the next
 * requests of the connection from the same address find it without a
 * lookup; without, it is made in pool.
 */
ngx_cflb_place_t *ngx_cflb_client_place(ngx_cflb_conf_t *ccf,
    struct sockaddr *sa, ngx_pool_t *keep, ngx_pool_t *pool);


#endif /* _NGX_CFLB_LOCATION_H_INCLUDED_ */
