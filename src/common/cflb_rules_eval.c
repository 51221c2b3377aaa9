
/*
 * cflb rules: evaluation.  The program (cflb_rules_prog.c) runs its
 * tests in a loop; a test that is more than a value and a comparison
 * walks its part of the compiled tree, with no type checks left to do.
 * Values come from the request cache, or from the caller's callbacks
 * the first time; a missing value (an absent header, an index past the
 * end) makes every comparison on it false, as the product documents.
 * Inside any() and all(), "elem" is the index of the element the
 * condition is evaluated for; x[*] reads x[elem], and a call mapped over
 * x[*] is computed for that one element only, so that no array of
 * results is ever built.
 */


#include <string.h>

#include "cflb_rules_int.h"


#define CFLB_RULES_CONCAT_ARGS  8


typedef struct {
    const cflb_rules_expr_t    *e;
    cflb_rules_input_t         *in;
} cflb_rules_run_t;


static int cflb_rules_test(cflb_rules_run_t *r,
    const cflb_rules_test_t *t);
static int cflb_rules_read(cflb_rules_run_t *r, const cflb_rules_test_t *t,
    cflb_rules_value_t *v);
static int cflb_rules_bytes(const cflb_rules_test_t *t, const cflb_str_t *s);
static int cflb_rules_cond_eval(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, size_t elem);
static int cflb_rules_quant_eval(cflb_rules_run_t *r,
    const cflb_rules_node_t *n);
static int cflb_rules_cmp_eval(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, size_t elem);
static int cflb_rules_compare(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, const cflb_rules_value_t *v);
static int cflb_rules_cmp_bytes(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, const cflb_str_t *s);
static int cflb_rules_cmp_ip(const cflb_rules_node_t *n,
    const cflb_rules_ip_t *ip);
static int cflb_rules_order(unsigned op, int c);
static int cflb_rules_value_eval(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, size_t elem, cflb_rules_value_t *v);
static int cflb_rules_fetch(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    cflb_rules_value_t *v);
static int cflb_rules_get(cflb_rules_input_t *in, const cflb_rules_node_t *n,
    cflb_rules_value_t *v);
static int cflb_rules_lookup(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    cflb_rules_value_t *v);
static int cflb_rules_elt(unsigned type, const cflb_rules_value_t *arr,
    size_t i, cflb_rules_value_t *v);
static size_t cflb_rules_count(unsigned type, const cflb_rules_value_t *arr);
static int cflb_rules_call_eval(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, size_t elem, cflb_rules_value_t *v);
static int cflb_rules_len_eval(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, size_t elem, cflb_rules_value_t *v);
static int cflb_rules_case(cflb_rules_run_t *r, cflb_str_t *s, int upper);
static int cflb_rules_affix(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, size_t elem, cflb_rules_value_t *v);
static int cflb_rules_concat(cflb_rules_run_t *r,
    const cflb_rules_node_t *n, size_t elem, cflb_rules_value_t *v);
static int cflb_rules_decode(cflb_rules_run_t *r, unsigned flags,
    cflb_str_t *s);
static void *cflb_rules_palloc(cflb_rules_run_t *r, size_t size);


void
cflb_rules_input_init(cflb_rules_input_t *in, cflb_rules_slot_t *slots,
    size_t nslots, cflb_rules_kslot_t *keys, size_t nkeys)
{
    size_t  i;

    in->get = NULL;
    in->lookup = NULL;
    in->ctx = NULL;
    in->pool = NULL;
    in->slots = slots;
    in->nslots = nslots;
    in->keys = keys;
    in->nkeys = nkeys;
    in->keys_used = 0;

    for (i = 0; i < nslots; i++) {
        slots[i].state = CFLB_RULES_UNSET;
    }
}


int
cflb_rules_eval(const cflb_rules_expr_t *e, cflb_rules_input_t *in)
{
    size_t  i;

    i = 0;

    return cflb_rules_next(&e, 1, &i, in);
}


/*
 * The rules of a load balancer in one loop, which pays the call and the
 * set-up once per request rather than once per rule.
 */

int
cflb_rules_next(const cflb_rules_expr_t *const *set, size_t n, size_t *i,
    cflb_rules_input_t *in)
{
    int                       rc;
    size_t                    k;
    uint32_t                  pc;
    cflb_rules_run_t          r;
    const cflb_rules_test_t  *t;

    r.in = in;

    for (k = *i; k < n; k++) {
        r.e = set[k];

        if (r.e == NULL) {
            break;
        }

        pc = r.e->entry;

        while (pc < CFLB_RULES_PC_FALSE) {
            t = &r.e->prog[pc];

            rc = cflb_rules_test(&r, t);
            if (rc < 0) {
                *i = k;
                return CFLB_ERROR;
            }

            pc = rc ? t->t : t->f;
        }

        if (pc == CFLB_RULES_PC_TRUE) {
            break;
        }
    }

    *i = k;

    return k < n;
}


