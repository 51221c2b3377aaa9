
/*
 * The custom rules in the status document and in the Prometheus text:
 * each rule of a load balancer with its settings, how many requests (at
 * layer 4: sessions, in DNS-only: queries) it matched and how many fixed
 * responses it sent, from its record in the zone.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_json.h"
#include "ngx_cflb_status.h"
#include "ngx_cflb_rules.h"


static u_char *ngx_cflb_rules_family(u_char *p, ngx_cflb_conf_t *ccf,
    size_t metric);


/* each Prometheus family of rules: its name, help and counter */
static struct {
    char                     *name;
    char                     *help;
    size_t                    counter;
} ngx_cflb_rule_metrics[] = {
    { "cflb_rule_matches_total",
      "Requests (layer 4: sessions, DNS-only: queries) a custom rule "
      "matched.",
      offsetof(ngx_cflb_sh_rule_t, matches) },
    { "cflb_rule_fixed_responses_total",
      "Fixed responses a custom rule sent.",
      offsetof(ngx_cflb_sh_rule_t, fixed) }
};


/* the most one rule takes in JSON besides its escaped name */
#define NGX_CFLB_RULE_JSON     256

/* the most one sample takes besides the escaped names */
#define NGX_CFLB_RULE_SAMPLE   128


/*
 * ,"rules":[{"name":"blog","priority":10,"disabled":false,
 * "terminates":false,"fixed_response":null,"matches":12,
 * "fixed_responses":0}], in the order of the block
 */

u_char *
ngx_cflb_rules_status(u_char *p, ngx_cflb_lb_t *lb)
{
    ngx_uint_t           i;
    ngx_cflb_rule_t    **all, *rule;
    ngx_cflb_sh_rule_t   none, *sh;

    if (lb->rules == NULL) {
        return p;
    }

    ngx_memzero(&none, sizeof(ngx_cflb_sh_rule_t));

    p = ngx_sprintf(p, ",\"rules\":[");
    all = lb->rules->all.elts;

    for (i = 0; i < lb->rules->all.nelts; i++) {
        rule = all[i];
        sh = rule->sh ? rule->sh : &none;

        p = ngx_sprintf(p, "%s{\"name\":", i ? "," : "");
        p = ngx_cflb_json_str(p, &rule->name);
        p = ngx_sprintf(p, ",\"priority\":%i,\"disabled\":%s,"
                        "\"terminates\":%s,\"fixed_response\":",
                        rule->priority, rule->disabled ? "true" : "false",
                        rule->terminates ? "true" : "false");

        if (rule->status) {
            p = ngx_sprintf(p, "%ui", rule->status);

        } else {
            p = ngx_sprintf(p, "null");
        }

        p = ngx_sprintf(p, ",\"matches\":%A,\"fixed_responses\":%A}",
                        sh->matches, sh->fixed);
    }

    return ngx_sprintf(p, "]");
}


size_t
ngx_cflb_rules_status_size(ngx_cflb_lb_t *lb)
{
    size_t            size;
    ngx_uint_t        i;
    ngx_cflb_rule_t **all;

    if (lb->rules == NULL) {
        return 0;
    }

    size = sizeof(",\"rules\":[]");
    all = lb->rules->all.elts;

    for (i = 0; i < lb->rules->all.nelts; i++) {
        size += NGX_CFLB_RULE_JSON + 6 * all[i]->name.len;
    }

    return size;
}


/*
 * cflb_rule_matches_total{subsystem="http",lb="www",rule="blog"} 12 and
 * cflb_rule_fixed_responses_total, after the other families; nothing
 * when no load balancer has rules
 */

u_char *
ngx_cflb_rules_prometheus(u_char *p, ngx_cflb_conf_t *http,
    ngx_cflb_conf_t *stream)
{
    ngx_uint_t  i;

    if (ngx_cflb_rules_prometheus_size(http) == 0
        && ngx_cflb_rules_prometheus_size(stream) == 0)
    {
        return p;
    }

    for (i = 0; i < sizeof(ngx_cflb_rule_metrics)
                    / sizeof(ngx_cflb_rule_metrics[0]); i++)
    {
        p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s counter\n",
                        ngx_cflb_rule_metrics[i].name,
                        ngx_cflb_rule_metrics[i].help,
                        ngx_cflb_rule_metrics[i].name);

        p = ngx_cflb_rules_family(p, http, i);
        p = ngx_cflb_rules_family(p, stream, i);
    }

    return p;
}


static u_char *
ngx_cflb_rules_family(u_char *p, ngx_cflb_conf_t *ccf, size_t metric)
{
    ngx_uint_t           i, j;
    ngx_atomic_t        *v;
    ngx_cflb_lb_t      **lbs;
    ngx_cflb_rule_t    **all;

    if (ccf == NULL) {
        return p;
    }

    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        if (lbs[i]->rules == NULL) {
            continue;
        }

        all = lbs[i]->rules->all.elts;

        for (j = 0; j < lbs[i]->rules->all.nelts; j++) {
            if (all[j]->sh == NULL) {
                continue;
            }

            v = (ngx_atomic_t *) ((u_char *) all[j]->sh
                                  + ngx_cflb_rule_metrics[metric].counter);

            p = ngx_sprintf(p, "%s{subsystem=\"%s\"",
                            ngx_cflb_rule_metrics[metric].name,
                            ccf->http ? "http" : "stream");
            p = ngx_cflb_prom_label(p, "lb", &lbs[i]->name);
            p = ngx_cflb_prom_label(p, "rule", &all[j]->name);
            p = ngx_sprintf(p, "} %A\n", *v);
        }
    }

    return p;
}


size_t
ngx_cflb_rules_prometheus_size(ngx_cflb_conf_t *ccf)
{
    size_t            size;
    ngx_uint_t        i, j;
    ngx_cflb_lb_t   **lbs;
    ngx_cflb_rule_t **all;

    if (ccf == NULL) {
        return 0;
    }

    size = 0;
    lbs = ccf->lbs.elts;

    for (i = 0; i < ccf->lbs.nelts; i++) {
        if (lbs[i]->rules == NULL) {
            continue;
        }

        all = lbs[i]->rules->all.elts;

        /* both families, with their HELP and TYPE lines */
        size += 512;

        for (j = 0; j < lbs[i]->rules->all.nelts; j++) {
            size += 2 * (NGX_CFLB_RULE_SAMPLE + 2 * lbs[i]->name.len
                         + 2 * all[j]->name.len);
        }
    }

    return size;
}
