
/*
 * cflb_http_resp.c: response heads and chunked bodies, valid and not,
 * each parsed whole, byte by byte and in random splits (with empty
 * pieces) that must all give the same result.
 */


#include "cflb_test.h"
#include "cflb_http_resp.h"


#define CFLB_TEST_SPLITS    50
#define CFLB_TEST_MAX_HEAD  8192

/* a string literal and its length, NULs included */
#define cflb_str(s)         s, sizeof(s) - 1


typedef struct {
    int                rc;
    size_t             pos;         /* head length, or the error offset */
    unsigned           status;
    unsigned           gzip;
    unsigned           chunked;
    unsigned           has_length;
    uint64_t           content_length;
    size_t             location_len;
    unsigned char      location[CFLB_HTTP_MAX_LOCATION];
} cflb_test_head_t;


typedef struct {
    int                rc;
    size_t             len;
    unsigned char     *out;
} cflb_test_body_t;


typedef struct {
    const char        *s;
    int                rc;
    unsigned           status;
    unsigned           gzip;
    unsigned           chunked;
    int                length;      /* -1: none */
    const char        *location;    /* NULL: none */
    const char        *body;        /* what follows the head */
} cflb_test_head_vector_t;


static void cflb_http_resp_test_feed(const unsigned char *s, size_t len,
    size_t max_head, size_t piece, cflb_rng_t *rng, cflb_test_head_t *res);
static int cflb_http_resp_test_same(const cflb_test_head_t *a,
    const cflb_test_head_t *b);
static void cflb_http_resp_test_head(cflb_test_t *t, const unsigned char *s,
    size_t len, size_t max_head, cflb_test_head_t *res);
static void cflb_http_resp_test_heads(cflb_test_t *t);
static void cflb_http_resp_test_bad(cflb_test_t *t);
static void cflb_http_resp_test_limits(cflb_test_t *t);
static void cflb_http_resp_test_location(cflb_test_t *t);
static void cflb_http_resp_test_decode(const unsigned char *s, size_t len,
    size_t piece, cflb_rng_t *rng, cflb_test_body_t *res);
static void cflb_http_resp_test_chunked(cflb_test_t *t);
static void cflb_http_resp_test_pipeline(cflb_test_t *t);


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    cflb_http_resp_test_heads(&t);
    cflb_http_resp_test_bad(&t);
    cflb_http_resp_test_limits(&t);
    cflb_http_resp_test_location(&t);
    cflb_http_resp_test_chunked(&t);
    cflb_http_resp_test_pipeline(&t);

    return cflb_test_done(&t, "cflb_http_resp_test");
}


/*
 * Feeds s[0..len) in pieces: piece 0 is all at once, 1 byte by byte, n
 * random pieces of 0..n bytes.
 */

static void
cflb_http_resp_test_feed(const unsigned char *s, size_t len, size_t max_head,
    size_t piece, cflb_rng_t *rng, cflb_test_head_t *res)
{
    int               rc;
    size_t            off, n, used;
    cflb_http_resp_t  r;

    memset(res, 0, sizeof(cflb_test_head_t));
    cflb_http_resp_init(&r);

    off = 0;

    for ( ;; ) {
        if (piece == 0) {
            n = len - off;

        } else if (piece == 1) {
            n = 1;

        } else {
            n = (size_t) cflb_rng_below(rng, piece + 1);
        }

        if (n > len - off) {
            n = len - off;
        }

        used = (size_t) -1;
        rc = cflb_http_resp_head(&r, s + off, n, max_head, &used);

        if (rc == CFLB_AGAIN) {
            if (used != n) {
                res->rc = 100;      /* a broken contract */
                return;
            }

            off += n;

            if (off == len) {
                break;
            }

            continue;
        }

        if (used > n) {
            res->rc = 101;
            return;
        }

        off += used;
        break;
    }

    res->rc = rc;
    res->pos = off;

    if (rc != CFLB_OK) {
        return;
    }

    res->status = r.status;
    res->gzip = r.gzip;
    res->chunked = r.chunked;
    res->has_length = r.has_length;
    res->content_length = r.content_length;
    res->location_len = r.location_len;

    if (r.location_len <= CFLB_HTTP_MAX_LOCATION) {
        memcpy(res->location, r.location, r.location_len);
    }

    /* done is final */

    rc = cflb_http_resp_head(&r, (const unsigned char *) "HTTP/1.1 ", 9,
                             max_head, &used);
    if (rc != CFLB_OK || used != 0 || r.status != res->status) {
        res->rc = 102;
    }
}


