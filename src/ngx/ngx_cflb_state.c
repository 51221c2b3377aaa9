
/*
 * cflb_state_file FILE: the runtime overrides of one zone (http{} or
 * stream{}, each with its own file), written by the workers at every
 * change (ngx_cflb_runtime.c says when) and read at every start and
 * reload so that they outlive a restart.  Nothing an operator changed
 * is lost in silence: a directory the workers cannot write stops nginx
 * at start, a write that fails is answered as such by the API and shown
 * in the status document, and a file that cannot be used is moved aside,
 * not overwritten.
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


/* the largest file read: some hundred thousand objects' overrides */
#define NGX_CFLB_STATE_MAX   (64 * 1024 * 1024)


/* what the reader counts, to log the first few of each and then a sum */
typedef struct {
    ngx_uint_t                invalid;
    ngx_uint_t                repeated;
} ngx_cflb_state_counts_t;


static ngx_int_t ngx_cflb_state_unique(ngx_conf_t *cf,
    ngx_cflb_conf_t *ccf);
static ngx_int_t ngx_cflb_state_load(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    json_t **root);
static void ngx_cflb_state_corrupt(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    const char *why);
static ngx_int_t ngx_cflb_state_lists(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    json_t *root, ngx_cflb_state_counts_t *n);
static ngx_int_t ngx_cflb_state_entry(ngx_conf_t *cf, json_t *e,
    ngx_uint_t endpoint, ngx_cflb_state_t *st);
static ngx_int_t ngx_cflb_state_string(ngx_conf_t *cf, json_t *e,
    const char *key, ngx_str_t *s);
static ngx_int_t ngx_cflb_state_pair(json_t *e, const char *key,
    ngx_uint_t weight, cflb_override_t *o);
static void ngx_cflb_state_unrepeat(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_cflb_state_counts_t *n);
static int ngx_libc_cdecl ngx_cflb_state_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_cflb_state_key_cmp(ngx_cflb_state_t *a,
    ngx_cflb_state_t *b);
static ngx_int_t ngx_cflb_state_dir(ngx_cflb_conf_t *ccf, ngx_str_t *dir,
    ngx_log_t *log);
static ngx_int_t ngx_cflb_state_try(ngx_cflb_conf_t *ccf, ngx_str_t *dir,
    u_char *why, size_t len);
static ngx_int_t ngx_cflb_state_try_as(ngx_cflb_conf_t *ccf, ngx_str_t *dir,
    u_char *why, size_t len);
static ngx_int_t ngx_cflb_state_probe(ngx_str_t *dir, ngx_str_t *file,
    u_char *why, size_t len);
static void ngx_cflb_state_lock(ngx_cflb_sh_t *sh);
static u_char *ngx_cflb_state_json(ngx_cflb_conf_t *ccf, u_char *p);
static ngx_int_t ngx_cflb_state_save(ngx_str_t *file, u_char *data,
    size_t len, ngx_log_t *log, u_char *why, size_t wlen);
static void ngx_cflb_state_outcome(ngx_cflb_conf_t *ccf, u_char *why);
static u_char *ngx_cflb_state_why(u_char *why, size_t len, ngx_err_t err,
    const char *op, u_char *name);


static const char  *ngx_cflb_state_lists_names[] = { "pools", "endpoints" };


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

    /* its "user" is known once every main directive is read */
    ccf->core = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                                 ngx_core_module);

    return NGX_CONF_OK;
}


ngx_int_t
ngx_cflb_state_read(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    json_t                   *root;
    ngx_cflb_state_counts_t   n;

    if (ccf->state_file.len == 0) {
        return NGX_OK;
    }

    if (ngx_cflb_state_unique(cf, ccf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_cflb_state_load(cf, ccf, &root) != NGX_OK) {
        return NGX_ERROR;
    }

    if (root == NULL) {
        return NGX_OK;
    }

    if (!json_is_object(root)
        || json_integer_value(json_object_get(root, "version")) != 1)
    {
        json_decref(root);
        ngx_cflb_state_corrupt(cf, ccf, "not a version 1 state file");
        return NGX_OK;
    }

    ngx_memzero(&n, sizeof(ngx_cflb_state_counts_t));

    if (ngx_cflb_state_lists(cf, ccf, root, &n) != NGX_OK) {
        json_decref(root);
        return NGX_ERROR;
    }

    json_decref(root);

    if (n.invalid > NGX_CFLB_STATE_WARN) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "cflb_state_file \"%V\": %ui more invalid entries "
                      "ignored", &ccf->state_file,
                      n.invalid - NGX_CFLB_STATE_WARN);
    }

    ngx_cflb_state_unrepeat(cf, ccf, &n);

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


