# vim:set ft= ts=4 sw=4 et fdm=marker:

# Custom rules in http (docs/rules.md): requests that match a rule by
# path, method, host, header, cookie, query argument or client network go
# to the pools it names, others to the load balancer's; priority order,
# the last override winning field by field, terminates, disabled, and an
# empty condition.  Every pool has one endpoint that answers its name, so
# each answer says which pool served.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_zone cflb 1m;
    cflb_pool pa { endpoint a 127.0.0.1:1990; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; }
    cflb_pool pc { endpoint c 127.0.0.1:1992; }
_EOC_

our $Config = <<'_EOC_';
    location /t { proxy_pass http://www; }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a path rule routes /blog to its pools, the rest to the load balancer's
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule blog {
            condition 'http.request.uri.path contains "/blog"';
            override pools pb;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/blog/2024/x", "GET /t", "GET /t/news?from=/blog"]
--- response_body eval
["b\n", "a\n", "a\n"]
--- no_error_log
[error]



=== TEST 2: a method rule: POST and PUT go to pb, GET stays
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule writes {
            condition 'http.request.method in {"POST" "PUT"}';
            override pools pb;
        }
    }
}
--- config eval: $::Config
--- request eval
["POST /t/x\r\nhello", "PUT /t/x\r\nhello", "GET /t/x"]
--- response_body eval
["b\n", "b\n", "a\n"]
--- no_error_log
[error]



=== TEST 3: a host rule matches the Host header (lower case, no port)
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule old { condition 'http.host eq "old.example.com"'; override pools pc; }
    }
}
--- config eval: $::Config
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["Host: OLD.example.com:8080", "Host: new.example.com"]
--- response_body eval
["c\n", "a\n"]
--- no_error_log
[error]



=== TEST 4: a header rule: the map by lower-case name, and the list of names
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule canary {
            condition 'http.request.headers["x-canary"][0] eq "on"';
            override pools pb;
        }
        rule named {
            condition 'any(http.request.headers.names[*] == "x-route-c")';
            override pools pc;
        }
    }
}
--- config eval: $::Config
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-Canary: on", "X-Canary: off", "X-Route-C: 1", "X-Other: on"]
--- response_body eval
["b\n", "a\n", "c\n", "a\n"]
--- no_error_log
[error]



=== TEST 5: a cookie rule sees the whole Cookie header, several joined
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule beta {
            condition 'http.cookie contains "beta=1"';
            override pools pb;
        }
        rule both {
            condition 'http.cookie eq "x=1; beta=1"';
            override pools pc;
        }
    }
}
--- config eval: $::Config
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Cookie: id=7; beta=1", "Cookie: beta=0", "Cookie: x=1\r\nCookie: beta=1", ""]
--- response_body eval
["b\n", "a\n", "c\n", "a\n"]
--- no_error_log
[error]



