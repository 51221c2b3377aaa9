
/*
 * cflb geo lookup harness: the real ngx_cflb_geo_lookup(), outside
 * nginx, built by bench/geo-db.sh against the nginx headers of a
 * scripts/build.sh tree.
 *
 *   cflb_geo_lookup check DIR          the test databases that
 *                                      t/lib/cflb-mmdb.pl wrote in DIR:
 *                                      every layout and fallback, ends
 *                                      with "N passed, M failed"
 *   cflb_geo_lookup bench FILE N [6]   N lookups of pseudo-random
 *                                      IPv4 addresses (or IPv6 ones in
 *                                      the RIRs' /12s);
 *                                      run under callgrind with
 *                                      --toggle-collect=ngx_cflb_geo_lookup
 *                                      for the instructions per lookup
 *
 * Only the lookup half of the glue runs here: the database is opened
 * with MMDB_open() and ngx_cflb_geo_setup(), as ngx_cflb_geo_open()
 * does, and the few nginx functions the open half calls are stubs.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/un.h>

#include <maxminddb.h>

#include "ngx_cflb_geo.h"


static unsigned  passed, failed;


#define check(cond, ...)                                                    \
    do {                                                                    \
        if (cond) {                                                         \
            passed++;                                                       \
        } else {                                                            \
            failed++;                                                       \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                     \
            printf(__VA_ARGS__);                                            \
            printf("\n");                                                   \
        }                                                                   \
    } while (0)


/* ---- the nginx functions ngx_cflb_geo.c links to, for this harness */

ngx_int_t
ngx_conf_full_name(ngx_cycle_t *cycle, ngx_str_t *name, ngx_uint_t conf)
{
    abort();
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    abort();
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    abort();
}


ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    abort();
}


void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    abort();
}


u_char *
ngx_cpystrn(u_char *dst, u_char *src, size_t n)
{
    abort();
}


u_char *
ngx_strlcasestrn(u_char *s1, u_char *last, u_char *s2, size_t n)
{
    size_t  i;

    n++;

    for ( /* void */ ; s1 + n <= last; s1++) {
        for (i = 0; i < n; i++) {
            if (ngx_tolower(s1[i]) != ngx_tolower(s2[i])) {
                break;
            }
        }

        if (i == n) {
            return s1;
        }
    }

    return NULL;
}


/* ---- helpers */

static void
db_open(const char *path, ngx_cflb_geo_db_t *db)
{
    int  rc;

    memset(db, 0, sizeof(ngx_cflb_geo_db_t));

    db->mmdb = calloc(1, sizeof(MMDB_s));
    if (db->mmdb == NULL) {
        printf("out of memory\n");
        exit(2);
    }

    rc = MMDB_open(path, MMDB_MODE_MMAP, db->mmdb);
    if (rc != MMDB_SUCCESS) {
        printf("%s: %s\n", path, MMDB_strerror(rc));
        exit(2);
    }

    ngx_cflb_geo_setup(db);
}


static struct sockaddr *
addr(const char *text, struct sockaddr_storage *ss)
{
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    memset(ss, 0, sizeof(struct sockaddr_storage));

    sin = (struct sockaddr_in *) ss;
    sin6 = (struct sockaddr_in6 *) ss;

    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;

    } else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;

    } else {
        printf("bad address %s\n", text);
        exit(2);
    }

    return (struct sockaddr *) ss;
}


static ngx_int_t
look(ngx_cflb_geo_db_t *db, const char *ip, ngx_cflb_location_t *loc)
{
    struct sockaddr_storage  ss;

    cflb_location_init(loc);

    return ngx_cflb_geo_lookup(db, addr(ip, &ss), loc);
}


static int
is_country(ngx_cflb_location_t *loc, const char *code)
{
    return loc->country
           == cflb_country_parse((const unsigned char *) code, 2);
}


