
/*
 * cflb rules: values, the left-hand sides of comparisons and the
 * arguments of functions.  A value is a field or a function call,
 * followed by indexes: [N] into an array, ["key"] into a map, and [*]
 * for "each element", which only a quantifier, any() or all(), can turn
 * back into one boolean.  A function over x[*] is a "mapped call": an
 * array computed element by element when something asks for one.
 */


#include <string.h>

#include "cflb_rules_int.h"


typedef struct {
    const char     *name;
    unsigned        fn;
    unsigned        min;
    unsigned        max;        /* 0: no maximum */
} cflb_rules_func_t;


static const cflb_rules_func_t  cflb_rules_funcs[] = {
    { "lower",       CFLB_RF_LOWER,       1, 1 },
    { "upper",       CFLB_RF_UPPER,       1, 1 },
    { "len",         CFLB_RF_LEN,         1, 1 },
    { "starts_with", CFLB_RF_STARTS_WITH, 2, 2 },
    { "ends_with",   CFLB_RF_ENDS_WITH,   2, 2 },
    { "concat",      CFLB_RF_CONCAT,      2, 0 },
    { "url_decode",  CFLB_RF_URL_DECODE,  1, 2 }
};


static cflb_rules_node_t *cflb_rules_field(cflb_rules_parser_t *p,
    size_t pos, size_t n);
static cflb_rules_node_t *cflb_rules_index(cflb_rules_parser_t *p,
    cflb_rules_node_t *v);
static int cflb_rules_index_type(cflb_rules_parser_t *p,
    cflb_rules_node_t *n);
static void cflb_rules_count_key(cflb_rules_parser_t *p,
    cflb_rules_node_t *n);
static cflb_rules_node_t *cflb_rules_call(cflb_rules_parser_t *p,
    const cflb_rules_func_t *f, size_t pos);
static int cflb_rules_call_check(cflb_rules_parser_t *p,
    const cflb_rules_func_t *f, cflb_rules_node_t *n, unsigned argc);
static cflb_rules_node_t *cflb_rules_arg(cflb_rules_parser_t *p);


cflb_rules_node_t *
cflb_rules_node(cflb_rules_parser_t *p, unsigned op, size_t pos)
{
    cflb_rules_node_t  *n;

    n = cflb_rules_alloc(&p->expr->arena, sizeof(cflb_rules_node_t));
    if (n == NULL) {
        cflb_rules_nomem(p);
        return NULL;
    }

    n->op = (uint8_t) op;
    n->pos = (uint32_t) pos;
    n->end = (uint32_t) pos;

    return n;
}


const char *
cflb_rules_type_name(unsigned type)
{
    switch (type) {

    case CFLB_RT_BOOL:
        return "a boolean";

    case CFLB_RT_INT:
        return "an integer";

    case CFLB_RT_BYTES:
        return "bytes";

    case CFLB_RT_IP:
        return "an IP address";

    case CFLB_RT_MAP:
        return "a map";

    default:
        return "an array";
    }
}


/* the source text of a node, quoted for a message */

char *
cflb_rules_src(cflb_rules_parser_t *p, const cflb_rules_node_t *n,
    char *buf, size_t size)
{
    return cflb_rules_quote(buf, size, p->text + n->pos, n->end - n->pos);
}


