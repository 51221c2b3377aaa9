
/*
 * cflb_steer_proximity.c and cflb_steer_dynamic.c: the nearest usable
 * pool, and the fastest with its hysteresis; the pool round trip that
 * dynamic_latency steers by, and how fast the choice follows it.
 */


#include "cflb_test.h"


/* Frankfurt, Ashburn, Tokyo, Sydney */
static const int32_t  pool_lat[] = { 50110000, 39040000, 35680000,
                                     -33870000 };
static const int32_t  pool_lon[] = { 8680000, -77490000, 139690000,
                                     151210000 };


/* Paris, New York, Osaka, Sao Paulo, Perth */
static const int32_t  place_lat[] = { 48860000, 40710000, 34690000,
                                      -23550000, -31950000 };
static const int32_t  place_lon[] = { 2350000, -74010000, 135500000,
                                      -46630000, 115860000 };


static void
proximity(cflb_test_t *t)
{
    int               i, j, k, same;
    cflb_rng_t        rng, places;
    cflb_set_t        set;
    cflb_pick_t       pk;
    cflb_geo_vec_t    where[4], where_or_zero[4], client;
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
        where_or_zero[i] = where[i];
    }

    /* the third pool has none: it is never the nearest */
    ts.members[2].where = NULL;
    where_or_zero[2].x = 0;
    where_or_zero[2].y = 0;
    where_or_zero[2].z = 0;

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

    /*
     * The set remembers the last client's nearest: the same client again
     * after a failback, clients taking turns, a nearest that goes down
     * and comes back between two picks of the same client.
     */
    down[0] = down[1] = down[2] = down[3] = 0;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);

    for (i = 0; i < 6; i++) {
        cflb_geo_vec(i % 2 ? 40710000 : 48860000,
                     i % 2 ? -74010000 : 2350000, &client);
        cflb_check(t, cflb_set_pick(&set, &pk) == i % 2);
    }

    down[1] = 1;
    i = cflb_set_pick(&set, &pk);
    cflb_check_msg(t, i == 0, "New York, Ashburn down: %d", i);
    down[1] = 0;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);

    /* against a fresh search: 20,000 picks, 5 places, random health */
    cflb_rng_seed(&places, 7);
    same = 1;

    for (k = 0; k < 20000; k++) {
        j = (int) cflb_rng_below(&places, 5);
        cflb_geo_vec(place_lat[j], place_lon[j], &client);

        for (j = 0; j < 4; j++) {
            down[j] = (cflb_rng_below(&places, 4) == 0);
        }

        i = cflb_set_pick(&set, &pk);
        j = cflb_geo_nearest(&client, where_or_zero, 4, cflb_test_usable,
                             &ctx, NULL);
        same &= (i == (j >= 0 ? j : CFLB_DECLINED));
    }

    cflb_check(t, same);

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

    /* the second is measured, 20 % slower: as good, and first in order */
    rtt[1] = 48000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);

    /* more than 20 % slower: the third */
    rtt[1] = 48001;
    cflb_check(t, cflb_set_pick(&set, &pk) == 2);

    /* faster: the second; the third becomes faster, within 20 %: still */
    rtt[1] = 30000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);
    rtt[2] = 25000;
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


/*
 * The band of "as good as the best": 20 % or 2 ms; the first pool in
 * order inside it wins, so that equal pools never take turns, and the
 * choice is the same whoever makes it, whenever.
 */

static void
dynamic_band(cflb_test_t *t)
{
    int               i, w, agree, seen1;
    cflb_rng_t        rng, jitter;
    cflb_set_t        set, set2;
    cflb_pick_t       pk;
    cflb_test_ctx_t   ctx;
    cflb_test_set_t   ts;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;
    uint64_t          rtt[3] = { 0, 0, 0 };

    cflb_test_members(&ts, 3, NULL, "pool");
    cflb_test_pick_init(&pk, &ctx, &rng, 1);
    cflb_test_allocator(&a, &mem);
    ctx.rtt = rtt;

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_DYNAMIC, ts.members, 3, &a)
                  == CFLB_OK);

    /* the second is fastest, the first within 20 %: the first, in order */
    rtt[0] = 100000;
    rtt[1] = 85000;
    rtt[2] = 90000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);

    /* the first 21 % slower: out of the band, the first in it is now 1 */
    rtt[0] = 102900;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);

    /* the third becomes the fastest by 5 %: within the band, 1 stays */
    rtt[2] = 81000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);

    /* the third faster by more than 20 %: 1 is out; 0 and 1 are not in */
    rtt[2] = 70000;
    cflb_check(t, cflb_set_pick(&set, &pk) == 2);

    /* two milliseconds apart under a millisecond: as good, whatever % */
    rtt[0] = 2001;
    rtt[1] = 1001;
    rtt[2] = 1;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);
    rtt[0] = 2002;
    cflb_check(t, cflb_set_pick(&set, &pk) == 1);
    rtt[1] = 2002;
    cflb_check(t, cflb_set_pick(&set, &pk) == 2);

    cflb_set_free(&set, &a);

    /*
     * Two workers, each its own set, picking at different moments while
     * two equal pools jitter by up to a millisecond (nginx's clock): they
     * agree on every pick, and never leave the first pool.
     */
    cflb_check(t, cflb_set_init(&set, CFLB_STEER_DYNAMIC, ts.members, 2, &a)
                  == CFLB_OK);
    cflb_check(t, cflb_set_init(&set2, CFLB_STEER_DYNAMIC, ts.members, 2,
                                &a) == CFLB_OK);

    cflb_rng_seed(&jitter, 18);
    agree = 1;
    seen1 = 0;
    rtt[0] = 1;
    rtt[1] = 1;

    for (i = 0; i < 10000; i++) {
        w = (int) cflb_rng_below(&jitter, 2);
        rtt[w] = cflb_dynamic_rtt((uint32_t) rtt[w],
                                  1 + 1000 * (uint32_t)
                                      cflb_rng_below(&jitter, 2), 1);

        w = cflb_set_pick(cflb_rng_below(&jitter, 2) ? &set : &set2, &pk);
        seen1 |= (w != 0);
        agree &= (w == 0);
    }

    cflb_check(t, agree && !seen1);

    cflb_set_free(&set, &a);
    cflb_set_free(&set2, &a);
    cflb_check(t, mem.live == 0);
    cflb_test_members_free(&ts);
}


