
/*
 * cflb_etcd.c, cflb_etcd_key.c and cflb_json.c fuzz target: the input is
 * what a watch stream's body could carry.  It is cut into messages whole
 * and in pieces (the messages must not depend on the pieces), each
 * message is parsed as an answer, and each key-value handed over goes
 * through base64, the key layout and the value parser, as the glue
 * does.  The whole input is also walked as JSON, decoded as base64 and
 * parsed as a key.  Beyond the sanitizers, it aborts when a result
 * breaks the documented contract: a decoded key that does not encode
 * back to itself, an unescaped string longer than its text, a path
 * deeper than the limit, a message that two splits cut differently.
 *
 * Input: byte 0 seeds the splits, the rest is the stream.
 *
 * Built with -DCFLB_LIBFUZZER it is a libFuzzer target ("make fuzz").
 * Otherwise main() is a driver:
 *
 *     cflb_etcd_fuzz               built-in seeds and their mutations
 *     cflb_etcd_fuzz FILE...       each file as one input
 *     cflb_etcd_fuzz -seeds DIR    write the seeds there, a corpus
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_core.h"
#include "cflb_etcd.h"
#include "cflb_fuzz_driver.h"
#include "cflb_json_read.h"


#define CFLB_FUZZ_FRAME   512       /* the message buffer: small, to fill */
#define CFLB_FUZZ_SPLITS  3


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t cflb_fuzz_frames(const unsigned char *s, size_t len,
    size_t piece, cflb_rng_t *rng);
static void cflb_fuzz_message(const unsigned char *msg, size_t len);
static int cflb_fuzz_kv(void *data, const cflb_etcd_kv_t *kv);
static void cflb_fuzz_key(const unsigned char *key, size_t len);
static int cflb_fuzz_same(const cflb_str_t *a, const cflb_str_t *b);
static void cflb_fuzz_base64(const unsigned char *s, size_t len);
static int cflb_fuzz_visit(void *data, const cflb_json_path_t *path,
    cflb_json_type_e type, const unsigned char *text, size_t len);
static size_t cflb_fuzz_piece(size_t piece, cflb_rng_t *rng);
static void cflb_fuzz_fail(const char *what);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           k;
    uint64_t         whole, split;
    cflb_rng_t       rng;
    cflb_etcd_msg_t  m;

    if (size < 1) {
        return 0;
    }

    cflb_rng_seed(&rng, data[0] | (uint64_t) size << 8);

    data++;
    size--;

    whole = cflb_fuzz_frames(data, size, 0, NULL);

    if (size <= 2048 && cflb_fuzz_frames(data, size, 1, NULL) != whole) {
        cflb_fuzz_fail("frames: byte by byte differs");
    }

    for (k = 0; k < CFLB_FUZZ_SPLITS; k++) {
        split = cflb_fuzz_frames(data, size, 2 + (k << (k + 2)), &rng);

        if (split != whole) {
            cflb_fuzz_fail("frames: a split changed the messages");
        }
    }

    /* the whole input as one answer, as JSON, as base64, as a key */

    (void) cflb_etcd_parse(data, size, &m, cflb_fuzz_kv, NULL);
    (void) cflb_json_walk(data, size, cflb_fuzz_visit, NULL, NULL);

    cflb_fuzz_base64(data, size);
    cflb_fuzz_key(data, size);

    return 0;
}


/*
 * The messages of the stream fed in pieces; returns a hash of them all
 * (and of an overlong one, where it stops), for the splits to compare.
 */

static uint64_t
cflb_fuzz_frames(const unsigned char *s, size_t len, size_t piece,
    cflb_rng_t *rng)
{
    int                   rc;
    size_t                off, n, took, mlen;
    uint64_t              h;
    cflb_etcd_frames_t    f;
    const unsigned char  *msg;
    unsigned char         buf[CFLB_FUZZ_FRAME];

    cflb_etcd_frames_init(&f, buf, sizeof(buf));

    off = 0;
    h = 0;

    for ( ;; ) {
        n = cflb_fuzz_piece(piece, rng);

        if (n > len - off) {
            n = len - off;
        }

        took = cflb_etcd_frames_feed(&f, s + off, n);

        if (took > n) {
            cflb_fuzz_fail("frames: took more than given");
        }

        off += took;

        while ((rc = cflb_etcd_frames_next(&f, &msg, &mlen)) == CFLB_OK) {
            if (mlen == 0 || mlen > CFLB_FUZZ_FRAME
                || memchr(msg, '\n', mlen) != NULL)
            {
                cflb_fuzz_fail("frames: a message breaks the contract");
            }

            h = cflb_hash64(msg, mlen, h + 1);

            if (piece == 0) {
                cflb_fuzz_message(msg, mlen);
            }
        }

        if (rc == CFLB_ERROR) {
            return h ^ 0xe7707;
        }

        if (rc != CFLB_AGAIN) {
            cflb_fuzz_fail("frames: return code");
        }

        if (off == len) {
            return h;
        }

        if (took == 0 && n != 0) {
            cflb_fuzz_fail("frames: took nothing with room");
        }
    }
}


