
/*
 * The cflb object model, as the configuration builds it: monitors, pools
 * of endpoints, load balancers, and each subsystem's main conf.  Nothing
 * here includes http or stream headers: the two modules translate their
 * own types at the edges.  A decision reads a load balancer only through
 * its view (ngx_cflb_view_t), which a custom rule may overlay.
 */

#ifndef _NGX_CFLB_MODEL_H_INCLUDED_
#define _NGX_CFLB_MODEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "cflb_core.h"
#include "cflb_steer.h"
#include "cflb_least_tree.h"
#include "cflb_health.h"
#include "cflb_token.h"
#include "cflb_names.h"


typedef struct ngx_cflb_conf_s         ngx_cflb_conf_t;
typedef struct ngx_cflb_monitor_s      ngx_cflb_monitor_t;
typedef struct ngx_cflb_pool_s         ngx_cflb_pool_t;
typedef struct ngx_cflb_lb_s           ngx_cflb_lb_t;
typedef struct ngx_cflb_notify_s       ngx_cflb_notify_t;
typedef struct ngx_cflb_sh_s           ngx_cflb_sh_t;
typedef struct ngx_cflb_sh_pool_s      ngx_cflb_sh_pool_t;
typedef struct ngx_cflb_sh_endpoint_s  ngx_cflb_sh_endpoint_t;
typedef struct ngx_cflb_sh_gen_s       ngx_cflb_sh_gen_t;
typedef struct ngx_cflb_sh_link_s      ngx_cflb_sh_link_t;
typedef struct ngx_cflb_sh_tree_s      ngx_cflb_sh_tree_t;
typedef struct ngx_cflb_geo_db_s       ngx_cflb_geo_db_t;
typedef struct ngx_cflb_rules_s        ngx_cflb_rules_t;
typedef struct ngx_cflb_rule_s         ngx_cflb_rule_t;
typedef struct ngx_cflb_rule_conf_s    ngx_cflb_rule_conf_t;

/* DNS-only (ngx_cflb_dns_zone.h) */
typedef struct ngx_cflb_dns_conf_s     ngx_cflb_dns_conf_t;
typedef struct ngx_cflb_dns_lb_s       ngx_cflb_dns_lb_t;
typedef struct ngx_cflb_sh_dns_s       ngx_cflb_sh_dns_t;

/* the fleet (ngx_cflb_cluster.h) */
typedef struct ngx_cflb_cluster_s      ngx_cflb_cluster_t;
typedef struct ngx_cflb_sh_cluster_s   ngx_cflb_sh_cluster_t;


/* the largest number of pools one load balancer may reach */
#define NGX_CFLB_MAX_POOLS     64


/*
 * The keyword tables: one per enum, each value its own index, so that
 * the parser (ngx_conf_set_enum_slot), the status document and the trace
 * all name a value the same way: ngx_cflb_affinity_modes[mode].name.
 */
enum {
    NGX_CFLB_MON_HTTP = 0,
    NGX_CFLB_MON_HTTPS,
    NGX_CFLB_MON_TCP,
    NGX_CFLB_MON_UDP_ICMP,
    NGX_CFLB_MON_ICMP_PING,
    NGX_CFLB_MON_SMTP,
    NGX_CFLB_MON_LDAP
};

/* a monitor's quorum: whose verdict decides an endpoint's health */
enum {
    NGX_CFLB_QUORUM_LOCAL = 0,     /* this node's own */
    NGX_CFLB_QUORUM_MAJORITY       /* most of the fleet's (cflb_cluster) */
};

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

extern ngx_conf_enum_t  ngx_cflb_monitor_types[];
extern ngx_conf_enum_t  ngx_cflb_affinity_modes[];
extern ngx_conf_enum_t  ngx_cflb_zdf_modes[];
extern ngx_conf_enum_t  ngx_cflb_samesite_modes[];
extern ngx_conf_enum_t  ngx_cflb_secure_modes[];


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
    ngx_uint_t                quorum;        /* NGX_CFLB_QUORUM_* */
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
    ngx_uint_t                index;         /* in the configuration */
    ngx_uint_t                slot;          /* in its pool's tree */
    ngx_uint_t                max_fails;     /* passive health, 0: off */
    time_t                    fail_timeout;

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
    ngx_uint_t                nready;        /* and healthy, when counted */
    ngx_uint_t                unresolved;    /* this worker's endpoints
                                                without an address now */
    ngx_uint_t                max_fails;     /* passive_health defaults */
    time_t                    fail_timeout;
    ngx_pool_t               *rt_pool;       /* this worker's set rebuild */
    ngx_cflb_sh_pool_t       *sh;

    /* least_* in O(log n) (ngx_cflb_trees.c), set with the zone */
    ngx_uint_t                index;         /* in the configuration */
    ngx_uint_t                first;         /* its first endpoint index */
    cflb_least_tree_t        *tree;          /* its endpoints', or NULL */
    cflb_least_tree_t        *draw;          /* the tree, if picks may
                                                draw from it (owned) */
    ngx_cflb_sh_tree_t       *tree_sh;
    uint32_t                 *map;           /* tree slot -> endpoint */
    uint32_t                 *pick_map;      /* map, or NULL: the same */
    ngx_cflb_sh_link_t       *links;         /* its places in pool trees */
    ngx_uint_t                nlinks;
    ngx_uint_t                tree_seen;     /* sh->changes synced */

    ngx_str_t                 monitor_name;
    ngx_cflb_monitor_t       *monitor;       /* NULL: health ignored */
    cflb_names_t             *names;         /* its endpoints, parsing */
    ngx_uint_t                health_gen;    /* of "critical" below */
    unsigned                  notify_filter; /* cflb_alert kinds let out */

    /* coordinates: where it is, for proximity steering */
    cflb_geo_vec_t            where;
    int32_t                   lat;           /* micro-degrees */
    int32_t                   lon;
    unsigned                  coords:1;

    /* load_shedding: percentages 0..100 */
    ngx_uint_t                shed_default;
    ngx_uint_t                shed_session;
    unsigned                  shed_hash:1;   /* default_policy=hash */
    unsigned                  shed_set:1;
    unsigned                  critical:1;    /* this worker's view */
    unsigned                  notify_set:1;  /* notification_filter */

    u_char                   *file;
    ngx_uint_t                line;
};


