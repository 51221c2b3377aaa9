
/*
 * cflb_dns: the DNS message codec of the DNS-only responder.  It parses
 * one query (RFC 1035 section 4, EDNS(0) from RFC 6891, client subnet
 * from RFC 7871) and writes one response into a caller buffer with name
 * compression and truncation; plus the name helpers the configuration
 * and the rules need.  No allocation, no state outside its arguments.
 * docs/dns.md describes the wire behaviour.
 */

#ifndef _CFLB_DNS_H_INCLUDED_
#define _CFLB_DNS_H_INCLUDED_


#include "cflb_core.h"


#define CFLB_DNS_HEADER        12
#define CFLB_DNS_NAME_MAX      255         /* wire bytes, root included */
#define CFLB_DNS_LABEL_MAX     63
#define CFLB_DNS_UDP_MIN       512         /* RFC 1035 and RFC 6891 floor */
#define CFLB_DNS_EDNS_SIZE     1232        /* our default UDP payload size */
#define CFLB_DNS_TCP_MAX       65535

/* text form of any wire name fits in this, "\DDD" escapes included */
#define CFLB_DNS_NAME_TEXT_MAX 1024

/* response codes; BADVERS needs EDNS (its upper bits go in the OPT) */
#define CFLB_DNS_NOERROR       0
#define CFLB_DNS_FORMERR       1
#define CFLB_DNS_SERVFAIL      2
#define CFLB_DNS_NXDOMAIN      3
#define CFLB_DNS_NOTIMP        4
#define CFLB_DNS_REFUSED       5
#define CFLB_DNS_BADVERS       16

#define CFLB_DNS_TYPE_A        1
#define CFLB_DNS_TYPE_NS       2
#define CFLB_DNS_TYPE_CNAME    5
#define CFLB_DNS_TYPE_SOA      6
#define CFLB_DNS_TYPE_MX       15
#define CFLB_DNS_TYPE_TXT      16
#define CFLB_DNS_TYPE_AAAA     28
#define CFLB_DNS_TYPE_SRV      33
#define CFLB_DNS_TYPE_OPT      41
#define CFLB_DNS_TYPE_ANY      255

#define CFLB_DNS_CLASS_IN      1

#define CFLB_DNS_ECS_IPV4      1           /* address families, RFC 7871 */
#define CFLB_DNS_ECS_IPV6      2

/* sections, in the order records must be added */
#define CFLB_DNS_ANSWER        0
#define CFLB_DNS_AUTHORITY     1
#define CFLB_DNS_ADDITIONAL    2

/* cflb_dns_begin() flags */
#define CFLB_DNS_AA            0x0400      /* authoritative answer */

/* cflb_dns_name_to_text() flags */
#define CFLB_DNS_TEXT_LOWER    1

/* name compression targets a writer remembers */
#define CFLB_DNS_COMP_MAX      32


/*
 * A parsed query.  qname points into the packet, so the packet must
 * outlive the query; everything else is copied.  Fields past what the
 * parser reached are zero (qname_len 0: no question was read; edns 0: no
 * usable OPT record).  ecs_addr holds the ceil(source / 8) bytes that
 * were sent, zero-padded to 16.
 */
typedef struct {
    const unsigned char  *qname;           /* wire, case as sent */
    size_t                qname_len;       /* root label included */
    uint16_t              id;
    uint16_t              flags;           /* header flags as received */
    uint16_t              qtype;
    uint16_t              qclass;
    uint16_t              udp_size;        /* advertised, >= 512 */
    uint16_t              ecs_family;      /* CFLB_DNS_ECS_IPV4, _IPV6 */
    uint8_t               ecs_source;      /* source prefix, bits */
    uint8_t               ecs_scope;       /* as received (should be 0) */
    uint8_t               edns_version;
    unsigned char         ecs_addr[16];
    unsigned              edns:1;
    unsigned              dnssec_ok:1;     /* the DO bit */
    unsigned              ecs:1;           /* a valid client subnet */
} cflb_dns_query_t;


