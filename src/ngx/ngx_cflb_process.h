
/*
 * A worker's part in cflb, started and ended by both modules.
 */

#ifndef _NGX_CFLB_PROCESS_H_INCLUDED_
#define _NGX_CFLB_PROCESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The modules' init_process and exit_process: each sets up (or leaves)
 * every cflb zone of the cycle once, whichever module comes first.
 */
ngx_int_t ngx_cflb_init_process(ngx_cycle_t *cycle);
void ngx_cflb_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_CFLB_PROCESS_H_INCLUDED_ */
