
/*
 * cflb_json.c: the walk over valid and invalid documents (RFC 8259's
 * corner cases), the paths and values a visitor sees, the depth limit,
 * unescaping (UTF-8, surrogate pairs) and 64-bit integers.
 */


#include "cflb_test.h"
#include "cflb_json_read.h"


#define S(lit)  (const unsigned char *) lit, sizeof(lit) - 1


/* a visitor that writes "depth:path:type:text" lines into a buffer */

typedef struct {
    char      out[2048];
    size_t    len;
    unsigned  stop_at;              /* stop on the n-th value, 0: never */
    unsigned  seen;
} trace_t;


static int
trace_visit(void *data, const cflb_json_path_t *path, cflb_json_type_e type,
    const unsigned char *text, size_t len)
{
    trace_t *tr = data;

    unsigned  d;

    static const char  *types[] = { "null", "false", "true", "num", "str",
                                    "{", "[", "}", "]" };

    if (tr->stop_at && ++tr->seen == tr->stop_at) {
        return CFLB_DECLINED;
    }

    for (d = 1; d <= path->depth; d++) {
        if (path->name[d].data) {
            tr->len += snprintf(tr->out + tr->len, sizeof(tr->out) - tr->len,
                                "/%.*s", (int) path->name[d].len,
                                (const char *) path->name[d].data);

        } else {
            tr->len += snprintf(tr->out + tr->len, sizeof(tr->out) - tr->len,
                                "/#%u", (unsigned) path->index[d]);
        }
    }

    tr->len += snprintf(tr->out + tr->len, sizeof(tr->out) - tr->len,
                        " %s %.*s;", types[type], (int) len,
                        (const char *) text);

    return CFLB_OK;
}


static void
valid(cflb_test_t *t)
{
    size_t    i;
    trace_t   tr;

    static const char  *ok[] = {
        "{}", "[]", "0", "-0", "1.5e3", "-0.25E-2", "\"\"", "true",
        "false", "null", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
        "{\"a\":{\"b\":{\"c\":[[[]]]}}}", "[\"\xc3\xa9\xff\"]"
    };

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cflb_check_msg(t, cflb_json_walk((const unsigned char *) ok[i],
                                         strlen(ok[i]), NULL, NULL, NULL)
                          == CFLB_OK, "valid: %s", ok[i]);
    }

    memset(&tr, 0, sizeof(trace_t));

    cflb_check(t, cflb_json_walk(S("{\"h\":{\"r\":\"5\"},\"e\":[{\"k\":1},"
                                   "true],\"n\":null}"),
                                 trace_visit, &tr, NULL) == CFLB_OK);
    cflb_check_msg(t, strcmp(tr.out,
                             " { {;/h { {;/h/r str 5;/h } };/e [ [;"
                             "/e/#0 { {;/e/#0/k num 1;/e/#0 } };"
                             "/e/#1 true true;/e ] ];/n null null; } };")
                      == 0, "trace: %s", tr.out);

    /* the visitor's answer stops the walk and is returned */
    memset(&tr, 0, sizeof(trace_t));
    tr.stop_at = 3;

    cflb_check(t, cflb_json_walk(S("[1,2,3]"), trace_visit, &tr, NULL)
                  == CFLB_DECLINED);
    cflb_check(t, strcmp(tr.out, " [ [;/#0 num 1;") == 0);
}