typedef struct {
    const unsigned char  *mname;           /* wire names */
    const unsigned char  *rname;
    uint32_t              serial;
    uint32_t              refresh;         /* sec */
    uint32_t              retry;           /* sec */
    uint32_t              expire;          /* sec */
    uint32_t              minimum;         /* sec, the negative TTL */
} cflb_dns_soa_t;


typedef struct {
    uint16_t              off;             /* of a label in the message */
    uint16_t              len;             /* of the name from there */
} cflb_dns_comp_t;


/* a response being written; fields are private to cflb_dns_write.c */
typedef struct {
    unsigned char           *buf;
    const cflb_dns_query_t  *q;
    size_t                   pos;
    size_t                   end;          /* limit less the OPT record */
    size_t                   question_end;
    unsigned                 rcode;
    unsigned                 section;
    unsigned                 ncomp;
    uint16_t                 count[3];     /* per section */
    unsigned                 truncated:1;
    unsigned                 comp_ready:1;
    cflb_dns_comp_t          comp[CFLB_DNS_COMP_MAX];
} cflb_dns_writer_t;


/*
 * cflb_dns_parse() reads the query in pkt[0..len) into *q.  Returns
 * CFLB_OK (answer it), CFLB_DECLINED (drop it silently: shorter than a
 * header, or QR set), or the DNS rcode to answer with:
 *   CFLB_DNS_FORMERR  malformed (truncated, compression in the question,
 *                     a bad label type, a name over 255 bytes, trailing
 *                     bytes, two OPT records, a bad OPT or client subnet
 *                     option), or QDCOUNT != 1
 *   CFLB_DNS_NOTIMP   opcode other than QUERY, or a meta qtype (128-254:
 *                     zone transfers, TSIG, TKEY...)
 *   CFLB_DNS_BADVERS  EDNS version above 0
 * Whatever the code, *q is fit for cflb_dns_begin(): the question when it
 * was read, EDNS when the OPT record itself was sound.  Never reads
 * outside pkt[0..len).
 */
int cflb_dns_parse(const unsigned char *pkt, size_t len,
    cflb_dns_query_t *q);

/*
 * cflb_dns_limit() is the largest response allowed: 65535 over TCP; over
 * UDP the client's advertised size capped at edns_max with EDNS (never
 * below 512), 512 without.
 */
size_t cflb_dns_limit(const cflb_dns_query_t *q, size_t edns_max, int tcp);

/*
 * cflb_dns_tcp_frame() finds one message in a TCP stream buffer (a 2-byte
 * length, then the message).  Returns CFLB_AGAIN until buf[0..len) holds
 * all of it, then CFLB_OK with the message at buf + 2 and its length in
 * *msg_len.  cflb_dns_tcp_length() writes the 2-byte prefix of a
 * response of n bytes (n <= 65535).
 */
int cflb_dns_tcp_frame(const unsigned char *buf, size_t len,
    size_t *msg_len);
void cflb_dns_tcp_length(unsigned char *p, size_t n);


/*
 * cflb_dns_begin() starts the response to q in buf, which holds limit
 * bytes (see cflb_dns_limit(); more than 65535 counts as 65535): the
 * header (id, opcode, RD and CD copied; QR; AA if flags has
 * CFLB_DNS_AA; rcode) and the question echoed with the client's case,
 * and room kept for the OPT record if q had EDNS.  buf may be the
 * query's own packet (answering in place).  rcode is 0..15, or above
 * with EDNS (CFLB_DNS_BADVERS).  q must live until cflb_dns_finish().
 * Returns CFLB_OK, or CFLB_ERROR (an rcode that cannot be sent, or a
 * limit too small for the header, question and OPT: never with 512).
 */
int cflb_dns_begin(cflb_dns_writer_t *w, const cflb_dns_query_t *q,
    unsigned char *buf, size_t limit, unsigned rcode, unsigned flags);

/*
 * Records, added in section order (CFLB_DNS_ANSWER, then _AUTHORITY,
 * then _ADDITIONAL), all class IN.  owner and the names in rdata are
 * wire names (cflb_dns_name_from_text(), or the query's); owner NULL
 * means the question's name and costs a 2-byte pointer.  Names are
 * compressed against the question and the names written before (NS,
 * CNAME and SOA rdata included); cflb_dns_add_rr() copies rdata as it
 * is.  Each returns CFLB_OK; CFLB_DECLINED when the record does not fit
 * the limit, which truncates the response: the sections are dropped, TC
 * is set, and later adds are refused the same way; CFLB_ERROR on misuse
 * (a section out of order, an invalid name, NULL owner without a
 * question).
 */
