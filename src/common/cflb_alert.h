
/*
 * cflb alert filters: which events a webhook is sent (the product's
 * notification filters, seed-features §13) and which a pool lets out
 * (its notification_filter).  An event is one of eight kinds: its alert
 * type, its source and the state it reports; a filter is the set of
 * kinds it passes, one bit each, so that filters combine by "and".
 */

#ifndef _CFLB_ALERT_H_INCLUDED_
#define _CFLB_ALERT_H_INCLUDED_


#include "cflb_core.h"


/* alert types */
#define CFLB_ALERT_HEALTH       0       /* load_balancing_health_alert */
#define CFLB_ALERT_ENABLEMENT   1       /* ..._pool_enablement_alert */

/* event sources */
#define CFLB_ALERT_POOL         0
#define CFLB_ALERT_ORIGIN       1       /* an endpoint */

/*
 * The state an event reports: new_health "Unhealthy" (0) or "Healthy"
 * (1) for health alerts, "enabled" false (0) or true (1) for enablement
 * alerts.
 */

/* every kind of event */
#define CFLB_ALERT_ALL          0xffu


/* the bit of one kind of event */
#define cflb_alert_bit(type, source, state)                                 \
    (1u << ((unsigned) (type) << 2 | (unsigned) (source) << 1                 \
            | (unsigned) ((state) != 0)))

/* does the filter pass this kind of event */
#define cflb_alert_match(filter, type, source, state)                       \
    (((filter) & cflb_alert_bit(type, source, state)) != 0)


/*
 * cflb_alert_param() reads one filter parameter of a webhook, NAME=LIST
 * with a comma-separated LIST, and narrows *filter to the events it
 * passes:
 *
 *     alerts=health,enablement        the alert types
 *     event_source=pool,origin        "endpoint" is another name for origin
 *     new_health=Healthy,Unhealthy    health alerts only; any letter case
 *     enabled=true,false              enablement alerts only
 *
 * new_health leaves enablement alerts alone and enabled health alerts,
 * as neither carries the other's field.  Returns CFLB_OK; CFLB_DECLINED
 * when NAME is not one of these (the caller's own parameter); CFLB_ERROR
 * with err->msg saying why and err->offset at the bad value.
 */
int cflb_alert_param(unsigned *filter, const cflb_str_t *param,
    cflb_err_t *err);

/*
 * cflb_alert_pool_param() reads one parameter of a pool's
 * notification_filter, SOURCE=WHICH: SOURCE is "pool" or "origin"
 * ("endpoint"), WHICH is "any" (the default: both directions),
 * "healthy" (only a change to healthy), "unhealthy" or "off" (none of
 * that source's health alerts).  It narrows the health alerts of that
 * source in *filter; enablement alerts pass.  Returns as above.
 */
int cflb_alert_pool_param(unsigned *filter, const cflb_str_t *param,
    cflb_err_t *err);


#endif /* _CFLB_ALERT_H_INCLUDED_ */
