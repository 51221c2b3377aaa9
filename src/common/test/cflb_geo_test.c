
/*
 * cflb geo tests: region codes, the whole country and subdivision
 * table, coordinate parsing, unit vectors and distances against libm
 * (the test may use libm; the core does not), and the nearest pool.
 */


#include <math.h>

#include "cflb_test.h"
#include "cflb_geo.h"


#define CFLB_TEST_PI  3.14159265358979323846


/* ISO 3166-1 alpha-2, all 249 assigned codes (iso-codes 4.15) */
static const char  *cflb_test_iso3166 =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG "
    "BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI "
    "CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH "
    "ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ "
    "GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS "
    "LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU "
    "MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG "
    "PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG "
    "SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK "
    "TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU "
    "WF WS YE YT ZA ZM ZW";

/* ISO 3166-2:US (50 states, DC, 6 outlying areas) and ISO 3166-2:CA */
static const char  *cflb_test_us =
    "AK AL AR AS AZ CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA "
    "MD ME MI MN MO MP MS MT NC ND NE NH NJ NM NV NY OH OK OR PA PR RI "
    "SC SD TN TX UM UT VA VI VT WA WI WV WY";
static const char  *cflb_test_ca =
    "AB BC MB NB NL NS NT NU ON PE QC SK YT";


typedef struct {
    const char           *code;     /* "DE", or "US-CA" */
    const char           *region;
} cflb_test_pin_t;


/* the brief's well-known examples, and a few more */
static const cflb_test_pin_t  cflb_test_pins[] = {
    { "DE", "WEU" }, { "PL", "EEU" }, { "JP", "NEAS" }, { "IN", "SAS" },
    { "SG", "SEAS" }, { "AU", "OC" }, { "BR", "SSAM" }, { "EG", "NAF" },
    { "ZA", "SAF" }, { "AE", "ME" }, { "US-CA", "WNAM" },
    { "US-NY", "ENAM" }, { "CA-BC", "WNAM" }, { "CA-ON", "ENAM" },
    { "GB", "WEU" }, { "FR", "WEU" }, { "RU", "EEU" }, { "CN", "NEAS" },
    { "KR", "NEAS" }, { "ID", "SEAS" }, { "NZ", "OC" }, { "AR", "SSAM" },
    { "CO", "NSAM" }, { "NG", "NAF" }, { "KE", "SAF" }, { "SA", "ME" },
    { "IL", "ME" }, { "PK", "SAS" }, { "MX", "ENAM" }, { "US", "ENAM" },
    { "CA", "ENAM" }, { "US-WA", "WNAM" }, { "US-TX", "ENAM" },
    { "US-HI", "WNAM" }, { "US-AK", "WNAM" }, { "US-DC", "ENAM" },
    { "US-GU", "OC" }, { "US-PR", "ENAM" }, { "CA-AB", "WNAM" },
    { "CA-QC", "ENAM" }, { "XK", "EEU" }
};


typedef struct {
    const char           *name;
    double                lat;
    double                lon;
} cflb_test_city_t;


static const cflb_test_city_t  cflb_test_cities[] = {
    { "Frankfurt", 50.1109, 8.6821 },
    { "Ashburn", 39.0438, -77.4874 },
    { "Amsterdam", 52.3676, 4.9041 },
    { "Singapore", 1.3521, 103.8198 },
    { "Sydney", -33.8688, 151.2093 },
    { "Los Angeles", 34.0522, -118.2437 },
    { "Sao Paulo", -23.5558, -46.6396 },
    { "Tokyo", 35.6762, 139.6503 }
};


/*
 * (city, city, km): the haversine distance with libm must be within 1%
 * of a published figure (airport to airport, city centres differ), and
 * cflb_geo_km() within 1 m of the haversine
 */
typedef struct {
    unsigned              a;
    unsigned              b;
    double                km;
} cflb_test_leg_t;


static const cflb_test_leg_t  cflb_test_legs[] = {
    { 0, 1, 6545.0 },               /* Frankfurt - Ashburn, ~6,500 km */
    { 0, 2, 364.0 },                /* Frankfurt - Amsterdam */
    { 4, 5, 12051.0 },              /* Sydney - Los Angeles */
    { 3, 7, 5316.0 },               /* Singapore - Tokyo */
    { 6, 0, 9800.0 }                /* Sao Paulo - Frankfurt */
};


static void cflb_test_regions(cflb_test_t *t);
static void cflb_test_countries(cflb_test_t *t);
static void cflb_test_subdivisions(cflb_test_t *t, const char *country,
    const char *list, unsigned expect);
