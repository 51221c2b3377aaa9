# vim:set ft= ts=4 sw=4 et fdm=marker:

# The runtime API on the stream (layer 4) zone, under "stream/" of the
# API location (docs/api.md), with 2 workers: PATCH changes seen by every
# worker for new TCP sessions (the stream listener is reuseport, and its
# access log names the worker of each session), the same 4xx as the http
# paths for bad input, a 404 without a stream zone, and a stream
# override kept across a restart by the stream cflb_state_file.
#
# The endpoints are greeters run by the test: each session's first line
# is the name of the endpoint it reached.  The http zone has pools of the
# same names on other ports, so the tests also show that "stream/" and
# the plain paths reach different zones.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(2);
master_on();
log_level('notice');

$Test::Nginx::Util::ReusePort = 1;

plan "no_plan";

our $Http = <<'_EOC_';
    server { listen 127.0.0.1:1993; return 200 "h\n"; }
    cflb_zone cflb 1m;
    cflb_pool s1 {
        endpoint a 127.0.0.1:1993;
        endpoint b 127.0.0.1:1993 weight=0.5;
    }
    cflb_lb www { pools s1; }
_EOC_

our $Stream = <<'_EOC_';
stream {
    log_format who '$pid $cflb_endpoint';
    cflb_zone cflb_l4 1m;
    cflb_pool s1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991 weight=0.5;
    }
    cflb_pool s2 { endpoint c 127.0.0.1:1992; }
    cflb_lb tcp { pools s1 s2; }
    server {
        listen 127.0.0.1:1986 reuseport;
        proxy_pass tcp;
        access_log logs/s.log who;
    }
}
_EOC_