static void
cflb_fuzz_message(const unsigned char *msg, size_t len)
{
    int              rc, rc2;
    unsigned         n;
    cflb_etcd_msg_t  m, m2;

    n = 0;
    rc = cflb_etcd_parse(msg, len, &m, cflb_fuzz_kv, &n);

    /* handing key-values over changes nothing of the answer */
    rc2 = cflb_etcd_parse(msg, len, &m2, NULL, NULL);

    if (rc2 != CFLB_OK && rc2 != CFLB_ERROR) {
        cflb_fuzz_fail("parse: return code");
    }

    if ((rc == CFLB_OK) != (rc2 == CFLB_OK)
        || (rc == CFLB_OK && memcmp(&m, &m2, sizeof(cflb_etcd_msg_t)) != 0))
    {
        cflb_fuzz_fail("parse: the key-value pass changed the answer");
    }

    if (rc == CFLB_ERROR && n != 0) {
        cflb_fuzz_fail("parse: key-values from a malformed answer");
    }
}


/* what the glue does with each key-value */

static int
cflb_fuzz_kv(void *data, const cflb_etcd_kv_t *kv)
{
    size_t             klen, vlen;
    unsigned          *n = data;
    unsigned char     *key, *value;
    cflb_etcd_value_t  v;

    if (n) {
        (*n)++;
    }

    key = malloc(kv->key.len / 4 * 3 + 1);
    value = malloc(kv->value.len / 4 * 3 + 1);

    if (key == NULL || value == NULL) {
        cflb_fuzz_fail("out of memory");
    }

    if (cflb_base64_decode(key, &klen, kv->key.data, kv->key.len) == CFLB_OK)
    {
        cflb_fuzz_key(key, klen);
    }

    if (cflb_base64_decode(value, &vlen, kv->value.data, kv->value.len)
        == CFLB_OK
        && cflb_etcd_value_parse(value, vlen, &v) == CFLB_OK)
    {
        if (v.node_len > CFLB_ETCD_NODE_MAX
            || v.weight > CFLB_WEIGHT_SCALE || v.conf_weight
               > CFLB_WEIGHT_SCALE
            || v.enabled > 1 || v.healthy > 1)
        {
            cflb_fuzz_fail("value: out of range");
        }
    }

    cflb_fuzz_base64(kv->key.data, kv->key.len);

    free(key);
    free(value);

    return CFLB_OK;
}


/* a key that parses writes back to a key that parses the same */

static void
cflb_fuzz_key(const unsigned char *key, size_t len)
{
    int              rc;
    size_t           n;
    unsigned char   *buf, *out, *buf2;
    cflb_etcd_key_t  k, k2;

    buf = malloc(len + 1);
    if (buf == NULL) {
        cflb_fuzz_fail("out of memory");
    }

    rc = cflb_etcd_key_parse(key, len, &k, buf);

    if (rc != CFLB_OK) {
        if (rc != CFLB_DECLINED && rc != CFLB_ERROR) {
            cflb_fuzz_fail("key: return code");
        }

        free(buf);
        return;
    }

    n = cflb_etcd_key(NULL, &k);
    out = malloc(n + 1);
    buf2 = malloc(n + 1);

    if (out == NULL || buf2 == NULL) {
        cflb_fuzz_fail("out of memory");
    }

    if (cflb_etcd_key(out, &k) != n
        || cflb_etcd_key_parse(out, n, &k2, buf2) != CFLB_OK
        || k2.kind != k.kind || k2.field != k.field
        || !cflb_fuzz_same(&k2.pool, &k.pool)
        || !cflb_fuzz_same(&k2.endpoint, &k.endpoint)
        || !cflb_fuzz_same(&k2.node, &k.node))
    {
        cflb_fuzz_fail("key: written back, it reads otherwise");
    }

    free(buf);
    free(buf2);
    free(out);
}


