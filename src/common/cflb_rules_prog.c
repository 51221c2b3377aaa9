
/*
 * cflb rules: the compiled tree as a program of tests, so that a request
 * runs a loop rather than a recursive walk with a call per node.  Each
 * comparison outside any() and all() becomes one test; and, or and not
 * become the jumps between the tests, short-circuiting as the walk does,
 * so that the same fields are fetched in the same order.  A test whose
 * value is a field (or a field or a map key with [N], or lower() or
 * upper() of one) reads it from the request cache itself; starts_with()
 * and ends_with() of one against a literal, and eq, ne and contains after
 * lower() or upper(), compare bytes without building the function's
 * result.  The rest (xor, any(), all(), other calls) are tests that walk
 * their part of the tree.
 */


#include <string.h>

#include "cflb_rules_int.h"


typedef struct {
    cflb_rules_parser_t    *p;
    cflb_rules_test_t      *prog;
    uint32_t                next;       /* tests are filled from the end */
} cflb_rules_pb_t;


static uint32_t cflb_rules_prog_count(const cflb_rules_node_t *n);
static int cflb_rules_prog_node(cflb_rules_pb_t *b,
    const cflb_rules_node_t *n, uint32_t t, uint32_t f, uint32_t *pc);
static int cflb_rules_prog_list(cflb_rules_pb_t *b,
    const cflb_rules_node_t *n, uint32_t t, uint32_t f, uint32_t *pc);
static int cflb_rules_prog_leaf(cflb_rules_pb_t *b,
    const cflb_rules_node_t *n, cflb_rules_test_t *t);
static int cflb_rules_prog_cmp(cflb_rules_pb_t *b,
    const cflb_rules_node_t *n, cflb_rules_test_t *t);
static int cflb_rules_prog_src(cflb_rules_test_t *t,
    const cflb_rules_node_t *v, int *fold);
static int cflb_rules_prog_lit(cflb_rules_pb_t *b, cflb_rules_test_t *t,
    const unsigned char *s, size_t len, int fold);


int
cflb_rules_prog(cflb_rules_parser_t *p)
{
    uint32_t            n;
    cflb_rules_pb_t     b;
    cflb_rules_expr_t  *e;

    e = p->expr;
    n = cflb_rules_prog_count(e->root);

    b.p = p;
    b.prog = NULL;
    b.next = n;

    if (n != 0) {
        b.prog = cflb_rules_alloc(&e->arena, n * sizeof(cflb_rules_test_t));
        if (b.prog == NULL) {
            return cflb_rules_nomem(p);
        }
    }

    e->prog = b.prog;

    return cflb_rules_prog_node(&b, e->root, CFLB_RULES_PC_TRUE,
                                CFLB_RULES_PC_FALSE, &e->entry);
}


/*
 * The tests a condition needs: one per leaf, none for and, or, not,
 * true and false.  The recursion follows the nesting, which the parser
 * bounds; the operands of one and/or are a list, walked in a loop.
 */

static uint32_t
cflb_rules_prog_count(const cflb_rules_node_t *n)
{
    uint32_t                  k;
    const cflb_rules_node_t  *c;

    switch (n->op) {

    case CFLB_RN_TRUE:
    case CFLB_RN_FALSE:
        return 0;

    case CFLB_RN_NOT:
        return cflb_rules_prog_count(n->a);

    case CFLB_RN_AND:
    case CFLB_RN_OR:
        k = 0;

        for (c = n->a; c != NULL; c = c->next) {
            k += cflb_rules_prog_count(c);
        }

        return k;

    default:
        return 1;
    }
}


/* the code of n, going on at t when it holds and at f when not: *pc */

static int
cflb_rules_prog_node(cflb_rules_pb_t *b, const cflb_rules_node_t *n,
    uint32_t t, uint32_t f, uint32_t *pc)
{
    cflb_rules_test_t  *test;

    switch (n->op) {

    case CFLB_RN_TRUE:
        *pc = t;
        return CFLB_OK;

    case CFLB_RN_FALSE:
        *pc = f;
        return CFLB_OK;

    case CFLB_RN_NOT:
        return cflb_rules_prog_node(b, n->a, f, t, pc);

    case CFLB_RN_AND:
    case CFLB_RN_OR:
        return cflb_rules_prog_list(b, n, t, f, pc);

    default:
        test = &b->prog[--b->next];
        test->t = t;
        test->f = f;
        *pc = b->next;

        return cflb_rules_prog_leaf(b, n, test);
    }
}


