
/*
 * cflb_dns fuzz target: cflb_dns_parse() on the input, then a typical
 * answer for whatever it parsed (A, AAAA, CNAME, NS or SOA records,
 * an SOA in authority, the rcode it returned), written into a buffer of
 * exactly the limit (so ASan sees a byte written past it), again in
 * place in the query's own buffer (the two must match), and decoded by
 * the independent decoder of cflb_dns_tdec.h.  The question name goes
 * through the name helpers (text and back, hash, zone) and the name
 * table (found under its parent, then itself, in any case), and the input
 * also goes to cflb_dns_name_from_text() as text.  Beyond the
 * sanitizers, it aborts when a result breaks the documented contract.
 *
 * Input: byte 0 picks TCP (bit 0), our EDNS size (bit 1: 4096, else
 * 1232) and the scope (bits 2-7); the rest is the packet.
 *
 * Built with -DCFLB_LIBFUZZER it is a libFuzzer target ("make fuzz").
 * Otherwise main() is a driver:
 *
 *     cflb_dns_fuzz               built-in seeds and their mutations
 *     cflb_dns_fuzz FILE...       each file as one input
 *     cflb_dns_fuzz -seeds DIR    write the seeds there, a corpus
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_core.h"
#include "cflb_dns.h"
#include "cflb_dns_table.h"
#include "cflb_dns_tdec.h"
#include "cflb_fuzz_driver.h"


typedef struct {
    const unsigned char  *owner[8];        /* NULL: the question */
    const unsigned char  *target[8];       /* CNAME, NS, SOA mname */
    unsigned              type[8];
    unsigned              section[8];
    unsigned              n;
    unsigned              declined;
    unsigned char         ns[CFLB_DNS_NAME_MAX];
    unsigned char         host[CFLB_DNS_NAME_MAX];
} cflb_fuzz_rrs_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cflb_fuzz_query(const cflb_dns_query_t *q, int rc,
    const unsigned char *pkt, size_t len);
static size_t cflb_fuzz_answer(const cflb_dns_query_t *q, int rc,
    unsigned char *buf, size_t limit, unsigned scope, cflb_fuzz_rrs_t *rrs);
static void cflb_fuzz_add(cflb_fuzz_rrs_t *rrs, int rc, unsigned type,
    unsigned section, const unsigned char *owner,
    const unsigned char *target);
static void cflb_fuzz_response(const cflb_dns_query_t *q, int rc,
    const unsigned char *m, size_t len, size_t limit, unsigned scope,
    const cflb_fuzz_rrs_t *rrs);
static void cflb_fuzz_name(const unsigned char *name, size_t len);
static void cflb_fuzz_table(const unsigned char *name,
    const unsigned char *low, size_t len, size_t labels);
static void *cflb_fuzz_alloc(void *data, size_t size);
static void cflb_fuzz_free(void *data, void *p);
static void cflb_fuzz_text(const unsigned char *s, size_t len);
static void cflb_fuzz_fail(const char *what);


static const unsigned char  cflb_fuzz_ip[16] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc;
    size_t             len, limit, rlen, ilen, n;
    unsigned           ctl, scope;
    unsigned char     *pkt, *out, *inplace;
    cflb_dns_query_t   q, q2;
    cflb_fuzz_rrs_t    rrs, rrs2;

    if (size < 1) {
        return 0;
    }

    ctl = data[0];
    scope = ctl >> 2;
    len = size - 1;

    /* an exact copy: ASan then sees any read past the packet */

    pkt = malloc(len ? len : 1);

    if (pkt == NULL) {
        cflb_fuzz_fail("out of memory");
    }

    memcpy(pkt, data + 1, len);

    rc = cflb_dns_parse(pkt, len, &q);

    cflb_fuzz_query(&q, rc, pkt, len);

    if (rc != CFLB_DECLINED) {
        limit = cflb_dns_limit(&q, (ctl & 2) ? 4096 : 1232, ctl & 1);

        if (limit > CFLB_DNS_TCP_MAX
            || limit < (q.edns ? q.udp_size < 1232 ? q.udp_size : 1232
                               : 512))
        {
            cflb_fuzz_fail("limit");
        }

        out = malloc(limit);

        if (out == NULL) {
            cflb_fuzz_fail("out of memory");
        }

        rlen = cflb_fuzz_answer(&q, rc, out, limit, scope, &rrs);
        cflb_fuzz_response(&q, rc, out, rlen, limit, scope, &rrs);

        /* the same answer written over the query itself */

        inplace = malloc(len > limit ? len : limit);

        if (inplace == NULL) {
            cflb_fuzz_fail("out of memory");
        }

        memcpy(inplace, pkt, len);

        if (cflb_dns_parse(inplace, len, &q2) != rc) {
            cflb_fuzz_fail("parse: not repeatable");
        }

        ilen = cflb_fuzz_answer(&q2, rc, inplace, limit, scope, &rrs2);

        if (ilen != rlen || memcmp(inplace, out, rlen) != 0) {
            cflb_fuzz_fail("write: in place differs");
        }

        free(inplace);
        free(out);
    }

    if (q.qname_len) {
        cflb_fuzz_name(q.qname, q.qname_len);
    }

    cflb_fuzz_text(pkt, len);

    if (cflb_dns_tcp_frame(pkt, len, &n) == CFLB_OK && n > len - 2) {
        cflb_fuzz_fail("tcp frame");
    }

    free(pkt);

    return 0;
}


