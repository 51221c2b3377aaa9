
/*
 * cflb_dns_wire: byte-order and case helpers private to the cflb_dns_*.c
 * files.  Byte-wise loads and stores, so no alignment is assumed.
 */

#ifndef _CFLB_DNS_WIRE_H_INCLUDED_
#define _CFLB_DNS_WIRE_H_INCLUDED_


#include "cflb_dns.h"


static inline unsigned
cflb_dns_get16(const unsigned char *p)
{
    return (unsigned) p[0] << 8 | p[1];
}


static inline void
cflb_dns_put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
}


static inline void
cflb_dns_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


/* DNS names compare ASCII case-insensitively only (RFC 4343) */

static inline unsigned char
cflb_dns_lower(unsigned char c)
{
    return (unsigned char) (c + (((unsigned) c - 'A' < 26) << 5));
}


#endif /* _CFLB_DNS_WIRE_H_INCLUDED_ */
