
/*
 * cflb_session.c: the header-session table.  Golden behaviour (find,
 * touch, expiry, LRU eviction when full, idle sessions dropped first)
 * and a randomized run against a plain model of the same rules.  The
 * seed of a session's first pick: golden values (the same on 32-bit),
 * two nodes with sets built apart making the same picks, the shares of
 * the weights, and sessions that move only off an endpoint that stops
 * serving.
 */


#include "cflb_test.h"
#include "cflb_session.h"


#define N_MODEL  64


typedef struct {
    uint64_t     key[2];
    int64_t      used;
    int          live;
} model_t;


static cflb_sessions_t *
table(uint32_t capacity)
{
    cflb_sessions_t  *t;

    t = malloc(cflb_sessions_size(capacity));
    if (t == NULL) {
        abort();
    }

    cflb_sessions_init(t, capacity);

    return t;
}


static void
golden(cflb_test_t *t)
{
    int               expired;
    uint64_t          k[4][2] = { { 1, 10 }, { 2, 20 }, { 3, 30 },
                                  { 1, 11 } };
    cflb_session_t   *s;
    cflb_sessions_t  *tb;

    tb = table(3);

    cflb_check(t, cflb_sessions_get(tb, k[0], 100, 60, &expired) == NULL
                  && !expired);

    s = cflb_sessions_put(tb, k[0], 100, 60);
    cflb_check(t, s != NULL && s->used == 100 && tb->count == 1);
    s->pool = 7;
    s->endpoint = 8;

    /* same first word, other second word: another session */
    s = cflb_sessions_put(tb, k[3], 101, 60);
    cflb_check(t, s != NULL && s->pool == 0 && tb->count == 2);

    s = cflb_sessions_get(tb, k[0], 150, 60, &expired);
    cflb_check(t, s != NULL && s->pool == 7 && s->endpoint == 8
                  && s->used == 150);

    /* idle longer than ttl: gone, and said so */
    s = cflb_sessions_get(tb, k[3], 200, 60, &expired);
    cflb_check(t, s == NULL && expired && tb->count == 1);

    /* full: the least recently used makes room */
    cflb_sessions_put(tb, k[1], 201, 600);
    cflb_sessions_put(tb, k[2], 202, 600);
    cflb_check(t, tb->count == 3);

    (void) cflb_sessions_get(tb, k[0], 203, 600, &expired);   /* touch */
    s = cflb_sessions_put(tb, k[3], 204, 600);
    cflb_check(t, s != NULL && tb->count == 3);
    cflb_check(t, cflb_sessions_get(tb, k[1], 205, 600, &expired) == NULL
                  && !expired);
    cflb_check(t, cflb_sessions_get(tb, k[0], 205, 600, &expired) != NULL);
    cflb_check(t, cflb_sessions_get(tb, k[2], 205, 600, &expired) != NULL);

    /* a new session first drops idle ones, oldest first, two at most */
    s = cflb_sessions_put(tb, k[1], 1000, 60);
    cflb_check(t, s != NULL && tb->count == 2);

    free(tb);

    /* capacity 0: nothing is kept, nothing breaks */
    tb = table(0);
    cflb_check(t, cflb_sessions_put(tb, k[0], 1, 1) == NULL);
    cflb_check(t, cflb_sessions_get(tb, k[0], 1, 1, &expired) == NULL);
    free(tb);

    cflb_check(t, cflb_sessions_fit(cflb_sessions_size(1000)) >= 1000);
    cflb_check(t, cflb_sessions_size(cflb_sessions_fit(100000)) <= 100000);
    cflb_check(t, cflb_sessions_fit(8) == 0);
}


/* the oldest live entry of the model, or -1 */

static int
model_oldest(model_t *m, int n)
{
    int  i, o;

    o = -1;

    for (i = 0; i < n; i++) {
        if (m[i].live && (o < 0 || m[i].used < m[o].used)) {
            o = i;
        }
    }

    return o;
}


/*
 * Random gets and puts of 64 keys (colliding first words) in a table of
 * 16, against a model: the live set and every "used" agree, always.
 */

static void
randomized(cflb_test_t *t)
{
    int               i, k, expired, live, o, dropped, bad;
    int64_t           now, ttl;
    model_t           m[N_MODEL];
    cflb_rng_t        rng;
    cflb_session_t   *s;
    cflb_sessions_t  *tb;

    tb = table(16);
    cflb_rng_seed(&rng, 42);
    memset(m, 0, sizeof(m));
    bad = 0;
    ttl = 50;

    for (i = 0; i < N_MODEL; i++) {
        m[i].key[0] = (uint64_t) (i % 5);       /* shared buckets */
        m[i].key[1] = (uint64_t) i;
    }

    for (now = 1; now < 20000; now++) {
        k = (int) cflb_rng_below(&rng, N_MODEL);

        if (cflb_rng_below(&rng, 2)) {
            s = cflb_sessions_get(tb, m[k].key, now, ttl, &expired);

            if (m[k].live && now - m[k].used > ttl) {
                bad += (s != NULL || !expired);
                m[k].live = 0;

            } else if (m[k].live) {
                bad += (s == NULL || expired);
                m[k].used = now;

            } else {
                bad += (s != NULL || expired);
            }

            continue;
        }

        s = cflb_sessions_put(tb, m[k].key, now, ttl);

        if (m[k].live && now - m[k].used <= ttl) {
            m[k].used = now;
            bad += (s == NULL);
            continue;
        }

        m[k].live = 0;

        for (dropped = 0; dropped < 2; dropped++) {
            o = model_oldest(m, N_MODEL);

            if (o < 0 || now - m[o].used <= ttl) {
                break;
            }

            m[o].live = 0;
        }

        for (live = 0, i = 0; i < N_MODEL; i++) {
            live += m[i].live;
        }

        if (live == 16) {
            m[model_oldest(m, N_MODEL)].live = 0;
        }

        m[k].live = 1;
        m[k].used = now;
        bad += (s == NULL || s->used != now);

        for (live = 0, i = 0; i < N_MODEL; i++) {
            live += m[i].live;
        }

        bad += (live != (int) tb->count);
    }

    cflb_check_msg(t, bad == 0, "%d disagreements with the model", bad);

    free(tb);
}


