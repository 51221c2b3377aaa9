
/*
 * The least-load trees of a configuration in the zone (the contract is
 * in ngx_cflb_trees.h): one per pool that picks its endpoints by load,
 * one per load balancer that picks its pools by load.
 *
 * Slots.  A tree's members are slots, and a member keeps its slot from
 * one configuration to the next: an endpoint record remembers its slot in
 * its pool's tree, a pool's slot in a load balancer's tree is read from
 * the tables of the configurations still in the zone.  So a reload, even
 * one that adds or removes members, finds the same tree with the same
 * counts, and the workers of the old configuration and of the new one
 * count into it side by side: counts stay exact.  A tree has room for a
 * quarter more members than its configuration has (at least 2 more); a
 * reload that needs more makes a new tree, which starts at count 0 while
 * the old workers finish with the old one.
 *
 * Words.  A word folds, for an endpoint: its weight (runtime override or
 * configured) and "down" when it is disabled, unhealthy (monitored) or
 * out after failed attempts (passive health); for a pool in a load
 * balancer's tree: the random_steering weight and "down" when the pool is
 * disabled, has no enabled endpoint with a weight, or is critical.
 * Slots no endpoint of the configuration holds have weight 0.  Only the
 * workers of the tree's owner write words and draw from the tree: the
 * newest configuration whose workers started (they take over at start),
 * so that an old and a new configuration that weigh a member differently
 * do not undo each other, and a reload that fails changes nothing.  The
 * workers of an older configuration, draining after a reload, still
 * count into the tree but pick linearly from the records' counts, the
 * exact O(n) pick of cflb_steer_least.c.  Every writer holds the zone
 * mutex while it reads the records and sets the words, so the last word
 * written is what the records say now.  usable() keeps its tests too: a
 * word that is late costs a redraw, never a wrong choice.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_trees.h"


#define NGX_CFLB_NO_SLOT  0xffffffff


/* a slot some configuration in the zone uses, and for what */
typedef struct {
    ngx_cflb_sh_tree_t       *st;
    ngx_cflb_sh_gen_t        *gen;
    ngx_cflb_sh_gpool_t      *gp;
    ngx_cflb_sh_link_t       *link;          /* NULL: gp's endpoints */
} ngx_cflb_tree_use_t;


typedef struct {
    ngx_cflb_conf_t          *ccf;
    ngx_cflb_sh_gen_t        *gen;
    ngx_cflb_tree_use_t      *uses;          /* sorted by st */
    ngx_uint_t                nuses;
    void                    **holder;        /* per slot: the record */
    uint32_t                  room;          /* slots holder has */
    uint32_t                 *slots;         /* the members' new slots */
    uint32_t                 *zeros;         /* weights of a new tree */
    ngx_uint_t                link;          /* next gen->links free */
} ngx_cflb_trees_ctx_t;


/* a pick through a map from tree slots to positions in a set */
typedef struct {
    int                     (*usable)(void *ctx, unsigned i);
    void                     *ctx;
    const uint32_t           *map;
    uint32_t                  cap;
} ngx_cflb_trees_pick_t;


static ngx_int_t ngx_cflb_trees_ctx(ngx_cflb_trees_ctx_t *ctx,
    ngx_cflb_conf_t *ccf, ngx_cflb_sh_gen_t *gen);
static ngx_uint_t ngx_cflb_trees_wanted(ngx_cflb_conf_t *ccf,
    cflb_set_t *set);
static uint32_t ngx_cflb_trees_cap(ngx_uint_t n);
static ngx_int_t ngx_cflb_trees_uses(ngx_cflb_trees_ctx_t *ctx);
static int ngx_libc_cdecl ngx_cflb_tree_use_cmp(const void *a,
    const void *b);
static ngx_cflb_sh_tree_t *ngx_cflb_trees_find(ngx_cflb_trees_ctx_t *ctx,
    uint64_t key);
static void ngx_cflb_trees_holders(ngx_cflb_trees_ctx_t *ctx,
    ngx_cflb_sh_tree_t *st);
static ngx_cflb_sh_tree_t *ngx_cflb_trees_place(ngx_cflb_trees_ctx_t *ctx,
    uint64_t key, void **recs, ngx_uint_t n, uint32_t *known);
static ngx_int_t ngx_cflb_trees_reuse(ngx_cflb_trees_ctx_t *ctx,
    ngx_cflb_sh_tree_t *st, void **recs, ngx_uint_t n, uint32_t *known);
