# vim:set ft= ts=4 sw=4 et fdm=marker:

use lib 't/lib';
use Test::Nginx::Socket;

repeat_each(2);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a $http_host\n"; }
    server { listen 127.0.0.1:1991; return 200 "b $http_host\n"; }
    server { listen 127.0.0.1:1992; return 200 "c $http_host\n"; }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: proxy_pass to a cflb_lb reaches its only endpoint
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body
a www
--- no_error_log
[error]



=== TEST 2: the decision variables
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a1 127.0.0.1:1990; }
    cflb_lb www { pools p1; }
}
--- config
    location /t {
        proxy_pass http://www;
        add_header X-LB $cflb_lb;
        add_header X-Pool $cflb_pool;
        add_header X-Endpoint "$cflb_endpoint $cflb_endpoint_addr";
    }
--- request
GET /t
--- response_headers
X-LB: www
X-Pool: p1
X-Endpoint: a1 127.0.0.1:1990



=== TEST 3: host= replaces the Host header sent to that endpoint only
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint b 127.0.0.1:1991 host=b.internal; }
    cflb_lb www { pools p1; }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body
b b.internal
--- no_error_log
[error]



=== TEST 4: host= also wins over proxy_set_header Host
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint b 127.0.0.1:1991 host=override.example:8080; }
    cflb_lb www { pools p1; }
}
--- config
    location /t {
        proxy_set_header Host "set.by.proxy";
        proxy_set_header X-Other "kept";
        proxy_pass http://www;
    }
--- request
GET /t
--- response_body
b override.example:8080
--- no_error_log
[error]



=== TEST 5: steering off sends everything to the first pool
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_pool p2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools p1 p2; }
}
--- config
    location /t { proxy_pass http://www; }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- response_body eval
["a www\n", "a www\n", "a www\n", "a www\n"]
--- no_error_log
[error]



=== TEST 6: a disabled pool is skipped, a disabled endpoint gets nothing
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool p2 {
        endpoint b 127.0.0.1:1991 disabled;
        endpoint c 127.0.0.1:1992;
    }
    cflb_lb www { pools p1 p2; }
}
--- config
    location /t { proxy_pass http://www; }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- response_body eval
["c www\n", "c www\n", "c www\n", "c www\n"]
--- no_error_log
[error]



=== TEST 7: weight 0 gets no traffic; an unusable pool gives way to the fallback
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 weight=0; }
    cflb_pool p2 { endpoint b 127.0.0.1:1991 weight=0.00; }
    cflb_pool fb { endpoint c 127.0.0.1:1992 weight=0.5; }
    cflb_lb www { pools p1 p2; fallback_pool fb; }
}
--- config
    location /t { proxy_pass http://www; add_header X-Pool $cflb_pool; }
--- request
GET /t
--- response_headers
X-Pool: fb
--- response_body
c www



=== TEST 8: nothing usable at all: 530, the product's answer, logged
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 disabled; }
    cflb_lb www { pools p1; }
}
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- error_code: 530
--- error_log
cflb_lb "www": no pool can serve and neither can the fallback pool "p1", 530



=== TEST 9: a pool serves several load balancers
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool shared { endpoint a 127.0.0.1:1990; }
    cflb_pool other { endpoint b 127.0.0.1:1991; }
    cflb_lb one { pools shared; }
    cflb_lb two { pools other shared; steering off; }
}
--- config
    location /one { proxy_pass http://one; }
    location /two { proxy_pass http://two; }
--- pipelined_requests eval
["GET /one", "GET /two"]
--- response_body eval
["a one\n", "b two\n"]
--- no_error_log
[error]



=== TEST 10: the load balancer may be used before it and its pools are defined
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    server {
        listen 127.0.0.1:1993;
        location / { proxy_pass http://late; }
    }
    cflb_lb late { pools lp; }
    cflb_pool lp { endpoint a 127.0.0.1:1990; }
}
--- config
    location /t { proxy_pass http://127.0.0.1:1993; }
--- request
GET /t
--- response_body
a late
--- no_error_log
[error]
