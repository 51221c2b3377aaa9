
/*
 * A worker's part in cflb: both modules' init_process and exit_process
 * start and end it in every cflb zone of the cycle, once, whichever
 * module comes first (in a static build they share the code): the zone
 * slot and the RNG, the token MAC, the alerts queue, the health checks,
 * the etcd connection of a fleet.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_cflb_process.h"
#include "ngx_cflb_zone.h"
#include "ngx_cflb_decide.h"
#include "ngx_cflb_health.h"
#include "ngx_cflb_notify.h"
#include "ngx_cflb_runtime.h"
#include "ngx_cflb_cluster.h"
#include "ngx_cflb_resolve.h"


static ngx_int_t ngx_cflb_each_worker(ngx_cycle_t *cycle, ngx_uint_t start);
static ngx_int_t ngx_cflb_init_worker(ngx_cycle_t *cycle,
    ngx_cflb_conf_t *ccf);
static void ngx_cflb_exit_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf);


/*
 * A worker takes a slot for its share of the in-flight counters.  Slots
 * of workers that died are taken back first, with whatever they counted.
 */

ngx_int_t
ngx_cflb_init_process(ngx_cycle_t *cycle)
{
    return ngx_cflb_each_worker(cycle, 1);
}


void
ngx_cflb_exit_process(ngx_cycle_t *cycle)
{
    (void) ngx_cflb_each_worker(cycle, 0);
}


/*
 * Starts (or ends) this worker's part in every cflb zone of the cycle,
 * once: both modules call it, and in a static build they share the code.
 */

static ngx_int_t
ngx_cflb_each_worker(ngx_cycle_t *cycle, ngx_uint_t start)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *zone;
    ngx_cflb_conf_t  *ccf;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_OK;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        ccf = zone[i].data;

        if (zone[i].init != ngx_cflb_init_zone || ccf->worker == start) {
            continue;
        }

        ccf->worker = start;

        if (!start) {
            ngx_cflb_exit_worker(cycle, ccf);

        } else if (ngx_cflb_init_worker(cycle, ccf) != NGX_OK) {
            return NGX_ERROR;
        }
    }
}


static ngx_int_t
ngx_cflb_init_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf)
{
    if (ccf->sh == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        ccf->slot = NGX_CFLB_SLOTS;
        return NGX_OK;
    }

    cflb_rng_seed(&ccf->rng, (uint64_t) ngx_pid << 32 ^ ngx_time()
                             ^ (uint64_t) ngx_random());

    ccf->log = cycle->log;

    ngx_cflb_zone_attach(ccf, cycle->log);

    if (ngx_cflb_affinity_init_worker(ccf, cycle->log) != NGX_OK
        || ngx_cflb_notify_init_worker(cycle, ccf) != NGX_OK
        || ngx_cflb_cluster_init_worker(cycle, ccf) != NGX_OK
        || ngx_cflb_resolve_init_worker(cycle, ccf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_cflb_health_init_worker(cycle, ccf);
}


static void
ngx_cflb_exit_worker(ngx_cycle_t *cycle, ngx_cflb_conf_t *ccf)
{
    ngx_cflb_affinity_exit_worker(ccf);
    ngx_cflb_notify_exit_worker(ccf);
    ngx_cflb_cluster_exit_worker(ccf);
    ngx_cflb_resolve_exit_worker(ccf);
    ngx_cflb_runtime_exit_worker(ccf);
    ngx_cflb_zone_detach(ccf);
}
