
/*
 * The DNS-only responder's input and output: the cflb_dns directive (a
 * stream server's content handler), and three ways a query arrives.
 *
 *  - UDP, directly: nginx's UDP path makes a connection, a pool and a
 *    stream session for every datagram, which costs more than answering
 *    it.  So each worker takes the read handler of its listening UDP
 *    sockets that only a cflb_dns server uses, reads datagrams in
 *    batches (recvmmsg), answers each in its own buffer and sends the
 *    batch back (sendmmsg), replying from the address the query was sent
 *    to.  Stream phases (access, limit_conn, the access log) do not run.
 *  - UDP as a stream session per datagram ("direct=off", or a socket
 *    shared with other servers): every phase runs, the access log too.
 *  - TCP (RFC 7766): a session per connection, each message framed by
 *    its length, answered in order, idle connections closed.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_stream.h>

#include "ngx_stream_cflb_dns.h"


/* datagrams read at once, and batches before the event loop runs again */
#ifndef NGX_STREAM_CFLB_DNS_BATCH
#define NGX_STREAM_CFLB_DNS_BATCH   32
#endif
#define NGX_STREAM_CFLB_DNS_ROUNDS  8

/* a datagram's buffer: the query, then its answer in place */
#define NGX_STREAM_CFLB_DNS_BUF     4096

/* a TCP message: its length, then at most 65535 bytes (RFC 1035 4.2.2) */
#define NGX_STREAM_CFLB_DNS_TCP     (2 + CFLB_DNS_TCP_MAX)

#define NGX_STREAM_CFLB_DNS_CMSG                                              \
    CMSG_SPACE(ngx_max(sizeof(struct in_pktinfo), sizeof(struct in6_pktinfo)))


extern ngx_module_t  ngx_stream_cflb_module;


/* a worker's: the direct path's query state, the TCP answers' scratch */
typedef struct {
    ngx_stream_cflb_dns_ctx_t        ctx;
    u_char                          *tcp_out;
} ngx_stream_cflb_dns_worker_t;


/* a cflb_dns session: the latest query (first, for the variables) */
typedef struct {
    ngx_stream_cflb_dns_ctx_t        q;            /* must be first */
    ngx_stream_cflb_dns_srv_conf_t  *dscf;
    ngx_buf_t                       *in;           /* TCP: read, unframed */
    u_char                          *out;          /* TCP: unsent answer */
    size_t                           out_pos;
    size_t                           out_len;
    unsigned                         eof:1;
} ngx_stream_cflb_dns_session_t;


#if (NGX_LINUX)

/* a listening UDP socket answered directly, in one worker */
typedef struct {
    ngx_stream_cflb_dns_srv_conf_t  *dscf;
    ngx_stream_cflb_dns_worker_t    *worker;
    struct mmsghdr                   in[NGX_STREAM_CFLB_DNS_BATCH];
    struct mmsghdr                   out[NGX_STREAM_CFLB_DNS_BATCH];
    struct iovec                     iov[NGX_STREAM_CFLB_DNS_BATCH];
    struct iovec                     oiov[NGX_STREAM_CFLB_DNS_BATCH];
    ngx_sockaddr_t                   addr[NGX_STREAM_CFLB_DNS_BATCH];
    u_char                           cmsg[NGX_STREAM_CFLB_DNS_BATCH]
                                         [NGX_STREAM_CFLB_DNS_CMSG];
    u_char                           ocmsg[NGX_STREAM_CFLB_DNS_BATCH]
                                          [NGX_STREAM_CFLB_DNS_CMSG];
    u_char                           buf[NGX_STREAM_CFLB_DNS_BATCH]
                                        [NGX_STREAM_CFLB_DNS_BUF];
} ngx_stream_cflb_dns_udp_t;


static ngx_int_t ngx_stream_cflb_dns_direct(ngx_cycle_t *cycle,
    ngx_listening_t *ls, ngx_stream_cflb_dns_worker_t *worker);
