
/*
 * cflb rules tests, fuzzer and benchmark: what they share.  The scheme
 * holds every field the product lists for http and DNS-only, plus an
 * integer array; a request supplies them through the callbacks and
 * counts the calls; a pool frees what functions allocated at the end of
 * the request; the regex engine is PCRE2 with a match limit, as in the
 * glue.  Without a 32-bit PCRE2 (CFLB_TEST_NO_PCRE2), a stand-in engine
 * matches patterns as plain substrings, and CFLB_TEST_REGEX is 0.
 */

#ifndef _CFLB_TEST_RULES_H_INCLUDED_
#define _CFLB_TEST_RULES_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_rules.h"

#ifndef CFLB_TEST_NO_PCRE2
#define PCRE2_CODE_UNIT_WIDTH  8
#include <pcre2.h>
#define CFLB_TEST_REGEX  1
#else
#define CFLB_TEST_REGEX  0
#endif


enum {
    T_HOST = 0,
    T_COOKIE,
    T_REFERER,
    T_UA,
    T_METHOD,
    T_URI,
    T_PATH,
    T_QUERY,
    T_ARGS,
    T_ARG_NAMES,
    T_ARG_VALUES,
    T_HEADERS,
    T_HDR_NAMES,
    T_HDR_VALUES,
    T_VERSION,
    T_TS,
    T_SSL,
    T_IP,
    T_COUNTRY,
    T_ASNUM,
    T_LB_NAME,
    T_LB_REGION,
    T_PORT,
    T_DNS_NAME,
    T_DNS_NAME_LEN,
    T_DNS_QU,
    T_DNS_TYPE,
    T_DNS_CLIENT,
    T_DNS_CLIENT_ADDR,
    T_PORTS,
    T_NFIELDS
};


static const cflb_rules_field_t  cflb_test_rules_fields[] = {
    { "http.host", CFLB_RULES_BYTES, T_HOST },
    { "http.cookie", CFLB_RULES_BYTES, T_COOKIE },
    { "http.referer", CFLB_RULES_BYTES, T_REFERER },
    { "http.user_agent", CFLB_RULES_BYTES, T_UA },
    { "http.request.method", CFLB_RULES_BYTES, T_METHOD },
    { "http.request.uri", CFLB_RULES_BYTES, T_URI },
    { "http.request.uri.path", CFLB_RULES_BYTES, T_PATH },
    { "http.request.uri.query", CFLB_RULES_BYTES, T_QUERY },
    { "http.request.uri.args", CFLB_RULES_MAP_BYTES, T_ARGS },
    { "http.request.uri.args.names", CFLB_RULES_ARRAY_BYTES, T_ARG_NAMES },
    { "http.request.uri.args.values", CFLB_RULES_ARRAY_BYTES, T_ARG_VALUES },
    { "http.request.headers", CFLB_RULES_MAP_BYTES, T_HEADERS },
    { "http.request.headers.names", CFLB_RULES_ARRAY_BYTES, T_HDR_NAMES },
    { "http.request.headers.values", CFLB_RULES_ARRAY_BYTES, T_HDR_VALUES },
    { "http.request.version", CFLB_RULES_BYTES, T_VERSION },
    { "http.request.timestamp.sec", CFLB_RULES_INT, T_TS },
    { "ssl", CFLB_RULES_BOOL, T_SSL },
    { "ip.src", CFLB_RULES_IP, T_IP },
    { "ip.src.country", CFLB_RULES_BYTES, T_COUNTRY },
    { "ip.src.asnum", CFLB_RULES_INT, T_ASNUM },
    { "cf.load_balancer.name", CFLB_RULES_BYTES, T_LB_NAME },
    { "cf.load_balancer.region", CFLB_RULES_BYTES, T_LB_REGION },
    { "cf.edge.server_port", CFLB_RULES_INT, T_PORT },
    { "dns.qry.name", CFLB_RULES_BYTES, T_DNS_NAME },
    { "dns.qry.name.len", CFLB_RULES_INT, T_DNS_NAME_LEN },
    { "dns.qry.qu", CFLB_RULES_BOOL, T_DNS_QU },
    { "dns.qry.type", CFLB_RULES_INT, T_DNS_TYPE },
    { "dns.rr.opt.client", CFLB_RULES_BOOL, T_DNS_CLIENT },
    { "dns.rr.opt.client.addr", CFLB_RULES_BYTES, T_DNS_CLIENT_ADDR },
    { "tcp.ports", CFLB_RULES_ARRAY_INT, T_PORTS }
};


