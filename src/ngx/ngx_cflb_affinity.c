
/*
 * Session affinity at request time: which endpoint a token or a header
 * session names and whether it may still serve, and the new session
 * made once its endpoint answered (a token, or an entry of the zone's
 * header session table); the MAC of tokens, per worker.  Reading cookies
 * and headers and writing Set-Cookie is the http module's.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_decide.h"
#include "ngx_cflb_resolve.h"
#include "ngx_cflb_pool.h"
#include "ngx_cflb_trace.h"

#if (NGX_OPENSSL)
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif


/* verified tokens each worker remembers (a power of two) */
#define NGX_CFLB_TOKEN_CACHE    1024


static ngx_cflb_endpoint_t *ngx_cflb_affinity_token(ngx_cflb_decision_t *d,
    ngx_str_t *token, ngx_cflb_lb_pool_t **entry, ngx_uint_t *aff);
static ngx_cflb_endpoint_t *ngx_cflb_affinity_header(ngx_cflb_decision_t *d,
    uint64_t *hkey, ngx_cflb_lb_pool_t **entry, ngx_uint_t *aff);
static ngx_cflb_endpoint_t *ngx_cflb_affinity_find(ngx_cflb_lb_t *lb,
    uint64_t pool, uint64_t endpoint, ngx_cflb_lb_pool_t **entry);
static ngx_uint_t ngx_cflb_affinity_usable(ngx_cflb_view_t *view,
    ngx_cflb_endpoint_t *ep);
static void ngx_cflb_session_count(ngx_cflb_endpoint_t *ep);
#if (NGX_OPENSSL)
static int ngx_cflb_hmac(void *data, const unsigned char *in, size_t len,
    unsigned char *out);
#endif


ngx_int_t
ngx_cflb_affinity_init_worker(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
#if (NGX_OPENSSL)
    u_char    *key;
    size_t     len;
    HMAC_CTX  *ctx;

    if (!ccf->affinity) {
        return NGX_OK;
    }

    key = ccf->key.len ? ccf->key.data : ccf->sh->key;
    len = ccf->key.len ? ccf->key.len : sizeof(ccf->sh->key);

    ctx = HMAC_CTX_new();

    if (ctx == NULL || !HMAC_Init_ex(ctx, key, len, EVP_sha256(), NULL)) {
        ngx_ssl_error(NGX_LOG_ALERT, log, 0, "cflb: HMAC init failed");
        HMAC_CTX_free(ctx);
        return NGX_ERROR;
    }

    ccf->mac.mac = ngx_cflb_hmac;
    ccf->mac.data = ctx;

    /* without it every request of a session would pay an HMAC */
    ccf->tokens.slots = ngx_calloc(NGX_CFLB_TOKEN_CACHE
                                   * sizeof(cflb_token_slot_t), log);
    ccf->tokens.mask = NGX_CFLB_TOKEN_CACHE - 1;

    if (ccf->tokens.slots == NULL) {
        return NGX_ERROR;
    }
#endif

    return NGX_OK;
}


void
ngx_cflb_affinity_exit_worker(ngx_cflb_conf_t *ccf)
{
#if (NGX_OPENSSL)
    if (ccf->mac.data) {
        HMAC_CTX_free(ccf->mac.data);
        ccf->mac.data = NULL;
        ngx_free(ccf->tokens.slots);
        ccf->tokens.slots = NULL;
    }
#endif
}


#if (NGX_OPENSSL)

/* HMAC-SHA256 with the key set once per worker: no allocation per use */

static int
ngx_cflb_hmac(void *data, const unsigned char *in, size_t len,
    unsigned char *out)
{
    unsigned int  n;

    if (!HMAC_Init_ex(data, NULL, 0, NULL, NULL)
        || !HMAC_Update(data, in, len)
        || !HMAC_Final(data, out, &n))
    {
        return CFLB_ERROR;
    }

    return CFLB_OK;
}

#endif


void
ngx_cflb_affinity_resume(ngx_cflb_decision_t *d, ngx_str_t *token,
    uint64_t *hkey, ngx_log_t *log)
{
    ngx_uint_t            aff;
    ngx_cflb_conf_t      *ccf;
    ngx_cflb_lb_pool_t   *entry;
    ngx_cflb_endpoint_t  *ep;

    ccf = d->view->lb->conf;
    ep = NULL;
    aff = NGX_CFLB_AFF_NEW;

    d->new_session = 1;

    if (token && ccf->mac.mac) {
        ep = ngx_cflb_affinity_token(d, token, &entry, &aff);

    } else if (hkey) {
        ep = ngx_cflb_affinity_header(d, hkey, &entry, &aff);
    }

    if (ep == NULL || !ngx_cflb_affinity_usable(d->view, ep)) {
        ngx_log_debug1(ccf->debug, log, 0, "cflb affinity: %s",
                       ep ? "endpoint unusable" : "no session");
        d->sess->session = 0;

        if (d->trace) {
            ngx_cflb_trace(d)->affinity = ep ? NGX_CFLB_AFF_UNUSABLE : aff;
        }

        if (d->view->affinity->mode == NGX_CFLB_AFFINITY_IP_COOKIE) {
            /* the first choice follows from the client address */
            d->ip_pick = 1;
            cflb_rng_seed(&d->sess->ip_rng, ngx_cflb_client_key(d->client));

        } else if (hkey && ccf->cluster) {
            /*
             * a fleet: from the session key, so that every node that
             * sees this session first chooses the same (docs/fleet.md)
             */
            d->ip_pick = 1;
            d->key = cflb_session_seed(hkey);
            d->key_set = 1;
            cflb_rng_seed(&d->sess->ip_rng, d->key);
        }

        return;
    }

    ngx_log_debug2(ccf->debug, log, 0,
                   "cflb affinity: pinned to \"%V\" of \"%V\"",
                   &ep->name, &ep->pool->name);

    d->sess->pinned = ep;
    d->entry = entry;
    d->new_session = 0;

    if (d->trace) {
        ngx_cflb_trace(d)->affinity = NGX_CFLB_AFF_RESUMED;
    }
}


