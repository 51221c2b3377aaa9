
/*
 * Custom load-balancing rules in nginx: the "rule" block of a cflb_lb,
 * its conditions compiled once by the core (cflb_rules.h) against the
 * subsystem's fields, and its overrides resolved at configuration time
 * into parts of a view of the load balancer.  A request runs the rules
 * in priority order; the overrides of those that match overlay a view
 * for that request only (ngx_cflb_rules_run()), or a fixed response
 * answers it (http).  docs/rules.md has the operator's side.
 */

#ifndef _NGX_CFLB_RULES_H_INCLUDED_
#define _NGX_CFLB_RULES_H_INCLUDED_


#include "ngx_cflb_decision.h"
#include "ngx_cflb_shm.h"
#include "cflb_rules.h"


/*
 * What a rule may override, one bit each (ngx_cflb_rule_t.set): the
 * settings of a cflb_lb block that shape one decision.  Matching rules
 * replace them field by field, the last match winning.
 */
enum {
    NGX_CFLB_OV_POOLS = 0,         /* pools */
    NGX_CFLB_OV_STEERING,          /* steering */
    NGX_CFLB_OV_WEIGHTS,           /* random_steering */
    NGX_CFLB_OV_FALLBACK,          /* fallback_pool */
    NGX_CFLB_OV_POP,               /* pop_pools */
    NGX_CFLB_OV_COUNTRY,           /* country_pools */
    NGX_CFLB_OV_REGION,            /* region_pools */
    NGX_CFLB_OV_LOCATE,            /* location_strategy */
    NGX_CFLB_OV_MODE,              /* session_affinity */
    NGX_CFLB_OV_TTL,               /* session_affinity_ttl */
    NGX_CFLB_OV_SAMESITE,          /* session_affinity_samesite */
    NGX_CFLB_OV_SECURE,            /* session_affinity_secure */
    NGX_CFLB_OV_HEADERS,           /* session_affinity_headers */
    NGX_CFLB_OV_REQUIRE_ALL,       /* ..._require_all_headers */
    NGX_CFLB_OV_DRAIN,             /* drain_duration */
    NGX_CFLB_OV_ZDF,               /* zero_downtime_failover */
    NGX_CFLB_OV_ACROSS,            /* failover_across_pools */
    NGX_CFLB_OV_DNS_TTL,           /* ttl (DNS answers) */
    NGX_CFLB_OV_N
};

#define NGX_CFLB_OV_BIT(n)     ((uint32_t) 1 << (n))

/*
 * The fields that make one pool list (pools, steering, random_steering),
 * one set of maps, one affinity (session_affinity ... failover_across_
 * pools): bits of the enum above, in its order.
 */
#define NGX_CFLB_OV_LIST       0x00007
#define NGX_CFLB_OV_MAPS       0x00070
#define NGX_CFLB_OV_AFFINITY   0x1ff00


/* one rule of a load balancer */
struct ngx_cflb_rule_s {
    ngx_str_t                 name;
    ngx_str_t                 label;         /* www" rule "blog, messages */
    ngx_int_t                 priority;
    cflb_rules_expr_t        *expr;          /* NULL: no condition, true */
    ngx_str_t                 condition;     /* as written */
    uint32_t                  set;           /* NGX_CFLB_OV_* bits */
    ngx_cflb_lb_t            *ov;            /* the overrides as read */

    /* its overrides over the load balancer's other settings */
    ngx_cflb_pools_t         *pools;
    ngx_cflb_lb_pool_t       *fallback;
    ngx_cflb_maps_t          *maps;
    ngx_cflb_maps_t          *own_maps;      /* its own map kinds only */
    ngx_cflb_affinity_t      *affinity;
    time_t                    ttl;

    /* fixed_response: status 0 for none */
    ngx_uint_t                status;
    ngx_str_t                 type;
    ngx_str_t                 body;
    ngx_str_t                 location;

    ngx_cflb_sh_rule_t       *sh;            /* its counters in the zone */
    u_char                   *file;
    ngx_uint_t                line;
    unsigned                  terminates:1;
    unsigned                  disabled:1;
    unsigned                  prioritized:1;
};


