
/*
 * Custom rules in http: the request's fields, and where the rules run.
 * They run at init_peer, as the upstream starts, unless the precontent
 * handler (ngx_http_cflb_phase.c) needs them sooner: for a load balancer
 * with a fixed_response, so that the response answers the client itself,
 * and when it checks whether anything can serve the request (HTTP 530);
 * the view they made waits in the module's context for init_peer.  A
 * proxy_pass with variables names its upstream only at init_peer: the
 * rules run there, and a fixed_response cannot answer (said in the
 * log).  Fields are fetched when a condition first needs them; the cache
 * and the input live on the evaluating function's stack.
 */

#include "ngx_http_cflb.h"
#include "ngx_cflb_conf.h"


enum {
    NGX_HTTP_CFLB_HOST = NGX_CFLB_FIELD_OWN,
    NGX_HTTP_CFLB_COOKIE,
    NGX_HTTP_CFLB_REFERER,
    NGX_HTTP_CFLB_USER_AGENT,
    NGX_HTTP_CFLB_METHOD,
    NGX_HTTP_CFLB_URI,
    NGX_HTTP_CFLB_PATH,
    NGX_HTTP_CFLB_QUERY,
    NGX_HTTP_CFLB_ARGS,
    NGX_HTTP_CFLB_ARG_NAMES,
    NGX_HTTP_CFLB_ARG_VALUES,
    NGX_HTTP_CFLB_HEADERS,
    NGX_HTTP_CFLB_HEADER_NAMES,
    NGX_HTTP_CFLB_HEADER_VALUES,
    NGX_HTTP_CFLB_VERSION,
    NGX_HTTP_CFLB_TIMESTAMP,
    NGX_HTTP_CFLB_SSL
};


/*
 * The fields, those conditions name most first: a request readies the
 * cache for the fields up to the last one its load balancer's rules name
 * (ngx_cflb_rules_nslots()).
 */
static const cflb_rules_field_t  ngx_http_cflb_fields[] = {
    { "http.request.uri.path", CFLB_RULES_BYTES, NGX_HTTP_CFLB_PATH },
    { "http.host", CFLB_RULES_BYTES, NGX_HTTP_CFLB_HOST },
    { "http.request.method", CFLB_RULES_BYTES, NGX_HTTP_CFLB_METHOD },
    { "ip.src", CFLB_RULES_IP, NGX_CFLB_FIELD_IP_SRC },
    { "http.request.headers", CFLB_RULES_MAP_BYTES, NGX_HTTP_CFLB_HEADERS },
    { "http.request.uri", CFLB_RULES_BYTES, NGX_HTTP_CFLB_URI },
    { "http.request.uri.query", CFLB_RULES_BYTES, NGX_HTTP_CFLB_QUERY },
    { "http.cookie", CFLB_RULES_BYTES, NGX_HTTP_CFLB_COOKIE },
    { "http.user_agent", CFLB_RULES_BYTES, NGX_HTTP_CFLB_USER_AGENT },
    { "http.request.uri.args", CFLB_RULES_MAP_BYTES, NGX_HTTP_CFLB_ARGS },
    { "ip.src.country", CFLB_RULES_BYTES, NGX_CFLB_FIELD_COUNTRY },
    { "http.referer", CFLB_RULES_BYTES, NGX_HTTP_CFLB_REFERER },
    { "ssl", CFLB_RULES_BOOL, NGX_HTTP_CFLB_SSL },
    { "ip.src.asnum", CFLB_RULES_INT, NGX_CFLB_FIELD_ASNUM },
    { "http.request.uri.args.names", CFLB_RULES_ARRAY_BYTES,
      NGX_HTTP_CFLB_ARG_NAMES },
    { "http.request.uri.args.values", CFLB_RULES_ARRAY_BYTES,
      NGX_HTTP_CFLB_ARG_VALUES },
    { "http.request.headers.names", CFLB_RULES_ARRAY_BYTES,
      NGX_HTTP_CFLB_HEADER_NAMES },
    { "http.request.headers.values", CFLB_RULES_ARRAY_BYTES,
      NGX_HTTP_CFLB_HEADER_VALUES },
    { "http.request.version", CFLB_RULES_BYTES, NGX_HTTP_CFLB_VERSION },
    { "http.request.timestamp.sec", CFLB_RULES_INT,
      NGX_HTTP_CFLB_TIMESTAMP },
    { "cf.load_balancer.name", CFLB_RULES_BYTES, NGX_CFLB_FIELD_LB_NAME },
    { "cf.load_balancer.region", CFLB_RULES_BYTES,
      NGX_CFLB_FIELD_LB_REGION },
    { "cf.edge.server_port", CFLB_RULES_INT, NGX_CFLB_FIELD_PORT }
};

