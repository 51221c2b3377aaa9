
/*
 * cflb_cookie.c: the cases nginx's reader is known by, the separators
 * and spaces, letter case, and 200,000 random headers compared with the
 * plain reference (cflb_cookie_ref.h).
 */


#include "cflb_test.h"
#include "cflb_cookie_ref.h"


static int
find(const char *header, const char *name, const char *want)
{
    int         found;
    cflb_str_t  v;

    found = cflb_cookie_find((const unsigned char *) header, strlen(header),
                             (const unsigned char *) name, strlen(name), &v);

    if (want == NULL) {
        return !found;
    }

    return found && v.len == strlen(want)
           && memcmp(v.data, want, v.len) == 0;
}


static void
cases(cflb_test_t *t)
{
    cflb_check(t, find("__cflb=abc", "__cflb", "abc"));
    cflb_check(t, find("a=1; __cflb=abc; b=2", "__cflb", "abc"));
    cflb_check(t, find("a=1;__cflb=abc", "__cflb", "abc"));
    cflb_check(t, find("a=1, __cflb=abc", "__cflb", "abc"));
    cflb_check(t, find("__cflb = abc ;x=1", "__cflb", "abc "));
    cflb_check(t, find("__CFLB=abc", "__cflb", "abc"));
    cflb_check(t, find("__cflb=", "__cflb", ""));
    cflb_check(t, find("__cflb=a,b; c=1", "__cflb", "a,b"));
    cflb_check(t, find("x=__cflb=1; __cflb=2", "__cflb", "2"));
    cflb_check(t, find("x=a,__cflb=1", "__cflb", "1"));
    cflb_check(t, find("__cflb=1; __cflb=2", "__cflb", "1"));
    cflb_check(t, find("__cflb; __cflb=2", "__cflb", "2"));

    /* not the name: longer, shorter, a value, '_' against a letter */
    cflb_check(t, find("__cflbx=1", "__cflb", NULL));
    cflb_check(t, find("__cfl=1", "__cflb", NULL));
    cflb_check(t, find("x=__cflb", "__cflb", NULL));
    cflb_check(t, find("\x7f\x7f" "cflb=1", "__cflb", NULL));
    cflb_check(t, find("", "__cflb", NULL));
    cflb_check(t, find(";;,, ;", "__cflb", NULL));
    cflb_check(t, find("__cflb", "__cflb", NULL));
    cflb_check(t, find("__cflb  ", "__cflb", NULL));
}


static void
random_headers(cflb_test_t *t)
{
    int             a, b;
    size_t          i, len;
    cflb_rng_t      rng;
    cflb_str_t      va, vb;
    unsigned char   s[64];
    unsigned        mismatches;

    static const char  alphabet[] = "_cCfFlLbB=;, x\x7f";

    cflb_rng_seed(&rng, 7);
    mismatches = 0;

    for (i = 0; i < 200000; i++) {
        len = cflb_rng_below(&rng, sizeof(s));

        for (size_t k = 0; k < len; k++) {
            s[k] = alphabet[cflb_rng_below(&rng, sizeof(alphabet) - 1)];
        }

        a = cflb_cookie_find(s, len, (const unsigned char *) "__cflb", 6, &va);
        b = cflb_cookie_ref(s, len, (const unsigned char *) "__cflb", 6, &vb);

        if (a != b || (a && (va.data != vb.data || va.len != vb.len))) {
            mismatches++;
        }
    }

    cflb_check_msg(t, mismatches == 0, "%u random headers differ",
                   mismatches);
}


int
main(void)
{
    cflb_test_t  t = { 0, 0 };

    cases(&t);
    random_headers(&t);

    return cflb_test_done(&t, "cflb_cookie_test");
}
