
/*
 * cflb rules: the parser.  Recursive descent over the text, building a
 * typed tree and refusing at once what cannot be evaluated, so that
 * evaluation has no type checks and no error paths but memory.  The
 * logical operators bind as in wirefilter, not > and > xor > or; each
 * level collects its operands in one list, so that a long chain of
 * "and" costs no recursion.  Depth (parentheses, not, calls and
 * quantifiers) is bounded, and so is the length.
 */


#include <string.h>

#include "cflb_rules_int.h"


typedef struct {
    const char     *text;
    unsigned        op;
    unsigned        word;       /* needs a word boundary */
} cflb_rules_op_t;


/* longer symbols first, so that "<=" is not read as "<" */

static const cflb_rules_op_t  cflb_rules_ops[] = {
    { "==", CFLB_RC_EQ, 0 },
    { "!=", CFLB_RC_NE, 0 },
    { "<=", CFLB_RC_LE, 0 },
    { ">=", CFLB_RC_GE, 0 },
    { "<", CFLB_RC_LT, 0 },
    { ">", CFLB_RC_GT, 0 },
    { "~", CFLB_RC_MATCHES, 0 },
    { "eq", CFLB_RC_EQ, 1 },
    { "ne", CFLB_RC_NE, 1 },
    { "lt", CFLB_RC_LT, 1 },
    { "le", CFLB_RC_LE, 1 },
    { "gt", CFLB_RC_GT, 1 },
    { "ge", CFLB_RC_GE, 1 },
    { "contains", CFLB_RC_CONTAINS, 1 },
    { "matches", CFLB_RC_MATCHES, 1 },
    { "wildcard", CFLB_RC_WILDCARD, 1 },
    { "in", CFLB_RC_IN, 1 },
    { "bitwise_and", CFLB_RC_BAND, 1 }
};


static cflb_rules_node_t *cflb_rules_level(cflb_rules_parser_t *p,
    unsigned level);
static cflb_rules_node_t *cflb_rules_unary(cflb_rules_parser_t *p);
static cflb_rules_node_t *cflb_rules_group(cflb_rules_parser_t *p);
static cflb_rules_node_t *cflb_rules_quant(cflb_rules_parser_t *p,
    unsigned op, size_t pos);
static cflb_rules_node_t *cflb_rules_cond(cflb_rules_parser_t *p);
static cflb_rules_node_t *cflb_rules_bool(cflb_rules_parser_t *p,
    cflb_rules_node_t *lhs);
static int cflb_rules_cmp_op(cflb_rules_parser_t *p, cflb_rules_node_t *n,
    size_t *oplen);
static int cflb_rules_cmp_type(cflb_rules_parser_t *p, cflb_rules_node_t *n,
    size_t oppos, size_t oplen);
static int cflb_rules_rhs(cflb_rules_parser_t *p, cflb_rules_node_t *n,
    size_t oppos);
static int cflb_rules_regex(cflb_rules_parser_t *p, cflb_rules_node_t *n,
    size_t oppos);
static int cflb_rules_each(cflb_rules_parser_t *p, cflb_rules_node_t *n);
static int cflb_rules_same(const cflb_rules_node_t *a,
    const cflb_rules_node_t *b);
static int cflb_rules_length(cflb_rules_parser_t *p);


