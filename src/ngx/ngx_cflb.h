
/*
 * cflb nginx glue shared by the http and stream modules: the object model
 * (load balancers, pools, endpoints), the shared-memory zone, and peer
 * selection.  Nothing here includes http or stream headers: the two
 * modules translate their own types at the edges.
 */

#ifndef _NGX_CFLB_H_INCLUDED_
#define _NGX_CFLB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include <jansson.h>                  /* the state file, the runtime API */

#include "cflb_core.h"
#include "cflb_steer.h"
#include "cflb_health.h"
#include "cflb_token.h"


/*
 * Worker slots per zone.  Each worker owns one while it lives and counts
 * its own share of every in-flight counter there, so that a replacement
 * for a crashed worker can take back what the dead one left behind.  Two
 * generations of workers live side by side during a reload.
 */
#define NGX_CFLB_SLOTS         64

#define NGX_CFLB_ZONE_MAGIC    0x62666c63      /* "cflb" */
#define NGX_CFLB_ZONE_LAYOUT   4


typedef struct ngx_cflb_conf_s     ngx_cflb_conf_t;
typedef struct ngx_cflb_monitor_s  ngx_cflb_monitor_t;
typedef struct ngx_cflb_pool_s     ngx_cflb_pool_t;
typedef struct ngx_cflb_lb_s       ngx_cflb_lb_t;
typedef struct ngx_cflb_notify_s   ngx_cflb_notify_t;


/*
 * Counters of one endpoint or pool, kept in the zone.  "active" counts
 * requests in flight at layer 7 and open sessions at layer 4: nginx sends
 * one request at a time over an upstream connection, so in-flight
 * requests and connections in use are the same number there.  All but
 * "active" only grow; they share the cache line get and free touch.
 */
typedef struct {
    ngx_atomic_t              active;
    ngx_atomic_t              requests;      /* total attempts */
    ngx_atomic_t              fails;         /* total failed attempts */
    ngx_atomic_t              failovers;     /* attempts after the first */
    ngx_atomic_t              sent;          /* bytes to the endpoint */
    ngx_atomic_t              received;      /* bytes from the endpoint */
    ngx_atomic_t              sessions;      /* affinity sessions made */
} ngx_cflb_counters_t;


/* shared state of a pool: in the zone, found by the pool name */
typedef struct {
    ngx_str_node_t            sn;
    ngx_cflb_counters_t       c;
    ngx_queue_t               queue;
    ngx_uint_t                generation;    /* last config that used it */
    ngx_uint_t                refs;          /* endpoint records */
    ngx_uint_t                health;        /* cflb_pool_health_e */
    uint32_t                  rtt;           /* usec, moving average */

    /* runtime override (ngx_cflb_runtime.c), under the mutex */
    uint8_t                   rt;            /* NGX_CFLB_RT_ENABLED */
    uint8_t                   rt_enabled;
    uint8_t                   rt_enabled_base;  /* configured, overridden */
} ngx_cflb_sh_pool_t;


/* which runtime overrides a record holds */
#define NGX_CFLB_RT_ENABLED    0x01
#define NGX_CFLB_RT_WEIGHT     0x02


/*
 * Shared state of an endpoint, found by pool name, endpoint name and
 * address, so that a reload keeps it and a changed address starts fresh.
 */
typedef struct {
    ngx_str_node_t            sn;
    ngx_cflb_counters_t       c;
    ngx_cflb_sh_pool_t       *pool;
    ngx_queue_t               queue;
    ngx_uint_t                generation;

    /* health: owner is claimed atomically, the rest under the mutex */
    ngx_atomic_t              owner;         /* pid probing it, or 0 */
    ngx_msec_t                claimed;       /* when owner took it */
    ngx_msec_t                next_check;    /* monotonic msec */
    time_t                    last_check;    /* wall clock, 0: never */
    time_t                    since;         /* of the health state */
    ngx_pid_t                 prober;        /* who probed last */
    cflb_health_t             health;
    uint32_t                  rtt;           /* usec, moving average */
    uint16_t                  reason;        /* ngx_cflb_reason_e */
    uint16_t                  code;          /* last HTTP status */
    ngx_atomic_t              probes;        /* total */

    time_t                    disabled_at;   /* 0: enabled; drain start */

    /*
     * runtime overrides (ngx_cflb_runtime.c), under the mutex: each with
     * the configured value it overrode, its base, so that a configuration
     * that changes the value wins over it
     */
    uint16_t                  rt_weight;     /* 0..CFLB_WEIGHT_SCALE */
    uint16_t                  rt_weight_base;
    uint8_t                   rt;            /* NGX_CFLB_RT_* */
    uint8_t                   rt_enabled;
    uint8_t                   rt_enabled_base;

    /* each worker's share of "active", by slot */
    uint32_t                  slot_active[NGX_CFLB_SLOTS];
} ngx_cflb_sh_endpoint_t;


typedef struct {
    ngx_pid_t                 pid;
    ngx_uint_t                generation;
} ngx_cflb_slot_t;


/* shpool->data */
typedef struct {
    ngx_uint_t                magic;
    ngx_uint_t                layout;
    ngx_uint_t                generation;    /* bumped by every (re)load */
    ngx_rbtree_t              pool_tree;
    ngx_rbtree_node_t         pool_sentinel;
    ngx_rbtree_t              endpoint_tree;
    ngx_rbtree_node_t         endpoint_sentinel;
    ngx_queue_t               pools;         /* ngx_cflb_sh_pool_t */
    ngx_queue_t               endpoints;     /* ngx_cflb_sh_endpoint_t */
    ngx_cflb_slot_t           slots[NGX_CFLB_SLOTS];
    ngx_atomic_t              health_gen;    /* moves on a health change */
    ngx_atomic_t              runtime_gen;   /* moves on a runtime change */
    ngx_atomic_t              state_lock;    /* pid writing the state file */

    /* session affinity: the key made with the zone, header sessions */
    u_char                    key[32];
    ngx_rbtree_t              session_tree;
    ngx_rbtree_node_t         session_sentinel;
    ngx_queue_t               sessions;      /* most recently used first */
    ngx_uint_t                nsessions;
    ngx_uint_t                max_sessions;
} ngx_cflb_sh_t;


