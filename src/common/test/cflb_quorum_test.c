
/*
 * cflb_quorum.c: majority counting (every combination of up to five
 * voters against a plain count), ties keeping the local verdict, the
 * node table (names, full table, reuse of nodes that vote nowhere).
 */


#include "cflb_test.h"
#include "cflb_quorum.h"


static void
votes(cflb_test_t *t)
{
    unsigned      up, down, i;
    cflb_votes_t  v;

    memset(&v, 0, sizeof(cflb_votes_t));

    /* no peer: the local verdict stands, whatever it is */
    cflb_check(t, cflb_quorum(CFLB_VOTE_UP, &v, &up, &down) == CFLB_VOTE_UP
                  && up == 1 && down == 0);
    cflb_check(t, cflb_quorum(CFLB_VOTE_DOWN, &v, NULL, NULL)
                  == CFLB_VOTE_DOWN);
    cflb_check(t, cflb_quorum(CFLB_VOTE_NONE, &v, &up, &down)
                  == CFLB_VOTE_NONE && up == 0 && down == 0);

    /* three nodes: this one down, two up: up; two down: down */
    cflb_votes_set(&v, 3, CFLB_VOTE_UP);
    cflb_votes_set(&v, 9, CFLB_VOTE_UP);
    cflb_check(t, cflb_quorum(CFLB_VOTE_DOWN, &v, &up, &down) == CFLB_VOTE_UP
                  && up == 2 && down == 1);

    cflb_votes_set(&v, 9, CFLB_VOTE_DOWN);
    cflb_check(t, cflb_votes_get(&v, 9) == CFLB_VOTE_DOWN
                  && cflb_votes_get(&v, 3) == CFLB_VOTE_UP
                  && cflb_votes_get(&v, 4) == CFLB_VOTE_NONE);
    cflb_check(t, cflb_quorum(CFLB_VOTE_DOWN, &v, &up, &down)
                  == CFLB_VOTE_DOWN && up == 1 && down == 2);
    cflb_check(t, cflb_quorum(CFLB_VOTE_UP, &v, &up, &down) == CFLB_VOTE_UP
                  && up == 2 && down == 1);

    /* a tie keeps the local verdict; a node without one lets peers decide */
    cflb_votes_set(&v, 3, CFLB_VOTE_NONE);
    cflb_check(t, cflb_quorum(CFLB_VOTE_UP, &v, NULL, NULL) == CFLB_VOTE_UP);
    cflb_check(t, cflb_quorum(CFLB_VOTE_NONE, &v, NULL, NULL)
                  == CFLB_VOTE_DOWN);

    /* out of range: ignored */
    cflb_votes_set(&v, CFLB_NODES, CFLB_VOTE_UP);
    cflb_check(t, cflb_votes_get(&v, CFLB_NODES) == CFLB_VOTE_NONE
                  && cflb_popcount64(v.up) == 0);

    /* every combination of a local vote and four peers against a count */
    for (i = 0; i < 3 * 81; i++) {
        unsigned     k, x, nu, nd;
        cflb_vote_e  local, want;

        memset(&v, 0, sizeof(cflb_votes_t));
        local = (cflb_vote_e) (i % 3);
        nu = (local == CFLB_VOTE_UP);
        nd = (local == CFLB_VOTE_DOWN);
        x = i / 3;

        for (k = 0; k < 4; k++, x /= 3) {
            cflb_votes_set(&v, 10 * k + 5, (cflb_vote_e) (x % 3));
            nu += (x % 3 == CFLB_VOTE_UP);
            nd += (x % 3 == CFLB_VOTE_DOWN);
        }

        want = nu > nd ? CFLB_VOTE_UP : nd > nu ? CFLB_VOTE_DOWN : local;

        cflb_check_msg(t, cflb_quorum(local, &v, &up, &down) == want
                          && up == nu && down == nd, "combination %u", i);
    }

    cflb_check(t, cflb_popcount64(~(uint64_t) 0) == 64
                  && cflb_popcount64(0x8000000000000001ULL) == 2);
}


static void
nodes(cflb_test_t *t)
{
    int            i, a, b;
    char           name[16];
    cflb_nodes_t   tb;
    unsigned char  long_name[CFLB_NODE_NAME + 1];

    memset(&tb, 0, sizeof(cflb_nodes_t));

    cflb_check(t, cflb_nodes_find(&tb, (unsigned char *) "a", 1) == -1);

    a = cflb_nodes_add(&tb, (unsigned char *) "fra-1", 5, 0);
    b = cflb_nodes_add(&tb, (unsigned char *) "fra-2", 5, 0);
    cflb_check(t, a == 0 && b == 1);
    cflb_check(t, cflb_nodes_add(&tb, (unsigned char *) "fra-1", 5, 0) == a);
    cflb_check(t, cflb_nodes_find(&tb, (unsigned char *) "fra-2", 5) == b);
    cflb_check(t, cflb_nodes_find(&tb, (unsigned char *) "fra-", 4) == -1);

    memset(long_name, 'x', sizeof(long_name));
    cflb_check(t, cflb_nodes_add(&tb, long_name, CFLB_NODE_NAME, 0) == 2);
    cflb_check(t, cflb_nodes_add(&tb, long_name, CFLB_NODE_NAME + 1, 0)
                  == -1);
    cflb_check(t, cflb_nodes_add(&tb, long_name, 0, 0) == -1);

    /* fill the table: with every node voting, no room is left */
    for (i = 3; i < CFLB_NODES; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        cflb_check(t, cflb_nodes_add(&tb, (unsigned char *) name,
                                     strlen(name), 0) == i);
    }

    cflb_check(t, cflb_nodes_add(&tb, (unsigned char *) "late", 4,
                                 ~(uint64_t) 0) == -1);

    /* a node that votes nowhere gives its index up */
    i = cflb_nodes_add(&tb, (unsigned char *) "late", 4,
                       ~(uint64_t) 0 & ~((uint64_t) 1 << 17));
    cflb_check(t, i == 17
                  && cflb_nodes_find(&tb, (unsigned char *) "n17", 3) == -1
                  && cflb_nodes_find(&tb, (unsigned char *) "late", 4) == 17);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    votes(&t);
    nodes(&t);

    return cflb_test_done(&t, "cflb_quorum_test");
}
