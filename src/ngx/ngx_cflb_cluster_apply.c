
/*
 * What the fleet's keys in etcd do to this node's objects: a key-value of
 * the zone's range decoded into a pool or endpoint, an override applied
 * as the runtime API applies it (ngx_cflb_runtime_set(), drain timing
 * included), the peers' names; and a change the runtime API asks for,
 * written to etcd and answered once this node applied it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_cflb_cluster.h"


#define NGX_CFLB_CLUSTER_WAIT        1000   /* msec: a write waits for it */
#define NGX_CFLB_CLUSTER_POLL        2      /* msec */


/* a write the API asked for */
typedef struct {
    ngx_cflb_conf_t          *ccf;
    ngx_cflb_pool_t          *pool;
    ngx_cflb_endpoint_t      *ep;
    ngx_cflb_change_t         ch;
    time_t                    at;
    ngx_str_t                 body;
    ngx_uint_t                first;         /* the member tried first */
    ngx_uint_t                tries;
    ngx_cflb_etcd_t          *e;
    ngx_event_t               ev;            /* start, then the wait */
    ngx_msec_t                deadline;
    int64_t                   revision;
    ngx_log_t                *log;
    ngx_cflb_cluster_done_pt  done;
    void                     *data;
    size_t                    err_len;
    u_char                    err[NGX_CFLB_CLUSTER_ERR * 3];
} ngx_cflb_cluster_write_t;


static void ngx_cflb_cluster_write_start(ngx_event_t *ev);
static void ngx_cflb_cluster_write_attempt(ngx_cflb_cluster_write_t *wr);
static void ngx_cflb_cluster_written(ngx_cflb_etcd_t *e);
static void ngx_cflb_cluster_write_wait(ngx_event_t *ev);
static void ngx_cflb_cluster_write_end(ngx_cflb_cluster_write_t *wr,
    ngx_int_t rc);


