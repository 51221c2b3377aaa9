
/*
 * cflb geo: the location data behind geo and proximity steering.
 *
 *   - the 13 regions of the product's Regions API, by code;
 *   - ISO 3166-1 alpha-2 countries, and the region of a country or of a
 *     US or Canadian subdivision (cflb_geo_regions.def, compiled in);
 *   - coordinates in micro-degrees, parsed exactly from configuration;
 *   - unit vectors on the sphere, so that ordering pools by distance
 *     costs three multiplications per pool and no trigonometry.
 *
 * Everything here is pure: no allocation, no state, libc only (and not
 * even libm: sines come from a table, see cflb_geo_vec.c).
 */

#ifndef _CFLB_GEO_H_INCLUDED_
#define _CFLB_GEO_H_INCLUDED_


#include "cflb_core.h"


/* the Regions API's codes; the values index per-region arrays */
typedef enum {
    CFLB_REGION_WNAM = 0,           /* Western North America */
    CFLB_REGION_ENAM,               /* Eastern North America */
    CFLB_REGION_WEU,                /* Western Europe */
    CFLB_REGION_EEU,                /* Eastern Europe */
    CFLB_REGION_NSAM,               /* Northern South America */
    CFLB_REGION_SSAM,               /* Southern South America */
    CFLB_REGION_OC,                 /* Oceania */
    CFLB_REGION_ME,                 /* Middle East */
    CFLB_REGION_NAF,                /* Northern Africa */
    CFLB_REGION_SAF,                /* Southern Africa */
    CFLB_REGION_SAS,                /* Southern Asia */
    CFLB_REGION_SEAS,               /* Southeast Asia */
    CFLB_REGION_NEAS,               /* Northeast Asia */
    CFLB_NREGIONS
} cflb_region_e;

#define CFLB_REGION_NONE     0xff   /* cflb_location_t: not known */

/* countries are indexes 0..675 of their two letters: (c0-'A')*26+c1-'A' */
#define CFLB_NCOUNTRIES      (26 * 26)
#define CFLB_COUNTRY_NONE    0xffff

/* the index of two upper-case letters, a constant: CFLB_COUNTRY('U', 'S') */
#define CFLB_COUNTRY(a, b)   (((a) - 'A') * 26 + ((b) - 'A'))

/* micro-degrees: coordinates are integers, exact from configuration */
#define CFLB_GEO_UDEG        1000000
#define CFLB_GEO_LAT_MAX     (90 * CFLB_GEO_UDEG)
#define CFLB_GEO_LON_MAX     (180 * CFLB_GEO_UDEG)

/* the mean Earth radius (IUGG), for kilometres in traces */
#define CFLB_GEO_EARTH_KM    6371.0088


/*
 * Where a client is, as far as a database knows.  Every field may be
 * unknown on its own: a Country database gives no coordinates, an ASN
 * database only the ASN, a private address nothing at all.
 */
typedef struct {
    int32_t           lat;          /* micro-degrees, if CFLB_LOC_COORDS */
    int32_t           lon;          /* micro-degrees, if CFLB_LOC_COORDS */
    uint32_t          asn;          /* 0: unknown */
    uint16_t          country;      /* index, or CFLB_COUNTRY_NONE */
    uint8_t           region;       /* cflb_region_e, or CFLB_REGION_NONE */
    uint8_t           flags;        /* CFLB_LOC_* */
    unsigned char     subdivision[4];   /* "CA" of US-CA, NUL-padded, "":
                                           unknown; US and CA only */
} cflb_location_t;

#define CFLB_LOC_COORDS      0x01


/* a point on the unit sphere (x towards 0N 0E, z towards the North Pole) */
typedef struct {
    double            x;
    double            y;
    double            z;
} cflb_geo_vec_t;


/*
 * cflb_region_parse() maps "WNAM" (any letter case) to its region, or
 * returns CFLB_ERROR.  cflb_region_name() is the code ("WNAM") and
 * cflb_region_desc() the English name ("Western North America"); both
 * return NULL for anything but a region.
 */
