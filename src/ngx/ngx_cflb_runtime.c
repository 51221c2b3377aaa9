
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

#include "ngx_cflb.h"


static ngx_uint_t ngx_cflb_runtime_set_locked(ngx_cflb_conf_t *ccf,
    ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch);
static void ngx_cflb_runtime_rebuild(ngx_cflb_pool_t *pool, ngx_log_t *log);
static ngx_cflb_state_t *ngx_cflb_state_find(ngx_cflb_conf_t *ccf,
    ngx_str_t *pool, ngx_str_t *endpoint, ngx_str_t *address);
static void ngx_cflb_runtime_drop(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, const char *what);
static void ngx_cflb_state_write(ngx_cflb_conf_t *ccf, ngx_log_t *log);
static void ngx_cflb_state_lock(ngx_cflb_sh_t *sh);
static u_char *ngx_cflb_state_json(ngx_cflb_conf_t *ccf, u_char *p);
static u_char *ngx_cflb_state_str(u_char *p, ngx_str_t *s);
static ngx_int_t ngx_cflb_state_save(ngx_str_t *file, u_char *data,
    size_t len, ngx_log_t *log);


/* a drain starts with the first disable and ends with an enable */
#define ngx_cflb_drain(she, disabled)                                         \
    if (!(disabled)) {                                                        \
        (she)->disabled_at = 0;                                               \
                                                                              \
    } else if ((she)->disabled_at == 0) {                                     \
        (she)->disabled_at = ngx_time();                                      \
    }


void
ngx_cflb_runtime_set(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch)
{
    ngx_uint_t  changed;

    ngx_shmtx_lock(&ccf->shpool->mutex);
    changed = ngx_cflb_runtime_set_locked(ccf, pool, ep, ch);
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (!changed) {
        return;
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

    ngx_cflb_state_write(ccf, ccf->log);
}


/*
 * The record's override follows the value asked for; a value equal to
 * the configured one clears the override.  Returns the NGX_CFLB_RT_*
 * fields whose effective value changed.
 */

static ngx_uint_t
ngx_cflb_runtime_set_locked(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch)
{
    ngx_uint_t               base, old, changed;
    ngx_cflb_sh_pool_t      *shp;
    ngx_cflb_sh_endpoint_t  *she;

    changed = 0;

    if (ep == NULL) {
        shp = pool->sh;
        base = pool->conf_enabled;
        old = (shp->rt & NGX_CFLB_RT_ENABLED) ? shp->rt_enabled : base;

        if (ch->enabled != NGX_CONF_UNSET_UINT && ch->enabled != old) {
            changed |= NGX_CFLB_RT_ENABLED;
            shp->rt = (ch->enabled != base) ? NGX_CFLB_RT_ENABLED : 0;
            shp->rt_enabled = ch->enabled;
            shp->rt_enabled_base = base;
        }

        return changed;
    }

    she = ep->sh;
    base = !ep->conf_disabled;
    old = (she->rt & NGX_CFLB_RT_ENABLED) ? she->rt_enabled : base;

    if (ch->enabled != NGX_CONF_UNSET_UINT && ch->enabled != old) {
        changed |= NGX_CFLB_RT_ENABLED;
        she->rt = (ch->enabled != base) ? she->rt | NGX_CFLB_RT_ENABLED
                                         : she->rt & ~NGX_CFLB_RT_ENABLED;
        she->rt_enabled = ch->enabled;
        she->rt_enabled_base = base;
        ngx_cflb_drain(she, !ch->enabled);
    }

    base = ep->conf_weight;
    old = (she->rt & NGX_CFLB_RT_WEIGHT) ? she->rt_weight : base;

    if (ch->weight != NGX_CONF_UNSET_UINT && ch->weight != old) {
        changed |= NGX_CFLB_RT_WEIGHT;
        she->rt_weight = ch->weight;
        she->rt_weight_base = base;

        if (ch->weight == base) {
            she->rt &= ~NGX_CFLB_RT_WEIGHT;

        } else {
            she->rt |= NGX_CFLB_RT_WEIGHT;
        }
    }

    return changed;
}


void
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
                      ep->weight / 100, ep->weight % 100);
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
        pools[i]->enabled = (shp->rt & NGX_CFLB_RT_ENABLED)
                            ? shp->rt_enabled : pools[i]->conf_enabled;

        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            she = eps[j].sh;
            eps[j].disabled = (she->rt & NGX_CFLB_RT_ENABLED)
                              ? !she->rt_enabled : eps[j].conf_disabled;
            eps[j].weight = (she->rt & NGX_CFLB_RT_WEIGHT)
                            ? she->rt_weight : eps[j].conf_weight;
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

    if (cflb_set_init(&set, pool->policy, members, n, &a) != CFLB_OK) {
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

    if ((shp->rt & NGX_CFLB_RT_ENABLED)
        && shp->rt_enabled_base != pool->conf_enabled)
    {
        shp->rt = 0;
        ngx_cflb_runtime_drop(ccf, pool, NULL, "enabled");
    }

    ngx_str_null(&none);

    st = ngx_cflb_state_find(ccf, &pool->name, &none, &none);

    if (st == NULL || (shp->rt & NGX_CFLB_RT_ENABLED)) {
        return;
    }

    if (st->enabled_base == (ngx_uint_t) pool->conf_enabled) {
        shp->rt = NGX_CFLB_RT_ENABLED;
        shp->rt_enabled = st->enabled;
        shp->rt_enabled_base = st->enabled_base;

    } else {
        ngx_cflb_runtime_drop(ccf, pool, NULL, "enabled");
    }
}


