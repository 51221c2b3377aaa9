
/*
 * Custom rules in stream{}.  For a TCP connection or a UDP session, the
 * fields that mean something there are the common ones (ip.src and its
 * location, the load balancer's name and region, the port the client
 * connected to): beyond the product, which has no rules at layer 4.
 * For a DNS query (a load balancer with a hostname), the product's
 * unproxied fields too: dns.qry.*, dns.rr.opt.client*, and ip.src is
 * the client subnet's address when the query has one, else the
 * resolver's.  The rules run once per session (init_peer) or per query
 * (the DNS answer), with the cache on the stack.  No fixed response:
 * refused when the configuration is read.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_cflb.h"
#include "ngx_stream_cflb_dns.h"
#include "ngx_cflb_conf.h"


/* the common fields first: those a proxied load balancer may name */
static const cflb_rules_field_t  ngx_stream_cflb_fields[] = {
    NGX_CFLB_COMMON_FIELDS,
    NGX_CFLB_DNS_FIELDS
};

#define NGX_STREAM_CFLB_NFIELDS                                               \
    (sizeof(ngx_stream_cflb_fields) / sizeof(cflb_rules_field_t))


/* the session and what the callbacks fetch from it */
typedef struct {
    ngx_cflb_rules_req_t          rq;        /* must be first */
    ngx_connection_t             *c;
} ngx_stream_cflb_rules_ctx_t;

/* a DNS query, and the name it asks for as text once made */
typedef struct {
    ngx_cflb_rules_req_t          rq;        /* must be first */
    ngx_stream_cflb_dns_ctx_t    *dns;
    ngx_str_t                     name;      /* dns.qry.name */
} ngx_stream_cflb_dns_rules_ctx_t;


static int ngx_stream_cflb_get(void *ctx, unsigned id, cflb_rules_value_t *v);
static int ngx_stream_cflb_dns_get(void *ctx, unsigned id,
    cflb_rules_value_t *v);
static int ngx_stream_cflb_dns_name(ngx_stream_cflb_dns_rules_ctx_t *dc,
    cflb_rules_value_t *v);
static int ngx_stream_cflb_dns_subnet(ngx_stream_cflb_dns_ctx_t *dns,
    cflb_rules_value_t *v);



ngx_cflb_rule_conf_t *
ngx_stream_cflb_rule_conf(ngx_conf_t *cf)
{
    ngx_cflb_rule_conf_t  *rc;

    rc = ngx_cflb_rule_conf(cf, ngx_stream_cflb_fields,
                            NGX_STREAM_CFLB_NFIELDS, 0);

    if (rc) {
        rc->nproxied = NGX_CFLB_FIELD_OWN;
    }

    return rc;
}


