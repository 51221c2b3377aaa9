
/*
 * What the files of the http module share: the module and its peer data,
 * session affinity as http carries it (the __cflb cookie, session
 * headers, Set-Cookie), whole answers (cflb_status, the dashboard, the
 * runtime API); ngx_http_cflb_compat.h knows nginx versions apart.
 */

#ifndef _NGX_HTTP_CFLB_H_INCLUDED_
#define _NGX_HTTP_CFLB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_cflb_peer.h"
#include "ngx_cflb_rules.h"
#include "ngx_cflb_trace.h"
#include "ngx_http_cflb_compat.h"


extern ngx_module_t  ngx_http_cflb_module;


/* a request's balancing state: the module's context of the request */
typedef struct {
    ngx_cflb_peer_data_t      pd;            /* must be first */
    ngx_http_request_t       *r;
    ngx_buf_t                *header;        /* as the proxy module made it */
    uint64_t                  hkey[2];       /* header session key */
    unsigned                  has_hkey:1;
    unsigned                  ruled:1;       /* ngx_http_cflb_ruled_t */
} ngx_http_cflb_peer_data_t;


/*
 * The context of a request whose rules ran before init_peer (a load
 * balancer with a fixed_response): its peer data, and what the rules
 * made, for init_peer.  Apart, so that the peer data of every other
 * request keeps its size.
 */
typedef struct {
    ngx_http_cflb_peer_data_t hpd;           /* must be first */
    ngx_cflb_lb_t            *lb;            /* whose rules ran */
    ngx_cflb_rules_outcome_t  rules;
} ngx_http_cflb_ruled_t;


/* ngx_http_cflb_affinity.c */

/* the request's session, read from its cookie or headers (init_peer) */
void ngx_http_cflb_affinity(ngx_http_request_t *r,
    ngx_http_cflb_peer_data_t *hpd);

/* the header filter that starts a new session in the response */
ngx_int_t ngx_http_cflb_affinity_init(ngx_conf_t *cf);


/* ngx_http_cflb_rules.c: custom rules, fields and fixed responses */

/* the fields of http rules, and the regex engine (create_main_conf) */
ngx_cflb_rule_conf_t *ngx_http_cflb_rule_conf(ngx_conf_t *cf);

/* the modules whose pass directives may name a load balancer */
ngx_int_t ngx_http_cflb_rules_passes(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);

/*
 * The load balancer the request's location proxies to (proxy_pass,
 * grpc_pass, fastcgi_pass, uwsgi_pass, scgi_pass without variables), or
 * NULL.
 */
ngx_cflb_lb_t *ngx_http_cflb_location_lb(ngx_http_request_t *r,
    ngx_cflb_rule_conf_t *rc);

/*
 * ngx_http_cflb_rules_early() runs the rules of lb before the upstream
 * starts (precontent phase), once per request: a fixed_response answers
 * (the return code is the handler's), or *rdp is what they made, also
 * the request's context for init_peer (NULL if they ran already for
 * another load balancer).  NGX_DECLINED: go on.
 */
ngx_int_t ngx_http_cflb_rules_early(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_ruled_t **rdp);

/*
 * ngx_http_cflb_rules_peer() gives the decision of hpd (from init_peer)
 * the view the rules of lb make: those the precontent phase ran (hpd is
 * then an ngx_http_cflb_ruled_t), or runs them now.
 */
ngx_int_t ngx_http_cflb_rules_peer(ngx_http_request_t *r, ngx_cflb_lb_t *lb,
    ngx_http_cflb_peer_data_t *hpd);

/* the peer data of the request's context for lb, or NULL (init_peer) */
#define ngx_http_cflb_ruled_for(hpd, lb)                                      \
    (((hpd) && (hpd)->ruled && (hpd)->pd.d.view == NULL                       \
      && ((ngx_http_cflb_ruled_t *) (hpd))->lb == (lb)) ? (hpd) : NULL)


/* ngx_http_cflb_phase.c: the precontent handler, fixed responses, 530 */

/* the handler, if some load balancer exists */
ngx_int_t ngx_http_cflb_phase_init(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);


/* ngx_http_cflb_status.c */

/* cflb_status and cflb_dashboard: the location's content is cmd->post */
char *ngx_http_cflb_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_cflb_status_handler(ngx_http_request_t *r);

/* answers status with the buffer b, the whole body, as Content-Type type */
ngx_int_t ngx_http_cflb_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b);

/* adds the response header key: value (both static); NGX_ERROR if no memory */
ngx_int_t ngx_http_cflb_add_header(ngx_http_request_t *r,
    const ngx_str_t *key, const ngx_str_t *value);


/* ngx_http_cflb_dashboard.c: the page, its assets, the status JSON */
typedef struct {
    ngx_str_t                 name;          /* ?asset=NAME */
    ngx_str_t                 type;          /* its Content-Type */
    ngx_str_t                 data;
} ngx_http_cflb_asset_t;

/* the assets, index.html first, ended by an empty name (generated) */
extern const ngx_http_cflb_asset_t  ngx_http_cflb_dashboard_assets[];

ngx_int_t ngx_http_cflb_dashboard_handler(ngx_http_request_t *r);


/* ngx_http_cflb_api.c: the runtime API; its location conf */
typedef struct {
    ngx_str_t                 prefix;        /* API paths follow it */
    void                    **loc_conf;      /* the location's, merged */
    u_char                   *file;
    ngx_uint_t                line;

    /* the load balancer it proxies to, found at its first request */
    ngx_cflb_lb_t            *lb;

    unsigned                  api:1;
    unsigned                  guarded:1;     /* allow/deny or auth on it */
    unsigned                  lb_known:1;    /* "lb" is found, or NULL */
} ngx_http_cflb_loc_conf_t;

char *ngx_http_cflb_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void *ngx_http_cflb_create_loc_conf(ngx_conf_t *cf);

/*
 * ngx_http_cflb_api_check() runs at postconfiguration, after the merge:
 * an API location with no access control refuses everyone, and says so.
 */
ngx_int_t ngx_http_cflb_api_check(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);


#endif /* _NGX_HTTP_CFLB_H_INCLUDED_ */
