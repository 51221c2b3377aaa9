# vim:set ft= ts=4 sw=4 et fdm=marker:

# Rules that override session affinity (docs/rules.md): the cookie's
# Max-Age and attributes follow the rules that matched the request, only
# on the paths they match; a rule turns affinity on or off; the fields of
# two rules combine, each from the last that set it.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    cflb_zone cflb 1m;
    cflb_pool p { endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991; }
_EOC_

our $Config = <<'_EOC_';
    location /t {
        proxy_pass http://www;
        add_header X-Trace $cflb_trace always;
    }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a checkout rule shortens the cookie's Max-Age for its path only
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools p;
        session_affinity cookie;
        rule checkout {
            condition 'starts_with(http.request.uri.path, "/t/checkout")';
            override session_affinity_ttl 7200;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/checkout/pay", "GET /t/home"]
--- response_headers_like eval
["Set-Cookie: __cflb=[^;]+; Max-Age=7200; Path=/; HttpOnly; SameSite=Lax",
 "Set-Cookie: __cflb=[^;]+; Max-Age=82800; Path=/; HttpOnly; SameSite=Lax"]
--- no_error_log
[error]



=== TEST 2: a rule turns cookie affinity on (ttl= in session_affinity) for its path only
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools p;
        rule cart {
            condition 'http.request.uri.path eq "/t/cart"';
            override session_affinity cookie ttl=3600 samesite=strict;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/cart", "GET /t/home"]
--- response_headers eval
["", "!Set-Cookie"]
--- response_headers_like eval
["Set-Cookie: __cflb=[^;]+; Max-Age=3600; Path=/; HttpOnly; SameSite=Strict\n"
 . "X-Trace: lb=www rules=cart affinity=cookie:new pool=p\\(priority\\) "
 . "endpoint=p/[ab]\\(random\\)",
 "X-Trace: lb=www pool=p\\(priority\\) endpoint=p/[ab]\\(random\\)"]
--- no_error_log
[error]



=== TEST 3: the cookie a rule made keeps its client on one endpoint, on that path
20 requests to /t/cart with the cookie of the first all reach the same
endpoint (random steering over two would split them).
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools p;
        rule cart {
            condition 'http.request.uri.path eq "/t/cart"';
            override session_affinity cookie;
        }
    }
}
--- config eval: $::Config
--- init
my $first = Cflb::get(path => '/t/cart');
die "no cookie\n" unless $first->{cookie};
for (1 .. 20) {
    my $r = Cflb::get(path => '/t/cart', headers => ["Cookie: __cflb=$first->{cookie}"]);
    die "moved: $r->{body} after $first->{body}\n" if $r->{body} ne $first->{body};
    die "set again\n" if $r->{nset};
    die "trace: $r->{headers}{'x-trace'}\n"
        unless $r->{headers}{'x-trace'} =~ /affinity=cookie:resumed/;
}
--- request
GET /t/home
--- response_headers
!Set-Cookie
--- no_error_log
[error]



=== TEST 4: override session_affinity none: no cookie on that path
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools p;
        session_affinity cookie;
        rule static {
            condition 'starts_with(http.request.uri.path, "/t/static/")';
            override session_affinity none;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/static/a.css", "GET /t/"]
--- response_headers eval
["!Set-Cookie", ""]
--- response_headers_like eval
["", "Set-Cookie: __cflb=.*Max-Age=82800.*"]
--- no_error_log
[error]



=== TEST 5: fields of two rules combine, each from the last rule that set it
/t/a matches "strict" (SameSite=Strict, ttl as the lb: 86400); /t/a/b
matches both, so the ttl is "short"'s and SameSite still "strict"'s.
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools p;
        session_affinity cookie;
        session_affinity_ttl 86400;
        rule strict {
            condition 'starts_with(http.request.uri.path, "/t/a")';
            override session_affinity_samesite strict;
        }
        rule short {
            condition 'starts_with(http.request.uri.path, "/t/a/b")';
            override session_affinity_ttl 1800;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/a", "GET /t/a/b", "GET /t/c"]
--- response_headers_like eval
["Set-Cookie: __cflb=[^;]+; Max-Age=86400; Path=/; HttpOnly; SameSite=Strict",
 "Set-Cookie: __cflb=[^;]+; Max-Age=1800; Path=/; HttpOnly; SameSite=Strict",
 "Set-Cookie: __cflb=[^;]+; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax"]
--- no_error_log
[error]



=== TEST 6: a rule's mode takes that mode's default ttl when none was set
The load balancer has cookie sessions (82800 s by default); a rule that
switches to header sessions gets the header default, 1800 s: shown in
the session the status counts and the trace; here only that no cookie
is set and the header session is made.
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools p;
        session_affinity cookie;
        rule api {
            condition 'starts_with(http.request.uri.path, "/t/api")';
            override session_affinity header;
            override session_affinity_headers x-session;
        }
    }
}
--- config eval: $::Config
--- request eval
["GET /t/api", "GET /t/web"]
--- more_headers
X-Session: s1
--- response_headers eval
["!Set-Cookie", ""]
--- response_headers_like eval
["X-Trace: lb=www rules=api affinity=header:new .*",
 "Set-Cookie: __cflb=[^;]+; Max-Age=82800; .*"]
--- no_error_log
[error]
