
/*
 * cflb rules: "in { ... }" sets.  Strings are kept sorted (by length,
 * then bytes), integers and addresses as sorted, merged ranges, so that
 * a lookup is a binary search whatever the size of the set.  An IPv4
 * address and its IPv4-mapped IPv6 form (::ffff:a.b.c.d) are one
 * address: values are folded to IPv4 before a lookup, and the part of an
 * IPv6 range that covers ::ffff:0:0/96 is added to the IPv4 ranges too.
 */


#include <stdlib.h>
#include <string.h>

#include "cflb_rules_int.h"


/* an IPv4 address as a number, for ranges */
#define cflb_rules_v4(ip)                                                    \
    ((uint32_t) (ip)->addr[0] << 24 | (uint32_t) (ip)->addr[1] << 16         \
     | (uint32_t) (ip)->addr[2] << 8 | (uint32_t) (ip)->addr[3])


typedef struct {
    cflb_rules_parser_t    *p;
    cflb_rules_set_t       *set;
    size_t                  cap;        /* of strs, or of int/v4 pairs */
    size_t                  cap6;
} cflb_rules_build_t;


static int cflb_rules_set_elt(cflb_rules_build_t *b, unsigned type);
static int cflb_rules_set_add_ip(cflb_rules_build_t *b,
    const cflb_rules_ip_t *lo, const cflb_rules_ip_t *hi);
static void *cflb_rules_grow(cflb_rules_parser_t *p, void *old, size_t n,
    size_t *cap, size_t size);
static void cflb_rules_set_finish(cflb_rules_set_t *set, unsigned type);
static void cflb_rules_merge_ints(cflb_rules_set_t *set);
static void cflb_rules_merge_v4(cflb_rules_set_t *set);
static void cflb_rules_merge_v6(cflb_rules_set_t *set);
static int cflb_rules_str_cmp(const void *a, const void *b);
static int cflb_rules_int_cmp(const void *a, const void *b);
static int cflb_rules_v4_cmp(const void *a, const void *b);
static int cflb_rules_v6_cmp(const void *a, const void *b);
static int cflb_rules_u128_cmp(const cflb_rules_u128_t *a,
    const cflb_rules_u128_t *b);
static void cflb_rules_v6(const cflb_rules_ip_t *ip, cflb_rules_u128_t *v);


/*
 * At the position: "{" elements "}", or one element without braces (an
 * extension: the product's own example is "ip.src in 0.0.0.0/1").
 * Elements need no separator, as in wirefilter: {"a""b"} has two.
 */

cflb_rules_set_t *
cflb_rules_set_parse(cflb_rules_parser_t *p, unsigned type)
{
    int                 rc, braces;
    const char         *what;
    cflb_rules_build_t  b;

    b.p = p;
    b.cap = 0;
    b.cap6 = 0;

    b.set = cflb_rules_alloc(&p->expr->arena, sizeof(cflb_rules_set_t));
    if (b.set == NULL) {
        cflb_rules_nomem(p);
        return NULL;
    }

    what = type == CFLB_RT_BYTES ? "a string"
           : type == CFLB_RT_INT ? "an integer" : "an IP address";

    braces = p->pos < p->len && p->text[p->pos] == '{';
    p->pos += braces;

    for ( ;; ) {
        if (braces) {
            cflb_rules_skip_ws(p);

            if (p->pos == p->len) {
                cflb_rules_error(p, p->pos, "expected \"}\"");
                return NULL;
            }

            if (p->text[p->pos] == '}') {
                p->pos++;
                break;
            }
        }

        rc = cflb_rules_set_elt(&b, type);

        if (rc == CFLB_DECLINED) {
            cflb_rules_error(p, p->pos, braces ? "expected %s or \"}\""
                                               : "expected %s or \"{\"", what);
        }

        if (rc != CFLB_OK) {
            return NULL;
        }

        if (!braces) {
            break;
        }
    }

    cflb_rules_set_finish(b.set, type);

    return b.set;
}


