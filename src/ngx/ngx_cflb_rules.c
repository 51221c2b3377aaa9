
/*
 * The "rule" block of a cflb_lb: condition, priority, terminates,
 * disabled, fixed_response and override.  A condition is compiled at
 * once by the core against the subsystem's fields, so "nginx -t" shows
 * the line and column of a bad expression.  An override is the cflb_lb
 * directive of the same name, called on a load balancer of its own (the
 * rule's "ov"), so it takes the same syntax and says the same errors;
 * ngx_cflb_rules_view.c resolves what it read.  Regular expressions are
 * PCRE2's, with match limits.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_conf.h"
#include "ngx_cflb_lb.h"
#include "ngx_cflb_rules.h"

#if (NGX_PCRE2)
#define PCRE2_CODE_UNIT_WIDTH  8
#include <pcre2.h>
#endif


/*
 * The bounds of one regular expression match: past them it is no match,
 * so no request can hold a worker with a pattern that backtracks (such
 * as "(a+)+$"); 100,000 steps take about a millisecond.
 */
#define NGX_CFLB_REGEX_STEPS   100000
#define NGX_CFLB_REGEX_DEPTH   10000
#define NGX_CFLB_REGEX_HEAP    4096          /* KiB */


typedef char *(*ngx_cflb_rule_handler_pt)(ngx_conf_t *cf,
    ngx_cflb_lb_t *lb, ngx_cflb_rule_t *rule);

typedef struct {
    ngx_str_t                 name;
    ngx_uint_t                args;          /* NGX_CONF_* argument flags */
    ngx_cflb_rule_handler_pt  handler;
} ngx_cflb_rule_cmd_t;

/* what an override directive sets */
typedef struct {
    ngx_str_t                 name;
    uint32_t                  set;           /* NGX_CFLB_OV_* bits */
} ngx_cflb_override_t;

/* a rule being read: the block's handler_conf */
typedef struct {
    ngx_cflb_lb_t            *lb;
    ngx_cflb_rule_t          *rule;
} ngx_cflb_rule_ctx_t;


