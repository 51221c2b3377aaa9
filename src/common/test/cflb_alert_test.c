
/*
 * cflb_alert.c: webhook filter parameters and a pool's
 * notification_filter, each checked against every kind of event.
 */


#include "cflb_test.h"
#include "cflb_alert.h"


/* the filter after the parameters, or ~0u when one is refused */

static unsigned
filter_of(int pool, const char *p1, const char *p2)
{
    int          rc;
    unsigned     f;
    cflb_str_t   s;
    cflb_err_t   err;
    const char  *params[2];
    size_t       i;

    f = CFLB_ALERT_ALL;
    params[0] = p1;
    params[1] = p2;

    for (i = 0; i < 2 && params[i]; i++) {
        s.data = (unsigned char *) params[i];
        s.len = strlen(params[i]);

        rc = pool ? cflb_alert_pool_param(&f, &s, &err)
                  : cflb_alert_param(&f, &s, &err);

        if (rc != CFLB_OK) {
            return ~0u;
        }
    }

    return f;
}


/* the events a filter passes, as "type/source/state" words */

static const char *
passes(unsigned f)
{
    static char  buf[256];
    unsigned     type, source, state;
    static const char  *types[] = { "health", "enablement" };
    static const char  *sources[] = { "pool", "origin" };
    static const char  *states[2][2] = { { "Unhealthy", "Healthy" },
                                         { "disabled", "enabled" } };

    buf[0] = '\0';

    for (type = 0; type < 2; type++) {
        for (source = 0; source < 2; source++) {
            for (state = 0; state < 2; state++) {
                if (cflb_alert_match(f, type, source, state)) {
                    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
                             "%s%s/%s/%s", buf[0] ? " " : "", types[type],
                             sources[source], states[type][state]);
                }
            }
        }
    }

    return buf;
}


static int
refused(int pool, const char *param, const char *msg, size_t offset)
{
    int          rc;
    unsigned     f;
    cflb_str_t   s;
    cflb_err_t   err;

    f = CFLB_ALERT_ALL;
    s.data = (unsigned char *) param;
    s.len = strlen(param);
    err.msg = NULL;
    err.offset = 0;

    rc = pool ? cflb_alert_pool_param(&f, &s, &err)
              : cflb_alert_param(&f, &s, &err);

    return rc == CFLB_ERROR && f == CFLB_ALERT_ALL && err.msg
           && strstr(err.msg, msg) && err.offset == offset;
}


#define check_passes(t, f, want)                                            \
    cflb_check_msg(t, strcmp(passes(f), want) == 0, "got \"%s\", want "     \
                   "\"%s\"", passes(f), want)


