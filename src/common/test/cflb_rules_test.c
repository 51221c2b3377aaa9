
/*
 * cflb rules: the language end to end.  Every operator on every type,
 * precedence, literals and escapes, sets, CIDRs, arrays and maps with
 * [N], [*], any() and all(), the functions, missing values, big inputs,
 * the length and depth limits, compile errors with their exact positions
 * and messages, laziness of the callbacks and the cache, and memory:
 * compile frees all it made (also when an allocation fails), and
 * evaluation allocates only what functions return.
 */


#include "cflb_test.h"
#include "cflb_test_rules.h"
#include "cflb_rules_int.h"


typedef struct {
    cflb_test_t           t;
    cflb_rules_scheme_t   scheme;
    cflb_test_re_t        re;
    cflb_test_mem_t       mem;
    cflb_allocator_t      a;
    cflb_test_pool_t      pool;
    cflb_allocator_t      pa;
    cflb_test_req_t       req;
    int                   quiet;        /* no message for a bad compile */
} t_ctx_t;


typedef struct {
    const char           *text;
    int                   want;
} t_case_t;


typedef struct {
    const char           *text;
    const char           *want;         /* "line:column: message" */
} t_bad_t;


#define T_EVAL(c, text, want)                                                \
    t_eval_check(c, __LINE__, text, strlen(text), want)
#define T_BAD(c, text, want)                                                 \
    t_bad_check(c, __LINE__, text, strlen(text), want)
#define T_CASES(c, cases)                                                    \
    t_cases(c, __LINE__, cases, sizeof(cases) / sizeof(cases[0]))


static void t_init(t_ctx_t *c);
static int t_eval(t_ctx_t *c, const char *text, size_t len);
static void t_eval_check(t_ctx_t *c, int line, const char *text, size_t len,
    int want);
static void t_bad_check(t_ctx_t *c, int line, const char *text, size_t len,
    const char *want);
static void t_cases(t_ctx_t *c, int line, const t_case_t *cases, size_t n);
static void t_tree_check(t_ctx_t *c, cflb_rules_expr_t *e, int want,
    const char *text, size_t len);
static cflb_rules_expr_t *t_compile(t_ctx_t *c, const char *text);

static void t_bytes(t_ctx_t *c);
static void t_ints(t_ctx_t *c);
static void t_ips(t_ctx_t *c);
static void t_bools(t_ctx_t *c);
static void t_logic(t_ctx_t *c);
static void t_strings(t_ctx_t *c);
static void t_sets(t_ctx_t *c);
static void t_arrays(t_ctx_t *c);
static void t_functions(t_ctx_t *c);
static void t_missing(t_ctx_t *c);
static void t_repeated(t_ctx_t *c);
static void t_big(t_ctx_t *c);
static void t_limits(t_ctx_t *c);
static void t_errors(t_ctx_t *c);
static void t_manual(t_ctx_t *c);
static void t_lazy(t_ctx_t *c);
static void t_memory(t_ctx_t *c);
static void t_regex(t_ctx_t *c);
static void t_decode(t_ctx_t *c);
static void t_glob(t_ctx_t *c);
static void t_prog(t_ctx_t *c);
static void t_prog_shape(t_ctx_t *c);
static void t_prog_fold(t_ctx_t *c);
static void t_next(t_ctx_t *c);
static int t_glob_naive(const int *pat, size_t np, const unsigned char *s,
    size_t ns, int ci);


int
main(void)
{
    int      rc;
    t_ctx_t  c;

    t_init(&c);

    t_bytes(&c);
    t_ints(&c);
    t_ips(&c);
    t_bools(&c);
    t_logic(&c);
    t_strings(&c);
    t_sets(&c);
    t_arrays(&c);
    t_functions(&c);
    t_missing(&c);
    t_repeated(&c);
    t_big(&c);
    t_limits(&c);
    t_errors(&c);
    t_manual(&c);
    t_lazy(&c);
    t_memory(&c);
    t_regex(&c);
    t_decode(&c);
    t_glob(&c);
    t_prog(&c);

    /* every regex compiled was freed with its expression */
    cflb_check(&c.t, c.re.compiled == c.re.freed);

    cflb_test_pool_done(&c.pool);
    cflb_test_re_done(&c.re);

#if !CFLB_TEST_REGEX
    printf("cflb_rules_test: no PCRE2 for this build, regex checks skipped\n");
#endif

    rc = cflb_test_done(&c.t, "cflb_rules_test");

    return rc;
}


static void
t_init(t_ctx_t *c)
{
    memset(c, 0, sizeof(t_ctx_t));

    cflb_test_re_init(&c->re);
    cflb_test_scheme(&c->scheme, &c->re);
    cflb_test_allocator(&c->a, &c->mem);
    cflb_test_req_default(&c->req);

    c->pa.alloc = cflb_test_pool_alloc;
    c->pa.free = cflb_test_pool_nofree;
    c->pa.data = &c->pool;
}


/* compiles, evaluates once with an empty cache, frees: the result */

static int
t_eval(t_ctx_t *c, const char *text, size_t len)
{
    int                  rc;
    cflb_rules_err_t     err;
    cflb_rules_expr_t   *e;
    cflb_rules_input_t   in;
    cflb_rules_slot_t    slots[T_NFIELDS];
    cflb_rules_kslot_t   keys[8];

    e = cflb_rules_compile(&c->scheme, (const unsigned char *) text, len,
                           &c->a, &err);
    if (e == NULL) {
        if (!c->quiet) {
            printf("compile \"%.*s\": %u:%u: %s\n",
                   (int) (len > 200 ? 200 : len), text, err.line, err.column,
                   err.msg);
        }

        return -100;
    }

    cflb_test_input(&in, slots, keys, 8, &c->req, &c->pa);
    rc = cflb_rules_eval(e, &in);

    if (c->pool.fail_at == 0) {
        t_tree_check(c, e, rc, text, len);
    }

    cflb_rules_free(e);
    cflb_test_pool_reset(&c->pool);

    if (c->mem.live != 0) {
        printf("compile \"%.*s\": %lu allocations left\n",
               (int) (len > 200 ? 200 : len), text,
               (unsigned long) c->mem.live);
        c->mem.live = 0;
        return -101;
    }

    return rc;
}


/*
 * The tree walk must give what the program gave: on a copy of the
 * request, so that the counts of callbacks and regex errors stay the
 * program's, and with a pool of its own.
 */

static void
t_tree_check(t_ctx_t *c, cflb_rules_expr_t *e, int want, const char *text,
    size_t len)
{
    int                  rc;
    unsigned             errors;
    cflb_test_req_t      req;
    cflb_allocator_t     pa;
    cflb_test_pool_t     pool;
    cflb_rules_input_t   in;
    cflb_rules_slot_t    slots[T_NFIELDS];
    cflb_rules_kslot_t   keys[8];

    req = c->req;
    memset(&pool, 0, sizeof(cflb_test_pool_t));
    pa = c->pa;
    pa.data = &pool;

    errors = c->re.errors;

    cflb_test_input(&in, slots, keys, 8, &req, &pa);
    rc = cflb_rules_eval_tree(e, &in);

    c->re.errors = errors;
    cflb_test_pool_done(&pool);

    cflb_test_check(&c->t, rc == want, __FILE__, __LINE__,
                    "\"%.*s\": the tree gives %d, the program %d",
                    (int) (len > 200 ? 200 : len), text, rc, want);
}


static void
t_eval_check(t_ctx_t *c, int line, const char *text, size_t len, int want)
{
    int  rc;

    rc = t_eval(c, text, len);

    cflb_test_check(&c->t, rc == want, __FILE__, line, "\"%.*s\": %d, want %d",
                    (int) (len > 200 ? 200 : len), text, rc, want);
}


static void
t_cases(t_ctx_t *c, int line, const t_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        t_eval_check(c, line, cases[i].text, strlen(cases[i].text),
                     cases[i].want);
    }
}


static void
t_bad_check(t_ctx_t *c, int line, const char *text, size_t len,
    const char *want)
{
    char                buf[CFLB_RULES_ERR_LEN + 32];
    cflb_rules_err_t    err;
    cflb_rules_expr_t  *e;

    e = cflb_rules_compile(&c->scheme, (const unsigned char *) text, len,
                           &c->a, &err);
    if (e != NULL) {
        cflb_rules_free(e);
        cflb_test_check(&c->t, 0, __FILE__, line, "\"%.*s\" compiled",
                        (int) (len > 200 ? 200 : len), text);
        return;
    }

    snprintf(buf, sizeof(buf), "%u:%u: %s", err.line, err.column, err.msg);

    cflb_test_check(&c->t, strcmp(buf, want) == 0 && c->mem.live == 0,
                    __FILE__, line, "\"%.*s\": \"%s\" (%lu live), want \"%s\"",
                    (int) (len > 200 ? 200 : len), text, buf,
                    (unsigned long) c->mem.live, want);

    c->mem.live = 0;
}


static cflb_rules_expr_t *
t_compile(t_ctx_t *c, const char *text)
{
    cflb_rules_err_t    err;
    cflb_rules_expr_t  *e;

    e = cflb_rules_compile(&c->scheme, (const unsigned char *) text,
                           strlen(text), &c->a, &err);
    if (e == NULL) {
        printf("compile \"%s\": %u:%u: %s\n", text, err.line, err.column,
               err.msg);
    }

    cflb_check_msg(&c->t, e != NULL, "compile \"%s\"", text);

    return e;
}


static void
t_bytes(t_ctx_t *c)
{
    static const t_case_t  cases[] = {
        { "http.request.method eq \"POST\"", 1 },
        { "http.request.method == \"POST\"", 1 },
        { "http.request.method == \"post\"", 0 },
        { "http.request.method ne \"GET\"", 1 },
        { "http.request.method != \"POST\"", 0 },
        { "http.request.method lt \"PUT\"", 1 },
        { "http.request.method < \"POSTA\"", 1 },
        { "http.request.method < \"POST\"", 0 },
        { "http.request.method le \"POST\"", 1 },
        { "http.request.method <= \"POS\"", 0 },
        { "http.request.method gt \"PATCH\"", 1 },
        { "http.request.method > \"POS\"", 1 },
        { "http.request.method > \"POST\"", 0 },
        { "http.request.method ge \"POST\"", 1 },
        { "http.request.method >= \"POSTS\"", 0 },
        { "http.request.uri.path contains \"/v1/\"", 1 },
        { "http.request.uri.path contains \"/V1/\"", 0 },
        { "http.request.uri.path contains \"\"", 1 },
        { "http.request.uri.path contains \"/api/v1/users/\"", 0 },
        { "http.request.uri.path contains \"s\"", 1 },
        { "http.host wildcard \"*.example.com\"", 1 },
        { "http.host wildcard \"WWW.EXAMPLE.COM\"", 1 },
        { "http.host strict wildcard \"*.example.com\"", 0 },
        { "http.host strict wildcard \"*.Example.com\"", 1 },
        { "http.host strict  wildcard \"www.*\"", 1 },
        { "http.host wildcard \"*\"", 1 },
        { "http.host wildcard \"\"", 0 },
        { "http.host wildcard \"*.example.*.com\"", 0 },
        { "http.host wildcard \"w*w*w*.com\"", 1 },
        { "http.host wildcard \"*w*w*w*w*\"", 0 },
        { "http.host wildcard \"www.example.co\"", 0 },
        { "http.host wildcard \"www.example.com*\"", 1 },
        { "http.host wildcard \"*www.example.com\"", 1 },
        { "http.host wildcard \"*.com*.com\"", 0 },
        { "http.request.uri wildcard \"/api/*\"", 1 },
        { "http.request.uri wildcard \"/API/*\"", 1 },
        { "http.request.uri strict wildcard \"/API/*\"", 0 },
        { "http.request.uri wildcard \"/api/*/users?*filter=cdn\"", 1 },
        { "http.request.uri wildcard \"/api/*/users\"", 0 },
        { "http.request.method in {\"GET\" \"POST\"}", 1 },
        { "http.request.method in {\"GET\"\"HEAD\"}", 0 },
        { "http.request.method in {}", 0 },
        { "http.request.method in \"POST\"", 1 },
        { "http.request.method in { \"POST\" }", 1 }
    };

    T_CASES(c, cases);

    /* "\*" is a literal star, "\\" a literal backslash */
    cflb_test_req_str(&c->req, T_REFERER, "a*b\\c");
    T_EVAL(c, "http.referer wildcard r\"a\\*b\\\\c\"", 1);
    T_EVAL(c, "http.referer wildcard \"a\\\\*b\\\\\\\\c\"", 1);
    T_EVAL(c, "http.referer wildcard r\"a\\**\"", 1);
    T_EVAL(c, "http.referer wildcard r\"*\\*b*\"", 1);
    T_EVAL(c, "http.referer wildcard r\"ab*\"", 0);
    c->req.set[T_REFERER] = 0;
}


