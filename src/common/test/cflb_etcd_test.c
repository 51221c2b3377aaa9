
/*
 * cflb_etcd.c, cflb_etcd_key.c: the etcd v3 gateway's answers as etcd
 * 3.4 writes them (captured from a real member), the messages of a watch
 * stream fed in every split, base64 (RFC 4648's vectors, strictness),
 * the key layout both ways, and stored values.
 */


#include "cflb_test.h"
#include "cflb_etcd.h"


#define S(lit)  (const unsigned char *) lit, sizeof(lit) - 1


/* what a parse handed over, as "+key=value@rev" or "-key@rev" lines */

typedef struct {
    char      out[1024];
    size_t    len;
    unsigned  n;
    int       answer;               /* what the callback returns */
} kvs_t;


static int
kvs_visit(void *data, const cflb_etcd_kv_t *kv)
{
    kvs_t *k = data;

    unsigned char  key[64], value[64];
    size_t         klen, vlen;

    if (cflb_base64_decode(key, &klen, kv->key.data, kv->key.len) != CFLB_OK
        || cflb_base64_decode(value, &vlen, kv->value.data, kv->value.len)
           != CFLB_OK)
    {
        return CFLB_ERROR;
    }

    k->len += snprintf(k->out + k->len, sizeof(k->out) - k->len,
                       "%c%.*s=%.*s@%lld/%lld;", kv->deleted ? '-' : '+',
                       (int) klen, (char *) key, (int) vlen, (char *) value,
                       (long long) kv->mod_revision, (long long) kv->lease);
    k->n++;

    return k->answer;
}


