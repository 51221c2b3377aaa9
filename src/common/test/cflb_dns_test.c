
/*
 * cflb_dns_* unit tests: golden queries captured from dig and kdig, a
 * byte-exact golden answer, every conformance case of docs/dns.md
 * (drops, FORMERR, NOTIMP, BADVERS and the OPT they carry), client
 * subnet validation and echo, truncation at 512, 1232 and 65535,
 * compression checked by the decoder of cflb_dns_tdec.h, case
 * preservation, 255-byte names and 63-byte labels, and random packets
 * that must never read out of bounds (ASan).  The name helpers are in
 * cflb_dns_name_test.c.
 *
 *     cflb_dns_test             run the checks
 *     cflb_dns_test -dump DIR   also write some responses to DIR, as
 *                               NAME.bin files,
 *                               for cflb_dns_interop.py
 */


#define _POSIX_C_SOURCE  200809L

#include <errno.h>
#include <sys/stat.h>

#include "cflb_test.h"
#include "cflb_dns.h"
#include "cflb_dns_tdec.h"


#define T_BUF    65536
#define T_TTL    30


typedef struct {
    cflb_test_t           t;
    const char           *dump;            /* directory, or NULL */
    unsigned char        *buf;             /* T_BUF bytes */
    tdec_msg_t            d;
    tdec_rr_t            *rr;
} tctx_t;


static const unsigned char  t_ip4[3][4] = {
    { 192, 0, 2, 1 }, { 192, 0, 2, 2 }, { 192, 0, 2, 3 }
};

static const unsigned char  t_ip6[16] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};

/* example.com, ns1.example.com, ns2.example.com, hostmaster.example.com */
static const unsigned char  t_zone[] = "\7example\3com";
static const unsigned char  t_ns1[] = "\3ns1\7example\3com";
static const unsigned char  t_ns2[] = "\3ns2\7example\3com";
static const unsigned char  t_host[] = "\12hostmaster\7example\3com";


static void
t_soa(cflb_dns_soa_t *soa)
{
    soa->mname = t_ns1;
    soa->rname = t_host;
    soa->serial = 2024010101;
    soa->refresh = 7200;
    soa->retry = 900;
    soa->expire = 1209600;
    soa->minimum = 300;
}


static void
t_dump(tctx_t *c, const char *name, const unsigned char *m, size_t len)
{
    FILE  *f;
    char   path[512];

    if (c->dump == NULL) {
        return;
    }

    snprintf(path, sizeof(path), "%s/%s.bin", c->dump, name);

    f = fopen(path, "wb");

    if (f == NULL || fwrite(m, 1, len, f) != len) {
        cflb_check_msg(&c->t, 0, "cannot write %s", path);
    }

    if (f != NULL) {
        fclose(f);
    }
}


/* parses from an exact-size heap copy, so ASan sees any overread */

static int
t_parse(const unsigned char *pkt, size_t len, cflb_dns_query_t *q,
    unsigned char **copy)
{
    *copy = malloc(len ? len : 1);

    if (*copy == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    memcpy(*copy, pkt, len);

    return cflb_dns_parse(*copy, len, q);
}


static int
t_rc(const unsigned char *pkt, size_t len)
{
    int                rc;
    unsigned char     *copy;
    cflb_dns_query_t   q;

    rc = t_parse(pkt, len, &q, &copy);
    free(copy);

    return rc;
}


/* the rcode a query gets, and its response decoded into c->d */

static int
t_respond(tctx_t *c, const unsigned char *pkt, size_t len,
    cflb_dns_query_t *q, size_t *rlen)
{
    int                 rc;
    unsigned char      *copy;
    cflb_dns_writer_t   w;

    rc = t_parse(pkt, len, q, &copy);

    *rlen = 0;

    if (rc != CFLB_DECLINED) {
        if (cflb_dns_begin(&w, q, c->buf, 512, rc == CFLB_OK ? 0 : rc, 0)
            != CFLB_OK)
        {
            cflb_check_msg(&c->t, 0, "begin failed for rcode %d", rc);
            free(copy);
            return rc;
        }

        *rlen = cflb_dns_finish(&w, CFLB_DNS_EDNS_SIZE, 0);

        cflb_check(&c->t, tdec_msg(c->buf, *rlen, &c->d, c->rr) == 0);
    }

    free(copy);

    return rc;
}


static void
t_golden_dig(tctx_t *c)
{
    size_t              len;
    unsigned char      *copy;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    /* dig 9.18 +subnet=192.0.2.0/24 wWw.ExAmple.COM A: ECS and a cookie */
    static const unsigned char  query[] = {
        0x92, 0x8d, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x03, 0x77, 0x57, 0x77, 0x07, 0x45, 0x78, 0x41, 0x6d, 0x70,
        0x6c, 0x65, 0x03, 0x43, 0x4f, 0x4d, 0x00, 0x00, 0x01, 0x00, 0x01,
        0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17,
        0x00, 0x08, 0x00, 0x07, 0x00, 0x01, 0x18, 0x00, 0xc0, 0x00, 0x02,
        0x00, 0x0a, 0x00, 0x08, 0xd9, 0x0c, 0xbf, 0x46, 0xf9, 0x53, 0x54,
        0xca
    };

    /* AA, RD copied, AD not; three A records owned by a pointer to 12 */
    static const unsigned char  answer[] = {
        0x92, 0x8d, 0x85, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,
        0x01, 0x03, 0x77, 0x57, 0x77, 0x07, 0x45, 0x78, 0x41, 0x6d, 0x70,
        0x6c, 0x65, 0x03, 0x43, 0x4f, 0x4d, 0x00, 0x00, 0x01, 0x00, 0x01,
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00,
        0x04, 0xc0, 0x00, 0x02, 0x01,
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00,
        0x04, 0xc0, 0x00, 0x02, 0x02,
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00,
        0x04, 0xc0, 0x00, 0x02, 0x03,
        0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b,
        0x00, 0x08, 0x00, 0x07, 0x00, 0x01, 0x18, 0x18, 0xc0, 0x00, 0x02
    };

    cflb_check(&c->t, t_parse(query, sizeof(query), &q, &copy) == CFLB_OK);
    cflb_check(&c->t, q.id == 0x928d && q.flags == 0x0120);
    cflb_check(&c->t, q.qname == copy + 12 && q.qname_len == 17);
    cflb_check(&c->t, memcmp(q.qname, "\3wWw\7ExAmple\3COM", 17) == 0);
    cflb_check(&c->t, q.qtype == CFLB_DNS_TYPE_A && q.qclass == 1);
    cflb_check(&c->t, q.edns && q.udp_size == 1232 && q.edns_version == 0);
    cflb_check(&c->t, !q.dnssec_ok);
    cflb_check(&c->t, q.ecs && q.ecs_family == 1 && q.ecs_source == 24
                      && q.ecs_scope == 0);
    cflb_check(&c->t, memcmp(q.ecs_addr, "\300\0\2\0\0", 5) == 0);
    cflb_check(&c->t, cflb_dns_limit(&q, CFLB_DNS_EDNS_SIZE, 0) == 1232);

    cflb_check(&c->t, cflb_dns_begin(&w, &q, c->buf,
                                     cflb_dns_limit(&q, 1232, 0), 0,
                                     CFLB_DNS_AA) == CFLB_OK);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, T_TTL, t_ip4[0]) == 0);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, T_TTL, t_ip4[1]) == 0);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, T_TTL, t_ip4[2]) == 0);

    len = cflb_dns_finish(&w, CFLB_DNS_EDNS_SIZE, 24);

    cflb_check_msg(&c->t, len == sizeof(answer), "len %zu", len);
    cflb_check(&c->t, len == sizeof(answer)
                      && memcmp(c->buf, answer, len) == 0);
    cflb_check(&c->t, !cflb_dns_truncated(&w));

    t_dump(c, "dig_a3_ecs", c->buf, len);
    free(copy);
}