=== TEST 6: query arguments: the map (raw, case-sensitive names), names, values, the query
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule v2 {
            condition 'any(http.request.uri.args["v"][*] == "2")';
            override pools pb;
        }
        rule debug {
            condition 'any(http.request.uri.args.names[*] == "debug") or http.request.uri.query eq ""';
            override pools pc;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t?v=1&v=2", "GET /t?V=2", "GET /t?x&debug", "GET /t?", "GET /t", "GET /t?v=%32"]
--- response_body eval
["b\n", "a\n", "c\n", "c\n", "a\n", "a\n"]
--- no_error_log
[error]



=== TEST 7: a client network rule (ip.src in CIDRs), and its negation
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule local { condition 'ip.src in {127.0.0.0/8 ::1}'; override pools pb; }
    }
    cflb_lb far {
        pools pa;
        rule other { condition 'not ip.src in {127.0.0.0/8}'; override pools pb; }
    }
}
--- config eval
$::Config . q{ location /far { proxy_pass http://far; } }
--- request eval
["GET /t", "GET /far"]
--- response_body eval
["b\n", "a\n"]
--- no_error_log
[error]



=== TEST 8: priority order: lower first, so the rule with the higher number wins a field both set
"late" is first in the block but runs last (priority 20); "early" runs
first (priority 10). Both set pools: late's win. X-Trace names them in
the order they ran.
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule late { condition 'true'; priority 20; override pools pc; }
        rule early { condition 'true'; priority 10; override pools pb; }
    }
}
--- config eval
q{ location /t { proxy_pass http://www; add_header X-Trace $cflb_trace; } }
--- request
GET /t
--- response_body
c
--- response_headers
X-Trace: lb=www rules=early,late pool=pc(priority) endpoint=pc/c(random)
--- no_error_log
[error]



=== TEST 9: last override wins field by field: one rule's pools with another's fallback
Both rules match. "first" names pools pa and fallback pb; "second" names
pool pc only. The request goes to pc (second's pools), pc is disabled,
so it goes to the fallback, which is first's pb, not the load
balancer's (pa).
--- http_config eval
$::Backends . q{
    cflb_pool pd { endpoint d 127.0.0.1:1993; enabled off; }
    cflb_lb www {
        pools pa;
        rule first { condition 'true'; override pools pa; override fallback_pool pb; }
        rule second { condition 'true'; override pools pd; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body
b
--- no_error_log
[error]



=== TEST 10: terminates stops the evaluation, its overrides and the earlier ones stay
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule a { condition 'true'; override fallback_pool pc; }
        rule stop { condition 'http.request.uri.path eq "/t/stop"'; terminates; override pools pb; }
        rule after { condition 'true'; override pools pc; }
    }
}
--- config eval
q{ location /t { proxy_pass http://www; add_header X-Trace $cflb_trace; } }
--- request eval
["GET /t/stop", "GET /t/go"]
--- response_body eval
["b\n", "c\n"]
--- response_headers eval
["X-Trace: lb=www rules=a,stop pool=pb(priority) endpoint=pb/b(random)",
 "X-Trace: lb=www rules=a,after pool=pc(priority) endpoint=pc/c(random)"]
--- no_error_log
[error]



=== TEST 11: a disabled rule never runs, a rule without condition always matches
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule off { condition 'true'; disabled; override pools pc; }
        rule always { override pools pb; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body
b
--- no_error_log
[error]



=== TEST 12: an empty condition is always true, a blank one too
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule e { condition ''; override pools pb; }
        rule b { condition '  '; override fallback_pool pc; }
    }
}
--- config eval
q{ location /t { proxy_pass http://www; add_header X-Trace $cflb_trace; } }
--- request
GET /t
--- response_body
b
--- response_headers
X-Trace: lb=www rules=e,b pool=pb(priority) endpoint=pb/b(random)
--- no_error_log
[error]



=== TEST 13: one rule's pools with another's steering: a list built once per worker
Rule "pools" lists pa pb pc (steering off: pa always); rule "steer"
sets random steering with weights pa=0 pc=0: together only pb can be
drawn.
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule pools { condition 'true'; override pools pa pb pc; }
        rule steer {
            condition 'http.request.uri.path eq "/t/r"';
            override steering random;
            override random_steering pa=0 pc=0;
        }
    }
}
--- config eval
$::Config
--- init
my $t = Cflb::load('/t/r', 20);
my $u = Cflb::load('/t', 5);
die "mixed: " . join(',', %$t) . "\n" unless ($t->{b} // 0) == 20;
die "pools alone: " . join(',', %$u) . "\n" unless ($u->{a} // 0) == 5;
--- request
GET /t/r
--- response_body
b
--- no_error_log
[error]



=== TEST 14: rules see the request as the client sent it: the URI before rewrite
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule old { condition 'http.request.uri eq "/old?x=1"'; override pools pb; }
    }
}
--- config eval
q{ location /old { rewrite ^ /new; } location /new { proxy_pass http://www; } }
--- request
GET /old?x=1
--- response_body
b
--- no_error_log
[error]



=== TEST 15: a location without the load balancer is not touched; proxy_pass with a variable runs the rules at init_peer
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule all { condition 'http.request.uri.path eq "/v"'; override pools pb; }
    }
}
--- config eval
q{
    location /v { set $up www; proxy_pass http://$up; }
    location /direct { proxy_pass http://127.0.0.1:1992; }
}
--- request eval
["GET /v", "GET /direct"]
--- response_body eval
["b\n", "c\n"]
--- no_error_log
[error]



=== TEST 16: the version, the timestamp, ssl, the port and the load balancer's name
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule v {
            condition 'http.request.version eq "HTTP/1.0" and http.request.timestamp.sec gt 1700000000 and not ssl and cf.load_balancer.name eq "www" and cf.edge.server_port eq 1984';
            override pools pb;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t HTTP/1.0", "GET /t HTTP/1.1"]
--- response_body eval
["b\n", "a\n"]
--- no_error_log
[error]



=== TEST 17: user agent and referer; a missing one makes every comparison false, != included
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools pa;
        rule bot { condition 'lower(http.user_agent) contains "bot"'; override pools pb; }
        rule ref { condition 'http.referer ne "x"'; override pools pc; }
    }
}
--- config eval: $::Config
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["User-Agent: GoogleBot/2.1", "Referer: http://a/", "User-Agent: curl"]
--- response_body eval
["b\n", "c\n", "a\n"]
--- no_error_log
[error]
