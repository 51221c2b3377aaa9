# vim:set ft= ts=4 sw=4 et fdm=marker:

# Load shedding (docs/affinity.md): a pool sends a share of its new
# traffic, and of its affinity traffic, to the next pool in steering
# order.  Tolerances are absolute and about 4 standard deviations of the
# sample; the hash policies are judged per client address or per session
# (each must always land in one pool) and on their share with a wider
# tolerance, since a hash may over- or under-shed a little.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);
workers(4);
master_on();
log_level('warn');

plan "no_plan";

our $Key = Cflb::key_file('k', 32);

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


# the pool ("a" or "b") each of $n sessions lands in over requests 2 to
# $each (the first one of a session is new traffic); returns the share on
# b and the number of sessions seen in both pools
sub session_split {
    my ($n, $each, $opts) = @_;

    my ($shed, $flapped) = (0, 0);

    for my $s (1 .. $n) {
        my %o = $opts->($s);
        Cflb::get(%o);
        my $t = Cflb::repeat($each - 1, %o);
        my $b = $t->{bodies};
        if (keys %$b != 1) {
            $flapped++;
        } elsif ($b->{b}) {
            $shed++;
        }
    }

    return ($shed / $n, $flapped);
}

__DATA__

=== TEST 1: default_percent=30 (random): 30 % of new traffic goes to the next pool (2000 requests, +- 0.05)
--- http_config eval
$::Backends . q{
    cflb_pool s1a { endpoint a 127.0.0.1:1990; load_shedding default_percent=30; }
    cflb_pool s1b { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools s1a s1b; steering off; }
}
--- config eval: $::Status
--- init
$Cflb::note{out} = Cflb::shares(Cflb::load('/t', 2000),
                                { a => 0.70, b => 0.30 }, 0.05);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a ok
b ok
--- no_error_log
[error]



=== TEST 2: default_policy=hash: each client address is always or never shed; about 30 % of 300 addresses are (+- 0.10)
--- http_config eval
$::Backends . q{
    cflb_pool s2a {
        endpoint a 127.0.0.1:1990;
        load_shedding default_percent=30 default_policy=hash;
    }
    cflb_pool s2b { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools s2a s2b; steering off; }
}
--- config eval: $::Status
--- init
my ($flapped, $shed) = (0, 0);
for my $i (0 .. 299) {
    my $from = sprintf "127.0.%d.%d", 10 + int($i / 200), 1 + $i % 200;
    my $t = Cflb::repeat(3, from => $from);
    if (keys %{ $t->{bodies} } != 1) { $flapped++ }
    elsif ($t->{bodies}{b}) { $shed++ }
}
my $share = $shed / 300;
$Cflb::note{out} = "addresses in both pools: $flapped\n"
    . "share shed: " . (abs($share - 0.30) <= 0.10 ? "ok" : $share) . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
addresses in both pools: 0
share shed: ok
--- no_error_log
[error]



=== TEST 3: session_percent=50 with header affinity: a shed session stays shed; half of 200 sessions are (+- 0.15)
default_percent is 0, so the first request of each session is not shed;
from the second on, the session is affinity traffic.
--- http_config eval
$::Backends . q{
    cflb_pool s3a {
        endpoint a 127.0.0.1:1990;
        load_shedding default_percent=0 session_percent=50;
    }
    cflb_pool s3b { endpoint b 127.0.0.1:1991; }
    cflb_lb www {
        pools s3a s3b;
        steering off;
        session_affinity header;
        session_affinity_headers X-Session;
    }
}
--- config eval: $::Status
--- init
my ($share, $flapped) = main::session_split(200, 5,
    sub { (headers => ["X-Session: s$_[0]"]) });
$Cflb::note{out} = "sessions in both pools: $flapped\n"
    . "share shed: " . (abs($share - 0.5) <= 0.15 ? "ok" : $share) . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sessions in both pools: 0
share shed: ok
--- no_error_log
[error]



