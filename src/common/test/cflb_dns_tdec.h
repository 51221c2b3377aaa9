
/*
 * cflb_dns tests: a small DNS message decoder of their own, written
 * apart from the codec so that it checks the writer instead of agreeing
 * with it.  Pointers must go strictly backwards (so every walk ends),
 * rdata must be used exactly, nothing may trail the last record.  Also a
 * query builder.  Header-only, shared by the test and the fuzz target.
 */

#ifndef _CFLB_DNS_TDEC_H_INCLUDED_
#define _CFLB_DNS_TDEC_H_INCLUDED_


#include <string.h>

#include "cflb_dns.h"


#define TDEC_NAME   1100            /* dotted text, no escaping */
#define TDEC_RRS    64              /* records kept; all are walked */


typedef struct {
    char                  name[TDEC_NAME];
    unsigned              section;
    unsigned              type;
    unsigned              cls;
    uint32_t              ttl;
    size_t                rdlen;
    const unsigned char  *rdata;
    char                  n1[TDEC_NAME];     /* CNAME, NS; SOA mname */
    char                  n2[TDEC_NAME];     /* SOA rname */
    uint32_t              soa[5];
} tdec_rr_t;


typedef struct {
    unsigned              id;
    unsigned              flags;
    unsigned              count[4];          /* qd, an, ns, ar */
    char                  qname[TDEC_NAME];
    size_t                qname_off;
    size_t                qname_len;         /* as written, pointers none */
    unsigned              qtype;
    unsigned              qclass;
    unsigned              nrr;               /* all records but OPT */
    tdec_rr_t            *rr;                /* TDEC_RRS of them */
    int                   opt;
    unsigned              opt_size;
    unsigned              opt_ext_rcode;
    unsigned              opt_version;
    unsigned              opt_flags;
    unsigned              opt_options;
    int                   ecs;
    unsigned              ecs_family;
    unsigned              ecs_source;
    unsigned              ecs_scope;
    size_t                ecs_alen;
    unsigned char         ecs_addr[16];
    size_t                uncompressed;      /* the size without compression */
} tdec_msg_t;


static inline unsigned
tdec_16(const unsigned char *p)
{
    return (unsigned) p[0] << 8 | p[1];
}


static inline uint32_t
tdec_32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}


/*
 * The name at *pos in m[0..len) as "a.b.c." ("." for the root); *pos
 * moves past it, *wire gets its uncompressed length.  -1 if malformed.
 */

static inline int
tdec_name(const unsigned char *m, size_t len, size_t *pos, char *out,
    size_t *wire)
{
    int       jumped;
    size_t    p, end, o, min, total, target;
    unsigned  c;

    p = *pos;
    min = *pos;
    end = 0;
    o = 0;
    total = 0;
    jumped = 0;

    for ( ;; ) {
        if (p >= len) {
            return -1;
        }

        c = m[p];

        if ((c & 0xc0) == 0xc0) {
            if (p + 1 >= len) {
                return -1;
            }

            target = (c & 0x3f) << 8 | m[p + 1];

            if (!jumped) {
                end = p + 2;
                jumped = 1;
            }

            if (target >= min) {
                return -1;
            }

            min = target;
            p = target;
            continue;
        }

        if (c & 0xc0) {
            return -1;
        }

        if (c == 0) {
            if (!jumped) {
                end = p + 1;
            }

            break;
        }

        if (p + 1 + c > len || total + c + 1 > 254) {
            return -1;
        }

        memcpy(out + o, m + p + 1, c);
        o += c;
        out[o++] = '.';
        total += c + 1;
        p += c + 1;
    }

    if (o == 0) {
        out[o++] = '.';
    }

    out[o] = '\0';
    *pos = end;
    *wire = total + 1;

    return 0;
}