cflb_rules_expr_t *
cflb_rules_compile(const cflb_rules_scheme_t *scheme,
    const unsigned char *text, size_t len, const cflb_allocator_t *a,
    cflb_rules_err_t *err)
{
    char                  buf[64];
    size_t                n;
    cflb_rules_err_t      local;
    cflb_rules_expr_t    *e;
    cflb_rules_arena_t    arena;
    cflb_rules_parser_t   p;

    if (err == NULL) {
        err = &local;
    }

    memset(err, 0, sizeof(cflb_rules_err_t));

    arena.a = *a;
    arena.chunks = NULL;

    e = cflb_rules_alloc(&arena, sizeof(cflb_rules_expr_t));
    if (e == NULL) {
        err->line = 1;
        err->column = 1;
        memcpy(err->msg, "out of memory", sizeof("out of memory"));
        return NULL;
    }

    /* from here on the arena lives in the expression it holds */
    e->arena = arena;
    e->regex_match = scheme->regex_match;
    e->regex_free = scheme->regex_free;
    e->regex_data = scheme->regex_data;

    memset(&p, 0, sizeof(cflb_rules_parser_t));
    p.scheme = scheme;
    p.text = text;
    p.len = len;
    p.expr = e;
    p.err = err;

    if (cflb_rules_length(&p) != CFLB_OK) {
        cflb_rules_free(e);
        return NULL;
    }

    cflb_rules_skip_ws(&p);

    if (p.pos == len) {
        /* an empty condition is always true */
        e->root = cflb_rules_node(&p, CFLB_RN_TRUE, 0);

    } else {
        e->root = cflb_rules_level(&p, 0);

        cflb_rules_skip_ws(&p);

        if (e->root != NULL && p.pos < len) {
            n = cflb_rules_ident(&p);

            cflb_rules_error(&p, p.pos, "unexpected \"%s\"",
                             cflb_rules_quote(buf, sizeof(buf),
                                              p.text + p.pos, n ? n : 1));
            e->root = NULL;
        }
    }

    if (e->root == NULL || cflb_rules_prog(&p) != CFLB_OK) {
        cflb_rules_free(e);
        return NULL;
    }

    return e;
}


void
cflb_rules_free(cflb_rules_expr_t *e)
{
    cflb_rules_re_t     *r;
    cflb_rules_arena_t   arena;

    if (e == NULL) {
        return;
    }

    if (e->regex_free != NULL) {
        for (r = e->regexes; r != NULL; r = r->next) {
            e->regex_free(e->regex_data, r->re);
        }
    }

    /* the expression is in its own arena: copy the arena out first */
    arena = e->arena;
    cflb_rules_arena_free(&arena);
}


size_t
cflb_rules_nkeys(const cflb_rules_expr_t *e)
{
    return e->nkeys;
}


/* the product counts characters: UTF-8 continuation bytes do not count */

static int
cflb_rules_length(cflb_rules_parser_t *p)
{
    size_t  i, chars;

    chars = 0;

    for (i = 0; i < p->len; i++) {
        if ((p->text[i] & 0xc0) != 0x80 && ++chars > CFLB_RULES_MAX_LEN) {
            return cflb_rules_error(p, i, "expression is longer than %d "
                                    "characters", CFLB_RULES_MAX_LEN);
        }
    }

    return CFLB_OK;
}


/* level 0: or, 1: xor, 2: and; then unary */

static cflb_rules_node_t *
cflb_rules_level(cflb_rules_parser_t *p, unsigned level)
{
    size_t              oppos, oplen;
    cflb_rules_node_t  *first, *last, *next, *list;

    static const char     *words[] = { "or", "xor", "and" };
    static const char     *syms[] = { "||", "^^", "&&" };
    static const unsigned  ops[] = { CFLB_RN_OR, CFLB_RN_XOR, CFLB_RN_AND };

    first = level == 2 ? cflb_rules_unary(p) : cflb_rules_level(p, level + 1);
    if (first == NULL) {
        return NULL;
    }

    list = NULL;
    last = first;

    for ( ;; ) {
        cflb_rules_skip_ws(p);
        oppos = p->pos;

        if (cflb_rules_peek(p, syms[level])) {
            p->pos += 2;

        } else if (!cflb_rules_word(p, words[level])) {
            break;
        }

        oplen = p->pos - oppos;

        next = level == 2 ? cflb_rules_unary(p)
                          : cflb_rules_level(p, level + 1);
        if (next == NULL) {
            return NULL;
        }

        if ((next->flags ^ first->flags) & CFLB_RF_MAPPED) {
            cflb_rules_error(p, oppos, "\"%.*s\" cannot combine a condition "
                             "on [*] with one that is not", (int) oplen,
                             (const char *) p->text + oppos);
            return NULL;
        }

        if (list == NULL) {
            list = cflb_rules_node(p, ops[level], first->pos);
            if (list == NULL) {
                return NULL;
            }

            list->a = first;
            list->flags = first->flags & CFLB_RF_MAPPED;
        }

        last->next = next;
        last = next;
        list->end = next->end;
    }

    return list ? list : first;
}