static void
t_golden_kdig(tctx_t *c)
{
    size_t              len;
    unsigned char      *copy;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    /* kdig +subnet=2001:db8:1234:5600::/56 +dnssec Example.com AAAA */
    static const unsigned char  query[] = {
        0x88, 0x8a, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x07, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
        0x6f, 0x6d, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x29, 0x10,
        0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0f, 0x00, 0x08, 0x00, 0x0b,
        0x00, 0x02, 0x38, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56
    };

    cflb_check(&c->t, t_parse(query, sizeof(query), &q, &copy) == CFLB_OK);
    cflb_check(&c->t, q.qtype == CFLB_DNS_TYPE_AAAA && q.qname_len == 13);
    cflb_check(&c->t, q.edns && q.udp_size == 4096 && q.dnssec_ok);
    cflb_check(&c->t, q.ecs && q.ecs_family == 2 && q.ecs_source == 56);
    cflb_check(&c->t, memcmp(q.ecs_addr, "\x20\x01\x0d\xb8\x12\x34\x56\0",
                             8) == 0);

    /* the client's 4096 is capped at our 1232 */
    cflb_check(&c->t, cflb_dns_limit(&q, CFLB_DNS_EDNS_SIZE, 0) == 1232);
    cflb_check(&c->t, cflb_dns_limit(&q, 8192, 0) == 4096);
    cflb_check(&c->t, cflb_dns_limit(&q, 1232, 1) == 65535);

    cflb_dns_begin(&w, &q, c->buf, cflb_dns_limit(&q, 1232, 0), 0,
                   CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_aaaa(&w, 0, NULL, T_TTL, t_ip6) == 0);
    len = cflb_dns_finish(&w, CFLB_DNS_EDNS_SIZE, 48);

    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.id == 0x888a && c->d.flags == 0x8500);
    cflb_check(&c->t, strcmp(c->d.qname, "Example.com.") == 0);
    cflb_check(&c->t, c->d.nrr == 1 && c->rr[0].type == 28
                      && c->rr[0].ttl == T_TTL
                      && memcmp(c->rr[0].rdata, t_ip6, 16) == 0
                      && strcmp(c->rr[0].name, "Example.com.") == 0);
    cflb_check(&c->t, c->d.opt && c->d.opt_size == 1232
                      && c->d.opt_flags == 0x8000 && c->d.opt_version == 0
                      && c->d.opt_ext_rcode == 0);
    cflb_check(&c->t, c->d.ecs && c->d.ecs_family == 2
                      && c->d.ecs_source == 56 && c->d.ecs_scope == 48
                      && c->d.ecs_alen == 7
                      && memcmp(c->d.ecs_addr, query + 48, 7) == 0);

    t_dump(c, "kdig_aaaa_ecs6_do", c->buf, len);
    free(copy);
}


/* dig +noedns www.example.com AAAA, answered NODATA with the SOA */

static void
t_nodata(tctx_t *c)
{
    size_t              len;
    unsigned char      *copy;
    cflb_dns_soa_t      soa;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    static const unsigned char  query[] = {
        0xbf, 0xba, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70,
        0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x1c, 0x00, 0x01
    };

    cflb_check(&c->t, t_parse(query, sizeof(query), &q, &copy) == CFLB_OK);
    cflb_check(&c->t, !q.edns && q.udp_size == 512);
    cflb_check(&c->t, cflb_dns_limit(&q, 1232, 0) == 512);

    t_soa(&soa);

    cflb_dns_begin(&w, &q, c->buf, 512, CFLB_DNS_NOERROR, CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_soa(&w, CFLB_DNS_AUTHORITY, t_zone,
                                       soa.minimum, &soa) == CFLB_OK);
    len = cflb_dns_finish(&w, 1232, 0);

    /* owner: pointer to "example" at 16; ns1 + pointer; hostmaster + ptr */
    cflb_check_msg(&c->t, len == 12 + 21 + 2 + 10 + 6 + 13 + 20,
                   "len %zu", len);
    cflb_check(&c->t, memcmp(c->buf + 33, "\xc0\x10\0\6\0\1\0\0\1\x2c\0\x27"
                             "\3ns1\xc0\x10\12hostmaster\xc0\x10", 31) == 0);

    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.flags == 0x8500 && !c->d.opt);
    cflb_check(&c->t, c->d.count[1] == 0 && c->d.count[2] == 1
                      && c->d.count[3] == 0);
    cflb_check(&c->t, c->d.nrr == 1 && c->rr[0].section == 1
                      && c->rr[0].type == CFLB_DNS_TYPE_SOA
                      && c->rr[0].ttl == 300
                      && strcmp(c->rr[0].name, "example.com.") == 0
                      && strcmp(c->rr[0].n1, "ns1.example.com.") == 0
                      && strcmp(c->rr[0].n2, "hostmaster.example.com.") == 0
                      && c->rr[0].soa[0] == 2024010101
                      && c->rr[0].soa[1] == 7200 && c->rr[0].soa[2] == 900
                      && c->rr[0].soa[3] == 1209600
                      && c->rr[0].soa[4] == 300);

    t_dump(c, "nodata_soa", c->buf, len);
    free(copy);
}


static void
t_nxdomain_refused(tctx_t *c)
{
    size_t              len;
    unsigned char       pkt[512], *copy;
    cflb_dns_soa_t      soa;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(&tq, 0, sizeof(tq));
    tq.id = 7;
    tq.flags = 0x0100;
    tq.name = "nope.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 1232;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    t_soa(&soa);
    cflb_dns_begin(&w, &q, c->buf, 1232, CFLB_DNS_NXDOMAIN, CFLB_DNS_AA);
    cflb_dns_add_soa(&w, CFLB_DNS_AUTHORITY, t_zone, 300, &soa);
    len = cflb_dns_finish(&w, 1232, 0);

    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.flags == 0x8503 && c->d.opt && !c->d.ecs);
    cflb_check(&c->t, c->d.opt_ext_rcode == 0 && c->d.opt_options == 0);
    cflb_check(&c->t, c->d.nrr == 1 && c->rr[0].section == 1
                      && strcmp(c->rr[0].name, "example.com.") == 0);
    t_dump(c, "nxdomain_soa", c->buf, len);
    free(copy);

    /* outside every zone: REFUSED, not authoritative, nothing else */

    tq.name = "www.example.org";
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    cflb_dns_begin(&w, &q, c->buf, 1232, CFLB_DNS_REFUSED, 0);
    len = cflb_dns_finish(&w, 1232, 0);

    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.flags == 0x8105 && c->d.nrr == 0 && c->d.opt
                      && c->d.count[0] == 1);
    t_dump(c, "refused", c->buf, len);
    free(copy);
}


