
/*
 * cflb header sessions: a chained hash table over a fixed array, with an
 * LRU list through the same entries.  Indices are stored plus one, so
 * that a zeroed field means "none".
 */


#include <string.h>

#include "cflb_session.h"


#define cflb_buckets(t)   ((uint32_t *) ((t) + 1))
#define cflb_entries(t)   ((cflb_session_t *) (cflb_buckets(t)              \
                                               + (t)->mask + 1))
#define cflb_entry(t, n)  (&cflb_entries(t)[(n) - 1])


static uint32_t cflb_sessions_buckets(uint32_t capacity);
static void cflb_sessions_unlink(cflb_sessions_t *t, uint32_t n);
static void cflb_sessions_newest(cflb_sessions_t *t, uint32_t n);
static void cflb_sessions_remove(cflb_sessions_t *t, uint32_t n);


/* buckets: a power of two, at least the capacity, so chains stay short */

static uint32_t
cflb_sessions_buckets(uint32_t capacity)
{
    uint32_t  b;

    for (b = 1; b < capacity && b < 0x80000000u; b <<= 1) {
        /* void */
    }

    return b;
}


size_t
cflb_sessions_size(uint32_t capacity)
{
    return sizeof(cflb_sessions_t)
           + cflb_sessions_buckets(capacity) * sizeof(uint32_t)
           + (size_t) capacity * sizeof(cflb_session_t);
}


uint32_t
cflb_sessions_fit(size_t size)
{
    uint64_t  lo, hi, mid;

    if (size < sizeof(cflb_sessions_t)) {
        return 0;
    }

    /* every entry takes at least one bucket word: an upper bound */
    hi = (size - sizeof(cflb_sessions_t))
         / (sizeof(cflb_session_t) + sizeof(uint32_t));
    hi = (hi > 0x7fffffff) ? 0x7fffffff : hi;
    lo = 0;

    while (lo < hi) {
        mid = lo + (hi - lo + 1) / 2;

        if (cflb_sessions_size((uint32_t) mid) <= size) {
            lo = mid;

        } else {
            hi = mid - 1;
        }
    }

    return (uint32_t) lo;
}


void
cflb_sessions_init(cflb_sessions_t *t, uint32_t capacity)
{
    uint32_t         i;
    cflb_session_t  *e;

    t->capacity = capacity;
    t->count = 0;
    t->mask = cflb_sessions_buckets(capacity) - 1;
    t->newest = 0;
    t->oldest = 0;
    t->free = capacity ? 1 : 0;

    memset(cflb_buckets(t), 0, (t->mask + 1) * sizeof(uint32_t));

    e = cflb_entries(t);

    for (i = 0; i < capacity; i++) {
        memset(&e[i], 0, sizeof(cflb_session_t));
        e[i].next = (i + 1 < capacity) ? i + 2 : 0;
    }
}


cflb_session_t *
cflb_sessions_get(cflb_sessions_t *t, const uint64_t *key, int64_t now,
    int64_t ttl, int *expired)
{
    uint32_t         n;
    cflb_session_t  *e;

    *expired = 0;

    for (n = cflb_buckets(t)[key[0] & t->mask]; n; n = e->next) {
        e = cflb_entry(t, n);

        if (e->key[0] != key[0] || e->key[1] != key[1]) {
            continue;
        }

        if (now - e->used > ttl) {
            cflb_sessions_remove(t, n);
            *expired = 1;
            return NULL;
        }

        e->used = now;
        cflb_sessions_unlink(t, n);
        cflb_sessions_newest(t, n);

        return e;
    }

    return NULL;
}


cflb_session_t *
cflb_sessions_put(cflb_sessions_t *t, const uint64_t *key, int64_t now,
    int64_t ttl)
{
    int              expired, i;
    uint32_t         n, *bucket;
    cflb_session_t  *e;

    e = cflb_sessions_get(t, key, now, ttl, &expired);
    if (e) {
        return e;
    }

    if (t->capacity == 0) {
        return NULL;
    }

    for (i = 0; i < 2 && t->oldest; i++) {
        if (now - cflb_entry(t, t->oldest)->used <= ttl) {
            break;
        }

        cflb_sessions_remove(t, t->oldest);
    }

    if (t->free == 0) {
        cflb_sessions_remove(t, t->oldest);
    }

    n = t->free;
    e = cflb_entry(t, n);
    t->free = e->next;

    memset(e, 0, sizeof(cflb_session_t));
    e->key[0] = key[0];
    e->key[1] = key[1];
    e->used = now;

    bucket = &cflb_buckets(t)[key[0] & t->mask];
    e->next = *bucket;
    *bucket = n;

    cflb_sessions_newest(t, n);
    t->count++;

    return e;
}


static void
cflb_sessions_unlink(cflb_sessions_t *t, uint32_t n)
{
    cflb_session_t  *e;

    e = cflb_entry(t, n);

    if (e->newer) {
        cflb_entry(t, e->newer)->older = e->older;

    } else {
        t->newest = e->older;
    }

    if (e->older) {
        cflb_entry(t, e->older)->newer = e->newer;

    } else {
        t->oldest = e->newer;
    }

    e->newer = 0;
    e->older = 0;
}


static void
cflb_sessions_newest(cflb_sessions_t *t, uint32_t n)
{
    cflb_session_t  *e;

    e = cflb_entry(t, n);
    e->older = t->newest;
    e->newer = 0;

    if (t->newest) {
        cflb_entry(t, t->newest)->newer = n;

    } else {
        t->oldest = n;
    }

    t->newest = n;
}


/* out of its chain and the LRU list, onto the free list */

static void
cflb_sessions_remove(cflb_sessions_t *t, uint32_t n)
{
    uint32_t        *p;
    cflb_session_t  *e;

    e = cflb_entry(t, n);

    for (p = &cflb_buckets(t)[e->key[0] & t->mask];
         *p != n;
         p = &cflb_entry(t, *p)->next)
    {
        /* void: n is in this chain */
    }

    *p = e->next;

    cflb_sessions_unlink(t, n);

    e->next = t->free;
    t->free = n;
    t->count--;
}


uint64_t
cflb_session_seed(const uint64_t *key)
{
    uint64_t  x;

    /* both halves folded, then splitmix64's finalizer: integers only */
    x = key[0] ^ (key[1] * 0x9e3779b97f4a7c15ULL);

    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;

    return x;
}
