
/*
 * The standalone driver of the fuzz targets (cflb_*_fuzz.c, test code
 * only): what main() does when a target is built without
 * -DCFLB_LIBFUZZER, so that "make test" exercises it.  A target
 * describes its seeds and its mutations in a cflb_fuzz_driver_t and
 * its main() calls cflb_fuzz_main():
 *
 *     cflb_x_fuzz               every seed, then drv->mutants mutants of
 *                               it, from a fixed RNG seed; then the lines
 *                               "NAME: N inputs" and
 *                               "NAME: N passed, 0 failed" (one per seed)
 *     cflb_x_fuzz FILE...       each file as one input (one passed each)
 *     cflb_x_fuzz -seeds DIR    write the seeds there (DIR/seed-NN), a
 *                               corpus for libFuzzer ("make fuzz")
 *
 * A check that fails aborts inside LLVMFuzzerTestOneInput(), so the
 * summary never counts a failure; a file that cannot be read exits 1.
 * The inputs depend only on the descriptor: the same descriptor gives
 * the same mutants, byte for byte, on every platform.
 *
 * Header-only, static inline, like cflb_test.h: plain C99 and libc,
 * with the core's cflb_rng_t.
 */

#ifndef _CFLB_FUZZ_DRIVER_H_INCLUDED_
#define _CFLB_FUZZ_DRIVER_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cflb_core.h"


typedef struct {
    const char               *s;
    size_t                    len;
} cflb_fuzz_seed_t;


/* a string literal as a seed: every byte of it, NULs too, but the last */
#define cflb_fuzz_seed(s)  { s, sizeof(s) - 1 }


/*
 * Each mutant is its seed with 1 to 4 random edits: overwrite a byte
 * with one of the alphabet, set a byte at random, insert a byte of the
 * alphabet (or, with tokens, a whole token), delete a run of 1 to 8
 * bytes, repeat a run of 1 to "run" bytes up to "repeats" times, or
 * truncate.  Inputs never grow past "max" bytes.
 *
 * With "control" set, byte 0 is a control byte: the other edits leave it
 * alone and one more edit sets it to a value below "control".  With
 * "reroll" set, a quarter of the mutants (after their edits) get a
 * random byte 0 instead.
 */

typedef struct {
    const char               *name;          /* "cflb_x_fuzz" */
    const cflb_fuzz_seed_t   *seeds;
    size_t                    nseeds;
    const char               *alphabet;      /* bytes, NULs allowed */
    size_t                    alphabet_len;
    const char *const        *tokens;        /* NULL: insert bytes */
    size_t                    ntokens;
    size_t                    run;
    size_t                    repeats;
    unsigned                  control;
    unsigned                  reroll;
    size_t                    mutants;       /* per seed */
    size_t                    max;           /* bytes */
    uint64_t                  rng_seed;
} cflb_fuzz_driver_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int cflb_fuzz_main(const cflb_fuzz_driver_t *drv, int argc,
    char **argv);
static inline size_t cflb_fuzz_run_seeds(const cflb_fuzz_driver_t *drv,
    unsigned char *buf);
static inline size_t cflb_fuzz_mutate(const cflb_fuzz_driver_t *drv,
    unsigned char *buf, size_t len, cflb_rng_t *rng);
static inline int cflb_fuzz_file(const cflb_fuzz_driver_t *drv,
    const char *name, unsigned char *buf);
static inline int cflb_fuzz_write_seeds(const cflb_fuzz_driver_t *drv,
    const char *dir);


/* the whole of a target's main(); returns its exit code */

static inline int
cflb_fuzz_main(const cflb_fuzz_driver_t *drv, int argc, char **argv)
{
    int             i;
    size_t          runs, inputs;
    unsigned char  *buf;

    if (argc == 3 && strcmp(argv[1], "-seeds") == 0) {
        return cflb_fuzz_write_seeds(drv, argv[2]);
    }

    buf = malloc(drv->max);
    if (buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", drv->name);
        abort();
    }

    if (argc > 1) {
        for (i = 1; i < argc; i++) {
            if (cflb_fuzz_file(drv, argv[i], buf) != 0) {
                free(buf);
                return 1;
            }
        }

        runs = (size_t) argc - 1;
        inputs = runs;

    } else {
        runs = drv->nseeds;
        inputs = cflb_fuzz_run_seeds(drv, buf);
    }

    free(buf);

    /*
     * a failure aborts, so reaching here passes every check: one per
     * seed with its mutants, or one per file
     */

    printf("%s: %lu inputs\n", drv->name, (unsigned long) inputs);
    printf("%s: %lu passed, 0 failed\n", drv->name, (unsigned long) runs);

    return 0;
}


/* every seed, each followed by its mutants; returns the inputs run */

