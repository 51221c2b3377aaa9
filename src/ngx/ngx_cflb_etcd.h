
/*
 * One exchange with a member of etcd through its v3 JSON gateway (HTTP/1.1
 * POST, a JSON body): a single answer, or the stream of messages of a
 * watch.  Non-blocking, over the module's own connections
 * (ngx_cflb_conn.c), with the module's HTTP response parser.
 */

#ifndef _NGX_CFLB_ETCD_H_INCLUDED_
#define _NGX_CFLB_ETCD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "cflb_http_resp.h"
#include "cflb_etcd.h"


typedef struct ngx_cflb_etcd_s  ngx_cflb_etcd_t;

/* ngx_cflb_etcd_t.message returns NGX_OK, or NGX_DONE once it closed e */
typedef ngx_int_t (*ngx_cflb_etcd_message_pt)(ngx_cflb_etcd_t *e);
typedef void (*ngx_cflb_etcd_done_pt)(ngx_cflb_etcd_t *e);


/* a member of etcd as cflb_cluster names it, resolved at start */
typedef struct {
    ngx_str_t                 url;
    ngx_addr_t                addr;
    ngx_str_t                 host;          /* host[:port], for Host */
} ngx_cflb_etcd_member_t;


struct ngx_cflb_etcd_s {
    /* set by the caller before ngx_cflb_etcd_start() */
    ngx_cflb_etcd_member_t   *member;
    ngx_str_t                 path;          /* "/v3/kv/range" */
    ngx_str_t                 body;          /* JSON */
    ngx_msec_t                timeout;       /* a watch: to its head */
    ngx_cflb_etcd_message_pt  message;       /* a watch, else NULL */
    ngx_cflb_etcd_done_pt     done;
    void                     *data;
    ngx_log_t                *log;

    /*
     * What done() finds: rc NGX_OK with the status and, unless a watch
     * answered 200, the whole body in msg and len; or NGX_ERROR with err
     * (and errnum) saying what failed.  message() finds one message of
     * a watch in msg and len.
     */
    ngx_int_t                 rc;
    ngx_uint_t                status;
    u_char                   *msg;
    size_t                    len;
    const char               *err;
    ngx_err_t                 errnum;

    /* private */
    ngx_pool_t               *pool;
    ngx_peer_connection_t     pc;
    ngx_buf_t                *out;
    ngx_buf_t                *in;
    ngx_buf_t                *body_in;       /* a single answer's body */
    uint64_t                  left;          /* of a Content-Length body */
    cflb_http_resp_t          resp;
    cflb_etcd_frames_t        frames;
    unsigned                  connected:1;
    unsigned                  head:1;        /* the head was read */
    unsigned                  stream:1;      /* messages, not one body */
};


/*
 * ngx_cflb_etcd_create() makes an exchange in a pool of its own (NULL:
 * no memory); ngx_cflb_etcd_close() ends it at any time, from done() and
 * message() too, and frees it: nothing is called after that.
 * ngx_cflb_etcd_start() connects and sends: NGX_OK, and done() will be
 * called once, later, never from within start; or NGX_ERROR with err
 * set, and nothing will be called.
 */
ngx_cflb_etcd_t *ngx_cflb_etcd_create(ngx_log_t *log);
ngx_int_t ngx_cflb_etcd_start(ngx_cflb_etcd_t *e);
void ngx_cflb_etcd_close(ngx_cflb_etcd_t *e);

/*
 * ngx_cflb_etcd_error() writes what went wrong with an exchange that
 * done() reported, for logs and API answers: the member, then the
 * failure, or the status with etcd's message (m, parsed from the body,
 * may be NULL).  Returns the end of what it wrote, at most last.
 */
u_char *ngx_cflb_etcd_error(u_char *p, u_char *last, ngx_cflb_etcd_t *e,
    cflb_etcd_msg_t *m);


#endif /* _NGX_CFLB_ETCD_H_INCLUDED_ */
