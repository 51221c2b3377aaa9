
/*
 * What a decision tells, as variables: $cflb_lb, $cflb_pool,
 * $cflb_endpoint, $cflb_endpoint_addr, and $cflb_trace, why a request
 * went where it went, as one line for access logs (docs/trace.md has the
 * grammar).  The decision engine and affinity record their reasons here
 * as they decide, only for configurations that use the variable:
 * ngx_cflb_trace_init() gives their requests a trace record, every other
 * request has none and pays one flag test.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_trace.h"
#include "ngx_cflb_location.h"
#include "ngx_cflb_rules.h"


#define NGX_CFLB_WORD_MAX  32      /* the longest word of a trace, and more */


static u_char *ngx_cflb_trace_skips(u_char *p, ngx_cflb_trace_t *tr);
static u_char *ngx_cflb_trace_quorum(u_char *p, ngx_cflb_trace_t *tr);
static ngx_uint_t ngx_cflb_trace_overruled(ngx_cflb_endpoint_t *ep);
static u_char *ngx_cflb_trace_how(u_char *p, ngx_uint_t how,
    ngx_int_t policy);
static u_char *ngx_cflb_trace_ep(u_char *p, ngx_cflb_endpoint_t *ep);
static u_char *ngx_cflb_trace_where(u_char *p, ngx_cflb_decision_t *d,
    ngx_cflb_pool_t *pool);
static void ngx_cflb_trace_variable(ngx_cflb_decision_t *d,
    ngx_pool_t *pool, ngx_variable_value_t *v);
static void ngx_cflb_client_variable(ngx_cflb_conf_t *ccf,
    ngx_cflb_decision_t *d, struct sockaddr *client, ngx_pool_t *pool,
    ngx_variable_value_t *v, uintptr_t data);


#define ngx_cflb_trace_word(p, w)  ngx_cpymem(p, (w)->data, (w)->len)


static const u_char  ngx_cflb_hex[] = "0123456789ABCDEF";

/* the bytes a name keeps as they are: letters, digits and "-._~" */
static const uint32_t  ngx_cflb_plain[] = {
    0x00000000,                    /* 0x00 .. 0x1f */
    0x03ff6000,                    /* "-", ".", "0" .. "9" */
    0x87fffffe,                    /* "A" .. "Z", "_" */
    0x47fffffe,                    /* "a" .. "z", "~" */
    0, 0, 0, 0
};

/* by NGX_CFLB_SKIP_* */
static const ngx_str_t  ngx_cflb_skip_words[] = {
    ngx_null_string, ngx_string(":disabled"), ngx_string(":critical"),
    ngx_string(":shed"), ngx_string(":exhausted"), ngx_string(":weight0"),
    ngx_string(":unhealthy"), ngx_string(":tried"), ngx_string(":draining"),
    ngx_string(":failing"), ngx_string(":dns")
};

/* by NGX_CFLB_HOW_* (NGX_CFLB_HOW_STEERING is the policy's name) */
static const ngx_str_t  ngx_cflb_how_words[] = {
    ngx_null_string, ngx_string("(fallback)"), ngx_string("(affinity)"),
    ngx_string("(ip_cookie)"), ngx_string("(session_key)")
};

/* by NGX_CFLB_AFF_* */
static const ngx_str_t  ngx_cflb_affinity_words[] = {
    ngx_string("none"), ngx_string("new"), ngx_string("resumed"),
    ngx_string("invalid"), ngx_string("expired"), ngx_string("unknown"),
    ngx_string("unusable"), ngx_string("shed")
};


void
ngx_cflb_trace_init(ngx_cflb_conf_t *ccf)
{
    size_t           n;
    ngx_uint_t       i;
    ngx_cflb_lb_t  **lbs;

    n = 8 * sizeof(uintptr_t);
    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        lbs[i]->sess_size = offsetof(ngx_cflb_trace_t, seen)
                            + ngx_max((lbs[i]->npeers + n - 1) / n, 1)
                              * sizeof(uintptr_t);
    }
}


const ngx_cflb_var_t  ngx_cflb_variables[] = {
    { ngx_string("cflb_lb"), NGX_CFLB_VAR_LB, 0 },
    { ngx_string("cflb_pool"), NGX_CFLB_VAR_POOL, 0 },
    { ngx_string("cflb_endpoint"), NGX_CFLB_VAR_ENDPOINT, 0 },
    { ngx_string("cflb_endpoint_addr"), NGX_CFLB_VAR_ENDPOINT_ADDR, 0 },
    { ngx_string("cflb_endpoint_name"), NGX_CFLB_VAR_ENDPOINT_NAME, 0 },
    { ngx_string("cflb_trace"), NGX_CFLB_VAR_TRACE, 0 },
    { ngx_string("cflb_client_country"), NGX_CFLB_VAR_COUNTRY, 1 },
    { ngx_string("cflb_client_region"), NGX_CFLB_VAR_REGION, 1 },
    { ngx_string("cflb_client_asn"), NGX_CFLB_VAR_ASN, 1 },
    { ngx_null_string, 0, 0 }
};