/*
 * A pool as one load balancer reaches it (an entry): where its peers
 * start in the load balancer's peer indices (the tried bitmap, TLS
 * sessions), and its own index, for the per-request pool bitmaps.
 */
typedef struct {
    ngx_cflb_pool_t          *pool;
    ngx_uint_t                base;          /* its first peer index */
    ngx_uint_t                index;         /* in lb->entries */
} ngx_cflb_lb_pool_t;


/*
 * Pools in priority order and the traffic steering that chooses among
 * them: the policy's set over the pools' names and random_steering
 * weights.  "mask" has the bit of each entry listed.
 */
typedef struct {
    ngx_cflb_lb_pool_t      **entries;
    ngx_uint_t                n;
    ngx_int_t                 policy;        /* cflb_policy_e */
    cflb_member_t            *members;
    cflb_set_t                set;
    uint64_t                  mask;
    cflb_least_tree_t        *tree;          /* least_*: in the zone */
    cflb_least_tree_t        *draw;          /* the tree, if owned */
    ngx_cflb_sh_tree_t       *tree_sh;
    uint32_t                 *map;           /* tree slot -> position */
    uint32_t                 *pick_map;      /* map, or NULL: the same */
} ngx_cflb_pools_t;


/* one key of country_pools: a country and its pool list */
typedef struct {
    uint16_t                  country;       /* cflb_country_parse() */
    ngx_cflb_pools_t         *pools;
} ngx_cflb_country_pools_t;


/*
 * Where geo steering looks for a pool list, first defined first: this
 * node's PoP, the client's country, the client's region; then the
 * view's pools.  Each list is in failover order.
 */
typedef struct {
    ngx_cflb_pools_t         *pop;           /* pop_pools[this PoP] */
    ngx_cflb_country_pools_t *countries;     /* by country, sorted */
    ngx_uint_t                ncountries;
    ngx_cflb_pools_t         *regions[CFLB_NREGIONS];
} ngx_cflb_maps_t;


/* location_strategy: where a client is */
enum {
    NGX_CFLB_LOCATE_CLIENT = 0,    /* its address, in cflb_geoip2 */
    NGX_CFLB_LOCATE_POP            /* this node's (cflb_node) */
};

/* location_strategy ... prefer_ecs=: when a DNS query's subnet counts */
enum {
    NGX_CFLB_ECS_PROXIMITY = 0,    /* for proximity steering only */
    NGX_CFLB_ECS_ALWAYS,
    NGX_CFLB_ECS_NEVER,
    NGX_CFLB_ECS_GEO               /* for geo steering only */
};


/* a header (or with cookie set, a request cookie) that keys sessions */
typedef struct {
    ngx_str_t                 name;
    ngx_uint_t                cookie;        /* "cookie:NAME", or "cookie" */
} ngx_cflb_affinity_header_t;


/* session affinity, drain and failover of a load balancer (layer 7) */
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


/*
 * What one decision reads of a load balancer: by default the load
 * balancer as configured (lb->view); a custom rule points a request at
 * a copy with some fields replaced, so nothing else reads these settings
 * from the load balancer itself.
 */
typedef struct {
    ngx_cflb_lb_t            *lb;            /* name, entries, peers */
    ngx_cflb_pools_t         *pools;         /* default_pools, steering */
    ngx_cflb_lb_pool_t       *fallback;
    ngx_cflb_affinity_t      *affinity;      /* also drain, failover */
    ngx_cflb_maps_t          *maps;          /* geo steering, or NULL */
    ngx_uint_t                locate;        /* NGX_CFLB_LOCATE_* */
    ngx_uint_t                prefer_ecs;    /* NGX_CFLB_ECS_* */

    /* DNS-only: the TTL of the answers (ttl), sec */
    uint32_t                  dns_ttl;
} ngx_cflb_view_t;


