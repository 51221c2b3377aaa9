
/*
 * cflb_state_file FILE: the runtime overrides of one zone (http{} or
 * stream{}, each with its own file), written by the workers at every
 * change (ngx_cflb_runtime.c says when) and read at every start and
 * reload so that they outlive a restart.  A file that is missing,
 * unreadable, corrupt or written for objects that are gone is logged and
 * ignored, never fatal.
 *
 *     {"version": 1,
 *      "pools": [{"name", "enabled", "configured_enabled"}],
 *      "endpoints": [{"pool", "name", "address", "enabled",
 *                     "configured_enabled", "weight", "configured_weight"}]}
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_cflb_state.h"
#include "ngx_cflb_shm.h"
#include "ngx_cflb_conf.h"
#include "ngx_cflb_json.h"


static ngx_int_t ngx_cflb_state_unique(ngx_conf_t *cf,
    ngx_cflb_conf_t *ccf);
static ngx_int_t ngx_cflb_state_entry(ngx_conf_t *cf, json_t *e,
    ngx_uint_t endpoint, ngx_cflb_state_t *st);
static ngx_int_t ngx_cflb_state_string(ngx_conf_t *cf, json_t *e,
    const char *key, ngx_str_t *s);
static ngx_int_t ngx_cflb_state_index(ngx_conf_t *cf, ngx_cflb_conf_t *ccf);
static cflb_str_t ngx_cflb_state_key(void *data, uint32_t pos);
static u_char *ngx_cflb_state_compose(u_char *p, ngx_str_t *pool,
    ngx_str_t *endpoint, ngx_str_t *address);
static ngx_int_t ngx_cflb_state_pair(json_t *e, const char *key,
    ngx_uint_t weight, cflb_override_t *o);
static void ngx_cflb_state_lock(ngx_cflb_sh_t *sh);
static u_char *ngx_cflb_state_json(ngx_cflb_conf_t *ccf, u_char *p);
static ngx_int_t ngx_cflb_state_save(ngx_str_t *file, u_char *data,
    size_t len, ngx_log_t *log);


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

    if (ngx_cflb_state_index(cf, ccf) != NGX_OK) {
        ccf->state = NULL;
    }

done:

    json_decref(root);

    return NGX_OK;
}


/*
 * The entries by pool, endpoint and address, so that binding n objects
 * to the file's entries costs O(n), not O(n x entries).  An entry that
 * repeats another one's key is ignored, as the first one wins.
 */