static int
cflb_http_resp_test_same(const cflb_test_head_t *a, const cflb_test_head_t *b)
{
    return a->rc == b->rc
           && a->pos == b->pos
           && a->status == b->status
           && a->gzip == b->gzip
           && a->chunked == b->chunked
           && a->has_length == b->has_length
           && a->content_length == b->content_length
           && a->location_len == b->location_len
           && a->location_len <= CFLB_HTTP_MAX_LOCATION
           && memcmp(a->location, b->location, a->location_len) == 0;
}


/* parses whole into res, and checks every split gives the same */

static void
cflb_http_resp_test_head(cflb_test_t *t, const unsigned char *s, size_t len,
    size_t max_head, cflb_test_head_t *res)
{
    size_t            k;
    cflb_rng_t        rng;
    cflb_test_head_t  split;

    cflb_http_resp_test_feed(s, len, max_head, 0, NULL, res);

    cflb_http_resp_test_feed(s, len, max_head, 1, NULL, &split);
    cflb_check_msg(t, cflb_http_resp_test_same(res, &split),
                   "byte by byte: rc %d pos %u, whole: rc %d pos %u for"
                   " \"%.60s\"", split.rc, (unsigned) split.pos, res->rc,
                   (unsigned) res->pos, (const char *) s);

    cflb_rng_seed(&rng, len);

    for (k = 0; k < CFLB_TEST_SPLITS; k++) {
        cflb_http_resp_test_feed(s, len, max_head, 2 + k % 20, &rng, &split);

        if (!cflb_http_resp_test_same(res, &split)) {
            cflb_check_msg(t, 0, "split %u: rc %d pos %u, whole: rc %d"
                           " pos %u for \"%.60s\"", (unsigned) k, split.rc,
                           (unsigned) split.pos, res->rc,
                           (unsigned) res->pos, (const char *) s);
            return;
        }
    }

    cflb_check(t, 1);
}


