
/*
 * Alerts as webhooks: endpoint and pool health changes, and enables and
 * disables, POSTed as JSON to each cflb_notify URL whose filters take
 * them (http:// or https://).  The worker that saw the change numbers
 * the event from the zone's counter, so that a receiver can order events
 * from all workers, and queues it in its own memory, once per webhook
 * (bounded: the oldest waiting event goes first).  Each webhook delivers
 * one event at a time, in order, over a connection of its own, retrying
 * with exponential backoff.  No request ever waits for a webhook.
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
#include "cflb_alert.h"


#define NGX_CFLB_NOTIFY_QUEUE        64     /* events waiting, per worker */
#define NGX_CFLB_NOTIFY_RETRIES      5
#define NGX_CFLB_NOTIFY_MAX_RETRIES  100
#define NGX_CFLB_NOTIFY_TIMEOUT      5000   /* msec, one attempt */
#define NGX_CFLB_NOTIFY_MAX_TIMEOUT  300000 /* msec: the queue waits */
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


/* one cflb_notify: where, which events, and this worker's delivery */
typedef struct {
    ngx_str_t                 url;           /* as configured */
    ngx_addr_t               *addrs;         /* resolved at start */
    ngx_uint_t                naddrs;
    ngx_uint_t                addr;          /* the one in use */
    ngx_uint_t                untried;       /* others left, this attempt */
    ngx_str_t                 host;          /* host[:port], for Host */
    ngx_str_t                 name;          /* host: SNI, certificate */
    ngx_str_t                 uri;
    ngx_uint_t                retries;
    ngx_msec_t                timeout;
    unsigned                  filter;        /* cflb_alert kinds taken */
    ngx_array_t              *pool_names;    /* pools=, or NULL: all */
    ngx_array_t              *pools;         /* ngx_cflb_pool_t *, found */
#if (NGX_SSL)
    ngx_ssl_t                *ssl;           /* https://, or NULL */
    ngx_str_t                 trusted;       /* ssl_trusted_certificate= */
    ngx_flag_t                verify;        /* ssl_verify= */
#endif

    /* this worker's delivery */
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

    unsigned                  https:1;
    unsigned                  connected:1;
    unsigned                  handshaked:1;  /* or plain http */
    unsigned                  overflow:1;    /* logged; reset when empty */
} ngx_cflb_webhook_t;


struct ngx_cflb_notify_s {
    ngx_array_t               hooks;         /* ngx_cflb_webhook_t */
    ngx_str_t                 hostname;
    ngx_uint_t                worker;        /* init_worker has run */
};


/* what one event is about */
typedef struct {
    const char               *alert_type;
    ngx_cflb_pool_t          *pool;
    ngx_cflb_endpoint_t      *ep;            /* its origin, or the cause */
    ngx_uint_t                origin;        /* about ep, not the pool */
    ngx_int_t                 enabled;       /* -1: a health event */
    ngx_uint_t                healthy;       /* health events: new health */
    ngx_uint_t                pool_changed;
    ngx_atomic_uint_t         sequence;
    u_char                    id[33];
} ngx_cflb_notify_what_t;


static ngx_int_t ngx_cflb_notify_url(ngx_conf_t *cf, ngx_cflb_webhook_t *wh,
    ngx_str_t *url);
static ngx_int_t ngx_cflb_notify_param(ngx_conf_t *cf,
    ngx_cflb_webhook_t *wh, ngx_str_t *value);
#if (NGX_SSL)
static ngx_int_t ngx_cflb_notify_ssl(ngx_conf_t *cf, ngx_cflb_webhook_t *wh);
static void ngx_cflb_notify_handshaked(ngx_connection_t *c);
#endif
static void ngx_cflb_notify_queue(ngx_cflb_conf_t *ccf,
    ngx_cflb_notify_what_t *w);
static ngx_uint_t ngx_cflb_notify_wants(ngx_cflb_webhook_t *wh,
    ngx_cflb_notify_what_t *w, unsigned kind);
static ngx_cflb_notify_event_t *ngx_cflb_notify_event(ngx_cflb_conf_t *ccf,
    ngx_cflb_notify_what_t *w, ngx_cflb_notify_event_t *copy);
static void ngx_cflb_notify_push(ngx_cflb_webhook_t *wh,
    ngx_cflb_notify_event_t *ev);
