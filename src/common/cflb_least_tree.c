
/*
 * cflb_least_tree: lock-free partial sums of the least_* draw weights in
 * shared memory (the contract is in cflb_least_tree.h).
 *
 * Layout, all 64-bit integers after a small header:
 *
 *     node[0..size]     Fenwick tree (P. M. Fenwick, "A new data structure
 *                       for cumulative frequency tables", Software:
 *                       Practice and Experience 24(3), 1994): node[j]
 *                       holds the sum of tw over members j - lowbit(j)
 *                       .. j - 1.  size is a power of 2 >= n, so
 *                       node[size] is the total, and a descent needs no
 *                       bounds test.  node[0] is unused.
 *     word[0..n-1]      per member: count << 32 | down << 8 | weight
 *
 * Why a Fenwick tree: an update adds to at most log2(size) + 1 nodes and
 * a descent reads exactly log2(size) of them, one comparison each, which
 * is the least a binary structure can do; wider trees read fewer levels
 * but compare more per level.  The count sits in the high half of the
 * word so that one atomic add changes it, and a count taken below 0 by a
 * bug borrows out of the word, never into the weight.
 *
 * Nodes are signed: two updates of one member made by different workers
 * may reach a node in either order, so a node may dip below its final
 * value, even below 0, for a moment.  Readers treat what they read as a
 * hint and check the member they land on.
 *
 * Memory order: relaxed everywhere.  No reader relies on seeing one
 * update before another; every result is checked against the member's
 * own word, read atomically.
 */


#include "cflb_steer_algo.h"
#include "cflb_least_tree.h"


#define CFLB_LEAST_WEIGHT  0xffU
#define CFLB_LEAST_DOWN    0x100U
#define CFLB_LEAST_COUNT   32               /* the count's shift */

/*
 * A word whose member may be drawn: weight 1..255 and no down flag, that
 * is, its low 9 bits are 1..255.
 */
#define cflb_least_word_up(w)                                                \
    (((uint32_t) (w) & (CFLB_LEAST_DOWN | CFLB_LEAST_WEIGHT)) - 1           \
     < CFLB_LEAST_WEIGHT)

#define cflb_least_read(p)  __atomic_load_n(p, __ATOMIC_RELAXED)

#define CFLB_LEAST_MAX     (1U << 30)       /* members */


struct cflb_least_tree_s {
    uint32_t               n;
    uint32_t               size;        /* Fenwick nodes 1..size, a power
                                           of 2 >= n; 0 for a small set,
                                           which has no nodes */
    int64_t                node[];      /* size + 1 nodes, then n words */
};


/* a member usable() refused during one pick, and its tw at that time */
typedef struct {
    unsigned               i;
    uint32_t               tw;
} cflb_least_out_t;


static uint32_t cflb_least_fenwick_size(unsigned n);
static void cflb_least_tree_build(cflb_least_tree_t *t);
static void cflb_least_tree_propagate(cflb_least_tree_t *t, unsigned i,
    int64_t d);
static unsigned cflb_least_tree_descend(const cflb_least_tree_t *t,
    uint64_t r);
static unsigned cflb_least_tree_descend_out(const cflb_least_tree_t *t,
    uint64_t r, const cflb_least_out_t *out, unsigned k);
static int cflb_least_tree_redraw(const cflb_least_tree_t *t,
    cflb_pick_t *pk, int64_t left, const cflb_least_out_t *first);
static int cflb_least_tree_linear(const cflb_least_tree_t *t,
    cflb_pick_t *pk);
static int cflb_least_tree_scan(const cflb_least_tree_t *t, cflb_pick_t *pk,
    const cflb_least_out_t *out, unsigned k, int all);


static inline uint64_t *
cflb_least_words(const cflb_least_tree_t *t)
{
    return (uint64_t *) &t->node[t->size + 1];
}


/* tw of a member word: 0 for weight 0 or down */

static inline uint32_t
cflb_least_word_tw(uint64_t word)
{
    if (word & CFLB_LEAST_DOWN) {
        return 0;
    }

    return cflb_least_tw((uint32_t) word & CFLB_LEAST_WEIGHT,
                         word >> CFLB_LEAST_COUNT);
}


/* was member i refused by usable() earlier in this pick */

static inline int
cflb_least_refused(const cflb_least_out_t *out, unsigned k, unsigned i)
{
    unsigned  j;

    for (j = 0; j < k; j++) {
        if (out[j].i == i) {
            return 1;
        }
    }

    return 0;
}


