# vim:set ft= ts=4 sw=4 et fdm=marker:

# Zero-downtime failover, failover across pools and endpoint drain
# (docs/affinity.md).  A refusing endpoint is a port nothing listens on
# (1997, 1998), or a backend whose server block a reload removes: the
# cflb configuration stays the same, so the zone and its key survive and
# a session pinned before the reload is still valid after it.

use lib 't/lib';
use Test::Nginx::Socket;
use Cwd qw(abs_path);
use Cflb;

repeat_each(1);
workers(4);
master_on();
log_level('warn');

plan "no_plan";

our $Cert = abs_path('t/cert');

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_zone cflb 1m;
_EOC_

our $Status = <<'_EOC_';
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; add_header X-Pid $pid always; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# A session pinned to b, then a reload that takes b's backend away (its
# port refuses), then what the pinned requests get.  Returns lines.
sub pinned_to_dead_b {
    my $out = '';

    my $cb = Cflb::pin('b')->{cookie};
    my $t = Cflb::repeat(5, headers => ["Cookie: __cflb=$cb"]);
    $out .= "before: " . Cflb::bodies($t) . ", set $t->{set}\n";

    Cflb::reload_edit('server { listen 127.0.0.1:1991; return 200 "b\n"; }',
                      '');

    $t = Cflb::repeat(10, headers => ["Cookie: __cflb=$cb"]);
    $out .= "b refusing: " . Cflb::bodies($t) . ", set $t->{set}\n";

    $Cflb::note{cb} = $cb;
    $Cflb::note{tokens} = [keys %{ $t->{tokens} }];

    # new clients are not pinned: failover serves them, and their cookies
    # name the endpoint that served
    $t = Cflb::repeat(60);
    $out .= "new clients: " . Cflb::bodies($t) . "\n";
    my %led;
    for my $c (keys %{ $t->{tokens} }) {
        $led{Cflb::bodies(Cflb::repeat(1, headers => ["Cookie: __cflb=$c"]))}++;
    }
    $out .= "their cookies lead to: " . CORE::join(',', sort keys %led) . "\n";

    return $out;
}

__DATA__

=== TEST 1: a refusing endpoint, no monitor: 2000 requests, no client error
--- http_config eval
$::Backends . q{
    cflb_pool z1 {
        endpoint a 127.0.0.1:1990;
        endpoint dead 127.0.0.1:1998;
    }
    cflb_lb www { pools z1; }
}
--- config eval: $::Status
--- init
$Cflb::note{t} = Cflb::load('/t', 2000);
--- request
GET /status
--- response_body_filters eval
sub {
    my $p = JSON::PP::decode_json(shift)->{pools}[0];
    my %e = map { $_->{name} => $_ } @{ $p->{endpoints} };
    "answers: " . CORE::join(',', map { "$_=$Cflb::note{t}{$_}" }
                                  sort keys %{ $Cflb::note{t} }) . "\n"
    . "dead was tried and failed: "
    . ($e{dead}{fails} > 100 ? "yes" : "no ($e{dead}{fails})") . "\n";
}
--- response_body
answers: a=2000
dead was tried and failed: yes