/* the apex answers SOA and NS; names compress into the question */

static void
t_apex(tctx_t *c)
{
    size_t              len;
    unsigned char       pkt[512], *copy;
    cflb_dns_soa_t      soa;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(&tq, 0, sizeof(tq));
    tq.name = "example.com";
    tq.qtype = CFLB_DNS_TYPE_NS;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    cflb_dns_begin(&w, &q, c->buf, 512, 0, CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_ns(&w, 0, NULL, 86400, t_ns1) == 0);
    cflb_check(&c->t, cflb_dns_add_ns(&w, 0, t_zone, 86400, t_ns2) == 0);
    len = cflb_dns_finish(&w, 1232, 0);

    /* both owners are pointers to 12, both targets "nsN" + pointer */
    cflb_check_msg(&c->t, len == 12 + 17 + 2 * (2 + 10 + 6), "len %zu",
                   len);
    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.nrr == 2
                      && strcmp(c->rr[0].n1, "ns1.example.com.") == 0
                      && strcmp(c->rr[1].n1, "ns2.example.com.") == 0
                      && strcmp(c->rr[1].name, "example.com.") == 0);
    t_dump(c, "apex_ns", c->buf, len);
    free(copy);

    tq.qtype = CFLB_DNS_TYPE_SOA;
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    t_soa(&soa);
    cflb_dns_begin(&w, &q, c->buf, 512, 0, CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_soa(&w, 0, NULL, 3600, &soa) == 0);
    cflb_check(&c->t, cflb_dns_add_ns(&w, 1, NULL, 3600, t_ns1) == 0);
    len = cflb_dns_finish(&w, 1232, 0);

    cflb_check(&c->t, len == 12 + 17 + (2 + 10 + 6 + 13 + 20)
                             + (2 + 10 + 2));
    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.count[1] == 1 && c->d.count[2] == 1
                      && c->rr[0].type == CFLB_DNS_TYPE_SOA
                      && strcmp(c->rr[0].n2, "hostmaster.example.com.") == 0
                      && c->rr[1].section == 1
                      && strcmp(c->rr[1].n1, "ns1.example.com.") == 0);
    t_dump(c, "apex_soa", c->buf, len);
    free(copy);
}


static void
t_cname(tctx_t *c)
{
    size_t              len;
    unsigned char       pkt[512], *copy;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    static const unsigned char  origin[] = "\6origin\7EXAMPLE\3com";
    static const unsigned char  cdn[] = "\3cdn\10provider\3net";

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    /* a target in the zone: "origin" then a pointer to "example" */

    cflb_dns_begin(&w, &q, c->buf, 512, 0, CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_cname(&w, 0, NULL, 30, origin) == 0);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, origin, 30, t_ip4[0]) == 0);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, origin, 30, t_ip4[1]) == 0);
    len = cflb_dns_finish(&w, 1232, 0);

    cflb_check_msg(&c->t, len == 33 + (2 + 10 + 9) + 2 * (2 + 10 + 4),
                   "len %zu", len);
    cflb_check(&c->t, memcmp(c->buf + 45, "\6origin\xc0\x10", 9) == 0);
    cflb_check(&c->t, c->buf[54] == 0xc0 && c->buf[55] == 45);
    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.nrr == 3
                      && strcmp(c->rr[0].n1, "origin.example.com.") == 0
                      && strcmp(c->rr[1].name, "origin.example.com.") == 0
                      && strcmp(c->rr[2].name, "origin.example.com.") == 0);
    t_dump(c, "cname_in_zone", c->buf, len);

    /* a target elsewhere: written whole, then its owners point at it */

    cflb_dns_begin(&w, &q, c->buf, 512, 0, CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_cname(&w, 0, NULL, 30, cdn) == 0);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, cdn, 30, t_ip4[2]) == 0);
    len = cflb_dns_finish(&w, 1232, 0);

    cflb_check(&c->t, len == 33 + (2 + 10 + 18) + (2 + 10 + 4));
    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.nrr == 2
                      && strcmp(c->rr[0].n1, "cdn.provider.net.") == 0
                      && strcmp(c->rr[1].name, "cdn.provider.net.") == 0);
    t_dump(c, "cname_outside", c->buf, len);

    free(copy);
}


static void
t_drop_and_notimp(tctx_t *c)
{
    size_t              len, rlen;
    unsigned            op;
    unsigned char       pkt[512];
    tdec_query_t        tq;
    cflb_dns_query_t    q;

    memset(pkt, 0, sizeof(pkt));

    for (len = 0; len < 12; len++) {
        cflb_check_msg(&c->t, t_rc(pkt, len) == CFLB_DECLINED, "len %zu",
                       len);
    }

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 1232;
    tq.flags = 0x8000;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_DECLINED);

    /* every opcode but QUERY, echoed in the NOTIMP */

    for (op = 1; op < 16; op++) {
        tq.flags = op << 11 | 0x0100;
        len = tdec_query(pkt, &tq);

        cflb_check_msg(&c->t, t_respond(c, pkt, len, &q, &rlen)
                              == CFLB_DNS_NOTIMP, "opcode %u", op);
        cflb_check(&c->t, c->d.flags == (0x8000 | op << 11 | 0x0100 | 4)
                          && c->d.count[0] == 1 && c->d.opt);
    }

    /* meta types: zone transfers, TSIG, TKEY, MAILB */

    tq.flags = 0;

    for (op = 128; op < 256; op += 1) {
        tq.qtype = op;
        len = tdec_query(pkt, &tq);

        cflb_check_msg(&c->t, t_rc(pkt, len) == (op == 255
                                                 ? CFLB_OK
                                                 : CFLB_DNS_NOTIMP),
                       "qtype %u", op);
    }

    tq.qtype = 127;
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_OK);
}


