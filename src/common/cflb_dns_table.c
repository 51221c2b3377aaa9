
/*
 * cflb_dns_table: wire names to values, case-insensitively, for the
 * DNS-only responder's per-query lookups.  The table never grows: the
 * caller counts its names first, and slots are twice that, rounded up
 * to a power of 2, so probing stays short.
 */


#include <string.h>

#include "cflb_dns_table.h"
#include "cflb_dns_wire.h"


static const cflb_dns_slot_t *cflb_dns_table_find(const cflb_dns_table_t *t,
    const unsigned char *name, size_t len, uint64_t hash);
static void *cflb_dns_table_lookup(const cflb_dns_table_t *t,
    const unsigned char *low, size_t len);
static void cflb_dns_table_lower(const unsigned char *name, size_t len,
    unsigned char *low);


int
cflb_dns_table_init(cflb_dns_table_t *t, size_t max, uint64_t seed,
    cflb_allocator_t *a)
{
    size_t  size;

    memset(t, 0, sizeof(cflb_dns_table_t));

    for (size = 4; size < 2 * max; size *= 2) {
        /* void */
    }

    t->slots = a->alloc(a->data, size * sizeof(cflb_dns_slot_t));
    if (t->slots == NULL) {
        return CFLB_ERROR;
    }

    memset(t->slots, 0, size * sizeof(cflb_dns_slot_t));

    t->mask = size - 1;
    t->max = max;
    t->seed = seed;

    return CFLB_OK;
}


void **
cflb_dns_table_put(cflb_dns_table_t *t, const unsigned char *name,
    size_t len, cflb_allocator_t *a)
{
    uint64_t          hash;
    cflb_dns_slot_t  *s;

    if (len == 0 || cflb_dns_name_len(name) != len) {
        return NULL;
    }

    hash = cflb_dns_name_hash(name, len, t->seed);

    s = (cflb_dns_slot_t *) cflb_dns_table_find(t, name, len, hash);

    if (s->len) {
        return &s->value;
    }

    if (t->n == t->max) {
        return NULL;
    }

    s->name = a->alloc(a->data, len);
    if (s->name == NULL) {
        return NULL;
    }

    /* length bytes are below 64, so folding leaves them as they are */
    cflb_dns_table_lower(name, len, s->name);

    s->len = len;
    s->hash = hash;
    s->value = NULL;
    t->n++;

    return &s->value;
}


/*
 * The lookups fold the query name once, then hash it as it was stored
 * (cflb_dns_name_hash() is the hash of the folded name) and compare it
 * bytewise with the stored folded copies: per query, one pass over the
 * name to fold and one to compare.
 */

void *
cflb_dns_table_get(const cflb_dns_table_t *t, const unsigned char *name,
    size_t len)
{
    unsigned char  low[CFLB_DNS_NAME_MAX];

    if (t->n == 0 || len > CFLB_DNS_NAME_MAX) {
        return NULL;
    }

    cflb_dns_table_lower(name, len, low);

    return cflb_dns_table_lookup(t, low, len);
}


void *
cflb_dns_table_closest(const cflb_dns_table_t *t, const unsigned char *name,
    size_t len, size_t *off)
{
    size_t          o;
    void           *v;
    unsigned char   low[CFLB_DNS_NAME_MAX];

    if (t->n == 0 || len > CFLB_DNS_NAME_MAX) {
        return NULL;
    }

    cflb_dns_table_lower(name, len, low);

    for (o = 0; o < len; o += low[o] + 1) {
        v = cflb_dns_table_lookup(t, low + o, len - o);

        if (v != NULL) {
            *off = o;
            return v;
        }

        if (low[o] == 0) {
            break;
        }
    }

    return NULL;
}


void
cflb_dns_table_free(cflb_dns_table_t *t, cflb_allocator_t *a)
{
    size_t  i;

    if (t->slots == NULL) {
        return;
    }

    for (i = 0; i <= t->mask; i++) {
        if (t->slots[i].len) {
            a->free(a->data, t->slots[i].name);
        }
    }

    a->free(a->data, t->slots);
    t->slots = NULL;
    t->n = 0;
}


/* the slot holding name, or the free slot where it would go */

static const cflb_dns_slot_t *
cflb_dns_table_find(const cflb_dns_table_t *t, const unsigned char *name,
    size_t len, uint64_t hash)
{
    size_t                  i;
    const cflb_dns_slot_t  *s;

    for (i = (size_t) hash & t->mask; /* void */ ; i = (i + 1) & t->mask) {
        s = &t->slots[i];

        if (s->len == 0) {
            return s;
        }

        if (s->hash == hash && cflb_dns_name_eq(s->name, s->len, name, len))
        {
            return s;
        }
    }
}


/* the value of low, a folded name, or NULL */

static void *
cflb_dns_table_lookup(const cflb_dns_table_t *t, const unsigned char *low,
    size_t len)
{
    size_t                  i;
    uint64_t                hash;
    const cflb_dns_slot_t  *s;

    hash = cflb_hash64(low, len, t->seed);

    for (i = (size_t) hash & t->mask; /* void */ ; i = (i + 1) & t->mask) {
        s = &t->slots[i];

        if (s->len == 0) {
            return NULL;
        }

        if (s->hash == hash && s->len == len
            && memcmp(s->name, low, len) == 0)
        {
            return s->value;
        }
    }
}


static void
cflb_dns_table_lower(const unsigned char *name, size_t len,
    unsigned char *low)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        low[i] = cflb_dns_lower(name[i]);
    }
}
