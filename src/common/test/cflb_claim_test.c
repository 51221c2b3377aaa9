
/*
 * cflb_claim.c: one prober per due check.  The rules one by one (due,
 * owner, dead and stuck owners, wrapping time), the race of issue 15
 * played out exactly (a claim preempted between its reads and its swap
 * while another one claims, probes and lets go), and threads racing for
 * one check on a simulated clock: no two checks closer than an interval.
 */


#define _GNU_SOURCE   /* sched_yield() with -std=c99 */

#include <pthread.h>
#include <sched.h>

#include "cflb_test.h"
#include "cflb_claim.h"


static int
claim_alive(void *data, uint64_t pid)
{
    const uint64_t  *dead = data;

    return dead == NULL || pid != *dead;
}


static void
claim_env(cflb_claim_env_t *env, uint64_t self, uint32_t now)
{
    memset(env, 0, sizeof(cflb_claim_env_t));

    env->self = self;
    env->now = now;
    env->interval = 1000;
    env->limit = 5000;
    env->alive = claim_alive;
}


static void
test_rules(cflb_test_t *t)
{
    uint64_t          dead;
    cflb_claim_t      c;
    cflb_claim_env_t  a, b;

    memset(&c, 0, sizeof(c));

    /* a fresh check is due: one wins, the other finds an owner */
    claim_env(&a, 11, 100);
    claim_env(&b, 22, 100);

    cflb_check(t, cflb_claim(&c, &a) == 1);
    cflb_check(t, c.owner == 11 && c.next == 1100 && c.claimed == 100);
    cflb_check(t, cflb_claim(&c, &b) == 0);
    cflb_check(t, cflb_claim(&c, &a) == 0);

    /* released, but not due before now + interval */
    cflb_claim_release(&c, 22);
    cflb_check(t, c.owner == 11);
    cflb_claim_release(&c, 11);
    cflb_check(t, c.owner == 0);

    b.now = 1099;
    cflb_check(t, cflb_claim(&c, &b) == 0);
    b.now = 1100;
    cflb_check(t, cflb_claim(&c, &b) == 1 && c.owner == 22);

    /* an owner alive and recent keeps it, a dead one loses it */
    a.now = 2100;
    cflb_check(t, cflb_claim(&c, &a) == 0);

    dead = 22;
    a.data = &dead;
    cflb_check(t, cflb_claim(&c, &a) == 1 && c.owner == 11);

    /* an owner alive but stuck past the limit loses it too */
    b.now = 3100;
    cflb_check(t, cflb_claim(&c, &b) == 0);
    b.now = 2100 + 5000;
    cflb_check(t, cflb_claim(&c, &b) == 1 && c.owner == 22);

    /* the clock wraps */
    memset(&c, 0, sizeof(c));
    claim_env(&a, 11, UINT32_MAX - 100);
    cflb_check(t, cflb_claim(&c, &a) == 1);
    cflb_check(t, c.next == (uint32_t) (UINT32_MAX - 100 + 1000));
    cflb_claim_release(&c, 11);

    a.now = 500;
    cflb_check(t, cflb_claim(&c, &a) == 0);
    a.now = 899;
    cflb_check(t, cflb_claim(&c, &a) == 1);

    /* a due time that would be 0 is 1: 0 means "at once" */
    memset(&c, 0, sizeof(c));
    claim_env(&a, 11, (uint32_t) 0 - 1000);
    cflb_check(t, cflb_claim(&c, &a) == 1 && c.next == 1);
}


/* the race: b claims, probes and lets go while a is between its reads
   and its swap */

typedef struct {
    cflb_claim_t         *c;
    cflb_claim_env_t     *other;
    int                   won;
} claim_race_t;


static void
claim_race_between(void *data)
{
    claim_race_t  *r = data;

    r->won = cflb_claim(r->c, r->other);

    if (r->won) {
        cflb_claim_release(r->c, r->other->self);
    }
}


static void
test_race(cflb_test_t *t)
{
    cflb_claim_t      c;
    claim_race_t      r;
    cflb_claim_env_t  a, b;

    memset(&c, 0, sizeof(c));
    claim_env(&a, 11, 5000);
    claim_env(&b, 22, 5001);

    r.c = &c;
    r.other = &b;
    r.won = 0;

    a.between = claim_race_between;
    a.data = &r;
    a.alive = NULL;

    /* a read a due check and no owner; b probed it meanwhile */
    cflb_check(t, cflb_claim(&c, &a) == 0);
    cflb_check(t, r.won == 1);
    cflb_check(t, c.owner == 0 && c.next == 6001 && c.claimed == 5001);

    /* the same with b finding it not due: a wins */
    memset(&c, 0, sizeof(c));
    c.next = 5001;
    a.now = 5001;
    b.now = 5000;
    r.won = 0;

    cflb_check(t, cflb_claim(&c, &a) == 1);
    cflb_check(t, r.won == 0 && c.owner == 11 && c.next == 6001);
}


/* threads on a simulated clock */

