
/*
 * cflb rules: what the lexer, parser, matchers and evaluator share.  Not
 * for the glue, which uses cflb_rules.h only.
 */

#ifndef _CFLB_RULES_INT_H_INCLUDED_
#define _CFLB_RULES_INT_H_INCLUDED_


#include "cflb_rules.h"


/* internal types: the public ones, plus what only functions produce */
#define CFLB_RT_BOOL         CFLB_RULES_BOOL
#define CFLB_RT_INT          CFLB_RULES_INT
#define CFLB_RT_BYTES        CFLB_RULES_BYTES
#define CFLB_RT_IP           CFLB_RULES_IP
#define CFLB_RT_ARRAY_BYTES  CFLB_RULES_ARRAY_BYTES
#define CFLB_RT_ARRAY_INT    CFLB_RULES_ARRAY_INT
#define CFLB_RT_MAP          CFLB_RULES_MAP_BYTES
#define CFLB_RT_ARRAY_BOOL   (CFLB_RULES_MAP_BYTES + 1)


/* node operations: conditions first, then values */
enum {
    CFLB_RN_TRUE = 0,
    CFLB_RN_FALSE,
    CFLB_RN_AND,                /* children a, a->next, ... */
    CFLB_RN_OR,
    CFLB_RN_XOR,
    CFLB_RN_NOT,                /* a */
    CFLB_RN_ANY,                /* a: the condition, b: the array */
    CFLB_RN_ALL,
    CFLB_RN_ISTRUE,             /* a: a boolean value */
    CFLB_RN_CMP,                /* a: the value, sub: the operator */

    CFLB_RV_FIELD,              /* slot, id */
    CFLB_RV_LIT,                /* u.s or u.i */
    CFLB_RV_INDEX,              /* a[u.i] */
    CFLB_RV_KEY,                /* a[u.s], a is a map field */
    CFLB_RV_EACH,               /* a[*] */
    CFLB_RV_CALL                /* sub: the function, a: the arguments */
};


/* comparison operators */
enum {
    CFLB_RC_EQ = 0,
    CFLB_RC_NE,
    CFLB_RC_LT,
    CFLB_RC_LE,
    CFLB_RC_GT,
    CFLB_RC_GE,
    CFLB_RC_CONTAINS,
    CFLB_RC_MATCHES,
    CFLB_RC_WILDCARD,
    CFLB_RC_STRICT_WILDCARD,
    CFLB_RC_IN,
    CFLB_RC_BAND
};


/* functions */
enum {
    CFLB_RF_LOWER = 0,
    CFLB_RF_UPPER,
    CFLB_RF_LEN,
    CFLB_RF_STARTS_WITH,
    CFLB_RF_ENDS_WITH,
    CFLB_RF_CONCAT,
    CFLB_RF_URL_DECODE
};


/* node flags */
#define CFLB_RF_MAPPED       0x01   /* a value of the quantifier's element */
#define CFLB_RF_MAPCALL      0x02   /* a call over x[*]: an array, lazily */
#define CFLB_RF_DECODE_R     0x04   /* url_decode(x, "r") */
#define CFLB_RF_DECODE_U     0x08   /* url_decode(x, "u") */


#define CFLB_RULES_NOTFOUND  ((size_t) -1)


/* slot states in the request cache */
#define CFLB_RULES_UNSET     0
#define CFLB_RULES_PRESENT   1
#define CFLB_RULES_MISSING   2


typedef struct {
    uint64_t                hi;
    uint64_t                lo;
} cflb_rules_u128_t;


/* a substring searcher: Knuth-Morris-Pratt, linear in the subject */
typedef struct {
    const unsigned char    *pat;        /* lowercased when ci */
    uint32_t               *fail;
    size_t                  len;
    unsigned                ci;
} cflb_rules_search_t;


/*
 * A wildcard: the literal runs between its stars.  Without a star, run 0
 * is the whole pattern; with n stars, run 0 must start the subject, run
 * n end it, and the runs between appear in order, leftmost first (with
 * only '*' as a metacharacter, the leftmost choice never loses a match).
 */
