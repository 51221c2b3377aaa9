
/*
 * What the rules of a load balancer become, and what they do to one
 * request.  At configuration time each rule's overrides are resolved
 * over the load balancer's other settings (its own pool list, maps and
 * affinity, checked as at load balancer level), and what two rules can
 * make together is checked too.  At a request the rules run in priority
 * order; the fields of those that match overlay a copy of the view, the
 * last match winning field by field.  A pool list made of two rules'
 * fields (one's pools, another's steering) is built once per worker, the
 * first time a request needs it, and kept (rules->combos); no set is
 * ever built per request.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_conf.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_lb.h"
#include "ngx_cflb_maps.h"
#include "ngx_cflb_location.h"
#include "ngx_cflb_trace.h"
#include "ngx_cflb_rules.h"
#include "ngx_cflb_dns_zone.h"


/* where a field of the affinity settings is, for each NGX_CFLB_OV_* */
typedef struct {
    ngx_uint_t                bit;
    size_t                    offset;
    size_t                    size;
} ngx_cflb_aff_field_t;

#define ngx_cflb_aff(bit, f)                                                  \
    { NGX_CFLB_OV_##bit, offsetof(ngx_cflb_affinity_t, f),                    \
      sizeof(((ngx_cflb_affinity_t *) 0)->f) }

static ngx_cflb_aff_field_t  ngx_cflb_aff_fields[] = {
    ngx_cflb_aff(MODE, mode),
    ngx_cflb_aff(TTL, ttl),
    ngx_cflb_aff(SAMESITE, samesite),
    ngx_cflb_aff(SECURE, secure),
    ngx_cflb_aff(HEADERS, headers),
    ngx_cflb_aff(REQUIRE_ALL, require_all),
    ngx_cflb_aff(DRAIN, drain),
    ngx_cflb_aff(ZDF, zdf),
    ngx_cflb_aff(ACROSS, across_pools)
};

#define NGX_CFLB_AFF_NFIELDS                                                  \
    (sizeof(ngx_cflb_aff_fields) / sizeof(ngx_cflb_aff_field_t))


