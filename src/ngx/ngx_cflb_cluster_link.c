
/*
 * A worker's part in a fleet (cflb_cluster).  Every worker ticks; one per
 * node and zone, claimed in the zone like a health check, talks to etcd:
 * it reads the zone's keys whole when its configuration is new, then
 * watches them (one long-lived watch, resumed from the last revision
 * applied, so that no change is missed) and applies each change as it
 * comes (ngx_cflb_cluster_apply.c); it keeps this node's health votes
 * under a lease.  When a member fails, the next one is tried, then all
 * again with a backoff; each state change of the connection is logged
 * once.  Requests never wait for any of it: they steer from the zone.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_cflb_cluster.h"
#include "ngx_cflb_health.h"


#define NGX_CFLB_CLUSTER_TICK        100    /* msec: claims, votes, leases */
#define NGX_CFLB_CLUSTER_BACKOFF     250    /* msec: after a failed round */
#define NGX_CFLB_CLUSTER_BACKOFF_MAX 5000   /* msec */
#define NGX_CFLB_CLUSTER_PAGE        500    /* keys a page of a read */
#define NGX_CFLB_CLUSTER_VOTES       64     /* votes a write carries */
#define NGX_CFLB_CLUSTER_MISSES      3      /* checks failed before a move */
#define NGX_CFLB_CLUSTER_QUIET       1000   /* msec after a failed check */


/* what a whole read found for an object; -1: no key */
typedef struct {
    ngx_int_t                 enabled;
    ngx_int_t                 weight;
    time_t                    at;
    cflb_votes_t              votes;
} ngx_cflb_cluster_want_t;


/* a vote being written: where, and what */
typedef struct {
    ngx_uint_t                pool;
    ngx_uint_t                ep;
    u_char                    vote;
} ngx_cflb_cluster_vote_t;


typedef struct {
    ngx_cflb_cluster_t       *cl;
    ngx_cflb_conf_t          *ccf;
    ngx_cflb_sh_cluster_t    *sh;
    ngx_log_t                *log;
    ngx_event_t               tick;
    ngx_event_t               retry;
    ngx_cflb_etcd_t          *watch;
    ngx_cflb_etcd_t          *call;          /* the request in flight */
    ngx_uint_t                member;
    ngx_uint_t                failures;      /* in a row */
    ngx_uint_t                misses;        /* checks failed in a row */
    ngx_msec_t                keepalive;     /* the next is due then */
    ngx_msec_t                quiet;         /* no request before then */

    /* a whole read: its revision, tables by pool, the next page */
    ngx_pool_t               *sync;
    ngx_cflb_cluster_want_t **want;          /* [0] pool, [1 + j] its eps */
    int64_t                   sync_rev;
    size_t                    last_len;
    u_char                    last[NGX_CFLB_CLUSTER_KEY + 4];

    /* the vote etcd has of each endpoint (CFLB_VOTE_*), by pool */
    u_char                  **published;
    ngx_cflb_cluster_vote_t   sending[NGX_CFLB_CLUSTER_VOTES];
    ngx_uint_t                nsending;

    ngx_cflb_cluster_kv_t     x;             /* a key-value being read */

    unsigned                  owner:1;
    unsigned                  watching:1;    /* etcd created the watch */
} ngx_cflb_cluster_link_t;