ngx_int_t
ngx_cflb_cluster_kv(ngx_cflb_conf_t *ccf, const cflb_etcd_kv_t *kv,
    ngx_cflb_cluster_kv_t *x, ngx_log_t *log)
{
    size_t                vlen;
    ngx_str_t             key;
    ngx_uint_t            i;
    ngx_cflb_pool_t     **pools;
    cflb_etcd_key_t      *k;
    cflb_etcd_value_t    *v;
    ngx_cflb_cluster_t   *cl;
    ngx_cflb_endpoint_t  *eps;

    cl = ccf->cluster;
    k = &x->k;
    v = &x->v;
    x->klen = 0;

    if (kv->key.len > cflb_base64_len(NGX_CFLB_CLUSTER_KEY)
        || cflb_base64_decode(x->key, &x->klen, kv->key.data, kv->key.len)
           != CFLB_OK
        || x->klen < cl->base.len
        || ngx_memcmp(x->key, cl->base.data, cl->base.len) != 0)
    {
        x->klen = 0;
        return NGX_DECLINED;
    }

    key.data = x->key;
    key.len = x->klen;

    if (cflb_etcd_key_parse(x->key + cl->base.len, x->klen - cl->base.len,
                            k, x->names)
        != CFLB_OK)
    {
        return NGX_DECLINED;
    }

    if (kv->deleted) {
        ngx_memzero(v, sizeof(cflb_etcd_value_t));

    } else if (kv->value.len > cflb_base64_len(NGX_CFLB_CLUSTER_VALUE)
               || cflb_base64_decode(x->value, &vlen, kv->value.data,
                                     kv->value.len)
                  != CFLB_OK
               || cflb_etcd_value_parse(x->value, vlen, v) != CFLB_OK
               || (k->kind == CFLB_ETCD_VOTE && v->healthy < 0))
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "cflb: etcd key \"%V\" holds an invalid value, "
                      "ignored", &key);
        return NGX_DECLINED;
    }

    if (k->kind == CFLB_ETCD_VOTE
        && k->node.len == cl->node.len
        && ngx_memcmp(k->node.data, cl->node.data, cl->node.len) == 0)
    {
        return NGX_DECLINED;            /* this node's own */
    }

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (pools[i]->name.len == k->pool.len
            && ngx_memcmp(pools[i]->name.data, k->pool.data, k->pool.len)
               == 0)
        {
            break;
        }
    }

    if (i == ccf->pools.nelts
        || (k->kind == CFLB_ETCD_VOTE && !ngx_cflb_cluster_counts(pools[i])))
    {
        return NGX_DECLINED;
    }

    x->pi = i;
    x->pool = pools[i];
    x->ep = NULL;

    if (k->kind == CFLB_ETCD_POOL) {
        return NGX_OK;
    }

    eps = x->pool->endpoints.elts;

    for (i = 0; i < x->pool->endpoints.nelts; i++) {
        if (eps[i].name.len == k->endpoint.len
            && ngx_memcmp(eps[i].name.data, k->endpoint.data,
                          k->endpoint.len) == 0)
        {
            x->ep = &eps[i];
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The value carries the configured value it was made over ("configured");
 * a node whose configuration says another takes none, as a reload that
 * changes it drops a local override (docs/fleet.md).
 */

ngx_int_t
ngx_cflb_cluster_want(ngx_cflb_cluster_kv_t *x, ngx_log_t *log)
{
    ngx_int_t             want, made, conf;
    const char           *field;
    cflb_etcd_value_t    *v;
    ngx_cflb_pool_t      *pool;
    ngx_cflb_endpoint_t  *ep;

    v = &x->v;
    pool = x->pool;
    ep = x->ep;

    if (x->k.field == CFLB_ETCD_WEIGHT) {
        field = "weight";
        want = v->weight;
        made = v->conf_weight;
        conf = ep->conf_weight;

    } else {
        field = "enabled";
        want = v->enabled;
        made = v->conf_enabled;
        conf = ep ? !ep->conf_disabled : pool->conf_enabled;
    }

    if (want < 0) {
        return -1;
    }

    if (made < 0 || made == conf) {
        return want;
    }

    if (ep == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "cflb: the fleet's \"%s\" of pool \"%V\" was made over "
                      "another configured value than this node's, in %s:%ui,"
                      " it is not applied here", field, &pool->name,
                      pool->file, pool->line);
        return -1;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "cflb: the fleet's \"%s\" of endpoint \"%V\" of pool "
                  "\"%V\" was made over another configured value than this "
                  "node's, in %s:%ui, it is not applied here", field,
                  &ep->name, &pool->name, pool->file, pool->line);

    return -1;
}


void
ngx_cflb_cluster_set(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, cflb_etcd_field_e field, ngx_int_t want,
    time_t at)
{
    u_char             why[NGX_CFLB_STATE_ERR];
    ngx_cflb_change_t  ch;

    ch.enabled = NGX_CONF_UNSET_UINT;
    ch.weight = NGX_CONF_UNSET_UINT;

    if (field == CFLB_ETCD_WEIGHT) {
        ch.weight = (want >= 0) ? (ngx_uint_t) want : ep->conf_weight;

    } else if (want >= 0) {
        ch.enabled = (ngx_uint_t) want;

    } else {
        ch.enabled = ep ? !ep->conf_disabled : (ngx_uint_t) pool->conf_enabled;
    }

    /*
     * etcd holds the change: a state file that could not be written is
     * only a stale cache, and its write logged why
     */
    (void) ngx_cflb_runtime_set(ccf, pool, ep, &ch, why, sizeof(why));

    if (ep == NULL || ch.enabled != 0 || at <= 0 || at > ngx_time()) {
        return;
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);

    if (ep->sh->disabled_at > at) {
        ep->sh->disabled_at = at;
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);
}


ngx_int_t
ngx_cflb_cluster_node(ngx_cflb_conf_t *ccf, cflb_str_t *name, ngx_uint_t add,
    ngx_log_t *log)
{
    int                     node;
    uint64_t                in_use;
    ngx_uint_t              i, j;
    ngx_cflb_pool_t       **pools;
    ngx_cflb_endpoint_t    *eps;
    ngx_cflb_sh_cluster_t  *sh;

    if (!ngx_cflb_cluster_node_ok(name->data, name->len)) {
        return -1;
    }

    sh = ccf->sh->cluster;
    pools = ccf->pools.elts;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    node = cflb_nodes_find(&sh->nodes, name->data, name->len);

    if (node < 0 && add) {
        /* the nodes that still vote somewhere keep their index */
        in_use = 0;

        for (i = 0; i < ccf->pools.nelts; i++) {
            eps = pools[i]->endpoints.elts;

            for (j = 0; j < pools[i]->endpoints.nelts; j++) {
                in_use |= eps[j].sh->votes.up | eps[j].sh->votes.down;
            }
        }

        node = cflb_nodes_add(&sh->nodes, name->data, name->len, in_use);

        if (node < 0) {
            ngx_shmtx_unlock(&ccf->shpool->mutex);

            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "cflb: more than %d nodes vote in zone \"%V\", "
                          "the votes of \"%*s\" are not counted",
                          CFLB_NODES, &ccf->shm_zone->shm.name, name->len,
                          name->data);
            return -1;
        }
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    return node;
}


void
ngx_cflb_cluster_applied(ngx_cflb_conf_t *ccf, int64_t revision)
{
    ngx_shmtx_lock(&ccf->shpool->mutex);

    if (revision > ccf->sh->cluster->applied) {
        ccf->sh->cluster->applied = revision;
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);
}


/* ------------------------------------------------- a write from the API */

ngx_int_t
ngx_cflb_cluster_write(ngx_cflb_conf_t *ccf, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, ngx_cflb_change_t *ch, ngx_pool_t *p,
    ngx_log_t *log, ngx_cflb_cluster_done_pt done, void *data)
{
    u_char                    *b, value[256];
    size_t                     size, len;
    ngx_cflb_cluster_t        *cl;
    ngx_cflb_cluster_write_t  *wr;

    cl = ccf->cluster;

    wr = ngx_pcalloc(p, sizeof(ngx_cflb_cluster_write_t));
    if (wr == NULL) {
        return NGX_ERROR;
    }

    wr->ccf = ccf;
    wr->pool = pool;
    wr->ep = ep;
    wr->ch = *ch;
    wr->at = ngx_time();
    wr->log = log;
    wr->done = done;
    wr->data = data;
    wr->first = ccf->sh->cluster->member % cl->members.nelts;

    size = sizeof("{\"success\":[]}") + 1
           + 2 * ngx_cflb_cluster_put_size(cl, pool, ep, sizeof(value));

    b = ngx_pnalloc(p, size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    wr->body.data = b;
    b = ngx_sprintf(b, "{\"success\":[");

    if (ch->enabled != NGX_CONF_UNSET_UINT) {
        len = ngx_sprintf(value, "{\"enabled\":%s,\"configured\":%s,"
                          "\"node\":\"%V\",\"at\":%T}",
                          ch->enabled ? "true" : "false",
                          (ep ? !ep->conf_disabled : pool->conf_enabled)
                          ? "true" : "false", &cl->node, wr->at)
              - value;

        b = ngx_cflb_cluster_put(b, cl, pool, ep,
                                 ep ? CFLB_ETCD_ENDPOINT : CFLB_ETCD_POOL,
                                 CFLB_ETCD_ENABLED, value, len, 0);
    }

    if (ch->weight != NGX_CONF_UNSET_UINT) {
        if (ch->enabled != NGX_CONF_UNSET_UINT) {
            *b++ = ',';
        }

        len = ngx_sprintf(value, "{\"weight\":%ui.%02ui,\"configured\":"
                          "%ui.%02ui,\"node\":\"%V\",\"at\":%T}",
                          cflb_weight_int(ch->weight),
                          cflb_weight_frac(ch->weight),
                          cflb_weight_int(ep->conf_weight),
                          cflb_weight_frac(ep->conf_weight), &cl->node,
                          wr->at)
              - value;

        b = ngx_cflb_cluster_put(b, cl, pool, ep, CFLB_ETCD_ENDPOINT,
                                 CFLB_ETCD_WEIGHT, value, len, 0);
    }

    b = ngx_sprintf(b, "]}");
    wr->body.len = b - wr->body.data;

    /* from the event loop: done() is never called from here */
    wr->ev.handler = ngx_cflb_cluster_write_start;
    wr->ev.data = wr;
    wr->ev.log = log;

    ngx_post_event(&wr->ev, &ngx_posted_events);

    return NGX_OK;
}


static void
ngx_cflb_cluster_write_start(ngx_event_t *ev)
{
    ngx_cflb_cluster_write_attempt(ev->data);
}


/* the next member, or the end once every one failed */

static void
ngx_cflb_cluster_write_attempt(ngx_cflb_cluster_write_t *wr)
{
    u_char              *p;
    ngx_uint_t           n;
    ngx_cflb_etcd_t     *e;
    ngx_cflb_cluster_t  *cl;

    cl = wr->ccf->cluster;
    n = cl->members.nelts;

    while (wr->tries < n) {
        e = ngx_cflb_etcd_create(wr->log);
        if (e == NULL) {
            break;
        }

        e->member = (ngx_cflb_etcd_member_t *) cl->members.elts
                    + (wr->first + wr->tries) % n;
        ngx_str_set(&e->path, "/v3/kv/txn");
        e->body = wr->body;
        e->timeout = cl->timeout;
        e->done = ngx_cflb_cluster_written;
        e->data = wr;

        wr->tries++;

        if (ngx_cflb_etcd_start(e) == NGX_OK) {
            wr->e = e;
            return;
        }

        e->rc = NGX_ERROR;
        p = ngx_cflb_etcd_error(wr->err + wr->err_len,
                                wr->err + sizeof(wr->err) - 2, e, NULL);
        wr->err_len = ngx_sprintf(p, "; ") - wr->err;

        ngx_cflb_etcd_close(e);
    }

    if (wr->err_len >= 2) {
        wr->err_len -= 2;
    }

    ngx_cflb_cluster_write_end(wr, NGX_ERROR);
}


/* etcd answered the write: wait until this node's watch applied it */

static void
ngx_cflb_cluster_written(ngx_cflb_etcd_t *e)
{
    u_char                    *p;
    int                        rc;
    cflb_etcd_msg_t            m;
    ngx_cflb_cluster_write_t  *wr;

    wr = e->data;
    wr->e = NULL;

    rc = (e->rc == NGX_OK) ? cflb_etcd_parse(e->msg, e->len, &m, NULL, NULL)
                           : CFLB_ERROR;

    if (e->rc == NGX_OK && e->status == 200 && rc == CFLB_OK
        && !m.has_error && m.succeeded && m.revision > 0)
    {
        ngx_cflb_etcd_close(e);

        wr->revision = m.revision;
        wr->deadline = ngx_current_msec + NGX_CFLB_CLUSTER_WAIT;
        wr->ev.handler = ngx_cflb_cluster_write_wait;

        ngx_cflb_cluster_write_wait(&wr->ev);
        return;
    }

    p = ngx_cflb_etcd_error(wr->err + wr->err_len,
                            wr->err + sizeof(wr->err) - 2, e,
                            rc == CFLB_OK ? &m : NULL);
    wr->err_len = ngx_sprintf(p, "; ") - wr->err;

    ngx_cflb_etcd_close(e);

    ngx_cflb_cluster_write_attempt(wr);
}


/*
 * Until the watch applied the write's revision (the usual case, within
 * milliseconds), or the deadline: then this worker applies it itself and
 * asks for a whole read, which puts every change back in etcd's order.
 */

static void
ngx_cflb_cluster_write_wait(ngx_event_t *ev)
{
    int64_t                    applied;
    ngx_cflb_conf_t           *ccf;
    ngx_cflb_cluster_write_t  *wr;

    wr = ev->data;
    ccf = wr->ccf;

    ngx_shmtx_lock(&ccf->shpool->mutex);
    applied = ccf->sh->cluster->applied;
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (applied >= wr->revision) {
        ngx_cflb_cluster_write_end(wr, NGX_OK);
        return;
    }

    if ((ngx_msec_int_t) (ngx_current_msec - wr->deadline) < 0) {
        ngx_add_timer(ev, NGX_CFLB_CLUSTER_POLL);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, wr->log, 0,
                  "cflb: etcd took the change at revision %L but this "
                  "node's watch has not applied it after %d ms, applied "
                  "directly", wr->revision, NGX_CFLB_CLUSTER_WAIT);

    if (wr->ch.enabled != NGX_CONF_UNSET_UINT) {
        ngx_cflb_cluster_set(ccf, wr->pool, wr->ep, CFLB_ETCD_ENABLED,
                             (ngx_int_t) wr->ch.enabled, wr->at);
    }

    if (wr->ch.weight != NGX_CONF_UNSET_UINT) {
        ngx_cflb_cluster_set(ccf, wr->pool, wr->ep, CFLB_ETCD_WEIGHT,
                             (ngx_int_t) wr->ch.weight, 0);
    }

    ccf->sh->cluster->resync = 1;

    ngx_cflb_cluster_write_end(wr, NGX_OK);
}


static void
ngx_cflb_cluster_write_end(ngx_cflb_cluster_write_t *wr, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, wr->log, 0,
                      "cflb: a runtime change was refused, etcd did not "
                      "take it: %*s", wr->err_len, wr->err);
    }

    wr->done(wr->data, rc, wr->err, wr->err_len);
}