static ngx_cflb_rule_t *ngx_cflb_rule_new(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_str_t *name);
static char *ngx_cflb_rule_directive(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_cflb_rule_condition(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static char *ngx_cflb_rule_priority(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static char *ngx_cflb_rule_terminates(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static char *ngx_cflb_rule_disabled(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static char *ngx_cflb_rule_fixed(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static char *ngx_cflb_rule_override(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule);
static char *ngx_cflb_rule_affinity(ngx_conf_t *cf, ngx_cflb_rule_t *rule);
static char *ngx_cflb_rule_call(ngx_conf_t *cf, ngx_cflb_rule_t *rule,
    ngx_str_t *args, ngx_uint_t nargs);
static char *ngx_cflb_rule_dns_ttl(ngx_conf_t *cf, ngx_cflb_rule_t *rule,
    ngx_str_t *value);
static const char *ngx_cflb_rule_hint(cflb_rules_err_t *err,
    ngx_str_t *text);
static ngx_uint_t ngx_cflb_args_fit(ngx_uint_t type, ngx_uint_t n);
static void ngx_cflb_rule_free(void *data);
#if (NGX_PCRE2)
static void *ngx_cflb_regex_compile(void *data, const unsigned char *pattern,
    size_t len, char *errbuf, size_t errlen);
static int ngx_cflb_regex_match(void *data, void *re,
    const unsigned char *subject, size_t len);
static void ngx_cflb_regex_free(void *data, void *re);
#endif
static void ngx_cflb_regex_cleanup(void *data);


static ngx_cflb_rule_cmd_t  ngx_cflb_rule_cmds[] = {
    { ngx_string("condition"), NGX_CONF_TAKE1, ngx_cflb_rule_condition },
    { ngx_string("priority"), NGX_CONF_TAKE1, ngx_cflb_rule_priority },
    { ngx_string("terminates"), NGX_CONF_NOARGS, ngx_cflb_rule_terminates },
    { ngx_string("disabled"), NGX_CONF_NOARGS, ngx_cflb_rule_disabled },
    { ngx_string("fixed_response"), NGX_CONF_1MORE, ngx_cflb_rule_fixed },
    { ngx_string("override"), NGX_CONF_2MORE, ngx_cflb_rule_override },
    { ngx_null_string, 0, NULL }
};


#define ngx_cflb_ov(n)         NGX_CFLB_OV_BIT(NGX_CFLB_OV_##n)

/* the settings a rule may override: the cflb_lb directives of a decision */
static ngx_cflb_override_t  ngx_cflb_overrides[] = {
    { ngx_string("pools"), ngx_cflb_ov(POOLS) },
    { ngx_string("steering"), ngx_cflb_ov(STEERING) },
    { ngx_string("random_steering"), ngx_cflb_ov(WEIGHTS) },
    { ngx_string("fallback_pool"), ngx_cflb_ov(FALLBACK) },
    { ngx_string("pop_pools"), ngx_cflb_ov(POP) },
    { ngx_string("country_pools"), ngx_cflb_ov(COUNTRY) },
    { ngx_string("region_pools"), ngx_cflb_ov(REGION) },
    { ngx_string("location_strategy"), ngx_cflb_ov(LOCATE) },
    { ngx_string("session_affinity"), ngx_cflb_ov(MODE) },
    { ngx_string("session_affinity_ttl"), ngx_cflb_ov(TTL) },
    { ngx_string("session_affinity_samesite"), ngx_cflb_ov(SAMESITE) },
    { ngx_string("session_affinity_secure"), ngx_cflb_ov(SECURE) },
    { ngx_string("session_affinity_headers"), ngx_cflb_ov(HEADERS) },
    { ngx_string("session_affinity_require_all_headers"),
      ngx_cflb_ov(REQUIRE_ALL) },
    { ngx_string("drain_duration"), ngx_cflb_ov(DRAIN) },
    { ngx_string("zero_downtime_failover"), ngx_cflb_ov(ZDF) },
    { ngx_string("failover_across_pools"), ngx_cflb_ov(ACROSS) },
    { ngx_string("ttl"), ngx_cflb_ov(DNS_TTL) },
    { ngx_null_string, 0 }
};


/* the fields of DNS queries, named in the errors of other load balancers */
static const cflb_rules_field_t  ngx_cflb_dns_fields[] = {
    NGX_CFLB_DNS_FIELDS
};

#define NGX_CFLB_NDNS_FIELDS                                                  \
    (sizeof(ngx_cflb_dns_fields) / sizeof(cflb_rules_field_t))


/* override session_affinity MODE [KEY=VALUE ...]: the keys it takes */
static ngx_str_t  ngx_cflb_affinity_keys[][2] = {
    { ngx_string("ttl"), ngx_string("session_affinity_ttl") },
    { ngx_string("samesite"), ngx_string("session_affinity_samesite") },
    { ngx_string("secure"), ngx_string("session_affinity_secure") },
    { ngx_string("headers"), ngx_string("session_affinity_headers") },
    { ngx_string("require_all_headers"),
      ngx_string("session_affinity_require_all_headers") },
    { ngx_string("drain_duration"), ngx_string("drain_duration") },
    { ngx_string("zero_downtime_failover"),
      ngx_string("zero_downtime_failover") },
    { ngx_null_string, ngx_null_string }
};


ngx_cflb_rule_conf_t *
ngx_cflb_rule_conf(ngx_conf_t *cf, const cflb_rules_field_t *fields,
    ngx_uint_t nfields, ngx_uint_t http)
{
    ngx_pool_cleanup_t    *cln;
    ngx_cflb_rule_conf_t  *rc;

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_rule_conf_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (rc == NULL || cln == NULL) {
        return NULL;
    }

    rc->scheme.fields = fields;
    rc->scheme.nfields = nfields;
    rc->nproxied = nfields;
    rc->http = http;
    rc->log = cf->log;

#if (NGX_PCRE2)
    rc->scheme.regex_compile = ngx_cflb_regex_compile;
    rc->scheme.regex_match = ngx_cflb_regex_match;
    rc->scheme.regex_free = ngx_cflb_regex_free;
    rc->scheme.regex_data = rc;
#endif

    cln->handler = ngx_cflb_regex_cleanup;
    cln->data = rc;

    return rc;
}


/*
 * rule NAME { ... }: in a cflb_lb block; its directives go to
 * ngx_cflb_rule_directive(), as those of "types { ... }" go to theirs.
 */

char *
ngx_cflb_lb_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    char                 *rv;
    ngx_conf_t            save;
    ngx_cflb_rule_t      *rule;
    ngx_cflb_rule_ctx_t   ctx;

    if (lb == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rule\" directive is allowed only inside "
                           "cflb_lb");
        return NGX_CONF_ERROR;
    }

    rule = ngx_cflb_rule_new(cf, lb, (ngx_str_t *) cf->args->elts + 1);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx.lb = lb;
    ctx.rule = rule;

    save = *cf;
    cf->handler = ngx_cflb_rule_directive;
    cf->handler_conf = (char *) &ctx;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (rule->status && rule->set) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rule \"%V\" of cflb_lb \"%V\" has both "
                           "fixed_response and overrides: a fixed response "
                           "is sent by no pool", &rule->name, &lb->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A new rule of lb named name (unique in lb), with its label for the
 * messages and the load balancer its overrides are read into.  NULL
 * after logging.
 */

static ngx_cflb_rule_t *
ngx_cflb_rule_new(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_str_t *name)
{
    u_char            *p;
    ngx_uint_t         i;
    ngx_cflb_rule_t   *rule, **all;

    if (lb->rules == NULL) {
        lb->rules = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_rules_t));
        if (lb->rules == NULL
            || ngx_array_init(&lb->rules->all, cf->pool, 4,
                              sizeof(ngx_cflb_rule_t *))
               != NGX_OK)
        {
            return NULL;
        }
    }

    all = lb->rules->all.elts;

    for (i = 0; i < lb->rules->all.nelts; i++) {
        if (all[i]->name.len == name->len
            && ngx_strncmp(all[i]->name.data, name->data, name->len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate rule \"%V\" in cflb_lb \"%V\", "
                               "first defined in %s:%ui", name, &lb->name,
                               all[i]->file, all[i]->line);
            return NULL;
        }
    }

    rule = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_rule_t));
    all = ngx_array_push(&lb->rules->all);

    if (rule == NULL || all == NULL) {
        return NULL;
    }

    *all = rule;

    rule->name = *name;
    rule->file = cf->conf_file->file.name.data;
    rule->line = cf->conf_file->line;

    /* www" rule "blog: quoted by the messages, which say cflb_lb "%V" */
    rule->label.len = lb->name.len + sizeof("\" rule \"") - 1 + name->len;
    rule->label.data = ngx_pnalloc(cf->pool, rule->label.len);

    rule->ov = ngx_cflb_lb_alloc(cf, lb->conf);

    if (rule->label.data == NULL || rule->ov == NULL) {
        return NULL;
    }

    p = ngx_cpymem(rule->label.data, lb->name.data, lb->name.len);
    p = ngx_cpymem(p, "\" rule \"", sizeof("\" rule \"") - 1);
    ngx_memcpy(p, name->data, name->len);

    rule->ov->name = rule->label;

    return rule;
}


/* one directive inside a rule block */

static char *
ngx_cflb_rule_directive(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_cflb_rule_ctx_t *ctx = (ngx_cflb_rule_ctx_t *) conf;

    char                 *rv;
    ngx_str_t            *value;
    ngx_cflb_rule_cmd_t  *c;

    value = cf->args->elts;

    for (c = ngx_cflb_rule_cmds; c->name.len; c++) {
        if (c->name.len == value[0].len
            && ngx_strncmp(c->name.data, value[0].data, value[0].len) == 0)
        {
            break;
        }
    }

    if (c->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown directive \"%V\" in rule \"%V\", "
                           "expected condition, priority, terminates, "
                           "disabled, fixed_response or override",
                           &value[0], &ctx->rule->name);
        return NGX_CONF_ERROR;
    }

    if (!ngx_cflb_args_fit(c->args, cf->args->nelts - 1)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in \"%V\" of rule "
                           "\"%V\"", &value[0], &ctx->rule->name);
        return NGX_CONF_ERROR;
    }

    rv = c->handler(cf, ctx->lb, ctx->rule);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" %s", &value[0], rv);

    return NGX_CONF_ERROR;
}