#define cflb_test_s(lit)  { sizeof(lit) - 1, (unsigned char *) lit }


/* one key of a map: its values in order */
typedef struct {
    const char           *name;
    const cflb_str_t     *vals;
    size_t                n;
} cflb_test_kv_t;


typedef struct {
    cflb_rules_value_t    v[T_NFIELDS];
    unsigned char         set[T_NFIELDS];
    unsigned              gets[T_NFIELDS];
    unsigned              lookups;
    const cflb_test_kv_t *headers;
    size_t                nheaders;
    const cflb_test_kv_t *args;
    size_t                nargs;
    int                   fail_id;      /* get() fails for it; -1: none */
} cflb_test_req_t;


/* the pool: what functions allocate, freed at the end of the request */
typedef struct {
    void                **ptrs;
    size_t                n;
    size_t                cap;
    size_t                allocs;
    size_t                bytes;
    size_t                fail_at;      /* fail the n-th alloc, 0: never */
} cflb_test_pool_t;


/* the regex engine's state: counters for the tests */
typedef struct {
#if CFLB_TEST_REGEX
    pcre2_match_context  *mctx;
    pcre2_match_data     *md;
#endif
    unsigned              compiled;
    unsigned              freed;
    unsigned              errors;
} cflb_test_re_t;


static inline void
cflb_test_req_str(cflb_test_req_t *req, unsigned id, const char *s)
{
    req->v[id].u.s.data = (unsigned char *) s;
    req->v[id].u.s.len = strlen(s);
    req->set[id] = 1;
}


static inline void
cflb_test_req_int(cflb_test_req_t *req, unsigned id, int64_t i)
{
    req->v[id].u.i = i;
    req->set[id] = 1;
}


static inline void
cflb_test_req_ip(cflb_test_req_t *req, const unsigned char *addr, int v6)
{
    memset(&req->v[T_IP].u.ip, 0, sizeof(cflb_rules_ip_t));
    memcpy(req->v[T_IP].u.ip.addr, addr, v6 ? 16 : 4);
    req->v[T_IP].u.ip.v6 = (unsigned char) v6;
    req->set[T_IP] = 1;
}


static inline void
cflb_test_req_array(cflb_test_req_t *req, unsigned id, const cflb_str_t *a,
    size_t n)
{
    req->v[id].u.a.elts = a;
    req->v[id].u.a.n = n;
    req->set[id] = 1;
}


/*
 * The request of most tests:
 *   GET-like POST https://www.Example.com/api/v1/users?id=42&
 *   search=red+apples&filter=waf&filter=botm&filter=cdn from 203.0.113.7
 */

static const cflb_str_t  cflb_test_v_host[] = {
    cflb_test_s("www.Example.com")
};
static const cflb_str_t  cflb_test_v_ctype[] = {
    cflb_test_s("application/json")
};
static const cflb_str_t  cflb_test_v_accept[] = {
    cflb_test_s("text/html"), cflb_test_s("application/json")
};
static const cflb_str_t  cflb_test_v_cookie[] = {
    cflb_test_s("session=8521F670545D7865F79C3D7BEDC29CCE;-background=light")
};
static const cflb_str_t  cflb_test_v_id[] = { cflb_test_s("42") };
static const cflb_str_t  cflb_test_v_search[] = { cflb_test_s("red+apples") };
static const cflb_str_t  cflb_test_v_filter[] = {
    cflb_test_s("waf"), cflb_test_s("botm"), cflb_test_s("cdn")
};
static const cflb_str_t  cflb_test_v_empty[] = { cflb_test_s("") };

