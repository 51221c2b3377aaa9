
/*
 * What a decision tells: the variables both subsystems offer ($cflb_lb,
 * $cflb_pool, $cflb_endpoint, $cflb_endpoint_addr) and $cflb_trace, the
 * decision trace recorded as the engine decides (docs/trace.md).
 */

#ifndef _NGX_CFLB_TRACE_H_INCLUDED_
#define _NGX_CFLB_TRACE_H_INCLUDED_


#include "ngx_cflb_decide.h"


/* $cflb_trace: why a candidate was left out (ngx_cflb_trace_words) */
enum {
    NGX_CFLB_SKIP_NONE = 0,
    NGX_CFLB_SKIP_DISABLED,        /* pool or endpoint, by configuration */
    NGX_CFLB_SKIP_CRITICAL,        /* pool: fewer than minimum_origins */
    NGX_CFLB_SKIP_SHED,            /* pool: load shedding */
    NGX_CFLB_SKIP_EXHAUSTED,       /* pool: no endpoint it could use */
    NGX_CFLB_SKIP_WEIGHT0,         /* endpoint: weight=0 */
    NGX_CFLB_SKIP_UNHEALTHY,       /* endpoint: its monitor says down */
    NGX_CFLB_SKIP_TRIED,           /* endpoint: failed this request */
    NGX_CFLB_SKIP_DRAINING,        /* endpoint: disabled, drain running */
    NGX_CFLB_SKIP_FAILING,         /* endpoint: passive health, failing */
    NGX_CFLB_SKIP_DNS              /* endpoint: resolve, no address now */
};

/* $cflb_trace: how the pool or endpoint was chosen */
enum {
    NGX_CFLB_HOW_STEERING = 0,     /* the policy of the lb or pool */
    NGX_CFLB_HOW_FALLBACK,         /* pool: no other pool could serve */
    NGX_CFLB_HOW_AFFINITY,         /* the session's */
    NGX_CFLB_HOW_IP_COOKIE,        /* ip_cookie's pick by the address */
    NGX_CFLB_HOW_SESSION_KEY       /* a fleet's header session, by its key */
};

/* $cflb_trace: what became of the request's session */
enum {
    NGX_CFLB_AFF_NONE = 0,         /* no session key (header mode) */
    NGX_CFLB_AFF_NEW,              /* none presented: a new one */
    NGX_CFLB_AFF_RESUMED,
    NGX_CFLB_AFF_INVALID,          /* malformed or a wrong MAC */
    NGX_CFLB_AFF_EXPIRED,
    NGX_CFLB_AFF_UNKNOWN,          /* names no endpoint of this lb */
    NGX_CFLB_AFF_UNUSABLE,         /* its endpoint may not serve now */
    NGX_CFLB_AFF_SHED              /* its pool sheds sessions */
};

/* skipped candidates a trace keeps; more are counted, shown as "+N" */
#define NGX_CFLB_TRACE_SKIPS   8

typedef struct {
    ngx_cflb_pool_t          *pool;
    ngx_cflb_endpoint_t      *ep;            /* NULL: the pool was */
    ngx_uint_t                reason;        /* NGX_CFLB_SKIP_* */
} ngx_cflb_skip_t;

/*
 * The decision trace of a request, made only when the configuration
 * uses $cflb_trace: it carries the decision's sess (so the decision
 * stays as it is), then a bitmap of the peers recorded, one bit per peer
 * of the lb.
 */
typedef struct {
    ngx_cflb_sess_t           sess;          /* must be first */
    ngx_cflb_endpoint_t      *ep;            /* the latest pick, or NULL */
    ngx_cflb_endpoint_t      *failed;        /* retried after it failed */
    uint64_t                  pools_seen;    /* entries recorded, bitmap */
    ngx_uint_t                nskips;        /* recorded, may exceed cap */
    ngx_cflb_skip_t           skips[NGX_CFLB_TRACE_SKIPS];
    ngx_cflb_rule_t         **rules;         /* the custom rules matched */
    ngx_uint_t                nrules;
    ngx_uint_t                fixed;         /* status of a fixed response */
    uint8_t                   pool_how;      /* NGX_CFLB_HOW_* */
    uint8_t                   ep_how;
    uint8_t                   affinity;      /* NGX_CFLB_AFF_* */
    uintptr_t                 seen[1];       /* peers recorded */
} ngx_cflb_trace_t;

#define ngx_cflb_trace(d)      ((ngx_cflb_trace_t *) (d)->sess)


/* make every lb of ccf give its requests a trace (postconfiguration) */
void ngx_cflb_trace_init(ngx_cflb_conf_t *ccf);

/* record the choice ep (NULL: none), and on a retry what failed */
void ngx_cflb_trace_pick(ngx_cflb_decision_t *d, ngx_cflb_endpoint_t *ep);

/*
 * Record why the entry, or endpoint i of d->entry, was skipped.  Both
 * return 0, the answer of the usable() test that calls them.
 */
int ngx_cflb_trace_pool(ngx_cflb_decision_t *d, ngx_cflb_lb_pool_t *entry,
    ngx_uint_t reason);
int ngx_cflb_trace_endpoint(ngx_cflb_decision_t *d, ngx_uint_t i,
    ngx_uint_t reason);

/*
 * A name as a trace writes it: as is when it holds only letters, digits
 * and "-._~", any other byte as %XX; p has room for 3 * name->len.
 */
u_char *ngx_cflb_trace_name(u_char *p, ngx_str_t *name);


/* the variables, by what they tell */
enum {
    NGX_CFLB_VAR_LB = 0,
    NGX_CFLB_VAR_POOL,
    NGX_CFLB_VAR_ENDPOINT,
    NGX_CFLB_VAR_ENDPOINT_ADDR,
    NGX_CFLB_VAR_ENDPOINT_NAME,    /* DNS: $cflb_endpoint is addresses */
    NGX_CFLB_VAR_TRACE,
    NGX_CFLB_VAR_COUNTRY,          /* of the client, in cflb_geoip2 */
    NGX_CFLB_VAR_REGION,
    NGX_CFLB_VAR_ASN
};

/*
 * The variables' names, each with its NGX_CFLB_VAR_* as data; those of
 * the client's location keep their value for the request (cacheable),
 * the others follow the latest choice.
 */
typedef struct {
    ngx_str_t                 name;
    uintptr_t                 data;
    ngx_uint_t                cacheable;
} ngx_cflb_var_t;

extern const ngx_cflb_var_t  ngx_cflb_variables[];

/*
 * Fill v with what d (NULL if the request made no decision) says about
 * its latest choice, or with where the client is (ccf's databases);
 * the value is made in pool.
 */
void ngx_cflb_variable(ngx_cflb_conf_t *ccf, ngx_cflb_decision_t *d,
    struct sockaddr *client, ngx_pool_t *pool, ngx_variable_value_t *v,
    uintptr_t data);

/*
 * Is a variable named name among vars (the subsystem's cmcf->variables,
 * elements of size bytes, each starting with its ngx_str_t name): a
 * directive indexed it (postconfiguration).
 */
ngx_flag_t ngx_cflb_variable_used(ngx_array_t *vars, size_t size,
    const ngx_str_t *name);


#endif /* _NGX_CFLB_TRACE_H_INCLUDED_ */
