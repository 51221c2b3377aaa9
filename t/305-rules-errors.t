# vim:set ft= ts=4 sw=4 et fdm=marker:

# Bad rules fail "nginx -t" with the file, the line, and for a bad
# condition the line and column in the expression (docs/rules.md).  A
# table: each case is a cflb_lb body and the exact message.  (A plain
# Test::More file, as t/090: each case is a whole nginx.conf checked with
# "nginx -t".)

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use Test::More;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';

my $prefix = tempdir(CLEANUP => 1);
mkdir "$prefix/modules" or die "$prefix/modules: $!";
mkdir "$prefix/logs" or die "$prefix/logs: $!";

for my $so (split /\s+/, $ENV{TEST_NGINX_LOAD_MODULES} || '') {
    next unless $so;
    my ($name) = $so =~ m{([^/]+)$};
    symlink $so, "$prefix/modules/$name" or die "symlink $so: $!";
}


# a condition of the rule "blog" of cflb_lb "www", and the message after
# 'cflb_lb "www" rule "blog": '
my @conditions = (
    [ 'http.host eq "ab" or http.request.urii eq "/"',
      '1:22: unknown field "http.request.urii"' ],
    [ '(((http.request.timestamp.sec contains "x")))',
      '1:31: "contains" needs bytes, http.request.timestamp.sec is an '
      . 'integer' ],
    [ 'http.request.uri.path matches "(a"',
      '1:31: missing closing parenthesis' ],
    [ 'http.request.uri.path ~ "[z-a]"',
      '1:25: range out of order in character class' ],
    [ 'http.host eq', '1:13: expected a string' ],
    [ 'http.host eq "abc', '1:14: unterminated string' ],
    [ 'lower(http.host, 1) eq "a"', '1:1: lower() takes 1 argument, not 2' ],
    [ 'http.request.uri.path contains "/a" and',
      '1:40: expected a condition' ],
    [ 'ip.src in {10.0.0.1/8}', '1:12: invalid CIDR "10.0.0.1/8"' ],
    [ 'http.request.headers.names[*] == "a"',
      '1:1: http.request.headers.names[*] needs any() or all() around its '
      . 'condition' ],
    [ 'len(http.host) eq "a"', '1:19: expected an integer' ],
    [ 'ssl eq 1', '1:8: expected true or false' ],
    [ 'http.host in {1 2}', '1:15: expected a string or "}"' ],
    [ '((((true)))', '1:12: expected ")"' ],
    [ 'http.host wildcard "a**"', '1:20: wildcard contains a double star' ],
    [ "http.host eq \"a\" and\n    http.request.methd eq \"GET\"",
      '2:5: unknown field "http.request.methd" in CONF:10' ],
    [ ('(' x 65) . 'true' . (')' x 65),
      '1:65: expression nests deeper than 64 levels' ],
);

# a cflb_lb body (pools p and q exist), and the whole message
my @bodies = (
    [ 'rule blog { override keepalive 4; }',
      'rule "blog" cannot override "keepalive", only the settings of one '
      . 'decision: pools, steering, random_steering, fallback_pool, '
      . 'region_pools, country_pools, pop_pools, location_strategy, '
      . 'session_affinity and its settings, drain_duration, '
      . 'zero_downtime_failover, failover_across_pools, ttl' ],
    [ 'rule blog { override pools p nope; }',
      'unknown pool "nope" in cflb_lb "www" rule "blog" in CONF:9' ],
    [ 'rule blog { override fallback_pool nope; }',
      'unknown fallback_pool "nope" in cflb_lb "www" rule "blog" in CONF:9' ],
    [ 'rule blog { override steering bogus; }',
      'invalid steering "bogus", expected off, random, '
      . 'least_outstanding_requests, least_connections, geo, proximity or '
      . 'dynamic_latency' ],
    [ 'rule blog { override pools p p; }', 'pool "p" is listed twice' ],
    [ 'rule blog { override pools p; override pools q; }',
      '"override pools" is duplicate' ],
    [ 'rule blog { override pools; }',
      'invalid number of arguments in "override" of rule "blog"' ],
    [ 'rule blog { override region_pools XX=p; }',
      'unknown region "XX" in region_pools, expected one of WNAM ENAM WEU '
      . 'EEU NSAM SSAM OC ME NAF SAF SAS SEAS NEAS' ],
    [ 'rule blog { } rule blog { }',
      'duplicate rule "blog" in cflb_lb "www", first defined in CONF:9 '
      . 'in CONF:9' ],
    [ 'rule blog { fixed_response 503; override pools p; }',
      'rule "blog" of cflb_lb "www" has both fixed_response and overrides: '
      . 'a fixed response is sent by no pool' ],
    [ 'rule blog { fixed_response 99; }',
      'invalid fixed_response parameter "99", expected a status from 200 to '
      . '599, content_type=, body= or location=' ],
    [ 'rule blog { fixed_response 503 text=x; }',
      'invalid fixed_response parameter "text=x", expected a status from '
      . '200 to 599, content_type=, body= or location=' ],
    [ 'rule blog { fixed_response 503; fixed_response 502; }',
      '"fixed_response" is duplicate' ],
    [ 'rule blog { priority high; }',
      'invalid priority "high" of rule "blog", expected an integer from '
      . '-1000000000 to 1000000000' ],
    [ 'rule blog { condition true; condition false; }',
      '"condition" is duplicate' ],
    [ 'rule blog { conditon true; }',
      'unknown directive "conditon" in rule "blog", expected condition, '
      . 'priority, terminates, disabled, fixed_response or override' ],
    [ 'rule blog { terminates on; }',
      'invalid number of arguments in "terminates" of rule "blog"' ],
    [ 'rule blog { override ttl forever; }',
      'invalid ttl "forever" in rule "blog", expected a time from 0 to 1d' ],
    [ 'rule blog { override session_affinity cookie size=1; }',
      'invalid session_affinity parameter "size=1", expected ttl=, '
      . 'samesite=, secure=, headers=, require_all_headers=, '
      . 'drain_duration= or zero_downtime_failover=' ],
    [ 'rule blog { override session_affinity_ttl 10; }',
      'session_affinity_ttl 10 of cflb_lb "www" rule "blog" is out of '
      . 'range, cookie sessions take from 1800 to 604800 seconds in CONF:9',
      'session_affinity cookie;' ],
    [ 'rule blog { override session_affinity header; }',
      'session_affinity header of cflb_lb "www" rule "blog" needs '
      . 'session_affinity_headers in CONF:9' ],
    [ 'rule a { override session_affinity header; '
      . 'override session_affinity_headers x-s; } '
      . 'rule b { override session_affinity_ttl 86400; }',
      'session_affinity_ttl 86400 of cflb_lb "www" rules "a" and "b" is out '
      . 'of range, header sessions take from 30 to 3600 seconds in CONF:9' ],
    [ 'rule a { override pools q; } '
      . 'rule b { override steering proximity; }',
      'rules "a" and "b" of cflb_lb "www" may both match: proximity '
      . 'steering needs coordinates on every pool, cflb_pool "q" has none, '
      . 'in CONF:9' ],
    [ 'rule b { override steering proximity; override pools q; }',
      'proximity steering of cflb_lb "www" rule "b" needs coordinates on '
      . 'every pool, cflb_pool "q" has none ("coordinates LAT LON;") in '
      . 'CONF:6' ],
);


