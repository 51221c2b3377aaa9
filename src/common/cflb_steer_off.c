
/*
 * cflb steering "off": failover.  The member order is the priority and
 * pick() returns the first usable member.
 *
 * Weights are ignored, zero included: a weight only shares traffic
 * among members, and "off" never shares.  A member that must not
 * receive traffic is made unusable (down, drained) instead, so a
 * weight-0 member still serves as a failover target.
 *
 * "geo" is the same pick over a list the glue chose by the client's
 * location (pop_pools, country_pools, region_pools, then the pools).
 */


#include "cflb_steer_algo.h"


static int cflb_steer_off_init(cflb_set_t *set, cflb_allocator_t *a);


/* geo: the glue picks the list by the client's location (CFLB_NEED_MAPS);
   inside it, failover order, exactly like "off" */

const cflb_steer_ops_t  cflb_steer_geo_ops = {
    "geo",
    CFLB_LEVEL_POOL,
    CFLB_MODE_ALL,
    0,
    CFLB_NEED_LOCATION|CFLB_NEED_MAPS,
    cflb_steer_off_init,
    cflb_steer_first,
    NULL
};


const cflb_steer_ops_t  cflb_steer_off_ops = {
    "off",
    CFLB_LEVEL_POOL,                   /* orders pools, never endpoints */
    CFLB_MODE_ALL,
    0,
    0,
    cflb_steer_off_init,
    cflb_steer_first,
    NULL
};


static int
cflb_steer_off_init(cflb_set_t *set, cflb_allocator_t *a)
{
    (void) a;

    set->data = NULL;

    return CFLB_OK;
}


int
cflb_steer_first(cflb_set_t *set, cflb_pick_t *pk)
{
    unsigned  i;

    for (i = 0; i < set->n; i++) {
        if (cflb_member_usable(pk, i)) {
            return (int) i;
        }
    }

    return CFLB_DECLINED;
}