static ngx_int_t ngx_cflb_rules_order(ngx_conf_t *cf, ngx_cflb_rules_t *rules);
static ngx_uint_t ngx_cflb_rules_nslots(ngx_cflb_lb_t *lb);
static ngx_int_t ngx_cflb_rule_cmp(const void *a, const void *b);
static ngx_int_t ngx_cflb_rule_resolve(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static ngx_cflb_pools_t *ngx_cflb_rule_list(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static ngx_int_t ngx_cflb_rule_pools_known(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule, ngx_array_t *names);
static ngx_int_t ngx_cflb_rule_maps(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static ngx_cflb_affinity_t *ngx_cflb_rule_affinity(ngx_conf_t *cf,
    ngx_cflb_lb_t *lb, ngx_cflb_rule_t *first, ngx_cflb_rule_t *rule,
    ngx_str_t *label);
static ngx_int_t ngx_cflb_rules_pairs(ngx_conf_t *cf, ngx_cflb_lb_t *lb);
static ngx_int_t ngx_cflb_rules_pair(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *a, ngx_cflb_rule_t *b);
static void ngx_cflb_weigh(ngx_cflb_pools_t *list, ngx_array_t *weights,
    ngx_uint_t dflt);
static ngx_int_t ngx_cflb_rule_policy(ngx_cflb_lb_t *lb, ngx_cflb_rule_t *r);
static void ngx_cflb_rule_weights(ngx_cflb_lb_t *lb, ngx_cflb_rule_t *r,
    ngx_array_t **weights, ngx_uint_t *dflt);
static ngx_cflb_view_t *ngx_cflb_rules_overlay(ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t **src, uint32_t set, ngx_pool_t *pool, ngx_log_t *log);
static ngx_cflb_rule_t *ngx_cflb_rules_single(ngx_cflb_rule_t **src,
    uint32_t group);
static ngx_cflb_pools_t *ngx_cflb_rules_list(ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t **src, ngx_log_t *log);
static ngx_cflb_pools_t *ngx_cflb_rules_combo(ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t **src, ngx_log_t *log);
static ngx_cflb_affinity_t *ngx_cflb_rules_affinity(ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t **src, ngx_pool_t *pool);
static ngx_cflb_maps_t *ngx_cflb_rules_maps(ngx_cflb_maps_t *base,
    ngx_cflb_rule_t **src, ngx_cflb_maps_t *m);
static int ngx_cflb_rules_ip(struct sockaddr *sa, cflb_rules_ip_t *ip);


ngx_int_t
ngx_cflb_rules_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_uint_t         i;
    ngx_cflb_rule_t  **all;
    ngx_cflb_rules_t  *rules;

    rules = lb->rules;

    if ((lb->dns == NULL || lb->dns->wire == NULL)
        && ngx_cflb_rules_proxied(cf, lb) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* before ngx_cflb_affinity_init(): a rule's mode has its own defaults */
    rules->raw = lb->affinity;
    rules->pool = cf->pool;

    if (lb->maps && lb->view.maps == NULL) {
        /* the lb's maps, for a rule that makes its steering geo */
        rules->maps = ngx_cflb_maps_build(cf, lb, lb->maps);
        if (rules->maps == NULL) {
            return NGX_ERROR;
        }

    } else {
        rules->maps = lb->view.maps;
    }

    all = rules->all.elts;

    for (i = 0; i < rules->all.nelts; i++) {
        if (ngx_cflb_rule_resolve(cf, lb, all[i]) != NGX_OK) {
            return NGX_ERROR;
        }

        if (all[i]->expr) {
            rules->nkeys += cflb_rules_nkeys(all[i]->expr);
        }

        if (all[i]->status) {
            rules->fixed = 1;
        }

        if (all[i]->affinity
            && all[i]->affinity->mode != NGX_CFLB_AFFINITY_NONE)
        {
            rules->stateful = 1;
        }
    }

    if (ngx_cflb_rules_order(cf, rules) != NGX_OK) {
        return NGX_ERROR;
    }

    rules->nslots = ngx_cflb_rules_nslots(lb);

    return ngx_cflb_rules_pairs(cf, lb);
}


/*
 * The room a request's cache needs: up to the last field of the scheme
 * that some condition names.  Found in the text, so a name inside a
 * string counts too: only more room; a field past the room would be
 * fetched on each use, not cached, and still be right.  The subsystem
 * puts the fields rules use most first in its scheme, so that a request
 * readies few slots.
 */

static ngx_uint_t
ngx_cflb_rules_nslots(ngx_cflb_lb_t *lb)
{
    ngx_uint_t                 i, j, n;
    ngx_cflb_rule_t          **all;
    const cflb_rules_scheme_t *scheme;

    scheme = &lb->conf->rule_conf->scheme;
    all = lb->rules->all.elts;
    n = 0;

    for (i = 0; i < lb->rules->all.nelts; i++) {
        for (j = n; j < scheme->nfields; j++) {
            if (ngx_strnstr(all[i]->condition.data,
                            (char *) scheme->fields[j].name,
                            all[i]->condition.len))
            {
                n = j + 1;
            }
        }
    }

    return n;
}


/*
 * The enabled rules by priority, lower first; the sort is stable, so
 * rules of equal priority (every rule without one has 0) keep the order
 * of the block, as the product does when no rule has a priority.
 */

static ngx_int_t
ngx_cflb_rules_order(ngx_conf_t *cf, ngx_cflb_rules_t *rules)
{
    ngx_uint_t         i;
    ngx_cflb_rule_t  **all;

    rules->run = ngx_palloc(cf->pool, (rules->all.nelts + 1)
                                      * sizeof(ngx_cflb_rule_t *));
    if (rules->run == NULL) {
        return NGX_ERROR;
    }

    all = rules->all.elts;
    rules->n = 0;

    for (i = 0; i < rules->all.nelts; i++) {
        if (!all[i]->disabled) {
            rules->run[rules->n++] = all[i];
        }
    }

    /* ngx_sort() is an insertion sort: stable */
    ngx_sort(rules->run, rules->n, sizeof(ngx_cflb_rule_t *),
             ngx_cflb_rule_cmp);

    rules->exprs = ngx_palloc(cf->pool, (rules->n + 1)
                                        * sizeof(cflb_rules_expr_t *));
    if (rules->exprs == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < rules->n; i++) {
        rules->exprs[i] = rules->run[i]->expr;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_rule_cmp(const void *a, const void *b)
{
    ngx_cflb_rule_t  *x, *y;

    x = *(ngx_cflb_rule_t **) a;
    y = *(ngx_cflb_rule_t **) b;

    return (x->priority > y->priority) - (x->priority < y->priority);
}


/*
 * A rule's overrides over the load balancer's other settings, each
 * checked as the load balancer's own: its pool list, fallback, maps and
 * affinity.  Every pool it names becomes an entry of the load balancer.
 */

static ngx_int_t
ngx_cflb_rule_resolve(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule)
{
    ngx_cflb_lb_t  *ov;

    ov = rule->ov;

    if (rule->set & NGX_CFLB_OV_LIST) {
        rule->pools = ngx_cflb_rule_list(cf, lb, rule);
        if (rule->pools == NULL) {
            return NGX_ERROR;
        }
    }

    if (rule->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_FALLBACK)) {
        if (ngx_cflb_find_pool(lb->conf, &ov->fallback_name) == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown fallback_pool \"%V\" in cflb_lb \"%V\" "
                          "in %s:%ui", &ov->fallback_name, &rule->label,
                          rule->file, rule->line);
            return NGX_ERROR;
        }

        rule->fallback = ngx_cflb_lb_entry(cf, lb, &ov->fallback_name,
                                           "fallback_pool");
        if (rule->fallback == NULL) {
            return NGX_ERROR;
        }
    }

    if ((rule->set & NGX_CFLB_OV_MAPS)
        && ngx_cflb_rule_maps(cf, lb, rule) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rule->set & NGX_CFLB_OV_AFFINITY) {
        rule->affinity = ngx_cflb_rule_affinity(cf, lb, NULL, rule,
                                                &rule->label);
        if (rule->affinity == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The rule's pool list: its pools, steering and random_steering where it
 * overrides them, the load balancer's otherwise.  Weights apply by pool
 * name, to the pools of the list they meet.
 */

static ngx_cflb_pools_t *
ngx_cflb_rule_list(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_cflb_rule_t *rule)
{
    ngx_uint_t         dflt;
    ngx_array_t       *names, *weights;
    ngx_cflb_pools_t  *list;

    names = (rule->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_POOLS))
            ? &rule->ov->pool_names : &lb->pool_names;

    list = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_pools_t));
    if (list == NULL) {
        return NULL;
    }

    if (ngx_cflb_rule_pools_known(cf, lb, rule, names) != NGX_OK
        || ngx_cflb_pools_init(cf, lb, list, names->elts, names->nelts,
                               ngx_cflb_rule_policy(lb, rule))
           != NGX_OK)
    {
        return NULL;
    }

    ngx_cflb_rule_weights(lb, rule, &weights, &dflt);

    if (rule->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_WEIGHTS)
        && ngx_cflb_rule_pools_known(cf, lb, rule, NULL) != NGX_OK)
    {
        return NULL;
    }

    ngx_cflb_weigh(list, weights, dflt);

    if (ngx_cflb_pools_steer(cf, list) != NGX_OK
        || ngx_cflb_pools_check(cf, rule->ov, list) != NGX_OK)
    {
        return NULL;
    }

    return list;
}


/*
 * Every pool names names, or the rule's random_steering (names NULL),
 * exists: said with the rule's line (ngx_cflb_lb_entry() would say the
 * load balancer's).  A weight for a pool not in the rule's own list is
 * allowed: it counts where another rule's pools meet it.
 */

static ngx_int_t
ngx_cflb_rule_pools_known(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule, ngx_array_t *names)
{
    ngx_str_t               *name;
    ngx_uint_t               i, n;
    ngx_cflb_pool_weight_t  *pw;

    pw = rule->ov->weights.elts;
    name = names ? names->elts : NULL;
    n = names ? names->nelts : rule->ov->weights.nelts;

    for (i = 0; i < n; i++) {
        if (ngx_cflb_find_pool(lb->conf, name ? &name[i] : &pw[i].name)
            == NULL)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown pool \"%V\" in cflb_lb \"%V\" in %s:%ui",
                          name ? &name[i] : &pw[i].name, &rule->label,
                          rule->file, rule->line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The maps of the rule's kinds (own_maps), and over the load balancer's
 * others (maps).  They count only with geo steering, as at load balancer
 * level: said when the rule's own steering is another.
 */

static ngx_int_t
ngx_cflb_rule_maps(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_cflb_rule_t *rule)
{
    ngx_int_t         policy;
    ngx_cflb_rule_t  *src[NGX_CFLB_OV_N];

    rule->own_maps = ngx_cflb_maps_build(cf, lb, rule->ov->maps);
    rule->maps = ngx_palloc(cf->pool, sizeof(ngx_cflb_maps_t));

    if (rule->own_maps == NULL || rule->maps == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(src, sizeof(src));
    src[NGX_CFLB_OV_POP] = rule;
    src[NGX_CFLB_OV_COUNTRY] = rule;
    src[NGX_CFLB_OV_REGION] = rule;

    ngx_cflb_rules_maps(lb->rules->maps, src, rule->maps);

    policy = ngx_cflb_rule_policy(lb, rule);

    if (!(cflb_steer_ops(policy)->inputs & CFLB_NEED_MAPS)) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "the maps of cflb_lb \"%V\" have an effect only with "
                      "geo steering, not %s, in %s:%ui", &rule->label,
                      cflb_steer_ops(policy)->name, rule->file, rule->line);
    }

    return NGX_OK;
}


/*
 * The affinity settings of the load balancer as read, with those first
 * (an earlier rule, or NULL) and then rule override, given their
 * defaults and checked by ngx_cflb_affinity_init() under label.  NULL
 * after logging.
 */

static ngx_cflb_affinity_t *
ngx_cflb_rule_affinity(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *first, ngx_cflb_rule_t *rule, ngx_str_t *label)
{
    u_char                *dst;
    ngx_uint_t             i, k;
    ngx_cflb_lb_t          t;
    ngx_cflb_rule_t       *r[2];
    ngx_cflb_affinity_t   *a;
    ngx_cflb_aff_field_t  *f;

    ngx_memzero(&t, sizeof(ngx_cflb_lb_t));

    t.name = *label;
    t.conf = lb->conf;
    t.affinity = lb->rules->raw;
    t.affinity.file = rule->file;
    t.affinity.line = rule->line;

    r[0] = first;
    r[1] = rule;

    for (k = 0; k < 2; k++) {
        for (i = 0; r[k] && i < NGX_CFLB_AFF_NFIELDS; i++) {
            f = &ngx_cflb_aff_fields[i];

            if (r[k]->set & NGX_CFLB_OV_BIT(f->bit)) {
                dst = (u_char *) &t.affinity + f->offset;
                ngx_memcpy(dst, (u_char *) &r[k]->ov->affinity + f->offset,
                           f->size);
            }
        }

        if (r[k] && (r[k]->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_MODE))) {
            t.affinity.file = r[k]->ov->affinity.file;
            t.affinity.line = r[k]->ov->affinity.line;
        }
    }

    if (ngx_cflb_affinity_init(cf, &t) != NGX_OK) {
        return NULL;
    }

    a = ngx_palloc(cf->pool, sizeof(ngx_cflb_affinity_t));
    if (a == NULL) {
        return NULL;
    }

    *a = t.affinity;

    return a;
}


/*
 * What two rules that both match make together: a pool list with one's
 * pools and the other's steering must have what that steering needs,
 * and an affinity with fields of both must hold (a mode and its ttl
 * range, header sessions and their headers...).  Pairs in which the
 * earlier rule ends the evaluation cannot happen.
 */

static ngx_int_t
ngx_cflb_rules_pairs(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_uint_t         i, j;
    ngx_cflb_rules_t  *rules;

    rules = lb->rules;

    for (i = 0; i < rules->n; i++) {
        if (rules->run[i]->terminates) {
            continue;
        }

        for (j = i + 1; j < rules->n; j++) {
            if (ngx_cflb_rules_pair(cf, lb, rules->run[i], rules->run[j])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_rules_pair(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_cflb_rule_t *a,
    ngx_cflb_rule_t *b)
{
    u_char                  *p;
    ngx_str_t                label;
    ngx_uint_t               i, k;
    ngx_cflb_pool_t         *pool;
    ngx_cflb_rule_t         *r[2];
    const cflb_steer_ops_t  *ops;
    u_char                   buf[512];

    r[0] = a;
    r[1] = b;

    for (k = 0; k < 2; k++) {
        /* r[k]'s pools, with the steering of the other one */
        if (!(r[k]->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_POOLS))
            || !(r[1 - k]->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_STEERING))
            || (b->set & NGX_CFLB_OV_BIT(k ? NGX_CFLB_OV_STEERING
                                           : NGX_CFLB_OV_POOLS)))
        {
            /* b, the later, would set both fields itself */
            continue;
        }

        ops = cflb_steer_ops(ngx_cflb_rule_policy(lb, r[1 - k]));

        for (i = 0; (ops->inputs & CFLB_NEED_COORDS) && i < r[k]->pools->n;
             i++)
        {
            pool = r[k]->pools->entries[i]->pool;

            if (!pool->coords) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "rules \"%V\" and \"%V\" of cflb_lb \"%V\" "
                              "may both match: %s steering needs "
                              "coordinates on every pool, cflb_pool \"%V\" "
                              "has none, in %s:%ui", &a->name, &b->name,
                              &lb->name, ops->name, &pool->name, b->file,
                              b->line);
                return NGX_ERROR;
            }
        }
    }

    if (!(a->set & NGX_CFLB_OV_AFFINITY) || !(b->set & NGX_CFLB_OV_AFFINITY)
        || (a->set & NGX_CFLB_OV_AFFINITY & ~b->set) == 0)
    {
        return NGX_OK;
    }

    p = ngx_snprintf(buf, sizeof(buf), "%V\" rules \"%V\" and \"%V",
                     &lb->name, &a->name, &b->name);
    label.data = buf;
    label.len = p - buf;

    return ngx_cflb_rule_affinity(cf, lb, a, b, &label) ? NGX_OK : NGX_ERROR;
}


/* weights by pool name, dflt for the others; unknown names are left */

static void
ngx_cflb_weigh(ngx_cflb_pools_t *list, ngx_array_t *weights, ngx_uint_t dflt)
{
    ngx_uint_t               i, j;
    ngx_cflb_pool_weight_t  *pw;

    pw = weights->elts;

    for (i = 0; i < list->n; i++) {
        list->members[i].weight = (uint32_t) dflt;

        for (j = 0; j < weights->nelts; j++) {
            if (list->entries[i]->pool->name.len == pw[j].name.len
                && ngx_strncmp(list->entries[i]->pool->name.data,
                               pw[j].name.data, pw[j].name.len)
                   == 0)
            {
                list->members[i].weight = (uint32_t) pw[j].weight;
                break;
            }
        }
    }
}


/* the steering of r (NULL: the lb), "" leaving the load balancer's */

static ngx_int_t
ngx_cflb_rule_policy(ngx_cflb_lb_t *lb, ngx_cflb_rule_t *r)
{
    if (r && (r->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_STEERING))
        && r->ov->steering != NGX_CONF_UNSET)
    {
        return r->ov->steering;
    }

    return lb->pools.policy;
}


static void
ngx_cflb_rule_weights(ngx_cflb_lb_t *lb, ngx_cflb_rule_t *r,
    ngx_array_t **weights, ngx_uint_t *dflt)
{
    if (r && (r->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_WEIGHTS))) {
        *weights = &r->ov->weights;
        *dflt = (r->ov->default_weight == NGX_CONF_UNSET_UINT)
                ? CFLB_WEIGHT_SCALE : r->ov->default_weight;
        return;
    }

    *weights = &lb->weights;
    *dflt = lb->default_weight;
}