static cflb_rules_node_t *
cflb_rules_unary(cflb_rules_parser_t *p)
{
    size_t              pos;
    cflb_rules_node_t  *n;

    cflb_rules_skip_ws(p);
    pos = p->pos;

    if (pos == p->len) {
        cflb_rules_error(p, pos, "expected a condition");
        return NULL;
    }

    if ((p->text[pos] == '!' && !cflb_rules_peek(p, "!="))
        || cflb_rules_word(p, "not"))
    {
        p->pos = pos + (p->text[pos] == '!' ? 1 : 3);

        if (++p->depth > CFLB_RULES_MAX_DEPTH) {
            cflb_rules_error(p, pos, "expression nests deeper than %d levels",
                             CFLB_RULES_MAX_DEPTH);
            return NULL;
        }

        n = cflb_rules_node(p, CFLB_RN_NOT, pos);
        if (n == NULL) {
            return NULL;
        }

        n->a = cflb_rules_unary(p);
        if (n->a == NULL) {
            return NULL;
        }

        p->depth--;
        n->flags = n->a->flags & CFLB_RF_MAPPED;
        n->end = n->a->end;

        return n;
    }

    if (p->text[pos] == '(') {
        return cflb_rules_group(p);
    }

    if (cflb_rules_word(p, "any") || cflb_rules_word(p, "all")) {
        cflb_rules_skip_ws(p);

        if (cflb_rules_peek(p, "(")) {
            return cflb_rules_quant(p, p->text[pos + 1] == 'n'
                                       ? CFLB_RN_ANY : CFLB_RN_ALL, pos);
        }

        p->pos = pos;
    }

    if (cflb_rules_word(p, "true") || cflb_rules_word(p, "false")) {
        n = cflb_rules_node(p, p->text[pos] == 't' ? CFLB_RN_TRUE
                                                   : CFLB_RN_FALSE, pos);
        if (n != NULL) {
            n->end = (uint32_t) p->pos;
        }

        return n;
    }

    return cflb_rules_cond(p);
}


static cflb_rules_node_t *
cflb_rules_group(cflb_rules_parser_t *p)
{
    size_t              pos;
    cflb_rules_node_t  *n;

    pos = p->pos;

    if (++p->depth > CFLB_RULES_MAX_DEPTH) {
        cflb_rules_error(p, pos, "expression nests deeper than %d levels",
                         CFLB_RULES_MAX_DEPTH);
        return NULL;
    }

    p->pos++;

    n = cflb_rules_level(p, 0);
    if (n == NULL) {
        return NULL;
    }

    cflb_rules_skip_ws(p);

    if (!cflb_rules_peek(p, ")")) {
        cflb_rules_error(p, p->pos, "expected \")\"");
        return NULL;
    }

    p->pos++;
    p->depth--;

    return n;
}


/*
 * any(cond) and all(cond): cond must be a condition on [*], every [*] in
 * it on the same array, which the quantifier walks element by element.
 */

static cflb_rules_node_t *
cflb_rules_quant(cflb_rules_parser_t *p, unsigned op, size_t pos)
{
    unsigned            quant;
    cflb_rules_node_t  *n, *qroot;

    if (++p->depth > CFLB_RULES_MAX_DEPTH) {
        cflb_rules_error(p, pos, "expression nests deeper than %d levels",
                         CFLB_RULES_MAX_DEPTH);
        return NULL;
    }

    n = cflb_rules_node(p, op, pos);
    if (n == NULL) {
        return NULL;
    }

    quant = p->quant;
    qroot = p->qroot;
    p->quant = 1;
    p->qroot = NULL;
    p->pos++;

    n->a = cflb_rules_level(p, 0);
    if (n->a == NULL) {
        return NULL;
    }

    cflb_rules_skip_ws(p);

    if (!cflb_rules_peek(p, ")")) {
        cflb_rules_error(p, p->pos, "expected \")\"");
        return NULL;
    }

    if (!(n->a->flags & CFLB_RF_MAPPED)) {
        cflb_rules_error(p, n->a->pos, "%s() needs a condition on [*], "
                         "such as %s(x[*] == \"a\")",
                         op == CFLB_RN_ANY ? "any" : "all",
                         op == CFLB_RN_ANY ? "any" : "all");
        return NULL;
    }

    p->pos++;
    n->end = (uint32_t) p->pos;
    n->b = p->qroot;
    p->quant = quant;
    p->qroot = qroot;
    p->depth--;

    return n;
}


