
/*
 * The precontent handler of the http module: what must be decided before
 * a location's proxy_pass (grpc_pass, fastcgi_pass, uwsgi_pass,
 * scgi_pass) starts the upstream, because nginx's upstream can only say
 * 502 once it has started.
 *
 * - A rule's fixed_response answers the client itself
 *   (ngx_http_cflb_rules_early()).
 * - When nothing can serve, neither a pool nor the fallback pool, the
 *   answer is the product's: HTTP 530, error 1016 "Origin DNS error".
 *   nginx's error_page 530 replaces it; otherwise a short page names the
 *   load balancer.
 *
 * The fallback pool serves whatever its health, so nothing can serve
 * only when the fallback pool cannot: disabled, no endpoint enabled with
 * a weight, or some endpoint without an address (a name that does not
 * resolve).  That is the one test every request pays, on the view's
 * fallback and on those the load balancer's rules may choose; the whole
 * decision is made ahead only when it fails.  The location's load
 * balancer is found at its first request in each worker and kept in its
 * location conf.
 */

#include "ngx_http_cflb.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_runtime.h"


static ngx_uint_t ngx_http_cflb_phase_needed(ngx_cflb_conf_t *ccf);
static ngx_int_t ngx_http_cflb_phase_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_cflb_may_fail(ngx_cflb_lb_t *lb);
static ngx_int_t ngx_http_cflb_serves(ngx_http_request_t *r,
    ngx_cflb_lb_t *lb, ngx_http_cflb_ruled_t *rd);
static ngx_int_t ngx_http_cflb_530(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_peer_data_t *hpd);
static ngx_uint_t ngx_http_cflb_has_page(ngx_http_request_t *r,
    ngx_uint_t status);


#define NGX_HTTP_CFLB_530      530

/* can the pool fail as the fallback, which serves whatever its health */
#define ngx_http_cflb_fallback_may_fail(pool)                                 \
    (!(pool)->enabled || (pool)->nusable == 0 || (pool)->unresolved)


static u_char  ngx_http_cflb_530_head[] =
"<html>" CRLF
"<head><title>530 Origin DNS Error</title></head>" CRLF
"<body>" CRLF
"<center><h1>530 Origin DNS Error</h1></center>" CRLF
"<center>error 1016: no pool of load balancer \"";

static u_char  ngx_http_cflb_530_tail[] =
"\" can serve</center>" CRLF
"<hr><center>cflb</center>" CRLF
"</body>" CRLF
"</html>" CRLF;


ngx_int_t
ngx_http_cflb_phase_init(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (!ngx_http_cflb_phase_needed(ccf)) {
        /* nothing can ask for the handler: no request pays for it */
        return NGX_OK;
    }

    if (ngx_http_cflb_rules_passes(cf, ccf) != NGX_OK) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_cflb_phase_handler;

    return NGX_OK;
}


/*
 * Is the handler ever needed: a fixed response, or a fallback pool that
 * can fail.  One that cannot fail now can later only through a change at
 * run time (the API, the state file, the fleet, a name that stops
 * resolving), so without any of them the handler would decline every
 * request, and is not installed (its cost, 78 Ir a request under
 * callgrind, is then not paid).
 */

static ngx_uint_t
ngx_http_cflb_phase_needed(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t      i;
    ngx_cflb_lb_t  *lb, **lbs;

    if ((ccf->apis && ccf->apis->nelts) || ccf->state_file.len
        || ccf->cluster || ccf->resolves.nelts)
    {
        return 1;
    }

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        lb = lbs[i];

        if ((lb->rules && lb->rules->fixed) || ngx_http_cflb_may_fail(lb)) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_cflb_phase_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_cflb_lb_t             *lb;
    ngx_cflb_conf_t           *ccf;
    ngx_http_cflb_ruled_t     *rd;
    ngx_http_cflb_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cflb_module);

    if (!lcf->lb_known) {
        ccf = ngx_http_get_module_main_conf(r, ngx_http_cflb_module);
        lcf->lb = ngx_http_cflb_location_lb(r, ccf->rule_conf);
        lcf->lb_known = 1;
    }

    lb = lcf->lb;

    if (lb == NULL) {
        return NGX_DECLINED;
    }

    rd = NULL;

    if (lb->rules && lb->rules->fixed) {
        rc = ngx_http_cflb_rules_early(r, lb, &rd);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /* the API may have disabled the fallback pool since the last request */
    ngx_cflb_runtime_sync(lb->conf);

    if (!ngx_http_cflb_may_fail(lb)) {
        return NGX_DECLINED;
    }

    return ngx_http_cflb_serves(r, lb, rd);
}