ngx_int_t
ngx_cflb_rules_run(ngx_cflb_lb_t *lb, cflb_rules_input_t *in,
    ngx_pool_t *pool, ngx_uint_t trace, ngx_log_t *log,
    ngx_cflb_rules_outcome_t *out)
{
    int                rc;
    size_t             i;
    uint32_t           set, bits;
    ngx_uint_t         k;
    ngx_cflb_rule_t   *rule, *src[NGX_CFLB_OV_N];
    ngx_cflb_rules_t  *rules;

    rules = lb->rules;
    set = 0;

    /* the core runs the conditions on to the next match in one call */

    for (i = 0; /* void */; i++) {
        rc = cflb_rules_next(rules->exprs, rules->n, &i, in);

        if (rc == 0) {
            break;
        }

        rule = rules->run[i];

        if (rc != 1) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "cflb_lb \"%V\": the condition failed, taken as "
                          "not matching", &rule->label);
            continue;
        }

        (void) ngx_atomic_fetch_add(&rule->sh->matches, 1);

        if (trace) {
            if (out->matched == NULL) {
                out->matched = ngx_palloc(pool, rules->n
                                                * sizeof(ngx_cflb_rule_t *));
                if (out->matched == NULL) {
                    return NGX_ERROR;
                }
            }

            out->matched[out->nmatched++] = rule;
        }

        if (rule->status) {
            out->fixed = rule;
            return NGX_OK;
        }

        if (set == 0 && rule->set) {
            ngx_memzero(src, sizeof(src));
        }

        for (bits = rule->set, k = 0; bits; bits >>= 1, k++) {
            if (bits & 1) {
                src[k] = rule;
            }
        }

        set |= rule->set;

        if (rule->terminates) {
            break;
        }
    }

    if (set == 0) {
        return NGX_OK;
    }

    out->view = ngx_cflb_rules_overlay(lb, src, set, pool, log);

    return out->view ? NGX_OK : NGX_ERROR;
}


