
/*
 * cflb geo glue: MaxMind DB lookups.
 *
 * Two record layouts are read: GeoIP2/GeoLite2 (and DB-IP's, which
 * copies it): country.iso_code, subdivisions.0.iso_code,
 * location.latitude/longitude; and ip-location-db's flat one:
 * country_code, latitude, longitude.  ASN databases of both put
 * autonomous_system_number at the top; GeoIP2 Enterprise puts it under
 * traits.  Which fields a database is asked for follows from its type,
 * because every path that is not there costs a scan of the record.
 *
 * Per request: one tree walk (MMDB_lookup_sockaddr) and one
 * MMDB_aget_value() per wanted field (the location map once for both
 * coordinates), reading straight from the mapped file; nothing is
 * allocated.  bench/geo-db.sh measures it.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <maxminddb.h>

#include "ngx_cflb_geo.h"


static void ngx_cflb_geo_cleanup(void *data);
static struct sockaddr *ngx_cflb_geo_unmap(struct sockaddr *sa,
    struct sockaddr_in *sin);
static ngx_int_t ngx_cflb_geo_country(ngx_cflb_geo_db_t *db,
    MMDB_entry_s *entry, ngx_cflb_location_t *loc);
static ngx_int_t ngx_cflb_geo_subdivision(MMDB_entry_s *entry,
    ngx_cflb_location_t *loc);
static ngx_int_t ngx_cflb_geo_coords(ngx_cflb_geo_db_t *db,
    MMDB_entry_s *entry, ngx_cflb_location_t *loc);
static ngx_int_t ngx_cflb_geo_asn(ngx_cflb_geo_db_t *db,
    MMDB_entry_s *entry, ngx_cflb_location_t *loc);
static ngx_int_t ngx_cflb_geo_get(MMDB_entry_s *entry, const char **path,
    MMDB_entry_data_s *data);
static ngx_int_t ngx_cflb_geo_degrees(MMDB_entry_data_s *data,
    double max, int32_t *udeg);
static ngx_uint_t ngx_cflb_geo_type_has(ngx_str_t *type, const char *word);


static const char  *ngx_cflb_geo_country_path[] =
    { "country", "iso_code", NULL };
static const char  *ngx_cflb_geo_registered_path[] =
    { "registered_country", "iso_code", NULL };
static const char  *ngx_cflb_geo_country_code_path[] =
    { "country_code", NULL };
static const char  *ngx_cflb_geo_subdivision_path[] =
    { "subdivisions", "0", "iso_code", NULL };
static const char  *ngx_cflb_geo_location_path[] =
    { "location", NULL };
static const char  *ngx_cflb_geo_flat_lat_path[] =
    { "latitude", NULL };
static const char  *ngx_cflb_geo_flat_lon_path[] =
    { "longitude", NULL };
static const char  *ngx_cflb_geo_asn_path[] =
    { "autonomous_system_number", NULL };
static const char  *ngx_cflb_geo_traits_asn_path[] =
    { "traits", "autonomous_system_number", NULL };


ngx_int_t
ngx_cflb_geo_open(ngx_conf_t *cf, ngx_str_t *path, ngx_cflb_geo_db_t **db)
{
    int                  rc;
    ngx_err_t            err;
    ngx_str_t            name;
    ngx_cflb_geo_db_t   *d;
    ngx_pool_cleanup_t  *cln;

    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    d = ngx_pcalloc(cf->pool, sizeof(ngx_cflb_geo_db_t));
    if (d == NULL) {
        return NGX_ERROR;
    }

    /* the name as given may not be NUL-terminated */

    d->path.len = name.len;
    d->path.data = ngx_pnalloc(cf->pool, name.len + 1);
    if (d->path.data == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(d->path.data, name.data, name.len + 1);

    /* before the open, so that a failure here leaves nothing open */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ngx_set_errno(0);

    d->mmdb = ngx_pcalloc(cf->pool, sizeof(MMDB_s));
    if (d->mmdb == NULL) {
        return NGX_ERROR;
    }

    rc = MMDB_open((char *) d->path.data, MMDB_MODE_MMAP, d->mmdb);

    if (rc != MMDB_SUCCESS) {
        err = (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR)
              ? ngx_errno : 0;

        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           "cflb geo database \"%V\": %s",
                           &d->path, MMDB_strerror(rc));
        return NGX_ERROR;
    }

    cln->handler = ngx_cflb_geo_cleanup;
    cln->data = d;

    ngx_cflb_geo_setup(d);

    *db = d;

    return NGX_OK;
}


