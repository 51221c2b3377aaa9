
/*
 * cflb_claim: one prober per due health check (the contract is in
 * cflb_claim.h).
 *
 * Memory order: the prober stores "next" before it releases the owner,
 * and a winner's swap acquires the owner value that release wrote, so
 * the winner's second read of "next" sees the prober's store.  Times are
 * msec modulo 2^32, compared by signed difference: intervals and limits
 * must stay below 24 days.
 */


#include "cflb_claim.h"


#define cflb_claim_due(next, now)                                           \
    ((next) == 0 || (int32_t) ((now) - (next)) >= 0)


int
cflb_claim(cflb_claim_t *c, const cflb_claim_env_t *env)
{
    uint32_t  next, claimed;
    uint64_t  owner;

    next = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE);

    if (!cflb_claim_due(next, env->now)) {
        return 0;
    }

    owner = __atomic_load_n(&c->owner, __ATOMIC_ACQUIRE);

    if (owner != 0) {
        if (owner == env->self) {
            return 0;
        }

        claimed = __atomic_load_n(&c->claimed, __ATOMIC_RELAXED);

        if ((env->alive == NULL || env->alive(env->data, owner))
            && (uint32_t) (env->now - claimed) < env->limit)
        {
            return 0;
        }
    }

    if (env->between != NULL) {
        env->between(env->data);
    }

    if (!__atomic_compare_exchange_n(&c->owner, &owner, env->self, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
        return 0;
    }

    /* won; but a check made since the first read is not due any more */

    next = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE);

    if (!cflb_claim_due(next, env->now)) {
        cflb_claim_release(c, env->self);
        return 0;
    }

    next = env->now + env->interval;

    __atomic_store_n(&c->claimed, env->now, __ATOMIC_RELAXED);
    __atomic_store_n(&c->next, next ? next : 1, __ATOMIC_RELEASE);

    return 1;
}


void
cflb_claim_release(cflb_claim_t *c, uint64_t self)
{
    uint64_t  owner;

    owner = self;

    (void) __atomic_compare_exchange_n(&c->owner, &owner, 0, 0,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

