
/*
 * DNS-only mode, the part both modules link: cflb_dns_zone blocks, the
 * hostname, ttl and enabled of a load balancer, the name table the
 * responder looks queries up in, what each endpoint is answered as, and
 * the counters in the cflb zone with their status and Prometheus forms
 * (the http module renders the stream zone's status too).  The responder
 * itself is in the stream module: ngx_stream_cflb_dns*.c.
 */

#ifndef _NGX_CFLB_DNS_ZONE_H_INCLUDED_
#define _NGX_CFLB_DNS_ZONE_H_INCLUDED_


#include "ngx_cflb_model.h"
#include "ngx_cflb_shm.h"
#include "cflb_dns.h"
#include "cflb_dns_table.h"


#define NGX_CFLB_DNS_TTL          30      /* the product's default, sec */
#define NGX_CFLB_DNS_ZONE_TTL     3600    /* of SOA and NS records, sec */

/* the longest chain of CNAMEs to load balancers followed in an answer */
#define NGX_CFLB_DNS_CHASE        8


/* a cflb_dns_zone block: the zone's apex records */
typedef struct {
    ngx_str_t                 name;          /* as configured */
    u_char                   *wire;
    size_t                    wire_len;
    cflb_dns_soa_t            soa;           /* mname, rname: wire */
    ngx_array_t               ns;            /* u_char *, wire names */
    ngx_uint_t                ttl;           /* of SOA and NS, sec */
    u_char                   *file;
    ngx_uint_t                line;
} ngx_cflb_dns_zone_t;


/* what the name table maps a name to */
typedef struct {
    ngx_cflb_dns_zone_t      *zone;          /* the deepest holding it */
    ngx_cflb_lb_t            *lb;            /* of this hostname, or NULL */
    unsigned                  apex:1;        /* the zone's own name */
    unsigned                  below:1;       /* hostnames below it */
} ngx_cflb_dns_name_t;


/* how an endpoint is answered (ngx_cflb_dns_rr_t.type) */
enum {
    NGX_CFLB_DNS_RR_NONE = 0,                /* a UNIX socket: never */
    NGX_CFLB_DNS_RR_A,
    NGX_CFLB_DNS_RR_AAAA,
    NGX_CFLB_DNS_RR_CNAME                    /* a hostname endpoint */
};

typedef struct {
    u_char                   *data;          /* 4 or 16 bytes, or a name */
    ngx_str_t                 text;          /* address or target as text */
    ngx_uint_t                type;          /* NGX_CFLB_DNS_RR_* */
} ngx_cflb_dns_rr_t;


/*
 * Counters of every query the responder got, by the response code it
 * sent (NODATA is a NOERROR without an answer record), in the zone.
 */
enum {
    NGX_CFLB_DNS_NOERROR = 0,
    NGX_CFLB_DNS_FORMERR,
    NGX_CFLB_DNS_SERVFAIL,
    NGX_CFLB_DNS_NXDOMAIN,
    NGX_CFLB_DNS_NOTIMP,
    NGX_CFLB_DNS_REFUSED,
    NGX_CFLB_DNS_BADVERS,
    NGX_CFLB_DNS_NRCODES
};

struct ngx_cflb_sh_dns_s {
    ngx_atomic_t              queries;       /* datagrams and TCP messages */
    ngx_atomic_t              tcp;           /* of them over TCP */
    ngx_atomic_t              rcodes[NGX_CFLB_DNS_NRCODES];
    ngx_atomic_t              nodata;        /* NOERROR, no answer */
    ngx_atomic_t              truncated;     /* TC sent */
    ngx_atomic_t              dropped;       /* not a query: no answer */
    ngx_rbtree_t              tree;          /* ngx_cflb_sh_dns_lb_t */
    ngx_rbtree_node_t         sentinel;
    ngx_queue_t               lbs;
};


/*
 * The counters of one load balancer's hostname, found by its name and
 * the names of its pools and endpoints, so that a reload keeps them
 * unless the pools changed.  counts[] holds, per entry of the load
 * balancer, the answers its pool gave, then per peer index the answers
 * that carried the endpoint.
 */
typedef struct {
    ngx_str_node_t            sn;
    ngx_queue_t               queue;
    ngx_uint_t                generation;
    ngx_atomic_t              queries;
    ngx_atomic_t              answers;       /* NOERROR with records */
    ngx_atomic_t              nodata;        /* nothing could serve */
    ngx_atomic_t              nxdomain;      /* disabled */
    ngx_atomic_t              counts[1];
} ngx_cflb_sh_dns_lb_t;


