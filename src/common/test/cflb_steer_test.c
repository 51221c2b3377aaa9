
/*
 * cflb_steer.c: keywords, ops tables, set lifetime for every policy
 * (counting allocator, allocation failures), n = 0, 1 and 10,000.
 */


#include "cflb_test.h"


static void cflb_steer_test_keywords(cflb_test_t *t);
static void cflb_steer_test_ops(cflb_test_t *t);
static void cflb_steer_test_alloc_fail(cflb_test_t *t, cflb_policy_e policy);
static void cflb_steer_test_big(cflb_test_t *t, cflb_policy_e policy);
static void cflb_steer_test_data(cflb_test_t *t);
static void cflb_steer_test_shed(cflb_test_t *t);


int
main(void)
{
    int          policy;
    cflb_test_t  t = { 0, 0 };

    cflb_steer_test_keywords(&t);
    cflb_steer_test_ops(&t);
    cflb_steer_test_data(&t);
    cflb_steer_test_shed(&t);

    for (policy = 0; policy < CFLB_STEER_NPOLICIES; policy++) {
        cflb_steer_test_alloc_fail(&t, policy);
        cflb_steer_test_big(&t, policy);
    }

    return cflb_test_done(&t, "cflb_steer_test");
}


static void
cflb_steer_test_keywords(cflb_test_t *t)
{
    size_t  i;

    static const struct {
        const char  *s;
        int          policy;
    } vec[] = {
        { "off", CFLB_STEER_OFF },
        { "random", CFLB_STEER_RANDOM },
        { "hash", CFLB_STEER_HASH },
        { "least_outstanding_requests", CFLB_STEER_LORS },
        { "least_connections", CFLB_STEER_LEAST_CONN },
        { "", CFLB_ERROR },
        { "Random", CFLB_ERROR },
        { "hash ", CFLB_ERROR },
        { "of", CFLB_ERROR },
        { "offf", CFLB_ERROR },
        { "least", CFLB_ERROR },
        { "least_outstanding_request", CFLB_ERROR },
        { "least_connections_", CFLB_ERROR },
        { "round_robin", CFLB_ERROR },
        { "geo", CFLB_STEER_GEO },
        { "proximity", CFLB_STEER_PROXIMITY },
        { "dynamic_latency", CFLB_STEER_DYNAMIC },
        { "dynamic", CFLB_ERROR }
    };

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        cflb_check_msg(t, cflb_steer_policy((const unsigned char *) vec[i].s,
                                            strlen(vec[i].s))
                          == vec[i].policy,
                       "keyword \"%s\"", vec[i].s);
    }

    /* the length bounds the keyword: no NUL needed */
    cflb_check(t, cflb_steer_policy((const unsigned char *) "hashes", 4)
                  == CFLB_STEER_HASH);
    cflb_check(t, cflb_steer_policy(NULL, 0) == CFLB_ERROR);
}


static void
cflb_steer_test_ops(cflb_test_t *t)
{
    int                      policy;
    cflb_set_t               set;
    cflb_test_mem_t          mem;
    cflb_allocator_t         a;
    const cflb_steer_ops_t  *ops, *lc;

    static const unsigned  inputs[CFLB_STEER_NPOLICIES] = {
        0, 0, CFLB_NEED_KEY, CFLB_NEED_LOAD, CFLB_NEED_LOAD,
        CFLB_NEED_LOCATION|CFLB_NEED_MAPS,
        CFLB_NEED_LOCATION|CFLB_NEED_COORDS, CFLB_NEED_RTT
    };

    for (policy = 0; policy < CFLB_STEER_NPOLICIES; policy++) {
        ops = cflb_steer_ops(policy);

        cflb_check_msg(t, ops != NULL && ops->init != NULL
                          && ops->pick != NULL && ops->name != NULL,
                       "ops of policy %d", policy);

        if (ops == NULL) {
            continue;
        }

        cflb_check(t, cflb_steer_policy((const unsigned char *) ops->name,
                                        strlen(ops->name)) == policy);
        cflb_check_msg(t, ops->inputs == inputs[policy],
                       "%s inputs %u", ops->name, ops->inputs);
    }

    cflb_check(t, cflb_steer_ops(CFLB_STEER_NPOLICIES) == NULL);

    /* one implementation behind both "least" keywords */
    ops = cflb_steer_ops(CFLB_STEER_LORS);
    lc = cflb_steer_ops(CFLB_STEER_LEAST_CONN);
    cflb_check(t, ops != lc && ops->init == lc->init
                  && ops->pick == lc->pick && ops->free == lc->free);

    /* an unknown policy fails and leaves a set that frees safely */
    cflb_test_allocator(&a, &mem);
    cflb_check(t, cflb_set_init(&set, CFLB_STEER_NPOLICIES, NULL, 0, &a)
                  == CFLB_ERROR);
    cflb_check(t, set.data == NULL);
    cflb_set_free(&set, &a);
    cflb_check(t, mem.allocs == 0);
}