/* the first pick of a session on two nodes, each with its own set */

static void
fleet_policy(cflb_test_t *t, cflb_policy_e policy)
{
    int               pa, pb, was[20000];
    uint64_t          key[2];
    unsigned          i, bad, moved;
    cflb_rng_t        ra, rb;
    cflb_set_t        a, b;
    cflb_pick_t       pk;
    unsigned long     counts[4];
    cflb_test_ctx_t   ctx;
    cflb_test_mem_t   mem;
    cflb_test_set_t   ma, mb;
    cflb_allocator_t  alloc;

    static const uint32_t       w[4] = { 60, 30, 10, 0 };
    static const unsigned char  down1[4] = { 0, 1, 0, 0 };

    cflb_test_allocator(&alloc, &mem);
    cflb_test_members(&ma, 4, w, "ep");
    cflb_test_members(&mb, 4, w, "ep");

    cflb_check(t, cflb_set_init(&a, policy, ma.members, 4, &alloc) == CFLB_OK
                  && cflb_set_init(&b, policy, mb.members, 4, &alloc)
                     == CFLB_OK);

    cflb_test_pick_init(&pk, &ctx, &ra, 0);
    pk.load = NULL;                 /* as the glue asks a session's pick */

    memset(counts, 0, sizeof(counts));
    bad = 0;

    for (i = 0; i < 20000; i++) {
        key[0] = (uint64_t) i * 0x9e3779b97f4a7c15ULL;
        key[1] = ~(uint64_t) i;

        cflb_rng_seed(&ra, cflb_session_seed(key));
        cflb_rng_seed(&rb, cflb_session_seed(key));

        pk.rng = &ra;
        pa = cflb_set_pick(&a, &pk);
        pk.rng = &rb;
        pb = cflb_set_pick(&b, &pk);

        bad += (pa != pb || pa < 0 || pa > 3);
        was[i] = pa;

        if (pa >= 0 && pa <= 3) {
            counts[pa]++;
        }
    }

    cflb_check_msg(t, bad == 0, "%s: %u picks differ between the nodes",
                   cflb_steer_ops(policy)->name, bad);

    /* n = 20000: a share's standard deviation is under 0.35 pp */
    cflb_check_pct(t, "share of weight 0.6", counts[0] / 200.0, 60, 2);
    cflb_check_pct(t, "share of weight 0.3", counts[1] / 200.0, 30, 2);
    cflb_check_pct(t, "share of weight 0.1", counts[2] / 200.0, 10, 2);
    cflb_check(t, counts[3] == 0);

    /* endpoint 1 stops serving: its sessions move, the same way on both */
    ctx.down = down1;
    bad = 0;
    moved = 0;

    for (i = 0; i < 20000; i++) {
        key[0] = (uint64_t) i * 0x9e3779b97f4a7c15ULL;
        key[1] = ~(uint64_t) i;

        cflb_rng_seed(&ra, cflb_session_seed(key));
        cflb_rng_seed(&rb, cflb_session_seed(key));

        pk.rng = &ra;
        pa = cflb_set_pick(&a, &pk);
        pk.rng = &rb;
        pb = cflb_set_pick(&b, &pk);

        bad += (pa != pb || pa == 1);
        moved += (was[i] != 1 && pa != was[i]);
    }

    cflb_check_msg(t, bad == 0 && moved == 0,
                   "%s: %u disagree or on the endpoint down, %u moved "
                   "without a reason", cflb_steer_ops(policy)->name, bad,
                   moved);

    cflb_set_free(&a, &alloc);
    cflb_set_free(&b, &alloc);
    cflb_check(t, mem.live == 0);

    cflb_test_members_free(&ma);
    cflb_test_members_free(&mb);
}


static void
fleet(cflb_test_t *t)
{
    uint64_t  k1[2] = { 1, 2 };
    uint64_t  k2[2] = { 0xdeadbeefcafef00dULL, 0x0123456789abcdefULL };
    uint64_t  k3[2] = { 2, 1 };

    /* golden: a node of another word size must seed the same */
    cflb_check(t, cflb_session_seed(k1) == 0xbeeb8da1658eec67ULL);
    cflb_check(t, cflb_session_seed(k2) == 0x18a18225a6b08ef2ULL);
    cflb_check(t, cflb_session_seed(k3) != cflb_session_seed(k1));

    fleet_policy(t, CFLB_STEER_RANDOM);
    fleet_policy(t, CFLB_STEER_LORS);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    golden(&t);
    randomized(&t);
    fleet(&t);

    return cflb_test_done(&t, "cflb_session_test");
}
