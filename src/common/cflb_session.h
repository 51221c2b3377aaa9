
/*
 * cflb header sessions: the sessions of "session_affinity header", a
 * bounded table keyed by a 128-bit hash of the session headers, least
 * recently used out first.  The table lives in memory the caller gives
 * (the shared zone) and holds no pointer, only indices, so that every
 * process may map it anywhere.
 *
 * Locking: none here; the caller holds the zone mutex around each call.
 */

#ifndef _CFLB_SESSION_H_INCLUDED_
#define _CFLB_SESSION_H_INCLUDED_


#include "cflb_core.h"


typedef struct {
    uint64_t          key[2];
    uint64_t          pool;         /* token ids of where it goes */
    uint64_t          endpoint;
    int64_t           used;         /* sec, last request */
    uint32_t          next;         /* hash chain or free list, index + 1 */
    uint32_t          newer;        /* LRU neighbours, index + 1 */
    uint32_t          older;
} cflb_session_t;


typedef struct {
    uint32_t          capacity;
    uint32_t          count;
    uint32_t          mask;         /* buckets - 1 */
    uint32_t          newest;       /* index + 1, 0: empty */
    uint32_t          oldest;
    uint32_t          free;         /* unused entries, index + 1 */
    /* uint32_t buckets[mask + 1], then cflb_session_t [capacity] */
} cflb_sessions_t;


/*
 * cflb_sessions_fit() is the capacity a table of size bytes holds (0 if
 * none fits); cflb_sessions_size() the bytes a capacity needs.
 */
uint32_t cflb_sessions_fit(size_t size);
size_t cflb_sessions_size(uint32_t capacity);

/* an empty table over cflb_sessions_size(capacity) bytes at t */
void cflb_sessions_init(cflb_sessions_t *t, uint32_t capacity);

/*
 * cflb_sessions_get() finds the session of key.  One idle longer than
 * ttl seconds is removed and reported in *expired; one found is touched
 * (its "used" becomes now, it becomes the newest).  NULL if none.
 */
cflb_session_t *cflb_sessions_get(cflb_sessions_t *t, const uint64_t *key,
    int64_t now, int64_t ttl, int *expired);

/*
 * cflb_sessions_put() returns the session of key, made if new, touched:
 * the caller sets where it goes.  Making one first removes up to two of
 * the oldest sessions idle longer than ttl, and the oldest of all when
 * the table is full, so a new session always finds room.  NULL only for
 * a table of capacity 0.
 */
cflb_session_t *cflb_sessions_put(cflb_sessions_t *t, const uint64_t *key,
    int64_t now, int64_t ttl);

/*
 * cflb_session_seed() is the seed of the RNG that makes a new session's
 * first pick, from its key alone (no table, no node's own state): every
 * node of a fleet that sees the same key and the same pool makes the
 * same pick, as ip_cookie does from the client address.  The same on
 * every platform.
 */
uint64_t cflb_session_seed(const uint64_t *key);


#endif /* _CFLB_SESSION_H_INCLUDED_ */
