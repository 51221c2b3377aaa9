
/*
 * cflb runtime overrides: the rules by which an operator's change and a
 * new configuration settle, as pure functions of the values involved.
 */


#include "cflb_override.h"


int
cflb_override_set(cflb_override_t *o, unsigned want, unsigned conf)
{
    if (want == cflb_override_value(o, conf)) {
        return 0;
    }

    o->set = (want != conf);
    o->value = (uint16_t) want;
    o->base = (uint16_t) conf;

    return 1;
}


unsigned
cflb_override_bind(cflb_override_t *o, const cflb_override_t *saved,
    unsigned conf)
{
    unsigned  done;

    done = 0;

    if (o->set && o->base != conf) {
        o->set = 0;
        done |= CFLB_OVERRIDE_DROPPED;
    }

    if (saved == NULL || !saved->set || o->set) {
        return done;
    }

    if (saved->base != conf) {
        return done | CFLB_OVERRIDE_DROPPED;
    }

    *o = *saved;

    return done | CFLB_OVERRIDE_RESTORED;
}
