
/*
 * cflb_json.c: the UTF-8 check against a reference decoder over every
 * sequence of up to three bytes and a sample of four-byte ones, golden
 * escapes, and random bytes, whose escape must be valid UTF-8 with no
 * raw control character, quote or lone backslash, and must read back
 * (for valid input) as the input.
 */


#include "cflb_test.h"
#include "cflb_json.h"


/* the reference: decode by the bit patterns, then check the ranges */

static size_t
ref_valid(const unsigned char *p, size_t len)
{
    size_t    n, i;
    uint32_t  cp, min;

    if (len == 0) {
        return 0;
    }

    if (p[0] < 0x80) {
        return 1;
    }

    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = p[0] & 0x1f;
        min = 0x80;

    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = p[0] & 0x0f;
        min = 0x800;

    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = p[0] & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = cp << 6 | (p[i] & 0x3f);
    }

    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }

    return n;
}


/* the JSON string body s (no quotes) read back; -1 if it is not valid */

static long
unescape(const unsigned char *s, size_t len, unsigned char *out)
{
    size_t          i, o;
    unsigned        v;
    const char     *e;
    static const char  esc[] = "\"\\/bfnrt", val[] = "\"\\/\b\f\n\r\t";

    for (i = 0, o = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == '"') {
            return -1;
        }

        if (s[i] != '\\') {
            out[o++] = s[i];
            continue;
        }

        if (++i == len) {
            return -1;
        }

        if (s[i] == 'u') {
            if (i + 4 >= len) {
                return -1;
            }

            if (sscanf((const char *) s + i + 1, "%4x", &v) != 1 || v > 0x7f)
            {
                return -1;
            }

            out[o++] = (unsigned char) v;
            i += 4;
            continue;
        }

        e = memchr(esc, s[i], sizeof(esc) - 1);
        if (e == NULL) {
            return -1;
        }

        out[o++] = (unsigned char) val[e - esc];
    }

    return (long) o;
}


/* the whole buffer is well-formed UTF-8 */

static int
all_valid(const unsigned char *p, size_t len)
{
    size_t  n;

    while (len) {
        n = cflb_utf8_valid(p, len);

        if (n == 0) {
            return 0;
        }

        p += n;
        len -= n;
    }

    return 1;
}


static int
escapes_to(const char *in, size_t len, const char *want)
{
    unsigned char  out[256], *end;

    end = cflb_json_escape(out, (const unsigned char *) in, len);

    return (size_t) (end - out) == strlen(want)
           && memcmp(out, want, end - out) == 0;
}