static inline size_t
cflb_fuzz_run_seeds(const cflb_fuzz_driver_t *drv, unsigned char *buf)
{
    size_t      k, m, len, inputs;
    cflb_rng_t  rng;

    cflb_rng_seed(&rng, drv->rng_seed);
    inputs = 0;

    for (k = 0; k < drv->nseeds; k++) {
        LLVMFuzzerTestOneInput((const uint8_t *) drv->seeds[k].s,
                               drv->seeds[k].len);
        inputs++;

        for (m = 0; m < drv->mutants; m++) {
            len = drv->seeds[k].len;
            memcpy(buf, drv->seeds[k].s, len);

            len = cflb_fuzz_mutate(drv, buf, len, &rng);

            if (drv->reroll && len && cflb_rng_below(&rng, 4) == 0) {
                buf[0] = (unsigned char) cflb_rng_next(&rng);
            }

            LLVMFuzzerTestOneInput(buf, len);
            inputs++;
        }
    }

    return inputs;
}


/*
 * 1..4 random edits biased towards the alphabet; buf holds drv->max
 * bytes.  Every random number is drawn in a fixed order, so a change
 * here changes every target's mutants.
 */

static inline size_t
cflb_fuzz_mutate(const cflb_fuzz_driver_t *drv, unsigned char *buf,
    size_t len, cflb_rng_t *rng)
{
    size_t    i, j, n, edits, skip;
    unsigned  op;

    skip = drv->control ? 1 : 0;

    edits = 1 + (size_t) cflb_rng_below(rng, 4);

    while (edits--) {
        op = (unsigned) cflb_rng_below(rng, drv->control ? 7 : 6);
        i = len > skip ? skip + (size_t) cflb_rng_below(rng, len - skip)
                       : len;

        switch (op) {

        case 0:     /* overwrite */
            if (i < len) {
                buf[i] = drv->alphabet[cflb_rng_below(rng,
                                                      drv->alphabet_len)];
            }
            break;

        case 1:     /* random byte */
            if (i < len) {
                buf[i] = (unsigned char) cflb_rng_next(rng);
            }
            break;

        case 2:     /* insert a token, or a byte of the alphabet */
            if (drv->tokens != NULL) {
                j = (size_t) cflb_rng_below(rng, drv->ntokens);
                n = strlen(drv->tokens[j]);

                if (len + n <= drv->max) {
                    memmove(buf + i + n, buf + i, len - i);
                    memcpy(buf + i, drv->tokens[j], n);
                    len += n;
                }

            } else if (len < drv->max) {
                memmove(buf + i + 1, buf + i, len - i);
                buf[i] = drv->alphabet[cflb_rng_below(rng,
                                                      drv->alphabet_len)];
                len++;
            }
            break;

        case 3:     /* delete a run */
            if (len > 2 && i < len) {
                n = 1 + (size_t) cflb_rng_below(rng, 8);
                if (n > len - i) {
                    n = len - i;
                }
                memmove(buf + i, buf + i + n, len - i - n);
                len -= n;
            }
            break;

        case 4:     /* repeat a run */
            n = 1 + (size_t) cflb_rng_below(rng, drv->run);
            if (n > len - i) {
                n = len - i;
            }
            for (j = 0; j < drv->repeats && len + n <= drv->max; j++) {
                memmove(buf + i + n, buf + i, len - i);
                len += n;
            }
            break;

        case 5:     /* another control byte; without one, truncate */
            if (drv->control) {
                buf[0] = (unsigned char) cflb_rng_below(rng, drv->control);

            } else {
                len = i;
            }
            break;

        default:    /* truncate */
            len = i;
            break;
        }
    }

    return len;
}


/* one file, its first drv->max bytes, as one input */

static inline int
cflb_fuzz_file(const cflb_fuzz_driver_t *drv, const char *name,
    unsigned char *buf)
{
    FILE    *f;
    size_t   len;

    f = fopen(name, "rb");
    if (f == NULL) {
        perror(name);
        return 1;
    }

    len = fread(buf, 1, drv->max, f);
    fclose(f);

    LLVMFuzzerTestOneInput(buf, len);

    return 0;
}


static inline int
cflb_fuzz_write_seeds(const cflb_fuzz_driver_t *drv, const char *dir)
{
    char    name[4096];
    FILE   *f;
    size_t  k;

    for (k = 0; k < drv->nseeds; k++) {
        snprintf(name, sizeof(name), "%s/seed-%02u", dir, (unsigned) k);

        f = fopen(name, "wb");
        if (f == NULL) {
            perror(name);
            return 1;
        }

        if (fwrite(drv->seeds[k].s, 1, drv->seeds[k].len, f)
            != drv->seeds[k].len)
        {
            perror(name);
            fclose(f);
            return 1;
        }

        fclose(f);
    }

    return 0;
}


#endif /* _CFLB_FUZZ_DRIVER_H_INCLUDED_ */
