# vim:set ft= ts=4 sw=4 et fdm=marker:

# Nothing can serve (docs/directives.md, "Nothing usable"): no listed pool
# is usable and the fallback pool cannot serve either (disabled, or no
# endpoint enabled).  The product answers HTTP 530, error 1016; so does
# cflb, before the upstream starts, with a page naming the load balancer
# or the location's error_page 530.  A fallback pool that is enabled
# serves whatever its health.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(2);
master_on();

plan "no_plan";

our $Http = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server {
        listen 127.0.0.1:1992;
        location /health { return 503; }
        location / { return 200 "c\n"; }
    }
    cflb_zone cflb 1m;
    log_format st '$status $upstream_addr|$upstream_status|$cflb_trace';
_EOC_

our $Config = <<'_EOC_';
    access_log logs/st.log st;
    location /t {
        proxy_pass http://www;
        add_header X-Up "[$upstream_addr][$upstream_status]" always;
    }
    location /api/ { allow 127.0.0.1; deny all; cflb_api; }
    location /status { cflb_status; }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: pools and fallback disabled: 530 with a page that names the load balancer, logged as 530
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint b 127.0.0.1:1991; enabled off; }
    cflb_lb www { pools p1; fallback_pool fb; }
}
--- config eval: $::Config
--- request
GET /t
--- error_code: 530
--- response_headers
Content-Type: text/html
X-Up: [][]
--- response_body_like: ^<html>\r\n<head><title>530 Origin DNS Error</title></head>.*error 1016: no pool of load balancer "www" can serve
--- error_log
cflb_lb "www": no pool can serve and neither can the fallback pool "fb", 530
--- no_error_log
no live upstreams



=== TEST 2: the access log: status 530, no upstream address or status, the trace
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint b 127.0.0.1:1991 disabled; }
    cflb_lb www { pools p1; fallback_pool fb; }
}
--- config eval: $::Config
--- init
my $r = Cflb::get();
$Cflb::note{out} = "status $r->{status}\n"
    . CORE::join('', map { "$_\n" } Cflb::log_lines('logs/st.log'));
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
status 530
530 -|-|lb=www pool=- endpoint=- skipped=p1:disabled,fb/b:disabled



=== TEST 3: error_page 530 replaces the page, also with a new status
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint b 127.0.0.1:1991; enabled off; }
    cflb_lb www { pools p1; fallback_pool fb; }
}
--- config
    location /t { proxy_pass http://www; error_page 530 /sorry; }
    location /u { proxy_pass http://www; error_page 530 =503 /sorry; }
    location = /sorry { return 200 "sorry, $status\n"; }
--- request eval
["GET /t", "GET /u"]
--- error_code eval
[530, 503]
--- response_body eval
["sorry, 530\n", "sorry, 503\n"]



=== TEST 4: the fallback enabled but unhealthy still serves (no 530)
The fallback's only endpoint fails its checks (503 on /health); the
listed pool is disabled; the fallback serves, its health ignored.
--- http_config eval
$::Http . q{
    cflb_monitor m { type http; path /health; interval 10s; timeout 1s; }
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint c 127.0.0.1:1992; monitor m; }
    cflb_lb www { pools p1; fallback_pool fb; }
}
--- config eval: $::Config
--- init
Cflb::wait_health('fb/c', 'unhealthy', 10);
--- request
GET /t
--- response_body
c
--- no_error_log
neither can the fallback pool



=== TEST 5: a rule's fallback_pool: disabled for the requests it matches (530), the lb's serves the others
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint b 127.0.0.1:1991; }
    cflb_pool off { endpoint c 127.0.0.1:1992; enabled off; }
    cflb_lb www {
        pools p1;
        fallback_pool fb;
        rule dark {
            condition 'http.request.uri.path eq "/t/dark"';
            override fallback_pool off;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/light", "GET /t/dark"]
--- error_code eval
[200, 530]
--- response_body_like eval
["^b\n\\z", 'load balancer "www" can serve']



=== TEST 6: a rule's fallback_pool that serves where the lb's is disabled
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint b 127.0.0.1:1991; enabled off; }
    cflb_pool lit { endpoint c 127.0.0.1:1992; }
    cflb_lb www {
        pools p1;
        fallback_pool fb;
        rule lit {
            condition 'http.request.uri.path eq "/t/lit"';
            override fallback_pool lit;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/lit", "GET /t/dark"]
--- error_code eval
[200, 530]
--- response_body_like eval
["^c\n\\z", 'load balancer "www" can serve']



=== TEST 7: the API disables the fallback at run time (530 on every worker), then enables it again
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools p1; fallback_pool fb; }
}
--- config eval: $::Config
--- init
my $out = '';
$out .= "before: " . Cflb::bodies(Cflb::repeat(10)) . "\n";
my $r = Cflb::api(PATCH => '/api/pools/fb', '{"enabled":false}');
$out .= "disable: $r->{status}\n";
$out .= "disabled: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
$r = Cflb::api(PATCH => '/api/pools/fb', '{"enabled":true}');
$out .= "enable: $r->{status}\n";
$out .= "enabled: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: b
disable: 200
disabled: status 530
enable: 200
enabled: b



=== TEST 8: a listed pool that serves: no 530 while the fallback is disabled
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_pool fb { endpoint b 127.0.0.1:1991; enabled off; }
    cflb_lb www { pools p1; fallback_pool fb; }
}
--- config eval: $::Config
--- request
GET /t
--- response_body
a
--- no_error_log
[error]



=== TEST 9: a proxy_pass with variables cannot answer 530: nginx's 502
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint b 127.0.0.1:1991; enabled off; }
    cflb_lb www { pools p1; fallback_pool fb; }
}
--- config
    location /t { set $lb www; proxy_pass http://$lb; }
--- request
GET /t
--- error_code: 502
--- error_log
no live upstreams