/*
 * condition EXPR: compiled now, against the subsystem's fields; the
 * expression is freed (its regexes with it) with the configuration.
 */

static char *
ngx_cflb_rule_condition(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule)
{
    ngx_str_t             *value;
    cflb_allocator_t       a;
    cflb_rules_err_t       err;
    ngx_pool_cleanup_t    *cln;
    ngx_cflb_rule_conf_t  *rc;

    if (rule->expr) {
        return "is duplicate";
    }

    value = cf->args->elts;
    rc = lb->conf->rule_conf;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cflb_allocator(&a, cf->pool);

    rule->expr = cflb_rules_compile(&rc->scheme, value[1].data, value[1].len,
                                    &a, &err);

    if (rule->expr == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_lb \"%V\": %ui:%ui: %s%s", &rule->label,
                           (ngx_uint_t) err.line, (ngx_uint_t) err.column,
                           err.msg, ngx_cflb_rule_hint(&err, &value[1]));
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_cflb_rule_free;
    cln->data = rule->expr;

    rule->condition = value[1];

    return NGX_CONF_OK;
}


/*
 * What a compile error may add: the dns.* fields exist for the load
 * balancers that answer DNS queries only, and dns.qry.type is a number,
 * as in the product ("AAAA" is not one).  The error's offset points past
 * the operator after the field, so the text between is all checked.
 */