static void ngx_cflb_cluster_tick(ngx_event_t *ev);
static ngx_uint_t ngx_cflb_cluster_claim(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_release(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_stop(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_connect(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_retry(ngx_event_t *ev);
static void ngx_cflb_cluster_steady(ngx_cflb_cluster_link_t *w);
static ngx_int_t ngx_cflb_cluster_call(ngx_cflb_cluster_link_t *w,
    char *path, ngx_str_t *body, ngx_cflb_etcd_done_pt done);
static ngx_int_t ngx_cflb_cluster_answer(ngx_cflb_cluster_link_t *w,
    ngx_cflb_etcd_t *e, cflb_etcd_msg_t *m, cflb_etcd_kv_pt kv,
    ngx_uint_t check);
static void ngx_cflb_cluster_fail(ngx_cflb_cluster_link_t *w,
    u_char *err, size_t len);
static void ngx_cflb_cluster_state(ngx_cflb_cluster_link_t *w,
    ngx_uint_t state, u_char *err, size_t len);
static void ngx_cflb_cluster_keepalive(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_ping(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_pinged(ngx_cflb_etcd_t *e);
static void ngx_cflb_cluster_kept(ngx_cflb_etcd_t *e);
static void ngx_cflb_cluster_grant(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_granted(ngx_cflb_etcd_t *e);
static void ngx_cflb_cluster_read(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_page(ngx_cflb_etcd_t *e);
static int ngx_cflb_cluster_page_kv(void *data, const cflb_etcd_kv_t *kv);
static void ngx_cflb_cluster_read_done(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_watch(ngx_cflb_cluster_link_t *w);
static ngx_int_t ngx_cflb_cluster_message(ngx_cflb_etcd_t *e);
static int ngx_cflb_cluster_event(void *data, const cflb_etcd_kv_t *kv);
static void ngx_cflb_cluster_watch_end(ngx_cflb_etcd_t *e);
static void ngx_cflb_cluster_vote_out(ngx_cflb_cluster_link_t *w);
static void ngx_cflb_cluster_voted(ngx_cflb_etcd_t *e);


/* ------------------------------------------------------ a worker's part */

ngx_int_t
ngx_cflb_cluster_init_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t                i;
    ngx_cflb_pool_t         **pools;
    ngx_cflb_cluster_t       *cl;
    ngx_cflb_cluster_link_t  *w;

    cl = ccf->cluster;

    if (cl == NULL || ccf->sh->cluster == NULL) {
        return NGX_OK;
    }

    w = ngx_pcalloc(cycle->pool, sizeof(ngx_cflb_cluster_link_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    pools = ccf->pools.elts;

    w->published = ngx_pcalloc(cycle->pool, ccf->pools.nelts * sizeof(void *)
                                            + 1);
    if (w->published == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (!ngx_cflb_cluster_counts(pools[i])) {
            continue;
        }

        w->published[i] = ngx_pcalloc(cycle->pool,
                                      pools[i]->endpoints.nelts);
        if (w->published[i] == NULL) {
            return NGX_ERROR;
        }
    }

    w->cl = cl;
    w->ccf = ccf;
    w->sh = ccf->sh->cluster;
    w->log = cycle->log;

    w->tick.handler = ngx_cflb_cluster_tick;
    w->tick.data = w;
    w->tick.log = cycle->log;
    w->tick.cancelable = 1;

    w->retry.handler = ngx_cflb_cluster_retry;
    w->retry.data = w;
    w->retry.log = cycle->log;
    w->retry.cancelable = 1;

    cl->link = w;

    ngx_add_timer(&w->tick, 1 + ngx_random() % 50);

    return NGX_OK;
}


void
ngx_cflb_cluster_exit_worker(ngx_cflb_conf_t *ccf)
{
    ngx_cflb_cluster_link_t  *w;

    if (ccf->cluster == NULL || ccf->cluster->link == NULL) {
        return;
    }

    w = ccf->cluster->link;

    ngx_cflb_cluster_release(w);

    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    ccf->cluster->link = NULL;
}


static void
ngx_cflb_cluster_tick(ngx_event_t *ev)
{
    ngx_cflb_cluster_link_t  *w;

    w = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_cflb_cluster_release(w);
        return;
    }

    if (w->owner && (ngx_pid_t) w->sh->owner != ngx_pid) {
        /* a worker of a newer configuration took over */
        ngx_cflb_cluster_stop(w);
        w->owner = 0;
    }

    if (!w->owner && ngx_cflb_cluster_claim(w)) {
        w->owner = 1;
        ngx_cflb_cluster_connect(w);

    } else if (w->owner) {
        ngx_cflb_cluster_steady(w);
    }

    ngx_add_timer(ev, NGX_CFLB_CLUSTER_TICK);
}


/*
 * Take the zone's etcd connection: the owner field is claimed with a
 * compare and swap, from no one, from a worker that died, or from one of
 * an older configuration (a reload), which then lets it go.
 */

static ngx_uint_t
ngx_cflb_cluster_claim(ngx_cflb_cluster_link_t *w)
{
    ngx_pid_t               owner;
    ngx_cflb_sh_cluster_t  *sh;

    sh = w->sh;
    owner = (ngx_pid_t) sh->owner;

    if (owner
        && sh->owner_gen >= w->ccf->generation
        && (kill(owner, 0) == 0 || ngx_errno != NGX_ESRCH))
    {
        return 0;
    }

    if (!ngx_atomic_cmp_set(&sh->owner, (ngx_atomic_uint_t) owner,
                            (ngx_atomic_uint_t) ngx_pid))
    {
        return 0;
    }

    ngx_shmtx_lock(&w->ccf->shpool->mutex);

    sh->owner_gen = w->ccf->generation;

    /* its owner died connected: this one reconnects */
    if (sh->state == NGX_CFLB_ETCD_CONNECTED) {
        sh->state = NGX_CFLB_ETCD_RECONNECTING;
    }

    w->member = sh->member % w->cl->members.nelts;

    ngx_shmtx_unlock(&w->ccf->shpool->mutex);

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "cflb: worker %P talks to etcd for zone \"%V\"%s", ngx_pid,
                  &w->ccf->shm_zone->shm.name,
                  owner ? ", taking over" : "");

    return 1;
}


static void
ngx_cflb_cluster_release(ngx_cflb_cluster_link_t *w)
{
    ngx_cflb_cluster_stop(w);

    if (w->owner) {
        (void) ngx_atomic_cmp_set(&w->sh->owner, (ngx_atomic_uint_t) ngx_pid,
                                  0);
        w->owner = 0;
    }
}


/* every exchange closed, a read abandoned, no retry pending */

static void
ngx_cflb_cluster_stop(ngx_cflb_cluster_link_t *w)
{
    if (w->watch) {
        ngx_cflb_etcd_close(w->watch);
        w->watch = NULL;
    }

    if (w->call) {
        ngx_cflb_etcd_close(w->call);
        w->call = NULL;
    }

    if (w->sync) {
        ngx_destroy_pool(w->sync);
        w->sync = NULL;
    }

    if (w->retry.timer_set) {
        ngx_del_timer(&w->retry);
    }

    w->watching = 0;
    w->nsending = 0;
}


/*
 * A connection from the start, to w->member: the lease of this node's
 * votes kept (or made), the zone's keys read whole when this
 * configuration has not read them yet (or a read was asked for), then
 * the watch from the next revision.
 */

static void
ngx_cflb_cluster_connect(ngx_cflb_cluster_link_t *w)
{
    ngx_cflb_sh_cluster_t  *sh;

    sh = w->sh;

    if (sh->state == NGX_CFLB_ETCD_IDLE) {
        ngx_cflb_cluster_state(w, NGX_CFLB_ETCD_CONNECTING, NULL, 0);
    }

    if (w->cl->quorum) {
        if (sh->lease) {
            ngx_cflb_cluster_keepalive(w);

        } else {
            ngx_cflb_cluster_grant(w);
        }

        return;
    }

    ngx_cflb_cluster_read(w);
}


static void
ngx_cflb_cluster_retry(ngx_event_t *ev)
{
    ngx_cflb_cluster_link_t  *w;

    w = ev->data;

    if (w->owner && !ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_cflb_cluster_connect(w);
    }
}


/* the owner's tick while watching: a lease kept, a read, votes written */

static void
ngx_cflb_cluster_steady(ngx_cflb_cluster_link_t *w)
{
    if (!w->watching || w->call
        || (ngx_msec_int_t) (ngx_current_msec - w->quiet) < 0)
    {
        return;
    }

    /*
     * The member is asked something every third of the ttl: the lease
     * kept alive, or a read that needs its leader.  A member that keeps
     * the watch open but lost its cluster (or is cut off without its
     * connection closing) would otherwise go unnoticed.
     */
    if ((ngx_msec_int_t) (ngx_current_msec - w->keepalive) >= 0) {
        if (w->cl->quorum && w->sh->lease) {
            ngx_cflb_cluster_keepalive(w);

        } else {
            ngx_cflb_cluster_ping(w);
        }

        return;
    }

    if (w->sh->resync) {
        ngx_cflb_etcd_close(w->watch);
        w->watch = NULL;
        w->watching = 0;

        ngx_cflb_cluster_read(w);
        return;
    }

    if (w->cl->quorum) {
        ngx_cflb_cluster_vote_out(w);
    }
}


/* one request to the member in use; NGX_ERROR once it failed (handled) */

static ngx_int_t
ngx_cflb_cluster_call(ngx_cflb_cluster_link_t *w, char *path,
    ngx_str_t *body, ngx_cflb_etcd_done_pt done)
{
    u_char            err[NGX_CFLB_CLUSTER_ERR], *p;
    ngx_cflb_etcd_t  *e;

    e = ngx_cflb_etcd_create(w->log);
    if (e == NULL) {
        ngx_cflb_cluster_fail(w, (u_char *) "out of memory", 13);
        return NGX_ERROR;
    }

    e->member = (ngx_cflb_etcd_member_t *) w->cl->members.elts + w->member;
    e->path.data = (u_char *) path;
    e->path.len = ngx_strlen(path);
    e->body = *body;
    e->timeout = w->cl->timeout;
    e->done = done;
    e->data = w;

    if (ngx_cflb_etcd_start(e) != NGX_OK) {
        e->rc = NGX_ERROR;
        p = ngx_cflb_etcd_error(err, err + sizeof(err), e, NULL);
        ngx_cflb_etcd_close(e);
        ngx_cflb_cluster_fail(w, err, p - err);
        return NGX_ERROR;
    }

    w->call = e;

    return NGX_OK;
}


/*
 * The answer of a request, parsed into m (kv takes its key-values):
 * NGX_OK; or NGX_ERROR once the failure was handled, e closed.  A check
 * made while watching (the lease kept, a ping, votes written) may fail
 * NGX_CFLB_CLUSTER_MISSES - 1 times in a row without a move to another
 * member: an election takes etcd's leader away for about a second, and
 * the watch is fine meanwhile.  It is then tried again a second later
 * (NGX_DECLINED, e closed).
 */

static ngx_int_t
ngx_cflb_cluster_answer(ngx_cflb_cluster_link_t *w, ngx_cflb_etcd_t *e,
    cflb_etcd_msg_t *m, cflb_etcd_kv_pt kv, ngx_uint_t check)
{
    u_char  err[NGX_CFLB_CLUSTER_ERR], *p;
    int     rc;

    if (e == w->call) {
        w->call = NULL;
    }

    rc = CFLB_ERROR;

    if (e->rc == NGX_OK) {
        rc = cflb_etcd_parse(e->msg, e->len, m, kv, w);
    }

    if (e->rc == NGX_OK && e->status == 200 && rc == CFLB_OK
        && !m->has_error)
    {
        if (check) {
            w->misses = 0;
        }

        return NGX_OK;
    }

    p = ngx_cflb_etcd_error(err, err + sizeof(err), e,
                            rc == CFLB_OK ? m : NULL);

    ngx_cflb_etcd_close(e);

    if (check && w->watching && ++w->misses < NGX_CFLB_CLUSTER_MISSES) {
        ngx_log_debug3(NGX_LOG_DEBUG_EVENT, w->log, 0,
                       "cflb etcd: check %ui failed: %*s", w->misses,
                       p - err, err);

        w->quiet = ngx_current_msec + NGX_CFLB_CLUSTER_QUIET;
        w->keepalive = w->quiet;
        w->nsending = 0;

        return NGX_DECLINED;
    }

    ngx_cflb_cluster_fail(w, err, p - err);

    return NGX_ERROR;
}


/*
 * The member in use failed: everything closed, the next member tried at
 * once, or after a whole round of failures, with an exponential backoff
 * (jittered, at most 5 s).  Each state change is logged once.
 */

static void
ngx_cflb_cluster_fail(ngx_cflb_cluster_link_t *w, u_char *err,
    size_t len)
{
    ngx_uint_t              n, state, rounds;
    ngx_msec_t              delay;
    ngx_cflb_sh_cluster_t  *sh;

    ngx_cflb_cluster_stop(w);

    sh = w->sh;
    n = w->cl->members.nelts;

    w->failures++;
    w->member = (w->member + 1) % n;

    state = sh->state;

    if (state == NGX_CFLB_ETCD_CONNECTED) {
        state = NGX_CFLB_ETCD_RECONNECTING;

    } else if (w->failures >= n) {
        state = NGX_CFLB_ETCD_UNREACHABLE;
    }

    ngx_cflb_cluster_state(w, state, err, len);

    if (w->failures < n) {
        delay = 10;

    } else {
        rounds = ngx_min(w->failures / n - 1, 5);
        delay = ngx_min(NGX_CFLB_CLUSTER_BACKOFF << rounds,
                        NGX_CFLB_CLUSTER_BACKOFF_MAX);
        delay += ngx_random() % (delay / 4 + 1);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, w->log, 0,
                   "cflb etcd: failure %ui, next member %ui in %M ms",
                   w->failures, w->member, delay);

    ngx_add_timer(&w->retry, delay);
}


/* the zone's connection state, the last error, a line when it changes */

static void
ngx_cflb_cluster_state(ngx_cflb_cluster_link_t *w, ngx_uint_t state,
    u_char *err, size_t len)
{
    ngx_uint_t               old;
    ngx_str_t               *zone;
    ngx_cflb_sh_cluster_t   *sh;
    ngx_cflb_etcd_member_t  *m;

    sh = w->sh;
    zone = &w->ccf->shm_zone->shm.name;
    m = (ngx_cflb_etcd_member_t *) w->cl->members.elts + w->member;

    ngx_shmtx_lock(&w->ccf->shpool->mutex);

    old = sh->state;
    sh->state = state;
    sh->member = w->member;

    if (old != state) {
        sh->since = ngx_time();
    }

    if (err) {
        sh->error_len = ngx_min(len, sizeof(sh->error));
        ngx_memcpy(sh->error, err, sh->error_len);
    }

    ngx_shmtx_unlock(&w->ccf->shpool->mutex);

    if (old == state) {
        return;
    }

    switch (state) {

    case NGX_CFLB_ETCD_CONNECTED:
        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "cflb: zone \"%V\" is connected to etcd %V as node "
                      "\"%V\", watching \"%V\" from revision %L", zone,
                      &m->url, &w->cl->node, &w->cl->base,
                      sh->applied + 1);
        break;

    case NGX_CFLB_ETCD_RECONNECTING:
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "cflb: zone \"%V\" lost etcd, %*s; trying %V, "
                      "steering from the last known state", zone, len, err,
                      &m->url);
        break;

    case NGX_CFLB_ETCD_UNREACHABLE:
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "cflb: zone \"%V\" cannot reach etcd, every member "
                      "failed, the last: %*s; retrying with a backoff of up "
                      "to %d ms, steering from the last known state", zone,
                      len, err, NGX_CFLB_CLUSTER_BACKOFF_MAX);
        break;

    default: /* NGX_CFLB_ETCD_CONNECTING */
        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "cflb: zone \"%V\" connects to etcd %V", zone,
                      &m->url);
    }
}


/* ----------------------------------------------------------- the lease */

static void
ngx_cflb_cluster_keepalive(ngx_cflb_cluster_link_t *w)
{
    ngx_str_t  body;
    u_char     buf[64];

    body.data = buf;
    body.len = ngx_sprintf(buf, "{\"ID\":\"%L\"}", w->sh->lease) - buf;

    (void) ngx_cflb_cluster_call(w, "/v3/lease/keepalive", &body,
                                 ngx_cflb_cluster_kept);
}


static void
ngx_cflb_cluster_kept(ngx_cflb_etcd_t *e)
{
    cflb_etcd_msg_t           m;
    ngx_cflb_cluster_link_t  *w;

    w = e->data;

    if (ngx_cflb_cluster_answer(w, e, &m, NULL, 1) != NGX_OK) {
        return;
    }

    ngx_cflb_etcd_close(e);

    if (m.ttl <= 0) {
        /* gone: etcd was out of reach longer than its TTL */
        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "cflb: zone \"%V\": the lease of this node's health "
                      "votes expired, they are written again",
                      &w->ccf->shm_zone->shm.name);
        w->sh->lease = 0;
        ngx_cflb_cluster_grant(w);
        return;
    }

    w->keepalive = ngx_current_msec + w->cl->ttl / 3;

    if (!w->watching && w->watch == NULL) {
        ngx_cflb_cluster_read(w);
    }
}


/* a linearizable read of nothing: it needs the member's leader */

static void
ngx_cflb_cluster_ping(ngx_cflb_cluster_link_t *w)
{
    u_char     *p;
    ngx_str_t   body;
    u_char      buf[128 + 2 * NGX_CFLB_CLUSTER_KEY];

    if (w->cl->base64.len + w->cl->end64.len > 2 * NGX_CFLB_CLUSTER_KEY) {
        return;
    }

    p = ngx_sprintf(buf, "{\"key\":\"%V\",\"range_end\":\"%V\","
                    "\"count_only\":true}", &w->cl->base64, &w->cl->end64);

    body.data = buf;
    body.len = p - buf;

    (void) ngx_cflb_cluster_call(w, "/v3/kv/range", &body,
                                 ngx_cflb_cluster_pinged);
}


static void
ngx_cflb_cluster_pinged(ngx_cflb_etcd_t *e)
{
    cflb_etcd_msg_t           m;
    ngx_cflb_cluster_link_t  *w;

    w = e->data;

    if (ngx_cflb_cluster_answer(w, e, &m, NULL, 1) != NGX_OK) {
        return;
    }

    ngx_cflb_etcd_close(e);

    w->keepalive = ngx_current_msec + w->cl->ttl / 3;
}


static void
ngx_cflb_cluster_grant(ngx_cflb_cluster_link_t *w)
{
    ngx_str_t  body;
    u_char     buf[64];

    body.data = buf;
    body.len = ngx_sprintf(buf, "{\"TTL\":%M}",
                           (w->cl->ttl + 999) / 1000) - buf;

    (void) ngx_cflb_cluster_call(w, "/v3/lease/grant", &body,
                                 ngx_cflb_cluster_granted);
}


static void
ngx_cflb_cluster_granted(ngx_cflb_etcd_t *e)
{
    ngx_uint_t                i;
    ngx_cflb_pool_t         **pools;
    cflb_etcd_msg_t           m;
    ngx_cflb_cluster_link_t  *w;

    w = e->data;

    if (ngx_cflb_cluster_answer(w, e, &m, NULL, 0) != NGX_OK) {
        return;
    }

    ngx_cflb_etcd_close(e);

    w->sh->lease = m.id;
    w->keepalive = ngx_current_msec + w->cl->ttl / 3;

    /* a new lease holds no vote yet */
    pools = w->ccf->pools.elts;

    for (i = 0; i < w->ccf->pools.nelts; i++) {
        if (w->published[i]) {
            ngx_memzero(w->published[i], pools[i]->endpoints.nelts);
        }
    }

    if (!w->watching && w->watch == NULL) {
        ngx_cflb_cluster_read(w);
    }
}


/*
 * When this configuration has not read the zone's keys yet (a start, a
 * reload), or a read was asked for: every key in pages at one revision,
 * into tables by object, applied at the end; then the watch.  Otherwise
 * the watch resumes at once.
 */

static void
ngx_cflb_cluster_read(ngx_cflb_cluster_link_t *w)
{
    u_char                  *p, *last;
    ngx_str_t                body;
    ngx_uint_t               i, j, n;
    ngx_cflb_pool_t        **pools;
    ngx_cflb_sh_cluster_t   *sh;

    sh = w->sh;

    if (w->sync == NULL) {
        if (sh->synced == w->ccf->generation && !sh->resync
            && sh->applied)
        {
            ngx_cflb_cluster_watch(w);
            return;
        }

        w->sync = ngx_create_pool(4096, w->log);
        if (w->sync == NULL) {
            goto nomem;
        }

        pools = w->ccf->pools.elts;
        n = w->ccf->pools.nelts;

        w->want = ngx_palloc(w->sync, (n + 1) * sizeof(void *));
        if (w->want == NULL) {
            goto nomem;
        }

        for (i = 0; i < n; i++) {
            w->want[i] = ngx_pcalloc(w->sync,
                                     (pools[i]->endpoints.nelts + 1)
                                     * sizeof(ngx_cflb_cluster_want_t));
            if (w->want[i] == NULL) {
                goto nomem;
            }

            for (j = 0; j <= pools[i]->endpoints.nelts; j++) {
                w->want[i][j].enabled = -1;
                w->want[i][j].weight = -1;
            }
        }

        w->sync_rev = 0;
        w->last_len = 0;
        sh->resync = 0;
    }

    p = ngx_pnalloc(w->sync, 256 + 2 * w->cl->end64.len
                             + cflb_base64_len(NGX_CFLB_CLUSTER_KEY + 1));
    if (p == NULL) {
        goto nomem;
    }

    body.data = p;
    last = p + 256 + 2 * w->cl->end64.len
           + cflb_base64_len(NGX_CFLB_CLUSTER_KEY + 1);

    p = ngx_slprintf(p, last, "{\"key\":\"");

    if (w->last_len) {
        /* the page after the last key: that key with a NUL after it */
        w->last[w->last_len] = '\0';
        p += cflb_base64_encode(p, w->last, w->last_len + 1);

    } else {
        p = ngx_cpymem(p, w->cl->base64.data, w->cl->base64.len);
    }

    p = ngx_slprintf(p, last, "\",\"range_end\":\"%V\",\"limit\":%d",
                     &w->cl->end64, NGX_CFLB_CLUSTER_PAGE);

    if (w->sync_rev) {
        p = ngx_slprintf(p, last, ",\"revision\":\"%L\"", w->sync_rev);
    }

    p = ngx_slprintf(p, last, "}");
    body.len = p - body.data;

    (void) ngx_cflb_cluster_call(w, "/v3/kv/range", &body,
                                 ngx_cflb_cluster_page);

    return;

nomem:

    ngx_cflb_cluster_fail(w, (u_char *) "out of memory", 13);
}


static void
ngx_cflb_cluster_page(ngx_cflb_etcd_t *e)
{
    cflb_etcd_msg_t           m;
    ngx_cflb_cluster_link_t  *w;

    w = e->data;

    if (w->sync == NULL) {
        /* the read was abandoned while the answer came */
        if (e == w->call) {
            w->call = NULL;
        }

        ngx_cflb_etcd_close(e);
        return;
    }

    w->last_len = 0;

    if (ngx_cflb_cluster_answer(w, e, &m, ngx_cflb_cluster_page_kv, 0)
        != NGX_OK)
    {
        return;
    }

    ngx_cflb_etcd_close(e);

    if (w->sync_rev == 0) {
        w->sync_rev = m.revision;
    }

    if (m.more && w->last_len) {
        ngx_cflb_cluster_read(w);
        return;
    }

    ngx_cflb_cluster_read_done(w);
}


/* a key of a page, into the tables */

static int
ngx_cflb_cluster_page_kv(void *data, const cflb_etcd_kv_t *kv)
{
    ngx_cflb_cluster_link_t *w = data;

    ngx_int_t                 want, node;
    ngx_cflb_cluster_kv_t    *x;
    ngx_cflb_cluster_want_t  *wt;

    x = &w->x;

    if (ngx_cflb_cluster_kv(w->ccf, kv, x, w->log) != NGX_OK) {
        goto next;                      /* not for this node: skipped */
    }

    wt = &w->want[x->pi][x->ep ? 1 + (x->ep - (ngx_cflb_endpoint_t *)
                                              x->pool->endpoints.elts)
                               : 0];

    if (x->k.kind == CFLB_ETCD_VOTE) {
        node = ngx_cflb_cluster_node(w->ccf, &x->k.node, 1, w->log);

        if (node >= 0) {
            cflb_votes_set(&wt->votes, (unsigned) node,
                           x->v.healthy ? CFLB_VOTE_UP : CFLB_VOTE_DOWN);
        }

        goto next;
    }

    want = ngx_cflb_cluster_want(x, w->log);

    if (x->k.field == CFLB_ETCD_WEIGHT) {
        wt->weight = want;

    } else {
        wt->enabled = want;
        wt->at = (time_t) x->v.at;
    }

next:

    /* the next page starts after the last key of this one */
    if (x->klen) {
        ngx_memcpy(w->last, x->key, x->klen);
        w->last_len = x->klen;
    }

    return CFLB_OK;
}


/*
 * The whole read is in: every object takes what etcd holds for it (an
 * object etcd holds nothing for has no override: etcd wins when it can
 * be reached), peers' votes are replaced and counted, and the watch
 * starts after the read's revision.
 */

static void
ngx_cflb_cluster_read_done(ngx_cflb_cluster_link_t *w)
{
    ngx_uint_t                i, j;
    ngx_cflb_conf_t          *ccf;
    ngx_cflb_pool_t         **pools;
    ngx_cflb_endpoint_t      *eps;
    ngx_cflb_cluster_want_t  *wt;

    ccf = w->ccf;
    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        wt = w->want[i];
        eps = pools[i]->endpoints.elts;

        ngx_cflb_cluster_set(ccf, pools[i], NULL, CFLB_ETCD_ENABLED,
                             wt[0].enabled, 0);

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            ngx_cflb_cluster_set(ccf, pools[i], &eps[j], CFLB_ETCD_ENABLED,
                                 wt[1 + j].enabled, wt[1 + j].at);
            ngx_cflb_cluster_set(ccf, pools[i], &eps[j], CFLB_ETCD_WEIGHT,
                                 wt[1 + j].weight, 0);
        }

        if (!ngx_cflb_cluster_counts(pools[i])) {
            continue;
        }

        ngx_shmtx_lock(&ccf->shpool->mutex);

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            eps[j].sh->votes = wt[1 + j].votes;
        }

        ngx_shmtx_unlock(&ccf->shpool->mutex);

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            ngx_cflb_health_recount(&eps[j]);
        }
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);

    w->sh->applied = w->sync_rev;
    w->sh->synced = ccf->generation;

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    ngx_log_error(NGX_LOG_INFO, w->log, 0,
                  "cflb: zone \"%V\" read \"%V\" from etcd at revision %L",
                  &ccf->shm_zone->shm.name, &w->cl->base, w->sync_rev);

    ngx_destroy_pool(w->sync);
    w->sync = NULL;

    ngx_cflb_cluster_watch(w);
}


