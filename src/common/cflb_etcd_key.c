
/*
 * cflb_etcd keys and values: the layout of cflb's keys below a zone's
 * prefix (cflb_etcd.h), names escaped so that "/" separates parts, and
 * the JSON objects stored as values.
 */


#include <string.h>

#include "cflb_etcd.h"
#include "cflb_json_read.h"


/* the bytes a name keeps as they are: letters, digits and "-._~" */
static const uint32_t  cflb_etcd_plain[] = {
    0x00000000,                    /* 0x00 .. 0x1f */
    0x03ff6000,                    /* "-", ".", "0" .. "9" */
    0x87fffffe,                    /* "A" .. "Z", "_" */
    0x47fffffe,                    /* "a" .. "z", "~" */
    0, 0, 0, 0
};

static const unsigned char  cflb_etcd_hex[] = "0123456789ABCDEF";




static size_t cflb_etcd_name(unsigned char *dst, const cflb_str_t *name);
static size_t cflb_etcd_lit(unsigned char *dst, const char *lit);
static int cflb_etcd_unescape(const unsigned char *s, size_t len,
    cflb_str_t *name, unsigned char **buf);
static int cflb_etcd_value_visit(void *data, const cflb_json_path_t *path,
    cflb_json_type_e type, const unsigned char *text, size_t len);
static int cflb_etcd_hexval(unsigned char c);


size_t
cflb_etcd_key(unsigned char *dst, const cflb_etcd_key_t *k)
{
    size_t         n;
    unsigned char  *p;

    static const char  *kinds[] = { "", "pool/", "endpoint/", "vote/" };

    p = dst;
    n = cflb_etcd_lit(p, kinds[k->kind]);
    n += cflb_etcd_name(p ? p + n : NULL, &k->pool);
    n += cflb_etcd_lit(p ? p + n : NULL, "/");

    if (k->kind != CFLB_ETCD_POOL) {
        n += cflb_etcd_name(p ? p + n : NULL, &k->endpoint);
        n += cflb_etcd_lit(p ? p + n : NULL, "/");
    }

    if (k->kind == CFLB_ETCD_VOTE) {
        return n + cflb_etcd_name(p ? p + n : NULL, &k->node);
    }

    return n + cflb_etcd_lit(p ? p + n : NULL,
                             k->field == CFLB_ETCD_WEIGHT ? "weight"
                                                          : "enabled");
}


static size_t
cflb_etcd_lit(unsigned char *dst, const char *lit)
{
    size_t  n;

    n = strlen(lit);

    if (dst) {
        memcpy(dst, lit, n);
    }

    return n;
}


static size_t
cflb_etcd_name(unsigned char *dst, const cflb_str_t *name)
{
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (cflb_etcd_plain[c >> 5] & (1u << (c & 0x1f))) {
            if (dst) {
                dst[n] = c;
            }

            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = cflb_etcd_hex[c >> 4];
            dst[n + 2] = cflb_etcd_hex[c & 0xf];
        }

        n += 3;
    }

    return n;
}


int
cflb_etcd_key_parse(const unsigned char *key, size_t len,
    cflb_etcd_key_t *k, unsigned char *buf)
{
    size_t                n, i;
    cflb_str_t           *names[3];
    const unsigned char  *part[4], *end, *slash;
    size_t                plen[4];

    memset(k, 0, sizeof(cflb_etcd_key_t));

    end = key + len;
    n = 0;

    /* split on "/": up to four parts after the kind */

    slash = memchr(key, '/', len);
    if (slash == NULL) {
        return CFLB_DECLINED;
    }

    if ((size_t) (slash - key) == 4 && memcmp(key, "pool", 4) == 0) {
        k->kind = CFLB_ETCD_POOL;

    } else if ((size_t) (slash - key) == 8
               && memcmp(key, "endpoint", 8) == 0)
    {
        k->kind = CFLB_ETCD_ENDPOINT;

    } else if ((size_t) (slash - key) == 4 && memcmp(key, "vote", 4) == 0) {
        k->kind = CFLB_ETCD_VOTE;

    } else {
        return CFLB_DECLINED;
    }

    key = slash + 1;

    while (key <= end) {
        if (n == 4) {
            return CFLB_DECLINED;
        }

        slash = (key < end) ? memchr(key, '/', (size_t) (end - key)) : NULL;
        part[n] = key;
        plen[n] = (size_t) ((slash ? slash : end) - key);
        n++;

        if (slash == NULL) {
            break;
        }

        key = slash + 1;
    }

    if (n != (k->kind == CFLB_ETCD_POOL ? 2u : 3u)) {
        return CFLB_DECLINED;
    }

    names[0] = &k->pool;
    names[1] = &k->endpoint;
    names[2] = &k->node;

    if (k->kind != CFLB_ETCD_VOTE) {
        /* the last part is the field */

        n--;

        if (plen[n] == 7 && memcmp(part[n], "enabled", 7) == 0) {
            k->field = CFLB_ETCD_ENABLED;

        } else if (k->kind == CFLB_ETCD_ENDPOINT && plen[n] == 6
                   && memcmp(part[n], "weight", 6) == 0)
        {
            k->field = CFLB_ETCD_WEIGHT;

        } else {
            return CFLB_DECLINED;
        }
    }

    for (i = 0; i < n; i++) {
        if (cflb_etcd_unescape(part[i], plen[i], names[i], &buf) != CFLB_OK) {
            return CFLB_ERROR;
        }
    }

    return CFLB_OK;
}