/*
 * Could nothing serve: can the fallback pool fail, the load balancer's
 * or one its rules may choose (rules are rare, and few)?
 */

static ngx_uint_t
ngx_http_cflb_may_fail(ngx_cflb_lb_t *lb)
{
    ngx_uint_t        i;
    ngx_cflb_rule_t  *rule;

    if (ngx_http_cflb_fallback_may_fail(lb->view.fallback->pool)) {
        return 1;
    }

    if (lb->rules == NULL) {
        return 0;
    }

    for (i = 0; i < lb->rules->n; i++) {
        rule = lb->rules->run[i];

        if (rule->fallback
            && ngx_http_cflb_fallback_may_fail(rule->fallback->pool))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The whole decision, made ahead on a scratch copy of the request's
 * balancing state (rules applied, session resumed) and never committed:
 * NGX_DECLINED if it finds an endpoint, so that the upstream starts and
 * decides again; else the 530.  A decision that changes in between (a
 * probe, the API) gives the upstream's 502, as before.
 */

static ngx_int_t
ngx_http_cflb_serves(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_ruled_t *rd)
{
    ngx_int_t                   rc;
    ngx_cflb_endpoint_t        *ep;
    ngx_peer_connection_t       pc;
    ngx_http_cflb_peer_data_t  *hpd;

    if (rd == NULL && lb->rules && lb->rules->n) {
        rc = ngx_http_cflb_rules_early(r, lb, &rd);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (rd && rd->rules.view
        && !ngx_http_cflb_fallback_may_fail(rd->rules.view->fallback->pool))
    {
        /* the rules chose a fallback pool that serves */
        return NGX_DECLINED;
    }

    hpd = ngx_pcalloc(r->pool, sizeof(ngx_http_cflb_peer_data_t));
    if (hpd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&pc, sizeof(ngx_peer_connection_t));

    if (ngx_cflb_init_peer(&hpd->pd, r->pool, lb, &pc,
                           r->connection->sockaddr, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hpd->r = r;
    hpd->pd.d.in.cpool = r->connection->pool;

    if (rd) {
        ngx_cflb_rules_apply(&hpd->pd.d, &rd->rules);
    }

    if (hpd->pd.d.view->affinity->mode != NGX_CFLB_AFFINITY_NONE) {
        ngx_http_cflb_affinity(r, hpd);
    }

    ep = ngx_cflb_decide(&hpd->pd.d, r->connection->log);

    if (ep) {
        return NGX_DECLINED;
    }

    return ngx_http_cflb_530(r, lb, hpd);
}


/*
 * HTTP 530: the location's error_page 530 if it has one (nginx sends
 * it), else a page of nginx's kind that names the load balancer.  The
 * scratch decision becomes the request's context, so that $cflb_lb and
 * $cflb_trace tell what happened; the upstream never started, so
 * $upstream_addr and $upstream_status are empty.
 */

static ngx_int_t
ngx_http_cflb_530(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_peer_data_t *hpd)
{
    size_t      len;
    u_char     *p;
    ngx_int_t   rc;
    ngx_str_t   type;
    ngx_buf_t  *b;

    ngx_http_set_ctx(r, hpd, ngx_http_cflb_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "cflb_lb \"%V\": no pool can serve and neither can the "
                  "fallback pool \"%V\", 530", &lb->name,
                  &hpd->pd.d.view->fallback->pool->name);

    if (ngx_http_cflb_has_page(r, NGX_HTTP_CFLB_530)) {
        return NGX_HTTP_CFLB_530;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    len = sizeof(ngx_http_cflb_530_head) - 1
          + lb->name.len + ngx_escape_html(NULL, lb->name.data, lb->name.len)
          + sizeof(ngx_http_cflb_530_tail) - 1;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, ngx_http_cflb_530_head,
                   sizeof(ngx_http_cflb_530_head) - 1);
    p = (u_char *) ngx_escape_html(p, lb->name.data, lb->name.len);
    b->last = ngx_cpymem(p, ngx_http_cflb_530_tail,
                         sizeof(ngx_http_cflb_530_tail) - 1);

    ngx_str_set(&type, "text/html");
    ngx_str_set(&r->headers_out.status_line, "530 Origin DNS Error");

    rc = ngx_http_cflb_send(r, NGX_HTTP_CFLB_530, &type, b);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * Would nginx send an error_page for status: the location has one, and
 * the request is not an error page itself already, nor out of internal
 * redirects (ngx_http_special_response_handler()'s conditions).
 */

static ngx_uint_t
ngx_http_cflb_has_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) status) {
            return 1;
        }
    }

    return 0;
}
