
/*
 * Alerts as webhooks: endpoint and pool health changes, and enables and
 * disables, POSTed as JSON to the cflb_notify URL.  The worker that saw
 * the change queues the event in its own memory (bounded: the oldest
 * waiting event goes first) and delivers one event at a time, in order,
 * over a connection of its own, retrying with exponential backoff.  No
 * request ever waits for a webhook.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_cflb_notify.h"
#include "ngx_cflb_shm.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_conn.h"
#include "ngx_cflb_json.h"
#include "cflb_http_resp.h"


#define NGX_CFLB_NOTIFY_QUEUE        64     /* events waiting, per worker */
#define NGX_CFLB_NOTIFY_RETRIES      5
#define NGX_CFLB_NOTIFY_MAX_RETRIES  100
#define NGX_CFLB_NOTIFY_TIMEOUT      5000   /* msec, one attempt */
#define NGX_CFLB_NOTIFY_BACKOFF      1000   /* msec, before the 1st retry */
#define NGX_CFLB_NOTIFY_BACKOFF_MAX  60000  /* msec */
#define NGX_CFLB_NOTIFY_HEAD         4096   /* the largest response head */

/* the most one object of an event takes, besides its escaped names */
#define NGX_CFLB_NOTIFY_OBJ          512

#define NGX_CFLB_NOTIFY_HEADERS                                               \
    "User-Agent: cflb/1.0\r\n"                                                \
    "Content-Type: application/json\r\n"                                      \
    "Connection: close\r\n"


typedef struct {
    ngx_queue_t               queue;
    ngx_uint_t                attempts;      /* failed so far */
    size_t                    len;
    u_char                   *body;          /* follows this struct */
    u_char                    id[33];
} ngx_cflb_notify_event_t;


struct ngx_cflb_notify_s {
    ngx_str_t                 url;           /* as configured */
    ngx_addr_t                addr;          /* resolved at start */
    ngx_str_t                 host;          /* host[:port], for Host */
    ngx_str_t                 uri;
    ngx_uint_t                retries;
    ngx_msec_t                timeout;

    /* this worker's delivery */
    ngx_str_t                 hostname;
    ngx_log_t                *log;
    ngx_queue_t               events;        /* oldest first */
    ngx_uint_t                nevents;
    ngx_cflb_notify_event_t  *current;       /* being delivered */
    ngx_event_t               retry;         /* the backoff */
    ngx_peer_connection_t     pc;
    ngx_pool_t               *pool;          /* of one attempt */
    ngx_buf_t                *out;
    ngx_buf_t                *in;
    cflb_http_resp_t         *resp;

    unsigned                  worker:1;      /* init_worker has run */
    unsigned                  connected:1;
    unsigned                  overflow:1;    /* logged; reset when empty */
};


/* what one event is about */
typedef struct {
    const char               *alert_type;
    ngx_cflb_pool_t          *pool;
    ngx_cflb_endpoint_t      *ep;            /* its origin, or the cause */
    ngx_uint_t                origin;        /* about ep, not the pool */
    ngx_int_t                 enabled;       /* -1: a health event */
    ngx_uint_t                pool_changed;
} ngx_cflb_notify_what_t;


static ngx_int_t ngx_cflb_notify_url(ngx_conf_t *cf, ngx_cflb_notify_t *nt,
    ngx_str_t *url);
static void ngx_cflb_notify_queue(ngx_cflb_conf_t *ccf,
    ngx_cflb_notify_what_t *w);
static size_t ngx_cflb_notify_size(ngx_cflb_notify_what_t *w);
static u_char *ngx_cflb_notify_render(u_char *p, ngx_cflb_conf_t *ccf,
    ngx_cflb_notify_what_t *w, u_char *id);
static u_char *ngx_cflb_notify_pool_json(u_char *p,
    ngx_cflb_notify_what_t *w);
static u_char *ngx_cflb_notify_origin(u_char *p, ngx_cflb_endpoint_t *ep,
    ngx_cflb_notify_what_t *w);
static void ngx_cflb_notify_next(ngx_cflb_notify_t *nt);
static void ngx_cflb_notify_attempt(ngx_cflb_notify_t *nt);
static ngx_int_t ngx_cflb_notify_request(ngx_cflb_notify_t *nt);
static void ngx_cflb_notify_handler(ngx_event_t *ev);
static ngx_int_t ngx_cflb_notify_read(ngx_cflb_notify_t *nt);
static void ngx_cflb_notify_retry(ngx_event_t *ev);
static void ngx_cflb_notify_failed(ngx_cflb_notify_t *nt, ngx_err_t err,
    const char *what);
