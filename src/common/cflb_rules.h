
/*
 * Custom load-balancing rules: the Cloudflare Rules language (wirefilter)
 * compiled once, at configuration time, into a typed tree and a flat
 * program of tests that the request path only runs.  The core knows no
 * field names: the caller describes its fields in a scheme and supplies
 * their values lazily, through callbacks, at most once per request
 * however many rules use them.  Regular expressions come from an
 * injected engine (PCRE2 in the glue).  The language as implemented is
 * described in docs/rules.md.
 */

#ifndef _CFLB_RULES_H_INCLUDED_
#define _CFLB_RULES_H_INCLUDED_


#include "cflb_core.h"


#define CFLB_RULES_MAX_LEN     4096     /* characters per expression */
#define CFLB_RULES_MAX_DEPTH   64       /* nesting of (), not, calls */
#define CFLB_RULES_ERR_LEN     192


/* the types a field may have */
typedef enum {
    CFLB_RULES_BOOL = 1,
    CFLB_RULES_INT,                     /* int64_t */
    CFLB_RULES_BYTES,
    CFLB_RULES_IP,
    CFLB_RULES_ARRAY_BYTES,             /* Array<Bytes> */
    CFLB_RULES_ARRAY_INT,               /* Array<Integer> */
    CFLB_RULES_MAP_BYTES                /* Map<Array<Bytes>> */
} cflb_rules_type_e;


/*
 * One field of a scheme: its name in expressions ("http.request.uri"),
 * its type and the caller's id, which the callbacks receive.
 */
typedef struct {
    const char         *name;
    cflb_rules_type_e   type;
    unsigned            id;
} cflb_rules_field_t;


/*
 * The regular expression engine.  compile() returns a handle, or NULL
 * with a message (lowercase, no period) in errbuf; match() returns 1 on
 * a match, 0 without, and < 0 on an error such as a match limit hit,
 * which makes the comparison false; free() (may be NULL) releases a
 * handle when the expression is freed.  match() always receives a
 * non-NULL subject.
 */
typedef void *(*cflb_rules_regex_compile_pt)(void *data,
    const unsigned char *pattern, size_t len, char *errbuf, size_t errlen);
typedef int (*cflb_rules_regex_match_pt)(void *data, void *re,
    const unsigned char *subject, size_t len);
typedef void (*cflb_rules_regex_free_pt)(void *data, void *re);


/*
 * The fields an expression may name, and the regex engine (without
 * compile(), "matches" is refused at compile time).  Field names must be
 * unique; an expression keeps no pointer to the scheme.
 */
typedef struct {
    const cflb_rules_field_t     *fields;
    size_t                        nfields;
    cflb_rules_regex_compile_pt   regex_compile;
    cflb_rules_regex_match_pt     regex_match;
    cflb_rules_regex_free_pt      regex_free;
    void                         *regex_data;
} cflb_rules_scheme_t;


/* an address: IPv4 in addr[0..3] when v6 is 0 */
typedef struct {
    unsigned char       v6;
    unsigned char       addr[16];
} cflb_rules_ip_t;


/*
 * A value as the callbacks supply it: i for BOOL (0 or 1) and INT, s for
 * BYTES, ip for IP, a for ARRAY_BYTES, ia for ARRAY_INT.  The memory it
 * points to must stay valid for the whole request.  An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is taken as the IPv4 address.
 */
typedef struct {
    union {
        int64_t             i;
        cflb_str_t          s;
        cflb_rules_ip_t     ip;
        struct {
            const cflb_str_t   *elts;
            size_t              n;
        }                   a;
        struct {
            const int64_t      *elts;
            size_t              n;
        }                   ia;
    } u;
} cflb_rules_value_t;


/*
 * get() fetches the field with this id (never a map); lookup() fetches
 * the array of values of one key of a map field.  Both return CFLB_OK
 * with v filled, CFLB_DECLINED when the value is missing (an absent key,
 * a field that does not apply), or CFLB_ERROR, which aborts the
 * evaluation.  Either may be NULL: every such value is then missing.
 */
