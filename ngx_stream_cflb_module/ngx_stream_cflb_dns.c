
/*
 * One DNS query answered (issue 13, docs/dns.md): the name looked up in
 * the zones, the decision engine run for a load balancer's hostname, and
 * the answer: every healthy address of the asked family when the chosen
 * pool's endpoints weigh the same, else one picked by weight, a CNAME
 * for an endpoint given as a hostname, NODATA with the SOA when nothing
 * can serve, NXDOMAIN for other names of a zone, REFUSED outside every
 * zone.  The codec (src/common/cflb_dns_*.c) writes the wire format.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_cflb_dns.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_trace.h"
#include "ngx_cflb_location.h"
#include "ngx_cflb_rules.h"


/* a record type an answer of addresses may hold, as a mask bit */
#define ngx_stream_cflb_dns_bit(type)  (1u << (type))

/* an endpoint the engine would take, tried or not */
#define ngx_stream_cflb_dns_usable(d, ep)                                     \
    (!(ep)->disabled && (ep)->weight > 0                                      \
     && ((d)->fallback || (ngx_cflb_endpoint_healthy(ep)                      \
                           && !ngx_cflb_endpoint_failing(ep))))

#define ngx_stream_cflb_dns_words(n)                                          \
    (((n) + 8 * sizeof(uintptr_t) - 1) / (8 * sizeof(uintptr_t)))


static void ngx_stream_cflb_dns_qpool_free(void *data);
static void ngx_stream_cflb_dns_subnet(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_query_t *q, struct sockaddr *client);
static ngx_uint_t ngx_stream_cflb_dns_rcode(ngx_cflb_dns_name_t *dn,
    size_t off);
static void ngx_stream_cflb_dns_records(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_writer_t *w, cflb_dns_query_t *q, ngx_cflb_dns_name_t *dn,
    ngx_uint_t exact, ngx_uint_t rcode, ngx_log_t *log);
static void ngx_stream_cflb_dns_apex(cflb_dns_writer_t *w,
    ngx_cflb_dns_zone_t *zone, ngx_uint_t qtype);
static ngx_int_t ngx_stream_cflb_dns_lb(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_writer_t *w, ngx_cflb_decision_t *d, ngx_cflb_lb_t *lb,
    const u_char *owner, ngx_uint_t depth, ngx_log_t *log);
static void ngx_stream_cflb_dns_decision(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_decision_t *d, ngx_cflb_lb_t *lb, ngx_uint_t depth);
static ngx_uint_t ngx_stream_cflb_dns_located(ngx_cflb_decision_t *d);
static ngx_int_t ngx_stream_cflb_dns_addresses(
    ngx_stream_cflb_dns_ctx_t *ctx, cflb_dns_writer_t *w,
    ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep, const u_char *owner,
    ngx_uint_t want);
static ngx_cflb_endpoint_t *ngx_stream_cflb_dns_family(
    ngx_cflb_decision_t *d, ngx_uint_t want);
static ngx_int_t ngx_stream_cflb_dns_record(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_writer_t *w, ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep,
    const u_char *owner);
static ngx_uint_t ngx_stream_cflb_dns_want(ngx_uint_t qtype);
static void ngx_stream_cflb_dns_count(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_sh_dns_t *shd);
static void ngx_stream_cflb_dns_list(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_pool_t *pool, ngx_stream_variable_value_t *v, ngx_uint_t addr);
static void ngx_stream_cflb_dns_trace(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_pool_t *pool, ngx_stream_variable_value_t *v);
static u_char *ngx_stream_cflb_dns_type(u_char *p, ngx_uint_t qtype);


/* by NGX_CFLB_DNS_* (rcodes), for the trace */
static const char  *ngx_stream_cflb_dns_rcodes[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
    "BADVERS"
};


