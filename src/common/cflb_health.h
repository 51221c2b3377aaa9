
/*
 * cflb health: the endpoint health state machine (consecutive up/down
 * hysteresis), pool health from the health threshold, the matchers a
 * monitor applies to a response (expected codes, expected body) and the
 * probe round-trip average.  No I/O here: the glue probes and reports.
 */

#ifndef _CFLB_HEALTH_H_INCLUDED_
#define _CFLB_HEALTH_H_INCLUDED_


#include "cflb_core.h"


/*
 * One endpoint's health.  A zeroed struct is "unknown", which counts as
 * unhealthy: a monitored endpoint gets no traffic before its first check.
 */
typedef struct {
    uint32_t          passes;       /* consecutive passed checks */
    uint32_t          fails;        /* consecutive failed checks */
    uint8_t           healthy;
    uint8_t           known;        /* a check has decided */
} cflb_health_t;


typedef enum {
    CFLB_POOL_HEALTHY = 0,          /* every endpoint healthy */
    CFLB_POOL_DEGRADED,             /* some down, >= minimum_origins up */
    CFLB_POOL_CRITICAL              /* fewer than minimum_origins up */
} cflb_pool_health_e;


/* why a check failed, in the product's words (cflb_reason_name()) */
typedef enum {
    CFLB_REASON_NONE = 0,           /* "No failures" */
    CFLB_REASON_TCP_FAILED,
    CFLB_REASON_TCP_TIMEOUT,
    CFLB_REASON_HTTP_TIMEOUT,
    CFLB_REASON_CODE_MISMATCH,
    CFLB_REASON_BODY_MISMATCH,
    CFLB_REASON_HTTP_INVALID,
    CFLB_REASON_TLS_UNTRUSTED,
    CFLB_REASON_TLS_NAME,
    CFLB_REASON_TLS_HANDSHAKE,
    CFLB_REASON_RESET,
    CFLB_REASON_NO_ROUTE,
    CFLB_REASON_UNREACHABLE,
    CFLB_REASON_UDP_UNREACHABLE,
    CFLB_REASON_SMTP_MISMATCH,
    CFLB_REASON_OTHER,
    CFLB_REASON_NOT_CHECKED,
    CFLB_REASON_INVALID,
    CFLB_REASON_NO_ECHO,
    CFLB_REASON_N
} cflb_reason_e;


/* HTTP status codes 100..599 that a monitor expects */
typedef struct {
    uint64_t          bits[10];
} cflb_codes_t;


/*
 * cflb_health_record() applies one check result.  An endpoint becomes
 * healthy after max(1, up) consecutive passes and unhealthy after
 * max(1, down) consecutive failures; the first check of an unknown
 * endpoint decides at once in either direction when up/down <= 1.
 * Returns 1 when "healthy" or "known" changed, 0 otherwise.
 */
int cflb_health_record(cflb_health_t *h, int passed, unsigned up,
    unsigned down);

/* pool health from its healthy endpoint count; minimum >= 1 */
cflb_pool_health_e cflb_pool_health(unsigned healthy, unsigned total,
    unsigned minimum);

/* the product's words for a reason; "Other Failure" if out of range */
const char *cflb_reason_name(unsigned reason);

/* "healthy", "degraded", "critical" */
const char *cflb_pool_health_name(cflb_pool_health_e h);

/*
 * cflb_codes_parse() reads "200", "2xx", or a list separated by spaces
 * or commas: "200 301 4xx".  CFLB_OK, or CFLB_ERROR with err filled.
 */
int cflb_codes_parse(const unsigned char *s, size_t len, cflb_codes_t *codes,
    cflb_err_t *err);

int cflb_codes_match(const cflb_codes_t *codes, unsigned code);

/* case-insensitive (ASCII) substring search; an empty needle matches */
int cflb_body_match(const unsigned char *body, size_t len,
    const unsigned char *needle, size_t nlen);

/*
 * cflb_rtt_update() folds a round-trip sample (usec) into a moving average
 * (EWMA, 1/8 weight for the new sample; the first sample, avg == 0, is
 * taken as is).  Returns the new average, never 0 for a non-zero sample.
 */
uint32_t cflb_rtt_update(uint32_t avg, uint32_t sample);


#endif /* _CFLB_HEALTH_H_INCLUDED_ */