/* ----------------------------------------------------------- the watch */

static void
ngx_cflb_cluster_watch(ngx_cflb_cluster_link_t *w)
{
    u_char                  err[NGX_CFLB_CLUSTER_ERR], *p;
    ngx_cflb_etcd_t        *e;
    ngx_cflb_cluster_t     *cl;

    cl = w->cl;

    e = ngx_cflb_etcd_create(w->log);
    if (e == NULL) {
        ngx_cflb_cluster_fail(w, (u_char *) "out of memory", 13);
        return;
    }

    p = ngx_pnalloc(e->pool, 128 + cl->base64.len + cl->end64.len);
    if (p == NULL) {
        ngx_cflb_etcd_close(e);
        ngx_cflb_cluster_fail(w, (u_char *) "out of memory", 13);
        return;
    }

    e->body.data = p;
    e->body.len = ngx_sprintf(p, "{\"create_request\":{\"key\":\"%V\","
                              "\"range_end\":\"%V\",\"start_revision\":"
                              "\"%L\"}}", &cl->base64, &cl->end64,
                              w->sh->applied + 1)
                  - p;

    e->member = (ngx_cflb_etcd_member_t *) cl->members.elts + w->member;
    ngx_str_set(&e->path, "/v3/watch");
    e->timeout = cl->timeout;
    e->message = ngx_cflb_cluster_message;
    e->done = ngx_cflb_cluster_watch_end;
    e->data = w;

    if (ngx_cflb_etcd_start(e) != NGX_OK) {
        e->rc = NGX_ERROR;
        p = ngx_cflb_etcd_error(err, err + sizeof(err), e, NULL);
        ngx_cflb_etcd_close(e);
        ngx_cflb_cluster_fail(w, err, p - err);
        return;
    }

    w->watch = e;
}