enum {
    NGX_CFLB_MON_HTTP = 0,
    NGX_CFLB_MON_HTTPS,
    NGX_CFLB_MON_TCP,
    NGX_CFLB_MON_UDP_ICMP,
    NGX_CFLB_MON_ICMP_PING,
    NGX_CFLB_MON_SMTP,
    NGX_CFLB_MON_LDAP
};


/* why a check failed, in the product's words (ngx_cflb_reasons) */
typedef enum {
    NGX_CFLB_NO_FAILURES = 0,
    NGX_CFLB_TCP_FAILED,
    NGX_CFLB_TCP_TIMEOUT,
    NGX_CFLB_HTTP_TIMEOUT,
    NGX_CFLB_CODE_MISMATCH,
    NGX_CFLB_BODY_MISMATCH,
    NGX_CFLB_HTTP_INVALID,
    NGX_CFLB_TLS_UNTRUSTED,
    NGX_CFLB_TLS_NAME,
    NGX_CFLB_TLS_HANDSHAKE,
    NGX_CFLB_RESET,
    NGX_CFLB_NO_ROUTE,
    NGX_CFLB_UNREACHABLE,
    NGX_CFLB_UDP_UNREACHABLE,
    NGX_CFLB_SMTP_MISMATCH,
    NGX_CFLB_OTHER,
    NGX_CFLB_NOT_CHECKED,
    NGX_CFLB_INVALID,
    NGX_CFLB_NO_ECHO
} ngx_cflb_reason_e;


struct ngx_cflb_monitor_s {
    ngx_str_t                 name;
    ngx_uint_t                type;          /* NGX_CFLB_MON_* */
    ngx_str_t                 method;
    ngx_str_t                 path;
    ngx_uint_t                port;          /* 0: the endpoint's */
    ngx_str_t                 host;          /* header Host, or empty */
    ngx_array_t               headers;       /* ngx_keyval_t, others */
    cflb_codes_t              codes;
    ngx_str_t                 expected_body;
    ngx_flag_t                follow_redirects;
    ngx_flag_t                allow_insecure;
    ngx_str_t                 trusted;       /* ssl_trusted_certificate */
    ngx_msec_t                interval;
    ngx_msec_t                timeout;
    ngx_uint_t                retries;
    ngx_uint_t                consecutive_up;
    ngx_uint_t                consecutive_down;
#if (NGX_SSL)
    ngx_ssl_t                *ssl;
#endif
    u_char                   *file;
    ngx_uint_t                line;
    unsigned                  codes_set:1;
};


typedef struct {
    ngx_str_t                 name;
    uint64_t                  id;            /* in affinity tokens */
    ngx_str_t                 address;       /* as configured */
    ngx_addr_t                addr;          /* resolved at start */
    ngx_str_t                 host;          /* host= override, or empty */
    ngx_uint_t                weight;        /* 0..CFLB_WEIGHT_SCALE */
    ngx_uint_t                conf_weight;   /* weight as configured */
    ngx_cflb_pool_t          *pool;
    ngx_cflb_sh_endpoint_t   *sh;

    unsigned                  disabled:1;    /* with runtime overrides */
    unsigned                  conf_disabled:1;
    unsigned                  no_port:1;     /* stream: client's port */
} ngx_cflb_endpoint_t;


struct ngx_cflb_pool_s {
    ngx_str_t                 name;
    uint64_t                  id;            /* in affinity tokens */
    ngx_cflb_conf_t          *conf;
    ngx_array_t               endpoints;     /* ngx_cflb_endpoint_t */
    cflb_member_t            *members;
    cflb_set_t                set;
    ngx_int_t                 policy;        /* cflb_policy_e */
    ngx_uint_t                minimum_origins;
    ngx_flag_t                enabled;       /* with runtime overrides */
    ngx_flag_t                conf_enabled;  /* as configured */
    ngx_uint_t                nusable;       /* enabled, weight > 0 */
    ngx_pool_t               *rt_pool;       /* this worker's set rebuild */
    ngx_cflb_sh_pool_t       *sh;
    ngx_str_t                 monitor_name;
    ngx_cflb_monitor_t       *monitor;       /* NULL: health ignored */
    ngx_uint_t                health_gen;    /* of "critical" below */

    /* load_shedding: percentages 0..100 */
    ngx_uint_t                shed_default;
    ngx_uint_t                shed_session;
    unsigned                  shed_hash:1;   /* default_policy=hash */
    unsigned                  shed_set:1;
    unsigned                  critical:1;    /* this worker's view */

    u_char                   *file;
    ngx_uint_t                line;
};


/* a pool as one load balancer sees it */
typedef struct {
    ngx_cflb_pool_t          *pool;
    ngx_uint_t                base;          /* its first peer index */
    ngx_uint_t                weight;        /* random_steering */
} ngx_cflb_lb_pool_t;


/* a pool weight named by random_steering, resolved at init */
typedef struct {
    ngx_str_t                 name;
    ngx_uint_t                weight;
} ngx_cflb_pool_weight_t;


#if (NGX_SSL)

typedef struct {
    ngx_ssl_session_t        *ssl_session;
} ngx_cflb_peer_ssl_t;

#endif


