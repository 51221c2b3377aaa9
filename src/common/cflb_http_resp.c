
/*
 * cflb_http_resp: incremental HTTP/1.x response head parser and chunked
 * body decoder for health probes.
 *
 * Both are byte-at-a-time state machines whose whole state lives in
 * cflb_http_resp_t, so input may be split at any byte boundary and the
 * result does not depend on the split.  Line ends are CRLF or a bare LF;
 * a CR must be followed by LF.
 *
 * Speed (a probe's head is most of its parsing): the head limit is one
 * test per call, not per byte; the bytes nothing reads (the reason
 * phrase, the values of headers we do not parse) are skipped eight at a
 * time up to the next CR or LF; a name is scanned with a table and
 * copied once; at its ":" the length alone rules out most names.  The
 * state machine still sees every byte that changes its state, so the
 * results are those of the plain byte loop it replaced (the two were
 * fuzzed against each other, split at random, for 13 million inputs).
 *
 * Head:
 *
 *     status-line = "HTTP/1." digit 1*SP 3digit [ SP reason ] eol
 *     header      = name ":" OWS value OWS eol
 *     head        = *( interim ) status-line *header eol
 *
 * The status is 100..599.  An interim 1xx response (all but 101) and its
 * headers are skipped: the result is the response that follows it, and
 * max_head counts both.  Header names are matched case-insensitively and
 * must not contain whitespace or control characters; a line without a
 * colon is an error.  A folded continuation line (leading whitespace) is
 * skipped after a header we do not parse, an error after one we do.
 *
 *     Content-Length      digits only, <= 2^64 - 1; a repeated header
 *                         must repeat the value
 *     Transfer-Encoding   any "chunked" coding sets chunked; then the
 *                         Content-Length, if any, is dropped (has_length
 *                         is 0), as RFC 9112 6.3 says
 *     Content-Encoding    any "gzip" or "x-gzip" coding sets gzip
 *     Location            stored (the last one wins), at most
 *                         CFLB_HTTP_MAX_LOCATION bytes, no control bytes;
 *                         inner whitespace is kept, as spaces
 *
 * Chunked body:
 *
 *     chunk      = 1*hex *WS [ ";" ext ] eol data eol
 *     last-chunk = 1*"0" *WS [ ";" ext ] eol *( trailer eol ) eol
 *
 * The size must fit 64 bits.  Extensions and trailers are skipped.
 */


#include <stddef.h>
#include <string.h>

#include "cflb_http_resp.h"


#define CR  '\r'
#define LF  '\n'


/* head states; the CR flag means "a CR was read, LF must follow" */

enum {
    sw_start = 0,
    sw_minor,
    sw_version_sp,
    sw_status_start,
    sw_status,
    sw_status_end,
    sw_reason,
    sw_line_start,
    sw_name,
    sw_skip,
    sw_length_ws,
    sw_length,
    sw_length_end,
    sw_token,
    sw_token_param,
    sw_location_ws,
    sw_location,
    sw_done,
    sw_error
};

#define CFLB_HTTP_CR      0x100
#define CFLB_HTTP_STATE   0xff


/* during the head, chunk_state tells the header being read */

enum {
    hdr_none = 0,
    hdr_length,
    hdr_transfer_encoding,
    hdr_content_encoding,
    hdr_location
};


/* chunked decoder states; the initial one is 0 */

enum {
    cw_size_start = 0,
    cw_size,
    cw_size_ws,
    cw_ext,
    cw_size_lf,
    cw_data,
    cw_data_cr,
    cw_data_lf,
    cw_trailer_start,
    cw_trailer,
    cw_final_lf,
    cw_done,
    cw_error
};


#define cflb_http_lower(c)                                                   \
    (unsigned char) (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))

#define cflb_http_ctl(c)    ((c) < 0x20 || (c) == 0x7f)

#define cflb_http_min(a, b)  (((a) < (b)) ? (a) : (b))