static int
is_region(ngx_cflb_location_t *loc, const char *name)
{
    return loc->region != CFLB_REGION_NONE
           && strcmp(cflb_region_name(loc->region), name) == 0;
}


/* ---- check */

static void
check_city(const char *dir, int ipv)
{
    char                     path[512];
    ngx_int_t                rc;
    ngx_cflb_geo_db_t        db;
    ngx_cflb_location_t      loc, before;
    struct sockaddr_un       sun;
    struct sockaddr_storage  ss;

    snprintf(path, sizeof(path), "%s/city-%d.mmdb", dir, ipv);
    db_open(path, &db);

    check(db.fields == (NGX_CFLB_GEO_COUNTRY | NGX_CFLB_GEO_CITY),
          "city fields %lu", (unsigned long) db.fields);
    check(db.ip_version == (ngx_uint_t) ipv && db.build > 1600000000
          && db.type.len == 11, "city metadata");

    rc = look(&db, "127.0.0.2", &loc);
    check(rc == NGX_OK && is_country(&loc, "US")
          && strcmp((char *) loc.subdivision, "CA") == 0
          && is_region(&loc, "WNAM") && (loc.flags & CFLB_LOC_COORDS)
          && loc.lat == 34052200 && loc.lon == -118243700 && loc.asn == 0,
          "city/%d 127.0.0.2: US-CA WNAM %ld %ld", ipv, (long) loc.lat,
          (long) loc.lon);

    rc = look(&db, "127.0.0.3", &loc);
    check(rc == NGX_OK && is_region(&loc, "ENAM")
          && loc.lat == 40712800 && loc.lon == -74006000,
          "city/%d 127.0.0.3: US-NY ENAM", ipv);

    rc = look(&db, "127.0.0.4", &loc);
    check(rc == NGX_OK && is_country(&loc, "CA") && is_region(&loc, "WNAM"),
          "city/%d 127.0.0.4: CA-BC WNAM", ipv);

    /* a subdivision is read for the US and Canada only */

    rc = look(&db, "127.0.0.1", &loc);
    check(rc == NGX_OK && is_country(&loc, "DE") && is_region(&loc, "WEU")
          && loc.subdivision[0] == '\0' && loc.lat == 50110900,
          "city/%d 127.0.0.1: DE WEU", ipv);

    /* no location in the record: the coordinates stay unknown */

    rc = look(&db, "127.0.0.5", &loc);
    check(rc == NGX_OK && is_country(&loc, "JP") && is_region(&loc, "NEAS")
          && !(loc.flags & CFLB_LOC_COORDS), "city/%d 127.0.0.5: JP", ipv);

    rc = look(&db, "127.0.0.17", &loc);
    check(rc == NGX_OK && is_country(&loc, "BR") && is_region(&loc, "SSAM"),
          "city/%d 127.0.0.17 in 127.0.0.16/28: BR", ipv);

    /* in no network */

    rc = look(&db, "127.0.0.99", &loc);
    check(rc == NGX_DECLINED && loc.country == CFLB_COUNTRY_NONE
          && loc.region == CFLB_REGION_NONE && loc.flags == 0,
          "city/%d 127.0.0.99: nothing", ipv);

    /* a dual-stack listener's IPv4-mapped client, in either database */

    rc = look(&db, "::ffff:127.0.0.3", &loc);
    check(rc == NGX_OK && is_country(&loc, "US") && is_region(&loc, "ENAM"),
          "city/%d ::ffff:127.0.0.3: US-NY", ipv);

    /* IPv6: answered by an IPv6 database; declined by an IPv4 one */

    rc = look(&db, "::1", &loc);

    if (ipv == 6) {
        check(rc == NGX_OK && is_country(&loc, "AU") && is_region(&loc, "OC")
              && loc.lat == -33868800, "city/6 ::1: AU");

        rc = look(&db, "2001:db8::42", &loc);
        check(rc == NGX_OK && is_country(&loc, "SG")
              && is_region(&loc, "SEAS"), "city/6 2001:db8::42: SG");

    } else {
        check(rc == NGX_DECLINED && loc.country == CFLB_COUNTRY_NONE,
              "city/4 ::1: declined, not an error");
    }

    /* a UNIX socket client */

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    cflb_location_init(&loc);
    before = loc;
    rc = ngx_cflb_geo_lookup(&db, (struct sockaddr *) &sun, &loc);
    check(rc == NGX_DECLINED && memcmp(&loc, &before, sizeof(loc)) == 0,
          "unix socket: declined");

    /* known fields are kept: a second database only completes */

    cflb_location_init(&loc);
    loc.country = (uint16_t) cflb_country_parse((u_char *) "FR", 2);
    rc = ngx_cflb_geo_lookup(&db, addr("127.0.0.2", &ss), &loc);
    check(rc == NGX_OK && is_country(&loc, "FR") && is_region(&loc, "WEU")
          && loc.lat == 34052200, "known country kept");

    MMDB_close(db.mmdb);
}