enum {
    NGX_CFLB_AFFINITY_NONE = 0,
    NGX_CFLB_AFFINITY_COOKIE,
    NGX_CFLB_AFFINITY_IP_COOKIE,
    NGX_CFLB_AFFINITY_HEADER
};

enum {
    NGX_CFLB_ZDF_NONE = 0,
    NGX_CFLB_ZDF_TEMPORARY,
    NGX_CFLB_ZDF_STICKY
};

enum {
    NGX_CFLB_SAMESITE_AUTO = 0,
    NGX_CFLB_SAMESITE_LAX,
    NGX_CFLB_SAMESITE_STRICT,
    NGX_CFLB_SAMESITE_NONE
};

enum {
    NGX_CFLB_SECURE_AUTO = 0,
    NGX_CFLB_SECURE_ALWAYS,
    NGX_CFLB_SECURE_NEVER
};


/* a header (or with cookie set, a request cookie) that keys sessions */
typedef struct {
    ngx_str_t                 name;
    ngx_uint_t                cookie;        /* "cookie:NAME", or "cookie" */
} ngx_cflb_affinity_header_t;


/* session affinity and failover of a load balancer (layer 7) */
typedef struct {
    ngx_uint_t                mode;          /* NGX_CFLB_AFFINITY_* */
    time_t                    ttl;
    ngx_uint_t                samesite;      /* NGX_CFLB_SAMESITE_* */
    ngx_uint_t                secure;        /* NGX_CFLB_SECURE_* */
    ngx_array_t              *headers;       /* ngx_cflb_affinity_header_t */
    ngx_flag_t                require_all;
    time_t                    drain;
    ngx_uint_t                zdf;           /* NGX_CFLB_ZDF_* */
    ngx_flag_t                across_pools;  /* failover_across_pools */
    u_char                   *file;          /* where mode was set */
    ngx_uint_t                line;
} ngx_cflb_affinity_t;


struct ngx_cflb_lb_s {
    ngx_str_t                 name;
    ngx_cflb_conf_t          *conf;

    ngx_array_t               pool_names;    /* ngx_str_t, as configured */
    ngx_str_t                 fallback_name;
    ngx_array_t               weights;       /* ngx_cflb_pool_weight_t */
    ngx_uint_t                default_weight;
    ngx_int_t                 steering;      /* cflb_policy_e */

    ngx_cflb_lb_pool_t       *pools;         /* priority order */
    ngx_uint_t                npools;
    ngx_cflb_lb_pool_t        fallback;
    cflb_member_t            *members;       /* pools, for steering */
    cflb_set_t                set;
    ngx_uint_t                npeers;        /* endpoints of all its pools */
    ngx_cflb_affinity_t       affinity;
    uint64_t                  id;            /* keys its header sessions */
#if (NGX_SSL)
    ngx_cflb_peer_ssl_t      *ssl;           /* npeers, this worker's */
#endif

    u_char                   *file;
    ngx_uint_t                line;
    size_t                    sess_size;     /* of pd->sess, 0: none */
    unsigned                  initialized:1;
};


/* per-subsystem main conf; the http and stream modules each have one */
struct ngx_cflb_conf_s {
    ngx_array_t               pools;         /* ngx_cflb_pool_t * */
    ngx_array_t               lbs;           /* ngx_cflb_lb_t * */
    ngx_array_t               monitors;      /* ngx_cflb_monitor_t * */
    ngx_shm_zone_t           *shm_zone;
    ngx_module_t             *module;        /* the subsystem module */
    ngx_uint_t                default_port;  /* 0: the client's port */
    ngx_uint_t                debug;         /* NGX_LOG_DEBUG_HTTP etc. */
    ngx_flag_t                http;          /* layer 7: requests, Host */
    ngx_str_t                 key;           /* cflb_affinity_key, or empty */
    ngx_uint_t                affinity;      /* some lb uses tokens */
    ngx_flag_t                trace;         /* $cflb_trace is used */
    ngx_cflb_notify_t        *notify;        /* cflb_notify, or NULL */
    ngx_str_t                 state_file;    /* cflb_state_file, or empty */
    ngx_array_t              *state;         /* ngx_cflb_state_t, read */
    ngx_array_t              *apis;          /* http: cflb_api locations */

    ngx_slab_pool_t          *shpool;
    ngx_cflb_sh_t            *sh;
    ngx_uint_t                generation;    /* of this configuration */
    ngx_uint_t                runtime_gen;   /* this worker's, applied */
    ngx_uint_t                slot;          /* this worker's */
    cflb_rng_t                rng;           /* this worker's */
    cflb_mac_t                mac;           /* this worker's, tokens */
    cflb_token_cache_t        tokens;        /* this worker's, verified */
    ngx_event_t               health_timer;  /* this worker's */
    ngx_log_t                *log;
    unsigned                  worker:1;      /* init_process has run */
    unsigned                  state_dirty:1; /* the load changed overrides */
};


/*
 * The affinity and shedding state of a request, made only for load
 * balancers that use them, or as the head of a trace record when the
 * configuration uses $cflb_trace: the peer data of every other request
 * stays small (it shares a 256-byte pool block at layer 4).
 */
typedef struct {
    ngx_cflb_endpoint_t      *pinned;        /* the session's, may serve */
    uint64_t                  session;       /* its hash, for shedding */
    uint64_t                  shed;          /* pools shed, bitmap */
    uint64_t                  shed_known;    /* pools decided, bitmap */
    cflb_rng_t                ip_rng;        /* ip_cookie's first pick */
} ngx_cflb_sess_t;


/*
 * One request's (or session's) balancing state.  The subsystems embed it
 * first in their own peer data.
 */
