
/*
 * cflb_names.c: names found by hash over a caller's array, duplicates
 * refused, caseless names, growth, allocation failures, and against a
 * linear scan on random names.
 */


#include "cflb_test.h"
#include "cflb_names.h"


#define NAMES_MAX   20000


typedef struct {
    char                  name[NAMES_MAX][24];
    unsigned              calls;        /* key() calls */
} names_t;


static cflb_str_t
names_key(void *data, uint32_t pos)
{
    cflb_str_t   s;
    names_t     *nt;

    nt = data;
    nt->calls++;

    s.data = (unsigned char *) nt->name[pos];
    s.len = strlen(nt->name[pos]);

    return s;
}


static int
names_find(cflb_names_t *nm, const char *s)
{
    return cflb_names_find(nm, (const unsigned char *) s, strlen(s));
}


static void
test_basic(cflb_test_t *t, names_t *nt)
{
    uint32_t          dup;
    cflb_names_t      nm;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;

    cflb_test_allocator(&a, &mem);

    cflb_check(t, cflb_names_init(&nm, &a, 0, 0, names_key, nt) == CFLB_OK);

    strcpy(nt->name[0], "us-east");
    strcpy(nt->name[1], "eu-west");
    strcpy(nt->name[2], "us-east");
    strcpy(nt->name[3], "");
    strcpy(nt->name[4], "US-EAST");

    cflb_check(t, names_find(&nm, "us-east") == CFLB_DECLINED);
    cflb_check(t, cflb_names_add(&nm, 0, NULL) == CFLB_OK);
    cflb_check(t, cflb_names_add(&nm, 1, NULL) == CFLB_OK);

    dup = 99;
    cflb_check(t, cflb_names_add(&nm, 2, &dup) == CFLB_DECLINED && dup == 0);
    cflb_check(t, cflb_names_add(&nm, 3, NULL) == CFLB_OK);
    cflb_check(t, cflb_names_add(&nm, 4, NULL) == CFLB_OK);

    cflb_check(t, nm.n == 4);
    cflb_check(t, names_find(&nm, "us-east") == 0);
    cflb_check(t, names_find(&nm, "eu-west") == 1);
    cflb_check(t, names_find(&nm, "") == 3);
    cflb_check(t, names_find(&nm, "US-EAST") == 4);
    cflb_check(t, names_find(&nm, "us-eas") == CFLB_DECLINED);
    cflb_check(t, names_find(&nm, "us-east ") == CFLB_DECLINED);
    cflb_check(t, cflb_names_find(&nm, (const unsigned char *) "eu-west",
                                  2) == CFLB_DECLINED);

    cflb_names_free(&nm);
    cflb_names_free(&nm);
    cflb_check(t, mem.live == 0);

    /* caseless: upstream names */
    cflb_check(t, cflb_names_init(&nm, &a, 4, 1, names_key, nt) == CFLB_OK);
    cflb_check(t, cflb_names_add(&nm, 0, NULL) == CFLB_OK);
    cflb_check(t, cflb_names_add(&nm, 4, &dup) == CFLB_DECLINED && dup == 0);
    cflb_check(t, names_find(&nm, "Us-East") == 0);
    cflb_check(t, names_find(&nm, "us_east") == CFLB_DECLINED);
    cflb_names_free(&nm);
    cflb_check(t, mem.live == 0);
}


/* n distinct names, each found at its position, through many growths */

