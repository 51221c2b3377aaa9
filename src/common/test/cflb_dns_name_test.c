
/*
 * cflb_dns_name.c unit tests: text to wire and back (escapes, limits,
 * error messages and offsets), comparisons, "at or under a zone", the
 * case-insensitive hash; and the TCP framing helpers.
 */


#include "cflb_test.h"
#include "cflb_dns.h"


static void
t_from_text(cflb_test_t *t)
{
    size_t            i, n;
    cflb_err_t        err;
    unsigned char     wire[CFLB_DNS_NAME_MAX];
    char              label[80];

    static const struct {
        const char   *text;
        const char   *wire;             /* NULL: an error */
        size_t        wlen;
        const char   *msg;
        size_t        offset;
    } cases[] = {
        { "www.example.com", "\3www\7example\3com", 17, NULL, 0 },
        { "www.example.com.", "\3www\7example\3com", 17, NULL, 0 },
        { "WWW.Example.COM", "\3WWW\7Example\3COM", 17, NULL, 0 },
        { ".", "", 1, NULL, 0 },
        { "a", "\1a", 3, NULL, 0 },
        { "_dmarc.x-y.z9", "\6_dmarc\3x-y\2z9", 15, NULL, 0 },
        { "*.lb.test", "\1*\2lb\4test", 11, NULL, 0 },
        { "a\\.b.c", "\3a.b\1c", 7, NULL, 0 },
        { "a\\\\b.c", "\3a\\b\1c", 7, NULL, 0 },
        { "\\065\\000z.c", "\3A\0z\1c", 7, NULL, 0 },
        { "\\255", "\1\377", 3, NULL, 0 },
        { "", NULL, 0, "empty name", 0 },
        { "..", NULL, 0, "empty label", 0 },
        { ".a", NULL, 0, "empty label", 0 },
        { "a..b", NULL, 0, "empty label", 2 },
        { "a.b..", NULL, 0, "empty label", 4 },
        { "a\\", NULL, 0, "incomplete escape", 1 },
        { "a\\25", NULL, 0, "invalid escape", 1 },
        { "a\\256", NULL, 0, "invalid escape", 1 },
        { "a\\2x5", NULL, 0, "invalid escape", 1 },
        { "a b", NULL, 0, "invalid character", 1 },
        { "a\tb", NULL, 0, "invalid character", 1 },
        { "caf\xc3\xa9", NULL, 0, "invalid character", 3 },
        { "a\x7f", NULL, 0, "invalid character", 1 }
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err.msg = NULL;
        n = 0;

        if (cases[i].wire != NULL) {
            cflb_check_msg(t,
                cflb_dns_name_from_text((const unsigned char *) cases[i].text,
                                        strlen(cases[i].text), wire, &n,
                                        &err) == CFLB_OK
                && n == cases[i].wlen
                && memcmp(wire, cases[i].wire, n) == 0,
                "from_text \"%s\"", cases[i].text);
            continue;
        }

        cflb_check_msg(t,
            cflb_dns_name_from_text((const unsigned char *) cases[i].text,
                                    strlen(cases[i].text), wire, &n, &err)
            == CFLB_ERROR
            && err.msg != NULL && strcmp(err.msg, cases[i].msg) == 0
            && err.offset == cases[i].offset,
            "from_text \"%s\": %s at %zu", cases[i].text,
            err.msg ? err.msg : "(none)", err.offset);
    }

    /* labels of 63 and 64 */

    memset(label, 'x', 64);
    label[64] = '.';
    label[65] = 'y';

    cflb_check(t, cflb_dns_name_from_text((unsigned char *) label + 1,
                                              65, wire, &n, &err) == CFLB_OK
                      && n == 67 && wire[0] == 63);
    cflb_check(t, cflb_dns_name_from_text((unsigned char *) label, 66,
                                              wire, &n, &err) == CFLB_ERROR
                      && strcmp(err.msg, "label longer than 63 bytes") == 0
                      && err.offset == 0);

    /* err may be NULL */
    cflb_check(t, cflb_dns_name_from_text((unsigned char *) "..", 2,
                                              wire, &n, NULL) == CFLB_ERROR);
}