/*
 * The view of this request: the load balancer's, with each field the
 * matching rules set taken from the last of them.  A group of fields
 * that one rule set alone is that rule's, resolved at configuration
 * time; fields of several rules are put together here.
 */

static ngx_cflb_view_t *
ngx_cflb_rules_overlay(ngx_cflb_lb_t *lb, ngx_cflb_rule_t **src,
    uint32_t set, ngx_pool_t *pool, ngx_log_t *log)
{
    ngx_cflb_rule_t  *r;
    ngx_cflb_view_t  *view;
    ngx_cflb_maps_t  *m;

    view = ngx_palloc(pool, sizeof(ngx_cflb_view_t));
    if (view == NULL) {
        return NULL;
    }

    *view = lb->view;

    if (set & NGX_CFLB_OV_LIST) {
        view->pools = ngx_cflb_rules_list(lb, src, log);
    }

    if (set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_FALLBACK)) {
        view->fallback = src[NGX_CFLB_OV_FALLBACK]->fallback;
    }

    if (set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_LOCATE)) {
        r = src[NGX_CFLB_OV_LOCATE];
        view->locate = r->ov->locate;
        view->prefer_ecs = r->ov->prefer_ecs;
    }

    if (set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_DNS_TTL)) {
        view->dns_ttl = (uint32_t) src[NGX_CFLB_OV_DNS_TTL]->ttl;
    }

    if (set & NGX_CFLB_OV_AFFINITY) {
        r = ngx_cflb_rules_single(src, NGX_CFLB_OV_AFFINITY);
        view->affinity = r ? r->affinity
                           : ngx_cflb_rules_affinity(lb, src, pool);
        if (view->affinity == NULL) {
            return NULL;
        }
    }

    /* maps count only with geo steering (see ngx_cflb_maps_init()) */
    if (!(view->pools->set.ops->inputs & CFLB_NEED_MAPS)) {
        view->maps = NULL;

    } else if (!(set & NGX_CFLB_OV_MAPS)) {
        view->maps = lb->rules->maps;

    } else {
        r = ngx_cflb_rules_single(src, NGX_CFLB_OV_MAPS);

        if (r) {
            view->maps = r->maps;

        } else {
            m = ngx_palloc(pool, sizeof(ngx_cflb_maps_t));
            if (m == NULL) {
                return NULL;
            }

            view->maps = ngx_cflb_rules_maps(lb->rules->maps, src, m);
        }
    }

    return view;
}


