
/*
 * cflb_json_read: a strict, bounded JSON reader for what cflb reads from other
 * programs (the etcd v3 gateway).  It walks a whole document and shows a
 * visitor every value with the path of member names and array indices
 * that leads to it.  Nothing is allocated: strings are handed over as
 * they stand in the text, between their quotes; cflb_json_unescape()
 * decodes one when it matters.
 */

#ifndef _CFLB_JSON_READ_H_INCLUDED_
#define _CFLB_JSON_READ_H_INCLUDED_


#include "cflb_core.h"


/* the deepest nesting a document may have (the document is depth 0) */
#define CFLB_JSON_MAX_DEPTH   16


/* what the visitor is shown */
typedef enum {
    CFLB_JSON_NULL = 0,
    CFLB_JSON_FALSE,
    CFLB_JSON_TRUE,
    CFLB_JSON_NUMBER,               /* text: the number as written */
    CFLB_JSON_STRING,               /* text: between the quotes, raw */
    CFLB_JSON_OBJECT,               /* an object starts */
    CFLB_JSON_ARRAY,                /* an array starts */
    CFLB_JSON_OBJECT_END,
    CFLB_JSON_ARRAY_END
} cflb_json_type_e;


/*
 * Where a value is: at depth d (1 .. depth), name[d] is the member name
 * that leads to it (raw, as in the text) when its parent is an object,
 * index[d] its position when its parent is an array (name[d] is then
 * empty).  The ends of containers are shown at the depth of the
 * container itself.
 */
typedef struct {
    unsigned          depth;
    cflb_str_t        name[CFLB_JSON_MAX_DEPTH + 1];
    uint32_t          index[CFLB_JSON_MAX_DEPTH + 1];
} cflb_json_path_t;


/* returns CFLB_OK to go on; anything else stops the walk with it */
typedef int (*cflb_json_visit_pt)(void *data, const cflb_json_path_t *path,
    cflb_json_type_e type, const unsigned char *text, size_t len);


/*
 * cflb_json_walk() reads one JSON value (RFC 8259: any value, white space
 * around it) from text[0..len).  The visitor (NULL: validate only) sees
 * every value in document order.  Returns CFLB_OK; CFLB_ERROR with err
 * filled for malformed text, nesting deeper than CFLB_JSON_MAX_DEPTH, or
 * an array of more than 2^32 - 1 elements; or the visitor's answer that
 * stopped it.  Strings are checked (no control bytes, valid escapes),
 * not their UTF-8.
 */
int cflb_json_walk(const unsigned char *text, size_t len,
    cflb_json_visit_pt visit, void *data, cflb_err_t *err);

/*
 * cflb_json_unescape() decodes the raw content of a string the walk
 * accepted into out[0..size): escapes resolved, \uXXXX as UTF-8 (a pair
 * of surrogates as one character, a lone one as U+FFFD).  Returns CFLB_OK
 * with the length in *olen, CFLB_ERROR if out is too small.
 */
int cflb_json_unescape(const unsigned char *s, size_t len,
    unsigned char *out, size_t size, size_t *olen);

/*
 * cflb_json_int64() reads an integer written as decimal digits, with an
 * optional "-" (as etcd writes its 64-bit numbers, in strings).  CFLB_OK,
 * or CFLB_ERROR for anything else or a value out of int64_t.
 */
int cflb_json_int64(const unsigned char *s, size_t len, int64_t *v);

/* is the member name at depth d of path the literal lit */
#define cflb_json_name_is(path, d, lit)                                       \
    ((path)->name[d].len == sizeof(lit) - 1                                   \
     && memcmp((path)->name[d].data, lit, sizeof(lit) - 1) == 0)


#endif /* _CFLB_JSON_READ_H_INCLUDED_ */
