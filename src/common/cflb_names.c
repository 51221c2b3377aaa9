
/*
 * cflb_names: positions of a caller's array indexed by name (the contract
 * is in cflb_names.h).
 *
 * The hash is FNV-1a over 64 bits, folded to 32: names are short (tens
 * of bytes), read once per lookup, and the folding of letters for a
 * caseless index fits in the same byte loop.  A slot keeps the 32 bits,
 * so a probe compares names only when the hashes are equal.
 */


#include <string.h>

#include "cflb_names.h"


#define CFLB_NAMES_MIN     16          /* slots of the smallest table */

#define cflb_names_pos(s)  ((uint32_t) (s) - 1)
#define cflb_names_hash(s) ((uint32_t) ((s) >> 32))


static uint32_t cflb_names_hash_of(const unsigned char *s, size_t len,
    unsigned caseless);
static int cflb_names_equal(const cflb_names_t *nm, uint32_t pos,
    const unsigned char *s, size_t len);
static int cflb_names_grow(cflb_names_t *nm);


static inline unsigned char
cflb_names_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}


int
cflb_names_init(cflb_names_t *nm, cflb_allocator_t *a, uint32_t hint,
    unsigned caseless, cflb_names_key_pt key, void *data)
{
    uint32_t  size;

    /* at most half full before growing: twice the hint, a power of 2 */

    for (size = CFLB_NAMES_MIN; size / 2 < hint && size < (1U << 31);
         size <<= 1)
    {
        /* void */
    }

    nm->slot = a->alloc(a->data, (size_t) size * sizeof(uint64_t));
    if (nm->slot == NULL) {
        return CFLB_ERROR;
    }

    memset(nm->slot, 0, (size_t) size * sizeof(uint64_t));

    nm->mask = size - 1;
    nm->n = 0;
    nm->caseless = caseless;
    nm->key = key;
    nm->data = data;
    nm->a = a;

    return CFLB_OK;
}


int
cflb_names_find(const cflb_names_t *nm, const unsigned char *s, size_t len)
{
    uint32_t  h, i;
    uint64_t  slot;

    h = cflb_names_hash_of(s, len, nm->caseless);

    for (i = h & nm->mask; (slot = nm->slot[i]) != 0; i = (i + 1) & nm->mask)
    {
        if (cflb_names_hash(slot) == h
            && cflb_names_equal(nm, cflb_names_pos(slot), s, len))
        {
            return (int) cflb_names_pos(slot);
        }
    }

    return CFLB_DECLINED;
}


int
cflb_names_add(cflb_names_t *nm, uint32_t pos, uint32_t *dup)
{
    uint32_t    h, i;
    uint64_t    slot;
    cflb_str_t  name;

    if (pos >= INT32_MAX) {
        return CFLB_ERROR;
    }

    name = nm->key(nm->data, pos);
    h = cflb_names_hash_of(name.data, name.len, nm->caseless);

    for (i = h & nm->mask; (slot = nm->slot[i]) != 0; i = (i + 1) & nm->mask)
    {
        if (cflb_names_hash(slot) == h
            && cflb_names_equal(nm, cflb_names_pos(slot), name.data,
                                name.len))
        {
            if (dup != NULL) {
                *dup = cflb_names_pos(slot);
            }

            return CFLB_DECLINED;
        }
    }

    if (nm->n + 1 > (nm->mask + 1) / 2) {
        if (cflb_names_grow(nm) != CFLB_OK) {
            return CFLB_ERROR;
        }

        /* the free slot found above moved with the table */
        for (i = h & nm->mask; nm->slot[i] != 0; i = (i + 1) & nm->mask) {
            /* void */
        }
    }

    nm->slot[i] = (uint64_t) h << 32 | (pos + 1);
    nm->n++;

    return CFLB_OK;
}


void
cflb_names_free(cflb_names_t *nm)
{
    if (nm->slot != NULL) {
        nm->a->free(nm->a->data, nm->slot);
        nm->slot = NULL;
    }

    nm->n = 0;
}


/* twice the slots; every position placed again by the hash it kept */

static int
cflb_names_grow(cflb_names_t *nm)
{
    uint32_t   size, mask, i, j;
    uint64_t  *slot;

    if (nm->mask >= (1U << 30)) {
        return CFLB_ERROR;
    }

    size = 2 * (nm->mask + 1);
    mask = size - 1;

    slot = nm->a->alloc(nm->a->data, (size_t) size * sizeof(uint64_t));
    if (slot == NULL) {
        return CFLB_ERROR;
    }

    memset(slot, 0, (size_t) size * sizeof(uint64_t));

    for (i = 0; i <= nm->mask; i++) {
        if (nm->slot[i] == 0) {
            continue;
        }

        for (j = cflb_names_hash(nm->slot[i]) & mask; slot[j] != 0;
             j = (j + 1) & mask)
        {
            /* void */
        }

        slot[j] = nm->slot[i];
    }

    nm->a->free(nm->a->data, nm->slot);
    nm->slot = slot;
    nm->mask = mask;

    return CFLB_OK;
}


static uint32_t
cflb_names_hash_of(const unsigned char *s, size_t len, unsigned caseless)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    if (caseless) {
        for (i = 0; i < len; i++) {
            h = (h ^ cflb_names_fold(s[i])) * 0x100000001b3ULL;
        }

    } else {
        for (i = 0; i < len; i++) {
            h = (h ^ s[i]) * 0x100000001b3ULL;
        }
    }

    return (uint32_t) (h ^ h >> 32);
}


static int
cflb_names_equal(const cflb_names_t *nm, uint32_t pos,
    const unsigned char *s, size_t len)
{
    size_t      i;
    cflb_str_t  name;

    name = nm->key(nm->data, pos);

    if (name.len != len) {
        return 0;
    }

    if (!nm->caseless) {
        return len == 0 || memcmp(name.data, s, len) == 0;
    }

    for (i = 0; i < len; i++) {
        if (cflb_names_fold(name.data[i]) != cflb_names_fold(s[i])) {
            return 0;
        }
    }

    return 1;
}
