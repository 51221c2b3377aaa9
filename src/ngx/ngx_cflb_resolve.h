
/*
 * Endpoint addresses: every address of a hostname, taken in turn, and
 * the run-time lookups of an endpoint with "resolve" (nginx's own
 * resolver, as nginx >= 1.27.3 does "server ... resolve").  Each worker
 * keeps its own address list for such an endpoint, in process memory.
 */

#ifndef _NGX_CFLB_RESOLVE_H_INCLUDED_
#define _NGX_CFLB_RESOLVE_H_INCLUDED_


#include "ngx_cflb_model.h"


/* the addresses kept of one lookup, and how long they are kept at most */
#define NGX_CFLB_RESOLVE_ADDRS     16
#define NGX_CFLB_RESOLVE_MAX_TTL   5          /* sec */


typedef struct {
    ngx_addr_t                addr;          /* into sa and text */
    ngx_sockaddr_t            sa;
    u_char                    text[NGX_SOCKADDR_STRLEN];
} ngx_cflb_resolve_addr_t;


/* one endpoint's lookups, this worker's (a copy of the conf's) */
struct ngx_cflb_resolve_s {
    ngx_cflb_endpoint_t      *ep;
    ngx_str_t                 host;          /* the name looked up */
    in_port_t                 port;          /* set in every address */
    ngx_uint_t                naddrs;        /* 0: none now */
    ngx_cflb_resolve_addr_t   addrs[NGX_CFLB_RESOLVE_ADDRS];
    time_t                    expires;       /* of addrs */
    ngx_resolver_ctx_t       *ctx;           /* a lookup under way */
    ngx_event_t               timer;         /* the next lookup */
    u_char                   *file;          /* of the endpoint */
    ngx_uint_t                line;
    unsigned                  failing:1;     /* logged as failing */
};


/*
 * ngx_cflb_resolve_add() makes ep an endpoint with "resolve": u is its
 * address as parsed without resolving (u->no_resolve).  The name is
 * looked up once now with the system resolver; a name that does not
 * resolve only warns, the endpoint starts without an address.
 */
ngx_int_t ngx_cflb_resolve_add(ngx_conf_t *cf, ngx_cflb_endpoint_t *ep,
    ngx_url_t *u);

/*
 * ngx_cflb_resolve_conf() gives the subsystem's resolver (the http{} or
 * stream{} level "resolver", NULL or address-less when none is set) to
 * the endpoints with "resolve": an error if they need one and there is
 * none.  optional: a missing resolver leaves them resolved at load only
 * (stream{} with DNS-only pools, which answer with the name).
 */
ngx_int_t ngx_cflb_resolve_conf(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_resolver_t *resolver, ngx_msec_t timeout, ngx_uint_t optional);

/* a worker's lookups: started by ngx_cflb_init_worker(), ended on exit */
ngx_int_t ngx_cflb_resolve_init_worker(ngx_cycle_t *cycle,
    ngx_cflb_conf_t *ccf);
void ngx_cflb_resolve_exit_worker(ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_endpoint_next_addr() is the next of ep's several addresses,
 * in turn in this worker, or NULL when a "resolve" endpoint has none now.
 */
ngx_addr_t *ngx_cflb_endpoint_next_addr(ngx_cflb_endpoint_t *ep);

/*
 * The size and the text of ep's current addresses for the status
 * document: ,"addresses":["127.0.0.2:80",...] with "resolve", else
 * nothing.
 */
size_t ngx_cflb_resolve_json_size(ngx_cflb_endpoint_t *ep);
u_char *ngx_cflb_resolve_json(u_char *p, ngx_cflb_endpoint_t *ep);


/*
 * The address to connect to now, or NULL: an endpoint with one address
 * (an IP, or a hostname with one) pays one predictable test.
 */
static ngx_inline ngx_addr_t *
ngx_cflb_endpoint_addr(ngx_cflb_endpoint_t *ep)
{
    if (ep->naddrs == 1) {
        return &ep->addr;
    }

    return ngx_cflb_endpoint_next_addr(ep);
}


/* has ep an address now: a "resolve" endpoint may have none */
#define ngx_cflb_endpoint_resolved(ep)                                        \
    ((ep)->resolve == NULL || (ep)->resolve->naddrs)


#endif /* _NGX_CFLB_RESOLVE_H_INCLUDED_ */