static void cflb_test_pinned(cflb_test_t *t);
static void cflb_test_coords(cflb_test_t *t);
static void cflb_test_vectors(cflb_test_t *t);
static void cflb_test_distances(cflb_test_t *t);
static void cflb_test_nearest(cflb_test_t *t);
static void cflb_test_nearest_random(cflb_test_t *t);


int
main(void)
{
    cflb_test_t  t;

    memset(&t, 0, sizeof(cflb_test_t));

    cflb_test_regions(&t);
    cflb_test_countries(&t);
    cflb_test_subdivisions(&t, "US", cflb_test_us, 57);
    cflb_test_subdivisions(&t, "CA", cflb_test_ca, 13);
    cflb_test_pinned(&t);
    cflb_test_coords(&t);
    cflb_test_vectors(&t);
    cflb_test_distances(&t);
    cflb_test_nearest(&t);
    cflb_test_nearest_random(&t);

    return cflb_test_done(&t, "cflb_geo_test");
}


static int
cflb_test_region_of(const char *name)
{
    return cflb_region_parse((const unsigned char *) name, strlen(name));
}


static void
cflb_test_regions(cflb_test_t *t)
{
    size_t       i;
    unsigned     r;
    const char  *name;
    char         lower[8];

    static const char  *codes[] = {
        "WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF",
        "SAF", "SAS", "SEAS", "NEAS"
    };
    static const char  *bad[] = {
        "", "W", "WNA", "WNAMX", "wnam ", "IN", "CN", "EU", "ALL_REGIONS",
        "WEUR", "W-NAM"
    };

    cflb_check(t, sizeof(codes) / sizeof(codes[0]) == CFLB_NREGIONS);

    for (r = 0; r < CFLB_NREGIONS; r++) {
        cflb_check_msg(t, cflb_test_region_of(codes[r]) == (int) r,
                       "region %s", codes[r]);

        name = cflb_region_name(r);
        cflb_check_msg(t, name != NULL && strcmp(name, codes[r]) == 0,
                       "name of %u", r);
        cflb_check(t, cflb_region_desc(r) != NULL
                      && strlen(cflb_region_desc(r)) > 4);

        for (i = 0; codes[r][i]; i++) {
            lower[i] = (char) (codes[r][i] - 'A' + 'a');
        }

        lower[i] = '\0';
        cflb_check_msg(t, cflb_test_region_of(lower) == (int) r,
                       "region %s", lower);
    }

    cflb_check(t, strcmp(cflb_region_desc(CFLB_REGION_SEAS),
                         "Southeast Asia") == 0);
    cflb_check(t, cflb_region_name(CFLB_NREGIONS) == NULL);
    cflb_check(t, cflb_region_name(CFLB_REGION_NONE) == NULL);
    cflb_check(t, cflb_region_desc(CFLB_NREGIONS) == NULL);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cflb_check_msg(t, cflb_test_region_of(bad[i]) == CFLB_ERROR,
                       "region \"%s\" refused", bad[i]);
    }
}


/* every ISO code has a region; no other code but XK is known */