static void ngx_cflb_notify_done(ngx_cflb_notify_t *nt);
static void ngx_cflb_notify_close(ngx_cflb_notify_t *nt);


/* cflb_notify URL [retries=N] [timeout=TIME] */

char *
ngx_cflb_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ngx_int_t           n;
    ngx_str_t          *value, s;
    ngx_uint_t          i;
    ngx_cflb_notify_t  *nt;

    if (ccf->notify) {
        return "is duplicate";
    }

    nt = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_notify_t));
    if (nt == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_cflb_notify_url(cf, nt, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    nt->retries = NGX_CFLB_NOTIFY_RETRIES;
    nt->timeout = NGX_CFLB_NOTIFY_TIMEOUT;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "retries=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);

            if (n == NGX_ERROR || n > NGX_CFLB_NOTIFY_MAX_RETRIES) {
                goto invalid;
            }

            nt->retries = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            nt->timeout = (ngx_msec_t) n;
            continue;
        }

        goto invalid;
    }

    ccf->notify = nt;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}


/* http://host[:port][/path], resolved now, like endpoints */

static ngx_int_t
ngx_cflb_notify_url(ngx_conf_t *cf, ngx_cflb_notify_t *nt, ngx_str_t *url)
{
    ngx_url_t  u;

    nt->url = *url;

    if (url->len >= 8
        && ngx_strncasecmp(url->data, (u_char *) "https://", 8) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "https webhooks are not supported in \"%V\", "
                           "use http:// (to a local relay, for example)",
                           url);
        return NGX_ERROR;
    }

    if (url->len < 7
        || ngx_strncasecmp(url->data, (u_char *) "http://", 7) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": it must start with \"http://\"",
                           url);
        return NGX_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = url->data + 7;
    u.url.len = url->len - 7;
    u.default_port = 80;
    u.uri_part = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in URL \"%V\"",
                           u.err ? u.err : "invalid host", url);
        return NGX_ERROR;
    }

    if (u.naddrs == 0 || u.host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "no host in URL \"%V\"", url);
        return NGX_ERROR;
    }

    /* the first address, as the monitors do with an endpoint's name */
    nt->addr = u.addrs[0];

    nt->host.data = u.url.data;
    nt->host.len = u.url.len - u.uri.len;

    if (u.uri.len) {
        nt->uri = u.uri;

    } else {
        ngx_str_set(&nt->uri, "/");
    }

    return NGX_OK;
}


ngx_int_t
ngx_cflb_notify_init_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf)
{
    ngx_cflb_notify_t  *nt;

    nt = ccf->notify;

    if (nt == NULL) {
        return NGX_OK;
    }

    nt->hostname = cycle->hostname;
    nt->log = cycle->log;
    ngx_queue_init(&nt->events);

    nt->retry.handler = ngx_cflb_notify_retry;
    nt->retry.data = nt;
    nt->retry.log = cycle->log;
    nt->retry.cancelable = 1;

    nt->worker = 1;

    return NGX_OK;
}


/* what is left is lost, and logged: an attempt in flight, the queue */

void
ngx_cflb_notify_exit_worker(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t                n;
    ngx_queue_t              *q;
    ngx_cflb_notify_t        *nt;
    ngx_cflb_notify_event_t  *ev;

    nt = ccf->notify;

    if (nt == NULL || !nt->worker) {
        return;
    }

    nt->worker = 0;

    ngx_cflb_notify_close(nt);

    if (nt->retry.timer_set) {
        ngx_del_timer(&nt->retry);
    }

    n = nt->nevents;

    while (!ngx_queue_empty(&nt->events)) {
        q = ngx_queue_head(&nt->events);
        ngx_queue_remove(q);
        ev = ngx_queue_data(q, ngx_cflb_notify_event_t, queue);
        ngx_free(ev);
    }

    nt->nevents = 0;
    nt->current = NULL;

    if (n) {
        ngx_log_error(NGX_LOG_WARN, nt->log, 0,
                      "cflb: webhook \"%V\": %ui event(s) dropped at worker "
                      "exit", &nt->url, n);
    }
}