static void ngx_stream_cflb_dns_udp_read(ngx_event_t *rev);
static ngx_uint_t ngx_stream_cflb_dns_udp_answer(
    ngx_stream_cflb_dns_udp_t *u, ngx_listening_t *ls, ngx_uint_t i,
    ngx_uint_t m, ngx_log_t *log);
static void ngx_stream_cflb_dns_udp_send(ngx_stream_cflb_dns_udp_t *u,
    ngx_connection_t *lc, ngx_uint_t m);

#endif

static char *ngx_stream_cflb_dns_param(ngx_conf_t *cf,
    ngx_stream_cflb_dns_srv_conf_t *dscf, ngx_str_t *param);
static void ngx_stream_cflb_dns_handler(ngx_stream_session_t *s);
static void ngx_stream_cflb_dns_udp_session(ngx_stream_session_t *s,
    ngx_stream_cflb_dns_session_t *ss);
static void ngx_stream_cflb_dns_tcp_read(ngx_event_t *rev);
static ngx_int_t ngx_stream_cflb_dns_tcp_start(ngx_connection_t *c,
    ngx_stream_cflb_dns_session_t *ss);
static ngx_int_t ngx_stream_cflb_dns_tcp_messages(ngx_stream_session_t *s,
    ngx_stream_cflb_dns_session_t *ss);
static ngx_int_t ngx_stream_cflb_dns_tcp_send(ngx_connection_t *c,
    ngx_stream_cflb_dns_session_t *ss, u_char *data, size_t len);
static void ngx_stream_cflb_dns_tcp_write(ngx_event_t *wev);
static ngx_int_t ngx_stream_cflb_dns_tcp_room(ngx_connection_t *c,
    ngx_stream_cflb_dns_session_t *ss, size_t need);


char *
ngx_stream_cflb_dns(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    char                            *rv;
    void                           **servers;
    ngx_str_t                       *value;
    ngx_uint_t                       i;
    ngx_cflb_dns_conf_t             *dns;
    ngx_stream_conf_ctx_t           *ctx;
    ngx_stream_core_srv_conf_t      *cscf;
    ngx_stream_cflb_dns_srv_conf_t  *dscf;

    /*
     * A stream server's conf array has a slot for this module that no
     * server uses (the module has no server conf of its own): a cflb_dns
     * server keeps its settings there.
     */
    ctx = cf->ctx;

    if (ctx->srv_conf[ngx_stream_cflb_module.ctx_index]) {
        return "is duplicate";
    }

    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);

    if (cscf->handler) {
        return "conflicts with another content handler of the server "
               "(proxy_pass, return...)";
    }

    dscf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_cflb_dns_srv_conf_t));
    dns = ngx_cflb_dns_conf(cf, ccf);

    if (dscf == NULL || dns == NULL) {
        return NGX_CONF_ERROR;
    }

    dscf->ccf = ccf;
    dscf->cscf = cscf;
    dscf->edns_size = CFLB_DNS_EDNS_SIZE;
    dscf->tcp_timeout = 10000;
    dscf->direct = 1;
    dscf->file = cf->conf_file->file.name.data;
    dscf->line = cf->conf_file->line;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        rv = ngx_stream_cflb_dns_param(cf, dscf, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    servers = ngx_array_push(&dns->servers);
    if (servers == NULL) {
        return NGX_CONF_ERROR;
    }

    *servers = dscf;

    ctx->srv_conf[ngx_stream_cflb_module.ctx_index] = dscf;
    cscf->handler = ngx_stream_cflb_dns_handler;

    return NGX_CONF_OK;
}


/* direct=on|off, edns_size=N (512..4096), tcp_timeout=T */