/*
 * Fail each allocation of init in turn: init must return CFLB_ERROR
 * with nothing left allocated.  Then n = 0 and n = 1.
 */

static void
cflb_steer_test_alloc_fail(cflb_test_t *t, cflb_policy_e policy)
{
    size_t             need, k;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    cflb_test_members(&ts, 8, NULL, "ep-");
    cflb_test_pick_init(&pk, &ctx, &rng, 5);
    cflb_test_allocator(&a, &mem);

    cflb_check(t, cflb_set_init(&set, policy, ts.members, 8, &a) == CFLB_OK);
    need = mem.allocs;
    cflb_set_free(&set, &a);
    cflb_check(t, set.data == NULL && mem.live == 0);

    /* freeing twice is harmless */
    cflb_set_free(&set, &a);

    for (k = 1; k <= need; k++) {
        cflb_test_allocator(&a, &mem);
        mem.fail_at = k;

        cflb_check_msg(t, cflb_set_init(&set, policy, ts.members, 8, &a)
                          == CFLB_ERROR && set.data == NULL && mem.live == 0,
                       "policy %d, alloc %u failing", (int) policy,
                       (unsigned) k);

        cflb_set_free(&set, &a);
    }

    cflb_test_allocator(&a, &mem);

    cflb_check(t, cflb_set_init(&set, policy, ts.members, 0, &a) == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);

    cflb_check(t, cflb_set_init(&set, policy, ts.members, 1, &a) == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);
    cflb_set_free(&set, &a);

    cflb_check(t, mem.live == 0 && mem.allocs == mem.frees);

    cflb_test_members_free(&ts);
}


/*
 * 10,000 members, every tenth unusable: picks are valid and usable, and
 * the four weighted policies spread over many members: 10,000 uniform
 * picks over 9,000 members reach 9000 * (1 - e^(-10/9)) = 6,030 distinct
 * ones on average (sd about 30); the check asks for 5,000.
 */