static ngx_int_t
ngx_cflb_state_index(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t         i, n;
    ngx_cflb_state_t  *st;

    st = ccf->state->elts;
    n = ccf->state->nelts;

    for (i = 0; i < n; i++) {
        st[i].key.len = st[i].pool.len + st[i].endpoint.len
                        + st[i].address.len + 2;
        st[i].key.data = ngx_pnalloc(cf->pool, st[i].key.len);
        if (st[i].key.data == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_cflb_state_compose(st[i].key.data, &st[i].pool,
                                      &st[i].endpoint, &st[i].address);
    }

    if (cflb_names_init(&ccf->state_index, &ccf->alloc, (uint32_t) n, 0,
                        ngx_cflb_state_key, ccf)
        != CFLB_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (cflb_names_add(&ccf->state_index, (uint32_t) i, NULL)
            == CFLB_ERROR)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static cflb_str_t
ngx_cflb_state_key(void *data, uint32_t pos)
{
    ngx_cflb_conf_t *ccf = data;

    cflb_str_t         s;
    ngx_cflb_state_t  *st;

    st = ccf->state->elts;
    s.data = st[pos].key.data;
    s.len = st[pos].key.len;

    return s;
}


/* pool, endpoint and address, NUL-separated: names may hold anything */

static u_char *
ngx_cflb_state_compose(u_char *p, ngx_str_t *pool, ngx_str_t *endpoint,
    ngx_str_t *address)
{
    p = ngx_cpymem(p, pool->data, pool->len);
    *p++ = '\0';
    p = ngx_cpymem(p, endpoint->data, endpoint->len);
    *p++ = '\0';

    return ngx_cpymem(p, address->data, address->len);
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
    ngx_memzero(st, sizeof(ngx_cflb_state_t));

    if (!json_is_object(e)) {
        return NGX_ERROR;
    }

    if (!endpoint) {
        if (ngx_cflb_state_string(cf, e, "name", &st->pool) != NGX_OK
            || ngx_cflb_state_pair(e, "enabled", 0, &st->enabled) != NGX_OK)
        {
            return NGX_ERROR;
        }

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

    if (ngx_cflb_state_pair(e, "enabled", 0, &st->enabled) == NGX_ERROR
        || ngx_cflb_state_pair(e, "weight", 1, &st->weight) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    return (st->enabled.set || st->weight.set) ? NGX_OK : NGX_ERROR;
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
 * KEY and configured_KEY, weights or booleans, as an override.
 * NGX_DECLINED when neither is there, NGX_ERROR when only one is or one
 * is invalid.
 */

static ngx_int_t
ngx_cflb_state_pair(json_t *e, const char *key, ngx_uint_t weight,
    cflb_override_t *o)
{
    json_t      *v[2];
    uint32_t     n[2];
    ngx_uint_t   i;
    u_char       base[sizeof("configured_enabled")];

    ngx_sprintf(base, "configured_%s%Z", key);

    v[0] = json_object_get(e, key);
    v[1] = json_object_get(e, (char *) base);

    if (v[0] == NULL && v[1] == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < 2; i++) {
        if (weight) {
            if (!json_is_number(v[i])
                || cflb_weight_from_double(json_number_value(v[i]), &n[i])
                   != CFLB_OK)
            {
                return NGX_ERROR;
            }

        } else if (json_is_boolean(v[i])) {
            n[i] = json_is_true(v[i]);

        } else {
            return NGX_ERROR;
        }
    }

    o->set = 1;
    o->value = (uint16_t) n[0];
    o->base = (uint16_t) n[1];

    return NGX_OK;
}


ngx_cflb_state_t *
ngx_cflb_state_find(ngx_cflb_conf_t *ccf, ngx_str_t *pool,
    ngx_str_t *endpoint, ngx_str_t *address)
{
    int                i;
    u_char            *key, *last, buf[512];
    size_t             len;
    ngx_cflb_state_t  *st;

    if (ccf->state == NULL) {
        return NULL;
    }

    len = pool->len + endpoint->len + address->len + 2;
    key = (len <= sizeof(buf)) ? buf : ngx_alloc(len, ngx_cycle->log);

    if (key == NULL) {
        return NULL;
    }

    last = ngx_cflb_state_compose(key, pool, endpoint, address);
    i = cflb_names_find(&ccf->state_index, key, last - key);

    if (key != buf) {
        ngx_free(key);
    }

    if (i < 0) {
        return NULL;
    }

    st = ccf->state->elts;
    st[i].used = 1;

    return &st[i];
}


/*
 * The state file: the overrides of this configuration's objects, written
 * to FILE.tmp, synced and renamed over FILE, so that a reader sees the old
 * file or the new one.  Writers take a lock of their own (not the zone
 * mutex, which requests may wait for), so the last change is the last
 * written.
 */

void
ngx_cflb_state_write(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    size_t                size;
    u_char               *buf, *p;
    ngx_uint_t            i, j;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *eps;

    if (ccf->state_file.len == 0) {
        return;
    }

    size = 64;
    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        size += 128 + 6 * pools[i]->name.len;
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            size += 256 + 6 * (pools[i]->name.len + eps[j].name.len
                               + eps[j].addr.name.len);
        }
    }

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        return;
    }

    ngx_cflb_state_lock(ccf->sh);

    ngx_shmtx_lock(&ccf->shpool->mutex);
    p = ngx_cflb_state_json(ccf, buf);
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    if (ngx_cflb_state_save(&ccf->state_file, buf, p - buf, log) == NGX_OK) {
        ccf->state_dirty = 0;
    }

    (void) ngx_atomic_cmp_set(&ccf->sh->state_lock, ngx_pid, 0);

    ngx_free(buf);
}


/*
 * The writers' lock holds the pid of its owner, so that the lock of a
 * worker that died while writing is taken over rather than waited for.
 */

static void
ngx_cflb_state_lock(ngx_cflb_sh_t *sh)
{
    ngx_pid_t  pid;

    for ( ;; ) {
        pid = (ngx_pid_t) sh->state_lock;

        if (pid == 0 || (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH)) {
            if (ngx_atomic_cmp_set(&sh->state_lock, pid, ngx_pid)) {
                return;
            }
        }

        ngx_sched_yield();
    }
}


static u_char *
ngx_cflb_state_json(ngx_cflb_conf_t *ccf, u_char *p)
{
    ngx_uint_t               i, j, n;
    ngx_cflb_pool_t        **pools;
    ngx_cflb_endpoint_t     *eps;
    ngx_cflb_sh_pool_t      *shp;
    ngx_cflb_sh_endpoint_t  *she;

    pools = ccf->pools.elts;
    p = ngx_sprintf(p, "{\"version\":1,\"pools\":[");

    for (i = 0, n = 0; i < ccf->pools.nelts; i++) {
        shp = pools[i]->sh;

        if (shp->rt_enabled.set) {
            p = ngx_sprintf(p, n++ ? ",\n{\"name\":" : "\n{\"name\":");
            p = ngx_cflb_json_str(p, &pools[i]->name);
            p = ngx_sprintf(p, ",\"enabled\":%s,\"configured_enabled\":%s}",
                            shp->rt_enabled.value ? "true" : "false",
                            shp->rt_enabled.base ? "true" : "false");
        }
    }

    p = ngx_sprintf(p, "],\"endpoints\":[");

    for (i = 0, n = 0; i < ccf->pools.nelts; i++) {
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            she = eps[j].sh;

            if (!she->rt_enabled.set && !she->rt_weight.set) {
                continue;
            }

            p = ngx_sprintf(p, n++ ? ",\n{\"pool\":" : "\n{\"pool\":");
            p = ngx_cflb_json_str(p, &pools[i]->name);
            p = ngx_sprintf(p, ",\"name\":");
            p = ngx_cflb_json_str(p, &eps[j].name);
            p = ngx_sprintf(p, ",\"address\":");
            p = ngx_cflb_json_str(p, &eps[j].addr.name);

            if (she->rt_enabled.set) {
                p = ngx_sprintf(p, ",\"enabled\":%s,"
                                "\"configured_enabled\":%s",
                                she->rt_enabled.value ? "true" : "false",
                                she->rt_enabled.base ? "true" : "false");
            }

            if (she->rt_weight.set) {
                p = ngx_sprintf(p, ",\"weight\":");
                p = ngx_cflb_json_weight(p, she->rt_weight.value);
                p = ngx_sprintf(p, ",\"configured_weight\":");
                p = ngx_cflb_json_weight(p, she->rt_weight.base);
            }

            *p++ = '}';
        }
    }

    return ngx_sprintf(p, "]}\n");
}


static ngx_int_t
ngx_cflb_state_save(ngx_str_t *file, u_char *data, size_t len,
    ngx_log_t *log)
{
    u_char    *tmp;
    ssize_t    n;
    ngx_fd_t   fd;

    tmp = ngx_alloc(file->len + sizeof(".tmp"), log);
    if (tmp == NULL) {
        return NGX_ERROR;
    }

    /* file is NUL-terminated: ngx_conf_full_name() made it */
    ngx_sprintf(tmp, "%V.tmp%Z", file);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_open_file_n " \"%s\" failed", tmp);
        goto failed;
    }

    n = ngx_write_fd(fd, data, len);

    if (n != (ssize_t) len || fsync(fd) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "cannot write cflb state to \"%s\"", tmp);
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    (void) ngx_close_file(fd);

    if (ngx_rename_file(tmp, file->data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_rename_file_n " \"%s\" to \"%V\" failed",
                      tmp, file);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    ngx_free(tmp);

    return NGX_OK;

failed:

    ngx_free(tmp);

    return NGX_ERROR;
}