/* what cflb_dns_parse() promises about *q and its result */

static void
cflb_fuzz_query(const cflb_dns_query_t *q, int rc, const unsigned char *pkt,
    size_t len)
{
    unsigned  max;

    switch (rc) {

    case CFLB_DECLINED:
        if (len >= 12 && !(pkt[2] & 0x80)) {
            cflb_fuzz_fail("parse: dropped a query");
        }

        return;

    case CFLB_OK:
        if (q->qname_len == 0 || ((q->flags >> 11) & 0xf) != 0
            || pkt[4] != 0 || pkt[5] != 1 || q->edns_version != 0
            || (q->qtype >= 128 && q->qtype <= 254))
        {
            cflb_fuzz_fail("parse: accepted what it must refuse");
        }

        break;

    case CFLB_DNS_BADVERS:
        if (!q->edns || q->edns_version == 0) {
            cflb_fuzz_fail("parse: BADVERS without a version");
        }

        break;

    case CFLB_DNS_FORMERR:
    case CFLB_DNS_NOTIMP:
        break;

    default:
        cflb_fuzz_fail("parse: return code");
    }

    if (len < 12 || q->id != (pkt[0] << 8 | pkt[1])) {
        cflb_fuzz_fail("parse: id");
    }

    if (q->qname_len
        && (q->qname != pkt + 12 || q->qname_len > CFLB_DNS_NAME_MAX
            || cflb_dns_name_len(q->qname) != q->qname_len
            || 12 + q->qname_len + 4 > len))
    {
        cflb_fuzz_fail("parse: qname");
    }

    if (q->udp_size < 512 || (!q->edns && (q->udp_size != 512 || q->ecs))) {
        cflb_fuzz_fail("parse: EDNS");
    }

    if (q->ecs) {
        max = q->ecs_family == 1 ? 32 : q->ecs_family == 2 ? 128 : 0;

        if (q->ecs_source > max
            || ((q->ecs_source & 7)
                && (q->ecs_addr[q->ecs_source / 8]
                    & (0xff >> (q->ecs_source & 7))))
            || (q->ecs_source < 128
                && q->ecs_addr[(q->ecs_source + 7) / 8] != 0))
        {
            cflb_fuzz_fail("parse: ECS");
        }
    }
}


/*
 * A typical answer, as the responder would write it: records for the
 * qtype owned by the question, names under the question's parent as
 * the zone, an SOA in authority for the odd qtypes.
 */