static cflb_rules_node_t *
cflb_rules_cond(cflb_rules_parser_t *p)
{
    char                buf[64];
    size_t              oppos, oplen;
    cflb_rules_node_t  *lhs, *n;

    lhs = cflb_rules_value(p);
    if (lhs == NULL) {
        return NULL;
    }

    if (lhs->type == CFLB_RT_ARRAY_BOOL && (lhs->flags & CFLB_RF_MAPCALL)) {
        /* any(starts_with(x[*], "a")): the call's booleans, each */
        n = cflb_rules_node(p, CFLB_RV_EACH, lhs->pos);
        if (n == NULL) {
            return NULL;
        }

        n->a = lhs;
        n->type = CFLB_RT_BOOL;
        n->flags = CFLB_RF_MAPPED;
        n->end = lhs->end;
        lhs = n;
    }

    if (lhs->type == CFLB_RT_BOOL) {
        return cflb_rules_bool(p, lhs);
    }

    cflb_rules_src(p, lhs, buf, sizeof(buf));

    if (lhs->type == CFLB_RT_MAP) {
        cflb_rules_error(p, lhs->end, "%s is a map: index it with "
                         "[\"key\"]", buf);
        return NULL;
    }

    if (lhs->type > CFLB_RT_IP) {
        cflb_rules_error(p, lhs->end, "%s is an array: use [N], or [*] "
                         "inside any() or all()", buf);
        return NULL;
    }

    n = cflb_rules_node(p, CFLB_RN_CMP, lhs->pos);
    if (n == NULL) {
        return NULL;
    }

    n->a = lhs;
    n->type = lhs->type;
    n->flags = lhs->flags & CFLB_RF_MAPPED;

    cflb_rules_skip_ws(p);
    oppos = p->pos;

    if (cflb_rules_cmp_op(p, n, &oplen) != CFLB_OK) {
        cflb_rules_error(p, oppos, "expected a comparison operator after %s",
                         buf);
        return NULL;
    }

    if (cflb_rules_cmp_type(p, n, oppos, oplen) != CFLB_OK
        || cflb_rules_rhs(p, n, oppos) != CFLB_OK
        || cflb_rules_each(p, n) != CFLB_OK)
    {
        return NULL;
    }

    n->end = (uint32_t) p->pos;

    return n;
}


/*
 * A boolean is a condition by itself ("ssl").  "ssl == true" and its
 * kin are an extension: wirefilter has no boolean literals.
 */

static cflb_rules_node_t *
cflb_rules_bool(cflb_rules_parser_t *p, cflb_rules_node_t *lhs)
{
    size_t              save;
    unsigned            op;
    cflb_rules_node_t  *n;

    n = cflb_rules_node(p, CFLB_RN_ISTRUE, lhs->pos);
    if (n == NULL) {
        return NULL;
    }

    n->a = lhs;
    n->type = CFLB_RT_BOOL;
    n->flags = lhs->flags & CFLB_RF_MAPPED;
    n->end = lhs->end;

    save = p->pos;
    cflb_rules_skip_ws(p);

    if (cflb_rules_peek(p, "==") || cflb_rules_peek(p, "!=")) {
        op = p->text[p->pos] == '=' ? CFLB_RC_EQ : CFLB_RC_NE;
        p->pos += 2;

    } else if (cflb_rules_word(p, "eq") || cflb_rules_word(p, "ne")) {
        op = p->text[p->pos - 2] == 'e' ? CFLB_RC_EQ : CFLB_RC_NE;

    } else {
        p->pos = save;
        return cflb_rules_each(p, n) == CFLB_OK ? n : NULL;
    }

    cflb_rules_skip_ws(p);

    if (cflb_rules_word(p, "true")) {
        n->u.i = 1;

    } else if (!cflb_rules_word(p, "false")) {
        cflb_rules_error(p, p->pos, "expected true or false");
        return NULL;
    }

    n->op = CFLB_RN_CMP;
    n->sub = (uint8_t) op;
    n->end = (uint32_t) p->pos;

    return cflb_rules_each(p, n) == CFLB_OK ? n : NULL;
}