static size_t ngx_cflb_notify_size(ngx_cflb_notify_what_t *w);
static u_char *ngx_cflb_notify_render(u_char *p, ngx_cflb_conf_t *ccf,
    ngx_cflb_notify_what_t *w);
static u_char *ngx_cflb_notify_pool_json(u_char *p,
    ngx_cflb_notify_what_t *w);
static u_char *ngx_cflb_notify_origin(u_char *p, ngx_cflb_endpoint_t *ep,
    ngx_cflb_notify_what_t *w);
static void ngx_cflb_notify_next(ngx_cflb_webhook_t *wh);
static void ngx_cflb_notify_attempt(ngx_cflb_webhook_t *wh);
static ngx_int_t ngx_cflb_notify_request(ngx_cflb_webhook_t *wh);
static void ngx_cflb_notify_handler(ngx_event_t *ev);
static ngx_int_t ngx_cflb_notify_read(ngx_cflb_webhook_t *wh);
static void ngx_cflb_notify_retry(ngx_event_t *ev);
static void ngx_cflb_notify_failed(ngx_cflb_webhook_t *wh, ngx_err_t err,
    const char *what);
static void ngx_cflb_notify_done(ngx_cflb_webhook_t *wh);
static void ngx_cflb_notify_close(ngx_cflb_webhook_t *wh);


/*
 * cflb_notify URL [retries=N] [timeout=TIME] [alerts=...]
 *     [event_source=...] [new_health=...] [enabled=...] [pools=NAME,...]
 *     [ssl_verify=on|off] [ssl_trusted_certificate=FILE];
 *
 * Each cflb_notify is one webhook with its own filters; an event goes to
 * every webhook whose filters all take it.
 */