static size_t
cflb_fuzz_answer(const cflb_dns_query_t *q, int rc, unsigned char *buf,
    size_t limit, unsigned scope, cflb_fuzz_rrs_t *rrs)
{
    int                   r;
    size_t                zlen;
    cflb_dns_soa_t        soa;
    cflb_dns_writer_t     w;
    unsigned char        *ns, *host;
    const unsigned char  *zone;

    /* the names outlive this call: the checks compare with them */

    memset(rrs, 0, sizeof(cflb_fuzz_rrs_t));
    ns = rrs->ns;
    host = rrs->host;

    r = cflb_dns_begin(&w, q, buf, limit, rc == CFLB_OK ? 0 : (unsigned) rc,
                       CFLB_DNS_AA);

    if (r != CFLB_OK) {
        cflb_fuzz_fail("begin");
    }

    if (rc != CFLB_OK) {
        return cflb_dns_finish(&w, 1232, scope);
    }

    zone = q->qname;
    zlen = q->qname_len;

    if (zone[0] != 0) {
        zlen -= zone[0] + 1;
        zone += zone[0] + 1;
    }

    /* "\3ns1" and "\12hostmaster" before the zone, when they fit */

    memcpy(ns, "\3ns1", 4);
    memcpy(host, "\12hostmaster", 11);

    if (zlen + 11 <= CFLB_DNS_NAME_MAX) {
        memcpy(ns + 4, zone, zlen);
        memcpy(host + 11, zone, zlen);

    } else {
        memcpy(ns, zone, zlen);
        memcpy(host, zone, zlen);
    }

    soa.mname = ns;
    soa.rname = host;
    soa.serial = 1;
    soa.refresh = 2;
    soa.retry = 3;
    soa.expire = 4;
    soa.minimum = 5;

    switch (q->qtype % 6) {

    case 0:
        cflb_fuzz_add(rrs, cflb_dns_add_a(&w, 0, NULL, 30, cflb_fuzz_ip),
                      1, 0, NULL, NULL);
        cflb_fuzz_add(rrs, cflb_dns_add_a(&w, 0, NULL, 30, cflb_fuzz_ip),
                      1, 0, NULL, NULL);
        cflb_fuzz_add(rrs, cflb_dns_add_a(&w, 0, NULL, 30, cflb_fuzz_ip),
                      1, 0, NULL, NULL);
        break;

    case 1:
        cflb_fuzz_add(rrs, cflb_dns_add_aaaa(&w, 0, NULL, 30, cflb_fuzz_ip),
                      28, 0, NULL, NULL);
        break;

    case 2:
        cflb_fuzz_add(rrs, cflb_dns_add_cname(&w, 0, NULL, 30, host),
                      5, 0, NULL, host);
        cflb_fuzz_add(rrs, cflb_dns_add_a(&w, 0, host, 30, cflb_fuzz_ip),
                      1, 0, host, NULL);
        break;

    case 3:
        cflb_fuzz_add(rrs, cflb_dns_add_ns(&w, 0, zone, 30, ns), 2, 0, zone,
                      ns);
        cflb_fuzz_add(rrs, cflb_dns_add_ns(&w, 0, zone, 30, host), 2, 0,
                      zone, host);
        break;

    case 4:
        cflb_fuzz_add(rrs, cflb_dns_add_soa(&w, 0, zone, 30, &soa), 6, 0,
                      zone, ns);
        break;

    default:
        break;
    }

    if (q->qtype & 1) {
        cflb_fuzz_add(rrs, cflb_dns_add_soa(&w, 1, zone, 5, &soa), 6, 1,
                      zone, ns);
    }

    if (cflb_dns_truncated(&w) != (rrs->declined != 0)) {
        cflb_fuzz_fail("write: truncated");
    }

    return cflb_dns_finish(&w, 1232, scope);
}


static void
cflb_fuzz_add(cflb_fuzz_rrs_t *rrs, int rc, unsigned type, unsigned section,
    const unsigned char *owner, const unsigned char *target)
{
    if (rc == CFLB_DECLINED) {
        rrs->declined++;
        return;
    }

    if (rc != CFLB_OK || rrs->declined) {
        cflb_fuzz_fail("write: add");
    }

    rrs->owner[rrs->n] = owner;
    rrs->target[rrs->n] = target;
    rrs->type[rrs->n] = type;
    rrs->section[rrs->n] = section;
    rrs->n++;
}