ngx_int_t
ngx_stream_cflb_dns_ctx_init(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_conf_t *ccf, ngx_pool_t *pool, ngx_uint_t trace)
{
    size_t                words, n;
    ngx_pool_cleanup_t   *cln;
    ngx_cflb_dns_conf_t  *dns;

    dns = ccf->dns;
    words = ngx_stream_cflb_dns_words(dns->max_peers) + 1;

    /* a CNAME followed to other load balancers adds their answers */
    n = NGX_CFLB_DNS_CHASE * (dns->max_peers + 1);

    ctx->tried = ngx_pcalloc(pool, 2 * words * sizeof(uintptr_t));
    ctx->answered = ngx_pcalloc(pool, n * sizeof(ngx_cflb_endpoint_t *));
    ctx->rrs = ngx_pcalloc(pool, n * sizeof(ngx_cflb_dns_rr_t *));
    ctx->counts = ngx_pcalloc(pool, 2 * n * sizeof(ngx_atomic_t *));

    if (ctx->tried == NULL || ctx->answered == NULL || ctx->rrs == NULL
        || ctx->counts == NULL)
    {
        return NGX_ERROR;
    }

    ctx->chase_tried = ctx->tried + words;

    /* what a decision allocates (a client's place), reset per query */
    ctx->qpool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, pool->log);
    if (ctx->qpool == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(ctx->qpool);
        return NGX_ERROR;
    }

    cln->handler = ngx_stream_cflb_dns_qpool_free;
    cln->data = ctx->qpool;

    if (dns->max_sess) {
        ctx->sess = ngx_pcalloc(pool, 2 * dns->max_sess);
        if (ctx->sess == NULL) {
            return NGX_ERROR;
        }

        ctx->chase_sess = (ngx_cflb_sess_t *) ((u_char *) ctx->sess
                                               + dns->max_sess);
    }

    ctx->trace = (trace && ccf->trace);

    return NGX_OK;
}


static void
ngx_stream_cflb_dns_qpool_free(void *data)
{
    ngx_destroy_pool(data);
}


size_t
ngx_stream_cflb_dns_answer(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_stream_cflb_dns_srv_conf_t *dscf, u_char *pkt, size_t len,
    u_char *out, size_t size, struct sockaddr *client, ngx_uint_t tcp,
    ngx_log_t *log)
{
    int                   rc;
    size_t                limit, off, n;
    ngx_uint_t            rcode;
    ngx_cflb_conf_t      *ccf;
    cflb_dns_query_t      q;
    cflb_dns_writer_t     w;
    ngx_cflb_sh_dns_t    *shd;
    ngx_cflb_dns_name_t  *dn;

    ccf = dscf->ccf;
    shd = ccf->sh->dns;

    ctx->lb = NULL;
    ctx->nanswered = 0;
    ctx->ncounts = 0;
    ctx->nodata = 0;
    ctx->dropped = 1;
    ctx->scope = 0;
    ctx->d.view = NULL;
    ctx->d.last = NULL;
    ctx->d.trace = 0;

    ngx_reset_pool(ctx->qpool);

    (void) ngx_atomic_fetch_add(&shd->queries, 1);

    if (tcp) {
        (void) ngx_atomic_fetch_add(&shd->tcp, 1);
    }

    rc = cflb_dns_parse(pkt, len, &q);

    if (rc == CFLB_DECLINED) {
        (void) ngx_atomic_fetch_add(&shd->dropped, 1);
        return 0;
    }

    ctx->qtype = q.qtype;
    ngx_stream_cflb_dns_subnet(ctx, &q, client);

    limit = ngx_min(cflb_dns_limit(&q, dscf->edns_size, tcp), size);

    dn = NULL;
    off = 0;

    if (rc != CFLB_OK) {
        /* FORMERR, NOTIMP, BADVERS, as the parser found */
        rcode = rc;

    } else if (q.qclass != CFLB_DNS_CLASS_IN) {
        rcode = CFLB_DNS_REFUSED;

    } else {
        ngx_cflb_runtime_sync(ccf);

        dn = cflb_dns_table_closest(&ccf->dns->names, q.qname, q.qname_len,
                                    &off);

        rcode = dn ? ngx_stream_cflb_dns_rcode(dn, off) : CFLB_DNS_REFUSED;
    }

    if (cflb_dns_begin(&w, &q, out, limit, rcode, dn ? CFLB_DNS_AA : 0)
        != CFLB_OK)
    {
        (void) ngx_atomic_fetch_add(&shd->dropped, 1);
        return 0;
    }

    ctx->dropped = 0;

    if (dn) {
        ngx_stream_cflb_dns_records(ctx, &w, &q, dn, off == 0, rcode, log);
    }

    ctx->rcode = (rcode == CFLB_DNS_BADVERS) ? NGX_CFLB_DNS_BADVERS : rcode;
    ctx->truncated = cflb_dns_truncated(&w);

    n = cflb_dns_finish(&w, dscf->edns_size, ctx->scope);

    ngx_stream_cflb_dns_count(ctx, shd);

    return n;
}