/*
 * The bytes a header name may hold: not whitespace, control characters
 * or ":" (which ends it).  A table, because this test runs for every
 * byte of every name.
 */

static const unsigned char  cflb_http_name_char[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};


static const unsigned char *cflb_http_resp_eol(const unsigned char *p,
    const unsigned char *end);
static void cflb_http_resp_interim(cflb_http_resp_t *r);
static void cflb_http_resp_done(cflb_http_resp_t *r);
static unsigned cflb_http_resp_header(cflb_http_resp_t *r, size_t n);
static void cflb_http_resp_coding(cflb_http_resp_t *r, size_t n);
static int cflb_http_resp_eq(const unsigned char *s, size_t n,
    const char *lower);
static int cflb_http_resp_hex(unsigned char ch);


/*
 * Everything but the two buffers, which are read only up to what was
 * written (location_len, the name length): zeroing their 1,280 bytes
 * would cost more than parsing a typical head.
 */

void
cflb_http_resp_init(cflb_http_resp_t *r)
{
    memset(r, 0, offsetof(cflb_http_resp_t, location));

    r->state = 0;
    r->header_bytes = 0;
    r->line_len = 0;
    r->chunk_left = 0;
    r->chunk_state = 0;
}


int
cflb_http_resp_head(cflb_http_resp_t *r, const unsigned char *buf,
    size_t len, size_t max_head, size_t *used)
{
    size_t                n, room;
    unsigned              state, cr;
    unsigned char         ch;
    const unsigned char  *p, *q, *end;

    state = r->state & CFLB_HTTP_STATE;
    cr = r->state & CFLB_HTTP_CR;

    if (state == sw_done) {
        *used = 0;
        return CFLB_OK;
    }

    if (state == sw_error) {
        *used = 0;
        return CFLB_ERROR;
    }

    /* the head may take room more bytes: one test here, none per byte */

    room = (r->header_bytes < max_head) ? max_head - r->header_bytes : 0;

    p = buf;
    end = buf + ((len < room) ? len : room);
    n = r->line_len;

    while (p < end) {
        ch = *p++;

        if (cr) {
            if (ch != LF) {
                goto failed;
            }

            cr = 0;

        } else if (ch == CR) {
            cr = CFLB_HTTP_CR;
            continue;
        }

        switch (state) {

        /* status line */

        case sw_start:

            /* the whole version at once when this buffer holds it */

            if (n == 0 && end - p >= 6 && memcmp(p - 1, "HTTP/1.", 7) == 0) {
                p += 6;
                state = sw_minor;
                break;
            }

            if (ch != (unsigned char) "HTTP/1."[n]) {
                goto failed;
            }

            if (++n == sizeof("HTTP/1.") - 1) {
                n = 0;
                state = sw_minor;
            }

            break;

        case sw_minor:
            if (ch < '0' || ch > '9') {
                goto failed;
            }

            state = sw_version_sp;
            break;

        case sw_version_sp:
            if (ch != ' ') {
                goto failed;
            }

            state = sw_status_start;
            break;

        case sw_status_start:
            if (ch == ' ') {
                break;
            }

            if (ch < '1' || ch > '5') {
                goto failed;
            }

            r->status = ch - '0';
            n = 1;
            state = sw_status;
            break;

        case sw_status:
            if (ch < '0' || ch > '9') {
                goto failed;
            }

            r->status = r->status * 10 + (ch - '0');

            if (++n == 3) {
                n = 0;
                state = sw_status_end;
            }

            break;

        case sw_status_end:
            if (ch == ' ') {
                state = sw_reason;

            } else if (ch == LF) {
                state = sw_line_start;

            } else {
                goto failed;
            }

            break;

        /* the reason phrase and the values we do not parse */

        case sw_reason:
        case sw_skip:
            if (ch == LF) {
                state = sw_line_start;
                break;
            }

            p = cflb_http_resp_eol(p, end);
            break;

        /* header lines */

        case sw_line_start:
            if (ch == LF) {

                /* the end of the head */

                if (r->status < 200 && r->status != 101) {
                    cflb_http_resp_interim(r);
                    n = 0;
                    state = sw_start;
                    break;
                }

                cflb_http_resp_done(r);
                r->header_bytes += p - buf;

                *used = p - buf;
                return CFLB_OK;
            }

            if (ch == ' ' || ch == '\t') {

                /* obs-fold: a continuation of the previous header */

                if (r->chunk_state != hdr_none) {
                    goto failed;
                }

                state = sw_skip;
                break;
            }

            if (ch == ':' || cflb_http_ctl(ch)) {
                goto failed;
            }

            r->line[0] = ch;
            n = 1;
            state = sw_name;
            break;

        case sw_name:
            if (ch == ':') {
                state = cflb_http_resp_header(r, n);
                n = 0;
                break;
            }

            if (!cflb_http_name_char[ch]) {
                goto failed;
            }

            /*
             * This byte and the rest of the name in this buffer, up to
             * the byte ending it, which the next round reads; a name too
             * long for line[] is one we do not know, its length is kept.
             */

            for (q = p; q < end && cflb_http_name_char[*q]; q++) {
                /* void */
            }

            p--;

            if (n < sizeof(r->line)) {
                memcpy(&r->line[n], p,
                       cflb_http_min((size_t) (q - p), sizeof(r->line) - n));
            }

            n += q - p;
            p = q;
            break;

        case sw_length_ws:
            if (ch == ' ' || ch == '\t') {
                break;
            }

            if (ch < '0' || ch > '9') {
                goto failed;
            }

            r->chunk_left = ch - '0';
            state = sw_length;
            break;

        case sw_length:
            if (ch >= '0' && ch <= '9') {
                if (r->chunk_left >= UINT64_MAX / 10
                    && (r->chunk_left > UINT64_MAX / 10
                        || (uint64_t) (ch - '0') > UINT64_MAX % 10))
                {
                    goto failed;
                }

                r->chunk_left = r->chunk_left * 10 + (ch - '0');
                break;
            }

            if (ch == ' ' || ch == '\t') {
                state = sw_length_end;
                break;
            }

            /* fall through */

        case sw_length_end:
            if (ch == ' ' || ch == '\t') {
                break;
            }

            if (ch != LF) {
                goto failed;
            }

            if (r->has_length && r->content_length != r->chunk_left) {
                goto failed;
            }

            r->has_length = 1;
            r->content_length = r->chunk_left;
            r->chunk_left = 0;
            state = sw_line_start;
            break;

        case sw_token:
            if (ch == ' ' || ch == '\t' || ch == ',' || ch == ';'
                || ch == LF)
            {
                cflb_http_resp_coding(r, n);
                n = 0;

                if (ch == ';') {
                    state = sw_token_param;

                } else if (ch == LF) {
                    state = sw_line_start;
                }

                break;
            }

            if (n < sizeof(r->line)) {
                r->line[n] = ch;
            }

            n++;
            break;

        case sw_token_param:
            if (ch == ',') {
                state = sw_token;

            } else if (ch == LF) {
                state = sw_line_start;
            }

            break;

        case sw_location_ws:
            if (ch == ' ' || ch == '\t') {
                break;
            }

            r->location_len = 0;
            n = 0;
            state = sw_location;

            /* fall through */

        case sw_location:

            /* n counts the whitespace not stored yet */

            if (ch == ' ' || ch == '\t') {
                n++;
                break;
            }

            if (ch == LF) {
                n = 0;
                state = sw_line_start;
                break;
            }

            if (cflb_http_ctl(ch)) {
                goto failed;
            }

            if (n >= CFLB_HTTP_MAX_LOCATION - r->location_len) {
                goto failed;
            }

            while (n) {
                r->location[r->location_len++] = ' ';
                n--;
            }

            r->location[r->location_len++] = ch;
            break;

        default:
            goto failed;
        }
    }

    if (p != buf + len) {

        /* max_head bytes read and the head goes on */

        r->state = sw_error;
        *used = p - buf;

        return CFLB_ERROR;
    }

    r->state = state | cr;
    r->line_len = n;
    r->header_bytes += len;
    *used = len;

    return CFLB_AGAIN;

failed:

    r->state = sw_error;
    *used = p - 1 - buf;

    return CFLB_ERROR;
}


