
/*
 * cflb health: the endpoint state machine, pool health, the response
 * matchers of a monitor and the probe round-trip average.
 */


#include <string.h>

#include "cflb_health.h"


#define cflb_health_lower(c)                                                 \
    (unsigned char) (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))


static int cflb_codes_token(const unsigned char *s, size_t len,
    cflb_codes_t *codes);


/*
 * Counters saturate, so that a long run never wraps to 0.  A decision is
 * taken when the run reaches its threshold and the state disagrees with
 * it or is not known yet: an unknown endpoint (unhealthy by default)
 * becomes "known unhealthy" after max(1, down) failures, and "healthy"
 * after max(1, up) passes; until then it stays unknown, still unhealthy.
 */

int
cflb_health_record(cflb_health_t *h, int passed, unsigned up, unsigned down)
{
    uint8_t  healthy, known;

    healthy = h->healthy;
    known = h->known;

    if (up == 0) {
        up = 1;
    }

    if (down == 0) {
        down = 1;
    }

    if (passed) {
        h->fails = 0;

        if (h->passes != UINT32_MAX) {
            h->passes++;
        }

        if ((!h->healthy || !h->known) && h->passes >= up) {
            h->healthy = 1;
            h->known = 1;
        }

    } else {
        h->passes = 0;

        if (h->fails != UINT32_MAX) {
            h->fails++;
        }

        if ((h->healthy || !h->known) && h->fails >= down) {
            h->healthy = 0;
            h->known = 1;
        }
    }

    return h->healthy != healthy || h->known != known;
}


/*
 * "Critical" is tested first: a pool whose minimum exceeds its size can
 * never be anything else, even with every endpoint up.
 */

cflb_pool_health_e
cflb_pool_health(unsigned healthy, unsigned total, unsigned minimum)
{
    if (minimum == 0) {
        minimum = 1;
    }

    if (healthy < minimum) {
        return CFLB_POOL_CRITICAL;
    }

    if (healthy >= total) {
        return CFLB_POOL_HEALTHY;
    }

    return CFLB_POOL_DEGRADED;
}


static const char  *cflb_reasons[] = {
    "No failures",
    "TCP connection failed",
    "TCP Timeout",
    "HTTP timeout occurred",
    "Response code mismatch",
    "Response body mismatch",
    "HTTP Invalid Response",
    "TLS untrusted certificate",
    "TLS name mismatch",
    "TLS Handshake Failure",
    "Connection Reset by Peer",
    "No route to host",
    "Network Unreachable",
    "ICMP port unreachable",
    "Response code mismatch",
    "Other Failure",
    "Not checked yet",
    "Invalid response",
    "No echo reply"
};


/* a reason added to the enum without its words fails the build */
typedef char cflb_reasons_check_t[
    sizeof(cflb_reasons) / sizeof(cflb_reasons[0]) == CFLB_REASON_N
    ? 1 : -1];


const char *
cflb_reason_name(unsigned reason)
{
    return cflb_reasons[reason < CFLB_REASON_N ? reason
                                               : CFLB_REASON_OTHER];
}


const char *
cflb_pool_health_name(cflb_pool_health_e h)
{
    switch (h) {

    case CFLB_POOL_HEALTHY:
        return "healthy";

    case CFLB_POOL_DEGRADED:
        return "degraded";

    case CFLB_POOL_CRITICAL:
        return "critical";
    }

    return "unknown";
}


/*
 * Grammar:
 *
 *     codes = *ws code *( sep code ) *ws
 *     sep   = 1*ws | *ws "," *ws                ws = SP | HT
 *     code  = "1".."5" ( digit digit | x x )     x = "x" | "X"
 *
 * So "200 301", "200,301" and "200, 301" are one list, while ",200",
 * "200,,301" and "200," have an empty item.  The result is stored only
 * on success; err->offset points at the offending item or comma.
 */

int
cflb_codes_parse(const unsigned char *s, size_t len, cflb_codes_t *codes,
    cflb_err_t *err)
{
    size_t        i, start, n;
    unsigned      comma, items;
    const char   *msg;
    cflb_codes_t  set;

    memset(&set, 0, sizeof(cflb_codes_t));

    i = 0;
    items = 0;
    comma = 1;      /* a comma before the first item would be empty */

    for ( ;; ) {

        /* separators: spaces, at most one comma */

        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) {
            if (s[i] == ',') {
                if (comma) {
                    msg = "empty item in the list of codes";
                    goto failed;
                }

                comma = 1;
            }

            i++;
        }

        if (i == len) {
            break;
        }

        start = i;

        while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != ',') {
            i++;
        }

        n = i - start;

        if (cflb_codes_token(s + start, n, &set) != CFLB_OK) {
            i = start;
            msg = "invalid code, want 100..599 or a class 1xx..5xx";
            goto failed;
        }

        items++;
        comma = 0;
    }

    if (items == 0) {
        msg = "no codes";
        goto failed;
    }

    if (comma) {
        msg = "empty item in the list of codes";
        goto failed;
    }

    *codes = set;

    return CFLB_OK;

failed:

    if (err != NULL) {
        err->msg = msg;
        err->offset = i;
    }

    return CFLB_ERROR;
}


static int
cflb_codes_token(const unsigned char *s, size_t len, cflb_codes_t *codes)
{
    unsigned  code, last;

    if (len != 3 || s[0] < '1' || s[0] > '5') {
        return CFLB_ERROR;
    }

    code = (unsigned) (s[0] - '0') * 100;

    if (cflb_health_lower(s[1]) == 'x' && cflb_health_lower(s[2]) == 'x') {
        last = code + 99;

    } else if (s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9') {
        code += (unsigned) (s[1] - '0') * 10 + (unsigned) (s[2] - '0');
        last = code;

    } else {
        return CFLB_ERROR;
    }

    for ( /* void */ ; code <= last; code++) {
        codes->bits[code / 64] |= (uint64_t) 1 << (code % 64);
    }

    return CFLB_OK;
}


int
cflb_codes_match(const cflb_codes_t *codes, unsigned code)
{
    if (code < 100 || code > 599) {
        return 0;
    }

    return (codes->bits[code / 64] >> (code % 64)) & 1;
}


int
cflb_body_match(const unsigned char *body, size_t len,
    const unsigned char *needle, size_t nlen)
{
    size_t         i, j;
    unsigned char  first;

    if (nlen == 0) {
        return 1;
    }

    if (nlen > len) {
        return 0;
    }

    first = cflb_health_lower(needle[0]);

    for (i = 0; i <= len - nlen; i++) {
        if (cflb_health_lower(body[i]) != first) {
            continue;
        }

        for (j = 1; j < nlen; j++) {
            if (cflb_health_lower(body[i + j])
                != cflb_health_lower(needle[j]))
            {
                break;
            }
        }

        if (j == nlen) {
            return 1;
        }
    }

    return 0;
}


/*
 * avg' = (7 * avg + sample) / 8, rounded to nearest, in 64 bits: at most
 * 8 * (2^32 - 1) + 4, and the result never exceeds max(avg, sample), so
 * it fits 32 bits.  Once there is an average it never drops to 0 (which
 * would read as "no sample yet"), even after samples of 0.
 */

uint32_t
cflb_rtt_update(uint32_t avg, uint32_t sample)
{
    uint64_t  v;

    if (avg == 0) {
        return sample;
    }

    v = ((uint64_t) avg * 7 + sample + 4) >> 3;

    return v ? (uint32_t) v : 1;
}