/* a combination of pool list fields from several rules, built once */
typedef struct ngx_cflb_combo_s  ngx_cflb_combo_t;

struct ngx_cflb_combo_s {
    ngx_cflb_combo_t         *next;
    ngx_cflb_rule_t          *src[3];        /* pools, steering, weights */
    ngx_cflb_pools_t          pools;
};

#define NGX_CFLB_COMBOS        16


/* the rules of a load balancer */
struct ngx_cflb_rules_s {
    ngx_array_t               all;           /* ngx_cflb_rule_t *, as read */
    ngx_cflb_rule_t         **run;           /* enabled, priority order */
    const cflb_rules_expr_t **exprs;         /* their conditions, as run */
    ngx_uint_t                n;
    ngx_uint_t                nkeys;         /* map lookups they make */
    ngx_uint_t                nslots;        /* the fields they may name */
    ngx_cflb_affinity_t       raw;           /* the lb's, before defaults */
    ngx_cflb_maps_t          *maps;          /* the lb's, even if not geo */
    ngx_pool_t               *pool;          /* combinations, each worker */
    ngx_cflb_combo_t         *combos[NGX_CFLB_COMBOS];
    unsigned                  fixed:1;       /* some rule answers itself */
    unsigned                  stateful:1;    /* some rule needs sess */
};


/*
 * A subsystem's fields and the regex engine, for every rule it compiles.
 * The first nproxied fields are those of every load balancer; the rest
 * (stream: the dns.* fields) only of those that answer DNS queries.
 */
struct ngx_cflb_rule_conf_s {
    cflb_rules_scheme_t       scheme;
    ngx_uint_t                nproxied;
    ngx_uint_t                http;          /* fixed_response allowed */
    void                     *mctx;          /* pcre2_match_context */
    void                     *md;            /* pcre2_match_data */
    ngx_log_t                *log;
    ngx_uint_t                passes[8];     /* http: upstream modules */
    ngx_uint_t                npasses;
};


/*
 * The fields every subsystem has: their ids, below the subsystem's own
 * (which start at NGX_CFLB_FIELD_OWN), and ngx_cflb_rules_common() gets
 * them from ngx_cflb_rules_req_t, the head of a subsystem's context.
 */
enum {
    NGX_CFLB_FIELD_IP_SRC = 0,     /* ip.src */
    NGX_CFLB_FIELD_COUNTRY,        /* ip.src.country */
    NGX_CFLB_FIELD_ASNUM,          /* ip.src.asnum */
    NGX_CFLB_FIELD_LB_NAME,        /* cf.load_balancer.name */
    NGX_CFLB_FIELD_LB_REGION,      /* cf.load_balancer.region */
    NGX_CFLB_FIELD_PORT,           /* cf.edge.server_port */
    NGX_CFLB_FIELD_OWN
};

#define NGX_CFLB_COMMON_FIELDS                                                \
    { "ip.src", CFLB_RULES_IP, NGX_CFLB_FIELD_IP_SRC },                       \
    { "ip.src.country", CFLB_RULES_BYTES, NGX_CFLB_FIELD_COUNTRY },           \
    { "ip.src.asnum", CFLB_RULES_INT, NGX_CFLB_FIELD_ASNUM },                 \
    { "cf.load_balancer.name", CFLB_RULES_BYTES, NGX_CFLB_FIELD_LB_NAME },    \
    { "cf.load_balancer.region", CFLB_RULES_BYTES,                            \
      NGX_CFLB_FIELD_LB_REGION },                                             \
    { "cf.edge.server_port", CFLB_RULES_INT, NGX_CFLB_FIELD_PORT }

/*
 * The fields of a DNS query (the product's unproxied fields), stream's
 * own: only the load balancers with a hostname may name them.
 */
enum {
    NGX_CFLB_FIELD_DNS_TYPE = NGX_CFLB_FIELD_OWN, /* dns.qry.type */
    NGX_CFLB_FIELD_DNS_NAME,       /* dns.qry.name */
    NGX_CFLB_FIELD_DNS_NAME_LEN,   /* dns.qry.name.len */
    NGX_CFLB_FIELD_DNS_ECS,        /* dns.rr.opt.client */
    NGX_CFLB_FIELD_DNS_ECS_ADDR,   /* dns.rr.opt.client.addr */
    NGX_CFLB_FIELD_DNS_QU          /* dns.qry.qu */
};