cflb_rules_node_t *
cflb_rules_value(cflb_rules_parser_t *p)
{
    char                      buf[64];
    size_t                    pos, n, save, k;
    cflb_rules_node_t        *v;
    const unsigned char      *name;

    cflb_rules_skip_ws(p);
    pos = p->pos;
    n = cflb_rules_ident(p);
    name = p->text + pos;

    if (pos < p->len
        && (name[0] == '"' || (name[0] == 'r' && pos + 1 < p->len
                               && (name[1] == '"' || name[1] == '#'))))
    {
        cflb_rules_error(p, pos, "expected a field or a function, found a "
                         "string");
        return NULL;
    }

    if (n == 0) {
        if (pos == p->len) {
            cflb_rules_error(p, pos, "expected a field or a function");

        } else {
            cflb_rules_error(p, pos, "expected a field or a function, "
                             "found \"%s\"",
                             cflb_rules_quote(buf, sizeof(buf), name, 1));
        }

        return NULL;
    }

    cflb_rules_quote(buf, sizeof(buf), name, n);

    if ((n == 2 && memcmp(name, "or", 2) == 0)
        || (n == 3 && (memcmp(name, "and", 3) == 0
                       || memcmp(name, "xor", 3) == 0)))
    {
        cflb_rules_error(p, pos, "expected a field or a function, found "
                         "\"%s\"", buf);
        return NULL;
    }

    p->pos += n;
    save = p->pos;
    cflb_rules_skip_ws(p);

    if (!cflb_rules_peek(p, "(")) {
        p->pos = save;
        v = cflb_rules_field(p, pos, n);

    } else if (n == 3 && (memcmp(name, "any", 3) == 0
                          || memcmp(name, "all", 3) == 0))
    {
        cflb_rules_error(p, pos, "%s() is a condition, not a value", buf);
        return NULL;

    } else {
        for (k = 0; k < sizeof(cflb_rules_funcs) / sizeof(cflb_rules_funcs[0]);
             k++)
        {
            if (strlen(cflb_rules_funcs[k].name) == n
                && memcmp(cflb_rules_funcs[k].name, name, n) == 0)
            {
                break;
            }
        }

        if (k == sizeof(cflb_rules_funcs) / sizeof(cflb_rules_funcs[0])) {
            cflb_rules_error(p, pos, "unknown function \"%s\"", buf);
            return NULL;
        }

        v = cflb_rules_call(p, &cflb_rules_funcs[k], pos);
    }

    /* no space before "[", as in wirefilter */

    while (v != NULL && p->pos < p->len && p->text[p->pos] == '[') {
        v = cflb_rules_index(p, v);
    }

    return v;
}


static cflb_rules_node_t *
cflb_rules_field(cflb_rules_parser_t *p, size_t pos, size_t n)
{
    char                       buf[64];
    size_t                     i;
    cflb_rules_node_t         *v;
    const cflb_rules_field_t  *f;

    for (i = 0; i < p->scheme->nfields; i++) {
        f = &p->scheme->fields[i];

        if (strlen(f->name) == n && memcmp(f->name, p->text + pos, n) == 0) {
            break;
        }
    }

    if (i == p->scheme->nfields) {
        cflb_rules_error(p, pos, "unknown field \"%s\"",
                         cflb_rules_quote(buf, sizeof(buf), p->text + pos,
                                          n));
        return NULL;
    }

    v = cflb_rules_node(p, CFLB_RV_FIELD, pos);
    if (v == NULL) {
        return NULL;
    }

    v->type = (uint8_t) f->type;
    v->slot = (uint32_t) i;
    v->id = f->id;
    v->end = (uint32_t) (pos + n);

    return v;
}


static cflb_rules_node_t *
cflb_rules_index(cflb_rules_parser_t *p, cflb_rules_node_t *v)
{
    int                 rc;
    int64_t             i;
    cflb_str_t          key;
    cflb_rules_node_t  *n;

    p->pos++;
    cflb_rules_skip_ws(p);

    n = cflb_rules_node(p, CFLB_RV_EACH, v->pos);
    if (n == NULL) {
        return NULL;
    }

    n->a = v;

    if (cflb_rules_peek(p, "*")) {
        p->pos++;

    } else if ((rc = cflb_rules_string(p, &key, 0)) != CFLB_DECLINED) {
        if (rc != CFLB_OK) {
            return NULL;
        }

        n->op = CFLB_RV_KEY;
        n->u.s = key;

    } else {
        rc = cflb_rules_int(p, &i);

        if (rc == CFLB_DECLINED) {
            cflb_rules_error(p, p->pos, "expected a number, a string or "
                             "\"*\" inside []");
        }

        if (rc != CFLB_OK) {
            return NULL;
        }

        if (i < 0 || i > (int64_t) UINT32_MAX) {
            cflb_rules_error(p, p->pos, "index %lld is out of range",
                             (long long) i);
            return NULL;
        }

        n->op = CFLB_RV_INDEX;
        n->u.i = i;
    }

    cflb_rules_skip_ws(p);

    if (!cflb_rules_peek(p, "]")) {
        cflb_rules_error(p, p->pos, "expected \"]\"");
        return NULL;
    }

    p->pos++;
    n->end = (uint32_t) p->pos;

    if (cflb_rules_index_type(p, n) != CFLB_OK) {
        return NULL;
    }

    return n;
}