static void
cflb_http_resp_test_heads(cflb_test_t *t)
{
    size_t                   i, len, blen;
    cflb_test_head_t         res;
    const cflb_test_head_vector_t  *v;

    static const cflb_test_head_vector_t  good[] = {
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
          CFLB_OK, 200, 0, 0, 5, NULL, "hello" },
        { "HTTP/1.0 404 Not Found\r\n\r\n",
          CFLB_OK, 404, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 200\r\n\r\nbody",
          CFLB_OK, 200, 0, 0, -1, NULL, "body" },
        { "HTTP/1.1 200 \r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "" },
        { "HTTP/1.1   503   Service  Unavailable \r\n\r\n",
          CFLB_OK, 503, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 301 Moved\nLocation: http://x/y\n\nrest\r\n",
          CFLB_OK, 301, 0, 0, -1, "http://x/y", "rest\r\n" },
        { "HTTP/1.1 302 Found\r\nlocation:/a\r\n\n",
          CFLB_OK, 302, 0, 0, -1, "/a", "" },
        { "HTTP/1.1 200 OK\r\ncontent-LENGTH:   42  \r\n"
          "TRANSFER-encoding: gzip, Chunked\r\n"
          "content-encoding: X-GZIP\r\n\r\n",
          CFLB_OK, 200, 1, 1, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
          "Content-Length: 10\r\n\r\n5\r\n",
          CFLB_OK, 200, 0, 1, -1, NULL, "5\r\n" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding:chunked;q=1\r\n\r\n",
          CFLB_OK, 200, 0, 1, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: x;a=\"b\" , chunked\r\n\r\n",
          CFLB_OK, 200, 0, 1, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: x;chunked\r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedx\r\n"
          "Transfer-Encoding: xchunked, gzip\r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
          "Transfer-Encoding: chunked\r\n\r\n",
          CFLB_OK, 200, 0, 1, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n",
          CFLB_OK, 200, 1, 0, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nContent-Encoding: \t x-gzip \t\r\n\r\n",
          CFLB_OK, 200, 1, 0, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nContent-Encoding: gzip2\r\n"
          "Content-Encoding: identity,br\r\nX-Gzip: gzip\r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 05\r\n"
          "\r\n",
          CFLB_OK, 200, 0, 0, 5, NULL, "" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
          CFLB_OK, 200, 0, 0, 0, NULL, "" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n",
          CFLB_OK, 200, 0, 0, -2, NULL, "" },
        { "HTTP/1.1 200 OK\r\nX-Foo: a\r\n  folded\r\n\tmore\r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\n folded first\r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 200 OK\r\nX-Empty:\r\nX:y\r\nContent-Length-X: 7\r\n"
          "Locations: /no\r\nServer: a:b\r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 301 OK\r\nLocation:   /a b  \r\n\r\n",
          CFLB_OK, 301, 0, 0, -1, "/a b", "" },
        { "HTTP/1.1 301 OK\r\nLocation: /x\r\nLocation: /y\r\n\r\n",
          CFLB_OK, 301, 0, 0, -1, "/y", "" },
        { "HTTP/1.1 301 OK\r\nLocation: /x\r\nLocation:\r\n\r\n",
          CFLB_OK, 301, 0, 0, -1, NULL, "" },
        { "HTTP/1.1 301 OK\r\nLocation: \xc3\xa9/\x80\r\n\r\n",
          CFLB_OK, 301, 0, 0, -1, "\xc3\xa9/\x80", "" },
        { "HTTP/1.1 100 Continue\r\n\r\n"
          "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nLocation: /zz\r\n"
          "Content-Length: 9\r\nContent-Encoding: gzip\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
          CFLB_OK, 200, 0, 0, 2, NULL, "ok" },
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n\x81",
          CFLB_OK, 101, 0, 0, -1, NULL, "\x81" },

        /* long skipped values and a name longer than the parser keeps */
        { "HTTP/1.1 200 OK, with a reason phrase of some length\r\n"
          "Server: nginx/1.22.1 (Debian GNU/Linux)\r\n"
          "X-nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
          "nnnnnnnnnnnnnnnnnnnnnn: v\r\n"
          "Content-Length: 7\r\n\r\n",
          CFLB_OK, 200, 0, 0, 7, NULL, "" },
        { "HTTP/1.1 599 x\r\n\r\n",
          CFLB_OK, 599, 0, 0, -1, NULL, "" },
        { "HTTP/1.0 200 OK\r\n\r\nHTTP/1.0 500 no\r\n\r\n",
          CFLB_OK, 200, 0, 0, -1, NULL, "HTTP/1.0 500 no\r\n\r\n" },
        { "HTTP/1.9 204 No Content\r\n\r\n",
          CFLB_OK, 204, 0, 0, -1, NULL, "" },

        /* incomplete */

        { "", CFLB_AGAIN, 0, 0, 0, -1, NULL, NULL },
        { "HTTP/1.", CFLB_AGAIN, 0, 0, 0, -1, NULL, NULL },
        { "HTTP/1.1 200 OK\r\n", CFLB_AGAIN, 0, 0, 0, -1, NULL, NULL },
        { "HTTP/1.1 200 OK\r\n\r", CFLB_AGAIN, 0, 0, 0, -1, NULL, NULL },
        { "HTTP/1.1 100 Continue\r\n\r\n",
          CFLB_AGAIN, 0, 0, 0, -1, NULL, NULL }
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = &good[i];
        len = strlen(v->s);

        cflb_http_resp_test_head(t, (const unsigned char *) v->s, len,
                                 CFLB_TEST_MAX_HEAD, &res);

        if (res.rc != v->rc) {
            cflb_check_msg(t, 0, "\"%.40s\": rc %d pos %u, want %d", v->s,
                           res.rc, (unsigned) res.pos, v->rc);
            continue;
        }

        if (v->rc != CFLB_OK) {
            cflb_check(t, 1);
            continue;
        }

        blen = strlen(v->body);

        cflb_check_msg(t, res.status == v->status
                          && res.gzip == v->gzip
                          && res.chunked == v->chunked
                          && res.has_length == (v->length != -1)
                          && res.content_length
                             == (v->length == -2 ? UINT64_MAX
                                 : v->length == -1 ? 0
                                 : (uint64_t) v->length)
                          && res.pos == len - blen,
                       "\"%.40s\": status %u gzip %u chunked %u length %u"
                       " %llu head %u", v->s, res.status, res.gzip,
                       res.chunked, res.has_length,
                       (unsigned long long) res.content_length,
                       (unsigned) res.pos);

        if (v->location == NULL) {
            cflb_check_msg(t, res.location_len == 0, "\"%.40s\": location",
                           v->s);

        } else {
            cflb_check_msg(t, res.location_len == strlen(v->location)
                              && memcmp(res.location, v->location,
                                        res.location_len) == 0,
                           "\"%.40s\": location \"%.*s\"", v->s,
                           (int) res.location_len, res.location);
        }
    }
}