int
cflb_rules_eval_tree(const cflb_rules_expr_t *e, cflb_rules_input_t *in)
{
    cflb_rules_run_t  r;

    r.e = e;
    r.in = in;

    return cflb_rules_cond_eval(&r, e->root, 0);
}


/*
 * 1, 0, or CFLB_ERROR.  A field is fetched into its cache slot and
 * compared where it lies; anything else is read into local first.
 */

static int
cflb_rules_test(cflb_rules_run_t *r, const cflb_rules_test_t *t)
{
    int                        rc;
    cflb_rules_slot_t         *s;
    cflb_rules_value_t         local;
    cflb_rules_input_t        *in;
    const cflb_rules_value_t  *v;

    in = r->in;

    if (t->slot < in->nslots) {
        s = &in->slots[t->slot];

        if (s->state == CFLB_RULES_UNSET) {
            rc = cflb_rules_get(in, t->src, &s->v);

            if (rc == CFLB_ERROR) {
                return CFLB_ERROR;
            }

            s->state = (rc == CFLB_OK) ? CFLB_RULES_PRESENT
                                       : CFLB_RULES_MISSING;
        }

        if (s->state == CFLB_RULES_MISSING) {
            return 0;
        }

        v = &s->v;

    } else {
        if (t->op == CFLB_RO_COND) {
            return cflb_rules_cond_eval(r, t->n, 0);
        }

        rc = t->src ? cflb_rules_read(r, t, &local)
                    : cflb_rules_value_eval(r, t->n->a, 0, &local);

        if (rc != CFLB_OK) {
            return rc == CFLB_DECLINED ? 0 : CFLB_ERROR;
        }

        v = &local;
    }

    switch (t->op) {

    case CFLB_RO_SEARCH:
        return !t->never
               && cflb_rules_search(t->u.search, v->u.s.data, v->u.s.len)
                  != CFLB_RULES_NOTFOUND;

    case CFLB_RO_REGEX:
        return r->e->regex_match(r->e->regex_data, t->u.re, v->u.s.data,
                                 v->u.s.len)
               > 0;

    case CFLB_RO_IP_IN:
        return cflb_rules_set_has_ip(t->u.set, &v->u.ip);

    case CFLB_RO_TRUTH:
        return v->u.i != 0;

    case CFLB_RO_CMP:
        return cflb_rules_compare(r, t->n, v);

    default:
        return cflb_rules_bytes(t, &v->u.s);
    }
}


/* a field, or element [index] of a field or of a map's key, cached */

static int
cflb_rules_read(cflb_rules_run_t *r, const cflb_rules_test_t *t,
    cflb_rules_value_t *v)
{
    int                 rc;
    cflb_rules_value_t  arr;

    if (!t->indexed) {
        return cflb_rules_fetch(r, t->src, v);
    }

    rc = (t->src->op == CFLB_RV_FIELD) ? cflb_rules_fetch(r, t->src, &arr)
                                       : cflb_rules_lookup(r, t->src, &arr);
    if (rc != CFLB_OK) {
        return rc;
    }

    return cflb_rules_elt(t->src->type, &arr, t->index, v);
}


/* eq, ne, starts_with(), ends_with() against the literal; see "never" */

static int
cflb_rules_bytes(const cflb_rules_test_t *t, const cflb_str_t *s)
{
    int                   match;
    size_t                i, len;
    const unsigned char  *p, *lit;

    len = t->u.lit.len;
    lit = t->u.lit.data;

    if (t->op == CFLB_RO_EQ || t->op == CFLB_RO_NE) {
        match = (s->len == len);

    } else {
        match = (s->len >= len);
    }

    if (match && len != 0) {
        p = (t->op == CFLB_RO_SUFFIX) ? s->data + s->len - len : s->data;

        if (!t->ci) {
            match = (memcmp(p, lit, len) == 0);

        } else {
            for (i = 0; i < len && cflb_rules_lower(p[i]) == lit[i]; i++) {
                /* void */
            }

            match = (i == len);
        }
    }

    match = match && !t->never;

    return (t->op == CFLB_RO_NE) ? !match : match;
}


