
/*
 * cflb steering dispatcher: keyword lookup and set lifetime.  The
 * algorithms live one per file behind cflb_steer_ops_t (HAProxy lb_*.c).
 */


#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cflb_steer_algo.h"


static const cflb_steer_ops_t  *const cflb_steer_table[] = {
    &cflb_steer_off_ops,            /* CFLB_STEER_OFF */
    &cflb_steer_random_ops,         /* CFLB_STEER_RANDOM */
    &cflb_steer_hash_ops,           /* CFLB_STEER_HASH */
    &cflb_steer_lors_ops,           /* CFLB_STEER_LORS */
    &cflb_steer_least_conn_ops,     /* CFLB_STEER_LEAST_CONN */
    &cflb_steer_geo_ops,            /* CFLB_STEER_GEO */
    &cflb_steer_proximity_ops,      /* CFLB_STEER_PROXIMITY */
    &cflb_steer_dynamic_ops         /* CFLB_STEER_DYNAMIC */
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


/*
 * Besides the keyword, the policy must fit level and mode: a pool-only
 * policy named as endpoint_steering is CFLB_DECLINED, as is one the mode
 * has no use for, so that the caller can say why.
 */

int
cflb_steer_policy_at(const unsigned char *s, size_t len, unsigned level,
    unsigned mode)
{
    int                      policy;
    const cflb_steer_ops_t  *ops;

    policy = cflb_steer_policy(s, len);

    if (policy == CFLB_ERROR) {
        return CFLB_ERROR;
    }

    ops = cflb_steer_table[policy];

    if (!(ops->levels & level) || !(ops->modes & mode)) {
        return CFLB_DECLINED;
    }

    return policy;
}


void
cflb_steer_names(char *buf, size_t size, unsigned level, unsigned mode)
{
    int          policy, n, last;
    size_t       len;
    const char  *sep;

    if (size == 0) {
        return;
    }

    buf[0] = '\0';
    len = 0;
    n = 0;
    last = -1;

    for (policy = 0; policy < CFLB_STEER_NPOLICIES; policy++) {
        if ((cflb_steer_table[policy]->levels & level)
            && (cflb_steer_table[policy]->modes & mode))
        {
            last = policy;
        }
    }

    for (policy = 0; policy <= last; policy++) {
        if (!(cflb_steer_table[policy]->levels & level)
            || !(cflb_steer_table[policy]->modes & mode))
        {
            continue;
        }

        sep = (n == 0) ? "" : (policy == last) ? " or " : ", ";
        n++;

        len += (size_t) snprintf(buf + len, len < size ? size - len : 0,
                                 "%s%s", sep, cflb_steer_table[policy]->name);

        if (len >= size) {
            return;
        }
    }
}


int
cflb_steer_load(cflb_policy_e policy, unsigned mode)
{
    const cflb_steer_ops_t  *ops;

    ops = cflb_steer_ops(policy);

    return ops != NULL && (ops->inputs & CFLB_NEED_LOAD)
           && (ops->counts & mode);
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