void
ngx_cflb_geo_setup(ngx_cflb_geo_db_t *db)
{
    MMDB_metadata_s  *md;

    md = &((MMDB_s *) db->mmdb)->metadata;

    db->type.data = (u_char *) (md->database_type ? md->database_type : "");
    db->type.len = ngx_strlen(db->type.data);
    db->build = (time_t) md->build_epoch;
    db->ip_version = md->ip_version;
    db->schema = NGX_CFLB_GEO_SCHEMA_UNKNOWN;

    /*
     * GeoIP2-City, GeoLite2-Country, GeoLite2-ASN, GeoIP2-ISP,
     * DBIP-City-Lite, ip-location-db's "country ipv4", "city", "asn":
     * the type names the content.  An unknown type is asked for all.
     */

    if (ngx_cflb_geo_type_has(&db->type, "asn")
        || ngx_cflb_geo_type_has(&db->type, "isp"))
    {
        db->fields = NGX_CFLB_GEO_ASN;

    } else if (ngx_cflb_geo_type_has(&db->type, "enterprise")) {
        db->fields = NGX_CFLB_GEO_COUNTRY | NGX_CFLB_GEO_CITY
                     | NGX_CFLB_GEO_TRAITS_ASN;

    } else if (ngx_cflb_geo_type_has(&db->type, "city")) {
        db->fields = NGX_CFLB_GEO_COUNTRY | NGX_CFLB_GEO_CITY;

    } else if (ngx_cflb_geo_type_has(&db->type, "country")) {
        db->fields = NGX_CFLB_GEO_COUNTRY;

    } else {
        db->fields = NGX_CFLB_GEO_COUNTRY | NGX_CFLB_GEO_CITY
                     | NGX_CFLB_GEO_ASN;
    }
}


ngx_int_t
ngx_cflb_geo_lookup(ngx_cflb_geo_db_t *db, struct sockaddr *sa,
    ngx_cflb_location_t *loc)
{
    int                    err;
    ngx_int_t              rc, found;
    struct sockaddr_in     sin;
    ngx_cflb_location_t    tmp;
    MMDB_lookup_result_s   res;

    sa = ngx_cflb_geo_unmap(sa, &sin);

    if (sa->sa_family == AF_INET6) {
        if (db->ip_version == 4) {
            return NGX_DECLINED;
        }

    } else if (sa->sa_family != AF_INET) {
        return NGX_DECLINED;
    }

    res = MMDB_lookup_sockaddr(db->mmdb, sa, &err);

    if (err != MMDB_SUCCESS) {
        return NGX_ERROR;
    }

    if (!res.found_entry) {
        return NGX_DECLINED;
    }

    /* on a copy, so that an error leaves loc untouched */

    tmp = *loc;
    found = 0;

    if ((db->fields & NGX_CFLB_GEO_COUNTRY)
        && tmp.country == CFLB_COUNTRY_NONE)
    {
        rc = ngx_cflb_geo_country(db, &res.entry, &tmp);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        found |= (rc == NGX_OK);
    }

    if (db->fields & NGX_CFLB_GEO_CITY) {
        if (tmp.subdivision[0] == '\0') {
            rc = ngx_cflb_geo_subdivision(&res.entry, &tmp);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            found |= (rc == NGX_OK);
        }

        if (!(tmp.flags & CFLB_LOC_COORDS)) {
            rc = ngx_cflb_geo_coords(db, &res.entry, &tmp);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            found |= (rc == NGX_OK);
        }
    }

    if ((db->fields & (NGX_CFLB_GEO_ASN | NGX_CFLB_GEO_TRAITS_ASN))
        && tmp.asn == 0)
    {
        rc = ngx_cflb_geo_asn(db, &res.entry, &tmp);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        found |= (rc == NGX_OK);
    }

    if (tmp.country != CFLB_COUNTRY_NONE) {
        rc = cflb_geo_region(tmp.country, tmp.subdivision,
                             ngx_strlen(tmp.subdivision));
        tmp.region = (rc >= 0) ? (uint8_t) rc : CFLB_REGION_NONE;
    }

    *loc = tmp;

    return found ? NGX_OK : NGX_DECLINED;
}


