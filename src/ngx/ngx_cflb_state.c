
/*
 * cflb_state_file FILE: the runtime overrides of one zone (http{} or
 * stream{}, each with its own file), saved by the workers
 * (ngx_cflb_runtime.c) and read here at every start and reload so that
 * they outlive a restart.  A file that is missing, unreadable, corrupt or
 * written for objects that are gone is logged and ignored, never fatal.
 *
 *     {"version": 1,
 *      "pools": [{"name", "enabled", "configured_enabled"}],
 *      "endpoints": [{"pool", "name", "address", "enabled",
 *                     "configured_enabled", "weight", "configured_weight"}]}
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb.h"


static ngx_int_t ngx_cflb_state_unique(ngx_conf_t *cf,
    ngx_cflb_conf_t *ccf);
static ngx_int_t ngx_cflb_state_entry(ngx_conf_t *cf, json_t *e,
    ngx_uint_t endpoint, ngx_cflb_state_t *st);
static ngx_int_t ngx_cflb_state_string(ngx_conf_t *cf, json_t *e,
    const char *key, ngx_str_t *s);
static ngx_int_t ngx_cflb_state_pair(json_t *e, const char *key,
    ngx_uint_t weight, ngx_uint_t *value, ngx_uint_t *base_value);


char *
ngx_cflb_state_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ngx_str_t  *value;

    if (ccf->state_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ccf->state_file = value[1];

    /* relative to the prefix, like pid; the result is NUL-terminated */
    if (ngx_conf_full_name(cf->cycle, &ccf->state_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_cflb_state_read(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    size_t             i, k;
    json_t            *root, *list;
    ngx_file_info_t    fi;
    json_error_t       err;
    ngx_cflb_state_t  *st;
    static const char *lists[] = { "pools", "endpoints" };

    if (ccf->state_file.len == 0) {
        return NGX_OK;
    }

    if (ngx_cflb_state_unique(cf, ccf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_file_info(ccf->state_file.data, &fi) == NGX_FILE_ERROR
        && ngx_errno == NGX_ENOENT)
    {
        return NGX_OK;                  /* no change was ever made */
    }

    root = json_load_file((char *) ccf->state_file.data,
                          JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "cflb_state_file \"%V\" is ignored: %s at line %d",
                      &ccf->state_file, err.text, err.line);
        return NGX_OK;
    }

    if (!json_is_object(root)
        || json_integer_value(json_object_get(root, "version")) != 1)
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "cflb_state_file \"%V\" is ignored: not a version 1 "
                      "state file", &ccf->state_file);
        goto done;
    }

    ccf->state = ngx_array_create(cf->pool, 4, sizeof(ngx_cflb_state_t));
    if (ccf->state == NULL) {
        goto done;
    }

    for (k = 0; k < 2; k++) {
        list = json_object_get(root, lists[k]);

        for (i = 0; i < json_array_size(list); i++) {
            st = ngx_array_push(ccf->state);
            if (st == NULL) {
                goto done;
            }

            if (ngx_cflb_state_entry(cf, json_array_get(list, i), k, st)
                != NGX_OK)
            {
                ccf->state->nelts--;
                ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                              "cflb_state_file \"%V\": entry %uz of \"%s\" "
                              "is invalid, ignored", &ccf->state_file, i,
                              lists[k]);
            }
        }
    }

done:

    json_decref(root);

    return NGX_OK;
}


/*
 * Each zone rewrites its file whole: the other subsystem's zone, if
 * configured before this one, may not name the same file.
 */

static ngx_int_t
ngx_cflb_state_unique(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_cflb_conf_t  *other;

    other = ngx_cflb_zone_conf(cf->cycle, ccf->http ? "ngx_stream_cflb_module"
                                                    : "ngx_http_cflb_module");

    if (other == NULL
        || other->state_file.len != ccf->state_file.len
        || ngx_strncmp(other->state_file.data, ccf->state_file.data,
                       ccf->state_file.len) != 0)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "cflb_state_file \"%V\" is used in both http{} and "
                  "stream{}, each needs its own", &ccf->state_file);

    return NGX_ERROR;
}


static ngx_int_t
ngx_cflb_state_entry(ngx_conf_t *cf, json_t *e, ngx_uint_t endpoint,
    ngx_cflb_state_t *st)
{
    ngx_int_t  rc;

    ngx_memzero(st, sizeof(ngx_cflb_state_t));

    if (!json_is_object(e)) {
        return NGX_ERROR;
    }

    if (!endpoint) {
        if (ngx_cflb_state_string(cf, e, "name", &st->pool) != NGX_OK
            || ngx_cflb_state_pair(e, "enabled", 0, &st->enabled,
                                        &st->enabled_base)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        st->rt = NGX_CFLB_RT_ENABLED;
        return NGX_OK;
    }

    if (ngx_cflb_state_string(cf, e, "pool", &st->pool) != NGX_OK
        || ngx_cflb_state_string(cf, e, "name", &st->endpoint) != NGX_OK
        || ngx_cflb_state_string(cf, e, "address", &st->address)
           != NGX_OK
        || st->endpoint.len == 0)
    {
        return NGX_ERROR;
    }

    rc = ngx_cflb_state_pair(e, "enabled", 0, &st->enabled,
                                  &st->enabled_base);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        st->rt |= NGX_CFLB_RT_ENABLED;
    }

    rc = ngx_cflb_state_pair(e, "weight", 1, &st->weight,
                                  &st->weight_base);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        st->rt |= NGX_CFLB_RT_WEIGHT;
    }

    return st->rt ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_cflb_state_string(ngx_conf_t *cf, json_t *e, const char *key,
    ngx_str_t *s)
{
    json_t  *v;

    v = json_object_get(e, key);

    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    s->len = json_string_length(v);
    s->data = ngx_pnalloc(cf->pool, s->len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, json_string_value(v), s->len + 1);

    return NGX_OK;
}


/*
 * KEY and configured_KEY: weights, or booleans.
 * NGX_DECLINED when neither is there, NGX_ERROR when only one is or one
 * is invalid.
 */

static ngx_int_t
ngx_cflb_state_pair(json_t *e, const char *key, ngx_uint_t weight,
    ngx_uint_t *value, ngx_uint_t *base_value)
{
    json_t     *v[2];
    ngx_int_t   n[2];
    ngx_uint_t  i;
    u_char      base[sizeof("configured_enabled")];

    ngx_sprintf(base, "configured_%s%Z", key);

    v[0] = json_object_get(e, key);
    v[1] = json_object_get(e, (char *) base);

    if (v[0] == NULL && v[1] == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < 2; i++) {
        if (weight) {
            n[i] = ngx_cflb_json_weight(v[i]);

        } else {
            n[i] = json_is_boolean(v[i]) ? json_is_true(v[i]) : NGX_ERROR;
        }

        if (n[i] == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    *value = n[0];
    *base_value = n[1];

    return NGX_OK;
}


ngx_int_t
ngx_cflb_json_weight(json_t *v)
{
    double     h, d;
    ngx_int_t  n;

    if (!json_is_number(v)) {
        return NGX_ERROR;
    }

    h = json_number_value(v) * CFLB_WEIGHT_SCALE;

    /* written as "!(in range)" so that NaN fails too */
    if (!(h >= 0 && h <= CFLB_WEIGHT_SCALE)) {
        return NGX_ERROR;
    }

    n = (ngx_int_t) (h + 0.5);
    d = h - n;

    /* 0.29 is not exactly 29/100 as a double: within a millionth is */
    if (d > 1e-6 || d < -1e-6) {
        return NGX_ERROR;
    }

    return n;
}