/* the pool round trip: vectors, and its bounds */

static void
dynamic_rtt(cflb_test_t *t)
{
    size_t    i;
    uint32_t  got;

    static const struct {
        uint32_t  avg, sample;
        unsigned  n;
        uint32_t  want;
    } v[] = {
        { 0, 5000, 1, 5000 },                  /* the first sample */
        { 0, 0, 1, 0 },                        /* no data stays none */
        { 100000, 200000, 1, 150000 },         /* half way */
        { 300000, 1, 2, 200000 },              /* a third of the way */
        { 300000, 1, 0, 150001 },              /* n 0 counts as 1 */
        { 1, 0, 1, 1 },                        /* never 0 again */
        { 1, 0, 5, 1 },
        { 3, 0, 2, 2 },                        /* 6/3, to nearest */
        { 0xffffffff, 0xffffffff, 1000000, 0xffffffff },
        { 0xffffffff, 0, 1, 0x80000000 },
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        got = cflb_dynamic_rtt(v[i].avg, v[i].sample, v[i].n);
        cflb_check_msg(t, got == v[i].want, "rtt(%u, %u, %u) = %u, want %u",
                       v[i].avg, v[i].sample, v[i].n, got, v[i].want);
    }
}


/*
 * How many probe intervals the choice takes to follow a swap: two pools
 * of n endpoints each, one at 300 ms and one under a millisecond, swap;
 * every interval each endpoint of each pool adds its sample; the pick
 * must move within 2 intervals, whatever n, whichever pool was first.
 */

static void
dynamic_swap(cflb_test_t *t)
{
    unsigned          n, k, e, slow;
    cflb_rng_t        rng;
    cflb_set_t        set;
    cflb_pick_t       pk;
    cflb_test_ctx_t   ctx;
    cflb_test_set_t   ts;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;
    uint64_t          rtt[2];

    cflb_test_members(&ts, 2, NULL, "pool");
    cflb_test_pick_init(&pk, &ctx, &rng, 1);
    cflb_test_allocator(&a, &mem);
    ctx.rtt = rtt;

    for (n = 1; n <= 16; n++) {
        cflb_check(t, cflb_set_init(&set, CFLB_STEER_DYNAMIC, ts.members, 2,
                                    &a) == CFLB_OK);

        for (slow = 0; slow < 2; slow++) {
            rtt[slow] = 300001;
            rtt[1 - slow] = 1;
            cflb_check(t, cflb_set_pick(&set, &pk) == (int) (1 - slow));

            for (k = 1; k <= 10; k++) {
                for (e = 0; e < n; e++) {
                    rtt[slow] = cflb_dynamic_rtt((uint32_t) rtt[slow], 1,
                                                 n);
                    rtt[1 - slow] = cflb_dynamic_rtt((uint32_t)
                                                     rtt[1 - slow], 300001,
                                                     n);
                }

                if (cflb_set_pick(&set, &pk) == (int) slow) {
                    break;
                }
            }

            cflb_check_msg(t, k <= 2, "%u endpoints, %s first: moved after "
                           "%u intervals", n, slow ? "fast" : "slow", k);
        }

        cflb_set_free(&set, &a);
    }

    cflb_check(t, mem.live == 0);
    cflb_test_members_free(&ts);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    proximity(&t);
    dynamic(&t);
    dynamic_band(&t);
    dynamic_rtt(&t);
    dynamic_swap(&t);

    return cflb_test_done(&t, "cflb_steer_location_test");
}