static void
cflb_test_countries(cflb_test_t *t)
{
    int                   c, r;
    unsigned              known, listed, i, per[CFLB_NREGIONS];
    const unsigned char  *p;
    unsigned char         code[2], lower[2];
    unsigned char         iso[CFLB_NCOUNTRIES];

    memset(iso, 0, sizeof(iso));
    memset(per, 0, sizeof(per));
    listed = 0;

    for (p = (const unsigned char *) cflb_test_iso3166; *p; p += 3) {
        c = cflb_country_parse(p, 2);
        cflb_check_msg(t, c >= 0, "country %.2s known", p);

        if (c < 0) {
            continue;
        }

        iso[c] = 1;
        listed++;

        cflb_country_code((unsigned) c, code);
        cflb_check_msg(t, code[0] == p[0] && code[1] == p[1],
                       "country %.2s round trip", p);

        lower[0] = (unsigned char) (p[0] - 'A' + 'a');
        lower[1] = (unsigned char) (p[1] - 'A' + 'a');
        cflb_check(t, cflb_country_parse(lower, 2) == c);

        r = cflb_country_region((unsigned) c);
        cflb_check_msg(t, r >= 0 && r < CFLB_NREGIONS,
                       "country %.2s has a region", p);

        if (r >= 0 && r < CFLB_NREGIONS) {
            per[r]++;
        }

        if (p[2] == '\0') {
            break;
        }
    }

    cflb_check_msg(t, listed == 249, "249 ISO codes, %u", listed);

    /* all 676 letter pairs: only the ISO ones and XK */

    known = 0;

    for (i = 0; i < CFLB_NCOUNTRIES; i++) {
        cflb_country_code(i, code);
        c = cflb_country_parse(code, 2);

        if (c >= 0) {
            known++;
            cflb_check_msg(t, (unsigned) c == i, "index of %.2s", code);
            cflb_check_msg(t, iso[i] || (code[0] == 'X' && code[1] == 'K'),
                           "%.2s is not ISO", code);

        } else {
            cflb_check_msg(t, cflb_country_region(i) == CFLB_DECLINED,
                           "%.2s has no region", code);
        }
    }

    cflb_check_msg(t, known == 250, "250 known codes, %u", known);

    /* every region but WNAM (US and CA subdivisions only) has countries */

    for (i = 0; i < CFLB_NREGIONS; i++) {
        cflb_check_msg(t, i == CFLB_REGION_WNAM ? per[i] == 0 : per[i] > 0,
                       "countries in %s: %u", cflb_region_name(i), per[i]);
    }

    cflb_check(t, cflb_country_parse((const unsigned char *) "EU", 2)
                  == CFLB_ERROR);
    cflb_check(t, cflb_country_parse((const unsigned char *) "ZZ", 2)
                  == CFLB_ERROR);
    cflb_check(t, cflb_country_parse((const unsigned char *) "D", 1)
                  == CFLB_ERROR);
    cflb_check(t, cflb_country_parse((const unsigned char *) "DEU", 3)
                  == CFLB_ERROR);
    cflb_check(t, cflb_country_parse((const unsigned char *) "D1", 2)
                  == CFLB_ERROR);
    cflb_check(t, cflb_country_parse((const unsigned char *) "\xc3\x84", 2)
                  == CFLB_ERROR);
    cflb_check(t, cflb_country_parse((const unsigned char *) "", 0)
                  == CFLB_ERROR);
    cflb_check(t, cflb_country_region(CFLB_COUNTRY_NONE) == CFLB_DECLINED);
    cflb_check(t, cflb_country_region(CFLB_NCOUNTRIES) == CFLB_DECLINED);
}


static void
cflb_test_subdivisions(cflb_test_t *t, const char *country,
    const char *list, unsigned expect)
{
    int                   c, r, r2;
    unsigned              n, wnam;
    const unsigned char  *p;
    unsigned char         full[5];

    c = cflb_country_parse((const unsigned char *) country, 2);
    cflb_check(t, c >= 0);

    n = 0;
    wnam = 0;

    for (p = (const unsigned char *) list; ; p += 3) {
        r = cflb_subdivision_region((unsigned) c, p, 2);
        cflb_check_msg(t, r >= 0 && r < CFLB_NREGIONS,
                       "%s-%.2s has a region", country, p);

        /* "US-CA" is the same as "CA", and so is "us-ca" */

        full[0] = (unsigned char) (country[0] - 'A' + 'a');
        full[1] = (unsigned char) (country[1] - 'A' + 'a');
        full[2] = '-';
        full[3] = p[0];
        full[4] = p[1];
        r2 = cflb_subdivision_region((unsigned) c, full, 5);
        cflb_check_msg(t, r2 == r, "%.5s", full);

        cflb_check(t, cflb_geo_region((unsigned) c, p, 2) == r);

        n++;
        wnam += (r == CFLB_REGION_WNAM);

        if (p[2] == '\0') {
            break;
        }
    }

    cflb_check_msg(t, n == expect, "%s: %u subdivisions", country, n);
    cflb_check_msg(t, wnam > 0 && wnam < n, "%s: %u in WNAM", country, wnam);

    /* unknown, malformed, or another country's prefix: declined */

    cflb_check(t, cflb_subdivision_region((unsigned) c,
                      (const unsigned char *) "ZZ", 2) == CFLB_DECLINED);
    cflb_check(t, cflb_subdivision_region((unsigned) c,
                      (const unsigned char *) "C", 1) == CFLB_DECLINED);
    cflb_check(t, cflb_subdivision_region((unsigned) c,
                      (const unsigned char *) "C1", 2) == CFLB_DECLINED);
    cflb_check(t, cflb_subdivision_region((unsigned) c,
                      (const unsigned char *) "DE-BE", 5) == CFLB_DECLINED);
    cflb_check(t, cflb_subdivision_region((unsigned) c,
                      (const unsigned char *) "", 0) == CFLB_DECLINED);

    /* an unknown subdivision falls back to the country's region */

    cflb_check(t, cflb_geo_region((unsigned) c,
                      (const unsigned char *) "ZZ", 2)
                  == cflb_country_region((unsigned) c));
    cflb_check(t, cflb_geo_region((unsigned) c, NULL, 0)
                  == CFLB_REGION_ENAM);
}


