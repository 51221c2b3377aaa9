
/*
 * The health checker.  Every worker runs a timer; on each tick it claims
 * the monitored endpoints whose check is due, in shared memory, so that
 * each endpoint is checked once per interval whatever the number of
 * workers, and a dead prober's endpoints go to whoever ticks next.
 * Results update the endpoint's record; steering reads them.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_cflb_health.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_notify.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_trees.h"


/* how often a worker looks for due checks */
#define NGX_CFLB_HEALTH_TICK   200


static void ngx_cflb_health_tick(ngx_event_t *ev);
static ngx_uint_t ngx_cflb_health_claim(ngx_cflb_endpoint_t *ep);
static int ngx_cflb_health_alive(void *data, uint64_t pid);
static void ngx_cflb_health_done(ngx_cflb_endpoint_t *ep, ngx_uint_t reason,
    ngx_uint_t code, ngx_msec_t rtt);
static ngx_uint_t ngx_cflb_health_quorum_locked(ngx_cflb_endpoint_t *ep,
    cflb_health_t *old);
static void ngx_cflb_health_changed(ngx_cflb_endpoint_t *ep,
    cflb_health_t *old, const char *why, ngx_uint_t code);
static void ngx_cflb_health_overruled(ngx_cflb_endpoint_t *ep,
    const char *why, ngx_uint_t code);
static u_char *ngx_cflb_health_votes(ngx_cflb_endpoint_t *ep, u_char *buf,
    size_t size);
static void ngx_cflb_health_alert(ngx_cflb_endpoint_t *ep,
    cflb_health_t *old);
static void ngx_cflb_pool_health_update(ngx_cflb_pool_t *pool,
    ngx_log_t *log);
static char *ngx_cflb_pool_lbs(ngx_cflb_pool_t *pool, u_char *buf,
    size_t size);


/* room for " (lb "a", "b", ...)" in a health log line */
#define NGX_CFLB_LBS_LEN       256

/* room for "; quorum: N of M nodes see it ..., overruling this node" */
#define NGX_CFLB_VOTES_LEN     96


ngx_int_t
ngx_cflb_health_init_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t         i;
    ngx_event_t       *ev;
    ngx_cflb_pool_t  **pools;

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (pools[i]->monitor) {
            break;
        }
    }

    if (i == ccf->pools.nelts) {
        return NGX_OK;
    }

    ccf->log = cycle->log;

    ev = &ccf->health_timer;
    ev->handler = ngx_cflb_health_tick;
    ev->data = ccf;
    ev->log = cycle->log;
    ev->cancelable = 1;

    /* new endpoints are due at once: the first tick comes soon, jittered */
    ngx_add_timer(ev, 1 + ngx_random() % 50);

    return NGX_OK;
}


static void
ngx_cflb_health_tick(ngx_event_t *ev)
{
    ngx_cflb_conf_t *ccf = ev->data;

    ngx_int_t             rc;
    ngx_uint_t            i, j;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *eps;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_cflb_runtime_sync(ccf);

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (pools[i]->monitor == NULL) {
            continue;
        }

        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            if (!ngx_cflb_health_claim(&eps[j])) {
                continue;
            }

            rc = ngx_cflb_probe_start(&eps[j], ccf->log,
                                      ngx_cflb_health_done);

            if (rc == NGX_DECLINED) {
                /* no address now ("resolve"): not a failure, no check */
                cflb_claim_release(&eps[j].sh->check, (uint64_t) ngx_pid);

            } else if (rc != NGX_OK) {
                ngx_cflb_health_done(&eps[j], CFLB_REASON_OTHER, 0, 0);
            }
        }
    }

    ngx_add_timer(ev, NGX_CFLB_HEALTH_TICK);
}


/*
 * Take an endpoint's due check, lock-free, in the zone (cflb_claim.c):
 * of all the workers ticking only one wins it, and one that read a due
 * check just before another one probed it does not probe it again.  An
 * owner that died, or one stuck far past its deadline, is taken over.
 */