=== TEST 4: session_percent=50 with cookie affinity: a shed cookie stays shed; half of 100 sessions are (+- 0.2)
Distinct sessions need distinct tokens, and tokens made in the same second
for the same endpoint are the same: the test signs 100 tokens for p1's
endpoint with as many expiries (see t/200-affinity.t TEST 9).
--- http_config eval
$::Backends . qq{
    cflb_affinity_key $::Key;
    cflb_pool s4a {
        endpoint a 127.0.0.1:1990;
        load_shedding default_percent=0 session_percent=50;
    }
    cflb_pool s4b { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools s4a s4b; steering off; session_affinity cookie; }
}
--- config eval: $::Status
--- init
my $real = Cflb::get()->{cookie};
my @tokens = map { Cflb::forge_token($real, $::Key, time + 1000 + 7 * $_) } 1 .. 100;
my ($share, $flapped) = main::session_split(100, 5,
    sub { (headers => ["Cookie: __cflb=$tokens[$_[0] - 1]"]) });
$Cflb::note{out} = "sessions in both pools: $flapped\n"
    . "share shed: " . (abs($share - 0.5) <= 0.2 ? "ok" : $share) . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sessions in both pools: 0
share shed: ok
--- no_error_log
[error]



=== TEST 5: default_percent sheds new traffic only: sessions pinned before shedding stay
A cookie for p1 is made, then a reload sets default_percent=100 on p1:
new clients all go to p2, the pinned session stays on p1.
--- http_config eval
$::Backends . q{
    cflb_pool s5a { endpoint a 127.0.0.1:1990; }
    cflb_pool s5b { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools s5a s5b; steering off; session_affinity cookie; }
}
--- config eval: $::Status
--- init
my $c = Cflb::get()->{cookie};
Cflb::reload_edit('cflb_pool s5a { endpoint a 127.0.0.1:1990; }',
    'cflb_pool s5a { endpoint a 127.0.0.1:1990; load_shedding default_percent=100; }');
my $new = Cflb::repeat(30);
my $pinned = Cflb::repeat(30, headers => ["Cookie: __cflb=$c"]);
$Cflb::note{out} = "new clients: " . Cflb::bodies($new) . "\n"
    . "pinned: " . Cflb::bodies($pinned) . ", set $pinned->{set}\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
new clients: b
pinned: a, set 0
--- no_error_log
[error]



=== TEST 6: every pool sheds everything: the fallback pool serves
--- http_config eval
$::Backends . q{
    cflb_pool s6a { endpoint a 127.0.0.1:1990; load_shedding default_percent=100; }
    cflb_pool s6b { endpoint b 127.0.0.1:1991; load_shedding default_percent=100; }
    cflb_pool s6c { endpoint c 127.0.0.1:1992; }
    cflb_lb www { pools s6a s6b; steering off; fallback_pool s6c; }
}
--- config eval: $::Status
--- init
$Cflb::note{t} = Cflb::load('/t', 300);
--- request
GET /status
--- response_body_filters eval
sub { CORE::join '', map { "$_ $Cflb::note{t}{$_}\n" } sort keys %{ $Cflb::note{t} } }
--- response_body
c 300
--- no_error_log
[error]



=== TEST 7: layer 4: default_percent=30 sheds 30 % of new TCP sessions (1000, +- 0.06)
--- stream_config
    server { listen 127.0.0.1:1990; return "a\n"; }
    server { listen 127.0.0.1:1991; return "b\n"; }
    cflb_zone cflb 1m;
    cflb_pool s7a { endpoint a 127.0.0.1:1990; load_shedding default_percent=30; }
    cflb_pool s7b { endpoint b 127.0.0.1:1991; }
    cflb_lb tcp { pools s7a s7b; steering off; }
--- stream_server_config
    proxy_pass tcp;
--- init
$Cflb::note{shares} = Cflb::shares(Cflb::tcp_tally(1985, 1000),
                                   { a => 0.70, b => 0.30 }, 0.06);
--- stream_request
--- response_body_filters eval
sub { $Cflb::note{shares} }
--- response_body
a ok
b ok
--- no_error_log
[error]
