
/*
 * cflb steering "dynamic_latency": the usable pool whose monitors see the
 * lowest round trip (the moving average of its probes, on this node).
 * Pools without data come after those with data, in failover order; a
 * failed probe never counts as fast, since it adds no sample.
 *
 * Hysteresis: the pool chosen last stays while its round trip is within
 * CFLB_DYNAMIC_STAY percent of the best one, so that two pools of equal
 * speed do not take turns at every probe.  That memory is this process's
 * (the set's scratch space): each worker settles by itself, the same way.
 */


#include "cflb_steer_algo.h"


/* a pool that is not this much slower than the best stays chosen */
#define CFLB_DYNAMIC_STAY  20       /* percent */


typedef struct {
    int               current;      /* the member chosen last, or -1 */
} cflb_dynamic_t;


static int cflb_steer_dynamic_init(cflb_set_t *set, cflb_allocator_t *a);
static int cflb_steer_dynamic_pick(cflb_set_t *set, cflb_pick_t *pk);
static void cflb_steer_dynamic_free(cflb_set_t *set, cflb_allocator_t *a);


const cflb_steer_ops_t  cflb_steer_dynamic_ops = {
    "dynamic_latency",
    CFLB_LEVEL_POOL,
    CFLB_MODE_ALL,
    0,
    CFLB_NEED_RTT,
    cflb_steer_dynamic_init,
    cflb_steer_dynamic_pick,
    cflb_steer_dynamic_free
};


static int
cflb_steer_dynamic_init(cflb_set_t *set, cflb_allocator_t *a)
{
    cflb_dynamic_t  *dyn;

    dyn = a->alloc(a->data, sizeof(cflb_dynamic_t));
    if (dyn == NULL) {
        return CFLB_ERROR;
    }

    dyn->current = -1;
    set->data = dyn;

    return CFLB_OK;
}


static int
cflb_steer_dynamic_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    int              best, cur;
    uint64_t         rtt, best_rtt, cur_rtt;
    unsigned         i;
    cflb_dynamic_t  *dyn;

    dyn = set->data;
    best = CFLB_DECLINED;
    best_rtt = 0;
    cur_rtt = 0;
    cur = dyn->current;

    for (i = 0; i < set->n; i++) {
        rtt = pk->rtt(pk->ctx, i);

        if (rtt == 0 || (best >= 0 && rtt >= best_rtt)) {
            continue;
        }

        if (!cflb_member_usable(pk, i)) {
            continue;
        }

        best = (int) i;
        best_rtt = rtt;
    }

    if (best < 0) {
        /* nothing measured yet: failover order */
        return cflb_steer_first(set, pk);
    }

    if (cur >= 0 && cur != best && (unsigned) cur < set->n) {
        cur_rtt = pk->rtt(pk->ctx, (unsigned) cur);

        if (cur_rtt != 0
            && cur_rtt * 100 <= best_rtt * (100 + CFLB_DYNAMIC_STAY)
            && cflb_member_usable(pk, (unsigned) cur))
        {
            return cur;
        }
    }

    dyn->current = best;

    return best;
}


static void
cflb_steer_dynamic_free(cflb_set_t *set, cflb_allocator_t *a)
{
    if (set->data) {
        a->free(a->data, set->data);
    }
}