int
main(void)
{
    int          rc;
    unsigned     f, type, source, state, n;
    cflb_str_t   s;
    cflb_err_t   err;
    cflb_test_t  t = { 0, 0 };

    /* eight kinds, eight distinct bits */
    f = 0;
    n = 0;

    for (type = 0; type < 2; type++) {
        for (source = 0; source < 2; source++) {
            for (state = 0; state < 2; state++) {
                f |= cflb_alert_bit(type, source, state);
                n++;
            }
        }
    }

    cflb_check(&t, f == CFLB_ALERT_ALL && n == 8);
    cflb_check(&t, cflb_alert_bit(CFLB_ALERT_HEALTH, CFLB_ALERT_POOL, 7)
                   == cflb_alert_bit(CFLB_ALERT_HEALTH, CFLB_ALERT_POOL, 1));

    /* no filter: everything */
    check_passes(&t, CFLB_ALERT_ALL,
                 "health/pool/Unhealthy health/pool/Healthy "
                 "health/origin/Unhealthy health/origin/Healthy "
                 "enablement/pool/disabled enablement/pool/enabled "
                 "enablement/origin/disabled enablement/origin/enabled");

    /* each dimension */
    check_passes(&t, filter_of(0, "alerts=health", NULL),
                 "health/pool/Unhealthy health/pool/Healthy "
                 "health/origin/Unhealthy health/origin/Healthy");
    cflb_check(&t, filter_of(0, "alerts=enablement,health", NULL)
                   == CFLB_ALERT_ALL);
    check_passes(&t, filter_of(0, "event_source=pool", NULL),
                 "health/pool/Unhealthy health/pool/Healthy "
                 "enablement/pool/disabled enablement/pool/enabled");
    cflb_check(&t, filter_of(0, "event_source=endpoint", NULL)
                   == filter_of(0, "event_source=origin", NULL));

    /* new_health leaves enablement alerts alone, enabled health ones */
    check_passes(&t, filter_of(0, "new_health=Unhealthy", NULL),
                 "health/pool/Unhealthy health/origin/Unhealthy "
                 "enablement/pool/disabled enablement/pool/enabled "
                 "enablement/origin/disabled enablement/origin/enabled");
    check_passes(&t, filter_of(0, "enabled=false", NULL),
                 "health/pool/Unhealthy health/pool/Healthy "
                 "health/origin/Unhealthy health/origin/Healthy "
                 "enablement/pool/disabled enablement/origin/disabled");
    cflb_check(&t, filter_of(0, "new_health=healthy,UNHEALTHY", NULL)
                   == CFLB_ALERT_ALL);

    /* parameters combine by "and" */
    check_passes(&t, filter_of(0, "new_health=Unhealthy",
                               "event_source=pool"),
                 "health/pool/Unhealthy "
                 "enablement/pool/disabled enablement/pool/enabled");
    cflb_check(&t, filter_of(0, "alerts=health", "enabled=true")
                   == filter_of(0, "alerts=health", NULL));
    cflb_check(&t, filter_of(0, "alerts=enablement", "new_health=Healthy")
                   == filter_of(0, "alerts=enablement", NULL));

    /* a pool's notification_filter: health alerts per source */
    check_passes(&t, filter_of(1, "origin=off", NULL),
                 "health/pool/Unhealthy health/pool/Healthy "
                 "enablement/pool/disabled enablement/pool/enabled "
                 "enablement/origin/disabled enablement/origin/enabled");
    check_passes(&t, filter_of(1, "pool=healthy", "endpoint=unhealthy"),
                 "health/pool/Healthy health/origin/Unhealthy "
                 "enablement/pool/disabled enablement/pool/enabled "
                 "enablement/origin/disabled enablement/origin/enabled");
    cflb_check(&t, filter_of(1, "pool=any", "origin=Any")
                   == CFLB_ALERT_ALL);

    /* not ours: declined, the filter untouched */
    f = CFLB_ALERT_ALL;
    s.data = (unsigned char *) "retries=3";
    s.len = 9;
    rc = cflb_alert_param(&f, &s, &err);
    cflb_check(&t, rc == CFLB_DECLINED && f == CFLB_ALERT_ALL);

    s.data = (unsigned char *) "new_health=Unhealthy";
    s.len = 20;
    rc = cflb_alert_pool_param(&f, &s, &err);
    cflb_check(&t, rc == CFLB_DECLINED && f == CFLB_ALERT_ALL);

    s.data = (unsigned char *) "alerts";
    s.len = 6;
    rc = cflb_alert_param(&f, &s, &err);
    cflb_check(&t, rc == CFLB_DECLINED);

    /* refused: the filter untouched, the offset at the bad value */
    cflb_check(&t, refused(0, "new_health=sick", "Healthy and Unhealthy",
                           11));
    cflb_check(&t, refused(0, "new_health=Healthy,sick", "new_health", 19));
    cflb_check(&t, refused(0, "new_health=", "new_health", 11));
    cflb_check(&t, refused(0, "event_source=pool,", "event_source", 18));
    cflb_check(&t, refused(0, "alerts=,health", "alerts", 7));
    cflb_check(&t, refused(0, "enabled=yes", "true and false", 8));
    cflb_check(&t, refused(0, "alerts=healthy", "health and enablement", 7));
    cflb_check(&t, refused(1, "pool=never", "any, healthy, unhealthy", 5));
    cflb_check(&t, refused(1, "origin=", "origin", 7));

    /* a value that is a prefix of another is not taken for it */
    cflb_check(&t, refused(0, "alerts=heal", "alerts", 7));

    return cflb_test_done(&t, "cflb_alert");
}