static void
cflb_fuzz_response(const cflb_dns_query_t *q, int rc, const unsigned char *m,
    size_t len, size_t limit, unsigned scope, const cflb_fuzz_rrs_t *rrs)
{
    size_t       i, w, pos;
    unsigned     max;
    tdec_msg_t   d;
    tdec_rr_t    rr[TDEC_RRS];
    char         want[TDEC_NAME];

    if (len > limit || tdec_msg(m, len, &d, rr) != 0) {
        cflb_fuzz_fail("response: does not decode");
    }

    if (d.id != q->id
        || (d.flags & 0xf97f) != (0x8000 | (q->flags & 0x7910)
                                  | (rc == CFLB_OK ? 0 : (unsigned) rc & 0xf))
        || !(d.flags & 0x0400)
        || ((d.flags & 0x0200) != 0) != (rrs->declined != 0))
    {
        cflb_fuzz_fail("response: header");
    }

    if (d.count[0] != (q->qname_len ? 1u : 0u)
        || (q->qname_len
            && (d.qname_len != q->qname_len
                || memcmp(m + 12, q->qname, q->qname_len) != 0
                || d.qtype != q->qtype || d.qclass != q->qclass)))
    {
        cflb_fuzz_fail("response: question");
    }

    if (d.nrr != (rrs->declined ? 0 : rrs->n)) {
        cflb_fuzz_fail("response: records");
    }

    for (i = 0; i < d.nrr && i < TDEC_RRS; i++) {
        if (rr[i].type != rrs->type[i] || rr[i].section != rrs->section[i]) {
            cflb_fuzz_fail("response: record type");
        }

        pos = 0;

        if (rrs->owner[i] == NULL) {
            strcpy(want, d.qname);

        } else if (tdec_name(rrs->owner[i], CFLB_DNS_NAME_MAX, &pos, want,
                             &w) != 0)
        {
            cflb_fuzz_fail("response: owner");
        }

        if (!tdec_eq(rr[i].name, want)) {
            cflb_fuzz_fail("response: owner name");
        }

        if (rrs->target[i] != NULL) {
            pos = 0;

            if (tdec_name(rrs->target[i], CFLB_DNS_NAME_MAX, &pos, want, &w)
                != 0 || !tdec_eq(rr[i].n1, want))
            {
                cflb_fuzz_fail("response: rdata name");
            }
        }
    }

    if (d.opt != q->edns) {
        cflb_fuzz_fail("response: OPT");
    }

    if (d.opt) {
        max = q->ecs_family == 1 ? 32 : 128;

        if (d.opt_ext_rcode != (rc == CFLB_OK ? 0 : (unsigned) rc >> 4)
            || d.opt_version != 0 || d.opt_size != 1232
            || d.opt_flags != (q->dnssec_ok ? 0x8000u : 0u)
            || d.ecs != q->ecs
            || (d.ecs
                && (d.ecs_family != q->ecs_family
                    || d.ecs_source != q->ecs_source
                    || d.ecs_alen != (q->ecs_source + 7u) / 8
                    || memcmp(d.ecs_addr, q->ecs_addr, d.ecs_alen) != 0
                    || d.ecs_scope != (q->ecs_source == 0 ? 0
                                       : scope > max ? max : scope))))
        {
            cflb_fuzz_fail("response: OPT fields");
        }
    }
}


/* the question name through the name helpers */

static void
cflb_fuzz_name(const unsigned char *name, size_t len)
{
    size_t          i, n, wl, labels;
    unsigned char   text[CFLB_DNS_NAME_TEXT_MAX], wire[CFLB_DNS_NAME_MAX];
    unsigned char   low[CFLB_DNS_NAME_MAX];

    n = cflb_dns_name_to_text(name, len, text, sizeof(text), 0);

    if (n == 0
        || cflb_dns_name_from_text(text, n, wire, &wl, NULL) != CFLB_OK
        || wl != len || memcmp(wire, name, len) != 0)
    {
        cflb_fuzz_fail("name: text round trip");
    }

    for (i = 0; i < len; i++) {
        low[i] = (name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i];
    }

    n = cflb_dns_name_to_text(name, len, text, sizeof(text),
                              CFLB_DNS_TEXT_LOWER);

    if (n == 0
        || cflb_dns_name_from_text(text, n, wire, &wl, NULL) != CFLB_OK
        || wl != len || memcmp(wire, low, len) != 0
        || !cflb_dns_name_eq(wire, wl, name, len))
    {
        cflb_fuzz_fail("name: lowercase round trip");
    }

    if (cflb_dns_name_hash(name, len, 7) != cflb_dns_name_hash(low, len, 7))
    {
        cflb_fuzz_fail("name: hash");
    }

    for (i = 0, labels = 0; name[i] != 0; i += name[i] + 1) {
        labels++;
    }

    if (cflb_dns_name_under(name, len, name, len) != 0
        || cflb_dns_name_under(name, len, (unsigned char *) "", 1)
           != (int) labels
        || (labels
            && cflb_dns_name_under(low, len, name + name[0] + 1,
                                   len - name[0] - 1) != 1))
    {
        cflb_fuzz_fail("name: under");
    }

    cflb_fuzz_table(name, low, len, labels);
}


/* the name table: the parent held, then the name itself (lowercase) */

