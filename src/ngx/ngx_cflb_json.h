
/*
 * Writing JSON: the status document, alerts and the state file write
 * their names through one escaper.
 */

#ifndef _NGX_CFLB_JSON_H_INCLUDED_
#define _NGX_CFLB_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the most one byte of a name takes once escaped ("\u001f") */
#define NGX_CFLB_JSON_ESCAPED   6

/*
 * s as a JSON string, quoted, valid UTF-8 whatever bytes s holds (the
 * others are written "\\xHH", see cflb_json.h); p has room for
 * NGX_CFLB_JSON_ESCAPED * s->len + 2
 */
u_char *ngx_cflb_json_str(u_char *p, ngx_str_t *s);

/* w hundredths as a JSON number: "0.6" is written "0.60" */
u_char *ngx_cflb_json_weight(u_char *p, ngx_uint_t w);


#endif /* _NGX_CFLB_JSON_H_INCLUDED_ */