static const char *
ngx_cflb_rule_hint(cflb_rules_err_t *err, ngx_str_t *text)
{
    u_char      *p, *last, *field;
    size_t       len;
    ngx_uint_t   i;

    if (ngx_strncmp(err->msg, "unknown field \"", 15) == 0) {
        p = (u_char *) err->msg + 15;
        len = ngx_strlen(p) - 1;

        for (i = 0; i < NGX_CFLB_NDNS_FIELDS; i++) {
            if (ngx_strlen(ngx_cflb_dns_fields[i].name) == len
                && ngx_strncmp(p, ngx_cflb_dns_fields[i].name, len) == 0)
            {
                return ": the dns.* fields are those of DNS queries, for "
                       "the load balancers with a hostname in stream{}";
            }
        }

        return "";
    }

    if (ngx_strncmp(err->msg, "expected an integer", 19) != 0
        || err->offset > text->len)
    {
        return "";
    }

    last = text->data + err->offset;
    field = NULL;

    for (p = text->data; p + sizeof("dns.qry.type") - 1 <= last; p++) {
        if (ngx_strncmp(p, "dns.qry.type", sizeof("dns.qry.type") - 1)
            == 0)
        {
            field = p + sizeof("dns.qry.type") - 1;
        }
    }

    if (field == NULL) {
        return "";
    }

    /* an operator, a set's opening and elements: no other field */
    for (p = field; p < last; p++) {
        if (*p == '\0'
            || ngx_strchr(" \t\r\n=!<>{}.0123456789abcdefgilnqtx", *p)
               == NULL)
        {
            return "";
        }
    }

    return ", dns.qry.type is the number of the type: 1 for A, 28 for AAAA, "
           "5 for CNAME, 255 for ANY";
}