int cflb_dns_add_a(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *addr4);
int cflb_dns_add_aaaa(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *addr16);
int cflb_dns_add_cname(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *target);
int cflb_dns_add_ns(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const unsigned char *ns);
int cflb_dns_add_soa(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, uint32_t ttl, const cflb_dns_soa_t *soa);
int cflb_dns_add_rr(cflb_dns_writer_t *w, unsigned section,
    const unsigned char *owner, unsigned type, uint32_t ttl,
    const unsigned char *rdata, size_t rdlen);

/*
 * cflb_dns_finish() completes the response and returns its length.  If
 * the query had EDNS it appends the OPT record: edns_size (our UDP
 * payload size, at least 512), the extended rcode, version 0, the DO bit
 * copied (RFC 3225), and the client subnet echoed (family, source prefix
 * and address as sent) with the scope prefix given, which is capped at
 * the family's width and is 0 when the source prefix is 0.
 */
size_t cflb_dns_finish(cflb_dns_writer_t *w, unsigned edns_size,
    unsigned scope);

/* cflb_dns_truncated() tells whether the sections were dropped (TC) */
int cflb_dns_truncated(const cflb_dns_writer_t *w);


/*
 * cflb_dns_name_from_text() converts "www.example.com" (a final dot is
 * optional; "." is the root) to wire format in wire[], which must hold
 * CFLB_DNS_NAME_MAX bytes, and its length to *wire_len.  Escapes:
 * "\." and "\\" (any "\X" is X) and "\DDD" (a decimal byte).  Unescaped
 * bytes must be printable ASCII.  Returns CFLB_OK, or CFLB_ERROR with
 * err->msg ("empty label", "label longer than 63 bytes", ...) and
 * err->offset into text.
 */
int cflb_dns_name_from_text(const unsigned char *text, size_t len,
    unsigned char *wire, size_t *wire_len, cflb_err_t *err);

/*
 * cflb_dns_name_to_text() writes the name in wire[0..wire_len) as text
 * with a final dot ("www.example.com.", the root is "."), lowercase with
 * CFLB_DNS_TEXT_LOWER, as sent otherwise.  "." and "\" inside a label
 * are escaped with "\", bytes outside 0x21-0x7e as "\DDD".  Returns the
 * text length, or 0 if the wire name is invalid or does not fit in
 * size bytes (CFLB_DNS_NAME_TEXT_MAX always fits).  No NUL is added.
 */
size_t cflb_dns_name_to_text(const unsigned char *wire, size_t wire_len,
    unsigned char *text, size_t size, unsigned flags);

/*
 * cflb_dns_name_len() returns the length of the uncompressed wire name
 * at name, root label included, reading at most CFLB_DNS_NAME_MAX bytes;
 * 0 if it is not a valid name (a label over 63 bytes or with a
 * compression or extended label type, or over 255 bytes in all).
 */
size_t cflb_dns_name_len(const unsigned char *name);

/* cflb_dns_name_eq() compares two wire names, ASCII case-insensitively */
int cflb_dns_name_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);

/*
 * cflb_dns_name_under() tells where name is relative to zone (both
 * valid wire names): -1 outside it, 0 at its apex, n > 0 n labels below
 * it.  Case-insensitive.
 */
int cflb_dns_name_under(const unsigned char *name, size_t len,
    const unsigned char *zone, size_t zlen);

/*
 * cflb_dns_name_hash() hashes a wire name ASCII case-insensitively
 * (cflb_hash64() of its lowercase form, so stable across platforms).
 * Names are at most 255 bytes; longer input hashes its first 255.
 */
uint64_t cflb_dns_name_hash(const unsigned char *name, size_t len,
    uint64_t seed);


#endif /* _CFLB_DNS_H_INCLUDED_ */
