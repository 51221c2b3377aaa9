
/*
 * cflb JSON strings: bytes from anywhere (configured names, a request's
 * path) written as the inside of a JSON string that is valid UTF-8
 * whatever the bytes were, so that no reader rejects the document.
 */

#ifndef _CFLB_JSON_H_INCLUDED_
#define _CFLB_JSON_H_INCLUDED_


#include "cflb_core.h"


/* the most one input byte takes once escaped ("\u001f") */
#define CFLB_JSON_ESCAPED   6


/*
 * cflb_json_escape() writes the len bytes of src to dst, which has room
 * for CFLB_JSON_ESCAPED * len bytes, as the inside of a JSON string, and
 * returns the end of what it wrote.  Well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF) is copied as
 * is; '"', '\' and control characters are escaped as JSON says; each
 * byte of anything else is written "\xHH" (as the text backslash, x, two
 * hex digits), as nginx writes such bytes in its logs, so that a reader
 * sees which bytes they were.
 */
unsigned char *cflb_json_escape(unsigned char *dst, const unsigned char *src,
    size_t len);

/*
 * cflb_utf8_valid() is the length of the well-formed UTF-8 sequence that
 * starts at p (1 to 4, at most len), or 0 when there is none.
 */
size_t cflb_utf8_valid(const unsigned char *p, size_t len);


#endif /* _CFLB_JSON_H_INCLUDED_ */