=== TEST 2: refused and TLS-handshake failures are failed over too, without client error
Nothing listens on 127.0.0.1:1998 (tests stay on loopback, so a truly
unreachable network is not used); "plain" answers HTTP where TLS is
expected, so the handshake fails.
--- http_config eval
qq{
    server {
        listen 127.0.0.1:1995 ssl;
        ssl_certificate $::Cert/test.crt;
        ssl_certificate_key $::Cert/test.key;
        return 200 "tls\\n";
    }
    server { listen 127.0.0.1:1990; return 200 "a\\n"; }
    cflb_zone cflb 1m;
    cflb_pool z2u {
        endpoint a 127.0.0.1:1990;
        endpoint unreachable 127.0.0.1:1998;
    }
    cflb_pool z2t {
        endpoint tls 127.0.0.1:1995;
        endpoint plain 127.0.0.1:1990;
    }
    cflb_lb unr { pools z2u; }
    cflb_lb tls { pools z2t; }
}
--- config
    location = /status { cflb_status; }
    location /u { proxy_pass http://unr; proxy_connect_timeout 1s; }
    location /s { proxy_pass https://tls; proxy_ssl_verify off; }
--- init
my $u = Cflb::load('/u', 400);
my $s = Cflb::load('/s', 400);
$Cflb::note{out} = "unreachable: " . CORE::join(',', map { "$_=$u->{$_}" } sort keys %$u) . "\n"
    . "tls handshake: " . CORE::join(',', map { "$_=$s->{$_}" } sort keys %$s) . "\n";
--- request
GET /status
--- response_body_filters eval
sub {
    my %e = map { my $p = $_; map { ("$p->{name}/$_->{name}" => $_) } @{ $p->{endpoints} } }
            @{ JSON::PP::decode_json(shift)->{pools} };
    $Cflb::note{out}
    . "both failing endpoints were tried: "
    . ($e{'z2u/unreachable'}{fails} > 50 && $e{'z2t/plain'}{fails} > 50
       ? "yes" : "no") . "\n";
}
--- response_body
unreachable: a=400
tls handshake: tls=400
both failing endpoints were tried: yes



=== TEST 3: never more than one retry: two refusing endpoints of three fail a third of the requests
The first pick is dead 2/3 of the time, and the single retry goes to the
other dead one half of those times: 1/3 of 900 requests see 502
(tolerance 0.07, about 4.5 standard deviations).  Unlimited retries would
make it 0.
--- http_config eval
$::Backends . q{
    cflb_pool z2 {
        endpoint a 127.0.0.1:1990;
        endpoint d1 127.0.0.1:1997;
        endpoint d2 127.0.0.1:1998;
    }
    cflb_lb www { pools z2; }
}
--- config eval: $::Status
--- init
my $t = Cflb::load('/t', 900);
$Cflb::note{out} = Cflb::shares($t, { a => 0.6667, 'status 502' => 0.3333 },
                                0.07);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a ok
status 502 ok



=== TEST 4: zero_downtime_failover none: the pinned session's error reaches the client
--- http_config eval
$::Backends . q{
    cflb_pool z3 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www { pools z3; session_affinity cookie; }
}
--- config eval: $::Status
--- init
$Cflb::note{out} = main::pinned_to_dead_b();
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: b, set 0
b refusing: status 502, set 0
new clients: a
their cookies lead to: a
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 5: zero_downtime_failover temporary: served elsewhere, the cookie stays; back when b is
--- http_config eval
$::Backends . q{
    cflb_pool z4 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www {
        pools z4;
        session_affinity cookie;
        zero_downtime_failover temporary;
    }
}
--- config eval: $::Status
--- init
my $out = main::pinned_to_dead_b();
# b's backend back: the session (its cookie never changed) returns to b
Cflb::reload_edit('server { listen 127.0.0.1:1990;',
                  'server { listen 127.0.0.1:1991; return 200 "b\n"; }'
                  . "\n    server { listen 127.0.0.1:1990;");
my $t = Cflb::repeat(10, headers => ["Cookie: __cflb=$Cflb::note{cb}"]);
$out .= "b back: " . Cflb::bodies($t) . ", set $t->{set}\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: b, set 0
b refusing: a, set 0
new clients: a
their cookies lead to: a
b back: b, set 0
--- no_error_log
[alert]
[crit]



=== TEST 6: zero_downtime_failover sticky: served elsewhere, and the session moves there
--- http_config eval
$::Backends . q{
    cflb_pool z5 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www {
        pools z5;
        session_affinity cookie;
        zero_downtime_failover sticky;
    }
}
--- config eval: $::Status
--- init
my $out = main::pinned_to_dead_b();
my %led;
for my $c (@{ $Cflb::note{tokens} }) {
    my $t = Cflb::repeat(10, headers => ["Cookie: __cflb=$c"]);
    $led{Cflb::bodies($t) . ", set $t->{set}"} = 1;
}
$out .= "with the new cookies: " . CORE::join(' / ', sort keys %led) . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: b, set 0
b refusing: a, set 10
new clients: a
their cookies lead to: a
with the new cookies: a, set 0
--- no_error_log
[alert]
[crit]



=== TEST 7: failover_across_pools on: a pool whose only endpoint refuses, no monitor: 1000 requests, no error
--- http_config eval
$::Backends . q{
    cflb_pool z6a { endpoint dead 127.0.0.1:1998; }
    cflb_pool z6b { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools z6a z6b; steering off; failover_across_pools on; }
}
--- config eval: $::Status
--- init
$Cflb::note{t} = Cflb::load('/t', 1000);
--- request
GET /status
--- response_body_filters eval
sub { CORE::join '', map { "$_ $Cflb::note{t}{$_}\n" } sort keys %{ $Cflb::note{t} } }
--- response_body
a 1000



=== TEST 8: failover_across_pools off (the default): the error reaches the client
--- http_config eval
$::Backends . q{
    cflb_pool z7a { endpoint dead 127.0.0.1:1998; }
    cflb_pool z7b { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools z7a z7b; steering off; }
}
--- config eval: $::Status
--- init
$Cflb::note{t} = Cflb::load('/t', 200);
--- request
GET /status
--- response_body_filters eval
sub { CORE::join '', map { "$_ $Cflb::note{t}{$_}\n" } sort keys %{ $Cflb::note{t} } }
--- response_body
status 502 200
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 9: drain: a disabled endpoint keeps its sessions for drain_duration (5 s), takes no new ones; a later reload does not restart the clock
t0 is taken before the reload that disables b, t1 after it: the drain
ends between t0 + 5 and t1 + 5.  Pinned requests are checked to stay on b
until t0 + 4.5 (a second, unchanged reload at about t0 + 2.5 included),
and to have moved, with a new cookie, at t1 + 6.  Had the second reload
restarted the drain, it would last until t0 + 7.5 at least.
--- http_config eval
$::Backends . q{
    cflb_pool z8 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992;
    }
    cflb_lb www { pools z8; session_affinity cookie; drain_duration 5s; }
}
--- config eval: $::Status
--- init
my $out = '';
my $cb = Cflb::pin('b')->{cookie};
my $t0 = Time::HiRes::time();
Cflb::reload_edit('endpoint b 127.0.0.1:1991;',
                  'endpoint b 127.0.0.1:1991 disabled;');
my $t1 = Time::HiRes::time();
my $t = Cflb::repeat(10, headers => ["Cookie: __cflb=$cb"]);
$out .= "pinned, right after: " . Cflb::bodies($t) . ", set $t->{set}\n";
$t = Cflb::repeat(60);
my $bad = grep { Cflb::get(headers => ["Cookie: __cflb=$_"])->{body} eq 'b' }
               keys %{ $t->{tokens} };
$out .= "new clients on b: " . ($t->{bodies}{b} || 0)
    . ", their cookies naming b: $bad\n";
Time::HiRes::sleep($t0 + 2.5 - Time::HiRes::time())
    if Time::HiRes::time() < $t0 + 2.5;
Cflb::reload_edit();
if (Time::HiRes::time() < $t0 + 4.5) {
    $t = Cflb::repeat(5, headers => ["Cookie: __cflb=$cb"]);
    $out .= "pinned, after another reload: " . Cflb::bodies($t)
        . ", set $t->{set}\n";
} else {
    $out .= "too slow to check before t0 + 4.5\n";
}
Time::HiRes::sleep($t1 + 6 - Time::HiRes::time());
$t = Cflb::repeat(10, headers => ["Cookie: __cflb=$cb"]);
$out .= "pinned, after the drain: on b " . ($t->{bodies}{b} || 0)
    . ", new cookies $t->{set}\n";
my ($new) = keys %{ $t->{tokens} };
$t = Cflb::repeat(10, headers => ["Cookie: __cflb=" . ($new // 'none')]);
$out .= "the new cookie sticks: "
    . (keys %{ $t->{bodies} } == 1 && !$t->{bodies}{b} ? "yes" : "no") . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
pinned, right after: b, set 0
new clients on b: 0, their cookies naming b: 0
pinned, after another reload: b, set 0
pinned, after the drain: on b 0, new cookies 10
the new cookie sticks: yes
--- no_error_log
[error]



=== TEST 10: drain_duration 0 (the default): disabling moves pinned sessions at once
--- http_config eval
$::Backends . q{
    cflb_pool z9 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www { pools z9; session_affinity cookie; }
}
--- config eval: $::Status
--- init
my $cb = Cflb::pin('b')->{cookie};
Cflb::reload_edit('endpoint b 127.0.0.1:1991;',
                  'endpoint b 127.0.0.1:1991 disabled;');
my $t = Cflb::repeat(10, headers => ["Cookie: __cflb=$cb"]);
$Cflb::note{out} = "pinned, right after: " . Cflb::bodies($t)
    . ", set $t->{set}\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
pinned, right after: a, set 10
--- no_error_log
[error]



=== TEST 11: a disabled pool ends its sessions: the next request is steered afresh
--- http_config eval
$::Backends . q{
    cflb_pool z11a { endpoint a 127.0.0.1:1990; }
    cflb_pool z11b { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools z11a z11b; steering off; session_affinity cookie; }
}
--- config eval: $::Status
--- init
my $c = Cflb::get()->{cookie};
my $t = Cflb::repeat(5, headers => ["Cookie: __cflb=$c"]);
my $out = "before: " . Cflb::bodies($t) . ", set $t->{set}\n";
Cflb::reload_edit('cflb_pool z11a { endpoint a 127.0.0.1:1990; }',
                  'cflb_pool z11a { endpoint a 127.0.0.1:1990; enabled off; }');
$t = Cflb::repeat(5, headers => ["Cookie: __cflb=$c"]);
$out .= "pool disabled: " . Cflb::bodies($t) . ", set $t->{set}\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: a, set 0
pool disabled: b, set 5
--- no_error_log
[error]



=== TEST 12: header sessions with zero_downtime_failover temporary stay where they were
The sessions on b are served by a while b refuses, and go back to b when
it is back: the failover did not move them.
--- http_config eval
$::Backends . q{
    cflb_pool z12 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www {
        pools z12;
        session_affinity header;
        session_affinity_headers X-Session;
        zero_downtime_failover temporary;
    }
}
--- config eval: $::Status
--- init
my @onb = grep { Cflb::get(headers => ["X-Session: v$_"])->{body} eq 'b' }
               1 .. 30;
my $tally = sub {
    my %got;
    for my $v (@onb) {
        $got{Cflb::bodies(Cflb::repeat(3, headers => ["X-Session: v$v"]))}++;
    }
    CORE::join ',', map { $_ eq 'a' || $_ eq 'b' ? $_ : "$_ x $got{$_}" }
                        sort keys %got;
};
my $out = "sessions on b: " . (@onb >= 3 ? "some" : scalar @onb) . "\n";
Cflb::reload_edit('server { listen 127.0.0.1:1991; return 200 "b\n"; }', '');
$out .= "b refusing: " . $tally->() . "\n";
Cflb::reload_edit('server { listen 127.0.0.1:1990;',
                  'server { listen 127.0.0.1:1991; return 200 "b\n"; }'
                  . "\n    server { listen 127.0.0.1:1990;");
$out .= "b back: " . $tally->() . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sessions on b: some
b refusing: a
b back: b
--- no_error_log
[alert]
[crit]