int cflb_region_parse(const unsigned char *s, size_t len);
const char *cflb_region_name(unsigned region);
const char *cflb_region_desc(unsigned region);

/*
 * cflb_country_parse() returns the index of a known ISO 3166-1 alpha-2
 * code ("DE" or "de"; also "XK", Kosovo, which databases use though ISO
 * has not assigned it), or CFLB_ERROR for anything else, "EU" and "ZZ"
 * included.  cflb_country_code() writes the two upper-case letters of an
 * index back.
 */
int cflb_country_parse(const unsigned char *s, size_t len);
void cflb_country_code(unsigned country, unsigned char code[2]);

/*
 * cflb_country_region() is the region of a country index, or
 * CFLB_DECLINED if the index is not a known country (CFLB_COUNTRY_NONE
 * included).  Every known country has a region; for the US and Canada
 * it is the default that cflb_geo_region() uses without a subdivision.
 */
int cflb_country_region(unsigned country);

/*
 * cflb_subdivision_region() is the region of a US or Canadian ISO 3166-2
 * subdivision, given as "CA" or "US-CA" (any case), or CFLB_DECLINED for
 * an unknown one or for a country without subdivisions in the table.
 */
int cflb_subdivision_region(unsigned country, const unsigned char *s,
    size_t len);

/*
 * cflb_geo_region() is the client's region: the subdivision's if the
 * table knows it (s may be NULL, len 0), else the country's, else
 * CFLB_DECLINED.  Cost: two table reads.
 */
int cflb_geo_region(unsigned country, const unsigned char *s, size_t len);

/*
 * cflb_geo_coord_parse() parses a latitude (lon == 0) or a longitude
 * (lon != 0) in decimal degrees, "50.11", "-118.24", "+8", into
 * micro-degrees.  Digits past the sixth decimal round half away from
 * zero (0.11 m).  Returns CFLB_OK, or CFLB_ERROR with err->msg (no
 * period, lower case) and err->offset into s: not a number, or out of
 * -90..90 / -180..180.
 */
int cflb_geo_coord_parse(const unsigned char *s, size_t len, int lon,
    int32_t *udeg, cflb_err_t *err);

/*
 * cflb_location_init() marks every field unknown.
 */
void cflb_location_init(cflb_location_t *loc);

/*
 * cflb_geo_vec() is the unit vector of (lat, lon) in micro-degrees,
 * which must be in range.  No libm: a sine table at whole degrees and a
 * short series for the rest, within 1e-15 of libm per component (the
 * test measures it).  About 30 floating point operations; do it once
 * per pool per configuration, and once per client.
 */
void cflb_geo_vec(int32_t lat, int32_t lon, cflb_geo_vec_t *v);

/*
 * cflb_geo_km() is the great-circle distance in km for the dot product
 * of two unit vectors (cflb_geo_dot()), within 0.2 m of libm at any
 * distance (an arc cosine approximation, Abramowitz and Stegun 4.4.46,
 * error 2e-8 rad, 0.13 m).  For traces, not for each request.
 */
double cflb_geo_km(double dot);

/*
 * cflb_geo_nearest() returns the index of the usable pool vector with
 * the largest dot product with the client's, which is the nearest pool
 * by great-circle distance; ties go to the lower index.  usable may be
 * NULL (all usable).  A zero vector (a pool without coordinates) is
 * never chosen.  Returns CFLB_DECLINED if no pool qualifies; *dot (may
 * be NULL) gets the winner's dot product, for cflb_geo_km().
 * Cost: n dot products and n usable() calls at most.
 */
int cflb_geo_nearest(const cflb_geo_vec_t *client,
    const cflb_geo_vec_t *pools, unsigned n,
    int (*usable)(void *ctx, unsigned i), void *ctx, double *dot);


/* the dot product of two unit vectors: the cosine of their angle */
static inline double
cflb_geo_dot(const cflb_geo_vec_t *a, const cflb_geo_vec_t *b)
{
    return a->x * b->x + a->y * b->y + a->z * b->z;
}


#endif /* _CFLB_GEO_H_INCLUDED_ */