typedef struct {
    ngx_cflb_lb_t            *lb;
    ngx_cflb_lb_pool_t       *entry;         /* pool being picked from */
    ngx_cflb_endpoint_t      *current;       /* chosen, not yet freed */
    ngx_uint_t                current_peer;
    ngx_cflb_endpoint_t      *last;          /* the latest choice */
    struct sockaddr          *client;        /* for hash steering */
    in_port_t                 local_port;    /* for no_port endpoints */
    uint64_t                  key;
    uint64_t                  exhausted;     /* bitmap of pools */
    uintptr_t                *tried;         /* bitmap of peers */
    uintptr_t                 data;          /* tried, if npeers fit */
    ngx_pool_t               *pool;
    struct sockaddr          *sockaddr;      /* with local_port, lazily */

    ngx_cflb_sess_t          *sess;          /* affinity, shedding */

    unsigned                  key_set:1;
    unsigned                  retry:1;       /* get_peer ran before */
    unsigned                  ignore_health:1;  /* picking the fallback */
    unsigned                  ip_pick:1;     /* steer by client address */
    unsigned                  new_session:1; /* the response makes one */
    unsigned                  trace:1;       /* sess is a trace's */
} ngx_cflb_peer_data_t;


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
    NGX_CFLB_SKIP_DRAINING         /* endpoint: disabled, drain running */
};

/* $cflb_trace: how the pool or endpoint was chosen */
enum {
    NGX_CFLB_HOW_STEERING = 0,     /* the policy of the lb or pool */
    NGX_CFLB_HOW_FALLBACK,         /* pool: no other pool could serve */
    NGX_CFLB_HOW_AFFINITY,         /* the session's */
    NGX_CFLB_HOW_IP_COOKIE         /* ip_cookie's pick by the address */
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
 * uses $cflb_trace: it carries the request's sess (so pd stays as it
 * is), then a bitmap of the peers recorded, one bit per peer of the lb.
 */
typedef struct {
    ngx_cflb_sess_t           sess;          /* must be first */
    ngx_cflb_endpoint_t      *ep;            /* the latest pick, or NULL */
    ngx_cflb_endpoint_t      *failed;        /* retried after it failed */
    uint64_t                  pools_seen;    /* pools recorded, bitmap */
    ngx_uint_t                nskips;        /* recorded, may exceed cap */
    ngx_cflb_skip_t           skips[NGX_CFLB_TRACE_SKIPS];
    uint8_t                   pool_how;      /* NGX_CFLB_HOW_* */
    uint8_t                   ep_how;
    uint8_t                   affinity;      /* NGX_CFLB_AFF_* */
    uintptr_t                 seen[1];       /* peers recorded */
} ngx_cflb_trace_t;

#define ngx_cflb_trace(pd)     ((ngx_cflb_trace_t *) (pd)->sess)


/* the largest number of pools one load balancer may list */
#define NGX_CFLB_MAX_POOLS     64


/*
 * The directive table both modules expand, so the syntax is identical in
 * http{} and stream{}.  MAIN and UPS are the subsystem's context flags,
 * MOFF and SOFF its main and srv conf offsets, BLOCK its cflb_lb handler.
 */
#define NGX_CFLB_COMMANDS(MAIN, UPS, MOFF, SOFF, BLOCK)                       \
    { ngx_string("cflb_zone"), MAIN|NGX_CONF_TAKE2,                           \
      ngx_cflb_zone_directive, MOFF, 0, NULL },                               \
    { ngx_string("cflb_pool"), MAIN|NGX_CONF_BLOCK|NGX_CONF_TAKE1,            \
      ngx_cflb_pool_block, MOFF, 0, NULL },                                   \
    { ngx_string("cflb_lb"), MAIN|NGX_CONF_BLOCK|NGX_CONF_TAKE1,              \
      BLOCK, MOFF, 0, NULL },                                                 \
    { ngx_string("cflb_monitor"), MAIN|NGX_CONF_BLOCK|NGX_CONF_TAKE1,         \
      ngx_cflb_monitor_block, MOFF, 0, NULL },                                \
    { ngx_string("pools"), UPS|NGX_CONF_1MORE,                                \
      ngx_cflb_lb_pools, SOFF, 0, NULL },                                     \
    { ngx_string("fallback_pool"), UPS|NGX_CONF_TAKE1,                        \
      ngx_cflb_lb_fallback, SOFF, 0, NULL },                                  \
    { ngx_string("steering"), UPS|NGX_CONF_TAKE1,                             \
      ngx_cflb_lb_steering, SOFF, 0, NULL },                                  \
    { ngx_string("random_steering"), UPS|NGX_CONF_1MORE,                      \
      ngx_cflb_lb_random_steering, SOFF, 0, NULL },                           \
    { ngx_string("cflb_affinity_key"), MAIN|NGX_CONF_TAKE1,                   \
      ngx_cflb_affinity_key, MOFF, 0, NULL },                                 \
    { ngx_string("cflb_notify"), MAIN|NGX_CONF_TAKE123,                       \
      ngx_cflb_notify_directive, MOFF, 0, NULL },                             \
    { ngx_string("cflb_state_file"), MAIN|NGX_CONF_TAKE1,                     \
      ngx_cflb_state_file, MOFF, 0, NULL },                                   \
    NGX_CFLB_L7(UPS, SOFF, "session_affinity", TAKE1, mode),                  \
    NGX_CFLB_L7(UPS, SOFF, "session_affinity_ttl", TAKE1, ttl),               \
    NGX_CFLB_L7(UPS, SOFF, "session_affinity_samesite", TAKE1, samesite),     \
    NGX_CFLB_L7(UPS, SOFF, "session_affinity_secure", TAKE1, secure),         \
    NGX_CFLB_L7(UPS, SOFF, "session_affinity_headers", 1MORE, headers),       \
    NGX_CFLB_L7(UPS, SOFF, "session_affinity_require_all_headers", FLAG,      \
                require_all),                                                 \
    NGX_CFLB_L7(UPS, SOFF, "drain_duration", TAKE1, drain),                   \
    NGX_CFLB_L7(UPS, SOFF, "zero_downtime_failover", TAKE1, zdf),             \
    NGX_CFLB_L7(UPS, SOFF, "failover_across_pools", FLAG, across_pools)