static int
cflb_rules_set_elt(cflb_rules_build_t *b, unsigned type)
{
    int                   rc;
    size_t                start;
    int64_t               lo, hi;
    cflb_str_t            s;
    cflb_rules_ip_t       ip, ip2;
    cflb_rules_set_t     *set;
    cflb_rules_parser_t  *p;

    p = b->p;
    set = b->set;

    if (type == CFLB_RT_BYTES) {
        rc = cflb_rules_string(p, &s, 0);
        if (rc != CFLB_OK) {
            return rc;
        }

        set->strs = cflb_rules_grow(p, set->strs, set->n, &b->cap,
                                    sizeof(cflb_str_t));
        if (set->strs == NULL) {
            return CFLB_ERROR;
        }

        set->strs[set->n++] = s;

        return CFLB_OK;
    }

    if (type == CFLB_RT_IP) {
        rc = cflb_rules_ip(p, &ip, &ip2, 1);
        if (rc != CFLB_OK) {
            return rc;
        }

        return cflb_rules_set_add_ip(b, &ip, &ip2);
    }

    start = p->pos;

    rc = cflb_rules_int(p, &lo);
    if (rc != CFLB_OK) {
        return rc;
    }

    hi = lo;

    if (cflb_rules_peek(p, "..")) {
        p->pos += 2;

        rc = cflb_rules_int(p, &hi);

        if (rc == CFLB_DECLINED) {
            return cflb_rules_error(p, p->pos, "expected an integer after "
                                    "\"..\"");
        }

        if (rc != CFLB_OK) {
            return rc;
        }

        if (hi < lo) {
            return cflb_rules_error(p, start, "empty range: %lld is below "
                                    "%lld", (long long) hi, (long long) lo);
        }
    }

    set->ints = cflb_rules_grow(p, set->ints, set->n, &b->cap,
                                2 * sizeof(int64_t));
    if (set->ints == NULL) {
        return CFLB_ERROR;
    }

    set->ints[2 * set->n] = lo;
    set->ints[2 * set->n + 1] = hi;
    set->n++;

    return CFLB_OK;
}


static int
cflb_rules_set_add_ip(cflb_rules_build_t *b, const cflb_rules_ip_t *lo,
    const cflb_rules_ip_t *hi)
{
    cflb_rules_u128_t    l, h;
    cflb_rules_set_t    *set;

    static const cflb_rules_u128_t  m0 = { 0, 0x0000ffff00000000ULL };
    static const cflb_rules_u128_t  m1 = { 0, 0x0000ffffffffffffULL };

    set = b->set;

    if (!lo->v6) {
        set->v4 = cflb_rules_grow(b->p, set->v4, set->n, &b->cap,
                                  2 * sizeof(uint32_t));
        if (set->v4 == NULL) {
            return CFLB_ERROR;
        }

        set->v4[2 * set->n] = cflb_rules_v4(lo);
        set->v4[2 * set->n + 1] = cflb_rules_v4(hi);
        set->n++;

        return CFLB_OK;
    }

    cflb_rules_v6(lo, &l);
    cflb_rules_v6(hi, &h);

    set->v6 = cflb_rules_grow(b->p, set->v6, set->n6, &b->cap6,
                              2 * sizeof(cflb_rules_u128_t));
    if (set->v6 == NULL) {
        return CFLB_ERROR;
    }

    set->v6[2 * set->n6] = l;
    set->v6[2 * set->n6 + 1] = h;
    set->n6++;

    if (cflb_rules_u128_cmp(&h, &m0) < 0 || cflb_rules_u128_cmp(&l, &m1) > 0)
    {
        return CFLB_OK;
    }

    /* the IPv4-mapped part, as IPv4 */

    set->v4 = cflb_rules_grow(b->p, set->v4, set->n, &b->cap,
                              2 * sizeof(uint32_t));
    if (set->v4 == NULL) {
        return CFLB_ERROR;
    }

    set->v4[2 * set->n] = cflb_rules_u128_cmp(&l, &m0) < 0
                          ? 0 : (uint32_t) l.lo;
    set->v4[2 * set->n + 1] = cflb_rules_u128_cmp(&h, &m1) > 0
                              ? UINT32_MAX : (uint32_t) h.lo;
    set->n++;

    return CFLB_OK;
}


