
/*
 * cflb RNG and byte hash.
 *
 * The RNG is splitmix64 (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): one 64-bit word of
 * state, every seed valid, good enough for load balancing and cheap.
 * Bounded draws use Lemire's multiply-shift with rejection ("Fast random
 * integer generation in an interval", ACM TOMACS 2019), which is exact.
 *
 * cflb_hash64() is XXH64 (https://github.com/Cyan4973/xxHash, spec in
 * doc/xxhash_spec.md), written from the spec.  Input is read byte by byte
 * as little-endian words, so the result is the same on every platform
 * and word size and matches the reference vectors.
 */


#include "cflb_core.h"


#define CFLB_XXH_P1  0x9E3779B185EBCA87ULL
#define CFLB_XXH_P2  0xC2B2AE3D27D4EB4FULL
#define CFLB_XXH_P3  0x165667B19E3779F9ULL
#define CFLB_XXH_P4  0x85EBCA77C2B2AE63ULL
#define CFLB_XXH_P5  0x27D4EB2F165667C5ULL


static uint64_t cflb_mul128(uint64_t a, uint64_t b, uint64_t *lo);
static uint64_t cflb_rotl64(uint64_t x, unsigned r);
static uint64_t cflb_read64le(const unsigned char *p);
static uint32_t cflb_read32le(const unsigned char *p);
static uint64_t cflb_xxh_stripes(const unsigned char *p, size_t len,
    uint64_t seed);
static uint64_t cflb_xxh_round(uint64_t acc, uint64_t input);
static uint64_t cflb_xxh_merge(uint64_t acc, uint64_t val);


void
cflb_rng_seed(cflb_rng_t *rng, uint64_t seed)
{
    rng->s = seed;
}


uint64_t
cflb_rng_next(cflb_rng_t *rng)
{
    uint64_t  z;

    rng->s += 0x9E3779B97F4A7C15ULL;

    z = rng->s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;

    return z ^ (z >> 31);
}


uint64_t
cflb_rng_below(cflb_rng_t *rng, uint64_t bound)
{
    uint64_t  hi, lo, t;

    hi = cflb_mul128(cflb_rng_next(rng), bound, &lo);

    if (lo < bound) {
        /* t = 2^64 mod bound: the low products that would bias the result */
        t = (0 - bound) % bound;

        while (lo < t) {
            hi = cflb_mul128(cflb_rng_next(rng), bound, &lo);
        }
    }

    return hi;
}


/* the full 128-bit product: high word returned, low word in *lo */

static uint64_t
cflb_mul128(uint64_t a, uint64_t b, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)

    __extension__ typedef unsigned __int128  cflb_u128_t;

    cflb_u128_t  p;

    p = (cflb_u128_t) a * b;
    *lo = (uint64_t) p;

    return (uint64_t) (p >> 64);

#else

    /* schoolbook on 32-bit halves; the sum for mid cannot overflow */

    uint64_t  al, ah, bl, bh, p0, p1, p2, mid;

    al = a & 0xFFFFFFFF;
    ah = a >> 32;
    bl = b & 0xFFFFFFFF;
    bh = b >> 32;

    p0 = al * bl;
    p1 = al * bh;
    p2 = ah * bl;

    mid = (p0 >> 32) + (p1 & 0xFFFFFFFF) + p2;
    *lo = (mid << 32) | (p0 & 0xFFFFFFFF);

    return ah * bh + (p1 >> 32) + (mid >> 32);

#endif
}


uint64_t
cflb_hash64(const void *data, size_t len, uint64_t seed)
{
    size_t                left;
    uint64_t              h;
    const unsigned char  *p;

    /* no pointer arithmetic beyond what is read: data may be NULL if 0 */

    p = data;
    left = len;

    if (left >= 32) {
        h = cflb_xxh_stripes(p, left, seed);
        p += left & ~(size_t) 31;
        left &= 31;

    } else {
        h = seed + CFLB_XXH_P5;
    }

    h += (uint64_t) len;

    for ( /* void */ ; left >= 8; left -= 8) {
        h ^= cflb_xxh_round(0, cflb_read64le(p));
        h = cflb_rotl64(h, 27) * CFLB_XXH_P1 + CFLB_XXH_P4;
        p += 8;
    }

    if (left >= 4) {
        h ^= (uint64_t) cflb_read32le(p) * CFLB_XXH_P1;
        h = cflb_rotl64(h, 23) * CFLB_XXH_P2 + CFLB_XXH_P3;
        p += 4;
        left -= 4;
    }

    for ( /* void */ ; left > 0; left--) {
        h ^= *p++ * CFLB_XXH_P5;
        h = cflb_rotl64(h, 11) * CFLB_XXH_P1;
    }

    /* avalanche */

    h ^= h >> 33;
    h *= CFLB_XXH_P2;
    h ^= h >> 29;
    h *= CFLB_XXH_P3;
    h ^= h >> 32;

    return h;
}


/* the 32-byte stripes of the input, len >= 32; a tail is left over */

static uint64_t
cflb_xxh_stripes(const unsigned char *p, size_t len, uint64_t seed)
{
    uint64_t  h, v1, v2, v3, v4;

    v1 = seed + CFLB_XXH_P1 + CFLB_XXH_P2;
    v2 = seed + CFLB_XXH_P2;
    v3 = seed;
    v4 = seed - CFLB_XXH_P1;

    for ( /* void */ ; len >= 32; len -= 32) {
        v1 = cflb_xxh_round(v1, cflb_read64le(p));
        v2 = cflb_xxh_round(v2, cflb_read64le(p + 8));
        v3 = cflb_xxh_round(v3, cflb_read64le(p + 16));
        v4 = cflb_xxh_round(v4, cflb_read64le(p + 24));
        p += 32;
    }

    h = cflb_rotl64(v1, 1) + cflb_rotl64(v2, 7) + cflb_rotl64(v3, 12)
        + cflb_rotl64(v4, 18);
    h = cflb_xxh_merge(h, v1);
    h = cflb_xxh_merge(h, v2);
    h = cflb_xxh_merge(h, v3);
    h = cflb_xxh_merge(h, v4);

    return h;
}


static uint64_t
cflb_rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}


static uint64_t
cflb_read64le(const unsigned char *p)
{
    return (uint64_t) cflb_read32le(p)
           | (uint64_t) cflb_read32le(p + 4) << 32;
}


static uint32_t
cflb_read32le(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static uint64_t
cflb_xxh_round(uint64_t acc, uint64_t input)
{
    acc += input * CFLB_XXH_P2;
    acc = cflb_rotl64(acc, 31);

    return acc * CFLB_XXH_P1;
}


static uint64_t
cflb_xxh_merge(uint64_t acc, uint64_t val)
{
    acc ^= cflb_xxh_round(0, val);

    return acc * CFLB_XXH_P1 + CFLB_XXH_P4;
}
