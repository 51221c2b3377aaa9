
/*
 * cflb_dns_table: the names a DNS-only responder knows (zone apexes,
 * load balancer hostnames and the names between them), as a read-only
 * hash table from wire names to the caller's values.  Built once per
 * configuration, then looked up per query: an exact match, or the
 * closest enclosing name (the longest suffix of the query name that the
 * table holds), both ASCII case-insensitive (RFC 4343).
 */

#ifndef _CFLB_DNS_TABLE_H_INCLUDED_
#define _CFLB_DNS_TABLE_H_INCLUDED_


#include "cflb_dns.h"


typedef struct {
    unsigned char        *name;            /* wire, lowercase, a copy */
    size_t                len;             /* 0: a free slot */
    uint64_t              hash;
    void                 *value;
} cflb_dns_slot_t;


/*
 * Open addressing with linear probing, at most half full: a lookup
 * probes about 1.5 slots on a hit.  Fields are private to
 * cflb_dns_table.c.
 */
typedef struct {
    cflb_dns_slot_t      *slots;
    size_t                mask;            /* slots - 1, a power of 2 */
    size_t                n;               /* names held */
    size_t                max;             /* names it may hold */
    uint64_t              seed;
} cflb_dns_table_t;


/*
 * cflb_dns_table_init() makes an empty table for at most max names, its
 * hash salted with seed.  CFLB_OK, or CFLB_ERROR (no memory).
 */
int cflb_dns_table_init(cflb_dns_table_t *t, size_t max, uint64_t seed,
    cflb_allocator_t *a);

/*
 * cflb_dns_table_put() returns the value slot of name (a valid wire name,
 * any case): the one already there, or a new one holding NULL, so the
 * caller both finds and adds with it.  NULL if the name is invalid, the
 * table holds max names already, or memory ran out.
 */
void **cflb_dns_table_put(cflb_dns_table_t *t, const unsigned char *name,
    size_t len, cflb_allocator_t *a);

/* cflb_dns_table_get() is the value of name, or NULL if not held */
void *cflb_dns_table_get(const cflb_dns_table_t *t,
    const unsigned char *name, size_t len);

/*
 * cflb_dns_table_closest() is the value of the longest suffix of name
 * (name itself first, then without its first label, and so on up to the
 * root) that the table holds, with the offset of that suffix in name in
 * *off (0: name itself); NULL if none is held.  name must be a valid
 * wire name of len bytes (cflb_dns_parse() checked the question's).
 */
void *cflb_dns_table_closest(const cflb_dns_table_t *t,
    const unsigned char *name, size_t len, size_t *off);

/* cflb_dns_table_free() releases the table and its name copies */
void cflb_dns_table_free(cflb_dns_table_t *t, cflb_allocator_t *a);


#endif /* _CFLB_DNS_TABLE_H_INCLUDED_ */
