
/*
 * cflb_etcd: what cflb reads from and writes to etcd's v3 JSON gateway,
 * without I/O.  The gateway's answers (one JSON document, or a stream of
 * them one per line for a watch), base64 keys and values, the layout of
 * cflb's keys below a zone's prefix, and the values stored there.  Input
 * is untrusted: every limit is explicit.
 *
 * Keys, below "<prefix><subsystem>/" (names %-escaped, see below):
 *
 *     pool/POOL/enabled                  a runtime override of a pool
 *     endpoint/POOL/ENDPOINT/enabled     ... of an endpoint
 *     endpoint/POOL/ENDPOINT/weight
 *     vote/POOL/ENDPOINT/NODE            a node's health verdict (leased)
 *
 * Values are JSON objects: {"enabled":false,"configured":true,
 * "node":"fra-1","at":1764520000}, {"weight":0.3,"configured":0.5,...},
 * {"healthy":true,"node":"fra-1"}; unknown members are ignored.
 */

#ifndef _CFLB_ETCD_H_INCLUDED_
#define _CFLB_ETCD_H_INCLUDED_


#include "cflb_core.h"


/* ------------------------------------------------------------ answers */

/* one key-value of a range answer, or of a watch event */
typedef struct {
    cflb_str_t        key;          /* base64, as in the answer */
    cflb_str_t        value;        /* base64; empty for a deletion */
    int64_t           mod_revision;
    int64_t           lease;        /* 0: none */
    unsigned          deleted:1;    /* a DELETE event */
} cflb_etcd_kv_t;


/*
 * One answer of the gateway, streamed ones in their {"result": ...}
 * envelope included.  Numbers it does not carry are 0.
 */
typedef struct {
    int64_t           revision;          /* header.revision */
    int64_t           compact_revision;  /* a watch canceled: compacted */
    int64_t           id;                /* lease grant, keepalive: ID */
    int64_t           ttl;               /* TTL; 0 after keepalive: gone */
    int64_t           count;             /* range: keys in all pages */
    int64_t           code;              /* the error's gRPC code */
    cflb_str_t        error;             /* its message, raw JSON text */
    cflb_str_t        cancel_reason;     /* raw JSON text */
    uint8_t           has_error;
    uint8_t           created;           /* watch created */
    uint8_t           canceled;          /* watch canceled */
    uint8_t           succeeded;         /* txn */
    uint8_t           more;              /* range: a next page */
} cflb_etcd_msg_t;

/* returns CFLB_OK to go on; anything else stops the parse with it */
typedef int (*cflb_etcd_kv_pt)(void *data, const cflb_etcd_kv_t *kv);

/*
 * cflb_etcd_parse() reads one answer from json[0..len) into m and hands
 * each key-value ("kvs" of a range, the "kv" of each of a watch's
 * "events", in order) to kv (may be NULL), once the whole answer is known
 * to be well formed: a malformed answer applies nothing.  Returns CFLB_OK,
 * CFLB_ERROR (not JSON, not an object, or a known member of the wrong
 * type), or what kv returned.
 */
int cflb_etcd_parse(const unsigned char *json, size_t len,
    cflb_etcd_msg_t *m, cflb_etcd_kv_pt kv, void *data);


/* ----------------------------------------------------- a watch stream */

/*
 * The messages of a streamed answer, once its chunked coding is undone:
 * each one JSON document ended by "\n".  The caller's buffer bounds a
 * message.
 */
typedef struct {
    unsigned char    *buf;
    size_t            size;
    size_t            start;        /* of the next message */
    size_t            end;          /* of the bytes held */
    size_t            scanned;      /* from start, no "\n" up to here */
} cflb_etcd_frames_t;

void cflb_etcd_frames_init(cflb_etcd_frames_t *f, unsigned char *buf,
    size_t size);