/*
 * The records of a name of our zones (exact: the name itself was found,
 * not only a zone above it): the apex's SOA and NS, a load balancer's
 * answer, and for NODATA and NXDOMAIN the zone's SOA in the authority
 * section, for negative caching (RFC 2308).
 */

static void
ngx_stream_cflb_dns_records(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_writer_t *w, cflb_dns_query_t *q, ngx_cflb_dns_name_t *dn,
    ngx_uint_t exact, ngx_uint_t rcode, ngx_log_t *log)
{
    ngx_int_t             answers;
    ngx_uint_t            apex;
    ngx_cflb_dns_zone_t  *zone;

    zone = dn->zone;
    answers = 0;

    /* the apex answers SOA and NS itself, A and AAAA by a load balancer */
    apex = (exact && dn->apex
            && (q->qtype == CFLB_DNS_TYPE_SOA || q->qtype == CFLB_DNS_TYPE_NS
                || q->qtype == CFLB_DNS_TYPE_ANY));

    if (apex) {
        ngx_stream_cflb_dns_apex(w, zone, q->qtype);
    }

    if (exact && dn->lb && (!apex || q->qtype == CFLB_DNS_TYPE_ANY)) {

        if (dn->lb->dns->enabled) {
            ctx->qname = q->qname;
            answers = ngx_stream_cflb_dns_lb(ctx, w, &ctx->d, dn->lb, NULL,
                                             0, log);

        } else {
            /* disabled: counted, answered as a name that does not exist */
            ctx->lb = dn->lb;
            (void) ngx_atomic_fetch_add(&dn->lb->dns->sh->queries, 1);
            (void) ngx_atomic_fetch_add(&dn->lb->dns->sh->nxdomain, 1);
        }
    }

    if (answers == 0 && !apex) {
        ctx->nodata = (rcode == CFLB_DNS_NOERROR);
        (void) cflb_dns_add_soa(w, CFLB_DNS_AUTHORITY, zone->wire,
                                zone->soa.minimum, &zone->soa);
    }
}


/*
 * The client subnet (RFC 7871) keys hash steering and shedding in place
 * of the resolver's address, as the product does (ip.src is the subnet's
 * address); a source prefix of 0 asks for no such use (section 7.1.2).
 */

static void
ngx_stream_cflb_dns_subnet(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_query_t *q, struct sockaddr *client)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    ctx->client = client;
    ctx->resolver = client;
    ctx->ecs_family = q->ecs ? (uint8_t) q->ecs_family : 0;
    ctx->ecs_source = q->ecs_source;

    if (!q->ecs) {
        return;
    }

    ngx_memzero(&ctx->subnet, sizeof(ngx_sockaddr_t));

    if (q->ecs_family == CFLB_DNS_ECS_IPV4) {
        sin = &ctx->subnet.sockaddr_in;
        sin->sin_family = AF_INET;
        ngx_memcpy(&sin->sin_addr, q->ecs_addr, 4);

    } else {
#if (NGX_HAVE_INET6)
        sin6 = &ctx->subnet.sockaddr_in6;
        sin6->sin6_family = AF_INET6;
        ngx_memcpy(&sin6->sin6_addr, q->ecs_addr, 16);
#else
        return;
#endif
    }

    if (q->ecs_source) {
        ctx->client = &ctx->subnet.sockaddr;
    }
}


