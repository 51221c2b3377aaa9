
/*
 * cflb_session.c: the header-session table.  Golden behaviour (find,
 * touch, expiry, LRU eviction when full, idle sessions dropped first)
 * and a randomized run against a plain model of the same rules.
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


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    golden(&t);
    randomized(&t);

    return cflb_test_done(&t, "cflb_session_test");
}