static void
t_formerr(tctx_t *c)
{
    size_t              len, rlen, cut;
    unsigned char       pkt[600], opts[64];
    tdec_query_t        tq;
    cflb_dns_query_t    q;

    memset(&tq, 0, sizeof(tq));
    tq.id = 0x1234;
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 1232;

    /* QDCOUNT 0: FORMERR, no question, the OPT kept */

    len = tdec_query(pkt, &tq);
    pkt[5] = 0;
    memmove(pkt + 12, pkt + 12 + 21, len - 33);
    len -= 21;

    cflb_check(&c->t, t_respond(c, pkt, len, &q, &rlen) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, c->d.count[0] == 0 && c->d.opt
                      && (c->d.flags & 0xf) == 1 && c->d.id == 0x1234);
    t_dump(c, "formerr_qd0", c->buf, rlen);

    /* QDCOUNT 2: FORMERR, the first question echoed */

    tq.edns = 0;
    len = tdec_query(pkt, &tq);
    memcpy(pkt + len, pkt + 12, 21);
    pkt[12 + 21 + 1] = 'W';
    len += 21;
    pkt[5] = 2;

    cflb_check(&c->t, t_respond(c, pkt, len, &q, &rlen) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, c->d.count[0] == 1 && !c->d.opt
                      && strcmp(c->d.qname, "www.example.com.") == 0);

    /* trailing bytes */

    len = tdec_query(pkt, &tq);
    pkt[len++] = 0;
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_DNS_FORMERR);

    /* a pointer, or an extended label type, in the question */

    len = tdec_query(pkt, &tq);
    pkt[16] = 0xc0;
    pkt[17] = 0x0c;
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_DNS_FORMERR);
    pkt[16] = 0x47;
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_DNS_FORMERR);
    pkt[16] = 0x87;
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_DNS_FORMERR);

    /* two OPT records: FORMERR without OPT */

    tq.edns = 1;
    len = tdec_query(pkt, &tq);
    memcpy(pkt + len, pkt + len - 11, 11);
    len += 11;
    pkt[11] = 2;

    cflb_check(&c->t, t_respond(c, pkt, len, &q, &rlen) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, !q.edns && !c->d.opt && c->d.count[0] == 1);
    t_dump(c, "formerr_two_opt", c->buf, rlen);

    /* an OPT owned by another name than the root */

    len = tdec_query(pkt, &tq);
    memmove(pkt + len - 10, pkt + len - 11, 11);
    pkt[len - 11] = 0xc0;
    pkt[len - 10] = 0x0c;
    len++;
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_DNS_FORMERR);

    /* an option running past the OPT, a stray 1-3 bytes after options */

    opts[0] = 0;
    opts[1] = 10;
    opts[2] = 0;
    opts[3] = 9;
    memset(opts + 4, 0xaa, 8);
    tq.opts = opts;
    tq.olen = 12;
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_respond(c, pkt, len, &q, &rlen) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, !c->d.opt);

    for (cut = 1; cut <= 3; cut++) {
        opts[3] = 8;
        tq.olen = 12 + cut;
        len = tdec_query(pkt, &tq);
        cflb_check(&c->t, t_rc(pkt, len) == CFLB_DNS_FORMERR);
    }

    tq.olen = 12;
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_OK);

    /* every prefix of a sound query is FORMERR (or dropped below 12) */

    tq.olen = 12 + tdec_ecs(opts + 12, 1, 24, 0,
                            (const unsigned char *) "\300\0\2", 3);
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_OK);

    for (cut = 0; cut < len; cut++) {
        cflb_check_msg(&c->t, t_rc(pkt, cut) == (cut < 12 ? CFLB_DECLINED
                                                         : CFLB_DNS_FORMERR),
                       "prefix %zu", cut);
    }
}


/* records a query may carry around its OPT are skipped */

static void
t_skipped(tctx_t *c)
{
    size_t              len;
    unsigned char       pkt[600], *copy;
    cflb_dns_query_t    q;

    static const unsigned char  query[] = {
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x02,
        /* question: a.b A IN */
        0x01, 'a', 0x01, 'b', 0x00, 0x00, 0x01, 0x00, 0x01,
        /* answer: a pointer owner, A */
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00,
        0x04, 1, 2, 3, 4,
        /* additional: a TSIG-like record, then OPT with DO and ECS /0 */
        0x01, 'k', 0x00, 0x00, 0xfa, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02, 0xaa, 0xbb,
        0x00, 0x00, 0x29, 0x01, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x08,
        0x00, 0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00
    };

    memcpy(pkt, query, sizeof(query));
    len = sizeof(query);

    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    cflb_check(&c->t, q.edns && q.dnssec_ok && q.udp_size == 512);
    cflb_check(&c->t, q.ecs && q.ecs_source == 0 && q.ecs_family == 1);
    free(copy);

    /* UDP sizes below 512 count as 512 */

    pkt[len - 16] = 0x00;
    pkt[len - 15] = 0x00;
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    cflb_check(&c->t, q.udp_size == 512
                      && cflb_dns_limit(&q, 1232, 0) == 512);
    free(copy);

    pkt[len - 16] = 0xff;
    pkt[len - 15] = 0xff;
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    cflb_check(&c->t, q.udp_size == 65535
                      && cflb_dns_limit(&q, 1232, 0) == 1232);
    free(copy);
}


static void
t_badvers(tctx_t *c)
{
    size_t              len, rlen;
    unsigned char       pkt[512], opts[64], *copy;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 4096;
    tq.version = 1;
    tq.do_bit = 1;

    /* options of version 1 are not read: a bad ECS is not looked at */
    tq.olen = tdec_ecs(opts, 9, 99, 0, NULL, 0);
    tq.opts = opts;

    len = tdec_query(pkt, &tq);

    cflb_check(&c->t, t_respond(c, pkt, len, &q, &rlen) != CFLB_OK);

    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_DNS_BADVERS);
    cflb_check(&c->t, q.edns && q.edns_version == 1 && !q.ecs);

    cflb_check(&c->t, cflb_dns_begin(&w, &q, c->buf, 512, CFLB_DNS_BADVERS,
                                     CFLB_DNS_AA) == CFLB_OK);
    rlen = cflb_dns_finish(&w, 1232, 0);

    cflb_check(&c->t, tdec_msg(c->buf, rlen, &c->d, c->rr) == 0);
    cflb_check(&c->t, (c->d.flags & 0xf) == 0 && c->d.opt
                      && c->d.opt_ext_rcode == 1 && c->d.opt_version == 0
                      && c->d.opt_flags == 0x8000 && c->d.opt_size == 1232
                      && c->d.count[0] == 1);
    t_dump(c, "badvers", c->buf, rlen);
    free(copy);

    /* an extended rcode cannot be sent without EDNS */

    tq.edns = 0;
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    cflb_check(&c->t, cflb_dns_begin(&w, &q, c->buf, 512, CFLB_DNS_BADVERS,
                                     0) == CFLB_ERROR);
    free(copy);
}


/* one ECS option: the parse result, and the echo with scope 20 */

