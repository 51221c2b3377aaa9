
/*
 * Session affinity: the options of a load balancer, the key and MAC of
 * its tokens, and the table of header sessions in the zone.  Which
 * endpoint a session names is decided here; reading cookies and headers
 * and writing Set-Cookie is the http module's.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb.h"

#if (NGX_OPENSSL)
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#endif


#define NGX_CFLB_KEY_MIN        16

/* verified tokens each worker remembers (a power of two) */
#define NGX_CFLB_TOKEN_CACHE    1024

/* header sessions may take this share of the zone, at most */
#define NGX_CFLB_SESSIONS_SHARE  4


/* a header session, found by a 128-bit hash of lb and header values */
typedef struct {
    ngx_rbtree_node_t         node;          /* key: hkey[0] */
    ngx_queue_t               queue;
    uint64_t                  hkey1;
    uint64_t                  pool;          /* token ids */
    uint64_t                  endpoint;
    time_t                    used;
} ngx_cflb_session_t;


static char *ngx_cflb_affinity_set_headers(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_cflb_endpoint_t *ngx_cflb_affinity_find(ngx_cflb_lb_t *lb,
    uint64_t pool, uint64_t endpoint, ngx_cflb_lb_pool_t **entry);
static ngx_uint_t ngx_cflb_affinity_usable(ngx_cflb_lb_t *lb,
    ngx_cflb_endpoint_t *ep);
static ngx_cflb_session_t *ngx_cflb_session_lookup(ngx_cflb_sh_t *sh,
    uint64_t *hkey);
static void ngx_cflb_session_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_cflb_session_free(ngx_cflb_conf_t *ccf,
    ngx_cflb_session_t *s);
static void ngx_cflb_session_expire(ngx_cflb_conf_t *ccf, ngx_uint_t n,
    time_t ttl);
static void ngx_cflb_session_count(ngx_cflb_endpoint_t *ep);
#if (NGX_OPENSSL)
static int ngx_cflb_hmac(void *data, const unsigned char *in, size_t len,
    unsigned char *out);
#endif


static ngx_conf_enum_t  ngx_cflb_affinity_modes[] = {
    { ngx_string("none"), NGX_CFLB_AFFINITY_NONE },
    { ngx_string("cookie"), NGX_CFLB_AFFINITY_COOKIE },
    { ngx_string("ip_cookie"), NGX_CFLB_AFFINITY_IP_COOKIE },
    { ngx_string("header"), NGX_CFLB_AFFINITY_HEADER },
    { ngx_null_string, 0 }
};

static ngx_conf_enum_t  ngx_cflb_affinity_samesites[] = {
    { ngx_string("auto"), NGX_CFLB_SAMESITE_AUTO },
    { ngx_string("lax"), NGX_CFLB_SAMESITE_LAX },
    { ngx_string("strict"), NGX_CFLB_SAMESITE_STRICT },
    { ngx_string("none"), NGX_CFLB_SAMESITE_NONE },
    { ngx_null_string, 0 }
};

static ngx_conf_enum_t  ngx_cflb_affinity_secures[] = {
    { ngx_string("auto"), NGX_CFLB_SECURE_AUTO },
    { ngx_string("always"), NGX_CFLB_SECURE_ALWAYS },
    { ngx_string("never"), NGX_CFLB_SECURE_NEVER },
    { ngx_null_string, 0 }
};

static ngx_conf_enum_t  ngx_cflb_affinity_zdfs[] = {
    { ngx_string("none"), NGX_CFLB_ZDF_NONE },
    { ngx_string("temporary"), NGX_CFLB_ZDF_TEMPORARY },
    { ngx_string("sticky"), NGX_CFLB_ZDF_STICKY },
    { ngx_null_string, 0 }
};


#define NGX_CFLB_NO_SESSION                                                   \
    "a TCP or UDP session has no cookie or header to keep it; "               \
    "\"endpoint_steering hash\" keeps a client address on one endpoint"

#define NGX_CFLB_NO_FAILOVER                                                  \
    "a connection that fails is retried by \"proxy_next_upstream\" within "   \
    "the pool"

ngx_cflb_setter_t  ngx_cflb_affinity_mode = {
    ngx_conf_set_enum_slot, ngx_cflb_affinity_modes, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_ttl = {
    ngx_conf_set_sec_slot, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_samesite = {
    ngx_conf_set_enum_slot, ngx_cflb_affinity_samesites, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_secure = {
    ngx_conf_set_enum_slot, ngx_cflb_affinity_secures, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_headers = {
    ngx_cflb_affinity_set_headers, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_require_all = {
    ngx_conf_set_flag_slot, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_drain = {
    ngx_conf_set_sec_slot, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_zdf = {
    ngx_conf_set_enum_slot, ngx_cflb_affinity_zdfs, NGX_CFLB_NO_FAILOVER };
ngx_cflb_setter_t  ngx_cflb_affinity_across_pools = {
    ngx_conf_set_flag_slot, NULL, NGX_CFLB_NO_FAILOVER };


char *
ngx_cflb_lb_l7(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    ngx_command_t       c;
    ngx_cflb_setter_t  *setter;

    setter = cmd->post;

    if (lb == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive is allowed only inside cflb_lb",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (!lb->conf->http) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" has no meaning in stream{}: %s",
                           &cmd->name, setter->why);
        return NGX_CONF_ERROR;
    }

    if (cmd->offset == offsetof(ngx_cflb_lb_t, affinity.mode)) {
        lb->affinity.file = cf->conf_file->file.name.data;
        lb->affinity.line = cf->conf_file->line;
    }

    c = *cmd;
    c.post = setter->post;

    return setter->set(cf, &c, conf);
}


/* session_affinity_headers NAME | cookie:NAME | cookie ... */

static char *
ngx_cflb_affinity_set_headers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_cflb_lb_t *lb = conf;

    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ngx_cflb_affinity_header_t  *h;

    if (lb->affinity.headers) {
        return "is duplicate";
    }

    if (cf->args->nelts - 1 > 5) {
        return "takes at most 5 names";
    }

    lb->affinity.headers = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                        sizeof(ngx_cflb_affinity_header_t));
    if (lb->affinity.headers == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        h = ngx_array_push(lb->affinity.headers);
        if (h == NULL) {
            return NGX_CONF_ERROR;
        }

        h->name = value[i];
        h->cookie = 0;

        if (h->name.len >= 6
            && ngx_strncasecmp(h->name.data, (u_char *) "cookie", 6) == 0
            && (h->name.len == 6 || h->name.data[6] == ':'))
        {
            h->cookie = 1;
            h->name.data += ngx_min(h->name.len, 7);
            h->name.len -= ngx_min(h->name.len, 7);
        }

        if (h->name.len == 0 && !(h->cookie && value[i].len == 6)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid session_affinity_headers name \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* cflb_affinity_key FILE: the secret of tokens, shared between nodes */

char *
ngx_cflb_affinity_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ssize_t          n;
    ngx_str_t       *value, name;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    if (!ccf->http) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cflb_affinity_key\" has no meaning in "
                           "stream{}: %s", NGX_CFLB_NO_SESSION);
        return NGX_CONF_ERROR;
    }

    if (ccf->key.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = name;
    file.log = cf->log;

    file.fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) < NGX_CFLB_KEY_MIN
        || ngx_file_size(&fi) > 4096)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_affinity_key \"%V\" must hold from %d to "
                           "4096 bytes, e.g. \"openssl rand -out %V 32\"",
                           &name, NGX_CFLB_KEY_MIN, &name);
        (void) ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    ccf->key.len = ngx_file_size(&fi);
    ccf->key.data = ngx_pnalloc(cf->pool, ccf->key.len);

    n = ccf->key.data ? ngx_read_file(&file, ccf->key.data, ccf->key.len, 0)
                      : NGX_ERROR;

    (void) ngx_close_file(file.fd);

    if (n != (ssize_t) ccf->key.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot read cflb_affinity_key \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_cflb_affinity_init(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    time_t                min, max;
    ngx_cflb_affinity_t  *a;

    a = &lb->affinity;

    ngx_conf_init_uint_value(a->mode, NGX_CFLB_AFFINITY_NONE);
    ngx_conf_init_uint_value(a->samesite, NGX_CFLB_SAMESITE_AUTO);
    ngx_conf_init_uint_value(a->secure, NGX_CFLB_SECURE_AUTO);
    ngx_conf_init_value(a->require_all, 0);
    ngx_conf_init_value(a->drain, 0);
    ngx_conf_init_uint_value(a->zdf, NGX_CFLB_ZDF_NONE);
    ngx_conf_init_value(a->across_pools, 0);

    lb->id = cflb_token_id(lb->name.data, lb->name.len);

    if (a->mode == NGX_CFLB_AFFINITY_HEADER) {
        min = 30;
        max = 3600;
        ngx_conf_init_value(a->ttl, 1800);

    } else {
        min = 1800;
        max = 7 * 86400;
        ngx_conf_init_value(a->ttl, 82800);
    }

    if (a->mode == NGX_CFLB_AFFINITY_NONE) {
        return NGX_OK;
    }

#if !(NGX_OPENSSL)
    if (a->mode != NGX_CFLB_AFFINITY_HEADER) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "session_affinity cookie needs nginx built with "
                      "OpenSSL in %s:%ui", a->file, a->line);
        return NGX_ERROR;
    }
#endif

    if (a->ttl < min || a->ttl > max) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "session_affinity_ttl %T of cflb_lb \"%V\" is out of "
                      "range, %s sessions take from %T to %T seconds in "
                      "%s:%ui", a->ttl, &lb->name, a->mode
                      == NGX_CFLB_AFFINITY_HEADER ? "header" : "cookie",
                      min, max, a->file, a->line);
        return NGX_ERROR;
    }

    if (a->drain < 0 || a->drain > 7 * 86400) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "drain_duration of cflb_lb \"%V\" must be from 0 to "
                      "7d in %s:%ui", &lb->name, lb->file, lb->line);
        return NGX_ERROR;
    }

    if (a->mode == NGX_CFLB_AFFINITY_HEADER) {
        if (a->headers == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "session_affinity header of cflb_lb \"%V\" needs "
                          "session_affinity_headers in %s:%ui", &lb->name,
                          a->file, a->line);
            return NGX_ERROR;
        }

        if (a->zdf == NGX_CFLB_ZDF_STICKY) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "zero_downtime_failover sticky of cflb_lb \"%V\" "
                          "cannot move header sessions, use temporary in "
                          "%s:%ui", &lb->name, a->file, a->line);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (a->samesite == NGX_CFLB_SAMESITE_NONE
        && a->secure == NGX_CFLB_SECURE_NEVER)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "session_affinity_samesite none of cflb_lb \"%V\" "
                      "needs a Secure cookie, but session_affinity_secure "
                      "is never in %s:%ui", &lb->name, a->file, a->line);
        return NGX_ERROR;
    }

    lb->conf->affinity = 1;

    return NGX_OK;
}