static int
cflb_rules_index_type(cflb_rules_parser_t *p, cflb_rules_node_t *n)
{
    char                buf[64];
    unsigned            t;
    cflb_rules_node_t  *v;

    v = n->a;
    t = v->type;

    cflb_rules_src(p, v, buf, sizeof(buf));

    if (n->op == CFLB_RV_KEY) {
        if (t != CFLB_RT_MAP) {
            return cflb_rules_error(p, v->end, "%s is not a map, it is %s",
                                    buf, cflb_rules_type_name(t));
        }

        n->type = CFLB_RT_ARRAY_BYTES;
        cflb_rules_count_key(p, n);

        return CFLB_OK;
    }

    if (t == CFLB_RT_MAP) {
        return cflb_rules_error(p, v->end, n->op == CFLB_RV_EACH
                                ? "[*] over a map is not supported, index "
                                  "%s with [\"key\"]"
                                : "%s is a map: index it with [\"key\"]",
                                buf);
    }

    if (t != CFLB_RT_ARRAY_BYTES && t != CFLB_RT_ARRAY_INT
        && t != CFLB_RT_ARRAY_BOOL)
    {
        return cflb_rules_error(p, v->end, "%s is not an array, it is %s",
                                buf, cflb_rules_type_name(t));
    }

    n->type = t == CFLB_RT_ARRAY_BYTES ? CFLB_RT_BYTES
              : t == CFLB_RT_ARRAY_INT ? CFLB_RT_INT : CFLB_RT_BOOL;

    if (n->op == CFLB_RV_EACH) {
        n->flags = CFLB_RF_MAPPED;
    }

    return CFLB_OK;
}


/* the distinct map lookups, for the room they want in the cache */

static void
cflb_rules_count_key(cflb_rules_parser_t *p, cflb_rules_node_t *n)
{
    cflb_rules_node_t  *k;

    for (k = p->keys; k != NULL; k = k->b) {
        if (k->a->slot == n->a->slot && k->u.s.len == n->u.s.len
            && memcmp(k->u.s.data, n->u.s.data, n->u.s.len) == 0)
        {
            return;
        }
    }

    n->b = p->keys;
    p->keys = n;
    p->expr->nkeys++;
}


static cflb_rules_node_t *
cflb_rules_call(cflb_rules_parser_t *p, const cflb_rules_func_t *f,
    size_t pos)
{
    unsigned            argc;
    cflb_rules_node_t  *n, *arg, *last;

    if (++p->depth > CFLB_RULES_MAX_DEPTH) {
        cflb_rules_error(p, pos, "expression nests deeper than %d levels",
                         CFLB_RULES_MAX_DEPTH);
        return NULL;
    }

    n = cflb_rules_node(p, CFLB_RV_CALL, pos);
    if (n == NULL) {
        return NULL;
    }

    n->sub = (uint8_t) f->fn;
    p->pos++;
    cflb_rules_skip_ws(p);

    argc = 0;
    last = NULL;

    while (!cflb_rules_peek(p, ")")) {
        if (argc > 0) {
            if (!cflb_rules_peek(p, ",")) {
                cflb_rules_error(p, p->pos, "expected \",\" or \")\"");
                return NULL;
            }

            p->pos++;
        }

        arg = cflb_rules_arg(p);
        if (arg == NULL) {
            return NULL;
        }

        if (argc > 0 && (arg->flags & CFLB_RF_MAPPED)) {
            cflb_rules_error(p, arg->pos, "[*] is only allowed in the first "
                             "argument of %s()", f->name);
            return NULL;
        }

        if (last == NULL) {
            n->a = arg;

        } else {
            last->next = arg;
        }

        last = arg;
        argc++;
        cflb_rules_skip_ws(p);
    }

    p->pos++;
    n->end = (uint32_t) p->pos;
    n->slot = argc;
    p->depth--;

    if (cflb_rules_call_check(p, f, n, argc) != CFLB_OK) {
        return NULL;
    }

    return n;
}