static void
cflb_test_pinned(cflb_test_t *t)
{
    int                   c, r, want;
    size_t                i, len;
    const unsigned char  *code;

    for (i = 0; i < sizeof(cflb_test_pins) / sizeof(cflb_test_pins[0]); i++)
    {
        code = (const unsigned char *) cflb_test_pins[i].code;
        len = strlen(cflb_test_pins[i].code);
        want = cflb_test_region_of(cflb_test_pins[i].region);

        c = cflb_country_parse(code, 2);
        r = (len == 2) ? cflb_geo_region((unsigned) c, NULL, 0)
                       : cflb_geo_region((unsigned) c, code + 3, 2);

        cflb_check_msg(t, c >= 0 && r == want, "%s -> %s, got %s",
                       cflb_test_pins[i].code, cflb_test_pins[i].region,
                       r >= 0 ? cflb_region_name((unsigned) r) : "none");
    }

    /* subdivisions are read for the US and Canada only */

    c = cflb_country_parse((const unsigned char *) "DE", 2);
    cflb_check(t, cflb_subdivision_region((unsigned) c,
                      (const unsigned char *) "BE", 2) == CFLB_DECLINED);
    cflb_check(t, cflb_geo_region((unsigned) c,
                      (const unsigned char *) "CA", 2) == CFLB_REGION_WEU);
    cflb_check(t, cflb_geo_region(CFLB_COUNTRY_NONE,
                      (const unsigned char *) "CA", 2) == CFLB_DECLINED);
    cflb_check(t, cflb_geo_region(CFLB_COUNTRY_NONE, NULL, 0)
                  == CFLB_DECLINED);
}


typedef struct {
    const char           *s;
    int                   lon;
    int                   rc;
    int32_t               udeg;     /* or the error offset */
} cflb_test_coord_t;


