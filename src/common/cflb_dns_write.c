
/*
 * cflb_dns_write: one DNS response written front to back into a caller
 * buffer.
 *
 * cflb_dns_begin() writes the header and the question and sets the end
 * of the sections to the limit less the OPT record, so the OPT always
 * fits.  Each record checks its room before writing; one that does not
 * fit truncates the response the simple way (RFC 2181 9 allows it): the
 * sections are dropped, TC is set, and the client retries over TCP.
 *
 * Compression (RFC 1035 4.1.4): a name is written as its labels up to
 * the longest suffix already in the message, then a pointer there.  The
 * writer remembers up to CFLB_DNS_COMP_MAX label offsets with the
 * uncompressed length of the name from each, so a suffix is compared
 * only with those of the same length.  The question's labels are
 * registered the first time a name is compressed, so the common answer
 * (owner = the question, a 2-byte pointer to offset 12, and addresses)
 * never searches.  Pointers into the question take the client's case,
 * as every server's do; the question itself is echoed as sent.
 */


#include <string.h>

#include "cflb_dns_wire.h"


#define CFLB_DNS_PTR_MAX  0x3fff           /* pointers reach no further */
#define CFLB_DNS_RR_FIXED 10               /* type, class, ttl, rdlength */


static size_t cflb_dns_opt_len(const cflb_dns_query_t *q);
static int cflb_dns_rr_start(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, unsigned type, uint32_t ttl, size_t rdlen);
static void cflb_dns_rr_end(cflb_dns_writer_t *w, unsigned section,
    size_t rdata);
static int cflb_dns_put_name(cflb_dns_writer_t *w,
    const unsigned char *name, size_t nlen);
static void cflb_dns_comp_question(cflb_dns_writer_t *w);
static int cflb_dns_comp_match(const unsigned char *buf, size_t off,
    const unsigned char *name);
static int cflb_dns_truncate(cflb_dns_writer_t *w);


int
cflb_dns_begin(cflb_dns_writer_t *w, const cflb_dns_query_t *q,
    unsigned char *buf, size_t limit, unsigned rcode, unsigned flags)
{
    size_t  qlen, opt;

    if (rcode > 0xfff || (rcode > 15 && !q->edns)) {
        return CFLB_ERROR;
    }

    if (limit > CFLB_DNS_TCP_MAX) {
        limit = CFLB_DNS_TCP_MAX;
    }

    qlen = q->qname_len ? q->qname_len + 4 : 0;
    opt = cflb_dns_opt_len(q);

    if (CFLB_DNS_HEADER + qlen + opt > limit) {
        return CFLB_ERROR;
    }

    /* QR; opcode and RD copied; AA; CD copied (RFC 4035 3.1.6) */

    cflb_dns_put16(buf, q->id);
    buf[2] = (unsigned char) (0x80 | ((q->flags >> 8) & 0x79)
                              | ((flags & CFLB_DNS_AA) ? 0x04 : 0));
    buf[3] = (unsigned char) ((q->flags & 0x10) | (rcode & 0xf));
    cflb_dns_put16(buf + 4, qlen ? 1 : 0);
    memset(buf + 6, 0, 6);

    if (qlen) {
        /* memmove: buf may be the query's packet, qname at the same place */
        memmove(buf + CFLB_DNS_HEADER, q->qname, q->qname_len);
        cflb_dns_put16(buf + CFLB_DNS_HEADER + q->qname_len, q->qtype);
        cflb_dns_put16(buf + CFLB_DNS_HEADER + q->qname_len + 2, q->qclass);
    }

    w->buf = buf;
    w->q = q;
    w->pos = CFLB_DNS_HEADER + qlen;
    w->end = limit - opt;
    w->question_end = w->pos;
    w->rcode = rcode;
    w->section = CFLB_DNS_ANSWER;
    w->ncomp = 0;
    w->count[0] = 0;
    w->count[1] = 0;
    w->count[2] = 0;
    w->truncated = 0;
    w->comp_ready = 0;

    return CFLB_OK;
}


/* OPT: root, type, class, ttl, rdlength; the subnet option and address */