/* the one rule that set every field of group that is set, or NULL */

static ngx_cflb_rule_t *
ngx_cflb_rules_single(ngx_cflb_rule_t **src, uint32_t group)
{
    ngx_uint_t        k;
    ngx_cflb_rule_t  *r;

    r = NULL;

    for (k = 0; k < NGX_CFLB_OV_N; k++) {
        if (!(group & NGX_CFLB_OV_BIT(k)) || src[k] == NULL) {
            continue;
        }

        if (r && r != src[k]) {
            return NULL;
        }

        r = src[k];
    }

    return r;
}


static ngx_cflb_pools_t *
ngx_cflb_rules_list(ngx_cflb_lb_t *lb, ngx_cflb_rule_t **src,
    ngx_log_t *log)
{
    ngx_cflb_rule_t   *r;
    ngx_cflb_pools_t  *list;

    r = ngx_cflb_rules_single(src, NGX_CFLB_OV_LIST);

    if (r) {
        return r->pools;
    }

    list = ngx_cflb_rules_combo(lb, src, log);

    /* out of memory in a worker: the load balancer's list serves */
    return list ? list : lb->view.pools;
}


/*
 * The pool list of several rules' fields: found in this worker's table,
 * or built there once from the entries of the pools' source, the policy
 * of the steering's, the weights of the random_steering's.
 */

