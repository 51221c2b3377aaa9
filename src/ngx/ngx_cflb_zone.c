
/*
 * The cflb shared-memory zone: one record per pool and per endpoint, found
 * by name in hash tables so that "nginx -s reload" keeps counters, health
 * and overrides of objects that stay, in time linear in the
 * configuration; the tables of each configuration workers run (endpoints
 * by index, least-load trees); worker slots, so that a worker that dies
 * leaves no in-flight count behind; the random key of affinity tokens,
 * made with the zone; the header session table, made when first needed.
 *
 * What a zone needs is counted the way the slab allocator places it, so
 * that a zone too small for a configuration is refused with the size it
 * needs (docs/directives.md, cflb_zone).
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_zone.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_trees.h"
#include "ngx_cflb_rules.h"
#include "ngx_cflb_state.h"
#include "ngx_cflb_dns_zone.h"
#include "ngx_cflb_cluster.h"

#if (NGX_OPENSSL)
#include <openssl/rand.h>
#endif


/* header sessions take this share of the zone */
#define NGX_CFLB_SESSIONS_SHARE  4

/* configurations kept besides those worker slots name: the two newest */
#define NGX_CFLB_GENS_KEPT       2

/*
 * A zone without header sessions larger than this many times what its
 * configuration needs, and than NGX_CFLB_ZONE_LARGE, is said to be
 * mostly idle.
 */
#define NGX_CFLB_ZONE_SLACK      16
#define NGX_CFLB_ZONE_LARGE      (64 * 1024 * 1024)


/*
 * What a configuration needs of a zone, counted as the slab allocator
 * will place it: allocations of up to half a page share pages in slots
 * of a power of 2, larger ones take whole pages.
 */
typedef struct {
    ngx_uint_t                slots[16];     /* by size class, 8 B up */
    ngx_uint_t                pages;
} ngx_cflb_zone_need_t;


static ngx_int_t ngx_cflb_zone_header(ngx_shm_zone_t *shm_zone,
    ngx_slab_pool_t *shpool);
static ngx_int_t ngx_cflb_zone_load(ngx_cflb_conf_t *ccf);
static ngx_int_t ngx_cflb_zone_tables(ngx_cflb_conf_t *ccf);
static void *ngx_cflb_zone_rehash(ngx_cflb_conf_t *ccf, void **table,
    ngx_uint_t *mask, ngx_uint_t want, size_t next, size_t hash);
static ngx_int_t ngx_cflb_zone_bind(ngx_cflb_conf_t *ccf);
static ngx_cflb_sh_pool_t *ngx_cflb_zone_pool(ngx_cflb_conf_t *ccf,
    ngx_cflb_pool_t *pool);
static ngx_cflb_sh_endpoint_t *ngx_cflb_zone_endpoint(ngx_cflb_conf_t *ccf,
    ngx_cflb_endpoint_t *ep, ngx_cflb_sh_pool_t *shp);
static ngx_int_t ngx_cflb_zone_rules(ngx_cflb_conf_t *ccf);
static void *ngx_cflb_zone_record(ngx_cflb_conf_t *ccf, ngx_rbtree_t *tree,
    ngx_str_t *key, size_t size);
static ngx_cflb_sh_gen_t *ngx_cflb_zone_gen(ngx_cflb_conf_t *ccf);
static void ngx_cflb_zone_collect(ngx_cflb_conf_t *ccf);
static ngx_uint_t ngx_cflb_zone_collect_gens(ngx_cflb_conf_t *ccf);
static void ngx_cflb_zone_full(ngx_cflb_conf_t *ccf, ngx_log_t *log);
static size_t ngx_cflb_zone_need(ngx_cflb_conf_t *ccf, ngx_uint_t gens);
static void ngx_cflb_zone_need_records(ngx_cflb_conf_t *ccf,
    ngx_cflb_zone_need_t *need);
static size_t ngx_cflb_zone_need_size(ngx_cflb_zone_need_t *need);
static void ngx_cflb_zone_idle(ngx_cflb_conf_t *ccf, ngx_shm_zone_t *zone);
static void ngx_cflb_zone_key(ngx_cflb_sh_t *sh);
static ngx_int_t ngx_cflb_zone_sessions(ngx_cflb_conf_t *ccf,
    ngx_log_t *log);
