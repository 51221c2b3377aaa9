
/*
 * cflb_api: the runtime API of the http zone, in a location.  Paths are
 * relative to the location:
 *
 *     GET   lbs | pools | pools/NAME | pools/NAME/endpoints/NAME
 *     PATCH pools/NAME                    {"enabled": false}
 *     PATCH pools/NAME/endpoints/NAME     {"enabled": false, "weight": 0.3}
 *
 * The same paths under "stream/" name the stream zone's objects: the
 * path picks the zone first, then the same parsing and handling apply.
 * A body is checked whole before anything changes; every error is a JSON
 * {"error", "status"}: a 4xx, or a 500 for a change applied but not
 * saved in the state file.  With cflb_cluster a change goes to etcd
 * first, and is answered once this node applied it (503 when etcd
 * did not take it).  The errors nginx answers itself in the
 * location (access modules, client_max_body_size) are rewritten in the
 * same form by a header and body filter.  A location that no allow/deny,
 * auth_basic or auth_request guards refuses everyone.
 */

#include <jansson.h>

#include "ngx_http_cflb.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_status.h"
#include "ngx_cflb_shm.h"
#include "ngx_cflb_json.h"
#include "cflb_json.h"
#include "ngx_cflb_cluster.h"


/* the largest PATCH body */
#define NGX_HTTP_CFLB_API_BODY   4096

/* the longest error message, names included */
#define NGX_HTTP_CFLB_API_ERR    256


/*
 * What a request's path names, or why it names nothing.  It is the
 * module's context of the request while the body is read, so it starts
 * as every context of the module does, with balancing state: none here
 * (the header filter and the variables read it as such).
 */
typedef struct {
    ngx_http_cflb_peer_data_t  none;         /* must be first, zeroed */
    ngx_cflb_conf_t          *ccf;           /* the zone: http or stream */
    ngx_uint_t                what;          /* NGX_CFLB_STATUS_* */
    ngx_cflb_pool_t          *pool;
    ngx_cflb_endpoint_t      *ep;
    u_char                   *last;          /* of msg */
    u_char                    msg[NGX_HTTP_CFLB_API_ERR];
    ngx_buf_t                *error;         /* nginx's page, as JSON */
    unsigned                  sent:1;        /* error went */
} ngx_http_cflb_target_t;


/*
 * Layouts of the access control modules' location confs.  They are
 * private to those modules but have not changed since nginx 1.0: the
 * check below reads no further than these fields.
 */
typedef struct {
    ngx_array_t              *rules;
#if (NGX_HAVE_INET6)
    ngx_array_t              *rules6;
#endif
#if (NGX_HAVE_UNIX_DOMAIN)
    ngx_array_t              *rules_un;
#endif
} ngx_http_cflb_access_conf_t;

typedef struct {
    ngx_http_complex_value_t *realm;
    ngx_http_complex_value_t *user_file;
} ngx_http_cflb_auth_basic_conf_t;

typedef struct {
    ngx_str_t                 uri;
} ngx_http_cflb_auth_request_conf_t;


static ngx_int_t ngx_http_cflb_api_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cflb_api_target(ngx_http_request_t *r,
    ngx_http_cflb_loc_conf_t *alcf, ngx_http_cflb_target_t *t);
static void ngx_http_cflb_api_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_cflb_api_patch(ngx_http_request_t *r,
    ngx_http_cflb_target_t *t);
static ngx_int_t ngx_http_cflb_api_change(json_t *root,
    ngx_http_cflb_target_t *t, ngx_cflb_change_t *ch);
static ngx_int_t ngx_http_cflb_api_fleet(ngx_http_request_t *r,
    ngx_http_cflb_target_t *t, ngx_cflb_change_t *ch);
static void ngx_http_cflb_api_written(void *data, ngx_int_t rc, u_char *err,
    size_t len);
static ngx_int_t ngx_http_cflb_api_render(ngx_http_request_t *r,
    ngx_http_cflb_target_t *t);
static ngx_int_t ngx_http_cflb_api_error(ngx_http_request_t *r,
    ngx_uint_t status, u_char *msg, u_char *last);
static ngx_uint_t ngx_http_cflb_api_guarded(ngx_conf_t *cf,
    void **loc_conf);
static void *ngx_http_cflb_module_loc_conf(ngx_conf_t *cf, void **loc_conf,
    char *name);