static const cflb_test_kv_t  cflb_test_headers[] = {
    { "host", cflb_test_v_host, 1 },
    { "content-type", cflb_test_v_ctype, 1 },
    { "accept", cflb_test_v_accept, 2 },
    { "cookie", cflb_test_v_cookie, 1 },
    { "x-empty", cflb_test_v_empty, 1 }
};
static const cflb_str_t  cflb_test_hdr_names[] = {
    cflb_test_s("Host"), cflb_test_s("Content-Type"), cflb_test_s("Accept"),
    cflb_test_s("Accept"), cflb_test_s("Cookie"), cflb_test_s("X-Empty")
};
static const cflb_str_t  cflb_test_hdr_values[] = {
    cflb_test_s("www.Example.com"), cflb_test_s("application/json"),
    cflb_test_s("text/html"), cflb_test_s("application/json"),
    cflb_test_s("session=8521F670545D7865F79C3D7BEDC29CCE;-background=light"),
    cflb_test_s("")
};

static const cflb_test_kv_t  cflb_test_args[] = {
    { "id", cflb_test_v_id, 1 },
    { "search", cflb_test_v_search, 1 },
    { "filter", cflb_test_v_filter, 3 }
};
static const cflb_str_t  cflb_test_arg_names[] = {
    cflb_test_s("id"), cflb_test_s("search"), cflb_test_s("filter"),
    cflb_test_s("filter"), cflb_test_s("filter")
};
static const cflb_str_t  cflb_test_arg_values[] = {
    cflb_test_s("42"), cflb_test_s("red+apples"), cflb_test_s("waf"),
    cflb_test_s("botm"), cflb_test_s("cdn")
};
static const int64_t  cflb_test_ports[] = { 80, 443, 8443 };


static inline void
cflb_test_req_default(cflb_test_req_t *req)
{
    static const unsigned char  ip[4] = { 203, 0, 113, 7 };

    memset(req, 0, sizeof(cflb_test_req_t));
    req->fail_id = -1;

    cflb_test_req_str(req, T_HOST, "www.Example.com");
    cflb_test_req_str(req, T_COOKIE,
                  "session=8521F670545D7865F79C3D7BEDC29CCE;-background=light");
    cflb_test_req_str(req, T_UA, "Mozilla/5.0 (X11; Linux) curl/8.0");
    cflb_test_req_str(req, T_METHOD, "POST");
    cflb_test_req_str(req, T_URI, "/api/v1/users?id=42&search=red+apples&"
                      "filter=waf&filter=botm&filter=cdn");
    cflb_test_req_str(req, T_PATH, "/api/v1/users");
    cflb_test_req_str(req, T_QUERY, "id=42&search=red+apples&filter=waf&"
                      "filter=botm&filter=cdn");
    req->set[T_ARGS] = 1;
    cflb_test_req_array(req, T_ARG_NAMES, cflb_test_arg_names, 5);
    cflb_test_req_array(req, T_ARG_VALUES, cflb_test_arg_values, 5);
    req->set[T_HEADERS] = 1;
    cflb_test_req_array(req, T_HDR_NAMES, cflb_test_hdr_names, 6);
    cflb_test_req_array(req, T_HDR_VALUES, cflb_test_hdr_values, 6);
    cflb_test_req_str(req, T_VERSION, "HTTP/1.1");
    cflb_test_req_int(req, T_TS, 1484063137);
    cflb_test_req_int(req, T_SSL, 1);
    cflb_test_req_ip(req, ip, 0);
    cflb_test_req_str(req, T_COUNTRY, "US");
    cflb_test_req_int(req, T_ASNUM, 13335);
    cflb_test_req_str(req, T_LB_NAME, "lb.example.com");
    cflb_test_req_str(req, T_LB_REGION, "ENAM");
    cflb_test_req_int(req, T_PORT, 443);
    cflb_test_req_str(req, T_DNS_NAME, "www.example.com.");
    cflb_test_req_int(req, T_DNS_NAME_LEN, 16);
    cflb_test_req_int(req, T_DNS_QU, 1);
    cflb_test_req_int(req, T_DNS_TYPE, 28);
    cflb_test_req_int(req, T_DNS_CLIENT, 1);
    cflb_test_req_str(req, T_DNS_CLIENT_ADDR, "198.51.100.0");
    req->v[T_PORTS].u.ia.elts = cflb_test_ports;
    req->v[T_PORTS].u.ia.n = 3;
    req->set[T_PORTS] = 1;

    req->headers = cflb_test_headers;
    req->nheaders = sizeof(cflb_test_headers) / sizeof(cflb_test_headers[0]);
    req->args = cflb_test_args;
    req->nargs = sizeof(cflb_test_args) / sizeof(cflb_test_args[0]);
}


