
/*
 * cflb rules fuzz target: compile, then evaluate what compiled.  Beyond
 * the sanitizers, it aborts when a compile error has no message or a
 * position off the text, when compile leaves memory behind, when an
 * evaluation is not 0 or 1, when the cache changes a result (a cold
 * cache, a warm one, none at all), when the program and the tree walk
 * disagree, or when "not (E)" is not the negation of E and "(E)" not E
 * itself.
 *
 * Input: byte 0 picks the request (bit 0: an IPv6 client, bit 1: no
 * headers map, bit 2: a header repeated 200 times, bit 3: empty and
 * missing values), the rest is the expression.
 *
 * Built with -DCFLB_LIBFUZZER it is a libFuzzer target ("make fuzz").
 * Otherwise main() is a driver:
 *
 *     cflb_rules_fuzz               built-in seeds and their mutations
 *     cflb_rules_fuzz FILE...       each file as one input
 *     cflb_rules_fuzz -seeds DIR    write the seeds there, a corpus
 */


#include "cflb_test.h"
#include "cflb_test_rules.h"
#include "cflb_rules_int.h"
#include "cflb_fuzz_driver.h"


#define CFLB_FUZZ_REP  200


typedef struct {
    cflb_rules_scheme_t   scheme;
    cflb_test_re_t        re;
    cflb_test_mem_t       mem;
    cflb_allocator_t      a;
    cflb_test_pool_t      pool;
    cflb_allocator_t      pa;
    cflb_test_req_t       req;
    cflb_str_t            rep[CFLB_FUZZ_REP];
    cflb_test_kv_t        kv[2];
} cflb_fuzz_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cflb_fuzz_request(cflb_fuzz_t *f, unsigned flags);
static int cflb_fuzz_compile(cflb_fuzz_t *f, const unsigned char *text,
    size_t len, int *res);
static int cflb_fuzz_eval(cflb_fuzz_t *f, cflb_rules_expr_t *e);
static void cflb_fuzz_wrapped(cflb_fuzz_t *f, const unsigned char *text,
    size_t len, const char *pre, int want);
static void cflb_fuzz_fail(const char *what);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc, res;
    cflb_fuzz_t   f;

    if (size < 1) {
        return 0;
    }

    memset(&f, 0, sizeof(cflb_fuzz_t));

    cflb_test_re_init(&f.re);
    cflb_test_scheme(&f.scheme, &f.re);
    cflb_test_allocator(&f.a, &f.mem);
    f.pa.alloc = cflb_test_pool_alloc;
    f.pa.free = cflb_test_pool_nofree;
    f.pa.data = &f.pool;

    cflb_fuzz_request(&f, data[0]);

    rc = cflb_fuzz_compile(&f, data + 1, size - 1, &res);

    if (rc == CFLB_OK && size > 1) {
        cflb_fuzz_wrapped(&f, data + 1, size - 1, "not (", !res);
        cflb_fuzz_wrapped(&f, data + 1, size - 1, "(", res);
    }

    if (f.re.compiled != f.re.freed) {
        cflb_fuzz_fail("a regex was not freed");
    }

    cflb_test_pool_done(&f.pool);
    cflb_test_re_done(&f.re);

    return 0;
}


static void
cflb_fuzz_request(cflb_fuzz_t *f, unsigned flags)
{
    size_t  i;

    static const unsigned char  v6[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
    };

    cflb_test_req_default(&f->req);

    if (flags & 1) {
        cflb_test_req_ip(&f->req, v6, 1);
    }

    if (flags & 2) {
        f->req.set[T_HEADERS] = 0;
    }

    if (flags & 4) {
        for (i = 0; i < CFLB_FUZZ_REP; i++) {
            f->rep[i] = cflb_test_headers[i % 5].vals[0];
        }

        f->kv[0] = cflb_test_headers[2];
        f->kv[1].name = "x-rep";
        f->kv[1].vals = f->rep;
        f->kv[1].n = CFLB_FUZZ_REP;
        f->req.headers = f->kv;
        f->req.nheaders = 2;
        cflb_test_req_array(&f->req, T_HDR_VALUES, f->rep, CFLB_FUZZ_REP);
    }

    if (flags & 8) {
        cflb_test_req_str(&f->req, T_HOST, "");
        cflb_test_req_str(&f->req, T_PATH, "%25%2541+%u2601");
        cflb_test_req_array(&f->req, T_ARG_NAMES, NULL, 0);
        f->req.set[T_METHOD] = 0;
        f->req.set[T_IP] = 0;
        f->req.set[T_PORT] = 0;
        f->req.set[T_SSL] = 0;
        f->req.set[T_ARGS] = 0;
    }
}


/* CFLB_OK with *res the result, or CFLB_ERROR if it did not compile */