static void
invalid(cflb_test_t *t)
{
    size_t      i;
    cflb_err_t  err;

    static const struct {
        const char  *text;
        size_t       offset;
    } bad[] = {
        { "", 0 }, { " ", 1 }, { "{", 1 }, { "[1,]", 3 }, { "{,}", 1 },
        { "{\"a\"}", 4 }, { "{\"a\":}", 5 }, { "{\"a\":1,}", 7 },
        { "{a:1}", 1 }, { "01", 1 }, { "1.", 2 }, { ".5", 0 },
        { "1e", 2 }, { "-", 1 }, { "+1", 0 }, { "tru", 0 },
        { "nul", 0 }, { "\"abc", 4 }, { "\"a\tb\"", 2 }, { "\"\\x\"", 1 },
        { "\"\\u12g4\"", 1 }, { "\"\\u12\"", 1 }, { "[1 2]", 3 },
        { "{} {}", 3 }, { "[\"\\\"]", 5 }, { "NaN", 0 }, { "1 x", 2 }
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg = NULL;
        err.offset = (size_t) -1;

        cflb_check_msg(t, cflb_json_walk((const unsigned char *) bad[i].text,
                                         strlen(bad[i].text), NULL, NULL,
                                         &err) == CFLB_ERROR
                          && err.msg != NULL && err.offset == bad[i].offset,
                       "invalid: %s (offset %lu: %s)", bad[i].text,
                       (unsigned long) err.offset,
                       err.msg ? err.msg : "-");
    }

    /* a NUL inside a string is a control byte */
    cflb_check(t, cflb_json_walk(S("\"a\0b\""), NULL, NULL, NULL)
                  == CFLB_ERROR);
}


static void
depth(cflb_test_t *t)
{
    char      doc[64];
    unsigned  n;

    /* CFLB_JSON_MAX_DEPTH levels inside the document: accepted */
    for (n = 0; n <= CFLB_JSON_MAX_DEPTH; n++) {
        doc[n] = '[';
        doc[2 * CFLB_JSON_MAX_DEPTH + 1 - n] = ']';
    }

    cflb_check(t, cflb_json_walk((unsigned char *) doc,
                                 2 * CFLB_JSON_MAX_DEPTH + 2, NULL, NULL,
                                 NULL) == CFLB_ERROR);

    cflb_check(t, cflb_json_walk((unsigned char *) doc + 1,
                                 2 * CFLB_JSON_MAX_DEPTH, NULL, NULL, NULL)
                  == CFLB_OK);
}


static void
unescape(cflb_test_t *t)
{
    size_t         n;
    unsigned char  out[32];

    cflb_check(t, cflb_json_unescape(S("a\\\"b\\\\c\\/d\\n"), out,
                                     sizeof(out), &n) == CFLB_OK
                  && n == 8 && memcmp(out, "a\"b\\c/d\n", 8) == 0);

    /* 2 and 3 byte UTF-8, a surrogate pair, a lone surrogate */
    cflb_check(t, cflb_json_unescape(S("\\u00e9\\u20ac\\uD83D\\uDE00"
                                       "\\uDC00x"), out, sizeof(out), &n)
                  == CFLB_OK
                  && n == 2 + 3 + 4 + 3 + 1
                  && memcmp(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                                 "\xef\xbf\xbdx", n) == 0);

    cflb_check(t, cflb_json_unescape(S("\\u0041"), out, 1, &n) == CFLB_OK
                  && n == 1 && out[0] == 'A');
    cflb_check(t, cflb_json_unescape(S("ab"), out, 1, &n) == CFLB_ERROR);
    cflb_check(t, cflb_json_unescape(S("\\u00e9"), out, 1, &n)
                  == CFLB_ERROR);
}


static void
int64s(cflb_test_t *t)
{
    int64_t  v;

    cflb_check(t, cflb_json_int64(S("0"), &v) == CFLB_OK && v == 0);
    cflb_check(t, cflb_json_int64(S("9223372036854775807"), &v) == CFLB_OK
                  && v == INT64_MAX);
    cflb_check(t, cflb_json_int64(S("-9223372036854775808"), &v) == CFLB_OK
                  && v == INT64_MIN);
    cflb_check(t, cflb_json_int64(S("9223372036854775808"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_json_int64(S("-9223372036854775809"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_json_int64(S("99999999999999999999"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_json_int64(S(""), &v) == CFLB_ERROR);
    cflb_check(t, cflb_json_int64(S("-"), &v) == CFLB_ERROR);
    cflb_check(t, cflb_json_int64(S("1.0"), &v) == CFLB_ERROR);
    cflb_check(t, cflb_json_int64(S("12a"), &v) == CFLB_ERROR);
    cflb_check(t, cflb_json_int64(S("2324035723048065290"), &v) == CFLB_OK
                  && v == 2324035723048065290LL);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    valid(&t);
    invalid(&t);
    depth(&t);
    unescape(&t);
    int64s(&t);

    return cflb_test_done(&t, "cflb_json_read_test");
}