#define CLAIM_THREADS   8
#define CLAIM_TICKS     60000
#define CLAIM_INTERVAL  20
#define CLAIM_WINS      (2 * CLAIM_TICKS / CLAIM_INTERVAL)


typedef struct {
    cflb_claim_t         *c;
    uint32_t             *clock;        /* atomic: the simulated msec */
    uint32_t              seen;         /* atomic: the last tick it read */
    int                  *stop;
    uint64_t              self;
    cflb_rng_t            rng;
    uint32_t              wins[CLAIM_WINS];
    unsigned              nwins;
} claim_thread_t;


static void
claim_thread_between(void *data)
{
    claim_thread_t  *th = data;

    /* widen the window: a preemption here is what the race needs */
    if (cflb_rng_below(&th->rng, 4) == 0) {
        sched_yield();
    }
}


static void *
claim_thread(void *data)
{
    uint32_t          until, now;
    claim_thread_t   *th = data;
    cflb_claim_env_t  env;

    memset(&env, 0, sizeof(cflb_claim_env_t));
    env.self = th->self;
    env.interval = CLAIM_INTERVAL;
    env.limit = 1000000;
    env.between = claim_thread_between;
    env.data = th;

    while (!__atomic_load_n(th->stop, __ATOMIC_ACQUIRE)) {
        env.now = __atomic_load_n(th->clock, __ATOMIC_ACQUIRE);

        if (!cflb_claim(th->c, &env)) {
            __atomic_store_n(&th->seen, env.now, __ATOMIC_RELEASE);

            if (cflb_rng_below(&th->rng, 2) == 0) {
                sched_yield();
            }

            continue;
        }

        if (th->nwins < CLAIM_WINS) {
            th->wins[th->nwins++] = env.now;
        }

        /* the probe: a tick or two of the clock */
        until = env.now + 1 + (uint32_t) cflb_rng_below(&th->rng, 2);

        for ( ;; ) {
            now = __atomic_load_n(th->clock, __ATOMIC_ACQUIRE);
            __atomic_store_n(&th->seen, now, __ATOMIC_RELEASE);

            if ((int32_t) (now - until) >= 0
                || __atomic_load_n(th->stop, __ATOMIC_ACQUIRE))
            {
                break;
            }

            sched_yield();
        }

        cflb_claim_release(th->c, th->self);
    }

    return NULL;
}


static int
claim_cmp(const void *a, const void *b)
{
    uint32_t  x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}


static void
test_threads(cflb_test_t *t)
{
    int                 stop;
    unsigned            k, i, n, close;
    uint32_t           *all, clock, tick;
    pthread_t           tid[CLAIM_THREADS];
    cflb_claim_t        c;
    claim_thread_t     *th;

    th = calloc(CLAIM_THREADS, sizeof(claim_thread_t));
    all = calloc(CLAIM_THREADS * CLAIM_WINS, sizeof(uint32_t));

    if (th == NULL || all == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    memset(&c, 0, sizeof(c));
    clock = 1;
    stop = 0;

    for (k = 0; k < CLAIM_THREADS; k++) {
        th[k].c = &c;
        th[k].clock = &clock;
        th[k].stop = &stop;
        th[k].self = 100 + k;
        cflb_rng_seed(&th[k].rng, k + 1);

        if (pthread_create(&tid[k], NULL, claim_thread, &th[k]) != 0) {
            printf("pthread_create failed\n");
            exit(1);
        }
    }

    /*
     * the clock: a tick once every thread has looked at the current one,
     * so that a machine busy with other work starves no thread of its
     * chance (the claims still race within each tick)
     */
    for (tick = 0; tick < CLAIM_TICKS; tick++) {
        for (k = 0; k < CLAIM_THREADS; k++) {
            while (__atomic_load_n(&th[k].seen, __ATOMIC_ACQUIRE) != clock) {
                sched_yield();
            }
        }

        __atomic_store_n(&clock, clock + 1, __ATOMIC_RELEASE);
    }

    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);

    n = 0;

    for (k = 0; k < CLAIM_THREADS; k++) {
        pthread_join(tid[k], NULL);
        memcpy(all + n, th[k].wins, th[k].nwins * sizeof(uint32_t));
        n += th[k].nwins;
    }

    qsort(all, n, sizeof(uint32_t), claim_cmp);

    close = 0;

    for (i = 1; i < n; i++) {
        close += (all[i] - all[i - 1] < CLAIM_INTERVAL);
    }

    cflb_check_msg(t, close == 0, "%u of %u checks closer than an interval",
                   close, n);

    /* and the check was made: about once per interval (the probe adds
       a tick or two, the threads' view of the clock lags a little) */
    cflb_check_msg(t, n >= CLAIM_TICKS / CLAIM_INTERVAL / 2,
                   "%u checks in %u ticks", n, CLAIM_TICKS);

    free(all);
    free(th);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    test_rules(&t);
    test_race(&t);
    test_threads(&t);

    return cflb_test_done(&t, "cflb_claim_test");
}