static inline int
tdec_opt(const unsigned char *m, size_t p, size_t rdlen, tdec_msg_t *d)
{
    size_t    end, olen;
    unsigned  code;

    end = p + rdlen;

    while (p < end) {
        if (end - p < 4) {
            return -1;
        }

        code = tdec_16(m + p);
        olen = tdec_16(m + p + 2);
        p += 4;

        if (end - p < olen) {
            return -1;
        }

        d->opt_options++;

        if (code == 8) {
            if (d->ecs || olen < 4 || olen - 4 > 16) {
                return -1;
            }

            d->ecs = 1;
            d->ecs_family = tdec_16(m + p);
            d->ecs_source = m[p + 2];
            d->ecs_scope = m[p + 3];
            d->ecs_alen = olen - 4;
            memcpy(d->ecs_addr, m + p + 4, olen - 4);
        }

        p += olen;
    }

    return 0;
}


static inline int
tdec_rdata(const unsigned char *m, size_t len, size_t p, tdec_rr_t *rr,
    tdec_msg_t *d)
{
    size_t  end, w;

    end = p + rr->rdlen;

    switch (rr->type) {

    case CFLB_DNS_TYPE_A:
        return rr->rdlen == 4 ? 0 : -1;

    case CFLB_DNS_TYPE_AAAA:
        return rr->rdlen == 16 ? 0 : -1;

    case CFLB_DNS_TYPE_CNAME:
    case CFLB_DNS_TYPE_NS:
        if (tdec_name(m, len, &p, rr->n1, &w) != 0 || p != end) {
            return -1;
        }

        d->uncompressed += w - (rr->rdlen);
        return 0;

    case CFLB_DNS_TYPE_SOA:
        if (tdec_name(m, len, &p, rr->n1, &w) != 0) {
            return -1;
        }

        d->uncompressed += w;

        if (tdec_name(m, len, &p, rr->n2, &w) != 0 || end - p != 20) {
            return -1;
        }

        d->uncompressed += w + 20 - rr->rdlen;

        for (w = 0; w < 5; w++) {
            rr->soa[w] = tdec_32(m + p + 4 * w);
        }

        return 0;

    default:
        return 0;
    }
}


/* decodes a whole response; rr must hold TDEC_RRS records; 0 or -1 */

static inline int
tdec_msg(const unsigned char *m, size_t len, tdec_msg_t *d, tdec_rr_t *rr)
{
    size_t      p, start, w;
    unsigned    i, k, sec;
    tdec_rr_t   scratch, *r;

    memset(d, 0, sizeof(tdec_msg_t));
    d->rr = rr;

    if (len < 12) {
        return -1;
    }

    d->id = tdec_16(m);
    d->flags = tdec_16(m + 2);

    for (i = 0; i < 4; i++) {
        d->count[i] = tdec_16(m + 4 + 2 * i);
    }

    d->uncompressed = len;
    p = 12;

    for (i = 0; i < d->count[0]; i++) {
        start = p;

        if (tdec_name(m, len, &p, i ? scratch.name : d->qname, &w) != 0
            || len - p < 4)
        {
            return -1;
        }

        if (i == 0) {
            d->qname_off = start;
            d->qname_len = p - start;
            d->qtype = tdec_16(m + p);
            d->qclass = tdec_16(m + p + 2);
        }

        d->uncompressed += w - (p - start);
        p += 4;
    }

    for (sec = 0; sec < 3; sec++) {
        for (k = 0; k < d->count[1 + sec]; k++) {
            r = d->nrr < TDEC_RRS ? &rr[d->nrr] : &scratch;
            memset(r, 0, sizeof(tdec_rr_t));

            start = p;

            if (tdec_name(m, len, &p, r->name, &w) != 0 || len - p < 10) {
                return -1;
            }

            d->uncompressed += w - (p - start);

            r->section = sec;
            r->type = tdec_16(m + p);
            r->cls = tdec_16(m + p + 2);
            r->ttl = tdec_32(m + p + 4);
            r->rdlen = tdec_16(m + p + 8);
            p += 10;

            if (len - p < r->rdlen) {
                return -1;
            }

            r->rdata = m + p;

            if (r->type == CFLB_DNS_TYPE_OPT) {
                if (sec != 2 || d->opt || m[start] != 0
                    || tdec_opt(m, p, r->rdlen, d) != 0)
                {
                    return -1;
                }

                d->opt = 1;
                d->opt_size = r->cls;
                d->opt_ext_rcode = r->ttl >> 24;
                d->opt_version = (r->ttl >> 16) & 0xff;
                d->opt_flags = r->ttl & 0xffff;

            } else {
                if (tdec_rdata(m, len, p, r, d) != 0) {
                    return -1;
                }

                d->nrr++;
            }

            p += r->rdlen;
        }
    }

    return p == len ? 0 : -1;
}


