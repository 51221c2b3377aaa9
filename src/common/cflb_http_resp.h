
/*
 * cflb_http_resp: an incremental parser of the HTTP/1.x responses health
 * probes read: status line, the few headers a probe needs, and a chunked
 * body decoder.  Input is untrusted; every limit is explicit.
 */

#ifndef _CFLB_HTTP_RESP_H_INCLUDED_
#define _CFLB_HTTP_RESP_H_INCLUDED_


#include "cflb_core.h"


#define CFLB_HTTP_MAX_LOCATION   1024


typedef struct {
    /* results, valid once cflb_http_resp_head() returned CFLB_OK */
    unsigned          status;              /* 100..599 */
    unsigned          gzip:1;              /* Content-Encoding: gzip */
    unsigned          chunked:1;           /* Transfer-Encoding: chunked */
    unsigned          has_length:1;        /* Content-Length, not chunked */
    uint64_t          content_length;
    size_t            location_len;        /* 0: none */
    unsigned char     location[CFLB_HTTP_MAX_LOCATION];

    /* parser state: private */
    unsigned          state;
    size_t            header_bytes;
    size_t            line_len;
    unsigned char     line[256];
    uint64_t          chunk_left;
    unsigned          chunk_state;
} cflb_http_resp_t;


/* zero the parser */
void cflb_http_resp_init(cflb_http_resp_t *r);

/*
 * cflb_http_resp_head() consumes response head bytes from buf[0..len).
 * Returns CFLB_AGAIN (all consumed, need more), CFLB_OK (the head ended;
 * *used tells how many bytes of buf belonged to it, the rest is body), or
 * CFLB_ERROR (not HTTP/1.x, a bad status line, a head larger than
 * max_head bytes, or a malformed header we rely on).  Headers it does not
 * know are skipped; lines longer than its buffer are skipped unless they
 * are Location (then truncated: error) or a header it parses.  Interim
 * 1xx responses (but 101) are skipped: the result is the final response,
 * and max_head counts every head read.  After CFLB_OK or CFLB_ERROR,
 * further calls return the same and use no bytes.
 */
int cflb_http_resp_head(cflb_http_resp_t *r, const unsigned char *buf,
    size_t len, size_t max_head, size_t *used);

/*
 * cflb_http_resp_chunked() decodes a chunked body in place: reads
 * buf[0..len), writes the payload bytes to the start of buf and returns
 * their count in *out.  Returns CFLB_AGAIN (more to come), CFLB_OK (the
 * last chunk and the trailers were read; bytes after them are not body)
 * or CFLB_ERROR (malformed).  Trailers are skipped.  Call it after
 * cflb_http_resp_head() returned CFLB_OK, or on a fresh parser.
 */
int cflb_http_resp_chunked(cflb_http_resp_t *r, unsigned char *buf,
    size_t len, size_t *out);


#endif /* _CFLB_HTTP_RESP_H_INCLUDED_ */
