
/*
 * The DNS-only responder of the stream module: what its files share.
 * ngx_stream_cflb_dns.c answers one query (the name looked up, the
 * decision, the records written, the counters, the variables);
 * ngx_stream_cflb_dns_io.c moves queries and answers (the cflb_dns
 * directive, UDP straight from the listening socket or as stream
 * sessions, TCP sessions).
 */

#ifndef _NGX_STREAM_CFLB_DNS_H_INCLUDED_
#define _NGX_STREAM_CFLB_DNS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_cflb_decide.h"
#include "ngx_cflb_dns_zone.h"


/* a server's cflb_dns: its srv_conf slot of this module */
typedef struct {
    ngx_cflb_conf_t              *ccf;
    ngx_stream_core_srv_conf_t   *cscf;
    ngx_uint_t                    edns_size;     /* our UDP payload size */
    ngx_msec_t                    tcp_timeout;   /* idle */
    ngx_flag_t                    direct;        /* UDP without sessions */
    u_char                       *file;
    ngx_uint_t                    line;
} ngx_stream_cflb_dns_srv_conf_t;


/*
 * One query's state: the decision (first, so that the module's variable
 * handler finds it where it finds a proxied session's), what was asked
 * and what was answered.  The arrays are sized for the largest load
 * balancer and reused query after query.
 */
typedef struct {
    ngx_cflb_decision_t           d;             /* must be first */
    ngx_cflb_lb_t                *lb;            /* asked for, or NULL */
    ngx_cflb_endpoint_t         **answered;      /* in answer order */
    ngx_cflb_dns_rr_t           **rrs;           /* as answered */
    ngx_uint_t                    nanswered;
    ngx_atomic_t                **counts;        /* due if not truncated */
    ngx_uint_t                    ncounts;
    uintptr_t                    *tried;         /* max_peers bits */
    ngx_cflb_sess_t              *sess;          /* max_sess bytes */
    uintptr_t                    *chase_tried;   /* a CNAME's lb */
    ngx_cflb_sess_t              *chase_sess;
    struct sockaddr              *client;        /* ip.src: subnet or */
    struct sockaddr              *resolver;      /* the query's source */
    struct sockaddr              *local;         /* listening: its port */
    const u_char                 *qname;         /* wire, while answering */
    ngx_sockaddr_t                subnet;        /* ECS, as an address */
    ngx_pool_t                   *qpool;         /* a query's, reset */
    uint16_t                      qtype;
    uint16_t                      rcode;         /* NGX_CFLB_DNS_* */
    uint8_t                       ecs_family;    /* 0: no client subnet */
    uint8_t                       ecs_source;
    uint8_t                       scope;         /* sent in the ECS echo */
    unsigned                      trace:1;       /* $cflb_trace is kept */
    unsigned                      dropped:1;     /* not answered */
    unsigned                      nodata:1;
    unsigned                      truncated:1;
} ngx_stream_cflb_dns_ctx_t;


/*
 * ngx_stream_cflb_dns_ctx_init() readies ctx (zeroed by the caller) for
 * the queries of dns, its arrays from pool; trace: keep a $cflb_trace
 * record.  NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_stream_cflb_dns_ctx_init(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_conf_t *ccf, ngx_pool_t *pool, ngx_uint_t trace);

/*
 * ngx_stream_cflb_dns_answer() answers the query in pkt[0..len) from
 * client into out[0..size), which may be pkt itself (size then bounds
 * both), over TCP or UDP.  Returns the response's length, or 0 when the
 * query is dropped without one (not a query, see cflb_dns_parse()).
 * Counts it in the zone; ctx tells the variables what happened.
 */
size_t ngx_stream_cflb_dns_answer(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_stream_cflb_dns_srv_conf_t *dscf, u_char *pkt, size_t len,
    u_char *out, size_t size, struct sockaddr *client, ngx_uint_t tcp,
    ngx_log_t *log);

/*
 * $cflb_lb, $cflb_pool, $cflb_endpoint, $cflb_endpoint_addr,
 * $cflb_endpoint_name and $cflb_trace of a cflb_dns session (its latest
 * query; ctx NULL: none yet): the load balancer, the pool answered from,
 * the endpoints answered (comma-separated: their addresses or CNAME
 * targets in $cflb_endpoint and $cflb_endpoint_addr, as the product logs
 * a DNS answer, their names in $cflb_endpoint_name), the trace with the
 * query's type, rcode, answer and client subnet; the client's country,
 * region and AS are those of the subnet's address, or the resolver's.
 */
void ngx_stream_cflb_dns_variable(ngx_cflb_conf_t *ccf,
    ngx_stream_cflb_dns_ctx_t *ctx, ngx_pool_t *pool,
    ngx_stream_variable_value_t *v, uintptr_t data);


/* ngx_stream_cflb_rules.c */

/*
 * ngx_stream_cflb_dns_rules() runs the rules of lb (the question's load
 * balancer, or a CNAME's target) for the query of ctx: d, just set up,
 * takes the view they made, from the query's pool.  NGX_ERROR only when
 * out of memory.
 */
ngx_int_t ngx_stream_cflb_dns_rules(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_decision_t *d, ngx_cflb_lb_t *lb, ngx_log_t *log);


/* ngx_stream_cflb_dns_io.c */

/* cflb_dns [direct=on|off] [edns_size=N] [tcp_timeout=T] (stream server) */
char *ngx_stream_cflb_dns(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * The checks that need the whole stream{} block, from the module's
 * postconfiguration: every cflb_dns server kept our content handler, a
 * cflb_zone holds the counters.
 */
ngx_int_t ngx_stream_cflb_dns_postconfiguration(ngx_conf_t *cf,
    ngx_cflb_conf_t *ccf);

/*
 * A worker's part: the listening UDP sockets of cflb_dns servers that
 * answer directly take our read handler, with their buffers.
 */
ngx_int_t ngx_stream_cflb_dns_init_process(ngx_cycle_t *cycle);


#endif /* _NGX_STREAM_CFLB_DNS_H_INCLUDED_ */