static void
check_others(const char *dir)
{
    char                     path[512];
    ngx_int_t                rc;
    ngx_cflb_geo_db_t        db, asn;
    ngx_cflb_location_t      loc;
    struct sockaddr_storage  ss;

    /* Country: no subdivision, so the US is ENAM; no coordinates */

    snprintf(path, sizeof(path), "%s/country-6.mmdb", dir);
    db_open(path, &db);
    check(db.fields == NGX_CFLB_GEO_COUNTRY, "country fields");

    rc = look(&db, "127.0.0.2", &loc);
    check(rc == NGX_OK && is_country(&loc, "US") && is_region(&loc, "ENAM")
          && loc.subdivision[0] == '\0' && !(loc.flags & CFLB_LOC_COORDS),
          "country 127.0.0.2: US ENAM");

    rc = look(&db, "127.0.0.4", &loc);
    check(rc == NGX_OK && is_country(&loc, "CA") && is_region(&loc, "ENAM"),
          "country 127.0.0.4: CA ENAM");

    /* and an ASN database completes it */

    snprintf(path, sizeof(path), "%s/asn-6.mmdb", dir);
    db_open(path, &asn);
    check(asn.fields == NGX_CFLB_GEO_ASN, "asn fields");

    (void) look(&db, "127.0.0.2", &loc);
    rc = ngx_cflb_geo_lookup(&asn, addr("127.0.0.2", &ss), &loc);
    check(rc == NGX_OK && loc.asn == 15169 && is_country(&loc, "US"),
          "country + asn: US AS15169");

    rc = look(&asn, "127.0.0.1", &loc);
    check(rc == NGX_OK && loc.asn == 3320 && loc.country == CFLB_COUNTRY_NONE
          && loc.region == CFLB_REGION_NONE, "asn alone: AS3320");

    rc = look(&asn, "127.0.0.5", &loc);
    check(rc == NGX_DECLINED && loc.asn == 0, "asn: none for 127.0.0.5");

    MMDB_close(db.mmdb);
    MMDB_close(asn.mmdb);

    /* ip-location-db: country_code at the top, learnt on first sight */

    snprintf(path, sizeof(path), "%s/iploc-4.mmdb", dir);
    db_open(path, &db);
    check(db.fields == NGX_CFLB_GEO_COUNTRY
          && db.schema == NGX_CFLB_GEO_SCHEMA_UNKNOWN, "iploc fields");

    rc = look(&db, "127.0.0.5", &loc);
    check(rc == NGX_OK && is_country(&loc, "JP") && is_region(&loc, "NEAS")
          && db.schema == NGX_CFLB_GEO_SCHEMA_IPLOC, "iploc 127.0.0.5: JP");

    rc = look(&db, "::ffff:127.0.0.1", &loc);
    check(rc == NGX_OK && is_country(&loc, "DE"), "iploc v4-mapped: DE");

    rc = look(&db, "::1", &loc);
    check(rc == NGX_DECLINED, "iploc/4 ::1: declined");

    MMDB_close(db.mmdb);

    snprintf(path, sizeof(path), "%s/iploc-city-6.mmdb", dir);
    db_open(path, &db);

    rc = look(&db, "127.0.0.17", &loc);
    check(rc == NGX_OK && is_country(&loc, "BR")
          && (loc.flags & CFLB_LOC_COORDS) && loc.lat == -23555800
          && loc.lon == -46639600, "iploc-city 127.0.0.17: BR with coords");

    rc = look(&db, "127.0.0.2", &loc);
    check(rc == NGX_OK && is_region(&loc, "ENAM")
          && loc.subdivision[0] == '\0', "iploc-city: US, no subdivision");

    MMDB_close(db.mmdb);

    /* an unknown type: everything, the ASN from the same file */

    snprintf(path, sizeof(path), "%s/all-6.mmdb", dir);
    db_open(path, &db);
    check(db.fields == (NGX_CFLB_GEO_COUNTRY | NGX_CFLB_GEO_CITY
                        | NGX_CFLB_GEO_ASN), "all fields");

    rc = look(&db, "127.0.0.3", &loc);
    check(rc == NGX_OK && is_region(&loc, "ENAM") && loc.asn == 7018
          && loc.lat == 40712800, "all 127.0.0.3: US-NY AS7018");

    MMDB_close(db.mmdb);
}