int
main(void)
{
    size_t          i, n, len, bad;
    long            back;
    uint32_t        a, b, c;
    cflb_rng_t      rng;
    cflb_test_t     t = { 0, 0 };
    unsigned char   in[64], out[64 * CFLB_JSON_ESCAPED], dec[64 * 6], *end;

    /* every sequence of one to three bytes, checked as 3-byte inputs */
    bad = 0;

    for (a = 0; a < 256; a++) {
        for (b = 0; b < 256; b++) {
            for (c = 0; c < 256; c += (a >= 0xe0 && a <= 0xef) ? 1 : 51) {
                in[0] = (unsigned char) a;
                in[1] = (unsigned char) b;
                in[2] = (unsigned char) c;

                for (len = 1; len <= 3; len++) {
                    if (cflb_utf8_valid(in, len) != ref_valid(in, len)) {
                        bad++;
                    }
                }
            }
        }
    }

    cflb_check_msg(&t, bad == 0, "%zu sequences judged unlike the "
                   "reference", bad);

    /* four-byte sequences: every lead and second byte, sampled tails */
    bad = 0;

    for (a = 0xf0; a < 0x100; a++) {
        for (b = 0; b < 256; b++) {
            for (c = 0; c < 256; c += 17) {
                in[0] = (unsigned char) a;
                in[1] = (unsigned char) b;
                in[2] = (unsigned char) c;
                in[3] = (unsigned char) (0x80 + (c % 0x40));

                if (cflb_utf8_valid(in, 4) != ref_valid(in, 4)) {
                    bad++;
                }
            }
        }
    }

    cflb_check_msg(&t, bad == 0, "%zu four-byte sequences judged unlike "
                   "the reference", bad);

    /* the edges of Table 3-7 */
    cflb_check(&t, cflb_utf8_valid((const unsigned char *) "\xc2\x80", 2)
                   == 2);
    cflb_check(&t, cflb_utf8_valid((const unsigned char *) "\xc1\xbf", 2)
                   == 0);
    cflb_check(&t, cflb_utf8_valid((const unsigned char *) "\xe0\x9f\xbf", 3)
                   == 0);
    cflb_check(&t, cflb_utf8_valid((const unsigned char *) "\xed\x9f\xbf", 3)
                   == 3);
    cflb_check(&t, cflb_utf8_valid((const unsigned char *) "\xed\xa0\x80", 3)
                   == 0);
    cflb_check(&t, cflb_utf8_valid((const unsigned char *)
                                   "\xf4\x8f\xbf\xbf", 4) == 4);
    cflb_check(&t, cflb_utf8_valid((const unsigned char *)
                                   "\xf4\x90\x80\x80", 4) == 0);
    cflb_check(&t, cflb_utf8_valid((const unsigned char *) "\xe2\x82", 2)
                   == 0);

    /* golden escapes */
    cflb_check(&t, escapes_to("us_east", 7, "us_east"));
    cflb_check(&t, escapes_to("a\"b\\c", 5, "a\\\"b\\\\c"));
    cflb_check(&t, escapes_to("\n\t\r\b\f", 5, "\\n\\t\\r\\b\\f"));
    cflb_check(&t, escapes_to("\x01\x1f", 2, "\\u0001\\u001f"));
    cflb_check(&t, escapes_to("\0x", 2, "\\u0000x"));
    cflb_check(&t, escapes_to("caf\xc3\xa9", 5, "caf\xc3\xa9"));
    cflb_check(&t, escapes_to("\xe2\x82\xac\xf0\x9f\x98\x80", 7,
                              "\xe2\x82\xac\xf0\x9f\x98\x80"));
    cflb_check(&t, escapes_to("\xff", 1, "\\\\xFF"));
    cflb_check(&t, escapes_to("p\xc3", 2, "p\\\\xC3"));
    cflb_check(&t, escapes_to("\xc3\xc3\xa9", 3, "\\\\xC3\xc3\xa9"));
    cflb_check(&t, escapes_to("\xed\xa0\x80", 3, "\\\\xED\\\\xA0\\\\x80"));
    cflb_check(&t, escapes_to("\xe2\x82x", 3, "\\\\xE2\\\\x82x"));
    cflb_check(&t, escapes_to("", 0, ""));

    /* random bytes: valid, bounded, readable; valid input reads back */
    cflb_rng_seed(&rng, 14);
    bad = 0;

    for (i = 0; i < 200000; i++) {
        len = (size_t) cflb_rng_below(&rng, 64);

        for (n = 0; n < len; n++) {
            /* mostly high bytes and controls, where the cases are */
            a = (uint32_t) cflb_rng_below(&rng, 4);
            in[n] = (unsigned char) (a == 0 ? cflb_rng_below(&rng, 0x80)
                                     : 0x80 + cflb_rng_below(&rng, 0x80));
        }

        end = cflb_json_escape(out, in, len);
        n = end - out;

        back = unescape(out, n, dec);

        if (n > CFLB_JSON_ESCAPED * len || !all_valid(out, n) || back < 0
            || (all_valid(in, len)
                && ((size_t) back != len || memcmp(dec, in, len) != 0)))
        {
            bad++;
        }
    }

    cflb_check_msg(&t, bad == 0, "%zu random inputs escaped wrongly", bad);

    return cflb_test_done(&t, "cflb_json");
}