static void
t_ints(t_ctx_t *c)
{
    static const t_case_t  cases[] = {
        { "http.request.timestamp.sec == 1484063137", 1 },
        { "http.request.timestamp.sec eq 1484063136", 0 },
        { "http.request.timestamp.sec > 1484063136", 1 },
        { "http.request.timestamp.sec gt 1484063137", 0 },
        { "http.request.timestamp.sec < 1484063137", 0 },
        { "http.request.timestamp.sec lt 1484063138", 1 },
        { "http.request.timestamp.sec >= 1484063137", 1 },
        { "http.request.timestamp.sec ge 1484063138", 0 },
        { "http.request.timestamp.sec <= 1484063136", 0 },
        { "http.request.timestamp.sec le 1484063137", 1 },
        { "http.request.timestamp.sec != 0", 1 },
        { "http.request.timestamp.sec ne 1484063137", 0 },
        { "http.request.timestamp.sec > -1", 1 },
        { "cf.edge.server_port in {80 443}", 1 },
        { "cf.edge.server_port in {80..442 444..65535}", 0 },
        { "cf.edge.server_port in {1..1000}", 1 },
        { "cf.edge.server_port in {443..443}", 1 },
        { "cf.edge.server_port in 443", 1 },
        { "cf.edge.server_port == 0x1bb", 1 },
        { "cf.edge.server_port == 0673", 1 },
        { "cf.edge.server_port in {0x1BB}", 1 },
        { "cf.edge.server_port & 1", 1 },
        { "cf.edge.server_port bitwise_and 4", 0 },
        { "cf.edge.server_port & 0x100", 1 },
        { "ip.src.asnum in {-5..-1 13335}", 1 },
        { "ip.src.asnum in {-5..-1 13336}", 0 },
        { "dns.qry.type in {1 28}", 1 },
        { "dns.qry.name.len > 10", 1 }
    };

    T_CASES(c, cases);

    cflb_test_req_int(&c->req, T_TS, INT64_MAX);
    T_EVAL(c, "http.request.timestamp.sec == 9223372036854775807", 1);
    T_EVAL(c, "http.request.timestamp.sec in {9223372036854775807}", 1);
    T_EVAL(c, "http.request.timestamp.sec in {0..9223372036854775807}", 1);
    T_EVAL(c, "http.request.timestamp.sec in {1 9223372036854775806}", 0);
    T_EVAL(c, "http.request.timestamp.sec == 0x7fffffffffffffff", 1);
    cflb_test_req_int(&c->req, T_TS, INT64_MIN);
    T_EVAL(c, "http.request.timestamp.sec == -9223372036854775808", 1);
    T_EVAL(c, "http.request.timestamp.sec in {-9223372036854775808..-1}", 1);
    T_EVAL(c, "http.request.timestamp.sec < 0", 1);
    cflb_test_req_int(&c->req, T_TS, 1484063137);
}


static void
t_ips(t_ctx_t *c)
{
    static const unsigned char  v6[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
    };
    static const unsigned char  mapped[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3
    };
    static const unsigned char  v4[4] = { 203, 0, 113, 7 };

    static const t_case_t  cases4[] = {
        { "ip.src == 203.0.113.7", 1 },
        { "ip.src eq 203.0.113.8", 0 },
        { "ip.src ne 203.0.113.8", 1 },
        { "ip.src != 203.0.113.7", 0 },
        { "ip.src in {203.0.113.0/24}", 1 },
        { "ip.src in {198.51.100.0/24 2001:db8::/32}", 0 },
        { "ip.src in {203.0.113.1..203.0.113.9}", 1 },
        { "ip.src in {203.0.113.8..203.0.113.9 203.0.113.6}", 0 },
        { "ip.src in {0.0.0.0/0}", 1 },
        { "ip.src in 0.0.0.0/1", 0 },
        { "ip.src in 128.0.0.0/1", 1 },
        { "ip.src in {203.0.113.7/32}", 1 },
        { "ip.src in {203.0.113.7}", 1 },
        { "ip.src > 203.0.113.6", 1 },
        { "ip.src >= 203.0.113.8", 0 },
        { "ip.src < 10.0.0.0", 0 },
        { "ip.src le 203.0.113.7", 1 },
        { "ip.src == ::ffff:203.0.113.7", 1 },
        { "ip.src == ::ffff:cb00:7107", 1 },
        { "ip.src in {::ffff:203.0.113.0/120}", 1 },
        { "ip.src in {::ffff:203.0.113.8/125}", 0 },
        { "ip.src in {::ffff:0.0.0.0..::ffff:203.0.113.7}", 1 },
        { "ip.src in {::/0}", 1 },
        { "ip.src in {::/96 64:ff9b::/96}", 0 },
        { "ip.src == 2001:db8::1", 0 },
        { "ip.src != 2001:db8::1", 1 },
        { "ip.src < 2001:db8::1", 0 },
        { "ip.src > 2001:db8::1", 0 }
    };

    static const t_case_t  cases6[] = {
        { "ip.src in {2001:db8::/32}", 1 },
        { "ip.src == 2001:0db8:0:0:0:0:0:1", 1 },
        { "ip.src == 2001:DB8::1", 1 },
        { "ip.src == 2001:db8::0.0.0.1", 1 },
        { "ip.src in {2001:db8::/127}", 1 },
        { "ip.src in {2001:db8::2/127}", 0 },
        { "ip.src in {2001:db8::..2001:db8::ff}", 1 },
        { "ip.src in {2001:db8::2..2001:db8::ff 10.0.0.0/8}", 0 },
        { "ip.src in {2001:db8::/48 2001:db8::/33 2001:db8:8000::/33}", 1 },
        { "ip.src in {10.0.0.0/8}", 0 },
        { "ip.src in {0.0.0.0/0}", 0 },
        { "ip.src > 2001:db8::", 1 },
        { "ip.src < 2001:db8::", 0 },
        { "ip.src == 203.0.113.7", 0 },
        { "ip.src != 203.0.113.7", 1 }
    };

    static const t_case_t  casesm[] = {
        { "ip.src in {10.0.0.0/8}", 1 },
        { "ip.src == 10.1.2.3", 1 },
        { "ip.src == ::ffff:10.1.2.3", 1 },
        { "ip.src in {::ffff:10.0.0.0/104}", 1 },
        { "ip.src in {::ffff:0:0/96}", 1 },
        { "ip.src in {2001:db8::/32}", 0 }
    };

    T_CASES(c, cases4);

    cflb_test_req_ip(&c->req, v6, 1);
    T_CASES(c, cases6);

    /* an IPv4-mapped address is the IPv4 address */
    cflb_test_req_ip(&c->req, mapped, 1);
    T_CASES(c, casesm);

    cflb_test_req_ip(&c->req, v4, 0);
}


static void
t_bools(t_ctx_t *c)
{
    static const t_case_t  cases[] = {
        { "ssl", 1 },
        { "not ssl", 0 },
        { "!ssl", 0 },
        { "! ssl", 0 },
        { "ssl == true", 1 },
        { "ssl eq false", 0 },
        { "ssl != false", 1 },
        { "ssl ne true", 0 },
        { "dns.qry.qu and dns.rr.opt.client", 1 },
        { "true", 1 },
        { "false", 0 },
        { "not false", 1 },
        { "(ssl)", 1 },
        { "", 1 },
        { " \t\r\n ", 1 }
    };

    static const t_case_t  missing[] = {
        { "ssl", 0 },
        { "not ssl", 1 },
        { "ssl == false", 0 },
        { "ssl != true", 0 },
        { "not ssl == true", 1 }
    };

    T_CASES(c, cases);

    c->req.set[T_SSL] = 0;
    T_CASES(c, missing);

    cflb_test_req_int(&c->req, T_SSL, 0);
    T_EVAL(c, "not ssl", 1);
    T_EVAL(c, "ssl == false", 1);
    cflb_test_req_int(&c->req, T_SSL, 1);
}


/* not > and > xor > or, as wirefilter and the product documentation */

static void
t_logic(t_ctx_t *c)
{
    size_t  i;
    char    buf[4096];

    static const t_case_t  cases[] = {
        { "true or false and false", 1 },
        { "(true or false) and false", 0 },
        { "false and true or true", 1 },
        { "false and (true or true)", 0 },
        { "true xor true and false", 1 },
        { "(true xor true) and false", 0 },
        { "true or true xor true", 1 },
        { "(true or true) xor true", 0 },
        { "false xor true or false", 1 },
        { "not true and false", 0 },
        { "not (true and false)", 1 },
        { "not true or true", 1 },
        { "not (true or true)", 0 },
        { "true xor true xor true", 1 },
        { "true xor true xor true xor true", 0 },
        { "true ^^ false", 1 },
        { "true && false || true", 1 },
        { "true && (false || false)", 0 },
        { "!true || !false", 1 },
        { "not not true", 1 },
        { "!!!true", 0 },
        { "true and not false and not not true", 1 },
        { "((((true))))", 1 },
        { "(true)and(false)", 0 },
        { "(true)or(false)", 1 },
        { "http.request.method eq \"GET\" or http.request.method eq \"POST\""
          " and ssl", 1 },
        { "http.request.method eq \"GET\" or http.request.method eq \"POST\""
          " and not ssl", 0 },
        { "http.request.method eq \"POST\" xor ssl", 0 },
        { "ssl and ssl and ssl or false", 1 }
    };

    T_CASES(c, cases);

    /* a long chain costs no recursion */
    strcpy(buf, "ssl");
    for (i = 0; i < 400; i++) {
        strcat(buf, " and ssl");
    }

    T_EVAL(c, buf, 1);

    strcpy(buf, "false");
    for (i = 0; i < 350; i++) {
        strcat(buf, " or false");
    }

    strcat(buf, " or ssl");
    T_EVAL(c, buf, 1);
}


static void
t_strings(t_ctx_t *c)
{
    static const t_case_t  cases[] = {
        { "http.referer eq \"a\\\"b\\\\c\"", 1 },
        { "http.referer eq \"\\x61\\\"b\\\\c\"", 1 },
        { "http.referer eq \"\\141\\042b\\134c\"", 1 },
        { "http.referer eq \"\\x61\\x22\\x62\\x5C\\x63\"", 1 },
        { "http.referer eq r#\"a\"b\\c\"#", 1 },
        { "http.referer eq r##\"a\"b\\c\"##", 1 },
        { "http.referer eq r##\"a\"#b\"##", 0 },
        { "http.referer contains r\"\\c\"", 1 },
        { "http.referer contains r\"\"", 1 },
        { "http.referer eq r\"a\"", 0 },
        { "http.referer in {r#\"a\"b\\c\"# \"x\"}", 1 },
        { "http.cookie contains \"\\xff\\xfe\"", 1 },
        { "http.cookie eq \"k=\\377\\376\"", 1 },
        { "http.cookie contains \"\\xFF\"", 1 },
        { "lower(http.cookie) == \"k=\\xff\\xfe\"", 1 },
        { "upper(http.cookie) == \"K=\\xff\\xfe\"", 1 },
        { "http.cookie wildcard \"K=*\"", 1 },
        { "http.cookie strict wildcard \"k=\\xff*\"", 1 },
        { "len(http.cookie) == 4", 1 }
    };

    static const t_case_t  regex[] = {
        { "http.referer matches \"a\\\"b\"", 1 },
        { "http.referer matches \"[\\\"]b\"", 1 },
        { "http.referer matches \"[\"]b\"", 1 },
        { "http.referer matches r\"\\\\c$\"", 1 },
        { "http.referer matches \"\\\\c$\"", 1 },
        { "http.referer matches \"\\\\\\\\c$\"", 0 },
        { "http.referer ~ \"^a.b\"", 1 },
        { "http.cookie matches \"\\xff\\xfe$\"", 1 },
        { "http.cookie matches r\"^k=\\xff\"", 1 }
    };

    cflb_test_req_str(&c->req, T_REFERER, "a\"b\\c");
    cflb_test_req_str(&c->req, T_COOKIE, "k=\xff\xfe");

    T_CASES(c, cases);

    /* raw bytes in the expression itself, inside a string */
    T_EVAL(c, "http.cookie contains \"\xff\xfe\"", 1);
    T_EVAL(c, "http.cookie eq r\"k=\xff\xfe\"", 1);

    if (CFLB_TEST_REGEX) {
        T_CASES(c, regex);
    }

    c->req.set[T_REFERER] = 0;
    cflb_test_req_str(&c->req, T_COOKIE,
                  "session=8521F670545D7865F79C3D7BEDC29CCE;-background=light");
}


