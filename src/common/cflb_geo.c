
/*
 * cflb geo: region codes, the country and subdivision tables, and the
 * coordinate parser.
 *
 * The tables are direct: a two-letter code is an index 0..675, so a
 * lookup is one read and no search.  They are built at compile time
 * from cflb_geo_regions.def with designated initializers, each entry
 * holding region + 1 so that the zero fill means "not a code".
 */


#include <string.h>

#include "cflb_geo.h"


static const uint8_t  cflb_geo_countries[CFLB_NCOUNTRIES] = {
#define CFLB_GEO_COUNTRY(a, b, r)                                           \
    [CFLB_COUNTRY(a, b)] = CFLB_REGION_ ## r + 1,
#define CFLB_GEO_US(a, b, r)
#define CFLB_GEO_CA(a, b, r)
#include "cflb_geo_regions.def"
#undef CFLB_GEO_COUNTRY
#undef CFLB_GEO_US
#undef CFLB_GEO_CA
};


static const uint8_t  cflb_geo_us[CFLB_NCOUNTRIES] = {
#define CFLB_GEO_COUNTRY(a, b, r)
#define CFLB_GEO_US(a, b, r)                                                \
    [CFLB_COUNTRY(a, b)] = CFLB_REGION_ ## r + 1,
#define CFLB_GEO_CA(a, b, r)
#include "cflb_geo_regions.def"
#undef CFLB_GEO_COUNTRY
#undef CFLB_GEO_US
#undef CFLB_GEO_CA
};


static const uint8_t  cflb_geo_ca[CFLB_NCOUNTRIES] = {
#define CFLB_GEO_COUNTRY(a, b, r)
#define CFLB_GEO_US(a, b, r)
#define CFLB_GEO_CA(a, b, r)                                                \
    [CFLB_COUNTRY(a, b)] = CFLB_REGION_ ## r + 1,
#include "cflb_geo_regions.def"
#undef CFLB_GEO_COUNTRY
#undef CFLB_GEO_US
#undef CFLB_GEO_CA
};


static const char  *cflb_geo_region_names[CFLB_NREGIONS][2] = {
    { "WNAM", "Western North America" },
    { "ENAM", "Eastern North America" },
    { "WEU",  "Western Europe" },
    { "EEU",  "Eastern Europe" },
    { "NSAM", "Northern South America" },
    { "SSAM", "Southern South America" },
    { "OC",   "Oceania" },
    { "ME",   "Middle East" },
    { "NAF",  "Northern Africa" },
    { "SAF",  "Southern Africa" },
    { "SAS",  "Southern Asia" },
    { "SEAS", "Southeast Asia" },
    { "NEAS", "Northeast Asia" }
};


static int cflb_geo_letter(unsigned char c);
static int cflb_geo_code(const unsigned char *s);
static int cflb_geo_digits(const unsigned char *s, size_t len, size_t *i,
    uint64_t *value, unsigned max);


int
cflb_region_parse(const unsigned char *s, size_t len)
{
    size_t       i;
    unsigned     r;
    const char  *name;

    for (r = 0; r < CFLB_NREGIONS; r++) {
        name = cflb_geo_region_names[r][0];

        if (strlen(name) != len) {
            continue;
        }

        for (i = 0; i < len; i++) {
            if (cflb_geo_letter(s[i]) != name[i] - 'A') {
                break;
            }
        }

        if (i == len) {
            return (int) r;
        }
    }

    return CFLB_ERROR;
}


const char *
cflb_region_name(unsigned region)
{
    return region < CFLB_NREGIONS ? cflb_geo_region_names[region][0] : NULL;
}


const char *
cflb_region_desc(unsigned region)
{
    return region < CFLB_NREGIONS ? cflb_geo_region_names[region][1] : NULL;
}


int
cflb_country_parse(const unsigned char *s, size_t len)
{
    int  code;

    if (len != 2) {
        return CFLB_ERROR;
    }

    code = cflb_geo_code(s);

    if (code < 0 || cflb_geo_countries[code] == 0) {
        return CFLB_ERROR;
    }

    return code;
}


void
cflb_country_code(unsigned country, unsigned char code[2])
{
    code[0] = (unsigned char) ('A' + country / 26 % 26);
    code[1] = (unsigned char) ('A' + country % 26);
}


int
cflb_country_region(unsigned country)
{
    if (country >= CFLB_NCOUNTRIES || cflb_geo_countries[country] == 0) {
        return CFLB_DECLINED;
    }

    return cflb_geo_countries[country] - 1;
}