u_char *
ngx_cflb_cluster_put(u_char *p, ngx_cflb_cluster_t *cl,
    ngx_cflb_pool_t *pool, ngx_cflb_endpoint_t *ep, cflb_etcd_kind_e kind,
    cflb_etcd_field_e field, u_char *value, size_t len, int64_t lease)
{
    u_char           *key;
    size_t            n;
    cflb_etcd_key_t   k;

    ngx_memzero(&k, sizeof(cflb_etcd_key_t));

    k.kind = kind;
    k.field = field;
    k.pool.data = pool->name.data;
    k.pool.len = pool->name.len;

    if (ep) {
        k.endpoint.data = ep->name.data;
        k.endpoint.len = ep->name.len;
    }

    k.node.data = cl->node.data;
    k.node.len = cl->node.len;

    /* the key after the base, written where its base64 will not reach */
    n = cl->base.len + cflb_etcd_key(NULL, &k);
    key = p + cflb_base64_len(n) + 64;

    ngx_memcpy(key, cl->base.data, cl->base.len);
    (void) cflb_etcd_key(key + cl->base.len, &k);

    p = ngx_sprintf(p, "{\"request_put\":{\"key\":\"");
    p += cflb_base64_encode(p, key, n);
    p = ngx_sprintf(p, "\",\"value\":\"");
    p += cflb_base64_encode(p, value, len);
    p = ngx_sprintf(p, "\"");

    if (lease) {
        p = ngx_sprintf(p, ",\"lease\":\"%L\"", lease);
    }

    return ngx_sprintf(p, "}}");
}


size_t
ngx_cflb_cluster_put_size(ngx_cflb_cluster_t *cl, ngx_cflb_pool_t *pool,
    ngx_cflb_endpoint_t *ep, size_t value)
{
    size_t  n;

    n = cl->base.len + sizeof("endpoint///weight")
        + 3 * (pool->name.len + (ep ? ep->name.len : 0) + cl->node.len);

    return 2 * cflb_base64_len(n) + cflb_base64_len(value) + 128 + n;
}
