
/*
 * cflb_dns micro-benchmark: ns per query for the codec's share of an
 * answer, parse then write, as the responder will do it: three A
 * records (with EDNS, without, with a client subnet echoed), a NODATA
 * with the zone's SOA (compression searched), a CNAME and its A, a
 * REFUSED; the parse alone; and the case-insensitive hash the glue's
 * hostname table takes.  Built by "make bench" with -O2 and no
 * sanitizers.
 *
 * The machine is shared, so time is the thread's CPU time (time spent
 * descheduled does not count) and each row is the best of 5 runs of
 * about 50 ms: the figure is what the code costs, not the machine's
 * load.
 */


#define _POSIX_C_SOURCE  199309L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cflb_dns.h"


#define CFLB_BENCH_MS     50
#define CFLB_BENCH_RUNS   5
#define CFLB_BENCH_BATCH  1024


typedef enum {
    CFLB_BENCH_A3 = 0,
    CFLB_BENCH_NODATA,
    CFLB_BENCH_CNAME,
    CFLB_BENCH_REFUSED,
    CFLB_BENCH_PARSE,
    CFLB_BENCH_HASH
} cflb_bench_e;


static double cflb_bench_row(const unsigned char *pkt, size_t len,
    cflb_bench_e what, uint64_t *sink);
static size_t cflb_bench_one(const unsigned char *pkt, size_t len,
    cflb_bench_e what, unsigned char *out);
static double cflb_bench_now(void);


static const unsigned char  cflb_bench_ip[3][4] = {
    { 192, 0, 2, 1 }, { 192, 0, 2, 2 }, { 192, 0, 2, 3 }
};

static const unsigned char  cflb_bench_zone[] = "\7example\3com";
static const unsigned char  cflb_bench_ns1[] = "\3ns1\7example\3com";
static const unsigned char  cflb_bench_host[] = "\12hostmaster\7example\3com";
static const unsigned char  cflb_bench_origin[] = "\6origin\7example\3com";


/* www.example.com A: plain; EDNS 1232 with a cookie (dig); and ECS /24 */

static const unsigned char  cflb_bench_plain[] = {
    0xbf, 0xba, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03,
    'c', 'o', 'm', 0x00, 0x00, 0x01, 0x00, 0x01
};

static const unsigned char  cflb_bench_edns[] = {
    0x92, 0x8d, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x03, 'w', 'W', 'w', 0x07, 'E', 'x', 'A', 'm', 'p', 'l', 'e', 0x03,
    'C', 'O', 'M', 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
    0x00, 0x0a, 0x00, 0x08, 0xd9, 0x0c, 0xbf, 0x46, 0xf9, 0x53, 0x54, 0xca
};

static const unsigned char  cflb_bench_ecs[] = {
    0x92, 0x8d, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x03, 'w', 'W', 'w', 0x07, 'E', 'x', 'A', 'm', 'p', 'l', 'e', 0x03,
    'C', 'O', 'M', 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17,
    0x00, 0x08, 0x00, 0x07, 0x00, 0x01, 0x18, 0x00, 0xc0, 0x00, 0x02,
    0x00, 0x0a, 0x00, 0x08, 0xd9, 0x0c, 0xbf, 0x46, 0xf9, 0x53, 0x54, 0xca
};


int
main(void)
{
    size_t         k;
    uint64_t       sink;

    static const struct {
        const char            *name;
        const unsigned char   *pkt;
        size_t                 len;
        cflb_bench_e           what;
    } rows[] = {
        { "A x3, no EDNS", cflb_bench_plain, sizeof(cflb_bench_plain),
          CFLB_BENCH_A3 },
        { "A x3, EDNS + cookie", cflb_bench_edns, sizeof(cflb_bench_edns),
          CFLB_BENCH_A3 },
        { "A x3, EDNS + ECS /24 echoed", cflb_bench_ecs,
          sizeof(cflb_bench_ecs), CFLB_BENCH_A3 },
        { "NODATA + SOA, EDNS + ECS", cflb_bench_ecs,
          sizeof(cflb_bench_ecs), CFLB_BENCH_NODATA },
        { "CNAME + A, EDNS + ECS", cflb_bench_ecs,
          sizeof(cflb_bench_ecs), CFLB_BENCH_CNAME },
        { "REFUSED, EDNS + ECS", cflb_bench_ecs,
          sizeof(cflb_bench_ecs), CFLB_BENCH_REFUSED },
        { "parse only, EDNS + ECS", cflb_bench_ecs,
          sizeof(cflb_bench_ecs), CFLB_BENCH_PARSE },
        { "qname hash (glue lookup)", cflb_bench_ecs,
          sizeof(cflb_bench_ecs), CFLB_BENCH_HASH }
    };

    sink = 0;

    printf("cflb dns micro-benchmark: ns per query, parse + write "
           "(one thread, -O2)\n\n");
    printf("%-32s %10s %14s\n", "case", "ns/query", "queries/s");

    for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
        double  ns;

        ns = cflb_bench_row(rows[k].pkt, rows[k].len, rows[k].what, &sink);

        printf("%-32s %10.1f %14.0f\n", rows[k].name, ns, 1e9 / ns);
    }

    /* the checksum keeps the work from being optimized away */
    printf("\n(checksum %llu)\n", (unsigned long long) sink);

    return 0;
}


