
/*
 * The DNS-only counters for operators: in the status document (per load
 * balancer with a hostname, and the responder's as a whole beside "lbs"
 * and "pools") and as Prometheus metric families.  Both read the records
 * of ngx_cflb_dns_zone.c; the http module renders them for the stream
 * zone, so nothing here names a stream symbol.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_dns_zone.h"
#include "ngx_cflb_status.h"
#include "ngx_cflb_json.h"


/* a metric family of the responder as a whole, by its counter */
typedef struct {
    ngx_str_t                 name;
    char                     *help;
    size_t                    counter;       /* in ngx_cflb_sh_dns_t */
} ngx_cflb_dns_metric_t;


static u_char *ngx_cflb_dns_status_entry(u_char *p, ngx_cflb_lb_t *lb,
    ngx_uint_t e);
static u_char *ngx_cflb_dns_prom_head(u_char *p, char *name, char *help);
static u_char *ngx_cflb_dns_prom_lbs(u_char *p, ngx_cflb_conf_t *ccf);
static u_char *ngx_cflb_dns_prom_pools(u_char *p, ngx_cflb_conf_t *ccf,
    ngx_uint_t endpoints);


/* the most one object takes besides its names */
#define NGX_CFLB_DNS_OBJ      512


/* by NGX_CFLB_DNS_* (rcodes), as the status and the metrics name them */
static const char  *ngx_cflb_dns_rcode_names[] = {
    "noerror", "formerr", "servfail", "nxdomain", "notimp", "refused",
    "badvers"
};

/* by NGX_CFLB_DNS_RR_* */
static const char  *ngx_cflb_dns_rr_names[] = {
    "none", "A", "AAAA", "CNAME"
};

static const ngx_cflb_dns_metric_t  ngx_cflb_dns_metrics[] = {
    { ngx_string("cflb_dns_queries_total"),
      "DNS messages the responder received, UDP and TCP.",
      offsetof(ngx_cflb_sh_dns_t, queries) },
    { ngx_string("cflb_dns_tcp_queries_total"),
      "DNS messages the responder received over TCP.",
      offsetof(ngx_cflb_sh_dns_t, tcp) },
    { ngx_string("cflb_dns_nodata_total"),
      "NOERROR responses without an answer record (NODATA).",
      offsetof(ngx_cflb_sh_dns_t, nodata) },
    { ngx_string("cflb_dns_truncated_total"),
      "UDP responses sent truncated (TC), for the client to retry "
      "over TCP.", offsetof(ngx_cflb_sh_dns_t, truncated) },
    { ngx_string("cflb_dns_dropped_total"),
      "Messages dropped without a response (not a query, or too large).",
      offsetof(ngx_cflb_sh_dns_t, dropped) }
};


u_char *
ngx_cflb_dns_status_lb(u_char *p, ngx_cflb_lb_t *lb)
{
    ngx_uint_t             i;
    ngx_cflb_dns_lb_t     *dl;
    ngx_cflb_sh_dns_lb_t  *dsh;

    dl = lb->dns;

    if (dl == NULL || dl->sh == NULL) {
        return p;
    }

    dsh = dl->sh;

    p = ngx_sprintf(p, ",\"dns\":{\"hostname\":");
    p = ngx_cflb_json_str(p, &dl->hostname);
    p = ngx_sprintf(p, ",\"ttl\":%uD,\"enabled\":%s,\"queries\":%A,"
                    "\"answers\":%A,\"nodata\":%A,\"nxdomain\":%A,"
                    "\"pools\":[",
                    lb->view.dns_ttl, dl->enabled ? "true" : "false",
                    dsh->queries, dsh->answers, dsh->nodata, dsh->nxdomain);

    for (i = 0; i < lb->nentries; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cflb_dns_status_entry(p, lb, i);
    }

    return ngx_sprintf(p, "]}");
}


/* one pool the load balancer reaches: its answers, its endpoints' */

static u_char *
ngx_cflb_dns_status_entry(u_char *p, ngx_cflb_lb_t *lb, ngx_uint_t e)
{
    ngx_uint_t            j, peer;
    ngx_cflb_pool_t      *pool;
    ngx_cflb_dns_rr_t    *rr;
    ngx_cflb_endpoint_t  *ep;

    pool = lb->entries[e].pool;
    ep = pool->endpoints.elts;

    p = ngx_sprintf(p, "{\"name\":");
    p = ngx_cflb_json_str(p, &pool->name);
    p = ngx_sprintf(p, ",\"answers\":%A,\"endpoints\":[",
                    *ngx_cflb_dns_pool_count(lb->dns, e));

    for (j = 0; j < pool->endpoints.nelts; j++) {
        peer = lb->entries[e].base + j;
        rr = &lb->dns->rrs[peer];

        p = ngx_sprintf(p, "%s{\"name\":", j ? "," : "");
        p = ngx_cflb_json_str(p, &ep[j].name);
        p = ngx_sprintf(p, ",\"record\":\"%s\",\"data\":",
                        ngx_cflb_dns_rr_names[rr->type]);
        p = ngx_cflb_json_str(p, &rr->text);
        p = ngx_sprintf(p, ",\"answers\":%A}",
                        *ngx_cflb_dns_peer_count(lb, peer));
    }

    return ngx_sprintf(p, "]}");
}