static int
t_ecs_case(tctx_t *c, unsigned family, unsigned source, unsigned scope,
    const unsigned char *addr, size_t alen, const char *dump)
{
    int                 rc;
    size_t              len, rlen;
    unsigned char       pkt[512], opts[64], *copy;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 1232;
    tq.olen = tdec_ecs(opts, family, source, scope, addr, alen);
    tq.opts = opts;

    len = tdec_query(pkt, &tq);
    rc = t_parse(pkt, len, &q, &copy);

    cflb_dns_begin(&w, &q, c->buf, 1232, rc == CFLB_OK ? 0 : (unsigned) rc,
                   CFLB_DNS_AA);

    if (rc == CFLB_OK) {
        cflb_dns_add_a(&w, 0, NULL, 30, t_ip4[0]);
    }

    rlen = cflb_dns_finish(&w, 1232, 20);

    cflb_check(&c->t, tdec_msg(c->buf, rlen, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.opt);

    if (rc == CFLB_OK) {
        cflb_check(&c->t, q.ecs && q.ecs_family == family
                          && q.ecs_source == source && q.ecs_scope == scope);
        cflb_check(&c->t, c->d.ecs && c->d.ecs_family == family
                          && c->d.ecs_source == source
                          && c->d.ecs_alen == alen
                          && memcmp(c->d.ecs_addr, addr, alen) == 0);

    } else {
        cflb_check(&c->t, !q.ecs && q.edns && !c->d.ecs
                          && (c->d.flags & 0xf) == (unsigned) rc);
    }

    if (dump != NULL) {
        t_dump(c, dump, c->buf, rlen);
    }

    free(copy);

    return rc;
}


static void
t_ecs(tctx_t *c)
{
    size_t              len;
    unsigned char       pkt[512], opts[64], *copy;
    tdec_query_t        tq;
    cflb_dns_query_t    q;

    static const unsigned char  v4[] = { 192, 0, 2, 0, 9 };
    static const unsigned char  v6[] = {
        0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x00, 0, 0, 0, 0, 0, 0, 0,
        0, 0
    };

    cflb_check(&c->t, t_ecs_case(c, 1, 24, 0, v4, 3, "ecs4_24") == 0);
    cflb_check(&c->t, c->d.ecs_scope == 20);
    cflb_check(&c->t, t_ecs_case(c, 2, 56, 0, v6, 7, "ecs6_56") == 0);
    cflb_check(&c->t, c->d.ecs_scope == 20);
    cflb_check(&c->t, t_ecs_case(c, 1, 32, 0, v4, 4, NULL) == 0);
    cflb_check(&c->t, t_ecs_case(c, 2, 128, 0, v6, 16, NULL) == 0);

    /* /0: no address; the scope must answer 0 whatever we pass */
    cflb_check(&c->t, t_ecs_case(c, 1, 0, 0, v4, 0, "ecs4_0") == 0);
    cflb_check(&c->t, c->d.ecs_scope == 0 && c->d.ecs_alen == 0);
    cflb_check(&c->t, t_ecs_case(c, 2, 0, 0, v6, 0, NULL) == 0);
    cflb_check(&c->t, c->d.ecs_scope == 0);

    /* a query's non-zero scope is kept, not refused */
    cflb_check(&c->t, t_ecs_case(c, 1, 24, 16, v4, 3, NULL) == 0);

    /* bits past the source prefix */
    cflb_check(&c->t, t_ecs_case(c, 1, 23, 0,
                                 (const unsigned char *) "\300\0\3", 3,
                                 "formerr_ecs_bits") == CFLB_DNS_FORMERR);
    cflb_check(&c->t, t_ecs_case(c, 1, 23, 0,
                                 (const unsigned char *) "\300\0\2", 3,
                                 NULL) == 0);
    cflb_check(&c->t, t_ecs_case(c, 1, 20, 0,
                                 (const unsigned char *) "\300\0\x1f", 3,
                                 NULL) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, t_ecs_case(c, 1, 20, 0,
                                 (const unsigned char *) "\300\0\x10", 3,
                                 NULL) == 0);
    cflb_check(&c->t, t_ecs_case(c, 2, 57, 0,
                                 (const unsigned char *) "\x20\1\r\xb8\0\0\0"
                                 "\x40", 8, NULL) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, t_ecs_case(c, 2, 57, 0,
                                 (const unsigned char *) "\x20\1\r\xb8\0\0\0"
                                 "\x80", 8, NULL) == 0);

    /* unknown families, prefixes too long, wrong address lengths */
    cflb_check(&c->t, t_ecs_case(c, 0, 0, 0, v4, 0, NULL) == 1);
    cflb_check(&c->t, t_ecs_case(c, 3, 24, 0, v4, 3, NULL) == 1);
    cflb_check(&c->t, t_ecs_case(c, 1, 33, 0, v4, 5, NULL) == 1);
    cflb_check(&c->t, t_ecs_case(c, 2, 129, 0, v6, 17, NULL) == 1);
    cflb_check(&c->t, t_ecs_case(c, 1, 24, 0, v4, 4, NULL) == 1);
    cflb_check(&c->t, t_ecs_case(c, 1, 24, 0, v4, 2, NULL) == 1);
    cflb_check(&c->t, t_ecs_case(c, 1, 0, 0, v4, 1, NULL) == 1);
    cflb_check(&c->t, t_ecs_case(c, 2, 56, 0, v6, 8, NULL) == 1);

    /* an option shorter than its fixed part; two subnets */

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 1232;
    tq.opts = opts;

    memcpy(opts, "\0\10\0\3\0\1\0", 7);
    tq.olen = 7;
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_rc(pkt, len) == CFLB_DNS_FORMERR);

    tq.olen = tdec_ecs(opts, 1, 24, 0, v4, 3);
    tq.olen += tdec_ecs(opts + tq.olen, 1, 24, 0, v4, 3);
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, q.edns && !q.ecs);
    free(copy);

    /* the scope we pass is capped at the family's width */

    tq.olen = tdec_ecs(opts, 1, 24, 0, v4, 3);
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    {
        size_t             rlen;
        cflb_dns_writer_t  w;

        cflb_dns_begin(&w, &q, c->buf, 1232, 0, 0);
        rlen = cflb_dns_finish(&w, 1232, 40);
        cflb_check(&c->t, tdec_msg(c->buf, rlen, &c->d, c->rr) == 0);
        cflb_check(&c->t, c->d.ecs && c->d.ecs_scope == 32);
    }
    free(copy);
}


/* adds A records until one is refused; returns how many were taken */

static unsigned
t_fill(cflb_dns_writer_t *w, unsigned max)
{
    unsigned  n;

    for (n = 0; n < max; n++) {
        if (cflb_dns_add_a(w, 0, NULL, 30, t_ip4[n % 3]) != CFLB_OK) {
            break;
        }
    }

    return n;
}


static void
t_tc_case(tctx_t *c, int edns, unsigned udp, int ecs, int tcp,
    unsigned want, size_t want_limit, const char *dump)
{
    size_t              len, limit, rlen;
    unsigned            n;
    unsigned char       pkt[512], opts[16], *copy;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = edns;
    tq.udp = udp;
    tq.opts = opts;
    tq.olen = ecs ? tdec_ecs(opts, 1, 24, 0,
                             (const unsigned char *) "\300\0\2", 3) : 0;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    limit = cflb_dns_limit(&q, CFLB_DNS_EDNS_SIZE, tcp);
    cflb_check_msg(&c->t, limit == want_limit, "limit %zu", limit);

    /* exactly want records fit */

    cflb_dns_begin(&w, &q, c->buf, limit, 0, CFLB_DNS_AA);
    n = t_fill(&w, want);
    rlen = cflb_dns_finish(&w, 1232, 24);

    cflb_check_msg(&c->t, n == want && !cflb_dns_truncated(&w)
                          && rlen <= limit && rlen + 16 > limit,
                   "%u records, %zu bytes of %zu", n, rlen, limit);
    cflb_check(&c->t, tdec_msg(c->buf, rlen, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.count[1] == want && !(c->d.flags & 0x0200));

    /* one more truncates: header, question and OPT only, TC */

    cflb_dns_begin(&w, &q, c->buf, limit, 0, CFLB_DNS_AA);
    n = t_fill(&w, want + 1);
    cflb_check(&c->t, n == want && cflb_dns_truncated(&w));
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, 30, t_ip4[0])
                      == CFLB_DECLINED);
    rlen = cflb_dns_finish(&w, 1232, 24);

    cflb_check(&c->t, rlen == 33u + (edns ? 11 : 0) + (ecs ? 11 : 0));
    cflb_check(&c->t, tdec_msg(c->buf, rlen, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.flags == 0x8600 && c->d.count[1] == 0
                      && c->d.count[0] == 1 && c->d.opt == edns
                      && c->d.ecs == ecs);

    if (ecs) {
        cflb_check(&c->t, c->d.ecs_scope == 24 && c->d.ecs_source == 24);
    }

    if (dump != NULL) {
        t_dump(c, dump, c->buf, rlen);
    }

    free(copy);
}