ngx_int_t
ngx_cflb_rules_proxied(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_uint_t             i;
    cflb_allocator_t       a;
    cflb_rules_err_t       err;
    ngx_cflb_rule_t      **all, *rule;
    cflb_rules_expr_t     *e;
    cflb_rules_scheme_t    scheme;
    ngx_cflb_rule_conf_t  *rc;

    rc = lb->conf->rule_conf;

    if (rc->nproxied == rc->scheme.nfields) {
        return NGX_OK;
    }

    scheme = rc->scheme;
    scheme.nfields = rc->nproxied;

    ngx_cflb_allocator(&a, cf->temp_pool);

    all = lb->rules->all.elts;

    for (i = 0; i < lb->rules->all.nelts; i++) {
        rule = all[i];

        if (rule->expr == NULL) {
            continue;
        }

        /* it compiled against every field: only a dns.* one can fail */
        e = cflb_rules_compile(&scheme, rule->condition.data,
                               rule->condition.len, &a, &err);

        if (e) {
            cflb_rules_free(e);
            continue;
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "cflb_lb \"%V\": %ui:%ui: %s: the dns.* fields are "
                      "those of DNS queries, and this load balancer has no "
                      "hostname in %s:%ui", &rule->label,
                      (ngx_uint_t) err.line, (ngx_uint_t) err.column,
                      err.msg, rule->file, rule->line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* priority N: lower runs first, negative allowed */

static char *
ngx_cflb_rule_priority(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule)
{
    ngx_int_t   n, sign;
    ngx_str_t  *value, v;

    if (rule->prioritized) {
        return "is duplicate";
    }

    value = cf->args->elts;
    v = value[1];
    sign = 1;

    if (v.len > 1 && v.data[0] == '-') {
        sign = -1;
        v.data++;
        v.len--;
    }

    n = ngx_atoi(v.data, v.len);

    if (n == NGX_ERROR || n > 1000000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid priority \"%V\" of rule \"%V\", expected "
                           "an integer from -1000000000 to 1000000000",
                           &value[1], &rule->name);
        return NGX_CONF_ERROR;
    }

    rule->priority = sign * n;
    rule->prioritized = 1;

    return NGX_CONF_OK;
}


static char *
ngx_cflb_rule_terminates(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule)
{
    if (rule->terminates) {
        return "is duplicate";
    }

    rule->terminates = 1;

    return NGX_CONF_OK;
}


static char *
ngx_cflb_rule_disabled(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule)
{
    if (rule->disabled) {
        return "is duplicate";
    }

    rule->disabled = 1;

    return NGX_CONF_OK;
}


/*
 * fixed_response [STATUS] [content_type=TYPE] [body=TEXT] [location=URL]:
 * the product's status_code (200 if absent), content_type, message_body
 * and location.  It ends the evaluation (the product marks it
 * terminating).
 */

static char *
ngx_cflb_rule_fixed(ngx_conf_t *cf, ngx_cflb_lb_t *lb, ngx_cflb_rule_t *rule)
{
    ngx_int_t    n;
    ngx_str_t   *value, *v;
    ngx_uint_t   i;

    if (!lb->conf->rule_conf->http) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"fixed_response\" has no meaning in stream{}: "
                           "a TCP or UDP session, or a DNS query, has no "
                           "HTTP response to answer with");
        return NGX_CONF_ERROR;
    }

    if (rule->status) {
        return "is duplicate";
    }

    value = cf->args->elts;
    rule->status = 200;

    for (i = 1; i < cf->args->nelts; i++) {
        v = &value[i];

        if (i == 1 && v->len == 3 && v->data[0] >= '0' && v->data[0] <= '9') {
            n = ngx_atoi(v->data, 3);

            if (n < 200 || n > 599) {
                goto invalid;
            }

            rule->status = n;

        } else if (ngx_strncmp(v->data, "content_type=", 13) == 0) {
            rule->type.data = v->data + 13;
            rule->type.len = v->len - 13;

        } else if (ngx_strncmp(v->data, "body=", 5) == 0) {
            rule->body.data = v->data + 5;
            rule->body.len = v->len - 5;

        } else if (ngx_strncmp(v->data, "location=", 9) == 0
                   && v->len > 9)
        {
            rule->location.data = v->data + 9;
            rule->location.len = v->len - 9;

        } else {
            goto invalid;
        }
    }

    rule->terminates = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid fixed_response parameter \"%V\", expected "
                       "a status from 200 to 599, content_type=, body= or "
                       "location=", v);

    return NGX_CONF_ERROR;
}