int
cflb_subdivision_region(unsigned country, const unsigned char *s,
    size_t len)
{
    int             code;
    const uint8_t  *table;

    if (country == (unsigned) CFLB_COUNTRY('U', 'S')) {
        table = cflb_geo_us;

    } else if (country == (unsigned) CFLB_COUNTRY('C', 'A')) {
        table = cflb_geo_ca;

    } else {
        return CFLB_DECLINED;
    }

    /* "US-CA": the country part must be the same country */

    if (len == 5 && s[2] == '-') {
        if (cflb_geo_code(s) != (int) country) {
            return CFLB_DECLINED;
        }

        s += 3;
        len -= 3;
    }

    if (len != 2) {
        return CFLB_DECLINED;
    }

    code = cflb_geo_code(s);

    if (code < 0 || table[code] == 0) {
        return CFLB_DECLINED;
    }

    return table[code] - 1;
}


int
cflb_geo_region(unsigned country, const unsigned char *s, size_t len)
{
    int  region;

    if (len) {
        region = cflb_subdivision_region(country, s, len);

        if (region != CFLB_DECLINED) {
            return region;
        }
    }

    return cflb_country_region(country);
}


void
cflb_location_init(cflb_location_t *loc)
{
    memset(loc, 0, sizeof(cflb_location_t));

    loc->country = CFLB_COUNTRY_NONE;
    loc->region = CFLB_REGION_NONE;
}


/*
 * Grammar: [ "+" | "-" ] digit{1,3} [ "." digit+ ].  The value is
 * accumulated in ten-millionths of a degree, the seventh decimal being
 * the rounding digit; later decimals must be digits but do not count.
 */

int
cflb_geo_coord_parse(const unsigned char *s, size_t len, int lon,
    int32_t *udeg, cflb_err_t *err)
{
    int       neg;
    size_t    i, start, n;
    uint64_t  deg, frac, max;

    i = 0;
    neg = 0;
    max = lon ? CFLB_GEO_LON_MAX : CFLB_GEO_LAT_MAX;

    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = (s[i] == '-');
        i++;
    }

    start = i;

    if (cflb_geo_digits(s, len, &i, &deg, 3) != CFLB_OK) {
        if (i == start) {
            err->msg = "expected a number";
            err->offset = i;
            return CFLB_ERROR;
        }

        goto range;
    }

    frac = 0;

    if (i < len && s[i] == '.') {
        i++;
        start = i;

        if (cflb_geo_digits(s, len, &i, &frac, 7) != CFLB_OK) {
            if (i == start) {
                err->msg = "expected a digit after the decimal point";
                err->offset = i;
                return CFLB_ERROR;
            }

            while (i < len && s[i] >= '0' && s[i] <= '9') {
                i++;
            }
        }

        for (n = i - start; n < 7; n++) {
            frac *= 10;
        }
    }

    if (i != len) {
        err->msg = "invalid character";
        err->offset = i;
        return CFLB_ERROR;
    }

    deg = deg * CFLB_GEO_UDEG + (frac + 5) / 10;

    if (deg > max) {
        goto range;
    }

    *udeg = neg ? -(int32_t) deg : (int32_t) deg;

    return CFLB_OK;

range:

    err->msg = lon ? "longitude out of range -180 to 180"
                   : "latitude out of range -90 to 90";
    err->offset = 0;

    return CFLB_ERROR;
}


/* A-Z or a-z as 0..25, anything else -1 */

static int
cflb_geo_letter(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }

    return -1;
}


/* the index of two letters, or -1 */

static int
cflb_geo_code(const unsigned char *s)
{
    int  a, b;

    a = cflb_geo_letter(s[0]);
    b = cflb_geo_letter(s[1]);

    if (a < 0 || b < 0) {
        return -1;
    }

    return a * 26 + b;
}


/*
 * One to max digits at s[*i] into *value.  CFLB_ERROR with *i at the
 * first digit past max, or unmoved when there is no digit at all.
 */

static int
cflb_geo_digits(const unsigned char *s, size_t len, size_t *i,
    uint64_t *value, unsigned max)
{
    size_t    j;
    uint64_t  v;

    v = 0;

    for (j = *i; j < len && s[j] >= '0' && s[j] <= '9'; j++) {
        if (j - *i == max) {
            *value = v;
            *i = j;
            return CFLB_ERROR;
        }

        v = v * 10 + (uint64_t) (s[j] - '0');
    }

    if (j == *i) {
        return CFLB_ERROR;
    }

    *value = v;
    *i = j;

    return CFLB_OK;
}