/*
 * a and b: a goes on at b when true, to f when false; a or b: a goes to
 * t when true, on at b when false.  The last operand is compiled first,
 * since the one before jumps to it.
 */

static int
cflb_rules_prog_list(cflb_rules_pb_t *b, const cflb_rules_node_t *n,
    uint32_t t, uint32_t f, uint32_t *pc)
{
    size_t                     k, i;
    uint32_t                   next;
    const cflb_rules_node_t   *c, **ops;

    k = 0;

    for (c = n->a; c != NULL; c = c->next) {
        k++;
    }

    ops = cflb_rules_alloc(&b->p->expr->arena, k * sizeof(void *));
    if (ops == NULL) {
        return cflb_rules_nomem(b->p);
    }

    for (c = n->a, i = 0; c != NULL; c = c->next, i++) {
        ops[i] = c;
    }

    next = (n->op == CFLB_RN_AND) ? t : f;

    for (i = k; i-- > 0; /* void */) {
        if (cflb_rules_prog_node(b, ops[i], n->op == CFLB_RN_AND ? next : t,
                                 n->op == CFLB_RN_AND ? f : next, &next)
            != CFLB_OK)
        {
            return CFLB_ERROR;
        }
    }

    *pc = next;

    return CFLB_OK;
}


/* a comparison, a boolean; or a quantifier or xor, COND (zeroed) */

static int
cflb_rules_prog_leaf(cflb_rules_pb_t *b, const cflb_rules_node_t *n,
    cflb_rules_test_t *t)
{
    int                       fold;
    const cflb_rules_node_t  *call, *lit;

    t->n = n;
    t->slot = (uint32_t) -1;

    if (n->op == CFLB_RN_CMP) {
        return cflb_rules_prog_cmp(b, n, t);
    }

    if (n->op != CFLB_RN_ISTRUE) {
        return CFLB_OK;
    }

    call = n->a;

    if (call->op == CFLB_RV_CALL
        && (call->sub == CFLB_RF_STARTS_WITH
            || call->sub == CFLB_RF_ENDS_WITH)
        && call->a->next->op == CFLB_RV_LIT
        && cflb_rules_prog_src(t, call->a, &fold) == CFLB_OK)
    {
        lit = call->a->next;
        t->op = (call->sub == CFLB_RF_STARTS_WITH) ? CFLB_RO_PREFIX
                                                    : CFLB_RO_SUFFIX;

        return cflb_rules_prog_lit(b, t, lit->u.s.data, lit->u.s.len, fold);
    }

    if (cflb_rules_prog_src(t, call, NULL) == CFLB_OK) {
        t->op = CFLB_RO_TRUTH;
    }

    return CFLB_OK;
}


/*
 * A comparison reads src, or has the walk compute n->a; after lower() or
 * upper(), eq, ne and contains compare case-insensitively, and the other
 * operators leave the call to the walk.
 */

