
/*
 * cflb_etcd: the etcd v3 gateway's answers (read with cflb_json in two
 * passes: the first checks the whole answer, the second hands its
 * key-values over), the messages of a watch stream, and base64.
 */


#include <stddef.h>
#include <string.h>

#include "cflb_etcd.h"
#include "cflb_json_read.h"


typedef struct {
    cflb_etcd_msg_t  *m;
    cflb_etcd_kv_t    kv;
    cflb_etcd_kv_pt   handler;      /* NULL: the checking pass */
    void             *data;
} cflb_etcd_parse_t;


static int cflb_etcd_visit(void *data, const cflb_json_path_t *path,
    cflb_json_type_e type, const unsigned char *text, size_t len);
static int cflb_etcd_top(cflb_etcd_parse_t *ps, const cflb_str_t *name,
    cflb_json_type_e type, const unsigned char *text, size_t len);
static int cflb_etcd_kv_member(cflb_etcd_kv_t *kv, const cflb_str_t *name,
    cflb_json_type_e type, const unsigned char *text, size_t len);
static int cflb_etcd_int(cflb_json_type_e type, const unsigned char *text,
    size_t len, int64_t *v);
static int cflb_etcd_bool(cflb_json_type_e type, unsigned *v);


#define cflb_etcd_is(name, lit)                                               \
    ((name)->len == sizeof(lit) - 1                                           \
     && memcmp((name)->data, lit, sizeof(lit) - 1) == 0)


int
cflb_etcd_parse(const unsigned char *json, size_t len, cflb_etcd_msg_t *m,
    cflb_etcd_kv_pt kv, void *data)
{
    int                rc;
    cflb_etcd_parse_t  ps;

    memset(m, 0, sizeof(cflb_etcd_msg_t));
    memset(&ps, 0, sizeof(cflb_etcd_parse_t));

    ps.m = m;

    rc = cflb_json_walk(json, len, cflb_etcd_visit, &ps, NULL);

    if (rc != CFLB_OK || kv == NULL) {
        return rc;
    }

    ps.handler = kv;
    ps.data = data;

    return cflb_json_walk(json, len, cflb_etcd_visit, &ps, NULL);
}


/*
 * The answer's members are at depth 1, or at depth 2 in a streamed
 * answer's "result"; b is that envelope's depth (0 or 1), r the depth
 * below it.
 */

static int
cflb_etcd_visit(void *data, const cflb_json_path_t *path,
    cflb_json_type_e type, const unsigned char *text, size_t len)
{
    cflb_etcd_parse_t *ps = data;

    unsigned           b, r;
    const cflb_str_t  *list;

    if (path->depth == 0) {
        return (type == CFLB_JSON_OBJECT || type == CFLB_JSON_OBJECT_END)
               ? CFLB_OK : CFLB_ERROR;
    }

    b = cflb_json_name_is(path, 1, "result") ? 1 : 0;

    if (path->depth <= b) {
        return (type == CFLB_JSON_OBJECT || type == CFLB_JSON_OBJECT_END)
               ? CFLB_OK : CFLB_ERROR;
    }

    r = path->depth - b;

    if (r == 1) {
        return cflb_etcd_top(ps, &path->name[b + 1], type, text, len);
    }

    list = &path->name[b + 1];

    if (cflb_etcd_is(list, "header")) {
        if (r == 2 && cflb_json_name_is(path, b + 2, "revision")) {
            return cflb_etcd_int(type, text, len, &ps->m->revision);
        }

        return CFLB_OK;
    }

    if (cflb_etcd_is(list, "error")) {
        if (r != 2) {
            return CFLB_OK;
        }

        if (cflb_json_name_is(path, b + 2, "message")) {
            if (type != CFLB_JSON_STRING) {
                return CFLB_ERROR;
            }

            ps->m->error.data = (unsigned char *) text;
            ps->m->error.len = len;
            return CFLB_OK;
        }

        if (cflb_json_name_is(path, b + 2, "grpc_code")) {
            return cflb_etcd_int(type, text, len, &ps->m->code);
        }

        return CFLB_OK;
    }

    if (!cflb_etcd_is(list, "kvs") && !cflb_etcd_is(list, "events")) {
        return CFLB_OK;
    }

    /* r == 2: an element of kvs or events */

    if (r == 2) {
        if (type == CFLB_JSON_OBJECT) {
            memset(&ps->kv, 0, sizeof(cflb_etcd_kv_t));
            return CFLB_OK;
        }

        if (type != CFLB_JSON_OBJECT_END) {
            return CFLB_ERROR;
        }

        return ps->handler ? ps->handler(ps->data, &ps->kv) : CFLB_OK;
    }

    if (cflb_etcd_is(list, "kvs")) {
        return (r == 3) ? cflb_etcd_kv_member(&ps->kv, &path->name[b + 3],
                                              type, text, len)
                        : CFLB_OK;
    }

    /* events: {"type": "DELETE", "kv": {...}} */

    if (r == 3 && cflb_json_name_is(path, b + 3, "type")) {
        if (type != CFLB_JSON_STRING) {
            return CFLB_ERROR;
        }

        ps->kv.deleted = (len == 6 && memcmp(text, "DELETE", 6) == 0);
        return CFLB_OK;
    }

    if (r == 4 && cflb_json_name_is(path, b + 3, "kv")) {
        return cflb_etcd_kv_member(&ps->kv, &path->name[b + 4], type, text,
                                   len);
    }

    return CFLB_OK;
}