void
ngx_cflb_runtime_bind_endpoint(ngx_cflb_conf_t *ccf, ngx_cflb_endpoint_t *ep,
    ngx_cflb_sh_endpoint_t *she)
{
    ngx_cflb_state_t  *st;

    if ((she->rt & NGX_CFLB_RT_ENABLED)
        && she->rt_enabled_base != !ep->conf_disabled)
    {
        she->rt &= ~NGX_CFLB_RT_ENABLED;
        ngx_cflb_runtime_drop(ccf, ep->pool, ep, "enabled");
    }

    if ((she->rt & NGX_CFLB_RT_WEIGHT)
        && she->rt_weight_base != ep->conf_weight)
    {
        she->rt &= ~NGX_CFLB_RT_WEIGHT;
        ngx_cflb_runtime_drop(ccf, ep->pool, ep, "weight");
    }

    st = ngx_cflb_state_find(ccf, &ep->pool->name, &ep->name, &ep->addr.name);

    if (st && (st->rt & NGX_CFLB_RT_ENABLED)
        && !(she->rt & NGX_CFLB_RT_ENABLED))
    {
        if (st->enabled_base == !ep->conf_disabled) {
            she->rt |= NGX_CFLB_RT_ENABLED;
            she->rt_enabled = st->enabled;
            she->rt_enabled_base = st->enabled_base;

        } else {
            ngx_cflb_runtime_drop(ccf, ep->pool, ep, "enabled");
        }
    }

    if (st && (st->rt & NGX_CFLB_RT_WEIGHT)
        && !(she->rt & NGX_CFLB_RT_WEIGHT))
    {
        if (st->weight_base == ep->conf_weight) {
            she->rt |= NGX_CFLB_RT_WEIGHT;
            she->rt_weight = st->weight;
            she->rt_weight_base = st->weight_base;

        } else {
            ngx_cflb_runtime_drop(ccf, ep->pool, ep, "weight");
        }
    }

    /* a drain runs from the first configuration or change that disabled it */
    ngx_cflb_drain(she, (she->rt & NGX_CFLB_RT_ENABLED) ? !she->rt_enabled
                                                        : ep->disabled);
}


static ngx_cflb_state_t *
ngx_cflb_state_find(ngx_cflb_conf_t *ccf, ngx_str_t *pool,
    ngx_str_t *endpoint, ngx_str_t *address)
{
    ngx_uint_t         i;
    ngx_cflb_state_t  *st;

    if (ccf->state == NULL) {
        return NULL;
    }

    st = ccf->state->elts;

    for (i = 0; i < ccf->state->nelts; i++) {
        if (st[i].pool.len == pool->len
            && st[i].endpoint.len == endpoint->len
            && st[i].address.len == address->len
            && ngx_strncmp(st[i].pool.data, pool->data, pool->len) == 0
            && ngx_strncmp(st[i].endpoint.data, endpoint->data,
                           endpoint->len) == 0
            && ngx_strncmp(st[i].address.data, address->data,
                           address->len) == 0)
        {
            st[i].used = 1;
            return &st[i];
        }
    }

    return NULL;
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
    ngx_uint_t         i;
    ngx_cflb_state_t  *st;

    /* the workers of this configuration apply the overrides first */
    (void) ngx_atomic_fetch_add(&ccf->sh->runtime_gen, 1);

    if (ccf->state) {
        st = ccf->state->elts;

        for (i = 0; i < ccf->state->nelts; i++) {
            if (st[i].used) {
                continue;
            }

            ccf->state_dirty = 1;
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "cflb_state_file \"%V\": pool \"%V\" endpoint "
                          "\"%V\" %V is not in the configuration, ignored",
                          &ccf->state_file, &st[i].pool, &st[i].endpoint,
                          &st[i].address);
        }
    }

    if (ccf->state_dirty && !ngx_test_config) {
        ngx_cflb_state_write(ccf, log);
    }
}


/*
 * The state file: the overrides of this configuration's objects, written
 * to FILE.tmp, synced and renamed over FILE, so that a reader sees the old
 * file or the new one.  Writers take a lock of their own (not the zone
 * mutex, which requests may wait for), so the last change is the last
 * written.
 */