/* a load balancer's DNS side (lb->dns) */
struct ngx_cflb_dns_lb_s {
    ngx_str_t                 hostname;      /* as configured, or empty */
    u_char                   *wire;
    size_t                    wire_len;
    ngx_uint_t                ttl;           /* sec */
    ngx_flag_t                enabled;
    ngx_cflb_dns_zone_t      *zone;
    ngx_cflb_dns_rr_t        *rrs;           /* by peer index */
    ngx_cflb_sh_dns_lb_t     *sh;
    ngx_flag_t                keyed;         /* a pool hashes the client */
    u_char                   *file;          /* of hostname */
    ngx_uint_t                line;
};


/* the DNS-only part of the stream conf (ccf->dns) */
struct ngx_cflb_dns_conf_s {
    ngx_array_t               zones;         /* ngx_cflb_dns_zone_t * */
    ngx_array_t               lbs;           /* ngx_cflb_lb_t *, hostnames */
    cflb_dns_table_t          names;         /* to ngx_cflb_dns_name_t */
    ngx_array_t               servers;       /* cflb_dns servers' confs */
    ngx_uint_t                max_peers;     /* of the lbs with hostnames */
    size_t                    max_sess;
    uint32_t                  serial;        /* default SOA serial */
    void                     *worker;        /* the responder's, per worker */
};


/*
 * ngx_cflb_dns_conf() is ccf->dns, made the first time a DNS directive
 * asks; NULL when out of memory.
 */
ngx_cflb_dns_conf_t *ngx_cflb_dns_conf(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/* cflb_dns_zone NAME { soa ...; ns ...; ttl ...; } (stream main) */
char *ngx_cflb_dns_zone_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * hostname, ttl and enabled inside cflb_lb: the load balancer's DNS-only
 * settings.  http{} refuses them with the reason.
 */
char *ngx_cflb_dns_lb_hostname(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_cflb_dns_lb_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_cflb_dns_lb_enabled(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * ngx_cflb_dns_init() finishes the DNS-only configuration of the stream
 * conf (its postconfiguration, once every load balancer is initialized):
 * each hostname is placed in its zone, duplicates refused, the name table
 * built, and each endpoint of a DNS load balancer classified (A, AAAA or
 * CNAME).  NGX_OK, or NGX_ERROR after logging where and why.
 */
ngx_int_t ngx_cflb_dns_init(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/*
 * The zone's DNS counters: ngx_cflb_dns_zone_bind() finds or makes the
 * records of this configuration (zone init, mutex held; NGX_ERROR: the
 * zone is full); ngx_cflb_dns_zone_collect() frees the records no
 * configuration older than "oldest" (the oldest a live worker runs)
 * uses.
 */
ngx_int_t ngx_cflb_dns_zone_bind(ngx_cflb_conf_t *ccf);
void ngx_cflb_dns_zone_collect(ngx_cflb_conf_t *ccf, ngx_uint_t oldest);

/*
 * The status document's DNS parts: ngx_cflb_dns_status_lb() appends
 * ',"dns":{...}' to a load balancer with a hostname, and
 * ngx_cflb_dns_status() ',"dns":{...}' (the responder's counters and
 * zones) to a conf with DNS; ngx_cflb_dns_status_size() bounds both for
 * a conf.
 */
u_char *ngx_cflb_dns_status_lb(u_char *p, ngx_cflb_lb_t *lb);
u_char *ngx_cflb_dns_status(u_char *p, ngx_cflb_conf_t *ccf);
size_t ngx_cflb_dns_status_size(ngx_cflb_conf_t *ccf);

/*
 * ngx_cflb_dns_prometheus() writes the DNS metric families of the stream
 * conf (NULL: nothing) at p, within ngx_cflb_dns_prometheus_size().
 */
u_char *ngx_cflb_dns_prometheus(u_char *p, ngx_cflb_conf_t *ccf);
size_t ngx_cflb_dns_prometheus_size(ngx_cflb_conf_t *ccf);

/* the counters of the answers of an entry, or carrying a peer */
#define ngx_cflb_dns_pool_count(dl, entry)  (&(dl)->sh->counts[(entry)])
#define ngx_cflb_dns_peer_count(lb, peer)                                     \
    (&(lb)->dns->sh->counts[(lb)->nentries + (peer)])


#endif /* _NGX_CFLB_DNS_ZONE_H_INCLUDED_ */