/* the answer's own members of a plain type: booleans and integers */

typedef struct {
    const char       *name;
    size_t            len;
    unsigned          boolean;      /* uint8_t, else int64_t */
    size_t            offset;
} cflb_etcd_field_t;

#define cflb_etcd_field(name, boolean, field)                                 \
    { name, sizeof(name) - 1, boolean, offsetof(cflb_etcd_msg_t, field) }

static const cflb_etcd_field_t  cflb_etcd_fields[] = {
    cflb_etcd_field("created", 1, created),
    cflb_etcd_field("canceled", 1, canceled),
    cflb_etcd_field("succeeded", 1, succeeded),
    cflb_etcd_field("more", 1, more),
    cflb_etcd_field("compact_revision", 0, compact_revision),
    cflb_etcd_field("ID", 0, id),
    cflb_etcd_field("TTL", 0, ttl),
    cflb_etcd_field("count", 0, count),
    cflb_etcd_field("code", 0, code),
    { NULL, 0, 0, 0 }
};


/* a member of the answer itself */

static int
cflb_etcd_top(cflb_etcd_parse_t *ps, const cflb_str_t *name,
    cflb_json_type_e type, const unsigned char *text, size_t len)
{
    unsigned                  v;
    cflb_etcd_msg_t          *m;
    const cflb_etcd_field_t  *f;

    m = ps->m;

    for (f = cflb_etcd_fields; f->name; f++) {
        if (name->len != f->len || memcmp(name->data, f->name, f->len) != 0)
        {
            continue;
        }

        if (!f->boolean) {
            return cflb_etcd_int(type, text, len,
                                 (int64_t *) ((char *) m + f->offset));
        }

        if (cflb_etcd_bool(type, &v) != CFLB_OK) {
            return CFLB_ERROR;
        }

        *((uint8_t *) m + f->offset) = (uint8_t) v;
        return CFLB_OK;
    }

    if (cflb_etcd_is(name, "cancel_reason")) {
        if (type != CFLB_JSON_STRING) {
            return CFLB_ERROR;
        }

        m->cancel_reason.data = (unsigned char *) text;
        m->cancel_reason.len = len;
        return CFLB_OK;
    }

    /* "error": a message, or an object with one; "message" beside it */

    if (cflb_etcd_is(name, "error")) {
        if (type == CFLB_JSON_OBJECT || type == CFLB_JSON_OBJECT_END) {
            m->has_error = 1;
            return CFLB_OK;
        }

        if (type != CFLB_JSON_STRING) {
            return CFLB_ERROR;
        }

        m->has_error = 1;

        if (m->error.data == NULL) {
            m->error.data = (unsigned char *) text;
            m->error.len = len;
        }

        return CFLB_OK;
    }

    if (cflb_etcd_is(name, "message") && type == CFLB_JSON_STRING) {
        m->error.data = (unsigned char *) text;
        m->error.len = len;
    }

    return CFLB_OK;
}


static int
cflb_etcd_kv_member(cflb_etcd_kv_t *kv, const cflb_str_t *name,
    cflb_json_type_e type, const unsigned char *text, size_t len)
{
    if (cflb_etcd_is(name, "key") || cflb_etcd_is(name, "value")) {
        if (type != CFLB_JSON_STRING) {
            return CFLB_ERROR;
        }

        if (name->data[0] == 'k') {
            kv->key.data = (unsigned char *) text;
            kv->key.len = len;

        } else {
            kv->value.data = (unsigned char *) text;
            kv->value.len = len;
        }

        return CFLB_OK;
    }

    if (cflb_etcd_is(name, "mod_revision")) {
        return cflb_etcd_int(type, text, len, &kv->mod_revision);
    }

    if (cflb_etcd_is(name, "lease")) {
        return cflb_etcd_int(type, text, len, &kv->lease);
    }

    return CFLB_OK;
}