static ngx_cflb_pools_t *
ngx_cflb_rules_combo(ngx_cflb_lb_t *lb, ngx_cflb_rule_t **src,
    ngx_log_t *log)
{
    ngx_uint_t          h, i, dflt;
    ngx_array_t        *weights;
    cflb_allocator_t    a;
    ngx_cflb_combo_t   *c;
    ngx_cflb_rules_t   *rules;
    ngx_cflb_pools_t   *base;

    rules = lb->rules;
    h = (((uintptr_t) src[0] >> 4) * 31 + ((uintptr_t) src[1] >> 4)) * 31
        + ((uintptr_t) src[2] >> 4);
    h %= NGX_CFLB_COMBOS;

    for (c = rules->combos[h]; c; c = c->next) {
        if (c->src[0] == src[0] && c->src[1] == src[1]
            && c->src[2] == src[2])
        {
            return &c->pools;
        }
    }

    c = ngx_pcalloc(rules->pool, sizeof(ngx_cflb_combo_t));
    if (c == NULL) {
        return NULL;
    }

    base = src[NGX_CFLB_OV_POOLS] ? src[NGX_CFLB_OV_POOLS]->pools
                                  : &lb->pools;

    c->pools = *base;
    c->pools.policy = ngx_cflb_rule_policy(lb, src[NGX_CFLB_OV_STEERING]);
    c->pools.members = ngx_palloc(rules->pool,
                                  base->n * sizeof(cflb_member_t));
    if (c->pools.members == NULL) {
        return NULL;
    }

    for (i = 0; i < base->n; i++) {
        c->pools.members[i] = base->members[i];
    }

    ngx_cflb_rule_weights(lb, src[NGX_CFLB_OV_WEIGHTS], &weights, &dflt);
    ngx_cflb_weigh(&c->pools, weights, dflt);

    ngx_cflb_allocator(&a, rules->pool);

    if (cflb_set_init(&c->pools.set, c->pools.policy, c->pools.members,
                      c->pools.n, &a)
        != CFLB_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "cflb_lb \"%V\": cannot build the pools of several "
                      "rules", &lb->name);
        return NULL;
    }

    c->src[0] = src[0];
    c->src[1] = src[1];
    c->src[2] = src[2];
    c->next = rules->combos[h];
    rules->combos[h] = c;

    return &c->pools;
}