/*
 * The response code, known before the first record is written: a name
 * that exists (a load balancer's, the apex, a name with hostnames below
 * it) is NOERROR; a disabled load balancer's name is one that does not.
 */

static ngx_uint_t
ngx_stream_cflb_dns_rcode(ngx_cflb_dns_name_t *dn, size_t off)
{
    if (off > 0) {
        return CFLB_DNS_NXDOMAIN;
    }

    if (dn->apex || dn->below || dn->lb == NULL || dn->lb->dns->enabled) {
        return CFLB_DNS_NOERROR;
    }

    return CFLB_DNS_NXDOMAIN;
}


/* the apex's own records: SOA, NS, or both for ANY */

static void
ngx_stream_cflb_dns_apex(cflb_dns_writer_t *w, ngx_cflb_dns_zone_t *zone,
    ngx_uint_t qtype)
{
    u_char      **ns;
    ngx_uint_t    i;

    if (qtype != CFLB_DNS_TYPE_NS
        && cflb_dns_add_soa(w, CFLB_DNS_ANSWER, NULL, zone->ttl, &zone->soa)
           != CFLB_OK)
    {
        return;
    }

    if (qtype == CFLB_DNS_TYPE_SOA) {
        return;
    }

    ns = zone->ns.elts;

    for (i = 0; i < zone->ns.nelts; i++) {
        if (cflb_dns_add_ns(w, CFLB_DNS_ANSWER, NULL, zone->ttl, ns[i])
            != CFLB_OK)
        {
            return;
        }
    }
}


/*
 * A load balancer's answer, owned by owner (NULL: the question's name):
 * one decision, then its addresses or its CNAME, the CNAME followed when
 * it names another of our load balancers.  Returns the answer records
 * added (0: NODATA), and counts the query and what it got.
 */

static ngx_int_t
ngx_stream_cflb_dns_lb(ngx_stream_cflb_dns_ctx_t *ctx, cflb_dns_writer_t *w,
    ngx_cflb_decision_t *d, ngx_cflb_lb_t *lb, const u_char *owner,
    ngx_uint_t depth, ngx_log_t *log)
{
    ngx_int_t              n;
    ngx_uint_t             want;
    ngx_cflb_dns_lb_t     *dl;
    ngx_cflb_dns_rr_t     *rr;
    ngx_cflb_endpoint_t   *ep;
    ngx_cflb_dns_name_t   *dn;
    ngx_cflb_decision_t    chase;
    ngx_cflb_sh_dns_lb_t  *dsh;

    dl = lb->dns;
    dsh = dl->sh;

    (void) ngx_atomic_fetch_add(&dsh->queries, 1);

    if (depth == 0) {
        ctx->lb = lb;
    }

    ngx_stream_cflb_dns_decision(ctx, d, lb, depth);

    /*
     * Custom rules overlay d->view, its TTL (dns_ttl) included; a load
     * balancer without rules pays this test only.  Out of memory, the
     * query is answered by the load balancer's own view.
     */
    if (lb->rules && lb->rules->n) {
        (void) ngx_stream_cflb_dns_rules(ctx, d, lb, log);
    }

    ep = ngx_cflb_decide(d, log);

    /*
     * The scope of the ECS echo: the prefix the answer depended on.  The
     * subnet's place (located by it, as prefer_ecs allowed) or its hash
     * (a pool that hashes the client) used the whole source prefix;
     * random and priority choices, or a place found by the resolver's
     * address or this node's, hold for any subnet (scope 0).
     */

    if (d->in.subnet && (dl->keyed || ngx_stream_cflb_dns_located(d))) {
        ctx->scope = ctx->ecs_source;
    }

    if (ep == NULL) {
        (void) ngx_atomic_fetch_add(&dsh->nodata, 1);
        return 0;
    }

    rr = &dl->rrs[ngx_cflb_peer_index(d, ep)];

    if (rr->type == NGX_CFLB_DNS_RR_CNAME) {
        n = ngx_stream_cflb_dns_record(ctx, w, d, ep, owner);

        dn = cflb_dns_table_get(&lb->conf->dns->names, rr->data,
                                cflb_dns_name_len(rr->data));

        if (n > 0 && dn && dn->lb && dn->lb->dns->enabled
            && depth + 1 < NGX_CFLB_DNS_CHASE)
        {
            /* the target is ours: its records follow (RFC 1034 4.3.2) */
            (void) ngx_stream_cflb_dns_lb(ctx, w, &chase, dn->lb, rr->data,
                                          depth + 1, log);
        }

    } else {
        want = ngx_stream_cflb_dns_want(ctx->qtype);
        n = want ? ngx_stream_cflb_dns_addresses(ctx, w, d, ep, owner, want)
                 : 0;
    }

    if (n == 0) {
        (void) ngx_atomic_fetch_add(&dsh->nodata, 1);
        return 0;
    }

    (void) ngx_atomic_fetch_add(&dsh->answers, 1);

    /* counted unless the response is truncated in the end */
    ctx->counts[ctx->ncounts++] = ngx_cflb_dns_pool_count(dl,
                                                          d->entry->index);

    return n;
}