/* big sets against a plain scan of the same elements */

static void
t_sets(t_ctx_t *c)
{
    int                  want, got;
    char                 buf[4200], *p;
    size_t               i, v;
    cflb_rules_expr_t   *e;
    cflb_rules_input_t   in;
    cflb_rules_slot_t    slots[T_NFIELDS];
    unsigned char        ip[4];

    T_EVAL(c, "cf.edge.server_port in {1..5 3..10 11}", 0);
    cflb_test_req_int(&c->req, T_PORT, 11);
    T_EVAL(c, "cf.edge.server_port in {1..5 3..10 11}", 1);
    T_EVAL(c, "cf.edge.server_port in {12..20 1..5 6..10}", 0);
    T_EVAL(c, "cf.edge.server_port in {5 9 11 11 11 2}", 1);
    T_EVAL(c, "http.host in {\"b\" \"a\" \"www.Example.com\" \"a\"}", 1);

    /* 600 odd numbers: ports 1..1200 */
    p = buf + sprintf(buf, "cf.edge.server_port in {");
    for (i = 0; i < 600; i++) {
        p += sprintf(p, "%u ", (unsigned) (2 * (599 - i) + 1));
    }
    strcpy(p, "}");

    e = t_compile(c, buf);

    for (v = 0; e != NULL && v <= 1202; v++) {
        cflb_test_req_int(&c->req, T_PORT, (int64_t) v);
        cflb_test_input(&in, slots, NULL, 0, &c->req, &c->pa);
        got = cflb_rules_eval(e, &in);
        want = (v & 1) && v < 1200;
        cflb_check_msg(&c->t, got == want, "port %u: %d", (unsigned) v, got);
    }

    cflb_rules_free(e);

    /* 250 addresses 10.0.x.y, every 7th */
    p = buf + sprintf(buf, "ip.src in {");
    for (i = 0; i < 250; i++) {
        p += sprintf(p, "10.0.%u.%u ", (unsigned) (i * 7 / 256),
                     (unsigned) (i * 7 % 256));
    }
    strcpy(p, "}");

    e = t_compile(c, buf);

    for (v = 0; e != NULL && v < 1800; v++) {
        ip[0] = 10;
        ip[1] = 0;
        ip[2] = (unsigned char) (v / 256);
        ip[3] = (unsigned char) (v % 256);
        cflb_test_req_ip(&c->req, ip, 0);
        cflb_test_input(&in, slots, NULL, 0, &c->req, &c->pa);
        got = cflb_rules_eval(e, &in);
        want = v % 7 == 0 && v / 7 < 250;
        cflb_check_msg(&c->t, got == want, "10.0.%u.%u: %d",
                       (unsigned) (v / 256), (unsigned) (v % 256), got);
    }

    cflb_rules_free(e);

    /* 300 strings "h<i>" */
    p = buf + sprintf(buf, "http.host in {");
    for (i = 0; i < 300; i++) {
        p += sprintf(p, "\"h%u\"", (unsigned) (i * 3));
    }
    strcpy(p, "}");

    e = t_compile(c, buf);

    for (v = 0; e != NULL && v < 1000; v++) {
        sprintf(buf, "h%u", (unsigned) v);
        cflb_test_req_str(&c->req, T_HOST, buf);
        cflb_test_input(&in, slots, NULL, 0, &c->req, &c->pa);
        got = cflb_rules_eval(e, &in);
        want = v % 3 == 0 && v < 900;
        cflb_check_msg(&c->t, got == want, "host %s: %d", buf, got);
    }

    cflb_rules_free(e);
    cflb_test_req_default(&c->req);
}


static void
t_arrays(t_ctx_t *c)
{
    static const t_case_t  cases[] = {
        { "http.request.headers[\"content-type\"][0] == \"application/json\"",
          1 },
        { "http.request.headers[\"content-type\"][1] == \"application/json\"",
          0 },
        { "http.request.headers[\"accept\"][1] eq \"application/json\"", 1 },
        { "http.request.headers[ \"accept\" ][ 1 ] eq \"application/json\"",
          1 },
        { "http.request.headers[r\"accept\"][0x1] eq \"application/json\"",
          1 },
        { "any(http.request.headers[\"accept\"][*] == \"text/html\")", 1 },
        { "all(http.request.headers[\"accept\"][*] contains \"/\")", 1 },
        { "all(http.request.headers[\"accept\"][*] == \"text/html\")", 0 },
        { "any(http.request.headers[\"accept\"][*] == \"text/plain\")", 0 },
        { "len(http.request.headers[\"accept\"]) == 2", 1 },
        { "http.request.headers[\"x-empty\"][0] == \"\"", 1 },
        { "http.request.headers[\"Content-Type\"][0] == \"application/json\"",
          0 },
        { "http.request.headers.names[0] == \"Host\"", 1 },
        { "http.request.headers.names[5] == \"X-Empty\"", 1 },
        { "http.request.headers.names[6] == \"X-Empty\"", 0 },
        { "http.request.headers.names[4294967295] == \"X\"", 0 },
        { "any(lower(http.request.headers.names[*])[*] == \"content-type\")",
          1 },
        { "any(http.request.headers.names[*] == \"content-type\")", 0 },
        { "any(upper(lower(http.request.headers.names[*])[*])[*] == \"HOST\")",
          1 },
        { "lower(http.request.headers.names[*])[2] == \"accept\"", 1 },
        { "lower(http.request.headers.names[*])[9] == \"accept\"", 0 },
        { "len(lower(http.request.headers.names[*])) == 6", 1 },
        { "any(len(http.request.headers.names[*])[*] == 12)", 1 },
        { "any(starts_with(http.request.headers.names[*], \"Acc\"))", 1 },
        { "all(ends_with(http.request.uri.args.names[*], \"r\"))", 0 },
        { "any(not starts_with(http.request.headers.names[*], \"H\"))", 1 },
        { "all(not starts_with(http.request.headers.names[*], \"Z\"))", 1 },
        { "any(starts_with(http.request.headers.names[*], \"X\") == true)", 1 },
        { "starts_with(http.request.headers.names[*], \"X\")[5]", 1 },
        { "starts_with(http.request.headers.names[*], \"X\")[4]", 0 },
        { "any(http.request.uri.args.names[*] == \"filter\" and "
          "http.request.uri.args.names[*] != \"id\")", 1 },
        { "any(http.request.headers.names[*] == \"Host\" xor "
          "lower(http.request.headers.names[*])[*] == \"host\")", 0 },
        { "any((http.request.headers.names[*] == \"Host\"))", 1 },
        { "any(not (http.request.headers.names[*] != \"Host\"))", 1 },
        { "all(http.request.headers.values[*] != \"nope\")", 1 },
        { "any(http.request.headers[\"accept\"][*] == \"text/html\") and "
          "all(http.request.uri.args.names[*] != \"x\")", 1 },
        { "tcp.ports[1] == 443", 1 },
        { "tcp.ports[3] == 443", 0 },
        { "any(tcp.ports[*] in {8000..9000})", 1 },
        { "all(tcp.ports[*] > 0)", 1 },
        { "all(tcp.ports[*] > 80)", 0 },
        { "len(tcp.ports) == 3", 1 },
        { "any(tcp.ports[*] & 1)", 1 },
        { "len(http.request.uri.args[\"filter\"][1]) == 4", 1 },
        { "all(len(http.request.uri.args[\"filter\"][*])[*] in {3 4})", 1 },
        { "all(not len(http.request.uri.args[\"filter\"][*])[*] in {3 4})",
          0 },
        { "len(http.request.uri.args[\"filter\"]) >= 0", 1 },
        { "not len(http.request.uri.args[\"order\"]) >= 0", 1 },
        { "http.request.uri.args[\"filter\"][2] == \"cdn\"", 1 },
        { "any(http.request.uri.args[\"filter\"][*] wildcard \"B*\")", 1 },
        { "any(http.request.uri.args[\"filter\"][*] strict wildcard \"B*\")",
          0 },
        { "any(http.request.uri.args.values[*] in {\"cdn\" \"x\"})", 1 },
        { "any(concat(http.request.uri.args.names[*], \"=\")[*] == \"id=\")",
          1 },
        { "any(url_decode(http.request.uri.args.values[*])[*] == "
          "\"red apples\")", 1 }
    };

    T_CASES(c, cases);
}


static void
t_functions(t_ctx_t *c)
{
    size_t  i;

    static const t_case_t  cases[] = {
        { "lower(http.host) == \"www.example.com\"", 1 },
        { "upper(http.host) == \"WWW.EXAMPLE.COM\"", 1 },
        { "lower(http.request.uri.path) == \"/api/v1/users\"", 1 },
        { "lower(\"AbC\") == \"abc\"", 1 },
        { "len(http.host) == 15", 1 },
        { "len(http.host) in {10..20}", 1 },
        { "len(\"\") == 0", 1 },
        { "starts_with(http.request.uri.path, \"/api/\")", 1 },
        { "starts_with(http.request.uri.path, \"/API/\")", 0 },
        { "starts_with(http.request.uri.path, \"\")", 1 },
        { "starts_with(http.request.uri.path, \"/api/v1/users/x\")", 0 },
        { "ends_with(http.request.uri.path, \"/users\")", 1 },
        { "ends_with(http.request.uri.path, \"users/\")", 0 },
        { "ends_with(http.host, http.host)", 1 },
        { "starts_with(lower(http.host), \"www.example\")", 1 },
        { "not starts_with(lower(http.host), \"www.example\")", 0 },
        { "concat(http.host, \"/\", http.request.method) == "
          "\"www.Example.com/POST\"", 1 },
        { "concat(\"a\", \"b\") == \"ab\"", 1 },
        { "concat(\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", "
          "\"i\", \"j\", lower(http.request.method)) == \"abcdefghijpost\"",
          1 },
        { "len(concat(http.host, http.host)) == 30", 1 },
        { "url_decode(\"John%20Doe\") == \"John Doe\"", 1 },
        { "url_decode(\"John+Doe\") == \"John Doe\"", 1 },
        { "url_decode(\"%2520\") == \"%20\"", 1 },
        { "url_decode(\"%2520\", \"r\") == \" \"", 1 },
        { "url_decode(\"%252541\", \"r\") == \"A\"", 1 },
        { "url_decode(\"%%341\", \"r\") == \"A\"", 1 },
        { "url_decode(\"%2B\") == \"+\"", 1 },
        { "url_decode(\"%E4%BD\") == \"\\xe4\\xbd\"", 1 },
        { "url_decode(\"%u2601\", \"u\") == \"\\xe2\\x98\\x81\"", 1 },
        { "url_decode(\"%u00e9%u0041\", \"u\") == \"\\xc3\\xa9A\"", 1 },
        { "url_decode(\"%u2601\") == \"%u2601\"", 1 },
        { "url_decode(\"%ud83d\", \"u\") == \"%ud83d\"", 1 },
        { "url_decode(\"%u25252541\", \"ur\") == \"\\xe2\\x94\\xa52541\"",
          1 },
        { "url_decode(\"%25u2601\", \"ur\") == \"\\xe2\\x98\\x81\"", 1 },
        { "url_decode(\"%25u2601\", \"u\") == \"%u2601\"", 1 },
        { "url_decode(\"%zz%4%\") == \"%zz%4%\"", 1 },
        { "url_decode(\"%41%42c\") == \"ABc\"", 1 },
        { "url_decode(\"\") == \"\"", 1 },
        { "url_decode(http.request.uri.query) contains \"red apples\"", 1 },
        { "url_decode(http.request.uri.path, \"ru\") == \"/api/v1/users\"",
          1 }
    };

    T_CASES(c, cases);

    /* the recursive decoding reaches the same fixpoint as repeated passes */
    for (i = 0; i < 2; i++) {
        cflb_test_req_str(&c->req, T_REFERER, i ? "%25%32%35%34%31"
                                                : "%2525252525252541");
        T_EVAL(c, "url_decode(http.referer, \"r\") == \"A\"", 1);
    }

    c->req.set[T_REFERER] = 0;
}