static char *
ngx_stream_cflb_dns_param(ngx_conf_t *cf,
    ngx_stream_cflb_dns_srv_conf_t *dscf, ngx_str_t *param)
{
    ngx_int_t   n;
    ngx_str_t   s;

    if (ngx_strcmp(param->data, "direct=on") == 0) {
        dscf->direct = 1;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(param->data, "direct=off") == 0) {
        dscf->direct = 0;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(param->data, "edns_size=", 10) == 0) {
        n = ngx_atoi(param->data + 10, param->len - 10);

        if (n < CFLB_DNS_UDP_MIN || n > NGX_STREAM_CFLB_DNS_BUF) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cflb_dns \"%V\", the size must be "
                               "from %d to %d", param, CFLB_DNS_UDP_MIN,
                               NGX_STREAM_CFLB_DNS_BUF);
            return NGX_CONF_ERROR;
        }

        dscf->edns_size = n;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(param->data, "tcp_timeout=", 12) == 0) {
        s.data = param->data + 12;
        s.len = param->len - 12;

        dscf->tcp_timeout = ngx_parse_time(&s, 0);

        if (dscf->tcp_timeout == (ngx_msec_t) NGX_ERROR
            || dscf->tcp_timeout == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cflb_dns \"%V\"", param);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid cflb_dns parameter \"%V\", expected "
                       "direct=on|off, edns_size= or tcp_timeout=", param);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_stream_cflb_dns_postconfiguration(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t                        i;
    ngx_cflb_dns_conf_t              *dns;
    ngx_stream_cflb_dns_srv_conf_t  **servers;

    dns = ccf->dns;

    if (dns == NULL) {
        return NGX_OK;
    }

    if (ngx_cflb_dns_init(cf, ccf) != NGX_OK) {
        return NGX_ERROR;
    }

    servers = dns->servers.elts;

    for (i = 0; i < dns->servers.nelts; i++) {
        if (servers[i]->cscf->handler != ngx_stream_cflb_dns_handler) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "cflb_dns in %s:%ui conflicts with another content "
                          "handler of the server (proxy_pass, return...)",
                          servers[i]->file, servers[i]->line);
            return NGX_ERROR;
        }

        if (dns->zones.nelts == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "cflb_dns in %s:%ui has no cflb_dns_zone to "
                          "answer for", servers[i]->file, servers[i]->line);
            return NGX_ERROR;
        }

        if (ccf->shm_zone == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "cflb_dns in %s:%ui needs a \"cflb_zone\" for "
                          "its counters", servers[i]->file, servers[i]->line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_stream_cflb_dns_init_process(ngx_cycle_t *cycle)
{
    ngx_cflb_conf_t               *ccf;
    ngx_stream_cflb_dns_worker_t  *worker;
#if (NGX_LINUX)
    ngx_uint_t                     i;
    ngx_listening_t               *ls;
#endif

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    ccf = ngx_stream_cycle_get_module_main_conf(cycle, ngx_stream_cflb_module);

    if (ccf == NULL || ccf->dns == NULL || ccf->dns->servers.nelts == 0) {
        return NGX_OK;
    }

    worker = ngx_pcalloc(cycle->pool, sizeof(ngx_stream_cflb_dns_worker_t));
    if (worker == NULL) {
        return NGX_ERROR;
    }

    worker->tcp_out = ngx_pnalloc(cycle->pool, NGX_STREAM_CFLB_DNS_TCP);

    if (worker->tcp_out == NULL
        || ngx_stream_cflb_dns_ctx_init(&worker->ctx, ccf, cycle->pool, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ccf->dns->worker = worker;

#if (NGX_LINUX)

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ngx_stream_cflb_dns_direct(cycle, &ls[i], worker) != NGX_OK) {
            return NGX_ERROR;
        }
    }

#endif

    return NGX_OK;
}


#if (NGX_LINUX)

/*
 * Take a listening socket of this worker (every worker's without
 * reuseport) that only a cflb_dns server with direct=on listens on:
 * nginx made its read handler ngx_event_recvmsg() in init_process, which
 * ran before ours; lc->data is unused on a listening connection.
 */

static ngx_int_t
ngx_stream_cflb_dns_direct(ngx_cycle_t *cycle, ngx_listening_t *ls,
    ngx_stream_cflb_dns_worker_t *worker)
{
    ngx_uint_t                       i;
    ngx_connection_t                *lc;
    ngx_stream_port_t               *port;
    ngx_stream_addr_conf_t          *addr;
    ngx_stream_cflb_dns_udp_t       *u;
    ngx_stream_cflb_dns_srv_conf_t  *dscf;

    lc = ls->connection;

    if (ls->type != SOCK_DGRAM || lc == NULL
        || ls->handler != ngx_stream_init_connection)
    {
        return NGX_OK;
    }

    port = ls->servers;

    if (port->naddrs != 1) {
        /* servers on several addresses share it: sessions pick one */
        return NGX_OK;
    }

#if (NGX_HAVE_INET6)
    if (ls->sockaddr->sa_family == AF_INET6) {
        addr = &((ngx_stream_in6_addr_t *) port->addrs)[0].conf;

    } else
#endif
    {
        addr = &((ngx_stream_in_addr_t *) port->addrs)[0].conf;
    }

    dscf = addr->ctx->srv_conf[ngx_stream_cflb_module.ctx_index];

    if (dscf == NULL || !dscf->direct) {
        return NGX_OK;
    }

    u = ngx_pcalloc(cycle->pool, sizeof(ngx_stream_cflb_dns_udp_t));
    if (u == NULL) {
        return NGX_ERROR;
    }

    u->dscf = dscf;
    u->worker = worker;

    /* set by ngx_pcalloc(): the rest of the headers */

    for (i = 0; i < NGX_STREAM_CFLB_DNS_BATCH; i++) {
        u->iov[i].iov_base = u->buf[i];
        u->iov[i].iov_len = NGX_STREAM_CFLB_DNS_BUF;

        u->in[i].msg_hdr.msg_iov = &u->iov[i];
        u->in[i].msg_hdr.msg_iovlen = 1;
        u->in[i].msg_hdr.msg_name = &u->addr[i];
        u->in[i].msg_hdr.msg_namelen = sizeof(ngx_sockaddr_t);

        if (ls->wildcard) {
            u->in[i].msg_hdr.msg_control = u->cmsg[i];
            u->in[i].msg_hdr.msg_controllen = NGX_STREAM_CFLB_DNS_CMSG;
        }
    }

    lc->data = u;
    lc->read->handler = ngx_stream_cflb_dns_udp_read;

    ngx_log_debug1(NGX_LOG_DEBUG_STREAM, cycle->log, 0,
                   "cflb dns: answering %V directly", &ls->addr_text);

    return NGX_OK;
}


static void
ngx_stream_cflb_dns_udp_read(ngx_event_t *rev)
{
    int                         n;
    ngx_err_t                   err;
    ngx_uint_t                  i, m, round;
    ngx_listening_t            *ls;
    ngx_connection_t           *lc;
    ngx_stream_cflb_dns_udp_t  *u;

    lc = rev->data;
    u = lc->data;
    ls = lc->listening;

    if (rev->timedout) {
        /* as ngx_event_recvmsg(): accept events were delayed */
        if (ngx_enable_accept_events((ngx_cycle_t *) ngx_cycle) != NGX_OK) {
            return;
        }

        rev->timedout = 0;
    }

    rev->ready = 0;

    /* cf.edge.server_port: the listening socket's, wildcard or not */
    u->worker->ctx.local = ls->sockaddr;

    for (round = 0; round < NGX_STREAM_CFLB_DNS_ROUNDS; round++) {

        n = recvmmsg(lc->fd, u->in, NGX_STREAM_CFLB_DNS_BATCH, MSG_DONTWAIT,
                     NULL);

        if (n == -1) {
            err = ngx_socket_errno;

            if (err == NGX_EAGAIN || err == NGX_EINTR) {
                return;
            }

            ngx_log_error(NGX_LOG_ALERT, rev->log, err, "recvmmsg() failed");
            return;
        }

        m = 0;

        for (i = 0; i < (ngx_uint_t) n; i++) {
            m += ngx_stream_cflb_dns_udp_answer(u, ls, i, m, rev->log);

            /* what recvmmsg() wrote over, for the next call */
            u->in[i].msg_hdr.msg_namelen = sizeof(ngx_sockaddr_t);

            if (ls->wildcard) {
                u->in[i].msg_hdr.msg_controllen = NGX_STREAM_CFLB_DNS_CMSG;
            }
        }

        if (m) {
            ngx_stream_cflb_dns_udp_send(u, lc, m);
        }

        if (n < NGX_STREAM_CFLB_DNS_BATCH) {
            return;
        }
    }

    /* more may be waiting: the level-triggered event says so again */
}


/*
 * Answer datagram i in place and make it the m-th to send; returns 1, or
 * 0 for nothing to send.  A wildcard socket replies from the address the
 * query came to (IP_PKTINFO, IPV6_PKTINFO, as nginx's ngx_sendmsg()).
 */

static ngx_uint_t
ngx_stream_cflb_dns_udp_answer(ngx_stream_cflb_dns_udp_t *u,
    ngx_listening_t *ls, ngx_uint_t i, ngx_uint_t m, ngx_log_t *log)
{
    size_t            len;
    struct msghdr    *in, *out;
    struct cmsghdr   *cmsg, *ocmsg;

    in = &u->in[i].msg_hdr;

    if (in->msg_flags & (MSG_TRUNC|MSG_CTRUNC)) {
        /* larger than any query we answer */
        (void) ngx_atomic_fetch_add(&u->dscf->ccf->sh->dns->queries, 1);
        (void) ngx_atomic_fetch_add(&u->dscf->ccf->sh->dns->dropped, 1);
        return 0;
    }

    len = ngx_stream_cflb_dns_answer(&u->worker->ctx, u->dscf, u->buf[i],
                                     u->in[i].msg_len, u->buf[i],
                                     NGX_STREAM_CFLB_DNS_BUF,
                                     &u->addr[i].sockaddr, 0, log);
    if (len == 0) {
        return 0;
    }

    out = &u->out[m].msg_hdr;
    ngx_memzero(out, sizeof(struct msghdr));

    u->oiov[m].iov_base = u->buf[i];
    u->oiov[m].iov_len = len;
    out->msg_iov = &u->oiov[m];
    out->msg_iovlen = 1;
    out->msg_name = &u->addr[i];
    out->msg_namelen = in->msg_namelen;

    if (!ls->wildcard) {
        return 1;
    }

    for (cmsg = CMSG_FIRSTHDR(in); cmsg; cmsg = CMSG_NXTHDR(in, cmsg)) {

#if (NGX_HAVE_IP_PKTINFO)
        if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO)
        {
            struct in_pktinfo  *pkt;

            out->msg_control = u->ocmsg[m];
            out->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));

            ocmsg = CMSG_FIRSTHDR(out);
            ocmsg->cmsg_level = IPPROTO_IP;
            ocmsg->cmsg_type = IP_PKTINFO;
            ocmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));

            pkt = (struct in_pktinfo *) CMSG_DATA(ocmsg);
            pkt->ipi_spec_dst = ((struct in_pktinfo *) CMSG_DATA(cmsg))
                                    ->ipi_addr;
            pkt->ipi_ifindex = 0;
            pkt->ipi_addr.s_addr = 0;
            break;
        }