static ngx_cflb_sh_tree_t *ngx_cflb_trees_new(ngx_cflb_trees_ctx_t *ctx,
    uint64_t key, ngx_uint_t n);
static uint32_t *ngx_cflb_trees_map(ngx_cflb_trees_ctx_t *ctx,
    ngx_cflb_sh_tree_t *st, ngx_uint_t n, uint32_t **pick);
static ngx_int_t ngx_cflb_trees_endpoints(ngx_cflb_trees_ctx_t *ctx);
static ngx_int_t ngx_cflb_trees_lbs(ngx_cflb_trees_ctx_t *ctx);
static ngx_int_t ngx_cflb_trees_links(ngx_cflb_trees_ctx_t *ctx);
static void ngx_cflb_trees_sync_locked(ngx_cflb_conf_t *ccf);
static void ngx_cflb_trees_owned(ngx_cflb_conf_t *ccf);
static time_t ngx_cflb_trees_pool_sync(ngx_cflb_pool_t *pool, time_t now);
static void ngx_cflb_trees_unmapped(cflb_least_tree_t *t,
    const uint32_t *map, uint32_t cap);
static void ngx_cflb_trees_wake_locked(ngx_cflb_sh_t *sh, time_t now);
static void ngx_cflb_trees_set(cflb_least_tree_t *t, ngx_uint_t i,
    ngx_uint_t weight, ngx_uint_t down);
static int ngx_cflb_trees_usable(void *ctx, unsigned slot);


#define ngx_cflb_tree_bytes(cap)                                              \
    (offsetof(ngx_cflb_sh_tree_t, tree) + cflb_least_tree_size(cap))

#define ngx_cflb_owns(st, ccf)  ((st)->owner == (ccf)->generation)


ngx_int_t
ngx_cflb_trees_bind(ngx_cflb_conf_t *ccf, ngx_cflb_sh_gen_t *gen)
{
    ngx_int_t              rc;
    ngx_uint_t             i, ntrees, nlinks;
    ngx_cflb_pool_t      **pools;
    ngx_cflb_trees_ctx_t   ctx;

    ccf->trees = 0;

    ntrees = ngx_cflb_trees_plan(ccf, NULL, &nlinks);

    if (ntrees == 0) {
        return NGX_OK;
    }

    gen->trees = ngx_slab_calloc_locked(ccf->shpool,
                                        ntrees * sizeof(ngx_cflb_sh_tree_t *)
                                        + nlinks * sizeof(ngx_cflb_sh_link_t));
    if (gen->trees == NULL) {
        return NGX_ERROR;
    }

    gen->links = (ngx_cflb_sh_link_t *) (gen->trees + ntrees);

    rc = ngx_cflb_trees_ctx(&ctx, ccf, gen);

    if (rc == NGX_OK) {
        rc = ngx_cflb_trees_uses(&ctx);
    }

    if (rc == NGX_OK) {
        rc = ngx_cflb_trees_endpoints(&ctx);
    }

    if (rc == NGX_OK) {
        rc = ngx_cflb_trees_lbs(&ctx);
    }

    ngx_free(ctx.uses);
    ngx_free(ctx.zeros);
    ngx_free(ctx.slots);
    ngx_free(ctx.holder);

    if (rc != NGX_OK) {
        return rc;
    }

    gen->nlinks = (uint32_t) ctx.link;
    ccf->trees = gen->ntrees;
    pools = ccf->pools.elts;

    /*
     * The words of the trees this configuration made (an old one owns
     * the others until our workers start).  The records' overrides may
     * have been dropped or restored by this load: the workers of older
     * configurations bring the trees they own up to date too.
     */

    for (i = 0; i < ccf->pools.nelts; i++) {
        ngx_cflb_trees_changed_locked(ccf->sh, pools[i]->sh);
    }

    ngx_cflb_trees_sync_locked(ccf);

    return NGX_OK;
}


/* the scratch memory of a bind: room for the largest set and its tree */