static void
cflb_test_coords(cflb_test_t *t)
{
    int                 rc;
    size_t              i;
    int32_t             v;
    cflb_err_t          err;
    cflb_location_t     loc;
    cflb_test_coord_t  *c;

    static cflb_test_coord_t  cases[] = {
        { "50.11", 0, CFLB_OK, 50110000 },
        { "-118.24", 1, CFLB_OK, -118240000 },
        { "+8", 1, CFLB_OK, 8000000 },
        { "0", 0, CFLB_OK, 0 },
        { "-0", 0, CFLB_OK, 0 },
        { "-0.000000", 0, CFLB_OK, 0 },
        { "90", 0, CFLB_OK, 90000000 },
        { "-90.000000", 0, CFLB_OK, -90000000 },
        { "90.0000004", 0, CFLB_OK, 90000000 },
        { "180", 1, CFLB_OK, 180000000 },
        { "-180.0", 1, CFLB_OK, -180000000 },
        { "1.234567", 0, CFLB_OK, 1234567 },
        { "1.2345674", 0, CFLB_OK, 1234567 },
        { "1.2345675", 0, CFLB_OK, 1234568 },
        { "-1.2345675", 0, CFLB_OK, -1234568 },
        { "1.23456749999999", 0, CFLB_OK, 1234567 },
        { "89.9999995", 0, CFLB_OK, 90000000 },
        { "007.5", 1, CFLB_OK, 7500000 },
        { "0.000001", 0, CFLB_OK, 1 },
        { "0.0000005", 0, CFLB_OK, 1 },
        { "0.0000004", 0, CFLB_OK, 0 },

        { "90.0000005", 0, CFLB_ERROR, 0 },
        { "90.000001", 0, CFLB_ERROR, 0 },
        { "-91", 0, CFLB_ERROR, 0 },
        { "180", 0, CFLB_ERROR, 0 },
        { "180.000001", 1, CFLB_ERROR, 0 },
        { "-181", 1, CFLB_ERROR, 0 },
        { "1000", 1, CFLB_ERROR, 0 },
        { "4294967296", 1, CFLB_ERROR, 0 },
        { "", 0, CFLB_ERROR, 0 },
        { "-", 0, CFLB_ERROR, 1 },
        { "+", 0, CFLB_ERROR, 1 },
        { "--1", 0, CFLB_ERROR, 1 },
        { ".5", 0, CFLB_ERROR, 0 },
        { "5.", 0, CFLB_ERROR, 2 },
        { "5.x", 0, CFLB_ERROR, 2 },
        { "1e5", 0, CFLB_ERROR, 1 },
        { "12a", 0, CFLB_ERROR, 2 },
        { " 1", 0, CFLB_ERROR, 0 },
        { "1 ", 0, CFLB_ERROR, 1 },
        { "0x10", 0, CFLB_ERROR, 1 },
        { "1.2.3", 0, CFLB_ERROR, 3 },
        { "1,5", 0, CFLB_ERROR, 1 },
        { "1.23456789x", 0, CFLB_ERROR, 10 }
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        c = &cases[i];
        v = 12345;
        err.msg = NULL;
        err.offset = 999;

        rc = cflb_geo_coord_parse((const unsigned char *) c->s,
                                  strlen(c->s), c->lon, &v, &err);

        if (c->rc == CFLB_OK) {
            cflb_check_msg(t, rc == CFLB_OK && v == c->udeg,
                           "\"%s\" -> %ld, got rc %d %ld", c->s,
                           (long) c->udeg, rc, (long) v);

        } else {
            cflb_check_msg(t, rc == CFLB_ERROR && v == 12345
                              && err.msg != NULL
                              && err.offset == (size_t) c->udeg,
                           "\"%s\" refused at %ld, got rc %d at %lu (%s)",
                           c->s, (long) c->udeg, rc,
                           (unsigned long) err.offset,
                           err.msg ? err.msg : "no message");
        }
    }

    rc = cflb_geo_coord_parse((const unsigned char *) "91", 2, 0, &v, &err);
    cflb_check(t, rc == CFLB_ERROR
                  && strcmp(err.msg, "latitude out of range -90 to 90") == 0);
    rc = cflb_geo_coord_parse((const unsigned char *) "x", 1, 1, &v, &err);
    cflb_check(t, rc == CFLB_ERROR
                  && strcmp(err.msg, "expected a number") == 0);

    memset(&loc, 0x5a, sizeof(cflb_location_t));
    cflb_location_init(&loc);
    cflb_check(t, loc.country == CFLB_COUNTRY_NONE
                  && loc.region == CFLB_REGION_NONE && loc.flags == 0
                  && loc.asn == 0 && loc.subdivision[0] == '\0');
}


/* the unit vector of (lat, lon) in degrees, with libm */

static void
cflb_test_libm_vec(double lat, double lon, cflb_geo_vec_t *v)
{
    double  la, lo;

    la = lat * CFLB_TEST_PI / 180.0;
    lo = lon * CFLB_TEST_PI / 180.0;

    v->x = cos(la) * cos(lo);
    v->y = cos(la) * sin(lo);
    v->z = sin(la);
}


static double
cflb_test_vec_err(const cflb_geo_vec_t *a, const cflb_geo_vec_t *b)
{
    double  e, m;

    m = fabs(a->x - b->x);
    e = fabs(a->y - b->y);
    m = e > m ? e : m;
    e = fabs(a->z - b->z);

    return e > m ? e : m;
}


static int32_t
cflb_test_udeg(double deg)
{
    return (int32_t) lround(deg * CFLB_GEO_UDEG);
}