/*
 * override NAME ARGS...: the cflb_lb directive NAME, with its syntax and
 * messages, into the rule's own settings; "session_affinity" also takes
 * the affinity settings as KEY=VALUE.
 */

static char *
ngx_cflb_rule_override(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_cflb_rule_t *rule)
{
    ngx_str_t            *value;
    ngx_cflb_override_t  *ov;

    value = cf->args->elts;

    for (ov = ngx_cflb_overrides; ov->name.len; ov++) {
        if (ov->name.len == value[1].len
            && ngx_strncmp(ov->name.data, value[1].data, value[1].len) == 0)
        {
            break;
        }
    }

    if (ov->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rule \"%V\" cannot override \"%V\", only the "
                           "settings of one decision: pools, steering, "
                           "random_steering, fallback_pool, region_pools, "
                           "country_pools, pop_pools, location_strategy, "
                           "session_affinity and its settings, "
                           "drain_duration, zero_downtime_failover, "
                           "failover_across_pools, ttl",
                           &rule->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ov->set == NGX_CFLB_OV_BIT(NGX_CFLB_OV_DNS_TTL)) {
        if (cf->args->nelts != 3) {
            return "ttl takes one value";
        }

        return ngx_cflb_rule_dns_ttl(cf, rule, &value[2]);
    }

    if (ov->set == NGX_CFLB_OV_BIT(NGX_CFLB_OV_MODE)
        && cf->args->nelts > 3)
    {
        return ngx_cflb_rule_affinity(cf, rule);
    }

    if (ngx_cflb_rule_call(cf, rule, &value[1], cf->args->nelts - 1)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    rule->set |= ov->set;

    return NGX_CONF_OK;
}


/* override session_affinity MODE KEY=VALUE...: each key its directive */

static char *
ngx_cflb_rule_affinity(ngx_conf_t *cf, ngx_cflb_rule_t *rule)
{
    u_char               *eq, *p, *end, *comma;
    ngx_str_t            *value, args[8];
    ngx_uint_t            i, k, n;
    ngx_cflb_override_t  *ov;

    value = cf->args->elts;

    if (ngx_cflb_rule_call(cf, rule, &value[1], 2) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    rule->set |= NGX_CFLB_OV_BIT(NGX_CFLB_OV_MODE);

    for (i = 3; i < cf->args->nelts; i++) {
        end = value[i].data + value[i].len;
        eq = ngx_strlchr(value[i].data, end, '=');

        for (k = 0; eq && ngx_cflb_affinity_keys[k][0].len; k++) {
            if (ngx_cflb_affinity_keys[k][0].len
                == (size_t) (eq - value[i].data)
                && ngx_strncmp(ngx_cflb_affinity_keys[k][0].data,
                               value[i].data, eq - value[i].data)
                   == 0)
            {
                break;
            }
        }

        if (eq == NULL || ngx_cflb_affinity_keys[k][0].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid session_affinity parameter \"%V\", "
                               "expected ttl=, samesite=, secure=, "
                               "headers=, require_all_headers=, "
                               "drain_duration= or zero_downtime_failover=",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        /* the directive, then the value; headers= is a list by commas */
        args[0] = ngx_cflb_affinity_keys[k][1];
        n = 1;

        for (p = eq + 1; p <= end && n < 8; p = comma + 1) {
            comma = ngx_strlchr(p, end, ',');
            comma = (comma && k == 3) ? comma : end;
            args[n].data = p;
            args[n++].len = comma - p;
        }

        if (ngx_cflb_rule_call(cf, rule, args, n) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        for (ov = ngx_cflb_overrides; ov->name.len; ov++) {
            if (ov->name.len == args[0].len
                && ngx_strncmp(ov->name.data, args[0].data, args[0].len)
                   == 0)
            {
                rule->set |= ov->set;
            }
        }
    }

    return NGX_CONF_OK;
}


/*
 * Call the cflb_lb directive args[0] with args[1..nargs-1] on the rule's
 * settings: its handler sees the arguments as at load balancer level,
 * and its errors name the directive and the line.
 */

static char *
ngx_cflb_rule_call(ngx_conf_t *cf, ngx_cflb_rule_t *rule, ngx_str_t *args,
    ngx_uint_t nargs)
{
    char           *rv;
    ngx_array_t     a, *save;
    ngx_command_t  *cmd;

    for (cmd = rule->ov->conf->module->commands; cmd->name.len; cmd++) {
        if (cmd->name.len == args[0].len
            && ngx_strncmp(cmd->name.data, args[0].data, args[0].len) == 0)
        {
            break;
        }
    }

    if (cmd->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown directive \"%V\"", &args[0]);
        return NGX_CONF_ERROR;
    }

    if (!ngx_cflb_args_fit(cmd->type, nargs - 1)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in \"override %V\" "
                           "of rule \"%V\"", &args[0], &rule->name);
        return NGX_CONF_ERROR;
    }

    a = *cf->args;
    a.elts = args;
    a.nelts = nargs;

    save = cf->args;
    cf->args = &a;

    rv = cmd->set(cf, cmd, rule->ov);

    cf->args = save;

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"override %V\" %s", &args[0],
                       rv);

    return NGX_CONF_ERROR;
}


/* override ttl TIME: of DNS answers (the product's "ttl" key) */

static char *
ngx_cflb_rule_dns_ttl(ngx_conf_t *cf, ngx_cflb_rule_t *rule, ngx_str_t *value)
{
    time_t  ttl;

    if (rule->set & NGX_CFLB_OV_BIT(NGX_CFLB_OV_DNS_TTL)) {
        return "ttl is duplicate";
    }

    ttl = ngx_parse_time(value, 1);

    if (ttl == (time_t) NGX_ERROR || ttl > 86400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid ttl \"%V\" in rule \"%V\", expected a "
                           "time from 0 to 1d", value, &rule->name);
        return NGX_CONF_ERROR;
    }

    rule->ttl = ttl;
    rule->set |= NGX_CFLB_OV_BIT(NGX_CFLB_OV_DNS_TTL);

    return NGX_CONF_OK;
}