#define NGX_HTTP_CFLB_NFIELDS                                                 \
    (sizeof(ngx_http_cflb_fields) / sizeof(cflb_rules_field_t))


/*
 * The modules whose location conf starts with an ngx_http_upstream_conf_t
 * (its first field the upstream), and which inherit it only into the
 * "if" and "limit_except" blocks of their location (as nginx 1.22 merges
 * them): a location whose conf of one of them has an upstream proxies
 * to it.
 */
static char  *ngx_http_cflb_passes[] = {
    "ngx_http_proxy_module",
    "ngx_http_grpc_module",
    "ngx_http_fastcgi_module",
    "ngx_http_uwsgi_module",
    "ngx_http_scgi_module",
    NULL
};


/* the fields of one request, as the callbacks see them */
typedef struct {
    ngx_cflb_rules_req_t      rq;            /* must be first */
    ngx_http_request_t       *r;
    cflb_str_t               *args;          /* name, value, name, ... */
    ngx_uint_t                nargs;         /* pairs */
    unsigned                  parsed:1;      /* args are */
} ngx_http_cflb_rules_ctx_t;


static ngx_int_t ngx_http_cflb_rules_eval(ngx_http_request_t *r,
    ngx_cflb_lb_t *lb, ngx_cflb_rules_outcome_t *out);
static ngx_int_t ngx_http_cflb_fixed(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_ruled_t *rd);
static void ngx_http_cflb_fixed_trace(ngx_http_request_t *r,
    ngx_cflb_lb_t *lb, ngx_http_cflb_ruled_t *rd);
static int ngx_http_cflb_get(void *ctx, unsigned id, cflb_rules_value_t *v);
static int ngx_http_cflb_get_own(ngx_http_cflb_rules_ctx_t *hc, unsigned id,
    cflb_rules_value_t *v);
static int ngx_http_cflb_get_uri(ngx_http_cflb_rules_ctx_t *hc, unsigned id,
    cflb_rules_value_t *v);
static int ngx_http_cflb_lookup(void *ctx, unsigned id,
    const unsigned char *key, size_t len, cflb_rules_value_t *v);
static int ngx_http_cflb_arg(ngx_http_cflb_rules_ctx_t *hc,
    const unsigned char *key, size_t len, cflb_rules_value_t *v);
static ngx_table_elt_t *ngx_http_cflb_next_header(ngx_list_part_t **part,
    ngx_uint_t *i, const u_char *name, size_t len);
static int ngx_http_cflb_header(ngx_http_request_t *r, ngx_table_elt_t *h,
    cflb_rules_value_t *v);
static int ngx_http_cflb_cookie_field(ngx_http_request_t *r,
    cflb_rules_value_t *v);
static int ngx_http_cflb_headers(ngx_http_request_t *r, unsigned id,
    cflb_rules_value_t *v);
static int ngx_http_cflb_args(ngx_http_cflb_rules_ctx_t *hc, unsigned id,
    cflb_rules_value_t *v);
static ngx_int_t ngx_http_cflb_parse_args(ngx_http_cflb_rules_ctx_t *hc);
static int ngx_http_cflb_version(ngx_http_request_t *r,
    cflb_rules_value_t *v);


#define ngx_http_cflb_str(v, str)                                             \
    ((v)->u.s.data = (str)->data, (v)->u.s.len = (str)->len, CFLB_OK)