static ngx_int_t
ngx_cflb_trees_ctx(ngx_cflb_trees_ctx_t *ctx, ngx_cflb_conf_t *ccf,
    ngx_cflb_sh_gen_t *gen)
{
    ngx_uint_t         i, max;
    ngx_cflb_pool_t  **pools;

    ngx_memzero(ctx, sizeof(ngx_cflb_trees_ctx_t));
    ctx->ccf = ccf;
    ctx->gen = gen;

    pools = ccf->pools.elts;
    max = NGX_CFLB_MAX_POOLS;

    for (i = 0; i < ccf->pools.nelts; i++) {
        max = ngx_max(max, pools[i]->endpoints.nelts);
    }

    ctx->room = ngx_cflb_trees_cap(max);
    ctx->holder = ngx_alloc(ctx->room * sizeof(void *), ngx_cycle->log);
    ctx->slots = ngx_alloc(max * sizeof(uint32_t), ngx_cycle->log);
    ctx->zeros = ngx_calloc(ngx_cflb_trees_cap(max) * sizeof(uint32_t),
                            ngx_cycle->log);

    if (ctx->holder == NULL || ctx->slots == NULL || ctx->zeros == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_uint_t
ngx_cflb_trees_plan(ngx_cflb_conf_t *ccf, size_t *sizes, ngx_uint_t *nlinks)
{
    ngx_uint_t         i, n;
    ngx_cflb_lb_t    **lbs;
    ngx_cflb_pool_t  **pools;

    pools = ccf->pools.elts;
    lbs = ccf->lbs.elts;
    n = 0;
    *nlinks = 0;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (ngx_cflb_trees_wanted(ccf, &pools[i]->set)) {
            if (sizes) {
                sizes[n] = ngx_cflb_tree_bytes(
                               ngx_cflb_trees_cap(pools[i]->endpoints.nelts));
            }

            n++;
        }
    }

    for (i = 0; i < ccf->lbs.nelts; i++) {
        if (ngx_cflb_trees_wanted(ccf, &lbs[i]->pools.set)) {
            if (sizes) {
                sizes[n] = ngx_cflb_tree_bytes(
                               ngx_cflb_trees_cap(lbs[i]->pools.n));
            }

            n++;
            *nlinks += lbs[i]->pools.n;
        }
    }

    return n;
}


/* a set that picks by a load this subsystem has counts into a tree */

static ngx_uint_t
ngx_cflb_trees_wanted(ngx_cflb_conf_t *ccf, cflb_set_t *set)
{
    return set->ops != NULL
           && set->data != NULL
           && (set->ops->inputs & CFLB_NEED_LOAD)
           && (set->ops->counts & ccf->mode);
}


/*
 * The slots of a tree for n members: a quarter more, at least 2 more.
 * Not a power of 2: up to 8 slots a tree is its words alone, and a pick
 * reads every word (cflb_least_tree.c), so a pool of 4 reads 6, not 8.
 */

static uint32_t
ngx_cflb_trees_cap(ngx_uint_t n)
{
    return (uint32_t) (n + ngx_max(2, n / 4));
}


/*
 * Every use of a tree's slots by the configurations in the zone, sorted
 * by tree: a slot one of them uses is not given to another member.
 */

static ngx_int_t
ngx_cflb_trees_uses(ngx_cflb_trees_ctx_t *ctx)
{
    ngx_uint_t            n, p, l;
    ngx_cflb_sh_gen_t    *gen;
    ngx_cflb_tree_use_t  *u;

    n = 0;

    for (gen = ctx->ccf->sh->gens; gen; gen = gen->next) {
        n += gen->npools + gen->nlinks;
    }

    if (n == 0) {
        return NGX_OK;
    }

    ctx->uses = ngx_alloc(n * sizeof(ngx_cflb_tree_use_t), ngx_cycle->log);
    if (ctx->uses == NULL) {
        return NGX_ERROR;
    }

    for (gen = ctx->ccf->sh->gens; gen; gen = gen->next) {
        for (p = 0; p < gen->npools; p++) {
            if (gen->pools[p].st) {
                u = &ctx->uses[ctx->nuses++];
                u->st = gen->pools[p].st;
                u->gen = gen;
                u->gp = &gen->pools[p];
                u->link = NULL;
            }

            for (l = 0; l < gen->pools[p].nlinks; l++) {
                u = &ctx->uses[ctx->nuses++];
                u->link = &gen->links[gen->pools[p].link + l];
                u->st = u->link->st;
                u->gen = gen;
                u->gp = &gen->pools[p];
            }
        }
    }

    ngx_qsort(ctx->uses, ctx->nuses, sizeof(ngx_cflb_tree_use_t),
              ngx_cflb_tree_use_cmp);

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_cflb_tree_use_cmp(const void *a, const void *b)
{
    const ngx_cflb_tree_use_t  *x = a, *y = b;

    return ((uintptr_t) x->st > (uintptr_t) y->st)
           - ((uintptr_t) x->st < (uintptr_t) y->st);
}


/* the tree for key of the newest configuration that has one */

static ngx_cflb_sh_tree_t *
ngx_cflb_trees_find(ngx_cflb_trees_ctx_t *ctx, uint64_t key)
{
    ngx_uint_t          i;
    ngx_cflb_sh_gen_t  *gen;

    for (gen = ctx->ccf->sh->gens; gen; gen = gen->next) {
        for (i = 0; i < gen->ntrees; i++) {
            if (gen->trees[i]->key == key) {
                return gen->trees[i];
            }
        }
    }

    return NULL;
}


/* who holds each slot of st in the configurations in the zone */

static void
ngx_cflb_trees_holders(ngx_cflb_trees_ctx_t *ctx, ngx_cflb_sh_tree_t *st)
{
    uint32_t              i;
    ngx_uint_t            lo, hi, mid;
    ngx_cflb_tree_use_t  *u;

    ngx_memzero(ctx->holder, st->cap * sizeof(void *));

    lo = 0;
    hi = ctx->nuses;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if ((uintptr_t) ctx->uses[mid].st < (uintptr_t) st) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for (u = &ctx->uses[lo]; u < ctx->uses + ctx->nuses && u->st == st; u++) {

        if (u->link) {
            ctx->holder[u->link->slot] = u->gp->shp;
            continue;
        }

        for (i = u->gp->first; i < u->gp->first + u->gp->n; i++) {
            ctx->holder[u->gen->slots[i]] = u->gen->endpoints[i];
        }
    }
}


/*
 * The tree of key for members recs[0..n-1] (records), and their slots in
 * it, in ctx->slots: the tree the zone has, where each member keeps the
 * slot it holds (known[i], or found among the holders when known is
 * NULL) and a new member takes a free one,
 * if there are enough; else a new tree.  Each configuration holds one
 * reference to each tree it uses.
 */

static ngx_cflb_sh_tree_t *
ngx_cflb_trees_place(ngx_cflb_trees_ctx_t *ctx, uint64_t key, void **recs,
    ngx_uint_t n, uint32_t *known)
{
    ngx_uint_t           i;
    ngx_cflb_sh_tree_t  *st;

    st = ngx_cflb_trees_find(ctx, key);

    /* a tree much larger than the largest set now (shrunk) is not kept */

    if (st && st->cap >= n && st->cap <= ctx->room
        && ngx_cflb_trees_reuse(ctx, st, recs, n, known) == NGX_OK)
    {
        for (i = 0; i < ctx->gen->ntrees; i++) {
            if (ctx->gen->trees[i] == st) {
                return st;
            }
        }

        st->refs++;
        ctx->gen->trees[ctx->gen->ntrees++] = st;

        return st;
    }

    /* no tree, or too small: a new one, at count 0 */

    st = ngx_cflb_trees_new(ctx, key, n);
    if (st == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        ctx->slots[i] = (uint32_t) i;
    }

    return st;
}


/*
 * The members' slots in st: those that hold one keep it, the others take
 * free ones, their counts and weights at 0.  NGX_DECLINED when there are
 * not enough free slots.
 */

static ngx_int_t
ngx_cflb_trees_reuse(ngx_cflb_trees_ctx_t *ctx, ngx_cflb_sh_tree_t *st,
    void **recs, ngx_uint_t n, uint32_t *known)
{
    int                 down;
    uint32_t            s, free, count, w;
    ngx_uint_t          i;
    cflb_least_tree_t  *t;

    t = ngx_cflb_sh_least(st);

    ngx_cflb_trees_holders(ctx, st);

    for (i = 0; i < n; i++) {
        ctx->slots[i] = NGX_CFLB_NO_SLOT;

        if (known) {
            /* an endpoint record knows its slot, if it has one */
            s = known[i];

        } else {
            for (s = 0; s < st->cap && ctx->holder[s] != recs[i]; s++) {
                /* void */
            }
        }

        if (s < st->cap
            && (ctx->holder[s] == recs[i] || ctx->holder[s] == NULL))
        {
            ctx->holder[s] = recs[i];
            ctx->slots[i] = s;
        }
    }

    free = 0;

    for (i = 0; i < n; i++) {
        if (ctx->slots[i] != NGX_CFLB_NO_SLOT) {
            continue;
        }

        while (free < st->cap && ctx->holder[free] != NULL) {
            free++;
        }

        if (free == st->cap) {
            return NGX_DECLINED;
        }

        ctx->holder[free] = recs[i];
        ctx->slots[i] = free;

        cflb_least_tree_get(t, free, &count, &w, &down);
        (void) cflb_least_tree_add(t, free, - (int32_t) count);
        (void) cflb_least_tree_set(t, free, 0, 0);
    }

    return NGX_OK;
}


static ngx_cflb_sh_tree_t *
ngx_cflb_trees_new(ngx_cflb_trees_ctx_t *ctx, uint64_t key, ngx_uint_t n)
{
    uint32_t             cap;
    ngx_cflb_sh_tree_t  *st;

    cap = ngx_cflb_trees_cap(n);

    /* zeroed: weights 0, counts 0 until the first sync */
    st = ngx_slab_calloc_locked(ctx->ccf->shpool, ngx_cflb_tree_bytes(cap));
    if (st == NULL) {
        return NULL;
    }

    if (cflb_least_tree_init(st->tree, cap, ctx->zeros, NULL) == NULL)
    {
        ngx_slab_free_locked(ctx->ccf->shpool, st);
        return NULL;
    }

    st->refs = 1;
    st->owner = ctx->ccf->generation;
    st->key = key;
    st->id = ++ctx->ccf->sh->tree_ids;
    st->cap = cap;

    ctx->gen->trees[ctx->gen->ntrees++] = st;

    return st;
}


/*
 * slot -> position in the set, for this worker's picks; *pick the same,
 * or NULL when each member's slot is its position: then a pick needs no
 * map (slots beyond the set have weight 0 in a tree this worker draws
 * from, so no draw returns one)
 */

static uint32_t *
ngx_cflb_trees_map(ngx_cflb_trees_ctx_t *ctx, ngx_cflb_sh_tree_t *st,
    ngx_uint_t n, uint32_t **pick)
{
    uint32_t    *map;
    ngx_uint_t   i, same;

    map = ngx_palloc(ctx->ccf->cycle->pool, st->cap * sizeof(uint32_t));
    if (map == NULL) {
        return NULL;
    }

    for (i = 0; i < st->cap; i++) {
        map[i] = NGX_CFLB_NO_SLOT;
    }

    same = 1;

    for (i = 0; i < n; i++) {
        map[ctx->slots[i]] = (uint32_t) i;
        same &= (ctx->slots[i] == i);
    }

    *pick = same ? NULL : map;

    return map;
}


/* the trees of pools that pick their endpoints by load */

static ngx_int_t
ngx_cflb_trees_endpoints(ngx_cflb_trees_ctx_t *ctx)
{
    void                 **recs;
    uint32_t              *known;
    uint64_t               key;
    ngx_uint_t             i, j, n;
    ngx_cflb_pool_t      **pools, *pool;
    ngx_cflb_sh_tree_t    *st;
    ngx_cflb_endpoint_t   *eps;

    pools = ctx->ccf->pools.elts;

    for (i = 0; i < ctx->ccf->pools.nelts; i++) {
        pool = pools[i];
        ctx->gen->pools[i].shp = pool->sh;

        if (!ngx_cflb_trees_wanted(ctx->ccf, &pool->set)) {
            continue;
        }

        n = pool->endpoints.nelts;
        eps = pool->endpoints.elts;

        recs = ngx_alloc(n * (sizeof(void *) + sizeof(uint32_t)),
                         ngx_cycle->log);
        if (recs == NULL) {
            return NGX_ERROR;
        }

        known = (uint32_t *) (recs + n);
        key = cflb_hash64(pool->name.data, pool->name.len, 0x706f6f6c);
        st = ngx_cflb_trees_find(ctx, key);

        for (j = 0; j < n; j++) {
            recs[j] = eps[j].sh;
            known[j] = (st && eps[j].sh->tree_id == st->id)
                       ? eps[j].sh->slot : NGX_CFLB_NO_SLOT;
        }

        st = ngx_cflb_trees_place(ctx, key, recs, n, known);

        ngx_free(recs);

        if (st == NULL) {
            return NGX_ERROR;
        }

        for (j = 0; j < n; j++) {
            eps[j].slot = ctx->slots[j];
            eps[j].sh->tree_id = st->id;
            eps[j].sh->slot = ctx->slots[j];
            ctx->gen->slots[eps[j].index] = ctx->slots[j];
        }

        pool->map = ngx_cflb_trees_map(ctx, st, n, &pool->pick_map);
        if (pool->map == NULL) {
            return NGX_ERROR;
        }

        pool->tree = ngx_cflb_sh_least(st);
        pool->draw = ngx_cflb_owns(st, ctx->ccf) ? pool->tree : NULL;
        pool->tree_sh = st;
        ctx->gen->pools[i].st = st;
    }

    return NGX_OK;
}


/* the trees of load balancers that pick their pools by load */

static ngx_int_t
ngx_cflb_trees_lbs(ngx_cflb_trees_ctx_t *ctx)
{
    void                *recs[NGX_CFLB_MAX_POOLS];
    uint64_t             key;
    ngx_uint_t           i, j;
    ngx_cflb_lb_t      **lbs;
    ngx_cflb_pools_t    *list;
    ngx_cflb_sh_tree_t  *st;

    lbs = ctx->ccf->lbs.elts;

    for (i = 0; i < ctx->ccf->lbs.nelts; i++) {
        list = &lbs[i]->pools;

        if (!ngx_cflb_trees_wanted(ctx->ccf, &list->set)) {
            continue;
        }

        for (j = 0; j < list->n; j++) {
            recs[j] = list->entries[j]->pool->sh;
        }

        key = cflb_hash64(lbs[i]->name.data, lbs[i]->name.len, 0x6c62);

        st = ngx_cflb_trees_place(ctx, key, recs, list->n, NULL);
        if (st == NULL) {
            return NGX_ERROR;
        }

        list->map = ngx_cflb_trees_map(ctx, st, list->n, &list->pick_map);
        if (list->map == NULL) {
            return NGX_ERROR;
        }

        list->tree = ngx_cflb_sh_least(st);
        list->draw = ngx_cflb_owns(st, ctx->ccf) ? list->tree : NULL;
        list->tree_sh = st;

        /* the slots in the map, read back when the links are made */
    }

    return ngx_cflb_trees_links(ctx);
}


/*
 * Each pool's places in the load balancers' trees, together in
 * gen->links: a count of one of its endpoints goes to every place.
 */

static ngx_int_t
ngx_cflb_trees_links(ngx_cflb_trees_ctx_t *ctx)
{
    uint32_t              s;
    ngx_uint_t            i, j;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_pool_t     **pools, *pool;
    ngx_cflb_pools_t     *list;
    ngx_cflb_sh_link_t   *link;
    ngx_cflb_sh_gpool_t  *gp;

    lbs = ctx->ccf->lbs.elts;
    pools = ctx->ccf->pools.elts;

    for (i = 0; i < ctx->ccf->pools.nelts; i++) {
        pools[i]->nlinks = 0;
    }

    for (i = 0; i < ctx->ccf->lbs.nelts; i++) {
        for (j = 0; lbs[i]->pools.tree && j < lbs[i]->pools.n; j++) {
            lbs[i]->pools.entries[j]->pool->nlinks++;
        }
    }

    for (i = 0; i < ctx->ccf->pools.nelts; i++) {
        gp = &ctx->gen->pools[i];
        gp->link = (uint32_t) ctx->link;
        gp->nlinks = (uint32_t) pools[i]->nlinks;

        pools[i]->links = &ctx->gen->links[ctx->link];
        ctx->link += pools[i]->nlinks;
        pools[i]->nlinks = 0;
    }

    for (i = 0; i < ctx->ccf->lbs.nelts; i++) {
        list = &lbs[i]->pools;

        if (list->tree == NULL) {
            continue;
        }

        for (s = 0; s < list->tree_sh->cap; s++) {
            if (list->map[s] == NGX_CFLB_NO_SLOT) {
                continue;
            }

            j = list->map[s];
            pool = list->entries[j]->pool;

            link = &pool->links[pool->nlinks++];
            link->st = list->tree_sh;
            link->slot = s;
            link->weight = list->members[j].weight;
        }
    }

    return NGX_OK;
}


void
ngx_cflb_trees_release(ngx_cflb_conf_t *ccf, ngx_cflb_sh_gen_t *gen)
{
    ngx_uint_t  i;

    for (i = 0; i < gen->ntrees; i++) {
        if (--gen->trees[i]->refs == 0) {
            ngx_slab_free_locked(ccf->shpool, gen->trees[i]);
        }
    }

    if (gen->trees) {
        ngx_slab_free_locked(ccf->shpool, gen->trees);
    }

    gen->trees = NULL;
    gen->links = NULL;
    gen->ntrees = 0;
    gen->nlinks = 0;
}


void
ngx_cflb_trees_detach(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t         i;
    ngx_cflb_lb_t    **lbs;
    ngx_cflb_pool_t  **pools;

    pools = ccf->pools.elts;
    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        pools[i]->tree = NULL;
        pools[i]->draw = NULL;
        pools[i]->nlinks = 0;
    }

    for (i = 0; i < ccf->lbs.nelts; i++) {
        lbs[i]->pools.tree = NULL;
        lbs[i]->pools.draw = NULL;
    }

    ccf->trees = 0;
    ccf->gen = NULL;
}


void
ngx_cflb_trees_commit(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t           i, took;
    ngx_cflb_pool_t    **pools;
    ngx_cflb_sh_tree_t  *st;

    if (ccf->trees == 0) {
        return;
    }

    took = 0;

    for (i = 0; i < ccf->gen->ntrees; i++) {
        st = ccf->gen->trees[i];

        if (st->owner < ccf->generation) {
            st->owner = ccf->generation;
            took = 1;
        }
    }

    if (!took) {
        return;
    }

    /* every worker of it draws from them after its next sync */

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        ngx_cflb_trees_changed_locked(ccf->sh, pools[i]->sh);
    }

    ngx_cflb_trees_sync_locked(ccf);
}