void
ngx_cflb_notify_endpoint(ngx_cflb_endpoint_t *ep, ngx_uint_t pool_changed)
{
    ngx_cflb_notify_what_t  w;

    w.alert_type = "load_balancing_health_alert";
    w.pool = ep->pool;
    w.ep = ep;
    w.origin = 1;
    w.enabled = -1;
    w.pool_changed = pool_changed;

    ngx_cflb_notify_queue(ep->pool->conf, &w);
}


void
ngx_cflb_notify_pool(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *cause)
{
    ngx_cflb_notify_what_t  w;

    w.alert_type = "load_balancing_health_alert";
    w.pool = pool;
    w.ep = cause;
    w.origin = 0;
    w.enabled = -1;
    w.pool_changed = 1;

    ngx_cflb_notify_queue(pool->conf, &w);
}


void
ngx_cflb_notify_enabled(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_uint_t enabled)
{
    ngx_cflb_notify_what_t  w;

    w.alert_type = "load_balancing_pool_enablement_alert";
    w.pool = pool;
    w.ep = ep;
    w.origin = (ep != NULL);
    w.enabled = enabled ? 1 : 0;
    w.pool_changed = (ep == NULL);

    ngx_cflb_notify_queue(ccf, &w);
}


/* render the event into worker memory and queue it; the oldest may go */

static void
ngx_cflb_notify_queue(ngx_cflb_conf_t *ccf, ngx_cflb_notify_what_t *w)
{
    size_t                    size;
    ngx_queue_t              *q;
    ngx_cflb_notify_t        *nt;
    ngx_cflb_notify_event_t  *ev, *old;

    nt = ccf->notify;

    if (nt == NULL || !nt->worker) {
        return;
    }

    size = ngx_cflb_notify_size(w);

    ev = ngx_alloc(sizeof(ngx_cflb_notify_event_t) + size, nt->log);
    if (ev == NULL) {
        return;
    }

    ev->attempts = 0;
    ev->body = (u_char *) (ev + 1);

    (void) ngx_sprintf(ev->id, "%016uxL%016uxL%Z", cflb_rng_next(&ccf->rng),
                       cflb_rng_next(&ccf->rng));

    ev->len = ngx_cflb_notify_render(ev->body, ccf, w, ev->id) - ev->body;

    if (nt->nevents == NGX_CFLB_NOTIFY_QUEUE) {

        /* the oldest that is not being delivered */
        q = ngx_queue_head(&nt->events);
        old = ngx_queue_data(q, ngx_cflb_notify_event_t, queue);

        if (old == nt->current) {
            q = ngx_queue_next(q);
            old = ngx_queue_data(q, ngx_cflb_notify_event_t, queue);
        }

        if (!nt->overflow) {
            ngx_log_error(NGX_LOG_WARN, nt->log, 0,
                          "cflb: webhook \"%V\": %d events waiting, "
                          "dropping the oldest", &nt->url,
                          NGX_CFLB_NOTIFY_QUEUE);
            nt->overflow = 1;
        }

        ngx_queue_remove(q);
        ngx_free(old);
        nt->nevents--;
    }

    ngx_queue_insert_tail(&nt->events, &ev->queue);
    nt->nevents++;

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, nt->log, 0,
                   "cflb webhook event %s queued, %ui waiting",
                   ev->id, nt->nevents);

    ngx_cflb_notify_next(nt);
}


/* an upper bound: names may grow sixfold when escaped */

static size_t
ngx_cflb_notify_size(ngx_cflb_notify_what_t *w)
{
    size_t                size;
    ngx_uint_t            i;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_endpoint_t  *eps;

    size = 2 * NGX_CFLB_NOTIFY_OBJ + 6 * w->pool->conf->notify->hostname.len
           + 6 * w->pool->name.len;

    lbs = w->pool->conf->lbs.elts;

    for (i = 0; i < w->pool->conf->lbs.nelts; i++) {
        size += 3 + 6 * lbs[i]->name.len;
    }

    eps = w->pool->endpoints.elts;

    for (i = 0; i < w->pool->endpoints.nelts; i++) {
        size += NGX_CFLB_NOTIFY_OBJ + 6 * eps[i].name.len
                + 6 * eps[i].addr.name.len;
    }

    return size;
}