/* a request header named name, in any case; deleted ones have hash 0 */
#define ngx_http_cflb_header_is(h, name, len)                                 \
    ((h)->key.len == (len) && (h)->hash                                       \
     && ngx_strncasecmp((h)->key.data, (u_char *) (name), len) == 0)


ngx_cflb_rule_conf_t *
ngx_http_cflb_rule_conf(ngx_conf_t *cf)
{
    return ngx_cflb_rule_conf(cf, ngx_http_cflb_fields,
                              NGX_HTTP_CFLB_NFIELDS, 1);
}


ngx_int_t
ngx_http_cflb_rules_passes(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t             i, m;
    ngx_module_t         **modules;
    ngx_cflb_rule_conf_t  *rc;

    rc = ccf->rule_conf;
    modules = cf->cycle->modules;

    for (i = 0; ngx_http_cflb_passes[i]; i++) {
        for (m = 0; modules[m]; m++) {
            if (modules[m]->type == NGX_HTTP_MODULE
                && ngx_strcmp(modules[m]->name, ngx_http_cflb_passes[i]) == 0)
            {
                rc->passes[rc->npasses++] = modules[m]->ctx_index;
            }
        }
    }

    return NGX_OK;
}


ngx_cflb_lb_t *
ngx_http_cflb_location_lb(ngx_http_request_t *r, ngx_cflb_rule_conf_t *rc)
{
    ngx_uint_t                     i;
    ngx_http_upstream_srv_conf_t  *uscf;

    for (i = 0; i < rc->npasses; i++) {
        /* ngx_http_upstream_conf_t is first, the upstream first in it */
        uscf = *(ngx_http_upstream_srv_conf_t **) r->loc_conf[rc->passes[i]];

        if (uscf == NULL) {
            continue;
        }

        if (uscf->srv_conf == NULL) {
            /* an implicit upstream: "proxy_pass http://127.0.0.1:8080" */
            return NULL;
        }

        return ngx_http_conf_upstream_srv_conf(uscf, ngx_http_cflb_module);
    }

    return NULL;
}


