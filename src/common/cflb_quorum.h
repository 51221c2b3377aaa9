
/*
 * cflb health quorum: the verdict of a majority of vantage points (the
 * product marks an endpoint down when most of them see it down).  Each
 * node of a fleet votes for each endpoint; this node's own verdict is
 * one vote, the peers' live votes (bitmaps by node index) the others.
 * The node names behind the indices are kept in a small fixed table, so
 * that it can live in shared memory.
 */

#ifndef _CFLB_QUORUM_H_INCLUDED_
#define _CFLB_QUORUM_H_INCLUDED_


#include "cflb_core.h"


#define CFLB_NODES          64      /* peers a zone can count */
#define CFLB_NODE_NAME      63      /* the longest node name */


typedef enum {
    CFLB_VOTE_NONE = 0,             /* no verdict (yet) */
    CFLB_VOTE_DOWN,
    CFLB_VOTE_UP
} cflb_vote_e;


/* the peers' votes on one endpoint: bit i is node i of the table */
typedef struct {
    uint64_t          up;
    uint64_t          down;
} cflb_votes_t;


typedef struct {
    uint8_t           len;
    unsigned char     name[CFLB_NODE_NAME];
} cflb_node_name_t;

/* node names by index; "used" has a bit per index taken */
typedef struct {
    uint64_t          used;
    cflb_node_name_t  node[CFLB_NODES];
} cflb_nodes_t;


/* node i's vote set to vote (CFLB_VOTE_NONE removes it), and read */
void cflb_votes_set(cflb_votes_t *v, unsigned node, cflb_vote_e vote);
cflb_vote_e cflb_votes_get(const cflb_votes_t *v, unsigned node);

/*
 * cflb_quorum() is the verdict of the majority of the votes: the local
 * one (CFLB_VOTE_NONE if this node has none yet) and the peers' in v.
 * A tie, with no peer voting included, keeps the local verdict.  *up and
 * *down (may be NULL) receive the counts, the local vote included.
 */
cflb_vote_e cflb_quorum(cflb_vote_e local, const cflb_votes_t *v,
    unsigned *up, unsigned *down);

/* the number of bits set */
unsigned cflb_popcount64(uint64_t x);

/*
 * cflb_nodes_find() is the index of the node named name, or -1.
 * cflb_nodes_add() finds it or gives it an index: a free one, or one
 * whose bit is clear in in_use (a node that no longer votes anywhere);
 * -1 when the table is full or the name longer than CFLB_NODE_NAME.
 */
int cflb_nodes_find(const cflb_nodes_t *t, const unsigned char *name,
    size_t len);
int cflb_nodes_add(cflb_nodes_t *t, const unsigned char *name, size_t len,
    uint64_t in_use);


#endif /* _CFLB_QUORUM_H_INCLUDED_ */