/* a missing value makes every comparison false, != included */

static void
t_missing(t_ctx_t *c)
{
    static const t_case_t  cases[] = {
        { "http.referer eq \"\"", 0 },
        { "http.referer ne \"x\"", 0 },
        { "http.referer lt \"x\"", 0 },
        { "http.referer contains \"\"", 0 },
        { "http.referer wildcard \"*\"", 0 },
        { "http.referer in {\"\" \"x\"}", 0 },
        { "not http.referer eq \"x\"", 1 },
        { "not http.referer ne \"x\"", 1 },
        { "len(http.referer) == 0", 0 },
        { "len(http.referer) != 0", 0 },
        { "lower(http.referer) == \"\"", 0 },
        { "url_decode(http.referer) == \"\"", 0 },
        { "concat(http.referer, \"x\") == \"x\"", 1 },
        { "concat(http.referer, http.referer) == \"\"", 0 },
        { "starts_with(http.referer, \"\")", 0 },
        { "not starts_with(http.referer, \"\")", 1 },
        { "ends_with(http.host, http.referer)", 0 },
        { "http.request.uri.query contains \"a\"", 0 },
        { "http.request.uri.query == \"\"", 0 },
        { "http.request.headers[\"x-missing\"][0] == \"a\"", 0 },
        { "http.request.headers[\"x-missing\"][0] != \"a\"", 0 },
        { "not http.request.headers[\"x-missing\"][0] == \"a\"", 1 },
        { "any(http.request.headers[\"x-missing\"][*] == \"a\")", 0 },
        { "all(http.request.headers[\"x-missing\"][*] == \"a\")", 1 },
        { "len(http.request.headers[\"x-missing\"]) >= 0", 0 },
        { "any(lower(http.request.headers[\"x-missing\"][*])[*] == \"a\")",
          0 },
        { "ip.src == 1.2.3.4", 0 },
        { "ip.src != 1.2.3.4", 0 },
        { "ip.src in {0.0.0.0/0 ::/0}", 0 },
        { "cf.edge.server_port in {0..65535}", 0 },
        { "cf.edge.server_port != 1", 0 },
        { "cf.edge.server_port & 1", 0 },
        { "http.cookie eq \"\"", 1 },
        { "len(http.cookie) == 0", 1 },
        { "http.cookie contains \"\"", 1 },
        { "http.cookie wildcard \"*\"", 1 },
        { "http.cookie wildcard \"\"", 1 },
        { "http.cookie strict wildcard \"*a*\"", 0 },
        { "lower(http.cookie) == \"\"", 1 },
        { "url_decode(http.cookie) == \"\"", 1 },
        { "any(http.request.uri.args.names[*] == \"x\")", 0 },
        { "all(http.request.uri.args.names[*] == \"x\")", 1 },
        { "len(http.request.uri.args.names) == 0", 1 },
        { "http.request.uri.args[\"id\"][0] == \"42\"", 0 },
        { "all(http.request.uri.args[\"id\"][*] == \"42\")", 1 }
    };

    /* no Referer, no query, an empty cookie, no arguments at all */
    c->req.set[T_REFERER] = 0;
    c->req.set[T_QUERY] = 0;
    c->req.set[T_IP] = 0;
    c->req.set[T_PORT] = 0;
    c->req.set[T_ARGS] = 0;
    cflb_test_req_str(&c->req, T_COOKIE, "");
    cflb_test_req_array(&c->req, T_ARG_NAMES, NULL, 0);

    T_CASES(c, cases);

    /* a NULL empty string from the caller works as "" */
    c->req.v[T_COOKIE].u.s.data = NULL;
    T_EVAL(c, "http.cookie eq \"\"", 1);
    T_EVAL(c, "http.cookie contains \"\"", 1);

    cflb_test_req_default(&c->req);
}


static void
t_repeated(t_ctx_t *c)
{
    char             *names;
    size_t            i;
    cflb_str_t        vals[100];
    cflb_test_kv_t    kv[2];

    names = malloc(100 * 8);
    if (names == NULL) {
        abort();
    }

    for (i = 0; i < 100; i++) {
        vals[i].data = (unsigned char *) names + 8 * i;
        vals[i].len = (size_t) sprintf(names + 8 * i, "V%u", (unsigned) i);
    }

    kv[0] = cflb_test_headers[1];
    kv[1].name = "x-rep";
    kv[1].vals = vals;
    kv[1].n = 100;
    c->req.headers = kv;
    c->req.nheaders = 2;
    c->req.lookups = 0;

    T_EVAL(c, "len(http.request.headers[\"x-rep\"]) == 100", 1);
    T_EVAL(c, "http.request.headers[\"x-rep\"][99] == \"V99\"", 1);
    T_EVAL(c, "http.request.headers[\"x-rep\"][100] == \"V100\"", 0);
    T_EVAL(c, "any(http.request.headers[\"x-rep\"][*] == \"V57\")", 1);
    T_EVAL(c, "all(starts_with(http.request.headers[\"x-rep\"][*], \"V\"))",
           1);
    T_EVAL(c, "any(lower(http.request.headers[\"x-rep\"][*])[*] == \"v99\")",
           1);
    T_EVAL(c, "any(lower(http.request.headers[\"x-rep\"][*])[*] == \"v100\")",
           0);
    T_EVAL(c, "all(len(http.request.headers[\"x-rep\"][*])[*] in {2 3})", 1);
    cflb_check(&c->t, c->req.lookups == 8);

    /* one lookup serves every use of the key in a rule */
    c->req.lookups = 0;
    T_EVAL(c, "any(http.request.headers[\"x-rep\"][*] == \"V99\") and "
           "http.request.headers[\"x-rep\"][0] == \"V0\" and "
           "len(http.request.headers[\"x-rep\"]) == 100", 1);
    cflb_check(&c->t, c->req.lookups == 1);

    free(names);
    cflb_test_req_default(&c->req);
}


/* a 64 KB URI, and patterns built to be slow for naive matchers */

static void
t_big(t_ctx_t *c)
{
    char   *uri;
    size_t  len;

    len = 65536;
    uri = malloc(len + 1);
    if (uri == NULL) {
        abort();
    }

    memset(uri, 'a', len);
    uri[0] = '/';
    memcpy(uri + len - 10, "needle%41Z", 10);
    uri[len] = '\0';
    cflb_test_req_str(&c->req, T_URI, uri);

    T_EVAL(c, "len(http.request.uri) == 65536", 1);
    T_EVAL(c, "http.request.uri contains \"needle\"", 1);
    T_EVAL(c, "http.request.uri contains \"needlf\"", 0);
    T_EVAL(c, "http.request.uri wildcard \"/*needle*\"", 1);
    T_EVAL(c, "http.request.uri strict wildcard \"/*NEEDLE*\"", 0);
    T_EVAL(c, "http.request.uri wildcard \"/*a*a*a*a*a*a*a*b*\"", 0);
    T_EVAL(c, "lower(http.request.uri) contains \"needle%41z\"", 1);
    T_EVAL(c, "upper(http.request.uri) contains \"NEEDLE\"", 1);
    T_EVAL(c, "url_decode(http.request.uri) contains \"needleAZ\"", 1);
    T_EVAL(c, "ends_with(url_decode(http.request.uri, \"r\"), \"AZ\")", 1);
    T_EVAL(c, "len(url_decode(http.request.uri)) == 65534", 1);
    T_EVAL(c, "concat(http.request.uri, http.request.uri) contains "
           "\"Z/aaa\"", 1);

    if (CFLB_TEST_REGEX) {
        T_EVAL(c, "http.request.uri matches \"needle%41Z$\"", 1);
        T_EVAL(c, "http.request.uri matches \"^/a+n\"", 1);
    }

    /* a needle of 3000 a's and a b: linear, not 64K x 3000 */
    memset(uri, 'a', len);
    cflb_test_req_str(&c->req, T_URI, uri);

    {
        char  *text;

        text = malloc(3100);
        if (text == NULL) {
            abort();
        }

        strcpy(text, "http.request.uri contains \"");
        len = strlen(text);
        memset(text + len, 'a', 3000);
        strcpy(text + len + 3000, "b\"");
        T_EVAL(c, text, 0);

        text[len + 3000] = '"';
        text[len + 3001] = '\0';
        T_EVAL(c, text, 1);

        free(text);
    }

    free(uri);
    cflb_test_req_default(&c->req);
}


static void
t_limits(t_ctx_t *c)
{
    char    *text;
    size_t   i, len;

    text = malloc(20000);
    if (text == NULL) {
        abort();
    }

    /* 4,096 characters compile, 4,097 do not */
    strcpy(text, "http.host ne \"");
    len = strlen(text);
    memset(text + len, 'x', 4096 - len - 1);
    text[4095] = '"';
    text[4096] = '\0';
    cflb_check(&c->t, strlen(text) == 4096);
    T_EVAL(c, text, 1);

    text[4095] = 'x';
    text[4096] = '"';
    text[4097] = '\0';
    T_BAD(c, text, "1:4097: expression is longer than 4096 characters");

    /* characters, not bytes: 2,000 two-byte characters in a string */
    strcpy(text, "http.host ne \"");
    len = strlen(text);
    for (i = 0; i < 2000; i++) {
        memcpy(text + len + 2 * i, "\xc3\xa9", 2);
    }
    text[len + 4000] = '"';
    text[len + 4001] = '\0';
    T_EVAL(c, text, 1);

    /* 64 levels of nesting compile, 65 do not */
    for (i = 0; i < 64; i++) {
        text[i] = '(';
    }
    strcpy(text + 64, "ssl");
    for (i = 0; i < 64; i++) {
        strcat(text, ")");
    }
    T_EVAL(c, text, 1);

    memmove(text + 1, text, strlen(text) + 1);
    strcat(text, ")");
    T_BAD(c, text, "1:65: expression nests deeper than 64 levels");

    text[0] = '\0';
    for (i = 0; i < 64; i++) {
        strcat(text, "not ");
    }
    strcat(text, "ssl");
    T_EVAL(c, text, 1);

    memmove(text + 1, text, strlen(text) + 1);
    text[0] = '!';
    T_BAD(c, text, "1:254: expression nests deeper than 64 levels");

    text[0] = '\0';
    for (i = 0; i < 64; i++) {
        strcat(text, "lower(");
    }
    strcat(text, "http.host");
    for (i = 0; i < 64; i++) {
        strcat(text, ")");
    }
    strcat(text, " == \"www.example.com\"");
    T_EVAL(c, text, 1);

    memmove(text + 6, text, strlen(text) + 1);
    memcpy(text, "lower(", 6);
    strcpy(text + strlen(text) - 21, ") == \"www.example.com\"");
    T_BAD(c, text, "1:385: expression nests deeper than 64 levels");

    /* deep mixes, and a very deep one stops at the limit */
    text[0] = '\0';
    for (i = 0; i < 4000; i++) {
        strcat(text, "(");
    }
    T_BAD(c, text, "1:65: expression nests deeper than 64 levels");

    free(text);
}