ngx_int_t
ngx_http_cflb_rules_early(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_ruled_t **rdp)
{
    ngx_http_cflb_ruled_t      *rd;
    ngx_http_cflb_peer_data_t  *hpd;

    *rdp = NULL;

    hpd = ngx_http_get_module_ctx(r, ngx_http_cflb_module);

    if (hpd) {
        /* ran already (an internal redirect clears the context) */
        *rdp = (ngx_http_cflb_ruled_t *) ngx_http_cflb_ruled_for(hpd, lb);
        return NGX_DECLINED;
    }

    rd = ngx_pcalloc(r->pool, sizeof(ngx_http_cflb_ruled_t));
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rd->hpd.ruled = 1;
    rd->lb = lb;

    ngx_http_set_ctx(r, &rd->hpd, ngx_http_cflb_module);

    if (ngx_http_cflb_rules_eval(r, lb, &rd->rules) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rd->rules.fixed) {
        return ngx_http_cflb_fixed(r, lb, rd);
    }

    *rdp = rd;

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_cflb_rules_peer(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_peer_data_t *hpd)
{
    ngx_cflb_rules_outcome_t  out;

    if (hpd->ruled) {
        ngx_cflb_rules_apply(&hpd->pd.d,
                             &((ngx_http_cflb_ruled_t *) hpd)->rules);
        return NGX_OK;
    }

    if (lb->rules->n == 0) {
        return NGX_OK;
    }

    /*
     * rules without a fixed response, or a proxy_pass with variables that
     * no phase handler could know the lb of
     */

    if (ngx_http_cflb_rules_eval(r, lb, &out) != NGX_OK) {
        return NGX_ERROR;
    }

    if (out.fixed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cflb_lb \"%V\": fixed_response needs a proxy_pass "
                      "that names the load balancer without variables, "
                      "the request goes on", &out.fixed->label);
    }

    ngx_cflb_rules_apply(&hpd->pd.d, &out);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cflb_rules_eval(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_cflb_rules_outcome_t *out)
{
    cflb_allocator_t           a;
    cflb_rules_input_t         in;
    ngx_http_cflb_rules_ctx_t  hc;
    cflb_rules_slot_t          slots[NGX_HTTP_CFLB_NFIELDS];
    cflb_rules_kslot_t         keys[NGX_CFLB_RULES_KEYS];

    ngx_memzero(out, sizeof(ngx_cflb_rules_outcome_t));

    hc.rq.lb = lb;
    hc.rq.client = r->connection->sockaddr;
    hc.rq.local = NULL;
    hc.rq.located = 0;
    hc.r = r;
    hc.args = NULL;
    hc.nargs = 0;
    hc.parsed = 0;

    cflb_rules_input_init(&in, slots, lb->rules->nslots, keys,
                          ngx_min(lb->rules->nkeys, NGX_CFLB_RULES_KEYS));

    ngx_cflb_allocator(&a, r->pool);

    in.get = ngx_http_cflb_get;
    in.lookup = ngx_http_cflb_lookup;
    in.ctx = &hc;
    in.pool = &a;

    return ngx_cflb_rules_run(lb, &in, r->pool, lb->conf->trace,
                              r->connection->log, out);
}


/*
 * The rule's fixed_response: status, Content-Type (text/plain for a body
 * without one), Location, body; sent here, so that no pool is asked and
 * error_page does not replace it.
 */

static ngx_int_t
ngx_http_cflb_fixed(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_ruled_t *rd)
{
    ngx_int_t         rc;
    ngx_str_t         type;
    ngx_buf_t        *b;
    ngx_cflb_rule_t  *rule;
    ngx_table_elt_t  *h;

    static ngx_str_t  location = ngx_string("Location");

    rule = rd->rules.fixed;

    if (lb->conf->trace) {
        ngx_http_cflb_fixed_trace(r, lb, rd);
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = rule->body.data;
    b->last = rule->body.data + rule->body.len;
    b->memory = (rule->body.len != 0);

    type = rule->type;

    if (type.len == 0 && rule->body.len) {
        ngx_str_set(&type, "text/plain");
    }

    if (rule->location.len) {
        h = ngx_http_cflb_push_header(r);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->key = location;
        h->value = rule->location;
        r->headers_out.location = h;
    }

    (void) ngx_atomic_fetch_add(&rule->sh->fixed, 1);

    rc = ngx_http_cflb_send(r, rule->status, &type, b);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* $cflb_trace of a fixed response: lb=www rules=...,down fixed=503 */

static void
ngx_http_cflb_fixed_trace(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_ruled_t *rd)
{
    ngx_cflb_decision_t  *d;

    d = &rd->hpd.pd.d;
    d->sess = ngx_pcalloc(r->pool, lb->sess_size);

    if (d->sess == NULL) {
        return;
    }

    d->view = &lb->view;
    d->trace = 1;

    ngx_cflb_rules_apply(d, &rd->rules);
    ngx_cflb_trace(d)->fixed = rd->rules.fixed->status;
}


/*
 * The path, which rules name most, and the common fields take no part
 * in the switch below, whose set-up costs as much as they do.
 */

static int
ngx_http_cflb_get(void *ctx, unsigned id, cflb_rules_value_t *v)
{
    ngx_http_cflb_rules_ctx_t *hc = ctx;

    u_char     *q;
    ngx_str_t  *uri;

    if (id == NGX_HTTP_CFLB_PATH) {
        uri = &hc->r->unparsed_uri;
        q = ngx_strlchr(uri->data, uri->data + uri->len, '?');

        v->u.s.data = uri->data;
        v->u.s.len = q ? (size_t) (q - uri->data) : uri->len;
        return CFLB_OK;
    }

    if (id < NGX_CFLB_FIELD_PORT) {
        return ngx_cflb_rules_common(&hc->rq, id, v);
    }

    return ngx_http_cflb_get_own(hc, id, v);
}


static int
ngx_http_cflb_get_own(ngx_http_cflb_rules_ctx_t *hc, unsigned id,
    cflb_rules_value_t *v)
{
    ngx_http_request_t  *r;

    r = hc->r;

    switch (id) {

    case NGX_CFLB_FIELD_PORT:
        if (ngx_connection_local_sockaddr(r->connection, NULL, 0) != NGX_OK) {
            return CFLB_DECLINED;
        }

        hc->rq.local = r->connection->local_sockaddr;
        return ngx_cflb_rules_common(&hc->rq, id, v);

    case NGX_HTTP_CFLB_HOST:
        if (r->headers_in.server.len == 0) {
            return CFLB_DECLINED;
        }

        return ngx_http_cflb_str(v, &r->headers_in.server);

    case NGX_HTTP_CFLB_COOKIE:
        return ngx_http_cflb_cookie_field(r, v);

    case NGX_HTTP_CFLB_REFERER:
        return ngx_http_cflb_header(r, r->headers_in.referer, v);

    case NGX_HTTP_CFLB_USER_AGENT:
        return ngx_http_cflb_header(r, r->headers_in.user_agent, v);

    case NGX_HTTP_CFLB_METHOD:
        return ngx_http_cflb_str(v, &r->method_name);

    case NGX_HTTP_CFLB_URI:
    case NGX_HTTP_CFLB_QUERY:
        return ngx_http_cflb_get_uri(hc, id, v);

    case NGX_HTTP_CFLB_ARG_NAMES:
    case NGX_HTTP_CFLB_ARG_VALUES:
        return ngx_http_cflb_args(hc, id, v);

    case NGX_HTTP_CFLB_HEADER_NAMES:
    case NGX_HTTP_CFLB_HEADER_VALUES:
        return ngx_http_cflb_headers(r, id, v);

    case NGX_HTTP_CFLB_VERSION:
        return ngx_http_cflb_version(r, v);

    case NGX_HTTP_CFLB_TIMESTAMP:
        v->u.i = r->start_sec;
        return CFLB_OK;

    case NGX_HTTP_CFLB_SSL:
        v->u.i = 0;
#if (NGX_HTTP_SSL)
        v->u.i = (r->connection->ssl != NULL);
#endif
        return CFLB_OK;

    default:
        return ngx_cflb_rules_common(&hc->rq, id, v);
    }
}


/*
 * The request line's URI as the client sent it (before any rewrite):
 * path and query, or the query without "?" (missing without one); the
 * path is ngx_http_cflb_get()'s.
 */

static int
ngx_http_cflb_get_uri(ngx_http_cflb_rules_ctx_t *hc, unsigned id,
    cflb_rules_value_t *v)
{
    u_char              *q;
    ngx_str_t           *uri;
    ngx_http_request_t  *r;

    r = hc->r;
    uri = &r->unparsed_uri;

    if (id == NGX_HTTP_CFLB_URI) {
        return ngx_http_cflb_str(v, uri);
    }

    q = ngx_strlchr(uri->data, uri->data + uri->len, '?');

    if (q == NULL) {
        return CFLB_DECLINED;
    }

    v->u.s.data = q + 1;
    v->u.s.len = uri->data + uri->len - q - 1;

    return CFLB_OK;
}


static int
ngx_http_cflb_lookup(void *ctx, unsigned id, const unsigned char *key,
    size_t len, cflb_rules_value_t *v)
{
    ngx_http_cflb_rules_ctx_t *hc = ctx;

    ngx_uint_t        i, n;
    cflb_str_t       *a;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (id == NGX_HTTP_CFLB_ARGS) {
        return ngx_http_cflb_arg(hc, key, len, v);
    }

    /*
     * The values of a header: names case-insensitive, values in order.
     * Counted first in a loop of its own, as most lookups find nothing.
     */

    n = 0;

    for (part = &hc->r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            n += ngx_http_cflb_header_is(&h[i], key, len);
        }
    }

    if (n == 0) {
        return CFLB_DECLINED;
    }

    a = ngx_palloc(hc->r->pool, n * sizeof(cflb_str_t));
    if (a == NULL) {
        return CFLB_ERROR;
    }

    v->u.a.elts = a;
    v->u.a.n = n;

    part = &hc->r->headers_in.headers.part;
    i = 0;

    while ((h = ngx_http_cflb_next_header(&part, &i, key, len))) {
        a->data = h->value.data;
        a->len = h->value.len;
        a++;
    }

    return CFLB_OK;
}


/* the values of a query argument: names as written, case-sensitive */

static int
ngx_http_cflb_arg(ngx_http_cflb_rules_ctx_t *hc, const unsigned char *key,
    size_t len, cflb_rules_value_t *v)
{
    ngx_uint_t   i, n;
    cflb_str_t  *a;

    if (ngx_http_cflb_parse_args(hc) != NGX_OK) {
        return CFLB_ERROR;
    }

    n = 0;

    for (i = 0; i < hc->nargs; i++) {
        n += (hc->args[2 * i].len == len
              && ngx_memcmp(hc->args[2 * i].data, key, len) == 0);
    }

    if (n == 0) {
        return CFLB_DECLINED;
    }

    a = ngx_palloc(hc->r->pool, n * sizeof(cflb_str_t));
    if (a == NULL) {
        return CFLB_ERROR;
    }

    v->u.a.elts = a;
    v->u.a.n = n;

    for (i = 0; i < hc->nargs; i++) {
        if (hc->args[2 * i].len == len
            && ngx_memcmp(hc->args[2 * i].data, key, len) == 0)
        {
            *a++ = hc->args[2 * i + 1];
        }
    }

    return CFLB_OK;
}


/*
 * The next request header named name (any case) from *part, element *i
 * on, or NULL; deleted headers (hash 0) are skipped.
 */

static ngx_table_elt_t *
ngx_http_cflb_next_header(ngx_list_part_t **part, ngx_uint_t *i,
    const u_char *name, size_t len)
{
    ngx_uint_t        k;
    ngx_list_part_t  *p;
    ngx_table_elt_t  *h;

    /* in locals: the walk runs over every header of every request */
    p = *part;
    k = *i;

    for ( ;; ) {
        if (k >= p->nelts) {
            if (p->next == NULL) {
                h = NULL;
                break;
            }

            p = p->next;
            k = 0;
            continue;
        }

        h = (ngx_table_elt_t *) p->elts + k++;

        if (ngx_http_cflb_header_is(h, name, len)) {
            break;
        }
    }

    *part = p;
    *i = k;

    return h;
}


static int
ngx_http_cflb_header(ngx_http_request_t *r, ngx_table_elt_t *h,
    cflb_rules_value_t *v)
{
    if (h == NULL) {
        return CFLB_DECLINED;
    }

    return ngx_http_cflb_str(v, &h->value);
}


/*
 * http.cookie: the Cookie header, or several (HTTP/2 sends one per
 * cookie) joined by "; ", as if they were one
 */

static int
ngx_http_cflb_cookie_field(ngx_http_request_t *r, cflb_rules_value_t *v)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *first;

    len = 0;
    n = 0;
    first = NULL;
    part = &r->headers_in.headers.part;
    i = 0;

    while ((h = ngx_http_cflb_next_header(&part, &i, (u_char *) "Cookie", 6)))
    {
        first = first ? first : h;
        len += h->value.len + 2;
        n++;
    }

    if (n < 2) {
        return first ? ngx_http_cflb_str(v, &first->value) : CFLB_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return CFLB_ERROR;
    }

    v->u.s.data = p;
    part = &r->headers_in.headers.part;
    i = 0;

    while ((h = ngx_http_cflb_next_header(&part, &i, (u_char *) "Cookie", 6)))
    {
        if (p != v->u.s.data) {
            *p++ = ';';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, h->value.data, h->value.len);
    }

    v->u.s.len = p - v->u.s.data;

    return CFLB_OK;
}


/* .names (lower case) or .values of the request headers, in order */

static int
ngx_http_cflb_headers(ngx_http_request_t *r, unsigned id,
    cflb_rules_value_t *v)
{
    ngx_uint_t        i, n;
    cflb_str_t       *a;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        n += part->nelts;
    }

    a = ngx_palloc(r->pool, (n ? n : 1) * sizeof(cflb_str_t));
    if (a == NULL) {
        return CFLB_ERROR;
    }

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (h[i].hash == 0) {
                continue;
            }

            if (id == NGX_HTTP_CFLB_HEADER_NAMES) {
                a[n].data = h[i].lowcase_key;
                a[n].len = h[i].key.len;

            } else {
                a[n].data = h[i].value.data;
                a[n].len = h[i].value.len;
            }

            n++;
        }
    }

    v->u.a.elts = a;
    v->u.a.n = n;

    return CFLB_OK;
}