/*
 * The file parsed into *root, or NULL: none (no change was ever made),
 * unreadable, or corrupt (moved aside).  NGX_ERROR when it is not a
 * regular file: a FIFO would block the master, a directory could never
 * be replaced.
 */

static ngx_int_t
ngx_cflb_state_load(ngx_conf_t *cf, ngx_cflb_conf_t *ccf, json_t **root)
{
    off_t            size;
    u_char           why[NGX_MAX_ERROR_STR], *data;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_err_t        err;
    ngx_file_t       file;
    json_error_t     jerr;
    ngx_file_info_t  fi;

    *root = NULL;

    /* non-blocking: opening a FIFO must not wait for a writer */
    fd = open((char *) ccf->state_file.data, O_RDONLY|O_NONBLOCK);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_WARN, cf->log, err,
                          "cflb_state_file \"%V\" cannot be read, its "
                          "overrides are not applied", &ccf->state_file);
        }

        return NGX_OK;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "cflb_state_file \"%V\" is not a regular file",
                      &ccf->state_file);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    /* read whole: jansson's own file reader takes a byte per read() */

    size = ngx_file_size(&fi);

    if (size > NGX_CFLB_STATE_MAX) {
        (void) ngx_close_file(fd);
        ngx_cflb_state_corrupt(cf, ccf, "larger than 64m");
        return NGX_OK;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = ccf->state_file;
    file.log = cf->log;

    data = ngx_alloc((size_t) size + 1, cf->log);
    n = data ? ngx_read_file(&file, data, (size_t) size, 0) : NGX_ERROR;

    (void) ngx_close_file(fd);

    if (n != size) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "cflb_state_file \"%V\" cannot be read, its "
                      "overrides are not applied", &ccf->state_file);
        if (data) {
            ngx_free(data);
        }

        return NGX_OK;
    }

    *root = json_loadb((char *) data, (size_t) size, JSON_REJECT_DUPLICATES,
                       &jerr);

    ngx_free(data);

    if (*root == NULL) {
        (void) ngx_snprintf(why, sizeof(why), "%s at line %d%Z", jerr.text,
                            jerr.line);
        ngx_cflb_state_corrupt(cf, ccf, (char *) why);
    }

    return NGX_OK;
}


/*
 * A file that cannot be used whole keeps the operator's data: it is
 * renamed FILE.corrupt-TIME (in UTC) so that the next change, which
 * rewrites FILE, does not overwrite it.  nginx -t only says so.
 */

static void
ngx_cflb_state_corrupt(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    const char *why)
{
    u_char     *aside;
    ngx_tm_t    tm;
    ngx_str_t  *file;

    file = &ccf->state_file;

    /* nginx -t and nginx -s read the configuration too */
    if (ngx_test_config || ngx_process == NGX_PROCESS_SIGNALLER) {
        ngx_log_error(NGX_LOG_ERR, cf->log, 0,
                      "cflb_state_file \"%V\" is corrupt (%s): the "
                      "overrides it holds are not applied, and nginx will "
                      "move it aside when it loads this configuration",
                      file, why);
        return;
    }

    aside = ngx_pnalloc(cf->pool, file->len + sizeof(".corrupt-") - 1
                                  + sizeof("YYYYmmddTHHMMSSZ"));
    if (aside == NULL) {
        return;
    }

    ngx_gmtime(ngx_time(), &tm);

    (void) ngx_sprintf(aside, "%V.corrupt-%4d%02d%02dT%02d%02d%02dZ%Z",
                       file, tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

    if (ngx_rename_file(file->data, aside) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, cf->log, ngx_errno,
                      "cflb_state_file \"%V\" is corrupt (%s): the "
                      "overrides it holds are not applied, and it cannot be "
                      "moved to \"%s\"", file, why, aside);
        return;
    }

    ccf->state_corrupt.data = aside;
    ccf->state_corrupt.len = ngx_strlen(aside);

    ngx_log_error(NGX_LOG_ERR, cf->log, 0,
                  "cflb_state_file \"%V\" is corrupt (%s): moved to \"%V\", "
                  "the overrides it holds are not applied", file, why,
                  &ccf->state_corrupt);
}


