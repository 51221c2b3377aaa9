
/*
 * cflb cookies: one cookie found in a request's Cookie header value,
 * read on every request of a load balancer with cookie affinity and by
 * the rules' cookie fields.
 */

#ifndef _CFLB_COOKIE_H_INCLUDED_
#define _CFLB_COOKIE_H_INCLUDED_


#include "cflb_core.h"


/*
 * cflb_cookie_find() looks for the cookie name (nlen > 0 bytes) in one
 * Cookie header value s[0..len) as nginx reads cookies: pairs separated
 * by ';' or ',', spaces allowed around the name and the '=', the name
 * compared without ASCII letter case, the value up to the next ';' (or
 * the end).  Returns 1 with the first such value in *value, or 0.
 */
int cflb_cookie_find(const unsigned char *s, size_t len,
    const unsigned char *name, size_t nlen, cflb_str_t *value);


#endif /* _CFLB_COOKIE_H_INCLUDED_ */