static u_char *
ngx_cflb_notify_render(u_char *p, ngx_cflb_conf_t *ccf,
    ngx_cflb_notify_what_t *w, u_char *id)
{
    ngx_tm_t         tm;
    ngx_uint_t       i, j, n, healthy;
    ngx_time_t      *tp;
    ngx_cflb_lb_t  **lbs;

    tp = ngx_timeofday();
    ngx_gmtime(tp->sec, &tm);

    p = ngx_sprintf(p, "{\"id\":\"%s\",\"timestamp\":"
                    "\"%4d-%02d-%02dT%02d:%02d:%02d.%03MZ\","
                    "\"alert_type\":\"%s\",\"event_source\":\"%s\",",
                    id, tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec, tp->msec,
                    w->alert_type, w->origin ? "origin" : "pool");

    if (w->enabled >= 0) {
        p = ngx_sprintf(p, "\"enabled\":%s,",
                        w->enabled ? "true" : "false");

    } else {
        healthy = w->origin
                  ? w->ep->sh->health.healthy
                  : !ngx_cflb_pool_alert_critical(w->pool, NULL, NULL);

        p = ngx_sprintf(p, "\"new_health\":\"%s\",",
                        healthy ? "Healthy" : "Unhealthy");
    }

    p = ngx_sprintf(p, "\"hostname\":");
    p = ngx_cflb_json_str(p, &ccf->notify->hostname);
    p = ngx_sprintf(p, ",\"subsystem\":\"%s\",\"load_balancers\":[",
                    ccf->http ? "http" : "stream");

    lbs = ccf->lbs.elts;
    n = 0;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        for (j = 0; j < lbs[i]->view.pools->n; j++) {
            if (lbs[i]->view.pools->entries[j]->pool == w->pool) {
                p = ngx_sprintf(p, n++ ? "," : "");
                p = ngx_cflb_json_str(p, &lbs[i]->name);
                break;
            }
        }
    }

    p = ngx_sprintf(p, "],\"pool\":");
    p = ngx_cflb_notify_pool_json(p, w);
    p = ngx_sprintf(p, ",\"origins\":[");

    if (w->origin) {
        p = ngx_cflb_notify_origin(p, w->ep, w);

    } else {
        for (i = 0; i < w->pool->endpoints.nelts; i++) {
            p = ngx_sprintf(p, i ? "," : "");
            p = ngx_cflb_notify_origin(p, (ngx_cflb_endpoint_t *)
                                       w->pool->endpoints.elts + i, w);
        }
    }

    return ngx_sprintf(p, "]}");
}


static u_char *
ngx_cflb_notify_pool_json(u_char *p, ngx_cflb_notify_what_t *w)
{
    ngx_uint_t        enabled, h;
    ngx_cflb_pool_t  *pool;

    pool = w->pool;
    h = pool->sh->health;

    enabled = (!w->origin && w->enabled >= 0) ? (ngx_uint_t) w->enabled
                                                 : (ngx_uint_t) pool->enabled;

    p = ngx_sprintf(p, "{\"id\":\"%016uxL\",\"name\":", pool->id);
    p = ngx_cflb_json_str(p, &pool->name);

    return ngx_sprintf(p, ",\"enabled\":%s,\"healthy\":%s,\"health\":\"%s\","
                       "\"changed\":%s,\"minimum_origins\":%ui}",
                       enabled ? "true" : "false",
                       ngx_cflb_pool_alert_critical(pool, NULL, NULL)
                       ? "false" : "true",
                       pool->monitor == NULL ? "unmonitored"
                       : (h ? cflb_pool_health_name(h - 1) : "unknown"),
                       w->pool_changed ? "true" : "false",
                       pool->minimum_origins);
}


static u_char *
ngx_cflb_notify_origin(u_char *p, ngx_cflb_endpoint_t *ep,
    ngx_cflb_notify_what_t *w)
{
    ngx_uint_t               enabled, known;
    ngx_cflb_sh_endpoint_t  *she;

    she = ep->sh;
    known = (ep->pool->monitor == NULL || she->health.known);

    enabled = (ep == w->ep && w->enabled >= 0) ? (ngx_uint_t) w->enabled
                                               : (she->disabled_at == 0);

    p = ngx_sprintf(p, "{\"name\":");
    p = ngx_cflb_json_str(p, &ep->name);
    p = ngx_sprintf(p, ",\"ip\":");
    p = ngx_cflb_json_str(p, &ep->addr.name);

    return ngx_sprintf(p, ",\"enabled\":%s,\"healthy\":%s,"
                       "\"failure_reason\":\"%s\",\"response_code\":%ui,"
                       "\"changed\":%s}",
                       enabled ? "true" : "false",
                       ngx_cflb_endpoint_healthy(ep) ? "true" : "false",
                       cflb_reason_name(known ? she->reason
                                                  : CFLB_REASON_NOT_CHECKED),
                       (ngx_uint_t) she->code,
                       ep == w->ep ? "true" : "false");
}