/* a 64-bit number, which the gateway writes as a string */

static int
cflb_etcd_int(cflb_json_type_e type, const unsigned char *text, size_t len,
    int64_t *v)
{
    if (type != CFLB_JSON_STRING && type != CFLB_JSON_NUMBER) {
        return CFLB_ERROR;
    }

    return cflb_json_int64(text, len, v);
}


static int
cflb_etcd_bool(cflb_json_type_e type, unsigned *v)
{
    if (type != CFLB_JSON_TRUE && type != CFLB_JSON_FALSE) {
        return CFLB_ERROR;
    }

    *v = (type == CFLB_JSON_TRUE);

    return CFLB_OK;
}


void
cflb_etcd_frames_init(cflb_etcd_frames_t *f, unsigned char *buf,
    size_t size)
{
    f->buf = buf;
    f->size = size;
    f->start = 0;
    f->end = 0;
    f->scanned = 0;
}


size_t
cflb_etcd_frames_feed(cflb_etcd_frames_t *f, const unsigned char *data,
    size_t n)
{
    if (f->start && f->size - f->end < n) {
        memmove(f->buf, f->buf + f->start, f->end - f->start);
        f->end -= f->start;
        f->start = 0;
    }

    if (n > f->size - f->end) {
        n = f->size - f->end;
    }

    if (n) {
        memcpy(f->buf + f->end, data, n);
        f->end += n;
    }

    return n;
}


int
cflb_etcd_frames_next(cflb_etcd_frames_t *f, const unsigned char **msg,
    size_t *len)
{
    size_t          i, k;
    unsigned char  *nl;

    for ( ;; ) {
        i = f->start + f->scanned;

        nl = (i < f->end) ? memchr(f->buf + i, '\n', f->end - i) : NULL;

        if (nl == NULL) {
            f->scanned = f->end - f->start;

            return (f->scanned == f->size) ? CFLB_ERROR : CFLB_AGAIN;
        }

        *msg = f->buf + f->start;
        *len = (size_t) (nl - *msg);

        f->start = (size_t) (nl - f->buf) + 1;
        f->scanned = 0;

        if (*len && (*msg)[*len - 1] == '\r') {
            (*len)--;
        }

        for (k = 0; k < *len; k++) {
            if ((*msg)[k] != ' ' && (*msg)[k] != '\t' && (*msg)[k] != '\r') {
                return CFLB_OK;
            }
        }
    }
}


static const unsigned char  cflb_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


size_t
cflb_base64_encode(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t          i;
    uint32_t        v;
    unsigned char  *p;

    p = dst;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8 | src[i + 2];
        *p++ = cflb_b64[v >> 18];
        *p++ = cflb_b64[v >> 12 & 63];
        *p++ = cflb_b64[v >> 6 & 63];
        *p++ = cflb_b64[v & 63];
    }

    if (i < len) {
        v = (uint32_t) src[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) src[i + 1] << 8;
        }

        *p++ = cflb_b64[v >> 18];
        *p++ = cflb_b64[v >> 12 & 63];
        *p++ = (i + 1 < len) ? cflb_b64[v >> 6 & 63] : '=';
        *p++ = '=';
    }

    return (size_t) (p - dst);
}


static int
cflb_base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    return (c == '/') ? 63 : -1;
}


int
cflb_base64_decode(unsigned char *dst, size_t *dlen,
    const unsigned char *src, size_t len)
{
    int        c;
    size_t     i, k, pad;
    uint32_t   v;

    if (len % 4) {
        return CFLB_ERROR;
    }

    pad = 0;

    if (len && src[len - 1] == '=') {
        pad = (src[len - 2] == '=') ? 2 : 1;
    }

    *dlen = 0;

    for (i = 0; i < len; i += 4) {
        v = 0;

        for (k = 0; k < 4; k++) {
            if (i + 4 == len && k >= 4 - pad) {
                v <<= 6;
                continue;
            }

            c = cflb_base64_value(src[i + k]);

            if (c < 0) {
                return CFLB_ERROR;
            }

            v = v << 6 | (uint32_t) c;
        }

        dst[(*dlen)++] = (unsigned char) (v >> 16);

        if (i + 4 < len || pad < 2) {
            dst[(*dlen)++] = (unsigned char) (v >> 8);
        }

        if (i + 4 < len || pad < 1) {
            dst[(*dlen)++] = (unsigned char) v;
        }

        /* the bits the padding leaves over must be zero (canonical) */
        if (i + 4 == len
            && ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff))))
        {
            return CFLB_ERROR;
        }
    }

    return CFLB_OK;
}