void
ngx_cflb_trees_sync(ngx_cflb_conf_t *ccf)
{
    ngx_shmtx_lock(&ccf->shpool->mutex);
    ngx_cflb_trees_sync_locked(ccf);
    ngx_shmtx_unlock(&ccf->shpool->mutex);
}


/*
 * The pools whose record moved since this worker last looked, and those
 * whose passive fail_timeout ended, brought up to date in the trees this
 * configuration owns.
 */

static void
ngx_cflb_trees_sync_locked(ngx_cflb_conf_t *ccf)
{
    time_t               now, wake;
    ngx_uint_t           i, seen;
    ngx_cflb_sh_t       *sh;
    ngx_cflb_pool_t    **pools;
    ngx_cflb_sh_pool_t  *shp;

    sh = ccf->sh;
    now = ngx_time();

    if (sh->wake && sh->wake <= now) {
        ngx_cflb_trees_wake_locked(sh, now);
    }

    seen = sh->changes;
    pools = ccf->pools.elts;

    ngx_cflb_trees_owned(ccf);

    for (i = 0; i < ccf->pools.nelts; i++) {
        shp = pools[i]->sh;

        if ((pools[i]->tree == NULL && pools[i]->nlinks == 0)
            || pools[i]->tree_seen == shp->changes)
        {
            continue;
        }

        pools[i]->tree_seen = shp->changes;

        wake = ngx_cflb_trees_pool_sync(pools[i], now);

        if (wake == 0) {
            continue;
        }

        if (shp->wake == 0 || wake < shp->wake) {
            shp->wake = wake;
        }

        if (sh->wake == 0 || wake < sh->wake) {
            sh->wake = wake;
        }
    }

    ccf->trees_seen = seen;
}