our $Config = <<'_EOC_';
    location /t { return 200 "ok"; }
    location /api/ { allow 127.0.0.1; deny all; cflb_api; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# $n new TCP sessions to the stream server, each waiting until it is
# logged: the endpoints that served them, and whether more than one
# worker did
sub sessions {
    my ($n) = @_;

    my $from = Cflb::log_count('logs/s.log');
    my $t = Cflb::tcp_sessions(1986, $n, log => 'logs/s.log');
    my @l = (Cflb::log_lines('logs/s.log'))[$from .. $from + $n - 1];
    my %pids = map { (split / /)[0] => 1 } @l;

    return CORE::join(',', sort keys %$t) . " (workers: "
        . (keys %pids > 1 ? "several" : "one") . ")";
}


# the three endpoints of the stream zone: a, b and c on 1990-1992
sub greeters {
    Cflb::greeter(1990 + $_, (qw(a b c))[$_]) for 0 .. 2;
}


# the effective state of a pool through $prefix ("/api/" or
# "/api/stream/"), as one line
sub pool_state {
    my ($prefix, $pool) = @_;

    my $p = Cflb::api(GET => "${prefix}pools/$pool")->{json};

    return "$pool enabled=" . ($p->{enabled} ? 1 : 0) . " "
        . CORE::join(' ', map { "$_->{name}=$_->{weight}/"
                                . ($_->{enabled} ? 'on' : 'off') . '@'
                                . $_->{address} }
                          @{ $p->{endpoints} });
}

__DATA__

=== TEST 1: GET under stream/: the stream zone's objects, not the http ones
--- http_config eval: $::Http
--- main_config eval: $::Stream
--- config eval: $::Config
--- init
my $out = '';
my $lbs = Cflb::api(GET => '/api/stream/lbs');
$out .= "lbs: $lbs->{status} " . CORE::join(',', map {
    "$_->{name}<" . CORE::join(' ', map { $_->{name} } @{ $_->{pools} })
    . '>' } @{ $lbs->{json} }) . "\n";
my $pools = Cflb::api(GET => '/api/stream/pools');
$out .= "pools: $pools->{status} "
    . CORE::join(',', map { $_->{name} } @{ $pools->{json} }) . "\n";
$out .= "stream " . main::pool_state('/api/stream/', 's1') . "\n";
$out .= "http " . main::pool_state('/api/', 's1') . "\n";
my $e = Cflb::api(GET => '/api/stream/pools/s2/endpoints/c');
$out .= "endpoint: $e->{status} $e->{json}{name} $e->{json}{address}\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
lbs: 200 tcp<s1 s2>
pools: 200 s1,s2
stream s1 enabled=1 a=1/on@127.0.0.1:1990 b=0.5/on@127.0.0.1:1991
http s1 enabled=1 a=1/on@127.0.0.1:1993 b=0.5/on@127.0.0.1:1993
endpoint: 200 c 127.0.0.1:1992
--- no_error_log
[error]
[warn]



=== TEST 2: a stream endpoint disabled: new sessions avoid it on every worker; enabled, it is back; a weight applies
Disabling takes effect for the next session (no affinity at layer 4).
With a at weight 0 every session goes to b.  40 sessions with a and b
both usable reach both unless one is picked with probability 1/3 or
less 40 times in a row (below 1e-7).
--- http_config eval: $::Http
--- main_config eval: $::Stream
--- config eval: $::Config
--- init
main::greeters();
my $out = eval {
    my $o = "before: " . main::sessions(40) . "\n";
    my $r = Cflb::api(PATCH => '/api/stream/pools/s1/endpoints/a',
                      '{"enabled": false}');
    $o .= "patch: $r->{status} enabled="
        . ($r->{json}{enabled} ? 'true' : 'false') . " drain: "
        . ($r->{json}{drain}{since} ? "since set" : "no since")
        . " duration $r->{json}{drain}{duration}"
        . " remaining $r->{json}{drain}{remaining}\n";
    $o .= "disabled: " . main::sessions(40) . "\n";
    $o .= "http untouched: " . main::pool_state('/api/', 's1') . "\n";
    Cflb::api(PATCH => '/api/stream/pools/s1/endpoints/a',
              '{"enabled": true}');
    $o .= "enabled: " . main::sessions(40) . "\n";
    $r = Cflb::api(PATCH => '/api/stream/pools/s1/endpoints/a',
                   '{"weight": 0}');
    $o .= "weight: $r->{status} $r->{json}{weight}\n";
    $o .= "weight 0: " . main::sessions(40) . "\n";
    $o;
};
$Cflb::note{out} = $out // $@;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: a,b (workers: several)
patch: 200 enabled=false drain: since set duration 0 remaining 0
disabled: b (workers: several)
http untouched: s1 enabled=1 a=1/on@127.0.0.1:1993 b=0.5/on@127.0.0.1:1993
enabled: a,b (workers: several)
weight: 200 0
weight 0: b (workers: several)
--- error_log
cflb: pool "s1" endpoint "a" disabled, draining at runtime
cflb: pool "s1" endpoint "a" weight 0.00 at runtime
--- no_error_log
[error]



=== TEST 3: a stream pool disabled: the next pool serves, on every worker
--- http_config eval: $::Http
--- main_config eval: $::Stream
--- config eval: $::Config
--- init
main::greeters();
my $out = eval {
    my $o = "before: " . main::sessions(30) . "\n";
    my $r = Cflb::api(PATCH => '/api/stream/pools/s1', '{"enabled":false}');
    $o .= "patch: $r->{status} enabled="
        . ($r->{json}{enabled} ? 'true' : 'false') . "\n";
    $o .= "disabled: " . main::sessions(30) . "\n";
    Cflb::api(PATCH => '/api/stream/pools/s1', '{"enabled":true}');
    $o .= "enabled: " . main::sessions(30) . "\n";
    $o;
};
$Cflb::note{out} = $out // $@;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: a,b (workers: several)
patch: 200 enabled=false
disabled: c (workers: several)
enabled: a,b (workers: several)
--- error_log
cflb: pool "s1" disabled at runtime
--- no_error_log
[error]



=== TEST 4: bad input under stream/ gets the answer the same input gets on the http paths, and changes nothing
The http zone has a pool s1 with endpoints a and b too, so each bad
request is sent to both; the answers (status, Allow, JSON body) must be
identical.
--- http_config eval: $::Http
--- main_config eval: $::Stream
--- config eval: $::Config
--- init
my @bad = (
    [GET => 'pools/nope'],
    [GET => 'pools/s1/endpoints/nope'],
    [GET => 'pools/s1/endpoints'],
    [GET => 'pools/s1/'],
    [GET => 'lbs/x'],
    [GET => 'pools/s1/endpoints/a/x'],
    [PATCH => 'pools/s1', '{"weight": 0.5}'],
    [PATCH => 'pools/s1/endpoints/a', '{"enabled": '],
    [PATCH => 'pools/s1/endpoints/a', '{"enabled": "no"}'],
    [PATCH => 'pools/s1/endpoints/a', '{"weight": 1.5}'],
    [PATCH => 'pools/s1/endpoints/a', '{"weight": 0.333}'],
    [PATCH => 'pools/s1/endpoints/a', '{"color": "red"}'],
    [PATCH => 'pools/s1/endpoints/a', '{}'],
    [PATCH => 'pools/s1/endpoints/a', '[]'],
    [PATCH => 'pools', '{"enabled": false}'],
    [POST => 'pools/s1', '{"enabled": false}'],
    [DELETE => 'pools/s1/endpoints/a'],
);
my $out = '';
my $before = main::pool_state('/api/stream/', 's1');
for my $b (@bad) {
    my ($m, $path, $body) = @$b;
    my $s = Cflb::api($m, "/api/stream/$path", $body);
    my $h = Cflb::api($m, "/api/$path", $body);
    my $same = ($s->{status} eq $h->{status} && $s->{body} eq $h->{body}
                && ($s->{allow} // '') eq ($h->{allow} // ''));
    $out .= "$m $path: $s->{status} " . ($same ? "same" : "DIFFERENT:"
        . " stream $s->{body} http $h->{body}") . "\n";
}
$out .= "stream state unchanged: "
    . (main::pool_state('/api/stream/', 's1') eq $before ? "yes" : "no")
    . "\n";
my $n = Cflb::api(GET => '/api/stream');
$out .= "stream alone: $n->{status} $n->{json}{error}\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
GET pools/nope: 404 same
GET pools/s1/endpoints/nope: 404 same
GET pools/s1/endpoints: 404 same
GET pools/s1/: 404 same
GET lbs/x: 404 same
GET pools/s1/endpoints/a/x: 404 same
PATCH pools/s1: 400 same
PATCH pools/s1/endpoints/a: 400 same
PATCH pools/s1/endpoints/a: 400 same
PATCH pools/s1/endpoints/a: 400 same
PATCH pools/s1/endpoints/a: 400 same
PATCH pools/s1/endpoints/a: 400 same
PATCH pools/s1/endpoints/a: 400 same
PATCH pools/s1/endpoints/a: 400 same
PATCH pools: 405 same
POST pools/s1: 405 same
DELETE pools/s1/endpoints/a: 405 same
stream state unchanged: yes
stream alone: 404 unknown path
--- no_error_log
[error]



=== TEST 5: no stream cflb zone: stream/ answers 404 in JSON, the http paths still work
--- http_config eval: $::Http
--- config eval: $::Config
--- init
my $out = '';
for my $path ('stream/lbs', 'stream/pools', 'stream/pools/s1/endpoints/a') {
    my $r = Cflb::api(GET => "/api/$path");
    $out .= "$path: $r->{status} $r->{json}{error} $r->{json}{status}\n";
}
my $p = Cflb::api(PATCH => '/api/stream/pools/s1', '{"enabled":false}');
$out .= "patch: $p->{status} $p->{json}{error}\n";
$out .= "http: " . main::pool_state('/api/', 's1') . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
stream/lbs: 404 no stream cflb zone 404
stream/pools: 404 no stream cflb zone 404
stream/pools/s1/endpoints/a: 404 no stream cflb zone 404
patch: 404 no stream cflb zone
http: s1 enabled=1 a=1/on@127.0.0.1:1993 b=0.5/on@127.0.0.1:1993
--- no_error_log
[error]



=== TEST 6: a stream override outlives a restart through the stream cflb_state_file
The node (Cflb::instance) runs the API on 1989 and the stream server on
1988; the stream zone keeps its own file, the http zone has none.
--- config
    location /t { return 200 "ok"; }
--- init
Cflb::greeter(1990, 'a');
Cflb::greeter(1991, 'b');
my $http = <<'_EOC_';
    server {
        listen 127.0.0.1:1989;
        location /api/ { allow 127.0.0.1; deny all; cflb_api; }
    }
_EOC_
my $stream = <<'_EOC_';
    cflb_zone cflb_l4 1m;
    cflb_state_file logs/stream-state.json;
    cflb_pool s1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991 weight=0.5;
    }
    cflb_lb tcp { pools s1; }
    server { listen 127.0.0.1:1988; proxy_pass tcp; }
_EOC_
my $out = eval {
    my $dir = Cflb::instance(1989, $http, 2, undef, $stream);
    my $r = Cflb::api(PATCH => '/api/stream/pools/s1/endpoints/a',
                      '{"enabled":false}', port => 1989);
    Cflb::api(PATCH => '/api/stream/pools/s1/endpoints/b',
              '{"weight":0.3}', port => 1989);
    my $o = "patch: $r->{status}\n";
    Cflb::stop_instances();
    Cflb::instance(1989, $http, 2, $dir, $stream);
    my $p = Cflb::api(GET => '/api/stream/pools/s1', undef,
                      port => 1989)->{json};
    $o .= "restarted: " . CORE::join(' ', map {
        "$_->{name}=$_->{weight}/" . ($_->{enabled} ? 'on' : 'off') }
        @{ $p->{endpoints} }) . "\n";
    my $t = Cflb::tcp_sessions(1988, 20);
    $o .= "sessions: " . CORE::join(',', sort keys %$t) . "\n";
    open my $fh, '<', "$dir/logs/stream-state.json"
        or die "no state file: $!\n";
    my $st = JSON::PP::decode_json(do { local $/; <$fh> });
    $o .= "file: " . CORE::join(',', map { "$_->{pool}/$_->{name}" }
                                     @{ $st->{endpoints} }) . "\n";
    $o .= "node errors: " . (Cflb::instance_errors() || "none\n");
    $o;
};
$Cflb::note{out} = $out // $@;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
patch: 200
restarted: a=1/off b=0.3/on
sessions: b
file: s1/a,s1/b
node errors: none
--- no_error_log
[error]



=== TEST 7: one cflb_state_file for both zones is refused
Each zone rewrites its file whole, so the two would overwrite each
other's overrides.
--- http_config eval: $::Http . "    cflb_state_file logs/state.json;\n"
--- main_config
stream {
    cflb_zone cflb_l4 1m;
    cflb_state_file logs/state.json;
    cflb_pool s1 { endpoint a 127.0.0.1:1990; }
    cflb_lb tcp { pools s1; }
}
--- config eval: $::Config
--- must_die
--- error_log eval
qr/cflb_state_file ".*logs\/state.json" is used in both http\{\} and stream\{\}, each needs its own/
