
/*
 * cflb_dns_name: domain names in wire format (RFC 1035 3.1: labels of
 * 1-63 bytes, each after its length byte, ending with the root label 0,
 * at most 255 bytes) and in the text form of RFC 1035 5.1.
 *
 * Comparisons and the hash fold ASCII letters only (RFC 4343).  Length
 * bytes are below 64 and letters above, so comparing two wire names
 * byte by byte after folding compares their labels.
 */


#include <string.h>

#include "cflb_dns_wire.h"


static int cflb_dns_text_error(cflb_err_t *err, const char *msg,
    size_t offset);
static size_t cflb_dns_text_byte(unsigned char *text, size_t room,
    unsigned c);


size_t
cflb_dns_name_len(const unsigned char *name)
{
    size_t  i;

    for (i = 0; name[i] != 0; i += name[i] + 1) {

        /* this label and then at least the root must fit in 255 */

        if (name[i] > CFLB_DNS_LABEL_MAX
            || i + name[i] + 2 > CFLB_DNS_NAME_MAX)
        {
            return 0;
        }
    }

    return i + 1;
}


int
cflb_dns_name_from_text(const unsigned char *text, size_t len,
    unsigned char *wire, size_t *wire_len, cflb_err_t *err)
{
    size_t    i, o, label, lstart;
    unsigned  c;

    if (len == 0) {
        return cflb_dns_text_error(err, "empty name", 0);
    }

    if (len == 1 && text[0] == '.') {
        wire[0] = 0;
        *wire_len = 1;
        return CFLB_OK;
    }

    /* wire[label] is the current label's length byte, o the next byte */

    label = 0;
    lstart = 0;
    o = 1;

    for (i = 0; i < len; i++) {
        c = text[i];

        if (c == '.') {
            if (o == label + 1) {
                return cflb_dns_text_error(err, "empty label", i);
            }

            wire[label] = (unsigned char) (o - label - 1);
            label = o++;
            lstart = i + 1;
            continue;
        }

        if (c == '\\') {
            if (i + 1 == len) {
                return cflb_dns_text_error(err, "incomplete escape", i);
            }

            c = text[++i];

            if (c >= '0' && c <= '9') {
                if (len - i < 3
                    || text[i + 1] < '0' || text[i + 1] > '9'
                    || text[i + 2] < '0' || text[i + 2] > '9')
                {
                    return cflb_dns_text_error(err, "invalid escape", i - 1);
                }

                c = (c - '0') * 100 + (text[i + 1] - '0') * 10
                    + (text[i + 2] - '0');

                if (c > 255) {
                    return cflb_dns_text_error(err, "invalid escape", i - 1);
                }

                i += 2;
            }

        } else if (c < 0x21 || c > 0x7e) {
            return cflb_dns_text_error(err, "invalid character", i);
        }

        if (o - label - 1 == CFLB_DNS_LABEL_MAX) {
            return cflb_dns_text_error(err, "label longer than 63 bytes",
                                       lstart);
        }

        /* this byte, then at least the root byte, within 255 */

        if (o + 2 > CFLB_DNS_NAME_MAX) {
            return cflb_dns_text_error(err, "name longer than 255 bytes", i);
        }

        wire[o++] = (unsigned char) c;
    }

    if (o == label + 1) {
        /* a final dot: the last label opened is the root */
        wire[label] = 0;
        *wire_len = label + 1;

    } else {
        wire[label] = (unsigned char) (o - label - 1);
        wire[o] = 0;
        *wire_len = o + 1;
    }

    return CFLB_OK;
}


static int
cflb_dns_text_error(cflb_err_t *err, const char *msg, size_t offset)
{
    if (err != NULL) {
        err->msg = msg;
        err->offset = offset;
    }

    return CFLB_ERROR;
}


size_t
cflb_dns_name_to_text(const unsigned char *wire, size_t wire_len,
    unsigned char *text, size_t size, unsigned flags)
{
    size_t    i, j, o, n;
    unsigned  c, b;

    if (wire_len == 0 || wire_len > CFLB_DNS_NAME_MAX) {
        return 0;
    }

    i = 0;
    o = 0;

    while ((c = wire[i]) != 0) {

        /* the label, then at least the root byte, within wire_len */

        if (c > CFLB_DNS_LABEL_MAX || c + 1 >= wire_len - i) {
            return 0;
        }

        for (j = 1; j <= c; j++) {
            b = wire[i + j];

            if (flags & CFLB_DNS_TEXT_LOWER) {
                b = cflb_dns_lower((unsigned char) b);
            }

            n = cflb_dns_text_byte(text + o, size - o, b);

            if (n == 0) {
                return 0;
            }

            o += n;
        }

        if (o == size) {
            return 0;
        }

        text[o++] = '.';
        i += c + 1;
    }

    if (i + 1 != wire_len) {
        return 0;
    }

    if (o == 0) {
        if (size == 0) {
            return 0;
        }

        text[o++] = '.';
    }

    return o;
}


/* one label byte as text, escaped; 0 if it does not fit in room */

static size_t
cflb_dns_text_byte(unsigned char *text, size_t room, unsigned c)
{
    if (c == '.' || c == '\\') {
        if (room < 2) {
            return 0;
        }

        text[0] = '\\';
        text[1] = (unsigned char) c;

        return 2;
    }

    if (c < 0x21 || c > 0x7e) {
        if (room < 4) {
            return 0;
        }

        text[0] = '\\';
        text[1] = (unsigned char) ('0' + c / 100);
        text[2] = (unsigned char) ('0' + c / 10 % 10);
        text[3] = (unsigned char) ('0' + c % 10);

        return 4;
    }

    if (room < 1) {
        return 0;
    }

    text[0] = (unsigned char) c;

    return 1;
}


int
cflb_dns_name_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
    size_t  i;

    if (alen != blen) {
        return 0;
    }

    for (i = 0; i < alen; i++) {
        if (cflb_dns_lower(a[i]) != cflb_dns_lower(b[i])) {
            return 0;
        }
    }

    return 1;
}


int
cflb_dns_name_under(const unsigned char *name, size_t len,
    const unsigned char *zone, size_t zlen)
{
    int     n;
    size_t  i;

    /* walk down to the label boundary zlen bytes before the end */

    i = 0;
    n = 0;

    while (len - i > zlen) {
        if (name[i] == 0) {
            return -1;
        }

        i += name[i] + 1;
        n++;

        if (i >= len) {
            return -1;
        }
    }

    if (len - i != zlen || !cflb_dns_name_eq(name + i, zlen, zone, zlen)) {
        return -1;
    }

    return n;
}


uint64_t
cflb_dns_name_hash(const unsigned char *name, size_t len, uint64_t seed)
{
    size_t         i;
    unsigned char  low[CFLB_DNS_NAME_MAX];

    if (len > CFLB_DNS_NAME_MAX) {
        len = CFLB_DNS_NAME_MAX;
    }

    for (i = 0; i < len; i++) {
        low[i] = cflb_dns_lower(name[i]);
    }

    return cflb_hash64(low, len, seed);
}
