
/*
 * cflb steering "dynamic_latency": the usable pool whose monitors see the
 * lowest round trip (cflb_dynamic_rtt(), on this node).  Pools without
 * data come after those with data, in failover order; a failed probe
 * never counts as fast, since it adds no sample.
 *
 * The switching rule: a pool whose round trip is within CFLB_DYNAMIC_BAND
 * percent, or CFLB_DYNAMIC_SLACK, of the lowest is as good as the
 * lowest, and the first such pool in failover order is chosen.  Two
 * pools of equal speed therefore never take turns: the first keeps the
 * traffic until it is clearly slower.  The rule has no memory, so every
 * worker, reading the same round trips from the zone, makes the same
 * choice (a memory of the last choice, kept per worker, let workers
 * settle on different pools after a passing spike).
 */


#include "cflb_steer_algo.h"


/* a pool not this much slower than the best one is as good */
#define CFLB_DYNAMIC_BAND   20      /* percent */

/*
 * nor this much, in usec: nginx times a probe with its millisecond
 * clock, so pools under a millisecond away read as 0 or 1 ms at random
 */
#define CFLB_DYNAMIC_SLACK  2000

#define cflb_dynamic_near(rtt, best)                                         \
    ((rtt) != 0                                                              \
     && ((rtt) * 100 <= (best) * (100 + CFLB_DYNAMIC_BAND)                   \
         || (rtt) <= (best) + CFLB_DYNAMIC_SLACK))


static int cflb_steer_dynamic_init(cflb_set_t *set, cflb_allocator_t *a);
static int cflb_steer_dynamic_pick(cflb_set_t *set, cflb_pick_t *pk);


const cflb_steer_ops_t  cflb_steer_dynamic_ops = {
    "dynamic_latency",
    CFLB_LEVEL_POOL,
    CFLB_MODE_ALL,
    0,
    CFLB_NEED_RTT,
    cflb_steer_dynamic_init,
    cflb_steer_dynamic_pick,
    NULL
};


static int
cflb_steer_dynamic_init(cflb_set_t *set, cflb_allocator_t *a)
{
    (void) a;

    set->data = NULL;

    return CFLB_OK;
}


static int
cflb_steer_dynamic_pick(cflb_set_t *set, cflb_pick_t *pk)
{
    int       best;
    uint64_t  rtt, best_rtt;
    unsigned  i;

    best = CFLB_DECLINED;
    best_rtt = 0;

    for (i = 0; i < set->n; i++) {
        rtt = pk->rtt(pk->ctx, i);

        if (rtt == 0 || (best >= 0 && rtt >= best_rtt)) {
            continue;
        }

        if (!cflb_member_usable(pk, i)) {
            continue;
        }

        best = (int) i;
        best_rtt = rtt;
    }

    if (best < 0) {
        /* nothing measured yet: failover order */
        return cflb_steer_first(set, pk);
    }

    /* the first in order that is as good as the best: best at the latest */
    for (i = 0; (int) i < best; i++) {
        rtt = pk->rtt(pk->ctx, i);

        if (cflb_dynamic_near(rtt, best_rtt) && cflb_member_usable(pk, i)) {
            return (int) i;
        }
    }

    return best;
}


/*
 * A pool of n monitored endpoints receives n samples per probe interval,
 * each weighted 1 / (n + 1): the old value keeps (n / (n + 1))^n of its
 * weight after an interval, 1/2 for n = 1 and at most 1/2 for any n
 * (e^-1 as n grows).  Rounded to nearest in 64 bits: at most
 * (n + 1) * (2^32 - 1), the result never exceeds max(avg, sample), and
 * it never drops to 0 once there is a value (0 reads "no data").
 */

uint32_t
cflb_dynamic_rtt(uint32_t avg, uint32_t sample, unsigned n)
{
    uint64_t  v;

    if (avg == 0) {
        return sample;
    }

    if (n == 0) {
        n = 1;
    }

    v = ((uint64_t) avg * n + sample + (n + 1) / 2) / (n + 1);

    return v ? (uint32_t) v : 1;
}
