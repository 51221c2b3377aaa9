
/*
 * cflb weight parser.
 *
 * Grammar, deliberately narrow so that a typo never becomes a weight:
 *
 *     weight = "0" | "1" | [ "0" | "1" ] "." digit [ digit ]
 *
 * and the value must not exceed 1.00.  Hence "1", "1.0", "1.00", "0.6",
 * ".45", "0", "0.00" are accepted, while "", "-", "+1", "1.", ".",
 * "01", "0.123", "1.01", "2" and "1e0" are not.  The result is in
 * hundredths (CFLB_WEIGHT_SCALE), so parsing is exact.
 */


#include "cflb_core.h"


#define cflb_is_digit(c)  ((c) >= '0' && (c) <= '9')


int
cflb_weight_parse(const unsigned char *s, size_t len, uint32_t *weight)
{
    size_t    i;
    uint32_t  value, scale;

    i = 0;
    value = 0;

    if (i < len && (s[i] == '0' || s[i] == '1')) {
        value = (uint32_t) (s[i] - '0') * CFLB_WEIGHT_SCALE;
        i++;

        if (i == len) {
            *weight = value;
            return CFLB_OK;
        }
    }

    if (i == len || s[i] != '.') {
        return CFLB_ERROR;
    }

    i++;

    /* one or two decimals: tenths then hundredths */

    if (i == len || len - i > 2) {
        return CFLB_ERROR;
    }

    for (scale = CFLB_WEIGHT_SCALE / 10; i < len; i++, scale /= 10) {
        if (!cflb_is_digit(s[i])) {
            return CFLB_ERROR;
        }

        value += (uint32_t) (s[i] - '0') * scale;
    }

    if (value > CFLB_WEIGHT_SCALE) {
        return CFLB_ERROR;
    }

    *weight = value;

    return CFLB_OK;
}


/*
 * A JSON number is a double: 0.29 is 28.999999999999996 hundredths.  The
 * rounding error of a true two-decimal value is below 1e-13 hundredths,
 * so 1e-11 is a wide margin;
 * anything further off (0.29000000001) has more decimals than allowed.
 * Written as "!(in range)" so that NaN fails too.
 */

int
cflb_weight_from_double(double v, uint32_t *weight)
{
    double    h, d;
    uint32_t  n;

    h = v * CFLB_WEIGHT_SCALE;

    if (!(h >= 0 && h <= CFLB_WEIGHT_SCALE)) {
        return CFLB_ERROR;
    }

    n = (uint32_t) (h + 0.5);
    d = h - n;

    if (d > 1e-11 || d < -1e-11) {
        return CFLB_ERROR;
    }

    *weight = n;

    return CFLB_OK;
}