static ngx_buf_t *ngx_http_cflb_api_json_error(ngx_pool_t *pool,
    ngx_uint_t status, u_char *msg, size_t len);
static ngx_int_t ngx_http_cflb_api_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_cflb_api_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static const char *ngx_http_cflb_api_reason(ngx_uint_t status);


/* an error answer with a fixed message */
#define ngx_http_cflb_api_fail(r, status, msg)                                \
    ngx_http_cflb_api_error(r, status, (u_char *) msg,                       \
                            (u_char *) msg + sizeof(msg) - 1)


static ngx_str_t  ngx_http_cflb_api_json = ngx_string("application/json");

static ngx_http_output_header_filter_pt  ngx_http_cflb_api_next_header;
static ngx_http_output_body_filter_pt    ngx_http_cflb_api_next_body;
static ngx_str_t  ngx_http_cflb_api_allow_header = ngx_string("Allow");
static ngx_str_t  ngx_http_cflb_api_allow_get = ngx_string("GET, HEAD");
static ngx_str_t  ngx_http_cflb_api_allow_patch =
    ngx_string("GET, HEAD, PATCH");


void *
ngx_http_cflb_create_loc_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     alcf->lb = NULL;
     *     alcf->api = 0;
     *     alcf->guarded = 0;
     *     alcf->lb_known = 0;
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_cflb_loc_conf_t));
}


char *
ngx_http_cflb_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cflb_loc_conf_t *alcf = conf;

    ngx_cflb_conf_t            *ccf;
    ngx_http_conf_ctx_t        *ctx;
    ngx_http_cflb_loc_conf_t  **p;
    ngx_http_core_loc_conf_t   *clcf;

    if (alcf->api) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->exact_match || clcf->named || clcf->noname
#if (NGX_PCRE)
        || clcf->regex
#endif
        )
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_api needs a prefix location");
        return NGX_CONF_ERROR;
    }

    ccf = ngx_http_conf_get_module_main_conf(cf, ngx_http_cflb_module);

    if (ccf->apis == NULL) {
        ccf->apis = ngx_array_create(cf->pool, 1, sizeof(void *));
        if (ccf->apis == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    p = ngx_array_push(ccf->apis);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    *p = alcf;

    ctx = cf->ctx;

    alcf->api = 1;
    alcf->prefix = clcf->name;
    alcf->loc_conf = ctx->loc_conf;
    alcf->file = cf->conf_file->file.name.data;
    alcf->line = cf->conf_file->line;

    clcf->handler = ngx_http_cflb_api_handler;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_cflb_api_check(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t                  i;
    ngx_http_cflb_loc_conf_t  **apis;

    if (ccf->apis == NULL) {
        return NGX_OK;
    }

    /* nginx's own error pages in API locations, as JSON */
    ngx_http_cflb_api_next_header = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_cflb_api_header_filter;

    ngx_http_cflb_api_next_body = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_cflb_api_body_filter;

    apis = ccf->apis->elts;

    for (i = 0; i < ccf->apis->nelts; i++) {
        apis[i]->guarded = ngx_http_cflb_api_guarded(cf, apis[i]->loc_conf);

        if (!apis[i]->guarded) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "cflb_api in %s:%ui has no allow/deny, auth_basic "
                          "or auth_request, it refuses every client",
                          apis[i]->file, apis[i]->line);
        }
    }

    return NGX_OK;
}


/* is the location's access limited by some access control module */

static ngx_uint_t
ngx_http_cflb_api_guarded(ngx_conf_t *cf, void **loc_conf)
{
    ngx_http_complex_value_t           *realm;
    ngx_http_cflb_access_conf_t        *access;
    ngx_http_cflb_auth_basic_conf_t    *basic;
    ngx_http_cflb_auth_request_conf_t  *request;

    access = ngx_http_cflb_module_loc_conf(cf, loc_conf,
                                           "ngx_http_access_module");

    if (access
        && (access->rules
#if (NGX_HAVE_INET6)
            || access->rules6
#endif
#if (NGX_HAVE_UNIX_DOMAIN)
            || access->rules_un
#endif
            ))
    {
        return 1;
    }

    basic = ngx_http_cflb_module_loc_conf(cf, loc_conf,
                                          "ngx_http_auth_basic_module");

    if (basic && basic->realm && basic->user_file) {
        realm = basic->realm;

        /* "auth_basic off" turns it off; a variable may, at run time */
        if (realm->lengths
            || realm->value.len != 3
            || ngx_strncmp(realm->value.data, "off", 3) != 0)
        {
            return 1;
        }
    }

    request = ngx_http_cflb_module_loc_conf(cf, loc_conf,
                                            "ngx_http_auth_request_module");

    return request && request->uri.len;
}