static int
cflb_rules_cmp_op(cflb_rules_parser_t *p, cflb_rules_node_t *n,
    size_t *oplen)
{
    size_t  k, start;

    start = p->pos;

    for (k = 0; k < sizeof(cflb_rules_ops) / sizeof(cflb_rules_ops[0]); k++) {
        if (cflb_rules_ops[k].word ? cflb_rules_word(p, cflb_rules_ops[k].text)
                                   : cflb_rules_peek(p, cflb_rules_ops[k].text))
        {
            n->sub = (uint8_t) cflb_rules_ops[k].op;
            p->pos = start + strlen(cflb_rules_ops[k].text);
            *oplen = p->pos - start;

            return CFLB_OK;
        }
    }

    if (cflb_rules_peek(p, "&") && !cflb_rules_peek(p, "&&")) {
        n->sub = CFLB_RC_BAND;
        p->pos++;
        *oplen = 1;

        return CFLB_OK;
    }

    if (cflb_rules_word(p, "strict")) {
        cflb_rules_skip_ws(p);

        if (cflb_rules_word(p, "wildcard")) {
            n->sub = CFLB_RC_STRICT_WILDCARD;
            *oplen = p->pos - start;

            return CFLB_OK;
        }
    }

    p->pos = start;

    return CFLB_DECLINED;
}


static int
cflb_rules_cmp_type(cflb_rules_parser_t *p, cflb_rules_node_t *n,
    size_t oppos, size_t oplen)
{
    char         buf[64];
    const char  *need;

    switch (n->sub) {

    case CFLB_RC_CONTAINS:
    case CFLB_RC_MATCHES:
    case CFLB_RC_WILDCARD:
    case CFLB_RC_STRICT_WILDCARD:
        if (n->type == CFLB_RT_BYTES) {
            return CFLB_OK;
        }

        need = "bytes";
        break;

    case CFLB_RC_BAND:
        if (n->type == CFLB_RT_INT) {
            return CFLB_OK;
        }

        need = "an integer";
        break;

    default:
        /* every other operator takes bytes, integers and addresses */
        return CFLB_OK;
    }

    return cflb_rules_error(p, oppos, "\"%.*s\" needs %s, %s is %s",
                            (int) oplen, (const char *) p->text + oppos, need,
                            cflb_rules_src(p, n->a, buf, sizeof(buf)),
                            cflb_rules_type_name(n->type));
}


static int
cflb_rules_rhs(cflb_rules_parser_t *p, cflb_rules_node_t *n, size_t oppos)
{
    int              rc;
    size_t           pos;
    cflb_str_t       s;
    const char      *what;
    cflb_rules_ip_t  hi;

    cflb_rules_skip_ws(p);
    pos = p->pos;

    if (n->sub == CFLB_RC_IN) {
        n->u.set = cflb_rules_set_parse(p, n->type);
        return n->u.set ? CFLB_OK : CFLB_ERROR;
    }

    if (n->sub == CFLB_RC_MATCHES) {
        return cflb_rules_regex(p, n, oppos);
    }

    if (n->type == CFLB_RT_INT) {
        rc = cflb_rules_int(p, &n->u.i);
        what = "an integer";

    } else if (n->type == CFLB_RT_IP) {
        rc = cflb_rules_ip(p, &n->u.ip, &hi, 0);
        cflb_rules_ip_normalize(&n->u.ip);
        what = "an IP address";

    } else {
        rc = cflb_rules_string(p, &s, 0);
        what = "a string";
    }

    if (rc == CFLB_DECLINED) {
        return cflb_rules_error(p, pos, "expected %s", what);
    }

    if (rc != CFLB_OK || n->type != CFLB_RT_BYTES) {
        return rc;
    }

    if (n->sub == CFLB_RC_CONTAINS) {
        n->u.search = cflb_rules_alloc(&p->expr->arena,
                                       sizeof(cflb_rules_search_t));

        if (n->u.search == NULL
            || cflb_rules_search_init(n->u.search, s.data, s.len, 0,
                                      &p->expr->arena)
               != CFLB_OK)
        {
            return cflb_rules_nomem(p);
        }

    } else if (n->sub == CFLB_RC_WILDCARD
               || n->sub == CFLB_RC_STRICT_WILDCARD)
    {
        n->u.wc = cflb_rules_wildcard(p, &s, n->sub == CFLB_RC_WILDCARD, pos);
        if (n->u.wc == NULL) {
            return CFLB_ERROR;
        }

    } else {
        n->u.s = s;
    }

    return CFLB_OK;
}