/* ---- bench */

static int
bench(const char *path, unsigned long n, int v6)
{
    uint64_t                 x;
    ngx_int_t                rc;
    unsigned long            i, found, coords, errors;
    ngx_cflb_geo_db_t        db;
    ngx_cflb_location_t      loc;
    struct sockaddr_in       sin;
    struct sockaddr_in6      sin6;
    struct sockaddr         *sa;

    db_open(path, &db);

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    sin.sin_family = AF_INET;
    sin6.sin6_family = AF_INET6;

    x = 0x9e3779b97f4a7c15ULL;
    found = coords = errors = 0;

    for (i = 0; i < n; i++) {
        /* xorshift64: addresses spread over the whole space */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;

        if (v6) {
            /* the RIRs' /12s: 2400 APNIC, 2600 ARIN, 2800 LACNIC,
               2a00 RIPE, 2c00 AFRINIC */
            memcpy(&sin6.sin6_addr, &x, 8);
            sin6.sin6_addr.s6_addr[0] = (u_char) (0x24 + 2 * (x % 5));
            sin6.sin6_addr.s6_addr[1] &= 0x0f;
            sa = (struct sockaddr *) &sin6;

        } else {
            sin.sin_addr.s_addr = (uint32_t) (x >> 32);
            sa = (struct sockaddr *) &sin;
        }

        cflb_location_init(&loc);
        rc = ngx_cflb_geo_lookup(&db, sa, &loc);

        found += (loc.country != CFLB_COUNTRY_NONE);
        coords += (loc.flags & CFLB_LOC_COORDS) != 0;
        errors += (rc == NGX_ERROR);
    }

    printf("%s: type \"%.*s\", %lu lookups, %lu with a country, "
           "%lu with coordinates, %lu errors\n", path, (int) db.type.len,
           db.type.data, n, found, coords, errors);

    MMDB_close(db.mmdb);

    return errors != 0;
}


int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "check") == 0) {
        check_city(argv[2], 6);
        check_city(argv[2], 4);
        check_others(argv[2]);

        printf("cflb_geo_lookup: %u passed, %u failed\n", passed, failed);
        return failed != 0;
    }

    if ((argc == 4 || argc == 5) && strcmp(argv[1], "bench") == 0) {
        return bench(argv[2], strtoul(argv[3], NULL, 10),
                     argc == 5 && strcmp(argv[4], "6") == 0);
    }

    fprintf(stderr, "usage: %s check DIR | bench FILE N [6]\n", argv[0]);

    return 2;
}