u_char *
ngx_cflb_dns_status(u_char *p, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t             i;
    ngx_cflb_sh_dns_t     *shd;
    ngx_cflb_dns_zone_t  **zones;

    if (ccf->dns == NULL || ccf->sh == NULL || ccf->sh->dns == NULL) {
        return p;
    }

    shd = ccf->sh->dns;

    p = ngx_sprintf(p, ",\"dns\":{\"queries\":%A,\"tcp\":%A,"
                    "\"responses\":{", shd->queries, shd->tcp);

    for (i = 0; i < NGX_CFLB_DNS_NRCODES; i++) {
        p = ngx_sprintf(p, "%s\"%s\":%A", i ? "," : "",
                        ngx_cflb_dns_rcode_names[i], shd->rcodes[i]);
    }

    p = ngx_sprintf(p, "},\"nodata\":%A,\"truncated\":%A,\"dropped\":%A,"
                    "\"zones\":[", shd->nodata, shd->truncated,
                    shd->dropped);

    zones = ccf->dns->zones.elts;

    for (i = 0; i < ccf->dns->zones.nelts; i++) {
        p = ngx_sprintf(p, "%s{\"name\":", i ? "," : "");
        p = ngx_cflb_json_str(p, &zones[i]->name);
        p = ngx_sprintf(p, ",\"serial\":%uD}", zones[i]->soa.serial);
    }

    return ngx_sprintf(p, "]}");
}


size_t
ngx_cflb_dns_status_size(ngx_cflb_conf_t *ccf)
{
    size_t                 size;
    ngx_uint_t             i, j, k;
    ngx_cflb_lb_t        **lbs;
    ngx_cflb_pool_t       *pool;
    ngx_cflb_dns_rr_t     *rr;
    ngx_cflb_endpoint_t   *ep;
    ngx_cflb_dns_zone_t  **zones;

    if (ccf->dns == NULL) {
        return 0;
    }

    size = NGX_CFLB_DNS_OBJ;
    zones = ccf->dns->zones.elts;

    for (i = 0; i < ccf->dns->zones.nelts; i++) {
        size += 64 + NGX_CFLB_JSON_ESCAPED * zones[i]->name.len;
    }

    lbs = ccf->dns->lbs.elts;

    for (i = 0; i < ccf->dns->lbs.nelts; i++) {
        size += NGX_CFLB_DNS_OBJ
                + NGX_CFLB_JSON_ESCAPED * lbs[i]->dns->hostname.len;

        for (j = 0; j < lbs[i]->nentries; j++) {
            pool = lbs[i]->entries[j].pool;
            ep = pool->endpoints.elts;
            rr = &lbs[i]->dns->rrs[lbs[i]->entries[j].base];

            size += 64 + NGX_CFLB_JSON_ESCAPED * pool->name.len;

            for (k = 0; k < pool->endpoints.nelts; k++) {
                size += 96 + NGX_CFLB_JSON_ESCAPED
                             * (ep[k].name.len + rr[k].text.len);
            }
        }
    }

    return size;
}


u_char *
ngx_cflb_dns_prometheus(u_char *p, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t                    i;
    ngx_cflb_sh_dns_t            *shd;
    const ngx_cflb_dns_metric_t  *m;

    if (ccf == NULL || ccf->dns == NULL || ccf->sh == NULL
        || ccf->sh->dns == NULL)
    {
        return p;
    }

    shd = ccf->sh->dns;

    for (i = 0; i < sizeof(ngx_cflb_dns_metrics)
                    / sizeof(ngx_cflb_dns_metric_t); i++)
    {
        m = &ngx_cflb_dns_metrics[i];
        p = ngx_cflb_dns_prom_head(p, (char *) m->name.data, m->help);
        p = ngx_sprintf(p, "%V{subsystem=\"stream\"} %uA\n", &m->name,
                        *(ngx_atomic_t *) ((u_char *) shd + m->counter));
    }

    p = ngx_cflb_dns_prom_head(p, "cflb_dns_responses_total",
                               "DNS responses sent, by response code.");

    for (i = 0; i < NGX_CFLB_DNS_NRCODES; i++) {
        p = ngx_sprintf(p, "cflb_dns_responses_total{subsystem=\"stream\","
                        "rcode=\"%s\"} %uA\n", ngx_cflb_dns_rcode_names[i],
                        shd->rcodes[i]);
    }

    p = ngx_cflb_dns_prom_lbs(p, ccf);
    p = ngx_cflb_dns_prom_pools(p, ccf, 0);

    return ngx_cflb_dns_prom_pools(p, ccf, 1);
}


static u_char *
ngx_cflb_dns_prom_head(u_char *p, char *name, char *help)
{
    return ngx_sprintf(p, "# HELP %s %s\n# TYPE %s counter\n", name, help,
                       name);
}


