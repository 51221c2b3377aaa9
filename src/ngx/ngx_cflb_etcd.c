
/*
 * One exchange with an etcd member through its v3 JSON gateway: POST a
 * JSON body over a connection of its own ("Connection: close"), then
 * read either one answer (Content-Length, chunked, or to the close) or,
 * for a watch that etcd accepted, the messages of its chunked stream, one
 * JSON document a line, for as long as the stream lasts.  Everything is
 * non-blocking; a watch has a deadline only until its head arrives.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_cflb_etcd.h"
#include "ngx_cflb_conn.h"


#define NGX_CFLB_ETCD_HEAD       8192       /* the largest answer head */
#define NGX_CFLB_ETCD_READ       16384      /* one read */
#define NGX_CFLB_ETCD_BODY       (4 << 20)  /* the largest single answer */
#define NGX_CFLB_ETCD_MESSAGE    (1 << 20)  /* the largest watch message */

#define NGX_CFLB_ETCD_HEADERS                                                 \
    "User-Agent: cflb/1.0\r\n"                                                \
    "Content-Type: application/json\r\n"                                      \
    "Connection: close\r\n"


static void ngx_cflb_etcd_handler(ngx_event_t *ev);
static ngx_int_t ngx_cflb_etcd_read(ngx_cflb_etcd_t *e);
static ngx_int_t ngx_cflb_etcd_head(ngx_cflb_etcd_t *e, u_char **p,
    size_t *n);
static ngx_int_t ngx_cflb_etcd_body(ngx_cflb_etcd_t *e, u_char *p,
    size_t n);
static ngx_int_t ngx_cflb_etcd_take(ngx_cflb_etcd_t *e, u_char *p,
    size_t n);
static void ngx_cflb_etcd_finish(ngx_cflb_etcd_t *e, ngx_int_t rc,
    ngx_err_t err, const char *what);


ngx_cflb_etcd_t *
ngx_cflb_etcd_create(ngx_log_t *log)
{
    ngx_pool_t       *pool;
    ngx_cflb_etcd_t  *e;

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        return NULL;
    }

    e = ngx_pcalloc(pool, sizeof(ngx_cflb_etcd_t));
    if (e == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     e->message = NULL;
     *     e->pc.connection = NULL;
     *     e->head = 0;
     */

    e->pool = pool;
    e->log = log;

    return e;
}


ngx_int_t
ngx_cflb_etcd_start(ngx_cflb_etcd_t *e)
{
    size_t                   len;
    ngx_int_t                rc;
    ngx_cflb_etcd_member_t  *m;

    m = e->member;

    len = sizeof("POST  HTTP/1.1\r\nHost: \r\n") - 1 + e->path.len
          + m->host.len + sizeof(NGX_CFLB_ETCD_HEADERS) - 1
          + sizeof("Content-Length: \r\n\r\n") - 1 + NGX_SIZE_T_LEN
          + e->body.len;

    e->out = ngx_create_temp_buf(e->pool, len);
    e->in = ngx_create_temp_buf(e->pool, NGX_CFLB_ETCD_READ);

    if (e->out == NULL || e->in == NULL) {
        e->err = "out of memory";
        return NGX_ERROR;
    }

    e->out->last = ngx_sprintf(e->out->last,
                               "POST %V HTTP/1.1\r\nHost: %V\r\n"
                               NGX_CFLB_ETCD_HEADERS
                               "Content-Length: %uz\r\n\r\n",
                               &e->path, &m->host, e->body.len);
    e->out->last = ngx_cpymem(e->out->last, e->body.data, e->body.len);

    cflb_http_resp_init(&e->resp);

    e->pc.sockaddr = m->addr.sockaddr;
    e->pc.socklen = m->addr.socklen;
    e->pc.name = &m->url;
    e->pc.log = e->log;
    e->pc.log_error = NGX_ERROR_INFO;

    rc = ngx_cflb_connect(&e->pc, e, e->pool, ngx_cflb_etcd_handler,
                          e->timeout);

    if (rc == NGX_ERROR) {
        e->err = "connect() failed";
        e->errnum = ngx_socket_errno;
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        /* connected at once: go on from the event loop, not from here */
        ngx_post_event(e->pc.connection->write, &ngx_posted_events);
    }

    return NGX_OK;
}


void
ngx_cflb_etcd_close(ngx_cflb_etcd_t *e)
{
    if (e->pc.connection) {
        ngx_close_connection(e->pc.connection);
        e->pc.connection = NULL;
    }

    ngx_destroy_pool(e->pool);
}


