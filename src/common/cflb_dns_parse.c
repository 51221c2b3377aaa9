
/*
 * cflb_dns_parse: one DNS query, untrusted, read in a single pass.
 *
 * The whole message is walked (RFC 1035 4.1): the first question is
 * kept, further questions and the answer and authority records are
 * skipped, and the additional section is searched for the OPT record
 * (RFC 6891 6.1.2).  Anything that runs past the end, or bytes left
 * after the last record, is FORMERR.  Names in the question must be
 * plain labels (a compression pointer there can only point backwards
 * into the header); names in other records may end in a pointer, which
 * is not followed because nothing of theirs is used.
 *
 * A malformed message gets FORMERR without an OPT record (edns is
 * cleared: we cannot tell what the client sent), while a sound message
 * with a wrong client subnet option or QDCOUNT gets FORMERR with one,
 * as BIND and gdnsd do.  Options other than client subnet are skipped;
 * cookies (RFC 7873 5.2.1: ignoring them is allowed) and padding need
 * nothing from a server that does not implement them.
 */


#include <string.h>

#include "cflb_dns_wire.h"


#define CFLB_DNS_OPT_ECS  8                /* RFC 7871 option code */


static int cflb_dns_question(const unsigned char *pkt, size_t len,
    size_t *pos, cflb_dns_query_t *q);
static int cflb_dns_skip(const unsigned char *pkt, size_t len, size_t *pos,
    int data, unsigned *type);
static int cflb_dns_opt(const unsigned char *opt, cflb_dns_query_t *q,
    int *ecs_bad);
static int cflb_dns_ecs(const unsigned char *o, size_t olen,
    cflb_dns_query_t *q);


int
cflb_dns_parse(const unsigned char *pkt, size_t len, cflb_dns_query_t *q)
{
    int       ecs_bad, opts;
    size_t    pos, start;
    unsigned  qd, rrs, ar, i, type;

    memset(q, 0, sizeof(cflb_dns_query_t));
    q->udp_size = CFLB_DNS_UDP_MIN;

    /* not a query we could answer: silence, as RFC 1035 7.3 allows */

    if (len < CFLB_DNS_HEADER || (pkt[2] & 0x80)) {
        return CFLB_DECLINED;
    }

    q->id = (uint16_t) cflb_dns_get16(pkt);
    q->flags = (uint16_t) cflb_dns_get16(pkt + 2);

    qd = cflb_dns_get16(pkt + 4);
    rrs = cflb_dns_get16(pkt + 6) + cflb_dns_get16(pkt + 8);
    ar = cflb_dns_get16(pkt + 10);

    pos = CFLB_DNS_HEADER;

    if (qd && cflb_dns_question(pkt, len, &pos, q) != CFLB_OK) {
        return CFLB_DNS_FORMERR;
    }

    /* each record takes 5 bytes or more, so these loops end with pkt */

    for (i = 1; i < qd; i++) {
        if (cflb_dns_skip(pkt, len, &pos, 0, &type) != CFLB_OK) {
            return CFLB_DNS_FORMERR;
        }
    }

    for (i = 0; i < rrs; i++) {
        if (cflb_dns_skip(pkt, len, &pos, 1, &type) != CFLB_OK) {
            return CFLB_DNS_FORMERR;
        }
    }

    ecs_bad = 0;
    opts = 0;

    for (i = 0; i < ar; i++) {
        start = pos;

        if (cflb_dns_skip(pkt, len, &pos, 1, &type) != CFLB_OK) {
            goto malformed;
        }

        if (type != CFLB_DNS_TYPE_OPT) {
            continue;
        }

        /* RFC 6891 6.1.1: one OPT, owned by the root */

        if (opts++ || pkt[start] != 0
            || cflb_dns_opt(pkt + start, q, &ecs_bad) != CFLB_OK)
        {
            goto malformed;
        }
    }

    if (pos != len) {
        goto malformed;
    }

    if (((q->flags >> 11) & 0xf) != 0) {
        return CFLB_DNS_NOTIMP;
    }

    if (qd != 1) {
        return CFLB_DNS_FORMERR;
    }

    if (q->edns_version != 0) {
        return CFLB_DNS_BADVERS;
    }

    if (ecs_bad) {
        return CFLB_DNS_FORMERR;
    }

    /* meta types (RFC 6895 3.1): AXFR, IXFR, TSIG, TKEY, MAILA, MAILB */

    if (q->qtype >= 128 && q->qtype <= 254) {
        return CFLB_DNS_NOTIMP;
    }

    return CFLB_OK;

malformed:

    q->edns = 0;
    q->dnssec_ok = 0;
    q->ecs = 0;
    q->edns_version = 0;
    q->udp_size = CFLB_DNS_UDP_MIN;

    return CFLB_DNS_FORMERR;
}


static int
cflb_dns_question(const unsigned char *pkt, size_t len, size_t *pos,
    cflb_dns_query_t *q)
{
    size_t    p, start;
    unsigned  c;

    start = *pos;
    p = start;

    for ( ;; ) {
        if (p >= len) {
            return CFLB_ERROR;
        }

        c = pkt[p];

        if (c == 0) {
            break;
        }

        /* also refuses pointers (0xc0) and extended label types */

        if (c > CFLB_DNS_LABEL_MAX) {
            return CFLB_ERROR;
        }

        p += c + 1;

        if (p - start >= CFLB_DNS_NAME_MAX) {
            return CFLB_ERROR;
        }
    }

    p++;

    if (len - p < 4) {
        return CFLB_ERROR;
    }

    q->qname = pkt + start;
    q->qname_len = p - start;
    q->qtype = (uint16_t) cflb_dns_get16(pkt + p);
    q->qclass = (uint16_t) cflb_dns_get16(pkt + p + 2);

    *pos = p + 4;

    return CFLB_OK;
}