/*
 * One message of the watch: "created" (connected), events (each applied
 * in order, the revision after each), or "canceled" (compacted: a whole
 * read, then a new watch; else a failure).
 */

static ngx_int_t
ngx_cflb_cluster_message(ngx_cflb_etcd_t *e)
{
    u_char                    err[NGX_CFLB_CLUSTER_ERR], *p;
    cflb_etcd_msg_t           m;
    ngx_cflb_cluster_link_t  *w;

    w = e->data;

    if (cflb_etcd_parse(e->msg, e->len, &m, ngx_cflb_cluster_event, w)
        != CFLB_OK)
    {
        p = ngx_slprintf(err, err + sizeof(err), "%V: a watch message cflb "
                         "cannot read", &e->member->url);
        ngx_cflb_cluster_fail(w, err, p - err);   /* closes e */
        return NGX_DONE;
    }

    if (m.created && !w->watching) {
        w->watching = 1;
        w->failures = 0;
        w->misses = 0;

        if (m.revision < w->sh->applied) {
            /* etcd went back in time: restored, or another cluster */
            w->sh->resync = 1;
        }

        ngx_cflb_cluster_state(w, NGX_CFLB_ETCD_CONNECTED, NULL, 0);
        return NGX_OK;
    }

    if (m.canceled) {
        if (m.compact_revision) {
            ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                          "cflb: zone \"%V\": etcd compacted past revision "
                          "%L, reading the keys whole",
                          &w->ccf->shm_zone->shm.name, w->sh->applied + 1);

            ngx_cflb_etcd_close(e);
            w->watch = NULL;
            w->watching = 0;
            w->sh->resync = 1;

            if (w->call == NULL) {
                ngx_cflb_cluster_read(w);
            }

            return NGX_DONE;
        }

        p = ngx_slprintf(err, err + sizeof(err), "%V: the watch was "
                         "canceled: %*s", &e->member->url,
                         m.cancel_reason.len, m.cancel_reason.data);
        ngx_cflb_cluster_fail(w, err, p - err);
        return NGX_DONE;
    }

    if (m.has_error) {
        e->rc = NGX_OK;
        p = ngx_cflb_etcd_error(err, err + sizeof(err), e, &m);
        ngx_cflb_cluster_fail(w, err, p - err);
        return NGX_DONE;
    }

    return NGX_OK;
}