/* "pools" and "endpoints": each an array, if there */

static ngx_int_t
ngx_cflb_state_lists(ngx_conf_t *cf, ngx_cflb_conf_t *ccf, json_t *root,
    ngx_cflb_state_counts_t *n)
{
    size_t             i, k;
    json_t            *list, *v;
    const char        *key, *name;
    ngx_cflb_state_t  *st;

    json_object_foreach(root, key, v) {
        if (ngx_strcmp(key, "version") != 0
            && ngx_strcmp(key, "pools") != 0
            && ngx_strcmp(key, "endpoints") != 0)
        {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "cflb_state_file \"%V\": unknown field \"%s\", "
                          "ignored", &ccf->state_file, key);
        }
    }

    ccf->state = ngx_array_create(cf->pool, 4, sizeof(ngx_cflb_state_t));
    if (ccf->state == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < 2; k++) {
        name = ngx_cflb_state_lists_names[k];
        list = json_object_get(root, name);

        if (list == NULL) {
            continue;
        }

        if (!json_is_array(list)) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "cflb_state_file \"%V\": \"%s\" is not an array, "
                          "ignored", &ccf->state_file, name);
            continue;
        }

        for (i = 0; i < json_array_size(list); i++) {
            st = ngx_array_push(ccf->state);
            if (st == NULL) {
                return NGX_ERROR;
            }

            if (ngx_cflb_state_entry(cf, json_array_get(list, i), k, st)
                == NGX_OK)
            {
                st->index = i;
                continue;
            }

            ccf->state->nelts--;

            if (n->invalid++ < NGX_CFLB_STATE_WARN) {
                ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                              "cflb_state_file \"%V\": entry %uz of \"%s\" "
                              "is invalid, ignored", &ccf->state_file, i,
                              name);
            }
        }
    }

    return NGX_OK;
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


/*
 * The entries sorted by pool, endpoint and address for the lookups of
 * the zone's binding; of entries for one object the first in the file
 * stays, the others are logged (a few, then a count) and dropped, so
 * that a repeat is not taken for an object gone from the configuration.
 */

static void
ngx_cflb_state_unrepeat(ngx_conf_t *cf, ngx_cflb_conf_t *ccf,
    ngx_cflb_state_counts_t *n)
{
    ngx_uint_t         i, j;
    ngx_cflb_state_t  *st;

    if (ccf->state->nelts < 2) {
        return;
    }

    st = ccf->state->elts;

    /* ties keep the file's order: pools come first, then by index */
    ngx_qsort(st, ccf->state->nelts, sizeof(ngx_cflb_state_t),
              ngx_cflb_state_cmp);

    for (i = 1, j = 1; i < ccf->state->nelts; i++) {
        if (ngx_cflb_state_key_cmp(&st[j - 1], &st[i]) != 0) {
            st[j++] = st[i];
            continue;
        }

        if (n->repeated++ < NGX_CFLB_STATE_WARN) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "cflb_state_file \"%V\": entry %ui of \"%s\" "
                          "repeats pool \"%V\" endpoint \"%V\" %V, only "
                          "entry %ui is used", &ccf->state_file,
                          st[i].index,
                          ngx_cflb_state_lists_names[st[i].endpoint.len != 0],
                          &st[i].pool, &st[i].endpoint, &st[i].address,
                          st[j - 1].index);
        }
    }

    ccf->state->nelts = j;

    if (n->repeated > NGX_CFLB_STATE_WARN) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "cflb_state_file \"%V\": %ui more repeated entries "
                      "ignored", &ccf->state_file,
                      n->repeated - NGX_CFLB_STATE_WARN);
    }
}


static int ngx_libc_cdecl
ngx_cflb_state_cmp(const void *one, const void *two)
{
    ngx_int_t          rc;
    ngx_cflb_state_t  *a, *b;

    a = (ngx_cflb_state_t *) one;
    b = (ngx_cflb_state_t *) two;

    rc = ngx_cflb_state_key_cmp(a, b);

    if (rc != 0) {
        return rc < 0 ? -1 : 1;
    }

    return (a->index > b->index) - (a->index < b->index);
}


