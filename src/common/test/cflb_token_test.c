
/*
 * cflb_token.c: round trips, and every way a token can be wrong is
 * declined: any changed character, truncation, extension, a foreign key,
 * expiry, a bad alphabet or version.  The MAC here is a keyed stand-in;
 * the glue's is HMAC-SHA256.
 */


#include "cflb_test.h"
#include "cflb_token.h"


static int
test_mac(void *data, const unsigned char *in, size_t len, unsigned char *out)
{
    uint64_t  key, h1, h2;

    key = *(uint64_t *) data;
    h1 = cflb_hash64(in, len, key);
    h2 = cflb_hash64(in, len, key ^ 0x9e3779b97f4a7c15ULL);

    memcpy(out, &h1, 8);
    memcpy(out + 8, &h2, 8);

    return CFLB_OK;
}


static int  calls;


static int
counting_mac(void *data, const unsigned char *in, size_t len,
    unsigned char *out)
{
    calls++;

    return test_mac(data, in, len, out);
}


static int
failing_mac(void *data, const unsigned char *in, size_t len,
    unsigned char *out)
{
    (void) data;
    (void) in;
    (void) len;
    (void) out;

    return CFLB_ERROR;
}


int
main(void)
{
    int            rc;
    size_t         i, j;
    uint64_t       key, other_key;
    cflb_mac_t     mac, other, broken;
    cflb_token_t   in, out;
    cflb_test_t    t = { 0, 0 };
    unsigned char  tok[CFLB_TOKEN_LEN + 8], bad[CFLB_TOKEN_LEN + 8];

    key = 42;
    other_key = 43;
    mac.mac = test_mac;
    mac.data = &key;
    other.mac = test_mac;
    other.data = &other_key;
    broken.mac = failing_mac;
    broken.data = NULL;

    in.pool = cflb_token_id((const unsigned char *) "eu", 2);
    in.endpoint = cflb_token_id((const unsigned char *) "web-1", 5);
    in.expires = 2000000000u;

    cflb_check(&t, in.pool != in.endpoint);
    cflb_check(&t, cflb_token_id((const unsigned char *) "eu", 2)
                   == in.pool);

    /* round trip, in the base64url alphabet only */
    memset(tok, '#', sizeof(tok));
    cflb_check(&t, cflb_token_encode(&mac, &in, tok) == CFLB_OK);
    cflb_check(&t, tok[CFLB_TOKEN_LEN] == '#');

    for (i = 0; i < CFLB_TOKEN_LEN; i++) {
        cflb_check_msg(&t, strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                  "nopqrstuvwxyz0123456789-_", tok[i])
                           && tok[i] != '\0', "char %zu", i);
    }

    memset(&out, 0, sizeof(out));
    rc = cflb_token_decode(&mac, tok, CFLB_TOKEN_LEN, 1700000000u, &out);
    cflb_check(&t, rc == CFLB_OK);
    cflb_check(&t, out.pool == in.pool && out.endpoint == in.endpoint
                   && out.expires == in.expires);

    /* expiry: valid strictly before it */
    cflb_check(&t, cflb_token_decode(&mac, tok, CFLB_TOKEN_LEN,
                                     in.expires - 1, &out) == CFLB_OK);
    cflb_check(&t, cflb_token_decode(&mac, tok, CFLB_TOKEN_LEN,
                                     in.expires, &out) == CFLB_DECLINED);
    cflb_check(&t, cflb_token_decode(&mac, tok, CFLB_TOKEN_LEN,
                                     0xffffffffu, &out) == CFLB_DECLINED);

    /* another key */
    cflb_check(&t, cflb_token_decode(&other, tok, CFLB_TOKEN_LEN, 0, &out)
                   == CFLB_DECLINED);

    /* every character changed to every other: all declined */
    for (i = 0; i < CFLB_TOKEN_LEN; i++) {
        for (j = 0; j < 256; j++) {
            if (j == tok[i]) {
                continue;
            }

            memcpy(bad, tok, CFLB_TOKEN_LEN);
            bad[i] = (unsigned char) j;

            rc = cflb_token_decode(&mac, bad, CFLB_TOKEN_LEN, 0, &out);
            cflb_check_msg(&t, rc == CFLB_DECLINED, "char %zu = %zu", i, j);
        }
    }

    /* every shorter and a longer length */
    for (i = 0; i < CFLB_TOKEN_LEN; i++) {
        cflb_check(&t, cflb_token_decode(&mac, tok, i, 0, &out)
                       == CFLB_DECLINED);
    }

    memcpy(bad, tok, CFLB_TOKEN_LEN);
    bad[CFLB_TOKEN_LEN] = 'A';
    cflb_check(&t, cflb_token_decode(&mac, bad, CFLB_TOKEN_LEN + 1, 0, &out)
                   == CFLB_DECLINED);

    /* a token of another version, properly MACed, is declined */
    memset(bad, 'A', CFLB_TOKEN_LEN);
    cflb_check(&t, cflb_token_decode(&mac, bad, CFLB_TOKEN_LEN, 0, &out)
                   == CFLB_DECLINED);

    /* a failing MAC is an error both ways, never a valid token */
    cflb_check(&t, cflb_token_encode(&broken, &in, bad) == CFLB_ERROR);
    cflb_check(&t, cflb_token_decode(&broken, tok, CFLB_TOKEN_LEN, 0, &out)
                   == CFLB_ERROR);

    /* distinct endpoints make distinct tokens */
    out = in;
    out.endpoint++;
    cflb_check(&t, cflb_token_encode(&mac, &out, bad) == CFLB_OK);
    cflb_check(&t, memcmp(bad, tok, CFLB_TOKEN_LEN) != 0);

    /* the cache: hits skip the MAC, only verified tokens enter */
    {
        static cflb_token_slot_t  slots[4];
        cflb_token_cache_t        cache = { slots, 3 };

        calls = 0;
        mac.mac = counting_mac;

        cflb_check(&t, cflb_token_encode(&mac, &in, tok) == CFLB_OK);
        calls = 0;

        cflb_check(&t, cflb_token_verify(&mac, &cache, tok, CFLB_TOKEN_LEN,
                                         0, &out) == CFLB_OK);
        cflb_check(&t, calls == 1);

        for (i = 0; i < 10; i++) {
            memset(&out, 0, sizeof(out));
            cflb_check(&t, cflb_token_verify(&mac, &cache, tok,
                                             CFLB_TOKEN_LEN, 0, &out)
                           == CFLB_OK);
            cflb_check(&t, out.endpoint == in.endpoint);
        }

        cflb_check(&t, calls == 1);

        /* expiry is checked on hits too */
        cflb_check(&t, cflb_token_verify(&mac, &cache, tok, CFLB_TOKEN_LEN,
                                         in.expires, &out)
                       == CFLB_DECLINED);

        /* a tampered token is never a hit and never enters */
        memcpy(bad, tok, CFLB_TOKEN_LEN);
        bad[7] = (bad[7] == 'A') ? 'B' : 'A';

        for (i = 0; i < 3; i++) {
            cflb_check(&t, cflb_token_verify(&mac, &cache, bad,
                                             CFLB_TOKEN_LEN, 0, &out)
                           == CFLB_DECLINED);
        }

        cflb_check(&t, calls == 4);

        /* an empty slot matches no token: zero bytes are not base64url */
        cflb_check(&t, cflb_token_verify(&mac, &cache, tok, 5, 0, &out)
                       == CFLB_DECLINED);
    }

    return cflb_test_done(&t, "cflb_token");
}
