
/*
 * cflb_cluster as configured: the directive (etcd members resolved at
 * start, the zone's key prefix, this node's name), the checks that need
 * every block read, the zone's record of the fleet, and what the status
 * document shows of it.  The rest is in ngx_cflb_cluster_link.c and
 * ngx_cflb_cluster_apply.c (docs/fleet.md).
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_cluster.h"
#include "ngx_cflb_json.h"


#define NGX_CFLB_CLUSTER_TTL         10000  /* msec: the votes' lease */
#define NGX_CFLB_CLUSTER_TIMEOUT     2000   /* msec: one request */


static ngx_int_t ngx_cflb_cluster_option(ngx_conf_t *cf,
    ngx_cflb_cluster_t *cl, ngx_str_t *value);
static char *ngx_cflb_cluster_members(ngx_conf_t *cf, ngx_cflb_cluster_t *cl,
    ngx_str_t *list);
static ngx_int_t ngx_cflb_cluster_range_keys(ngx_conf_t *cf,
    ngx_cflb_cluster_t *cl);


static const char  *ngx_cflb_etcd_states[] = {
    "idle", "connecting", "connected", "reconnecting", "unreachable"
};


/* ------------------------------------------------------- the directive */

char *
ngx_cflb_cluster_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_cflb_conf_t *ccf = conf;

    ngx_int_t            rc;
    ngx_str_t           *value, *list;
    ngx_uint_t           i;
    ngx_cflb_cluster_t  *cl;

    if (ccf->cluster) {
        return "is duplicate";
    }

    cl = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_cluster_t));
    if (cl == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cl->prefix = { 0, NULL };
     *     cl->node = { 0, NULL };
     *     cl->quorum = 0;
     */

    cl->ccf = ccf;
    cl->ttl = NGX_CONF_UNSET_MSEC;
    cl->timeout = NGX_CONF_UNSET_MSEC;

    value = cf->args->elts;
    list = NULL;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "etcd=", 5) == 0 && list == NULL) {
            list = &value[i];
            continue;
        }

        rc = ngx_cflb_cluster_option(cf, cl, &value[i]);

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (rc != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (list == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cflb_cluster needs \"etcd=\" with the URLs of "
                           "the etcd members");
        return NGX_CONF_ERROR;
    }

    if (ngx_cflb_cluster_members(cf, cl, list) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (cl->prefix.data == NULL) {
        ngx_str_set(&cl->prefix, "/cflb/");
    }

    if (cl->node.data == NULL) {
        cl->node = cf->cycle->hostname;

        if (!ngx_cflb_cluster_node_ok(cl->node.data, cl->node.len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the host name \"%V\" cannot name this node, "
                               "set \"node=\"", &cl->node);
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_init_msec_value(cl->ttl, NGX_CFLB_CLUSTER_TTL);
    ngx_conf_init_msec_value(cl->timeout, NGX_CFLB_CLUSTER_TIMEOUT);

    if (ngx_cflb_cluster_range_keys(cf, cl) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ccf->cluster = cl;

    return NGX_CONF_OK;
}


/*
 * prefix=, node=, ttl= or timeout=, each once: NGX_OK; NGX_DECLINED for
 * anything else (the caller says which); NGX_ERROR once it said why
 */

static ngx_int_t
ngx_cflb_cluster_option(ngx_conf_t *cf, ngx_cflb_cluster_t *cl,
    ngx_str_t *value)
{
    ngx_int_t  n;
    ngx_str_t  s;

    s.data = ngx_strlchr(value->data, value->data + value->len, '=');
    if (s.data == NULL) {
        return NGX_DECLINED;
    }

    s.data++;
    s.len = value->data + value->len - s.data;

    if (ngx_strncmp(value->data, "prefix=", 7) == 0
        && cl->prefix.data == NULL)
    {
        if (s.len == 0 || s.data[0] != '/') {
            return NGX_DECLINED;
        }

        cl->prefix = s;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "node=", 5) == 0 && cl->node.data == NULL) {
        if (!ngx_cflb_cluster_node_ok(s.data, s.len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid node name \"%V\": 1 to %d letters, "
                               "digits, \".\", \"_\" or \"-\"", &s,
                               CFLB_NODE_NAME);
            return NGX_ERROR;
        }

        cl->node = s;
        return NGX_OK;
    }

    n = ngx_parse_time(&s, 0);

    if (n == NGX_ERROR || n < 100 || n > 3600000) {
        return NGX_DECLINED;
    }

    /* a shorter lease of the votes would expire in an etcd election */
    if (ngx_strncmp(value->data, "ttl=", 4) == 0
        && cl->ttl == NGX_CONF_UNSET_MSEC && n >= 2000)
    {
        cl->ttl = (ngx_msec_t) n;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "timeout=", 8) == 0
        && cl->timeout == NGX_CONF_UNSET_MSEC)
    {
        cl->timeout = (ngx_msec_t) n;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* "etcd=http://a:2379,http://b:2379": each resolved now, like endpoints */

static char *
ngx_cflb_cluster_members(ngx_conf_t *cf, ngx_cflb_cluster_t *cl,
    ngx_str_t *list)
{
    u_char                  *p, *last, *comma;
    ngx_url_t                u;
    ngx_str_t                url;
    ngx_cflb_etcd_member_t  *m;

    if (ngx_array_init(&cl->members, cf->pool, 3,
                       sizeof(ngx_cflb_etcd_member_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = list->data + 5;
    last = list->data + list->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');

        url.data = p;
        url.len = (comma ? comma : last) - p;
        p = comma ? comma + 1 : last;

        if (url.len >= 8
            && ngx_strncasecmp(url.data, (u_char *) "https://", 8) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "https etcd members are not supported in "
                               "\"%V\", use http:// on a trusted network or "
                               "a local TLS proxy", &url);
            return NGX_CONF_ERROR;
        }

        if (url.len < 8
            || ngx_strncasecmp(url.data, (u_char *) "http://", 7) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid etcd URL \"%V\": it must start with "
                               "\"http://\"", &url);
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&u, sizeof(ngx_url_t));

        u.url.data = url.data + 7;
        u.url.len = url.len - 7;
        u.default_port = 2379;
        u.uri_part = 1;

        if (u.url.len && u.url.data[u.url.len - 1] == '/') {
            u.url.len--;
        }

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0
            || u.uri.len)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in etcd URL \"%V\"",
                               u.err ? u.err
                               : u.uri.len ? "a path" : "no address", &url);
            return NGX_CONF_ERROR;
        }

        m = ngx_array_push(&cl->members);
        if (m == NULL) {
            return NGX_CONF_ERROR;
        }

        m->url = url;
        m->addr = u.addrs[0];
        m->host = u.url;
    }

    if (cl->members.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"etcd=\" names no member");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The zone's keys: "<prefix><subsystem>/", the prefix ending in "/", and
 * the range a watch covers, [base, base with its last byte + 1).
 */

static ngx_int_t
ngx_cflb_cluster_range_keys(ngx_conf_t *cf, ngx_cflb_cluster_t *cl)
{
    u_char      *p;
    size_t       len;
    const char  *sub;

    sub = cl->ccf->http ? "http/" : "stream/";
    len = cl->prefix.len + 1 + ngx_strlen(sub);

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    cl->base.data = p;
    p = ngx_cpymem(p, cl->prefix.data, cl->prefix.len);

    if (p[-1] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, sub, ngx_strlen(sub));
    cl->base.len = p - cl->base.data;

    cl->base64.data = ngx_pnalloc(cf->pool, cflb_base64_len(cl->base.len));
    cl->end64.data = ngx_pnalloc(cf->pool, cflb_base64_len(cl->base.len));
    p = ngx_pnalloc(cf->pool, cl->base.len);

    if (cl->base64.data == NULL || cl->end64.data == NULL || p == NULL) {
        return NGX_ERROR;
    }

    cl->base64.len = cflb_base64_encode(cl->base64.data, cl->base.data,
                                        cl->base.len);

    ngx_memcpy(p, cl->base.data, cl->base.len);
    p[cl->base.len - 1]++;               /* "/" + 1 is "0" */

    cl->end64.len = cflb_base64_encode(cl->end64.data, p, cl->base.len);

    return NGX_OK;
}


/* what a host name may hold, so that status needs no escaping */

ngx_uint_t
ngx_cflb_cluster_node_ok(u_char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > CFLB_NODE_NAME) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= 'A' && name[i] <= 'Z')
              || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '.' || name[i] == '_' || name[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_cflb_cluster_check(ngx_conf_t *cf, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t            i;
    ngx_cflb_pool_t     **pools;
    ngx_cflb_monitor_t  **mons;

    mons = ccf->monitors.elts;

    for (i = 0; i < ccf->monitors.nelts; i++) {
        if (mons[i]->quorum == NGX_CFLB_QUORUM_MAJORITY
            && ccf->cluster == NULL)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"quorum majority\" of cflb_monitor \"%V\" in "
                          "%s:%ui needs cflb_cluster", &mons[i]->name,
                          mons[i]->file, mons[i]->line);
            return NGX_ERROR;
        }
    }

    if (ccf->cluster == NULL) {
        return NGX_OK;
    }

    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (ngx_cflb_cluster_counts(pools[i])) {
            ccf->cluster->quorum = 1;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_cflb_cluster_init_zone(ngx_cflb_conf_t *ccf, ngx_log_t *log)
{
    ngx_cflb_sh_cluster_t  *sh;

    if (ccf->cluster == NULL || ccf->sh->cluster) {
        return NGX_OK;
    }

    sh = ngx_slab_calloc_locked(ccf->shpool, sizeof(ngx_cflb_sh_cluster_t));
    if (sh == NULL) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "cflb zone \"%V\" has no room for cflb_cluster, make "
                      "it larger", &ccf->shm_zone->shm.name);
        return NGX_ERROR;
    }

    ccf->sh->cluster = sh;

    return NGX_OK;
}


