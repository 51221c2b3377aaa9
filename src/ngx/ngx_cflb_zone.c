
/*
 * The cflb shared-memory zone: one record per pool and per endpoint, found
 * by name so that "nginx -s reload" keeps counters, health and overrides
 * of objects that stay; worker slots, so that a worker that dies leaves
 * no in-flight count behind; the random key of affinity tokens, made
 * with the zone; the header session table, made when first needed.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_zone.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_rules.h"
#include "ngx_cflb_state.h"
#include "ngx_cflb_dns_zone.h"
#include "ngx_cflb_cluster.h"

#if (NGX_OPENSSL)
#include <openssl/rand.h>
#endif


/* header sessions take this share of the zone */
#define NGX_CFLB_SESSIONS_SHARE  4

/*
 * A zone without header sessions larger than this many times what its
 * records need, and than NGX_CFLB_ZONE_LARGE, is said to be mostly idle.
 */
#define NGX_CFLB_ZONE_SLACK      16
#define NGX_CFLB_ZONE_LARGE      (64 * 1024 * 1024)


static ngx_int_t ngx_cflb_zone_bind(ngx_cflb_conf_t *ccf);
static ngx_cflb_sh_pool_t *ngx_cflb_zone_pool(ngx_cflb_conf_t *ccf,
    ngx_cflb_pool_t *pool);
static ngx_cflb_sh_endpoint_t *ngx_cflb_zone_endpoint(ngx_cflb_conf_t *ccf,
    ngx_cflb_endpoint_t *ep, ngx_cflb_sh_pool_t *shp);
static void *ngx_cflb_zone_record(ngx_cflb_conf_t *ccf, ngx_rbtree_t *tree,
    ngx_str_t *key, size_t size);
static ngx_int_t ngx_cflb_zone_rules(ngx_cflb_conf_t *ccf);
static void ngx_cflb_zone_collect(ngx_cflb_conf_t *ccf);
static void ngx_cflb_zone_key(ngx_cflb_sh_t *sh);
static ngx_int_t ngx_cflb_zone_sessions(ngx_cflb_conf_t *ccf,
    ngx_log_t *log);
static void ngx_cflb_zone_idle(ngx_cflb_conf_t *ccf, ngx_shm_zone_t *zone);
static ngx_uint_t ngx_cflb_slot_alive(ngx_cflb_slot_t *slot);
static void ngx_cflb_slot_recover(ngx_cflb_sh_t *sh, ngx_uint_t slot);