/*
 * A layer-7 directive of cflb_lb: ngx_cflb_lb_l7() refuses it in stream{}
 * and outside cflb_lb, then sets the field of ngx_cflb_affinity_t with the
 * setter ngx_cflb_affinity_<field>.
 */
#define NGX_CFLB_L7(UPS, SOFF, name, args, field)                             \
    { ngx_string(name), UPS|NGX_CONF_##args, ngx_cflb_lb_l7, SOFF,            \
      offsetof(ngx_cflb_lb_t, affinity.field),                                \
      (void *) &ngx_cflb_affinity_##field }


/* ngx_cflb_conf.c: directives and configuration finalisation */
char *ngx_cflb_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_cflb_pool_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_pools(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_fallback(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_steering(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_lb_random_steering(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* a new main conf for the subsystem module (its create_main_conf) */
ngx_cflb_conf_t *ngx_cflb_create_conf(ngx_conf_t *cf, ngx_module_t *module,
    ngx_uint_t default_port, ngx_uint_t debug);

/*
 * ngx_cflb_lb_create() starts a cflb_lb block: checks the name and makes
 * the load balancer that the subsystem's block handler then parses into.
 * Returns NULL after logging the error.
 */
ngx_cflb_lb_t *ngx_cflb_lb_create(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_url_t *u);

/*
 * ngx_cflb_module_confs() makes the srv (or loc) confs of every module of
 * one subsystem (type), for the upstream block of a load balancer: create
 * is the offset of create_srv_conf (or create_loc_conf) in the modules'
 * context of that subsystem.
 */
typedef void *(*ngx_cflb_create_conf_pt)(ngx_conf_t *cf);

void **ngx_cflb_module_confs(ngx_conf_t *cf, ngx_uint_t type,
    ngx_uint_t max, size_t create);

/*
 * ngx_cflb_lb_parse() parses the block body in the subsystem's upstream
 * context ctx (srv_conf its srv confs, cmd_type its UPS flag) and fails
 * if another balancing method changed the upstream's flags away from
 * created.
 */
char *ngx_cflb_lb_parse(ngx_conf_t *cf, ngx_cflb_lb_t *lb, void *ctx,
    void **srv_conf, ngx_uint_t cmd_type, ngx_uint_t *flags,
    ngx_uint_t created);

/*
 * ngx_cflb_lb_init() finishes a load balancer from its upstream's
 * init_upstream: refuses "server" and "zone" (nservers and zone of the
 * upstream), resolves pool names and builds the steering sets.
 */
ngx_int_t ngx_cflb_lb_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb,
    ngx_uint_t nservers, void *zone);

/* the pool of ccf named name, or NULL */
ngx_cflb_pool_t *ngx_cflb_find_pool(ngx_cflb_conf_t *ccf, ngx_str_t *name);

/* postconfiguration checks common to both subsystems */
ngx_int_t ngx_cflb_postconfiguration(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/* the core's allocator over an nginx pool */
void ngx_cflb_allocator(cflb_allocator_t *a, ngx_pool_t *pool);


/* ngx_cflb_affinity.c: session affinity, drain, failover options */

/* how a layer-7 directive is set, and why layer 4 has no use for it */
typedef struct {
    char                   *(*set)(ngx_conf_t *cf, ngx_command_t *cmd,
                                   void *conf);
    void                     *post;
    char                     *why;
} ngx_cflb_setter_t;

extern ngx_cflb_setter_t  ngx_cflb_affinity_mode;
extern ngx_cflb_setter_t  ngx_cflb_affinity_ttl;
extern ngx_cflb_setter_t  ngx_cflb_affinity_samesite;
extern ngx_cflb_setter_t  ngx_cflb_affinity_secure;
extern ngx_cflb_setter_t  ngx_cflb_affinity_headers;
extern ngx_cflb_setter_t  ngx_cflb_affinity_require_all;
extern ngx_cflb_setter_t  ngx_cflb_affinity_drain;
extern ngx_cflb_setter_t  ngx_cflb_affinity_zdf;
extern ngx_cflb_setter_t  ngx_cflb_affinity_across_pools;

char *ngx_cflb_lb_l7(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_affinity_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* defaults and cross-checks, from ngx_cflb_lb_init() */
ngx_int_t ngx_cflb_affinity_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb);

/* the zone's part: the random key and the header session table */
void ngx_cflb_affinity_init_zone(ngx_cflb_sh_t *sh, ngx_slab_pool_t *shpool);
ngx_int_t ngx_cflb_affinity_init_worker(ngx_cflb_conf_t *ccf,
    ngx_log_t *log);
void ngx_cflb_affinity_exit_worker(ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_affinity_resume() honours the request's token (the __cflb
 * cookie value) or header session key, if valid and its endpoint may
 * still serve: sets pd->sess->pinned and pd->entry.  Either may be
 * NULL.  Otherwise the request starts a new session (pd->new_session).
 */
void ngx_cflb_affinity_resume(ngx_cflb_peer_data_t *pd, ngx_str_t *token,
    uint64_t *hkey, ngx_log_t *log);

/*
 * ngx_cflb_affinity_commit() makes the new session of pd once its
 * endpoint answered: writes the token to out (CFLB_TOKEN_LEN bytes) and
 * returns NGX_OK, or stores the header session (hkey) and returns
 * NGX_DECLINED; NGX_ERROR on failure.
 */
ngx_int_t ngx_cflb_affinity_commit(ngx_cflb_peer_data_t *pd, uint64_t *hkey,
    u_char *out);


/* ngx_cflb_monitor.c: cflb_monitor blocks */
char *ngx_cflb_monitor_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_cflb_monitor_t *ngx_cflb_find_monitor(ngx_cflb_conf_t *ccf,
    ngx_str_t *name);


/* ngx_cflb_health.c: the health checker, driven by worker timers */
ngx_int_t ngx_cflb_health_init_worker(ngx_cycle_t *cycle,
    ngx_cflb_conf_t *ccf);

/* is the pool out of steering (critical), as this worker sees it now */
ngx_uint_t ngx_cflb_pool_critical(ngx_cflb_pool_t *pool);

/* the record's health counts for steering: monitored and healthy */
#define ngx_cflb_endpoint_healthy(ep)                                         \
    ((ep)->pool->monitor == NULL || (ep)->sh->health.healthy)

const char *ngx_cflb_reason_name(ngx_uint_t reason);

/*
 * Is the pool critical as alerts see it: an endpoint not checked yet
 * counts as healthy (the product's assumption), so that starting nginx
 * alerts only on what is down; with ep not NULL, ep's health taken as h.
 */
ngx_uint_t ngx_cflb_pool_alert_critical(ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_health_t *h);

/* ngx_cflb_probe.c: one check of one endpoint */
typedef void (*ngx_cflb_probe_done_pt)(ngx_cflb_endpoint_t *ep,
    ngx_uint_t reason, ngx_uint_t code, ngx_msec_t rtt);

ngx_int_t ngx_cflb_probe_start(ngx_cflb_endpoint_t *ep, ngx_log_t *log,
    ngx_cflb_probe_done_pt done);

/*
 * Outbound connections, for probes and webhooks.  ngx_cflb_connect()
 * starts a non-blocking connection to pc->sockaddr (pc's socklen, name,
 * log and type set by the caller): both events go to handler with
 * c->data = data and c->pool = pool, and the write event times out after
 * timeout, one deadline for the whole exchange.  Returns NGX_OK
 * (connected), NGX_AGAIN (in progress) or NGX_ERROR (nothing left open).
 * ngx_cflb_connected() tells whether the connect ended: NGX_AGAIN, NGX_OK,
 * or NGX_ERROR with the socket error in *err.  ngx_cflb_send() sends the
 * rest of b: NGX_OK (all sent), NGX_AGAIN or NGX_ERROR.
 */
ngx_int_t ngx_cflb_connect(ngx_peer_connection_t *pc, void *data,
    ngx_pool_t *pool, ngx_event_handler_pt handler, ngx_msec_t timeout);
ngx_int_t ngx_cflb_connected(ngx_connection_t *c, ngx_err_t *err);
ngx_int_t ngx_cflb_send(ngx_connection_t *c, ngx_buf_t *b);


/*
 * ngx_cflb_notify.c: alerts POSTed as JSON to the cflb_notify webhook,
 * queued in the worker that saw the change and sent in the background.
 * Each does nothing without cflb_notify.  ngx_cflb_notify_endpoint(): the
 * endpoint's health changed (pool_changed: and so did its pool's);
 * ngx_cflb_notify_pool(): the pool became healthy or critical, because
 * of the endpoint cause (or NULL); ngx_cflb_notify_enabled(): the pool,
 * or its endpoint ep if not NULL, was enabled or disabled (runtime API).
 */
char *ngx_cflb_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_cflb_notify_endpoint(ngx_cflb_endpoint_t *ep,
    ngx_uint_t pool_changed);
void ngx_cflb_notify_pool(ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *cause);
void ngx_cflb_notify_enabled(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_uint_t enabled);
ngx_int_t ngx_cflb_notify_init_worker(ngx_cycle_t *cycle,
    ngx_cflb_conf_t *ccf);
void ngx_cflb_notify_exit_worker(ngx_cflb_conf_t *ccf);


/* ngx_cflb_status.c: the status document (JSON), served by the modules */
enum {
    NGX_CFLB_STATUS_DOC = 0,       /* the whole document */
    NGX_CFLB_STATUS_LBS,           /* the array of load balancers */
    NGX_CFLB_STATUS_POOLS,         /* the array of pools */
    NGX_CFLB_STATUS_POOL,          /* one pool, obj */
    NGX_CFLB_STATUS_ENDPOINT       /* one endpoint, obj */
};

/* s as a JSON string, quoted; p has room for 6 * s->len + 2 */
u_char *ngx_cflb_json_str(u_char *p, ngx_str_t *s);

/*
 * What of the status of ccf, as JSON ending in a newline, in one buffer.
 * The whole document of the http conf also holds the stream zone's load
 * balancers and pools, when the stream module has any.
 */
ngx_buf_t *ngx_cflb_status_json(ngx_pool_t *pool, ngx_cflb_conf_t *ccf,
    ngx_uint_t what, void *obj);

/* the stream conf beside the http conf ccf, if it has load balancers */
ngx_cflb_conf_t *ngx_cflb_status_stream(ngx_cflb_conf_t *ccf);

/*
 * The conf of the cflb zone of the module named module (the other
 * subsystem's, found without naming its symbol), or NULL.  Works while
 * the configuration is read too: the zone is added with its conf.
 */
ngx_cflb_conf_t *ngx_cflb_zone_conf(ngx_cycle_t *cycle, char *module);

/* the largest drain_duration of the load balancers that use the pool */
time_t ngx_cflb_pool_drain(ngx_cflb_pool_t *pool);


/*
 * ngx_cflb_prometheus.c: the same counters in the Prometheus text format
 * 0.0.4, the http zone's and the stream zone's (either may be NULL).
 */
ngx_buf_t *ngx_cflb_prometheus(ngx_pool_t *pool, ngx_cflb_conf_t *http,
    ngx_cflb_conf_t *stream);


/*
 * ngx_cflb_runtime.c: runtime overrides of pools and endpoints (set by
 * the http API), kept in the zone, applied by every worker, and saved in
 * the state file.
 */

/* an override read from the state file, applied at (re)load */
typedef struct {
    ngx_str_t                 pool;
    ngx_str_t                 endpoint;      /* empty: the pool's own */
    ngx_str_t                 address;
    ngx_uint_t                rt;            /* NGX_CFLB_RT_* */
    ngx_uint_t                enabled;
    ngx_uint_t                enabled_base;
    ngx_uint_t                weight;
    ngx_uint_t                weight_base;
    ngx_uint_t                used;          /* some object took it */
} ngx_cflb_state_t;

/* a change asked for: NGX_CONF_UNSET_UINT leaves that field alone */
typedef struct {
    ngx_uint_t                enabled;
    ngx_uint_t                weight;        /* 0..CFLB_WEIGHT_SCALE */
} ngx_cflb_change_t;

/* what ngx_cflb_runtime_changed() reports */
enum {
    NGX_CFLB_CHANGE_ENABLED = 0,
    NGX_CFLB_CHANGE_DISABLED,
    NGX_CFLB_CHANGE_WEIGHT
};

/*
 * ngx_cflb_runtime_set() applies ch to the pool (ep NULL) or endpoint in
 * the zone, for every worker, starts or ends a drain, then updates this
 * worker and the state file.  Takes the zone mutex.
 */
void ngx_cflb_runtime_set(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch);

/* one change applied: the hook for alerts; logs it at notice */
void ngx_cflb_runtime_changed(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_uint_t what);

/* this worker takes the zone's overrides (sets rebuilt as needed) */
void ngx_cflb_runtime_apply(ngx_cflb_conf_t *ccf);

/* one atomic read where a request, a health round or a render starts */
#define ngx_cflb_runtime_sync(ccf)                                            \
    ((ccf)->runtime_gen != (ccf)->sh->runtime_gen                             \
     ? ngx_cflb_runtime_apply(ccf) : (void) 0)

/*
 * At (re)load, in the master with the zone mutex held: drop overrides
 * the configuration outdated, take those of the state file, and set the
 * drain start from the resulting state.
 */
void ngx_cflb_runtime_bind_pool(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_sh_pool_t *shp);
void ngx_cflb_runtime_bind_endpoint(ngx_cflb_conf_t *ccf,
    ngx_cflb_endpoint_t *ep, ngx_cflb_sh_endpoint_t *she);

/* after the bind, without the mutex: warnings, and the file rewritten */
void ngx_cflb_runtime_loaded(ngx_cflb_conf_t *ccf, ngx_log_t *log);


/*
 * ngx_cflb_state.c: cflb_state_file, in http{} or stream{}, each zone
 * with its own file.  ngx_cflb_state_read() reads the file into
 * ccf->state for the zone to apply; whatever is wrong with the file is
 * logged and ignored.  It fails (NGX_ERROR) only when the other
 * subsystem's zone names the same file.
 */
char *ngx_cflb_state_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_cflb_state_read(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/* a JSON weight in hundredths, as weight= takes it, or NGX_ERROR */
ngx_int_t ngx_cflb_json_weight(json_t *v);


/* ngx_cflb_zone.c: the shared-memory zone and worker slots */
ngx_int_t ngx_cflb_init_zone(ngx_shm_zone_t *shm_zone, void *data);

/*
 * The modules' init_process and exit_process: each sets up (or leaves)
 * every cflb zone of the cycle once, whichever module comes first.
 */
ngx_int_t ngx_cflb_init_process(ngx_cycle_t *cycle);
void ngx_cflb_exit_process(ngx_cycle_t *cycle);


/* ngx_cflb_peer.c: peer selection, shared by both subsystems */
/*
 * ngx_cflb_init_peer() prepares pd (allocated by the caller, zeroed) for
 * one request or session of lb and hooks pc up to it.  local is the
 * address the client connected to, or NULL (http).
 */
ngx_int_t ngx_cflb_init_peer(ngx_cflb_peer_data_t *pd, ngx_pool_t *pool,
    ngx_cflb_lb_t *lb, ngx_peer_connection_t *pc, struct sockaddr *client,
    struct sockaddr *local);
ngx_int_t ngx_cflb_get_peer(ngx_peer_connection_t *pc, void *data);
uint64_t ngx_cflb_client_key(struct sockaddr *sa);
void ngx_cflb_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);

/*
 * ngx_cflb_free_peer_bytes() is ngx_cflb_free_peer() for a subsystem that
 * knows the bytes the ending attempt sent to and received from its
 * endpoint: it counts them first.
 */
void ngx_cflb_free_peer_bytes(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state, off_t sent, off_t received);

/* the variables both subsystems offer, by what they tell */
enum {
    NGX_CFLB_VAR_LB = 0,
    NGX_CFLB_VAR_POOL,
    NGX_CFLB_VAR_ENDPOINT,
    NGX_CFLB_VAR_ENDPOINT_ADDR,
    NGX_CFLB_VAR_TRACE
};

/* the variables' names, each with its NGX_CFLB_VAR_* as data */
typedef struct {
    ngx_str_t                 name;
    uintptr_t                 data;
} ngx_cflb_var_t;

extern const ngx_cflb_var_t  ngx_cflb_variables[];

/* fill v with what pd (NULL if none) says about its latest choice */
void ngx_cflb_variable(ngx_cflb_peer_data_t *pd, ngx_variable_value_t *v,
    uintptr_t data);


/* ngx_cflb_trace.c: $cflb_trace, the decision trace of a request */

/* make every lb of ccf give its requests a trace (postconfiguration) */
void ngx_cflb_trace_init(ngx_cflb_conf_t *ccf);

/* record get_peer's choice ep (NULL: none), and on a retry what failed */
void ngx_cflb_trace_pick(ngx_cflb_peer_data_t *pd, ngx_cflb_endpoint_t *ep);

/*
 * Record why pool i of the lb, or endpoint i of pd->entry, was skipped.
 * Both return 0, the answer of the usable() test that calls them.
 */
int ngx_cflb_trace_pool(ngx_cflb_peer_data_t *pd, ngx_uint_t i,
    ngx_uint_t reason);
int ngx_cflb_trace_endpoint(ngx_cflb_peer_data_t *pd, ngx_uint_t i,
    ngx_uint_t reason);

/* the trace as text, from pd->pool, in v */
void ngx_cflb_trace_variable(ngx_cflb_peer_data_t *pd,
    ngx_variable_value_t *v);

/*
 * The variables' get handler, their registration (preconfiguration) and
 * whether the configuration uses $cflb_trace (postconfiguration, when
 * every directive has indexed the variables it uses), written once for
 * both subsystems: sub is http or stream, SUB the same in capitals, req
 * what the subsystem's handlers get (ngx_http_request_t or
 * ngx_stream_session_t).  The peer data is the module's context.
 */
#define NGX_CFLB_VARIABLES(sub, SUB, req)                                     \
                                                                              \
static ngx_int_t                                                              \
ngx_##sub##_cflb_variable(req *r, ngx_variable_value_t *v, uintptr_t data)    \
{                                                                             \
    ngx_cflb_variable(ngx_##sub##_get_module_ctx(r, ngx_##sub##_cflb_module), \
                      v, data);                                               \
    return NGX_OK;                                                            \
}                                                                             \
                                                                              \
static ngx_int_t                                                              \
ngx_##sub##_cflb_add_variables(ngx_conf_t *cf)                                \
{                                                                             \
    const ngx_cflb_var_t     *v;                                              \
    ngx_##sub##_variable_t   *var;                                            \
                                                                              \
    for (v = ngx_cflb_variables; v->name.len; v++) {                          \
        var = ngx_##sub##_add_variable(cf, (ngx_str_t *) &v->name,            \
                                       NGX_##SUB##_VAR_NOCACHEABLE);          \
        if (var == NULL) {                                                    \
            return NGX_ERROR;                                                 \
        }                                                                     \
                                                                              \
        var->get_handler = ngx_##sub##_cflb_variable;                         \
        var->data = v->data;                                                  \
    }                                                                         \
                                                                              \
    return NGX_OK;                                                            \
}                                                                             \
                                                                              \
/* is $cflb_trace used: indexed by a log format, add_header, map...  */      \
static ngx_flag_t                                                             \
ngx_##sub##_cflb_traced(ngx_conf_t *cf)                                       \
{                                                                             \
    ngx_str_t                       *name;                                    \
    ngx_uint_t                       i;                                       \
    ngx_##sub##_variable_t          *v;                                       \
    ngx_##sub##_core_main_conf_t    *cmcf;                                    \
                                                                              \
    cmcf = ngx_##sub##_conf_get_module_main_conf(cf,                          \
                                                 ngx_##sub##_core_module);    \
    name = (ngx_str_t *) &ngx_cflb_variables[NGX_CFLB_VAR_TRACE].name;        \
    v = cmcf->variables.elts;                                                 \
                                                                              \
    for (i = 0; i < cmcf->variables.nelts; i++) {                             \
        if (v[i].name.len == name->len                                        \
            && ngx_strncmp(v[i].name.data, name->data, name->len) == 0)       \
        {                                                                     \
            return 1;                                                         \
        }                                                                     \
    }                                                                         \
                                                                              \
    return 0;                                                                 \
}


/*
 * The module context and module of a subsystem, written once (sub and SUB
 * as above); the variadic part ends the context: ", NULL, NULL" for the
 * location confs of http, nothing for stream.  Both modules start and end
 * their workers' part in the zones with the same functions.
 */
#define NGX_CFLB_MODULE(sub, SUB, ...)                                        \
                                                                              \
static ngx_##sub##_module_t  ngx_##sub##_cflb_module_ctx = {                  \
    ngx_##sub##_cflb_add_variables,        /* preconfiguration */             \
    ngx_##sub##_cflb_postconfiguration,    /* postconfiguration */            \
    ngx_##sub##_cflb_create_main_conf,     /* create main configuration */    \
    NULL,                                  /* init main configuration */      \
    NULL,                                  /* create server configuration */  \
    NULL                                   /* merge server configuration */   \
    __VA_ARGS__                            /* http: location confs */         \
};                                                                            \
                                                                              \
ngx_module_t  ngx_##sub##_cflb_module = {                                     \
    NGX_MODULE_V1,                                                            \
    &ngx_##sub##_cflb_module_ctx,          /* module context */               \
    ngx_##sub##_cflb_commands,             /* module directives */            \
    NGX_##SUB##_MODULE,                    /* module type */                  \
    NULL,                                  /* init master */                  \
    NULL,                                  /* init module */                  \
    ngx_cflb_init_process,                 /* init process */                 \
    NULL,                                  /* init thread */                  \
    NULL,                                  /* exit thread */                  \
    ngx_cflb_exit_process,                 /* exit process */                 \
    NULL,                                  /* exit master */                  \
    NGX_MODULE_V1_PADDING                                                     \
}


#endif /* _NGX_CFLB_H_INCLUDED_ */
