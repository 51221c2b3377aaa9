# vim:set ft= ts=4 sw=4 et fdm=marker:

# Affinity, drain, failover and load-shedding configuration (issue 4):
# values out of range, impossible combinations and unusable key files
# fail "nginx -t" with the file and line; the layer-7 directives are
# refused in stream{}; the limits of each range are accepted.  Messages
# are matched on their key words.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);

plan "no_plan";

our $Key = Cflb::key_file('ok.key', 32);
our $Short = Cflb::key_file('short.key', 15);
our $Empty = Cflb::key_file('empty.key', 0);
our $Dir = $Key =~ s{/[^/]+$}{}r;

our $Pool = <<'_EOC_';
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: cookie TTL below 30m
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; session_affinity cookie; session_affinity_ttl 29m; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl).* in \S+nginx\.conf:\d+/



=== TEST 2: cookie TTL above 7d
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; session_affinity cookie; session_affinity_ttl 8d; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl).* in \S+nginx\.conf:\d+/



=== TEST 3: ip_cookie TTL below 30m
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity ip_cookie;
        session_affinity_ttl 10s;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl).* in \S+nginx\.conf:\d+/



=== TEST 4: ip_cookie TTL above 7d
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity ip_cookie;
        session_affinity_ttl 604801s;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl).* in \S+nginx\.conf:\d+/



=== TEST 5: header TTL below 30s
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity header;
        session_affinity_headers X-S;
        session_affinity_ttl 29s;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl).* in \S+nginx\.conf:\d+/



=== TEST 6: header TTL above 1h
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity header;
        session_affinity_headers X-S;
        session_affinity_ttl 61m;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl).* in \S+nginx\.conf:\d+/



=== TEST 7: a TTL given before the mode is checked against the mode (2h is too long for header)
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity_ttl 2h;
        session_affinity_headers X-S;
        session_affinity header;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl).* in \S+nginx\.conf:\d+/



=== TEST 8: an invalid TTL
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity cookie;
        session_affinity_ttl soon;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_ttl|soon).* in \S+nginx\.conf:\d+/



=== TEST 9: an unknown affinity mode
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; session_affinity sticky; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity|sticky).* in \S+nginx\.conf:\d+/



=== TEST 10: session_affinity twice
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; session_affinity cookie; session_affinity header; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity.*duplicate|duplicate.*session_affinity).* in \S+nginx\.conf:\d+/



=== TEST 11: sticky failover with header affinity
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity header;
        session_affinity_headers X-S;
        zero_downtime_failover sticky;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:sticky).* in \S+nginx\.conf:\d+/



=== TEST 12: sticky failover with header affinity, in the other order
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        zero_downtime_failover sticky;
        session_affinity_headers X-S;
        session_affinity header;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:sticky).* in \S+nginx\.conf:\d+/



=== TEST 13: an unknown failover mode
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; zero_downtime_failover always; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:zero_downtime_failover|always).* in \S+nginx\.conf:\d+/



=== TEST 14: failover_across_pools neither on nor off
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; failover_across_pools yes; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:failover_across_pools|yes).* in \S+nginx\.conf:\d+/



=== TEST 15: samesite none with secure never
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity cookie;
        session_affinity_samesite none;
        session_affinity_secure never;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:samesite|secure).* in \S+nginx\.conf:\d+/



=== TEST 16: an unknown samesite
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity cookie;
        session_affinity_samesite loose;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:samesite|loose).* in \S+nginx\.conf:\d+/



=== TEST 17: an unknown secure
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity cookie;
        session_affinity_secure sometimes;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:secure|sometimes).* in \S+nginx\.conf:\d+/



=== TEST 18: header mode without headers
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; session_affinity header; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_headers).* in \S+nginx\.conf:\d+/



=== TEST 19: more than 5 headers
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity header;
        session_affinity_headers H1 H2 H3 H4 H5 H6;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_headers|H6|header).* in \S+nginx\.conf:\d+/



=== TEST 20: require_all_headers neither on nor off
--- http_config eval
$::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity header;
        session_affinity_headers X-S;
        session_affinity_require_all_headers maybe;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_affinity_require_all_headers|maybe).* in \S+nginx\.conf:\d+/



=== TEST 21: drain_duration above 7d
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; session_affinity cookie; drain_duration 8d; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:drain_duration).* in \S+nginx\.conf:\d+/



=== TEST 22: an invalid drain_duration
--- http_config eval
$::Pool . q{
    cflb_lb www { pools p1; session_affinity cookie; drain_duration later; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:drain_duration|later).* in \S+nginx\.conf:\d+/



=== TEST 23: default_percent above 100
--- http_config eval
$::Pool . q{
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991;
        load_shedding default_percent=101;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:default_percent=101|load_shedding).* in \S+nginx\.conf:\d+/



=== TEST 24: negative default_percent
--- http_config eval
$::Pool . q{
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991;
        load_shedding default_percent=-1;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:default_percent=-1|load_shedding).* in \S+nginx\.conf:\d+/



=== TEST 25: session_percent above 100
--- http_config eval
$::Pool . q{
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991;
        load_shedding session_percent=200;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:session_percent=200|load_shedding).* in \S+nginx\.conf:\d+/



=== TEST 26: a default_percent that is not a number
--- http_config eval
$::Pool . q{
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991;
        load_shedding default_percent=half;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:default_percent=half|load_shedding).* in \S+nginx\.conf:\d+/



=== TEST 27: an unknown load_shedding parameter
--- http_config eval
$::Pool . q{
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991;
        load_shedding default_percent=10 foo=1;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:foo=1|load_shedding).* in \S+nginx\.conf:\d+/



=== TEST 28: an unknown default_policy
--- http_config eval
$::Pool . q{
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991;
        load_shedding default_percent=10 default_policy=weird;
    }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:default_policy=weird|load_shedding).* in \S+nginx\.conf:\d+/