/* does a directive of type (NGX_CONF_* flags) take n arguments */

static ngx_uint_t
ngx_cflb_args_fit(ngx_uint_t type, ngx_uint_t n)
{
    if (type & NGX_CONF_FLAG) {
        return n == 1;
    }

    if (type & NGX_CONF_1MORE) {
        return n >= 1;
    }

    if (type & NGX_CONF_2MORE) {
        return n >= 2;
    }

    if (type & NGX_CONF_ANY) {
        return 1;
    }

    return n < NGX_CONF_MAX_ARGS && (type & ((ngx_uint_t) 1 << n));
}


static void
ngx_cflb_rule_free(void *data)
{
    cflb_rules_free(data);
}


#if (NGX_PCRE2)

/* a compiled pattern, and whether the JIT took it */
typedef struct {
    pcre2_code               *code;
    size_t                    minlen;        /* of a subject that matches */
    ngx_uint_t                jit;
} ngx_cflb_regex_t;


/*
 * PCRE2 in byte mode (no UTF), JIT-compiled where the library can; a
 * bad pattern gives PCRE2's own message.  The match context and data are
 * made once, with the first pattern, and shared by every match (workers
 * are single-threaded).
 */

static void *
ngx_cflb_regex_compile(void *data, const unsigned char *pattern, size_t len,
    char *errbuf, size_t errlen)
{
    ngx_cflb_rule_conf_t *rc = data;

    int                   err;
    uint32_t              minlen;
    PCRE2_SIZE            off;
    ngx_cflb_regex_t     *re;
    pcre2_match_context  *mctx;

    if (rc->mctx == NULL) {
        mctx = pcre2_match_context_create(NULL);
        rc->md = pcre2_match_data_create(1, NULL);

        if (mctx == NULL || rc->md == NULL) {
            pcre2_match_context_free(mctx);
            goto nomem;
        }

        pcre2_set_match_limit(mctx, NGX_CFLB_REGEX_STEPS);
        pcre2_set_depth_limit(mctx, NGX_CFLB_REGEX_DEPTH);
        pcre2_set_heap_limit(mctx, NGX_CFLB_REGEX_HEAP);
        rc->mctx = mctx;
    }

    re = ngx_alloc(sizeof(ngx_cflb_regex_t), rc->log);
    if (re == NULL) {
        goto nomem;
    }

    re->code = pcre2_compile(pattern, len, 0, &err, &off, NULL);

    if (re->code == NULL) {
        pcre2_get_error_message(err, (PCRE2_UCHAR *) errbuf, errlen);
        ngx_free(re);
        return NULL;
    }

    /* without JIT (not built in, no executable memory) it interprets */
    re->jit = (pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0);

    if (pcre2_pattern_info(re->code, PCRE2_INFO_MINLENGTH, &minlen) != 0) {
        minlen = 0;
    }

    re->minlen = minlen;

    return re;

nomem:

    ngx_cpystrn((u_char *) errbuf, (u_char *) "out of memory", errlen);

    return NULL;
}