static void
cflb_test_vectors(cflb_test_t *t)
{
    int             k;
    double          e, worst;
    int32_t         lat, lon;
    cflb_rng_t      rng;
    unsigned long   s;
    cflb_geo_vec_t  v, ref;

    /* whole degrees: the table against libm, both axes */

    worst = 0.0;

    for (k = -90; k <= 90; k++) {
        cflb_geo_vec(k * CFLB_GEO_UDEG, 0, &v);
        cflb_test_libm_vec(k, 0, &ref);
        e = cflb_test_vec_err(&v, &ref);
        worst = e > worst ? e : worst;
    }

    for (k = -180; k <= 180; k++) {
        cflb_geo_vec(0, k * CFLB_GEO_UDEG, &v);
        cflb_test_libm_vec(0, k, &ref);
        e = cflb_test_vec_err(&v, &ref);
        worst = e > worst ? e : worst;
    }

    cflb_check_msg(t, worst <= 1e-15, "whole degrees within 1e-15: %.3g",
                   worst);

    /* 200,000 random micro-degree points */

    cflb_rng_seed(&rng, 20240611);
    worst = 0.0;

    for (s = 0; s < 200000; s++) {
        lat = (int32_t) cflb_rng_below(&rng, 2 * CFLB_GEO_LAT_MAX + 1)
              - CFLB_GEO_LAT_MAX;
        lon = (int32_t) cflb_rng_below(&rng, 2 * CFLB_GEO_LON_MAX + 1)
              - CFLB_GEO_LON_MAX;

        cflb_geo_vec(lat, lon, &v);
        cflb_test_libm_vec(lat / 1e6, lon / 1e6, &ref);
        e = cflb_test_vec_err(&v, &ref);
        worst = e > worst ? e : worst;
    }

    printf("cflb_geo_test: vector component error vs libm, worst of "
           "200000: %.3g\n", worst);
    cflb_check_msg(t, worst <= 1e-15, "random points within 1e-15: %.3g",
                   worst);

    /* the poles and the antimeridian */

    cflb_geo_vec(CFLB_GEO_LAT_MAX, 12345678, &v);
    cflb_check(t, v.z == 1.0 && fabs(v.x) < 1e-16 && fabs(v.y) < 1e-16);
    cflb_geo_vec(-CFLB_GEO_LAT_MAX, 0, &v);
    cflb_check(t, v.z == -1.0);
    cflb_geo_vec(0, CFLB_GEO_LON_MAX, &v);
    cflb_check(t, v.x == -1.0 && fabs(v.y) < 1e-16 && v.z == 0.0);
    cflb_geo_vec(0, -CFLB_GEO_LON_MAX, &v);
    cflb_check(t, v.x == -1.0 && fabs(v.y) < 1e-16);
}


/* haversine, and the atan2 form that is stable at every distance */

static double
cflb_test_haversine(double lat1, double lon1, double lat2, double lon2)
{
    double  p1, p2, dp, dl, h;

    p1 = lat1 * CFLB_TEST_PI / 180.0;
    p2 = lat2 * CFLB_TEST_PI / 180.0;
    dp = p2 - p1;
    dl = (lon2 - lon1) * CFLB_TEST_PI / 180.0;

    h = sin(dp / 2) * sin(dp / 2)
        + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);

    return 2.0 * CFLB_GEO_EARTH_KM * asin(sqrt(h));
}


static double
cflb_test_arc_km(const cflb_geo_vec_t *a, const cflb_geo_vec_t *b)
{
    double  cx, cy, cz;

    cx = a->y * b->z - a->z * b->y;
    cy = a->z * b->x - a->x * b->z;
    cz = a->x * b->y - a->y * b->x;

    return CFLB_GEO_EARTH_KM
           * atan2(sqrt(cx * cx + cy * cy + cz * cz), cflb_geo_dot(a, b));
}


static double
cflb_test_km(int32_t lat1, int32_t lon1, int32_t lat2, int32_t lon2)
{
    cflb_geo_vec_t  a, b;

    cflb_geo_vec(lat1, lon1, &a);
    cflb_geo_vec(lat2, lon2, &b);

    return cflb_geo_km(cflb_geo_dot(&a, &b));
}