static void
ngx_cflb_etcd_handler(ngx_event_t *ev)
{
    ngx_int_t          rc;
    ngx_err_t          err;
    ngx_connection_t  *c;
    ngx_cflb_etcd_t   *e;

    c = ev->data;
    e = c->data;

    if (ev->timedout) {
        ngx_cflb_etcd_finish(e, NGX_ERROR, NGX_ETIMEDOUT, "timed out");
        return;
    }

    if (!e->connected) {
        rc = ngx_cflb_connected(c, &err);

        if (rc == NGX_ERROR) {
            ngx_cflb_etcd_finish(e, NGX_ERROR, err, "connect() failed");
            return;
        }

        e->connected = (rc == NGX_OK);
    }

    if (e->connected) {
        if (ngx_cflb_send(c, e->out) == NGX_ERROR) {
            ngx_cflb_etcd_finish(e, NGX_ERROR, ngx_socket_errno,
                                 "send() failed");
            return;
        }

        if (e->out->pos == e->out->last) {
            rc = ngx_cflb_etcd_read(e);

            if (rc == NGX_DONE) {
                return;                 /* e is gone, or finished */
            }

            if (rc == NGX_ERROR) {
                ngx_cflb_etcd_finish(e, NGX_ERROR, 0, e->err);
                return;
            }
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK
        || ngx_handle_write_event(c->write, 0) != NGX_OK)
    {
        ngx_cflb_etcd_finish(e, NGX_ERROR, 0, "event error");
    }
}


/*
 * Everything that can be read now: NGX_AGAIN; NGX_DONE once the exchange
 * finished (or message() closed it); NGX_ERROR with e->err.
 */

static ngx_int_t
ngx_cflb_etcd_read(ngx_cflb_etcd_t *e)
{
    u_char            *p;
    size_t             n;
    ssize_t            got;
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = e->pc.connection;

    for ( ;; ) {
        got = c->recv(c, e->in->start, e->in->end - e->in->start);

        if (got == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (got == NGX_ERROR) {
            e->err = "recv() failed";
            return NGX_ERROR;
        }

        if (got == 0) {
            /* a body without length ends with the connection */
            if (e->head && !e->stream && !e->resp.chunked
                && !e->resp.has_length)
            {
                ngx_cflb_etcd_finish(e, NGX_OK, 0, NULL);
                return NGX_DONE;
            }

            e->err = e->stream ? "the watch was closed by etcd"
                               : "the connection was closed early";
            return NGX_ERROR;
        }

        p = e->in->start;
        n = (size_t) got;

        if (!e->head) {
            rc = ngx_cflb_etcd_head(e, &p, &n);

            if (rc != NGX_OK) {
                if (rc == NGX_AGAIN) {
                    continue;
                }

                return rc;
            }
        }

        rc = ngx_cflb_etcd_body(e, p, n);

        if (rc != NGX_AGAIN) {
            return rc;
        }
    }
}


/* the answer's head: NGX_OK (*p, *n: what follows), NGX_AGAIN, NGX_ERROR */

static ngx_int_t
ngx_cflb_etcd_head(ngx_cflb_etcd_t *e, u_char **p, size_t *n)
{
    int                rc;
    u_char            *buf;
    size_t             used;
    ngx_connection_t  *c;

    rc = cflb_http_resp_head(&e->resp, *p, *n, NGX_CFLB_ETCD_HEAD, &used);

    if (rc == CFLB_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc != CFLB_OK) {
        e->err = "an invalid HTTP answer";
        return NGX_ERROR;
    }

    e->head = 1;
    e->status = e->resp.status;
    e->left = e->resp.content_length;
    *p += used;
    *n -= used;

    if (e->resp.has_length && e->left > NGX_CFLB_ETCD_BODY) {
        e->err = "an answer too large";
        return NGX_ERROR;
    }

    if (e->message == NULL || e->status != 200) {
        return NGX_OK;                  /* one answer, whatever it says */
    }

    /* a watch etcd took: messages from now on, for as long as it lasts */

    e->stream = 1;

    buf = ngx_palloc(e->pool, NGX_CFLB_ETCD_MESSAGE);
    if (buf == NULL) {
        e->err = "out of memory";
        return NGX_ERROR;
    }

    cflb_etcd_frames_init(&e->frames, buf, NGX_CFLB_ETCD_MESSAGE);

    c = e->pc.connection;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    return NGX_OK;
}


/* body bytes: NGX_AGAIN (more to come), NGX_DONE, NGX_ERROR */

static ngx_int_t
ngx_cflb_etcd_body(ngx_cflb_etcd_t *e, u_char *p, size_t n)
{
    int        rc;
    size_t     out;
    ngx_int_t  last, taken;

    last = 0;

    if (e->resp.chunked) {
        rc = cflb_http_resp_chunked(&e->resp, p, n, &out);

        if (rc == CFLB_ERROR) {
            e->err = "an invalid chunked body";
            return NGX_ERROR;
        }

        n = out;
        last = (rc == CFLB_OK);

    } else if (e->resp.has_length) {
        if (n > e->left) {
            n = (size_t) e->left;
        }

        e->left -= n;
        last = (e->left == 0);
    }

    if (n) {
        taken = ngx_cflb_etcd_take(e, p, n);

        if (taken != NGX_OK) {
            return taken;               /* after NGX_DONE, e may be gone */
        }
    }

    if (!last) {
        return NGX_AGAIN;
    }

    if (e->stream) {
        e->err = "the watch was ended by etcd";
        return NGX_ERROR;
    }

    ngx_cflb_etcd_finish(e, NGX_OK, 0, NULL);

    return NGX_DONE;
}


/*
 * Decoded body bytes: the messages of a watch to message(), or a single
 * answer kept.  NGX_OK; NGX_ERROR with e->err; NGX_DONE when message()
 * closed the exchange (e is gone).
 */

static ngx_int_t
ngx_cflb_etcd_take(ngx_cflb_etcd_t *e, u_char *p, size_t n)
{
    int                   rc;
    size_t                k, size, len;
    ngx_buf_t            *b;
    const unsigned char  *msg;

    if (e->stream) {
        while (n) {
            k = cflb_etcd_frames_feed(&e->frames, p, n);
            p += k;
            n -= k;

            while ((rc = cflb_etcd_frames_next(&e->frames, &msg, &len))
                   == CFLB_OK)
            {
                e->msg = (u_char *) msg;
                e->len = len;

                if (e->message(e) == NGX_DONE) {
                    return NGX_DONE;
                }
            }

            if (rc == CFLB_ERROR) {
                e->err = "a watch message too large";
                return NGX_ERROR;
            }
        }

        return NGX_OK;
    }

    b = e->body_in;

    if (b == NULL || (size_t) (b->end - b->last) < n) {
        size = b ? 2 * (b->end - b->start) : 4096;

        while (size < (b ? (size_t) (b->last - b->start) : 0) + n) {
            size *= 2;
        }

        if (size > NGX_CFLB_ETCD_BODY) {
            e->err = "an answer too large";
            return NGX_ERROR;
        }

        e->body_in = ngx_create_temp_buf(e->pool, size);
        if (e->body_in == NULL) {
            e->err = "out of memory";
            return NGX_ERROR;
        }

        if (b) {
            e->body_in->last = ngx_cpymem(e->body_in->last, b->start,
                                          b->last - b->start);
        }

        b = e->body_in;
    }

    b->last = ngx_cpymem(b->last, p, n);

    return NGX_OK;
}


/* the end of the exchange: the connection closed, done() told */

static void
ngx_cflb_etcd_finish(ngx_cflb_etcd_t *e, ngx_int_t rc, ngx_err_t err,
    const char *what)
{
    if (e->pc.connection) {
        ngx_close_connection(e->pc.connection);
        e->pc.connection = NULL;
    }

    e->rc = rc;
    e->errnum = err;
    e->err = what;

    if (rc == NGX_OK) {
        e->msg = e->body_in ? e->body_in->start : (u_char *) "";
        e->len = e->body_in ? (size_t) (e->body_in->last - e->body_in->start)
                            : 0;
    }

    e->done(e);
}


u_char *
ngx_cflb_etcd_error(u_char *p, u_char *last, ngx_cflb_etcd_t *e,
    cflb_etcd_msg_t *m)
{
    p = ngx_slprintf(p, last, "%V: ", &e->member->url);

    if (e->rc != NGX_OK) {
        p = ngx_slprintf(p, last, "%s", e->err ? e->err : "failed");

        if (e->errnum && last - p > 4) {
            p = ngx_slprintf(p, last, " (%d: ", e->errnum);
            p = ngx_strerror(e->errnum, p, last - p - 1);
            p = ngx_slprintf(p, last, ")");
        }

        return p;
    }

    if (e->status != 200) {
        p = ngx_slprintf(p, last, "answered %ui", e->status);
    }

    if (m && m->error.len) {
        p = ngx_slprintf(p, last, "%s\"%*s\"", e->status != 200 ? ": " : "",
                         ngx_min(m->error.len, 200), m->error.data);

    } else if (e->status == 200) {
        p = ngx_slprintf(p, last, "an answer cflb cannot read");
    }

    return p;
}