size_t
cflb_least_tree_size(unsigned n)
{
    uint64_t  words;

    /*
     * pick() returns an index as an int, and the Fenwick index arithmetic
     * stays below 2^32 when size <= 2^30
     */

    if (n > CFLB_LEAST_MAX) {
        return 0;
    }

    words = (uint64_t) cflb_least_fenwick_size(n) + 1 + n;

    if (words > (SIZE_MAX - sizeof(cflb_least_tree_t)) / sizeof(int64_t)) {
        return 0;
    }

    return sizeof(cflb_least_tree_t) + (size_t) words * sizeof(int64_t);
}


/* the Fenwick size for n members, 0 for a set small enough to scan */

static uint32_t
cflb_least_fenwick_size(unsigned n)
{
    uint32_t  size;

    if (n <= CFLB_LEAST_LINEAR) {
        return 0;
    }

    for (size = 1; size < n; size <<= 1) { /* void */ }

    return size;
}


cflb_least_tree_t *
cflb_least_tree_init(void *mem, unsigned n, const uint32_t *weights,
    const uint32_t *counts)
{
    unsigned            i;
    uint64_t           *word;
    cflb_least_tree_t  *t;

    if (cflb_least_tree_size(n) == 0) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (weights[i] > CFLB_WEIGHT_SCALE) {
            return NULL;
        }
    }

    t = mem;
    t->n = n;
    t->size = cflb_least_fenwick_size(n);

    word = cflb_least_words(t);

    for (i = 0; i < n; i++) {
        word[i] = (uint64_t) (counts ? counts[i] : 0) << CFLB_LEAST_COUNT
                  | weights[i];
    }

    cflb_least_tree_build(t);

    return t;
}


/* every node from the words, O(size): each node adds itself to its parent */

static void
cflb_least_tree_build(cflb_least_tree_t *t)
{
    uint32_t   j, parent;
    uint64_t  *word;

    word = cflb_least_words(t);

    t->node[0] = 0;

    for (j = 1; j <= t->size; j++) {
        t->node[j] = 0;
    }

    for (j = 1; j <= t->size; j++) {
        if (j <= t->n) {
            t->node[j] += cflb_least_word_tw(word[j - 1]);
        }

        parent = j + (j & (0U - j));

        if (parent <= t->size) {
            t->node[parent] += t->node[j];
        }
    }
}


unsigned
cflb_least_tree_n(const cflb_least_tree_t *t)
{
    return t->n;
}


uint32_t
cflb_least_tree_add(cflb_least_tree_t *t, unsigned i, int32_t delta)
{
    int64_t   d;
    uint32_t  w, count;
    uint64_t  old;

    /* delta modulo 2^32, in the count's half of the word */
    old = __atomic_fetch_add(&cflb_least_words(t)[i],
                             (uint64_t) (uint32_t) delta << CFLB_LEAST_COUNT,
                             __ATOMIC_RELAXED);

    count = (uint32_t) (old >> CFLB_LEAST_COUNT);

    /* down or weight 0: tw is 0 before and after */

    if (t->size == 0 || !cflb_least_word_up(old)) {
        return count;
    }

    w = (uint32_t) old & CFLB_LEAST_WEIGHT;
    d = (int64_t) cflb_least_tw(w, count + (uint32_t) delta)
        - (int64_t) cflb_least_tw(w, count);

    if (d != 0) {
        cflb_least_tree_propagate(t, i, d);
    }

    return count;
}


int
cflb_least_tree_set(cflb_least_tree_t *t, unsigned i, uint32_t weight,
    int down)
{
    int64_t    d;
    uint64_t  *word, old, new;

    if (weight > CFLB_WEIGHT_SCALE) {
        return CFLB_ERROR;
    }

    word = &cflb_least_words(t)[i];
    old = cflb_least_read(word);

    do {
        new = (old & ~(uint64_t) UINT32_MAX) | weight
              | (down ? CFLB_LEAST_DOWN : 0);

    } while (!__atomic_compare_exchange_n(word, &old, new, 1,
                                          __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));

    if (t->size != 0) {
        d = (int64_t) cflb_least_word_tw(new)
            - (int64_t) cflb_least_word_tw(old);

        if (d != 0) {
            cflb_least_tree_propagate(t, i, d);
        }
    }

    return CFLB_OK;
}


