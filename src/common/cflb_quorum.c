
/*
 * cflb health quorum: majority counting over the local verdict and the
 * peers' vote bitmaps, and the table of node names.
 */


#include <string.h>

#include "cflb_quorum.h"


void
cflb_votes_set(cflb_votes_t *v, unsigned node, cflb_vote_e vote)
{
    uint64_t  bit;

    if (node >= CFLB_NODES) {
        return;
    }

    bit = (uint64_t) 1 << node;

    v->up &= ~bit;
    v->down &= ~bit;

    if (vote == CFLB_VOTE_UP) {
        v->up |= bit;

    } else if (vote == CFLB_VOTE_DOWN) {
        v->down |= bit;
    }
}


cflb_vote_e
cflb_votes_get(const cflb_votes_t *v, unsigned node)
{
    uint64_t  bit;

    if (node >= CFLB_NODES) {
        return CFLB_VOTE_NONE;
    }

    bit = (uint64_t) 1 << node;

    if (v->up & bit) {
        return CFLB_VOTE_UP;
    }

    return (v->down & bit) ? CFLB_VOTE_DOWN : CFLB_VOTE_NONE;
}


cflb_vote_e
cflb_quorum(cflb_vote_e local, const cflb_votes_t *v, unsigned *up,
    unsigned *down)
{
    unsigned  nup, ndown;

    /* a node both ways (never made by cflb_votes_set) counts for none */
    nup = cflb_popcount64(v->up & ~v->down);
    ndown = cflb_popcount64(v->down & ~v->up);

    if (local == CFLB_VOTE_UP) {
        nup++;

    } else if (local == CFLB_VOTE_DOWN) {
        ndown++;
    }

    if (up) {
        *up = nup;
    }

    if (down) {
        *down = ndown;
    }

    if (nup > ndown) {
        return CFLB_VOTE_UP;
    }

    if (ndown > nup) {
        return CFLB_VOTE_DOWN;
    }

    return local;
}


unsigned
cflb_popcount64(uint64_t x)
{
    unsigned  n;

    /* Kernighan: one round per bit set, at most 64 */
    for (n = 0; x; n++) {
        x &= x - 1;
    }

    return n;
}


int
cflb_nodes_find(const cflb_nodes_t *t, const unsigned char *name,
    size_t len)
{
    unsigned  i;

    for (i = 0; i < CFLB_NODES; i++) {
        if ((t->used & ((uint64_t) 1 << i))
            && t->node[i].len == len
            && memcmp(t->node[i].name, name, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


int
cflb_nodes_add(cflb_nodes_t *t, const unsigned char *name, size_t len,
    uint64_t in_use)
{
    int       i, pass;
    uint64_t  bit;

    i = cflb_nodes_find(t, name, len);

    if (i >= 0) {
        return i;
    }

    if (len == 0 || len > CFLB_NODE_NAME) {
        return -1;
    }

    /* a free index first; then one whose node votes nowhere any more */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < CFLB_NODES; i++) {
            bit = (uint64_t) 1 << i;

            if (pass == 0 ? !(t->used & bit) : !(in_use & bit)) {
                t->used |= bit;
                t->node[i].len = (uint8_t) len;
                memcpy(t->node[i].name, name, len);
                return i;
            }
        }
    }

    return -1;
}