/* per load balancer: its queries, and what they were answered */

static u_char *
ngx_cflb_dns_prom_lbs(u_char *p, ngx_cflb_conf_t *ccf)
{
    ngx_uint_t             i, r;
    ngx_atomic_t          *v;
    ngx_cflb_lb_t        **lbs;
    ngx_cflb_sh_dns_lb_t  *dsh;

    static char  *results[] = { "answer", "nodata", "nxdomain" };

    lbs = ccf->dns->lbs.elts;

    p = ngx_cflb_dns_prom_head(p, "cflb_dns_lb_queries_total",
                               "DNS queries for a load balancer's "
                               "hostname.");

    for (i = 0; i < ccf->dns->lbs.nelts; i++) {
        p = ngx_sprintf(p, "cflb_dns_lb_queries_total{subsystem=\"stream\"");
        p = ngx_cflb_prom_label(p, "lb", &lbs[i]->name);
        p = ngx_sprintf(p, "} %uA\n", lbs[i]->dns->sh->queries);
    }

    p = ngx_cflb_dns_prom_head(p, "cflb_dns_lb_responses_total",
                               "Responses to a load balancer's queries: "
                               "addresses, nothing could serve (NODATA), "
                               "or disabled (NXDOMAIN).");

    for (i = 0; i < ccf->dns->lbs.nelts; i++) {
        dsh = lbs[i]->dns->sh;

        for (r = 0; r < 3; r++) {
            v = (r == 0) ? &dsh->answers
                         : (r == 1) ? &dsh->nodata : &dsh->nxdomain;

            p = ngx_sprintf(p,
                            "cflb_dns_lb_responses_total{subsystem=\"stream\"");
            p = ngx_cflb_prom_label(p, "lb", &lbs[i]->name);
            p = ngx_sprintf(p, ",result=\"%s\"} %uA\n", results[r], *v);
        }
    }

    return p;
}


/* per load balancer and pool its answers, or and endpoint those with it */

static u_char *
ngx_cflb_dns_prom_pools(u_char *p, ngx_cflb_conf_t *ccf,
    ngx_uint_t endpoints)
{
    char                 *name;
    ngx_uint_t            i, j, k;
    ngx_cflb_lb_t       **lbs, *lb;
    ngx_cflb_pool_t      *pool;
    ngx_cflb_endpoint_t  *ep;

    name = endpoints ? "cflb_dns_endpoint_answers_total"
                     : "cflb_dns_pool_answers_total";

    p = ngx_cflb_dns_prom_head(p, name, endpoints
                ? "Answers of a load balancer that carried the endpoint."
                : "Answers of a load balancer that came from the pool.");

    lbs = ccf->dns->lbs.elts;

    for (i = 0; i < ccf->dns->lbs.nelts; i++) {
        lb = lbs[i];

        for (j = 0; j < lb->nentries; j++) {
            pool = lb->entries[j].pool;
            ep = pool->endpoints.elts;

            for (k = 0; k < (endpoints ? pool->endpoints.nelts : 1); k++) {
                p = ngx_sprintf(p, "%s{subsystem=\"stream\"", name);
                p = ngx_cflb_prom_label(p, "lb", &lb->name);
                p = ngx_cflb_prom_label(p, "pool", &pool->name);

                if (!endpoints) {
                    p = ngx_sprintf(p, "} %uA\n",
                                    *ngx_cflb_dns_pool_count(lb->dns, j));
                    continue;
                }

                p = ngx_cflb_prom_label(p, "endpoint", &ep[k].name);
                p = ngx_sprintf(p, "} %uA\n",
                                *ngx_cflb_dns_peer_count(lb,
                                          lb->entries[j].base + k));
            }
        }
    }

    return p;
}


size_t
ngx_cflb_dns_prometheus_size(ngx_cflb_conf_t *ccf)
{
    size_t                size;
    ngx_uint_t            i, j;
    ngx_cflb_lb_t       **lbs;
    ngx_cflb_pool_t      *pool;
    ngx_cflb_endpoint_t  *ep;

    if (ccf == NULL || ccf->dns == NULL) {
        return 0;
    }

    /* the families' heads and the responder's own samples */
    size = 4096;
    lbs = ccf->dns->lbs.elts;

    /* a sample: a metric name, label names, 20 digits, names doubled */
    for (i = 0; i < ccf->dns->lbs.nelts; i++) {
        size += 4 * (256 + 2 * lbs[i]->name.len);

        for (j = 0; j < lbs[i]->nentries; j++) {
            pool = lbs[i]->entries[j].pool;

            size += 256 + 2 * (lbs[i]->name.len + pool->name.len);

            for (ep = pool->endpoints.elts;
                 ep < (ngx_cflb_endpoint_t *) pool->endpoints.elts
                      + pool->endpoints.nelts;
                 ep++)
            {
                size += 256 + 2 * (lbs[i]->name.len + pool->name.len
                                   + ep->name.len);
            }
        }
    }

    return size;
}
