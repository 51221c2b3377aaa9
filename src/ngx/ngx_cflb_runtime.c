
/*
 * Runtime overrides: the http API enables, disables or reweighs pools and
 * endpoints while nginx runs.  An override lives in the zone record with
 * the configured value it replaced (its base); the zone's runtime_gen
 * tells every worker to apply the overrides to its own copy of the
 * configuration, so all workers change at once.  The state file keeps the
 * overrides across restarts; a configuration that changes a value the
 * override replaced wins over it.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_runtime.h"
#include "ngx_cflb_conf.h"
#include "ngx_cflb_state.h"
#include "ngx_cflb_notify.h"
#include "ngx_cflb_trees.h"


static ngx_uint_t ngx_cflb_runtime_set_locked(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch);
static void ngx_cflb_runtime_rebuild(ngx_cflb_pool_t *pool, ngx_log_t *log);
static void ngx_cflb_runtime_changed(ngx_cflb_conf_t *ccf,
    ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep, ngx_uint_t what);
static void ngx_cflb_runtime_drop(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, const char *what);


/* which fields of a record an override changed */
#define NGX_CFLB_RT_ENABLED    0x01
#define NGX_CFLB_RT_WEIGHT     0x02


/* a drain starts with the first disable and ends with an enable */
#define ngx_cflb_drain(she, disabled)                                         \
    if (!(disabled)) {                                                        \
        (she)->disabled_at = 0;                                               \
                                                                              \
    } else if ((she)->disabled_at == 0) {                                     \
        (she)->disabled_at = ngx_time();                                      \
    }


ngx_int_t
ngx_cflb_runtime_set(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch, u_char *why, size_t len)
{
    ngx_uint_t  changed;

    ngx_shmtx_lock(&ccf->shpool->mutex);
    changed = ngx_cflb_runtime_set_locked(pool, ep, ch);
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (!changed) {
        /* nothing new, but what a failed write left unsaved is retried */
        return ngx_cflb_state_unsaved(ccf)
               ? ngx_cflb_state_write(ccf, ccf->log, why, len) : NGX_OK;
    }

    (void) ngx_atomic_fetch_add(&ccf->sh->runtime_gen, 1);

    ngx_cflb_runtime_apply(ccf);

    if (changed & NGX_CFLB_RT_ENABLED) {
        ngx_cflb_runtime_changed(ccf, pool, ep,
                                 (ep ? !ep->disabled : pool->enabled)
                                 ? NGX_CFLB_CHANGE_ENABLED
                                 : NGX_CFLB_CHANGE_DISABLED);
    }

    if (changed & NGX_CFLB_RT_WEIGHT) {
        ngx_cflb_runtime_changed(ccf, pool, ep, NGX_CFLB_CHANGE_WEIGHT);
    }

    return ngx_cflb_state_write(ccf, ccf->log, why, len);
}


/*
 * The record's override follows the value asked for (cflb_override_set()
 * says how).  Returns the NGX_CFLB_RT_* fields whose effective value
 * changed.
 */

static ngx_uint_t
ngx_cflb_runtime_set_locked(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep,
    ngx_cflb_change_t *ch)
{
    ngx_uint_t               changed;
    ngx_cflb_sh_endpoint_t  *she;

    changed = 0;

    if (ep == NULL) {
        if (ch->enabled != NGX_CONF_UNSET_UINT
            && cflb_override_set(&pool->sh->rt_enabled, ch->enabled,
                                 pool->conf_enabled))
        {
            changed |= NGX_CFLB_RT_ENABLED;
            ngx_cflb_trees_changed_locked(pool->conf->sh, pool->sh);
        }

        return changed;
    }

    she = ep->sh;

    if (ch->enabled != NGX_CONF_UNSET_UINT
        && cflb_override_set(&she->rt_enabled, ch->enabled,
                             !ep->conf_disabled))
    {
        changed |= NGX_CFLB_RT_ENABLED;
        ngx_cflb_drain(she, !ch->enabled);
    }

    if (ch->weight != NGX_CONF_UNSET_UINT
        && cflb_override_set(&she->rt_weight, ch->weight, ep->conf_weight))
    {
        changed |= NGX_CFLB_RT_WEIGHT;
    }

    if (changed) {
        ngx_cflb_trees_changed_locked(pool->conf->sh, she->pool);
    }

    return changed;
}