/*
 * The nodes covering member i, from its own up to node[size]: the chain
 * j += lowbit(j) reaches size exactly, since size is a power of 2, and
 * stays below 2^32 since size <= 2^30.
 */

static void
cflb_least_tree_propagate(cflb_least_tree_t *t, unsigned i, int64_t d)
{
    uint32_t  j, size;

    /* read once: the atomic adds would make the compiler read it again */
    size = t->size;

    for (j = i + 1; j <= size; j += j & (0U - j)) {
        __atomic_fetch_add(&t->node[j], d, __ATOMIC_RELAXED);
    }
}


void
cflb_least_tree_get(const cflb_least_tree_t *t, unsigned i,
    uint32_t *count, uint32_t *weight, int *down)
{
    uint64_t  word;

    word = cflb_least_read(&cflb_least_words(t)[i]);

    *count = (uint32_t) (word >> CFLB_LEAST_COUNT);
    *weight = (uint32_t) word & CFLB_LEAST_WEIGHT;
    *down = (word & CFLB_LEAST_DOWN) != 0;
}


int
cflb_least_tree_pick(const cflb_least_tree_t *t, cflb_pick_t *pk)
{
    int64_t            total;
    unsigned           i;
    uint64_t           word;
    cflb_least_out_t   first;

    if (t->size == 0) {
        return cflb_least_tree_linear(t, pk);
    }

    /* the common case, kept apart from the redraws so it stays lean */

    total = cflb_least_read(&t->node[t->size]);

    if (total <= 0) {
        return cflb_least_tree_scan(t, pk, NULL, 0, 0);
    }

    i = cflb_least_tree_descend(t, cflb_rng_below(pk->rng,
                                                  (uint64_t) total));

    if (i >= t->n) {
        /* beyond n: a read torn by concurrent updates */
        return cflb_least_tree_redraw(t, pk, total, NULL);
    }

    word = cflb_least_read(&cflb_least_words(t)[i]);

    if (!cflb_least_word_up(word)) {
        /* down or weight 0: torn, or changed since the descent */
        return cflb_least_tree_redraw(t, pk, total, NULL);
    }

    if (cflb_member_usable(pk, i)) {
        return (int) i;
    }

    first.i = i;
    first.tw = cflb_least_word_tw(word);

    return cflb_least_tree_redraw(t, pk, total, &first);
}


/*
 * The draws after a first one that missed: a member usable() refused is
 * taken out of the partial sums the next draws read, which keeps P exact
 * among the others; after CFLB_LEAST_TRIES draws in all, or when the
 * refused members hold all the weight, the exact scan decides.
 */

static int
cflb_least_tree_redraw(const cflb_least_tree_t *t, cflb_pick_t *pk,
    int64_t left, const cflb_least_out_t *first)
{
    unsigned           i, k, tries;
    uint64_t           word, *words;
    cflb_least_out_t   out[CFLB_LEAST_TRIES];

    words = cflb_least_words(t);
    k = 0;

    if (first != NULL) {
        out[k++] = *first;
        left -= first->tw;
    }

    for (tries = 1; tries < CFLB_LEAST_TRIES && left > 0; tries++) {

        i = cflb_least_tree_descend_out(t,
                                        cflb_rng_below(pk->rng,
                                                       (uint64_t) left),
                                        out, k);

        if (i >= t->n) {
            continue;
        }

        word = cflb_least_read(&words[i]);

        if (!cflb_least_word_up(word) || cflb_least_refused(out, k, i)) {
            continue;
        }

        if (cflb_member_usable(pk, i)) {
            return (int) i;
        }

        out[k].i = i;
        out[k].tw = cflb_least_word_tw(word);
        left -= out[k].tw;
        k++;
    }

    return cflb_least_tree_scan(t, pk, out, k, 0);
}


int
cflb_least_tree_pick_all(const cflb_least_tree_t *t, cflb_pick_t *pk)
{
    return cflb_least_tree_scan(t, pk, NULL, 0, 1);
}


/*
 * The member holding point r of [0, total): the largest pos whose prefix
 * sum is <= r (binary lifting).  In a consistent tree that member has
 * tw > 0 and pos < n; under concurrent updates pos is at least < size.
 */