static void
answers(cflb_test_t *t)
{
    kvs_t            k;
    cflb_etcd_msg_t  m;

    /* a range: kvs, count, more */
    memset(&k, 0, sizeof(kvs_t));

    cflb_check(t, cflb_etcd_parse(S("{\"header\":{\"cluster_id\":\"3249525912"
        "00643719\",\"member_id\":\"3319814642761637952\",\"revision\":\"4\","
        "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":"
        "\"2\",\"mod_revision\":\"3\",\"version\":\"2\",\"value\":\"YmF6\"},"
        "{\"key\":\"YQ==\",\"mod_revision\":\"4\",\"value\":\"MQ==\","
        "\"lease\":\"77\"}],\"more\":true,\"count\":\"5\"}"), &m, kvs_visit,
        &k) == CFLB_OK);
    cflb_check(t, m.revision == 4 && m.more && m.count == 5
                  && !m.has_error && k.n == 2);
    cflb_check_msg(t, strcmp(k.out, "+foo=baz@3/0;+a=1@4/77;") == 0,
                   "range: %s", k.out);

    /* watch messages: created, events (a put, a delete), canceled */
    cflb_check(t, cflb_etcd_parse(S("{\"result\":{\"header\":{\"revision\":"
        "\"2\"},\"created\":true}}"), &m, kvs_visit, &k) == CFLB_OK
                  && m.created && m.revision == 2);

    memset(&k, 0, sizeof(kvs_t));

    cflb_check(t, cflb_etcd_parse(S("{\"result\":{\"header\":{\"revision\":"
        "\"4\"},\"events\":[{\"kv\":{\"key\":\"Zm9v\",\"mod_revision\":\"3\","
        "\"value\":\"YmF6\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"Zm9v\","
        "\"mod_revision\":\"4\"}}]}}"), &m, kvs_visit, &k) == CFLB_OK
                  && m.revision == 4 && !m.created);
    cflb_check_msg(t, strcmp(k.out, "+foo=baz@3/0;-foo=@4/0;") == 0,
                   "events: %s", k.out);

    cflb_check(t, cflb_etcd_parse(S("{\"result\":{\"header\":{\"raft_term\":"
        "\"2\"},\"canceled\":true,\"compact_revision\":\"5\","
        "\"cancel_reason\":\"mvcc: required revision has been compacted\"}}"),
        &m, NULL, NULL) == CFLB_OK
                  && m.canceled && m.compact_revision == 5
                  && m.cancel_reason.len == 42);

    /* lease grant and keepalive; a keepalive of a lease that is gone */
    cflb_check(t, cflb_etcd_parse(S("{\"header\":{\"revision\":\"4\"},\"ID\":"
        "\"2324035723048065290\",\"TTL\":\"5\"}"), &m, NULL, NULL) == CFLB_OK
                  && m.id == 2324035723048065290LL && m.ttl == 5);
    cflb_check(t, cflb_etcd_parse(S("{\"result\":{\"header\":{\"revision\":"
        "\"4\"},\"ID\":\"123\"}}"), &m, NULL, NULL) == CFLB_OK
                  && m.id == 123 && m.ttl == 0);

    /* a txn */
    cflb_check(t, cflb_etcd_parse(S("{\"header\":{\"revision\":\"5\"},"
        "\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":"
        "{\"revision\":\"5\"}}}]}"), &m, NULL, NULL) == CFLB_OK
                  && m.succeeded && m.revision == 5);

    /* errors: unary, and the object form of streams */
    cflb_check(t, cflb_etcd_parse(S("{\"error\":\"etcdserver: requested lease "
        "not found\",\"message\":\"etcdserver: requested lease not found\","
        "\"code\":5}"), &m, NULL, NULL) == CFLB_OK
                  && m.has_error && m.code == 5 && m.error.len == 37);
    cflb_check(t, cflb_etcd_parse(S("{\"error\":{\"grpc_code\":14,\"http_code\""
        ":503,\"message\":\"etcdserver: no leader\",\"http_status\":\"Service "
        "Unavailable\"}}"), &m, NULL, NULL) == CFLB_OK
                  && m.has_error && m.code == 14 && m.error.len == 21);

    /* nothing is handed over from a malformed answer */
    memset(&k, 0, sizeof(kvs_t));

    cflb_check(t, cflb_etcd_parse(S("{\"kvs\":[{\"key\":\"YQ==\"},{\"key\":"
        "\"Yg==\"}],\"more\":\"yes\"}"), &m, kvs_visit, &k) == CFLB_ERROR
                  && k.n == 0);
    cflb_check(t, cflb_etcd_parse(S("{\"kvs\":[{\"key\":\"YQ==\"},{\"key\":"
        "\"Yg==\"}"), &m, kvs_visit, &k) == CFLB_ERROR && k.n == 0);

    /* wrong types of known members */
    cflb_check(t, cflb_etcd_parse(S("[]"), &m, NULL, NULL) == CFLB_ERROR);
    cflb_check(t, cflb_etcd_parse(S("{\"header\":{\"revision\":\"1.5\"}}"),
                                  &m, NULL, NULL) == CFLB_ERROR);
    cflb_check(t, cflb_etcd_parse(S("{\"kvs\":[1]}"), &m, NULL, NULL)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_parse(S("{\"kvs\":[{\"key\":5}]}"), &m, NULL,
                                  NULL) == CFLB_ERROR);
    cflb_check(t, cflb_etcd_parse(S("{\"result\":7}"), &m, NULL, NULL)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_parse(S("{\"created\":1}"), &m, NULL, NULL)
                  == CFLB_ERROR);

    /* unknown members are ignored, whatever they hold */
    cflb_check(t, cflb_etcd_parse(S("{\"x\":[{\"y\":[1,{}]}],\"header\":{"
        "\"revision\":7,\"z\":null}}"), &m, NULL, NULL) == CFLB_OK
                  && m.revision == 7);

    /* the callback's answer stops the parse and is returned */
    memset(&k, 0, sizeof(kvs_t));
    k.answer = CFLB_DECLINED;

    cflb_check(t, cflb_etcd_parse(S("{\"kvs\":[{\"key\":\"YQ==\"},{\"key\":"
        "\"Yg==\"}]}"), &m, kvs_visit, &k) == CFLB_DECLINED && k.n == 1);
}


/* a stream of three messages fed whole, byte by byte, and in pieces */