/*
 * A decision for a DNS query: weighted random where a policy needs a
 * load (the mode has none), keyed on the subnet or the resolver; the
 * load balancer asked first keeps a trace if the log wants one, a CNAME's
 * target has scratch space of its own.
 */

static void
ngx_stream_cflb_dns_decision(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_decision_t *d, ngx_cflb_lb_t *lb, ngx_uint_t depth)
{
    uintptr_t        *tried;
    ngx_cflb_sess_t  *sess;

    tried = depth ? ctx->chase_tried : ctx->tried;
    sess = depth ? ctx->chase_sess : ctx->sess;

    ngx_memzero(d, sizeof(ngx_cflb_decision_t));
    ngx_memzero(tried, ngx_stream_cflb_dns_words(lb->npeers)
                       * sizeof(uintptr_t));

    d->view = &lb->view;
    d->mode = CFLB_MODE_DNS;
    d->tried = tried;
    d->pool = ctx->qpool;

    /*
     * Location (geo, proximity) looks up the subnet's address or the
     * resolver's, as prefer_ecs says; hashing (endpoint_steering hash,
     * shedding's hash policy) keys on the subnet's address when there
     * is one, as the product does, whatever prefer_ecs says.
     */
    d->client = ctx->resolver;

    if (ctx->client != ctx->resolver) {
        d->in.subnet = ctx->client;
        d->key = ngx_cflb_client_key(ctx->client);
        d->key_set = 1;
    }

    if (lb->sess_size) {
        /* load shedding, or the trace record that carries it */
        ngx_memzero(sess, lb->sess_size);
        d->sess = sess;
        d->trace = (depth == 0 && ctx->trace);
    }
}


/*
 * Did the decision locate the client by the query's subnet: steering
 * asked where the client is, the view locates by client with a database,
 * and prefer_ecs lets the subnet count (ngx_cflb_locate()'s rule), found
 * in the database or not: either way the answer is the subnet's.
 */

static ngx_uint_t
ngx_stream_cflb_dns_located(ngx_cflb_decision_t *d)
{
    return d->located
           && d->view->locate != NGX_CFLB_LOCATE_POP
           && d->view->lb->conf->geo != NULL
           && ngx_cflb_locate_subnet(d);
}


/*
 * The addresses of the endpoint ep steering chose, of the families in
 * want: when every endpoint of its pool weighs the same, every one that
 * may serve, starting with ep; otherwise ep alone, or if it is of the
 * other family, another picked by weight among those of the family.
 */

