# vim:set ft= ts=4 sw=4 et fdm=marker:

# Steering distributions against real nginx with 4 workers.  Each block
# sends its load in --- init, then reads the per-pool and per-endpoint
# request counters of cflb_status and compares shares with the expected
# probabilities.  Tolerances are absolute and about 4 standard deviations
# of the sample (sqrt(p(1-p)/n)), so a correct balancer fails well under
# once in a thousand runs while a wrong formula fails every time.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(4);
master_on();

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a"; }
    server { listen 127.0.0.1:1991; return 200 "b"; }
    server { listen 127.0.0.1:1992; return 200 "c"; }
    server {
        listen 127.0.0.1:1993;
        location /hold { proxy_pass http://127.0.0.1:1999; proxy_read_timeout 30s; }
        location / { return 200 "d"; }
    }
    cflb_zone cflb 1m;
_EOC_

our $Status = <<'_EOC_';
    location = /status { cflb_status; }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: random traffic steering, pool weights .4/.5/.6 -> 26.67/33.33/40.00 %
--- http_config eval
$::Backends . q{
    cflb_pool r1a { endpoint a 127.0.0.1:1990; }
    cflb_pool r1b { endpoint b 127.0.0.1:1991; }
    cflb_pool r1c { endpoint c 127.0.0.1:1992; }
    cflb_lb www {
        pools r1a r1b r1c;
        steering random;
        random_steering r1a=0.4 r1b=0.5 r1c=0.6;
    }
}
--- config eval
$::Status . q{ location /t { proxy_pass http://www; } }
--- init
Cflb::load('/t', 10000);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ r1a => 0.2667, r1b => 0.3333, r1c => 0.4000 }, 0.02)
--- response_body
r1a ok
r1b ok
r1c ok
--- no_error_log
[error]



=== TEST 2: random traffic steering, pool weights .8/.5/.6 -> 42.11/26.32/31.57 % (+- 5 sigma)
--- http_config eval
$::Backends . q{
    cflb_pool r2a { endpoint a 127.0.0.1:1990; }
    cflb_pool r2b { endpoint b 127.0.0.1:1991; }
    cflb_pool r2c { endpoint c 127.0.0.1:1992; }
    cflb_lb www {
        pools r2a r2b r2c;
        steering random;
        random_steering r2a=.8 r2b=.5 r2c=.6;
    }
}
--- config eval
$::Status . q{ location /t { proxy_pass http://www; } }
--- init
Cflb::load('/t', 10000);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ r2a => 0.4211, r2b => 0.2632, r2c => 0.3157 }, 0.025)
--- response_body
r2a ok
r2b ok
r2c ok
--- no_error_log
[error]



=== TEST 3: default_weight applies to pools random_steering does not name
--- http_config eval
$::Backends . q{
    cflb_pool r3a { endpoint a 127.0.0.1:1990; }
    cflb_pool r3b { endpoint b 127.0.0.1:1991; }
    cflb_pool r3c { endpoint c 127.0.0.1:1992; }
    cflb_lb www {
        pools r3a r3b r3c;
        steering random;
        random_steering default_weight=0.2 r3a=0.3 r3b=0.5;
    }
}
--- config eval
$::Status . q{ location /t { proxy_pass http://www; } }
--- init
Cflb::load('/t', 10000);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ r3a => 0.30, r3b => 0.50, r3c => 0.20 }, 0.02)
--- response_body
r3a ok
r3b ok
r3c ok
--- no_error_log
[error]



=== TEST 4: random endpoint steering by endpoint weight .6/.3/.1
--- http_config eval
$::Backends . q{
    cflb_pool r4 {
        endpoint a 127.0.0.1:1990 weight=0.6;
        endpoint b 127.0.0.1:1991 weight=0.3;
        endpoint c 127.0.0.1:1992 weight=0.1;
    }
    cflb_lb www { pools r4; }
}
--- config eval
$::Status . q{ location /t { proxy_pass http://www; } }
--- init
Cflb::load('/t', 10000);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ 'r4/a' => 0.6, 'r4/b' => 0.3, 'r4/c' => 0.1 }, 0.02)
--- response_body
r4/a ok
r4/b ok
r4/c ok
--- no_error_log
[error]



=== TEST 5: LORS traffic steering, the seed example: A w=.4 with 3 open, B w=.6 with 0 -> 14.29/85.71 %
Three requests held open through another load balancer that shares pool
r5a keep its in-flight count at 3 while the measured requests run one at a
time, so each of them sees A at 3 and B at 0.
--- http_config eval
$::Backends . q{
    cflb_pool r5a { endpoint d 127.0.0.1:1993; }
    cflb_pool r5b { endpoint b 127.0.0.1:1991; }
    cflb_lb only_a { pools r5a; }
    cflb_lb www {
        pools r5a r5b;
        steering least_outstanding_requests;
        random_steering r5a=0.4 r5b=0.6;
    }
}
--- config eval
$::Status . q{
    location /hold { proxy_pass http://only_a; proxy_read_timeout 30s; }
    location /t { proxy_pass http://www; }
}
--- init
Cflb::blackhole(1999, 30);
Cflb::hold('/hold', 3);
Cflb::load('/t', 6000);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ r5a => 0.1429, r5b => 0.8571 }, 0.02, { r5a => 3 })
--- response_body
r5a ok
r5b ok



=== TEST 6: LORS endpoint steering: the same example inside one pool
--- http_config eval
$::Backends . q{
    cflb_pool r6 {
        endpoint d 127.0.0.1:1993 weight=0.4;
        endpoint b 127.0.0.1:1991 weight=0.6;
        endpoint_steering least_outstanding_requests;
    }
    cflb_pool r6hold { endpoint d 127.0.0.1:1993; }
    cflb_lb holder { pools r6; }
    cflb_lb www { pools r6; }
}
--- config eval
$::Status . q{
    location /hold { proxy_pass http://holder; proxy_read_timeout 30s; }
    location /t { proxy_pass http://www; }
}
--- init
Cflb::blackhole(1999, 30);
# LORS sends most holds to b at first; hold until d has exactly 3
Cflb::hold_on('r6/d', '/hold', 3);
Cflb::load('/t', 6000);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ 'r6/d' => 0.1429, 'r6/b' => 0.8571 }, 0.02,
                    $Cflb::note{minus})
--- response_body
r6/b ok
r6/d ok



=== TEST 7: least_connections steering weighs open connections the same way
--- http_config eval
$::Backends . q{
    cflb_pool r7a { endpoint d 127.0.0.1:1993; }
    cflb_pool r7b { endpoint b 127.0.0.1:1991; }
    cflb_lb only_a { pools r7a; }
    cflb_lb www {
        pools r7a r7b;
        steering least_connections;
        random_steering r7a=0.4 r7b=0.6;
    }
}
--- config eval
$::Status . q{
    location /hold { proxy_pass http://only_a; proxy_read_timeout 30s; }
    location /t { proxy_pass http://www; }
}
--- init
Cflb::blackhole(1999, 30);
Cflb::hold('/hold', 3);
Cflb::load('/t', 6000);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ r7a => 0.1429, r7b => 0.8571 }, 0.02, { r7a => 3 })
--- response_body
r7a ok
r7b ok



=== TEST 8: hash endpoint steering keeps each client on one endpoint, by weight
Clients are told apart by X-Real-IP through the realip module, as they
would be behind another proxy; 400 clients send 5 requests each.
--- http_config eval
$::Backends . q{
    cflb_pool r8 {
        endpoint a 127.0.0.1:1990 weight=0.5;
        endpoint b 127.0.0.1:1991 weight=0.3;
        endpoint c 127.0.0.1:1992 weight=0.2;
        endpoint_steering hash;
    }
    cflb_lb www { pools r8; }
}
--- config eval
$::Status . q{
    location /t {
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Real-IP;
        proxy_pass http://www;
    }
}
--- init
Cflb::sticky_clients('/t', 400, 5);
--- request
GET /status
--- response_body_filters eval
sub { "moved: $Cflb::note{moved}\n"
      . Cflb::status_shares({ 'r8/a' => 0.5, 'r8/b' => 0.3, 'r8/c' => 0.2 },
                            0.1)->(shift) }
--- response_body
moved: 0
r8/a ok
r8/b ok
r8/c ok
--- no_error_log
[error]



=== TEST 9: steering off fails over to the next usable pool, in order
--- http_config eval
$::Backends . q{
    cflb_pool r9a { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool r9b { endpoint b 127.0.0.1:1991 weight=0; }
    cflb_pool r9c { endpoint c 127.0.0.1:1992; }
    cflb_pool r9d { endpoint d 127.0.0.1:1993; }
    cflb_lb www { pools r9a r9b r9c r9d; steering off; }
}
--- config eval
$::Status . q{ location /t { proxy_pass http://www; } }
--- init
Cflb::load('/t', 200);
--- request
GET /status
--- response_body_filters eval
Cflb::status_shares({ r9a => 0, r9b => 0, r9c => 1, r9d => 0 }, 0)
--- response_body
r9a ok
r9b ok
r9c ok
r9d ok
--- no_error_log
[error]