/* a module's location conf by the module's name: it may not be built */

static void *
ngx_http_cflb_module_loc_conf(ngx_conf_t *cf, void **loc_conf, char *name)
{
    ngx_uint_t      m;
    ngx_module_t  **modules;

    modules = cf->cycle->modules;

    for (m = 0; modules[m]; m++) {
        if (modules[m]->type == NGX_HTTP_MODULE
            && ngx_strcmp(modules[m]->name, name) == 0)
        {
            return loc_conf[modules[m]->ctx_index];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_cflb_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc, found;
    ngx_uint_t                 patch, large;
    ngx_http_cflb_target_t    *t;
    ngx_http_cflb_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_cflb_module);

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_cflb_target_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    found = ngx_http_cflb_api_target(r, alcf, t);
    patch = (t->what == NGX_CFLB_STATUS_POOL
             || t->what == NGX_CFLB_STATUS_ENDPOINT);

    /* before discarding, which counts content_length_n down */
    large = (r->headers_in.content_length_n > NGX_HTTP_CFLB_API_BODY);

    /* only a PATCH that may apply reads its body */
    if (!alcf->guarded || found != NGX_OK || !patch
        || r->method != NGX_HTTP_PATCH || large)
    {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (!alcf->guarded) {
        return ngx_http_cflb_api_fail(r, NGX_HTTP_FORBIDDEN,
                                      "the API location has no access "
                                      "control: see docs/api.md");
    }

    if (found != NGX_OK) {
        return ngx_http_cflb_api_error(r, NGX_HTTP_NOT_FOUND, t->msg,
                                       t->last);
    }

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_cflb_api_render(r, t);
    }

    if (r->method != NGX_HTTP_PATCH || !patch) {
        if (ngx_http_cflb_add_header(r, &ngx_http_cflb_api_allow_header,
                                     patch ? &ngx_http_cflb_api_allow_patch
                                           : &ngx_http_cflb_api_allow_get)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_cflb_api_fail(r, NGX_HTTP_NOT_ALLOWED,
                                      "method not allowed");
    }

    if (large) {
        return ngx_http_cflb_api_fail(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      "the body is larger than 4096 bytes");
    }

    ngx_http_set_ctx(r, t, ngx_http_cflb_module);

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_cflb_api_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* a path component is this literal */
#define ngx_http_cflb_is(part, lit)                                           \
    ((part).len == sizeof(lit) - 1                                            \
     && ngx_strncmp((part).data, lit, sizeof(lit) - 1) == 0)


/*
 * The zone and the object the path names: NGX_OK, or NGX_DECLINED with
 * the message in t->msg.  Components are split on "/" of the decoded URI;
 * none may be empty, and there is no trailing slash.  A first "stream"
 * picks the stream zone; the rest is parsed the same for either.
 */

static ngx_int_t
ngx_http_cflb_api_target(ngx_http_request_t *r,
    ngx_http_cflb_loc_conf_t *alcf, ngx_http_cflb_target_t *t)
{
    u_char     *p, *last, *slash;
    ngx_str_t   parts[5], *part;
    ngx_uint_t  n, i;

    p = r->uri.data + alcf->prefix.len;
    last = r->uri.data + r->uri.len;

    /* the location's prefix may lack the trailing slash */
    if (p < last && *p == '/' && alcf->prefix.len
        && alcf->prefix.data[alcf->prefix.len - 1] != '/')
    {
        p++;
    }

    for (n = 0; p < last; n++) {
        slash = ngx_strlchr(p, last, '/');

        if (n == 5 || slash == p || (slash && slash + 1 == last)) {
            goto unknown;
        }

        parts[n].data = p;
        parts[n].len = (slash ? slash : last) - p;
        p = slash ? slash + 1 : last;
    }

    part = parts;
    t->ccf = ngx_http_get_module_main_conf(r, ngx_http_cflb_module);

    if (n && ngx_http_cflb_is(part[0], "stream")) {
        t->ccf = ngx_cflb_status_stream(t->ccf);

        if (t->ccf == NULL) {
            t->what = NGX_CFLB_STATUS_DOC;
            t->last = ngx_sprintf(t->msg, "no stream cflb zone");
            return NGX_DECLINED;
        }

        part++;
        n--;
    }

    if (n == 5) {
        goto unknown;                   /* five only after "stream" */
    }

    if (t->ccf->sh) {
        ngx_cflb_runtime_sync(t->ccf);
    }

    if (n == 1 && ngx_http_cflb_is(part[0], "lbs")) {
        t->what = NGX_CFLB_STATUS_LBS;
        return NGX_OK;
    }

    if (n == 0 || n == 3 || !ngx_http_cflb_is(part[0], "pools")
        || (n == 4 && !ngx_http_cflb_is(part[2], "endpoints")))
    {
        goto unknown;
    }

    if (n == 1) {
        t->what = NGX_CFLB_STATUS_POOLS;
        return NGX_OK;
    }

    t->pool = ngx_cflb_find_pool(t->ccf, &part[1]);

    if (t->pool == NULL) {
        t->last = ngx_snprintf(t->msg, sizeof(t->msg),
                               "unknown pool \"%V\"", &part[1]);
        return NGX_DECLINED;
    }

    t->what = NGX_CFLB_STATUS_POOL;

    if (n == 2) {
        return NGX_OK;
    }

    t->ep = t->pool->endpoints.elts;

    for (i = 0; i < t->pool->endpoints.nelts; i++, t->ep++) {
        if (t->ep->name.len == part[3].len
            && ngx_strncmp(t->ep->name.data, part[3].data, part[3].len) == 0)
        {
            t->what = NGX_CFLB_STATUS_ENDPOINT;
            return NGX_OK;
        }
    }

    t->ep = NULL;
    t->last = ngx_snprintf(t->msg, sizeof(t->msg), "unknown endpoint \"%V\" "
                           "in pool \"%V\"", &part[3], &part[1]);
    return NGX_DECLINED;

unknown:

    t->what = NGX_CFLB_STATUS_DOC;
    t->last = ngx_cpymem(t->msg, "unknown path", sizeof("unknown path") - 1);
    return NGX_DECLINED;
}



static void
ngx_http_cflb_api_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_cflb_api_patch(r,
                                 ngx_http_get_module_ctx(r,
                                                     ngx_http_cflb_module)));
}


static ngx_int_t
ngx_http_cflb_api_patch(ngx_http_request_t *r, ngx_http_cflb_target_t *t)
{
    u_char             *p;
    size_t              len;
    json_t             *root;
    ngx_int_t           rc;
    ngx_buf_t          *b;
    ngx_chain_t        *cl;
    json_error_t        err;
    ngx_cflb_change_t   ch;
    u_char              body[NGX_HTTP_CFLB_API_BODY];
    u_char              why[NGX_CFLB_STATE_ERR];
    u_char              msg[NGX_HTTP_CFLB_API_ERR + NGX_CFLB_STATE_ERR];

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        b = cl->buf;

        if (b->in_file || len + (b->last - b->pos) > sizeof(body)) {
            return ngx_http_cflb_api_fail(r,
                                         NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                         "the body is larger than 4096 "
                                         "bytes");
        }

        ngx_memcpy(body + len, b->pos, b->last - b->pos);
        len += b->last - b->pos;
    }

    root = json_loadb((char *) body, len, JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        p = ngx_snprintf(msg, sizeof(msg), "malformed JSON: %s at line %d "
                         "column %d", err.text, err.line, err.column);
        return ngx_http_cflb_api_error(r, NGX_HTTP_BAD_REQUEST, msg, p);
    }

    rc = ngx_http_cflb_api_change(root, t, &ch);

    json_decref(root);

    if (rc != NGX_OK) {
        return ngx_http_cflb_api_error(r, NGX_HTTP_BAD_REQUEST, t->msg,
                                       t->last);
    }

    if (t->ccf->cluster) {
        return ngx_http_cflb_api_fleet(r, t, &ch);
    }

    if (ngx_cflb_runtime_set(t->ccf, t->pool, t->ep, &ch, why, sizeof(why))
        != NGX_OK)
    {
        /* the operator must know that a restart will undo it */
        p = ngx_snprintf(msg, sizeof(msg), "the change is applied in memory "
                         "but not persisted in the state file, a restart "
                         "would undo it: %s", why);
        return ngx_http_cflb_api_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       msg, p);
    }

    return ngx_http_cflb_api_render(r, t);
}