static ngx_int_t
ngx_stream_cflb_dns_addresses(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_writer_t *w, ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep,
    const u_char *owner, ngx_uint_t want)
{
    ngx_int_t             added;
    ngx_uint_t            i, k, n, start, weight;
    ngx_cflb_dns_rr_t    *rrs;
    ngx_cflb_endpoint_t  *eps;

    eps = d->entry->pool->endpoints.elts;
    n = d->entry->pool->endpoints.nelts;
    rrs = &d->view->lb->dns->rrs[d->entry->base];

    weight = 0;

    for (i = 0; i < n; i++) {
        if (eps[i].weight == 0) {
            continue;
        }

        if (weight && eps[i].weight != weight) {
            break;
        }

        weight = eps[i].weight;
    }

    if (i < n) {
        if (!(want & ngx_stream_cflb_dns_bit(rrs[ep - eps].type))) {
            ep = ngx_stream_cflb_dns_family(d, want);
            if (ep == NULL) {
                return 0;
            }
        }

        return ngx_stream_cflb_dns_record(ctx, w, d, ep, owner);
    }

    start = ep - eps;
    added = 0;

    for (k = 0; k < n; k++) {
        i = (start + k < n) ? start + k : start + k - n;

        if (!ngx_stream_cflb_dns_usable(d, &eps[i])
            || !(want & ngx_stream_cflb_dns_bit(rrs[i].type)))
        {
            continue;
        }

        if (ngx_stream_cflb_dns_record(ctx, w, d, &eps[i], owner) == 0) {
            break;
        }

        added++;
    }

    return added;
}


/*
 * Another endpoint of the chosen pool, of a family in want: the others
 * are marked tried, so the pick is by weight among the rest.  Picking
 * first among all and again among the family when the first missed
 * gives each endpoint of the family w / (sum of the family's weights).
 */

static ngx_cflb_endpoint_t *
ngx_stream_cflb_dns_family(ngx_cflb_decision_t *d, ngx_uint_t want)
{
    ngx_uint_t            i, n;
    ngx_cflb_dns_rr_t    *rrs;
    ngx_cflb_endpoint_t  *ep;

    n = d->entry->pool->endpoints.nelts;
    rrs = &d->view->lb->dns->rrs[d->entry->base];

    for (i = 0; i < n; i++) {
        if (!(want & ngx_stream_cflb_dns_bit(rrs[i].type))) {
            ngx_cflb_set_tried(d, d->entry->base + i);
        }
    }

    ep = ngx_cflb_decide_next(d);

    if (ep) {
        d->last = ep;
    }

    return ep;
}


/* one answer record of ep; 1, or 0 when it did not fit (truncated) */

static ngx_int_t
ngx_stream_cflb_dns_record(ngx_stream_cflb_dns_ctx_t *ctx,
    cflb_dns_writer_t *w, ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep,
    const u_char *owner)
{
    int                 rc;
    uint32_t            ttl;
    ngx_uint_t          peer;
    ngx_cflb_lb_t      *lb;
    ngx_cflb_dns_rr_t  *rr;

    lb = d->view->lb;
    peer = ngx_cflb_peer_index(d, ep);
    rr = &lb->dns->rrs[peer];
    ttl = d->view->dns_ttl;

    switch (rr->type) {

    case NGX_CFLB_DNS_RR_A:
        rc = cflb_dns_add_a(w, CFLB_DNS_ANSWER, owner, ttl, rr->data);
        break;

    case NGX_CFLB_DNS_RR_AAAA:
        rc = cflb_dns_add_aaaa(w, CFLB_DNS_ANSWER, owner, ttl, rr->data);
        break;

    case NGX_CFLB_DNS_RR_CNAME:
        rc = cflb_dns_add_cname(w, CFLB_DNS_ANSWER, owner, ttl, rr->data);
        break;

    default:
        return 0;
    }

    if (rc != CFLB_OK) {
        return 0;
    }

    ctx->answered[ctx->nanswered] = ep;
    ctx->rrs[ctx->nanswered++] = rr;
    ctx->counts[ctx->ncounts++] = ngx_cflb_dns_peer_count(lb, peer);

    return 1;
}


/* what an answer of addresses holds for the query's type */

static ngx_uint_t
ngx_stream_cflb_dns_want(ngx_uint_t qtype)
{
    switch (qtype) {

    case CFLB_DNS_TYPE_A:
        return ngx_stream_cflb_dns_bit(NGX_CFLB_DNS_RR_A);

    case CFLB_DNS_TYPE_AAAA:
        return ngx_stream_cflb_dns_bit(NGX_CFLB_DNS_RR_AAAA);

    case CFLB_DNS_TYPE_ANY:
        /* a minimal answer (RFC 8482): the addresses of both families */
        return ngx_stream_cflb_dns_bit(NGX_CFLB_DNS_RR_A)
               | ngx_stream_cflb_dns_bit(NGX_CFLB_DNS_RR_AAAA);

    default:
        return 0;
    }
}


