
/*
 * cflb steering "proximity": the usable pool nearest to the client, by
 * great-circle distance from the client's location to each pool's
 * coordinates.  Nearest by the largest dot product of unit vectors, which
 * orders like the distance without a trigonometric function per request
 * (cflb_geo_vec.c); the vectors of the members are copied into one array
 * at init.  With the client's location unknown, failover order.
 */


#include "cflb_steer_algo.h"


static int cflb_steer_proximity_init(cflb_set_t *set, cflb_allocator_t *a);
static int cflb_steer_proximity_pick(cflb_set_t *set, cflb_pick_t *pk);
static void cflb_steer_proximity_free(cflb_set_t *set, cflb_allocator_t *a);


const cflb_steer_ops_t  cflb_steer_proximity_ops = {
    "proximity",
    CFLB_LEVEL_POOL,
    CFLB_MODE_ALL,
    0,
    CFLB_NEED_LOCATION|CFLB_NEED_COORDS,
    cflb_steer_proximity_init,
    cflb_steer_proximity_pick,
    cflb_steer_proximity_free
};


static int
cflb_steer_proximity_init(cflb_set_t *set, cflb_allocator_t *a)
{
    size_t           size;
    unsigned         i;
    cflb_geo_vec_t  *v;

    if (set->n == 0) {
        set->data = NULL;
        return CFLB_OK;
    }

    size = cflb_size_mul(set->n, sizeof(cflb_geo_vec_t));
    if (size == 0) {
        return CFLB_ERROR;
    }

    v = a->alloc(a->data, size);
    if (v == NULL) {
        return CFLB_ERROR;
    }

    for (i = 0; i < set->n; i++) {
        if (set->members[i].where) {
            v[i] = *set->members[i].where;

        } else {
            /* a zero vector is never the nearest */
            v[i].x = 0;
            v[i].y = 0;
            v[i].z = 0;
        }
    }

    set->data = v;

    return CFLB_OK;
}


static int
cflb_steer_proximity_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    int     i;
    double  dot;

    if (pk->where == NULL || set->data == NULL) {
        return cflb_steer_first(set, pk);
    }

    i = cflb_geo_nearest(pk->where, set->data, set->n, pk->usable, pk->ctx,
                         &dot);

    return (i >= 0) ? i : CFLB_DECLINED;
}


static void
cflb_steer_proximity_free(cflb_set_t *set, cflb_allocator_t *a)
{
    if (set->data) {
        a->free(a->data, set->data);
    }
}