static void
ngx_cflb_geo_cleanup(void *data)
{
    ngx_cflb_geo_db_t  *db = data;

    MMDB_close(db->mmdb);
}


/*
 * ::ffff:a.b.c.d (a client of a dual-stack listen) is looked up as
 * a.b.c.d: an IPv4 database can answer it, and not every IPv6 database
 * aliases ::ffff:0:0/96 to its IPv4 tree
 */

static struct sockaddr *
ngx_cflb_geo_unmap(struct sockaddr *sa, struct sockaddr_in *sin)
{
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;

    if (sa->sa_family != AF_INET6) {
        return sa;
    }

    sin6 = (struct sockaddr_in6 *) sa;

    if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
        return sa;
    }

    ngx_memzero(sin, sizeof(struct sockaddr_in));
    sin->sin_family = AF_INET;
    sin->sin_port = sin6->sin6_port;
    ngx_memcpy(&sin->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);

    return (struct sockaddr *) sin;
#else
    return sa;
#endif
}


/*
 * The country where the address is used; where a GeoIP2 record has
 * none (anycast, satellite), the country it is registered to.
 */

static ngx_int_t
ngx_cflb_geo_country(ngx_cflb_geo_db_t *db, MMDB_entry_s *entry,
    ngx_cflb_location_t *loc)
{
    int                 c;
    ngx_int_t           rc;
    MMDB_entry_data_s   data;

    rc = NGX_DECLINED;

    if (db->schema != NGX_CFLB_GEO_SCHEMA_IPLOC) {
        rc = ngx_cflb_geo_get(entry, ngx_cflb_geo_country_path, &data);

        if (rc == NGX_DECLINED) {
            rc = ngx_cflb_geo_get(entry, ngx_cflb_geo_registered_path,
                                  &data);
        }

        if (rc == NGX_OK) {
            db->schema = NGX_CFLB_GEO_SCHEMA_GEOIP2;
        }
    }

    if (rc == NGX_DECLINED && db->schema != NGX_CFLB_GEO_SCHEMA_GEOIP2) {
        rc = ngx_cflb_geo_get(entry, ngx_cflb_geo_country_code_path, &data);

        if (rc == NGX_OK) {
            db->schema = NGX_CFLB_GEO_SCHEMA_IPLOC;
        }
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (data.type != MMDB_DATA_TYPE_UTF8_STRING) {
        return NGX_DECLINED;
    }

    c = cflb_country_parse((const unsigned char *) data.utf8_string,
                           data.data_size);
    if (c < 0) {
        return NGX_DECLINED;
    }

    loc->country = (uint16_t) c;

    return NGX_OK;
}


/* the ISO 3166-2 code of a US or Canadian address, "CA" of US-CA */

static ngx_int_t
ngx_cflb_geo_subdivision(MMDB_entry_s *entry, ngx_cflb_location_t *loc)
{
    ngx_int_t           rc;
    MMDB_entry_data_s   data;

    if (loc->country != CFLB_COUNTRY('U', 'S')
        && loc->country != CFLB_COUNTRY('C', 'A'))
    {
        return NGX_DECLINED;
    }

    rc = ngx_cflb_geo_get(entry, ngx_cflb_geo_subdivision_path, &data);
    if (rc != NGX_OK) {
        return rc;
    }

    if (data.type != MMDB_DATA_TYPE_UTF8_STRING
        || data.data_size == 0
        || data.data_size >= sizeof(loc->subdivision))
    {
        return NGX_DECLINED;
    }

    ngx_memcpy(loc->subdivision, data.utf8_string, data.data_size);
    loc->subdivision[data.data_size] = '\0';

    return NGX_OK;
}


/*
 * GeoIP2 keeps the coordinates in the location map: it is found once,
 * and latitude and longitude are read inside it, which saves a second
 * scan of the record past the large maps before it (city, continent,
 * country with their names in eight languages)
 */

static ngx_int_t
ngx_cflb_geo_coords(ngx_cflb_geo_db_t *db, MMDB_entry_s *entry,
    ngx_cflb_location_t *loc)
{
    int32_t             lat, lon;
    ngx_int_t           rc;
    const char        **lat_path, **lon_path;
    MMDB_entry_s        location;
    MMDB_entry_data_s   data;

    if (db->schema == NGX_CFLB_GEO_SCHEMA_IPLOC) {
        lat_path = ngx_cflb_geo_flat_lat_path;
        lon_path = ngx_cflb_geo_flat_lon_path;

    } else {
        rc = ngx_cflb_geo_get(entry, ngx_cflb_geo_location_path, &data);
        if (rc != NGX_OK) {
            return rc;
        }

        if (data.type != MMDB_DATA_TYPE_MAP) {
            return NGX_DECLINED;
        }

        location.mmdb = entry->mmdb;
        location.offset = data.offset;
        entry = &location;

        lat_path = ngx_cflb_geo_flat_lat_path;
        lon_path = ngx_cflb_geo_flat_lon_path;
    }

    rc = ngx_cflb_geo_get(entry, lat_path, &data);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_cflb_geo_degrees(&data, 90.0, &lat) != NGX_OK) {
        return NGX_DECLINED;
    }

    rc = ngx_cflb_geo_get(entry, lon_path, &data);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_cflb_geo_degrees(&data, 180.0, &lon) != NGX_OK) {
        return NGX_DECLINED;
    }

    loc->lat = lat;
    loc->lon = lon;
    loc->flags |= CFLB_LOC_COORDS;

    return NGX_OK;
}