/* ---------------------------------------------------------- the status */

size_t
ngx_cflb_cluster_status_size(ngx_cflb_conf_t *ccf)
{
    size_t               size;
    ngx_uint_t           i;
    ngx_cflb_pool_t    **pools;
    ngx_cflb_cluster_t  *cl;

    cl = ccf->cluster;

    if (cl == NULL) {
        return 0;
    }

    size = 512 + 6 * (cl->node.len + cl->prefix.len)
           + 6 * NGX_CFLB_CLUSTER_ERR;

    for (i = 0; i < cl->members.nelts; i++) {
        size += 6 * ((ngx_cflb_etcd_member_t *) cl->members.elts)[i].url.len;
    }

    /* node names need no escaping (ngx_cflb_cluster_node_ok()) */
    pools = ccf->pools.elts;

    for (i = 0; i < ccf->pools.nelts; i++) {
        if (ngx_cflb_cluster_counts(pools[i])) {
            size += pools[i]->endpoints.nelts
                    * (128 + CFLB_NODES * (CFLB_NODE_NAME + 16));
        }
    }

    return size;
}


/*
 * ,"cluster":{"node","prefix","etcd" (the state),"member","since",
 * "revision","lease","owner","error"}
 */

u_char *
ngx_cflb_cluster_status(u_char *p, ngx_cflb_conf_t *ccf)
{
    ngx_str_t                err, url;
    ngx_cflb_cluster_t      *cl;
    ngx_cflb_sh_cluster_t    sh;

    cl = ccf->cluster;

    if (cl == NULL || ccf->sh == NULL || ccf->sh->cluster == NULL) {
        return p;
    }

    ngx_shmtx_lock(&ccf->shpool->mutex);
    ngx_memcpy(&sh, ccf->sh->cluster,
               offsetof(ngx_cflb_sh_cluster_t, nodes));
    ngx_shmtx_unlock(&ccf->shpool->mutex);

    url = ((ngx_cflb_etcd_member_t *) cl->members.elts)
              [sh.member % cl->members.nelts].url;

    p = ngx_sprintf(p, ",\"cluster\":{\"node\":");
    p = ngx_cflb_json_str(p, &cl->node);
    p = ngx_sprintf(p, ",\"prefix\":");
    p = ngx_cflb_json_str(p, &cl->base);
    p = ngx_sprintf(p, ",\"etcd\":\"%s\",\"member\":",
                    ngx_cflb_etcd_states[sh.state]);
    p = ngx_cflb_json_str(p, &url);
    p = ngx_sprintf(p, ",\"since\":%T,\"revision\":%L,\"lease\":",
                    sh.since, sh.applied);

    if (sh.lease) {
        p = ngx_sprintf(p, "\"%016xL\"", sh.lease);

    } else {
        p = ngx_sprintf(p, "null");
    }

    p = ngx_sprintf(p, ",\"owner\":%P,\"error\":", (ngx_pid_t) sh.owner);

    if (sh.error_len) {
        err.data = sh.error;
        err.len = sh.error_len;
        p = ngx_cflb_json_str(p, &err);

    } else {
        p = ngx_sprintf(p, "null");
    }

    return ngx_sprintf(p, "}");
}