#if (NGX_SSL)

typedef struct {
    ngx_ssl_session_t        *ssl_session;
} ngx_cflb_peer_ssl_t;

#endif


struct ngx_cflb_lb_s {
    ngx_str_t                 name;
    uint64_t                  id;            /* keys its header sessions */
    ngx_cflb_conf_t          *conf;

    /* as configured, resolved by ngx_cflb_lb_init() */
    ngx_array_t               pool_names;    /* ngx_str_t */
    ngx_str_t                 fallback_name;
    ngx_array_t               weights;       /* ngx_cflb_pool_weight_t */
    ngx_uint_t                default_weight;
    ngx_int_t                 steering;      /* cflb_policy_e */
    ngx_cflb_affinity_t       affinity;
    ngx_array_t              *maps;          /* ngx_cflb_map_t, as read */
    ngx_uint_t                locate;        /* location_strategy */
    ngx_uint_t                prefer_ecs;

    /* every pool the load balancer may reach, and their endpoints */
    ngx_cflb_lb_pool_t       *entries;
    ngx_uint_t                nentries;
    ngx_uint_t                npeers;
    ngx_cflb_pools_t          pools;
    ngx_cflb_view_t           view;          /* as configured */
    ngx_cflb_rules_t         *rules;         /* custom rules, or NULL */
#if (NGX_SSL)
    ngx_cflb_peer_ssl_t      *ssl;           /* npeers, this worker's */
#endif

    u_char                   *file;
    ngx_uint_t                line;
    size_t                    sess_size;     /* of a decision's sess */

    /* DNS-only: hostname, ttl, enabled (ngx_cflb_dns_zone.c), or NULL */
    ngx_cflb_dns_lb_t        *dns;

    unsigned                  initialized:1;
};


/* a pool weight named by random_steering, resolved at init */
typedef struct {
    ngx_str_t                 name;
    ngx_uint_t                weight;
} ngx_cflb_pool_weight_t;


/* cflb_node: this nginx's own place (every part optional) */
typedef struct {
    ngx_str_t                 pop;           /* empty: none */
    cflb_location_t           location;      /* region, coordinates */
    cflb_geo_vec_t            where;         /* if location has coords */
} ngx_cflb_node_t;


/* per-subsystem main conf; the http and stream modules each have one */
struct ngx_cflb_conf_s {
    ngx_array_t               pools;         /* ngx_cflb_pool_t * */
    ngx_array_t               lbs;           /* ngx_cflb_lb_t * */
    ngx_cycle_t              *cycle;         /* the one it configures */
    ngx_array_t               monitors;      /* ngx_cflb_monitor_t * */
    cflb_allocator_t          alloc;         /* cf->pool, for the indexes */
    cflb_names_t              pool_index;    /* pools by name */
    cflb_names_t              lb_index;      /* lbs by name, caseless */
    ngx_shm_zone_t           *shm_zone;
    ngx_module_t             *module;        /* the subsystem module */
    ngx_uint_t                mode;          /* CFLB_MODE_L7 or _L4 */
    ngx_uint_t                default_port;  /* 0: the client's port */
    ngx_uint_t                debug;         /* NGX_LOG_DEBUG_HTTP etc. */
    ngx_flag_t                http;          /* layer 7: requests, Host */
    ngx_str_t                 key;           /* cflb_affinity_key, or empty */
    ngx_uint_t                affinity;      /* some lb uses tokens */
    ngx_uint_t                sessions;      /* some lb uses header ones */
    ngx_flag_t                trace;         /* $cflb_trace is used */
    ngx_cflb_notify_t        *notify;        /* cflb_notify, or NULL */
    ngx_str_t                 state_file;    /* cflb_state_file, or empty */
    ngx_array_t              *state;         /* ngx_cflb_state_t, read */
    ngx_str_t                 state_corrupt; /* where it was moved */
    ngx_core_conf_t          *core;          /* the workers' user */
    ngx_array_t              *apis;          /* http: cflb_api locations */
    ngx_array_t              *geo;           /* ngx_cflb_geo_db_t *, or NULL */
    ngx_cflb_node_t           node;
    ngx_cflb_rule_conf_t     *rule_conf;     /* fields and regex of rules */

    /* stream: DNS-only zones and hostnames (ngx_cflb_dns_zone.c), or NULL */
    ngx_cflb_dns_conf_t      *dns;

    ngx_cflb_cluster_t       *cluster;       /* cflb_cluster, or NULL */

    ngx_slab_pool_t          *shpool;
    ngx_cflb_sh_t            *sh;
    ngx_uint_t                generation;    /* of this configuration */
    ngx_cflb_sh_gen_t        *gen;           /* its tables in the zone */
    uint32_t                 *active;        /* this worker's in-flight
                                                counts, by endpoint index */
    ngx_uint_t                nendpoints;
    ngx_uint_t                trees;         /* least-load trees it uses */
    ngx_uint_t                trees_seen;    /* sh->changes synced */
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


#endif /* _NGX_CFLB_MODEL_H_INCLUDED_ */
