
/*
 * The directives both modules take, with the same syntax and messages in
 * http{} and stream{}: each module's command table includes this list,
 * after defining its own context flags and conf offsets, and its cflb_lb
 * block handler:
 *
 *     NGX_CFLB_MAIN_CONF    NGX_HTTP_MAIN_CONF    NGX_STREAM_MAIN_CONF
 *     NGX_CFLB_UPS_CONF     NGX_HTTP_UPS_CONF     NGX_STREAM_UPS_CONF
 *     NGX_CFLB_MAIN_OFFSET  NGX_HTTP_MAIN_CONF_OFFSET, and so on
 *     NGX_CFLB_SRV_OFFSET
 *     NGX_CFLB_LB_BLOCK     ngx_http_cflb_lb_block, ngx_stream_cflb_lb_block
 *
 * The layer-7 settings of cflb_lb are in stream{} too, so that they are
 * refused there with the reason (ngx_cflb_lb_l7()).  No include guard:
 * it is the body of an array.
 */


    { ngx_string("cflb_zone"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_cflb_zone_directive,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_pool"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_cflb_pool_block,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_lb"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      NGX_CFLB_LB_BLOCK,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_monitor"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_cflb_monitor_block,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_affinity_key"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_cflb_affinity_key,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_notify"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_1MORE,
      ngx_cflb_notify_directive,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_geoip2"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_cflb_geoip2,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_node"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_1MORE,
      ngx_cflb_node,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("cflb_state_file"),
      NGX_CFLB_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_cflb_state_file,
      NGX_CFLB_MAIN_OFFSET,
      0,
      NULL },

    { ngx_string("pools"),
      NGX_CFLB_UPS_CONF|NGX_CONF_1MORE,
      ngx_cflb_lb_pools,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("fallback_pool"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_fallback,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("steering"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_steering,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("random_steering"),
      NGX_CFLB_UPS_CONF|NGX_CONF_1MORE,
      ngx_cflb_lb_random_steering,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("region_pools"),
      NGX_CFLB_UPS_CONF|NGX_CONF_1MORE,
      ngx_cflb_lb_map,
      NGX_CFLB_SRV_OFFSET,
      NGX_CFLB_GEO_REGION,
      NULL },

    { ngx_string("country_pools"),
      NGX_CFLB_UPS_CONF|NGX_CONF_1MORE,
      ngx_cflb_lb_map,
      NGX_CFLB_SRV_OFFSET,
      NGX_CFLB_GEO_COUNTRY,
      NULL },

    { ngx_string("pop_pools"),
      NGX_CFLB_UPS_CONF|NGX_CONF_1MORE,
      ngx_cflb_lb_map,
      NGX_CFLB_SRV_OFFSET,
      NGX_CFLB_GEO_POP,
      NULL },

    { ngx_string("location_strategy"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE12,
      ngx_cflb_lb_location_strategy,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("rule"),
      NGX_CFLB_UPS_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_cflb_lb_rule,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("session_affinity"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.mode),
      &ngx_cflb_affinity_mode },

    { ngx_string("session_affinity_ttl"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.ttl),
      &ngx_cflb_affinity_ttl },

    { ngx_string("session_affinity_samesite"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.samesite),
      &ngx_cflb_affinity_samesite },

    { ngx_string("session_affinity_secure"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.secure),
      &ngx_cflb_affinity_secure },

    { ngx_string("session_affinity_headers"),
      NGX_CFLB_UPS_CONF|NGX_CONF_1MORE,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.headers),
      &ngx_cflb_affinity_headers },

    { ngx_string("session_affinity_require_all_headers"),
      NGX_CFLB_UPS_CONF|NGX_CONF_FLAG,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.require_all),
      &ngx_cflb_affinity_require_all },

    { ngx_string("drain_duration"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.drain),
      &ngx_cflb_affinity_drain },

    { ngx_string("zero_downtime_failover"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.zdf),
      &ngx_cflb_affinity_zdf },

    { ngx_string("failover_across_pools"),
      NGX_CFLB_UPS_CONF|NGX_CONF_FLAG,
      ngx_cflb_lb_l7,
      NGX_CFLB_SRV_OFFSET,
      offsetof(ngx_cflb_lb_t, affinity.across_pools),
      &ngx_cflb_affinity_across_pools },

    /* DNS-only (ngx_cflb_dns_zone.c): refused in http{} with the reason */

    { ngx_string("hostname"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_dns_lb_hostname,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("ttl"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_dns_lb_ttl,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },

    { ngx_string("enabled"),
      NGX_CFLB_UPS_CONF|NGX_CONF_TAKE1,
      ngx_cflb_dns_lb_enabled,
      NGX_CFLB_SRV_OFFSET,
      0,
      NULL },