#endif

#if (NGX_HAVE_INET6 && NGX_HAVE_IPV6_RECVPKTINFO)
        if (cmsg->cmsg_level == IPPROTO_IPV6
            && cmsg->cmsg_type == IPV6_PKTINFO)
        {
            struct in6_pktinfo  *pkt6;

            out->msg_control = u->ocmsg[m];
            out->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));

            ocmsg = CMSG_FIRSTHDR(out);
            ocmsg->cmsg_level = IPPROTO_IPV6;
            ocmsg->cmsg_type = IPV6_PKTINFO;
            ocmsg->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));

            pkt6 = (struct in6_pktinfo *) CMSG_DATA(ocmsg);
            pkt6->ipi6_addr = ((struct in6_pktinfo *) CMSG_DATA(cmsg))
                                  ->ipi6_addr;
            pkt6->ipi6_ifindex = 0;
            break;
        }
#endif
    }

    return 1;
}


/* the batch's answers; what the socket cannot take now is lost, as UDP */

static void
ngx_stream_cflb_dns_udp_send(ngx_stream_cflb_dns_udp_t *u,
    ngx_connection_t *lc, ngx_uint_t m)
{
    int         n;
    ngx_err_t   err;
    ngx_uint_t  sent;

    sent = 0;

    while (sent < m) {
        n = sendmmsg(lc->fd, &u->out[sent], m - sent, MSG_DONTWAIT);

        if (n > 0) {
            sent += n;
            continue;
        }

        err = ngx_socket_errno;

        if (n == -1 && err == NGX_EINTR) {
            continue;
        }

        if (n == -1 && err != NGX_EAGAIN) {
            /* a reply that cannot go (an address gone): the next may */
            ngx_log_error(NGX_LOG_INFO, lc->log, err, "sendmmsg() failed");
            sent++;
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, lc->log, err,
                      "cflb dns: %ui answers not sent", m - sent);
        (void) ngx_atomic_fetch_add(&u->dscf->ccf->sh->dns->dropped,
                                    m - sent);
        return;
    }
}

