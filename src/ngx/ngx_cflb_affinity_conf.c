
/*
 * The session affinity, drain and failover settings of a load balancer:
 * their directives (layer 7 only, refused in stream{} with the reason),
 * defaults and cross-checks, and cflb_affinity_key, the secret of tokens
 * shared between nodes.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_lb.h"


#define NGX_CFLB_KEY_MIN        16


/* a setting of session affinity and the modes (1 << mode) it is for */
typedef struct {
    const char               *name;
    ngx_uint_t                modes;
} ngx_cflb_affinity_setting_t;


static char *ngx_cflb_affinity_set_headers(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_cflb_affinity_inert(ngx_conf_t *cf, ngx_cflb_lb_t *lb);


/* in the order ngx_cflb_affinity_inert() checks them */
static const ngx_cflb_affinity_setting_t  ngx_cflb_affinity_settings[] = {
    { "session_affinity_ttl", ~(1u << NGX_CFLB_AFFINITY_NONE) },
    { "drain_duration", ~(1u << NGX_CFLB_AFFINITY_NONE) },
    { "zero_downtime_failover", ~(1u << NGX_CFLB_AFFINITY_NONE) },
    { "session_affinity_headers", 1u << NGX_CFLB_AFFINITY_HEADER },
    { "session_affinity_require_all_headers", 1u << NGX_CFLB_AFFINITY_HEADER },
    { "session_affinity_samesite",
      1u << NGX_CFLB_AFFINITY_COOKIE | 1u << NGX_CFLB_AFFINITY_IP_COOKIE },
    { "session_affinity_secure",
      1u << NGX_CFLB_AFFINITY_COOKIE | 1u << NGX_CFLB_AFFINITY_IP_COOKIE }
};


/* keyword tables: each value is its index (ngx_cflb_model.h) */

ngx_conf_enum_t  ngx_cflb_affinity_modes[] = {
    { ngx_string("none"), NGX_CFLB_AFFINITY_NONE },
    { ngx_string("cookie"), NGX_CFLB_AFFINITY_COOKIE },
    { ngx_string("ip_cookie"), NGX_CFLB_AFFINITY_IP_COOKIE },
    { ngx_string("header"), NGX_CFLB_AFFINITY_HEADER },
    { ngx_null_string, 0 }
};

ngx_conf_enum_t  ngx_cflb_samesite_modes[] = {
    { ngx_string("auto"), NGX_CFLB_SAMESITE_AUTO },
    { ngx_string("lax"), NGX_CFLB_SAMESITE_LAX },
    { ngx_string("strict"), NGX_CFLB_SAMESITE_STRICT },
    { ngx_string("none"), NGX_CFLB_SAMESITE_NONE },
    { ngx_null_string, 0 }
};

ngx_conf_enum_t  ngx_cflb_secure_modes[] = {
    { ngx_string("auto"), NGX_CFLB_SECURE_AUTO },
    { ngx_string("always"), NGX_CFLB_SECURE_ALWAYS },
    { ngx_string("never"), NGX_CFLB_SECURE_NEVER },
    { ngx_null_string, 0 }
};

ngx_conf_enum_t  ngx_cflb_zdf_modes[] = {
    { ngx_string("none"), NGX_CFLB_ZDF_NONE },
    { ngx_string("temporary"), NGX_CFLB_ZDF_TEMPORARY },
    { ngx_string("sticky"), NGX_CFLB_ZDF_STICKY },
    { ngx_null_string, 0 }
};


#define NGX_CFLB_NO_SESSION                                                   \
    "a TCP or UDP session, or a DNS query, has no cookie or header to "      \
    "keep it; \"endpoint_steering hash\" keeps a client address on one "      \
    "endpoint"

#define NGX_CFLB_NO_FAILOVER                                                  \
    "a connection that fails is retried by \"proxy_next_upstream\" within "   \
    "the pool"

ngx_cflb_setter_t  ngx_cflb_affinity_mode = {
    ngx_conf_set_enum_slot, ngx_cflb_affinity_modes, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_ttl = {
    ngx_conf_set_sec_slot, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_samesite = {
    ngx_conf_set_enum_slot, ngx_cflb_samesite_modes, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_secure = {
    ngx_conf_set_enum_slot, ngx_cflb_secure_modes, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_headers = {
    ngx_cflb_affinity_set_headers, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_require_all = {
    ngx_conf_set_flag_slot, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_drain = {
    ngx_conf_set_sec_slot, NULL, NGX_CFLB_NO_SESSION };
ngx_cflb_setter_t  ngx_cflb_affinity_zdf = {
    ngx_conf_set_enum_slot, ngx_cflb_zdf_modes, NGX_CFLB_NO_FAILOVER };
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

    ngx_cflb_affinity_inert(cf, lb);

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

        lb->conf->sessions = 1;

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


/*
 * Settings the mode makes meaningless are said so, as nginx warns of its
 * own that have no effect: without session affinity there is no session
 * to last, pin, drain or fail over; header sessions have no cookie, and
 * cookies no headers.  Called before the defaults are set, so that
 * "set" means written in the configuration.
 */

static void
ngx_cflb_affinity_inert(ngx_conf_t *cf, ngx_cflb_lb_t *lb)
{
    ngx_uint_t            i, set[7];
    ngx_cflb_affinity_t  *a;

    if (lb->file == NULL) {
        /*
         * a rule's combination of settings (ngx_cflb_rule_affinity()):
         * what is inert in one combination acts in another
         */
        return;
    }

    a = &lb->affinity;

    set[0] = (a->ttl != NGX_CONF_UNSET);
    set[1] = (a->drain != NGX_CONF_UNSET);
    set[2] = (a->zdf != NGX_CONF_UNSET_UINT);
    set[3] = (a->headers != NULL);
    set[4] = (a->require_all != NGX_CONF_UNSET);
    set[5] = (a->samesite != NGX_CONF_UNSET_UINT);
    set[6] = (a->secure != NGX_CONF_UNSET_UINT);

    for (i = 0; i < 7; i++) {
        if (!set[i] || (ngx_cflb_affinity_settings[i].modes & (1u << a->mode)))
        {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "\"%s\" of cflb_lb \"%V\" has no effect with "
                      "session_affinity %V, ignored, in %s:%ui",
                      ngx_cflb_affinity_settings[i].name, &lb->name,
                      &ngx_cflb_affinity_modes[a->mode].name, lb->file,
                      lb->line);
    }
}