static void
cflb_http_resp_test_bad(cflb_test_t *t)
{
    size_t            i, used;
    cflb_http_resp_t  r;
    cflb_test_head_t  res;

    /* the error offset is where the input stopped making sense */

    static const struct {
        const char  *s;
        size_t       offset;
    } bad[] = {
        { "garbage", 0 },
        { "<html><body>", 0 },
        { "SSH-2.0-OpenSSH_9.2\r\n", 0 },
        { "\r\nHTTP/1.1 200 OK\r\n\r\n", 1 },
        { " HTTP/1.1 200 OK\r\n\r\n", 0 },
        { "HTTX/1.1 200 OK\r\n\r\n", 3 },
        { "http/1.1 200 OK\r\n\r\n", 0 },
        { "HTTP/2 200 OK\r\n\r\n", 5 },
        { "HTTP/2.0 200 OK\r\n\r\n", 5 },
        { "HTTP/1.x 200 OK\r\n\r\n", 7 },
        { "HTTP/1.10 200 OK\r\n\r\n", 8 },
        { "HTTP/1.1\r\n\r\n", 9 },
        { "HTTP/1.1 200OK\r\n\r\n", 12 },
        { "HTTP/1.1 20 OK\r\n\r\n", 11 },
        { "HTTP/1.1 2000 OK\r\n\r\n", 12 },
        { "HTTP/1.1 600 OK\r\n\r\n", 9 },
        { "HTTP/1.1 099 OK\r\n\r\n", 9 },
        { "HTTP/1.1 abc\r\n\r\n", 9 },
        { "HTTP/1.1 200 OK\rX\r\n\r\n", 16 },
        { "HTTP/1.1 200 OK\r\r\n\r\n", 16 },
        { "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", 33 },
        { "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", 34 },
        { "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 33 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5 6\r\n\r\n", 35 },
        { "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 33 },
        { "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", 33 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5,5\r\n\r\n", 34 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n", 34 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
          "\r\n", 54 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n"
          "\r\n", 52 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n"
          "\r\n", 52 },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 6\r\n\r\n", 36 },
        { "HTTP/1.1 200 OK\r\nLocation: /a\r\n\t/b\r\n\r\n", 31 },
        { "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", 19 },
        { "HTTP/1.1 200 OK\r\nNocolon\r\n\r\n", 25 },
        { "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", 17 },
        { "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", 20 },
        { "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", 31 },
        { "HTTP/1.1 200 OK\r\nX-\x01: 5\r\n\r\n", 19 },
        { "HTTP/1.1 200 OK\r\nLocation: /a\x01z\r\n\r\n", 29 },
        { "HTTP/1.1 200 OK\r\nLocation: /a\x7f\r\n\r\n", 29 },
        { "HTTP/1.1 200 OK\r\nX: y\r\n\rZ", 24 },
        { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
          "Content-Length: x\r\n\r\n", 58 },
        { "HTTP/1.1 100 Continue\r\n\r\n<html>", 25 },

        /* bytes skipped or scanned several at a time are still checked */
        { "HTTP/1.1 200 OK, and a reason longer than a word\rX\r\n\r\n",
          49 },
        { "HTTP/1.1 200 OK\r\nServer: a-value-of-twenty-three\rX\r\n\r\n",
          49 },
        { "HTTP/1.1 200 OK\r\nServer: a-value-of-twenty-three\r\r\n\r\n",
          49 },
        { "HTTP/1.1 200 OK\r\nX-A-Rather-Long-Name\x7f: 1\r\n\r\n", 37 },
        { "HTTP/1.1 200 OK\r\nX-A-Rather-Long-Name\r\n\r\n", 38 },
        { "HTTP/1.1 200 OK\r\nX-A-Rather-Long-Name\rX: 1\r\n\r\n", 38 }
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cflb_http_resp_test_head(t, (const unsigned char *) bad[i].s,
                                 strlen(bad[i].s), CFLB_TEST_MAX_HEAD, &res);

        cflb_check_msg(t, res.rc == CFLB_ERROR && res.pos == bad[i].offset,
                       "\"%s\": rc %d at %u, want an error at %u",
                       bad[i].s, res.rc, (unsigned) res.pos,
                       (unsigned) bad[i].offset);
    }

    /* an error is final */

    cflb_http_resp_init(&r);
    cflb_check(t, cflb_http_resp_head(&r, (const unsigned char *) "XTTP", 4,
                                      100, &used)
                  == CFLB_ERROR && used == 0);
    cflb_check(t, cflb_http_resp_head(&r, (const unsigned char *)
                                      "HTTP/1.1 200 OK\r\n\r\n", 19, 100,
                                      &used)
                  == CFLB_ERROR && used == 0);

    /* an empty buffer needs more, uses none */

    cflb_http_resp_init(&r);
    cflb_check(t, cflb_http_resp_head(&r, NULL, 0, 100, &used) == CFLB_AGAIN
                  && used == 0);
}


static void
cflb_http_resp_test_limits(cflb_test_t *t)
{
    size_t            i, len, n;
    unsigned char    *buf;
    cflb_test_head_t  res;

    static const char  head[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";

    len = sizeof(head) - 1;

    /* max_head counts the head bytes, the body is not part of it */

    cflb_http_resp_test_head(t, (const unsigned char *) "HTTP/1.1 200 OK\r\n"
                             "Content-Length: 2\r\n\r\nok", len + 2, len,
                             &res);
    cflb_check(t, res.rc == CFLB_OK && res.pos == len);

    cflb_http_resp_test_head(t, (const unsigned char *) head, len, len - 1,
                             &res);
    cflb_check(t, res.rc == CFLB_ERROR && res.pos == len - 1);

    cflb_http_resp_test_head(t, (const unsigned char *) head, len, 0, &res);
    cflb_check(t, res.rc == CFLB_ERROR && res.pos == 0);

    /* max_head counts interim heads too */

    cflb_http_resp_test_head(t, (const unsigned char *)
                             "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 OK\r\n\r\n", 44, 44, &res);
    cflb_check(t, res.rc == CFLB_OK && res.status == 200 && res.pos == 44);

    cflb_http_resp_test_head(t, (const unsigned char *)
                             "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 OK\r\n\r\n", 44, 43, &res);
    cflb_check(t, res.rc == CFLB_ERROR && res.pos == 43);

    /* long lines: unknown headers of any length are skipped */

    n = 5000;
    buf = malloc(n + 100);
    if (buf == NULL) {
        cflb_check_msg(t, 0, "out of memory");
        return;
    }

    memcpy(buf, "HTTP/1.1 200 OK\r\nX-Long: ", 25);
    memset(buf + 25, 'v', n);
    memcpy(buf + 25 + n, "\r\nContent-Length: 7\r\n\r\n", 23);
    len = 25 + n + 23;

    cflb_http_resp_test_head(t, buf, len, len, &res);
    cflb_check(t, res.rc == CFLB_OK && res.has_length
                  && res.content_length == 7 && res.pos == len);

    cflb_http_resp_test_head(t, buf, len, 1000, &res);
    cflb_check(t, res.rc == CFLB_ERROR && res.pos == 1000);

    /* names longer than the line buffer are unknown ones */

    memcpy(buf, "HTTP/1.1 200 OK\r\n", 17);
    memset(buf + 17, 'N', n);
    memcpy(buf + 17, "Content-Length", 14);
    memcpy(buf + 17 + n, ": 5\r\n\r\n", 7);
    len = 17 + n + 7;

    cflb_http_resp_test_head(t, buf, len, len, &res);
    cflb_check(t, res.rc == CFLB_OK && !res.has_length && res.pos == len);

    /* so are known names the buffer ends exactly after */

    for (i = 250; i < 260; i++) {
        memset(buf + 17, 'N', i);
        memcpy(buf + 17 + i - 14, "Content-Length", 14);
        memcpy(buf + 17 + i, ": 5\r\n\r\n", 7);
        len = 17 + i + 7;

        cflb_http_resp_test_head(t, buf, len, len, &res);
        cflb_check_msg(t, res.rc == CFLB_OK && !res.has_length,
                       "name of %u", (unsigned) i);
    }

    /* a long Transfer-Encoding value, "chunked" at its end */

    memcpy(buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: ", 36);
    for (i = 0; i + 5 < n; i += 5) {
        memcpy(buf + 36 + i, "gzip,", 5);
    }
    memcpy(buf + 36 + i, "chunked\r\n\r\n", 11);
    len = 36 + i + 11;

    cflb_http_resp_test_head(t, buf, len, len, &res);
    cflb_check(t, res.rc == CFLB_OK && res.chunked);

    /* a coding longer than the buffer, ending in "chunked" */

    memset(buf + 36, 'x', n);
    memcpy(buf + 36 + n - 7, "chunked\r\n\r\n", 11);
    len = 36 + n + 4;

    cflb_http_resp_test_head(t, buf, len, len, &res);
    cflb_check(t, res.rc == CFLB_OK && !res.chunked);

    free(buf);
}


static void
cflb_http_resp_test_location(cflb_test_t *t)
{
    size_t            len, n;
    unsigned char     buf[2 * CFLB_HTTP_MAX_LOCATION + 100];
    cflb_test_head_t  res;

    static const char  pre[] = "HTTP/1.1 302 Found\r\nLocation: ";

    /* exactly the maximum, with whitespace around it */

    n = CFLB_HTTP_MAX_LOCATION;
    len = sizeof(pre) - 1;
    memcpy(buf, pre, len);
    buf[len++] = ' ';
    buf[len++] = 'h';
    memset(buf + len, 'a', n - 2);
    len += n - 2;
    buf[len++] = 'z';
    memcpy(buf + len, "  \t \r\nX: y\r\n\r\n", 14);
    len += 14;

    cflb_http_resp_test_head(t, buf, len, CFLB_TEST_MAX_HEAD, &res);
    cflb_check(t, res.rc == CFLB_OK && res.location_len == n
                  && res.location[0] == 'h' && res.location[n - 2] == 'a'
                  && res.location[n - 1] == 'z');

    /* one more byte is an error, at that byte */

    len = sizeof(pre) - 1;
    memset(buf + len, 'a', n + 1);
    len += n + 1;
    memcpy(buf + len, "\r\n\r\n", 4);
    len += 4;

    cflb_http_resp_test_head(t, buf, len, CFLB_TEST_MAX_HEAD, &res);
    cflb_check(t, res.rc == CFLB_ERROR
                  && res.pos == sizeof(pre) - 1 + n);

    /* inner whitespace counts, trailing does not */

    len = sizeof(pre) - 1;
    memset(buf + len, 'a', n - 1);
    len += n - 1;
    memcpy(buf + len, " b\r\n\r\n", 6);
    len += 6;

    cflb_http_resp_test_head(t, buf, len, CFLB_TEST_MAX_HEAD, &res);
    cflb_check(t, res.rc == CFLB_ERROR);

    len = sizeof(pre) - 1;
    memset(buf + len, 'a', n - 2);
    len += n - 2;
    memcpy(buf + len, " b\r\n\r\n", 6);
    len += 6;

    cflb_http_resp_test_head(t, buf, len, CFLB_TEST_MAX_HEAD, &res);
    cflb_check(t, res.rc == CFLB_OK && res.location_len == n
                  && res.location[n - 2] == ' ');

    /* a huge one */

    len = sizeof(pre) - 1;
    memset(buf + len, 'a', 2 * n);
    len += 2 * n;
    memcpy(buf + len, "\r\n\r\n", 4);
    len += 4;

    cflb_http_resp_test_head(t, buf, len, CFLB_TEST_MAX_HEAD, &res);
    cflb_check(t, res.rc == CFLB_ERROR);
}


/* decodes s[0..len) in pieces as cflb_http_resp_test_feed() does */

static void
cflb_http_resp_test_decode(const unsigned char *s, size_t len, size_t piece,
    cflb_rng_t *rng, cflb_test_body_t *res)
{
    int               rc;
    size_t            off, n, out;
    unsigned char    *copy;
    cflb_http_resp_t  r;

    res->rc = CFLB_AGAIN;
    res->len = 0;
    res->out = malloc(len + 1);
    copy = malloc(len + 1);

    if (res->out == NULL || copy == NULL) {
        free(copy);
        res->rc = 100;
        return;
    }

    /* the copy is decoded in place, the piece by itself */

    memcpy(copy, s, len);
    cflb_http_resp_init(&r);

    off = 0;

    for ( ;; ) {
        if (piece == 0) {
            n = len - off;

        } else if (piece == 1) {
            n = 1;

        } else {
            n = (size_t) cflb_rng_below(rng, piece + 1);
        }

        if (n > len - off) {
            n = len - off;
        }

        out = (size_t) -1;
        rc = cflb_http_resp_chunked(&r, copy + off, n, &out);

        if (out > n) {
            res->rc = 101;
            break;
        }

        memcpy(res->out + res->len, copy + off, out);
        res->len += out;
        off += n;
        res->rc = rc;

        if (rc != CFLB_AGAIN || off == len) {
            break;
        }
    }

    free(copy);

    /* done and error are final */

    if (res->rc == CFLB_OK || res->rc == CFLB_ERROR) {
        unsigned char  more[] = "5\r\nhello\r\n0\r\n\r\n";

        rc = cflb_http_resp_chunked(&r, more, sizeof(more) - 1, &out);
        if (rc != res->rc || out != 0) {
            res->rc = 102;
        }
    }
}


static void
cflb_http_resp_test_chunked(cflb_test_t *t)
{
    size_t            i, k, len;
    uint64_t          seed;
    cflb_rng_t        rng;
    unsigned char    *big;
    cflb_test_body_t  whole, split;

    static const struct {
        const char  *s;
        size_t       len;
        int          rc;
        const char  *out;
        size_t       olen;
    } v[] = {
        { cflb_str("5\r\nhello\r\n0\r\n\r\n"), CFLB_OK, cflb_str("hello") },
        { cflb_str("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), CFLB_OK,
          cflb_str("hello world") },
        { cflb_str("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n"),
          CFLB_OK, cflb_str("0123456789abcdefghij") },
        { cflb_str("5;name=val\r\nhello\r\n0;x;y=\"a\"\r\n\r\n"), CFLB_OK,
          cflb_str("hello") },
        { cflb_str("5 \t;a\r\nhello\r\n0  \r\n\r\n"), CFLB_OK,
          cflb_str("hello") },
        { cflb_str("5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n"), CFLB_OK,
          cflb_str("hello") },
        { cflb_str("5\nhello\n0\nT: 1\n\n"), CFLB_OK, cflb_str("hello") },
        { cflb_str("5;x\nhello\n0;y\n\n"), CFLB_OK, cflb_str("hello") },
        { cflb_str("0005\r\nhello\r\n000\r\n\r\n"), CFLB_OK,
          cflb_str("hello") },
        { cflb_str("0\r\n\r\n"), CFLB_OK, cflb_str("") },
        { cflb_str("0\r\n\r\nGARBAGE"), CFLB_OK, cflb_str("") },
        { cflb_str("4\r\n\r\n\r\n\r\n0\r\n\r\n"), CFLB_OK,
          cflb_str("\r\n\r\n") },
        { cflb_str("3\r\na\0b\r\n0\r\n\r\n"), CFLB_OK, cflb_str("a\0b") },
        { cflb_str("10\r\n0123456789abcdef\r\n0\r\n\r\n"), CFLB_OK,
          cflb_str("0123456789abcdef") },
        { cflb_str("1\r\nx\r\n1\r\ny\r\n1\r\nz\r\n0\r\n\r\n"), CFLB_OK,
          cflb_str("xyz") },

        { cflb_str(""), CFLB_AGAIN, cflb_str("") },
        { cflb_str("5\r\nhel"), CFLB_AGAIN, cflb_str("hel") },
        { cflb_str("5\r\nhello\r\n0\r\n"), CFLB_AGAIN, cflb_str("hello") },
        { cflb_str("5\r\nhello\r\n0\r\nX: y\r\n"), CFLB_AGAIN,
          cflb_str("hello") },
        { cflb_str("FFFFFFFFFFFFFFFF\r\nabc"), CFLB_AGAIN, cflb_str("abc") },

        { cflb_str("x\r\n"), CFLB_ERROR, cflb_str("") },
        { cflb_str("\r\n"), CFLB_ERROR, cflb_str("") },
        { cflb_str(" 5\r\n"), CFLB_ERROR, cflb_str("") },
        { cflb_str("-1\r\n"), CFLB_ERROR, cflb_str("") },
        { cflb_str("0x5\r\n"), CFLB_ERROR, cflb_str("") },
        { cflb_str("1 2\r\n"), CFLB_ERROR, cflb_str("") },
        { cflb_str("5\rX"), CFLB_ERROR, cflb_str("") },
        { cflb_str("5\r\nhelloX"), CFLB_ERROR, cflb_str("hello") },
        { cflb_str("5\r\nhello\rX"), CFLB_ERROR, cflb_str("hello") },
        { cflb_str("5\r\nhello\r\r\n"), CFLB_ERROR, cflb_str("hello") },
        { cflb_str("5\r\nhello\r\n\r\n"), CFLB_ERROR, cflb_str("hello") },
        { cflb_str("10000000000000000\r\n"), CFLB_ERROR, cflb_str("") },
        { cflb_str("00000000000000000000FFFFFFFFFFFFFFFFF\r\n"), CFLB_ERROR,
          cflb_str("") },
        { cflb_str("0\r\nX: y\r\n\rX"), CFLB_ERROR, cflb_str("") },
        { cflb_str("0\r\n\rX"), CFLB_ERROR, cflb_str("") },
        { cflb_str("g\r\n"), CFLB_ERROR, cflb_str("") }
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        cflb_http_resp_test_decode((const unsigned char *) v[i].s, v[i].len,
                                   0, NULL, &whole);

        cflb_check_msg(t, whole.rc == v[i].rc && whole.len == v[i].olen
                          && memcmp(whole.out, v[i].out, v[i].olen) == 0,
                       "chunked \"%s\": rc %d out %u, want %d %u", v[i].s,
                       whole.rc, (unsigned) whole.len, v[i].rc,
                       (unsigned) v[i].olen);

        cflb_rng_seed(&rng, i);

        for (k = 0; k < CFLB_TEST_SPLITS + 1; k++) {
            cflb_http_resp_test_decode((const unsigned char *) v[i].s,
                                       v[i].len, k == 0 ? 1 : 2 + k % 10,
                                       &rng, &split);

            if (split.rc != whole.rc || split.len != whole.len
                || memcmp(split.out, whole.out, whole.len) != 0)
            {
                cflb_check_msg(t, 0, "chunked \"%s\" split %u: rc %d out"
                               " %u", v[i].s, (unsigned) k, split.rc,
                               (unsigned) split.len);
                free(split.out);
                break;
            }

            free(split.out);
        }

        cflb_check(t, k == CFLB_TEST_SPLITS + 1);

        free(whole.out);
    }

    /* a large body of many chunks of random sizes */

    big = malloc(300000);
    if (big == NULL) {
        cflb_check_msg(t, 0, "out of memory");
        return;
    }

    len = 0;
    seed = 0;
    cflb_rng_seed(&rng, 7);

    while (len < 290000) {
        k = (size_t) cflb_rng_below(&rng, 3000);
        len += (size_t) snprintf((char *) big + len, 32, "%lx\r\n",
                                 (unsigned long) k);

        for (i = 0; i < k; i++) {
            big[len++] = (unsigned char) (seed++ * 7);
        }

        big[len++] = '\r';
        big[len++] = '\n';
    }

    memcpy(big + len, "0\r\n\r\n", 5);
    len += 5;

    cflb_http_resp_test_decode(big, len, 0, NULL, &whole);

    for (i = 0; i < seed; i++) {
        if (whole.out[i] != (unsigned char) (i * 7)) {
            break;
        }
    }

    cflb_check(t, whole.rc == CFLB_OK && whole.len == seed && i == seed);

    cflb_http_resp_test_decode(big, len, 1, NULL, &split);
    cflb_check(t, split.rc == CFLB_OK && split.len == whole.len
                  && memcmp(split.out, whole.out, whole.len) == 0);
    free(split.out);

    cflb_http_resp_test_decode(big, len, 5000, &rng, &split);
    cflb_check(t, split.rc == CFLB_OK && split.len == whole.len
                  && memcmp(split.out, whole.out, whole.len) == 0);
    free(split.out);

    free(whole.out);
    free(big);
}


/* a head and a chunked body in one buffer, as the glue reads them */

static void
cflb_http_resp_test_pipeline(cflb_test_t *t)
{
    int               rc;
    size_t            used, out;
    cflb_http_resp_t  r;

    unsigned char  buf[] = "HTTP/1.1 200 OK\r\n"
                           "Transfer-Encoding: chunked\r\n"
                           "Content-Encoding: gzip\r\n"
                           "\r\n"
                           "7\r\nI am OK\r\n"
                           "0\r\n\r\n";

    cflb_http_resp_init(&r);

    rc = cflb_http_resp_head(&r, buf, sizeof(buf) - 1, 4096, &used);
    cflb_check(t, rc == CFLB_OK && r.status == 200 && r.chunked && r.gzip
                  && used == 17 + 28 + 24 + 2);

    rc = cflb_http_resp_chunked(&r, buf + used, sizeof(buf) - 1 - used,
                                &out);
    cflb_check(t, rc == CFLB_OK && out == 7
                  && memcmp(buf + used, "I am OK", 7) == 0);
}