/*
 * A match limit reached is no match, said at info level.  A subject
 * shorter than any match (PCRE2's own lower bound, which pcre2_match()
 * checks first too) needs no call.  A JIT-compiled pattern goes straight
 * to its code: pcre2_jit_match() skips the checks of pcre2_match(), which
 * the compile made once (the limits still hold).
 */

static int
ngx_cflb_regex_match(void *data, void *p, const unsigned char *subject,
    size_t len)
{
    ngx_cflb_rule_conf_t *rc = data;

    int                n;
    ngx_cflb_regex_t  *re;

    re = p;

    if (len < re->minlen) {
        return 0;
    }

    n = re->jit ? pcre2_jit_match(re->code, subject, len, 0, 0, rc->md,
                                  rc->mctx)
                : pcre2_match(re->code, subject, len, 0, 0, rc->md,
                              rc->mctx);

    if (n >= 0) {
        return 1;
    }

    if (n == PCRE2_ERROR_NOMATCH) {
        return 0;
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "cflb rule: pcre2_match() failed: %d, taken as no match",
                  n);

    return -1;
}


static void
ngx_cflb_regex_free(void *data, void *p)
{
    ngx_cflb_regex_t  *re;

    re = p;

    pcre2_code_free(re->code);
    ngx_free(re);
}


static void
ngx_cflb_regex_cleanup(void *data)
{
    ngx_cflb_rule_conf_t *rc = data;

    if (rc->md) {
        pcre2_match_data_free(rc->md);
    }

    if (rc->mctx) {
        pcre2_match_context_free(rc->mctx);
    }
}

#else

/* without PCRE2 the core refuses "matches": no compile callback */

static void
ngx_cflb_regex_cleanup(void *data)
{
}

#endif
