
/*
 * cflb runtime overrides: a value the operator set at run time (the
 * runtime API) in place of the configured one, kept with the configured
 * value it replaced, its base.  The base is what lets a new configuration
 * win: an override made over a value the configuration no longer says is
 * dropped, one made over the value it still says is kept (docs/api.md).
 */

#ifndef _CFLB_OVERRIDE_H_INCLUDED_
#define _CFLB_OVERRIDE_H_INCLUDED_


#include "cflb_core.h"


typedef struct {
    uint16_t          value;
    uint16_t          base;         /* the configured value it replaced */
    uint8_t           set;
} cflb_override_t;


/* what cflb_override_bind() did */
#define CFLB_OVERRIDE_DROPPED   0x01    /* the configuration changed it */
#define CFLB_OVERRIDE_RESTORED  0x02    /* taken from the saved state */


/* the value in effect: the override's, or the configured one */
#define cflb_override_value(o, conf)  ((o)->set ? (o)->value : (conf))

/*
 * cflb_override_set() applies the operator's want over the configured
 * conf: an override, or none when want is conf.  Returns 1 when the
 * value in effect changed, 0 when it was want already.
 */
int cflb_override_set(cflb_override_t *o, unsigned want, unsigned conf);

/*
 * cflb_override_bind() reconciles, at a (re)load, the override held (in
 * the zone, o) and the one saved (the state file; NULL if none) with the
 * configured value conf: one made over another base is dropped, a saved
 * one is taken when none is held.  Returns CFLB_OVERRIDE_* bits.
 */
unsigned cflb_override_bind(cflb_override_t *o, const cflb_override_t *saved,
    unsigned conf);


#endif /* _CFLB_OVERRIDE_H_INCLUDED_ */