/*
 * Affinity settings of several rules: each field from the last rule that
 * set it, the others the load balancer's; a ttl nobody set follows the
 * mode, as a rule's own does (header and cookie sessions differ).
 */

static ngx_cflb_affinity_t *
ngx_cflb_rules_affinity(ngx_cflb_lb_t *lb, ngx_cflb_rule_t **src,
    ngx_pool_t *pool)
{
    ngx_uint_t             i;
    ngx_cflb_affinity_t   *a;
    ngx_cflb_aff_field_t  *f;

    a = ngx_palloc(pool, sizeof(ngx_cflb_affinity_t));
    if (a == NULL) {
        return NULL;
    }

    *a = lb->affinity;

    for (i = 0; i < NGX_CFLB_AFF_NFIELDS; i++) {
        f = &ngx_cflb_aff_fields[i];

        if (src[f->bit]) {
            ngx_memcpy((u_char *) a + f->offset,
                       (u_char *) src[f->bit]->affinity + f->offset, f->size);
        }
    }

    if (src[NGX_CFLB_OV_TTL] == NULL && src[NGX_CFLB_OV_MODE]
        && lb->rules->raw.ttl == NGX_CONF_UNSET)
    {
        a->ttl = src[NGX_CFLB_OV_MODE]->affinity->ttl;
    }

    return a;
}


/* base (may be NULL) with the kinds of maps src names replaced, into m */