/* one event of the watch, applied */

static int
ngx_cflb_cluster_event(void *data, const cflb_etcd_kv_t *kv)
{
    ngx_cflb_cluster_link_t *w = data;

    ngx_int_t               node, want;
    ngx_cflb_cluster_kv_t  *x;

    x = &w->x;

    if (ngx_cflb_cluster_kv(w->ccf, kv, x, w->log) != NGX_OK) {
        goto applied;
    }

    if (x->k.kind == CFLB_ETCD_VOTE) {
        node = ngx_cflb_cluster_node(w->ccf, &x->k.node, !kv->deleted,
                                     w->log);

        if (node < 0) {
            goto applied;
        }

        ngx_shmtx_lock(&w->ccf->shpool->mutex);
        cflb_votes_set(&x->ep->sh->votes, (unsigned) node,
                       kv->deleted ? CFLB_VOTE_NONE
                       : x->v.healthy ? CFLB_VOTE_UP : CFLB_VOTE_DOWN);
        ngx_shmtx_unlock(&w->ccf->shpool->mutex);

        ngx_cflb_health_recount(x->ep);

        goto applied;
    }

    want = kv->deleted ? -1 : ngx_cflb_cluster_want(x, w->log);

    ngx_cflb_cluster_set(w->ccf, x->pool, x->ep, x->k.field, want,
                         kv->deleted ? 0 : (time_t) x->v.at);

applied:

    ngx_cflb_cluster_applied(w->ccf, kv->mod_revision);

    return CFLB_OK;
}