/* 1, 0, or CFLB_ERROR */

static int
cflb_rules_cond_eval(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    size_t elem)
{
    int                       rc, acc;
    cflb_rules_value_t        v;
    const cflb_rules_node_t  *c;

    switch (n->op) {

    case CFLB_RN_TRUE:
        return 1;

    case CFLB_RN_FALSE:
        return 0;

    case CFLB_RN_AND:
        for (c = n->a; c != NULL; c = c->next) {
            rc = cflb_rules_cond_eval(r, c, elem);
            if (rc != 1) {
                return rc;
            }
        }

        return 1;

    case CFLB_RN_OR:
        for (c = n->a; c != NULL; c = c->next) {
            rc = cflb_rules_cond_eval(r, c, elem);
            if (rc != 0) {
                return rc;
            }
        }

        return 0;

    case CFLB_RN_XOR:
        acc = 0;

        for (c = n->a; c != NULL; c = c->next) {
            rc = cflb_rules_cond_eval(r, c, elem);
            if (rc < 0) {
                return rc;
            }

            acc ^= rc;
        }

        return acc;

    case CFLB_RN_NOT:
        rc = cflb_rules_cond_eval(r, n->a, elem);
        return rc < 0 ? rc : !rc;

    case CFLB_RN_ANY:
    case CFLB_RN_ALL:
        return cflb_rules_quant_eval(r, n);

    case CFLB_RN_ISTRUE:
        rc = cflb_rules_value_eval(r, n->a, elem, &v);

        if (rc == CFLB_OK) {
            return v.u.i != 0;
        }

        return rc == CFLB_DECLINED ? 0 : CFLB_ERROR;

    default: /* CFLB_RN_CMP */
        return cflb_rules_cmp_eval(r, n, elem);
    }
}


/*
 * The array under the [*]: a missing one has no elements, so that
 * any() is false and all() true over it, as in wirefilter.
 */

static int
cflb_rules_quant_eval(cflb_rules_run_t *r, const cflb_rules_node_t *n)
{
    int                 rc;
    size_t              i, count;
    cflb_rules_value_t  v;

    rc = cflb_rules_value_eval(r, n->b, 0, &v);

    if (rc == CFLB_ERROR) {
        return CFLB_ERROR;
    }

    count = rc == CFLB_OK ? cflb_rules_count(n->b->type, &v) : 0;

    for (i = 0; i < count; i++) {
        rc = cflb_rules_cond_eval(r, n->a, i);

        if (rc < 0) {
            return rc;
        }

        if (rc == (n->op == CFLB_RN_ANY)) {
            return rc;
        }
    }

    return n->op == CFLB_RN_ALL;
}


static int
cflb_rules_cmp_eval(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    size_t elem)
{
    int                 rc;
    cflb_rules_value_t  v;

    rc = cflb_rules_value_eval(r, n->a, elem, &v);

    if (rc != CFLB_OK) {
        return rc == CFLB_DECLINED ? 0 : CFLB_ERROR;
    }

    return cflb_rules_compare(r, n, &v);
}


/* the comparison of CMP node n, v its left-hand side */

static int
cflb_rules_compare(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    const cflb_rules_value_t *v)
{
    switch (n->type) {

    case CFLB_RT_BYTES:
        return cflb_rules_cmp_bytes(r, n, &v->u.s);

    case CFLB_RT_INT:
        if (n->sub == CFLB_RC_IN) {
            return cflb_rules_set_has_int(n->u.set, v->u.i);
        }

        if (n->sub == CFLB_RC_BAND) {
            return (v->u.i & n->u.i) != 0;
        }

        return cflb_rules_order(n->sub,
                                (v->u.i > n->u.i) - (v->u.i < n->u.i));

    case CFLB_RT_IP:
        return cflb_rules_cmp_ip(n, &v->u.ip);

    default: /* CFLB_RT_BOOL: "ssl == true" */
        return cflb_rules_order(n->sub, (v->u.i != 0) != (n->u.i != 0));
    }
}