/* one change applied: the hook for alerts; logged at notice */

static void
ngx_cflb_runtime_changed(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_uint_t what)
{
    if (what != NGX_CFLB_CHANGE_WEIGHT) {
        ngx_cflb_notify_enabled(ccf, pool, ep,
                                what == NGX_CFLB_CHANGE_ENABLED);
    }

    if (ep == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, ccf->log, 0,
                      "cflb: pool \"%V\" %s at runtime", &pool->name,
                      what == NGX_CFLB_CHANGE_ENABLED ? "enabled"
                                                      : "disabled");
        return;
    }

    if (what == NGX_CFLB_CHANGE_WEIGHT) {
        ngx_log_error(NGX_LOG_NOTICE, ccf->log, 0,
                      "cflb: pool \"%V\" endpoint \"%V\" weight %ui.%02ui "
                      "at runtime", &pool->name, &ep->name,
                      cflb_weight_int(ep->weight),
                      cflb_weight_frac(ep->weight));
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, ccf->log, 0,
                  "cflb: pool \"%V\" endpoint \"%V\" %s at runtime",
                  &pool->name, &ep->name,
                  what == NGX_CFLB_CHANGE_ENABLED ? "enabled"
                                                  : "disabled, draining");
}


void
ngx_cflb_runtime_apply(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t               i, j, gen;
    ngx_cflb_pool_t        **pools;
    ngx_cflb_endpoint_t     *eps;
    ngx_cflb_sh_pool_t      *shp;
    ngx_cflb_sh_endpoint_t  *she;

    gen = ccf->sh->runtime_gen;
    pools = ccf->pools.elts;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    for (i = 0; i < ccf->pools.nelts; i++) {
        shp = pools[i]->sh;
        pools[i]->enabled = cflb_override_value(&shp->rt_enabled,
                                                pools[i]->conf_enabled);

        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            she = eps[j].sh;
            eps[j].disabled = !cflb_override_value(&she->rt_enabled,
                                                   !eps[j].conf_disabled);
            eps[j].weight = cflb_override_value(&she->rt_weight,
                                                eps[j].conf_weight);
        }
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    for (i = 0; i < ccf->pools.nelts; i++) {
        ngx_cflb_runtime_rebuild(pools[i], ccf->log ? ccf->log
                                                    : ngx_cycle->log);
    }

    ccf->runtime_gen = gen;
}


/*
 * The pool's usable count, its health recount, and its steering set when
 * a weight moved: built in a pool of this worker's own, freed with the
 * next rebuild (the first set stays in the configuration's pool).
 */

static void
ngx_cflb_runtime_rebuild(ngx_cflb_pool_t *pool, ngx_log_t *log)
{
    ngx_uint_t            i, n, changed;
    cflb_set_t            set;
    ngx_pool_t           *p;
    cflb_member_t        *members;
    cflb_allocator_t      a;
    ngx_cflb_endpoint_t  *eps;

    eps = pool->endpoints.elts;
    n = pool->endpoints.nelts;
    changed = 0;
    pool->nusable = 0;
    pool->health_gen = 0;                   /* recount: "disabled" moved */

    for (i = 0; i < n; i++) {
        if (!eps[i].disabled && eps[i].weight > 0) {
            pool->nusable++;
        }

        if (pool->members && pool->members[i].weight != eps[i].weight) {
            changed = 1;
        }
    }

    if (!changed || pool->set.ops == NULL) {
        return;
    }

    p = ngx_create_pool(1024, log);
    if (p == NULL) {
        return;
    }

    members = ngx_palloc(p, n * sizeof(cflb_member_t));
    if (members == NULL) {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        members[i].name = pool->members[i].name;
        members[i].weight = (uint32_t) eps[i].weight;
    }

    ngx_cflb_allocator(&a, p);

    if (cflb_set_init(&set, ngx_cflb_set_policy(pool->conf, pool->policy),
                      members, n, &a)
        != CFLB_OK)
    {
        goto failed;
    }

    pool->set = set;
    pool->members = members;

    if (pool->rt_pool) {
        ngx_destroy_pool(pool->rt_pool);
    }

    pool->rt_pool = p;

    return;

failed:

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "cflb: cannot rebuild pool \"%V\" for new weights, "
                  "it keeps the old ones in this worker", &pool->name);
    ngx_destroy_pool(p);
}


