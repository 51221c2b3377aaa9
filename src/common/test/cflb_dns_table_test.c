
/*
 * cflb_dns_table.c unit tests: put finds or adds, case-insensitively;
 * get and closest (the longest suffix held) as the responder uses them
 * (zone apex, hostnames, names between, nested zones, the root); the
 * capacity limit, invalid names, allocation failures, and 20,000 names
 * against a plain list.
 */


#include "cflb_test.h"
#include "cflb_dns_table.h"


/* text to wire for the tests; the names here are valid */

static size_t
t_wire(const char *text, unsigned char *wire)
{
    size_t      len;
    cflb_err_t  err;

    if (cflb_dns_name_from_text((const unsigned char *) text, strlen(text),
                                wire, &len, &err)
        != CFLB_OK)
    {
        printf("bad test name \"%s\": %s\n", text, err.msg);
        exit(1);
    }

    return len;
}


static void **
t_put(cflb_dns_table_t *tb, const char *text, cflb_allocator_t *a)
{
    size_t         len;
    unsigned char  wire[CFLB_DNS_NAME_MAX];

    len = t_wire(text, wire);

    return cflb_dns_table_put(tb, wire, len, a);
}


static void *
t_get(cflb_dns_table_t *tb, const char *text)
{
    size_t         len;
    unsigned char  wire[CFLB_DNS_NAME_MAX];

    len = t_wire(text, wire);

    return cflb_dns_table_get(tb, wire, len);
}


/* the value closest to text, and how many bytes of text were skipped */

static void *
t_closest(cflb_dns_table_t *tb, const char *text, size_t *off)
{
    size_t         len;
    unsigned char  wire[CFLB_DNS_NAME_MAX];

    len = t_wire(text, wire);
    *off = (size_t) -1;

    return cflb_dns_table_closest(tb, wire, len, off);
}


static void
t_basic(cflb_test_t *t)
{
    int                v[8];
    void             **slot, **again;
    size_t             off;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;
    cflb_dns_table_t   tb;

    cflb_test_allocator(&a, &mem);

    cflb_check(t, cflb_dns_table_init(&tb, 6, 1, &a) == CFLB_OK);

    /* an empty table finds nothing */
    cflb_check(t, t_get(&tb, "example.com") == NULL);
    cflb_check(t, t_closest(&tb, "www.example.com", &off) == NULL);

    slot = t_put(&tb, "example.com", &a);
    cflb_check(t, slot != NULL && *slot == NULL);
    *slot = &v[0];

    /* found again in any case, the same slot */
    again = t_put(&tb, "EXAMPLE.com.", &a);
    cflb_check(t, again == slot && *again == &v[0]);
    cflb_check(t, tb.n == 1);

    *t_put(&tb, "www.example.com", &a) = &v[1];
    *t_put(&tb, "eu.example.com", &a) = &v[2];
    *t_put(&tb, "api.eu.example.com", &a) = &v[3];
    *t_put(&tb, "sub.example.com", &a) = &v[4];

    cflb_check(t, t_get(&tb, "example.com") == &v[0]);
    cflb_check(t, t_get(&tb, "WwW.ExAmPlE.CoM") == &v[1]);
    cflb_check(t, t_get(&tb, "api.EU.example.com.") == &v[3]);
    cflb_check(t, t_get(&tb, "x.example.com") == NULL);
    cflb_check(t, t_get(&tb, "example.org") == NULL);
    cflb_check(t, t_get(&tb, "com") == NULL);
    cflb_check(t, t_get(&tb, "xexample.com") == NULL);

    /* closest: the name itself, else its nearest held ancestor */
    cflb_check(t, t_closest(&tb, "www.example.com", &off) == &v[1]
                  && off == 0);
    cflb_check(t, t_closest(&tb, "nope.example.com", &off) == &v[0]
                  && off == 5);
    cflb_check(t, t_closest(&tb, "a.b.www.Example.com", &off) == &v[1]
                  && off == 4);
    cflb_check(t, t_closest(&tb, "x.api.eu.example.com", &off) == &v[3]
                  && off == 2);
    cflb_check(t, t_closest(&tb, "x.sub.example.com", &off) == &v[4]
                  && off == 2);
    cflb_check(t, t_closest(&tb, "example.org", &off) == NULL);
    cflb_check(t, t_closest(&tb, "com", &off) == NULL);
    cflb_check(t, t_closest(&tb, ".", &off) == NULL);
    cflb_check(t, t_closest(&tb, "xexample.com", &off) == NULL);

    /* full at 6 names: a new one is refused, an old one still found */
    *t_put(&tb, "ns1.example.com", &a) = &v[5];
    cflb_check(t, tb.n == 6);
    cflb_check(t, t_put(&tb, "one.more.example", &a) == NULL);
    cflb_check(t, t_put(&tb, "NS1.example.com", &a) != NULL);
    cflb_check(t, t_get(&tb, "one.more.example") == NULL);

    cflb_dns_table_free(&tb, &a);
    cflb_dns_table_free(&tb, &a);
    cflb_check(t, mem.live == 0);
}


/* the root as a name: every name is under it */

static void
t_root(cflb_test_t *t)
{
    int                v;
    size_t             off;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;
    cflb_dns_table_t   tb;

    cflb_test_allocator(&a, &mem);

    cflb_check(t, cflb_dns_table_init(&tb, 1, 7, &a) == CFLB_OK);
    *t_put(&tb, ".", &a) = &v;

    cflb_check(t, t_get(&tb, ".") == &v);
    cflb_check(t, t_closest(&tb, ".", &off) == &v && off == 0);
    cflb_check(t, t_closest(&tb, "a.b.c", &off) == &v && off == 6);

    cflb_dns_table_free(&tb, &a);
    cflb_check(t, mem.live == 0);
}