#define NGX_CFLB_DNS_FIELDS                                                   \
    { "dns.qry.type", CFLB_RULES_INT, NGX_CFLB_FIELD_DNS_TYPE },              \
    { "dns.qry.name", CFLB_RULES_BYTES, NGX_CFLB_FIELD_DNS_NAME },            \
    { "dns.qry.name.len", CFLB_RULES_INT, NGX_CFLB_FIELD_DNS_NAME_LEN },      \
    { "dns.rr.opt.client", CFLB_RULES_BOOL, NGX_CFLB_FIELD_DNS_ECS },         \
    { "dns.rr.opt.client.addr", CFLB_RULES_BYTES,                             \
      NGX_CFLB_FIELD_DNS_ECS_ADDR },                                          \
    { "dns.qry.qu", CFLB_RULES_BOOL, NGX_CFLB_FIELD_DNS_QU }

typedef struct {
    ngx_cflb_lb_t            *lb;
    struct sockaddr          *client;
    struct sockaddr          *local;         /* NULL: not known */
    cflb_location_t           loc;           /* of client, once looked up */
    u_char                    cc[2];         /* ip.src.country's value */
    unsigned                  located:1;
    unsigned                  known:1;       /* loc holds something */
} ngx_cflb_rules_req_t;

/* the room a request gives the cache of map lookups (on its stack) */
#define NGX_CFLB_RULES_KEYS    16


/* what the rules made of one request */
typedef struct {
    ngx_cflb_view_t          *view;          /* NULL: the load balancer's */
    ngx_cflb_rule_t          *fixed;         /* its fixed_response answers */
    ngx_cflb_rule_t         **matched;       /* $cflb_trace only */
    ngx_uint_t                nmatched;
} ngx_cflb_rules_outcome_t;


/*
 * ngx_cflb_rule_conf() makes a subsystem's rule conf (its main conf's
 * create): fields, the regex engine, whether fixed responses exist.
 */
ngx_cflb_rule_conf_t *ngx_cflb_rule_conf(ngx_conf_t *cf,
    const cflb_rules_field_t *fields, ngx_uint_t nfields, ngx_uint_t http);

/* the "rule NAME { ... }" block of a cflb_lb */
char *ngx_cflb_lb_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * ngx_cflb_rules_proxied() checks that the conditions of lb, a load
 * balancer without a hostname, name no field of DNS queries (compiled
 * again against the first nproxied fields): NGX_ERROR after logging.
 */
ngx_int_t ngx_cflb_rules_proxied(ngx_conf_t *cf, ngx_cflb_lb_t *lb);

/*
 * ngx_cflb_rules_init() resolves the rules of lb (from ngx_cflb_lb_init(),
 * before the lb's affinity defaults): priority order, the pools they name
 * as entries, each rule's view parts, and the combinations two rules can
 * make checked.  NGX_ERROR after logging.
 */
ngx_int_t ngx_cflb_rules_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb);

/*
 * ngx_cflb_rules_run() evaluates the rules of lb against in (set up by
 * the subsystem, on its stack), counts the matches, and fills out: the
 * overlaid view, in pool, or the fixed response.  With trace, out also
 * lists the rules that matched.  NGX_ERROR only when out of memory.
 */
ngx_int_t ngx_cflb_rules_run(ngx_cflb_lb_t *lb, cflb_rules_input_t *in,
    ngx_pool_t *pool, ngx_uint_t trace, ngx_log_t *log,
    ngx_cflb_rules_outcome_t *out);

/* the outcome in a decision: its view, and the rules for $cflb_trace */
void ngx_cflb_rules_apply(ngx_cflb_decision_t *d,
    ngx_cflb_rules_outcome_t *out);

/* a common field (NGX_CFLB_FIELD_*) of a request, as cflb_rules_get_pt */
int ngx_cflb_rules_common(ngx_cflb_rules_req_t *rq, unsigned id,
    cflb_rules_value_t *v);


#endif /* _NGX_CFLB_RULES_H_INCLUDED_ */