static void
test_many(cflb_test_t *t, names_t *nt, unsigned n)
{
    int               pos;
    unsigned          i, bad, lost;
    uint32_t          dup;
    cflb_rng_t        rng;
    cflb_names_t      nm;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;

    cflb_test_allocator(&a, &mem);
    cflb_rng_seed(&rng, n);

    for (i = 0; i < n; i++) {
        snprintf(nt->name[i], sizeof(nt->name[i]), "ep-%u-%08llx", i,
                 (unsigned long long) (cflb_rng_next(&rng) & 0xffffffff));
    }

    cflb_check(t, cflb_names_init(&nm, &a, 0, 0, names_key, nt) == CFLB_OK);

    bad = 0;

    for (i = 0; i < n; i++) {
        bad += (cflb_names_add(&nm, i, NULL) != CFLB_OK);
    }

    cflb_check_msg(t, bad == 0, "%u names of %u refused", bad, n);
    cflb_check(t, nm.n == n);
    cflb_check(t, nm.n <= (nm.mask + 1) / 2);

    /* every name found where it is, every one again refused */
    lost = 0;
    bad = 0;
    nt->calls = 0;

    for (i = 0; i < n; i++) {
        pos = names_find(&nm, nt->name[i]);
        lost += (pos != (int) i);

        dup = UINT32_MAX;
        bad += (cflb_names_add(&nm, i, &dup) != CFLB_DECLINED || dup != i);
    }

    cflb_check_msg(t, lost == 0, "%u of %u names not found", lost, n);
    cflb_check_msg(t, bad == 0, "%u of %u duplicates taken", bad, n);

    /*
     * The 32 bits of hash kept in a slot spare most key() calls: a find
     * and an add each read one name, and a 32-bit collision among n
     * names adds about n^2 / 2^33 more.
     */
    cflb_check_msg(t, nt->calls <= 3 * n + 8, "%u key() calls for %u "
                   "finds and %u adds", nt->calls, n, n);

    /* names that are not there */
    lost = 0;

    for (i = 0; i < 1000; i++) {
        lost += (cflb_names_find(&nm, (const unsigned char *) "ep-x", 4)
                 != CFLB_DECLINED);
    }

    cflb_check(t, lost == 0);

    cflb_names_free(&nm);
    cflb_check(t, mem.live == 0);
}


/* an allocation that fails leaves the index as it was */

static void
test_no_memory(cflb_test_t *t, names_t *nt)
{
    unsigned          i;
    cflb_names_t      nm;
    cflb_test_mem_t   mem;
    cflb_allocator_t  a;

    cflb_test_allocator(&a, &mem);
    mem.fail_at = 1;

    cflb_check(t, cflb_names_init(&nm, &a, 0, 0, names_key, nt)
                  == CFLB_ERROR);

    cflb_test_allocator(&a, &mem);
    mem.fail_at = 2;                    /* the first growth */

    cflb_check(t, cflb_names_init(&nm, &a, 0, 0, names_key, nt) == CFLB_OK);

    for (i = 0; i < 8; i++) {
        snprintf(nt->name[i], sizeof(nt->name[i]), "p%u", i);
        cflb_check(t, cflb_names_add(&nm, i, NULL) == CFLB_OK);
    }

    snprintf(nt->name[8], sizeof(nt->name[8]), "p8");
    cflb_check(t, cflb_names_add(&nm, 8, NULL) == CFLB_ERROR);
    cflb_check(t, nm.n == 8 && names_find(&nm, "p8") == CFLB_DECLINED);

    for (i = 0; i < 8; i++) {
        cflb_check(t, names_find(&nm, nt->name[i]) == (int) i);
    }

    /* memory again: the same add goes through */
    cflb_check(t, cflb_names_add(&nm, 8, NULL) == CFLB_OK);
    cflb_check(t, names_find(&nm, "p8") == 8);

    cflb_check(t, cflb_names_add(&nm, INT32_MAX, NULL) == CFLB_ERROR);

    cflb_names_free(&nm);
    cflb_check(t, mem.live == 0);
}


int
main(void)
{
    names_t      *nt;
    cflb_test_t   t = { 0, 0 };

    nt = calloc(1, sizeof(names_t));
    if (nt == NULL) {
        printf("out of memory\n");
        return 1;
    }

    test_basic(&t, nt);
    test_many(&t, nt, 7);
    test_many(&t, nt, 1000);
    test_many(&t, nt, NAMES_MAX);
    test_no_memory(&t, nt);

    free(nt);

    return cflb_test_done(&t, "cflb_names_test");
}