char *
ngx_cflb_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ngx_str_t           *value;
    ngx_uint_t           i;
    ngx_cflb_notify_t   *nt;
    ngx_cflb_webhook_t  *wh;

    nt = ccf->notify;

    if (nt == NULL) {
        nt = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_notify_t));
        if (nt == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_array_init(&nt->hooks, cf->pool, 1,
                           sizeof(ngx_cflb_webhook_t))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        ccf->notify = nt;
    }

    wh = ngx_array_push(&nt->hooks);
    if (wh == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(wh, sizeof(ngx_cflb_webhook_t));

    value = cf->args->elts;

    if (ngx_cflb_notify_url(cf, wh, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    wh->retries = NGX_CFLB_NOTIFY_RETRIES;
    wh->timeout = NGX_CFLB_NOTIFY_TIMEOUT;
    wh->filter = CFLB_ALERT_ALL;
#if (NGX_SSL)
    wh->verify = 1;
#endif

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_cflb_notify_param(cf, wh, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

#if (NGX_SSL)
    if (wh->https) {
        return ngx_cflb_notify_ssl(cf, wh) == NGX_OK ? NGX_CONF_OK
                                                     : NGX_CONF_ERROR;
    }

    if (!wh->verify || wh->trusted.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ssl_verify=\" and \"ssl_trusted_certificate=\" "
                           "are for https:// webhooks, not \"%V\"", &wh->url);
        return NGX_CONF_ERROR;
    }
#endif

    return NGX_CONF_OK;
}


/* http[s]://host[:port][/path], resolved now, like endpoints */

static ngx_int_t
ngx_cflb_notify_url(ngx_conf_t *cf, ngx_cflb_webhook_t *wh, ngx_str_t *url)
{
    size_t     skip;
    ngx_url_t  u;

    wh->url = *url;

    if (url->len > 8
        && ngx_strncasecmp(url->data, (u_char *) "https://", 8) == 0)
    {
#if (NGX_SSL)
        wh->https = 1;
        skip = 8;
#else
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "https webhooks need nginx built with SSL, "
                           "\"%V\"", url);
        return NGX_ERROR;
#endif

    } else if (url->len > 7
               && ngx_strncasecmp(url->data, (u_char *) "http://", 7) == 0)
    {
        skip = 7;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": it must start with \"http://\" "
                           "or \"https://\"", url);
        return NGX_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = url->data + skip;
    u.url.len = url->len - skip;
    u.default_port = wh->https ? 443 : 80;
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

    /*
     * every address: "localhost" is ::1 and 127.0.0.1 on a default
     * Debian, and the receiver may listen on one of them only
     */
    wh->addrs = u.addrs;
    wh->naddrs = u.naddrs;

    wh->host.data = u.url.data;
    wh->host.len = u.url.len - u.uri.len;
    wh->name = u.host;

    if (u.uri.len) {
        wh->uri = u.uri;

    } else {
        ngx_str_set(&wh->uri, "/");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_notify_param(ngx_conf_t *cf, ngx_cflb_webhook_t *wh,
    ngx_str_t *value)
{
    u_char      *p, *last, *comma;
    ngx_int_t    n;
    ngx_str_t    s, *name;
    cflb_str_t   param;
    cflb_err_t   err;

    param.data = value->data;
    param.len = value->len;

    switch (cflb_alert_param(&wh->filter, &param, &err)) {

    case CFLB_OK:
        return NGX_OK;

    case CFLB_ERROR:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": %s", value, err.msg);
        return NGX_ERROR;

    default: /* CFLB_DECLINED: not a filter */
        break;
    }

    s.data = ngx_strlchr(value->data, value->data + value->len, '=');

    if (s.data == NULL) {
        goto invalid;
    }

    s.data++;
    s.len = value->data + value->len - s.data;

    if (ngx_strncmp(value->data, "retries=", 8) == 0) {
        n = ngx_atoi(s.data, s.len);

        if (n == NGX_ERROR || n > NGX_CFLB_NOTIFY_MAX_RETRIES) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": it must be from 0 "
                               "to %d", value, NGX_CFLB_NOTIFY_MAX_RETRIES);
            return NGX_ERROR;
        }

        wh->retries = n;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "timeout=", 8) == 0) {
        n = ngx_parse_time(&s, 0);

        /* an attempt holds the queue: a timeout of hours silences it */
        if (n == NGX_ERROR || n == 0 || n > NGX_CFLB_NOTIFY_MAX_TIMEOUT) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": it must be from "
                               "1ms to 5m, the events behind an attempt wait "
                               "for it", value);
            return NGX_ERROR;
        }

        wh->timeout = (ngx_msec_t) n;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "pools=", 6) == 0) {
        if (wh->pool_names == NULL) {
            wh->pool_names = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
            if (wh->pool_names == NULL) {
                return NGX_ERROR;
            }
        }

        last = s.data + s.len;

        for (p = s.data; p <= last; p = comma + 1) {
            comma = ngx_strlchr(p, last, ',');
            comma = comma ? comma : last;

            if (comma == p) {
                goto invalid;
            }

            name = ngx_array_push(wh->pool_names);
            if (name == NULL) {
                return NGX_ERROR;
            }

            name->data = p;
            name->len = comma - p;
        }

        return NGX_OK;
    }

#if (NGX_SSL)
    if (ngx_strncmp(value->data, "ssl_verify=", 11) == 0) {
        if (s.len == 2 && ngx_strncmp(s.data, "on", 2) == 0) {
            wh->verify = 1;

        } else if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
            wh->verify = 0;

        } else {
            goto invalid;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "ssl_trusted_certificate=", 24) == 0
        && s.len)
    {
        wh->trusted = s;
        return NGX_OK;
    }
#endif

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       value);

    return NGX_ERROR;
}


#if (NGX_SSL)

/* the client context of an https webhook; verified as the monitors do */

static ngx_int_t
ngx_cflb_notify_ssl(ngx_conf_t *cf, ngx_cflb_webhook_t *wh)
{
    wh->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (wh->ssl == NULL) {
        return NGX_ERROR;
    }

    if (!wh->verify && wh->trusted.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ssl_trusted_certificate=\" has no effect with "
                           "\"ssl_verify=off\" in cflb_notify \"%V\"",
                           &wh->url);
        return NGX_ERROR;
    }

    return ngx_cflb_ssl_client(cf, wh->ssl, wh->verify ? &wh->trusted : NULL);
}

#endif


/*
 * After every block is read: the pools= names found (a name that is not
 * a pool of this block is refused, as monitors are).
 */

