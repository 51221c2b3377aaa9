
/*
 * Load shedding: which requests a pool turns away (seed-features §9).
 * The decision is a draw against the percentage; what the draw is made
 * of decides who is shed: a session's own hash keeps a session's fate
 * the same on every request and every node, the client key keeps a
 * client's, and the RNG spreads plain traffic.
 */


#include "cflb_steer.h"


int
cflb_shed(unsigned percent, uint64_t session, const uint64_t *key,
    uint64_t pool, cflb_rng_t *rng)
{
    uint64_t  h;

    if (percent == 0) {
        return 0;
    }

    if (session) {
        h = cflb_hash64(&session, sizeof(uint64_t), pool);

    } else if (key) {
        h = cflb_hash64(key, sizeof(uint64_t), pool);

    } else {
        h = cflb_rng_next(rng);
    }

    return h % 100 < percent;
}
