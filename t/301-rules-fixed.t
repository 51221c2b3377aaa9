# vim:set ft= ts=4 sw=4 et fdm=marker:

# fixed_response (docs/rules.md): a matching rule answers the client
# itself with its status, Content-Type, body and Location, no pool is
# asked, error_page does not replace it; $cflb_trace, the status document
# and the Prometheus text count matches and fixed responses.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use File::Temp ();

repeat_each(1);
master_on();
workers(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    cflb_zone cflb 1m;
    cflb_pool pa { endpoint a 127.0.0.1:1990; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; }
_EOC_

our $Config = <<'_EOC_';
    location /t {
        proxy_pass http://www;
        add_header X-Trace $cflb_trace always;
    }
    location = /status { cflb_status; }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: status, content type and body; other requests go to the pools
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule maintenance {
            condition 'http.request.uri.path eq "/t/down"';
            fixed_response 503 content_type=application/json 'body={"status":"maintenance"}';
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/down", "GET /t/up"]
--- error_code eval
[503, 200]
--- response_headers eval
["Content-Type: application/json\nContent-Length: 24\nX-Trace: lb=www rules=maintenance fixed=503",
 "X-Trace: lb=www pool=pa(priority) endpoint=pa/a(random)"]
--- response_body eval
['{"status":"maintenance"}', "a\n"]
--- no_error_log
[error]



=== TEST 2: a status alone: an empty body, no Content-Type
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule gone { condition 'true'; fixed_response 410; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- error_code: 410
--- response_headers
Content-Length: 0
!Content-Type
--- response_body
--- no_error_log
[error]



=== TEST 3: a body alone: status 200, text/plain
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule hello { condition 'true'; fixed_response "body=hello there"; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- error_code: 200
--- response_headers
Content-Type: text/plain
--- response_body chomp
hello there
--- no_error_log
[error]



=== TEST 4: location: a redirect with a Location header and a body
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule moved {
            condition 'http.host eq "old.example.com"';
            fixed_response 301 location=https://www.example.com/ body=moved;
        }
    }
}
--- config eval: $::Config
--- request
GET /t
--- more_headers
Host: old.example.com
--- error_code: 301
--- response_headers
Location: https://www.example.com/
Content-Type: text/plain
--- response_body chomp
moved
--- no_error_log
[error]



=== TEST 5: HEAD: the head alone
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule down { condition 'true'; fixed_response 503 body=down; }
    }
}
--- config eval: $::Config
--- request
HEAD /t/down
--- error_code: 503
--- response_headers
Content-Length: 4
--- response_body
--- no_error_log
[error]



=== TEST 5b: a request body is read and dropped, the connection kept
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule down { condition 'http.request.uri.path eq "/t/down"'; fixed_response 503 body=down; }
    }
}
--- config eval: $::Config
--- pipelined_requests eval
["POST /t/down\r\n0123456789", "GET /t/up"]
--- error_code eval
[503, 200]
--- response_body eval
["down", "a\n"]
--- no_error_log
[error]



=== TEST 6: error_page does not replace a fixed response; intercepted errors of the pool still go to it
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule down { condition 'http.request.uri.path eq "/t/down"'; fixed_response 503 body=fixed; }
    }
}
--- config eval
q{
    error_page 503 /oops;
    location = /oops { return 200 "error page\n"; }
    location /t { proxy_pass http://www; }
}
--- request
GET /t/down
--- error_code: 503
--- response_body chomp
fixed
--- no_error_log
[error]



=== TEST 7: rules before a fixed response are named, after it none runs; the status document counts
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule seen { condition 'true'; override pools pb; }
        rule down { condition 'http.request.uri.path eq "/t/down"'; fixed_response 503; }
        rule never { condition 'true'; override pools pa; }
    }
}
--- config eval: $::Config
--- init
Cflb::load('/t/down', 3);
Cflb::load('/t/up', 2);
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my ($lb) = grep { $_->{name} eq 'www' } @{ $st->{lbs} };
    return CORE::join '', map {
        "$_->{name} p=$_->{priority} t=" . ($_->{terminates} ? 1 : 0)
        . " d=" . ($_->{disabled} ? 1 : 0) . " fixed="
        . ($_->{fixed_response} // 'null')
        . " matches=$_->{matches} sent=$_->{fixed_responses}\n"
    } @{ $lb->{rules} };
}
--- response_body
seen p=0 t=0 d=0 fixed=null matches=5 sent=0
down p=0 t=1 d=0 fixed=503 matches=3 sent=3
never p=0 t=0 d=0 fixed=null matches=2 sent=0
--- no_error_log
[error]