static void
t_to_text(cflb_test_t *t)
{
    size_t          i, n, wl;
    cflb_err_t      err;
    unsigned char   text[CFLB_DNS_NAME_TEXT_MAX], wire[CFLB_DNS_NAME_MAX];
    unsigned char   back[CFLB_DNS_NAME_MAX];

    static const struct {
        const char   *wire;
        size_t        wlen;
        unsigned      flags;
        const char   *text;             /* NULL: refused */
    } cases[] = {
        { "\3wWw\7ExAmple\3COM", 17, 0, "wWw.ExAmple.COM." },
        { "\3wWw\7ExAmple\3COM", 17, CFLB_DNS_TEXT_LOWER,
          "www.example.com." },
        { "", 1, 0, "." },
        { "\3a.b\1c", 7, 0, "a\\.b.c." },
        { "\3a\\b\1c", 7, 0, "a\\\\b.c." },
        { "\4\0 \377Z\1c", 8, CFLB_DNS_TEXT_LOWER, "\\000\\032\\255z.c." },
        { "\3www", 4, 0, NULL },                 /* no root */
        { "\3www\0", 6, 0, NULL },               /* bytes after the root */
        { "\5ab", 4, 0, NULL },                  /* label past the end */
        { "\100", 2, 0, NULL },                  /* label type 01 */
        { "\300\14", 3, 0, NULL },               /* pointer */
        { "", 0, 0, NULL }
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = cflb_dns_name_to_text((const unsigned char *) cases[i].wire,
                                  cases[i].wlen, text, sizeof(text),
                                  cases[i].flags);

        if (cases[i].text == NULL) {
            cflb_check_msg(t, n == 0, "to_text case %zu", i);
            continue;
        }

        cflb_check_msg(t, n == strlen(cases[i].text)
                              && memcmp(text, cases[i].text, n) == 0,
                       "to_text case %zu: \"%.*s\"", i, (int) n, text);

        /* and back to the same wire bytes */

        cflb_check(t, cflb_dns_name_from_text(text, n, back, &wl, &err)
                          == CFLB_OK);
        cflb_check(t, cases[i].flags != 0
                          || (wl == cases[i].wlen
                              && memcmp(back, cases[i].wire, wl) == 0));
    }

    /* every size short of the text is refused */

    for (i = 0; i < 13; i++) {
        cflb_check(t, cflb_dns_name_to_text((unsigned char *)
                                                "\3a.b\4\0xyz", 10, text, i,
                                                0) == 0);
    }

    cflb_check(t, cflb_dns_name_to_text((unsigned char *) "\3a.b\4\0xyz",
                                            10, text, 13, 0) == 13
                      && memcmp(text, "a\\.b.\\000xyz.", 13) == 0);

    /* the worst case, 255 bytes all escaped, fits CFLB_DNS_NAME_TEXT_MAX */

    memset(wire, 0, sizeof(wire));
    wire[0] = 63;
    wire[64] = 63;
    wire[128] = 63;
    wire[192] = 61;

    n = cflb_dns_name_to_text(wire, 255, text, sizeof(text), 0);
    cflb_check_msg(t, n == 250 * 4 + 4, "worst case %zu", n);
    cflb_check(t, cflb_dns_name_from_text(text, n, back, &wl, &err)
                      == CFLB_OK && wl == 255
                      && memcmp(back, wire, 255) == 0);
}


