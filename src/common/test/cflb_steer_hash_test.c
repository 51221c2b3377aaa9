
/*
 * cflb_steer_hash.c: weighted consistent hashing.  Golden placement,
 * distribution, and the stability promises: a member going down,
 * removed, added, reweighted or moved in the list moves only the keys
 * that must move.
 */


#include "cflb_test.h"


#define NKEYS  20000


static void cflb_hash_test_golden(cflb_test_t *t);
static void cflb_hash_test_dist(cflb_test_t *t);
static void cflb_hash_test_stability(cflb_test_t *t);
static void cflb_hash_test_down(cflb_test_t *t, const cflb_test_set_t *ts,
    const char **before, const char **after);
static void cflb_hash_test_rebuilt(cflb_test_t *t, const char *what,
    const cflb_test_set_t *before, const cflb_test_set_t *after,
    const char *changed);
static void cflb_hash_test_edges(cflb_test_t *t);
static void cflb_hash_test_map(cflb_test_t *t, const cflb_test_set_t *ts,
    const unsigned char *down, const char **names);


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    cflb_check(&t, cflb_steer_ops(CFLB_STEER_HASH)->inputs == CFLB_NEED_KEY);

    cflb_hash_test_golden(&t);
    cflb_hash_test_dist(&t);
    cflb_hash_test_stability(&t);
    cflb_hash_test_edges(&t);

    return cflb_test_done(&t, "cflb_steer_hash_test");
}


/*
 * Placement computed once with this code (identical on 64 and 32-bit);
 * it must never change, or every node of a fleet would have to be
 * upgraded at once for keys to stay put.
 */

static void
cflb_hash_test_golden(cflb_test_t *t)
{
    int                rc;
    char               buf[32];
    unsigned           i, k;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    static const uint32_t  w[5] = { 100, 50, 100, 1, 75 };
    static const int       want[24] = {
        4, 2, 0, 2, 0, 2, 2, 2, 2, 0, 2, 2,
        4, 4, 2, 4, 4, 4, 2, 4, 4, 0, 1, 4
    };

    cflb_test_allocator(&a, &mem);
    cflb_test_members(&ts, 5, w, "10.0.0.");
    cflb_test_pick_init(&pk, &ctx, &rng, 1);

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_HASH, ts.members, 5, &a)
                  == CFLB_OK);

    for (i = 0; i < 24; i++) {
        snprintf(buf, sizeof(buf), "client-%u", i);
        pk.key = cflb_hash64(buf, strlen(buf), 0);

        /* the same key always gives the same member */
        for (k = 0; k < 3; k++) {
            rc = cflb_set_pick(&set, &pk);
            cflb_check_msg(t, rc == want[i], "golden key %u: %d, want %d",
                           i, rc, want[i]);
        }
    }

    /* the ends of the key space wrap to the first point */
    pk.key = 0;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);
    pk.key = UINT64_MAX;
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);

    cflb_set_free(&set, &a);
    cflb_check(t, mem.live == 0);
    cflb_test_members_free(&ts);
}


/*
 * 200,000 uniform keys over 20 members of weight 1.00 (160 points each)
 * and over 20 of mixed weights.  The key sampling noise is about 1%; the
 * ring's own spread dominates: a member's share deviates from its due by
 * about 1/sqrt(points), 8% at 160 points, 11% at 80.  So: each member
 * within +-25% relative (3 sigma at 160 points, 2.2 at 80), and the
 * groups' aggregate shares within +-5% relative.
 */