static size_t
cflb_dns_opt_len(const cflb_dns_query_t *q)
{
    if (!q->edns) {
        return 0;
    }

    return 11 + (q->ecs ? 8 + (q->ecs_source + 7u) / 8 : 0);
}


int
cflb_dns_add_a(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *addr4)
{
    int  rc;

    rc = cflb_dns_rr_start(w, section, owner, CFLB_DNS_TYPE_A, ttl, 4);

    if (rc != CFLB_OK) {
        return rc;
    }

    memcpy(w->buf + w->pos, addr4, 4);
    w->pos += 4;

    cflb_dns_rr_end(w, section, w->pos - 4);

    return CFLB_OK;
}


int
cflb_dns_add_aaaa(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *addr16)
{
    int  rc;

    rc = cflb_dns_rr_start(w, section, owner, CFLB_DNS_TYPE_AAAA, ttl, 16);

    if (rc != CFLB_OK) {
        return rc;
    }

    memcpy(w->buf + w->pos, addr16, 16);
    w->pos += 16;

    cflb_dns_rr_end(w, section, w->pos - 16);

    return CFLB_OK;
}


int
cflb_dns_add_cname(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *target)
{
    int     rc;
    size_t  rdata, nlen;

    /* names are checked before anything is written */

    nlen = cflb_dns_name_len(target);

    if (nlen == 0) {
        return CFLB_ERROR;
    }

    rc = cflb_dns_rr_start(w, section, owner, CFLB_DNS_TYPE_CNAME, ttl, 0);

    if (rc != CFLB_OK) {
        return rc;
    }

    rdata = w->pos;

    rc = cflb_dns_put_name(w, target, nlen);

    if (rc != CFLB_OK) {
        return rc;
    }

    cflb_dns_rr_end(w, section, rdata);

    return CFLB_OK;
}


int
cflb_dns_add_ns(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *ns)
{
    int     rc;
    size_t  rdata, nlen;

    nlen = cflb_dns_name_len(ns);

    if (nlen == 0) {
        return CFLB_ERROR;
    }

    rc = cflb_dns_rr_start(w, section, owner, CFLB_DNS_TYPE_NS, ttl, 0);

    if (rc != CFLB_OK) {
        return rc;
    }

    rdata = w->pos;

    rc = cflb_dns_put_name(w, ns, nlen);

    if (rc != CFLB_OK) {
        return rc;
    }

    cflb_dns_rr_end(w, section, rdata);

    return CFLB_OK;
}


int
cflb_dns_add_soa(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const cflb_dns_soa_t *soa)
{
    int             rc;
    size_t          rdata, mlen, rlen;
    unsigned char  *p;

    mlen = cflb_dns_name_len(soa->mname);
    rlen = cflb_dns_name_len(soa->rname);

    if (mlen == 0 || rlen == 0) {
        return CFLB_ERROR;
    }

    rc = cflb_dns_rr_start(w, section, owner, CFLB_DNS_TYPE_SOA, ttl, 0);

    if (rc != CFLB_OK) {
        return rc;
    }

    rdata = w->pos;

    rc = cflb_dns_put_name(w, soa->mname, mlen);

    if (rc == CFLB_OK) {
        rc = cflb_dns_put_name(w, soa->rname, rlen);
    }

    if (rc != CFLB_OK) {
        return rc;
    }

    if (w->end - w->pos < 20) {
        return cflb_dns_truncate(w);
    }

    p = w->buf + w->pos;

    cflb_dns_put32(p, soa->serial);
    cflb_dns_put32(p + 4, soa->refresh);
    cflb_dns_put32(p + 8, soa->retry);
    cflb_dns_put32(p + 12, soa->expire);
    cflb_dns_put32(p + 16, soa->minimum);
    w->pos += 20;

    cflb_dns_rr_end(w, section, rdata);

    return CFLB_OK;
}


int
cflb_dns_add_rr(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, unsigned type, uint32_t ttl,
    const unsigned char *rdata, size_t rdlen)
{
    int  rc;

    if (rdlen > 0xffff || type > 0xffff) {
        return CFLB_ERROR;
    }

    rc = cflb_dns_rr_start(w, section, owner, type, ttl, rdlen);

    if (rc != CFLB_OK) {
        return rc;
    }

    memcpy(w->buf + w->pos, rdata, rdlen);
    w->pos += rdlen;

    cflb_dns_rr_end(w, section, w->pos - rdlen);

    return CFLB_OK;
}