static void
t_tc(tctx_t *c)
{
    /* 33 bytes of header and question, 16 per A, 11 OPT, 11 ECS */
    t_tc_case(c, 0, 0, 0, 0, (512 - 33) / 16, 512, "tc_512");
    t_tc_case(c, 1, 1232, 0, 0, (1232 - 44) / 16, 1232, "tc_1232");
    t_tc_case(c, 1, 1232, 1, 0, (1232 - 55) / 16, 1232, "tc_1232_ecs");
    t_tc_case(c, 1, 4096, 0, 0, (1232 - 44) / 16, 1232, NULL);
    t_tc_case(c, 1, 600, 0, 0, (600 - 44) / 16, 600, NULL);
    t_tc_case(c, 1, 100, 0, 0, (512 - 44) / 16, 512, NULL);
    t_tc_case(c, 0, 0, 0, 1, (65535 - 33) / 16, 65535, NULL);
    t_tc_case(c, 1, 1232, 1, 1, (65535 - 55) / 16, 65535, NULL);
}


/* a record that fits to the byte, then a SOA that does not */

static void
t_tc_exact(tctx_t *c)
{
    size_t              len, rlen;
    unsigned char       pkt[512], *copy;
    tdec_query_t        tq;
    cflb_dns_soa_t      soa;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    cflb_check(&c->t, cflb_dns_begin(&w, &q, c->buf, 32, 0, 0)
                      == CFLB_ERROR);
    cflb_check(&c->t, cflb_dns_begin(&w, &q, c->buf, 33, 0, 0) == CFLB_OK);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, 1, t_ip4[0])
                      == CFLB_DECLINED);

    cflb_dns_begin(&w, &q, c->buf, 33 + 32, 0, 0);
    cflb_check(&c->t, t_fill(&w, 3) == 2 && cflb_dns_truncated(&w));

    cflb_dns_begin(&w, &q, c->buf, 33 + 32, 0, 0);
    cflb_check(&c->t, t_fill(&w, 2) == 2 && !cflb_dns_truncated(&w));
    rlen = cflb_dns_finish(&w, 0, 0);
    cflb_check(&c->t, rlen == 65);

    /* the SOA: 2 + 10 + 6 + 13 + 20 = 51 bytes, one short, at each part */

    t_soa(&soa);

    for (len = 33; len < 33 + 51; len++) {
        cflb_dns_begin(&w, &q, c->buf, len, 0, 0);
        cflb_check_msg(&c->t, cflb_dns_add_soa(&w, 1, t_zone, 300, &soa)
                              == CFLB_DECLINED, "limit %zu", len);
        rlen = cflb_dns_finish(&w, 0, 0);
        cflb_check(&c->t, rlen == 33 && (c->buf[2] & 0x02)
                          && tdec_msg(c->buf, rlen, &c->d, c->rr) == 0);
    }

    cflb_dns_begin(&w, &q, c->buf, 33 + 51, 0, 0);
    cflb_check(&c->t, cflb_dns_add_soa(&w, 1, t_zone, 300, &soa) == 0);
    cflb_check(&c->t, cflb_dns_finish(&w, 0, 0) == 84);

    free(copy);
}


static void
t_case_and_flags(tctx_t *c)
{
    size_t              len, rlen;
    unsigned char       pkt[512], *copy;
    tdec_query_t        tq;
    cflb_dns_soa_t      soa;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(&tq, 0, sizeof(tq));
    tq.name = "WwW.eXaMpLe.CoM";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.flags = 0x0100 | 0x0200 | 0x0020 | 0x0010;     /* RD TC AD CD */

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    cflb_check(&c->t, cflb_dns_name_eq(q.qname, q.qname_len,
                                       (const unsigned char *)
                                       "\3www\7example\3com", 17));

    t_soa(&soa);
    cflb_dns_begin(&w, &q, c->buf, 512, CFLB_DNS_NXDOMAIN, 0);
    cflb_dns_add_soa(&w, 1, t_zone, 300, &soa);
    rlen = cflb_dns_finish(&w, 0, 0);

    /* the question as sent; RD and CD copied, TC and AD not; no AA */
    cflb_check(&c->t, memcmp(c->buf + 12, pkt + 12, 21) == 0);
    cflb_check(&c->t, tdec_msg(c->buf, rlen, &c->d, c->rr) == 0);
    cflb_check(&c->t, c->d.flags == 0x8113);
    cflb_check(&c->t, strcmp(c->d.qname, "WwW.eXaMpLe.CoM.") == 0);

    /* the zone's name compressed into the question takes its case */
    cflb_check(&c->t, strcmp(c->rr[0].name, "eXaMpLe.CoM.") == 0);
    cflb_check(&c->t, tdec_eq(c->rr[0].n1, "ns1.example.com."));
    t_dump(c, "case_0x20", c->buf, rlen);

    free(copy);

    /* answering in place, in the query's own buffer */

    copy = malloc(len + 16);

    if (copy == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    memcpy(copy, pkt, len);
    cflb_check(&c->t, cflb_dns_parse(copy, len, &q) == CFLB_OK);

    cflb_dns_begin(&w, &q, copy, len + 16, 0, CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, 30, t_ip4[0]) == 0);
    rlen = cflb_dns_finish(&w, 0, 0);
    cflb_check(&c->t, rlen == len + 16
                      && memcmp(copy + 12, pkt + 12, 21) == 0
                      && tdec_msg(copy, rlen, &c->d, c->rr) == 0
                      && c->d.nrr == 1 && c->d.flags == 0x8510);

    free(copy);
}


/* a 255-byte name: labels of 63, 63, 63 and 61 */

static void
t_long_names(tctx_t *c)
{
    size_t              len, rlen, n, wl;
    unsigned char       pkt[600], name[300], wire[300], *copy;
    char                text[300];
    cflb_err_t          err;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    memset(text, 0, sizeof(text));
    memset(text, 'a', 63);
    text[63] = '.';
    memset(text + 64, 'B', 63);
    text[127] = '.';
    memset(text + 128, 'c', 63);
    text[191] = '.';
    memset(text + 192, 'd', 61);

    cflb_check(&c->t, cflb_dns_name_from_text((unsigned char *) text, 253,
                                              name, &n, &err) == CFLB_OK);
    cflb_check(&c->t, n == 255 && cflb_dns_name_len(name) == 255);

    /* the query */

    memset(pkt, 0, 12);
    pkt[5] = 1;
    memcpy(pkt + 12, name, 255);
    memcpy(pkt + 12 + 255, "\0\1\0\1", 4);
    len = 12 + 255 + 4;

    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    cflb_check(&c->t, q.qname_len == 255);

    cflb_dns_begin(&w, &q, c->buf, 512, 0, CFLB_DNS_AA);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, 30, t_ip4[0]) == 0);
    cflb_check(&c->t, cflb_dns_add_cname(&w, 0, NULL, 30, name) == 0);
    rlen = cflb_dns_finish(&w, 0, 0);
    cflb_check(&c->t, rlen == len + 16 + 14);
    cflb_check(&c->t, tdec_msg(c->buf, rlen, &c->d, c->rr) == 0
                      && c->d.nrr == 2 && strlen(c->d.qname) == 254
                      && strcmp(c->rr[1].n1, c->d.qname) == 0);
    t_dump(c, "name_255", c->buf, rlen);
    free(copy);

    /* 256 bytes: a label of 62 made 63 */

    pkt[12 + 192] = 62;
    memmove(pkt + 12 + 193 + 62 + 1, pkt + 12 + 193 + 61, 5);
    pkt[12 + 193 + 61] = 'd';
    cflb_check(&c->t, t_rc(pkt, len + 1) == CFLB_DNS_FORMERR);

    text[253] = 'd';
    cflb_check(&c->t, cflb_dns_name_from_text((unsigned char *) text, 254,
                                              wire, &wl, &err) == CFLB_ERROR
                      && strcmp(err.msg, "name longer than 255 bytes") == 0
                      && err.offset == 253);

    /* a label of 63 parses, one of 64 is an extended label type */

    memset(pkt, 0, 12);
    pkt[5] = 1;
    pkt[12] = 63;
    memset(pkt + 13, 'x', 63);
    memcpy(pkt + 76, "\0\0\1\0\1", 5);
    cflb_check(&c->t, t_rc(pkt, 81) == CFLB_OK);

    pkt[12] = 64;
    memmove(pkt + 78, pkt + 77, 4);
    pkt[77] = 'x';
    cflb_check(&c->t, t_rc(pkt, 82) == CFLB_DNS_FORMERR);
}