/* cflb_cluster: the change goes to etcd, the answer waits for it */

static ngx_int_t
ngx_http_cflb_api_fleet(ngx_http_request_t *r, ngx_http_cflb_target_t *t,
    ngx_cflb_change_t *ch)
{
    if (ngx_cflb_cluster_write(t->ccf, t->pool, t->ep, ch, r->pool,
                               r->connection->log, ngx_http_cflb_api_written,
                               r)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_cflb_api_written(void *data, ngx_int_t rc, u_char *err, size_t len)
{
    ngx_http_request_t *r = data;

    u_char                  *p;
    ngx_connection_t        *c;
    ngx_http_cflb_target_t  *t;
    u_char                   msg[NGX_HTTP_CFLB_API_ERR];

    c = r->connection;
    t = ngx_http_get_module_ctx(r, ngx_http_cflb_module);

    if (rc == NGX_OK) {
        ngx_cflb_runtime_sync(t->ccf);
        rc = ngx_http_cflb_api_render(r, t);

    } else {
        p = ngx_snprintf(msg, sizeof(msg), "etcd did not take the change, "
                         "nothing changed: %*s", len, err);
        rc = ngx_http_cflb_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE, msg,
                                     p);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* the whole body checked into ch: NGX_OK, or NGX_DECLINED and t->msg */

static ngx_int_t
ngx_http_cflb_api_change(json_t *root, ngx_http_cflb_target_t *t,
    ngx_cflb_change_t *ch)
{
    json_t      *v;
    uint32_t     w;
    const char  *key, *err;

    ch->enabled = NGX_CONF_UNSET_UINT;
    ch->weight = NGX_CONF_UNSET_UINT;

    if (!json_is_object(root)) {
        err = "the body is not a JSON object";
        goto invalid;
    }

    json_object_foreach(root, key, v) {

        if (ngx_strcmp(key, "enabled") == 0) {
            if (!json_is_boolean(v)) {
                err = "\"enabled\" is not true or false";
                goto invalid;
            }

            ch->enabled = json_is_true(v);
            continue;
        }

        if (ngx_strcmp(key, "weight") == 0 && t->ep) {
            if (!json_is_number(v)
                || cflb_weight_from_double(json_number_value(v), &w)
                   != CFLB_OK)
            {
                err = "\"weight\" is not a number from 0 to 1 with at most "
                      "2 decimals";
                goto invalid;
            }

            ch->weight = w;
            continue;
        }

        t->last = ngx_snprintf(t->msg, sizeof(t->msg),
                               "unknown field \"%s\"", key);
        return NGX_DECLINED;
    }

    if (ch->enabled != NGX_CONF_UNSET_UINT
        || ch->weight != NGX_CONF_UNSET_UINT)
    {
        return NGX_OK;
    }

    err = "nothing to change";

invalid:

    t->last = ngx_snprintf(t->msg, sizeof(t->msg), "%s", err);
    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_cflb_api_render(ngx_http_request_t *r, ngx_http_cflb_target_t *t)
{
    ngx_buf_t  *b;

    b = ngx_cflb_status_json(r->pool, t->ccf, t->what,
                             t->ep ? (void *) t->ep : (void *) t->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cflb_send(r, NGX_HTTP_OK, &ngx_http_cflb_api_json, b);
}


static ngx_int_t
ngx_http_cflb_api_error(ngx_http_request_t *r, ngx_uint_t status,
    u_char *msg, u_char *last)
{
    ngx_buf_t  *b;

    b = ngx_http_cflb_api_json_error(r->pool, status, msg, last - msg);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cflb_send(r, status, &ngx_http_cflb_api_json, b);
}


/*
 * {"error": msg, "status": N}: the message may echo a request's path,
 * whose bytes need not be UTF-8; cflb_json_escape() keeps the document
 * valid whatever they are.
 */

static ngx_buf_t *
ngx_http_cflb_api_json_error(ngx_pool_t *pool, ngx_uint_t status,
    u_char *msg, size_t len)
{
    u_char     *p;
    ngx_buf_t  *b;

    b = ngx_create_temp_buf(pool, sizeof("{\"error\":\"\",\"status\":}\n")
                                  + CFLB_JSON_ESCAPED * len + NGX_INT_T_LEN);
    if (b == NULL) {
        return NULL;
    }

    p = ngx_cpymem(b->last, "{\"error\":\"", sizeof("{\"error\":\"") - 1);
    p = cflb_json_escape(p, msg, len);
    b->last = ngx_sprintf(p, "\",\"status\":%ui}\n", status);

    return b;
}


/*
 * An error nginx answers itself in an API location (403 of deny, 401 of
 * auth_basic, 413 over client_max_body_size...) has an HTML page: the
 * header filter swaps it for the JSON error of the same status, the body
 * filter sends that in place of the page.  The API's own answers are
 * JSON already and pass.
 */

static ngx_int_t
ngx_http_cflb_api_header_filter(ngx_http_request_t *r)
{
    const char                *reason;
    ngx_http_cflb_target_t    *t;
    ngx_http_cflb_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_cflb_module);

    if (!alcf->api
        || r != r->main
        || r->headers_out.status < NGX_HTTP_BAD_REQUEST
        || (r->headers_out.content_type.len >= ngx_http_cflb_api_json.len
            && ngx_strncasecmp(r->headers_out.content_type.data,
                               ngx_http_cflb_api_json.data,
                               ngx_http_cflb_api_json.len) == 0))
    {
        return ngx_http_cflb_api_next_header(r);
    }

    t = ngx_http_get_module_ctx(r, ngx_http_cflb_module);

    if (t == NULL) {
        /* zeroed: no balancing state, as every context of the module */
        t = ngx_pcalloc(r->pool, sizeof(ngx_http_cflb_target_t));
        if (t == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, t, ngx_http_cflb_module);
    }

    reason = ngx_http_cflb_api_reason(r->headers_out.status);

    t->error = ngx_http_cflb_api_json_error(r->pool, r->headers_out.status,
                                            (u_char *) reason,
                                            ngx_strlen(reason));
    if (t->error == NULL) {
        return NGX_ERROR;
    }

    t->error->last_buf = 1;                 /* r is the main request */
    t->error->last_in_chain = 1;

    r->headers_out.content_type = ngx_http_cflb_api_json;
    r->headers_out.content_type_len = ngx_http_cflb_api_json.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = t->error->last - t->error->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_cflb_api_next_header(r);
}


static ngx_int_t
ngx_http_cflb_api_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t               out, *cl;
    ngx_http_cflb_target_t   *t;
    ngx_http_cflb_loc_conf_t *alcf;

    /* elsewhere the module's context is a proxied request's peer data */
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_cflb_module);

    if (!alcf->api) {
        return ngx_http_cflb_api_next_body(r, in);
    }

    t = ngx_http_get_module_ctx(r, ngx_http_cflb_module);

    if (t == NULL || t->error == NULL) {
        return ngx_http_cflb_api_next_body(r, in);
    }

    /* nginx's page is taken as sent */
    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (t->sent) {
        return NGX_OK;
    }

    t->sent = 1;

    out.buf = t->error;
    out.next = NULL;

    return ngx_http_cflb_api_next_body(r, &out);
}


/* the words of the error, lowercase as the API's own */

static const char *
ngx_http_cflb_api_reason(ngx_uint_t status)
{
    switch (status) {

    case NGX_HTTP_BAD_REQUEST:
        return "bad request";

    case NGX_HTTP_UNAUTHORIZED:
        return "authorization required";

    case NGX_HTTP_FORBIDDEN:
        return "forbidden";

    case NGX_HTTP_NOT_FOUND:
        return "not found";

    case NGX_HTTP_NOT_ALLOWED:
        return "method not allowed";

    case NGX_HTTP_REQUEST_TIME_OUT:
        return "the request timed out";

    case NGX_HTTP_LENGTH_REQUIRED:
        return "a body needs Content-Length or chunked encoding";

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "the body is larger than client_max_body_size";

    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return "the URI is too long";

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "service unavailable";

    default:
        return status >= NGX_HTTP_INTERNAL_SERVER_ERROR
               ? "internal server error" : "the request is refused";
    }
}

