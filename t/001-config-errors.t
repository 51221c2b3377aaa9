# vim:set ft= ts=4 sw=4 et fdm=marker:

# Bad configuration fails "nginx -t" with the file, the line and a message
# an operator understands.

use Test::Nginx::Socket;

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: an unknown pool in pools
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1 nope; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown pool "nope" in cflb_lb "www" in \S+nginx\.conf:\d+/

=== TEST 2: a duplicate pool name
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_pool p1 { endpoint b 127.0.0.1:1991; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate cflb_pool "p1" in \S+nginx\.conf:\d+/

=== TEST 3: a duplicate endpoint name
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; endpoint a 127.0.0.1:1991; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate endpoint "a" in cflb_pool "p1" in \S+nginx\.conf:\d+/

=== TEST 4: a weight above 1
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 weight=1.5; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid weight "weight=1\.5" of endpoint "a", it must be 0\.00 to 1\.00 in \S+nginx\.conf:\d+/

=== TEST 5: a negative weight
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 weight=-0.1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid weight "weight=-0\.1" of endpoint "a"/

=== TEST 6: a weight finer than 0.01
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 weight=0.555; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid weight "weight=0\.555" of endpoint "a"/

=== TEST 7: an empty pool
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_pool "p1" has no endpoints in \S+nginx\.conf:\d+/

=== TEST 8: an unknown endpoint_steering
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; endpoint_steering fastest; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid endpoint_steering "fastest", expected random, hash, least_outstanding_requests or least_connections/

=== TEST 9: off is not an endpoint steering
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; endpoint_steering off; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid endpoint_steering "off"/

=== TEST 10: an unknown steering
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; steering fastest; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid steering "fastest", expected off, random, least_outstanding_requests, least_connections, geo, proximity or dynamic_latency in \S+nginx\.conf:\d+/

=== TEST 11: hash is an endpoint steering only
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; steering hash; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid steering "hash"/

=== TEST 12: no cflb_zone
--- http_config
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"cflb_zone" is required by cflb_pool "p1" in \S+nginx\.conf:\d+/

=== TEST 13: a cflb_lb named like an upstream
--- http_config
    cflb_zone cflb 1m;
    upstream www { server 127.0.0.1:1990; }
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate upstream "www" in \S+nginx\.conf:\d+/

=== TEST 14: a cflb_lb without pools
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { steering random; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "www" has no "pools" in \S+nginx\.conf:\d+/

=== TEST 15: an unknown fallback_pool
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; fallback_pool nope; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown fallback_pool "nope" in cflb_lb "www" in \S+nginx\.conf:\d+/

=== TEST 16: random_steering names a pool not listed
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_pool p2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools p1; random_steering p2=0.5; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*random_steering names pool "p2" that is not in "pools" of cflb_lb "www" in \S+nginx\.conf:\d+/

=== TEST 17: random_steering with a bad weight
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; random_steering default_weight=2; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid random_steering parameter "default_weight=2", expected default_weight=W or POOL=W with W from 0\.00 to 1\.00/

=== TEST 18: minimum_origins above the endpoint count
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; minimum_origins 2; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*minimum_origins 2 of cflb_pool "p1" exceeds its 1 endpoints/

=== TEST 19: a server line inside cflb_lb
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; server 127.0.0.1:1991; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"server" is not allowed in cflb_lb "www" in \S+nginx\.conf:\d+, list endpoints in a cflb_pool/

=== TEST 20: pools inside a plain upstream
--- http_config
    cflb_zone cflb 1m;
    upstream up { server 127.0.0.1:1990; pools p1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"pools" directive is allowed only inside cflb_lb in \S+nginx\.conf:\d+/

=== TEST 21: another balancing method inside cflb_lb
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; least_conn; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "www" may not use another load balancing method in \S+nginx\.conf:\d+/

=== TEST 22: a duplicate cflb_lb
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; }
    cflb_lb www { pools p1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate cflb_lb "www", first defined in \S+nginx\.conf:\d+ in \S+nginx\.conf:\d+/

=== TEST 23: an unknown directive in a pool
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; weight 1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown directive or wrong number of arguments "weight" in cflb_pool in \S+nginx\.conf:\d+/

=== TEST 24: an invalid endpoint port
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:99999; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid port in endpoint "a" address "127\.0\.0\.1:99999"/

=== TEST 25: an endpoint without an address
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*endpoint needs a name and an address in \S+nginx\.conf:\d+/

=== TEST 26: an unknown endpoint parameter
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 backup; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "backup" of endpoint "a"/

=== TEST 27: a host override that could split a header
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 "host=a.example\r\nX-Evil: 1"; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid host "host=a\.example/

=== TEST 28: a pool listed twice
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1 p1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pool "p1" is listed twice/

=== TEST 29: a zone too small
--- http_config
    cflb_zone tiny 4k;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*zone "tiny" is too small, the minimum is \d+/

=== TEST 30: a duplicate cflb_zone
--- http_config
    cflb_zone cflb 1m;
    cflb_zone second 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"cflb_zone" directive is duplicate/


=== TEST 31: a directive repeated inside a pool
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled on; enabled off; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"enabled" directive is duplicate in cflb_pool "p1" in \S+nginx\.conf:\d+/


=== TEST 32: a pool weighted twice by random_steering
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; random_steering p1=0.1 p1=0.2; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"p1" is weighted twice in random_steering in \S+nginx\.conf:\d+/


=== TEST 33: an unknown monitor
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; monitor nope; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown monitor "nope" in cflb_pool "p1" in \S+nginx\.conf:\d+/


=== TEST 34: a monitor interval under 1s
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { interval 500ms; timeout 100ms; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*interval of cflb_monitor "m" must be from 1s to 1h in \S+nginx\.conf:\d+/


=== TEST 35: a timeout not shorter than the interval
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { interval 5s; timeout 5s; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*timeout of cflb_monitor "m" must be shorter than its interval/


=== TEST 36: bad expected_codes
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { expected_codes 2xx 600; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid expected_codes "2xx 600": /


=== TEST 37: an http option in a tcp monitor
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { type tcp; path /healthz; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"path" makes no sense in a tcp monitor in \S+nginx\.conf:\d+/


=== TEST 38: type after the options it governs
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { path /x; type http; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"type" must come first in cflb_monitor/


=== TEST 39: an unknown monitor type
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { type gopher; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid monitor type "gopher", expected http, https, tcp, udp_icmp, icmp_ping, smtp or ldap/


=== TEST 40: the probe User-Agent cannot be changed
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { header User-Agent me; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*the User-Agent of health probes cannot be changed/


=== TEST 41: allow_insecure outside https
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { allow_insecure on; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"allow_insecure" makes no sense in a http monitor/


=== TEST 42: a duplicate monitor
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { } cflb_monitor m { }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate cflb_monitor "m"/


=== TEST 43: retries out of range
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor m { retries 9; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid retries "9", it must be from 0 to 5/


=== TEST 44: cflb_notify: TLS parameters are for https:// webhooks only
--- http_config
    cflb_notify http://127.0.0.1/hook ssl_verify=off;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"ssl_verify=" and "ssl_trusted_certificate=" are for https:\/\/ webhooks, not "http:\/\/127\.0\.0\.1\/hook" in \S+nginx\.conf:\d+/


=== TEST 45: cflb_notify needs an http:// URL
--- http_config
    cflb_notify 127.0.0.1:8080/hook;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid URL "127\.0\.0\.1:8080\/hook": it must start with "http:\/\/" or "https:\/\/" in \S+nginx\.conf:\d+/


=== TEST 46: cflb_notify with a bad port
--- http_config
    cflb_notify http://127.0.0.1:99999/hook;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid port in URL "http:\/\/127\.0\.0\.1:99999\/hook" in \S+nginx\.conf:\d+/


=== TEST 47: cflb_notify retries out of range
--- http_config
    cflb_notify http://127.0.0.1/hook retries=101;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "retries=101": it must be from 0 to 100 in \S+nginx\.conf:\d+/


=== TEST 48: cflb_notify with a zero timeout
--- http_config
    cflb_notify http://127.0.0.1/hook timeout=0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "timeout=0": it must be from 1ms to 5m, the events behind an attempt wait for it in \S+nginx\.conf:\d+/


=== TEST 49: cflb_notify with an unknown parameter
--- http_config
    cflb_notify http://127.0.0.1/hook queue=9;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "queue=9" in \S+nginx\.conf:\d+/


=== TEST 50: cflb_notify with a pool that is not there
Several cflb_notify are several webhooks; pools= must name pools of the
block, even when the pool comes after the webhook.
--- http_config
    cflb_zone cflb 1m;
    cflb_notify http://127.0.0.1/a;
    cflb_notify http://127.0.0.1/b pools=p1,p9;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown pool "p9" in "pools=" of cflb_notify "http:\/\/127\.0\.0\.1\/b"/


=== TEST 51: cflb_notify in stream{} shares the parser
--- main_config
    stream { cflb_notify http:///hook; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*no host in URL "http:\/\/\/hook" in \S+nginx\.conf:\d+/


=== TEST 52: cflb_notify with a timeout of 3,000 years
--- http_config
    cflb_notify http://127.0.0.1/hook timeout=3000y;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "timeout=3000y": it must be from 1ms to 5m/


=== TEST 53: cflb_notify with an unknown health in a filter
--- http_config
    cflb_notify http://127.0.0.1/hook new_health=Healthy,sick;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "new_health=Healthy,sick": "new_health=" takes Healthy and Unhealthy in \S+nginx\.conf:\d+/


=== TEST 54: cflb_notify with an empty pool name
--- http_config
    cflb_notify http://127.0.0.1/hook pools=a,,b;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "pools=a,,b" in \S+nginx\.conf:\d+/


=== TEST 55: https cflb_notify: a trusted certificate with verification off
--- http_config
    cflb_notify https://127.0.0.1/hook ssl_verify=off
                ssl_trusted_certificate=/etc/ssl/certs/ca-certificates.crt;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"ssl_trusted_certificate=" has no effect with "ssl_verify=off" in cflb_notify "https:\/\/127\.0\.0\.1\/hook" in \S+nginx\.conf:\d+/


=== TEST 56: notification_filter with an unknown value
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p { endpoint a 127.0.0.1:1990; notification_filter pool=never; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "pool=never": "pool=" takes any, healthy, unhealthy or off in \S+nginx\.conf:\d+/


=== TEST 57: notification_filter twice
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p {
        endpoint a 127.0.0.1:1990;
        notification_filter pool=off;
        notification_filter origin=off;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"notification_filter" directive is duplicate in cflb_pool "p" in \S+nginx\.conf:\d+/


=== TEST 58: notification_filter with a webhook parameter
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p { endpoint a 127.0.0.1:1990; notification_filter new_health=Healthy; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "new_health=Healthy" in \S+nginx\.conf:\d+/