/* room for one more element of size bytes: doubles, old copies stay */

static void *
cflb_rules_grow(cflb_rules_parser_t *p, void *old, size_t n, size_t *cap,
    size_t size)
{
    void  *new;

    if (n < *cap) {
        return old;
    }

    *cap = *cap ? 2 * *cap : 8;

    new = cflb_rules_alloc(&p->expr->arena, *cap * size);
    if (new == NULL) {
        cflb_rules_nomem(p);
        return NULL;
    }

    if (n) {
        memcpy(new, old, n * size);
    }

    return new;
}


/* sorted and deduplicated; qsort() wants a valid pointer, even for {} */

static void
cflb_rules_set_finish(cflb_rules_set_t *set, unsigned type)
{
    size_t  i, k;

    if (type == CFLB_RT_INT) {
        cflb_rules_merge_ints(set);
        return;
    }

    if (type == CFLB_RT_IP) {
        cflb_rules_merge_v4(set);
        cflb_rules_merge_v6(set);
        return;
    }

    if (set->n) {
        qsort(set->strs, set->n, sizeof(cflb_str_t), cflb_rules_str_cmp);
    }

    for (i = 0, k = 0; i < set->n; i++) {
        if (k == 0 || cflb_rules_str_cmp(&set->strs[k - 1], &set->strs[i]))
        {
            set->strs[k++] = set->strs[i];
        }
    }

    set->n = k;
}


/* ranges sorted by their start, then merged when they touch or overlap */

static void
cflb_rules_merge_ints(cflb_rules_set_t *set)
{
    size_t    i, k;
    int64_t  *r;

    if (set->n == 0) {
        return;
    }

    r = set->ints;
    qsort(r, set->n, 2 * sizeof(int64_t), cflb_rules_int_cmp);

    for (i = 1, k = 1; i < set->n; i++) {
        if (r[2 * k - 1] == INT64_MAX || r[2 * i] <= r[2 * k - 1] + 1) {
            if (r[2 * i + 1] > r[2 * k - 1]) {
                r[2 * k - 1] = r[2 * i + 1];
            }

            continue;
        }

        r[2 * k] = r[2 * i];
        r[2 * k + 1] = r[2 * i + 1];
        k++;
    }

    set->n = k;
}


static void
cflb_rules_merge_v4(cflb_rules_set_t *set)
{
    size_t     i, k;
    uint32_t  *r;

    if (set->n == 0) {
        return;
    }

    r = set->v4;
    qsort(r, set->n, 2 * sizeof(uint32_t), cflb_rules_v4_cmp);

    for (i = 1, k = 1; i < set->n; i++) {
        if (r[2 * k - 1] == UINT32_MAX || r[2 * i] <= r[2 * k - 1] + 1) {
            if (r[2 * i + 1] > r[2 * k - 1]) {
                r[2 * k - 1] = r[2 * i + 1];
            }

            continue;
        }

        r[2 * k] = r[2 * i];
        r[2 * k + 1] = r[2 * i + 1];
        k++;
    }

    set->n = k;
}


/* IPv6 ranges merge when they overlap; adjacent ones may stay apart */