/* one event at a time keeps them in order */

static void
ngx_cflb_notify_next(ngx_cflb_notify_t *nt)
{
    if (nt->current) {
        return;
    }

    if (ngx_queue_empty(&nt->events)) {
        nt->overflow = 0;
        return;
    }

    /* a worker shutting down starts nothing new; exit logs what is left */
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    nt->current = ngx_queue_data(ngx_queue_head(&nt->events),
                                 ngx_cflb_notify_event_t, queue);

    ngx_cflb_notify_attempt(nt);
}


static void
ngx_cflb_notify_attempt(ngx_cflb_notify_t *nt)
{
    ngx_int_t  rc;

    nt->pool = ngx_create_pool(1024, nt->log);

    if (nt->pool == NULL || ngx_cflb_notify_request(nt) != NGX_OK) {
        ngx_cflb_notify_failed(nt, 0, "out of memory");
        return;
    }

    ngx_memzero(&nt->pc, sizeof(ngx_peer_connection_t));

    nt->pc.sockaddr = nt->addr.sockaddr;
    nt->pc.socklen = nt->addr.socklen;
    nt->pc.name = &nt->host;
    nt->pc.log = nt->log;
    nt->pc.log_error = NGX_ERROR_INFO;
    nt->connected = 0;

    rc = ngx_cflb_connect(&nt->pc, nt, nt->pool, ngx_cflb_notify_handler,
                          nt->timeout);

    if (rc == NGX_ERROR) {
        ngx_cflb_notify_failed(nt, 0, "connect() failed");
        return;
    }

    if (rc == NGX_OK) {
        ngx_cflb_notify_handler(nt->pc.connection->write);
    }
}


static ngx_int_t
ngx_cflb_notify_request(ngx_cflb_notify_t *nt)
{
    size_t                    len;
    ngx_cflb_notify_event_t  *ev;

    ev = nt->current;

    len = sizeof("POST  HTTP/1.1\r\nHost: \r\n") - 1 + nt->uri.len
          + nt->host.len + sizeof(NGX_CFLB_NOTIFY_HEADERS) - 1
          + sizeof("Content-Length: \r\n\r\n") - 1 + NGX_SIZE_T_LEN + ev->len;

    nt->out = ngx_create_temp_buf(nt->pool, len);
    nt->in = ngx_create_temp_buf(nt->pool, 1024);
    nt->resp = ngx_palloc(nt->pool, sizeof(cflb_http_resp_t));

    if (nt->out == NULL || nt->in == NULL || nt->resp == NULL) {
        return NGX_ERROR;
    }

    cflb_http_resp_init(nt->resp);

    nt->out->last = ngx_sprintf(nt->out->last,
                                "POST %V HTTP/1.1\r\nHost: %V\r\n"
                                NGX_CFLB_NOTIFY_HEADERS
                                "Content-Length: %uz\r\n\r\n",
                                &nt->uri, &nt->host, ev->len);

    nt->out->last = ngx_cpymem(nt->out->last, ev->body, ev->len);

    return NGX_OK;
}


