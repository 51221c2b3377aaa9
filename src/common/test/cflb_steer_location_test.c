
/*
 * cflb_steer_proximity.c and cflb_steer_dynamic.c: the nearest usable
 * pool, and the fastest with its hysteresis.
 */


#include "cflb_test.h"


/* Frankfurt, Ashburn, Tokyo, Sydney */
static const int32_t  pool_lat[] = { 50110000, 39040000, 35680000,
                                     -33870000 };
static const int32_t  pool_lon[] = { 8680000, -77490000, 139690000,
                                     151210000 };


static void
proximity(cflb_test_t *t)
{
    int               i;
    cflb_rng_t        rng;
    cflb_set_t        set;
    cflb_pick_t       pk;
    cflb_geo_vec_t    where[4], client;
    cflb_test_ctx_t   ctx;
    cflb_test_set_t   ts;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;
    unsigned char     down[4] = { 0, 0, 0, 0 };

    cflb_test_members(&ts, 4, NULL, "pool");
    cflb_test_pick_init(&pk, &ctx, &rng, 1);
    cflb_test_allocator(&a, &mem);

    for (i = 0; i < 4; i++) {
        cflb_geo_vec(pool_lat[i], pool_lon[i], &where[i]);
        ts.members[i].where = &where[i];
    }

    /* the third pool has none: it is never the nearest */
    ts.members[2].where = NULL;

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_PROXIMITY, ts.members, 4,
                                &a) == CFLB_OK);

    /* unknown client: failover order */
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);

    /* Paris: Frankfurt; New York: Ashburn; Osaka: not Tokyo (no place) */
    cflb_geo_vec(48860000, 2350000, &client);
    pk.where = &client;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);

    cflb_geo_vec(40710000, -74010000, &client);
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);

    cflb_geo_vec(34690000, 135500000, &client);
    i = cflb_set_pick(&set, &pk);
    cflb_check_msg(t, i == 3, "Osaka went to %d", i);

    /* the nearest is down: the next nearest */
    ctx.down = down;
    cflb_geo_vec(48860000, 2350000, &client);
    down[0] = 1;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);

    down[0] = down[1] = down[2] = down[3] = 1;
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);

    cflb_set_free(&set, &a);
    cflb_check(t, mem.live == 0);
    cflb_test_members_free(&ts);
}


static void
dynamic(cflb_test_t *t)
{
    cflb_rng_t        rng;
    cflb_set_t        set;
    cflb_pick_t       pk;
    cflb_test_ctx_t   ctx;
    cflb_test_set_t   ts;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;
    uint64_t          rtt[3] = { 0, 0, 0 };
    unsigned char     down[3] = { 0, 0, 0 };

    cflb_test_members(&ts, 3, NULL, "pool");
    cflb_test_pick_init(&pk, &ctx, &rng, 1);
    cflb_test_allocator(&a, &mem);

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_DYNAMIC, ts.members, 3, &a)
                  == CFLB_OK);

    /* nothing measured: failover order */
    ctx.rtt = rtt;
    ctx.down = down;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);

    /* only the third has data: it goes before those without */
    rtt[2] = 40000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 2);

    /* the second becomes faster, but within 20 %: it stays on the third */
    rtt[1] = 35000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 2);

    /* more than 20 % faster: it moves, then stays there */
    rtt[1] = 30000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);
    rtt[2] = 29000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);

    /* the chosen one goes down: the best usable, at once */
    down[1] = 1;
    cflb_check(t, cflb_set_pick(&set, &pk) == 2);

    /* and nothing usable with data: the first usable in order */
    down[2] = 1;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);

    down[0] = 1;
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);

    cflb_set_free(&set, &a);
    cflb_check(t, mem.live == 0);
    cflb_test_members_free(&ts);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    proximity(&t);
    dynamic(&t);

    return cflb_test_done(&t, "cflb_steer_location_test");
}