/* the engine's own message for a bad pattern, at the pattern */

static int
cflb_rules_regex(cflb_rules_parser_t *p, cflb_rules_node_t *n, size_t oppos)
{
    int               rc;
    char              errbuf[CFLB_RULES_ERR_LEN];
    size_t            pos;
    cflb_str_t        s;
    cflb_rules_re_t  *r;

    pos = p->pos;

    if (p->scheme->regex_compile == NULL || p->scheme->regex_match == NULL) {
        return cflb_rules_error(p, oppos, "\"matches\" is not available "
                                "here");
    }

    rc = cflb_rules_string(p, &s, 1);

    if (rc == CFLB_DECLINED) {
        return cflb_rules_error(p, pos, "expected a string");
    }

    if (rc != CFLB_OK) {
        return rc;
    }

    r = cflb_rules_alloc(&p->expr->arena, sizeof(cflb_rules_re_t));
    if (r == NULL) {
        return cflb_rules_nomem(p);
    }

    errbuf[0] = '\0';

    r->re = p->scheme->regex_compile(p->scheme->regex_data, s.data, s.len,
                                     errbuf, sizeof(errbuf));
    if (r->re == NULL) {
        errbuf[sizeof(errbuf) - 1] = '\0';

        return cflb_rules_error(p, pos, "%s", errbuf[0] ? errbuf
                                : "invalid regular expression");
    }

    r->next = p->expr->regexes;
    p->expr->regexes = r;
    n->u.re = r->re;

    return CFLB_OK;
}


/*
 * A condition on [*] must be inside any() or all(), and all of those in
 * one quantifier must walk the same array: the array under the [*],
 * through the calls mapped over it (lower(x[*])[*] walks x).
 */

static int
cflb_rules_each(cflb_rules_parser_t *p, cflb_rules_node_t *n)
{
    char                buf[64];
    cflb_rules_node_t  *root;

    if (!(n->flags & CFLB_RF_MAPPED)) {
        return CFLB_OK;
    }

    cflb_rules_src(p, n->a, buf, sizeof(buf));

    if (!p->quant) {
        return cflb_rules_error(p, n->pos, "%s needs any() or all() around "
                                "its condition", buf);
    }

    root = n->a->a;

    while (root->flags & CFLB_RF_MAPCALL) {
        root = root->a->a;
    }

    if (p->qroot == NULL) {
        p->qroot = root;

    } else if (!cflb_rules_same(root, p->qroot)) {
        return cflb_rules_error(p, n->pos, "every [*] in one any() or all() "
                                "must be on the same array");
    }

    return CFLB_OK;
}


static int
cflb_rules_same(const cflb_rules_node_t *a, const cflb_rules_node_t *b)
{
    if (a->op != b->op) {
        return 0;
    }

    if (a->op == CFLB_RV_FIELD) {
        return a->slot == b->slot;
    }

    if (a->op == CFLB_RV_KEY) {
        return cflb_rules_same(a->a, b->a) && a->u.s.len == b->u.s.len
               && memcmp(a->u.s.data, b->u.s.data, a->u.s.len) == 0;
    }

    return a == b;
}
