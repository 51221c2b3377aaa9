
/*
 * cflb geo: unit vectors, distances and the nearest pool.
 *
 * Ordering pools by great-circle distance from a client is ordering
 * them by the dot product of unit vectors, largest first, because the
 * angle between two unit vectors is the arc cosine of their dot
 * product and the arc cosine decreases.  So the per-request work is
 * one vector for the client and three multiplications per pool; pool
 * vectors are made once per configuration, and kilometres only for a
 * trace.
 *
 * No libm (the core links nothing but libc): sin(k) for whole degrees
 * is a table, and for the rest sin(k + b) = sin k cos b + cos k sin b,
 * with b < 1 degree (0.0175 rad) where three terms of each Taylor
 * series are exact to double precision (remainders b^7/7! < 1e-16 and
 * b^8/8! < 1e-18).
 */


#include "cflb_geo.h"


#define CFLB_GEO_PI          3.14159265358979323846
#define CFLB_GEO_RAD_UDEG    (CFLB_GEO_PI / 180.0 / CFLB_GEO_UDEG)
#define CFLB_GEO_QUARTER     (90 * CFLB_GEO_UDEG)
#define CFLB_GEO_HALF        (180 * CFLB_GEO_UDEG)


/* sin(k degrees), k = 0..90, correctly rounded (the test checks) */
static const double  cflb_geo_sin_deg[91] = {
    0.0, 0.017452406437283512, 0.034899496702500969, 0.052335956242943835,
    0.069756473744125302, 0.087155742747658166, 0.10452846326765347,
    0.12186934340514748, 0.13917310096006544, 0.15643446504023087,
    0.17364817766693033, 0.1908089953765448, 0.20791169081775934,
    0.224951054343865, 0.24192189559966773, 0.25881904510252074,
    0.27563735581699916, 0.29237170472273677, 0.3090169943749474,
    0.3255681544571567, 0.34202014332566871, 0.35836794954530027,
    0.37460659341591201, 0.39073112848927377, 0.40673664307580021,
    0.42261826174069944, 0.4383711467890774, 0.45399049973954675,
    0.46947156278589081, 0.48480962024633706, 0.49999999999999994,
    0.51503807491005416, 0.5299192642332049, 0.54463903501502708,
    0.5591929034707469, 0.57357643635104605, 0.58778525229247314,
    0.60181502315204827, 0.61566147532565829, 0.62932039104983739,
    0.64278760968653925, 0.65605902899050728, 0.66913060635885824,
    0.68199836006249848, 0.69465837045899725, 0.70710678118654746,
    0.71933980033865108, 0.73135370161917046, 0.74314482547739424,
    0.75470958022277201, 0.76604444311897801, 0.7771459614569709,
    0.78801075360672201, 0.79863551004729283, 0.80901699437494745,
    0.8191520442889918, 0.82903757255504174, 0.83867056794542405,
    0.84804809615642596, 0.85716730070211233, 0.8660254037844386,
    0.87461970713939574, 0.88294759285892688, 0.89100652418836779,
    0.89879404629916704, 0.90630778703664994, 0.91354545764260087,
    0.92050485345244037, 0.92718385456678742, 0.93358042649720174,
    0.93969262078590832, 0.94551857559931674, 0.95105651629515353,
    0.95630475596303544, 0.96126169593831889, 0.96592582628906831,
    0.97029572627599647, 0.97437006478523525, 0.97814760073380558,
    0.98162718344766398, 0.98480775301220802, 0.98768834059513777,
    0.99026806874157036, 0.99254615164132198, 0.99452189536827329,
    0.99619469809174555, 0.9975640502598242, 0.99862953475457383,
    0.99939082701909576, 0.99984769515639127, 1.0,
};


static double cflb_geo_sin_quarter(uint32_t a);
static void cflb_geo_sincos(int32_t a, double *s, double *c);
static double cflb_geo_sqrt(double y);


void
cflb_geo_vec(int32_t lat, int32_t lon, cflb_geo_vec_t *v)
{
    double  slat, clat, slon, clon;

    cflb_geo_sincos(lat, &slat, &clat);
    cflb_geo_sincos(lon, &slon, &clon);

    v->x = clat * clon;
    v->y = clat * slon;
    v->z = slat;
}