void
ngx_cflb_variable(ngx_cflb_conf_t *ccf, ngx_cflb_decision_t *d,
    struct sockaddr *client, ngx_pool_t *pool, ngx_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t            *s;
    ngx_cflb_endpoint_t  *ep;

    if (data == NGX_CFLB_VAR_TRACE) {
        ngx_cflb_trace_variable(d, pool, v);
        return;
    }

    if (data >= NGX_CFLB_VAR_COUNTRY) {
        ngx_cflb_client_variable(ccf, d, client, pool, v, data);
        return;
    }

    if (d == NULL || d->last == NULL) {
        v->not_found = 1;
        return;
    }

    ep = d->last;

    switch (data) {

    case NGX_CFLB_VAR_LB:
        s = &d->view->lb->name;
        break;

    case NGX_CFLB_VAR_POOL:
        s = &ep->pool->name;
        break;

    case NGX_CFLB_VAR_ENDPOINT:
    case NGX_CFLB_VAR_ENDPOINT_NAME:
        s = &ep->name;
        break;

    default: /* NGX_CFLB_VAR_ENDPOINT_ADDR: the one connected to */
        s = (!ep->direct && d->addr) ? d->addr : &ep->addr.name;
        break;
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/*
 * $cflb_client_country, _region, _asn: the client's address in the
 * databases; empty when unknown or without cflb_geoip2.
 */

static void
ngx_cflb_client_variable(ngx_cflb_conf_t *ccf, ngx_cflb_decision_t *d,
    struct sockaddr *client, ngx_pool_t *pool, ngx_variable_value_t *v,
    uintptr_t data)
{
    u_char            *p;
    unsigned char      cc[2];
    cflb_location_t    loc;
    ngx_cflb_place_t  *place;

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->len = 0;
    v->data = (u_char *) "";

    if (client == NULL || ccf->geo == NULL) {
        return;
    }

    /* the client's place as steering found it, or as kept or looked up */
    if (d && d->located && d->place && !d->place->pop && !d->place->subnet) {
        place = d->place;

    } else {
        place = ngx_cflb_client_place(ccf, client,
                                      d ? ngx_cflb_cpool(d) : NULL, pool);
    }

    if (place == NULL) {
        return;
    }

    loc = place->location;

    p = ngx_pnalloc(pool, NGX_INT32_LEN);
    if (p == NULL) {
        return;
    }

    v->data = p;

    switch (data) {

    case NGX_CFLB_VAR_COUNTRY:
        if (loc.country != CFLB_COUNTRY_NONE) {
            cflb_country_code(loc.country, cc);
            p = ngx_sprintf(p, "%c%c", cc[0], cc[1]);
        }

        break;

    case NGX_CFLB_VAR_REGION:
        if (loc.region < CFLB_NREGIONS) {
            p = ngx_sprintf(p, "%s", cflb_region_name(loc.region));
        }

        break;

    default: /* NGX_CFLB_VAR_ASN */
        if (loc.asn) {
            p = ngx_sprintf(p, "%uD", loc.asn);
        }
    }

    v->len = p - v->data;
}


ngx_flag_t
ngx_cflb_variable_used(ngx_array_t *vars, size_t size, const ngx_str_t *name)
{
    u_char      *elt;
    ngx_str_t   *vname;
    ngx_uint_t   i;

    elt = vars->elts;

    for (i = 0; i < vars->nelts; i++, elt += size) {
        vname = (ngx_str_t *) elt;

        if (vname->len == name->len
            && ngx_strncmp(vname->data, name->data, name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * How the choice was made follows from the state it left: the session's
 * endpoint, the fallback's, or steering's (by the client address for
 * ip_cookie).  A retry inside the same pool keeps how the pool came.
 */

void
ngx_cflb_trace_pick(ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep)
{
    ngx_uint_t         how;
    ngx_cflb_trace_t  *tr;

    tr = ngx_cflb_trace(d);

    if (d->retry) {
        tr->failed = d->last;
    }

    how = !d->ip_pick ? NGX_CFLB_HOW_STEERING
          : (d->view->affinity->mode == NGX_CFLB_AFFINITY_HEADER)
            ? NGX_CFLB_HOW_SESSION_KEY : NGX_CFLB_HOW_IP_COOKIE;

    if (ep == NULL) {
        /* nothing */

    } else if (ep == d->sess->pinned) {
        tr->pool_how = NGX_CFLB_HOW_AFFINITY;
        how = NGX_CFLB_HOW_AFFINITY;

    } else if (d->fallback) {
        tr->pool_how = NGX_CFLB_HOW_FALLBACK;

    } else if (!d->retry || tr->ep == NULL || tr->ep->pool != ep->pool) {
        tr->pool_how = how;
    }

    tr->ep = ep;
    tr->ep_how = how;
}


static void
ngx_cflb_trace_add(ngx_cflb_trace_t *tr, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_uint_t reason)
{
    ngx_cflb_skip_t  *sk;

    if (tr->nskips < NGX_CFLB_TRACE_SKIPS) {
        sk = &tr->skips[tr->nskips];
        sk->pool = pool;
        sk->ep = ep;
        sk->reason = reason;
    }

    tr->nskips++;
}


/* once per request and candidate: pick() may ask about one many times */

int
ngx_cflb_trace_pool(ngx_cflb_decision_t *d, ngx_cflb_lb_pool_t *entry,
    ngx_uint_t reason)
{
    uint64_t           bit;
    ngx_cflb_trace_t  *tr;

    tr = ngx_cflb_trace(d);
    bit = (uint64_t) 1 << entry->index;

    if (!(tr->pools_seen & bit)) {
        tr->pools_seen |= bit;
        ngx_cflb_trace_add(tr, entry->pool, NULL, reason);
    }

    return 0;
}


int
ngx_cflb_trace_endpoint(ngx_cflb_decision_t *d, ngx_uint_t i,
    ngx_uint_t reason)
{
    uintptr_t             bit, *word;
    ngx_uint_t            n;
    ngx_cflb_trace_t     *tr;
    ngx_cflb_endpoint_t  *ep;

    tr = ngx_cflb_trace(d);
    n = d->entry->base + i;
    word = &tr->seen[n / (8 * sizeof(uintptr_t))];
    bit = (uintptr_t) 1 << n % (8 * sizeof(uintptr_t));

    if (*word & bit) {
        return 0;
    }

    *word |= bit;

    ep = (ngx_cflb_endpoint_t *) d->entry->pool->endpoints.elts + i;

    if (reason == NGX_CFLB_SKIP_DISABLED
        && ep->sh->disabled_at
        && ngx_time() < ep->sh->disabled_at + d->view->affinity->drain)
    {
        /* its sessions may still reach it, new requests may not */
        reason = NGX_CFLB_SKIP_DRAINING;
    }

    ngx_cflb_trace_add(tr, ep->pool, ep, reason);

    return 0;
}


/*
 * lb=www rules=blog,api affinity=cookie:resumed pool=eu(affinity)
 * endpoint=eu/a(affinity) skipped=us:critical,eu/b:unhealthy,+2
 * retry=eu/c:failed; or lb=www rules=down fixed=503
 */

static void
ngx_cflb_trace_variable(ngx_cflb_decision_t *d, ngx_pool_t *pool,
    ngx_variable_value_t *v)
{
    u_char               *p;
    size_t                len;
    ngx_str_t            *mode;
    ngx_uint_t            i, n;
    ngx_cflb_lb_t        *lb;
    ngx_cflb_skip_t      *sk;
    ngx_cflb_trace_t     *tr;
    ngx_cflb_affinity_t  *a;

    if (d == NULL || !d->trace) {
        v->not_found = 1;
        return;
    }

    lb = d->view->lb;
    a = d->view->affinity;
    tr = ngx_cflb_trace(d);

    /* every name may triple when escaped; the words are bounded */
    len = 3 * (lb->name.len + lb->conf->node.pop.len)
          + 6 * NGX_CFLB_WORD_MAX + NGX_INT_T_LEN;

    n = ngx_min(tr->nskips, NGX_CFLB_TRACE_SKIPS);
    sk = tr->skips;

    /* a skipped endpoint may be named again in "quorum" */
    for (i = 0; i < n; i++) {
        len += 3 * (sk[i].pool->name.len + 1) + NGX_CFLB_WORD_MAX;

        if (sk[i].ep) {
            len += 3 * (sk[i].pool->name.len + 2 * sk[i].ep->name.len)
                   + NGX_CFLB_WORD_MAX;
        }
    }

    if (tr->ep) {
        len += 3 * (3 * tr->ep->pool->name.len + 2 * tr->ep->name.len)
               + NGX_CFLB_WORD_MAX;
    }

    if (tr->failed) {
        len += 3 * (tr->failed->pool->name.len + tr->failed->name.len);
    }

    len += sizeof(" rules= fixed=") + NGX_INT_T_LEN;

    for (i = 0; i < tr->nrules; i++) {
        len += 3 * tr->rules[i]->name.len + 1;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        v->not_found = 1;
        return;
    }

    v->data = p;

    p = ngx_cpymem(p, "lb=", 3);
    p = ngx_cflb_trace_name(p, &lb->name);

    for (i = 0; i < tr->nrules; i++) {
        p = i ? ngx_cpymem(p, ",", 1) : ngx_cpymem(p, " rules=", 7);
        p = ngx_cflb_trace_name(p, &tr->rules[i]->name);
    }

    if (tr->fixed) {
        /* a rule's fixed_response answered: no pool was asked */
        p = ngx_sprintf(p, " fixed=%ui", tr->fixed);
        goto done;
    }

    if (a->mode != NGX_CFLB_AFFINITY_NONE) {
        mode = &ngx_cflb_affinity_modes[a->mode].name;
        p = ngx_cpymem(p, " affinity=", 10);
        p = ngx_cflb_trace_word(p, mode);
        *p++ = ':';
        p = ngx_cflb_trace_word(p, &ngx_cflb_affinity_words[tr->affinity]);
    }

    if (tr->ep) {
        p = ngx_cpymem(p, " pool=", 6);
        p = ngx_cflb_trace_name(p, &tr->ep->pool->name);
        p = (tr->pool_how == NGX_CFLB_HOW_STEERING)
            ? ngx_cflb_trace_where(p, d, tr->ep->pool)
            : ngx_cflb_trace_how(p, tr->pool_how, d->view->pools->policy);
        p = ngx_cpymem(p, " endpoint=", 10);
        p = ngx_cflb_trace_ep(p, tr->ep);
        p = ngx_cflb_trace_how(p, tr->ep_how, tr->ep->pool->policy);

    } else {
        p = ngx_cpymem(p, " pool=- endpoint=-", 18);
    }

    p = ngx_cflb_trace_skips(p, tr);

    if (tr->failed) {
        p = ngx_cpymem(p, " retry=", 7);
        p = ngx_cflb_trace_ep(p, tr->failed);
        p = ngx_cpymem(p, ":failed", 7);
    }

    p = ngx_cflb_trace_quorum(p, tr);

done:

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/* " skipped=us:critical,eu/b:unhealthy,+2", or nothing */

static u_char *
ngx_cflb_trace_skips(u_char *p, ngx_cflb_trace_t *tr)
{
    ngx_uint_t        i, n;
    ngx_cflb_skip_t  *sk;

    if (tr->nskips == 0) {
        return p;
    }

    p = ngx_cpymem(p, " skipped=", 9);

    n = ngx_min(tr->nskips, NGX_CFLB_TRACE_SKIPS);
    sk = tr->skips;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        if (sk[i].ep) {
            p = ngx_cflb_trace_ep(p, sk[i].ep);

        } else {
            p = ngx_cflb_trace_name(p, &sk[i].pool->name);
        }

        p = ngx_cflb_trace_word(p, &ngx_cflb_skip_words[sk[i].reason]);
    }

    if (tr->nskips > n) {
        p = ngx_sprintf(p, ",+%ui", tr->nskips - n);
    }

    return p;
}


/*
 * " quorum=eu/a:healthy,eu/b:unhealthy": the endpoints chosen or left
 * out as unhealthy whose health the fleet's votes decided against this
 * node's own probes ("quorum majority"), with the fleet's verdict.
 */

static u_char *
ngx_cflb_trace_quorum(u_char *p, ngx_cflb_trace_t *tr)
{
    ngx_uint_t            i, n, k, v;
    ngx_cflb_endpoint_t  *ep;

    n = ngx_min(tr->nskips, NGX_CFLB_TRACE_SKIPS);
    k = 0;

    for (i = 0; i <= n; i++) {
        ep = (i == n) ? tr->ep
             : (tr->skips[i].reason == NGX_CFLB_SKIP_UNHEALTHY)
               ? tr->skips[i].ep : NULL;

        if (ep == NULL) {
            continue;
        }

        v = ngx_cflb_trace_overruled(ep);

        if (v == 0) {
            continue;
        }

        if (k++ == 0) {
            p = ngx_cpymem(p, " quorum=", 8);

        } else {
            *p++ = ',';
        }

        p = ngx_cflb_trace_ep(p, ep);
        p = (v == CFLB_VOTE_UP) ? ngx_cpymem(p, ":healthy", 8)
                                : ngx_cpymem(p, ":unhealthy", 10);
    }

    return p;
}


/* the fleet's verdict on ep when it is not this node's, else 0 */

static ngx_uint_t
ngx_cflb_trace_overruled(ngx_cflb_endpoint_t *ep)
{
    cflb_health_t        local, health;
    ngx_cflb_monitor_t  *mon;

    mon = ep->pool->monitor;

    if (mon == NULL || mon->quorum != NGX_CFLB_QUORUM_MAJORITY) {
        return 0;
    }

    /* read without the lock: the line is a report, not a decision */
    local = ep->sh->local;
    health = ep->sh->health;

    if (!local.known || !health.known || local.healthy == health.healthy) {
        return 0;
    }

    return health.healthy ? CFLB_VOTE_UP : CFLB_VOTE_DOWN;
}


/* "(priority)", "(random)", "(fallback)"... */

static u_char *
ngx_cflb_trace_how(u_char *p, ngx_uint_t how, ngx_int_t policy)
{
    const char  *name;

    if (how != NGX_CFLB_HOW_STEERING) {
        return ngx_cflb_trace_word(p, &ngx_cflb_how_words[how]);
    }

    if (policy == CFLB_STEER_OFF) {
        return ngx_cpymem(p, "(priority)", 10);
    }

    name = cflb_steer_ops(policy)->name;

    *p++ = '(';
    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = ')';

    return p;
}


/*
 * How traffic steering chose the pool, with what location steering went
 * by: "(geo:country=DE)", "(proximity:812km)", "(dynamic:23ms)"; the
 * others as ngx_cflb_trace_how() says.
 */

static u_char *
ngx_cflb_trace_where(u_char *p, ngx_cflb_decision_t *d, ngx_cflb_pool_t *pool)
{
    ngx_int_t          policy;
    cflb_geo_vec_t    *where;
    ngx_cflb_place_t  *place;
    unsigned char      cc[2];

    policy = d->view->pools->policy;
    place = d->place;

    switch (policy) {

    case CFLB_STEER_GEO:
        switch (d->geo) {

        case NGX_CFLB_GEO_POP:
            p = ngx_cpymem(p, "(geo:pop=", 9);
            p = ngx_cflb_trace_name(p, &d->view->lb->conf->node.pop);
            *p++ = ')';
            return p;

        case NGX_CFLB_GEO_COUNTRY:
            cflb_country_code(place->location.country, cc);
            return ngx_sprintf(p, "(geo:country=%c%c)", cc[0], cc[1]);

        case NGX_CFLB_GEO_REGION:
            return ngx_sprintf(p, "(geo:region=%s)",
                               cflb_region_name(place->location.region));

        default:
            return ngx_cpymem(p, "(geo)", 5);
        }

    case CFLB_STEER_PROXIMITY:
        where = place ? ngx_cflb_place_where(place) : NULL;

        if (where) {
            return ngx_sprintf(p, "(proximity:%uikm)", (ngx_uint_t)
                               (cflb_geo_km(cflb_geo_dot(where, &pool->where))
                                + 0.5));
        }

        return ngx_cpymem(p, "(proximity)", 11);

    case CFLB_STEER_DYNAMIC:
        if (pool->monitor && pool->sh->rtt) {
            return ngx_sprintf(p, "(dynamic:%uims)",
                               (ngx_uint_t) (pool->sh->rtt + 500) / 1000);
        }

        return ngx_cpymem(p, "(dynamic)", 9);

    default:
        return ngx_cflb_trace_how(p, NGX_CFLB_HOW_STEERING, policy);
    }
}


static u_char *
ngx_cflb_trace_ep(u_char *p, ngx_cflb_endpoint_t *ep)
{
    p = ngx_cflb_trace_name(p, &ep->pool->name);
    *p++ = '/';

    return ngx_cflb_trace_name(p, &ep->name);
}


/*
 * A name as is when it holds only letters, digits and "-._~"; any other
 * byte (a space, or one of "=,:/()%+" the grammar uses) as %XX.
 */

u_char *
ngx_cflb_trace_name(u_char *p, ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (ngx_cflb_plain[c >> 5] & (1U << (c & 0x1f))) {
            *p++ = c;
            continue;
        }

        *p++ = '%';
        *p++ = ngx_cflb_hex[c >> 4];
        *p++ = ngx_cflb_hex[c & 0xf];
    }

    return p;
}