static ngx_cflb_maps_t *
ngx_cflb_rules_maps(ngx_cflb_maps_t *base, ngx_cflb_rule_t **src,
    ngx_cflb_maps_t *m)
{
    ngx_cflb_maps_t  *own;

    if (base) {
        *m = *base;

    } else {
        ngx_memzero(m, sizeof(ngx_cflb_maps_t));
    }

    if (src[NGX_CFLB_OV_POP]
        && (src[NGX_CFLB_OV_POP]->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_POP)))
    {
        m->pop = src[NGX_CFLB_OV_POP]->own_maps->pop;
    }

    if (src[NGX_CFLB_OV_COUNTRY]
        && (src[NGX_CFLB_OV_COUNTRY]->set
            & NGX_CFLB_OV_BIT(NGX_CFLB_OV_COUNTRY)))
    {
        own = src[NGX_CFLB_OV_COUNTRY]->own_maps;
        m->countries = own->countries;
        m->ncountries = own->ncountries;
    }

    if (src[NGX_CFLB_OV_REGION]
        && (src[NGX_CFLB_OV_REGION]->set
            & NGX_CFLB_OV_BIT(NGX_CFLB_OV_REGION)))
    {
        ngx_memcpy(m->regions, src[NGX_CFLB_OV_REGION]->own_maps->regions,
                   sizeof(m->regions));
    }

    return m;
}


void
ngx_cflb_rules_apply(ngx_cflb_decision_t *d, ngx_cflb_rules_outcome_t *out)
{
    ngx_cflb_trace_t  *tr;

    if (out->view) {
        d->view = out->view;
    }

    if (d->trace && out->nmatched) {
        tr = ngx_cflb_trace(d);
        tr->rules = out->matched;
        tr->nrules = out->nmatched;
    }
}


int
ngx_cflb_rules_common(ngx_cflb_rules_req_t *rq, unsigned id,
    cflb_rules_value_t *v)
{
    ngx_cflb_conf_t  *ccf;

    ccf = rq->lb->conf;

    switch (id) {

    case NGX_CFLB_FIELD_IP_SRC:
        return ngx_cflb_rules_ip(rq->client, &v->u.ip);

    case NGX_CFLB_FIELD_COUNTRY:
    case NGX_CFLB_FIELD_ASNUM:
        if (!rq->located) {
            rq->located = 1;
            rq->known = (ngx_cflb_locate_addr(ccf, rq->client, &rq->loc)
                         == NGX_OK);
        }

        if (!rq->known) {
            return CFLB_DECLINED;
        }

        if (id == NGX_CFLB_FIELD_ASNUM) {
            v->u.i = rq->loc.asn;
            return rq->loc.asn ? CFLB_OK : CFLB_DECLINED;
        }

        if (rq->loc.country == CFLB_COUNTRY_NONE) {
            return CFLB_DECLINED;
        }

        cflb_country_code(rq->loc.country, rq->cc);
        v->u.s.data = rq->cc;
        v->u.s.len = 2;
        return CFLB_OK;

    case NGX_CFLB_FIELD_LB_NAME:
        v->u.s.data = rq->lb->name.data;
        v->u.s.len = rq->lb->name.len;
        return CFLB_OK;

    case NGX_CFLB_FIELD_LB_REGION:
        if (ccf->node.location.region >= CFLB_NREGIONS) {
            return CFLB_DECLINED;
        }

        v->u.s.data = (u_char *) cflb_region_name(ccf->node.location.region);
        v->u.s.len = ngx_strlen(v->u.s.data);
        return CFLB_OK;

    default: /* NGX_CFLB_FIELD_PORT */
        if (rq->local == NULL) {
            return CFLB_DECLINED;
        }

        v->u.i = ngx_inet_get_port(rq->local);
        return CFLB_OK;
    }
}


/* ip.src: a UNIX-domain client has no address (missing) */

static int
ngx_cflb_rules_ip(struct sockaddr *sa, cflb_rules_ip_t *ip)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        ip->v6 = 0;
        ngx_memcpy(ip->addr, &sin->sin_addr, 4);
        return CFLB_OK;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        ip->v6 = 1;
        ngx_memcpy(ip->addr, &sin6->sin6_addr, 16);
        return CFLB_OK;
#endif

    default:
        return CFLB_DECLINED;
    }
}