static void
ngx_cflb_notify_handler(ngx_event_t *ev)
{
    ngx_int_t           rc;
    ngx_err_t           err;
    ngx_connection_t   *c;
    ngx_cflb_notify_t  *nt;

    c = ev->data;
    nt = c->data;

    if (ev->timedout) {
        ngx_cflb_notify_failed(nt, NGX_ETIMEDOUT, "timed out");
        return;
    }

    if (!nt->connected) {
        rc = ngx_cflb_connected(c, &err);

        if (rc == NGX_ERROR) {
            ngx_cflb_notify_failed(nt, err, "connect() failed");
            return;
        }

        nt->connected = (rc == NGX_OK);
    }

    if (nt->connected) {
        rc = ngx_cflb_send(c, nt->out);

        if (rc == NGX_OK) {
            rc = ngx_cflb_notify_read(nt);
        }

        if (rc == NGX_ERROR) {
            ngx_cflb_notify_failed(nt, 0, "no valid response");
            return;
        }

        if (rc == NGX_OK) {
            if (nt->resp->status >= 200 && nt->resp->status < 300) {
                ngx_cflb_notify_done(nt);

            } else {
                ngx_cflb_notify_failed(nt, 0, NULL);
            }

            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_cflb_notify_failed(nt, 0, "event error");
    }
}


/* the response head: NGX_OK once it is read, NGX_AGAIN, NGX_ERROR */

static ngx_int_t
ngx_cflb_notify_read(ngx_cflb_notify_t *nt)
{
    int                rc;
    size_t             used;
    ssize_t            n;
    ngx_connection_t  *c;

    c = nt->pc.connection;

    for ( ;; ) {
        n = c->recv(c, nt->in->start, nt->in->end - nt->in->start);

        if (n == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (n == NGX_ERROR || n == 0) {
            return NGX_ERROR;
        }

        rc = cflb_http_resp_head(nt->resp, nt->in->start, n,
                                 NGX_CFLB_NOTIFY_HEAD, &used);

        if (rc == CFLB_OK) {
            return NGX_OK;
        }

        if (rc == CFLB_ERROR) {
            return NGX_ERROR;
        }
    }
}


static void
ngx_cflb_notify_retry(ngx_event_t *ev)
{
    ngx_cflb_notify_t  *nt;

    nt = ev->data;

    if (nt->current) {
        ngx_cflb_notify_attempt(nt);
    }
}


/*
 * An attempt failed (what, or the status it was answered): another one
 * after 1, 2, 4... seconds, up to "retries" of them; then the event is
 * dropped and the next one goes.
 */

static void
ngx_cflb_notify_failed(ngx_cflb_notify_t *nt, ngx_err_t err,
    const char *what)
{
    u_char                    buf[sizeof("answered ") + NGX_INT_T_LEN];
    ngx_msec_t                delay;
    ngx_cflb_notify_event_t  *ev;

    ev = nt->current;

    if (what == NULL) {
        (void) ngx_sprintf(buf, "answered %ui%Z", nt->resp->status);
        what = (const char *) buf;
    }

    ngx_cflb_notify_close(nt);

    if (ev->attempts++ == nt->retries) {
        ngx_log_error(NGX_LOG_ERR, nt->log, err,
                      "cflb: webhook \"%V\": event %s dropped after %ui "
                      "retries, the last %s", &nt->url, ev->id, nt->retries,
                      what);

        ngx_queue_remove(&ev->queue);
        ngx_free(ev);
        nt->nevents--;
        nt->current = NULL;

        ngx_cflb_notify_next(nt);
        return;
    }

    delay = NGX_CFLB_NOTIFY_BACKOFF << ngx_min(ev->attempts - 1, 6);
    delay = ngx_min(delay, NGX_CFLB_NOTIFY_BACKOFF_MAX);

    ngx_log_error(NGX_LOG_WARN, nt->log, err,
                  "cflb: webhook \"%V\": event %s %s, retry %ui of %ui in "
                  "%M ms", &nt->url, ev->id, what, ev->attempts, nt->retries,
                  delay);

    ngx_add_timer(&nt->retry, delay);
}


static void
ngx_cflb_notify_done(ngx_cflb_notify_t *nt)
{
    ngx_cflb_notify_event_t  *ev;

    ev = nt->current;

    ngx_log_error(NGX_LOG_INFO, nt->log, 0,
                  "cflb: webhook \"%V\": event %s delivered, answered %ui "
                  "after %ui retries", &nt->url, ev->id, nt->resp->status,
                  ev->attempts);

    ngx_cflb_notify_close(nt);

    ngx_queue_remove(&ev->queue);
    ngx_free(ev);
    nt->nevents--;
    nt->current = NULL;

    ngx_cflb_notify_next(nt);
}


static void
ngx_cflb_notify_close(ngx_cflb_notify_t *nt)
{
    if (nt->pc.connection) {
        ngx_close_connection(nt->pc.connection);
        nt->pc.connection = NULL;
    }

    if (nt->pool) {
        ngx_destroy_pool(nt->pool);
        nt->pool = NULL;
    }

    nt->connected = 0;
}