void
ngx_cflb_runtime_bind_pool(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_sh_pool_t *shp)
{
    ngx_str_t          none;
    ngx_cflb_state_t  *st;

    ngx_str_null(&none);

    st = ngx_cflb_state_find(ccf, &pool->name, &none, &none);

    if (cflb_override_bind(&shp->rt_enabled, st ? &st->enabled : NULL,
                           pool->conf_enabled)
        & CFLB_OVERRIDE_DROPPED)
    {
        ngx_cflb_runtime_drop(ccf, pool, NULL, "enabled");
    }
}


void
ngx_cflb_runtime_bind_endpoint(ngx_cflb_conf_t *ccf, ngx_cflb_endpoint_t *ep,
    ngx_cflb_sh_endpoint_t *she)
{
    ngx_cflb_state_t  *st;

    st = ngx_cflb_state_find(ccf, &ep->pool->name, &ep->name, &ep->addr.name);

    if (cflb_override_bind(&she->rt_enabled, st ? &st->enabled : NULL,
                           !ep->conf_disabled)
        & CFLB_OVERRIDE_DROPPED)
    {
        ngx_cflb_runtime_drop(ccf, ep->pool, ep, "enabled");
    }

    if (cflb_override_bind(&she->rt_weight, st ? &st->weight : NULL,
                           ep->conf_weight)
        & CFLB_OVERRIDE_DROPPED)
    {
        ngx_cflb_runtime_drop(ccf, ep->pool, ep, "weight");
    }

    /* a drain runs from the first configuration or change that disabled it */
    ngx_cflb_drain(she, !cflb_override_value(&she->rt_enabled,
                                             !ep->conf_disabled));
}


/* the configuration changed what an override replaced: it wins */

static void
ngx_cflb_runtime_drop(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, const char *what)
{
    ccf->state_dirty = 1;

    if (ep == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "cflb: the configuration changed \"%s\" of pool "
                      "\"%V\" in %s:%ui, its runtime override is dropped",
                      what, &pool->name, pool->file, pool->line);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "cflb: the configuration changed \"%s\" of endpoint "
                  "\"%V\" of pool \"%V\" in %s:%ui, its runtime override "
                  "is dropped", what, &ep->name, &pool->name, pool->file,
                  pool->line);
}


void
ngx_cflb_runtime_loaded(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    ngx_uint_t         i, n;
    ngx_cflb_state_t  *st;

    /* the workers of this configuration apply the overrides first */
    (void) ngx_atomic_fetch_add(&ccf->sh->runtime_gen, 1);

    n = 0;

    if (ccf->state) {
        st = ccf->state->elts;

        /* a few by name, then a count: a file may hold any number */
        for (i = 0; i < ccf->state->nelts; i++) {
            if (st[i].used || n++ >= NGX_CFLB_STATE_WARN) {
                continue;
            }

            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "cflb_state_file \"%V\": pool \"%V\" endpoint "
                          "\"%V\" %V is not in the configuration, ignored",
                          &ccf->state_file, &st[i].pool, &st[i].endpoint,
                          &st[i].address);
        }
    }

    if (n > NGX_CFLB_STATE_WARN) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "cflb_state_file \"%V\": %ui more entries not in the "
                      "configuration, ignored", &ccf->state_file,
                      n - NGX_CFLB_STATE_WARN);
    }

    if (n) {
        ccf->state_dirty = 1;
    }

    if (ccf->state_dirty && !ngx_test_config) {
        (void) ngx_cflb_state_write(ccf, log, NULL, 0);
    }
}


void
ngx_cflb_runtime_exit_worker(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t         i;
    ngx_cflb_pool_t  **pools;

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (pools[i]->rt_pool) {
            ngx_destroy_pool(pools[i]->rt_pool);
            pools[i]->rt_pool = NULL;
        }
    }
}