static void
cflb_hash_test_dist(cflb_test_t *t)
{
    double             due, sum, heavy;
    unsigned           i, pass;
    uint32_t           w[20];
    cflb_rng_t         rng, keys;
    cflb_set_t         set;
    cflb_pick_t        pk;
    unsigned long      s, counts[20];
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    cflb_test_allocator(&a, &mem);
    cflb_test_pick_init(&pk, &ctx, &rng, 1);

    for (pass = 0; pass < 2; pass++) {
        sum = 0;

        for (i = 0; i < 20; i++) {
            w[i] = (pass == 1 && i % 2) ? 50 : 100;
            sum += w[i];
        }

        cflb_test_members(&ts, 20, w, "10.1.0.");
        cflb_check(t, cflb_set_init(&set, CFLB_STEER_HASH, ts.members, 20,
                                    &a) == CFLB_OK);

        memset(counts, 0, sizeof(counts));
        cflb_rng_seed(&keys, 99);

        for (s = 0; s < 200000; s++) {
            pk.key = cflb_rng_next(&keys);
            counts[cflb_set_pick(&set, &pk)]++;
        }

        heavy = 0;

        for (i = 0; i < 20; i++) {
            due = 200000 * w[i] / sum;
            heavy += (w[i] == 100) ? counts[i] : 0;

            cflb_check_msg(t, counts[i] > due * 0.75 && counts[i] < due * 1.25,
                           "hash pass %u member %u: %lu keys, due %.0f",
                           pass, i, counts[i], due);
        }

        due = (pass == 0) ? 200000 : 200000 * 2.0 / 3;

        cflb_check_msg(t, heavy > due * 0.95 && heavy < due * 1.05,
                       "hash pass %u: weight 1.00 group %.0f keys, due %.0f",
                       pass, heavy, due);

        cflb_set_free(&set, &a);
        cflb_test_members_free(&ts);
    }

    cflb_check(t, mem.live == 0);
}


/* names[k] = the name key k maps to, NULL if declined */

static void
cflb_hash_test_map(cflb_test_t *t, const cflb_test_set_t *ts,
    const unsigned char *down, const char **names)
{
    int                rc;
    unsigned           k;
    cflb_rng_t         rng, keys;
    cflb_set_t         set;
    cflb_pick_t        pk;
    cflb_test_ctx_t    ctx;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    cflb_test_allocator(&a, &mem);
    cflb_test_pick_init(&pk, &ctx, &rng, 1);
    ctx.down = down;

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_HASH, ts->members, ts->n,
                                &a) == CFLB_OK);

    cflb_rng_seed(&keys, 1234);

    for (k = 0; k < NKEYS; k++) {
        pk.key = cflb_rng_next(&keys);
        rc = cflb_set_pick(&set, &pk);
        names[k] = (rc >= 0) ? (const char *) ts->members[rc].name.data
                             : NULL;
    }

    cflb_set_free(&set, &a);
    cflb_check(t, mem.live == 0);
}