static int
cflb_rules_prog_cmp(cflb_rules_pb_t *b, const cflb_rules_node_t *n,
    cflb_rules_test_t *t)
{
    int                   fold, *pfold;
    cflb_rules_search_t  *s;

    t->op = CFLB_RO_CMP;

    pfold = NULL;

    if (n->type == CFLB_RT_BYTES
        && (n->sub == CFLB_RC_EQ || n->sub == CFLB_RC_NE
            || n->sub == CFLB_RC_CONTAINS))
    {
        pfold = &fold;
    }

    if (cflb_rules_prog_src(t, n->a, pfold) != CFLB_OK) {
        return CFLB_OK;
    }

    if (pfold == NULL || fold < 0) {
        /* the common operators, without going through the node */

        if (n->type == CFLB_RT_BYTES && n->sub == CFLB_RC_CONTAINS) {
            t->op = CFLB_RO_SEARCH;
            t->u.search = n->u.search;

        } else if (n->type == CFLB_RT_BYTES && n->sub == CFLB_RC_MATCHES) {
            t->op = CFLB_RO_REGEX;
            t->u.re = n->u.re;

        } else if (n->type == CFLB_RT_IP && n->sub == CFLB_RC_IN) {
            t->op = CFLB_RO_IP_IN;
            t->u.set = n->u.set;

        } else if (n->type == CFLB_RT_BYTES
                   && (n->sub == CFLB_RC_EQ || n->sub == CFLB_RC_NE))
        {
            t->op = (n->sub == CFLB_RC_EQ) ? CFLB_RO_EQ : CFLB_RO_NE;
            t->u.lit = n->u.s;
        }

        return CFLB_OK;
    }

    if (n->sub != CFLB_RC_CONTAINS) {
        t->op = (n->sub == CFLB_RC_EQ) ? CFLB_RO_EQ : CFLB_RO_NE;

        return cflb_rules_prog_lit(b, t, n->u.s.data, n->u.s.len, fold);
    }

    /* the pattern, lowered, for a search made case-blind */

    s = cflb_rules_alloc(&b->p->expr->arena, sizeof(cflb_rules_search_t));

    if (s == NULL
        || cflb_rules_prog_lit(b, t, n->u.search->pat, n->u.search->len,
                               fold)
           != CFLB_OK
        || cflb_rules_search_init(s, t->u.lit.data, t->u.lit.len, 1,
                                  &b->p->expr->arena)
           != CFLB_OK)
    {
        return cflb_rules_nomem(b->p);
    }

    t->op = CFLB_RO_SEARCH;
    t->u.search = s;

    return CFLB_OK;
}


/*
 * Where a test reads its value: a field of one value, or a field or a
 * map key with [N], under lower() or upper() when fold may return one
 * (CFLB_RF_LOWER, CFLB_RF_UPPER, or -1).  CFLB_DECLINED, with t as it
 * was, for anything else.
 */

static int
cflb_rules_prog_src(cflb_rules_test_t *t, const cflb_rules_node_t *v,
    int *fold)
{
    int  fn;

    fn = -1;

    if (fold != NULL && v->op == CFLB_RV_CALL
        && (v->sub == CFLB_RF_LOWER || v->sub == CFLB_RF_UPPER))
    {
        fn = v->sub;
        v = v->a;
    }

    if (v->op == CFLB_RV_INDEX
        && (v->a->op == CFLB_RV_FIELD || v->a->op == CFLB_RV_KEY))
    {
        t->indexed = 1;
        t->index = (size_t) v->u.i;
        t->src = v->a;

    } else if (v->op == CFLB_RV_FIELD && v->type <= CFLB_RT_IP) {
        t->src = v;
        t->slot = v->slot;

    } else {
        return CFLB_DECLINED;
    }

    if (fold != NULL) {
        *fold = fn;
    }

    return CFLB_OK;
}


/*
 * The literal of a test of bytes.  After lower() or upper() it is
 * kept lowered, for a case-blind comparison, which is exact: lower(x)
 * equals a literal with no upper-case letter where x equals it in any
 * case, and likewise for upper() and lower-case letters.  A literal with
 * such a letter is never part of the result ("never").
 */

static int
cflb_rules_prog_lit(cflb_rules_pb_t *b, cflb_rules_test_t *t,
    const unsigned char *s, size_t len, int fold)
{
    size_t          i;
    unsigned char  *low, c;

    t->u.lit.data = (unsigned char *) s;
    t->u.lit.len = len;

    if (fold < 0) {
        return CFLB_OK;
    }

    low = cflb_rules_alloc(&b->p->expr->arena, len ? len : 1);
    if (low == NULL) {
        return cflb_rules_nomem(b->p);
    }

    for (i = 0; i < len; i++) {
        c = (fold == CFLB_RF_LOWER) ? cflb_rules_lower(s[i])
                                    : cflb_rules_upper(s[i]);
        if (c != s[i]) {
            t->never = 1;
        }

        low[i] = cflb_rules_lower(s[i]);
    }

    t->u.lit.data = low;
    t->ci = 1;

    return CFLB_OK;
}