char *
ngx_cflb_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (ccf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small, the minimum is %uz",
                           &value[1], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    ccf->shm_zone = ngx_shared_memory_add(cf, &value[1], size, ccf->module);
    if (ccf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ccf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    ccf->shm_zone->init = ngx_cflb_init_zone;
    ccf->shm_zone->data = ccf;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_cflb_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    void *occf = data;

    size_t            len;
    ngx_int_t         rc;
    ngx_cflb_sh_t    *sh;
    ngx_cflb_conf_t  *ccf;
    ngx_slab_pool_t  *shpool;

    ccf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (occf || shm_zone->shm.exists) {
        /* a reload or a reattach: the zone's own pointer, not the old
           conf, whose layout a new module version may have changed */
        sh = shpool->data;

    } else {
        sh = ngx_slab_calloc(shpool, sizeof(ngx_cflb_sh_t));
        if (sh == NULL) {
            return NGX_ERROR;
        }

        sh->magic = NGX_CFLB_ZONE_MAGIC;
        sh->layout = NGX_CFLB_ZONE_LAYOUT;

        ngx_rbtree_init(&sh->pool_tree, &sh->pool_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_rbtree_init(&sh->endpoint_tree, &sh->endpoint_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_rbtree_init(&sh->rule_tree, &sh->rule_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_queue_init(&sh->pools);
        ngx_queue_init(&sh->endpoints);
        ngx_queue_init(&sh->rules);

        shpool->data = sh;

        len = sizeof(" in cflb zone \"\"") + shm_zone->shm.name.len;

        shpool->log_ctx = ngx_slab_alloc(shpool, len);
        if (shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(shpool->log_ctx, " in cflb zone \"%V\"%Z",
                    &shm_zone->shm.name);

        ngx_cflb_zone_key(sh);
    }

    if (sh->magic != NGX_CFLB_ZONE_MAGIC || sh->layout != NGX_CFLB_ZONE_LAYOUT)
    {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "cflb zone \"%V\" has layout %ui while this module "
                      "needs %d: restart nginx rather than reload it",
                      &shm_zone->shm.name, sh->layout, NGX_CFLB_ZONE_LAYOUT);
        return NGX_ERROR;
    }

    ccf->shpool = shpool;
    ccf->sh = sh;

    ngx_cflb_zone_idle(ccf, shm_zone);

    if (ngx_cflb_state_init_zone(ccf, shm_zone->shm.log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&shpool->mutex);

    ccf->generation = ++sh->generation;
    rc = ngx_cflb_zone_bind(ccf);

    if (rc == NGX_OK) {
        rc = ngx_cflb_dns_zone_bind(ccf);
    }

    if (rc == NGX_OK) {
        ngx_cflb_zone_collect(ccf);

    } else {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "cflb zone \"%V\" is full, make it larger",
                      &shm_zone->shm.name);
    }

    if (rc == NGX_OK) {
        rc = ngx_cflb_zone_sessions(ccf, shm_zone->shm.log);
    }

    if (rc == NGX_OK) {
        rc = ngx_cflb_cluster_init_zone(ccf, shm_zone->shm.log);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_cflb_runtime_loaded(ccf, shm_zone->shm.log);

    return NGX_OK;
}


/*
 * A zone far larger than its records can ever fill wastes memory in
 * silence (its page table alone is touched at start): say so.  Only the
 * header session table grows with the zone.  The records are counted
 * twice, for the copy a reload keeps until the old workers exit, and
 * each twice again for the slab allocator's rounding.
 */

static void
ngx_cflb_zone_idle(ngx_cflb_conf_t *ccf, ngx_shm_zone_t *zone)
{
    size_t                need;
    ngx_uint_t            i, j, neps;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *eps;

    if (ccf->sessions) {
        return;
    }

    need = 8 * ngx_pagesize + sizeof(ngx_cflb_sh_t);
    neps = 0;
    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        need += 4 * (sizeof(ngx_cflb_sh_pool_t) + pools[i]->name.len);
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            need += 4 * (sizeof(ngx_cflb_sh_endpoint_t) + 2
                         + pools[i]->name.len + eps[j].name.len
                         + eps[j].addr.name.len);
            neps++;
        }
    }

    if (zone->shm.size <= NGX_CFLB_ZONE_LARGE
        || zone->shm.size / NGX_CFLB_ZONE_SLACK <= need)
    {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, zone->shm.log, 0,
                  "cflb_zone \"%V\" of %uzm is far more than this "
                  "configuration can use, about %uzk for %ui pools and %ui "
                  "endpoints with a reload's copy; only header sessions "
                  "grow with the zone, the rest stays idle",
                  &zone->shm.name, zone->shm.size >> 20,
                  (need + 1023) >> 10, ccf->pools.nelts, neps);
}


/* give every pool and endpoint of this configuration its record */

static ngx_int_t
ngx_cflb_zone_bind(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t            i, j;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *eps;

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        pools[i]->sh = ngx_cflb_zone_pool(ccf, pools[i]);
        if (pools[i]->sh == NULL) {
            return NGX_ERROR;
        }

        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            eps[j].sh = ngx_cflb_zone_endpoint(ccf, &eps[j], pools[i]->sh);
            if (eps[j].sh == NULL) {
                return NGX_ERROR;
            }
        }
    }

    return ngx_cflb_zone_rules(ccf);
}


/* the counters of every custom rule, by "lb\0rule" */

static ngx_int_t
ngx_cflb_zone_rules(ngx_cflb_conf_t *ccf)
{
    u_char               *p;
    ngx_str_t             key;
    ngx_uint_t            i, j;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_rule_t     **all;
    ngx_cflb_sh_rule_t   *shr;

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        if (lbs[i]->rules == NULL) {
            continue;
        }

        all = lbs[i]->rules->all.elts;

        for (j = 0; j < lbs[i]->rules->all.nelts; j++) {
            key.len = lbs[i]->name.len + 1 + all[j]->name.len;
            key.data = ngx_alloc(key.len, ngx_cycle->log);
            if (key.data == NULL) {
                return NGX_ERROR;
            }

            p = ngx_cpymem(key.data, lbs[i]->name.data, lbs[i]->name.len);
            *p++ = '\0';
            ngx_memcpy(p, all[j]->name.data, all[j]->name.len);

            shr = ngx_cflb_zone_record(ccf, &ccf->sh->rule_tree, &key,
                                       sizeof(ngx_cflb_sh_rule_t));

            ngx_free(key.data);

            if (shr == NULL) {
                return NGX_ERROR;
            }

            if (shr->generation == 0) {
                ngx_queue_insert_tail(&ccf->sh->rules, &shr->queue);
            }

            shr->generation = ccf->generation;
            all[j]->sh = shr;
        }
    }

    return NGX_OK;
}


