
/*
 * cflb steering dispatcher: keyword lookup and set lifetime.  The
 * algorithms live one per file behind cflb_steer_ops_t (HAProxy lb_*.c).
 */


#include <limits.h>
#include <string.h>

#include "cflb_steer_algo.h"


static const cflb_steer_ops_t  *const cflb_steer_table[] = {
    &cflb_steer_off_ops,            /* CFLB_STEER_OFF */
    &cflb_steer_random_ops,         /* CFLB_STEER_RANDOM */
    &cflb_steer_hash_ops,           /* CFLB_STEER_HASH */
    &cflb_steer_lors_ops,           /* CFLB_STEER_LORS */
    &cflb_steer_least_conn_ops      /* CFLB_STEER_LEAST_CONN */
};


/* a policy added to the enum without a table entry fails the build */
typedef char cflb_steer_table_check_t[
    sizeof(cflb_steer_table) / sizeof(cflb_steer_table[0])
    == CFLB_STEER_NPOLICIES ? 1 : -1];


int
cflb_steer_policy(const unsigned char *s, size_t len)
{
    int          policy;
    const char  *name;

    for (policy = 0; policy < CFLB_STEER_NPOLICIES; policy++) {
        name = cflb_steer_table[policy]->name;

        if (strlen(name) == len && memcmp(name, s, len) == 0) {
            return policy;
        }
    }

    return CFLB_ERROR;
}


const cflb_steer_ops_t *
cflb_steer_ops(cflb_policy_e policy)
{
    if ((unsigned) policy >= CFLB_STEER_NPOLICIES) {
        return NULL;
    }

    return cflb_steer_table[policy];
}


/*
 * Besides no memory, CFLB_ERROR is returned for an unknown policy and
 * for n > INT_MAX, since pick() returns a member index as an int.
 */

int
cflb_set_init(cflb_set_t *set, cflb_policy_e policy,
    const cflb_member_t *members, unsigned n, cflb_allocator_t *a)
{
    set->ops = cflb_steer_ops(policy);
    set->members = members;
    set->n = n;
    set->data = NULL;

    if (set->ops == NULL || n > INT_MAX) {
        return CFLB_ERROR;
    }

    if (set->ops->init(set, a) != CFLB_OK) {
        set->data = NULL;
        return CFLB_ERROR;
    }

    return CFLB_OK;
}


void
cflb_set_free(cflb_set_t *set, cflb_allocator_t *a)
{
    if (set->ops != NULL && set->ops->free != NULL) {
        set->ops->free(set, a);
    }

    set->data = NULL;
}