static inline int
cflb_test_get(void *ctx, unsigned id, cflb_rules_value_t *v)
{
    cflb_test_req_t  *req;

    req = ctx;

    if (id >= T_NFIELDS || id == T_ARGS || id == T_HEADERS) {
        /* maps are never fetched whole */
        abort();
    }

    req->gets[id]++;

    if ((int) id == req->fail_id) {
        return CFLB_ERROR;
    }

    if (!req->set[id]) {
        return CFLB_DECLINED;
    }

    *v = req->v[id];

    return CFLB_OK;
}


static inline int
cflb_test_lookup(void *ctx, unsigned id, const unsigned char *key,
    size_t len, cflb_rules_value_t *v)
{
    size_t                 i, n;
    cflb_test_req_t       *req;
    const cflb_test_kv_t  *kv;

    req = ctx;
    req->lookups++;

    if (id != T_HEADERS && id != T_ARGS) {
        abort();
    }

    if ((int) id == req->fail_id) {
        return CFLB_ERROR;
    }

    kv = id == T_HEADERS ? req->headers : req->args;
    n = id == T_HEADERS ? req->nheaders : req->nargs;

    if (!req->set[id]) {
        return CFLB_DECLINED;
    }

    for (i = 0; i < n; i++) {
        if (strlen(kv[i].name) == len && memcmp(kv[i].name, key, len) == 0) {
            v->u.a.elts = kv[i].vals;
            v->u.a.n = kv[i].n;
            return CFLB_OK;
        }
    }

    return CFLB_DECLINED;
}


static inline void *
cflb_test_pool_alloc(void *data, size_t size)
{
    void              *p, **ptrs;
    cflb_test_pool_t  *pool;

    pool = data;

    if (++pool->allocs == pool->fail_at) {
        return NULL;
    }

    if (pool->n == pool->cap) {
        pool->cap = pool->cap ? 2 * pool->cap : 16;
        ptrs = realloc(pool->ptrs, pool->cap * sizeof(void *));
        if (ptrs == NULL) {
            abort();
        }

        pool->ptrs = ptrs;
    }

    p = malloc(size);
    if (p == NULL) {
        abort();
    }

    pool->ptrs[pool->n++] = p;
    pool->bytes += size;

    return p;
}


/* the pool never frees one allocation: nginx's pools do not either */

static inline void
cflb_test_pool_nofree(void *data, void *p)
{
    (void) data;
    (void) p;

    abort();
}


static inline void
cflb_test_pool_reset(cflb_test_pool_t *pool)
{
    size_t  i;

    for (i = 0; i < pool->n; i++) {
        free(pool->ptrs[i]);
    }

    pool->n = 0;
}


static inline void
cflb_test_pool_done(cflb_test_pool_t *pool)
{
    cflb_test_pool_reset(pool);
    free(pool->ptrs);
    memset(pool, 0, sizeof(cflb_test_pool_t));
}


#if CFLB_TEST_REGEX