static double
cflb_bench_row(const unsigned char *pkt, size_t len, cflb_bench_e what,
    uint64_t *sink)
{
    double          start, elapsed, ns, best;
    uint64_t        n;
    unsigned        i, run;
    unsigned char   in[512], out[1232];

    memcpy(in, pkt, len);

    /* warm up, then batches until the time is up; the best run counts */

    for (i = 0; i < CFLB_BENCH_BATCH; i++) {
        *sink += cflb_bench_one(in, len, what, out);
    }

    best = 1e30;

    for (run = 0; run < CFLB_BENCH_RUNS; run++) {
        n = 0;
        start = cflb_bench_now();

        do {
            for (i = 0; i < CFLB_BENCH_BATCH; i++) {
                in[1] = (unsigned char) i;
                *sink += cflb_bench_one(in, len, what, out) + out[1];
            }

            n += CFLB_BENCH_BATCH;
            elapsed = cflb_bench_now() - start;

        } while (elapsed < CFLB_BENCH_MS / 1000.0);

        ns = elapsed * 1e9 / (double) n;

        if (ns < best) {
            best = ns;
        }
    }

    return best;
}


static size_t
cflb_bench_one(const unsigned char *pkt, size_t len, cflb_bench_e what,
    unsigned char *out)
{
    int                 rc;
    cflb_dns_soa_t      soa;
    cflb_dns_query_t    q;
    cflb_dns_writer_t   w;

    rc = cflb_dns_parse(pkt, len, &q);

    if (rc != CFLB_OK) {
        return 0;
    }

    switch (what) {

    case CFLB_BENCH_PARSE:
        return q.qname_len + q.ecs_source;

    case CFLB_BENCH_HASH:
        return (size_t) cflb_dns_name_hash(q.qname, q.qname_len, 0);

    case CFLB_BENCH_REFUSED:
        cflb_dns_begin(&w, &q, out, cflb_dns_limit(&q, 1232, 0),
                       CFLB_DNS_REFUSED, 0);
        break;

    case CFLB_BENCH_NODATA:
        soa.mname = cflb_bench_ns1;
        soa.rname = cflb_bench_host;
        soa.serial = 1;
        soa.refresh = 7200;
        soa.retry = 900;
        soa.expire = 1209600;
        soa.minimum = 300;

        cflb_dns_begin(&w, &q, out, cflb_dns_limit(&q, 1232, 0), 0,
                       CFLB_DNS_AA);
        cflb_dns_add_soa(&w, CFLB_DNS_AUTHORITY, cflb_bench_zone, 300, &soa);
        break;

    case CFLB_BENCH_CNAME:
        cflb_dns_begin(&w, &q, out, cflb_dns_limit(&q, 1232, 0), 0,
                       CFLB_DNS_AA);
        cflb_dns_add_cname(&w, 0, NULL, 30, cflb_bench_origin);
        cflb_dns_add_a(&w, 0, cflb_bench_origin, 30, cflb_bench_ip[0]);
        break;

    default:
        cflb_dns_begin(&w, &q, out, cflb_dns_limit(&q, 1232, 0), 0,
                       CFLB_DNS_AA);
        cflb_dns_add_a(&w, 0, NULL, 30, cflb_bench_ip[0]);
        cflb_dns_add_a(&w, 0, NULL, 30, cflb_bench_ip[1]);
        cflb_dns_add_a(&w, 0, NULL, 30, cflb_bench_ip[2]);
        break;
    }

    return cflb_dns_finish(&w, 1232, 24);
}


static double
cflb_bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}