static int
cflb_fuzz_compile(cflb_fuzz_t *f, const unsigned char *text, size_t len,
    int *res)
{
    size_t              i, line, col;
    cflb_rules_err_t    err;
    cflb_rules_expr_t  *e;

    e = cflb_rules_compile(&f->scheme, text, len, &f->a, &err);

    if (e == NULL) {
        if (err.msg[0] == '\0' || err.offset > len || err.line < 1
            || err.column < 1 || memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
        {
            cflb_fuzz_fail("compile error: no message or a bad position");
        }

        line = 1;
        col = 1;

        for (i = 0; i < err.offset; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;

            } else {
                col++;
            }
        }

        if (line != err.line || col != err.column) {
            cflb_fuzz_fail("compile error: line and column off the offset");
        }

        if (f->mem.live != 0) {
            cflb_fuzz_fail("compile error: memory left");
        }

        return CFLB_ERROR;
    }

    *res = cflb_fuzz_eval(f, e);

    cflb_rules_free(e);

    if (f->mem.live != 0) {
        cflb_fuzz_fail("free: memory left");
    }

    return CFLB_OK;
}


static int
cflb_fuzz_eval(cflb_fuzz_t *f, cflb_rules_expr_t *e)
{
    int                  cold, warm, none, tree;
    size_t               nkeys;
    cflb_rules_input_t   in;
    cflb_rules_slot_t    slots[T_NFIELDS];
    cflb_rules_kslot_t   keys[64];

    nkeys = cflb_rules_nkeys(e);
    nkeys = nkeys > 64 ? 64 : nkeys;

    cflb_test_input(&in, slots, keys, nkeys, &f->req, &f->pa);

    cold = cflb_rules_eval(e, &in);
    warm = cflb_rules_eval(e, &in);

    cflb_rules_input_init(&in, NULL, 0, NULL, 0);
    in.get = cflb_test_get;
    in.lookup = cflb_test_lookup;
    in.ctx = &f->req;
    in.pool = &f->pa;

    none = cflb_rules_eval(e, &in);

    /* the tree walk, the reference the program is compiled from */
    cflb_test_input(&in, slots, keys, nkeys, &f->req, &f->pa);
    tree = cflb_rules_eval_tree(e, &in);

    cflb_test_pool_reset(&f->pool);

    if (cold != 0 && cold != 1) {
        cflb_fuzz_fail("eval: not 0 or 1");
    }

    if (warm != cold || none != cold) {
        cflb_fuzz_fail("eval: the cache changed the result");
    }

    if (tree != cold) {
        cflb_fuzz_fail("eval: the program and the tree disagree");
    }

    return cold;
}


static void
cflb_fuzz_wrapped(cflb_fuzz_t *f, const unsigned char *text, size_t len,
    const char *pre, int want)
{
    int             res;
    size_t          n;
    unsigned char  *buf;

    n = strlen(pre);

    buf = malloc(n + len + 1);
    if (buf == NULL) {
        cflb_fuzz_fail("out of memory");
    }

    memcpy(buf, pre, n);
    memcpy(buf + n, text, len);
    buf[n + len] = ')';

    /* too long or too deep once wrapped: nothing to compare */
    if (cflb_fuzz_compile(f, buf, n + len + 1, &res) == CFLB_OK
        && res != want)
    {
        cflb_fuzz_fail(n == 1 ? "(E) is not E" : "not (E) is not !E");
    }

    free(buf);
}


static void
cflb_fuzz_fail(const char *what)
{
    fprintf(stderr, "cflb_rules_fuzz: %s\n", what);
    abort();
}


#ifndef CFLB_LIBFUZZER


/* the first byte picks the request */