/* ASCII case-insensitive equality of two C strings */

static inline int
tdec_eq(const char *a, const char *b)
{
    unsigned char  x, y;

    for ( ;; a++, b++) {
        x = (unsigned char) *a;
        y = (unsigned char) *b;

        if (x >= 'A' && x <= 'Z') {
            x += 32;
        }

        if (y >= 'A' && y <= 'Z') {
            y += 32;
        }

        if (x != y) {
            return 0;
        }

        if (x == '\0') {
            return 1;
        }
    }
}


/* a query: "a.b.c" or "" (root), no escapes */

typedef struct {
    unsigned              id;
    unsigned              flags;
    const char           *name;
    unsigned              qtype;
    int                   edns;
    unsigned              udp;
    unsigned              version;
    int                   do_bit;
    const unsigned char  *opts;
    size_t                olen;
} tdec_query_t;


static inline size_t
tdec_put_name(unsigned char *b, const char *s)
{
    size_t       o, n;
    const char  *dot;

    o = 0;

    while (*s != '\0' && strcmp(s, ".") != 0) {
        dot = strchr(s, '.');
        n = dot ? (size_t) (dot - s) : strlen(s);

        b[o++] = (unsigned char) n;
        memcpy(b + o, s, n);
        o += n;
        s += n;

        if (*s == '.') {
            s++;
        }
    }

    b[o++] = 0;

    return o;
}


static inline size_t
tdec_query(unsigned char *b, const tdec_query_t *tq)
{
    size_t  o;

    memset(b, 0, 12);
    b[0] = (unsigned char) (tq->id >> 8);
    b[1] = (unsigned char) tq->id;
    b[2] = (unsigned char) (tq->flags >> 8);
    b[3] = (unsigned char) tq->flags;
    b[5] = 1;
    b[11] = tq->edns ? 1 : 0;

    o = 12 + tdec_put_name(b + 12, tq->name);

    b[o++] = (unsigned char) (tq->qtype >> 8);
    b[o++] = (unsigned char) tq->qtype;
    b[o++] = 0;
    b[o++] = 1;

    if (tq->edns) {
        b[o++] = 0;
        b[o++] = 0;
        b[o++] = 41;
        b[o++] = (unsigned char) (tq->udp >> 8);
        b[o++] = (unsigned char) tq->udp;
        b[o++] = 0;
        b[o++] = (unsigned char) tq->version;
        b[o++] = tq->do_bit ? 0x80 : 0;
        b[o++] = 0;
        b[o++] = (unsigned char) (tq->olen >> 8);
        b[o++] = (unsigned char) tq->olen;

        if (tq->olen) {
            memcpy(b + o, tq->opts, tq->olen);
            o += tq->olen;
        }
    }

    return o;
}


/* an ECS option: code, length, family, source, scope, address bytes */

static inline size_t
tdec_ecs(unsigned char *o, unsigned family, unsigned source, unsigned scope,
    const unsigned char *addr, size_t alen)
{
    o[0] = 0;
    o[1] = 8;
    o[2] = (unsigned char) ((4 + alen) >> 8);
    o[3] = (unsigned char) (4 + alen);
    o[4] = (unsigned char) (family >> 8);
    o[5] = (unsigned char) family;
    o[6] = (unsigned char) source;
    o[7] = (unsigned char) scope;

    if (alen) {
        memcpy(o + 8, addr, alen);
    }

    return 8 + alen;
}


#endif /* _CFLB_DNS_TDEC_H_INCLUDED_ */
