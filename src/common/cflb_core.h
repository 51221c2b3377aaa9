
/*
 * cflb steering core: shared types.  Plain C99, libc only, no nginx types,
 * so every algorithm is unit-testable on its own.
 */

#ifndef _CFLB_CORE_H_INCLUDED_
#define _CFLB_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* return codes mirror nginx values so the glue can pass them through */
#define CFLB_OK          0
#define CFLB_ERROR      -1
#define CFLB_AGAIN      -2
#define CFLB_BUSY       -3
#define CFLB_DECLINED   -5


/*
 * Weights are the product's 0.00-1.00 numbers at 0.01 granularity, kept
 * as integers 0..100 so that parsing is exact and no float reaches the
 * per-request path.
 */
#define CFLB_WEIGHT_SCALE  100


typedef struct {
    size_t            len;
    unsigned char    *data;
} cflb_str_t;


/* allocator injected by the caller: nginx pool in the glue, malloc in tests */
typedef struct {
    void           *(*alloc)(void *data, size_t size);
    void            (*free)(void *data, void *p);
    void             *data;
} cflb_allocator_t;


/* seedable RNG state; one per worker, so no locking */
typedef struct {
    uint64_t          s;
} cflb_rng_t;


typedef struct {
    const char       *msg;
    size_t            offset;
} cflb_err_t;


/*
 * cflb_rng_seed() sets the state; any seed is valid (0 included).
 * cflb_rng_next() returns 64 uniformly distributed bits (splitmix64).
 * cflb_rng_below() returns a uniform integer in [0, bound), bound > 0,
 * without modulo bias (Lemire's multiply-shift with rejection).
 */
void cflb_rng_seed(cflb_rng_t *rng, uint64_t seed);
uint64_t cflb_rng_next(cflb_rng_t *rng);
uint64_t cflb_rng_below(cflb_rng_t *rng, uint64_t bound);

/*
 * cflb_hash64() is a fast, well-mixed 64-bit hash of a byte string
 * (stable across platforms and word sizes: tokens and ring points made
 * on one node must match on another).
 */
uint64_t cflb_hash64(const void *data, size_t len, uint64_t seed);

/*
 * cflb_weight_parse() parses "1", "0.6", ".45", "1.00" into 0..100.
 * Returns CFLB_OK, or CFLB_ERROR for anything else: out of 0.00-1.00,
 * more than two decimals, empty, or stray characters.
 */
int cflb_weight_parse(const unsigned char *s, size_t len, uint32_t *weight);

/*
 * cflb_weight_from_double() takes a weight given as a number (a JSON
 * body, the state file): 0 to 1 with two decimals at most, in hundredths.
 * CFLB_OK, or CFLB_ERROR for anything else (NaN, 1.01, 0.123).
 */
int cflb_weight_from_double(double v, uint32_t *weight);

/* "0.60": w hundredths as the product writes weights; buf of 5 bytes */
#define cflb_weight_int(w)   ((w) / CFLB_WEIGHT_SCALE)
#define cflb_weight_frac(w)  ((w) % CFLB_WEIGHT_SCALE)


#endif /* _CFLB_CORE_H_INCLUDED_ */