static void
ngx_cflb_state_write(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    size_t                size;
    u_char               *buf, *p;
    ngx_uint_t            i, j;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *eps;

    if (ccf->state_file.len == 0) {
        return;
    }

    size = 64;
    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        size += 128 + 6 * pools[i]->name.len;
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            size += 256 + 6 * (pools[i]->name.len + eps[j].name.len
                               + eps[j].addr.name.len);
        }
    }

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        return;
    }

    ngx_cflb_state_lock(ccf->sh);

    ngx_shmtx_lock(&ccf->shpool->mutex);
    p = ngx_cflb_state_json(ccf, buf);
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (ngx_cflb_state_save(&ccf->state_file, buf, p - buf, log) == NGX_OK) {
        ccf->state_dirty = 0;
    }

    (void) ngx_atomic_cmp_set(&ccf->sh->state_lock, ngx_pid, 0);

    ngx_free(buf);
}


/*
 * The writers' lock holds the pid of its owner, so that the lock of a
 * worker that died while writing is taken over rather than waited for.
 */

static void
ngx_cflb_state_lock(ngx_cflb_sh_t *sh)
{
    ngx_pid_t  pid;

    for ( ;; ) {
        pid = (ngx_pid_t) sh->state_lock;

        if (pid == 0 || (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH)) {
            if (ngx_atomic_cmp_set(&sh->state_lock, pid, ngx_pid)) {
                return;
            }
        }

        ngx_sched_yield();
    }
}


static u_char *
ngx_cflb_state_json(ngx_cflb_conf_t *ccf, u_char *p)
{
    ngx_uint_t               i, j, n;
    ngx_cflb_pool_t        **pools;
    ngx_cflb_endpoint_t     *eps;
    ngx_cflb_sh_pool_t      *shp;
    ngx_cflb_sh_endpoint_t  *she;

    pools = ccf->pools.elts;
    p = ngx_sprintf(p, "{\"version\":1,\"pools\":[");

    for (i = 0, n = 0; i < ccf->pools.nelts; i++) {
        shp = pools[i]->sh;

        if (shp->rt & NGX_CFLB_RT_ENABLED) {
            p = ngx_sprintf(p, n++ ? ",\n{\"name\":" : "\n{\"name\":");
            p = ngx_cflb_state_str(p, &pools[i]->name);
            p = ngx_sprintf(p, ",\"enabled\":%s,\"configured_enabled\":%s}",
                            shp->rt_enabled ? "true" : "false",
                            shp->rt_enabled_base ? "true" : "false");
        }
    }

    p = ngx_sprintf(p, "],\"endpoints\":[");

    for (i = 0, n = 0; i < ccf->pools.nelts; i++) {
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            she = eps[j].sh;

            if (she->rt == 0) {
                continue;
            }

            p = ngx_sprintf(p, n++ ? ",\n{\"pool\":" : "\n{\"pool\":");
            p = ngx_cflb_state_str(p, &pools[i]->name);
            p = ngx_sprintf(p, ",\"name\":");
            p = ngx_cflb_state_str(p, &eps[j].name);
            p = ngx_sprintf(p, ",\"address\":");
            p = ngx_cflb_state_str(p, &eps[j].addr.name);

            if (she->rt & NGX_CFLB_RT_ENABLED) {
                p = ngx_sprintf(p, ",\"enabled\":%s,"
                                "\"configured_enabled\":%s",
                                she->rt_enabled ? "true" : "false",
                                she->rt_enabled_base ? "true" : "false");
            }

            if (she->rt & NGX_CFLB_RT_WEIGHT) {
                p = ngx_sprintf(p, ",\"weight\":%ui.%02ui,"
                                "\"configured_weight\":%ui.%02ui",
                                she->rt_weight / 100, she->rt_weight % 100,
                                she->rt_weight_base / 100,
                                she->rt_weight_base % 100);
            }

            *p++ = '}';
        }
    }

    return ngx_sprintf(p, "]}\n");
}


static u_char *
ngx_cflb_state_str(u_char *p, ngx_str_t *s)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    return p;
}


static ngx_int_t
ngx_cflb_state_save(ngx_str_t *file, u_char *data, size_t len,
    ngx_log_t *log)
{
    u_char    *tmp;
    ssize_t    n;
    ngx_fd_t   fd;

    tmp = ngx_alloc(file->len + sizeof(".tmp"), log);
    if (tmp == NULL) {
        return NGX_ERROR;
    }

    /* file is NUL-terminated: ngx_conf_full_name() made it */
    ngx_sprintf(tmp, "%V.tmp%Z", file);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_open_file_n " \"%s\" failed", tmp);
        goto failed;
    }

    n = ngx_write_fd(fd, data, len);

    if (n != (ssize_t) len || fsync(fd) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "cannot write cflb state to \"%s\"", tmp);
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    (void) ngx_close_file(fd);

    if (ngx_rename_file(tmp, file->data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_rename_file_n " \"%s\" to \"%V\" failed",
                      tmp, file);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    ngx_free(tmp);

    return NGX_OK;

failed:

    ngx_free(tmp);

    return NGX_ERROR;
}
