
/*
 * cflb_claim: which process makes an endpoint's due health check, decided
 * in shared memory among every worker that ticks, without a lock, so that
 * each endpoint gets exactly one probe per interval whatever the number
 * of workers; a prober that died, or one stuck far past its deadline, is
 * taken over.
 *
 * A claim is won with a compare-and-swap of the owner from the value read
 * (0, or a dead or stuck owner) to this process.  Winning is not enough:
 * a process that read a due check and no owner, then was preempted while
 * another one claimed, probed and let go of the check, finds the owner
 * back at 0 and wins the swap too (issue 15: two probes 15-20 ms apart).
 * So the winner reads the due time again after the swap; whoever probed
 * in between moved it, and the winner gives the claim back.
 */

#ifndef _CFLB_CLAIM_H_INCLUDED_
#define _CFLB_CLAIM_H_INCLUDED_


#include "cflb_core.h"


/* one endpoint's check, in shared memory; zeroed: due, no owner */
typedef struct {
    uint64_t          owner;        /* pid of the prober, or 0 */
    uint32_t          claimed;      /* msec, when owner took it */
    uint32_t          next;         /* msec, when the next one is due;
                                       0: at once */
} cflb_claim_t;


typedef struct {
    uint64_t          self;         /* this process, not 0 */
    uint32_t          now;          /* msec, monotonic; may wrap */
    uint32_t          interval;     /* msec between checks */
    uint32_t          limit;        /* msec after which an owner that is
                                       still alive is taken over */
    /* is pid alive (a process that exists); NULL: every one is */
    int             (*alive)(void *data, uint64_t pid);
    /*
     * called between the reads and the swap: NULL in the glue; tests
     * run another claim there, which is how the race plays out
     */
    void            (*between)(void *data);
    void             *data;
} cflb_claim_env_t;


/*
 * cflb_claim() takes c's check for env->self if it is due and nobody else
 * has it (or its owner is dead, or older than env->limit): returns 1,
 * with c->next moved to now + interval; else 0.  Lock-free, any process.
 */
int cflb_claim(cflb_claim_t *c, const cflb_claim_env_t *env);

/* cflb_claim_release() gives the check back once its probe is done */
void cflb_claim_release(cflb_claim_t *c, uint64_t self);


#endif /* _CFLB_CLAIM_H_INCLUDED_ */