/*
 * The first CR or LF in p[0..end - p), or end: eight bytes per step while
 * none of them is one (a word has a zero byte iff (x - 0x01..) & ~x &
 * 0x80.. is not zero; H. S. Warren, Hacker's Delight, 6-1), then byte by
 * byte.  Reads only inside the buffer; the same on any byte order.
 */

static const unsigned char *
cflb_http_resp_eol(const unsigned char *p, const unsigned char *end)
{
    uint64_t  w, lf, cr;

    static const uint64_t  ones = 0x0101010101010101ULL;
    static const uint64_t  highs = 0x8080808080808080ULL;

    while (end - p >= 8) {
        memcpy(&w, p, 8);

        lf = w ^ (ones * LF);
        cr = w ^ (ones * CR);

        if ((((lf - ones) & ~lf) | ((cr - ones) & ~cr)) & highs) {
            break;
        }

        p += 8;
    }

    while (p < end && *p != CR && *p != LF) {
        p++;
    }

    return p;
}


/* an interim 1xx head ended: what it set is forgotten */

static void
cflb_http_resp_interim(cflb_http_resp_t *r)
{
    r->status = 0;
    r->gzip = 0;
    r->chunked = 0;
    r->has_length = 0;
    r->content_length = 0;
    r->location_len = 0;
    r->chunk_state = hdr_none;
}


