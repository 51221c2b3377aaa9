# vim:set ft= ts=4 sw=4 et fdm=marker:

# The shared in-flight counters: every increment has its decrement on every
# exit path (success, upstream error, retry, timeout, client abort), a
# worker killed mid-request leaves nothing behind, and totals are counted.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(4);
master_on();

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a"; }
    server { listen 127.0.0.1:1991; return 200 "b"; }
    cflb_zone cflb 1m;
_EOC_

our $Status = <<'_EOC_';
    location = /status { cflb_status; }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: retries past a refusing endpoint: no client error, counters back to 0
1998 has no listener: every attempt there fails and proxy_next_upstream
moves on to b.
--- http_config eval
$::Backends . q{
    cflb_pool c1 {
        endpoint a 127.0.0.1:1990;
        endpoint dead 127.0.0.1:1998;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www { pools c1; }
}
--- config eval
$::Status . q{ location /t { proxy_pass http://www; } }
--- init
my $t = Cflb::load('/t', 600);
die "cflb: client saw errors: @{[ %$t ]}\n" if grep { !/^[ab]$/ } keys %$t;
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my $p = $st->{pools}[0];
    my %e = map { $_->{name} => $_ } @{ $p->{endpoints} };
    my $served = $e{a}{requests} + $e{b}{requests};
    CORE::join '', Cflb::active_lines(JSON::PP::encode_json($st)),
        "served $served\n",
        "dead failed every time: ",
        ($e{dead}{fails} == $e{dead}{requests} && $e{dead}{fails} > 100
         ? "yes" : "no ($e{dead}{fails}/$e{dead}{requests})"), "\n",
        "pool fails: ", ($p->{fails} == $e{dead}{fails} ? "match" : "differ"),
        "\n";
}
--- response_body
c1 active=0
c1/a active=0
c1/dead active=0
c1/b active=0
served 600
dead failed every time: yes
pool fails: match
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 2: upstream timeouts and client aborts give every count back
Eight requests wait on an endpoint that never answers: four time out
(proxy_read_timeout 3s, the client sees 504) and four are abandoned by
their clients after 1.5 s.
--- http_config eval
$::Backends . q{
    cflb_pool c2 { endpoint hole 127.0.0.1:1999; }
    cflb_lb www { pools c2; }
}
--- config eval
$::Status . q{
    location /slow { proxy_pass http://www; proxy_read_timeout 3s; }
    location /abort { proxy_pass http://www; proxy_read_timeout 30s; }
}
--- init
Cflb::blackhole(1999, 30);
Cflb::hold('/slow', 4, 10);
Cflb::hold('/abort', 4, 1.5, undef, 1);
Cflb::wait_until(sub { Cflb::active_total() == 8 }, 5)
    or die "cflb: 8 requests did not get in flight\n";
Cflb::wait_until(sub { Cflb::active_total() == 0 }, 10);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json($_[0]);
      Cflb::active_lines($_[0])
      . "requests $st->{pools}[0]{requests}\n" }
--- response_body
c2 active=0
c2/hole active=0
requests 8
--- error_log
upstream timed out



=== TEST 3: a worker killed with requests in flight leaves no count behind
--- http_config eval
$::Backends . q{
    cflb_pool c3 { endpoint hole 127.0.0.1:1999; }
    cflb_lb www { pools c3; }
}
--- config eval
$::Status . q{ location /hold { proxy_pass http://www; proxy_read_timeout 30s; } }
--- init
Cflb::blackhole(1999, 30);
Cflb::hold('/hold', 6, 30);
$Cflb::note{before} = Cflb::active_total();
kill 'KILL', Cflb::worker_pids();
# the master starts new workers; wait until one answers
Cflb::wait_until(sub { Cflb::active_total() >= 0 }, 10);
sleep 0.5;
--- request
GET /status
--- response_body_filters eval
sub { "before: $Cflb::note{before}\n" . Cflb::active_lines(shift) }
--- response_body
before: 6
c3 active=0
c3/hole active=0
--- error_log
cflb: taking back counters of exited worker



=== TEST 4: requests and failures are totalled per endpoint and per pool
--- http_config eval
$::Backends . q{
    cflb_pool c4 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools c4; }
}
--- config eval
$::Status . q{ location /t { proxy_pass http://www; } }
--- init
Cflb::load('/t', 123);
--- request
GET /status
--- response_body_filters eval
sub { my $p = JSON::PP::decode_json(shift)->{pools}[0];
      "$p->{requests} $p->{fails} $p->{endpoints}[0]{requests}\n" }
--- response_body
123 0 123
--- no_error_log
[error]