#endif


static void
ngx_stream_cflb_dns_handler(ngx_stream_session_t *s)
{
    ngx_connection_t                *c;
    ngx_stream_cflb_dns_session_t   *ss;
    ngx_stream_cflb_dns_srv_conf_t  *dscf;

    c = s->connection;
    dscf = ngx_stream_get_module_srv_conf(s, ngx_stream_cflb_module);

    ss = ngx_pcalloc(c->pool, sizeof(ngx_stream_cflb_dns_session_t));
    if (ss == NULL
        || ngx_stream_cflb_dns_ctx_init(&ss->q, dscf->ccf, c->pool, 1)
           != NGX_OK)
    {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    ss->dscf = dscf;
    ss->q.local = c->listening->sockaddr;
    ngx_stream_set_ctx(s, ss, ngx_stream_cflb_module);

    if (c->type == SOCK_DGRAM) {
        ngx_stream_cflb_dns_udp_session(s, ss);
        return;
    }

    c->log->action = "answering DNS queries";

    c->read->handler = ngx_stream_cflb_dns_tcp_read;
    c->write->handler = ngx_stream_cflb_dns_tcp_write;

    ngx_stream_cflb_dns_tcp_read(c->read);
}


/* one datagram, one answer, one session */

static void
ngx_stream_cflb_dns_udp_session(ngx_stream_session_t *s,
    ngx_stream_cflb_dns_session_t *ss)
{
    u_char            *out;
    size_t             n;
    ngx_buf_t         *b;
    ngx_chain_t        cl;
    ngx_connection_t  *c;

    c = s->connection;

    out = ngx_pnalloc(c->pool, ss->dscf->edns_size);
    if (out == NULL) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    n = ngx_stream_cflb_dns_answer(&ss->q, ss->dscf, c->buffer->pos,
                                   c->buffer->last - c->buffer->pos, out,
                                   ss->dscf->edns_size, c->sockaddr, 0,
                                   c->log);
    if (n == 0) {
        ngx_stream_finalize_session(s, NGX_STREAM_BAD_REQUEST);
        return;
    }

    b = ngx_calloc_buf(c->pool);
    if (b == NULL) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    b->memory = 1;
    b->pos = out;
    b->last = out + n;
    b->last_buf = 1;

    cl.buf = b;
    cl.next = NULL;

    /* the write filter replies from the address the query came to */
    if (ngx_stream_top_filter(s, &cl, 1) == NGX_ERROR) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_stream_finalize_session(s, NGX_STREAM_OK);
}


/*
 * TCP: read what the client sends, answer every whole message in order,
 * stop reading while an answer waits to be sent, close when the client
 * does or after tcp_timeout idle.
 */

static void
ngx_stream_cflb_dns_tcp_read(ngx_event_t *rev)
{
    ssize_t                         n;
    ngx_buf_t                      *in;
    ngx_connection_t               *c;
    ngx_stream_session_t           *s;
    ngx_stream_cflb_dns_session_t  *ss;

    c = rev->data;
    s = c->data;
    ss = ngx_stream_get_module_ctx(s, ngx_stream_cflb_module);

    if (rev->timedout) {
        /* idle: RFC 7766 6.2.3 lets the server close */
        ngx_stream_finalize_session(s, NGX_STREAM_OK);
        return;
    }

    if (ss->in == NULL && ngx_stream_cflb_dns_tcp_start(c, ss) != NGX_OK) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    while (ss->out_pos == ss->out_len && !ss->eof) {

        /* what was read: by the last round, or by a preread phase */
        if (ngx_stream_cflb_dns_tcp_messages(s, ss) != NGX_OK) {
            ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
            return;
        }

        if (ss->out_pos < ss->out_len) {
            break;
        }

        in = ss->in;

        if (in->last == in->end
            && ngx_stream_cflb_dns_tcp_room(c, ss, 0) != NGX_OK)
        {
            ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
            return;
        }

        in = ss->in;
        n = c->recv(c, in->last, in->end - in->last);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            ss->eof = 1;
            break;
        }

        in->last += n;
    }

    if (ss->out_pos < ss->out_len) {
        /* the write handler comes back here once the answer is sent */
        if (rev->timer_set) {
            ngx_del_timer(rev);
        }

        return;
    }

    if (ss->eof) {
        ngx_stream_finalize_session(s, NGX_STREAM_OK);
        return;
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_add_timer(rev, ss->dscf->tcp_timeout);
}


/*
 * The read buffer, with what a preread phase (ssl_preread...) already
 * read of the connection in c->buffer.
 */

static ngx_int_t
ngx_stream_cflb_dns_tcp_start(ngx_connection_t *c,
    ngx_stream_cflb_dns_session_t *ss)
{
    size_t  len;

    len = (c->buffer) ? (size_t) (c->buffer->last - c->buffer->pos) : 0;

    ss->in = ngx_create_temp_buf(c->pool,
                                 ngx_max(len, 2 + CFLB_DNS_UDP_MIN));
    if (ss->in == NULL) {
        return NGX_ERROR;
    }

    if (len) {
        ss->in->last = ngx_cpymem(ss->in->last, c->buffer->pos, len);
        c->buffer->pos = c->buffer->last;
    }

    return NGX_OK;
}


/* answer the whole messages read so far; keep a partial one */

static ngx_int_t
ngx_stream_cflb_dns_tcp_messages(ngx_stream_session_t *s,
    ngx_stream_cflb_dns_session_t *ss)
{
    u_char                        *out;
    size_t                         len, n;
    ngx_buf_t                     *in;
    ngx_connection_t              *c;
    ngx_stream_cflb_dns_worker_t  *worker;

    c = s->connection;
    in = ss->in;
    worker = ss->dscf->ccf->dns->worker;
    out = worker->tcp_out;

    while (cflb_dns_tcp_frame(in->pos, in->last - in->pos, &len) == CFLB_OK)
    {
        n = ngx_stream_cflb_dns_answer(&ss->q, ss->dscf, in->pos + 2, len,
                                       out + 2, CFLB_DNS_TCP_MAX,
                                       c->sockaddr, 1, c->log);
        in->pos += 2 + len;

        if (n == 0) {
            continue;
        }

        cflb_dns_tcp_length(out, n);

        if (ngx_stream_cflb_dns_tcp_send(c, ss, out, n + 2) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ss->out_pos < ss->out_len) {
            break;
        }
    }

    /* what is left of the next message goes to the front */
    len = in->last - in->pos;
    ngx_memmove(in->start, in->pos, len);
    in->pos = in->start;
    in->last = in->start + len;

    if (len >= 2) {
        return ngx_stream_cflb_dns_tcp_room(c, ss, 2 + ((in->pos[0] << 8)
                                                        | in->pos[1]));
    }

    return NGX_OK;
}


/*
 * ss->in holds at least need bytes (0: more than now), up to the largest
 * message; the unread bytes move along.
 */

static ngx_int_t
ngx_stream_cflb_dns_tcp_room(ngx_connection_t *c,
    ngx_stream_cflb_dns_session_t *ss, size_t need)
{
    size_t      size, len;
    ngx_buf_t  *b;

    size = ss->in->end - ss->in->start;

    if (need == 0) {
        need = ngx_min(2 * size, NGX_STREAM_CFLB_DNS_TCP);
    }

    if (need <= size) {
        return NGX_OK;
    }

    b = ngx_create_temp_buf(c->pool, need);
    if (b == NULL) {
        return NGX_ERROR;
    }

    len = ss->in->last - ss->in->pos;
    b->last = ngx_cpymem(b->start, ss->in->pos, len);

    ngx_pfree(c->pool, ss->in->start);
    ss->in = b;

    return NGX_OK;
}


/* send an answer now, or keep what did not go for the write handler */

static ngx_int_t
ngx_stream_cflb_dns_tcp_send(ngx_connection_t *c,
    ngx_stream_cflb_dns_session_t *ss, u_char *data, size_t len)
{
    ssize_t  n;

    n = c->send(c, data, len);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (n == NGX_AGAIN) {
        n = 0;
    }

    if ((size_t) n == len) {
        return NGX_OK;
    }

    if (ss->out == NULL) {
        /* one buffer of the largest message, made the first time */
        ss->out = ngx_pnalloc(c->pool, NGX_STREAM_CFLB_DNS_TCP);
        if (ss->out == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(ss->out, data + n, len - n);
    ss->out_pos = 0;
    ss->out_len = len - n;

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_add_timer(c->write, ss->dscf->tcp_timeout);

    return NGX_OK;
}


static void
ngx_stream_cflb_dns_tcp_write(ngx_event_t *wev)
{
    ssize_t                         n;
    ngx_connection_t               *c;
    ngx_stream_session_t           *s;
    ngx_stream_cflb_dns_session_t  *ss;

    c = wev->data;
    s = c->data;
    ss = ngx_stream_get_module_ctx(s, ngx_stream_cflb_module);

    if (wev->timedout) {
        ngx_connection_error(c, NGX_ETIMEDOUT, "client timed out");
        ngx_stream_finalize_session(s, NGX_STREAM_OK);
        return;
    }

    if (ss->out_pos == ss->out_len) {
        return;
    }

    n = c->send(c, ss->out + ss->out_pos, ss->out_len - ss->out_pos);

    if (n == NGX_ERROR) {
        ngx_stream_finalize_session(s, NGX_STREAM_OK);
        return;
    }

    if (n > 0) {
        ss->out_pos += n;
    }

    if (ss->out_pos < ss->out_len) {
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_stream_finalize_session(s,
                                        NGX_STREAM_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    ss->out_pos = 0;
    ss->out_len = 0;

    /* the messages already read, then more */
    ngx_stream_cflb_dns_tcp_read(c->read);
}