static void
t_name_ops(cflb_test_t *t)
{
    const unsigned char  *www, *zone, *x;

    www = (const unsigned char *) "\3WWW\7example\3COM";
    zone = (const unsigned char *) "\7EXAMPLE\3com";
    x = (const unsigned char *) "\10xexample\3com";

    cflb_check(t, cflb_dns_name_len(www) == 17);
    cflb_check(t, cflb_dns_name_len((unsigned char *) "") == 1);
    cflb_check(t, cflb_dns_name_len((unsigned char *) "\100") == 0);
    cflb_check(t, cflb_dns_name_len((unsigned char *) "\300\14") == 0);

    cflb_check(t, cflb_dns_name_eq(www, 17,
                                       (unsigned char *)
                                       "\3www\7EXAMPLE\3com", 17));
    cflb_check(t, !cflb_dns_name_eq(www, 17,
                                        (unsigned char *)
                                        "\3wwx\7example\3com", 17));
    cflb_check(t, !cflb_dns_name_eq(www, 17, zone, 13));

    /* non-letters do not fold: '@' (0x40) is not '`' (0x60) */
    cflb_check(t, !cflb_dns_name_eq((unsigned char *) "\1@", 3,
                                        (unsigned char *) "\1`", 3));
    cflb_check(t, !cflb_dns_name_eq((unsigned char *) "\1[", 3,
                                        (unsigned char *) "\1{", 3));

    cflb_check(t, cflb_dns_name_under(www, 17, zone, 13) == 1);
    cflb_check(t, cflb_dns_name_under(zone, 13, zone, 13) == 0);
    cflb_check(t, cflb_dns_name_under(www, 17,
                                          (unsigned char *) "\3com", 5) == 2);
    cflb_check(t, cflb_dns_name_under(www, 17,
                                          (unsigned char *) "", 1) == 3);
    cflb_check(t, cflb_dns_name_under(x, 14, zone, 13) == -1);
    cflb_check(t, cflb_dns_name_under(zone, 13, www, 17) == -1);
    cflb_check(t, cflb_dns_name_under((unsigned char *) "\3com", 5,
                                          zone, 13) == -1);
    cflb_check(t, cflb_dns_name_under((unsigned char *) "\1a\3org", 7,
                                          (unsigned char *) "\3com", 5)
                      == -1);

    /* "\1x\4abcd" and "\6xabcd": same length, the boundary differs */
    cflb_check(t, cflb_dns_name_under((unsigned char *)
                                          "\1x\4abcd\3com", 12,
                                          (unsigned char *) "\4abcd\3com",
                                          10) == 1);
    cflb_check(t, cflb_dns_name_under((unsigned char *)
                                          "\6xxabcd\3com", 12,
                                          (unsigned char *) "\4abcd\3com",
                                          10) == -1);

    cflb_check(t, cflb_dns_name_hash(www, 17, 0)
                      == cflb_dns_name_hash((unsigned char *)
                                            "\3www\7EXAMPLE\3com", 17, 0));
    cflb_check(t, cflb_dns_name_hash(www, 17, 0)
                      == cflb_hash64("\3www\7example\3com", 17, 0));
    cflb_check(t, cflb_dns_name_hash(www, 17, 0)
                      != cflb_dns_name_hash(www, 17, 1));
    cflb_check(t, cflb_dns_name_hash(zone, 13, 0)
                      != cflb_dns_name_hash(www, 17, 0));
}


static void
t_tcp(cflb_test_t *t)
{
    size_t         n;
    unsigned char  b[8] = { 0, 3, 'a', 'b', 'c', 'd' };

    cflb_check(t, cflb_dns_tcp_frame(b, 0, &n) == CFLB_AGAIN);
    cflb_check(t, cflb_dns_tcp_frame(b, 1, &n) == CFLB_AGAIN);
    cflb_check(t, cflb_dns_tcp_frame(b, 4, &n) == CFLB_AGAIN);
    cflb_check(t, cflb_dns_tcp_frame(b, 5, &n) == CFLB_OK && n == 3);
    cflb_check(t, cflb_dns_tcp_frame(b, 6, &n) == CFLB_OK && n == 3);

    cflb_dns_tcp_length(b, 0x1234);
    cflb_check(t, b[0] == 0x12 && b[1] == 0x34);
}


int
main(void)
{
    cflb_test_t  t;

    memset(&t, 0, sizeof(t));

    t_from_text(&t);
    t_to_text(&t);
    t_name_ops(&t);
    t_tcp(&t);

    return cflb_test_done(&t, "cflb_dns_name_test");
}
