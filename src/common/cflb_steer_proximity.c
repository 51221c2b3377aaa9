
/*
 * cflb steering "proximity": the usable pool nearest to the client, by
 * great-circle distance from the client's location to each pool's
 * coordinates.  Nearest by the largest dot product of unit vectors, which
 * orders like the distance without a trigonometric function per request
 * (cflb_geo_vec.c); the vectors of the members are copied into one array
 * at init.  With the client's location unknown, failover order.
 *
 * The set remembers the last client it saw and that client's nearest
 * member, usable or not: the requests of one keep-alive connection, or
 * of the same place, then cost one comparison and one usable() while the
 * nearest can serve.  When it cannot, the nearest usable is searched.
 */


#include "cflb_steer_algo.h"


typedef struct {
    cflb_geo_vec_t    client;       /* of the last pick */
    int               nearest;      /* its nearest member, or -1 */
    cflb_geo_vec_t    v[1];         /* the members', n of them */
} cflb_proximity_t;


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
    size_t             size;
    unsigned           i;
    cflb_proximity_t  *px;

    if (set->n == 0) {
        set->data = NULL;
        return CFLB_OK;
    }

    size = cflb_size_mul(set->n - 1, sizeof(cflb_geo_vec_t));
    if (size == 0 && set->n > 1) {
        return CFLB_ERROR;
    }

    if (size > SIZE_MAX - sizeof(cflb_proximity_t)) {
        return CFLB_ERROR;
    }

    px = a->alloc(a->data, sizeof(cflb_proximity_t) + size);
    if (px == NULL) {
        return CFLB_ERROR;
    }

    px->nearest = -1;

    for (i = 0; i < set->n; i++) {
        if (set->members[i].where) {
            px->v[i] = *set->members[i].where;

        } else {
            /* a zero vector is never the nearest */
            px->v[i].x = 0;
            px->v[i].y = 0;
            px->v[i].z = 0;
        }
    }

    set->data = px;

    return CFLB_OK;
}


static int
cflb_steer_proximity_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    int                i;
    double             dot;
    cflb_proximity_t  *px;

    px = set->data;

    if (pk->where == NULL || px == NULL) {
        return cflb_steer_first(set, pk);
    }

    if (px->nearest < 0
        || pk->where->x != px->client.x
        || pk->where->y != px->client.y
        || pk->where->z != px->client.z)
    {
        /* a new client: its nearest member, whether it can serve or not */
        px->client = *pk->where;
        px->nearest = cflb_geo_nearest(pk->where, px->v, set->n, NULL, NULL,
                                       &dot);
    }

    if (px->nearest >= 0 && cflb_member_usable(pk, (unsigned) px->nearest)) {
        return px->nearest;
    }

    i = cflb_geo_nearest(pk->where, px->v, set->n, pk->usable, pk->ctx, &dot);

    return (i >= 0) ? i : CFLB_DECLINED;
}


static void
cflb_steer_proximity_free(cflb_set_t *set, cflb_allocator_t *a)
{
    if (set->data) {
        a->free(a->data, set->data);
    }
}