/* the endpoint a token names, once its MAC verified */

static ngx_cflb_endpoint_t *
ngx_cflb_affinity_token(ngx_cflb_decision_t *d, ngx_str_t *token,
    ngx_cflb_lb_pool_t **entry, ngx_uint_t *aff)
{
    ngx_int_t         rc;
    cflb_token_t      t;
    ngx_cflb_conf_t  *ccf;

    ccf = d->view->lb->conf;

    /* the token's fields are filled only once its MAC verified */
    t.expires = 0;

    rc = cflb_token_verify(&ccf->mac, &ccf->tokens, token->data, token->len,
                           (uint32_t) ngx_time(), &t);

    if (rc != CFLB_OK) {
        *aff = t.expires ? NGX_CFLB_AFF_EXPIRED : NGX_CFLB_AFF_INVALID;
        return NULL;
    }

    *aff = NGX_CFLB_AFF_UNKNOWN;

    /* the token's fields are its identity: the MAC adds none */
    d->sess->session = t.pool ^ t.endpoint ^ t.expires;

    return ngx_cflb_affinity_find(d->view->lb, t.pool, t.endpoint, entry);
}


/* the endpoint of a header session in the zone's table */

static ngx_cflb_endpoint_t *
ngx_cflb_affinity_header(ngx_cflb_decision_t *d, uint64_t *hkey,
    ngx_cflb_lb_pool_t **entry, ngx_uint_t *aff)
{
    int                   expired;
    uint64_t              pool, endpoint;
    cflb_session_t       *s;
    ngx_cflb_conf_t      *ccf;
    ngx_cflb_endpoint_t  *ep;

    ccf = d->view->lb->conf;
    ep = NULL;

    d->sess->session = hkey[1];

    ngx_shmtx_lock(&ccf->shpool->mutex);

    s = cflb_sessions_get(ccf->sh->sessions, hkey, ngx_time(),
                          d->view->affinity->ttl, &expired);

    pool = s ? s->pool : 0;
    endpoint = s ? s->endpoint : 0;

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (s) {
        *aff = NGX_CFLB_AFF_UNKNOWN;
        ep = ngx_cflb_affinity_find(d->view->lb, pool, endpoint, entry);

    } else if (expired) {
        *aff = NGX_CFLB_AFF_EXPIRED;
    }

    return ep;
}


/* a session's endpoint, by the ids a token or the table gives */

static ngx_cflb_endpoint_t *
ngx_cflb_affinity_find(ngx_cflb_lb_t *lb, uint64_t pool, uint64_t endpoint,
    ngx_cflb_lb_pool_t **entry)
{
    ngx_uint_t            i, j;
    ngx_cflb_pool_t      *p;
    ngx_cflb_endpoint_t  *eps;

    for (i = 0; i < lb->nentries; i++) {
        p = lb->entries[i].pool;

        if (p->id != pool) {
            continue;
        }

        eps = p->endpoints.elts;

        for (j = 0; j < p->endpoints.nelts; j++) {
            if (eps[j].id == endpoint) {
                *entry = &lb->entries[i];
                return &eps[j];
            }
        }
    }

    return NULL;
}


/* healthy, enabled or draining, in an enabled pool, with an address */

static ngx_uint_t
ngx_cflb_affinity_usable(ngx_cflb_view_t *view, ngx_cflb_endpoint_t *ep)
{
    if (!ep->pool->enabled || !ngx_cflb_endpoint_healthy(ep)
        || !ngx_cflb_endpoint_resolved(ep))
    {
        return 0;
    }

    if (ep->disabled) {
        return ep->sh->disabled_at
               && ngx_time() < ep->sh->disabled_at + view->affinity->drain;
    }

    return 1;
}


ngx_int_t
ngx_cflb_affinity_commit(ngx_cflb_decision_t *d, uint64_t *hkey,
    u_char *out)
{
    cflb_token_t          t;
    cflb_session_t       *s;
    ngx_cflb_conf_t      *ccf;
    ngx_cflb_endpoint_t  *ep;

    ep = d->last;
    ccf = d->view->lb->conf;

    if (hkey == NULL) {
        t.pool = ep->pool->id;
        t.endpoint = ep->id;
        t.expires = (uint32_t) (ngx_time() + d->view->affinity->ttl);

        if (cflb_token_encode(&ccf->mac, &t, out) != CFLB_OK) {
            return NGX_ERROR;
        }

        ngx_cflb_session_count(ep);

        return NGX_OK;
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);

    s = cflb_sessions_put(ccf->sh->sessions, hkey, ngx_time(),
                          d->view->affinity->ttl);
    if (s) {
        s->pool = ep->pool->id;
        s->endpoint = ep->id;
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_cflb_session_count(ep);

    return NGX_DECLINED;
}


/* a session started on ep: the status document's "sessions" */

static void
ngx_cflb_session_count(ngx_cflb_endpoint_t *ep)
{
    (void) ngx_atomic_fetch_add(&ep->sh->c.sessions, 1);
    (void) ngx_atomic_fetch_add(&ep->sh->pool->c.sessions, 1);
}
