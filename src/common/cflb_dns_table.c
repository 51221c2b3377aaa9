
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
    size_t            i;
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

    for (i = 0; i < len; i++) {
        /* length bytes are below 64, so folding leaves them as they are */
        s->name[i] = cflb_dns_lower(name[i]);
    }

    s->len = len;
    s->hash = hash;
    s->value = NULL;
    t->n++;

    return &s->value;
}


void *
cflb_dns_table_get(const cflb_dns_table_t *t, const unsigned char *name,
    size_t len)
{
    const cflb_dns_slot_t  *s;

    if (t->n == 0) {
        return NULL;
    }

    s = cflb_dns_table_find(t, name, len,
                            cflb_dns_name_hash(name, len, t->seed));

    return s->len ? s->value : NULL;
}


void *
cflb_dns_table_closest(const cflb_dns_table_t *t, const unsigned char *name,
    size_t len, size_t *off)
{
    size_t   o;
    void    *v;

    if (t->n == 0) {
        return NULL;
    }

    for (o = 0; o < len; o += name[o] + 1) {
        v = cflb_dns_table_get(t, name + o, len - o);

        if (v != NULL) {
            *off = o;
            return v;
        }

        if (name[o] == 0) {
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
