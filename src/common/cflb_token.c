
/*
 * Affinity tokens: version, pool id, endpoint id and expiry, little
 * endian, then the first CFLB_TOKEN_MAC_LEN bytes of the MAC over them;
 * all of it base64url without padding, so it needs no cookie quoting.
 */

#include <string.h>

#include "cflb_token.h"


#define CFLB_TOKEN_BODY_LEN  (CFLB_TOKEN_RAW_LEN - CFLB_TOKEN_MAC_LEN)

/* a fixed seed keeps ids apart from other uses of the hash */
#define CFLB_TOKEN_ID_SEED   0x63666c622d6964ULL        /* "cflb-id" */


static const char  cflb_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static void cflb_put64(unsigned char *p, uint64_t v);
static uint64_t cflb_get64(const unsigned char *p);
static void cflb_b64_encode(unsigned char *out, const unsigned char *in,
    size_t len);
static int cflb_b64_decode(unsigned char *out, const unsigned char *in,
    size_t len);
static int cflb_b64_value(unsigned char c);


uint64_t
cflb_token_id(const unsigned char *name, size_t len)
{
    return cflb_hash64(name, len, CFLB_TOKEN_ID_SEED);
}


int
cflb_token_encode(const cflb_mac_t *mac, const cflb_token_t *t,
    unsigned char *out)
{
    unsigned char  raw[CFLB_TOKEN_RAW_LEN + 32];  /* room for a whole MAC */

    raw[0] = CFLB_TOKEN_VERSION;
    cflb_put64(raw + 1, t->pool);
    cflb_put64(raw + 9, t->endpoint);
    raw[17] = (unsigned char) t->expires;
    raw[18] = (unsigned char) (t->expires >> 8);
    raw[19] = (unsigned char) (t->expires >> 16);
    raw[20] = (unsigned char) (t->expires >> 24);

    if (mac->mac(mac->data, raw, CFLB_TOKEN_BODY_LEN,
                 raw + CFLB_TOKEN_BODY_LEN)
        != CFLB_OK)
    {
        return CFLB_ERROR;
    }

    cflb_b64_encode(out, raw, CFLB_TOKEN_RAW_LEN);

    return CFLB_OK;
}


int
cflb_token_decode(const cflb_mac_t *mac, const unsigned char *in,
    size_t len, uint32_t now, cflb_token_t *t)
{
    unsigned int   i, diff;
    unsigned char  raw[CFLB_TOKEN_RAW_LEN], sum[CFLB_TOKEN_RAW_LEN + 32];

    if (len != CFLB_TOKEN_LEN
        || cflb_b64_decode(raw, in, len) != CFLB_OK
        || raw[0] != CFLB_TOKEN_VERSION)
    {
        return CFLB_DECLINED;
    }

    if (mac->mac(mac->data, raw, CFLB_TOKEN_BODY_LEN, sum) != CFLB_OK) {
        return CFLB_ERROR;
    }

    /* in constant time: no timing hints for forging the MAC */
    diff = 0;

    for (i = 0; i < CFLB_TOKEN_MAC_LEN; i++) {
        diff |= raw[CFLB_TOKEN_BODY_LEN + i] ^ sum[i];
    }

    if (diff) {
        return CFLB_DECLINED;
    }

    t->pool = cflb_get64(raw + 1);
    t->endpoint = cflb_get64(raw + 9);
    t->expires = (uint32_t) (raw[17] | raw[18] << 8 | raw[19] << 16
                             | (uint32_t) raw[20] << 24);

    return t->expires > now ? CFLB_OK : CFLB_DECLINED;
}


int
cflb_token_verify(const cflb_mac_t *mac, cflb_token_cache_t *cache,
    const unsigned char *in, size_t len, uint32_t now, cflb_token_t *t)
{
    int                 rc;
    uint64_t            v;
    cflb_token_slot_t  *slot;

    if (cache == NULL || len != CFLB_TOKEN_LEN) {
        return cflb_token_decode(mac, in, len, now, t);
    }

    /* the MAC's characters are uniform already: mixing them is enough */
    memcpy(&v, in + CFLB_TOKEN_LEN - 9, sizeof(v));
    slot = &cache->slots[(size_t) ((v * 0x9e3779b97f4a7c15ULL) >> 40)
                         & cache->mask];

    if (memcmp(slot->text, in, len) == 0) {
        *t = slot->t;
        return t->expires > now ? CFLB_OK : CFLB_DECLINED;
    }

    rc = cflb_token_decode(mac, in, len, now, t);

    if (rc == CFLB_OK) {
        memcpy(slot->text, in, len);
        slot->t = *t;
    }

    return rc;
}


static void
cflb_put64(unsigned char *p, uint64_t v)
{
    int  i;

    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char) (v >> (8 * i));
    }
}


static uint64_t
cflb_get64(const unsigned char *p)
{
    int       i;
    uint64_t  v;

    v = 0;

    for (i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }

    return v;
}


/* len must be CFLB_TOKEN_RAW_LEN: its last group has one byte */

static void
cflb_b64_encode(unsigned char *out, const unsigned char *in, size_t len)
{
    size_t    i;
    uint32_t  v;

    for (i = 0; i + 3 <= len; i += 3) {
        v = (uint32_t) in[i] << 16 | in[i + 1] << 8 | in[i + 2];
        *out++ = cflb_b64[v >> 18];
        *out++ = cflb_b64[v >> 12 & 63];
        *out++ = cflb_b64[v >> 6 & 63];
        *out++ = cflb_b64[v & 63];
    }

    v = (uint32_t) in[i] << 16;
    *out++ = cflb_b64[v >> 18];
    *out = cflb_b64[v >> 12 & 63];
}


static int
cflb_b64_decode(unsigned char *out, const unsigned char *in, size_t len)
{
    int       c;
    size_t    i;
    uint32_t  v;

    v = 0;

    for (i = 0; i < len; i++) {
        c = cflb_b64_value(in[i]);

        if (c < 0) {
            return CFLB_DECLINED;
        }

        v = v << 6 | (uint32_t) c;

        if (i % 4 == 3) {
            *out++ = (unsigned char) (v >> 16);
            *out++ = (unsigned char) (v >> 8);
            *out++ = (unsigned char) v;
            v = 0;
        }
    }

    /* two characters left: one byte, and the rest must be zero bits */
    if (v & 15) {
        return CFLB_DECLINED;
    }

    *out = (unsigned char) (v >> 4);

    return CFLB_OK;
}


static int
cflb_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    return c == '_' ? 63 : -1;
}