/* the final head ended: results settled, the chunked decoder's state */

static void
cflb_http_resp_done(cflb_http_resp_t *r)
{
    if (r->chunked) {
        r->has_length = 0;
        r->content_length = 0;
    }

    r->state = sw_done;
    r->line_len = 0;
    r->chunk_left = 0;
    r->chunk_state = cw_size_start;
}


/*
 * The ":" of a header whose name is line[0..n): pick the state reading
 * its value.  The length decides first, so other headers cost one switch.
 */

static unsigned
cflb_http_resp_header(cflb_http_resp_t *r, size_t n)
{
    unsigned  hdr, state;

    hdr = hdr_none;
    state = sw_skip;

    switch (n) {

    case sizeof("location") - 1:
        if (cflb_http_resp_eq(r->line, n, "location")) {
            hdr = hdr_location;
            state = sw_location_ws;

            /* an empty value clears an earlier Location too */
            r->location_len = 0;
        }

        break;

    case sizeof("content-length") - 1:
        if (cflb_http_resp_eq(r->line, n, "content-length")) {
            hdr = hdr_length;
            state = sw_length_ws;
        }

        break;

    case sizeof("content-encoding") - 1:
        if (cflb_http_resp_eq(r->line, n, "content-encoding")) {
            hdr = hdr_content_encoding;
            state = sw_token;
        }

        break;

    case sizeof("transfer-encoding") - 1:
        if (cflb_http_resp_eq(r->line, n, "transfer-encoding")) {
            hdr = hdr_transfer_encoding;
            state = sw_token;
        }

        break;
    }

    r->chunk_state = hdr;

    return state;
}


/* the end of a coding in line[0..n) */

static void
cflb_http_resp_coding(cflb_http_resp_t *r, size_t n)
{
    if (r->chunk_state == hdr_transfer_encoding) {
        if (cflb_http_resp_eq(r->line, n, "chunked")) {
            r->chunked = 1;
        }

    } else {
        if (cflb_http_resp_eq(r->line, n, "gzip")
            || cflb_http_resp_eq(r->line, n, "x-gzip"))
        {
            r->gzip = 1;
        }
    }
}