=== TEST 8: the trace of a fixed response after other rules
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule seen { condition 'true'; override pools pb; }
        rule down { condition 'true'; fixed_response 503; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- error_code: 503
--- response_headers
X-Trace: lb=www rules=seen,down fixed=503
--- no_error_log
[error]



=== TEST 9: the Prometheus text has the two rule families, labels escaped
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule "we\"ird" { condition 'true'; override pools pb; }
        rule down { condition 'http.request.uri.path eq "/t/down"'; fixed_response 503; }
    }
}
--- config eval: $::Config
--- init
Cflb::load('/t/down', 2);
Cflb::load('/t/up', 1);
--- request
GET /status?format=prometheus
--- response_body_filters eval
sub {
    my $text = shift;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    open my $fh, '>', "$dir/m" or die "$dir/m: $!";
    print $fh $text;
    close $fh;
    my $out = `/usr/bin/promtool check metrics < $dir/m 2>&1`;
    return ($? == 0 ? "promtool: ok\n" : "promtool: $out")
           . CORE::join '', grep { /cflb_rule_/ } split /^/, $text;
}
--- response_body
promtool: ok
# HELP cflb_rule_matches_total Requests (layer 4: sessions, DNS-only: queries) a custom rule matched.
# TYPE cflb_rule_matches_total counter
cflb_rule_matches_total{subsystem="http",lb="www",rule="we\"ird"} 3
cflb_rule_matches_total{subsystem="http",lb="www",rule="down"} 2
# HELP cflb_rule_fixed_responses_total Fixed responses a custom rule sent.
# TYPE cflb_rule_fixed_responses_total counter
cflb_rule_fixed_responses_total{subsystem="http",lb="www",rule="we\"ird"} 0
cflb_rule_fixed_responses_total{subsystem="http",lb="www",rule="down"} 2
--- no_error_log
[error]



=== TEST 10: proxy_pass with a variable: the fixed response cannot answer, said, the request goes on
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule down { condition 'true'; fixed_response 503; }
    }
}
--- config
    location /t { set $up www; proxy_pass http://$up; }
--- request
GET /t
--- response_body
a
--- error_log
cflb_lb "www" rule "down": fixed_response needs a proxy_pass that names the load balancer without variables



=== TEST 11: a subrequest to a load balancer runs its rules too (auth_request)
A subrequest sees the main request's URI, so the auth load balancer's
rule matches all.
--- http_config eval
$::Backends . q{
    cflb_lb www { pools pa; }
    cflb_lb auth {
        pools pa;
        rule deny { condition 'http.request.uri.path eq "/t/secret"'; fixed_response 403; }
    }
}
--- config
    location = /auth { internal; proxy_pass http://auth; }
    location /t { auth_request /auth; proxy_pass http://www; }
--- request eval
["GET /t/secret", "GET /t/open"]
--- error_code eval
[403, 200]
--- no_error_log
[error]



=== TEST 12: a reload keeps a rule's counters by name; a renamed rule starts at zero
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule kept { condition 'true'; override pools pb; }
        rule old { condition 'true'; override pools pb; }
    }
}
--- config eval: $::Config
--- init
Cflb::load('/t', 3);
Cflb::reload_with('rule old', 'rule new', 1);
Cflb::load('/t', 2);
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my ($lb) = grep { $_->{name} eq 'www' } @{ $st->{lbs} };
    return CORE::join '', map { "$_->{name} $_->{matches}\n" } @{ $lb->{rules} };
}
--- response_body
kept 5
new 2
--- no_error_log
[error]