static inline void *
cflb_test_re_compile(void *data, const unsigned char *pattern, size_t len,
    char *errbuf, size_t errlen)
{
    int              err;
    PCRE2_SIZE       off;
    pcre2_code      *re;
    cflb_test_re_t  *t;

    t = data;

    re = pcre2_compile(pattern, len, 0, &err, &off, NULL);
    if (re == NULL) {
        pcre2_get_error_message(err, (PCRE2_UCHAR *) errbuf, errlen);
        return NULL;
    }

    t->compiled++;

    return re;
}


static inline int
cflb_test_re_match(void *data, void *re, const unsigned char *s, size_t len)
{
    int              rc;
    cflb_test_re_t  *t;

    t = data;

    rc = pcre2_match(re, s, len, 0, 0, t->md, t->mctx);

    if (rc >= 0) {
        return 1;
    }

    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }

    t->errors++;

    return -1;
}


static inline void
cflb_test_re_free(void *data, void *re)
{
    cflb_test_re_t  *t;

    t = data;
    t->freed++;

    pcre2_code_free(re);
}


static inline void
cflb_test_re_init(cflb_test_re_t *t)
{
    memset(t, 0, sizeof(cflb_test_re_t));

    t->mctx = pcre2_match_context_create(NULL);
    t->md = pcre2_match_data_create(1, NULL);

    if (t->mctx == NULL || t->md == NULL) {
        abort();
    }

    /* what keeps (a+)+$ from stalling a worker */
    pcre2_set_match_limit(t->mctx, 100000);
    pcre2_set_depth_limit(t->mctx, 1000);
}


static inline void
cflb_test_re_done(cflb_test_re_t *t)
{
    pcre2_match_data_free(t->md);
    pcre2_match_context_free(t->mctx);
}

#else

/* the stand-in: a pattern is a plain substring */

static inline void *
cflb_test_re_compile(void *data, const unsigned char *pattern, size_t len,
    char *errbuf, size_t errlen)
{
    cflb_str_t      *re;
    cflb_test_re_t  *t;

    (void) errbuf;
    (void) errlen;

    t = data;

    re = malloc(sizeof(cflb_str_t) + len + 1);
    if (re == NULL) {
        abort();
    }

    re->data = (unsigned char *) (re + 1);
    re->len = len;
    memcpy(re->data, pattern, len);
    t->compiled++;

    return re;
}


static inline int
cflb_test_re_match(void *data, void *re, const unsigned char *s, size_t len)
{
    size_t       i;
    cflb_str_t  *p;

    (void) data;

    p = re;

    for (i = 0; i + p->len <= len; i++) {
        if (memcmp(s + i, p->data, p->len) == 0) {
            return 1;
        }
    }

    return 0;
}


static inline void
cflb_test_re_free(void *data, void *re)
{
    cflb_test_re_t  *t;

    t = data;
    t->freed++;

    free(re);
}


static inline void
cflb_test_re_init(cflb_test_re_t *t)
{
    memset(t, 0, sizeof(cflb_test_re_t));
}


static inline void
cflb_test_re_done(cflb_test_re_t *t)
{
    (void) t;
}

#endif


static inline void
cflb_test_scheme(cflb_rules_scheme_t *scheme, cflb_test_re_t *re)
{
    scheme->fields = cflb_test_rules_fields;
    scheme->nfields = T_NFIELDS;
    scheme->regex_compile = cflb_test_re_compile;
    scheme->regex_match = cflb_test_re_match;
    scheme->regex_free = cflb_test_re_free;
    scheme->regex_data = re;
}


static inline void
cflb_test_input(cflb_rules_input_t *in, cflb_rules_slot_t *slots,
    cflb_rules_kslot_t *keys, size_t nkeys, cflb_test_req_t *req,
    cflb_allocator_t *pool)
{
    cflb_rules_input_init(in, slots, T_NFIELDS, keys, nkeys);

    in->get = cflb_test_get;
    in->lookup = cflb_test_lookup;
    in->ctx = req;
    in->pool = pool;
}


#endif /* _CFLB_TEST_RULES_H_INCLUDED_ */
