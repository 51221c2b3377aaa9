# vim:set ft= ts=4 sw=4 et fdm=marker:

# Settings that cannot have an effect are not taken in silence: nginx
# warns at start, as it does for its own (the load balancer's affinity
# settings without the session_affinity they belong to; a zone far
# larger than what it can ever hold), and still starts.  What has a
# meaning is not warned about.  (cflb_notify's timeout is bounded: see
# t/001-config-errors.t.)

use Test::Nginx::Socket;

repeat_each(1);

plan "no_plan";

our $Pool = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a"; }
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
_EOC_

no_long_string();
run_tests();

__DATA__

=== TEST 1: affinity settings without session_affinity: one warning each
--- http_config eval
"cflb_zone cflb 1m;\n" . $::Pool . q{
    cflb_lb www {
        pools p1;
        zero_downtime_failover sticky;
        session_affinity_ttl 3600;
        session_affinity_headers X-Session;
        drain_duration 100s;
    }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body chomp
a
--- error_log eval
[qr/\[warn\] .*"session_affinity_ttl" of cflb_lb "www" has no effect with session_affinity none, ignored, in \S+nginx\.conf:\d+/,
 qr/\[warn\] .*"drain_duration" of cflb_lb "www" has no effect with session_affinity none, ignored/,
 qr/\[warn\] .*"zero_downtime_failover" of cflb_lb "www" has no effect with session_affinity none, ignored/,
 qr/\[warn\] .*"session_affinity_headers" of cflb_lb "www" has no effect with session_affinity none, ignored/]
--- no_error_log
[error]
samesite



=== TEST 2: settings of the other kind of session: headers with cookies, cookie attributes with headers
--- http_config eval
"cflb_zone cflb 1m;\n" . $::Pool . q{
    cflb_lb cookies {
        pools p1;
        session_affinity cookie;
        session_affinity_headers X-Session;
        session_affinity_require_all_headers on;
    }
    cflb_lb headers {
        pools p1;
        session_affinity header;
        session_affinity_headers X-Session;
        session_affinity_samesite strict;
        session_affinity_secure always;
    }
}
--- config
    location /t { proxy_pass http://cookies; }
--- request
GET /t
--- response_body chomp
a
--- error_log eval
[qr/\[warn\] .*"session_affinity_headers" of cflb_lb "cookies" has no effect with session_affinity cookie, ignored/,
 qr/\[warn\] .*"session_affinity_require_all_headers" of cflb_lb "cookies" has no effect with session_affinity cookie, ignored/,
 qr/\[warn\] .*"session_affinity_samesite" of cflb_lb "headers" has no effect with session_affinity header, ignored/,
 qr/\[warn\] .*"session_affinity_secure" of cflb_lb "headers" has no effect with session_affinity header, ignored/]
--- no_error_log
[error]
"session_affinity_headers" of cflb_lb "headers"



=== TEST 3: settings that belong to the session_affinity given: no warning
--- http_config eval
"cflb_zone cflb 1m;\n" . $::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity cookie;
        session_affinity_ttl 3600;
        session_affinity_samesite lax;
        zero_downtime_failover sticky;
        drain_duration 100s;
        failover_across_pools on;
    }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body chomp
a
--- no_error_log
[error]
has no effect



=== TEST 4: a zone far larger than its records and with no header sessions: nginx says so
256m for one pool of one endpoint (the records take kilobytes).
--- http_config eval
"cflb_zone cflb 256m;\n" . $::Pool . q{
    cflb_lb www { pools p1; }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body chomp
a
--- error_log eval
qr/\[warn\] .*cflb_zone "cflb" of 256m is far more than this configuration can use, about \d+k for 1 pools and 1 endpoints with a reload's copy; only header sessions grow with the zone, the rest stays idle/
--- no_error_log
[error]



=== TEST 5: a usual 16m zone: no warning
--- http_config eval
"cflb_zone cflb 16m;\n" . $::Pool . q{
    cflb_lb www { pools p1; }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body chomp
a
--- no_error_log
[error]
is far more than



=== TEST 6: a large zone for header sessions: no warning
--- http_config eval
"cflb_zone cflb 256m;\n" . $::Pool . q{
    cflb_lb www {
        pools p1;
        session_affinity header;
        session_affinity_headers X-Session;
    }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body chomp
a
--- no_error_log
[error]
is far more than
