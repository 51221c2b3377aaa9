
/*
 * Writing JSON: names escaped by the core's cflb_json_escape(), which,
 * unlike nginx's ngx_escape_json(), makes valid UTF-8 of any bytes, and
 * weights in the product's form.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_json.h"
#include "cflb_core.h"
#include "cflb_json.h"


u_char *
ngx_cflb_json_str(u_char *p, ngx_str_t *s)
{
    *p++ = '"';
    p = cflb_json_escape(p, s->data, s->len);
    *p++ = '"';

    return p;
}


u_char *
ngx_cflb_json_weight(u_char *p, ngx_uint_t w)
{
    return ngx_sprintf(p, "%ui.%02ui", cflb_weight_int(w),
                       cflb_weight_frac(w));
}