static void
cflb_test_distances(cflb_test_t *t)
{
    double                   km, ref, e, worst, worst_short;
    size_t                   i;
    int32_t                  lat1, lon1, lat2, lon2;
    cflb_rng_t               rng;
    unsigned long            s;
    cflb_geo_vec_t           a, b;
    const cflb_test_city_t  *c1, *c2;

    for (i = 0; i < sizeof(cflb_test_legs) / sizeof(cflb_test_legs[0]); i++)
    {
        c1 = &cflb_test_cities[cflb_test_legs[i].a];
        c2 = &cflb_test_cities[cflb_test_legs[i].b];

        ref = cflb_test_haversine(c1->lat, c1->lon, c2->lat, c2->lon);
        km = cflb_test_km(cflb_test_udeg(c1->lat), cflb_test_udeg(c1->lon),
                          cflb_test_udeg(c2->lat), cflb_test_udeg(c2->lon));

        printf("cflb_geo_test: %s - %s: %.3f km (haversine %.3f km)\n",
               c1->name, c2->name, km, ref);

        cflb_check_msg(t, fabs(ref - cflb_test_legs[i].km)
                          < cflb_test_legs[i].km / 100,
                       "%s - %s: haversine %.1f km, published %.0f km",
                       c1->name, c2->name, ref, cflb_test_legs[i].km);
        cflb_check_msg(t, fabs(km - ref) < 0.001, "%s - %s: %.4f vs %.4f",
                       c1->name, c2->name, km, ref);
    }

    /* zero, antipodes, a quarter of the globe */

    km = cflb_test_km(50110900, 8682100, 50110900, 8682100);
    cflb_check_msg(t, km < 0.001, "same point: %.6f km", km);
    km = cflb_test_km(0, 0, 0, CFLB_GEO_LON_MAX);
    cflb_check_msg(t, fabs(km - CFLB_TEST_PI * CFLB_GEO_EARTH_KM) < 0.001,
                   "antipodes: %.4f km", km);
    km = cflb_test_km(CFLB_GEO_LAT_MAX, 0, 0, 0);
    cflb_check_msg(t, fabs(km - CFLB_TEST_PI / 2 * CFLB_GEO_EARTH_KM) < 0.001,
                   "pole to equator: %.4f km", km);

    /* random pairs, and random short hops (up to ~1 km) */

    cflb_rng_seed(&rng, 7);
    worst = 0.0;
    worst_short = 0.0;

    for (s = 0; s < 200000; s++) {
        lat1 = (int32_t) cflb_rng_below(&rng, 2 * CFLB_GEO_LAT_MAX + 1)
               - CFLB_GEO_LAT_MAX;
        lon1 = (int32_t) cflb_rng_below(&rng, 2 * CFLB_GEO_LON_MAX + 1)
               - CFLB_GEO_LON_MAX;

        if (s % 2) {
            lat2 = (int32_t) cflb_rng_below(&rng, 2 * CFLB_GEO_LAT_MAX + 1)
                   - CFLB_GEO_LAT_MAX;
            lon2 = (int32_t) cflb_rng_below(&rng, 2 * CFLB_GEO_LON_MAX + 1)
                   - CFLB_GEO_LON_MAX;

        } else {
            lat2 = lat1 + (int32_t) cflb_rng_below(&rng, 18001) - 9000;
            lon2 = lon1 + (int32_t) cflb_rng_below(&rng, 18001) - 9000;
            lat2 = lat2 > CFLB_GEO_LAT_MAX ? CFLB_GEO_LAT_MAX : lat2;
            lat2 = lat2 < -CFLB_GEO_LAT_MAX ? -CFLB_GEO_LAT_MAX : lat2;
            lon2 = lon2 > CFLB_GEO_LON_MAX ? CFLB_GEO_LON_MAX : lon2;
            lon2 = lon2 < -CFLB_GEO_LON_MAX ? -CFLB_GEO_LON_MAX : lon2;
        }

        cflb_test_libm_vec(lat1 / 1e6, lon1 / 1e6, &a);
        cflb_test_libm_vec(lat2 / 1e6, lon2 / 1e6, &b);
        ref = cflb_test_arc_km(&a, &b);

        km = cflb_test_km(lat1, lon1, lat2, lon2);
        e = fabs(km - ref);

        if (s % 2) {
            worst = e > worst ? e : worst;

        } else {
            worst_short = e > worst_short ? e : worst_short;
        }
    }

    printf("cflb_geo_test: distance error vs libm, worst of 100000 "
           "random pairs: %.3g m, of 100000 hops under 1.4 km: %.3g m\n",
           worst * 1000, worst_short * 1000);

    cflb_check_msg(t, worst < 0.0002, "random pairs within 0.2 m: %.3g km",
                   worst);
    cflb_check_msg(t, worst_short < 0.001, "short hops within 1 m: %.3g km",
                   worst_short);
}


/* usable() over a down[] array, counting calls */

typedef struct {
    const unsigned char  *down;
    unsigned              calls;
} cflb_test_near_t;


static int
cflb_test_near_usable(void *data, unsigned i)
{
    cflb_test_near_t  *ctx;

    ctx = data;
    ctx->calls++;

    return ctx->down == NULL || !ctx->down[i];
}