/* .args.names or .args.values: raw, in order; missing without a query */

static int
ngx_http_cflb_args(ngx_http_cflb_rules_ctx_t *hc, unsigned id,
    cflb_rules_value_t *v)
{
    ngx_uint_t   i, k;
    cflb_str_t  *a;

    if (ngx_http_cflb_parse_args(hc) != NGX_OK) {
        return CFLB_ERROR;
    }

    if (hc->args == NULL) {
        return CFLB_DECLINED;
    }

    a = ngx_palloc(hc->r->pool, (hc->nargs + 1) * sizeof(cflb_str_t));
    if (a == NULL) {
        return CFLB_ERROR;
    }

    k = (id == NGX_HTTP_CFLB_ARG_VALUES);

    for (i = 0; i < hc->nargs; i++) {
        a[i] = hc->args[2 * i + k];
    }

    v->u.a.elts = a;
    v->u.a.n = hc->nargs;

    return CFLB_OK;
}


/*
 * The query as name=value pairs split at "&", once: a pair without "="
 * has an empty value, empty pairs are skipped, nothing is decoded.
 */

static ngx_int_t
ngx_http_cflb_parse_args(ngx_http_cflb_rules_ctx_t *hc)
{
    u_char              *p, *end, *amp, *eq;
    ngx_uint_t           n;
    cflb_str_t          *a;
    cflb_rules_value_t   q;

    if (hc->parsed) {
        return NGX_OK;
    }

    hc->parsed = 1;

    if (ngx_http_cflb_get_uri(hc, NGX_HTTP_CFLB_QUERY, &q) != CFLB_OK) {
        return NGX_OK;
    }

    end = q.u.s.data + q.u.s.len;
    n = 1;

    for (p = q.u.s.data; p < end; p++) {
        n += (*p == '&');
    }

    a = ngx_palloc(hc->r->pool, 2 * n * sizeof(cflb_str_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    hc->args = a;

    for (p = q.u.s.data; p < end; p = amp + 1) {
        amp = ngx_strlchr(p, end, '&');
        amp = amp ? amp : end;

        if (amp == p) {
            continue;
        }

        eq = ngx_strlchr(p, amp, '=');
        eq = eq ? eq : amp;

        a[0].data = p;
        a[0].len = eq - p;
        a[1].data = (eq < amp) ? eq + 1 : amp;
        a[1].len = amp - a[1].data;
        a += 2;
        hc->nargs++;
    }

    return NGX_OK;
}


static int
ngx_http_cflb_version(ngx_http_request_t *r, cflb_rules_value_t *v)
{
    static ngx_str_t  versions[] = {
        ngx_string("HTTP/0.9"), ngx_string("HTTP/1.0"),
        ngx_string("HTTP/1.1"), ngx_string("HTTP/2"), ngx_string("HTTP/3")
    };

    switch (r->http_version) {

    case NGX_HTTP_VERSION_9:
        return ngx_http_cflb_str(v, &versions[0]);

    case NGX_HTTP_VERSION_10:
        return ngx_http_cflb_str(v, &versions[1]);

    case NGX_HTTP_VERSION_11:
        return ngx_http_cflb_str(v, &versions[2]);

    case NGX_HTTP_VERSION_20:
        return ngx_http_cflb_str(v, &versions[3]);

    case 3000: /* NGX_HTTP_VERSION_30, nginx 1.25 */
        return ngx_http_cflb_str(v, &versions[4]);

    default:
        return CFLB_DECLINED;
    }
}