/* the watch ended: an error, or etcd closed it */

static void
ngx_cflb_cluster_watch_end(ngx_cflb_etcd_t *e)
{
    u_char                    err[NGX_CFLB_CLUSTER_ERR], *p;
    int                       rc;
    cflb_etcd_msg_t           m;
    ngx_cflb_cluster_link_t  *w;

    w = e->data;
    w->watch = NULL;

    rc = (e->rc == NGX_OK) ? cflb_etcd_parse(e->msg, e->len, &m, NULL, NULL)
                           : CFLB_ERROR;

    p = ngx_cflb_etcd_error(err, err + sizeof(err), e,
                            rc == CFLB_OK ? &m : NULL);

    ngx_cflb_etcd_close(e);
    ngx_cflb_cluster_fail(w, err, p - err);
}


/*
 * This node's verdicts that etcd does not have yet, written in one
 * transaction under the lease: at most NGX_CFLB_CLUSTER_VOTES at a time,
 * the rest on the next ticks.
 */

static void
ngx_cflb_cluster_vote_out(ngx_cflb_cluster_link_t *w)
{
    u_char                   *p, value[128];
    size_t                    size, len;
    ngx_str_t                 body;
    ngx_uint_t                i, j, n;
    ngx_cflb_pool_t         **pools;
    ngx_cflb_endpoint_t      *eps;
    cflb_health_t             h;
    ngx_cflb_cluster_vote_t  *s;

    pools = w->ccf->pools.elts;
    n = 0;
    size = sizeof("{\"success\":[]}");

    ngx_shmtx_lock(&w->ccf->shpool->mutex);

    for (i = 0; i < w->ccf->pools.nelts && n < NGX_CFLB_CLUSTER_VOTES; i++) {
        if (w->published[i] == NULL) {
            continue;
        }

        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            h = eps[j].sh->local;

            if (!h.known
                || w->published[i][j] == (h.healthy ? CFLB_VOTE_UP
                                                    : CFLB_VOTE_DOWN))
            {
                continue;
            }

            s = &w->sending[n++];
            s->pool = i;
            s->ep = j;
            s->vote = h.healthy ? CFLB_VOTE_UP : CFLB_VOTE_DOWN;

            size += ngx_cflb_cluster_put_size(w->cl, pools[i], &eps[j],
                                              sizeof(value));

            if (n == NGX_CFLB_CLUSTER_VOTES) {
                break;
            }
        }
    }

    ngx_shmtx_unlock(&w->ccf->shpool->mutex);

    if (n == 0) {
        return;
    }

    w->nsending = n;

    body.data = ngx_alloc(size, w->log);
    if (body.data == NULL) {
        return;
    }

    p = ngx_sprintf(body.data, "{\"success\":[");

    for (i = 0; i < n; i++) {
        s = &w->sending[i];
        eps = pools[s->pool]->endpoints.elts;

        len = ngx_sprintf(value, "{\"healthy\":%s,\"node\":\"%V\"}",
                          s->vote == CFLB_VOTE_UP ? "true" : "false",
                          &w->cl->node)
              - value;

        p = ngx_cflb_cluster_put(p, w->cl, pools[s->pool], &eps[s->ep],
                                 CFLB_ETCD_VOTE, 0, value, len,
                                 w->sh->lease);
        *p++ = (i + 1 < n) ? ',' : ']';
    }

    *p++ = '}';
    body.len = p - body.data;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, w->log, 0,
                   "cflb etcd: writing %ui votes", n);

    (void) ngx_cflb_cluster_call(w, "/v3/kv/txn", &body,
                                 ngx_cflb_cluster_voted);

    ngx_free(body.data);
}


static void
ngx_cflb_cluster_voted(ngx_cflb_etcd_t *e)
{
    ngx_uint_t                i;
    cflb_etcd_msg_t           m;
    ngx_cflb_cluster_vote_t  *s;
    ngx_cflb_cluster_link_t  *w;

    w = e->data;

    if (ngx_cflb_cluster_answer(w, e, &m, NULL, 1) != NGX_OK) {
        return;
    }

    ngx_cflb_etcd_close(e);

    for (i = 0; i < w->nsending; i++) {
        s = &w->sending[i];
        w->published[s->pool][s->ep] = s->vote;
    }

    w->nsending = 0;
}