/* a new zone: its own random key, and an empty session table */

void
ngx_cflb_affinity_init_zone(ngx_cflb_sh_t *sh, ngx_slab_pool_t *shpool)
{
    size_t  size;

#if (NGX_OPENSSL)
    if (RAND_bytes(sh->key, sizeof(sh->key)) != 1)
#endif
    {
        /* not secret enough to rely on: set cflb_affinity_key */
        ngx_uint_t  i;

        for (i = 0; i < sizeof(sh->key); i++) {
            sh->key[i] = (u_char) ngx_random();
        }
    }

    ngx_rbtree_init(&sh->session_tree, &sh->session_sentinel,
                    ngx_cflb_session_insert_value);
    ngx_queue_init(&sh->sessions);

    size = (u_char *) shpool->end - (u_char *) shpool->start;
    sh->max_sessions = size / NGX_CFLB_SESSIONS_SHARE
                       / (sizeof(ngx_cflb_session_t) + 16);
}


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
ngx_cflb_affinity_resume(ngx_cflb_peer_data_t *pd, ngx_str_t *token,
    uint64_t *hkey, ngx_log_t *log)
{
    time_t                now;
    ngx_int_t             rc;
    ngx_uint_t            aff;
    cflb_token_t          t;
    ngx_cflb_lb_t        *lb;
    ngx_cflb_conf_t      *ccf;
    ngx_cflb_session_t   *s;
    ngx_cflb_lb_pool_t   *entry;
    ngx_cflb_endpoint_t  *ep;

    lb = pd->lb;
    ccf = lb->conf;
    now = ngx_time();
    ep = NULL;
    aff = NGX_CFLB_AFF_NEW;

    pd->new_session = 1;

    if (token && ccf->mac.mac) {
        /* the token's fields are filled only once its MAC verified */
        t.expires = 0;

        rc = cflb_token_verify(&ccf->mac, &ccf->tokens, token->data,
                               token->len, (uint32_t) now, &t);
        if (rc == CFLB_OK) {
            ep = ngx_cflb_affinity_find(lb, t.pool, t.endpoint, &entry);
            aff = NGX_CFLB_AFF_UNKNOWN;

            /* the token's fields are its identity: the MAC adds none */
            pd->sess->session = t.pool ^ t.endpoint ^ t.expires;

        } else {
            aff = t.expires ? NGX_CFLB_AFF_EXPIRED : NGX_CFLB_AFF_INVALID;
        }

    } else if (hkey) {
        ngx_shmtx_lock(&ccf->shpool->mutex);

        s = ngx_cflb_session_lookup(ccf->sh, hkey);

        if (s && now - s->used > lb->affinity.ttl) {
            ngx_cflb_session_free(ccf, s);
            s = NULL;
            aff = NGX_CFLB_AFF_EXPIRED;
        }

        if (s) {
            s->used = now;
            ngx_queue_remove(&s->queue);
            ngx_queue_insert_head(&ccf->sh->sessions, &s->queue);
            ep = ngx_cflb_affinity_find(lb, s->pool, s->endpoint, &entry);
            aff = NGX_CFLB_AFF_UNKNOWN;
        }

        ngx_shmtx_unlock(&ccf->shpool->mutex);

        pd->sess->session = hkey[1];
    }

    if (ep == NULL || !ngx_cflb_affinity_usable(lb, ep)) {
        ngx_log_debug1(ccf->debug, log, 0, "cflb affinity: %s",
                       ep ? "endpoint unusable" : "no session");
        pd->sess->session = 0;

        if (pd->trace) {
            ngx_cflb_trace(pd)->affinity = ep ? NGX_CFLB_AFF_UNUSABLE : aff;
        }

        if (lb->affinity.mode == NGX_CFLB_AFFINITY_IP_COOKIE) {
            /* the first choice follows from the client address */
            pd->ip_pick = 1;
            cflb_rng_seed(&pd->sess->ip_rng,
                          ngx_cflb_client_key(pd->client));
        }

        return;
    }

    ngx_log_debug2(ccf->debug, log, 0,
                   "cflb affinity: pinned to \"%V\" of \"%V\"",
                   &ep->name, &ep->pool->name);

    pd->sess->pinned = ep;
    pd->entry = entry;
    pd->new_session = 0;

    if (pd->trace) {
        ngx_cflb_trace(pd)->affinity = NGX_CFLB_AFF_RESUMED;
    }
}


