# vim:set ft= ts=4 sw=4 et fdm=marker:

# least_outstanding_requests and least_connections through the least-load
# trees in the zone (docs/performance.md, "Large pools"), against real
# nginx with 4 workers: the product's distribution P = w/(n+1) / sum at 4
# and at 1,000 endpoints with requests held open, and what keeps the
# trees exact: a reload that adds endpoints, workers killed with requests
# in flight, weights and enabled changed at run time, health checks,
# passive health (out of steering, and back when fail_timeout ends), and
# traffic steering over pools.  Requests are measured one at a time, so
# the only loads are the held ones; tolerances are 4 standard deviations
# of the share measured, and a chi-square over 1,000 endpoints stays
# below df + 6 sqrt(2 df).

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(4);
master_on();

plan "no_plan";

# 1993 holds /hold (its upstream never answers) and answers the rest
our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a"; }
    server { listen 127.0.0.1:1991; return 200 "b"; }
    server { listen 127.0.0.1:1992; return 200 "c"; }
    server {
        listen 127.0.0.1:1993;
        location /hold { proxy_pass http://127.0.0.1:1999; proxy_read_timeout 60s; }
        location / { return 200 "h"; }
    }
_EOC_

our $Config = <<'_EOC_';
    location = /status { cflb_status; }
    location /api/ { allow 127.0.0.1; deny all; cflb_api; }
    location /hold { proxy_pass http://www; proxy_read_timeout 60s; }
    location /t { proxy_pass http://www; }
_EOC_

no_shuffle();
no_long_string();
run_tests();


# requests per "pool/endpoint" (and pool) since %$before
sub since {
    my ($before) = @_;

    my %now = Cflb::requests_by_name();
    $now{$_} -= $before->{$_} // 0 for keys %now;

    return \%now;
}


# "name ok" or "name got G expected E" for each name, 4 sigma of n
sub check_shares {
    my ($got, $expect, $n) = @_;

    my $out = '';

    for my $name (sort keys %$expect) {
        my $p = $expect->{$name};
        my $share = ($got->{$name} // 0) / $n;
        my $tol = 4 * sqrt($p * (1 - $p) / $n) + 0.002;

        $out .= abs($share - $p) <= $tol
                ? "$name ok\n"
                : sprintf("%s got %.4f expected %.4f +- %.4f\n",
                          $name, $share, $p, $tol);
    }

    return $out;
}


# Pearson's chi-square of the counts of @$names against shares %$p
sub chi_square {
    my ($got, $p, $names, $n) = @_;

    my $chi = 0;

    for my $name (@$names) {
        my $e = $p->{$name} * $n;
        $chi += (($got->{$name} // 0) - $e) ** 2 / $e;
    }

    my $df = @$names - 1;

    return $chi <= $df + 6 * sqrt(2 * $df)
           ? "chi-square ok\n"
           : sprintf("chi-square %.0f over %d\n", $chi,
                     $df + 6 * sqrt(2 * $df));
}


# expected shares w/(n+1) over the pool's endpoints, with the active
# counts the status document shows now
sub expected {
    my ($pool, $weights) = @_;

    my %active = Cflb::active_by_name();
    my (%p, $sum);

    for my $e (keys %$weights) {
        $p{"$pool/$e"} = $weights->{$e} / (($active{"$pool/$e"} // 0) + 1);
        $sum += $p{"$pool/$e"};
    }

    $p{$_} /= $sum for keys %p;

    return \%p;
}


# a pool of 1,000 endpoints: e0..e7 on the holding backend, weight 1, and
# e8..e999 on the others with the weights given in turn
sub big_pool {
    my ($name, @w) = @_;

    my $conf = "    cflb_pool $name {\n";

    for my $i (0 .. 999) {
        if ($i < 8) {
            $conf .= "        endpoint e$i 127.0.0.1:1993;\n";
        } else {
            $conf .= sprintf("        endpoint e%d 127.0.0.1:%d weight=%s;\n",
                             $i, 1990 + $i % 3, $w[$i % @w]);
        }
    }

    return $conf . "        endpoint_steering least_outstanding_requests;\n"
           . "    }\n";
}


# the upstream of /hold: a port that accepts and never answers, once it
# does accept (a port still held would make every /hold fail at once)
sub blackhole {
    Cflb::blackhole(1999, 300);

    Cflb::wait_until(sub {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => 1999,
                              Timeout => 1) ? 1 : 0 }, 10)
        or die "the black hole on 1999 does not accept\n";
}


# hold requests through the pool until at least $n of them stay in
# flight (those that land on a backend that answers end at once), ten at
# a time: the status of 1,000 endpoints is slow to read
sub hold_some {
    my ($n, $rounds) = @_;

    for (1 .. $rounds) {
        last if Cflb::active_total() >= $n;

        my $before = main::total_requests();
        Cflb::hold('/hold', 10, 300, undef, 1);
        Cflb::wait_until(sub { main::total_requests() >= $before + 10 }, 30);
    }

    return Cflb::active_total();
}


# Cflb::hold_on with held requests that live 300 s, not 30: under load a
# measurement may take longer than that
sub hold_on {
    my ($name, $n) = @_;

    for (1 .. 10 * $n) {
        my %active = Cflb::active_by_name();
        last if ($active{$name} || 0) >= $n;

        my %before = Cflb::requests_by_name();
        Cflb::hold('/hold', 1, 300, undef, 1);
        Cflb::wait_until(sub { my %r = Cflb::requests_by_name();
                               grep { ($r{$_} || 0) > ($before{$_} || 0) }
                                    keys %r }, 5);
    }

    my %active = Cflb::active_by_name();
    die "could not hold $n on $name\n" unless $active{$name} == $n;
}


sub total_requests {
    my $st = Cflb::status();
    my $n = 0;

    $n += $_->{requests} for @{ $st->{pools} };

    return $n;
}

__DATA__

=== TEST 1: 4 endpoints: weights 1/.5/.25/.25, 3 held on a -> .2/.4/.2/.2
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool p4 {
        endpoint a 127.0.0.1:1993;
        endpoint b 127.0.0.1:1990 weight=0.5;
        endpoint c 127.0.0.1:1991 weight=0.25;
        endpoint d 127.0.0.1:1992 weight=0.25;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www { pools p4; }
}
--- config eval: $::Config
--- init
main::blackhole();
main::hold_on('p4/a', 3);
my $p = main::expected('p4', { a => 1, b => 0.5, c => 0.25, d => 0.25 });
my %before = Cflb::requests_by_name();
Cflb::load('/t', 8000);
$Cflb::note{out} = sprintf("expected a %.2f b %.2f\n", $p->{'p4/a'},
                           $p->{'p4/b'})
    . main::check_shares(main::since(\%before), $p, 8000);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
expected a 0.20 b 0.40
p4/a ok
p4/b ok
p4/c ok
p4/d ok



=== TEST 2: 1,000 endpoints, weights 1/.5/.25/.1 in turn, nothing held: shares by weight
--- http_config eval
$::Backends . "    cflb_zone cflb 1m;\n"
. main::big_pool('big', 1, 0.5, 0.25, 0.1)
. "    cflb_lb www { pools big; }\n"
--- config eval: $::Config
--- init
my @names = map { "big/e$_" } 0 .. 999;
my @w = (1, 0.5, 0.25, 0.1);
my %w = map { ("e$_" => $_ < 8 ? 1 : $w[$_ % 4]) } 0 .. 999;
my $p = main::expected('big', \%w);
my %before = Cflb::requests_by_name();
Cflb::load('/t', 20000);
my $got = main::since(\%before);
# the shares of the endpoints of each weight, together
my (%gp, %gg);
for my $i (0 .. 999) {
    my $k = "w=$w{qq{e$i}}";
    $gp{$k} += $p->{"big/e$i"};
    $gg{$k} += $got->{"big/e$i"} // 0;
}
$Cflb::note{out} = main::check_shares(\%gg, \%gp, 20000)
    . main::chi_square($got, $p, \@names, 20000);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
w=0.1 ok
w=0.25 ok
w=0.5 ok
w=1 ok
chi-square ok
--- no_error_log
[error]
--- timeout: 120



=== TEST 3: 1,000 endpoints with requests held on some: each held endpoint at w/(n+1)
e0..e7 (weight 1) hold /hold; the 992 others (weight .05) answer it.
With loads ignored the eight would get 14 % of the requests; with about
12 held among them, closer to 6 %.
--- http_config eval
$::Backends . "    cflb_zone cflb 1m;\n"
. main::big_pool('big', 0.05)
. "    cflb_lb www { pools big; }\n"
--- config eval: $::Config
--- init
main::blackhole();
my $held = main::hold_some(12, 40);
my %w = map { ("e$_" => $_ < 8 ? 1 : 0.05) } 0 .. 999;
my $p = main::expected('big', \%w);
my %before = Cflb::requests_by_name();
Cflb::load('/t', 16000);
my $got = main::since(\%before);
my (%e, %g);
for my $i (0 .. 7) {
    $e{"big/e$i"} = $p->{"big/e$i"};
    $e{held} += $p->{"big/e$i"};
    $g{held} += $got->{"big/e$i"} // 0;
}
$g{$_} = $got->{$_} for grep { /e\d$/ } keys %$got;
my @names = map { "big/e$_" } 0 .. 999;
$Cflb::note{out} = ($held >= 12 ? "held\n" : "held only $held\n")
    . main::check_shares(\%g, { held => $e{held} }, 16000)
    . main::check_shares($got, { map { ("big/e$_" => $e{"big/e$_"}) } 0 .. 7 },
                         16000)
    . main::chi_square($got, $p, \@names, 16000);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
held
held ok
big/e0 ok
big/e1 ok
big/e2 ok
big/e3 ok
big/e4 ok
big/e5 ok
big/e6 ok
big/e7 ok
chi-square ok
--- timeout: 180



=== TEST 4: a reload that adds endpoints keeps the counts of the requests held in the old workers
Configuration 1 has only a, with 3 requests held on it.  The reload adds b
and c: a keeps its slot in the pool's tree, the new workers see its 3,
and b and c get 1/(1 + 1/4) of the requests between them.  When the held
requests end in the old workers, their decrements reach the same tree:
the split is even again.
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool rl {
        endpoint a 127.0.0.1:1993;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www { pools rl; }
}
--- config eval: $::Config
--- init
main::blackhole();
Cflb::hold('/hold', 3, 300);
Cflb::reload_with('endpoint a 127.0.0.1:1993;',
                  'endpoint a 127.0.0.1:1993; endpoint b 127.0.0.1:1990; '
                  . 'endpoint c 127.0.0.1:1991;', 4);
my $p = main::expected('rl', { a => 1, b => 1, c => 1 });
my %before = Cflb::requests_by_name();
Cflb::load('/t', 6000);
my $out = main::check_shares(main::since(\%before), $p, 6000);
# the held requests end: their upstream (the first child) goes away
Cflb::kill_child($Cflb::children[0]);
Cflb::wait_until(sub { Cflb::active_total() == 0 }, 10);
my %a = Cflb::active_by_name();
$out .= "active after: $a{rl}\n";
%before = Cflb::requests_by_name();
Cflb::load('/t', 6000);
$out .= main::check_shares(main::since(\%before),
                           { map { ("rl/$_" => 1 / 3) } qw(a b c) }, 6000);
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
rl/a ok
rl/b ok
rl/c ok
active after: 0
rl/a ok
rl/b ok
rl/c ok
--- timeout: 90



=== TEST 5: workers killed with requests in flight: their successors take the counts back from the tree
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool k {
        endpoint a 127.0.0.1:1993;
        endpoint b 127.0.0.1:1990;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www { pools k; }
}
--- config eval: $::Config
--- init
main::blackhole();
main::hold_on('k/a', 4);
my %old = map { $_ => 1 } Cflb::worker_pids();
kill 'KILL', keys %old;
Cflb::wait_until(sub { my @w = Cflb::worker_pids();
                       @w == 4 && !grep { $old{$_} } @w }, 10);
Cflb::wait_until(sub { Cflb::active_total() == 0 }, 10);
my %a = Cflb::active_by_name();
my %before = Cflb::requests_by_name();
Cflb::load('/t', 6000);
$Cflb::note{out} = "active after: $a{'k/a'}\n"
    . main::check_shares(main::since(\%before),
                         { 'k/a' => 0.5, 'k/b' => 0.5 }, 6000);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
active after: 0
k/a ok
k/b ok
--- timeout: 60



=== TEST 6: weights and enabled changed at run time reach every worker's draw
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool r {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www { pools r; }
}
--- config eval: $::Config
--- init
my $out = '';
my $r = Cflb::api(PATCH => '/api/pools/r/endpoints/b', '{"weight": 0.25}');
$out .= "weight: $r->{status}\n";
my %before = Cflb::requests_by_name();
Cflb::load('/t', 6000);
$out .= main::check_shares(main::since(\%before),
                           { 'r/a' => 1 / 2.25, 'r/b' => 0.25 / 2.25,
                             'r/c' => 1 / 2.25 }, 6000);
$r = Cflb::api(PATCH => '/api/pools/r/endpoints/a', '{"enabled": false}');
$out .= "disable: $r->{status}\n";
%before = Cflb::requests_by_name();
Cflb::load('/t', 4000);
$out .= main::check_shares(main::since(\%before),
                           { 'r/a' => 0, 'r/b' => 0.2, 'r/c' => 0.8 }, 4000);
$r = Cflb::api(PATCH => '/api/pools/r/endpoints/a', '{"enabled": true}');
%before = Cflb::requests_by_name();
Cflb::load('/t', 4000);
$out .= main::check_shares(main::since(\%before),
                           { 'r/a' => 1 / 2.25, 'r/b' => 0.25 / 2.25,
                             'r/c' => 1 / 2.25 }, 4000);
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
weight: 200
r/a ok
r/b ok
r/c ok
disable: 200
r/a ok
r/b ok
r/c ok
r/a ok
r/b ok
r/c ok
--- no_error_log
[error]



=== TEST 7: an unhealthy endpoint is out of the draw, and back when healthy
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_monitor m { type http; path /; interval 1s; timeout 500ms; }
    cflb_pool hp {
        endpoint a 127.0.0.1:1990;
        endpoint x 127.0.0.1:1994;
        endpoint_steering least_connections;
        monitor m;
    }
    cflb_lb www { pools hp; }
}
--- config eval: $::Config
--- init
my $out = '';
Cflb::wait_health('hp/x', 'unhealthy', 10);
my %before = Cflb::requests_by_name();
Cflb::load('/t', 1000);
my $got = main::since(\%before);
$out .= "while down: x " . ($got->{'hp/x'} // 0) . "\n";
Cflb::scripted(1994, [ '< GET', "> HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                                . "Connection: close\r\n\r\nx" ], 60);
Cflb::wait_health('hp/x', 'healthy', 10);
%before = Cflb::requests_by_name();
Cflb::load('/t', 2000);
$out .= main::check_shares(main::since(\%before),
                           { 'hp/a' => 0.5, 'hp/x' => 0.5 }, 2000);
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
while down: x 0
hp/a ok
hp/x ok
--- timeout: 60



=== TEST 8: passive health: out of the draw after a failure, back in when fail_timeout ends
x refuses connections at first: the first request steered to it fails
(and is retried on a), and x leaves steering for 5 s.  Then x answers;
once fail_timeout is over, the trees take x back and it gets half.
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_pool pf {
        endpoint a 127.0.0.1:1990;
        endpoint x 127.0.0.1:1994;
        endpoint_steering least_outstanding_requests;
        passive_health max_fails=1 fail_timeout=5s;
    }
    cflb_lb www { pools pf; }
}
--- config eval: $::Config
--- init
my $out = '';
Cflb::load('/t', 20);
my $x = Cflb::endpoint('pf/x');
$out .= "failing: " . ($x->{passive}{failing} ? "yes" : "no") . "\n";
my %before = Cflb::requests_by_name();
Cflb::load('/t', 200);
$out .= "while out: x " . (main::since(\%before)->{'pf/x'} // 0) . "\n";
Cflb::scripted(1994, [ '< GET', "> HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                                . "Connection: close\r\n\r\nx" ], 60);
Cflb::wait_until(sub { !Cflb::endpoint('pf/x')->{passive}{failing} }, 10);
%before = Cflb::requests_by_name();
Cflb::load('/t', 2000);
$out .= main::check_shares(main::since(\%before),
                           { 'pf/a' => 0.5, 'pf/x' => 0.5 }, 2000);
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
failing: yes
while out: x 0
pf/a ok
pf/x ok
--- timeout: 60



=== TEST 9: traffic steering least_outstanding_requests over 8 pools: held, disabled and critical pools
p1 holds 3 (through another load balancer), p7 is disabled, p8 is
critical (its only endpoint is down): p1 gets 1/4 of the weight of each
of p2..p6, p7 and p8 nothing.
--- http_config eval
$::Backends . q{
    cflb_zone cflb 1m;
    cflb_monitor m { type http; path /; interval 1s; timeout 500ms; }
    cflb_pool p1 { endpoint h 127.0.0.1:1993; }
    cflb_pool p2 { endpoint a 127.0.0.1:1990; }
    cflb_pool p3 { endpoint a 127.0.0.1:1990; }
    cflb_pool p4 { endpoint b 127.0.0.1:1991; }
    cflb_pool p5 { endpoint b 127.0.0.1:1991; }
    cflb_pool p6 { endpoint c 127.0.0.1:1992; }
    cflb_pool p7 { endpoint c 127.0.0.1:1992; enabled off; }
    cflb_pool p8 { endpoint x 127.0.0.1:1994; monitor m; }
    cflb_lb only_p1 { pools p1; }
    cflb_lb www {
        pools p1 p2 p3 p4 p5 p6 p7 p8;
        steering least_outstanding_requests;
    }
}
--- config
    location = /status { cflb_status; }
    location /hold { proxy_pass http://only_p1; proxy_read_timeout 60s; }
    location /t { proxy_pass http://www; }
--- init
main::blackhole();
Cflb::wait_health('p8/x', 'unhealthy', 10);
Cflb::hold('/hold', 3, 300);
my %before = Cflb::requests_by_name();
Cflb::load('/t', 10500);
my %p = (p1 => 0.25 / 5.25, map { ("p$_" => 1 / 5.25) } 2 .. 6);
$p{p7} = 0;
$p{p8} = 0;
$Cflb::note{out} = main::check_shares(main::since(\%before), \%p, 10500);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
p1 ok
p2 ok
p3 ok
p4 ok
p5 ok
p6 ok
p7 ok
p8 ok
--- timeout: 90



=== TEST 10: a zone too small for the configuration says how much it needs
--- http_config eval
"    cflb_zone small 64k;\n" . main::big_pool('big', 1)
. "    cflb_lb www { pools big; }\n"
--- config
    location /t { proxy_pass http://www; }
--- must_die
--- error_log eval
qr/cflb zone "small" of 64k is too small for 1 pools and 1000 endpoints: it needs \d+k, and \d+k to be reloaded with changes/