static ngx_cflb_sh_pool_t *
ngx_cflb_zone_pool(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool)
{
    ngx_cflb_sh_pool_t  *shp;

    shp = ngx_cflb_zone_record(ccf, &ccf->sh->pool_tree, &pool->name,
                               sizeof(ngx_cflb_sh_pool_t));
    if (shp == NULL) {
        return NULL;
    }

    if (shp->generation == 0) {
        ngx_queue_insert_tail(&ccf->sh->pools, &shp->queue);
    }

    ngx_cflb_runtime_bind_pool(ccf, pool, shp);

    shp->generation = ccf->generation;

    return shp;
}


static ngx_cflb_sh_endpoint_t *
ngx_cflb_zone_endpoint(ngx_cflb_conf_t *ccf, ngx_cflb_endpoint_t *ep,
    ngx_cflb_sh_pool_t *shp)
{
    u_char                  *p;
    ngx_str_t                key;
    ngx_cflb_sh_endpoint_t  *she;

    /* pool, endpoint and address, NUL-separated: names may hold anything */

    key.len = ep->pool->name.len + ep->name.len + ep->addr.name.len + 2;
    key.data = ngx_alloc(key.len, ngx_cycle->log);
    if (key.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(key.data, ep->pool->name.data, ep->pool->name.len);
    *p++ = '\0';
    p = ngx_cpymem(p, ep->name.data, ep->name.len);
    *p++ = '\0';
    ngx_memcpy(p, ep->addr.name.data, ep->addr.name.len);

    she = ngx_cflb_zone_record(ccf, &ccf->sh->endpoint_tree, &key,
                               sizeof(ngx_cflb_sh_endpoint_t));

    ngx_free(key.data);

    if (she == NULL) {
        return NULL;
    }

    if (she->generation == 0) {
        ngx_queue_insert_tail(&ccf->sh->endpoints, &she->queue);
        she->pool = shp;
        shp->refs++;
    }

    ngx_cflb_runtime_bind_endpoint(ccf, ep, she);

    she->generation = ccf->generation;

    return she;
}


/* find a record by key, or make a zeroed one (generation 0) */

static void *
ngx_cflb_zone_record(ngx_cflb_conf_t *ccf, ngx_rbtree_t *tree,
    ngx_str_t *key, size_t size)
{
    uint32_t         hash;
    ngx_str_node_t  *sn;

    hash = ngx_crc32_short(key->data, key->len);

    sn = ngx_str_rbtree_lookup(tree, key, hash);
    if (sn) {
        return sn;
    }

    /* every record starts with its ngx_str_node_t */

    sn = ngx_slab_calloc_locked(ccf->shpool, size + key->len);
    if (sn == NULL) {
        return NULL;
    }

    sn->str.data = (u_char *) sn + size;
    sn->str.len = key->len;
    ngx_memcpy(sn->str.data, key->data, key->len);
    sn->node.key = hash;

    ngx_rbtree_insert(tree, &sn->node);

    return sn;
}


/*
 * Free records that no live worker can reach: not used by this
 * configuration nor by the oldest one a live worker still runs, and idle.
 */

static void
ngx_cflb_zone_collect(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t               i, oldest;
    ngx_queue_t             *q, *next;
    ngx_cflb_sh_t           *sh;
    ngx_cflb_sh_rule_t      *shr;
    ngx_cflb_sh_pool_t      *shp;
    ngx_cflb_sh_endpoint_t  *she;

    sh = ccf->sh;
    oldest = ccf->generation;

    for (i = 0; i < NGX_CFLB_SLOTS; i++) {
        if (ngx_cflb_slot_alive(&sh->slots[i])
            && sh->slots[i].generation < oldest)
        {
            oldest = sh->slots[i].generation;
        }
    }

    for (q = ngx_queue_head(&sh->endpoints);
         q != ngx_queue_sentinel(&sh->endpoints);
         q = next)
    {
        next = ngx_queue_next(q);
        she = ngx_queue_data(q, ngx_cflb_sh_endpoint_t, queue);

        if (she->generation >= oldest || she->c.active) {
            continue;
        }

        she->pool->refs--;
        ngx_queue_remove(q);
        ngx_rbtree_delete(&sh->endpoint_tree, &she->sn.node);
        ngx_slab_free_locked(ccf->shpool, she);
    }

    for (q = ngx_queue_head(&sh->pools);
         q != ngx_queue_sentinel(&sh->pools);
         q = next)
    {
        next = ngx_queue_next(q);
        shp = ngx_queue_data(q, ngx_cflb_sh_pool_t, queue);

        if (shp->generation >= oldest || shp->refs || shp->c.active) {
            continue;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&sh->pool_tree, &shp->sn.node);
        ngx_slab_free_locked(ccf->shpool, shp);
    }

    for (q = ngx_queue_head(&sh->rules);
         q != ngx_queue_sentinel(&sh->rules);
         q = next)
    {
        next = ngx_queue_next(q);
        shr = ngx_queue_data(q, ngx_cflb_sh_rule_t, queue);

        if (shr->generation >= oldest) {
            continue;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&sh->rule_tree, &shr->sn.node);
        ngx_slab_free_locked(ccf->shpool, shr);
    }

    ngx_cflb_dns_zone_collect(ccf, oldest);
}


void
ngx_cflb_zone_attach(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    ngx_uint_t      i, free;
    ngx_cflb_sh_t  *sh;

    sh = ccf->sh;
    free = NGX_CFLB_SLOTS;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    for (i = 0; i < NGX_CFLB_SLOTS; i++) {

        if (sh->slots[i].pid && !ngx_cflb_slot_alive(&sh->slots[i])) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "cflb: taking back counters of exited worker %P",
                          sh->slots[i].pid);
            ngx_cflb_slot_recover(sh, i);
            sh->slots[i].pid = 0;
        }

        if (sh->slots[i].pid == 0 && free == NGX_CFLB_SLOTS) {
            free = i;
        }
    }

    if (free < NGX_CFLB_SLOTS) {
        sh->slots[free].pid = ngx_pid;
        sh->slots[free].generation = ccf->generation;
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (free == NGX_CFLB_SLOTS) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "cflb: all %d worker slots are taken, counts of this "
                      "worker cannot be recovered if it crashes",
                      NGX_CFLB_SLOTS);
    }

    ccf->slot = free;
}