static void
t_errors(t_ctx_t *c)
{
    size_t  i;

    static const t_bad_t  bad[] = {
        { "http.host eq \"a\" and http.request.urii eq \"b\"",
          "1:22: unknown field \"http.request.urii\"" },
        { "http.request.timestamp.sec contains \"1\"",
          "1:28: \"contains\" needs bytes, http.request.timestamp.sec is an "
          "integer" },
        { "ip.src wildcard \"1.*\"",
          "1:8: \"wildcard\" needs bytes, ip.src is an IP address" },
        { "ip.src strict  wildcard \"1.*\"",
          "1:8: \"strict  wildcard\" needs bytes, ip.src is an IP address" },
        { "http.host & 1",
          "1:11: \"&\" needs an integer, http.host is bytes" },
        { "len(http.host) matches \"1\"",
          "1:16: \"matches\" needs bytes, len(http.host) is an integer" },
        { "http.host eq \"abc", "1:14: unterminated string" },
        { "http.host eq \"abc\\", "1:14: unterminated string" },
        { "http.host eq r#\"abc\"", "1:14: unterminated raw string" },
        { "http.host eq r#abc",
          "1:16: expected \"\\\"\" to open a raw string" },
        { "ip.src in {10.0.0.0/8 192.168.0.0/16",
          "1:37: expected \"}\"" },
        { "ip.src in {10.0.0.0/8 \"a\"}",
          "1:23: expected an IP address or \"}\"" },
        { "http.host in {\"a\" 1}", "1:19: expected a string or \"}\"" },
        { "cf.edge.server_port in {1 \"a\"}",
          "1:27: expected an integer or \"}\"" },
        { "cf.edge.server_port in x", "1:24: expected an integer or \"{\"" },
        { "http.host eq \"a\" and", "1:21: expected a condition" },
        { "not", "1:4: expected a condition" },
        { "(ssl", "1:5: expected \")\"" },
        { "ssl)", "1:4: unexpected \")\"" },
        { "http.host eq \"a\" http.host", "1:18: unexpected \"http.host\"" },
        { "ssl ssl", "1:5: unexpected \"ssl\"" },
        { "and ssl", "1:1: expected a field or a function, found \"and\"" },
        { "== \"a\"", "1:1: expected a field or a function, found \"=\"" },
        { "http.host ==", "1:13: expected a string" },
        { "http.host == 1", "1:14: expected a string" },
        { "cf.edge.server_port == \"1\"", "1:24: expected an integer" },
        { "ip.src == \"1\"", "1:11: expected an IP address" },
        { "http.host", "1:10: expected a comparison operator after "
          "http.host" },
        { "http.host equals \"a\"",
          "1:11: expected a comparison operator after http.host" },
        { "http.host eqq \"a\"",
          "1:11: expected a comparison operator after http.host" },
        { "http.host && ssl",
          "1:11: expected a comparison operator after http.host" },
        { "http.host strict \"a\"",
          "1:11: expected a comparison operator after http.host" },
        { "ssl == maybe", "1:8: expected true or false" },
        { "http.host eq \"\\q\"",
          "1:15: invalid escape \"\\q\", expected \\\", \\\\, \\xHH or \\OOO" },
        { "http.host eq \"\\x4\"",
          "1:15: \"\\x\" needs two hexadecimal digits" },
        { "http.host eq \"\\400\"",
          "1:15: \"\\\" needs three octal digits up to \\377" },
        { "http.host wildcard \"a**b\"",
          "1:20: wildcard contains a double star" },
        { "http.host wildcard r\"a\\b\"",
          "1:20: invalid escape \"\\b\" in wildcard, expected \\* or \\\\" },
        { "http.host wildcard r\"a\\\"",
          "1:20: wildcard ends with \"\\\"" },
        { "http.host wildcard r\"\\\\**\"",
          "1:20: wildcard contains a double star" },
        { "ip.src == 10.0.0.0/8", "1:11: \"10.0.0.0/8\" is not one address: "
          "use \"in\" for a CIDR or a range" },
        { "ip.src == 1.1.1.1..1.1.1.2", "1:11: \"1.1.1.1..1.1.1.2\" is not "
          "one address: use \"in\" for a CIDR or a range" },
        { "ip.src in {10.0.0.1/8}", "1:12: invalid CIDR \"10.0.0.1/8\"" },
        { "ip.src in {10.0.0.0/33}", "1:12: invalid CIDR \"10.0.0.0/33\"" },
        { "ip.src in {10.0.0.0/}", "1:12: invalid CIDR \"10.0.0.0/\"" },
        { "ip.src in {::/129}", "1:12: invalid CIDR \"::/129\"" },
        { "ip.src in {1.2.3.256}", "1:12: invalid IP address \"1.2.3.256\"" },
        { "ip.src in {1.2.3}", "1:12: invalid IP address \"1.2.3\"" },
        { "ip.src in {01.2.3.4}", "1:12: invalid IP address \"01.2.3.4\"" },
        { "ip.src in {1:2:3:4:5:6:7:8:9}",
          "1:12: invalid IP address \"1:2:3:4:5:6:7:8:9\"" },
        { "ip.src in {1::2::3}", "1:12: invalid IP address \"1::2::3\"" },
        { "ip.src in {1:2:3:4:5:6:7::8}",
          "1:12: invalid IP address \"1:2:3:4:5:6:7::8\"" },
        { "ip.src in {12345::}", "1:12: invalid IP address \"12345::\"" },
        { "ip.src in {1.2.3.4..1.2.3.3}",
          "1:12: invalid IP range \"1.2.3.4..1.2.3.3\"" },
        { "ip.src in {1.2.3.4..::1}",
          "1:12: invalid IP range \"1.2.3.4..::1\"" },
        { "ip.src == 1.2.3.4x", "1:18: unexpected \"x\"" },
        { "http.request.headers == \"a\"",
          "1:21: http.request.headers is a map: index it with [\"key\"]" },
        { "http.request.headers.names == \"a\"",
          "1:27: http.request.headers.names is an array: use [N], or [*] "
          "inside any() or all()" },
        { "lower(http.request.headers.names[*]) == \"a\"",
          "1:37: lower(http.request.headers.names[*]) is an array: use [N], "
          "or [*] inside any() or all()" },
        { "http.request.headers.names[*] == \"a\"",
          "1:1: http.request.headers.names[*] needs any() or all() around "
          "its condition" },
        { "not starts_with(http.request.headers.names[*], \"a\")",
          "1:5: starts_with(http.request.headers.names[*], \"a\") needs "
          "any() or all() around its condition" },
        { "any(ssl)",
          "1:5: any() needs a condition on [*], such as any(x[*] == \"a\")" },
        { "all(http.host eq \"a\")",
          "1:5: all() needs a condition on [*], such as all(x[*] == \"a\")" },
        { "any(http.request.headers.names[*] == \"a\" and "
          "http.request.uri.args.names[*] == \"b\")",
          "1:46: every [*] in one any() or all() must be on the same array" },
        { "any(http.request.headers[\"a\"][*] == \"a\" or "
          "http.request.headers[\"b\"][*] == \"b\")",
          "1:44: every [*] in one any() or all() must be on the same array" },
        { "any(http.request.headers.names[*] == \"a\" and ssl)",
          "1:42: \"and\" cannot combine a condition on [*] with one that is "
          "not" },
        { "any(ssl || http.request.headers.names[*] == \"a\")",
          "1:9: \"||\" cannot combine a condition on [*] with one that is not"
        },
        { "any(http.request.headers.names[*] == \"Host\" or "
          "(ssl and false))",
          "1:45: \"or\" cannot combine a condition on [*] with one that is "
          "not" },
        { "any(http.request.headers.names[*] == \"a\"",
          "1:41: expected \")\"" },
        { "any(http.request.headers.names[*][*] == \"a\")",
          "1:34: http.request.headers.names[*] is not an array, it is bytes" },
        { "lower(http.request.timestamp.sec) == \"a\"",
          "1:7: lower() needs bytes, http.request.timestamp.sec is an "
          "integer" },
        { "lower(http.host, http.host) == \"a\"",
          "1:1: lower() takes 1 argument, not 2" },
        { "lower() == \"a\"", "1:1: lower() takes 1 argument, not 0" },
        { "concat(http.host) == \"a\"",
          "1:1: concat() takes at least 2 arguments, not 1" },
        { "url_decode(http.host, \"r\", \"u\") == \"a\"",
          "1:1: url_decode() takes 1 or 2 arguments, not 3" },
        { "url_decode(http.host, \"x\") == \"a\"",
          "1:23: url_decode() options are \"r\" and \"u\"" },
        { "url_decode(http.host, http.host) == \"a\"",
          "1:23: url_decode() options must be a string" },
        { "starts_with(http.host, 1)",
          "1:24: starts_with() needs bytes, 1 is an integer" },
        { "len(ssl) == 1", "1:5: len() needs bytes or an array, ssl is a "
          "boolean" },
        { "len(http.request.headers) == 1", "1:5: len() needs bytes or an "
          "array, http.request.headers is a map" },
        { "concat(http.host, http.request.headers.names[*]) == \"a\"",
          "1:19: [*] is only allowed in the first argument of concat()" },
        { "lower(http.host", "1:16: expected \",\" or \")\"" },
        { "lower(http.host,", "1:17: expected a field or a function" },
        { "foo(http.host) == \"a\"", "1:1: unknown function \"foo\"" },
        { "lower(any(http.request.headers.names[*] == \"a\")) == \"a\"",
          "1:7: any() is a condition, not a value" },
        { "http.host[0] == \"a\"",
          "1:10: http.host is not an array, it is bytes" },
        { "http.request.uri.args.names[\"a\"][0] == \"a\"",
          "1:28: http.request.uri.args.names is not a map, it is an array" },
        { "http.request.headers[0][0] == \"a\"",
          "1:21: http.request.headers is a map: index it with [\"key\"]" },
        { "any(http.request.headers[*][0] == \"a\")",
          "1:25: [*] over a map is not supported, index "
          "http.request.headers with [\"key\"]" },
        { "http.request.headers[\"a\"[0] == \"a\"",
          "1:25: expected \"]\"" },
        { "http.request.headers.names[-1] == \"a\"",
          "1:30: index -1 is out of range" },
        { "http.request.headers.names[4294967296] == \"a\"",
          "1:38: index 4294967296 is out of range" },
        { "http.request.headers.names[x] == \"a\"",
          "1:28: expected a number, a string or \"*\" inside []" },
        { "http.request.timestamp.sec > 99999999999999999999",
          "1:30: integer \"99999999999999999999\" is out of range" },
        { "http.request.timestamp.sec > 9223372036854775808",
          "1:30: integer \"9223372036854775808\" is out of range" },
        { "http.request.timestamp.sec > 08",
          "1:30: invalid integer \"08\"" },
        { "http.request.timestamp.sec > 12ab",
          "1:30: invalid integer \"12ab\"" },
        { "http.request.timestamp.sec > 0x",
          "1:30: invalid integer \"0x\"" },
        { "http.request.timestamp.sec > -",
          "1:30: expected a number after \"-\"" },
        { "cf.edge.server_port in {443..80}",
          "1:25: empty range: 80 is below 443" },
        { "cf.edge.server_port in {443..}",
          "1:30: expected an integer after \"..\"" },
        { "http.host ~ r\"a\"", "" },
        { "ssl and\n  http.urii == \"a\"",
          "2:3: unknown field \"http.urii\"" },
        { "ssl and\r\n\thttp.host ==\n\"a", "3:1: unterminated string" },
        { "http.host eq \"a\" and http.host eq \"b\" or\n"
          "\n"
          "    http.host eq \"c\" xor http.host contains 5",
          "3:45: expected a string" },
        { "http.host eq \"\xff\" and \xff",
          "1:22: expected a field or a function, found \"\\xff\"" },
        { "\"a\" == http.host",
          "1:1: expected a field or a function, found a string" },
        { "r#\"a\"# == http.host",
          "1:1: expected a field or a function, found a string" },
        { "http..host == \"a\"", "1:1: unknown field \"http\"" },
        { "http.host. == \"a\"", "1:10: expected a comparison operator after "
          "http.host" }
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i].want[0] == '\0') {
            continue;
        }

        t_bad_check(c, __LINE__, bad[i].text, strlen(bad[i].text),
                    bad[i].want);
    }

    /* a NUL byte is just an unexpected character */
    t_bad_check(c, __LINE__, "ssl \0 ssl", 9, "1:5: unexpected \"\\x00\"");
    t_bad_check(c, __LINE__, "http.host eq \"a\0", 16,
                "1:14: unterminated string");
    t_eval_check(c, __LINE__, "http.host ne \"a\0b\"", 18, 1);

    if (CFLB_TEST_REGEX) {
        T_BAD(c, "http.host matches \"(a\"",
              "1:19: missing closing parenthesis");
        T_BAD(c, "http.host ~ r\"a{2,1}\"",
              "1:13: numbers out of order in {} quantifier");
    }

    /* without a regex engine, "matches" is refused */
    c->scheme.regex_compile = NULL;
    T_BAD(c, "http.host matches \"a\"", "1:11: \"matches\" is not available "
          "here");
    cflb_test_scheme(&c->scheme, &c->re);
}


/* the examples of the product manual and of the language reference */