=== TEST 29: a key file that does not exist
--- http_config eval
$::Pool . qq{
    cflb_affinity_key $::Dir/none.key;
    cflb_lb www { pools p1; session_affinity cookie; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:none\.key|cflb_affinity_key).* in \S+nginx\.conf:\d+/



=== TEST 30: a key file that is a directory
--- http_config eval
$::Pool . qq{
    cflb_affinity_key $::Dir;
    cflb_lb www { pools p1; session_affinity cookie; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:cflb_affinity_key|cflb-t-).* in \S+nginx\.conf:\d+/



=== TEST 31: a key file of 15 bytes
--- http_config eval
$::Pool . qq{
    cflb_affinity_key $::Short;
    cflb_lb www { pools p1; session_affinity cookie; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:short\.key|cflb_affinity_key).* in \S+nginx\.conf:\d+/



=== TEST 32: an empty key file
--- http_config eval
$::Pool . qq{
    cflb_affinity_key $::Empty;
    cflb_lb www { pools p1; session_affinity cookie; }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:empty\.key|cflb_affinity_key).* in \S+nginx\.conf:\d+/



=== TEST 33: cflb_affinity_key twice
--- http_config eval
$::Pool . qq{
    cflb_affinity_key $::Key;
    cflb_affinity_key $::Key;
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*(?:cflb_affinity_key|duplicate).* in \S+nginx\.conf:\d+/



=== TEST 34: stream{} refuses session_affinity
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; session_affinity cookie; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*session_affinity.* in \S+nginx\.conf:\d+/



=== TEST 35: stream{} refuses session_affinity_ttl
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; session_affinity_ttl 1h; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*session_affinity_ttl.* in \S+nginx\.conf:\d+/



=== TEST 36: stream{} refuses session_affinity_samesite
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; session_affinity_samesite lax; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*session_affinity_samesite.* in \S+nginx\.conf:\d+/



=== TEST 37: stream{} refuses session_affinity_secure
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; session_affinity_secure always; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*session_affinity_secure.* in \S+nginx\.conf:\d+/



=== TEST 38: stream{} refuses session_affinity_headers
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; session_affinity_headers X-S; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*session_affinity_headers.* in \S+nginx\.conf:\d+/



=== TEST 39: stream{} refuses session_affinity_require_all_headers
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; session_affinity_require_all_headers on; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*session_affinity_require_all_headers.* in \S+nginx\.conf:\d+/



=== TEST 40: stream{} refuses drain_duration
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; drain_duration 10s; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*drain_duration.* in \S+nginx\.conf:\d+/



=== TEST 41: stream{} refuses zero_downtime_failover
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; zero_downtime_failover temporary; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*zero_downtime_failover.* in \S+nginx\.conf:\d+/



=== TEST 42: stream{} refuses failover_across_pools
--- stream_config eval
$::Pool . q{
    cflb_lb tcp { pools p1; failover_across_pools on; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*failover_across_pools.* in \S+nginx\.conf:\d+/



=== TEST 43: stream{} refuses cflb_affinity_key
--- stream_config eval
$::Pool . qq{
    cflb_affinity_key $::Key;
    cflb_lb tcp { pools p1; }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_affinity_key.* in \S+nginx\.conf:\d+/



=== TEST 44: the limits of every range are accepted, and load_shedding in stream{}
--- http_config eval
$::Pool . qq{
    cflb_affinity_key $::Key;
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991;
        load_shedding default_percent=100 default_policy=hash session_percent=0;
    }
    cflb_pool p3 {
        endpoint c 127.0.0.1:1992;
        load_shedding default_percent=0 default_policy=random session_percent=100;
    }
    cflb_lb c30m { pools p1 p2 p3; session_affinity cookie; session_affinity_ttl 30m;
                   drain_duration 0; zero_downtime_failover sticky;
                   failover_across_pools on; }
    cflb_lb c7d { pools p1; session_affinity cookie; session_affinity_ttl 7d;
                  drain_duration 7d; session_affinity_samesite none;
                  session_affinity_secure always; }
    cflb_lb i30m { pools p1; session_affinity ip_cookie; session_affinity_ttl 1800s;
                   zero_downtime_failover temporary; session_affinity_samesite strict;
                   session_affinity_secure never; }
    cflb_lb i7d { pools p1; session_affinity ip_cookie; session_affinity_ttl 604800s;
                  zero_downtime_failover none; failover_across_pools off; }
    cflb_lb h30s { pools p1; session_affinity header; session_affinity_ttl 30s;
                   session_affinity_headers X-A cookie:sid X-C X-D X-E;
                   session_affinity_require_all_headers on; }
    cflb_lb h1h { pools p1; session_affinity header; session_affinity_ttl 1h;
                  session_affinity_headers X-A; zero_downtime_failover temporary; }
    cflb_lb none { pools p1; session_affinity none; }
}
--- stream_config
    cflb_zone scflb 1m;
    cflb_pool q1 { endpoint a 127.0.0.1:1990; load_shedding default_percent=20 default_policy=hash; }
    cflb_pool q2 { endpoint b 127.0.0.1:1991; }
    cflb_lb tcp { pools q1 q2; }
--- stream_server_config
    return "ok\n";
--- stream_request
--- stream_response
ok
--- no_error_log
[emerg]
[alert]
[crit]