ngx_int_t
ngx_stream_cflb_rules(ngx_stream_session_t *s, ngx_cflb_lb_t *lb,
    ngx_cflb_decision_t *d)
{
    cflb_allocator_t             a;
    cflb_rules_input_t           in;
    ngx_cflb_rules_outcome_t     out;
    ngx_stream_cflb_rules_ctx_t  sc;
    cflb_rules_slot_t            slots[NGX_STREAM_CFLB_NFIELDS];

    sc.rq.lb = lb;
    sc.rq.client = s->connection->sockaddr;
    sc.rq.local = NULL;
    sc.rq.located = 0;
    sc.c = s->connection;

    /* no map field at layer 4: no lookup to cache */
    cflb_rules_input_init(&in, slots, lb->rules->nslots, NULL, 0);

    ngx_cflb_allocator(&a, s->connection->pool);

    in.get = ngx_stream_cflb_get;
    in.ctx = &sc;
    in.pool = &a;

    ngx_memzero(&out, sizeof(ngx_cflb_rules_outcome_t));

    if (ngx_cflb_rules_run(lb, &in, s->connection->pool, d->trace,
                           s->connection->log, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_cflb_rules_apply(d, &out);

    return NGX_OK;
}


static int
ngx_stream_cflb_get(void *ctx, unsigned id, cflb_rules_value_t *v)
{
    ngx_stream_cflb_rules_ctx_t *sc = ctx;

    if (id >= NGX_CFLB_FIELD_OWN) {
        /* a DNS load balancer's rule, run for a proxied session */
        return CFLB_DECLINED;
    }

    if (id == NGX_CFLB_FIELD_PORT) {
        /* a wildcard listen knows its address only once asked */
        if (ngx_connection_local_sockaddr(sc->c, NULL, 0) != NGX_OK) {
            return CFLB_DECLINED;
        }

        sc->rq.local = sc->c->local_sockaddr;
    }

    return ngx_cflb_rules_common(&sc->rq, id, v);
}


ngx_int_t
ngx_stream_cflb_dns_rules(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_decision_t *d, ngx_cflb_lb_t *lb, ngx_log_t *log)
{
    cflb_allocator_t                 a;
    cflb_rules_input_t               in;
    ngx_cflb_rules_outcome_t         out;
    ngx_stream_cflb_dns_rules_ctx_t  dc;
    cflb_rules_slot_t                slots[NGX_STREAM_CFLB_NFIELDS];

    dc.rq.lb = lb;
    dc.rq.client = ctx->client;
    dc.rq.local = ctx->local;
    dc.rq.located = 0;
    dc.dns = ctx;
    dc.name.len = 0;

    cflb_rules_input_init(&in, slots, lb->rules->nslots, NULL, 0);

    /* what functions make, the view, lives until the next query */
    ngx_cflb_allocator(&a, ctx->qpool);

    in.get = ngx_stream_cflb_dns_get;
    in.ctx = &dc;
    in.pool = &a;

    ngx_memzero(&out, sizeof(ngx_cflb_rules_outcome_t));

    if (ngx_cflb_rules_run(lb, &in, ctx->qpool, d->trace, log, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_cflb_rules_apply(d, &out);

    return NGX_OK;
}


static int
ngx_stream_cflb_dns_get(void *ctx, unsigned id, cflb_rules_value_t *v)
{
    ngx_stream_cflb_dns_rules_ctx_t *dc = ctx;

    ngx_stream_cflb_dns_ctx_t  *dns;

    dns = dc->dns;

    if (dns->client != dns->resolver
        && (id == NGX_CFLB_FIELD_IP_SRC || id == NGX_CFLB_FIELD_COUNTRY
            || id == NGX_CFLB_FIELD_ASNUM
            || id == NGX_CFLB_FIELD_DNS_ECS_ADDR))
    {
        /* the answer may depend on the subnet: the ECS echo says so */
        dns->scope = dns->ecs_source;
    }

    switch (id) {

    case NGX_CFLB_FIELD_DNS_TYPE:
        v->u.i = dns->qtype;
        return CFLB_OK;

    case NGX_CFLB_FIELD_DNS_NAME:
    case NGX_CFLB_FIELD_DNS_NAME_LEN:
        if (ngx_stream_cflb_dns_name(dc, v) != CFLB_OK) {
            return CFLB_ERROR;
        }

        if (id == NGX_CFLB_FIELD_DNS_NAME_LEN) {
            v->u.i = (int64_t) dc->name.len;
        }

        return CFLB_OK;

    case NGX_CFLB_FIELD_DNS_QU:
        /* a response (QR set) is dropped before any rule runs */
        v->u.i = 1;
        return CFLB_OK;

    case NGX_CFLB_FIELD_DNS_ECS:
        /* a source prefix of 0 sends no address (RFC 7871 7.1.2) */
        v->u.i = (dns->client != dns->resolver);
        return CFLB_OK;

    case NGX_CFLB_FIELD_DNS_ECS_ADDR:
        if (dns->client == dns->resolver) {
            return CFLB_DECLINED;
        }

        return ngx_stream_cflb_dns_subnet(dns, v);

    default:
        return ngx_cflb_rules_common(&dc->rq, id, v);
    }
}


/*
 * dns.qry.name: the name the query asks for (the rules of a CNAME's
 * target, answered after it, see it too), as text, lower case, with the
 * final dot ("www.example.com."), as the product writes it; made once.
 * Names of printable bytes other than "." and "\" are copied here; the
 * others go to the codec, which escapes what needs it.
 */

static int
ngx_stream_cflb_dns_name(ngx_stream_cflb_dns_rules_ctx_t *dc,
    cflb_rules_value_t *v)
{
    u_char        *p, c;
    ngx_uint_t     i, n;
    const u_char  *qname, *label;

    if (dc->name.len) {
        goto done;
    }

    p = ngx_pnalloc(dc->dns->qpool, CFLB_DNS_NAME_TEXT_MAX);
    if (p == NULL) {
        return CFLB_ERROR;
    }

    qname = dc->dns->qname;
    dc->name.data = p;

    /* the parser took the question's name: uncompressed, 255 at most */
    for (label = qname; *label; label += n + 1) {
        n = *label;

        for (i = 1; i <= n; i++) {
            c = label[i];

            if (c < 0x21 || c > 0x7e || c == '.' || c == '\\') {
                goto escaped;
            }

            *p++ = ngx_tolower(c);
        }

        *p++ = '.';
    }

    if (label == qname) {
        *p++ = '.';
    }

    dc->name.len = p - dc->name.data;

    goto done;

escaped:

    dc->name.len = cflb_dns_name_to_text(qname, cflb_dns_name_len(qname),
                                         dc->name.data,
                                         CFLB_DNS_NAME_TEXT_MAX,
                                         CFLB_DNS_TEXT_LOWER);
    if (dc->name.len == 0) {
        return CFLB_ERROR;
    }

done:

    v->u.s.data = dc->name.data;
    v->u.s.len = dc->name.len;

    return CFLB_OK;
}


/*
 * dns.rr.opt.client.addr: the subnet's address as text ("192.0.2.0"),
 * IPv4 written here (ngx_inet_ntop() formats it with ngx_sprintf(), which
 * costs more than a rule), IPv6 by nginx.
 */

static int
ngx_stream_cflb_dns_subnet(ngx_stream_cflb_dns_ctx_t *dns,
    cflb_rules_value_t *v)
{
    u_char      *p, *a;
    ngx_uint_t   i, b;

    p = ngx_pnalloc(dns->qpool, NGX_INET6_ADDRSTRLEN);
    if (p == NULL) {
        return CFLB_ERROR;
    }

    v->u.s.data = p;

#if (NGX_HAVE_INET6)
    if (dns->client->sa_family == AF_INET6) {
        v->u.s.len = ngx_inet6_ntop(dns->subnet.sockaddr_in6.sin6_addr.s6_addr,
                                    p, NGX_INET6_ADDRSTRLEN);
        return CFLB_OK;
    }
#endif

    a = (u_char *) &dns->subnet.sockaddr_in.sin_addr;

    for (i = 0; i < 4; i++) {
        b = a[i];

        if (b >= 100) {
            *p++ = (u_char) ('0' + b / 100);
            b %= 100;
            *p++ = (u_char) ('0' + b / 10);

        } else if (b >= 10) {
            *p++ = (u_char) ('0' + b / 10);
        }

        *p++ = (u_char) ('0' + b % 10);
        *p++ = '.';
    }

    v->u.s.len = p - 1 - v->u.s.data;

    return CFLB_OK;
}