/*
 * Writes the owner, type, class and TTL and leaves room for rdlength,
 * with rdlen more bytes free for the rdata written next (names in the
 * rdata check their own room).
 */

static int
cflb_dns_rr_start(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, unsigned type, uint32_t ttl, size_t rdlen)
{
    int             rc;
    size_t          nlen;
    unsigned char  *p;

    if (section < w->section || section > CFLB_DNS_ADDITIONAL) {
        return CFLB_ERROR;
    }

    nlen = 0;

    if (owner != NULL) {
        nlen = cflb_dns_name_len(owner);

        if (nlen == 0) {
            return CFLB_ERROR;
        }

    } else if (w->q->qname_len == 0) {
        return CFLB_ERROR;
    }

    if (w->truncated) {
        return CFLB_DECLINED;
    }

    if (owner == NULL) {

        if (w->end - w->pos < 2) {
            return cflb_dns_truncate(w);
        }

        p = w->buf + w->pos;

        if (w->q->qname_len == 1) {
            p[0] = 0;
            w->pos++;

        } else {
            cflb_dns_put16(p, 0xc000 | CFLB_DNS_HEADER);
            w->pos += 2;
        }

    } else {
        rc = cflb_dns_put_name(w, owner, nlen);

        if (rc != CFLB_OK) {
            return rc;
        }
    }

    if (w->end - w->pos < CFLB_DNS_RR_FIXED + rdlen) {
        return cflb_dns_truncate(w);
    }

    p = w->buf + w->pos;

    cflb_dns_put16(p, type);
    cflb_dns_put16(p + 2, CFLB_DNS_CLASS_IN);
    cflb_dns_put32(p + 4, ttl);
    w->pos += CFLB_DNS_RR_FIXED;

    return CFLB_OK;
}


static void
cflb_dns_rr_end(cflb_dns_writer_t *w, unsigned section, size_t rdata)
{
    cflb_dns_put16(w->buf + rdata - 2, (unsigned) (w->pos - rdata));

    w->count[section]++;
    w->section = section;
}


/* name is valid and nlen long (cflb_dns_name_len()) */

static int
cflb_dns_put_name(cflb_dns_writer_t *w, const unsigned char *name,
    size_t nlen)
{
    size_t          i, fresh, need;
    unsigned        k, target;
    unsigned char  *p;

    if (!w->comp_ready) {
        cflb_dns_comp_question(w);
    }

    /* the longest suffix already written, tried from the whole name down */

    fresh = nlen;
    target = 0;

    for (i = 0; name[i] != 0 && target == 0; i += name[i] + 1) {
        for (k = 0; k < w->ncomp; k++) {
            if (w->comp[k].len == nlen - i
                && cflb_dns_comp_match(w->buf, w->comp[k].off, name + i))
            {
                fresh = i;
                target = 0xc000 | w->comp[k].off;
                break;
            }
        }
    }

    need = fresh + (target ? 2 : 0);

    if (w->end - w->pos < need) {
        return cflb_dns_truncate(w);
    }

    p = w->buf + w->pos;
    memcpy(p, name, fresh);

    for (i = 0; i < fresh && name[i] != 0; i += name[i] + 1) {
        if (w->ncomp == CFLB_DNS_COMP_MAX || w->pos + i > CFLB_DNS_PTR_MAX) {
            break;
        }

        w->comp[w->ncomp].off = (uint16_t) (w->pos + i);
        w->comp[w->ncomp].len = (uint16_t) (nlen - i);
        w->ncomp++;
    }

    if (target) {
        cflb_dns_put16(p + fresh, target);
    }

    w->pos += need;

    return CFLB_OK;
}