static ngx_uint_t
ngx_cflb_health_claim(ngx_cflb_endpoint_t *ep)
{
    cflb_claim_env_t     env;
    ngx_cflb_monitor_t  *mon;

    mon = ep->pool->monitor;

    env.self = (uint64_t) ngx_pid;
    env.now = (uint32_t) ngx_current_msec;
    env.interval = (uint32_t) mon->interval;
    env.limit = (uint32_t) (mon->interval + (mon->retries + 1) * mon->timeout);
    env.alive = ngx_cflb_health_alive;
    env.between = NULL;
    env.data = NULL;

    return cflb_claim(&ep->sh->check, &env);
}


/* EPERM means it exists under another user */

static int
ngx_cflb_health_alive(void *data, uint64_t pid)
{
    return kill((ngx_pid_t) pid, 0) == 0 || ngx_errno != NGX_ESRCH;
}


static void
ngx_cflb_health_done(ngx_cflb_endpoint_t *ep, ngx_uint_t reason,
    ngx_uint_t code, ngx_msec_t rtt)
{
    ngx_int_t                changed, overruled;
    cflb_health_t            old;
    ngx_cflb_conf_t         *ccf;
    ngx_cflb_monitor_t      *mon;
    ngx_cflb_sh_endpoint_t  *she;

    ccf = ep->pool->conf;
    mon = ep->pool->monitor;
    she = ep->sh;
    overruled = 0;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    old = she->health;

    if (mon->quorum == NGX_CFLB_QUORUM_MAJORITY) {
        /* this node's verdict is one vote; health follows the majority */
        overruled = cflb_health_record(&she->local,
                                       reason == CFLB_REASON_NONE,
                                       mon->consecutive_up,
                                       mon->consecutive_down);
        changed = ngx_cflb_health_quorum_locked(ep, &old);

        /* this node changed its mind, the fleet did not follow */
        overruled = overruled && !changed
                    && she->local.healthy != she->health.healthy;

    } else {
        changed = cflb_health_record(&she->health, reason == CFLB_REASON_NONE,
                                     mon->consecutive_up,
                                     mon->consecutive_down);
    }

    she->reason = reason;
    she->code = code;
    she->last_check = ngx_time();
    she->prober = ngx_pid;

    if (reason == CFLB_REASON_NONE) {
        she->rtt = cflb_rtt_update(she->rtt, rtt * 1000 + 1);
        /* what dynamic_latency steers by: it follows within intervals */
        she->pool->rtt = cflb_dynamic_rtt(she->pool->rtt, rtt * 1000 + 1,
                                          ep->pool->endpoints.nelts);
    }

    if (changed) {
        she->since = ngx_time();
        ngx_cflb_trees_changed_locked(ccf->sh, she->pool);
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    cflb_claim_release(&she->check, (uint64_t) ngx_pid);

    if (changed) {
        ngx_cflb_health_changed(ep, &old, cflb_reason_name(reason), code);

    } else if (overruled) {
        ngx_cflb_health_overruled(ep, cflb_reason_name(reason), code);
    }
}


void
ngx_cflb_health_recount(ngx_cflb_endpoint_t *ep)
{
    ngx_uint_t               changed;
    cflb_health_t            old;
    ngx_cflb_conf_t         *ccf;
    ngx_cflb_sh_endpoint_t  *she;

    ccf = ep->pool->conf;
    she = ep->sh;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    old = she->health;
    changed = ngx_cflb_health_quorum_locked(ep, &old);

    if (changed) {
        she->since = ngx_time();
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (changed) {
        ngx_cflb_health_changed(ep, &old, "the votes of the fleet", 0);
    }
}


/*
 * "quorum majority": the endpoint's health is the verdict of most votes,
 * this node's (local) and its live peers' (votes); a tie keeps this
 * node's.  The counts of checks in a row stay this node's.  Returns
 * whether healthy or known changed from *old.
 */

static ngx_uint_t
ngx_cflb_health_quorum_locked(ngx_cflb_endpoint_t *ep, cflb_health_t *old)
{
    cflb_vote_e              local, v;
    ngx_cflb_sh_endpoint_t  *she;

    she = ep->sh;

    local = !she->local.known ? CFLB_VOTE_NONE
            : she->local.healthy ? CFLB_VOTE_UP : CFLB_VOTE_DOWN;

    v = cflb_quorum(local, &she->votes, NULL, NULL);

    she->health = she->local;
    she->health.known = (v != CFLB_VOTE_NONE);
    she->health.healthy = (v == CFLB_VOTE_UP);

    return she->health.healthy != old->healthy
           || she->health.known != old->known;
}


/*
 * An endpoint's health changed (from old): counted, logged (with the
 * votes when a quorum decides, and whether it overruled this node),
 * then its pool's health and the alerts follow.
 */

static void
ngx_cflb_health_changed(ngx_cflb_endpoint_t *ep, cflb_health_t *old,
    const char *why, ngx_uint_t code)
{
    u_char                   lbs[NGX_CFLB_LBS_LEN];
    u_char                   status[sizeof(", status ") + NGX_INT_T_LEN];
    u_char                   votes[NGX_CFLB_VOTES_LEN];
    ngx_cflb_conf_t         *ccf;
    ngx_cflb_sh_endpoint_t  *she;

    ccf = ep->pool->conf;
    she = ep->sh;

    (void) ngx_atomic_fetch_add(&ccf->sh->health_gen, 1);

    /* a status only where there was one: http and https monitors */
    ngx_sprintf(status, code ? ", status %ui%Z" : "%Z", code);

    ngx_log_error(NGX_LOG_NOTICE, ccf->log, 0,
                  "cflb: endpoint \"%V\" of pool \"%V\"%s is %s, was %s: "
                  "%s%s%s", &ep->name, &ep->pool->name,
                  ngx_cflb_pool_lbs(ep->pool, lbs, sizeof(lbs)),
                  she->health.known ? (she->health.healthy ? "healthy"
                                                           : "unhealthy")
                                    : "unknown",
                  old->known ? (old->healthy ? "healthy" : "unhealthy")
                             : "unknown",
                  why, status,
                  ngx_cflb_health_votes(ep, votes, sizeof(votes)));

    ngx_cflb_pool_health_update(ep->pool, ccf->log);

    ngx_cflb_health_alert(ep, old);
}


/* this node's verdict changed, but not the fleet's: said once, at notice */

static void
ngx_cflb_health_overruled(ngx_cflb_endpoint_t *ep, const char *why,
    ngx_uint_t code)
{
    u_char  lbs[NGX_CFLB_LBS_LEN];
    u_char  status[sizeof(", status ") + NGX_INT_T_LEN];
    u_char  votes[NGX_CFLB_VOTES_LEN];

    ngx_sprintf(status, code ? ", status %ui%Z" : "%Z", code);

    ngx_log_error(NGX_LOG_NOTICE, ep->pool->conf->log, 0,
                  "cflb: endpoint \"%V\" of pool \"%V\"%s stays %s, this "
                  "node sees it %s: %s%s%s", &ep->name, &ep->pool->name,
                  ngx_cflb_pool_lbs(ep->pool, lbs, sizeof(lbs)),
                  ep->sh->health.healthy ? "healthy" : "unhealthy",
                  ep->sh->health.healthy ? "unhealthy" : "healthy",
                  why, status,
                  ngx_cflb_health_votes(ep, votes, sizeof(votes)));
}


/* "; quorum 2 of 3 nodes see it healthy, overruling this node": for logs */

static u_char *
ngx_cflb_health_votes(ngx_cflb_endpoint_t *ep, u_char *buf, size_t size)
{
    u_char                  *p;
    unsigned                 up, down;
    cflb_vote_e              local;
    ngx_cflb_sh_endpoint_t  *she;

    she = ep->sh;
    buf[0] = '\0';

    if (ep->pool->monitor->quorum != NGX_CFLB_QUORUM_MAJORITY) {
        return buf;
    }

    ngx_shmtx_lock(&ep->pool->conf->shpool->mutex);

    local = !she->local.known ? CFLB_VOTE_NONE
            : she->local.healthy ? CFLB_VOTE_UP : CFLB_VOTE_DOWN;

    (void) cflb_quorum(local, &she->votes, &up, &down);

    p = ngx_snprintf(buf, size - 1, "; quorum: %ud of %ud node%s see%s it "
                     "%s%s", she->health.healthy ? up : down, up + down,
                     up + down == 1 ? "" : "s", up + down == 1 ? "s" : "",
                     she->health.healthy ? "healthy" : "unhealthy",
                     she->local.known && she->health.known
                     && she->local.healthy != she->health.healthy
                     ? ", overruling this node" : "");

    ngx_shmtx_unlock(&ep->pool->conf->shpool->mutex);

    *p = '\0';

    return buf;
}


/*
 * Alerts (cflb_notify): the endpoint's, when its health flipped as alerts
 * see it (a first check that finds it healthy confirms what was assumed),
 * and the pool's, when that made the pool cross minimum_origins.
 */

static void
ngx_cflb_health_alert(ngx_cflb_endpoint_t *ep, cflb_health_t *old)
{
    ngx_uint_t  was, crossed;

    if (ep->pool->conf->notify == NULL) {
        return;
    }

    was = !old->known || old->healthy;

    if (was == ep->sh->health.healthy) {
        return;
    }

    crossed = ngx_cflb_pool_alert_critical(ep->pool, ep, old)
              != ngx_cflb_pool_alert_critical(ep->pool, NULL, NULL);

    ngx_cflb_notify_endpoint(ep, crossed);

    if (crossed) {
        ngx_cflb_notify_pool(ep->pool, ep);
    }
}


/* the pool's state in the zone, logged when it changes */

static void
ngx_cflb_pool_health_update(ngx_cflb_pool_t *pool, ngx_log_t *log)
{
    u_char              lbs[NGX_CFLB_LBS_LEN];
    ngx_uint_t          old;
    cflb_pool_health_e  now;

    now = ngx_cflb_pool_health(pool, NULL, NULL, 0);

    ngx_shmtx_lock(&pool->conf->shpool->mutex);

    /* stored + 1, so that a new record (0) reads "unknown" */
    old = pool->sh->health;
    pool->sh->health = now + 1;

    ngx_shmtx_unlock(&pool->conf->shpool->mutex);

    if (old == (ngx_uint_t) now + 1) {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "cflb: pool \"%V\"%s is %s, was %s", &pool->name,
                  ngx_cflb_pool_lbs(pool, lbs, sizeof(lbs)),
                  cflb_pool_health_name(now),
                  old ? cflb_pool_health_name(old - 1) : "unknown");
}


/* " (lb "www", "api")": the load balancers that list the pool, for logs */

static char *
ngx_cflb_pool_lbs(ngx_cflb_pool_t *pool, u_char *buf, size_t size)
{
    u_char          *p, *last;
    ngx_uint_t       i, j, n;
    ngx_cflb_lb_t  **lbs;

    p = buf;
    last = buf + size - 2;
    n = 0;

    lbs = pool->conf->lbs.elts;

    for (i = 0; i < pool->conf->lbs.nelts; i++) {
        for (j = 0; j < lbs[i]->view.pools->n; j++) {
            if (lbs[i]->view.pools->entries[j]->pool == pool) {
                p = ngx_slprintf(p, last, n++ ? ", \"%V\"" : " (lb \"%V\"",
                                 &lbs[i]->name);
                break;
            }
        }
    }

    if (n) {
        *p++ = ')';
    }

    *p = '\0';

    return (char *) buf;
}