static void
frames(cflb_test_t *t)
{
    int                   rc;
    char                  got[256];
    size_t                i, off, n, len, piece, glen;
    unsigned char         buf[64];
    cflb_etcd_frames_t    f;
    const unsigned char  *msg;

    static const char  stream[] = "{\"a\":1}\n\r\n\n{\"b\":2}\r\n  \n"
                                  "{\"c\":[3]}\n{\"partial\"";

    for (piece = 0; piece <= 9; piece++) {
        cflb_etcd_frames_init(&f, buf, sizeof(buf));
        off = 0;
        glen = 0;

        while (off < sizeof(stream) - 1) {
            n = piece ? piece : sizeof(stream) - 1;

            if (n > sizeof(stream) - 1 - off) {
                n = sizeof(stream) - 1 - off;
            }

            off += cflb_etcd_frames_feed(&f, (const unsigned char *) stream
                                             + off, n);

            while ((rc = cflb_etcd_frames_next(&f, &msg, &len)) == CFLB_OK) {
                glen += snprintf(got + glen, sizeof(got) - glen, "%.*s|",
                                 (int) len, (const char *) msg);
            }

            if (rc != CFLB_AGAIN) {
                break;
            }
        }

        cflb_check_msg(t, strcmp(got, "{\"a\":1}|{\"b\":2}|{\"c\":[3]}|")
                          == 0, "pieces of %lu: %s", (unsigned long) piece,
                       got);
    }

    /* a message longer than the buffer: an error, once the buffer fills */
    cflb_etcd_frames_init(&f, buf, 8);

    cflb_check(t, cflb_etcd_frames_feed(&f, S("{\"abc\":1}\n")) == 8);
    cflb_check(t, cflb_etcd_frames_next(&f, &msg, &len) == CFLB_ERROR);

    /* a message exactly as long as the buffer, its "\n" after it */
    cflb_etcd_frames_init(&f, buf, 8);

    cflb_check(t, cflb_etcd_frames_feed(&f, S("{\"a\":[]}")) == 8);
    cflb_check(t, cflb_etcd_frames_next(&f, &msg, &len) == CFLB_ERROR);

    cflb_etcd_frames_init(&f, buf, 8);

    cflb_check(t, cflb_etcd_frames_feed(&f, S("{\"a\":1}\n")) == 8);
    cflb_check(t, cflb_etcd_frames_next(&f, &msg, &len) == CFLB_OK
                  && len == 7);
    cflb_check(t, cflb_etcd_frames_next(&f, &msg, &len) == CFLB_AGAIN);

    /* taken messages make room for more */
    cflb_check(t, cflb_etcd_frames_feed(&f, S("{}\n{}\n")) == 6);

    for (i = 0; i < 2; i++) {
        cflb_check(t, cflb_etcd_frames_next(&f, &msg, &len) == CFLB_OK
                      && len == 2);
    }
}


static void
base64(cflb_test_t *t)
{
    size_t          i, n;
    unsigned char   out[64], back[64];

    /* RFC 4648, section 10 */
    static const char  *vec[][2] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" }
    };

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        n = cflb_base64_encode(out, (const unsigned char *) vec[i][0],
                               strlen(vec[i][0]));
        cflb_check(t, n == strlen(vec[i][1]) && n == cflb_base64_len(
                          strlen(vec[i][0]))
                      && memcmp(out, vec[i][1], n) == 0);

        cflb_check(t, cflb_base64_decode(back, &n,
                                         (const unsigned char *) vec[i][1],
                                         strlen(vec[i][1])) == CFLB_OK
                      && n == strlen(vec[i][0])
                      && memcmp(back, vec[i][0], n) == 0);
    }

    /* every byte value, both ways */
    for (i = 0; i < 48; i++) {
        back[i] = (unsigned char) (i * 37 + 250);
    }

    n = cflb_base64_encode(out, back, 48);
    cflb_check(t, cflb_base64_decode(out, &n, out, n) == CFLB_OK && n == 48
                  && memcmp(out, back, 48) == 0);

    /* strict: length, alphabet, padding, leftover bits */
    cflb_check(t, cflb_base64_decode(out, &n, S("Zm9")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Zm9-")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Zm9_")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Z===")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Zg=a")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Zg==Zg==")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Zh==")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Zm9=")) == CFLB_ERROR);
    cflb_check(t, cflb_base64_decode(out, &n, S("Zm8=")) == CFLB_OK
                  && n == 2);
}