static void
t_manual(t_ctx_t *c)
{
    static const unsigned char  low[4] = { 100, 64, 1, 2 };

    static const t_case_t  cases[] = {
        { "(http.request.uri.path contains \"/content\")", 0 },
        { "(http.request.uri.path contains \"/content\")\n"
          "and (http.request.uri.query contains \"webserver\")", 0 },
        { "http.request.uri.path contains \"/testing\"", 0 },
        { "http.request.uri.path contains \"/blog\"", 0 },
        { "http.request.method eq \"POST\"", 1 },
        { "ip.src in 0.0.0.0/1", 0 },
        { "ip.src in {0.0.0.0/1}", 0 },
        { "any(http.request.headers[\"content-type\"][*] == "
          "\"application/json\")", 1 },
        { "all(http.request.headers[\"content-type\"][*] == "
          "\"application/json\")", 1 },
        { "any(http.request.uri.args[\"search\"][*] == \"red+apples\")", 1 },
        { "any(http.request.uri.args.names[*] == \"search\")", 1 },
        { "any(http.request.uri.args.values[*] == \"red+apples\")", 1 },
        { "lower(http.host) == \"www.example.com\"", 1 },
        { "http.request.uri.path eq \"/articles/2008/\"", 0 },
        { "ip.src ne 203.0.113.0", 1 },
        { "http.request.uri.path contains \"/articles/\"", 0 },
        { "ip.src in { 203.0.113.0 203.0.113.1 }", 0 },
        { "not ( http.host eq \"www.cloudflare.com\" and "
          "ip.src in {203.0.113.0/24} )", 1 },
        { "http.host eq \"www.cloudflare.com\" xor "
          "ip.src in {203.0.113.0/24}", 1 },
        { "http.host eq \"www.cloudflare.com\" or ip.src in 203.0.113.0/24",
          1 },
        { "http.request.uri.path ~ \"^/articles/200[7-8]/$\"", -1 },
        { "(\n (http.host eq \"api.example.com\" and "
          "http.request.uri.path eq \"/api/v2/auth\") or\n"
          " (http.host matches \"^(www|store|blog)\\.example\\.com\" and "
          "http.request.uri.path contains \"wp-login.php\") or\n"
          " ip.src.country in {\"CN\" \"TH\" \"US\" \"ID\" \"KR\" \"MY\" "
          "\"IT\" \"SG\" \"GB\"} or ip.src.asnum in {12345 54321 11111}\n"
          ") and not ip.src in {11.22.33.0/24}", 1 },
        { "any(lower(http.request.headers.names[*])[*] == \"content-type\")",
          1 },
        { "http.request.headers.names[0] == \"Content-Type\"", 0 },
        { "ends_with(http.request.uri.path, \".html\")", 0 },
        { "starts_with(http.request.uri.path, \"/blog\")", 0 },
        { "lower(http.request.uri.path) contains \"/wp-login.php\"", 0 },
        { "http.host in {\"example.com\" \"example.net\"}", 0 },
        { "ip.src in {198.51.100.1 198.51.100.3..198.51.100.7 "
          "192.0.2.0/24 2001:0db8::/32}", 0 },
        { "tcp.ports[0] in {8000..8009 8080..8089}", 0 },
        { "cf.load_balancer.name eq \"lb.example.com\" and "
          "cf.load_balancer.region eq \"ENAM\"", 1 },
        { "http.request.version in {\"HTTP/1.1\" \"HTTP/2\"}", 1 },
        { "dns.qry.name wildcard \"*.example.com.\"", 1 },
        { "ends_with(dns.qry.name, \".com.\")", 1 },
        { "dns.rr.opt.client and dns.rr.opt.client.addr eq \"198.51.100.0\"",
          1 },
        { "http.user_agent contains \"curl/\" and http.cookie contains "
          "\"session=\"", 1 },
        { "http.request.uri eq \"/api/v1/users?id=42&search=red+apples&"
          "filter=waf&filter=botm&filter=cdn\"", 1 }
    };

    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].want < 0) {
            if (CFLB_TEST_REGEX) {
                t_eval_check(c, __LINE__, cases[i].text,
                             strlen(cases[i].text), 0);
            }

            continue;
        }

        if (!CFLB_TEST_REGEX && strstr(cases[i].text, "matches") != NULL) {
            continue;
        }

        t_eval_check(c, __LINE__, cases[i].text, strlen(cases[i].text),
                     cases[i].want);
    }

    /* the DNS persistence recipe: the lower half of the IPv4 space */
    cflb_test_req_ip(&c->req, low, 0);
    T_EVAL(c, "ip.src in 0.0.0.0/1", 1);

    cflb_test_req_str(&c->req, T_PATH, "/content/x");
    cflb_test_req_str(&c->req, T_QUERY, "a=webserver");
    T_EVAL(c, "(http.request.uri.path contains \"/content\")\n"
           "and (http.request.uri.query contains \"webserver\")", 1);

    cflb_test_req_str(&c->req, T_PATH, "/testing");
    T_EVAL(c, "http.request.uri.path contains \"/testing\"", 1);

    cflb_test_req_str(&c->req, T_PATH, "/blog/first-post");
    T_EVAL(c, "http.request.uri.path contains \"/blog\"", 1);
    T_EVAL(c, "starts_with(http.request.uri.path, \"/blog\")", 1);

    cflb_test_req_default(&c->req);
}


/*
 * Fields are fetched only when needed and once per request, across
 * rules; map lookups once per key when there is room for it.
 */

static void
t_lazy(t_ctx_t *c)
{
    int                  rc;
    size_t               i, nkeys;
    cflb_rules_expr_t   *e[3];
    cflb_rules_input_t   in;
    cflb_rules_slot_t    slots[T_NFIELDS];
    cflb_rules_kslot_t   keys[8];

    static const char  *rules[3] = {
        "http.host eq \"x\" or http.host eq \"www.Example.com\" and "
        "http.request.headers[\"accept\"][0] eq \"text/html\"",
        "lower(http.host) == \"www.example.com\" and "
        "any(http.request.headers[\"accept\"][*] == \"x\")",
        "http.request.headers[\"accept\"][1] == \"application/json\" and "
        "http.request.headers[\"host\"][0] == \"www.Example.com\" or ssl"
    };

    memset(c->req.gets, 0, sizeof(c->req.gets));
    c->req.lookups = 0;

    T_EVAL(c, "false and http.host eq \"x\"", 0);
    T_EVAL(c, "true or http.host eq \"x\"", 1);
    T_EVAL(c, "ssl or http.host eq \"x\"", 1);
    cflb_check(&c->t, c->req.gets[T_HOST] == 0);
    cflb_check(&c->t, c->req.gets[T_SSL] == 1);

    nkeys = 0;

    for (i = 0; i < 3; i++) {
        e[i] = t_compile(c, rules[i]);
        if (e[i] == NULL) {
            while (i--) {
                cflb_rules_free(e[i]);
            }

            return;
        }

        nkeys += cflb_rules_nkeys(e[i]);
    }

    cflb_check(&c->t, cflb_rules_nkeys(e[0]) == 1);
    cflb_check(&c->t, cflb_rules_nkeys(e[2]) == 2);
    cflb_check(&c->t, nkeys == 4);

    /* one shared cache: each field once, each key once */
    memset(c->req.gets, 0, sizeof(c->req.gets));
    c->req.lookups = 0;
    cflb_test_input(&in, slots, keys, nkeys, &c->req, &c->pa);

    for (i = 0; i < 3; i++) {
        rc = cflb_rules_eval(e[i], &in);
        cflb_check_msg(&c->t, rc == (i != 1), "rule %u: %d", (unsigned) i, rc);
    }

    cflb_check(&c->t, c->req.gets[T_HOST] == 1);
    cflb_check(&c->t, c->req.gets[T_SSL] == 0);
    cflb_check(&c->t, c->req.lookups == 2);

    /* the second round is all from the cache */
    for (i = 0; i < 3; i++) {
        rc = cflb_rules_eval(e[i], &in);
        cflb_check(&c->t, rc == (i != 1));
    }

    cflb_check(&c->t, c->req.gets[T_HOST] == 1 && c->req.lookups == 2);

    /* without room for keys, every lookup calls back */
    memset(c->req.gets, 0, sizeof(c->req.gets));
    c->req.lookups = 0;
    cflb_test_input(&in, slots, NULL, 0, &c->req, &c->pa);

    for (i = 0; i < 3; i++) {
        cflb_check(&c->t, cflb_rules_eval(e[i], &in) == (i != 1));
    }

    cflb_check(&c->t, c->req.gets[T_HOST] == 1 && c->req.lookups == 6);

    /* without any cache, every use calls back */
    memset(c->req.gets, 0, sizeof(c->req.gets));
    cflb_rules_input_init(&in, NULL, 0, NULL, 0);
    in.get = cflb_test_get;
    in.lookup = cflb_test_lookup;
    in.ctx = &c->req;
    in.pool = &c->pa;

    for (i = 0; i < 3; i++) {
        cflb_check(&c->t, cflb_rules_eval(e[i], &in) == (i != 1));
    }

    cflb_check(&c->t, c->req.gets[T_HOST] == 3);

    /* a failing callback fails the evaluation */
    c->req.fail_id = T_HOST;
    cflb_test_input(&in, slots, keys, nkeys, &c->req, &c->pa);
    cflb_check(&c->t, cflb_rules_eval(e[0], &in) == CFLB_ERROR);

    c->req.fail_id = T_HEADERS;
    cflb_test_input(&in, slots, keys, nkeys, &c->req, &c->pa);
    cflb_check(&c->t, cflb_rules_eval(e[2], &in) == CFLB_ERROR);
    c->req.fail_id = -1;

    /* no callbacks at all: everything is missing */
    cflb_rules_input_init(&in, slots, T_NFIELDS, keys, nkeys);
    cflb_check(&c->t, cflb_rules_eval(e[0], &in) == 0);
    cflb_check(&c->t, cflb_rules_eval(e[2], &in) == 0);

    for (i = 0; i < 3; i++) {
        cflb_rules_free(e[i]);
    }

    cflb_test_pool_reset(&c->pool);
    cflb_check(&c->t, c->mem.live == 0);
}


static void
t_memory(t_ctx_t *c)
{
    char                *text;
    size_t               k, n, total, failed, pad, len;
    cflb_rules_err_t     err;
    cflb_rules_expr_t   *e;
    cflb_rules_input_t   in;
    cflb_rules_slot_t    slots[T_NFIELDS];

    static const char  *big =
        "(http.host in {\"a\" \"b\" \"c\"} or ip.src in {10.0.0.0/8 ::1 "
        "1.2.3.4..1.2.3.9} or cf.edge.server_port in {1..9 80}) and "
        "any(lower(http.request.headers[\"accept\"][*])[*] wildcard "
        "\"*/*json\") and http.request.uri.path contains \"/api\" and "
        "url_decode(concat(http.host, \"%20\", http.request.method), \"ru\") "
        "== \"www.Example.com POST\" and http.request.headers[\"accept\"][0] "
        "matches \"^text\" and not starts_with(http.host, \"x\") and "
        "http.request.uri.path wildcard \"*a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*\" "
        "and not http.request.uri.path strict wildcard \"/*/*/*/*/*/*/*/*\" "
        "and ip.src.asnum in {1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18} "
        "and http.host in {\"a\" \"b\" \"c\" \"d\" \"e\" \"f\" \"g\" \"h\"}";

    /* evaluation allocates only for function results */
    c->pool.allocs = 0;
    T_EVAL(c, "http.host eq \"www.Example.com\" and ip.src in {::/0} and "
           "any(http.request.headers[\"accept\"][*] contains \"json\")", 1);
    T_EVAL(c, "lower(http.request.uri.path) == \"/api/v1/users\" and "
           "upper(http.request.method) == \"POST\" and "
           "url_decode(http.request.uri.path) == \"/api/v1/users\"", 1);
    cflb_check(&c->t, c->pool.allocs == 0);

    /* eq, ne, contains and affixes of lower() compare without a copy */
    T_EVAL(c, "lower(http.host) == \"www.example.com\" and "
           "upper(http.host) contains \"EXAMPLE\" and "
           "starts_with(lower(http.host), \"www.\")", 1);
    cflb_check(&c->t, c->pool.allocs == 0);

    T_EVAL(c, "lower(http.host) in {\"www.example.com\"}", 1);
    cflb_check(&c->t, c->pool.allocs == 1);

    /* a pool out of memory fails the evaluation */
    c->pool.allocs = 0;
    c->pool.fail_at = 1;
    T_EVAL(c, "lower(http.host) in {\"www.example.com\"}", CFLB_ERROR);
    c->pool.allocs = 0;
    T_EVAL(c, "concat(http.host, \"x\") == \"x\" or ssl", CFLB_ERROR);
    c->pool.fail_at = 0;

    e = t_compile(c, "url_decode(http.request.uri.query) contains \"+\"");
    if (e != NULL) {
        cflb_rules_input_init(&in, slots, T_NFIELDS, NULL, 0);
        in.get = cflb_test_get;
        in.ctx = &c->req;
        cflb_check(&c->t, cflb_rules_eval(e, &in) == CFLB_ERROR);
        cflb_rules_free(e);
    }

    /*
     * Every allocation of a compile fails in turn: NULL, "out of memory"
     * and nothing left.  Compile allocates in chunks, so a string of
     * growing length in front moves the chunk boundaries through every
     * part of the expression.
     */
    text = malloc(4096);
    if (text == NULL) {
        abort();
    }

    failed = 0;
    total = 0;

    for (pad = 0; pad < 2900; pad += 61) {
        len = (size_t) sprintf(text, "http.host ne \"");
        memset(text + len, 'x', pad);
        sprintf(text + len + pad, "\" and %s", big);

        c->mem.allocs = 0;
        e = t_compile(c, text);
        cflb_rules_free(e);
        n = c->mem.allocs;
        total += n;

        for (k = 1; k <= n; k++) {
            c->mem.allocs = 0;
            c->mem.fail_at = k;

            e = cflb_rules_compile(&c->scheme, (const unsigned char *) text,
                                   strlen(text), &c->a, &err);

            if (e == NULL && strcmp(err.msg, "out of memory") == 0
                && c->mem.live == 0)
            {
                failed++;
            }

            cflb_rules_free(e);
        }

        c->mem.fail_at = 0;
    }

    free(text);

    cflb_check_msg(&c->t, failed == total && total > 100,
                   "%lu of %lu failures clean", (unsigned long) failed,
                   (unsigned long) total);
    cflb_check(&c->t, c->mem.live == 0);

    cflb_rules_free(NULL);
}