static void
cflb_steer_test_big(cflb_test_t *t, cflb_policy_e policy)
{
    int                rc;
    unsigned           i, bad, distinct;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    unsigned char     *down, *seen;
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    cflb_test_members(&ts, 10000, NULL, "10.2.");
    cflb_test_pick_init(&pk, &ctx, &rng, 77);
    cflb_test_allocator(&a, &mem);

    down = calloc(10000, 1);
    seen = calloc(10000, 1);

    if (down == NULL || seen == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    for (i = 0; i < 10000; i += 10) {
        down[i] = 1;
    }

    ctx.down = down;

    cflb_check(t, cflb_set_init(&set, policy, ts.members, 10000, &a)
                  == CFLB_OK);

    bad = 0;
    distinct = 0;

    for (i = 0; i < 10000; i++) {
        pk.key = cflb_rng_next(&rng);
        rc = cflb_set_pick(&set, &pk);

        if (rc < 0 || rc >= 10000 || down[rc]) {
            bad++;
            continue;
        }

        distinct += !seen[rc];
        seen[rc] = 1;
    }

    cflb_check_msg(t, bad == 0, "%s: %u bad picks", set.ops->name, bad);

    /*
     * off always takes member 1, and so do geo (inside its list),
     * proximity without the client's location and dynamic_latency
     * without round trips
     */
    cflb_check_msg(t, (policy == CFLB_STEER_OFF || policy == CFLB_STEER_GEO
                       || policy == CFLB_STEER_PROXIMITY
                       || policy == CFLB_STEER_DYNAMIC)
                      ? distinct == 1 : distinct > 5000,
                   "%s: %u distinct members", set.ops->name, distinct);

    cflb_set_free(&set, &a);
    cflb_check(t, mem.live == 0 && mem.allocs == mem.frees);

    free(down);
    free(seen);
    cflb_test_members_free(&ts);
}


/* the policies' facts: where each may choose, and the messages made of them */

static void
cflb_steer_test_data(cflb_test_t *t)
{
    char  buf[256];

    cflb_steer_names(buf, sizeof(buf), CFLB_LEVEL_POOL, CFLB_MODE_L7);
    cflb_check_msg(t, strcmp(buf, "off, random, least_outstanding_requests, "
                                  "least_connections, geo, proximity or "
                                  "dynamic_latency") == 0,
                   "pool names: \"%s\"", buf);

    cflb_steer_names(buf, sizeof(buf), CFLB_LEVEL_ENDPOINT, CFLB_MODE_L4);
    cflb_check_msg(t, strcmp(buf, "random, hash, least_outstanding_requests"
                                  " or least_connections") == 0,
                   "endpoint names: \"%s\"", buf);

    /* cut to the buffer, still a string */
    cflb_steer_names(buf, 8, CFLB_LEVEL_POOL, CFLB_MODE_L7);
    cflb_check(t, strlen(buf) == 7);

    cflb_check(t, cflb_steer_policy_at((const unsigned char *) "hash", 4,
                                       CFLB_LEVEL_POOL, CFLB_MODE_L7)
                  == CFLB_DECLINED);
    cflb_check(t, cflb_steer_policy_at((const unsigned char *) "off", 3,
                                       CFLB_LEVEL_ENDPOINT, CFLB_MODE_L7)
                  == CFLB_DECLINED);
    cflb_check(t, cflb_steer_policy_at((const unsigned char *) "hash", 4,
                                       CFLB_LEVEL_ENDPOINT, CFLB_MODE_DNS)
                  == CFLB_STEER_HASH);
    cflb_check(t, cflb_steer_policy_at((const unsigned char *) "fast", 4,
                                       CFLB_LEVEL_POOL, CFLB_MODE_L7)
                  == CFLB_ERROR);

    /* the product: requests at layer 7 only, connections not in DNS */
    cflb_check(t, cflb_steer_load(CFLB_STEER_LORS, CFLB_MODE_L7));
    cflb_check(t, !cflb_steer_load(CFLB_STEER_LORS, CFLB_MODE_L4));
    cflb_check(t, !cflb_steer_load(CFLB_STEER_LORS, CFLB_MODE_DNS));
    cflb_check(t, cflb_steer_load(CFLB_STEER_LEAST_CONN, CFLB_MODE_L4));
    cflb_check(t, !cflb_steer_load(CFLB_STEER_LEAST_CONN, CFLB_MODE_DNS));
    cflb_check(t, !cflb_steer_load(CFLB_STEER_RANDOM, CFLB_MODE_L7));
    cflb_check(t, !cflb_steer_load(CFLB_STEER_NPOLICIES, CFLB_MODE_L7));
}


/*
 * Load shedding: the share shed is the percentage (20,000 draws, 4 sd
 * is 1.2 points at 50 %); a session or a client key decides the same
 * way every time; two pools shed independently.
 */

static void
cflb_steer_test_shed(cflb_test_t *t)
{
    unsigned    i, n, same, both;
    uint64_t    key;
    cflb_rng_t  rng;

    cflb_rng_seed(&rng, 3);

    cflb_check(t, cflb_shed(0, 1, NULL, 1, &rng) == 0);

    for (n = 0, i = 0; i < 20000; i++) {
        n += cflb_shed(100, 0, NULL, 1, &rng);
    }

    cflb_check(t, n == 20000);

    for (n = 0, i = 0; i < 20000; i++) {
        n += cflb_shed(30, 0, NULL, 1, &rng);
    }

    cflb_check_pct(t, "random 30 %", 100.0 * n / 20000, 30.0, 1.4);

    for (n = 0, both = 0, i = 0; i < 20000; i++) {
        key = cflb_rng_next(&rng);
        n += cflb_shed(50, 0, &key, 1, &rng);
        both += cflb_shed(50, 0, &key, 1, &rng)
                && cflb_shed(50, 0, &key, 2, &rng);
    }

    cflb_check_pct(t, "hash 50 %", 100.0 * n / 20000, 50.0, 1.4);
    cflb_check_pct(t, "two pools 25 %", 100.0 * both / 20000, 25.0, 1.4);

    for (same = 0, i = 0; i < 1000; i++) {
        same += cflb_shed(50, i + 1, NULL, 9, &rng)
                == cflb_shed(50, i + 1, NULL, 9, &rng);
    }

    cflb_check(t, same == 1000);
}