typedef struct {
    cflb_rules_search_t    *runs;
    size_t                  nruns;
    unsigned                ci;
} cflb_rules_wildcard_t;


/* an "in { }" set, sorted so that a lookup is a binary search */
typedef struct {
    cflb_str_t             *strs;       /* by length, then bytes */
    int64_t                *ints;       /* merged ranges: lo, hi pairs */
    uint32_t               *v4;         /* merged ranges: lo, hi pairs */
    cflb_rules_u128_t      *v6;         /* merged ranges: lo, hi pairs */
    size_t                  n;          /* strs, or pairs of ints or v4 */
    size_t                  n6;         /* pairs of v6 */
} cflb_rules_set_t;


typedef struct cflb_rules_node_s  cflb_rules_node_t;

struct cflb_rules_node_s {
    uint8_t                 op;
    uint8_t                 type;       /* of the value; CMP: of its lhs */
    uint8_t                 sub;        /* operator, function */
    uint8_t                 flags;
    uint32_t                slot;       /* field position; CALL: argc */
    unsigned                id;         /* the caller's field id */
    uint32_t                pos;        /* source span, for messages */
    uint32_t                end;
    cflb_rules_node_t      *a;
    cflb_rules_node_t      *b;
    cflb_rules_node_t      *next;
    union {
        int64_t                 i;
        cflb_str_t              s;
        cflb_rules_ip_t         ip;
        cflb_rules_set_t       *set;
        cflb_rules_search_t    *search;
        cflb_rules_wildcard_t  *wc;
        void                   *re;
    } u;
};


/*
 * A compiled condition runs as a program of tests (cflb_rules_prog.c):
 * each gets one value, compares it and goes on at t when true, at f when
 * false; and, or and not are only these jumps.  A jump always goes to a
 * later test, or to one of the two ends below.
 */
#define CFLB_RULES_PC_FALSE  0xfffffffeU
#define CFLB_RULES_PC_TRUE   0xffffffffU


/* what a test does with its value */
enum {
    CFLB_RO_COND = 0,           /* n, by the tree walk: xor, any(), ... */
    CFLB_RO_CMP,                /* n is a CMP node: its comparison */
    CFLB_RO_TRUTH,              /* a boolean */
    CFLB_RO_EQ,                 /* bytes against lit */
    CFLB_RO_NE,
    CFLB_RO_PREFIX,             /* starts_with(value, lit) */
    CFLB_RO_SUFFIX,             /* ends_with(value, lit) */
    CFLB_RO_SEARCH,             /* contains, through u.search */
    CFLB_RO_REGEX,              /* matches u.re */
    CFLB_RO_IP_IN               /* an address in u.set */
};


/*
 * One test.  The value is src (a field, or a field or map key with
 * [index]), which the loop reads from the cache itself, or when src is
 * NULL n->a, computed by the tree walk.  After lower() or upper() of src
 * (ci), bytes compare case-insensitively against lit (or the search)
 * lowered, which gives what the function's result would, without making
 * it; "never" marks a literal that no result of that function can hold
 * (an upper-case letter after lower()): eq, the affixes and the search
 * are then false, and ne true.
 */
typedef struct {
    uint8_t                   op;         /* CFLB_RO_* */
    uint8_t                   ci;
    uint8_t                   never;
    uint8_t                   indexed;    /* src[index] */
    uint32_t                  slot;       /* src's cache slot, if a field */
    uint32_t                  t;          /* next test when true */
    uint32_t                  f;          /* next test when false */
    size_t                    index;
    const cflb_rules_node_t  *src;        /* FIELD or KEY, or NULL */
    const cflb_rules_node_t  *n;          /* the condition */
    union {
        cflb_str_t            lit;        /* lowered if ci */
        cflb_rules_search_t  *search;
        cflb_rules_set_t     *set;
        void                 *re;
    } u;
} cflb_rules_test_t;