static int
cflb_rules_call_check(cflb_rules_parser_t *p, const cflb_rules_func_t *f,
    cflb_rules_node_t *n, unsigned argc)
{
    char                buf[64];
    size_t              i;
    unsigned            t, k;
    cflb_rules_node_t  *arg;

    if (argc < f->min || (f->max && argc > f->max)) {
        return cflb_rules_error(p, n->pos, "%s() takes %s%u argument%s, "
                                "not %u", f->name,
                                f->max == 0 ? "at least "
                                : f->max > f->min ? "1 or " : "",
                                f->max ? f->max : f->min,
                                (f->max ? f->max : f->min) > 1 ? "s" : "",
                                argc);
    }

    for (arg = n->a, k = 0; arg != NULL; arg = arg->next, k++) {
        t = arg->type;
        cflb_rules_src(p, arg, buf, sizeof(buf));

        if (f->fn == CFLB_RF_LEN) {
            if (t == CFLB_RT_BOOL || t == CFLB_RT_INT || t == CFLB_RT_IP
                || t == CFLB_RT_MAP)
            {
                return cflb_rules_error(p, arg->pos, "len() needs bytes or "
                                        "an array, %s is %s", buf,
                                        cflb_rules_type_name(t));
            }

            continue;
        }

        if (f->fn == CFLB_RF_URL_DECODE && k == 1) {
            if (arg->op != CFLB_RV_LIT || t != CFLB_RT_BYTES) {
                return cflb_rules_error(p, arg->pos, "url_decode() options "
                                        "must be a string");
            }

            for (i = 0; i < arg->u.s.len; i++) {
                if (arg->u.s.data[i] == 'r') {
                    n->flags |= CFLB_RF_DECODE_R;

                } else if (arg->u.s.data[i] == 'u') {
                    n->flags |= CFLB_RF_DECODE_U;

                } else {
                    return cflb_rules_error(p, arg->pos, "url_decode() "
                                            "options are \"r\" and \"u\"");
                }
            }

            continue;
        }

        if (t != CFLB_RT_BYTES) {
            return cflb_rules_error(p, arg->pos, "%s() needs bytes, %s is %s",
                                    f->name, buf, cflb_rules_type_name(t));
        }
    }

    switch (f->fn) {

    case CFLB_RF_LEN:
        t = CFLB_RT_INT;
        break;

    case CFLB_RF_STARTS_WITH:
    case CFLB_RF_ENDS_WITH:
        t = CFLB_RT_BOOL;
        break;

    default:
        t = CFLB_RT_BYTES;
    }

    if (n->a->flags & CFLB_RF_MAPPED) {
        n->flags |= CFLB_RF_MAPCALL;
        t = t == CFLB_RT_INT ? CFLB_RT_ARRAY_INT
            : t == CFLB_RT_BOOL ? CFLB_RT_ARRAY_BOOL : CFLB_RT_ARRAY_BYTES;
    }

    n->type = (uint8_t) t;

    return CFLB_OK;
}


/* an argument: a string or an integer literal, or a value */

static cflb_rules_node_t *
cflb_rules_arg(cflb_rules_parser_t *p)
{
    int                 rc;
    size_t              pos;
    cflb_rules_node_t  *n;

    cflb_rules_skip_ws(p);
    pos = p->pos;

    n = cflb_rules_node(p, CFLB_RV_LIT, pos);
    if (n == NULL) {
        return NULL;
    }

    rc = cflb_rules_string(p, &n->u.s, 0);

    if (rc == CFLB_OK) {
        n->type = CFLB_RT_BYTES;

    } else if (rc == CFLB_DECLINED) {
        rc = cflb_rules_int(p, &n->u.i);

        if (rc == CFLB_DECLINED) {
            return cflb_rules_value(p);
        }

        n->type = CFLB_RT_INT;
    }

    if (rc != CFLB_OK) {
        return NULL;
    }

    n->end = (uint32_t) p->pos;

    return n;
}