static void
t_regex(t_ctx_t *c)
{
    unsigned  errors;

    if (!CFLB_TEST_REGEX) {
        return;
    }

    T_EVAL(c, "http.request.uri.path matches \"^/api/v[0-9]+/\"", 1);
    T_EVAL(c, "http.request.uri.path ~ \"users$\"", 1);
    T_EVAL(c, "http.request.uri.path matches \"^/API\"", 0);
    T_EVAL(c, "http.request.uri.path matches \"(?i)^/API\"", 1);
    T_EVAL(c, "http.host matches \"^(www|store|blog)\\.example\\.com\"", 0);
    T_EVAL(c, "http.host matches \"^(www|store|blog)\\.Example\\.com$\"", 1);
    T_EVAL(c, "any(http.request.headers.names[*] ~ \"^Acc\")", 1);
    T_EVAL(c, "http.request.uri.path matches r\"/api/v1/users$\"", 1);

    /* a pattern that backtracks forever stops at the match limit: false */
    cflb_test_req_str(&c->req, T_REFERER,
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
    errors = c->re.errors;
    T_EVAL(c, "http.referer matches \"(a+)+$\"", 0);
    T_EVAL(c, "not http.referer matches \"(a+)+$\"", 1);
    cflb_check(&c->t, c->re.errors == errors + 2);
    c->req.set[T_REFERER] = 0;
}


/*
 * url_decode(x, "r") in one pass equals decoding again and again until
 * nothing changes, on random strings made of escape material
 */

static void
t_decode(t_ctx_t *c)
{
    size_t          i, k, len, n1, n2, nprev;
    unsigned        flags, bad;
    cflb_rng_t      rng;
    unsigned char   in[16], a[16], b[16], prev[16];

    static const char  alphabet[] = "%%%2545uU0+aB";

    cflb_rng_seed(&rng, 7);
    bad = 0;

    for (i = 0; i < 50000; i++) {
        len = (size_t) cflb_rng_below(&rng, sizeof(in) + 1);
        flags = CFLB_RF_DECODE_R
                | (cflb_rng_below(&rng, 2) ? CFLB_RF_DECODE_U : 0);

        for (k = 0; k < len; k++) {
            in[k] = (unsigned char) alphabet[cflb_rng_below(&rng,
                                                  sizeof(alphabet) - 1)];
        }

        n1 = cflb_rules_url_decode(a, in, len, flags);

        memcpy(prev, in, len);
        nprev = len;

        for ( ;; ) {
            n2 = cflb_rules_url_decode(b, prev, nprev,
                                       flags & ~CFLB_RF_DECODE_R);

            if (n2 == nprev && memcmp(b, prev, n2) == 0) {
                break;
            }

            memcpy(prev, b, n2);
            nprev = n2;
        }

        if (n1 != n2 || memcmp(a, b, n1) != 0) {
            if (bad++ < 5) {
                printf("url_decode(\"%.*s\", %s): one pass \"%.*s\", "
                       "fixpoint \"%.*s\"\n", (int) len, in,
                       (flags & CFLB_RF_DECODE_U) ? "ru" : "r", (int) n1, a,
                       (int) n2, b);
            }
        }
    }

    cflb_check_msg(&c->t, bad == 0, "%u strings differ", bad);
}


/*
 * wildcards and "contains" against naive matchers (a backtracking glob,
 * a quadratic substring search), on random patterns and values
 */

static void
t_glob(t_ctx_t *c)
{
    int              want, got, tok[12], ci;
    char             text[96], pat[16], value[16], hay[80];
    size_t           i, k, np, nt, ns;
    unsigned         bad, compiled;
    cflb_rng_t       rng;

    static const char  palpha[] = "ab*AB\\";
    static const char  salpha[] = "abAB*\\";

    cflb_rng_seed(&rng, 11);
    bad = 0;
    compiled = 0;
    c->quiet = 1;

    for (i = 0; i < 20000; i++) {
        np = (size_t) cflb_rng_below(&rng, 9);
        ns = (size_t) cflb_rng_below(&rng, 12);
        ci = (int) cflb_rng_below(&rng, 2);

        for (k = 0; k < np; k++) {
            pat[k] = palpha[cflb_rng_below(&rng, sizeof(palpha) - 1)];
        }

        for (k = 0; k < ns; k++) {
            value[k] = salpha[cflb_rng_below(&rng, sizeof(salpha) - 1)];
        }

        pat[np] = '\0';
        value[ns] = '\0';
        sprintf(text, "http.referer %s r\"%s\"",
                ci ? "wildcard" : "strict wildcard", pat);

        /* the pattern as tokens: a byte, or -1 for a star; -100: invalid */
        want = -1;

        for (k = 0, nt = 0; k < np && want == -1; k++) {
            if (pat[k] == '\\') {
                if (k + 1 == np || (pat[k + 1] != '*' && pat[k + 1] != '\\')) {
                    want = -100;
                }

                tok[nt++] = pat[++k];

            } else if (pat[k] == '*') {
                if (nt > 0 && tok[nt - 1] == -1) {
                    want = -100;
                }

                tok[nt++] = -1;

            } else {
                tok[nt++] = (unsigned char) pat[k];
            }
        }

        if (want == -1) {
            want = t_glob_naive(tok, nt, (unsigned char *) value, ns, ci);
        }

        cflb_test_req_str(&c->req, T_REFERER, value);
        got = t_eval(c, text, strlen(text));
        compiled += got >= 0;

        if (got != want && bad++ < 5) {
            printf("%s on \"%s\": %d, want %d\n", text, value, got, want);
        }
    }

    cflb_check_msg(&c->t, bad == 0 && compiled > 5000,
                   "%u wildcards wrong, %u compiled", bad, compiled);

    /*
     * contains: a needle of a and b in a haystack of a and b, short (the
     * naive search) or past 64 bytes (Knuth-Morris-Pratt)
     */
    bad = 0;

    for (i = 0; i < 20000; i++) {
        np = 1 + (size_t) cflb_rng_below(&rng, 6);
        ns = (size_t) cflb_rng_below(&rng, 14);
        ns += cflb_rng_below(&rng, 2) ? 60 : 0;

        for (k = 0; k < np; k++) {
            pat[k] = "ab"[cflb_rng_below(&rng, 2)];
        }

        for (k = 0; k < ns; k++) {
            hay[k] = "ab"[cflb_rng_below(&rng, 2)];
        }

        pat[np] = '\0';
        hay[ns] = '\0';
        sprintf(text, "http.referer contains \"%s\"", pat);
        want = strstr(hay, pat) != NULL;

        cflb_test_req_str(&c->req, T_REFERER, hay);
        got = t_eval(c, text, strlen(text));

        if (got != want && bad++ < 5) {
            printf("%s on \"%s\": %d, want %d\n", text, hay, got, want);
        }
    }

    cflb_check_msg(&c->t, bad == 0, "%u contains wrong", bad);

    c->quiet = 0;
    c->req.set[T_REFERER] = 0;
}


static int
t_glob_naive(const int *pat, size_t np, const unsigned char *s, size_t ns,
    int ci)
{
    size_t  k;

    if (np == 0) {
        return ns == 0;
    }

    if (pat[0] == -1) {
        for (k = 0; k <= ns; k++) {
            if (t_glob_naive(pat + 1, np - 1, s + k, ns - k, ci)) {
                return 1;
            }
        }

        return 0;
    }

    if (ns == 0) {
        return 0;
    }

    if (ci ? cflb_rules_lower(s[0]) != cflb_rules_lower(pat[0])
           : s[0] != pat[0])
    {
        return 0;
    }

    return t_glob_naive(pat + 1, np - 1, s + 1, ns - 1, ci);
}


/*
 * The program: comparisons that read the cache themselves, case-blind
 * comparisons after lower() and upper() (with literals no result can
 * hold), affixes, indexes, and the jumps of and, or and not.  Every
 * T_EVAL also checks the tree walk gives the same (t_tree_check()).
 */

static void
t_prog(t_ctx_t *c)
{
    static const t_case_t  cases[] = {
        /* www.Example.com */
        { "lower(http.host) == \"www.example.com\"", 1 },
        { "lower(http.host) == \"www.Example.com\"", 0 },
        { "lower(http.host) != \"www.Example.com\"", 1 },
        { "lower(http.host) != \"www.example.com\"", 0 },
        { "upper(http.host) == \"WWW.EXAMPLE.COM\"", 1 },
        { "upper(http.host) eq \"WWW.EXAMPLE.COm\"", 0 },
        { "upper(http.host) ne \"WWW.EXAMPLE.COm\"", 1 },
        { "lower(http.host) == \"www.example.co\"", 0 },
        { "lower(http.host) contains \"example\"", 1 },
        { "lower(http.host) contains \"Example\"", 0 },
        { "upper(http.host) contains \"EXAMPLE.\"", 1 },
        { "upper(http.host) contains \"example\"", 0 },
        { "upper(http.host) contains \"\"", 1 },
        { "lower(http.host) contains \"xample.coM\"", 0 },
        { "starts_with(lower(http.host), \"www.ex\")", 1 },
        { "starts_with(lower(http.host), \"www.Ex\")", 0 },
        { "starts_with(http.host, \"www.ex\")", 0 },
        { "starts_with(http.host, \"www.Ex\")", 1 },
        { "starts_with(http.host, \"\")", 1 },
        { "starts_with(http.host, \"www.Example.com.\")", 0 },
        { "ends_with(upper(http.host), \"LE.COM\")", 1 },
        { "ends_with(upper(http.host), \"le.COM\")", 0 },
        { "ends_with(http.host, \"le.com\")", 1 },
        { "ends_with(lower(http.host), \"www.example.com\")", 1 },
        { "not starts_with(lower(http.host), \"www.\")", 0 },
        { "starts_with(lower(http.host), \"x\") or ssl", 1 },
        { "starts_with(http.request.method, http.request.method)", 1 },
        /* a missing value: false, ne and not included */
        { "lower(http.referer) != \"a\"", 0 },
        { "lower(http.referer) != \"A\"", 0 },
        { "starts_with(lower(http.referer), \"\")", 0 },
        { "not ends_with(http.referer, \"a\")", 1 },
        { "upper(http.referer) contains \"\"", 0 },
        /* indexes of fields and of map keys, in range and past it */
        { "http.request.headers[\"accept\"][1] == \"application/json\"", 1 },
        { "http.request.headers[\"accept\"][2] != \"x\"", 0 },
        { "lower(http.request.headers[\"accept\"][0]) eq \"text/html\"", 1 },
        { "starts_with(http.request.headers[\"accept\"][1], \"app\")", 1 },
        { "http.request.uri.args.names[4] == \"filter\"", 1 },
        { "http.request.uri.args.names[5] ne \"filter\"", 0 },
        { "tcp.ports[2] == 8443 and tcp.ports[3] != 1", 0 },
        { "tcp.ports[2] > 8000", 1 },
        { "http.request.headers[\"x-empty\"][0] == \"\"", 1 },
        { "upper(http.request.headers[\"x-empty\"][0]) == \"\"", 1 },
        /* the other kinds of field */
        { "ssl", 1 },
        { "not ssl", 0 },
        { "ssl and not dns.qry.qu", 0 },
        { "ip.src in {203.0.113.0/24} and cf.edge.server_port == 443", 1 },
        { "ip.src.asnum in {13335} and not (ip.src == 203.0.113.8)", 1 },
        /* jumps: and, or, not, nested, with constants */
        { "true and ssl", 1 },
        { "false or not ssl", 0 },
        { "not (ssl and http.request.method eq \"GET\")", 1 },
        { "not (not ssl or not (http.host contains \"z\"))", 0 },
        { "not (not ssl or not (http.host contains \"x\"))", 1 },
        { "(ssl or http.referer eq \"a\") and (not ssl or "
          "http.request.method eq \"POST\")", 1 },
        { "(http.referer eq \"a\" or false) or (ssl and (false or "
          "not (http.host eq \"a\")))", 1 },
        { "not true", 0 },
        { "not not false or not not true", 1 },
        /* tests that walk the tree: xor, quantifiers, other calls */
        { "ssl xor http.request.method eq \"GET\"", 1 },
        { "not (ssl xor ssl) and any(http.request.headers.names[*] == "
          "\"Accept\")", 1 },
        { "lower(http.host) in {\"www.example.com\"} and "
          "len(http.host) == 15", 1 },
        { "lower(http.host) wildcard \"WWW.*\"", 1 }
    };

    T_CASES(c, cases);

    t_prog_shape(c);
    t_prog_fold(c);
    t_next(c);
}


/* what conditions compile to: tests of their kind, no walk where none */

static void
t_prog_shape(t_ctx_t *c)
{
    size_t                    i, k;
    cflb_rules_expr_t        *e;
    const cflb_rules_test_t  *t;

    static const struct {
        const char  *text;
        size_t       n;             /* tests */
        int          op;            /* of the first */
        int          entry;         /* the end, without tests */
    } shapes[] = {
        /* issue 12's five rules */
        { "http.request.uri.path contains \"/blog\"", 1, CFLB_RO_SEARCH,
          0 },
        { "http.request.headers[\"x-canary\"][0] eq \"on\"", 1,
          CFLB_RO_EQ, 0 },
        { "ip.src in {10.0.0.0/8 192.168.0.0/16 2001:db8::/32}", 1,
          CFLB_RO_IP_IN, 0 },
        { "http.request.uri.path matches \"^/admin/[0-9]+$\"", 1,
          CFLB_RO_REGEX, 0 },
        { "starts_with(lower(http.request.uri.path), \"/api/\")", 1,
          CFLB_RO_PREFIX, 0 },
        { "upper(http.host) contains \"A\"", 1, CFLB_RO_SEARCH, 0 },
        { "ends_with(http.host, \"A\")", 1, CFLB_RO_SUFFIX, 0 },
        { "lower(http.host) != \"A\"", 1, CFLB_RO_NE, 0 },
        { "cf.edge.server_port > 80", 1, CFLB_RO_CMP, 0 },
        { "len(http.host) > 80", 1, CFLB_RO_CMP, 0 },
        { "ssl", 1, CFLB_RO_TRUTH, 0 },
        { "ssl xor ssl", 1, CFLB_RO_COND, 0 },
        { "ssl and (http.host eq \"a\" or not (ssl and true))", 3,
          CFLB_RO_TRUTH, 0 },
        { "true and not false", 0, 0, (int) CFLB_RULES_PC_TRUE },
        { "not (true or ssl)", 0, 0, (int) CFLB_RULES_PC_FALSE },
        { "", 0, 0, (int) CFLB_RULES_PC_TRUE }
    };

    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        e = t_compile(c, shapes[i].text);
        if (e == NULL) {
            continue;
        }

        k = e->prog ? shapes[i].n : 0;

        if (shapes[i].n == 0) {
            cflb_check_msg(&c->t, e->entry == (uint32_t) shapes[i].entry,
                           "\"%s\": entry %u", shapes[i].text,
                           (unsigned) e->entry);

        } else {
            t = &e->prog[e->entry];
            cflb_check_msg(&c->t, e->entry == 0 && t->op == shapes[i].op,
                           "\"%s\": entry %u, op %d", shapes[i].text,
                           (unsigned) e->entry, t->op);
        }

        /* every jump goes further on, or to an end */
        for (k = 0; k < shapes[i].n; k++) {
            t = &e->prog[k];
            cflb_check_msg(&c->t, t->t > k && t->f > k
                           && (t->t < shapes[i].n
                               || t->t >= CFLB_RULES_PC_FALSE)
                           && (t->f < shapes[i].n
                               || t->f >= CFLB_RULES_PC_FALSE),
                           "\"%s\": test %u jumps to %u, %u",
                           shapes[i].text, (unsigned) k, (unsigned) t->t,
                           (unsigned) t->f);
        }

        cflb_rules_free(e);
    }
}