static void
cflb_fuzz_table(const unsigned char *name, const unsigned char *low,
    size_t len, size_t labels)
{
    int                 parent, self;
    void              **slot;
    size_t              off;
    cflb_allocator_t    a;
    cflb_dns_table_t    tb;

    a.alloc = cflb_fuzz_alloc;
    a.free = cflb_fuzz_free;
    a.data = NULL;

    if (cflb_dns_table_init(&tb, 2, 3, &a) != CFLB_OK) {
        cflb_fuzz_fail("table: init");
    }

    if (labels) {
        slot = cflb_dns_table_put(&tb, name + name[0] + 1,
                                  len - name[0] - 1, &a);
        if (slot == NULL) {
            cflb_fuzz_fail("table: put the parent");
        }

        *slot = &parent;

        if (cflb_dns_table_closest(&tb, name, len, &off) != &parent
            || off != (size_t) name[0] + 1
            || cflb_dns_table_get(&tb, name, len) != NULL)
        {
            cflb_fuzz_fail("table: the parent is closest");
        }
    }

    slot = cflb_dns_table_put(&tb, low, len, &a);
    if (slot == NULL) {
        cflb_fuzz_fail("table: put the name");
    }

    *slot = &self;

    if (cflb_dns_table_get(&tb, name, len) != &self
        || cflb_dns_table_closest(&tb, name, len, &off) != &self
        || off != 0)
    {
        cflb_fuzz_fail("table: the name in any case");
    }

    cflb_dns_table_free(&tb, &a);
}


static void *
cflb_fuzz_alloc(void *data, size_t size)
{
    (void) data;

    return malloc(size);
}


static void
cflb_fuzz_free(void *data, void *p)
{
    (void) data;

    free(p);
}


/* the input as configuration text */

static void
cflb_fuzz_text(const unsigned char *s, size_t len)
{
    size_t          n, wl, wl2;
    cflb_err_t      err;
    unsigned char   wire[CFLB_DNS_NAME_MAX], wire2[CFLB_DNS_NAME_MAX];
    unsigned char   text[CFLB_DNS_NAME_TEXT_MAX];

    err.msg = NULL;
    err.offset = (size_t) -1;

    if (cflb_dns_name_from_text(s, len, wire, &wl, &err) != CFLB_OK) {
        if (err.msg == NULL || (len && err.offset >= len)) {
            cflb_fuzz_fail("text: error");
        }

        return;
    }

    if (wl == 0 || cflb_dns_name_len(wire) != wl) {
        cflb_fuzz_fail("text: wire");
    }

    n = cflb_dns_name_to_text(wire, wl, text, sizeof(text), 0);

    if (n == 0
        || cflb_dns_name_from_text(text, n, wire2, &wl2, NULL) != CFLB_OK
        || wl2 != wl || memcmp(wire, wire2, wl) != 0)
    {
        cflb_fuzz_fail("text: round trip");
    }
}


static void
cflb_fuzz_fail(const char *what)
{
    fprintf(stderr, "cflb_dns_fuzz: %s\n", what);
    abort();
}


#ifndef CFLB_LIBFUZZER


/* the control byte comes first */