static void
cflb_dns_comp_question(cflb_dns_writer_t *w)
{
    size_t                i, len;
    const unsigned char  *name;

    w->comp_ready = 1;

    len = w->q->qname_len;
    name = w->buf + CFLB_DNS_HEADER;

    /* the root alone is shorter than a pointer */

    for (i = 0; len > 1 && name[i] != 0; i += name[i] + 1) {
        if (w->ncomp == CFLB_DNS_COMP_MAX) {
            break;
        }

        w->comp[w->ncomp].off = (uint16_t) (CFLB_DNS_HEADER + i);
        w->comp[w->ncomp].len = (uint16_t) (len - i);
        w->ncomp++;
    }
}


/*
 * Compares the name written at off (its labels may end in a pointer)
 * with an uncompressed name of the same total length.  Our own pointers
 * only go backwards, so the walk ends; the hop count guards it anyway.
 */

static int
cflb_dns_comp_match(const unsigned char *buf, size_t off,
    const unsigned char *name)
{
    unsigned  c, i, hops;

    hops = 0;

    for ( ;; ) {
        c = buf[off];

        while ((c & 0xc0) == 0xc0) {
            if (++hops > CFLB_DNS_NAME_MAX / 2) {
                return 0;
            }

            off = (c & 0x3f) << 8 | buf[off + 1];
            c = buf[off];
        }

        if (c != name[0]) {
            return 0;
        }

        if (c == 0) {
            return 1;
        }

        for (i = 1; i <= c; i++) {
            if (cflb_dns_lower(buf[off + i]) != cflb_dns_lower(name[i])) {
                return 0;
            }
        }

        off += c + 1;
        name += c + 1;
    }
}


static int
cflb_dns_truncate(cflb_dns_writer_t *w)
{
    w->pos = w->question_end;
    w->count[0] = 0;
    w->count[1] = 0;
    w->count[2] = 0;
    w->ncomp = 0;
    w->comp_ready = 0;
    w->truncated = 1;

    return CFLB_DECLINED;
}


size_t
cflb_dns_finish(cflb_dns_writer_t *w, unsigned edns_size, unsigned scope)
{
    size_t                   alen;
    unsigned                 ar, max;
    unsigned char           *buf, *p;
    const cflb_dns_query_t  *q;

    buf = w->buf;
    q = w->q;

    if (w->truncated) {
        buf[2] |= 0x02;
    }

    ar = w->count[2];

    cflb_dns_put16(buf + 6, w->count[0]);
    cflb_dns_put16(buf + 8, w->count[1]);

    if (q->edns) {
        p = buf + w->pos;

        if (edns_size < CFLB_DNS_UDP_MIN) {
            edns_size = CFLB_DNS_UDP_MIN;

        } else if (edns_size > CFLB_DNS_TCP_MAX) {
            edns_size = CFLB_DNS_TCP_MAX;
        }

        /* RFC 6891 6.1.3: extended rcode, version 0, DO, zero bits */

        p[0] = 0;
        cflb_dns_put16(p + 1, CFLB_DNS_TYPE_OPT);
        cflb_dns_put16(p + 3, edns_size);
        p[5] = (unsigned char) (w->rcode >> 4);
        p[6] = 0;
        p[7] = q->dnssec_ok ? 0x80 : 0;
        p[8] = 0;
        cflb_dns_put16(p + 9, 0);

        if (q->ecs) {
            alen = (q->ecs_source + 7u) / 8;
            max = q->ecs_family == CFLB_DNS_ECS_IPV4 ? 32 : 128;

            if (scope > max) {
                scope = max;
            }

            /* RFC 7871 7.2.1: source, family and address as received */

            cflb_dns_put16(p + 9, (unsigned) (8 + alen));
            cflb_dns_put16(p + 11, 8);
            cflb_dns_put16(p + 13, (unsigned) (4 + alen));
            cflb_dns_put16(p + 15, q->ecs_family);
            p[17] = q->ecs_source;
            p[18] = (unsigned char) (q->ecs_source ? scope : 0);
            memcpy(p + 19, q->ecs_addr, alen);
        }

        w->pos += cflb_dns_opt_len(q);
        ar++;
    }

    cflb_dns_put16(buf + 10, ar);

    return w->pos;
}


int
cflb_dns_truncated(const cflb_dns_writer_t *w)
{
    return w->truncated;
}
