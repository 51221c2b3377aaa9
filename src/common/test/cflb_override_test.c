
/*
 * cflb_override.c: how an operator's change and a new configuration
 * settle (docs/api.md, "precedence").
 */


#include "cflb_test.h"
#include "cflb_override.h"


int
main(void)
{
    unsigned         r;
    cflb_override_t  o, saved;
    cflb_test_t      t = { 0, 0 };

    memset(&o, 0, sizeof(o));

    /* a change over the configured 50 */
    cflb_check(&t, cflb_override_set(&o, 30, 50) == 1);
    cflb_check(&t, o.set && o.value == 30 && o.base == 50);
    cflb_check(&t, cflb_override_value(&o, 50) == 30);

    /* the same value again changes nothing */
    cflb_check(&t, cflb_override_set(&o, 30, 50) == 0);

    /* back to the configured value: no override left */
    cflb_check(&t, cflb_override_set(&o, 50, 50) == 1);
    cflb_check(&t, !o.set && cflb_override_value(&o, 50) == 50);
    cflb_check(&t, cflb_override_set(&o, 50, 50) == 0);

    /* a reload that keeps the base keeps the override */
    cflb_override_set(&o, 0, 1);
    r = cflb_override_bind(&o, NULL, 1);
    cflb_check(&t, r == 0 && o.set && o.value == 0);

    /* a reload that changes the base drops it */
    r = cflb_override_bind(&o, NULL, 0);
    cflb_check(&t, r == CFLB_OVERRIDE_DROPPED && !o.set);

    /* the state file's override is taken when its base still holds */
    memset(&o, 0, sizeof(o));
    saved.set = 1;
    saved.value = 30;
    saved.base = 50;
    r = cflb_override_bind(&o, &saved, 50);
    cflb_check(&t, r == CFLB_OVERRIDE_RESTORED && o.set && o.value == 30);

    /* ... and dropped when it does not */
    memset(&o, 0, sizeof(o));
    r = cflb_override_bind(&o, &saved, 60);
    cflb_check(&t, r == CFLB_OVERRIDE_DROPPED && !o.set);

    /* the zone's own override wins over the file's */
    cflb_override_set(&o, 40, 50);
    r = cflb_override_bind(&o, &saved, 50);
    cflb_check(&t, r == 0 && o.value == 40);

    /* a saved entry without this field, a NULL one: nothing happens */
    memset(&o, 0, sizeof(o));
    saved.set = 0;
    cflb_check(&t, cflb_override_bind(&o, &saved, 50) == 0 && !o.set);
    cflb_check(&t, cflb_override_bind(&o, NULL, 50) == 0 && !o.set);

    return cflb_test_done(&t, "cflb_override_test");
}