static const cflb_fuzz_seed_t  cflb_fuzz_seeds[] = {

    /* dig +subnet=192.0.2.0/24 wWw.ExAmple.COM A, with a cookie */
    cflb_fuzz_seed("\x60" "\x92\x8d\x01\x20\0\1\0\0\0\0\0\1"
                   "\3wWw\7ExAmple\3COM\0\0\1\0\1"
                   "\0\0\x29\x04\xd0\0\0\0\0\0\x17"
                   "\0\x08\0\x07\0\1\x18\0\xc0\0\2"
                   "\0\x0a\0\x08\xd9\x0c\xbf\x46\xf9\x53\x54\xca"),

    /* kdig +subnet=2001:db8:1234:5600::/56 +dnssec Example.com AAAA */
    cflb_fuzz_seed("\x03" "\x88\x8a\x01\x20\0\1\0\0\0\0\0\1"
                   "\7Example\3com\0\0\x1c\0\1"
                   "\0\0\x29\x10\0\0\0\x80\0\0\x0f"
                   "\0\x08\0\x0b\0\2\x38\0\x20\1\x0d\xb8\x12\x34\x56"),

    /* no EDNS: AAAA, CNAME, NS, SOA, MX */
    cflb_fuzz_seed("\x00" "\xbf\xba\x01\x20\0\1\0\0\0\0\0\0"
                   "\3www\7example\3com\0\0\x1c\0\1"),
    cflb_fuzz_seed("\x04" "\0\2\1\0\0\1\0\0\0\0\0\0"
                   "\3www\7example\3com\0\0\5\0\1"),
    cflb_fuzz_seed("\x05" "\0\3\0\0\0\1\0\0\0\0\0\0"
                   "\7example\3com\0\0\2\0\1"),
    cflb_fuzz_seed("\x06" "\0\4\0\0\0\1\0\0\0\0\0\0"
                   "\7example\3com\0\0\6\0\1"),
    cflb_fuzz_seed("\x07" "\0\5\0\0\0\1\0\0\0\0\0\0"
                   "\3www\7example\3com\0\0\x0f\0\1"),

    /* EDNS version 1 (BADVERS), DO */
    cflb_fuzz_seed("\x08" "\0\6\0\0\0\1\0\0\0\0\0\1"
                   "\3www\7example\3com\0\0\1\0\1"
                   "\0\0\x29\x10\0\0\1\x80\0\0\0"),

    /* NOTIFY (opcode 4), two questions, no question */
    cflb_fuzz_seed("\x09" "\0\7\x20\0\0\1\0\0\0\0\0\0"
                   "\7example\3com\0\0\6\0\1"),
    cflb_fuzz_seed("\x0a" "\0\x08\0\0\0\2\0\0\0\0\0\0"
                   "\1a\0\0\1\0\1\1b\0\0\1\0\1"),
    cflb_fuzz_seed("\x0b" "\0\x09\0\0\0\0\0\0\0\0\0\1"
                   "\0\0\x29\x04\xd0\0\0\0\0\0\0"),

    /* an answer record with a pointer, TSIG-like, OPT with ECS /0 */
    cflb_fuzz_seed("\x0c" "\0\1\0\0\0\1\0\1\0\0\0\2"
                   "\1a\1b\0\0\1\0\1"
                   "\xc0\x0c\0\1\0\1\0\0\0\5\0\4\1\2\3\4"
                   "\1k\0\0\xfa\0\xff\0\0\0\0\0\2\xaa\xbb"
                   "\0\0\x29\1\0\0\0\x80\0\0\x08\0\x08\0\4\0\1\0\0"),

    /* ECS with bits past the prefix; two ECS; family 3 */
    cflb_fuzz_seed("\x0d" "\0\x0a\0\0\0\1\0\0\0\0\0\1"
                   "\3www\7example\3com\0\0\1\0\1"
                   "\0\0\x29\x04\xd0\0\0\0\0\0\x0b"
                   "\0\x08\0\x07\0\1\x17\0\xc0\0\3"),
    cflb_fuzz_seed("\x0e" "\0\x0b\0\0\0\1\0\0\0\0\0\1"
                   "\3www\7example\3com\0\0\1\0\1"
                   "\0\0\x29\x04\xd0\0\0\0\0\0\x16"
                   "\0\x08\0\x07\0\1\x18\0\xc0\0\2"
                   "\0\x08\0\x07\0\1\x18\0\xc0\0\2"),
    cflb_fuzz_seed("\x0f" "\0\x0c\0\0\0\1\0\0\0\0\0\1"
                   "\3www\7example\3com\0\0\1\0\1"
                   "\0\0\x29\x04\xd0\0\0\0\0\0\x08"
                   "\0\x08\0\x04\0\3\0\0"),

    /* the root; configuration text */
    cflb_fuzz_seed("\x10" "\0\x0d\0\0\0\1\0\0\0\0\0\0" "\0\0\2\0\1"),
    cflb_fuzz_seed("\x11" "www.example.com."),
    cflb_fuzz_seed("\x12" "a\\.b\\\\c.\\065\\255.d")
};


/* the bytes a DNS parser cares about, NUL first */

static const char  cflb_fuzz_alphabet[] =
    "\x00\x01\x02\x03\x07\x08\x0c\x29\x3f\x40\x41"
    "\x5a\x61\x7f\x80\xc0\xff" ".\\09";


static const cflb_fuzz_driver_t  cflb_fuzz_driver = {
    .name = "cflb_dns_fuzz",
    .seeds = cflb_fuzz_seeds,
    .nseeds = sizeof(cflb_fuzz_seeds) / sizeof(cflb_fuzz_seeds[0]),
    .alphabet = cflb_fuzz_alphabet,
    .alphabet_len = sizeof(cflb_fuzz_alphabet) - 1,
    .run = 32,
    .repeats = 4,
    .reroll = 1,    /* a quarter with another control byte */
    .mutants = 2000,
    .max = 4096,
    .rng_seed = 1035
};


int
main(int argc, char **argv)
{
    return cflb_fuzz_main(&cflb_fuzz_driver, argc, argv);
}


#endif /* CFLB_LIBFUZZER */