/*
 * lower() and upper() under eq, ne, contains, starts_with() and
 * ends_with(), against the function applied for real, on random values
 * (a quarter of them past 64 bytes) and literals of a, A, b, B and -.
 */

static void
t_prog_fold(t_ctx_t *c)
{
    int          want, got, fn, op;
    char         text[96], lit[8], value[80], folded[80];
    size_t       i, k, nl, nv;
    unsigned     bad;
    cflb_rng_t   rng;

    static const char  alpha[] = "aAbB-";
    static const char  *fns[] = { "lower(", "upper(", "" };
    static const char  *ends[] = { ")", ")", "" };
    static const char  *ops[] = {
        "%shttp.referer%s == \"%s\"", "%shttp.referer%s != \"%s\"",
        "%shttp.referer%s contains \"%s\"",
        "starts_with(%shttp.referer%s, \"%s\")",
        "ends_with(%shttp.referer%s, \"%s\")"
    };

    cflb_rng_seed(&rng, 12);
    bad = 0;

    for (i = 0; i < 8000; i++) {
        nl = (size_t) cflb_rng_below(&rng, 4);
        nv = (size_t) cflb_rng_below(&rng, 7);
        nv += cflb_rng_below(&rng, 4) ? 0 : 64;       /* a long search */
        fn = (int) cflb_rng_below(&rng, 3);
        op = (int) cflb_rng_below(&rng, 5);

        for (k = 0; k < nl; k++) {
            lit[k] = alpha[cflb_rng_below(&rng, sizeof(alpha) - 1)];
        }

        for (k = 0; k < nv; k++) {
            value[k] = alpha[cflb_rng_below(&rng, sizeof(alpha) - 1)];
            folded[k] = fn == 0 ? (char) cflb_rules_lower(value[k])
                        : fn == 1 ? (char) cflb_rules_upper(value[k])
                        : value[k];
        }

        lit[nl] = '\0';
        value[nv] = '\0';
        folded[nv] = '\0';

        sprintf(text, ops[op], fns[fn], ends[fn], lit);

        switch (op) {
        case 0:
            want = strcmp(folded, lit) == 0;
            break;
        case 1:
            want = strcmp(folded, lit) != 0;
            break;
        case 2:
            want = strstr(folded, lit) != NULL;
            break;
        case 3:
            want = strncmp(folded, lit, nl) == 0;
            break;
        default:
            want = nv >= nl && strcmp(folded + nv - nl, lit) == 0;
        }

        cflb_test_req_str(&c->req, T_REFERER, value);
        got = t_eval(c, text, strlen(text));

        if (got != want && bad++ < 5) {
            printf("%s on \"%s\": %d, want %d\n", text, value, got, want);
        }
    }

    cflb_check_msg(&c->t, bad == 0, "%u folded comparisons wrong", bad);

    c->req.set[T_REFERER] = 0;
}


/*
 * cflb_rules_next(): the rules of a load balancer in turn, from *i on,
 * one input for all, stopping at each match (a NULL condition is one)
 * and at each failure, and the same as cflb_rules_eval() on each.
 */

static void
t_next(t_ctx_t *c)
{
    int                        rc;
    size_t                     i, k, found[8], nfound;
    cflb_rules_input_t         in;
    cflb_rules_slot_t          slots[T_NFIELDS];
    cflb_rules_kslot_t         keys[8];
    const cflb_rules_expr_t   *set[6];

    static const char  *texts[6] = {
        "http.host eq \"a\"",                          /* 0: no */
        "starts_with(lower(http.host), \"www.\")",     /* 1: yes */
        "ip.src in {10.0.0.0/8}",                      /* 2: no */
        NULL,                                          /* 3: yes */
        "http.referer contains \"x\" or ssl",          /* 4: yes */
        "http.request.method eq \"GET\""               /* 5: no */
    };

    memset(set, 0, sizeof(set));

    for (k = 0; k < 6; k++) {
        set[k] = texts[k] ? t_compile(c, texts[k]) : NULL;

        if (texts[k] && set[k] == NULL) {
            goto done;
        }
    }

    memset(c->req.gets, 0, sizeof(c->req.gets));
    cflb_test_input(&in, slots, keys, 8, &c->req, &c->pa);
    nfound = 0;

    for (i = 0; (rc = cflb_rules_next(set, 6, &i, &in)) != 0; i++) {
        cflb_check_msg(&c->t, rc == 1 && nfound < 8, "next: %d", rc);

        if (rc != 1 || nfound == 8) {
            break;
        }

        found[nfound++] = i;
    }

    cflb_check_msg(&c->t, rc == 0 && i == 6 && nfound == 3 && found[0] == 1
                   && found[1] == 3 && found[2] == 4,
                   "next: %d at %u, %u found", rc, (unsigned) i,
                   (unsigned) nfound);

    /* each field was fetched once for all six */
    cflb_check(&c->t, c->req.gets[T_HOST] == 1 && c->req.gets[T_IP] == 1);

    /* none left, and none at all */
    i = 6;
    cflb_check(&c->t, cflb_rules_next(set, 6, &i, &in) == 0 && i == 6);
    i = 0;
    cflb_check(&c->t, cflb_rules_next(set, 0, &i, &in) == 0 && i == 0);

    /* a failure stops at its rule; the next call goes on past it */
    cflb_test_input(&in, slots, keys, 8, &c->req, &c->pa);
    c->req.fail_id = T_IP;
    i = 2;
    rc = cflb_rules_next(set, 6, &i, &in);
    cflb_check_msg(&c->t, rc == CFLB_ERROR && i == 2, "next: %d at %u", rc,
                   (unsigned) i);
    i++;
    rc = cflb_rules_next(set, 6, &i, &in);
    cflb_check_msg(&c->t, rc == 1 && i == 3, "next: %d at %u", rc,
                   (unsigned) i);
    c->req.fail_id = -1;

    /* cflb_rules_eval() is cflb_rules_next() of one */
    for (k = 0; k < 6; k++) {
        if (set[k] == NULL) {
            continue;
        }

        cflb_test_input(&in, slots, keys, 8, &c->req, &c->pa);
        i = 0;
        rc = cflb_rules_next(&set[k], 1, &i, &in);
        cflb_test_input(&in, slots, keys, 8, &c->req, &c->pa);
        cflb_check_msg(&c->t, rc == cflb_rules_eval(set[k], &in),
                       "next and eval differ on \"%s\"", texts[k]);
    }

done:

    for (k = 0; k < 6; k++) {
        cflb_rules_free((cflb_rules_expr_t *) set[k]);
    }

    cflb_test_pool_reset(&c->pool);
    memset(c->req.gets, 0, sizeof(c->req.gets));
}
