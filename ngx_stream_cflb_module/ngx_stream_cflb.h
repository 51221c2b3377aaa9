
/*
 * What the files of the stream module share: the module, and the custom
 * rules of its load balancers (ngx_stream_cflb_rules.c).
 */

#ifndef _NGX_STREAM_CFLB_H_INCLUDED_
#define _NGX_STREAM_CFLB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_cflb_peer.h"
#include "ngx_cflb_rules.h"


extern ngx_module_t  ngx_stream_cflb_module;


/* the fields of stream rules, and the regex engine (create_main_conf) */
ngx_cflb_rule_conf_t *ngx_stream_cflb_rule_conf(ngx_conf_t *cf);

/*
 * ngx_stream_cflb_rules() runs the rules of lb for the session s (from
 * init_peer): d, just set up, takes the view they made.  NGX_ERROR only
 * when out of memory.
 */
ngx_int_t ngx_stream_cflb_rules(ngx_stream_session_t *s, ngx_cflb_lb_t *lb,
    ngx_cflb_decision_t *d);


#endif /* _NGX_STREAM_CFLB_H_INCLUDED_ */