/*
 * acos(x) = sqrt(1 - x) * P(x) for 0 <= x <= 1, |error| <= 2e-8 rad,
 * Abramowitz and Stegun, Handbook of Mathematical Functions, 4.4.46;
 * acos(-x) = pi - acos(x).  The square root keeps short distances
 * accurate: 1 - x is exact enough in double down to a few metres.
 */

double
cflb_geo_km(double dot)
{
    int     neg;
    double  x, p, rad;

    neg = (dot < 0);
    x = neg ? -dot : dot;

    if (x > 1.0) {
        x = 1.0;
    }

    p = -0.0012624911;
    p = p * x + 0.0066700901;
    p = p * x - 0.0170881256;
    p = p * x + 0.0308918810;
    p = p * x - 0.0501743046;
    p = p * x + 0.0889789874;
    p = p * x - 0.2145988016;
    p = p * x + 1.5707963050;

    rad = cflb_geo_sqrt(1.0 - x) * p;

    if (neg) {
        rad = CFLB_GEO_PI - rad;
    }

    return rad * CFLB_GEO_EARTH_KM;
}


int
cflb_geo_nearest(const cflb_geo_vec_t *client,
    const cflb_geo_vec_t *pools, unsigned n,
    int (*usable)(void *ctx, unsigned i), void *ctx, double *dot)
{
    int                    best;
    double                 d, bdot;
    unsigned               i;
    const cflb_geo_vec_t  *p;

    best = CFLB_DECLINED;
    bdot = -2.0;                        /* below any dot product */

    for (i = 0; i < n; i++) {
        p = &pools[i];

        if (p->x == 0.0 && p->y == 0.0 && p->z == 0.0) {
            continue;
        }

        d = cflb_geo_dot(client, p);

        /* ask usable() only of a candidate that would win */

        if (d > bdot && (usable == NULL || usable(ctx, i))) {
            best = (int) i;
            bdot = d;
        }
    }

    if (dot != NULL && best != CFLB_DECLINED) {
        *dot = bdot;
    }

    return best;
}


/* sin(a) for a in 0..90 degrees, in micro-degrees */

static double
cflb_geo_sin_quarter(uint32_t a)
{
    double    b, b2, sb, cb;
    uint32_t  k;

    k = a / CFLB_GEO_UDEG;
    b = (double) (a % CFLB_GEO_UDEG) * CFLB_GEO_RAD_UDEG;
    b2 = b * b;

    sb = b * (1.0 - b2 / 6.0 * (1.0 - b2 / 20.0));
    cb = 1.0 - b2 / 2.0 * (1.0 - b2 / 12.0 * (1.0 - b2 / 30.0));

    /* cos(k) = sin(90 - k); k == 90 only with b == 0 */

    return cflb_geo_sin_deg[k] * cb + cflb_geo_sin_deg[90 - k] * sb;
}


/* sine and cosine of a in -180..180 degrees, in micro-degrees */

static void
cflb_geo_sincos(int32_t a, double *s, double *c)
{
    uint32_t  u;

    u = (a < 0) ? (uint32_t) -a : (uint32_t) a;

    if (u <= CFLB_GEO_QUARTER) {
        *s = cflb_geo_sin_quarter(u);
        *c = cflb_geo_sin_quarter(CFLB_GEO_QUARTER - u);

    } else {
        *s = cflb_geo_sin_quarter(CFLB_GEO_HALF - u);
        *c = -cflb_geo_sin_quarter(u - CFLB_GEO_QUARTER);
    }

    if (a < 0) {
        *s = -*s;
    }
}


/*
 * The square root of y in 0..2 (Newton's iteration): scaled into
 * [0.25, 2] by powers of 4, started at (1 + m) / 2 which is within 25%,
 * six steps reach double precision.
 */

static double
cflb_geo_sqrt(double y)
{
    int     i;
    double  m, f, x;

    if (y <= 0.0) {
        return 0.0;
    }

    m = y;
    f = 1.0;

    while (m < 0.25) {
        m *= 4.0;
        f *= 0.5;
    }

    x = (1.0 + m) / 2.0;

    for (i = 0; i < 6; i++) {
        x = (x + m / x) / 2.0;
    }

    return x * f;
}