/* this configuration took a tree over, or a newer one did: who draws */

static void
ngx_cflb_trees_owned(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t         i;
    ngx_cflb_lb_t    **lbs;
    ngx_cflb_pool_t  **pools;
    ngx_cflb_pools_t  *list;

    lbs = ccf->lbs.elts;
    pools = ccf->pools.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        list = &lbs[i]->pools;

        if (list->tree) {
            list->draw = ngx_cflb_owns(list->tree_sh, ccf) ? list->tree
                                                           : NULL;
        }
    }

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (pools[i]->tree) {
            pools[i]->draw = ngx_cflb_owns(pools[i]->tree_sh, ccf)
                             ? pools[i]->tree : NULL;
        }
    }
}


/*
 * One pool's words from its records: its endpoints' in its own tree, its
 * own in the load balancers' trees, where this configuration owns them.
 * Returns when the first passive fail_timeout still running ends, or 0.
 */

static time_t
ngx_cflb_trees_pool_sync(ngx_cflb_pool_t *pool, time_t now)
{
    time_t                   wake;
    ngx_uint_t               i, w, own, disabled, failing, down;
    ngx_uint_t               total, healthy, nusable, critical;
    ngx_cflb_conf_t         *ccf;
    ngx_cflb_endpoint_t     *eps;
    ngx_cflb_sh_endpoint_t  *she;

    ccf = pool->conf;
    eps = pool->endpoints.elts;
    own = pool->tree && ngx_cflb_owns(pool->tree_sh, ccf);
    wake = 0;
    total = 0;
    healthy = 0;
    nusable = 0;

    for (i = 0; i < pool->endpoints.nelts; i++) {
        she = eps[i].sh;

        w = cflb_override_value(&she->rt_weight, eps[i].conf_weight);
        disabled = !cflb_override_value(&she->rt_enabled,
                                        !eps[i].conf_disabled);
        failing = eps[i].max_fails && she->pf_until > now;

        if (failing && (wake == 0 || she->pf_until < wake)) {
            wake = she->pf_until;
        }

        if (own) {
            down = disabled || failing
                   || (pool->monitor && !she->health.healthy);
            ngx_cflb_trees_set(pool->tree, eps[i].slot, w, down);
        }

        if (!disabled) {
            total++;
            healthy += she->health.healthy;
            nusable += (w > 0);
        }
    }

    if (own) {
        ngx_cflb_trees_unmapped(pool->tree, pool->map, pool->tree_sh->cap);
    }

    critical = pool->monitor
               && cflb_pool_health(healthy, total, pool->minimum_origins)
                  == CFLB_POOL_CRITICAL;

    down = !cflb_override_value(&pool->sh->rt_enabled, pool->conf_enabled)
           || nusable == 0 || critical;

    for (i = 0; i < pool->nlinks; i++) {
        if (ngx_cflb_owns(pool->links[i].st, ccf)) {
            ngx_cflb_trees_set(ngx_cflb_sh_least(pool->links[i].st),
                               pool->links[i].slot, pool->links[i].weight,
                               down);
        }
    }

    return wake;
}