static void
cflb_test_nearest(cflb_test_t *t)
{
    int               i;
    double            dot;
    cflb_geo_vec_t    client, pools[5];
    cflb_test_near_t  ctx;
    unsigned char     down[5];

    /* Frankfurt; pools Ashburn, Amsterdam, Singapore, none, Amsterdam */

    cflb_geo_vec(50110900, 8682100, &client);
    cflb_geo_vec(39043800, -77487400, &pools[0]);
    cflb_geo_vec(52367600, 4904100, &pools[1]);
    cflb_geo_vec(1352100, 103819800, &pools[2]);
    memset(&pools[3], 0, sizeof(cflb_geo_vec_t));
    pools[4] = pools[1];

    memset(down, 0, sizeof(down));
    memset(&ctx, 0, sizeof(ctx));
    ctx.down = down;
    dot = 0.0;

    i = cflb_geo_nearest(&client, pools, 5, cflb_test_near_usable, &ctx,
                         &dot);
    cflb_check_msg(t, i == 1, "Amsterdam first (the lower of a tie), %d", i);
    cflb_check_msg(t, fabs(cflb_geo_km(dot) - 364.4) < 1.0, "%.1f km",
                   cflb_geo_km(dot));
    cflb_check_msg(t, ctx.calls == 2, "usable() asked of winners only: %u",
                   ctx.calls);

    down[1] = 1;
    i = cflb_geo_nearest(&client, pools, 5, cflb_test_near_usable, &ctx,
                         NULL);
    cflb_check_msg(t, i == 4, "the other Amsterdam, %d", i);

    down[4] = 1;
    i = cflb_geo_nearest(&client, pools, 5, cflb_test_near_usable, &ctx,
                         &dot);
    cflb_check_msg(t, i == 0, "then Ashburn, %d", i);
    cflb_check_msg(t, fabs(cflb_geo_km(dot) - 6545) < 5, "%.1f km",
                   cflb_geo_km(dot));

    down[0] = 1;
    i = cflb_geo_nearest(&client, pools, 5, cflb_test_near_usable, &ctx,
                         NULL);
    cflb_check_msg(t, i == 2, "then Singapore, %d", i);

    down[2] = 1;
    dot = 42.0;
    i = cflb_geo_nearest(&client, pools, 5, cflb_test_near_usable, &ctx,
                         &dot);
    cflb_check_msg(t, i == CFLB_DECLINED && dot == 42.0,
                   "none usable (the zero vector is never chosen), %d", i);

    i = cflb_geo_nearest(&client, pools, 0, NULL, NULL, NULL);
    cflb_check(t, i == CFLB_DECLINED);

    /* NULL usable: all usable; a pool at the client's own place */

    pools[2] = client;
    i = cflb_geo_nearest(&client, pools, 5, NULL, NULL, &dot);
    cflb_check_msg(t, i == 2 && cflb_geo_km(dot) < 0.001, "here, %d", i);

    /* only pools without coordinates */

    memset(pools, 0, sizeof(pools));
    i = cflb_geo_nearest(&client, pools, 5, NULL, NULL, NULL);
    cflb_check(t, i == CFLB_DECLINED);
}


/*
 * The claim behind the policy: the largest dot product is the shortest
 * haversine distance with libm, over random pools, clients and health.
 */

static void
cflb_test_nearest_random(cflb_test_t *t)
{
    int               got, want;
    double            d, best, lat[8], lon[8], clat, clon;
    unsigned          i, n, wrong;
    cflb_rng_t        rng;
    unsigned long     s;
    cflb_geo_vec_t    client, pools[8];
    cflb_test_near_t  ctx;
    unsigned char     down[8];

    cflb_rng_seed(&rng, 99);
    wrong = 0;

    for (s = 0; s < 20000; s++) {
        n = 1 + (unsigned) cflb_rng_below(&rng, 8);

        for (i = 0; i < n; i++) {
            lat[i] = ((double) cflb_rng_below(&rng, 180000001) - 90e6) / 1e6;
            lon[i] = ((double) cflb_rng_below(&rng, 360000001) - 180e6) / 1e6;
            down[i] = (cflb_rng_below(&rng, 4) == 0);
            cflb_geo_vec(cflb_test_udeg(lat[i]), cflb_test_udeg(lon[i]),
                         &pools[i]);
        }

        clat = ((double) cflb_rng_below(&rng, 180000001) - 90e6) / 1e6;
        clon = ((double) cflb_rng_below(&rng, 360000001) - 180e6) / 1e6;
        cflb_geo_vec(cflb_test_udeg(clat), cflb_test_udeg(clon), &client);

        want = CFLB_DECLINED;
        best = 1e9;

        for (i = 0; i < n; i++) {
            d = cflb_test_haversine(clat, clon, lat[i], lon[i]);

            if (!down[i] && d < best) {
                best = d;
                want = (int) i;
            }
        }

        ctx.down = down;
        ctx.calls = 0;
        got = cflb_geo_nearest(&client, pools, n, cflb_test_near_usable,
                               &ctx, NULL);

        if (got != want) {
            wrong++;
        }
    }

    cflb_check_msg(t, wrong == 0, "nearest == haversine argmin: %u of 20000 "
                   "differ", wrong);
}
