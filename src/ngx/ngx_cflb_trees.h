
/*
 * least_outstanding_requests and least_connections in O(log n): the
 * least-load trees (src/common/cflb_least_tree.c) in the zone, one per
 * pool that picks its endpoints by load and one per load balancer that
 * picks its pools by load.  Every attempt counts into them
 * (ngx_cflb_count()); what excludes a member for every request (disabled,
 * unhealthy, out after failed attempts; a disabled, empty or critical
 * pool) is folded into the member's word, so that a draw rarely lands on
 * a member usable() refuses.
 *
 * Exactness: counts are exact across workers (atomic adds), across
 * reloads (members keep their slots in a tree from one configuration to
 * the next, so old and new workers count into the same tree; only a
 * reload that outgrows a tree's room starts a new one at 0) and worker
 * crashes (ngx_cflb_zone.c takes a dead worker's counts back from the
 * trees it counted into).  The words follow the zone's records: whoever
 * changes what they fold moves the pool record's "changes" under the
 * zone mutex, and the workers of the configuration that owns a tree
 * bring its words up to date, under the mutex, before their next
 * decision.
 */

#ifndef _NGX_CFLB_TREES_H_INCLUDED_
#define _NGX_CFLB_TREES_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"


/*
 * ngx_cflb_trees_bind() gives the configuration its trees in the zone,
 * at each load, in the master, with the zone mutex held: one per pool
 * and load balancer whose policy picks by a load the subsystem has, the
 * one the zone has for that pool or load balancer if it has room for the
 * members (each keeps its slot, new ones take free slots), else a new
 * one at count 0, whose words are set from the records.  Fills gen's
 * trees, links and slots.  NGX_ERROR when the zone is full (what it made
 * is released with gen).
 */
ngx_int_t ngx_cflb_trees_bind(ngx_cflb_conf_t *ccf, ngx_cflb_sh_gen_t *gen);

/* the trees gen uses, released (freed when no configuration uses one) */
void ngx_cflb_trees_release(ngx_cflb_conf_t *ccf, ngx_cflb_sh_gen_t *gen);

/*
 * ngx_cflb_trees_plan() tells what the trees of a configuration will
 * take: their sizes (sizes has room for one per pool and per load
 * balancer) and the places of pools in load balancers' trees; returns
 * how many trees.  For the zone's sizing.
 */
ngx_uint_t ngx_cflb_trees_plan(ngx_cflb_conf_t *ccf, size_t *sizes,
    ngx_uint_t *nlinks);

/* a worker whose configuration's tables are gone picks linearly */
void ngx_cflb_trees_detach(ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_trees_commit() makes the configuration the owner of the trees
 * it uses, unless a newer one is, and sets their words: the first of its
 * workers does it when it starts, with the zone mutex held.
 */
void ngx_cflb_trees_commit(ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_trees_pick() is cflb_least_tree_pick() (or, with all set,
 * cflb_least_tree_pick_all(): health ignored) over the tree t of a set
 * whose slots map to the set's positions (map NULL: each slot is the
 * position): pk->usable is asked about positions, and the position
 * chosen is returned, or CFLB_DECLINED.
 */
int ngx_cflb_trees_pick(cflb_least_tree_t *t, const uint32_t *map,
    cflb_pick_t *pk, ngx_uint_t all);

/*
 * ngx_cflb_trees_sync() brings the words of this worker's trees up to
 * date with the records, under the zone mutex: called through
 * ngx_cflb_trees_check() before a decision, which costs two reads when
 * nothing changed.
 */
void ngx_cflb_trees_sync(ngx_cflb_conf_t *ccf);

#define ngx_cflb_trees_check(ccf)                                             \
    ((ccf)->trees                                                             \
     && ((ccf)->trees_seen != (ccf)->sh->changes                             \
         || ((ccf)->sh->wake && (ccf)->sh->wake <= ngx_time()))              \
     ? ngx_cflb_trees_sync(ccf) : (void) 0)

/*
 * Something a tree folds changed for the pool record (health, runtime
 * overrides): every worker updates its trees.  With the mutex held.
 */
#define ngx_cflb_trees_changed_locked(sh, shp)                                \
    ((shp)->changes++, (void) ngx_atomic_fetch_add(&(sh)->changes, 1))

/*
 * ngx_cflb_trees_failing() folds the start of ep's passive fail_timeout
 * (out of steering after max_fails failed attempts): the trees learn it
 * now and wake when it ends.  Takes the zone mutex.
 */
void ngx_cflb_trees_failing(ngx_cflb_endpoint_t *ep);


#endif /* _NGX_CFLB_TREES_H_INCLUDED_ */