/* a session's endpoint, by the ids a token or the table gives */

static ngx_cflb_endpoint_t *
ngx_cflb_affinity_find(ngx_cflb_lb_t *lb, uint64_t pool, uint64_t endpoint,
    ngx_cflb_lb_pool_t **entry)
{
    ngx_uint_t            i, j;
    ngx_cflb_pool_t      *p;
    ngx_cflb_endpoint_t  *eps;

    for (i = 0; i <= lb->npools; i++) {
        *entry = (i < lb->npools) ? &lb->pools[i] : &lb->fallback;
        p = (*entry)->pool;

        if (p->id != pool) {
            continue;
        }

        eps = p->endpoints.elts;

        for (j = 0; j < p->endpoints.nelts; j++) {
            if (eps[j].id == endpoint) {
                return &eps[j];
            }
        }
    }

    return NULL;
}


/* healthy, enabled or draining, in an enabled pool */

static ngx_uint_t
ngx_cflb_affinity_usable(ngx_cflb_lb_t *lb, ngx_cflb_endpoint_t *ep)
{
    if (!ep->pool->enabled || !ngx_cflb_endpoint_healthy(ep)) {
        return 0;
    }

    if (ep->disabled) {
        return ep->sh->disabled_at
               && ngx_time() < ep->sh->disabled_at + lb->affinity.drain;
    }

    return 1;
}