ngx_int_t
ngx_cflb_notify_init_conf(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_str_t            *names;
    ngx_uint_t            i, j;
    ngx_cflb_pool_t     **pool;
    ngx_cflb_webhook_t   *wh;

    if (ccf->notify == NULL) {
        return NGX_OK;
    }

    wh = ccf->notify->hooks.elts;

    for (i = 0; i < ccf->notify->hooks.nelts; i++) {
        if (wh[i].pool_names == NULL) {
            continue;
        }

        names = wh[i].pool_names->elts;

        wh[i].pools = ngx_array_create(cf->pool, wh[i].pool_names->nelts,
                                       sizeof(ngx_cflb_pool_t *));
        if (wh[i].pools == NULL) {
            return NGX_ERROR;
        }

        for (j = 0; j < wh[i].pool_names->nelts; j++) {
            pool = ngx_array_push(wh[i].pools);
            if (pool == NULL) {
                return NGX_ERROR;
            }

            *pool = ngx_cflb_find_pool(ccf, &names[j]);

            if (*pool == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "unknown pool \"%V\" in \"pools=\" of "
                              "cflb_notify \"%V\"", &names[j], &wh[i].url);
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* notification_filter [pool=WHICH] [origin=WHICH], in cflb_pool */

char *
ngx_cflb_notify_pool_filter(ngx_conf_t *cf, ngx_cflb_pool_t *pool)
{
    ngx_str_t   *value;
    ngx_uint_t   i;
    cflb_str_t   param;
    cflb_err_t   err;

    value = cf->args->elts;

    /* in a block of cflb_pool's own: messages are logged here */

    if (pool->notify_set) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"notification_filter\" directive is duplicate "
                           "in cflb_pool \"%V\"", &pool->name);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts < 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"notification_filter\" takes pool=... and "
                           "origin=... in cflb_pool \"%V\"", &pool->name);
        return NGX_CONF_ERROR;
    }

    pool->notify_set = 1;
    pool->notify_filter = CFLB_ALERT_ALL;

    for (i = 1; i < cf->args->nelts; i++) {
        param.data = value[i].data;
        param.len = value[i].len;

        switch (cflb_alert_pool_param(&pool->notify_filter, &param, &err)) {

        case CFLB_OK:
            continue;

        case CFLB_ERROR:
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": %s", &value[i],
                               err.msg);
            return NGX_CONF_ERROR;

        default:
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_cflb_notify_init_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t           i;
    ngx_cflb_notify_t   *nt;
    ngx_cflb_webhook_t  *wh;

    nt = ccf->notify;

    if (nt == NULL) {
        return NGX_OK;
    }

    nt->hostname = cycle->hostname;
    wh = nt->hooks.elts;

    for (i = 0; i < nt->hooks.nelts; i++) {
        wh[i].log = cycle->log;
        ngx_queue_init(&wh[i].events);

        wh[i].retry.handler = ngx_cflb_notify_retry;
        wh[i].retry.data = &wh[i];
        wh[i].retry.log = cycle->log;
        wh[i].retry.cancelable = 1;
    }

    nt->worker = 1;

    return NGX_OK;
}


/* what is left is lost, and logged: an attempt in flight, the queue */

void
ngx_cflb_notify_exit_worker(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t                i, n;
    ngx_queue_t              *q;
    ngx_cflb_notify_t        *nt;
    ngx_cflb_webhook_t       *wh;
    ngx_cflb_notify_event_t  *ev;

    nt = ccf->notify;

    if (nt == NULL || !nt->worker) {
        return;
    }

    nt->worker = 0;
    wh = nt->hooks.elts;

    for (i = 0; i < nt->hooks.nelts; i++) {
        ngx_cflb_notify_close(&wh[i]);

        if (wh[i].retry.timer_set) {
            ngx_del_timer(&wh[i].retry);
        }

        n = wh[i].nevents;

        while (!ngx_queue_empty(&wh[i].events)) {
            q = ngx_queue_head(&wh[i].events);
            ngx_queue_remove(q);
            ev = ngx_queue_data(q, ngx_cflb_notify_event_t, queue);
            ngx_free(ev);
        }

        wh[i].nevents = 0;
        wh[i].current = NULL;

        if (n) {
            ngx_log_error(NGX_LOG_WARN, wh[i].log, 0,
                          "cflb: webhook \"%V\": %ui event(s) dropped at "
                          "worker exit", &wh[i].url, n);
        }
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
    w.healthy = ep->sh->health.healthy;
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
    w.healthy = !ngx_cflb_pool_alert_critical(pool, NULL, NULL);
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
    w.healthy = 0;
    w.pool_changed = (ep == NULL);

    ngx_cflb_notify_queue(ccf, &w);
}


/*
 * The event, if the pool's notification_filter lets it out, is numbered,
 * rendered once into worker memory and queued for each webhook whose
 * filters take it.
 */

static void
ngx_cflb_notify_queue(ngx_cflb_conf_t *ccf, ngx_cflb_notify_what_t *w)
{
    unsigned                  kind;
    ngx_uint_t                i;
    ngx_cflb_notify_t        *nt;
    ngx_cflb_webhook_t       *wh;
    ngx_cflb_notify_event_t  *ev, *first;

    nt = ccf->notify;

    if (nt == NULL || !nt->worker) {
        return;
    }

    kind = w->enabled >= 0
           ? cflb_alert_bit(CFLB_ALERT_ENABLEMENT, w->origin, w->enabled)
           : cflb_alert_bit(CFLB_ALERT_HEALTH, w->origin, w->healthy);

    if (w->pool->notify_set && !(w->pool->notify_filter & kind)) {
        return;
    }

    first = NULL;
    w->sequence = 0;
    wh = nt->hooks.elts;

    for (i = 0; i < nt->hooks.nelts; i++) {
        if (!ngx_cflb_notify_wants(&wh[i], w, kind)) {
            continue;
        }

        if (w->sequence == 0) {
            /* one number per event, in the order the zone gave them */
            w->sequence = (ngx_atomic_uint_t)
                          ngx_atomic_fetch_add(&ccf->sh->alert_seq, 1) + 1;
            (void) ngx_sprintf(w->id, "%016uxL%016uxL%Z",
                               cflb_rng_next(&ccf->rng),
                               cflb_rng_next(&ccf->rng));
        }

        ev = ngx_cflb_notify_event(ccf, w, first);
        if (ev == NULL) {
            continue;
        }

        if (first == NULL) {
            first = ev;
        }

        ngx_cflb_notify_push(&wh[i], ev);
    }
}


static ngx_uint_t
ngx_cflb_notify_wants(ngx_cflb_webhook_t *wh, ngx_cflb_notify_what_t *w,
    unsigned kind)
{
    ngx_uint_t         i;
    ngx_cflb_pool_t  **pools;

    if (!(wh->filter & kind)) {
        return 0;
    }

    if (wh->pools == NULL) {
        return 1;
    }

    pools = wh->pools->elts;

    for (i = 0; i < wh->pools->nelts; i++) {
        if (pools[i] == w->pool) {
            return 1;
        }
    }

    return 0;
}


/* a queued event: rendered, or a copy of one already rendered */

static ngx_cflb_notify_event_t *
ngx_cflb_notify_event(ngx_cflb_conf_t *ccf, ngx_cflb_notify_what_t *w,
    ngx_cflb_notify_event_t *copy)
{
    size_t                    size;
    ngx_cflb_notify_event_t  *ev;

    size = copy ? copy->len : ngx_cflb_notify_size(w);

    ev = ngx_alloc(sizeof(ngx_cflb_notify_event_t) + size, ngx_cycle->log);
    if (ev == NULL) {
        return NULL;
    }

    ev->attempts = 0;
    ev->body = (u_char *) (ev + 1);
    ngx_memcpy(ev->id, w->id, sizeof(w->id));

    if (copy) {
        ev->len = copy->len;
        ngx_memcpy(ev->body, copy->body, copy->len);

    } else {
        ev->len = ngx_cflb_notify_render(ev->body, ccf, w) - ev->body;
    }

    return ev;
}


/* into the webhook's queue; the oldest may go */

static void
ngx_cflb_notify_push(ngx_cflb_webhook_t *wh, ngx_cflb_notify_event_t *ev)
{
    ngx_queue_t              *q;
    ngx_cflb_notify_event_t  *old;

    if (wh->nevents == NGX_CFLB_NOTIFY_QUEUE) {

        /* the oldest that is not being delivered */
        q = ngx_queue_head(&wh->events);
        old = ngx_queue_data(q, ngx_cflb_notify_event_t, queue);

        if (old == wh->current) {
            q = ngx_queue_next(q);
            old = ngx_queue_data(q, ngx_cflb_notify_event_t, queue);
        }

        if (!wh->overflow) {
            ngx_log_error(NGX_LOG_WARN, wh->log, 0,
                          "cflb: webhook \"%V\": %d events waiting, "
                          "dropping the oldest", &wh->url,
                          NGX_CFLB_NOTIFY_QUEUE);
            wh->overflow = 1;
        }

        ngx_queue_remove(q);
        ngx_free(old);
        wh->nevents--;
    }

    ngx_queue_insert_tail(&wh->events, &ev->queue);
    wh->nevents++;

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, wh->log, 0,
                   "cflb webhook event %s queued, %ui waiting",
                   ev->id, wh->nevents);

    ngx_cflb_notify_next(wh);
}


/* an upper bound: names may grow sixfold when escaped */

static size_t
ngx_cflb_notify_size(ngx_cflb_notify_what_t *w)
{
    size_t                size;
    ngx_uint_t            i;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_endpoint_t  *eps;

    size = 2 * NGX_CFLB_NOTIFY_OBJ
           + NGX_CFLB_JSON_ESCAPED * w->pool->conf->notify->hostname.len
           + NGX_CFLB_JSON_ESCAPED * w->pool->name.len;

    lbs = w->pool->conf->lbs.elts;

    for (i = 0; i < w->pool->conf->lbs.nelts; i++) {
        size += 3 + NGX_CFLB_JSON_ESCAPED * lbs[i]->name.len;
    }

    eps = w->pool->endpoints.elts;

    for (i = 0; i < w->pool->endpoints.nelts; i++) {
        size += NGX_CFLB_NOTIFY_OBJ
                + NGX_CFLB_JSON_ESCAPED * (eps[i].name.len
                                           + eps[i].addr.name.len);
    }

    return size;
}


static u_char *
ngx_cflb_notify_render(u_char *p, ngx_cflb_conf_t *ccf,
    ngx_cflb_notify_what_t *w)
{
    ngx_tm_t         tm;
    ngx_uint_t       i, j, n;
    ngx_time_t      *tp;
    ngx_cflb_lb_t  **lbs;

    tp = ngx_timeofday();
    ngx_gmtime(tp->sec, &tm);

    p = ngx_sprintf(p, "{\"id\":\"%s\",\"sequence\":%uA,\"timestamp\":"
                    "\"%4d-%02d-%02dT%02d:%02d:%02d.%03MZ\","
                    "\"alert_type\":\"%s\",\"event_source\":\"%s\",",
                    w->id, w->sequence, tm.ngx_tm_year, tm.ngx_tm_mon,
                    tm.ngx_tm_mday, tm.ngx_tm_hour, tm.ngx_tm_min,
                    tm.ngx_tm_sec, tp->msec, w->alert_type,
                    w->origin ? "origin" : "pool");

    if (w->enabled >= 0) {
        p = ngx_sprintf(p, "\"enabled\":%s,",
                        w->enabled ? "true" : "false");

    } else {
        p = ngx_sprintf(p, "\"new_health\":\"%s\",",
                        w->healthy ? "Healthy" : "Unhealthy");
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
ngx_cflb_notify_next(ngx_cflb_webhook_t *wh)
{
    if (wh->current) {
        return;
    }

    if (ngx_queue_empty(&wh->events)) {
        wh->overflow = 0;
        return;
    }

    /* a worker shutting down starts nothing new; exit logs what is left */
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    wh->current = ngx_queue_data(ngx_queue_head(&wh->events),
                                 ngx_cflb_notify_event_t, queue);

    wh->untried = wh->naddrs - 1;
    ngx_cflb_notify_attempt(wh);
}


static void
ngx_cflb_notify_attempt(ngx_cflb_webhook_t *wh)
{
    ngx_int_t  rc;

    wh->pool = ngx_create_pool(1024, wh->log);

    if (wh->pool == NULL || ngx_cflb_notify_request(wh) != NGX_OK) {
        ngx_cflb_notify_failed(wh, 0, "out of memory");
        return;
    }

    ngx_memzero(&wh->pc, sizeof(ngx_peer_connection_t));

    wh->pc.sockaddr = wh->addrs[wh->addr].sockaddr;
    wh->pc.socklen = wh->addrs[wh->addr].socklen;
    wh->pc.name = &wh->host;
    wh->pc.log = wh->log;
    wh->pc.log_error = NGX_ERROR_INFO;
    wh->connected = 0;
    wh->handshaked = !wh->https;

    rc = ngx_cflb_connect(&wh->pc, wh, wh->pool, ngx_cflb_notify_handler,
                          wh->timeout);

    if (rc == NGX_ERROR) {
        ngx_cflb_notify_failed(wh, 0, "connect() failed");
        return;
    }

    if (rc == NGX_OK) {
        ngx_cflb_notify_handler(wh->pc.connection->write);
    }
}


static ngx_int_t
ngx_cflb_notify_request(ngx_cflb_webhook_t *wh)
{
    size_t                    len;
    ngx_cflb_notify_event_t  *ev;

    ev = wh->current;

    len = sizeof("POST  HTTP/1.1\r\nHost: \r\n") - 1 + wh->uri.len
          + wh->host.len + sizeof(NGX_CFLB_NOTIFY_HEADERS) - 1
          + sizeof("Content-Length: \r\n\r\n") - 1 + NGX_SIZE_T_LEN + ev->len;

    wh->out = ngx_create_temp_buf(wh->pool, len);
    wh->in = ngx_create_temp_buf(wh->pool, 1024);
    wh->resp = ngx_palloc(wh->pool, sizeof(cflb_http_resp_t));

    if (wh->out == NULL || wh->in == NULL || wh->resp == NULL) {
        return NGX_ERROR;
    }

    cflb_http_resp_init(wh->resp);

    wh->out->last = ngx_sprintf(wh->out->last,
                                "POST %V HTTP/1.1\r\nHost: %V\r\n"
                                NGX_CFLB_NOTIFY_HEADERS
                                "Content-Length: %uz\r\n\r\n",
                                &wh->uri, &wh->host, ev->len);

    wh->out->last = ngx_cpymem(wh->out->last, ev->body, ev->len);

    return NGX_OK;
}


static void
ngx_cflb_notify_handler(ngx_event_t *ev)
{
    ngx_int_t            rc;
    ngx_err_t            err;
    ngx_connection_t    *c;
    ngx_cflb_webhook_t  *wh;

    c = ev->data;
    wh = c->data;

    if (ev->timedout) {
        ngx_cflb_notify_failed(wh, NGX_ETIMEDOUT, "timed out");
        return;
    }

    if (!wh->connected) {
        rc = ngx_cflb_connected(c, &err);

        if (rc == NGX_ERROR) {
            ngx_cflb_notify_failed(wh, err, "connect() failed");
            return;
        }

        wh->connected = (rc == NGX_OK);

#if (NGX_SSL)
        if (wh->connected && wh->https) {
            /* the handshake's end calls ngx_cflb_notify_handshaked() */
            if (ngx_cflb_ssl_start(c, wh->ssl, &wh->name,
                                   ngx_cflb_notify_handshaked)
                != NGX_OK)
            {
                ngx_cflb_notify_failed(wh, 0, "TLS failed to start");
            }

            return;
        }
#endif
    }

    if (wh->connected && wh->handshaked) {
        rc = ngx_cflb_send(c, wh->out);

        if (rc == NGX_OK) {
            rc = ngx_cflb_notify_read(wh);
        }

        if (rc == NGX_ERROR) {
            ngx_cflb_notify_failed(wh, 0, "no valid response");
            return;
        }

        if (rc == NGX_OK) {
            if (wh->resp->status >= 200 && wh->resp->status < 300) {
                ngx_cflb_notify_done(wh);

            } else {
                ngx_cflb_notify_failed(wh, 0, NULL);
            }

            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_cflb_notify_failed(wh, 0, "event error");
    }
}


#if (NGX_SSL)

static void
ngx_cflb_notify_handshaked(ngx_connection_t *c)
{
    u_char               why[NGX_CFLB_SSL_WHY];
    ngx_cflb_webhook_t  *wh;

    wh = c->data;

    if (!c->ssl->handshaked) {
        if (c->write->timedout || c->read->timedout) {
            ngx_cflb_notify_failed(wh, NGX_ETIMEDOUT, "timed out");

        } else {
            ngx_cflb_notify_failed(wh, 0, "TLS handshake failed");
        }

        return;
    }

    if (wh->verify
        && ngx_cflb_ssl_verify(c, &wh->name, why, sizeof(why)) != NGX_OK)
    {
        ngx_cflb_notify_failed(wh, 0, (const char *) why);
        return;
    }

    wh->handshaked = 1;

    c->read->handler = ngx_cflb_notify_handler;
    c->write->handler = ngx_cflb_notify_handler;

    ngx_cflb_notify_handler(c->write);
}

#endif


/* the response head: NGX_OK once it is read, NGX_AGAIN, NGX_ERROR */

static ngx_int_t
ngx_cflb_notify_read(ngx_cflb_webhook_t *wh)
{
    int                rc;
    size_t             used;
    ssize_t            n;
    ngx_connection_t  *c;

    c = wh->pc.connection;

    for ( ;; ) {
        n = c->recv(c, wh->in->start, wh->in->end - wh->in->start);

        if (n == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (n == NGX_ERROR || n == 0) {
            return NGX_ERROR;
        }

        rc = cflb_http_resp_head(wh->resp, wh->in->start, n,
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
    ngx_cflb_webhook_t  *wh;

    wh = ev->data;

    if (wh->current) {
        wh->untried = wh->naddrs - 1;
        ngx_cflb_notify_attempt(wh);
    }
}


/*
 * An attempt failed (what, or the status it was answered): another one
 * after 1, 2, 4... seconds, up to "retries" of them; then the event is
 * dropped and the next one goes.
 */

static void
ngx_cflb_notify_failed(ngx_cflb_webhook_t *wh, ngx_err_t err,
    const char *what)
{
    u_char                    buf[sizeof("answered ") + NGX_INT_T_LEN];
    ngx_msec_t                delay;
    ngx_cflb_notify_event_t  *ev;

    ev = wh->current;

    if (!wh->connected && wh->untried) {
        /* as nginx's upstream: the name's next address at once */
        ngx_log_error(NGX_LOG_INFO, wh->log, err,
                      "cflb: webhook \"%V\": event %s, %V: %s, trying the "
                      "next address", &wh->url, ev->id,
                      &wh->addrs[wh->addr].name, what);
        ngx_cflb_notify_close(wh);
        wh->untried--;
        wh->addr = (wh->addr + 1) % wh->naddrs;
        ngx_cflb_notify_attempt(wh);
        return;
    }

    if (what == NULL) {
        (void) ngx_sprintf(buf, "answered %ui%Z", wh->resp->status);
        what = (const char *) buf;
    }

    if (ev->attempts++ == wh->retries) {
        ngx_log_error(NGX_LOG_ERR, wh->log, err,
                      "cflb: webhook \"%V\": event %s dropped after %ui "
                      "retries, the last %s", &wh->url, ev->id, wh->retries,
                      what);

        ngx_cflb_notify_close(wh);

        ngx_queue_remove(&ev->queue);
        ngx_free(ev);
        wh->nevents--;
        wh->current = NULL;

        ngx_cflb_notify_next(wh);
        return;
    }

    delay = NGX_CFLB_NOTIFY_BACKOFF << ngx_min(ev->attempts - 1, 6);
    delay = ngx_min(delay, NGX_CFLB_NOTIFY_BACKOFF_MAX);

    ngx_log_error(NGX_LOG_WARN, wh->log, err,
                  "cflb: webhook \"%V\": event %s %s, retry %ui of %ui in "
                  "%M ms", &wh->url, ev->id, what, ev->attempts, wh->retries,
                  delay);

    /* after the log: "what" may be in the attempt's pool */
    ngx_cflb_notify_close(wh);

    ngx_add_timer(&wh->retry, delay);
}


static void
ngx_cflb_notify_done(ngx_cflb_webhook_t *wh)
{
    ngx_cflb_notify_event_t  *ev;

    ev = wh->current;

    ngx_log_error(NGX_LOG_INFO, wh->log, 0,
                  "cflb: webhook \"%V\": event %s delivered, answered %ui "
                  "after %ui retries", &wh->url, ev->id, wh->resp->status,
                  ev->attempts);

    ngx_cflb_notify_close(wh);

    ngx_queue_remove(&ev->queue);
    ngx_free(ev);
    wh->nevents--;
    wh->current = NULL;

    ngx_cflb_notify_next(wh);
}


static void
ngx_cflb_notify_close(ngx_cflb_webhook_t *wh)
{
    if (wh->pc.connection) {
        ngx_cflb_close(wh->pc.connection);
        wh->pc.connection = NULL;
    }

    if (wh->pool) {
        ngx_destroy_pool(wh->pool);
        wh->pool = NULL;
    }

    wh->connected = 0;
    wh->handshaked = 0;
}