/*
 * s[0..n) equals lower, ignoring ASCII case; n may exceed the bytes
 * stored at s (a long name), then the lengths differ.  lower holds only
 * "a"-"z" and "-", and s no CR (CR never reaches line[]), so setting bit
 * 0x20 folds case exactly: only "A"-"Z" become "a"-"z", and only CR
 * would become "-".
 */

static int
cflb_http_resp_eq(const unsigned char *s, size_t n, const char *lower)
{
    size_t  i;

    if (n != strlen(lower)) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if ((s[i] | 0x20) != (unsigned char) lower[i]) {
            return 0;
        }
    }

    return 1;
}


static int
cflb_http_resp_hex(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    ch = cflb_http_lower(ch);

    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }

    return -1;
}


int
cflb_http_resp_chunked(cflb_http_resp_t *r, unsigned char *buf, size_t len,
    size_t *out)
{
    int            d;
    size_t         i, o, n;
    unsigned       state;
    unsigned char  ch;

    state = r->chunk_state;
    o = 0;
    i = 0;

    if (state == cw_done) {
        *out = 0;
        return CFLB_OK;
    }

    while (i < len) {

        if (state == cw_data) {
            n = len - i;

            if (r->chunk_left < n) {
                n = (size_t) r->chunk_left;
            }

            /* the output never overtakes the input */

            if (o != i) {
                memmove(buf + o, buf + i, n);
            }

            o += n;
            i += n;
            r->chunk_left -= n;

            if (r->chunk_left == 0) {
                state = cw_data_cr;
            }

            continue;
        }

        ch = buf[i++];

        switch (state) {

        case cw_size_start:
            d = cflb_http_resp_hex(ch);
            if (d < 0) {
                goto failed;
            }

            r->chunk_left = (uint64_t) d;
            state = cw_size;
            break;

        case cw_size:
            d = cflb_http_resp_hex(ch);
            if (d >= 0) {
                if (r->chunk_left > (UINT64_MAX >> 4)) {
                    goto failed;
                }

                r->chunk_left = (r->chunk_left << 4) | (uint64_t) d;
                break;
            }

            /* fall through */

        case cw_size_ws:
            if (ch == ' ' || ch == '\t') {
                state = cw_size_ws;

            } else if (ch == ';') {
                state = cw_ext;

            } else if (ch == CR) {
                state = cw_size_lf;

            } else if (ch == LF) {
                state = r->chunk_left ? cw_data : cw_trailer_start;

            } else {
                goto failed;
            }

            break;

        case cw_ext:
            if (ch == CR) {
                state = cw_size_lf;

            } else if (ch == LF) {
                state = r->chunk_left ? cw_data : cw_trailer_start;
            }

            break;

        case cw_size_lf:
            if (ch != LF) {
                goto failed;
            }

            state = r->chunk_left ? cw_data : cw_trailer_start;
            break;

        case cw_data_cr:
            if (ch == CR) {
                state = cw_data_lf;

            } else if (ch == LF) {
                state = cw_size_start;

            } else {
                goto failed;
            }

            break;

        case cw_data_lf:
            if (ch != LF) {
                goto failed;
            }

            state = cw_size_start;
            break;

        case cw_trailer_start:
            if (ch == CR) {
                state = cw_final_lf;

            } else if (ch == LF) {
                goto done;

            } else {
                state = cw_trailer;
            }

            break;

        case cw_trailer:
            if (ch == LF) {
                state = cw_trailer_start;
            }

            break;

        case cw_final_lf:
            if (ch != LF) {
                goto failed;
            }

            goto done;

        default:
            goto failed;
        }
    }

    r->chunk_state = state;
    *out = o;

    return CFLB_AGAIN;

done:

    r->chunk_state = cw_done;
    *out = o;

    return CFLB_OK;

failed:

    r->chunk_state = cw_error;
    *out = o;

    return CFLB_ERROR;
}