/*
 * cflb_etcd_frames_feed() takes what fits of data[0..n) (the messages
 * already returned may be moved out of the way): returns how many bytes
 * it took.  cflb_etcd_frames_next() returns the next whole message, its
 * "\n" (and a "\r" before it) left out, in *msg and *len, valid until
 * the next feed: CFLB_OK; CFLB_AGAIN (none yet); CFLB_ERROR when the
 * buffer is full without one (a message longer than it).  Blank lines
 * are skipped.
 */
size_t cflb_etcd_frames_feed(cflb_etcd_frames_t *f, const unsigned char *data,
    size_t n);
int cflb_etcd_frames_next(cflb_etcd_frames_t *f, const unsigned char **msg,
    size_t *len);


/* ------------------------------------------------------------- base64 */

/* the length of n bytes in base64 (RFC 4648, padded) */
#define cflb_base64_len(n)   (((n) + 2) / 3 * 4)

/* writes src[0..len) as base64 to dst; returns the bytes written */
size_t cflb_base64_encode(unsigned char *dst, const unsigned char *src,
    size_t len);

/*
 * cflb_base64_decode() reads padded base64 (the standard alphabet, as
 * etcd writes it) into dst (room for len / 4 * 3 bytes), the length in
 * *dlen.  CFLB_OK, or CFLB_ERROR for any other text: another alphabet, a
 * length not a multiple of 4, misplaced "=", bits left over.
 */
int cflb_base64_decode(unsigned char *dst, size_t *dlen,
    const unsigned char *src, size_t len);


/* --------------------------------------------------------------- keys */

typedef enum {
    CFLB_ETCD_POOL = 1,
    CFLB_ETCD_ENDPOINT,
    CFLB_ETCD_VOTE
} cflb_etcd_kind_e;

typedef enum {
    CFLB_ETCD_ENABLED = 1,
    CFLB_ETCD_WEIGHT
} cflb_etcd_field_e;

typedef struct {
    cflb_etcd_kind_e  kind;
    cflb_etcd_field_e field;        /* pool and endpoint keys */
    cflb_str_t        pool;
    cflb_str_t        endpoint;     /* endpoint and vote keys */
    cflb_str_t        node;         /* vote keys */
} cflb_etcd_key_t;

/*
 * cflb_etcd_key() writes the key of k (below the zone's base; the names
 * it points to, escaped) to dst, or with dst NULL only measures it.
 * Returns its length.  Escaped: every byte but letters, digits and
 * "-._~", as %XX.
 */
size_t cflb_etcd_key(unsigned char *dst, const cflb_etcd_key_t *k);

/*
 * cflb_etcd_key_parse() reads a key below the zone's base into k, the
 * names unescaped into buf (len bytes are enough).  CFLB_OK; CFLB_DECLINED
 * for a key of another layout (a later version's: ignored); CFLB_ERROR
 * for a bad escape or an empty name.
 */
int cflb_etcd_key_parse(const unsigned char *key, size_t len,
    cflb_etcd_key_t *k, unsigned char *buf);


/* ------------------------------------------------------------- values */

#define CFLB_ETCD_NODE_MAX  63      /* the longest node name */

typedef struct {
    int               enabled;      /* 0, 1; -1: absent */
    int               weight;       /* 0..CFLB_WEIGHT_SCALE; -1: absent */
    int               conf_enabled; /* "configured", when a boolean */
    int               conf_weight;  /* "configured", when a weight */
    int               healthy;      /* votes */
    int64_t           at;           /* Unix seconds of the change; 0 */
    size_t            node_len;
    unsigned char     node[CFLB_ETCD_NODE_MAX];
} cflb_etcd_value_t;

/*
 * cflb_etcd_value_parse() reads a value (a JSON object) into v.  Weights
 * are numbers from 0 to 1 with two decimals at most (the API's rule); a
 * node name longer than CFLB_ETCD_NODE_MAX is an error.  CFLB_OK or
 * CFLB_ERROR.
 */
int cflb_etcd_value_parse(const unsigned char *json, size_t len,
    cflb_etcd_value_t *v);


#endif /* _CFLB_ETCD_H_INCLUDED_ */