static int
cflb_rules_cmp_bytes(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    const cflb_str_t *s)
{
    int     c;
    size_t  len;

    switch (n->sub) {

    case CFLB_RC_CONTAINS:
        return cflb_rules_search(n->u.search, s->data, s->len)
               != CFLB_RULES_NOTFOUND;

    case CFLB_RC_MATCHES:
        return r->e->regex_match(r->e->regex_data, n->u.re, s->data, s->len)
               > 0;

    case CFLB_RC_WILDCARD:
    case CFLB_RC_STRICT_WILDCARD:
        return cflb_rules_wildcard_match(n->u.wc, s->data, s->len);

    case CFLB_RC_IN:
        return cflb_rules_set_has_bytes(n->u.set, s->data, s->len);

    case CFLB_RC_EQ:
        return s->len == n->u.s.len
               && memcmp(s->data, n->u.s.data, s->len) == 0;

    case CFLB_RC_NE:
        return s->len != n->u.s.len
               || memcmp(s->data, n->u.s.data, s->len) != 0;

    default:
        len = s->len < n->u.s.len ? s->len : n->u.s.len;
        c = memcmp(s->data, n->u.s.data, len);

        if (c == 0) {
            c = (s->len > n->u.s.len) - (s->len < n->u.s.len);
        }

        return cflb_rules_order(n->sub, c);
    }
}


/* addresses of two families are neither equal nor ordered: only != */

static int
cflb_rules_cmp_ip(const cflb_rules_node_t *n, const cflb_rules_ip_t *ip)
{
    if (n->sub == CFLB_RC_IN) {
        return cflb_rules_set_has_ip(n->u.set, ip);
    }

    if (ip->v6 != n->u.ip.v6) {
        return n->sub == CFLB_RC_NE;
    }

    return cflb_rules_order(n->sub, cflb_rules_ip_cmp(ip, &n->u.ip));
}


static int
cflb_rules_order(unsigned op, int c)
{
    switch (op) {

    case CFLB_RC_EQ:
        return c == 0;

    case CFLB_RC_NE:
        return c != 0;

    case CFLB_RC_LT:
        return c < 0;

    case CFLB_RC_LE:
        return c <= 0;

    case CFLB_RC_GT:
        return c > 0;

    default:
        return c >= 0;
    }
}


/* CFLB_OK, CFLB_DECLINED for a missing value, or CFLB_ERROR */

static int
cflb_rules_value_eval(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    size_t elem, cflb_rules_value_t *v)
{
    int                 rc;
    cflb_rules_value_t  arr;

    switch (n->op) {

    case CFLB_RV_FIELD:
        return cflb_rules_fetch(r, n, v);

    case CFLB_RV_KEY:
        return cflb_rules_lookup(r, n, v);

    case CFLB_RV_LIT:
        if (n->type == CFLB_RT_BYTES) {
            v->u.s = n->u.s;

        } else {
            v->u.i = n->u.i;
        }

        return CFLB_OK;

    case CFLB_RV_INDEX:
        if (n->a->flags & CFLB_RF_MAPCALL) {
            return cflb_rules_call_eval(r, n->a, (size_t) n->u.i, v);
        }

        rc = cflb_rules_value_eval(r, n->a, elem, &arr);
        if (rc != CFLB_OK) {
            return rc;
        }

        return cflb_rules_elt(n->a->type, &arr, (size_t) n->u.i, v);

    case CFLB_RV_EACH:
        if (n->a->flags & CFLB_RF_MAPCALL) {
            return cflb_rules_call_eval(r, n->a, elem, v);
        }

        rc = cflb_rules_value_eval(r, n->a, elem, &arr);
        if (rc != CFLB_OK) {
            return rc;
        }

        return cflb_rules_elt(n->a->type, &arr, elem, v);

    default: /* CFLB_RV_CALL */
        return cflb_rules_call_eval(r, n, elem, v);
    }
}


static int
cflb_rules_fetch(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    cflb_rules_value_t *v)
{
    int                  rc;
    cflb_rules_slot_t   *s;
    cflb_rules_input_t  *in;

    in = r->in;

    if (n->slot >= in->nslots) {
        return cflb_rules_get(in, n, v);
    }

    s = &in->slots[n->slot];

    if (s->state == CFLB_RULES_UNSET) {
        rc = cflb_rules_get(in, n, &s->v);

        if (rc == CFLB_ERROR) {
            return CFLB_ERROR;
        }

        s->state = (rc == CFLB_OK) ? CFLB_RULES_PRESENT : CFLB_RULES_MISSING;
    }

    if (s->state == CFLB_RULES_MISSING) {
        return CFLB_DECLINED;
    }

    *v = s->v;

    return CFLB_OK;
}


/* the callback, its value made ready: CFLB_OK, CFLB_DECLINED, CFLB_ERROR */