static const cflb_fuzz_seed_t  cflb_fuzz_seeds[] = {
    cflb_fuzz_seed("\x00" "http.request.uri.path contains \"/api\""),
    cflb_fuzz_seed("\x01" "ip.src in {10.0.0.0/8 2001:db8::/32 ::ffff:0:0/96 "
                   "1.2.3.4..1.2.3.9}"),
    cflb_fuzz_seed("\x02" "http.request.headers[\"accept\"][0] == "
                   "\"text/html\""),
    cflb_fuzz_seed("\x04" "any(http.request.headers[\"x-rep\"][*] contains "
                   "\"json\")"),
    cflb_fuzz_seed("\x08" "lower(http.host) == \"\" and not ssl"),
    cflb_fuzz_seed("\x00" "http.request.method in {\"GET\" \"POST\"} xor ssl "
                   "or false"),
    cflb_fuzz_seed("\x00" "http.host wildcard \"*.example.*\" and http.host "
                   "strict wildcard r\"*\\**\""),
    cflb_fuzz_seed("\x00" "http.request.uri.path matches \"^/api/v[0-9]+$\" "
                   "|| http.user_agent ~ r#\"curl/\"#"),
    cflb_fuzz_seed("\x00" "all(len(http.request.uri.args[\"filter\"][*])[*] "
                   "in {3 4})"),
    cflb_fuzz_seed("\x00" "any(lower(http.request.headers.names[*])[*] == "
                   "\"accept\")"),
    cflb_fuzz_seed("\x00" "any(starts_with(http.request.uri.args.names[*], "
                   "\"f\"))"),
    cflb_fuzz_seed("\x08" "url_decode(http.request.uri.path, \"ru\") "
                   "contains \"A\""),
    cflb_fuzz_seed("\x00" "concat(http.host, \"/\", http.request.method) == "
                   "\"a\""),
    cflb_fuzz_seed("\x00" "cf.edge.server_port in {80 443..444 0x1bb 0673} "
                   "and http.request.timestamp.sec > -1"),
    cflb_fuzz_seed("\x00" "cf.edge.server_port & 1 and tcp.ports[1] == 443"),
    cflb_fuzz_seed("\x00" "not (ssl and !dns.qry.qu) && (true || false)"),
    cflb_fuzz_seed("\x00" "ssl == true and dns.rr.opt.client != false"),
    cflb_fuzz_seed("\x00" "http.referer eq \"a\\\"b\\\\c\\x41\\101\""),
    cflb_fuzz_seed("\x00"),
    cflb_fuzz_seed("\x00" "(((((((ssl)))))))"),
    cflb_fuzz_seed("\x00" "http.request.uri.args.names[*] == \"a\""),
    cflb_fuzz_seed("\x00" "any(ssl)"),
    cflb_fuzz_seed("\x00" "http.host eq \"abc"),
    cflb_fuzz_seed("\x00" "ip.src in {10.0.0.1/8"),
    cflb_fuzz_seed("\x00" "http.request.urii == 1"),
    cflb_fuzz_seed("\x00" "http.request.timestamp.sec contains \"1\""),
    cflb_fuzz_seed("\x00" "http.host matches \"(a\""),
    cflb_fuzz_seed("\x00" "http.host matches \"(a+)+$\""),
    cflb_fuzz_seed("\x00" "lower(http.host, 1) == \"\""),
    cflb_fuzz_seed("\x00" "any(http.request.headers.names[*] == \"a\" and "
                   "http.request.uri.args.names[*] == \"b\")"),
    cflb_fuzz_seed("\x00" "http.request.headers[*][0] == \"a\""),
    cflb_fuzz_seed("\x00" "r##\"a\"#\"## == http.host"),
    cflb_fuzz_seed("\x00" "ip.src == ::ffff:203.0.113.7 or ip.src >= "
                   "1:2:3:4:5:6:7:8"),
    cflb_fuzz_seed("\x00" "http.cookie contains \"\xff\xfe\" and "
                   "len(http.cookie) > 0"),
    cflb_fuzz_seed("\x00" "starts_with(lower(http.host), \"www.\") or "
                   "ends_with(upper(http.host), \"Com\")"),
    cflb_fuzz_seed("\x08" "upper(http.request.headers[\"accept\"][1]) "
                   "contains \"JSON\" and not "
                   "(lower(http.request.uri.args.names[0]) ne \"ID\")")
};


/* the language's own characters, and whole tokens to insert */

static const char  cflb_fuzz_alphabet[] =
    "()[]{}*\"\\r#.:/ \n!&|^=<>~,-0123456789abcfx";

static const char *const  cflb_fuzz_tokens[] = {
    " and ", " or ", " xor ", " not ", " in ", " contains ",
    " matches ", " wildcard ", " strict wildcard ", " == ", " != ",
    "any(", "all(", "lower(", "len(", "concat(", "url_decode(",
    "starts_with(", "[*]", "[0]", "[\"accept\"]", "ssl", "http.host",
    "ip.src", "http.request.headers.names", "http.request.headers",
    "cf.edge.server_port", "tcp.ports", "10.0.0.0/8", "::1", "80..443",
    "r#\"", "\"#", "\\x41", "(a+)+$", "%25"
};


static const cflb_fuzz_driver_t  cflb_fuzz_driver = {
    .name = "cflb_rules_fuzz",
    .seeds = cflb_fuzz_seeds,
    .nseeds = sizeof(cflb_fuzz_seeds) / sizeof(cflb_fuzz_seeds[0]),
    .alphabet = cflb_fuzz_alphabet,
    .alphabet_len = sizeof(cflb_fuzz_alphabet) - 1,
    .tokens = cflb_fuzz_tokens,
    .ntokens = sizeof(cflb_fuzz_tokens) / sizeof(cflb_fuzz_tokens[0]),
    .run = 16,
    .repeats = 8,
    .control = 16,  /* byte 0 picks one of 16 requests */
    .mutants = 200,
    .max = 8192,
    .rng_seed = 20240612
};


int
main(int argc, char **argv)
{
    return cflb_fuzz_main(&cflb_fuzz_driver, argc, argv);
}


#endif /* CFLB_LIBFUZZER */