static unsigned
cflb_least_tree_descend(const cflb_least_tree_t *t, uint64_t r)
{
    int64_t   v, rem, take;
    uint32_t  pos, step;

    pos = 0;
    rem = (int64_t) r;

    for (step = t->size >> 1; step != 0; step >>= 1) {
        v = cflb_least_read(&t->node[pos + step]);

        /* without a branch: half of them would be mispredicted */
        take = -(int64_t) (v <= rem);
        pos += step & (uint32_t) take;
        rem -= v & take;
    }

    return pos;
}


/*
 * The same over the tree without the refused members: node pos + step
 * covers members pos .. pos + step - 1, so their tw is taken off it.
 */

static unsigned
cflb_least_tree_descend_out(const cflb_least_tree_t *t, uint64_t r,
    const cflb_least_out_t *out, unsigned k)
{
    int64_t   v, rem;
    uint32_t  pos, step, j;

    pos = 0;
    rem = (int64_t) r;

    for (step = t->size >> 1; step != 0; step >>= 1) {
        v = cflb_least_read(&t->node[pos + step]);

        for (j = 0; j < k; j++) {
            if (out[j].i - pos < step) {
                v -= out[j].tw;
            }
        }

        if (v <= rem) {
            pos += step;
            rem -= v;
        }
    }

    return pos;
}


/*
 * A small set: the running sums of every member's tw, a draw, and only
 * then usable(), for the member drawn.  One it refuses is taken out of
 * the sums and the draw repeats: exact, and usable() is called once per
 * pick in the common case rather than once per member.
 */

static int
cflb_least_tree_linear(const cflb_least_tree_t *t, cflb_pick_t *pk)
{
    unsigned   i, j;
    uint64_t   tw, sum, r, *words, cum[CFLB_LEAST_LINEAR + 1];

    words = cflb_least_words(t);
    sum = 0;

    for (i = 0; i < t->n; i++) {
        sum += cflb_least_word_tw(cflb_least_read(&words[i]));
        cum[i] = sum;
    }

    while (sum != 0) {
        r = cflb_rng_below(pk->rng, sum);

        /* at most 8 sums: cheaper than cflb_cumulative_find()'s halving */
        for (i = 0; cum[i] <= r; i++) { /* void */ }

        if (cflb_member_usable(pk, i)) {
            return (int) i;
        }

        tw = cum[i] - (i ? cum[i - 1] : 0);

        for (j = i; j < t->n; j++) {
            cum[j] -= tw;
        }

        sum -= tw;
    }

    return CFLB_DECLINED;
}


/*
 * The exact O(n) draw, in one pass and without scratch memory: member i
 * replaces the choice so far with probability tw_i / (sum of tw up to
 * i), which makes P(i) = tw_i / sum(tw) (Chao's weighted reservoir,
 * M. T. Chao, Biometrika 69(3), 1982).  Used when draws keep landing on
 * refused members, and for pick_all(), so a random number per member is
 * affordable.  all: ignore down flags.
 */

static int
cflb_least_tree_scan(const cflb_least_tree_t *t, cflb_pick_t *pk,
    const cflb_least_out_t *out, unsigned k, int all)
{
    int        chosen;
    unsigned   i;
    uint32_t   tw;
    uint64_t   sum, word, *words;

    words = cflb_least_words(t);
    chosen = CFLB_DECLINED;
    sum = 0;

    for (i = 0; i < t->n; i++) {
        word = cflb_least_read(&words[i]);

        tw = all ? cflb_least_tw((uint32_t) word & CFLB_LEAST_WEIGHT,
                                 word >> CFLB_LEAST_COUNT)
                 : cflb_least_word_tw(word);

        if (tw == 0
            || cflb_least_refused(out, k, i)
            || !cflb_member_usable(pk, i))
        {
            continue;
        }

        sum += tw;

        if (cflb_rng_below(pk->rng, sum) < tw) {
            chosen = (int) i;
        }
    }

    return chosen;
}


int
cflb_least_tree_verify(const cflb_least_tree_t *t)
{
    int64_t    sum;
    uint32_t   j, m, low;
    uint64_t  *word;

    word = cflb_least_words(t);

    for (j = 1; j <= t->size; j++) {
        low = j & (0U - j);
        sum = 0;

        for (m = j - low; m < j && m < t->n; m++) {
            sum += cflb_least_word_tw(cflb_least_read(&word[m]));
        }

        if (cflb_least_read(&t->node[j]) != sum) {
            return CFLB_ERROR;
        }
    }

    return CFLB_OK;
}
