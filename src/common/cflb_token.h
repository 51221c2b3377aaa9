
/*
 * Session affinity tokens: the value of the __cflb cookie.  A token names
 * a pool and an endpoint by a hash of their names, never by address, and
 * carries its expiry; a MAC makes it unforgeable.  The MAC itself is the
 * caller's (HMAC-SHA256 in the glue), so the core needs no crypto library.
 */

#ifndef _CFLB_TOKEN_H_INCLUDED_
#define _CFLB_TOKEN_H_INCLUDED_


#include "cflb_core.h"


#define CFLB_TOKEN_VERSION   1
#define CFLB_TOKEN_MAC_LEN   16      /* bytes of the MAC kept */
#define CFLB_TOKEN_RAW_LEN   (1 + 8 + 8 + 4 + CFLB_TOKEN_MAC_LEN)
#define CFLB_TOKEN_LEN       50      /* base64url of the raw bytes */


typedef struct {
    uint64_t          pool;          /* cflb_token_id() of the names */
    uint64_t          endpoint;
    uint32_t          expires;       /* Unix seconds */
} cflb_token_t;


/*
 * The MAC: fills out with at least CFLB_TOKEN_MAC_LEN bytes of a keyed
 * MAC over in.  Returns CFLB_OK or CFLB_ERROR.
 */
typedef struct {
    int             (*mac)(void *data, const unsigned char *in, size_t len,
                           unsigned char *out);
    void             *data;
} cflb_mac_t;


/*
 * Tokens verified lately, by their text: a session's later requests skip
 * the MAC.  Only a token that verified enters, so a hit is as good as a
 * verification; expiry is checked on every hit.  slots (mask + 1 of
 * them, a power of two) must start zeroed.
 */
typedef struct {
    unsigned char     text[CFLB_TOKEN_LEN];
    cflb_token_t      t;
} cflb_token_slot_t;

typedef struct {
    cflb_token_slot_t  *slots;
    size_t              mask;
} cflb_token_cache_t;


/* the identity of a pool or endpoint name in tokens */
uint64_t cflb_token_id(const unsigned char *name, size_t len);

/*
 * cflb_token_encode() writes CFLB_TOKEN_LEN characters to out.
 * Returns CFLB_OK, or CFLB_ERROR if the MAC failed.
 */
int cflb_token_encode(const cflb_mac_t *mac, const cflb_token_t *t,
    unsigned char *out);

/*
 * cflb_token_decode() accepts only a well-formed token of this version
 * whose MAC matches and whose expiry is after now: CFLB_OK and t filled;
 * anything else is CFLB_DECLINED (and CFLB_ERROR if the MAC failed).
 */
int cflb_token_decode(const cflb_mac_t *mac, const unsigned char *in,
    size_t len, uint32_t now, cflb_token_t *t);

/* cflb_token_decode() through the cache (which may be NULL) */
int cflb_token_verify(const cflb_mac_t *mac, cflb_token_cache_t *cache,
    const unsigned char *in, size_t len, uint32_t now, cflb_token_t *t);


#endif /* _CFLB_TOKEN_H_INCLUDED_ */
