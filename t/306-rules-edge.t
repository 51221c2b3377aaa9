# vim:set ft= ts=4 sw=4 et fdm=marker:

# Rules on unusual requests (docs/rules.md, "Missing values"): absent
# fields, a 64 KB URI, a header repeated 100 times, bytes that are not
# UTF-8, a regular expression that would backtrack for ages (bounded by
# the match limit: no match), many map lookups, an internal redirect.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    cflb_zone cflb 1m;
    cflb_pool pa { endpoint a 127.0.0.1:1990; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; }
_EOC_

our $Config = <<'_EOC_';
    location /t { proxy_pass http://www; }
_EOC_

our $Long = '/t/' . ('x' x 65530) . '/end';

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: absent cookie, query, referer: comparisons are false, "not" of them true
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule missing {
            condition 'not http.cookie contains "a" and not http.request.uri.query eq "" and not (http.referer ne "x") and not any(http.request.uri.args.names[*] == "a") and all(http.request.uri.args.values[*] == "z")';
            override pools pb;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t", "GET /t?"]
--- response_body eval
["b\n", "a\n"]
--- no_error_log
[error]



=== TEST 2: a 64 KB URI: path, uri, query and lower() of it
--- http_config eval
$::Backends . q{
    large_client_header_buffers 4 128k;
    cflb_lb www {
        pools pa;
        rule long {
            condition 'ends_with(http.request.uri.path, "/end") and len(http.request.uri) gt 65536 and lower(http.request.uri.path) contains "xxxx/end" and http.request.uri.query eq "q=1"';
            override pools pb;
        }
    }
}
--- config eval: $::Config
--- request eval
"GET $::Long?q=1"
--- response_body
b
--- no_error_log
[error]



=== TEST 3: a header repeated 100 times: every value in order, by index and any()
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule rep {
            condition 'http.request.headers["x-rep"][99] eq "v99" and any(http.request.headers["X-Rep"][*] eq "v50") and len(http.request.headers["x-rep"]) eq 100 and len(http.request.headers.values) ge 101';
            override pools pb;
        }
    }
}
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
CORE::join "", map { "X-Rep: v$_\n" } 0 .. 99
--- response_body
b
--- no_error_log
[error]



=== TEST 4: bytes that are not UTF-8 compare as bytes
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule bytes { condition 'http.request.headers["x-b"][0] eq "\xff\xfe"'; override pools pb; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"X-B: \xff\xfe\n"
--- response_body
b
--- no_error_log
[error]



=== TEST 5: a backtracking regular expression hits the match limit: no match, the request goes on
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule evil { condition 'http.request.uri.path matches "^/t/(a+)+$"'; override pools pb; }
        rule good { condition 'http.request.uri.path ~ "^/t/b+$"'; override pools pb; }
    }
}
--- config eval: $::Config
--- init
my $r = Cflb::get(path => '/t/bbb');
die "good regex: $r->{body}\n" unless $r->{body} eq 'b';
--- request eval
"GET /t/" . ("a" x 40) . "!"
--- response_body
a
--- error_log eval
qr/\[info\] .*cflb rule: pcre2_match\(\) failed: -47, taken as no match/
--- no_error_log
[error]



=== TEST 6: more map lookups than the cache keeps: each still right
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule many {
            condition 'http.request.headers["h1"][0] eq "1" and http.request.headers["h2"][0] eq "2" and http.request.headers["h3"][0] eq "3" and http.request.headers["h4"][0] eq "4" and http.request.headers["h5"][0] eq "5" and http.request.headers["h6"][0] eq "6" and http.request.headers["h7"][0] eq "7" and http.request.headers["h8"][0] eq "8" and http.request.headers["h9"][0] eq "9" and http.request.uri.args["a1"][0] eq "1" and http.request.uri.args["a2"][0] eq "2" and http.request.uri.args["a3"][0] eq "3" and http.request.uri.args["a4"][0] eq "4" and http.request.uri.args["a5"][0] eq "5" and http.request.uri.args["a6"][0] eq "6" and http.request.uri.args["a7"][0] eq "7" and http.request.uri.args["a8"][0] eq "8" and http.request.uri.args["a9"][0] eq "9"';
            override pools pb;
        }
    }
}
--- config eval: $::Config
--- request
GET /t?a1=1&a2=2&a3=3&a4=4&a5=5&a6=6&a7=7&a8=8&a9=9
--- more_headers eval
CORE::join "", map { "H$_: $_\n" } 1 .. 9
--- response_body
b
--- no_error_log
[error]



=== TEST 7: an internal redirect to another proxied location runs the rules again
The first location's load balancer has one pool that answers 503; its
error_page sends the request to /t2, whose load balancer's rule sends it
to pb.
--- http_config eval
$::Backends . q{
    server { listen 127.0.0.1:1992; return 503; }
    cflb_pool p503 { endpoint e 127.0.0.1:1992; }
    cflb_lb first { pools p503; rule r { condition 'true'; override pools p503; } }
    cflb_lb www { pools pa; rule r { condition 'true'; override pools pb; } }
}
--- config
    location /t {
        proxy_pass http://first;
        proxy_intercept_errors on;
        error_page 503 = /t2;
    }
    location /t2 { proxy_pass http://www; }
--- request
GET /t
--- response_body
b
--- no_error_log
[error]