void
ngx_cflb_zone_detach(ngx_cflb_conf_t *ccf)
{
    if (ccf->sh == NULL || ccf->slot == NGX_CFLB_SLOTS) {
        return;
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);

    /* nothing should be left; whatever is, must not leak */
    ngx_cflb_slot_recover(ccf->sh, ccf->slot);
    ccf->sh->slots[ccf->slot].pid = 0;

    ngx_shmtx_unlock(&ccf->shpool->mutex);
}


static ngx_uint_t
ngx_cflb_slot_alive(ngx_cflb_slot_t *slot)
{
    if (slot->pid == 0) {
        return 0;
    }

    /* EPERM means it exists under another user */
    return kill(slot->pid, 0) == 0 || ngx_errno != NGX_ESRCH;
}


static void
ngx_cflb_slot_recover(ngx_cflb_sh_t *sh, ngx_uint_t slot)
{
    ngx_atomic_int_t         n;
    ngx_queue_t             *q;
    ngx_cflb_sh_endpoint_t  *she;

    for (q = ngx_queue_head(&sh->endpoints);
         q != ngx_queue_sentinel(&sh->endpoints);
         q = ngx_queue_next(q))
    {
        she = ngx_queue_data(q, ngx_cflb_sh_endpoint_t, queue);

        n = she->slot_active[slot];

        if (n) {
            (void) ngx_atomic_fetch_add(&she->c.active, -n);
            (void) ngx_atomic_fetch_add(&she->pool->c.active, -n);
            she->slot_active[slot] = 0;
        }
    }
}


/* a new zone: its own random key for affinity tokens */

static void
ngx_cflb_zone_key(ngx_cflb_sh_t *sh)
{
#if (NGX_OPENSSL)
    if (RAND_bytes(sh->key, sizeof(sh->key)) != 1)
#endif
    {
        /* not secret enough to rely on: set cflb_affinity_key */
        ngx_uint_t  i;

        for (i = 0; i < sizeof(sh->key); i++) {
            sh->key[i] = (u_char) ngx_random();
        }
    }
}


/*
 * The header session table, made in the zone the first time a
 * configuration uses header sessions, and kept over reloads: a quarter
 * of the zone, or what the zone still has room for.  Called with the
 * mutex held.
 */

static ngx_int_t
ngx_cflb_zone_sessions(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    size_t            size;
    uint32_t          n;
    ngx_slab_pool_t  *shpool;

    if (!ccf->sessions || ccf->sh->sessions) {
        return NGX_OK;
    }

    shpool = ccf->shpool;
    size = ((u_char *) shpool->end - (u_char *) shpool->start)
           / NGX_CFLB_SESSIONS_SHARE;

    for (n = cflb_sessions_fit(size); n >= 16; n /= 2) {
        ccf->sh->sessions = ngx_slab_alloc_locked(shpool,
                                                  cflb_sessions_size(n));
        if (ccf->sh->sessions) {
            cflb_sessions_init(ccf->sh->sessions, n);
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_EMERG, log, 0,
                  "cflb zone \"%V\" has no room for header sessions, make "
                  "it larger", &ccf->shm_zone->shm.name);

    return NGX_ERROR;
}