/*
 * "quorum":{"local":"healthy","healthy":2,"unhealthy":1,
 * "votes":{"fra-2":"healthy","fra-3":"unhealthy"}}, after another member
 */

u_char *
ngx_cflb_cluster_votes(u_char *p, ngx_cflb_endpoint_t *ep)
{
    unsigned                 i, up, down, n;
    ngx_cflb_conf_t         *ccf;
    cflb_vote_e              local, v;
    cflb_health_t            h;
    cflb_votes_t             votes;
    ngx_cflb_sh_cluster_t   *sh;

    ccf = ep->pool->conf;

    if (!ngx_cflb_cluster_counts(ep->pool) || ccf->sh->cluster == NULL) {
        return p;
    }

    sh = ccf->sh->cluster;

    ngx_shmtx_lock(&ccf->shpool->mutex);

    h = ep->sh->local;
    votes = ep->sh->votes;
    local = !h.known ? CFLB_VOTE_NONE
            : h.healthy ? CFLB_VOTE_UP : CFLB_VOTE_DOWN;

    (void) cflb_quorum(local, &votes, &up, &down);

    p = ngx_sprintf(p, ",\"quorum\":{\"local\":\"%s\",\"healthy\":%ui,"
                    "\"unhealthy\":%ui,\"votes\":{",
                    local == CFLB_VOTE_NONE ? "unknown"
                    : local == CFLB_VOTE_UP ? "healthy" : "unhealthy",
                    (ngx_uint_t) up, (ngx_uint_t) down);

    n = 0;

    for (i = 0; i < CFLB_NODES; i++) {
        v = cflb_votes_get(&votes, i);

        if (v == CFLB_VOTE_NONE
            || !(sh->nodes.used & ((uint64_t) 1 << i)))
        {
            continue;
        }

        p = ngx_sprintf(p, "%s\"%*s\":\"%s\"", n++ ? "," : "",
                        (size_t) sh->nodes.node[i].len,
                        sh->nodes.node[i].name,
                        v == CFLB_VOTE_UP ? "healthy" : "unhealthy");
    }

    ngx_shmtx_unlock(&ccf->shpool->mutex);

    return ngx_sprintf(p, "}}");
}