/* slots no member of this configuration holds: weight 0, never drawn */

static void
ngx_cflb_trees_unmapped(cflb_least_tree_t *t, const uint32_t *map,
    uint32_t cap)
{
    uint32_t  s;

    for (s = 0; s < cap; s++) {
        if (map[s] == NGX_CFLB_NO_SLOT) {
            ngx_cflb_trees_set(t, s, 0, 0);
        }
    }
}


/* passive fail_timeouts ended: their pools move, the next one is kept */

static void
ngx_cflb_trees_wake_locked(ngx_cflb_sh_t *sh, time_t now)
{
    time_t               next;
    ngx_uint_t           i;
    ngx_cflb_sh_pool_t  *shp;

    next = 0;

    for (i = 0; i <= sh->pool_mask; i++) {
        for (shp = sh->pool_hash[i]; shp; shp = shp->next) {
            if (shp->wake == 0) {
                continue;
            }

            if (shp->wake <= now) {
                shp->wake = 0;
                ngx_cflb_trees_changed_locked(sh, shp);
                continue;
            }

            if (next == 0 || shp->wake < next) {
                next = shp->wake;
            }
        }
    }

    sh->wake = next;
}


static void
ngx_cflb_trees_set(cflb_least_tree_t *t, ngx_uint_t i, ngx_uint_t weight,
    ngx_uint_t down)
{
    int       d;
    uint32_t  count, w;

    cflb_least_tree_get(t, (unsigned) i, &count, &w, &d);

    if (w != weight || (ngx_uint_t) d != down) {
        (void) cflb_least_tree_set(t, (unsigned) i, (uint32_t) weight,
                                   (int) down);
    }
}