static void
keys(cflb_test_t *t)
{
    size_t           n;
    unsigned char    out[128], buf[128];
    cflb_etcd_key_t  k, p;

    memset(&k, 0, sizeof(cflb_etcd_key_t));

    k.kind = CFLB_ETCD_ENDPOINT;
    k.field = CFLB_ETCD_WEIGHT;
    k.pool.data = (unsigned char *) "eu west/1";
    k.pool.len = 9;
    k.endpoint.data = (unsigned char *) "a%b~c";
    k.endpoint.len = 5;

    n = cflb_etcd_key(out, &k);
    cflb_check(t, n == cflb_etcd_key(NULL, &k));
    cflb_check_msg(t, n == 37 && memcmp(out, "endpoint/eu%20west%2F1/a%25b~c/"
                                             "weight", n) == 0,
                   "%.*s", (int) n, (char *) out);

    cflb_check(t, cflb_etcd_key_parse(out, n, &p, buf) == CFLB_OK
                  && p.kind == CFLB_ETCD_ENDPOINT && p.field == CFLB_ETCD_WEIGHT
                  && p.pool.len == 9 && memcmp(p.pool.data, "eu west/1", 9) == 0
                  && p.endpoint.len == 5
                  && memcmp(p.endpoint.data, "a%b~c", 5) == 0);

    k.kind = CFLB_ETCD_POOL;
    k.field = CFLB_ETCD_ENABLED;
    n = cflb_etcd_key(out, &k);
    cflb_check(t, n == 26 && memcmp(out, "pool/eu%20west%2F1/enabled", n)
                             == 0);
    cflb_check(t, cflb_etcd_key_parse(out, n, &p, buf) == CFLB_OK
                  && p.kind == CFLB_ETCD_POOL && p.field == CFLB_ETCD_ENABLED
                  && p.pool.len == 9 && p.endpoint.len == 0);

    k.kind = CFLB_ETCD_VOTE;
    k.node.data = (unsigned char *) "fra-1";
    k.node.len = 5;
    n = cflb_etcd_key(out, &k);
    cflb_check(t, n == 32 && memcmp(out, "vote/eu%20west%2F1/a%25b~c/fra-1", n)
                             == 0);
    cflb_check(t, cflb_etcd_key_parse(out, n, &p, buf) == CFLB_OK
                  && p.kind == CFLB_ETCD_VOTE && p.node.len == 5
                  && memcmp(p.node.data, "fra-1", 5) == 0);

    /* other layouts are declined, bad names refused */
    cflb_check(t, cflb_etcd_key_parse(S("pool/web/weight"), &p, buf)
                  == CFLB_DECLINED);
    cflb_check(t, cflb_etcd_key_parse(S("pool/web/enabled/x"), &p, buf)
                  == CFLB_DECLINED);
    cflb_check(t, cflb_etcd_key_parse(S("endpoint/web/enabled"), &p, buf)
                  == CFLB_DECLINED);
    cflb_check(t, cflb_etcd_key_parse(S("lock/web"), &p, buf)
                  == CFLB_DECLINED);
    cflb_check(t, cflb_etcd_key_parse(S("pool"), &p, buf) == CFLB_DECLINED);
    cflb_check(t, cflb_etcd_key_parse(S("vote/a/b/c/d"), &p, buf)
                  == CFLB_DECLINED);
    cflb_check(t, cflb_etcd_key_parse(S("pool//enabled"), &p, buf)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_key_parse(S("pool/a%2/enabled"), &p, buf)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_key_parse(S("pool/a%zz/enabled"), &p, buf)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_key_parse(S("vote/a/b/"), &p, buf)
                  == CFLB_ERROR);
}


static void
values(cflb_test_t *t)
{
    cflb_etcd_value_t  v;

    cflb_check(t, cflb_etcd_value_parse(S("{\"enabled\":false,\"configured\":"
        "true,\"node\":\"fra-1\",\"at\":1764520000}"), &v) == CFLB_OK
                  && v.enabled == 0 && v.conf_enabled == 1 && v.weight == -1
                  && v.conf_weight == -1 && v.healthy == -1
                  && v.at == 1764520000 && v.node_len == 5
                  && memcmp(v.node, "fra-1", 5) == 0);

    cflb_check(t, cflb_etcd_value_parse(S("{\"weight\":0.3,\"configured\":1,"
        "\"future\":{\"x\":[1]}}"), &v) == CFLB_OK
                  && v.weight == 30 && v.conf_weight == 100
                  && v.enabled == -1 && v.conf_enabled == -1);

    cflb_check(t, cflb_etcd_value_parse(S("{\"healthy\":true,\"node\":"
        "\"n\\u00e9\"}"), &v) == CFLB_OK
                  && v.healthy == 1 && v.node_len == 3);

    cflb_check(t, cflb_etcd_value_parse(S("{\"weight\":0.333}"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_value_parse(S("{\"weight\":2}"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_value_parse(S("{\"weight\":\"0.3\"}"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_value_parse(S("{\"enabled\":0}"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_value_parse(S("{\"at\":1.5}"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_value_parse(S("{\"node\":\"0123456789012345678901"
        "2345678901234567890123456789012345678901234567890123456789\"}"), &v)
                  == CFLB_ERROR);
    cflb_check(t, cflb_etcd_value_parse(S("true"), &v) == CFLB_ERROR);
    cflb_check(t, cflb_etcd_value_parse(S("{\"enabled\":true"), &v)
                  == CFLB_ERROR);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    answers(&t);
    frames(&t);
    base64(&t);
    keys(&t);
    values(&t);

    return cflb_test_done(&t, "cflb_etcd_test");
}
