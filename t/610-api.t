# vim:set ft= ts=4 sw=4 et fdm=marker:

# The runtime API (docs/api.md) against real nginx with 2 workers: the
# shapes of GET answers, PATCH changes seen by every worker (each answer
# of the backends names its worker in X-Pid; every request goes on a
# connection of its own and the listener is reuseport, so requests spread
# over the workers), every kind of bad input refused with state unchanged,
# and the access rule: no allow/deny or auth, no API.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use Encode ();

repeat_each(1);
workers(2);
master_on();
log_level('notice');

$Test::Nginx::Util::ReusePort = 1;

plan "no_plan";

our $Http = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_zone cflb 1m;
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991 weight=0.5;
    }
    cflb_pool p2 { endpoint c 127.0.0.1:1992; }
    cflb_lb www { pools p1 p2; }
_EOC_

our $Config = <<'_EOC_';
    location /t { proxy_pass http://www; add_header X-Pid $pid always; }
    location /api/ { allow 127.0.0.1; deny all; cflb_api; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# the effective state of p1 and its endpoints, as one line
sub p1_state {
    my $p = Cflb::api(GET => '/api/pools/p1')->{json};

    return "p1 enabled=" . ($p->{enabled} ? 1 : 0) . " "
        . CORE::join(' ', map { "$_->{name}=$_->{weight}/"
                                . ($_->{enabled} ? 'on' : 'off') }
                          @{ $p->{endpoints} });
}

__DATA__

=== TEST 1: GET lbs, pools, one pool, one endpoint: shapes and names
--- http_config eval: $::Http
--- config eval: $::Config
--- init
my $out = '';
my $lbs = Cflb::api(GET => '/api/lbs');
$out .= "lbs: $lbs->{status} " . CORE::join(',', map {
    "$_->{name}<" . CORE::join(' ', map { $_->{name} } @{ $_->{pools} })
    . '>' } @{ $lbs->{json} }) . "\n";
my $pools = Cflb::api(GET => '/api/pools');
$out .= "pools: $pools->{status} "
    . CORE::join(',', map { $_->{name} } @{ $pools->{json} }) . "\n";
my $p = Cflb::api(GET => '/api/pools/p1');
$out .= "pool: $p->{status} $p->{json}{name} enabled="
    . ($p->{json}{enabled} ? 'true' : 'false') . " endpoints="
    . CORE::join(',', map { $_->{name} } @{ $p->{json}{endpoints} }) . "\n";
my $e = Cflb::api(GET => '/api/pools/p1/endpoints/b');
$out .= "endpoint: $e->{status} $e->{json}{name} $e->{json}{address} "
    . "weight=$e->{json}{weight}\n";
my $h = Cflb::api(HEAD => '/api/pools');
$out .= "head: $h->{status} body=" . length($h->{body}) . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
lbs: 200 www<p1 p2>
pools: 200 p1,p2
pool: 200 p1 enabled=true endpoints=a,b
endpoint: 200 b 127.0.0.1:1991 weight=0.5
head: 200 body=0
--- no_error_log
[error]
[warn]



=== TEST 2: PATCH a pool disabled: traffic moves to the next pool on every worker, and back
--- http_config eval: $::Http
--- config eval: $::Config
--- init
my $out = '';
my $before = Cflb::repeat(40);
$out .= "before: " . (grep({ $_ eq 'c' } keys %{ $before->{bodies} })
                      ? "c served" : "p1 only") . "\n";
my $r = Cflb::api(PATCH => '/api/pools/p1', '{"enabled": false}');
$out .= "patch: $r->{status} enabled="
    . ($r->{json}{enabled} ? 'true' : 'false') . "\n";
my $t = Cflb::repeat(40);
$out .= "disabled: " . Cflb::bodies($t) . ", workers "
    . ($t->{workers} > 1 ? "several" : "one") . "\n";
$r = Cflb::api(PATCH => '/api/pools/p1', '{"enabled": true}');
$t = Cflb::repeat(40);
$out .= "enabled again: " . (exists $t->{bodies}{c} ? "c served" : "p1 only")
    . ", workers " . ($t->{workers} > 1 ? "several" : "one") . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: p1 only
patch: 200 enabled=false
disabled: c, workers several
enabled again: p1 only, workers several
--- error_log
cflb: pool "p1" disabled at runtime
cflb: pool "p1" enabled at runtime
--- no_error_log
[error]



=== TEST 3: PATCH an endpoint's weight: the shares follow on every worker
a 1.00 and b 0.50 give b a third; b at 0.25 gives b a fifth.  600
requests each: one standard deviation is 0.019 and 0.016, the tolerance
0.08 is over 4 of them.
--- http_config eval: $::Http
--- config eval: $::Config
--- init
my $out = '';
my $t = Cflb::repeat(600);
$out .= "configured: " . Cflb::shares($t->{bodies},
                                      { a => 2/3, b => 1/3 }, 0.08);
my $r = Cflb::api(PATCH => '/api/pools/p1/endpoints/b', '{"weight": 0.25}');
$out .= "patch: $r->{status} weight=$r->{json}{weight}\n";
$t = Cflb::repeat(600);
$out .= "patched: " . Cflb::shares($t->{bodies},
                                   { a => 0.8, b => 0.2 }, 0.08);
$out .= "workers: " . ($t->{workers} > 1 ? "several" : "one") . "\n";
$r = Cflb::api(PATCH => '/api/pools/p1/endpoints/b', '{"weight": 0}');
$t = Cflb::repeat(40);
$out .= "weight 0: " . Cflb::bodies($t) . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
configured: a ok
b ok
patch: 200 weight=0.25
patched: a ok
b ok
workers: several
weight 0: a
--- error_log
cflb: pool "p1" endpoint "b" weight 0.25 at runtime
--- no_error_log
[error]



=== TEST 4: bad input: the right 4xx with a JSON error, state unchanged
--- http_config eval: $::Http
--- config eval: $::Config
--- init
my @cases = (
    [ PATCH => 'pools/p1/endpoints/a', '{"enabled": false', 'malformed' ],
    [ PATCH => 'pools/p1/endpoints/a', '[false]', 'not an object' ],
    [ PATCH => 'pools/p1/endpoints/a', '', 'empty body' ],
    [ PATCH => 'pools/p1/endpoints/a', '{}', 'nothing' ],
    [ PATCH => 'pools/p1/endpoints/a', '{"enabled": "no"}', 'wrong type' ],
    [ PATCH => 'pools/p1/endpoints/a', '{"weight": "0.3"}', 'weight string' ],
    [ PATCH => 'pools/p1/endpoints/a', '{"weight": 1.5}', 'weight > 1' ],
    [ PATCH => 'pools/p1/endpoints/a', '{"weight": -0.1}', 'weight < 0' ],
    [ PATCH => 'pools/p1/endpoints/a', '{"weight": 0.333}', '3 decimals' ],
    [ PATCH => 'pools/p1/endpoints/a', '{"weight": 0.29000000001}',
      'almost 2 decimals' ],
    [ PATCH => 'pools/p1/endpoints/a', '{"enabled": false, "colour": 1}',
      'unknown field after a good one' ],
    [ PATCH => 'pools/p1/endpoints/a',
      '{"enabled": false, "enabled": true}', 'duplicate key' ],
    [ PATCH => 'pools/p1', '{"weight": 0.5}', 'weight of a pool' ],
    [ PATCH => 'pools/p1', '{"enabled": false}' . (' ' x 5000), 'oversized' ],
    [ PATCH => 'pools/nope', '{"enabled": false}', 'unknown pool' ],
    [ PATCH => 'pools/p1/endpoints/zz', '{"enabled": false}',
      'unknown endpoint' ],
    [ GET => 'pools/p1/members/a', undef, 'unknown path' ],
    [ GET => 'pools/', undef, 'trailing slash' ],
    [ GET => 'nothing', undef, 'unknown top' ],
    [ DELETE => 'pools/p1', undef, 'DELETE a pool' ],
    [ POST => 'pools/p1/endpoints/a', '{"enabled": false}', 'POST' ],
    [ PATCH => 'pools', '{"enabled": false}', 'PATCH all pools' ],
    [ PATCH => 'lbs', '{"enabled": false}', 'PATCH lbs' ],
);
my $before = main::p1_state();
my $out = '';
for my $c (@cases) {
    my $r = Cflb::api($c->[0], "/api/$c->[1]", $c->[2]);
    my $j = $r->{json};
    $out .= "$c->[3]: $r->{status}"
        . ($j && defined $j->{error} && length $j->{error}
           && ($j->{status} // 0) == $r->{status} ? " json" : " NOT JSON")
        . ($r->{allow} ? " allow=$r->{allow}" : "") . "\n";
}
my $after = main::p1_state();
$out .= "state: " . ($after eq $before ? "unchanged" : "$before -> $after")
    . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
malformed: 400 json
not an object: 400 json
empty body: 400 json
nothing: 400 json
wrong type: 400 json
weight string: 400 json
weight > 1: 400 json
weight < 0: 400 json
3 decimals: 400 json
almost 2 decimals: 400 json
unknown field after a good one: 400 json
duplicate key: 400 json
weight of a pool: 400 json
oversized: 413 json
unknown pool: 404 json
unknown endpoint: 404 json
unknown path: 404 json
trailing slash: 404 json
unknown top: 404 json
DELETE a pool: 405 json allow=GET, HEAD, PATCH
POST: 405 json allow=GET, HEAD, PATCH
PATCH all pools: 405 json allow=GET, HEAD
PATCH lbs: 405 json allow=GET, HEAD
state: unchanged
--- no_error_log
[error]
at runtime



=== TEST 5: a chunked body over the limit is refused too
--- http_config eval: $::Http
--- config eval: $::Config
--- raw_request eval
"PATCH /api/pools/p1 HTTP/1.1\r
Host: localhost\r
Connection: close\r
Transfer-Encoding: chunked\r
\r
1770\r
" . ('{"enabled": false}' . (' ' x 5982)) . "\r
0\r
\r
"
--- error_code: 413
--- response_body
{"error":"the body is larger than 4096 bytes","status":413}
--- no_error_log
[error]
at runtime



=== TEST 6: no access control: the API refuses everyone and nginx warns at start
--- http_config eval: $::Http
--- config
    location /open/ { cflb_api; }
--- request
GET /open/pools
--- error_code: 403
--- response_body
{"error":"the API location has no access control: see docs/api.md","status":403}
--- error_log eval
qr/\[warn\] .*cflb_api in \S+nginx\.conf:\d+ has no allow\/deny, auth_basic or auth_request, it refuses every client/
--- no_error_log
[error]



=== TEST 7: deny rules that exclude the client: nginx's own 403, as the API's JSON error
--- http_config eval: $::Http
--- config
    location /api/ { allow 127.0.0.2; deny all; cflb_api; }
--- request
PATCH /api/pools/p1
{"enabled": false}
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body
{"error":"forbidden","status":403}
--- no_error_log
[warn]
at runtime



=== TEST 8: auth_basic guards it: 401 without credentials, 200 with them
--- http_config eval: $::Http
--- config
    location /api/ {
        auth_basic "cflb";
        auth_basic_user_file ../html/htpasswd;
        cflb_api;
    }
--- user_files
>>> htpasswd
ops:{PLAIN}secret
--- request eval
["GET /api/pools/p1/endpoints/a", "GET /api/pools/p1/endpoints/a"]
--- more_headers eval
["", "Authorization: Basic b3BzOnNlY3JldA=="]
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/^\{"error":"authorization required","status":401\}$/, qr/"name":"a"/]
--- no_error_log
[warn]



=== TEST 9: "auth_basic off" is no protection
--- http_config eval: $::Http
--- config
    location /api/ { auth_basic off; cflb_api; }
--- request
GET /api/pools
--- error_code: 403
--- error_log
refuses every client



=== TEST 10: cflb_api in a regex location is a configuration error
--- http_config eval: $::Http
--- config
    location ~ ^/api/ { allow 127.0.0.1; deny all; cflb_api; }
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_api needs a prefix location in \S+nginx\.conf:\d+/



=== TEST 11: enable and disable reach the cflb_notify webhook, weight changes do not
--- http_config eval
$::Http . q{
    cflb_notify http://127.0.0.1:1995/hook;
}
--- config eval: $::Config
--- init
Cflb::webhook(1995, [], 30);
Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}');
Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"weight":0.4}');
Cflb::api(PATCH => '/api/pools/p2', '{"enabled":false}');
Cflb::api(PATCH => '/api/pools/p2', '{"enabled":true}');
# each PATCH may reach another worker, each worker sends its own events:
# they may arrive in any order, "sequence" orders them (docs/alerts.md)
my @posts = sort { $a->{event}{sequence} <=> $b->{event}{sequence} }
            Cflb::wait_posts(3, 10);
$Cflb::note{out} = "sequences: " . CORE::join(' ', map {
    $_->{event}{sequence} } @posts) . "\n";
$Cflb::note{out} .= CORE::join '', map {
    my $e = $_->{event};
    "$e->{alert_type} $e->{event_source} "
    . ($e->{event_source} eq 'origin'
       ? CORE::join(',', map { $_->{name} } grep { $_->{changed} }
                                                  @{ $e->{origins} })
       : $e->{pool}{name})
    . " enabled=" . ($e->{enabled} ? 'true' : 'false') . "\n" } @posts;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sequences: 1 2 3
load_balancing_pool_enablement_alert origin a enabled=false
load_balancing_pool_enablement_alert pool p2 enabled=false
load_balancing_pool_enablement_alert pool p2 enabled=true
--- no_error_log
[error]



=== TEST 12: a path that is not UTF-8 is escaped in the JSON error, UTF-8 is kept
--- http_config eval: $::Http
--- config eval: $::Config
--- init
my $out = '';
for my $path ('/api/pools/%FFp%C3', '/api/pools/caf%C3%A9',
              '/api/pools/p1/endpoints/%ED%A0%80') {
    my $r = Cflb::api(GET => $path);
    my $j = eval { JSON::PP->new->utf8->decode($r->{body}) };
    $out .= "$r->{status} " . ($j ? "valid: " . Encode::encode_utf8($j->{error})
                                  : "INVALID: $r->{body}") . "\n";
}
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
404 valid: unknown pool "\xFFp\xC3"
404 valid: unknown pool "café"
404 valid: unknown endpoint "\xED\xA0\x80" in pool "p1"
--- no_error_log
[error]



=== TEST 13: a body over client_max_body_size: nginx's own 413, as the API's JSON error
--- http_config eval: $::Http
--- config
    location /api/ {
        allow 127.0.0.1; deny all;
        client_max_body_size 1k;
        cflb_api;
    }
--- request eval
"PATCH /api/pools/p1\n" . '{"enabled": false, "pad": "' . ('x' x 2000) . '"}'
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":"the body is larger than client_max_body_size","status":413}
--- error_log
client intended to send too large body
--- no_error_log
at runtime