/* a decoded name ("a.b.") is the text ("a.b"), ignoring case */

static int
t_same(const char *got, const char *text)
{
    char  dotted[300];

    snprintf(dotted, sizeof(dotted), "%s.", text);

    return tdec_eq(got, dotted);
}


/*
 * Random names (upper and lower case, several zones) as CNAME, NS and
 * SOA rdata and owners: every name must decode back, and compression
 * must have saved what it could.
 */

static void
t_compression(tctx_t *c)
{
    int                 rc;
    size_t              len, rlen, i, k, nn[8];
    unsigned            r, j, type[8], bad;
    cflb_rng_t          rng;
    unsigned char       pkt[512], names[8][CFLB_DNS_NAME_MAX], *copy;
    char                text[8][300], dec[CFLB_DNS_NAME_TEXT_MAX];
    cflb_dns_soa_t      soa;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    static const char  *zones[] = {
        "example.com", "Example.COM", "a.example.com", "example.net",
        "com", "b.c.d.e.example.org"
    };
    static const char  *labels[] = {
        "www", "WWW", "origin", "ns1", "x", "lb-1", "eu", "Origin", "a"
    };

    cflb_rng_seed(&rng, 53);
    bad = 0;

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.Example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 4096;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    for (r = 0; r < 3000; r++) {
        for (i = 0; i < 8; i++) {
            snprintf(text[i], sizeof(text[i]), "%s",
                     zones[cflb_rng_below(&rng, 6)]);

            for (k = cflb_rng_below(&rng, 3); k > 0; k--) {
                j = (unsigned) cflb_rng_below(&rng, 9);
                snprintf(dec, sizeof(dec), "%s.%s", labels[j], text[i]);
                memcpy(text[i], dec, strlen(dec) + 1);
            }

            cflb_dns_name_from_text((unsigned char *) text[i],
                                    strlen(text[i]), names[i], &nn[i],
                                    NULL);
            type[i] = (unsigned) cflb_rng_below(&rng, 4);
        }

        cflb_dns_begin(&w, &q, c->buf, 4096, 0, CFLB_DNS_AA);
        rc = CFLB_OK;

        for (i = 0; i < 8 && rc == CFLB_OK; i++) {
            if (type[i] == 0) {
                rc = cflb_dns_add_cname(&w, i < 4 ? 0 : 1,
                                        i == 0 ? NULL : names[i - 1], 30,
                                        names[i]);
            } else if (type[i] == 1) {
                rc = cflb_dns_add_ns(&w, i < 4 ? 0 : 1, names[i], 30,
                                     names[(i + 3) % 8]);
            } else if (type[i] == 2) {
                soa.mname = names[i];
                soa.rname = names[(i + 5) % 8];
                soa.serial = r;
                soa.refresh = soa.retry = soa.expire = soa.minimum = 1;
                rc = cflb_dns_add_soa(&w, i < 4 ? 0 : 1, names[(i + 1) % 8],
                                      30, &soa);
            } else {
                rc = cflb_dns_add_a(&w, i < 4 ? 0 : 1, names[i], 30,
                                    t_ip4[0]);
            }
        }

        rlen = cflb_dns_finish(&w, 1232, 0);

        if (rc != CFLB_OK || tdec_msg(c->buf, rlen, &c->d, c->rr) != 0
            || c->d.nrr != 8 || c->d.uncompressed <= rlen)
        {
            bad++;
            continue;
        }

        for (i = 0; i < 8; i++) {
            if (type[i] == 0) {
                bad += !t_same(c->rr[i].name,
                               i == 0 ? "www.Example.com" : text[i - 1]);
                bad += !t_same(c->rr[i].n1, text[i]);

            } else if (type[i] == 1) {
                bad += !t_same(c->rr[i].name, text[i]);
                bad += !t_same(c->rr[i].n1, text[(i + 3) % 8]);

            } else if (type[i] == 2) {
                bad += !t_same(c->rr[i].name, text[(i + 1) % 8]);
                bad += !t_same(c->rr[i].n1, text[i]);
                bad += !t_same(c->rr[i].n2, text[(i + 5) % 8]);
                bad += c->rr[i].soa[0] != r;

            } else {
                bad += !t_same(c->rr[i].name, text[i]);
            }

            bad += c->rr[i].section != (i < 4 ? 0u : 1u);
        }
    }

    cflb_check_msg(&c->t, bad == 0, "%u compression mismatches", bad);
    free(copy);
}


/* random packets: any result, but a response that decodes, no overread */