static int
cflb_fuzz_same(const cflb_str_t *a, const cflb_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


/* base64 that decodes is canonical: it encodes back to itself */

static void
cflb_fuzz_base64(const unsigned char *s, size_t len)
{
    size_t          n;
    unsigned char  *dec, *enc;

    dec = malloc(len / 4 * 3 + 1);
    enc = malloc(len + 4);

    if (dec == NULL || enc == NULL) {
        cflb_fuzz_fail("out of memory");
    }

    if (cflb_base64_decode(dec, &n, s, len) == CFLB_OK) {
        if (n > len / 4 * 3
            || cflb_base64_encode(enc, dec, n) != len
            || (len && memcmp(enc, s, len) != 0))
        {
            cflb_fuzz_fail("base64: not canonical");
        }
    }

    free(dec);
    free(enc);
}


static int
cflb_fuzz_visit(void *data, const cflb_json_path_t *path,
    cflb_json_type_e type, const unsigned char *text, size_t len)
{
    size_t          n;
    int64_t         v;
    unsigned char  *out;

    (void) data;

    if (path->depth > CFLB_JSON_MAX_DEPTH
        || type > CFLB_JSON_ARRAY_END
        || ((type == CFLB_JSON_OBJECT || type == CFLB_JSON_ARRAY)
            && path->depth == CFLB_JSON_MAX_DEPTH))
    {
        cflb_fuzz_fail("json: depth or type");
    }

    if (type == CFLB_JSON_STRING) {
        out = malloc(len + 1);
        if (out == NULL) {
            cflb_fuzz_fail("out of memory");
        }

        /* an escape never decodes longer than it is written */
        if (cflb_json_unescape(text, len, out, len, &n) != CFLB_OK
            || n > len)
        {
            cflb_fuzz_fail("json: unescape");
        }

        free(out);
    }

    if (type == CFLB_JSON_NUMBER || type == CFLB_JSON_STRING) {
        (void) cflb_json_int64(text, len, &v);
    }

    return CFLB_OK;
}


/* 0: all at once, 1: byte by byte, n: random pieces of 0..n bytes */

static size_t
cflb_fuzz_piece(size_t piece, cflb_rng_t *rng)
{
    if (piece == 0) {
        return (size_t) -1;
    }

    if (piece == 1) {
        return 1;
    }

    return (size_t) cflb_rng_below(rng, piece + 1);
}


static void
cflb_fuzz_fail(const char *what)
{
    fprintf(stderr, "cflb_etcd_fuzz: %s\n", what);
    abort();
}


#ifndef CFLB_LIBFUZZER


/* the control byte comes first; then what etcd 3.4 sends, and keys */

static const cflb_fuzz_seed_t  cflb_fuzz_seeds[] = {
    cflb_fuzz_seed("\x00" "{\"result\":{\"header\":{\"cluster_id\":\"32495259"
        "1200643719\",\"member_id\":\"3319814642761637952\",\"revision\":\"2\""
        ",\"raft_term\":\"2\"},\"created\":true}}\n"
        "{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"kv\":{"
        "\"key\":\"L2NmbGIvaHR0cC9wb29sL3dlYi9lbmFibGVk\",\"create_revision\""
        ":\"2\",\"mod_revision\":\"3\",\"version\":\"2\",\"value\":\"eyJlbmFi"
        "bGVkIjpmYWxzZSwiY29uZmlndXJlZCI6dHJ1ZSwibm9kZSI6ImZyYS0xIiwiYXQiOjE"
        "3NjQ1MjAwMDB9\"}}]}}\n"),
    cflb_fuzz_seed("\x01" "{\"result\":{\"header\":{\"revision\":\"4\"},"
        "\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"dm90ZS93ZWIvYS9mc"
        "mEtMg==\",\"mod_revision\":\"4\"}}]}}\r\n\n"
        "{\"result\":{\"header\":{\"raft_term\":\"2\"},\"canceled\":true,"
        "\"compact_revision\":\"5\"}}\n"),
    cflb_fuzz_seed("\x02" "{\"header\":{\"revision\":\"4\"},\"kvs\":[{\"key\":"
        "\"ZW5kcG9pbnQvd2ViL2Evd2VpZ2h0\",\"mod_revision\":\"3\",\"value\":"
        "\"eyJ3ZWlnaHQiOjAuMywiY29uZmlndXJlZCI6MC41fQ==\",\"lease\":\"77\"}],"
        "\"more\":true,\"count\":\"5\"}"),
    cflb_fuzz_seed("\x03" "{\"error\":\"etcdserver: requested lease not "
        "found\",\"message\":\"etcdserver: requested lease not found\","
        "\"code\":5}\n{\"error\":{\"grpc_code\":14,\"message\":\"no leader\"}}"
        "\n"),
    cflb_fuzz_seed("\x04" "{\"header\":{\"revision\":\"4\"},\"ID\":"
        "\"2324035723048065290\",\"TTL\":\"5\"}\n{\"a\":[[[[[[[[[[[[[[[[[1]]]]"
        "]]]]]]]]]]]]]}\n[\"\\u00e9\\uD83D\\uDE00\\uDC00\"]\n"),
    cflb_fuzz_seed("\x05" "vote/eu%20west%2F1/a%25b~c/fra-1"),
    cflb_fuzz_seed("\x06" "Zm9vYmFy"),
    cflb_fuzz_seed("\x07" "{\"weight\":0.25,\"configured\":1,\"healthy\":true,"
        "\"node\":\"n\\u00e9\",\"at\":-9223372036854775808}")
};


/* the bytes the parsers care about */

static const char  cflb_fuzz_alphabet[] =
    "{}[]\":,\\\n\r 0123456789-.eEtfnu=+/%AZaz";


static const cflb_fuzz_driver_t  cflb_fuzz_driver = {
    .name = "cflb_etcd_fuzz",
    .seeds = cflb_fuzz_seeds,
    .nseeds = sizeof(cflb_fuzz_seeds) / sizeof(cflb_fuzz_seeds[0]),
    .alphabet = cflb_fuzz_alphabet,
    .alphabet_len = sizeof(cflb_fuzz_alphabet) - 1,
    .run = 64,
    .repeats = 8,
    .mutants = 300,
    .max = 8192,
    .rng_seed = 20261130
};


int
main(int argc, char **argv)
{
    return cflb_fuzz_main(&cflb_fuzz_driver, argc, argv);
}


#endif /* CFLB_LIBFUZZER */