/* compile-time memory: chunks from the allocator, freed all at once */
typedef struct cflb_rules_chunk_s  cflb_rules_chunk_t;

struct cflb_rules_chunk_s {
    cflb_rules_chunk_t     *next;
    size_t                  size;
    size_t                  used;
};

typedef struct {
    cflb_allocator_t        a;
    cflb_rules_chunk_t     *chunks;
} cflb_rules_arena_t;


typedef struct cflb_rules_re_s  cflb_rules_re_t;

struct cflb_rules_re_s {
    void                   *re;
    cflb_rules_re_t        *next;
};


struct cflb_rules_expr_s {
    cflb_rules_node_t          *root;
    cflb_rules_test_t          *prog;
    uint32_t                    entry;      /* the first test, or an end */
    cflb_rules_arena_t          arena;
    cflb_rules_re_t            *regexes;
    cflb_rules_regex_match_pt   regex_match;
    cflb_rules_regex_free_pt    regex_free;
    void                       *regex_data;
    size_t                      nkeys;
};


typedef struct {
    const cflb_rules_scheme_t  *scheme;
    const unsigned char        *text;
    size_t                      len;
    size_t                      pos;
    cflb_rules_expr_t          *expr;
    cflb_rules_err_t           *err;
    unsigned                    depth;
    unsigned                    quant;      /* inside any() or all() */
    cflb_rules_node_t          *qroot;      /* the array it iterates */
    cflb_rules_node_t          *keys;       /* map lookups, through b */
} cflb_rules_parser_t;


#define cflb_rules_lower(c)                                                  \
    (unsigned char) (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))

#define cflb_rules_upper(c)                                                  \
    (unsigned char) (((c) >= 'a' && (c) <= 'z') ? ((c) & ~0x20) : (c))

#define cflb_rules_ident_char(c)                                             \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')               \
     || ((c) >= '0' && (c) <= '9') || (c) == '_')


/* cflb_rules_lex.c: memory, errors, tokens */

/*
 * cflb_rules_alloc() returns zeroed, 8-byte aligned memory or NULL;
 * cflb_rules_arena_free() releases all of it.
 */
void *cflb_rules_alloc(cflb_rules_arena_t *arena, size_t size);
void cflb_rules_arena_free(cflb_rules_arena_t *arena);

/*
 * cflb_rules_error() records the first error at pos (an "out of memory"
 * always wins over what it caused) and returns CFLB_ERROR.
 */
int cflb_rules_error(cflb_rules_parser_t *p, size_t pos, const char *fmt,
    ...)
#if defined(__GNUC__)
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;

/* cflb_rules_nomem() records "out of memory" at the position */
int cflb_rules_nomem(cflb_rules_parser_t *p);

/* cflb_rules_quote() writes a printable, shortened copy of s to buf */
char *cflb_rules_quote(char *buf, size_t size, const unsigned char *s,
    size_t len);

/*
 * At the position: skip blanks; whether s follows (nothing consumed);
 * whether the keyword w follows as a whole word (then consumed); the
 * length of the dotted name there (0: none, nothing consumed).
 */
void cflb_rules_skip_ws(cflb_rules_parser_t *p);
int cflb_rules_peek(cflb_rules_parser_t *p, const char *s);
int cflb_rules_word(cflb_rules_parser_t *p, const char *w);
size_t cflb_rules_ident(cflb_rules_parser_t *p);

/*
 * The literals return CFLB_OK and advance, CFLB_DECLINED when the text
 * at the position is not one (nothing consumed), or CFLB_ERROR.  A
 * string is copied to the arena (regex: kept escaped for the engine);
 * an address with ranges may be a CIDR or "a..b", as [lo, hi].
 */
int cflb_rules_string(cflb_rules_parser_t *p, cflb_str_t *s, int regex);
int cflb_rules_int(cflb_rules_parser_t *p, int64_t *v);
int cflb_rules_ip(cflb_rules_parser_t *p, cflb_rules_ip_t *lo,
    cflb_rules_ip_t *hi, int ranges);


