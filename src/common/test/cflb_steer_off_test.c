
/*
 * cflb_steer_off.c: first usable member in order, weights ignored.
 */


#include "cflb_test.h"


int
main(void)
{
    cflb_rng_t        rng;
    cflb_set_t        set;
    cflb_pick_t       pk;
    cflb_test_t       t = { 0, 0 };
    cflb_test_ctx_t   ctx;
    cflb_test_set_t   ts;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;

    unsigned char     down[4] = { 0, 0, 0, 0 };
    static const uint32_t  weights[4] = { 0, 100, 50, 1 };

    cflb_test_allocator(&a, &mem);
    cflb_test_members(&ts, 4, weights, "pool-");
    cflb_test_pick_init(&pk, &ctx, &rng, 1);

    cflb_check(&t, cflb_steer_ops(CFLB_STEER_OFF)->inputs == 0);
    cflb_check(&t, cflb_set_init(&set, CFLB_STEER_OFF, ts.members, 4, &a)
                   == CFLB_OK);
    cflb_check(&t, mem.allocs == 0);

    /* weight 0 does not matter: off shares nothing, it fails over */
    ctx.down = down;
    cflb_check(&t, cflb_set_pick(&set, &pk) == 0);

    down[0] = 1;
    cflb_check(&t, cflb_set_pick(&set, &pk) == 1);

    down[1] = 1;
    cflb_check(&t, cflb_set_pick(&set, &pk) == 2);

    /* an inactive member going down does not move traffic */
    down[1] = 0;
    down[3] = 1;
    cflb_check(&t, cflb_set_pick(&set, &pk) == 1);

    /* failback: the first member is preferred as soon as it is usable */
    down[0] = 0;
    cflb_check(&t, cflb_set_pick(&set, &pk) == 0);

    down[0] = down[1] = down[2] = 1;
    cflb_check(&t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);

    down[3] = 0;
    cflb_check(&t, cflb_set_pick(&set, &pk) == 3);

    /* a NULL usable() means every member is usable */
    pk.usable = NULL;
    cflb_check(&t, cflb_set_pick(&set, &pk) == 0);

    cflb_set_free(&set, &a);

    /* no members */
    cflb_check(&t, cflb_set_init(&set, CFLB_STEER_OFF, ts.members, 0, &a)
                   == CFLB_OK);
    cflb_check(&t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);

    cflb_check(&t, mem.live == 0 && mem.allocs == 0);

    cflb_test_members_free(&ts);

    return cflb_test_done(&t, "cflb_steer_off_test");
}