/* skips a question (data 0) or a resource record, telling its type */

static int
cflb_dns_skip(const unsigned char *pkt, size_t len, size_t *pos, int data,
    unsigned *type)
{
    size_t    p, rdlen;
    unsigned  c;

    p = *pos;

    for ( ;; ) {
        if (p >= len) {
            return CFLB_ERROR;
        }

        c = pkt[p];

        if (c == 0) {
            p++;
            break;
        }

        if ((c & 0xc0) == 0xc0) {
            p += 2;
            break;
        }

        if (c > CFLB_DNS_LABEL_MAX) {
            return CFLB_ERROR;
        }

        p += c + 1;

        if (p - *pos >= CFLB_DNS_NAME_MAX) {
            return CFLB_ERROR;
        }
    }

    if (p > len || len - p < (data ? 10u : 4u)) {
        return CFLB_ERROR;
    }

    *type = cflb_dns_get16(pkt + p);

    if (data) {
        rdlen = cflb_dns_get16(pkt + p + 8);
        p += 10;

        if (len - p < rdlen) {
            return CFLB_ERROR;
        }

        p += rdlen;

    } else {
        p += 4;
    }

    *pos = p;

    return CFLB_OK;
}


/*
 * The OPT record at opt, whose bounds cflb_dns_skip() checked: root
 * name, type, class = UDP size, TTL = extended rcode, version, DO and
 * zero bits, then the options.  A version above 0 is kept for BADVERS
 * and its options are not read: their format is that version's.
 */

static int
cflb_dns_opt(const unsigned char *opt, cflb_dns_query_t *q, int *ecs_bad)
{
    size_t                rdlen, olen;
    unsigned              code, size;
    const unsigned char  *o;

    size = cflb_dns_get16(opt + 3);

    q->edns = 1;
    q->udp_size = (uint16_t) (size < CFLB_DNS_UDP_MIN ? CFLB_DNS_UDP_MIN
                                                       : size);
    q->edns_version = opt[6];
    q->dnssec_ok = opt[7] >> 7;

    if (q->edns_version != 0) {
        return CFLB_OK;
    }

    rdlen = cflb_dns_get16(opt + 9);
    o = opt + 11;

    while (rdlen) {
        if (rdlen < 4) {
            return CFLB_ERROR;
        }

        code = cflb_dns_get16(o);
        olen = cflb_dns_get16(o + 2);
        rdlen -= 4;

        if (olen > rdlen) {
            return CFLB_ERROR;
        }

        if (code == CFLB_DNS_OPT_ECS) {

            /* two subnets leave the answer's scope undefined */

            if (*ecs_bad || q->ecs || cflb_dns_ecs(o + 4, olen, q) != CFLB_OK)
            {
                *ecs_bad = 1;
                q->ecs = 0;
            }
        }

        o += 4 + olen;
        rdlen -= olen;
    }

    return CFLB_OK;
}


/*
 * RFC 7871 6: FAMILY 1 or 2, SOURCE PREFIX-LENGTH within the family,
 * exactly ceil(source / 8) address bytes, no bit set past the prefix
 * (7.1.2 says a server SHOULD answer FORMERR to each).  The SCOPE of a
 * query MUST be 0 but nothing depends on it: kept, not checked.
 */

static int
cflb_dns_ecs(const unsigned char *o, size_t olen, cflb_dns_query_t *q)
{
    size_t    alen;
    unsigned  family, source, max;

    if (olen < 4) {
        return CFLB_ERROR;
    }

    family = cflb_dns_get16(o);
    source = o[2];

    if (family == CFLB_DNS_ECS_IPV4) {
        max = 32;

    } else if (family == CFLB_DNS_ECS_IPV6) {
        max = 128;

    } else {
        return CFLB_ERROR;
    }

    alen = (source + 7) / 8;

    if (source > max || olen - 4 != alen) {
        return CFLB_ERROR;
    }

    if ((source & 7) && (o[4 + alen - 1] & (0xff >> (source & 7)))) {
        return CFLB_ERROR;
    }

    q->ecs = 1;
    q->ecs_family = (uint16_t) family;
    q->ecs_source = (uint8_t) source;
    q->ecs_scope = o[3];
    memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
    memcpy(q->ecs_addr, o + 4, alen);

    return CFLB_OK;
}


size_t
cflb_dns_limit(const cflb_dns_query_t *q, size_t edns_max, int tcp)
{
    size_t  n;

    if (tcp) {
        return CFLB_DNS_TCP_MAX;
    }

    if (!q->edns) {
        return CFLB_DNS_UDP_MIN;
    }

    n = q->udp_size < edns_max ? q->udp_size : edns_max;

    return n < CFLB_DNS_UDP_MIN ? CFLB_DNS_UDP_MIN : n;
}


int
cflb_dns_tcp_frame(const unsigned char *buf, size_t len, size_t *msg_len)
{
    size_t  n;

    if (len < 2) {
        return CFLB_AGAIN;
    }

    n = cflb_dns_get16(buf);

    if (len - 2 < n) {
        return CFLB_AGAIN;
    }

    *msg_len = n;

    return CFLB_OK;
}


void
cflb_dns_tcp_length(unsigned char *p, size_t n)
{
    cflb_dns_put16(p, (unsigned) n);
}