static void *ngx_cflb_zone_alloc(ngx_cflb_conf_t *ccf, size_t size);
static void ngx_cflb_zone_need_add(ngx_cflb_zone_need_t *need, size_t size,
    ngx_uint_t n);
static ngx_uint_t ngx_cflb_chains(ngx_uint_t want);
static void ngx_cflb_slot_take(ngx_cflb_conf_t *ccf, ngx_cflb_slot_t *slot,
    ngx_cflb_sh_gen_t *gen);
static ngx_uint_t ngx_cflb_slot_alive(ngx_cflb_slot_t *slot);
static void ngx_cflb_slot_recover(ngx_cflb_conf_t *ccf, ngx_uint_t slot);


#define ngx_cflb_hash(data, len)                                              \
    ((uint32_t) cflb_hash64(data, len, 0x63666c62))

#define ngx_cflb_pool_size(len)                                               \
    (offsetof(ngx_cflb_sh_pool_t, name) + (len))

#define ngx_cflb_endpoint_size(ep)                                            \
    (offsetof(ngx_cflb_sh_endpoint_t, key) + (ep)->name.len                   \
     + (ep)->addr.name.len)


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

    ngx_int_t         rc;
    ngx_cflb_sh_t    *sh;
    ngx_cflb_conf_t  *ccf;
    ngx_slab_pool_t  *shpool;

    ccf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (!occf && !shm_zone->shm.exists) {
        if (ngx_cflb_zone_header(shm_zone, shpool) != NGX_OK) {
            ccf->shpool = shpool;
            ngx_cflb_zone_full(ccf, shm_zone->shm.log);
            return NGX_ERROR;
        }
    }

    /* a reload or a reattach: the zone's own pointer, not the old conf,
       whose layout a new module version may have changed */
    sh = shpool->data;

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

    /* a full zone is reported with what the configuration needs */
    shpool->log_nomem = 0;

    ngx_shmtx_lock(&shpool->mutex);

    rc = ngx_cflb_zone_load(ccf);

    if (rc == NGX_OK) {
        rc = ngx_cflb_zone_sessions(ccf, shm_zone->shm.log);

    } else {
        ngx_cflb_zone_full(ccf, shm_zone->shm.log);
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


/* a new zone: the header, the log context, the token key */

static ngx_int_t
ngx_cflb_zone_header(ngx_shm_zone_t *shm_zone, ngx_slab_pool_t *shpool)
{
    size_t          len;
    ngx_cflb_sh_t  *sh;

    shpool->log_nomem = 0;

    sh = ngx_slab_calloc(shpool, sizeof(ngx_cflb_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->magic = NGX_CFLB_ZONE_MAGIC;
    sh->layout = NGX_CFLB_ZONE_LAYOUT;

    ngx_rbtree_init(&sh->rule_tree, &sh->rule_sentinel,
                    ngx_str_rbtree_insert_value);
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

    return NGX_OK;
}


/*
 * A configuration comes: its records bound (new ones made), its tables
 * and trees made, what no configuration a worker may run uses any more
 * collected.  With the mutex held.
 */

static ngx_int_t
ngx_cflb_zone_load(ngx_cflb_conf_t *ccf)
{
    ngx_cflb_sh_gen_t  *gen;

    ccf->generation = ++ccf->sh->generation;

    if (ngx_cflb_zone_tables(ccf) != NGX_OK
        || ngx_cflb_zone_bind(ccf) != NGX_OK
        || ngx_cflb_dns_zone_bind(ccf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    gen = ngx_cflb_zone_gen(ccf);
    if (gen == NULL) {
        return NGX_ERROR;
    }

    if (ngx_cflb_trees_bind(ccf, gen) != NGX_OK) {
        ngx_cflb_trees_release(ccf, gen);
        ngx_slab_free_locked(ccf->shpool, gen);
        return NGX_ERROR;
    }

    /* only now may workers of this configuration find it */
    gen->next = ccf->sh->gens;
    ccf->sh->gens = gen;
    ccf->gen = gen;

    ngx_cflb_zone_collect(ccf);

    return NGX_OK;
}


/*
 * The hash tables of records, grown before binding to at least as many
 * chains as records there may be, so that a lookup stays O(1): a power
 * of 2, rehashed when it doubles (the chains keep each record's hash).
 */

static ngx_int_t
ngx_cflb_zone_tables(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t            i, npools, neps;
    ngx_cflb_sh_t        *sh;
    ngx_cflb_pool_t     **pools;

    sh = ccf->sh;
    pools = ccf->pools.elts;
    npools = ccf->pools.nelts;
    neps = 0;

    for (i = 0; i < npools; i++) {
        neps += pools[i]->endpoints.nelts;
    }

    if (ngx_cflb_zone_rehash(ccf, (void **) &sh->pool_hash, &sh->pool_mask,
                             sh->npools + npools,
                             offsetof(ngx_cflb_sh_pool_t, next),
                             offsetof(ngx_cflb_sh_pool_t, hash))
        == NULL
        || ngx_cflb_zone_rehash(ccf, (void **) &sh->endpoint_hash,
                                &sh->endpoint_mask, sh->nendpoints + neps,
                                offsetof(ngx_cflb_sh_endpoint_t, next),
                                offsetof(ngx_cflb_sh_endpoint_t, hash))
           == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A table of chains for want records: kept if large enough, else made
 * anew and the records moved into it.  next and hash are the offsets of
 * the record's link and hash: pool and endpoint records share the code.
 */

static void *
ngx_cflb_zone_rehash(ngx_cflb_conf_t *ccf, void **table, ngx_uint_t *mask,
    ngx_uint_t want, size_t next, size_t hash)
{
    u_char      *rec, *following;
    void       **old, **new;
    ngx_uint_t   i, size, j;

    if (*table && *mask + 1 >= want) {
        return *table;
    }

    size = ngx_cflb_chains(want);

    new = ngx_cflb_zone_alloc(ccf, size * sizeof(void *));
    if (new == NULL) {
        return NULL;
    }

    old = *table;

    for (i = 0; old && i <= *mask; i++) {
        for (rec = old[i]; rec; rec = following) {
            following = *(u_char **) (rec + next);

            j = *(uint32_t *) (rec + hash) & (size - 1);
            *(void **) (rec + next) = new[j];
            new[j] = rec;
        }
    }

    if (old) {
        ngx_slab_free_locked(ccf->shpool, old);
    }

    *table = new;
    *mask = size - 1;

    return new;
}


/* chains for want records: a power of 2, at least 64 */

static ngx_uint_t
ngx_cflb_chains(ngx_uint_t want)
{
    ngx_uint_t  size;

    for (size = 64; size < want; size <<= 1) { /* void */ }

    return size;
}


/* give every pool and endpoint of this configuration its record */

static ngx_int_t
ngx_cflb_zone_bind(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t            i, j, index;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *eps;

    pools = ccf->pools.elts;
    index = 0;

    for (i = 0; i < ccf->pools.nelts; i++) {
        pools[i]->sh = ngx_cflb_zone_pool(ccf, pools[i]);
        if (pools[i]->sh == NULL) {
            return NGX_ERROR;
        }

        pools[i]->index = i;
        pools[i]->first = index;
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            eps[j].index = index++;
            eps[j].sh = ngx_cflb_zone_endpoint(ccf, &eps[j], pools[i]->sh);
            if (eps[j].sh == NULL) {
                return NGX_ERROR;
            }
        }
    }

    ccf->nendpoints = index;

    return ngx_cflb_zone_rules(ccf);
}


static ngx_cflb_sh_pool_t *
ngx_cflb_zone_pool(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool)
{
    uint32_t             hash;
    ngx_cflb_sh_t       *sh;
    ngx_cflb_sh_pool_t  *shp, **chain;

    sh = ccf->sh;
    hash = ngx_cflb_hash(pool->name.data, pool->name.len);
    chain = &sh->pool_hash[hash & sh->pool_mask];

    for (shp = *chain; shp; shp = shp->next) {
        if (shp->hash == hash
            && shp->len == pool->name.len
            && ngx_memcmp(shp->name, pool->name.data, pool->name.len) == 0)
        {
            break;
        }
    }

    if (shp == NULL) {
        shp = ngx_cflb_zone_alloc(ccf, ngx_cflb_pool_size(pool->name.len));
        if (shp == NULL) {
            return NULL;
        }

        shp->hash = hash;
        shp->len = pool->name.len;
        ngx_memcpy(shp->name, pool->name.data, pool->name.len);

        shp->next = *chain;
        *chain = shp;
        sh->npools++;
    }

    ngx_cflb_runtime_bind_pool(ccf, pool, shp);

    shp->generation = (uint32_t) ccf->generation;

    return shp;
}


static ngx_cflb_sh_endpoint_t *
ngx_cflb_zone_endpoint(ngx_cflb_conf_t *ccf, ngx_cflb_endpoint_t *ep,
    ngx_cflb_sh_pool_t *shp)
{
    u_char                  *p;
    uint64_t                 h;
    uint32_t                 hash;
    ngx_cflb_sh_t           *sh;
    ngx_cflb_sh_endpoint_t  *she, **chain;

    /* the pool record, the name and the address: names may hold anything */

    sh = ccf->sh;
    h = cflb_hash64(&shp, sizeof(shp), 0);
    h = cflb_hash64(ep->name.data, ep->name.len, h);
    hash = (uint32_t) cflb_hash64(ep->addr.name.data, ep->addr.name.len, h);
    chain = &sh->endpoint_hash[hash & sh->endpoint_mask];

    for (she = *chain; she; she = she->next) {
        if (she->hash == hash
            && she->pool == shp
            && she->name_len == ep->name.len
            && she->addr_len == ep->addr.name.len
            && ngx_memcmp(she->key, ep->name.data, ep->name.len) == 0
            && ngx_memcmp(she->key + ep->name.len, ep->addr.name.data,
                          ep->addr.name.len)
               == 0)
        {
            break;
        }
    }

    if (she == NULL) {
        she = ngx_cflb_zone_alloc(ccf, ngx_cflb_endpoint_size(ep));
        if (she == NULL) {
            return NULL;
        }

        she->hash = hash;
        she->pool = shp;
        she->name_len = (uint16_t) ep->name.len;
        she->addr_len = (uint16_t) ep->addr.name.len;
        p = ngx_cpymem(she->key, ep->name.data, ep->name.len);
        ngx_memcpy(p, ep->addr.name.data, ep->addr.name.len);

        she->next = *chain;
        *chain = she;
        sh->nendpoints++;
        shp->refs++;
    }

    ngx_cflb_runtime_bind_endpoint(ccf, ep, she);

    she->generation = (uint32_t) ccf->generation;

    return she;
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


/* a rule record by key, or a zeroed one (generation 0): few, an rbtree */

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


/* this configuration's tables: its pools' ranges, its endpoints by index */

static ngx_cflb_sh_gen_t *
ngx_cflb_zone_gen(ngx_cflb_conf_t *ccf)
{
    size_t                size;
    ngx_uint_t            i, j, npools;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_sh_gen_t    *gen;
    ngx_cflb_endpoint_t  *eps;

    pools = ccf->pools.elts;
    npools = ccf->pools.nelts;

    size = sizeof(ngx_cflb_sh_gen_t)
           + npools * sizeof(ngx_cflb_sh_gpool_t)
           + ccf->nendpoints * (sizeof(ngx_cflb_sh_endpoint_t *)
                                + sizeof(uint32_t));

    gen = ngx_cflb_zone_alloc(ccf, size);
    if (gen == NULL) {
        return NULL;
    }

    gen->generation = ccf->generation;
    gen->npools = npools;
    gen->nendpoints = ccf->nendpoints;
    gen->pools = (ngx_cflb_sh_gpool_t *) (gen + 1);
    gen->endpoints = (ngx_cflb_sh_endpoint_t **) (gen->pools + npools);
    gen->slots = (uint32_t *) (gen->endpoints + ccf->nendpoints);

    for (i = 0; i < npools; i++) {
        gen->pools[i].first = pools[i]->first;
        gen->pools[i].n = pools[i]->endpoints.nelts;

        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            gen->endpoints[eps[j].index] = eps[j].sh;
        }
    }

    return gen;
}


/*
 * Free what no worker can reach: configurations that are neither among
 * the two newest nor named by a worker slot (a live worker's, or a dead
 * one's not yet taken back), then the records older than every
 * configuration left, if idle.
 */

static void
ngx_cflb_zone_collect(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t                i, oldest;
    ngx_queue_t              *q, *next;
    ngx_cflb_sh_t            *sh;
    ngx_cflb_sh_rule_t       *shr;
    ngx_cflb_sh_pool_t       *shp, **pp;
    ngx_cflb_sh_endpoint_t   *she, **ep;

    sh = ccf->sh;
    oldest = ngx_cflb_zone_collect_gens(ccf);

    for (i = 0; i <= sh->endpoint_mask; i++) {
        for (ep = &sh->endpoint_hash[i]; *ep; /* void */) {
            she = *ep;

            if (she->generation >= oldest || she->c.active) {
                ep = &she->next;
                continue;
            }

            *ep = she->next;
            she->pool->refs--;
            sh->nendpoints--;
            ngx_slab_free_locked(ccf->shpool, she);
        }
    }

    for (i = 0; i <= sh->pool_mask; i++) {
        for (pp = &sh->pool_hash[i]; *pp; /* void */) {
            shp = *pp;

            if (shp->generation >= oldest || shp->refs || shp->c.active) {
                pp = &shp->next;
                continue;
            }

            *pp = shp->next;
            sh->npools--;
            ngx_slab_free_locked(ccf->shpool, shp);
        }
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


/* the configurations kept; returns the oldest generation among them */

static ngx_uint_t
ngx_cflb_zone_collect_gens(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t           i, n, oldest, named;
    ngx_cflb_sh_t       *sh;
    ngx_cflb_sh_gen_t   *gen, **gp;

    sh = ccf->sh;
    oldest = ccf->generation;
    n = 0;

    for (gp = &sh->gens; *gp; /* void */) {
        gen = *gp;
        named = (n++ < NGX_CFLB_GENS_KEPT);

        for (i = 0; !named && i < NGX_CFLB_SLOTS; i++) {
            named = (sh->slots[i].pid && sh->slots[i].gen == gen);
        }

        if (named) {
            oldest = ngx_min(oldest, gen->generation);
            gp = &gen->next;
            continue;
        }

        *gp = gen->next;
        ngx_cflb_trees_release(ccf, gen);
        ngx_slab_free_locked(ccf->shpool, gen);
    }

    return oldest;
}


/* the log_nomem flag set at init: a full zone is reported by the caller */

static void *
ngx_cflb_zone_alloc(ngx_cflb_conf_t *ccf, size_t size)
{
    return ngx_slab_calloc_locked(ccf->shpool, size);
}


/* n allocations of size bytes, as the slab allocator places them */

static void
ngx_cflb_zone_need_add(ngx_cflb_zone_need_t *need, size_t size,
    ngx_uint_t n)
{
    ngx_uint_t  shift;

    if (size > ngx_pagesize / 2) {
        need->pages += n * ((size + ngx_pagesize - 1) >> ngx_pagesize_shift);
        return;
    }

    for (shift = 3; ((size_t) 1 << shift) < size; shift++) { /* void */ }

    need->slots[shift - 3] += n;
}


/* the zone size that holds what was counted: pages, and nginx's own */

static size_t
ngx_cflb_zone_need_size(ngx_cflb_zone_need_t *need)
{
    ngx_uint_t  shift, per, pages;

    pages = need->pages;

    for (shift = 3; shift < ngx_pagesize_shift; shift++) {
        per = ngx_pagesize >> shift;
        pages += (need->slots[shift - 3] + per - 1) / per;
    }

    /*
     * each page costs its ngx_slab_page_t too; then the slab pool's own
     * header and slot lists, and one page for the zone header and what
     * the slab allocator rounds
     */

    return pages * (ngx_pagesize + sizeof(ngx_slab_page_t))
           + sizeof(ngx_slab_pool_t)
           + ngx_pagesize_shift * 2 * sizeof(ngx_slab_page_t)
           + 2 * ngx_pagesize;
}


/*
 * The zone is full: say how much this configuration needs, counted as
 * the slab allocator places it, for a fresh start and with room for the
 * tables of a second configuration during a reload.
 */

static void
ngx_cflb_zone_full(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    size_t  base, reload;

    base = ngx_cflb_zone_need(ccf, 1);
    reload = ngx_cflb_zone_need(ccf, 2);

    if (ccf->sessions) {
        /* header sessions take their share of what the zone has */
        base = base * NGX_CFLB_SESSIONS_SHARE / (NGX_CFLB_SESSIONS_SHARE - 1);
        reload = reload * NGX_CFLB_SESSIONS_SHARE
                 / (NGX_CFLB_SESSIONS_SHARE - 1);
    }

    ngx_log_error(NGX_LOG_EMERG, log, 0,
                  "cflb zone \"%V\" of %uzk is too small for %ui pools and "
                  "%ui endpoints: it needs %uzk, and %uzk to be reloaded "
                  "with changes",
                  &ccf->shm_zone->shm.name, ccf->shm_zone->shm.size / 1024,
                  ccf->pools.nelts, ccf->nendpoints, (base + 1023) / 1024,
                  (reload + 1023) / 1024);
}


/*
 * The zone size the configuration needs: its records and hash tables,
 * and gens times what one configuration adds (its tables, its workers'
 * counts, its trees).
 */

static size_t
ngx_cflb_zone_need(ngx_cflb_conf_t *ccf, ngx_uint_t gens)
{
    size_t                 *sizes;
    ngx_uint_t              i, n, nlinks, workers;
    ngx_core_conf_t        *cccf;
    ngx_cflb_zone_need_t    need;

    ngx_memzero(&need, sizeof(ngx_cflb_zone_need_t));

    cccf = (ngx_core_conf_t *) ngx_get_conf(ccf->cycle->conf_ctx,
                                            ngx_core_module);
    workers = (cccf && cccf->worker_processes > 0) ? cccf->worker_processes
                                                   : 1;
    ngx_cflb_zone_need_records(ccf, &need);

    ngx_cflb_zone_need_add(&need, sizeof(ngx_cflb_sh_gen_t)
                           + ccf->pools.nelts * sizeof(ngx_cflb_sh_gpool_t)
                           + ccf->nendpoints * (sizeof(void *)
                                                + sizeof(uint32_t)), gens);
    ngx_cflb_zone_need_add(&need, ccf->nendpoints * sizeof(uint32_t),
                           gens * workers);

    sizes = ngx_alloc((ccf->pools.nelts + ccf->lbs.nelts + 1)
                      * sizeof(size_t), ngx_cycle->log);
    if (sizes) {
        n = ngx_cflb_trees_plan(ccf, sizes, &nlinks);

        for (i = 0; i < n; i++) {
            ngx_cflb_zone_need_add(&need, sizes[i], gens);
        }

        ngx_cflb_zone_need_add(&need, n * sizeof(void *)
                                     + nlinks * sizeof(ngx_cflb_sh_link_t),
                               n ? gens : 0);
        ngx_free(sizes);
    }

    return ngx_cflb_zone_need_size(&need);
}


/* the header, the records and their hash tables */

static void
ngx_cflb_zone_need_records(ngx_cflb_conf_t *ccf, ngx_cflb_zone_need_t *need)
{
    ngx_uint_t             i, j;
    ngx_cflb_pool_t      **pools;
    ngx_cflb_endpoint_t   *eps;

    pools = ccf->pools.elts;
    ccf->nendpoints = 0;

    ngx_cflb_zone_need_add(need, sizeof(ngx_cflb_sh_t), 1);

    for (i = 0; i < ccf->pools.nelts; i++) {
        ngx_cflb_zone_need_add(need, ngx_cflb_pool_size(pools[i]->name.len),
                               1);
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            ngx_cflb_zone_need_add(need, ngx_cflb_endpoint_size(&eps[j]), 1);
        }

        ccf->nendpoints += pools[i]->endpoints.nelts;
    }

    ngx_cflb_zone_need_add(need, ngx_cflb_chains(ccf->pools.nelts)
                                 * sizeof(void *), 1);
    ngx_cflb_zone_need_add(need, ngx_cflb_chains(ccf->nendpoints)
                                 * sizeof(void *), 1);
}


void
ngx_cflb_zone_attach(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    ngx_uint_t          i, free;
    ngx_cflb_sh_t      *sh;
    ngx_cflb_sh_gen_t  *gen;

    sh = ccf->sh;
    free = NGX_CFLB_SLOTS;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    for (i = 0; i < NGX_CFLB_SLOTS; i++) {

        if (sh->slots[i].pid && !ngx_cflb_slot_alive(&sh->slots[i])) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "cflb: taking back counters of exited worker %P",
                          sh->slots[i].pid);
            ngx_cflb_slot_recover(ccf, i);
        }

        if (sh->slots[i].pid == 0 && free == NGX_CFLB_SLOTS) {
            free = i;
        }
    }

    /*
     * this configuration's tables, unless two reloads came before us; a
     * worker without a slot cannot keep them in the zone: it counts only
     * into the totals and picks linearly
     */
    for (gen = sh->gens; gen && gen != ccf->gen; gen = gen->next) {
        /* void */
    }

    if (gen == NULL || free == NGX_CFLB_SLOTS) {
        gen = NULL;
        ngx_cflb_trees_detach(ccf);

    } else {
        /* the first worker of a configuration takes its trees over */
        ngx_cflb_trees_commit(ccf);
    }

    if (free < NGX_CFLB_SLOTS) {
        ngx_cflb_slot_take(ccf, &sh->slots[free], gen);
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (free == NGX_CFLB_SLOTS) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "cflb: all %d worker slots are taken, counts of this "
                      "worker cannot be recovered if it crashes",
                      NGX_CFLB_SLOTS);

    } else if (gen && gen->nendpoints && ccf->active == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "cflb zone \"%V\" has no room for the counts of this "
                      "worker, they cannot be recovered if it crashes: "
                      "make the zone larger", &ccf->shm_zone->shm.name);
    }

    ccf->slot = free;
}


/* the slot is this worker's, with an array for its share of the counts */

static void
ngx_cflb_slot_take(ngx_cflb_conf_t *ccf, ngx_cflb_slot_t *slot,
    ngx_cflb_sh_gen_t *gen)
{
    slot->pid = ngx_pid;
    slot->generation = ccf->generation;
    slot->gen = gen;
    slot->active = NULL;

    if (gen && gen->nendpoints) {
        slot->active = ngx_cflb_zone_alloc(ccf, gen->nendpoints
                                                * sizeof(uint32_t));
    }

    ccf->active = slot->active;
}


void
ngx_cflb_zone_detach(ngx_cflb_conf_t *ccf)
{
    if (ccf->sh == NULL || ccf->slot == NGX_CFLB_SLOTS) {
        return;
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);

    /* nothing should be left; whatever is, must not leak */
    ngx_cflb_slot_recover(ccf, ccf->slot);
    ccf->active = NULL;

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


/*
 * A worker's counts taken back from every total and tree it counted
 * into, through its configuration's tables, and its slot made free.
 * With the mutex held.
 */

static void
ngx_cflb_slot_recover(ngx_cflb_conf_t *ccf, ngx_uint_t s)
{
    int32_t                   k;
    uint32_t                  i, p, l;
    ngx_cflb_slot_t          *slot;
    ngx_cflb_sh_gen_t        *gen;
    ngx_cflb_sh_link_t       *link;
    ngx_cflb_sh_gpool_t      *gp;
    ngx_cflb_sh_endpoint_t   *she;

    slot = &ccf->sh->slots[s];
    gen = slot->gen;

    for (p = 0; slot->active && p < gen->npools; p++) {
        gp = &gen->pools[p];

        for (i = gp->first; i < gp->first + gp->n; i++) {
            k = (int32_t) slot->active[i];

            if (k == 0) {
                continue;
            }

            she = gen->endpoints[i];

            (void) ngx_atomic_fetch_add(&she->c.active, -k);
            (void) ngx_atomic_fetch_add(&she->pool->c.active, -k);

            if (gp->st) {
                (void) cflb_least_tree_add(ngx_cflb_sh_least(gp->st),
                                           gen->slots[i], -k);
            }

            for (l = 0; l < gp->nlinks; l++) {
                link = &gen->links[gp->link + l];
                (void) cflb_least_tree_add(ngx_cflb_sh_least(link->st),
                                           link->slot, -k);
            }
        }
    }

    if (slot->active) {
        ngx_slab_free_locked(ccf->shpool, slot->active);
    }

    slot->pid = 0;
    slot->gen = NULL;
    slot->active = NULL;
}


/*
 * A zone far larger than its configuration can ever fill wastes memory
 * in silence (its page table alone is touched at start): say so.  Only
 * the header session table grows with the zone.  What the configuration
 * needs is counted as for a zone too small, with room for a reload.
 */

static void
ngx_cflb_zone_idle(ngx_cflb_conf_t *ccf, ngx_shm_zone_t *zone)
{
    size_t  need;

    if (ccf->sessions || zone->shm.size <= NGX_CFLB_ZONE_LARGE) {
        return;
    }

    need = ngx_cflb_zone_need(ccf, 2);

    if (zone->shm.size / NGX_CFLB_ZONE_SLACK <= need) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, zone->shm.log, 0,
                  "cflb_zone \"%V\" of %uzm is far more than this "
                  "configuration can use, about %uzk for %ui pools and %ui "
                  "endpoints with a reload's copy; only header sessions "
                  "grow with the zone, the rest stays idle",
                  &zone->shm.name, zone->shm.size >> 20,
                  (need + 1023) >> 10, ccf->pools.nelts, ccf->nendpoints);
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
