
/*
 * cflb geo glue: MaxMind DB files (libmaxminddb) opened at configuration
 * time and looked up per request into a cflb_location_t.
 *
 * Standalone on purpose: it needs only nginx core and the core's
 * cflb_geo.h, so both modules and any directive can use it; only
 * ngx_cflb_geo.c includes libmaxminddb's header.
 */

#ifndef _NGX_CFLB_GEO_H_INCLUDED_
#define _NGX_CFLB_GEO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "cflb_geo.h"


/* the glue's name for the core's location: same type, no conversion */
typedef cflb_location_t  ngx_cflb_location_t;


/* what a database is looked up for, from its type (docs/geo.md) */
#define NGX_CFLB_GEO_COUNTRY     0x01   /* country, registered_country */
#define NGX_CFLB_GEO_CITY        0x02   /* US/CA subdivision, location */
#define NGX_CFLB_GEO_ASN         0x04   /* autonomous_system_number */
#define NGX_CFLB_GEO_TRAITS_ASN  0x08   /* traits.autonomous_system_number */

/* the record layout, learnt from the first record that has a country */
#define NGX_CFLB_GEO_SCHEMA_UNKNOWN  0
#define NGX_CFLB_GEO_SCHEMA_GEOIP2   1  /* country.iso_code, location.* */
#define NGX_CFLB_GEO_SCHEMA_IPLOC    2  /* ip-location-db: country_code */


typedef struct ngx_cflb_geo_db_s  ngx_cflb_geo_db_t;

struct ngx_cflb_geo_db_s {
    void             *mmdb;         /* MMDB_s, opened */
    ngx_str_t         path;         /* full name, NUL-terminated */
    ngx_str_t         type;         /* metadata database_type */
    time_t            build;        /* metadata build_epoch */
    ngx_uint_t        ip_version;   /* 4 or 6 */
    ngx_uint_t        fields;       /* NGX_CFLB_GEO_* */
    ngx_uint_t        schema;       /* NGX_CFLB_GEO_SCHEMA_*, per process */
};


/*
 * ngx_cflb_geo_open() opens the MaxMind DB file at path (relative names
 * are relative to the configuration prefix, as nginx's own files) for
 * the configuration being read, and closes it with cf->pool, so a
 * reload opens the file anew and the old cycle closes its copy.  On
 * failure it logs "cflb geo database \"...\": <libmaxminddb's reason>"
 * at emerg and returns NGX_ERROR.  Configuration time only.
 */
ngx_int_t ngx_cflb_geo_open(ngx_conf_t *cf, ngx_str_t *path,
    ngx_cflb_geo_db_t **db);

/*
 * ngx_cflb_geo_lookup() looks the address up and fills the fields of
 * loc that are still unknown and that this database knows, so a second
 * call with an ASN database completes a City lookup; start with
 * cflb_location_init().  The region follows from the country and, for
 * the US and Canada, the subdivision.  Returns NGX_OK if it filled
 * something; NGX_DECLINED if the database knows nothing of the address,
 * or cannot (IPv6 in an IPv4 database, a UNIX socket), which is not an
 * error; NGX_ERROR if libmaxminddb failed (a corrupt file), leaving
 * loc as it was.  No allocation, no logging; per request.
 */
ngx_int_t ngx_cflb_geo_lookup(ngx_cflb_geo_db_t *db, struct sockaddr *sa,
    ngx_cflb_location_t *loc);

/*
 * ngx_cflb_geo_setup() reads what ngx_cflb_geo_open() needs from the
 * metadata of db->mmdb, an open MMDB_s (type, build, fields); exposed for the
 * benchmark harness, which opens the file without a configuration.
 */
void ngx_cflb_geo_setup(ngx_cflb_geo_db_t *db);


#endif /* _NGX_CFLB_GEO_H_INCLUDED_ */
