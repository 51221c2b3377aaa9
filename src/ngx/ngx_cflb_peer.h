
/*
 * The upstream peer hooks both subsystems share: nginx's
 * ngx_peer_connection_t is the same type in http and stream, so one
 * init/get/free serves both, each a thin caller of the decision engine.
 */

#ifndef _NGX_CFLB_PEER_H_INCLUDED_
#define _NGX_CFLB_PEER_H_INCLUDED_


#include <ngx_event_connect.h>

#include "ngx_cflb_decide.h"


/*
 * One request's (or session's) balancing state.  The subsystems embed it
 * first in their own peer data.
 */
typedef struct {
    ngx_cflb_decision_t       d;             /* must be first */
    uint32_t                  current_peer;  /* of d.last, if committed */
    in_port_t                 local_port;    /* for no_port endpoints */
    uintptr_t                 tried;         /* d.tried's word */
} ngx_cflb_peer_data_t;


/*
 * ngx_cflb_init_peer() prepares pd (allocated by the caller, zeroed) for
 * one request or session of lb and hooks pc up to it.  local is the
 * address the client connected to, or NULL (http).
 */
ngx_int_t ngx_cflb_init_peer(ngx_cflb_peer_data_t *pd, ngx_pool_t *pool,
    ngx_cflb_lb_t *lb, ngx_peer_connection_t *pc, struct sockaddr *client,
    struct sockaddr *local);
ngx_int_t ngx_cflb_get_peer(ngx_peer_connection_t *pc, void *data);
void ngx_cflb_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);

/*
 * ngx_cflb_free_peer_bytes() is ngx_cflb_free_peer() for a subsystem that
 * knows the bytes the ending attempt sent to and received from its
 * endpoint: it counts them too.
 */
void ngx_cflb_free_peer_bytes(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state, off_t sent, off_t received);


#endif /* _NGX_CFLB_PEER_H_INCLUDED_ */
