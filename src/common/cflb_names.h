
/*
 * cflb_names: an index of names over an array the caller keeps, so that
 * a configuration of n pools or endpoints finds a name in O(1) expected
 * time instead of a scan of everything read before it (issue 15: one
 * pool of 10,000 endpoints spent 96 % of "nginx -t" in the duplicate-name
 * scan).
 *
 * The index holds positions in the caller's array, not names: the key()
 * callback tells the name at a position, so nothing is copied.  Open
 * addressing with linear probing over 64-bit slots (32 bits of the
 * name's hash, 32 bits of position + 1), at most half full; it doubles
 * when it would be fuller.  Memory from the injected allocator.
 */

#ifndef _CFLB_NAMES_H_INCLUDED_
#define _CFLB_NAMES_H_INCLUDED_


#include "cflb_core.h"


/* the name at position pos of the caller's array */
typedef cflb_str_t (*cflb_names_key_pt)(void *data, uint32_t pos);


typedef struct {
    uint64_t             *slot;     /* hash << 32 | (pos + 1); 0: empty */
    uint32_t              mask;     /* slots - 1, slots a power of 2 */
    uint32_t              n;        /* positions held */
    unsigned              caseless; /* ASCII letters compare folded */
    cflb_names_key_pt     key;
    void                 *data;
    cflb_allocator_t     *a;        /* kept: the table grows */
} cflb_names_t;


/*
 * cflb_names_init() makes an empty index sized for about hint names (0:
 * a small one); caseless makes "Www" and "www" the same name (nginx's
 * upstream names).  The allocator must outlive the index.  CFLB_OK or
 * CFLB_ERROR (no memory).
 */
int cflb_names_init(cflb_names_t *nm, cflb_allocator_t *a, uint32_t hint,
    unsigned caseless, cflb_names_key_pt key, void *data);

/*
 * cflb_names_find() returns the position of the name s[0..len-1], or
 * CFLB_DECLINED when the index has none.
 */
int cflb_names_find(const cflb_names_t *nm, const unsigned char *s,
    size_t len);

/*
 * cflb_names_add() adds position pos (< 2^31 - 1), whose name key()
 * tells, unless the index already has that name: CFLB_OK, CFLB_DECLINED
 * with *dup (if not NULL) set to the position that has it, or
 * CFLB_ERROR (no memory for a larger table; the index is unchanged).
 */
int cflb_names_add(cflb_names_t *nm, uint32_t pos, uint32_t *dup);

/* cflb_names_free() returns the table to the allocator; n is then 0 */
void cflb_names_free(cflb_names_t *nm);


#endif /* _CFLB_NAMES_H_INCLUDED_ */
