
/*
 * cflb_http_resp.c fuzz target: the head parser, then the chunked decoder
 * on what follows the head (or on the whole input when there is no head),
 * each run whole and in pieces derived from the input.  Beyond the
 * sanitizers, it aborts when a split changes a result or a result breaks
 * the documented contract.
 *
 * Input: byte 0 seeds the splits, byte 1 picks max_head, the rest is the
 * response.
 *
 * Built with -DCFLB_LIBFUZZER it is a libFuzzer target ("make fuzz").
 * Otherwise main() is a driver:
 *
 *     cflb_http_resp_fuzz               built-in seeds and their mutations
 *     cflb_http_resp_fuzz FILE...       each file as one input
 *     cflb_http_resp_fuzz -seeds DIR    write the seeds there, a corpus
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_core.h"
#include "cflb_fuzz_driver.h"
#include "cflb_http_resp.h"


#define CFLB_FUZZ_SPLITS  4


typedef struct {
    int                rc;
    size_t             pos;
    unsigned           status;
    unsigned           flags;
    uint64_t           content_length;
    size_t             location_len;
    unsigned char      location[CFLB_HTTP_MAX_LOCATION];
} cflb_fuzz_head_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cflb_fuzz_head(const unsigned char *s, size_t len,
    size_t max_head, size_t piece, cflb_rng_t *rng, cflb_fuzz_head_t *res);
static void cflb_fuzz_same_head(const cflb_fuzz_head_t *a,
    const cflb_fuzz_head_t *b);
static void cflb_fuzz_body(const unsigned char *s, size_t len,
    cflb_rng_t *rng);
static int cflb_fuzz_decode(const unsigned char *s, size_t len,
    unsigned char *copy, size_t piece, cflb_rng_t *rng, unsigned char *out,
    size_t *olen);
static size_t cflb_fuzz_piece(size_t piece, cflb_rng_t *rng);
static void cflb_fuzz_fail(const char *what);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t            k, len, max_head;
    cflb_rng_t        rng;
    cflb_fuzz_head_t  whole, split;

    static const size_t  heads[8] = { 0, 1, 16, 64, 256, 1024, 4096, 65536 };

    if (size < 2) {
        return 0;
    }

    cflb_rng_seed(&rng, data[0] | (uint64_t) size << 8);

    max_head = (data[1] & 0x80) ? (size_t) -1
                                : heads[data[1] & 7] + (data[1] >> 3);

    data += 2;
    len = size - 2;

    cflb_fuzz_head(data, len, max_head, 0, NULL, &whole);

    if (len <= 4096) {
        cflb_fuzz_head(data, len, max_head, 1, NULL, &split);
        cflb_fuzz_same_head(&whole, &split);
    }

    for (k = 0; k < CFLB_FUZZ_SPLITS; k++) {
        cflb_fuzz_head(data, len, max_head, 2 + (k << (k + 1)), &rng,
                       &split);
        cflb_fuzz_same_head(&whole, &split);
    }

    if (whole.rc == CFLB_OK) {
        cflb_fuzz_body(data + whole.pos, len - whole.pos, &rng);

    } else {
        cflb_fuzz_body(data, len, &rng);
    }

    return 0;
}


static void
cflb_fuzz_head(const unsigned char *s, size_t len, size_t max_head,
    size_t piece, cflb_rng_t *rng, cflb_fuzz_head_t *res)
{
    int               rc;
    size_t            i, off, n, used;
    cflb_http_resp_t  r;

    memset(res, 0, sizeof(cflb_fuzz_head_t));
    cflb_http_resp_init(&r);

    off = 0;

    for ( ;; ) {
        n = cflb_fuzz_piece(piece, rng);

        if (n > len - off) {
            n = len - off;
        }

        used = (size_t) -1;
        rc = cflb_http_resp_head(&r, s + off, n, max_head, &used);

        if (used > n || (rc == CFLB_AGAIN && used != n)) {
            cflb_fuzz_fail("head: *used");
        }

        off += used;

        if (rc != CFLB_AGAIN || off == len) {
            break;
        }
    }

    res->rc = rc;
    res->pos = off;

    if (rc == CFLB_AGAIN) {
        if (off != len) {
            cflb_fuzz_fail("head: stopped early");
        }

        return;
    }

    if (rc == CFLB_ERROR) {
        return;
    }

    if (rc != CFLB_OK) {
        cflb_fuzz_fail("head: return code");
    }

    if (r.status < 100 || r.status > 599
        || (r.status < 200 && r.status != 101)
        || (r.chunked && r.has_length)
        || (!r.has_length && r.content_length != 0)
        || r.location_len > CFLB_HTTP_MAX_LOCATION
        || off > max_head)
    {
        cflb_fuzz_fail("head: result");
    }

    for (i = 0; i < r.location_len; i++) {
        if (r.location[i] < 0x20 || r.location[i] == 0x7f) {
            cflb_fuzz_fail("head: control byte in Location");
        }
    }

    if (r.location_len
        && (r.location[0] == ' ' || r.location[r.location_len - 1] == ' '))
    {
        cflb_fuzz_fail("head: Location not trimmed");
    }

    res->status = r.status;
    res->flags = r.gzip | r.chunked << 1 | r.has_length << 2;
    res->content_length = r.content_length;
    res->location_len = r.location_len;
    memcpy(res->location, r.location, r.location_len);

    /* done is final */

    if (cflb_http_resp_head(&r, s, len, max_head, &used) != CFLB_OK
        || used != 0)
    {
        cflb_fuzz_fail("head: not final");
    }
}