static ngx_int_t
ngx_cflb_geo_asn(ngx_cflb_geo_db_t *db, MMDB_entry_s *entry,
    ngx_cflb_location_t *loc)
{
    uint64_t            asn;
    ngx_int_t           rc;
    MMDB_entry_data_s   data;

    rc = NGX_DECLINED;

    if (db->fields & NGX_CFLB_GEO_ASN) {
        rc = ngx_cflb_geo_get(entry, ngx_cflb_geo_asn_path, &data);
    }

    if (rc == NGX_DECLINED && (db->fields & NGX_CFLB_GEO_TRAITS_ASN)) {
        rc = ngx_cflb_geo_get(entry, ngx_cflb_geo_traits_asn_path, &data);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    switch (data.type) {

    case MMDB_DATA_TYPE_UINT16:
        asn = data.uint16;
        break;

    case MMDB_DATA_TYPE_UINT32:
        asn = data.uint32;
        break;

    case MMDB_DATA_TYPE_UINT64:
        asn = data.uint64;
        break;

    case MMDB_DATA_TYPE_INT32:
        asn = data.int32 > 0 ? (uint64_t) data.int32 : 0;
        break;

    default:
        return NGX_DECLINED;
    }

    if (asn == 0 || asn > 0xffffffff) {
        return NGX_DECLINED;
    }

    loc->asn = (uint32_t) asn;

    return NGX_OK;
}


/*
 * NGX_OK with the value, NGX_DECLINED if the record has no such path
 * (a missing key, or an array too short: "not there" to us),
 * NGX_ERROR if the data is corrupt
 */

static ngx_int_t
ngx_cflb_geo_get(MMDB_entry_s *entry, const char **path,
    MMDB_entry_data_s *data)
{
    int  rc;

    rc = MMDB_aget_value(entry, data, path);

    if (rc == MMDB_SUCCESS) {
        return data->has_data ? NGX_OK : NGX_DECLINED;
    }

    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR
        || rc == MMDB_INVALID_LOOKUP_PATH_ERROR)
    {
        return NGX_DECLINED;
    }

    return NGX_ERROR;
}


/* a double or float in -max..max into micro-degrees, rounded */

static ngx_int_t
ngx_cflb_geo_degrees(MMDB_entry_data_s *data, double max, int32_t *udeg)
{
    double  v;

    if (data->type == MMDB_DATA_TYPE_DOUBLE) {
        v = data->double_value;

    } else if (data->type == MMDB_DATA_TYPE_FLOAT) {
        v = data->float_value;

    } else {
        return NGX_DECLINED;
    }

    /* written so that NaN fails too */

    if (!(v >= -max && v <= max)) {
        return NGX_DECLINED;
    }

    v *= CFLB_GEO_UDEG;
    *udeg = (int32_t) (v < 0 ? v - 0.5 : v + 0.5);

    return NGX_OK;
}


/* a case-insensitive substring of the database type */

static ngx_uint_t
ngx_cflb_geo_type_has(ngx_str_t *type, const char *word)
{
    size_t  len;

    len = ngx_strlen(word);

    return ngx_strlcasestrn(type->data, type->data + type->len,
                            (u_char *) word, len - 1)
           != NULL;
}