ngx_int_t
ngx_cflb_affinity_commit(ngx_cflb_peer_data_t *pd, uint64_t *hkey,
    u_char *out)
{
    cflb_token_t          t;
    ngx_cflb_conf_t      *ccf;
    ngx_cflb_session_t   *s;
    ngx_cflb_endpoint_t  *ep;

    ep = pd->last;
    ccf = pd->lb->conf;

    if (hkey == NULL) {
        t.pool = ep->pool->id;
        t.endpoint = ep->id;
        t.expires = (uint32_t) (ngx_time() + pd->lb->affinity.ttl);

        if (cflb_token_encode(&ccf->mac, &t, out) != CFLB_OK) {
            return NGX_ERROR;
        }

        ngx_cflb_session_count(ep);

        return NGX_OK;
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);

    s = ngx_cflb_session_lookup(ccf->sh, hkey);

    if (s == NULL) {
        ngx_cflb_session_expire(ccf, 2, pd->lb->affinity.ttl);

        if (ccf->sh->nsessions >= ccf->sh->max_sessions) {
            ngx_cflb_session_expire(ccf, 1, -1);
        }

        s = ngx_slab_alloc_locked(ccf->shpool, sizeof(ngx_cflb_session_t));

        if (s == NULL) {
            /* the zone is short: the oldest session makes room */
            ngx_cflb_session_expire(ccf, 1, -1);
            s = ngx_slab_alloc_locked(ccf->shpool,
                                      sizeof(ngx_cflb_session_t));
        }

        if (s == NULL) {
            ngx_shmtx_unlock(&ccf->shpool->mutex);
            return NGX_ERROR;
        }

        s->node.key = (ngx_rbtree_key_t) hkey[0];
        s->hkey1 = hkey[1];
        ngx_rbtree_insert(&ccf->sh->session_tree, &s->node);
        ccf->sh->nsessions++;

    } else {
        ngx_queue_remove(&s->queue);
    }

    ngx_queue_insert_head(&ccf->sh->sessions, &s->queue);

    s->pool = ep->pool->id;
    s->endpoint = ep->id;
    s->used = ngx_time();

    ngx_shmtx_unlock(&ccf->shpool->mutex);

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


/*
 * Drops up to n of the least recently used sessions idle longer than
 * ttl (-1: whatever their age).  Called with the zone locked.
 */

static void
ngx_cflb_session_expire(ngx_cflb_conf_t *ccf, ngx_uint_t n, time_t ttl)
{
    ngx_queue_t         *q;
    ngx_cflb_sh_t       *sh;
    ngx_cflb_session_t  *s;

    sh = ccf->sh;

    while (n-- && !ngx_queue_empty(&sh->sessions)) {
        q = ngx_queue_last(&sh->sessions);
        s = ngx_queue_data(q, ngx_cflb_session_t, queue);

        if (ttl >= 0 && ngx_time() - s->used <= ttl) {
            return;
        }

        ngx_cflb_session_free(ccf, s);
    }
}


/* called with the zone locked */

static void
ngx_cflb_session_free(ngx_cflb_conf_t *ccf, ngx_cflb_session_t *s)
{
    ngx_queue_remove(&s->queue);
    ngx_rbtree_delete(&ccf->sh->session_tree, &s->node);
    ngx_slab_free_locked(ccf->shpool, s);
    ccf->sh->nsessions--;
}


static ngx_cflb_session_t *
ngx_cflb_session_lookup(ngx_cflb_sh_t *sh, uint64_t *hkey)
{
    ngx_rbtree_key_t     key;
    ngx_rbtree_node_t   *node, *sentinel;
    ngx_cflb_session_t  *s;

    key = (ngx_rbtree_key_t) hkey[0];
    node = sh->session_tree.root;
    sentinel = sh->session_tree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        s = (ngx_cflb_session_t *) node;

        if (hkey[1] == s->hkey1) {
            return s;
        }

        node = (hkey[1] < s->hkey1) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_cflb_session_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            p = (((ngx_cflb_session_t *) node)->hkey1
                 < ((ngx_cflb_session_t *) temp)->hkey1)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