static void
cflb_fuzz_same_head(const cflb_fuzz_head_t *a, const cflb_fuzz_head_t *b)
{
    if (a->rc != b->rc
        || a->pos != b->pos
        || a->status != b->status
        || a->flags != b->flags
        || a->content_length != b->content_length
        || a->location_len != b->location_len
        || memcmp(a->location, b->location, a->location_len) != 0)
    {
        cflb_fuzz_fail("head: a split changed the result");
    }
}


static void
cflb_fuzz_body(const unsigned char *s, size_t len, cflb_rng_t *rng)
{
    int             rc, rc2;
    size_t          k, olen, olen2;
    unsigned char  *copy, *out, *out2;

    copy = malloc(len + 1);
    out = malloc(len + 1);
    out2 = malloc(len + 1);

    if (copy == NULL || out == NULL || out2 == NULL) {
        cflb_fuzz_fail("out of memory");
    }

    rc = cflb_fuzz_decode(s, len, copy, 0, NULL, out, &olen);

    for (k = 0; k < CFLB_FUZZ_SPLITS + 1; k++) {
        if (k == 0 && len > 4096) {
            continue;
        }

        rc2 = cflb_fuzz_decode(s, len, copy, k == 0 ? 1 : 1 + (k << k), rng,
                               out2, &olen2);

        if (rc2 != rc || olen2 != olen || memcmp(out, out2, olen) != 0) {
            cflb_fuzz_fail("chunked: a split changed the result");
        }
    }

    free(copy);
    free(out);
    free(out2);
}


static int
cflb_fuzz_decode(const unsigned char *s, size_t len, unsigned char *copy,
    size_t piece, cflb_rng_t *rng, unsigned char *out, size_t *olen)
{
    int               rc;
    size_t            off, n, o;
    cflb_http_resp_t  r;

    memcpy(copy, s, len);
    cflb_http_resp_init(&r);

    off = 0;
    *olen = 0;

    for ( ;; ) {
        n = cflb_fuzz_piece(piece, rng);

        if (n > len - off) {
            n = len - off;
        }

        o = (size_t) -1;
        rc = cflb_http_resp_chunked(&r, copy + off, n, &o);

        if (o > n || (rc != CFLB_OK && rc != CFLB_AGAIN && rc != CFLB_ERROR))
        {
            cflb_fuzz_fail("chunked: *out or return code");
        }

        memcpy(out + *olen, copy + off, o);
        *olen += o;
        off += n;

        if (rc != CFLB_AGAIN || off == len) {
            break;
        }
    }

    /* done and error are final */

    if (rc != CFLB_AGAIN) {
        if (cflb_http_resp_chunked(&r, copy, len, &o) != rc || o != 0) {
            cflb_fuzz_fail("chunked: not final");
        }
    }

    return rc;
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
    fprintf(stderr, "cflb_http_resp_fuzz: %s\n", what);
    abort();
}


#ifndef CFLB_LIBFUZZER


/* the two control bytes come first: "\x00\xff" splits, no head limit */

static const cflb_fuzz_seed_t  cflb_fuzz_seeds[] = {
    cflb_fuzz_seed("\x00\xff" "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                   "hello"),
    cflb_fuzz_seed("\x01\xff" "HTTP/1.0 404 Not Found\r\n\r\n"),
    cflb_fuzz_seed("\x02\x06" "HTTP/1.1 200\n\n"),
    cflb_fuzz_seed("\x03\xff" "HTTP/1.1 301 Moved\r\nLocation: http://a/b c"
                   "\r\nContent-Length: 0\r\n\r\n"),
    cflb_fuzz_seed("\x04\xff" "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, "
                   "chunked\r\nContent-Encoding: x-gzip\r\n\r\n"
                   "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nT: 1\r\n\r\n"),
    cflb_fuzz_seed("\x05\xff" "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"
                   "\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "A\r\n0123456789\r\n0\r\n\r\n"),
    cflb_fuzz_seed("\x06\x03" "HTTP/1.1 200 OK\r\nX-Foo: a\r\n b\r\n"
                   "Content-Length: 18446744073709551615\r\n\r\n"),
    cflb_fuzz_seed("\x07\xff" "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                   "Content-Length: 5\r\nLocation:\r\n\r\n"),
    cflb_fuzz_seed("\x08\xff" "5\r\nhello\r\n0\r\n\r\n"),
    cflb_fuzz_seed("\x09\xff" "ffffffffffffffff\r\nabc"),
    cflb_fuzz_seed("\x0a\xff" "3\nabc\n0;x\nA: b\n\n"),
    cflb_fuzz_seed("\x0b\x00" "HTTP/1.1 200 OK\r\n\r\n"),
    cflb_fuzz_seed("\x0c\xff" "garbage"),
    cflb_fuzz_seed("\x0d\xff" "HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n"
                   "\x81\x00")
};


/* the bytes the parsers care about */

static const char  cflb_fuzz_alphabet[] =
    "\r\n\r\n :;,\t0123456789aAfFxX-HTP/.";


static const cflb_fuzz_driver_t  cflb_fuzz_driver = {
    .name = "cflb_http_resp_fuzz",
    .seeds = cflb_fuzz_seeds,
    .nseeds = sizeof(cflb_fuzz_seeds) / sizeof(cflb_fuzz_seeds[0]),
    .alphabet = cflb_fuzz_alphabet,
    .alphabet_len = sizeof(cflb_fuzz_alphabet) - 1,
    .run = 64,
    .repeats = 8,
    .mutants = 300,
    .max = 8192,
    .rng_seed = 20240601
};


int
main(int argc, char **argv)
{
    return cflb_fuzz_main(&cflb_fuzz_driver, argc, argv);
}


#endif /* CFLB_LIBFUZZER */