static void
ngx_stream_cflb_dns_count(ngx_stream_cflb_dns_ctx_t *ctx,
    ngx_cflb_sh_dns_t *shd)
{
    ngx_uint_t  i;

    (void) ngx_atomic_fetch_add(&shd->rcodes[ctx->rcode], 1);

    if (ctx->nodata) {
        (void) ngx_atomic_fetch_add(&shd->nodata, 1);
    }

    if (ctx->truncated) {
        /* the records went: the client asks again over TCP */
        (void) ngx_atomic_fetch_add(&shd->truncated, 1);
        return;
    }

    for (i = 0; i < ctx->ncounts; i++) {
        (void) ngx_atomic_fetch_add(ctx->counts[i], 1);
    }
}


void
ngx_stream_cflb_dns_variable(ngx_cflb_conf_t *ccf,
    ngx_stream_cflb_dns_ctx_t *ctx, ngx_pool_t *pool,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *s;

    if (ctx == NULL) {
        v->not_found = 1;
        return;
    }

    if (data >= NGX_CFLB_VAR_COUNTRY) {
        /* where the client is: the subnet's address, or the resolver's */
        ngx_cflb_variable(ccf, ctx->lb ? &ctx->d : NULL,
                          ctx->dropped ? NULL : ctx->client, pool, v, data);
        return;
    }

    switch (data) {

    case NGX_CFLB_VAR_TRACE:
        ngx_stream_cflb_dns_trace(ctx, pool, v);
        return;

    case NGX_CFLB_VAR_ENDPOINT:
    case NGX_CFLB_VAR_ENDPOINT_ADDR:
    case NGX_CFLB_VAR_ENDPOINT_NAME:
        /* what was answered is addresses: by name, $cflb_endpoint_name */
        ngx_stream_cflb_dns_list(ctx, pool, v,
                                 data != NGX_CFLB_VAR_ENDPOINT_NAME);
        return;

    case NGX_CFLB_VAR_LB:
        if (ctx->lb == NULL) {
            v->not_found = 1;
            return;
        }

        s = &ctx->lb->name;
        break;

    default: /* NGX_CFLB_VAR_POOL */
        if (ctx->nanswered == 0) {
            v->not_found = 1;
            return;
        }

        s = &ctx->answered[0]->pool->name;
        break;
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/* the endpoints answered, by name or by address, comma-separated */

static void
ngx_stream_cflb_dns_list(ngx_stream_cflb_dns_ctx_t *ctx, ngx_pool_t *pool,
    ngx_stream_variable_value_t *v, ngx_uint_t addr)
{
    u_char      *p;
    size_t       len;
    ngx_str_t   *s;
    ngx_uint_t   i;

    if (ctx->nanswered == 0) {
        v->not_found = 1;
        return;
    }

    len = 0;

    for (i = 0; i < ctx->nanswered; i++) {
        len += (addr ? ctx->rrs[i]->text.len : ctx->answered[i]->name.len)
               + 1;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        v->not_found = 1;
        return;
    }

    v->data = p;

    for (i = 0; i < ctx->nanswered; i++) {
        s = addr ? &ctx->rrs[i]->text : &ctx->answered[i]->name;

        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, s->data, s->len);
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/*
 * The decision's trace (docs/trace.md), or "lb=- pool=- endpoint=-"
 * when no load balancer was asked, then the query's keys:
 *
 *   ... qtype=A rcode=NOERROR answer=us/a,us/b ecs=192.0.2.0/24 scope=0
 */

static void
ngx_stream_cflb_dns_trace(ngx_stream_cflb_dns_ctx_t *ctx, ngx_pool_t *pool,
    ngx_stream_variable_value_t *v)
{
    u_char                       *p;
    size_t                        len;
    ngx_str_t                     base;
    ngx_uint_t                    i;
    ngx_stream_variable_value_t   tv;

    ngx_memzero(&tv, sizeof(ngx_stream_variable_value_t));

    if (ctx->lb && ctx->d.trace) {
        ngx_cflb_variable(ctx->d.view->lb->conf, &ctx->d, ctx->client, pool,
                          &tv, NGX_CFLB_VAR_TRACE);
    }

    if (tv.valid) {
        base.data = tv.data;
        base.len = tv.len;

    } else {
        ngx_str_set(&base, "lb=- pool=- endpoint=-");
    }

    len = base.len + sizeof(" qtype=TYPE65535 rcode=NXDOMAIN answer=")
          + sizeof(" ecs=") + NGX_INET6_ADDRSTRLEN + sizeof("/128 scope=128")
          + 3 * (ctx->lb ? ctx->lb->name.len : 0);

    for (i = 0; i < ctx->nanswered; i++) {
        len += 3 * (ctx->answered[i]->pool->name.len
                    + ctx->answered[i]->name.len) + 2;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        v->not_found = 1;
        return;
    }

    v->data = p;

    if (!tv.valid && ctx->lb) {
        p = ngx_cpymem(p, "lb=", 3);
        p = ngx_cflb_trace_name(p, &ctx->lb->name);
        p = ngx_cpymem(p, " pool=- endpoint=-", 18);

    } else {
        p = ngx_cpymem(p, base.data, base.len);
    }

    if (ctx->dropped) {
        p = ngx_cpymem(p, " qtype=- rcode=- answer=-", 25);
        goto done;
    }

    p = ngx_cpymem(p, " qtype=", 7);
    p = ngx_stream_cflb_dns_type(p, ctx->qtype);
    p = ngx_sprintf(p, " rcode=%s answer=",
                    ngx_stream_cflb_dns_rcodes[ctx->rcode]);

    for (i = 0; i < ctx->nanswered; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cflb_trace_name(p, &ctx->answered[i]->pool->name);
        *p++ = '/';
        p = ngx_cflb_trace_name(p, &ctx->answered[i]->name);
    }

    if (ctx->nanswered == 0) {
        *p++ = '-';
    }

    if (ctx->ecs_family) {
        p = ngx_cpymem(p, " ecs=", 5);
        p += ngx_inet_ntop(ctx->ecs_family == CFLB_DNS_ECS_IPV4
                           ? AF_INET : AF_INET6,
                           ctx->ecs_family == CFLB_DNS_ECS_IPV4
                           ? (void *) &ctx->subnet.sockaddr_in.sin_addr
                           : (void *) &ctx->subnet.sockaddr_in6.sin6_addr,
                           p, NGX_INET6_ADDRSTRLEN);
        p = ngx_sprintf(p, "/%ui scope=%ui", (ngx_uint_t) ctx->ecs_source,
                        (ngx_uint_t) ctx->scope);
    }

done:

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/* the mnemonic of the common types, else TYPEn (RFC 3597 section 5) */

static u_char *
ngx_stream_cflb_dns_type(u_char *p, ngx_uint_t qtype)
{
    switch (qtype) {

    case CFLB_DNS_TYPE_A:
        return ngx_cpymem(p, "A", 1);

    case CFLB_DNS_TYPE_NS:
        return ngx_cpymem(p, "NS", 2);

    case CFLB_DNS_TYPE_CNAME:
        return ngx_cpymem(p, "CNAME", 5);

    case CFLB_DNS_TYPE_SOA:
        return ngx_cpymem(p, "SOA", 3);

    case CFLB_DNS_TYPE_MX:
        return ngx_cpymem(p, "MX", 2);

    case CFLB_DNS_TYPE_TXT:
        return ngx_cpymem(p, "TXT", 3);

    case CFLB_DNS_TYPE_AAAA:
        return ngx_cpymem(p, "AAAA", 4);

    case CFLB_DNS_TYPE_ANY:
        return ngx_cpymem(p, "ANY", 3);

    default:
        return ngx_sprintf(p, "TYPE%ui", qtype);
    }
}