/* cflb_rules_set.c: sets and addresses */

/*
 * cflb_rules_set_parse() reads "{...}" (or one element) of the type at
 * the position into a sorted set: NULL with the error recorded.  The
 * lookups return 1 or 0; a value must be normalized first.
 */
cflb_rules_set_t *cflb_rules_set_parse(cflb_rules_parser_t *p,
    unsigned type);
int cflb_rules_set_has_bytes(const cflb_rules_set_t *set,
    const unsigned char *s, size_t len);
int cflb_rules_set_has_int(const cflb_rules_set_t *set, int64_t v);
int cflb_rules_set_has_ip(const cflb_rules_set_t *set,
    const cflb_rules_ip_t *ip);

/* folds ::ffff:a.b.c.d to IPv4 a.b.c.d, in place */
void cflb_rules_ip_normalize(cflb_rules_ip_t *ip);

/* <0, 0, >0: the order of two addresses of the same family */
int cflb_rules_ip_cmp(const cflb_rules_ip_t *a, const cflb_rules_ip_t *b);


/* cflb_rules_match.c: searching, wildcards, url_decode */

/*
 * cflb_rules_search_init() prepares a search for pat (ci: ASCII case-
 * insensitive) in the arena: CFLB_OK or CFLB_ERROR for no memory.
 * cflb_rules_search() returns the position of the first occurrence in
 * h, or CFLB_RULES_NOTFOUND, in time linear in n.
 */
int cflb_rules_search_init(cflb_rules_search_t *s, const unsigned char *pat,
    size_t len, unsigned ci, cflb_rules_arena_t *arena);
size_t cflb_rules_search(const cflb_rules_search_t *s,
    const unsigned char *h, size_t n);

/*
 * cflb_rules_wildcard() compiles a pattern (already unescaped as a
 * string) whose literal is at pos: NULL with the error recorded.
 * cflb_rules_wildcard_match() returns 1 if the whole of s matches.
 */
cflb_rules_wildcard_t *cflb_rules_wildcard(cflb_rules_parser_t *p,
    const cflb_str_t *pattern, unsigned ci, size_t pos);
int cflb_rules_wildcard_match(const cflb_rules_wildcard_t *wc,
    const unsigned char *s, size_t len);

/*
 * cflb_rules_url_decode() decodes len bytes of in to out (room for len
 * bytes) with the CFLB_RF_DECODE_* flags; returns the length written.
 */
size_t cflb_rules_url_decode(unsigned char *out, const unsigned char *in,
    size_t len, unsigned flags);


/* cflb_rules_prog.c: the tree as a program */

/*
 * cflb_rules_prog() compiles the tree of p->expr into its program:
 * CFLB_OK, or CFLB_ERROR with "out of memory" recorded.
 */
int cflb_rules_prog(cflb_rules_parser_t *p);


/* cflb_rules_eval.c */

/*
 * cflb_rules_eval_tree() evaluates e by walking its tree, as
 * cflb_rules_eval() does by its program: for the tests, which check that
 * the two agree.
 */
int cflb_rules_eval_tree(const cflb_rules_expr_t *e, cflb_rules_input_t *in);


/* cflb_rules_value.c: fields, indexes, function calls */

/* a zeroed node spanning pos, or NULL with "out of memory" recorded */
cflb_rules_node_t *cflb_rules_node(cflb_rules_parser_t *p, unsigned op,
    size_t pos);

/* a field or a call with its indexes, type-checked; NULL on an error */
cflb_rules_node_t *cflb_rules_value(cflb_rules_parser_t *p);

/* "an integer", "bytes", ...: a type for messages */
const char *cflb_rules_type_name(unsigned type);

/* the source text of a node, quoted for a message into buf */
char *cflb_rules_src(cflb_rules_parser_t *p, const cflb_rules_node_t *n,
    char *buf, size_t size);


#endif /* _CFLB_RULES_INT_H_INCLUDED_ */
