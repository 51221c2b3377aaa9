
/*
 * cflb alert filters: parameters read into sets of event kinds
 * (cflb_alert.h).  Each parameter narrows one dimension of the kinds
 * within its scope and leaves the other kinds alone.
 */


#include <string.h>

#include "cflb_alert.h"


/* the kinds of event, as bit masks */
#define CFLB_K_HEALTH       0x0fu
#define CFLB_K_ENABLEMENT   0xf0u
#define CFLB_K_POOL         0x33u          /* pool events of both types */
#define CFLB_K_ORIGIN       0xccu
#define CFLB_K_DOWN         0x55u          /* Unhealthy, or enabled false */
#define CFLB_K_UP           0xaau


typedef struct {
    const char           *word;
    unsigned              kinds;
} cflb_alert_value_t;


typedef struct {
    const char           *name;         /* with its "=" */
    unsigned              scope;        /* the kinds it decides */
    const char           *expect;       /* the error message */
    const cflb_alert_value_t  *values;  /* ended by a NULL word */
} cflb_alert_param_t;


static const cflb_alert_value_t  cflb_alert_types[] = {
    { "health", CFLB_K_HEALTH },
    { "enablement", CFLB_K_ENABLEMENT },
    { NULL, 0 }
};

static const cflb_alert_value_t  cflb_alert_sources[] = {
    { "pool", CFLB_K_POOL },
    { "origin", CFLB_K_ORIGIN },
    { "endpoint", CFLB_K_ORIGIN },
    { NULL, 0 }
};

static const cflb_alert_value_t  cflb_alert_health[] = {
    { "healthy", CFLB_K_UP },
    { "unhealthy", CFLB_K_DOWN },
    { NULL, 0 }
};

static const cflb_alert_value_t  cflb_alert_enabled[] = {
    { "true", CFLB_K_UP },
    { "false", CFLB_K_DOWN },
    { NULL, 0 }
};

/* a pool's notification_filter, per source: "off" passes nothing */
static const cflb_alert_value_t  cflb_alert_which[] = {
    { "any", CFLB_K_UP | CFLB_K_DOWN },
    { "healthy", CFLB_K_UP },
    { "unhealthy", CFLB_K_DOWN },
    { "off", 0 },
    { NULL, 0 }
};


static const cflb_alert_param_t  cflb_alert_params[] = {
    { "alerts=", CFLB_ALERT_ALL,
      "\"alerts=\" takes health and enablement", cflb_alert_types },
    { "event_source=", CFLB_ALERT_ALL,
      "\"event_source=\" takes pool and origin (or endpoint)",
      cflb_alert_sources },
    { "new_health=", CFLB_K_HEALTH,
      "\"new_health=\" takes Healthy and Unhealthy", cflb_alert_health },
    { "enabled=", CFLB_K_ENABLEMENT,
      "\"enabled=\" takes true and false", cflb_alert_enabled },
    { NULL, 0, NULL, NULL }
};

static const cflb_alert_param_t  cflb_alert_pool_params[] = {
    { "pool=", CFLB_K_HEALTH & CFLB_K_POOL,
      "\"pool=\" takes any, healthy, unhealthy or off", cflb_alert_which },
    { "origin=", CFLB_K_HEALTH & CFLB_K_ORIGIN,
      "\"origin=\" takes any, healthy, unhealthy or off", cflb_alert_which },
    { "endpoint=", CFLB_K_HEALTH & CFLB_K_ORIGIN,
      "\"endpoint=\" takes any, healthy, unhealthy or off",
      cflb_alert_which },
    { NULL, 0, NULL, NULL }
};


static int cflb_alert_read(const cflb_alert_param_t *params,
    unsigned *filter, const cflb_str_t *param, cflb_err_t *err);
static int cflb_alert_word(const cflb_alert_value_t *values,
    const unsigned char *p, size_t len, unsigned *kinds);


int
cflb_alert_param(unsigned *filter, const cflb_str_t *param, cflb_err_t *err)
{
    return cflb_alert_read(cflb_alert_params, filter, param, err);
}


int
cflb_alert_pool_param(unsigned *filter, const cflb_str_t *param,
    cflb_err_t *err)
{
    return cflb_alert_read(cflb_alert_pool_params, filter, param, err);
}


/*
 * NAME=V1,V2...: the kinds in scope that no value selects are taken out
 * of *filter, which changes only when the whole list is valid.
 */

static int
cflb_alert_read(const cflb_alert_param_t *params, unsigned *filter,
    const cflb_str_t *param, cflb_err_t *err)
{
    size_t                     n, len;
    unsigned                   kinds, allowed;
    const unsigned char       *p, *end, *comma;
    const cflb_alert_param_t  *pa;

    for (pa = params; pa->name; pa++) {
        n = strlen(pa->name);

        if (param->len >= n && memcmp(param->data, pa->name, n) == 0) {
            break;
        }
    }

    if (pa->name == NULL) {
        return CFLB_DECLINED;
    }

    p = param->data + n;
    end = param->data + param->len;
    allowed = 0;

    for ( ;; ) {
        comma = memchr(p, ',', end - p);
        len = (comma ? comma : end) - p;

        if (cflb_alert_word(pa->values, p, len, &kinds) != CFLB_OK) {
            err->msg = pa->expect;
            err->offset = p - param->data;
            return CFLB_ERROR;
        }

        allowed |= kinds;

        if (comma == NULL) {
            break;
        }

        p = comma + 1;
    }

    *filter &= (CFLB_ALERT_ALL & ~pa->scope) | (allowed & pa->scope);

    return CFLB_OK;
}


/* one value, in any letter case: its kinds */

static int
cflb_alert_word(const cflb_alert_value_t *values, const unsigned char *p,
    size_t len, unsigned *kinds)
{
    size_t                     i;
    unsigned char              c;
    const cflb_alert_value_t  *v;

    for (v = values; v->word; v++) {
        if (strlen(v->word) != len) {
            continue;
        }

        for (i = 0; i < len; i++) {
            c = p[i];

            if (c >= 'A' && c <= 'Z') {
                c = (unsigned char) (c + ('a' - 'A'));
            }

            if (c != (unsigned char) v->word[i]) {
                break;
            }
        }

        if (i == len) {
            *kinds = v->kinds;
            return CFLB_OK;
        }
    }

    return CFLB_ERROR;
}