sub check {
    my ($name, $body, $expect, $extra) = @_;

    my $conf = "$prefix/t.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    # the rule is on line 9, inside cflb_lb "www"
    print $fh <<"_EOC_";
load_module modules/ngx_http_cflb_module.so;
events {}
http {
    cflb_zone z 1m;
    cflb_pool p { endpoint a 127.0.0.1:1990; coordinates 50 8; }
    cflb_pool q { endpoint b 127.0.0.1:1991; }
    cflb_node lat=50 lon=8;
    cflb_lb www { pools p; @{[ $extra // '' ]}
        $body
    }
}
_EOC_
    close $fh;

    my $out = `$nginx -t -p $prefix/ -c $conf 2>&1`;
    my ($got) = $out =~ /\[emerg\] \d+#\d+: (.*)/;

    $expect =~ s/CONF/$conf/g;
    $expect .= " in $conf:9" unless $expect =~ / in \Q$conf\E:\d+$/;

    ok($? != 0, "$name: nginx -t fails");
    is($got, $expect, "$name: the message");
}


for my $c (@conditions) {
    my ($expr, $msg) = @$c;
    my $short = length $expr > 40 ? substr($expr, 0, 40) . '...' : $expr;
    $short =~ s/\n/\\n/g;

    check("condition '$short'", "rule blog { condition '$expr'; }",
          "cflb_lb \"www\" rule \"blog\": $msg");
}

for my $b (@bodies) {
    check($b->[0], $b->[0], $b->[1], $b->[2]);
}

# nginx reads a parameter of up to 4 KB: a condition of 4,000 bytes loads
# (the core's limit, 4,096 characters, is the product's), a longer one is
# nginx's "too long parameter"
for my $len (4000, 5000) {
    my $conf = "$prefix/t.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh "load_module modules/ngx_http_cflb_module.so;\nevents {}\n"
        . "http { cflb_zone z 1m; cflb_pool p { endpoint a 127.0.0.1:1; }\n"
        . "cflb_lb www { pools p; rule r { condition 'http.host eq \""
        . ('x' x ($len - 15)) . "\"'; } } }\n";
    close $fh;

    my $out = `$nginx -t -p $prefix/ -c $conf 2>&1`;

    if ($len == 4000) {
        ok($? == 0, "a condition of $len bytes") or diag($out);
    } else {
        like($out, qr/too long parameter/, "a condition of $len bytes");
    }
}

# a rule outside a cflb_lb
{
    my $conf = "$prefix/t.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh "load_module modules/ngx_http_cflb_module.so;\nevents {}\n"
        . "http { upstream u { server 127.0.0.1:1; rule r { } } }\n";
    close $fh;

    my $out = `$nginx -t -p $prefix/ -c $conf 2>&1`;
    like($out, qr/"rule" directive is allowed only inside cflb_lb in \Q$conf\E:3/,
         'rule in a plain upstream');
}

done_testing();