static int
cflb_etcd_unescape(const unsigned char *s, size_t len, cflb_str_t *name,
    unsigned char **buf)
{
    int             hi, lo;
    size_t          i;
    unsigned char  *p;

    if (len == 0) {
        return CFLB_ERROR;
    }

    p = *buf;
    name->data = p;

    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            *p++ = s[i];
            continue;
        }

        if (len - i < 3) {
            return CFLB_ERROR;
        }

        hi = cflb_etcd_hexval(s[i + 1]);
        lo = cflb_etcd_hexval(s[i + 2]);

        if (hi < 0 || lo < 0) {
            return CFLB_ERROR;
        }

        *p++ = (unsigned char) (hi << 4 | lo);
        i += 2;
    }

    name->len = (size_t) (p - name->data);
    *buf = p;

    return CFLB_OK;
}


static int
cflb_etcd_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


int
cflb_etcd_value_parse(const unsigned char *json, size_t len,
    cflb_etcd_value_t *v)
{
    memset(v, 0, sizeof(cflb_etcd_value_t));

    v->enabled = -1;
    v->weight = -1;
    v->conf_enabled = -1;
    v->conf_weight = -1;
    v->healthy = -1;

    if (cflb_json_walk(json, len, cflb_etcd_value_visit, v, NULL)
        != CFLB_OK)
    {
        return CFLB_ERROR;
    }

    return CFLB_OK;
}


static int
cflb_etcd_value_visit(void *data, const cflb_json_path_t *path,
    cflb_json_type_e type, const unsigned char *text, size_t len)
{
    cflb_etcd_value_t *v = data;

    int       *flag;
    uint32_t   w;

    if (path->depth == 0) {
        return (type == CFLB_JSON_OBJECT || type == CFLB_JSON_OBJECT_END)
               ? CFLB_OK : CFLB_ERROR;
    }

    if (path->depth > 1) {
        return CFLB_OK;                 /* inside a member we ignore */
    }

    flag = NULL;

    if (cflb_json_name_is(path, 1, "enabled")) {
        flag = &v->enabled;

    } else if (cflb_json_name_is(path, 1, "healthy")) {
        flag = &v->healthy;

    } else if (cflb_json_name_is(path, 1, "configured")
               && (type == CFLB_JSON_TRUE || type == CFLB_JSON_FALSE))
    {
        flag = &v->conf_enabled;
    }

    if (flag) {
        if (type != CFLB_JSON_TRUE && type != CFLB_JSON_FALSE) {
            return CFLB_ERROR;
        }

        *flag = (type == CFLB_JSON_TRUE);
        return CFLB_OK;
    }

    if (cflb_json_name_is(path, 1, "weight")
        || cflb_json_name_is(path, 1, "configured"))
    {
        if (type != CFLB_JSON_NUMBER
            || cflb_weight_parse(text, len, &w) != CFLB_OK)
        {
            return CFLB_ERROR;
        }

        if (path->name[1].data[0] == 'w') {
            v->weight = (int) w;

        } else {
            v->conf_weight = (int) w;
        }

        return CFLB_OK;
    }

    if (cflb_json_name_is(path, 1, "at")) {
        if (type != CFLB_JSON_NUMBER
            || cflb_json_int64(text, len, &v->at) != CFLB_OK)
        {
            return CFLB_ERROR;
        }

        return CFLB_OK;
    }

    if (cflb_json_name_is(path, 1, "node")) {
        if (type != CFLB_JSON_STRING
            || cflb_json_unescape(text, len, v->node, sizeof(v->node),
                                  &v->node_len)
               != CFLB_OK)
        {
            return CFLB_ERROR;
        }

        return CFLB_OK;
    }

    return CFLB_OK;
}