static int
cflb_rules_get(cflb_rules_input_t *in, const cflb_rules_node_t *n,
    cflb_rules_value_t *v)
{
    int  rc;

    rc = in->get ? in->get(in->ctx, n->id, v) : CFLB_DECLINED;

    if (rc != CFLB_OK) {
        return (rc == CFLB_DECLINED) ? CFLB_DECLINED : CFLB_ERROR;
    }

    if (n->type == CFLB_RT_IP) {
        if (v->u.ip.v6) {
            cflb_rules_ip_normalize(&v->u.ip);
        }

    } else if (n->type == CFLB_RT_BYTES && v->u.s.data == NULL) {
        /* memcmp() and the regex engine want a pointer */
        v->u.s.data = (unsigned char *) "";
        v->u.s.len = 0;
    }

    return CFLB_OK;
}


/* map lookups are cached by field and key text, across rules */

static int
cflb_rules_lookup(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    cflb_rules_value_t *v)
{
    int                  rc;
    size_t               i;
    cflb_rules_kslot_t  *k;
    cflb_rules_input_t  *in;

    in = r->in;

    for (i = 0; i < in->keys_used; i++) {
        k = &in->keys[i];

        if (k->slot == n->a->slot
            && (k->key == &n->u.s
                || (k->key->len == n->u.s.len
                    && memcmp(k->key->data, n->u.s.data, n->u.s.len) == 0)))
        {
            if (k->state == CFLB_RULES_MISSING) {
                return CFLB_DECLINED;
            }

            *v = k->v;
            return CFLB_OK;
        }
    }

    rc = in->lookup ? in->lookup(in->ctx, n->a->id, n->u.s.data, n->u.s.len,
                                 v)
                    : CFLB_DECLINED;

    if (rc != CFLB_OK && rc != CFLB_DECLINED) {
        return CFLB_ERROR;
    }

    if (in->keys_used < in->nkeys) {
        k = &in->keys[in->keys_used++];

        if (rc == CFLB_OK) {
            k->v = *v;
        }

        k->key = &n->u.s;
        k->slot = n->a->slot;
        k->state = rc == CFLB_OK ? CFLB_RULES_PRESENT : CFLB_RULES_MISSING;
    }

    return rc;
}


static int
cflb_rules_elt(unsigned type, const cflb_rules_value_t *arr, size_t i,
    cflb_rules_value_t *v)
{
    if (i >= cflb_rules_count(type, arr)) {
        return CFLB_DECLINED;
    }

    if (type == CFLB_RT_ARRAY_INT) {
        v->u.i = arr->u.ia.elts[i];
        return CFLB_OK;
    }

    v->u.s = arr->u.a.elts[i];

    if (v->u.s.data == NULL) {
        v->u.s.data = (unsigned char *) "";
        v->u.s.len = 0;
    }

    return CFLB_OK;
}


static size_t
cflb_rules_count(unsigned type, const cflb_rules_value_t *arr)
{
    return type == CFLB_RT_ARRAY_INT ? arr->u.ia.n : arr->u.a.n;
}


/*
 * A missing argument makes the result missing, except in concat(),
 * which skips it (wirefilter's rule).
 */

static int
cflb_rules_call_eval(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    size_t elem, cflb_rules_value_t *v)
{
    int  rc;

    switch (n->sub) {

    case CFLB_RF_LEN:
        return cflb_rules_len_eval(r, n, elem, v);

    case CFLB_RF_STARTS_WITH:
    case CFLB_RF_ENDS_WITH:
        return cflb_rules_affix(r, n, elem, v);

    case CFLB_RF_CONCAT:
        return cflb_rules_concat(r, n, elem, v);

    default:
        break;
    }

    rc = cflb_rules_value_eval(r, n->a, elem, v);
    if (rc != CFLB_OK) {
        return rc;
    }

    if (n->sub == CFLB_RF_URL_DECODE) {
        return cflb_rules_decode(r, n->flags, &v->u.s);
    }

    return cflb_rules_case(r, &v->u.s, n->sub == CFLB_RF_UPPER);
}


/* len() of a mapped call is the length of the array under its [*] */

static int
cflb_rules_len_eval(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    size_t elem, cflb_rules_value_t *v)
{
    int                       rc;
    cflb_rules_value_t        x;
    const cflb_rules_node_t  *a;

    a = n->a;

    while (a->flags & CFLB_RF_MAPCALL) {
        a = a->a->a;
    }

    rc = cflb_rules_value_eval(r, a, elem, &x);
    if (rc != CFLB_OK) {
        return rc;
    }

    v->u.i = (int64_t) (a->type == CFLB_RT_BYTES ? x.u.s.len
                                                 : cflb_rules_count(a->type,
                                                                    &x));

    return CFLB_OK;
}