static void
cflb_hash_test_stability(cflb_test_t *t)
{
    unsigned          i;
    const char      **before, **after;
    cflb_test_set_t   ts, other;

    before = calloc(NKEYS, sizeof(char *));
    after = calloc(NKEYS, sizeof(char *));

    if (before == NULL || after == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    cflb_test_members(&ts, 20, NULL, "ep-");
    cflb_hash_test_map(t, &ts, NULL, before);

    /* (a) ep-7 unusable, then usable again */
    cflb_hash_test_down(t, &ts, before, after);

    /* (b) rebuilt without ep-7: indices shift, names stay */

    cflb_test_members(&other, 19, NULL, "x");

    for (i = 0; i < 19; i++) {
        other.members[i] = ts.members[i < 7 ? i : i + 1];
    }

    cflb_hash_test_rebuilt(t, "removed", &ts, &other, "ep-7");
    cflb_test_members_free(&other);

    /* (c) ep-20 added: keys move only onto it */

    cflb_test_members(&other, 21, NULL, "ep-");
    cflb_hash_test_rebuilt(t, "added", &ts, &other, "ep-20");

    /* (d) reversed order: nothing moves */

    for (i = 0; i < 20; i++) {
        other.members[i] = ts.members[19 - i];
    }

    other.n = 20;
    cflb_hash_test_rebuilt(t, "reversed", &ts, &other, NULL);

    /* (e) ep-3 reweighted to 0.50: it keeps a subset of its keys */

    for (i = 0; i < 20; i++) {
        other.members[i] = ts.members[i];
    }

    other.members[3].weight = 50;
    cflb_hash_test_rebuilt(t, "reweighted", &ts, &other, "ep-3");

    cflb_test_members_free(&other);
    cflb_test_members_free(&ts);
    free(before);
    free(after);
}


/* exactly the keys of an unusable member move, none onto it, and back */

static void
cflb_hash_test_down(cflb_test_t *t, const cflb_test_set_t *ts,
    const char **before, const char **after)
{
    unsigned       k, moved, wrong;
    unsigned char  down[20];

    memset(down, 0, sizeof(down));
    down[7] = 1;
    cflb_hash_test_map(t, ts, down, after);

    moved = 0;
    wrong = 0;

    for (k = 0; k < NKEYS; k++) {
        if (strcmp(before[k], "ep-7") == 0) {
            moved++;
            wrong += (strcmp(after[k], "ep-7") == 0);

        } else {
            wrong += (strcmp(after[k], before[k]) != 0);
        }
    }

    cflb_check_msg(t, wrong == 0 && moved > 0,
                   "down: %u keys wrong, %u moved", wrong, moved);

    /* and they come back when it is usable again */
    cflb_hash_test_map(t, ts, NULL, after);

    for (k = 0, wrong = 0; k < NKEYS; k++) {
        wrong += (strcmp(after[k], before[k]) != 0);
    }

    cflb_check_msg(t, wrong == 0, "up again: %u keys moved", wrong);
}


/*
 * Keys not on the changed member keep their member; keys that move
 * go to or come from the changed member only.  changed NULL: no move.
 */

static void
cflb_hash_test_rebuilt(cflb_test_t *t, const char *what,
    const cflb_test_set_t *before, const cflb_test_set_t *after,
    const char *changed)
{
    unsigned      k, moved, wrong;
    const char  **a, **b;

    a = calloc(NKEYS, sizeof(char *));
    b = calloc(NKEYS, sizeof(char *));

    if (a == NULL || b == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    cflb_hash_test_map(t, before, NULL, a);
    cflb_hash_test_map(t, after, NULL, b);

    moved = 0;
    wrong = 0;

    for (k = 0; k < NKEYS; k++) {
        if (a[k] == NULL || b[k] == NULL) {
            wrong++;
            continue;
        }

        if (strcmp(a[k], b[k]) == 0) {
            continue;
        }

        moved++;

        if (changed == NULL
            || (strcmp(a[k], changed) != 0 && strcmp(b[k], changed) != 0))
        {
            wrong++;
        }
    }

    cflb_check_msg(t, wrong == 0 && (changed == NULL) == (moved == 0),
                   "%s: %u keys moved, %u wrongly", what, moved, wrong);

    free(a);
    free(b);
}


static void
cflb_hash_test_edges(cflb_test_t *t)
{
    unsigned           i, k;
    cflb_rng_t         rng;
    cflb_set_t         set;
    cflb_pick_t        pk;
    unsigned char      down[5] = { 1, 1, 1, 1, 1 };
    cflb_test_ctx_t    ctx;
    cflb_test_set_t    ts;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;

    static const uint32_t  w[5] = { 100, 0, 1, 0, 100 };

    cflb_test_allocator(&a, &mem);
    cflb_test_pick_init(&pk, &ctx, &rng, 1);
    cflb_test_members(&ts, 5, w, "ep-");

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_HASH, ts.members, 5, &a)
                  == CFLB_OK);

    /* all unusable */
    ctx.down = down;
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);

    /* one usable, weight 0.01 (2 points): every key finds it */
    down[2] = 0;

    for (k = 0, i = 0; k < 1000; k++) {
        pk.key = cflb_rng_next(&rng);
        i += (cflb_set_pick(&set, &pk) == 2);
    }

    cflb_check(t, i == 1000);

    /* weight 0 members are never chosen, even when usable */
    ctx.down = NULL;

    for (k = 0, i = 0; k < 10000; k++) {
        pk.key = cflb_rng_next(&rng);
        i += (cflb_set_pick(&set, &pk) % 2 == 1);
    }

    cflb_check(t, i == 0);
    cflb_set_free(&set, &a);

    /* only weight 0: declined; n = 1; n = 0 */
    cflb_check(t, cflb_set_init(&set, CFLB_STEER_HASH, ts.members + 1, 1, &a)
                  == CFLB_OK);
    cflb_check(t, set.data == NULL);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_HASH, ts.members, 1, &a)
                  == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == 0);
    cflb_set_free(&set, &a);

    cflb_check(t, cflb_set_init(&set, CFLB_STEER_HASH, ts.members, 0, &a)
                  == CFLB_OK);
    cflb_check(t, cflb_set_pick(&set, &pk) == CFLB_DECLINED);
    cflb_set_free(&set, &a);

    cflb_test_members_free(&ts);
    cflb_check(t, mem.live == 0);
}
