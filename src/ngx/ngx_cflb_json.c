
/*
 * Writing JSON: names escaped as nginx escapes them for its own JSON
 * (ngx_escape_json), and weights in the product's form.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_json.h"
#include "cflb_core.h"


u_char *
ngx_cflb_json_str(u_char *p, ngx_str_t *s)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    return p;
}


u_char *
ngx_cflb_json_weight(u_char *p, ngx_uint_t w)
{
    return ngx_sprintf(p, "%ui.%02ui", cflb_weight_int(w),
                       cflb_weight_frac(w));
}