void
ngx_cflb_trees_failing(ngx_cflb_endpoint_t *ep)
{
    time_t               until;
    ngx_cflb_sh_t       *sh;
    ngx_cflb_conf_t     *ccf;
    ngx_cflb_sh_pool_t  *shp;

    ccf = ep->pool->conf;
    sh = ccf->sh;
    shp = ep->sh->pool;
    until = ep->sh->pf_until;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    ngx_cflb_trees_changed_locked(sh, shp);

    if (shp->wake == 0 || until < shp->wake) {
        shp->wake = until;
    }

    if (sh->wake == 0 || until < sh->wake) {
        sh->wake = until;
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);
}


int
ngx_cflb_trees_pick(cflb_least_tree_t *t, const uint32_t *map,
    cflb_pick_t *pk, ngx_uint_t all)
{
    int                     s;
    cflb_pick_t             tpk;
    ngx_cflb_trees_pick_t   tp;

    if (map == NULL) {
        return all ? cflb_least_tree_pick_all(t, pk)
                   : cflb_least_tree_pick(t, pk);
    }

    tp.usable = pk->usable;
    tp.ctx = pk->ctx;
    tp.map = map;

    tpk = *pk;
    tpk.usable = ngx_cflb_trees_usable;
    tpk.ctx = &tp;

    s = all ? cflb_least_tree_pick_all(t, &tpk) : cflb_least_tree_pick(t, &tpk);

    return (s < 0) ? s : (int) map[s];
}


/* a slot no member of this configuration holds is never usable */

static int
ngx_cflb_trees_usable(void *ctx, unsigned slot)
{
    ngx_cflb_trees_pick_t *tp = ctx;

    uint32_t  i;

    i = tp->map[slot];

    return i != NGX_CFLB_NO_SLOT && (tp->usable == NULL
                                     || tp->usable(tp->ctx, i));
}