static void
cflb_rules_merge_v6(cflb_rules_set_t *set)
{
    size_t              i, k;
    cflb_rules_u128_t  *r;

    if (set->n6 == 0) {
        return;
    }

    r = set->v6;
    qsort(r, set->n6, 2 * sizeof(cflb_rules_u128_t), cflb_rules_v6_cmp);

    for (i = 1, k = 1; i < set->n6; i++) {
        if (cflb_rules_u128_cmp(&r[2 * i], &r[2 * k - 1]) <= 0) {
            if (cflb_rules_u128_cmp(&r[2 * i + 1], &r[2 * k - 1]) > 0) {
                r[2 * k - 1] = r[2 * i + 1];
            }

            continue;
        }

        r[2 * k] = r[2 * i];
        r[2 * k + 1] = r[2 * i + 1];
        k++;
    }

    set->n6 = k;
}


int
cflb_rules_set_has_bytes(const cflb_rules_set_t *set, const unsigned char *s,
    size_t len)
{
    int         c;
    size_t      lo, hi, mid;
    cflb_str_t  key;

    key.data = (unsigned char *) s;
    key.len = len;
    lo = 0;
    hi = set->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = cflb_rules_str_cmp(&key, &set->strs[mid]);

        if (c == 0) {
            return 1;
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return 0;
}


/* the last range starting at or below v, then whether it reaches v */

int
cflb_rules_set_has_int(const cflb_rules_set_t *set, int64_t v)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = set->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (set->ints[2 * mid] <= v) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return lo > 0 && v <= set->ints[2 * lo - 1];
}


int
cflb_rules_set_has_ip(const cflb_rules_set_t *set, const cflb_rules_ip_t *ip)
{
    size_t             lo, hi, mid;
    uint32_t           v;
    cflb_rules_u128_t  w;

    lo = 0;

    if (!ip->v6) {
        v = cflb_rules_v4(ip);
        hi = set->n;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;

            if (set->v4[2 * mid] <= v) {
                lo = mid + 1;

            } else {
                hi = mid;
            }
        }

        return lo > 0 && v <= set->v4[2 * lo - 1];
    }

    cflb_rules_v6(ip, &w);
    hi = set->n6;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (cflb_rules_u128_cmp(&set->v6[2 * mid], &w) <= 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return lo > 0 && cflb_rules_u128_cmp(&w, &set->v6[2 * lo - 1]) <= 0;
}


void
cflb_rules_ip_normalize(cflb_rules_ip_t *ip)
{
    static const unsigned char  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };

    if (ip->v6 && memcmp(ip->addr, mapped, 12) == 0) {
        memmove(ip->addr, ip->addr + 12, 4);
        memset(ip->addr + 4, 0, 12);
        ip->v6 = 0;
    }
}


/* the order of two addresses of one family */

int
cflb_rules_ip_cmp(const cflb_rules_ip_t *a, const cflb_rules_ip_t *b)
{
    return memcmp(a->addr, b->addr, a->v6 ? 16 : 4);
}


static int
cflb_rules_str_cmp(const void *a, const void *b)
{
    const cflb_str_t  *x, *y;

    x = a;
    y = b;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }

    return x->len ? memcmp(x->data, y->data, x->len) : 0;
}


static int
cflb_rules_int_cmp(const void *a, const void *b)
{
    int64_t  x, y;

    x = *(const int64_t *) a;
    y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


static int
cflb_rules_v4_cmp(const void *a, const void *b)
{
    uint32_t  x, y;

    x = *(const uint32_t *) a;
    y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}


static int
cflb_rules_v6_cmp(const void *a, const void *b)
{
    return cflb_rules_u128_cmp(a, b);
}


static int
cflb_rules_u128_cmp(const cflb_rules_u128_t *a, const cflb_rules_u128_t *b)
{
    if (a->hi != b->hi) {
        return a->hi < b->hi ? -1 : 1;
    }

    return (a->lo > b->lo) - (a->lo < b->lo);
}


static void
cflb_rules_v6(const cflb_rules_ip_t *ip, cflb_rules_u128_t *v)
{
    size_t  i;

    v->hi = 0;
    v->lo = 0;

    for (i = 0; i < 8; i++) {
        v->hi = v->hi << 8 | ip->addr[i];
        v->lo = v->lo << 8 | ip->addr[8 + i];
    }
}