static void
t_random(tctx_t *c)
{
    int                 rc;
    size_t              len, i, rlen, limit;
    unsigned            r, odd, seen[5];
    cflb_rng_t          rng;
    unsigned char       base[600], pkt[600], opts[64];
    tdec_query_t        tq;
    cflb_dns_soa_t      soa;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;
    unsigned char      *copy;

    cflb_rng_seed(&rng, 1035);
    t_soa(&soa);
    odd = 0;
    memset(seen, 0, sizeof(seen));

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_A;
    tq.edns = 1;
    tq.udp = 1232;
    tq.opts = opts;
    tq.olen = tdec_ecs(opts, 1, 24, 0, (const unsigned char *) "\300\0\2",
                       3);

    len = tdec_query(base, &tq);

    for (r = 0; r < 200000; r++) {

        /* half: a sound query with a few bytes changed; half: noise */

        if (r & 1) {
            memcpy(pkt, base, len);
            rlen = len;

            for (i = cflb_rng_below(&rng, 4) + 1; i > 0; i--) {
                pkt[cflb_rng_below(&rng, rlen)] = (unsigned char)
                                                  cflb_rng_next(&rng);
            }

            rlen -= cflb_rng_below(&rng, 3) == 0
                    ? cflb_rng_below(&rng, rlen) : 0;

        } else {
            rlen = cflb_rng_below(&rng, sizeof(pkt));

            for (i = 0; i < rlen; i++) {
                pkt[i] = (unsigned char) cflb_rng_next(&rng);
            }

            if (rlen >= 12) {
                pkt[2] &= 0x7f;
                pkt[4] = 0;
                pkt[5] = (unsigned char) cflb_rng_below(&rng, 3);
                pkt[6] = pkt[8] = pkt[10] = 0;
                pkt[7] = (unsigned char) cflb_rng_below(&rng, 3);
                pkt[9] = (unsigned char) cflb_rng_below(&rng, 3);
                pkt[11] = (unsigned char) cflb_rng_below(&rng, 3);
            }
        }

        rc = t_parse(pkt, rlen, &q, &copy);

        switch (rc) {

        case CFLB_OK:
            seen[0]++;
            break;

        case CFLB_DECLINED:
            seen[1]++;
            break;

        case CFLB_DNS_FORMERR:
            seen[2]++;
            break;

        case CFLB_DNS_NOTIMP:
            seen[3]++;
            break;

        case CFLB_DNS_BADVERS:
            seen[4]++;
            break;

        default:
            odd++;
        }

        if (rc != CFLB_DECLINED) {
            limit = cflb_dns_limit(&q, 1232, 0);

            if (cflb_dns_begin(&w, &q, c->buf, limit,
                               rc == CFLB_OK ? 0 : (unsigned) rc,
                               CFLB_DNS_AA) != CFLB_OK)
            {
                odd++;

            } else {
                if (rc == CFLB_OK) {
                    cflb_dns_add_a(&w, 0, NULL, 30, t_ip4[0]);
                    cflb_dns_add_soa(&w, 1, t_zone, 30, &soa);
                }

                limit = cflb_dns_finish(&w, 1232, 24);

                if (tdec_msg(c->buf, limit, &c->d, c->rr) != 0
                    || c->d.opt != q.edns
                    || (q.qname_len
                        && (c->d.count[0] != 1
                            || c->d.qname_len != q.qname_len)))
                {
                    odd++;
                }
            }
        }

        free(copy);
    }

    cflb_check_msg(&c->t, odd == 0, "%u odd results", odd);

    /* every outcome was reached, so every path above ran */
    cflb_check_msg(&c->t, seen[0] > 1000 && seen[1] > 1000
                          && seen[2] > 1000 && seen[3] > 100 && seen[4] > 10,
                   "ok %u, dropped %u, formerr %u, notimp %u, badvers %u",
                   seen[0], seen[1], seen[2], seen[3], seen[4]);
}


static void
t_misuse(tctx_t *c)
{
    size_t              len;
    unsigned char       pkt[512], *copy;
    tdec_query_t        tq;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;
    cflb_dns_soa_t      soa;

    static const unsigned char  bad[] = "\100x";
    static const unsigned char  mx[] = "\0\12\4mail\300\14";

    memset(&tq, 0, sizeof(tq));
    tq.name = "www.example.com";
    tq.qtype = CFLB_DNS_TYPE_MX;

    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);

    cflb_dns_begin(&w, &q, c->buf, 512, 0, 0);
    cflb_check(&c->t, cflb_dns_add_rr(&w, 0, NULL, CFLB_DNS_TYPE_MX, 60, mx,
                                      sizeof(mx) - 1) == CFLB_OK);
    cflb_check(&c->t, cflb_dns_add_a(&w, 1, NULL, 30, t_ip4[0]) == 0);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, 30, t_ip4[0])
                      == CFLB_ERROR);
    cflb_check(&c->t, cflb_dns_add_a(&w, 3, NULL, 30, t_ip4[0])
                      == CFLB_ERROR);

    /* invalid names are refused before anything is written */

    t_soa(&soa);
    soa.rname = bad;
    cflb_check(&c->t, cflb_dns_add_soa(&w, 1, t_zone, 30, &soa)
                      == CFLB_ERROR);
    cflb_check(&c->t, cflb_dns_add_cname(&w, 1, NULL, 30, bad)
                      == CFLB_ERROR);
    cflb_check(&c->t, cflb_dns_add_ns(&w, 1, bad, 30, t_ns1) == CFLB_ERROR);
    cflb_check(&c->t, cflb_dns_add_ns(&w, 1, NULL, 30, bad) == CFLB_ERROR);
    cflb_check(&c->t, cflb_dns_add_rr(&w, 1, NULL, 70000, 1, mx, 1)
                      == CFLB_ERROR);

    len = cflb_dns_finish(&w, 0, 0);
    cflb_check(&c->t, len == 33 + (2 + 10 + 9) + 16);
    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0
                      && c->d.nrr == 2 && c->rr[0].type == 15
                      && c->rr[1].section == 1);
    free(copy);

    /* NULL owner without a question */

    cflb_check(&c->t, t_parse((unsigned char *) "\0\1\0\0\0\0\0\0\0\0\0\0",
                              12, &q, &copy) == CFLB_DNS_FORMERR);
    cflb_check(&c->t, cflb_dns_begin(&w, &q, c->buf, 512, 1, 0) == 0);
    cflb_check(&c->t, cflb_dns_add_a(&w, 0, NULL, 1, t_ip4[0])
                      == CFLB_ERROR);
    cflb_check(&c->t, cflb_dns_finish(&w, 0, 0) == 12);
    cflb_check(&c->t, cflb_dns_begin(&w, &q, c->buf, 512, 0x1000, 0)
                      == CFLB_ERROR);
    free(copy);

    /* the root as the question: owner NULL is one byte */

    tq.name = "";
    len = tdec_query(pkt, &tq);
    cflb_check(&c->t, t_parse(pkt, len, &q, &copy) == CFLB_OK);
    cflb_dns_begin(&w, &q, c->buf, 512, 0, 0);
    cflb_check(&c->t, cflb_dns_add_ns(&w, 0, NULL, 1, t_ns1) == 0);
    cflb_check(&c->t, cflb_dns_add_ns(&w, 0, NULL, 1, t_ns2) == 0);
    len = cflb_dns_finish(&w, 0, 0);
    cflb_check(&c->t, len == 17 + (1 + 10 + 17) + (1 + 10 + 6));
    cflb_check(&c->t, tdec_msg(c->buf, len, &c->d, c->rr) == 0
                      && strcmp(c->rr[0].name, ".") == 0
                      && strcmp(c->rr[1].n1, "ns2.example.com.") == 0);
    free(copy);
}


static int
t_mkdir(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        printf("cannot create %s\n", dir);
        return -1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int     rc;
    tctx_t  c;

    memset(&c, 0, sizeof(c));

    if (argc == 3 && strcmp(argv[1], "-dump") == 0) {
        if (t_mkdir(argv[2]) != 0) {
            return 1;
        }

        c.dump = argv[2];
    }

    c.buf = malloc(T_BUF);
    c.rr = malloc(TDEC_RRS * sizeof(tdec_rr_t));

    if (c.buf == NULL || c.rr == NULL) {
        printf("out of memory\n");
        return 1;
    }

    t_golden_dig(&c);
    t_golden_kdig(&c);
    t_nodata(&c);
    t_nxdomain_refused(&c);
    t_apex(&c);
    t_cname(&c);
    t_drop_and_notimp(&c);
    t_formerr(&c);
    t_skipped(&c);
    t_badvers(&c);
    t_ecs(&c);
    t_tc(&c);
    t_tc_exact(&c);
    t_case_and_flags(&c);
    t_long_names(&c);
    t_compression(&c);
    t_random(&c);
    t_misuse(&c);

    rc = cflb_test_done(&c.t, "cflb_dns_test");

    free(c.buf);
    free(c.rr);

    return rc;
}