/* invalid names are refused; failed allocations leave nothing behind */

static void
t_errors(cflb_test_t *t)
{
    size_t             i;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;
    cflb_dns_table_t   tb;

    static const unsigned char  bad1[] = { 3, 'w', 'w', 'w', 0 };
    static const unsigned char  bad2[] = { 0xc0, 12 };
    static const unsigned char  bad3[] = { 64 };

    cflb_test_allocator(&a, &mem);

    cflb_check(t, cflb_dns_table_init(&tb, 4, 0, &a) == CFLB_OK);

    cflb_check(t, cflb_dns_table_put(&tb, bad1, 4, &a) == NULL);
    cflb_check(t, cflb_dns_table_put(&tb, bad1, 0, &a) == NULL);
    cflb_check(t, cflb_dns_table_put(&tb, bad2, 2, &a) == NULL);
    cflb_check(t, cflb_dns_table_put(&tb, bad3, 1, &a) == NULL);
    cflb_check(t, tb.n == 0);

    /* the copy of the name fails */
    mem.fail_at = mem.allocs + 1;
    cflb_check(t, t_put(&tb, "a.example", &a) == NULL);
    cflb_check(t, tb.n == 0 && t_get(&tb, "a.example") == NULL);
    mem.fail_at = 0;

    cflb_check(t, t_put(&tb, "a.example", &a) != NULL);
    cflb_dns_table_free(&tb, &a);
    cflb_check(t, mem.live == 0);

    /* the slots fail */
    mem.fail_at = mem.allocs + 1;
    cflb_check(t, cflb_dns_table_init(&tb, 4, 0, &a) == CFLB_ERROR);
    cflb_dns_table_free(&tb, &a);
    cflb_check(t, mem.live == 0);

    /* 0 names: a table that holds none */
    mem.fail_at = 0;
    cflb_check(t, cflb_dns_table_init(&tb, 0, 0, &a) == CFLB_OK);
    cflb_check(t, t_put(&tb, "a", &a) == NULL);

    for (i = 0; i <= tb.mask; i++) {
        cflb_check(t, tb.slots[i].len == 0);
    }

    cflb_dns_table_free(&tb, &a);
    cflb_check(t, mem.live == 0);
}


/*
 * Many names, against a plain list: each is found in a random case, its
 * children find it as closest, and names never added are not found.
 */

#define T_MANY  20000

static void
t_many(cflb_test_t *t)
{
    size_t             i, j, off, misses, wrong;
    size_t            *values;
    unsigned char      wire[CFLB_DNS_NAME_MAX], child[CFLB_DNS_NAME_MAX];
    char               text[64];
    cflb_rng_t         rng;
    cflb_test_mem_t    mem;
    cflb_allocator_t   a;
    cflb_dns_table_t   tb;
    void             **slot;

    cflb_test_allocator(&a, &mem);
    cflb_rng_seed(&rng, 13);

    values = calloc(T_MANY, sizeof(size_t));
    if (values == NULL) {
        printf("out of memory\n");
        exit(1);
    }

    cflb_check(t, cflb_dns_table_init(&tb, T_MANY, 42, &a) == CFLB_OK);

    wrong = 0;

    for (i = 0; i < T_MANY; i++) {
        snprintf(text, sizeof(text), "h%zu.lb%zu.example.net", i, i % 97);
        slot = cflb_dns_table_put(&tb, wire, t_wire(text, wire), &a);

        if (slot == NULL || *slot != NULL) {
            wrong++;
            continue;
        }

        values[i] = i;
        *slot = &values[i];
    }

    cflb_check_msg(t, wrong == 0, "%zu puts failed", wrong);
    cflb_check(t, tb.n == T_MANY);

    misses = 0;
    wrong = 0;

    for (i = 0; i < T_MANY; i++) {
        snprintf(text, sizeof(text), "H%zu.LB%zu.Example.Net", i, i % 97);

        /* flip the case of some letters at random */
        for (j = 0; text[j]; j++) {
            if (cflb_rng_below(&rng, 2) && text[j] >= 'a' && text[j] <= 'z')
            {
                text[j] -= 32;
            }
        }

        if (cflb_dns_table_get(&tb, wire, t_wire(text, wire))
            != &values[i])
        {
            wrong++;
        }

        /* a child of the name finds it, one label up */
        child[0] = 1;
        child[1] = 'x';
        memcpy(child + 2, wire, t_wire(text, wire));

        if (cflb_dns_table_closest(&tb, child, t_wire(text, wire) + 2, &off)
            != &values[i] || off != 2)
        {
            wrong++;
        }

        snprintf(text, sizeof(text), "h%zu.lb%zu.example.net",
                 i, (i + 1) % 97);

        if (cflb_dns_table_get(&tb, wire, t_wire(text, wire)) != NULL) {
            misses++;
        }
    }

    cflb_check_msg(t, wrong == 0, "%zu lookups wrong", wrong);
    cflb_check_msg(t, misses == 0, "%zu absent names found", misses);

    cflb_dns_table_free(&tb, &a);
    cflb_check(t, mem.live == 0);

    free(values);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    t_basic(&t);
    t_root(&t);
    t_errors(&t);
    t_many(&t);

    return cflb_test_done(&t, "cflb_dns_table");
}