typedef int (*cflb_rules_get_pt)(void *ctx, unsigned id,
    cflb_rules_value_t *v);
typedef int (*cflb_rules_lookup_pt)(void *ctx, unsigned id,
    const unsigned char *key, size_t len, cflb_rules_value_t *v);


/* the per-request cache: room the caller provides, see the input */
typedef struct {
    cflb_rules_value_t  v;
    unsigned char       state;
} cflb_rules_slot_t;

typedef struct {
    cflb_rules_value_t  v;
    const cflb_str_t   *key;            /* the compiled key */
    uint32_t            slot;
    unsigned char       state;
} cflb_rules_kslot_t;


/*
 * What one request offers to its rules.  slots caches fields by their
 * position in the scheme (room for scheme->nfields of them, or fewer:
 * a field beyond nslots is fetched on every use), keys caches map
 * lookups (room for the sum of cflb_rules_nkeys() of the rules, or
 * fewer: lookups that find no room are not cached).  pool allocates what
 * functions return (lower(), concat(), url_decode()); nothing is freed,
 * so it should be the request pool.  Set up with cflb_rules_input_init()
 * and then the callbacks; evaluate any number of rules with it.
 */
typedef struct {
    cflb_rules_get_pt         get;
    cflb_rules_lookup_pt      lookup;
    void                     *ctx;
    cflb_allocator_t         *pool;
    cflb_rules_slot_t        *slots;
    size_t                    nslots;
    cflb_rules_kslot_t       *keys;
    size_t                    nkeys;
    size_t                    keys_used;
} cflb_rules_input_t;


/* a compile error: 1-based line and column (in bytes) and the message */
typedef struct {
    unsigned            line;
    unsigned            column;
    size_t              offset;
    char                msg[CFLB_RULES_ERR_LEN];
} cflb_rules_err_t;


typedef struct cflb_rules_expr_s  cflb_rules_expr_t;


/*
 * cflb_rules_compile() compiles text (len bytes, no terminator needed)
 * against the scheme, allocating through a (copied; its data must live
 * as long as the expression).  Empty or blank text is always true.
 * Returns the expression, or NULL with err filled: a syntax or type
 * error, a bad regex (the engine's message), too long or too deep, or
 * "out of memory".
 */
cflb_rules_expr_t *cflb_rules_compile(const cflb_rules_scheme_t *scheme,
    const unsigned char *text, size_t len, const cflb_allocator_t *a,
    cflb_rules_err_t *err);

/* cflb_rules_free() releases everything compile made; NULL is a no-op */
void cflb_rules_free(cflb_rules_expr_t *e);

/*
 * cflb_rules_nkeys() is the number of distinct map lookups (field and
 * key) the expression makes: the room it wants in the input's keys.
 */
size_t cflb_rules_nkeys(const cflb_rules_expr_t *e);

/*
 * cflb_rules_input_init() empties the cache; the caller then sets get,
 * lookup, ctx and pool.
 */
void cflb_rules_input_init(cflb_rules_input_t *in, cflb_rules_slot_t *slots,
    size_t nslots, cflb_rules_kslot_t *keys, size_t nkeys);

/*
 * cflb_rules_eval() returns 1 when the request matches, 0 when not, and
 * CFLB_ERROR when a callback failed or the pool ran out of memory.  It
 * allocates nothing but function results, from in->pool.
 */
int cflb_rules_eval(const cflb_rules_expr_t *e, cflb_rules_input_t *in);

/*
 * cflb_rules_next() evaluates set[*i], set[*i + 1], ... (n in all; a
 * NULL one is true) with one input, in turn, until one matches: it
 * returns 1 with *i its index, CFLB_ERROR with *i the index of one that
 * failed as cflb_rules_eval() can, or 0 with *i = n when none is left.
 * Call it again from *i + 1 for the next.  The same as cflb_rules_eval()
 * on each, in fewer instructions.
 */
int cflb_rules_next(const cflb_rules_expr_t *const *set, size_t n,
    size_t *i, cflb_rules_input_t *in);


#endif /* _CFLB_RULES_H_INCLUDED_ */