/* by length, then bytes: any total order will do for the lookups */

static ngx_int_t
ngx_cflb_state_key_cmp(ngx_cflb_state_t *a, ngx_cflb_state_t *b)
{
    ngx_int_t    rc;
    ngx_str_t   *x[3], *y[3];
    ngx_uint_t   i;

    x[0] = &a->pool;
    x[1] = &a->endpoint;
    x[2] = &a->address;
    y[0] = &b->pool;
    y[1] = &b->endpoint;
    y[2] = &b->address;

    for (i = 0; i < 3; i++) {
        if (x[i]->len != y[i]->len) {
            return x[i]->len < y[i]->len ? -1 : 1;
        }

        rc = ngx_memcmp(x[i]->data, y[i]->data, x[i]->len);

        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


ngx_cflb_state_t *
ngx_cflb_state_find(ngx_cflb_conf_t *ccf, ngx_str_t *pool,
    ngx_str_t *endpoint, ngx_str_t *address)
{
    ngx_int_t          rc;
    ngx_uint_t         lo, hi, mid;
    ngx_cflb_state_t  *st, key;

    if (ccf->state == NULL) {
        return NULL;
    }

    key.pool = *pool;
    key.endpoint = *endpoint;
    key.address = *address;

    st = ccf->state->elts;
    lo = 0;
    hi = ccf->state->nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        rc = ngx_cflb_state_key_cmp(&key, &st[mid]);

        if (rc == 0) {
            st[mid].used = 1;
            return &st[mid];
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


ngx_int_t
ngx_cflb_state_init_zone(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    size_t          len;
    ngx_str_t       dir;
    ngx_cflb_sh_t  *sh;

    if (ccf->state_file.len == 0) {
        return NGX_OK;
    }

    dir = ccf->state_file;

    while (dir.len && dir.data[dir.len - 1] != '/') {
        dir.len--;
    }

    dir.len = dir.len > 1 ? dir.len - 1 : dir.len;

    if (ngx_cflb_state_dir(ccf, &dir, log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ccf->state_corrupt.len == 0) {
        return NGX_OK;
    }

    /* shown by the status document until the next good write */

    sh = ccf->sh;
    len = ccf->state_corrupt.len + 1;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    if (sh->state_corrupt) {
        ngx_slab_free_locked(ccf->shpool, sh->state_corrupt);
    }

    sh->state_corrupt = ngx_slab_alloc_locked(ccf->shpool, len);

    if (sh->state_corrupt) {
        ngx_memcpy(sh->state_corrupt, ccf->state_corrupt.data, len);
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    return NGX_OK;
}


/*
 * The directory, made if missing as nginx makes its temp paths (one
 * level, 0700, given to the workers' user), then tried as that user.
 */

static ngx_int_t
ngx_cflb_state_dir(ngx_cflb_conf_t *ccf, ngx_str_t *dir, ngx_log_t *log)
{
    u_char            why[NGX_MAX_ERROR_STR], name[NGX_MAX_PATH + 1];
    ngx_err_t         err;
    ngx_uid_t         user;
    struct passwd    *pwd;
    ngx_file_info_t   fi;

    if (dir->len > NGX_MAX_PATH) {
        return NGX_OK;                  /* the write will say */
    }

    (void) ngx_cpystrn(name, dir->data, dir->len + 1);

    user = ccf->core ? ccf->core->user : (ngx_uid_t) NGX_CONF_UNSET_UINT;

    if (ngx_file_info(name, &fi) == NGX_FILE_ERROR
        && ngx_errno == NGX_ENOENT)
    {
        if (ngx_create_dir(name, 0700) == NGX_FILE_ERROR) {
            err = ngx_errno;

            if (err != NGX_EEXIST) {
                ngx_log_error(NGX_LOG_EMERG, log, err,
                              ngx_create_dir_n " \"%s\" failed, the "
                              "directory of cflb_state_file \"%V\"", name,
                              &ccf->state_file);
                return NGX_ERROR;
            }
        }

        if (user != (ngx_uid_t) NGX_CONF_UNSET_UINT
            && chown((char *) name, user, -1) == -1)
        {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                          "chown(\"%s\", %d) failed", name, user);
            return NGX_ERROR;
        }
    }

    if (ngx_cflb_state_try(ccf, dir, why, sizeof(why)) == NGX_OK) {
        return NGX_OK;
    }

    if (user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "cflb_state_file \"%V\": the worker processes' user "
                      "\"%s\" cannot create and rename files in \"%s\": %s; "
                      "give that user the directory, or put the file in "
                      "one it can write", &ccf->state_file,
                      ccf->core->username, name, why);
        return NGX_ERROR;
    }

    pwd = getpwuid(geteuid());

    ngx_log_error(NGX_LOG_EMERG, log, 0,
                  "cflb_state_file \"%V\": the worker processes' user "
                  "\"%s\" cannot create and rename files in \"%s\": %s",
                  &ccf->state_file, pwd ? pwd->pw_name : "?", name, why);

    return NGX_ERROR;
}


/*
 * The workers' writes, tried: as the workers' user, who differs from
 * the master's only when the master runs as root with "user".
 */

static ngx_int_t
ngx_cflb_state_try(ngx_cflb_conf_t *ccf, ngx_str_t *dir, u_char *why,
    size_t len)
{
    if (geteuid() == 0
        && ccf->core
        && ccf->core->user != (ngx_uid_t) NGX_CONF_UNSET_UINT
        && ccf->core->user != 0)
    {
        return ngx_cflb_state_try_as(ccf, dir, why, len);
    }

    return ngx_cflb_state_probe(dir, &ccf->state_file, why, len);
}


/*
 * A child takes the workers' credentials, as ngx_worker_process_init()
 * does, tries, and reports through a pipe.  The master waits for it:
 * its SIGCHLD is blocked while it reads a configuration, and a signal
 * that comes later finds nothing to reap.
 */

static ngx_int_t
ngx_cflb_state_try_as(ngx_cflb_conf_t *ccf, ngx_str_t *dir, u_char *why,
    size_t len)
{
    int               fds[2], status;
    u_char           *p;
    ssize_t           n, got;
    ngx_pid_t         pid;
    ngx_core_conf_t  *core;

    core = ccf->core;

    if (pipe(fds) == -1) {
        p = ngx_cflb_state_why(why, len, ngx_errno, "pipe()", NULL);
        return NGX_ERROR;
    }

    pid = fork();

    if (pid == -1) {
        p = ngx_cflb_state_why(why, len, ngx_errno, "fork()", NULL);
        close(fds[0]);
        close(fds[1]);
        return NGX_ERROR;
    }

    if (pid == 0) {
        close(fds[0]);

        if (setgid(core->group) == -1) {
            p = ngx_cflb_state_why(why, len, ngx_errno, "setgid()", NULL);

        } else if (initgroups(core->username, core->group) == -1) {
            p = ngx_cflb_state_why(why, len, ngx_errno, "initgroups()",
                                   NULL);

        } else if (setuid(core->user) == -1) {
            p = ngx_cflb_state_why(why, len, ngx_errno, "setuid()", NULL);

        } else if (ngx_cflb_state_probe(dir, &ccf->state_file, why, len)
                   == NGX_OK)
        {
            _exit(0);

        } else {
            p = why + ngx_strlen(why);
        }

        if (write(fds[1], why, ngx_max(p - why, 1)) == -1) {
            /* void: the parent reads nothing and says "?" */
        }

        _exit(1);
    }

    close(fds[1]);

    for (got = 0; got < (ssize_t) len - 1; got += n) {
        n = read(fds[0], why + got, len - 1 - got);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            break;
        }
    }

    why[got] = '\0';
    close(fds[0]);

    while (waitpid(pid, &status, 0) == -1 && ngx_errno == NGX_EINTR) {
        /* void */
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return NGX_OK;
    }

    if (got == 0) {
        (void) ngx_cpystrn(why, (u_char *) "the check did not finish", len);
    }

    return NGX_ERROR;
}


/*
 * What a write does, with a name of its own: create a file, rename it,
 * remove it.  NGX_OK, or NGX_ERROR with why, NUL-terminated.
 */

static ngx_int_t
ngx_cflb_state_probe(ngx_str_t *dir, ngx_str_t *file, u_char *why,
    size_t len)
{
    u_char    *base, a[NGX_MAX_PATH + 32], b[NGX_MAX_PATH + 34];
    ngx_fd_t   fd;

    if (file->len > NGX_MAX_PATH) {
        (void) ngx_cpystrn(why, (u_char *) "the name is too long", len);
        return NGX_ERROR;
    }

    base = file->data + dir->len + (dir->len > 1 || dir->data[0] != '/');

    (void) ngx_sprintf(a, "%*s/.%*s.check-%P%Z", dir->len, dir->data,
                       (size_t) (file->data + file->len - base), base,
                       ngx_getpid());
    (void) ngx_sprintf(b, "%s.r%Z", a);

    fd = ngx_open_file(a, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN | O_EXCL,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        (void) ngx_cflb_state_why(why, len, ngx_errno, ngx_open_file_n, a);
        return NGX_ERROR;
    }

    (void) ngx_close_file(fd);

    if (ngx_rename_file(a, b) == NGX_FILE_ERROR) {
        (void) ngx_cflb_state_why(why, len, ngx_errno, ngx_rename_file_n, a);
        (void) ngx_delete_file(a);
        return NGX_ERROR;
    }

    if (ngx_delete_file(b) == NGX_FILE_ERROR) {
        (void) ngx_cflb_state_why(why, len, ngx_errno, ngx_delete_file_n, b);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The state file: the overrides of this configuration's objects, written
 * to FILE.tmp, synced and renamed over FILE, so that a reader sees the old
 * file or the new one.  Writers take a lock of their own (not the zone
 * mutex, which requests may wait for), so the last change is the last
 * written.
 */

ngx_int_t
ngx_cflb_state_write(ngx_cflb_conf_t *ccf, ngx_log_t *log, u_char *why,
    size_t len)
{
    size_t                size;
    u_char               *buf, *p, err[NGX_CFLB_STATE_ERR];
    ngx_int_t             rc;
    ngx_uint_t            i, j;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_endpoint_t  *eps;

    if (ccf->state_file.len == 0) {
        return NGX_OK;
    }

    size = 64;
    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        size += 128 + NGX_CFLB_JSON_ESCAPED * pools[i]->name.len;
        eps = pools[i]->endpoints.elts;

        for (j = 0; j < pools[i]->endpoints.nelts; j++) {
            size += 256 + NGX_CFLB_JSON_ESCAPED
                          * (pools[i]->name.len + eps[j].name.len
                             + eps[j].addr.name.len);
        }
    }

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        (void) ngx_cpystrn(err, (u_char *) "out of memory", sizeof(err));
        rc = NGX_ERROR;
        goto done;
    }

    ngx_cflb_state_lock(ccf->sh);

    ngx_shmtx_lock(&ccf->shpool->mutex);
    p = ngx_cflb_state_json(ccf, buf);
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    rc = ngx_cflb_state_save(&ccf->state_file, buf, p - buf, log, err,
                             sizeof(err));

    if (rc == NGX_OK) {
        ccf->state_dirty = 0;
    }

    ngx_cflb_state_outcome(ccf, rc == NGX_OK ? NULL : err);

    (void) ngx_atomic_cmp_set(&ccf->sh->state_lock, ngx_pid, 0);

    ngx_free(buf);

done:

    if (rc != NGX_OK && why) {
        (void) ngx_cpystrn(why, err, len);
    }

    return rc;
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
    ngx_log_t *log, u_char *why, size_t wlen)
{
    u_char    *tmp;
    ssize_t    n;
    ngx_fd_t   fd;
    ngx_err_t  err;

    tmp = ngx_alloc(file->len + sizeof(".tmp"), log);
    if (tmp == NULL) {
        (void) ngx_cpystrn(why, (u_char *) "out of memory", wlen);
        return NGX_ERROR;
    }

    /* file is NUL-terminated: ngx_conf_full_name() made it */
    ngx_sprintf(tmp, "%V.tmp%Z", file);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        (void) ngx_cflb_state_why(why, wlen, ngx_errno, ngx_open_file_n,
                                  tmp);
        goto failed;
    }

    n = ngx_write_fd(fd, data, len);
    err = (n == -1) ? ngx_errno : NGX_ENOSPC;

    if (n == (ssize_t) len && fsync(fd) == -1) {
        err = ngx_errno;
        n = -1;
    }

    if (n != (ssize_t) len) {
        (void) ngx_cflb_state_why(why, wlen, err, "write()", tmp);
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    (void) ngx_close_file(fd);

    if (ngx_rename_file(tmp, file->data) == NGX_FILE_ERROR) {
        (void) ngx_cflb_state_why(why, wlen, ngx_errno, ngx_rename_file_n,
                                  tmp);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    ngx_free(tmp);

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "cflb: cannot save the runtime overrides in "
                  "cflb_state_file \"%V\": %s", file, why);

    ngx_free(tmp);

    return NGX_ERROR;
}


/* the zone remembers the last write: why it failed, or that it did not */

static void
ngx_cflb_state_outcome(ngx_cflb_conf_t *ccf, u_char *why)
{
    ngx_cflb_sh_t  *sh;

    sh = ccf->sh;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    if (why) {
        (void) ngx_cpystrn(sh->state_error, why, sizeof(sh->state_error));
        sh->state_failed = ngx_time();

    } else {
        sh->state_error[0] = '\0';
        sh->state_failed = 0;

        if (sh->state_corrupt) {
            ngx_slab_free_locked(ccf->shpool, sh->state_corrupt);
            sh->state_corrupt = NULL;
        }
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);
}


ngx_uint_t
ngx_cflb_state_unsaved(ngx_cflb_conf_t *ccf)
{
    ngx_uint_t  failed;

    if (ccf->state_file.len == 0) {
        return 0;
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);
    failed = (ccf->sh->state_failed != 0);
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    return failed;
}


/* "OP "NAME" failed (ERRNO: TEXT)", NUL-terminated; returns its end */

static u_char *
ngx_cflb_state_why(u_char *why, size_t len, ngx_err_t err, const char *op,
    u_char *name)
{
    u_char  *p, *last;

    last = why + len - 1;

    p = name ? ngx_slprintf(why, last, "%s \"%s\" failed (%d: ", op, name,
                            err)
             : ngx_slprintf(why, last, "%s failed (%d: ", op, err);

    p = ngx_strerror(err, p, last - p);
    p = ngx_slprintf(p, last, ")");
    *p = '\0';

    return p;
}


size_t
ngx_cflb_state_status_size(ngx_cflb_conf_t *ccf)
{
    if (ccf->state_file.len == 0 || ccf->sh == NULL) {
        return 0;
    }

    return sizeof(",\"state_file\":{\"path\":,\"saved\":false,\"failed\":"
                  ",\"error\":,\"corrupt\":}") + NGX_TIME_T_LEN + 6
           + NGX_CFLB_JSON_ESCAPED * (2 * ccf->state_file.len + 32
                                      + NGX_CFLB_STATE_ERR);
}


/*
 * ,"state_file":{"path", "saved", ["failed", "error"], ["corrupt"]}
 * after the document's pools, when the zone has a file.
 */

u_char *
ngx_cflb_state_status(u_char *p, ngx_cflb_conf_t *ccf)
{
    size_t          n;
    ngx_str_t       s;
    ngx_cflb_sh_t  *sh;

    if (ngx_cflb_state_status_size(ccf) == 0) {
        return p;
    }

    sh = ccf->sh;

    p = ngx_sprintf(p, ",\"state_file\":{\"path\":");
    p = ngx_cflb_json_str(p, &ccf->state_file);

    ngx_shmtx_lock(&ccf->shpool->mutex);

    p = ngx_sprintf(p, ",\"saved\":%s", sh->state_failed ? "false" : "true");

    if (sh->state_failed) {
        s.data = sh->state_error;
        s.len = ngx_strlen(sh->state_error);

        p = ngx_sprintf(p, ",\"failed\":%T,\"error\":", sh->state_failed);
        p = ngx_cflb_json_str(p, &s);
    }

    if (sh->state_corrupt) {
        n = ngx_strlen(sh->state_corrupt);
        s.data = sh->state_corrupt;
        s.len = ngx_min(n, 2 * ccf->state_file.len + 32);

        p = ngx_sprintf(p, ",\"corrupt\":");
        p = ngx_cflb_json_str(p, &s);
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    *p++ = '}';

    return p;
}