/* lower() and upper(): ASCII only; a value already right is not copied */

static int
cflb_rules_case(cflb_rules_run_t *r, cflb_str_t *s, int upper)
{
    size_t          i, k;
    unsigned char  *out, c;

    for (i = 0; i < s->len; i++) {
        c = upper ? cflb_rules_upper(s->data[i])
                  : cflb_rules_lower(s->data[i]);

        if (c != s->data[i]) {
            break;
        }
    }

    if (i == s->len) {
        return CFLB_OK;
    }

    out = cflb_rules_palloc(r, s->len);
    if (out == NULL) {
        return CFLB_ERROR;
    }

    memcpy(out, s->data, i);

    for (k = i; k < s->len; k++) {
        out[k] = upper ? cflb_rules_upper(s->data[k])
                       : cflb_rules_lower(s->data[k]);
    }

    s->data = out;

    return CFLB_OK;
}


static int
cflb_rules_affix(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    size_t elem, cflb_rules_value_t *v)
{
    int                 rc;
    cflb_rules_value_t  x, y;

    rc = cflb_rules_value_eval(r, n->a, elem, &x);
    if (rc != CFLB_OK) {
        return rc;
    }

    rc = cflb_rules_value_eval(r, n->a->next, elem, &y);
    if (rc != CFLB_OK) {
        return rc;
    }

    if (y.u.s.len > x.u.s.len) {
        v->u.i = 0;

    } else if (n->sub == CFLB_RF_STARTS_WITH) {
        v->u.i = memcmp(x.u.s.data, y.u.s.data, y.u.s.len) == 0;

    } else {
        v->u.i = memcmp(x.u.s.data + x.u.s.len - y.u.s.len, y.u.s.data,
                        y.u.s.len) == 0;
    }

    return CFLB_OK;
}


/*
 * Each argument is evaluated once (evaluating them again could cost
 * 2^depth for nested calls): their values go to the stack when there
 * are few, else to the pool.  n->slot holds the number of arguments.
 */

static int
cflb_rules_concat(cflb_rules_run_t *r, const cflb_rules_node_t *n,
    size_t elem, cflb_rules_value_t *v)
{
    int                       rc, found;
    size_t                    k, len;
    cflb_str_t               *parts, local[CFLB_RULES_CONCAT_ARGS];
    unsigned char            *out;
    cflb_rules_value_t        x;
    const cflb_rules_node_t  *a;

    parts = local;

    if (n->slot > CFLB_RULES_CONCAT_ARGS) {
        parts = cflb_rules_palloc(r, n->slot * sizeof(cflb_str_t));
        if (parts == NULL) {
            return CFLB_ERROR;
        }
    }

    found = 0;
    len = 0;

    for (a = n->a, k = 0; a != NULL; a = a->next, k++) {
        rc = cflb_rules_value_eval(r, a, elem, &x);

        if (rc == CFLB_ERROR) {
            return rc;
        }

        parts[k].len = 0;

        if (rc == CFLB_OK) {
            parts[k] = x.u.s;
            found = 1;
            len += x.u.s.len;
        }
    }

    if (!found) {
        return CFLB_DECLINED;
    }

    out = cflb_rules_palloc(r, len ? len : 1);
    if (out == NULL) {
        return CFLB_ERROR;
    }

    v->u.s.data = out;
    v->u.s.len = len;

    for (k = 0; k < n->slot; k++) {
        if (parts[k].len) {
            memcpy(out, parts[k].data, parts[k].len);
            out += parts[k].len;
        }
    }

    return CFLB_OK;
}


static int
cflb_rules_decode(cflb_rules_run_t *r, unsigned flags, cflb_str_t *s)
{
    unsigned char  *out;

    if (memchr(s->data, '%', s->len) == NULL
        && memchr(s->data, '+', s->len) == NULL)
    {
        return CFLB_OK;
    }

    out = cflb_rules_palloc(r, s->len);
    if (out == NULL) {
        return CFLB_ERROR;
    }

    s->len = cflb_rules_url_decode(out, s->data, s->len, flags);
    s->data = out;

    return CFLB_OK;
}


static void *
cflb_rules_palloc(cflb_rules_run_t *r, size_t size)
{
    cflb_allocator_t  *pool;

    pool = r->in->pool;

    if (pool == NULL) {
        return NULL;
    }

    return pool->alloc(pool->data, size);
}
