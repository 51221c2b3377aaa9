# vim:set ft= ts=4 sw=4 et fdm=marker:

# TCP load balancing in stream{}: hash persistence per client address,
# failover by retry (within the pool) and by health (an endpoint that
# dies while traffic flows), traffic steering across pools, the fallback
# pool, and the variables in a stream access log.  The balancer listens
# on 127.0.0.1:1985; endpoints answer their name and close.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return "a\n"; }
    server { listen 127.0.0.1:1991; return "b\n"; }
    server { listen 127.0.0.1:1992; return "c\n"; }
    server { listen 127.0.0.1:1993; return "d\n"; }
    cflb_zone cflb 1m;
_EOC_

# client address of session i: consecutive sessions share an address,
# $each per address (127.0.0.1, .2, ...)
sub client {
    my ($each) = @_;
    return sub { sprintf "127.0.0.%d", 1 + int(($_[0] - 1) / $each) };
}

# { address => { answer => count } } of $n sessions, $each per address
sub by_client {
    my ($port, $n, $each) = @_;

    my %seen;

    for my $i (1 .. $n) {
        my $from = client($each)->($i);
        my $t = Cflb::tcp_sessions($port, 1, from => sub { $from });
        $seen{$from}{$_} += $t->{$_} for keys %$t;
    }

    return \%seen;
}

sub only { CORE::join ',', sort keys %{ $_[0] } }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: hash keeps each client address on one endpoint; a dead endpoint moves only its own clients
32 client addresses open 4 connections each, every one from a new port.
Port 1985 balances over a, b, c, d; port 1986 over the same names with d
at a closed port, retried (proxy_next_upstream is on by default).  The
ring is placed from the names, so on 1986 the clients of a, b and c stay
where they were, and each client of d goes to one other endpoint, always
the same (the next on the ring).
--- stream_config eval
$::Backends . q{
    cflb_pool h1 {
        endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992; endpoint d 127.0.0.1:1993;
        endpoint_steering hash;
    }
    cflb_pool h1x {
        endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992; endpoint d 127.0.0.1:1998;
        endpoint_steering hash;
    }
    cflb_lb tcp { pools h1; }
    cflb_lb tcpx { pools h1x; }
    server { listen 127.0.0.1:1986; proxy_pass tcpx; }
}
--- stream_server_config
    proxy_pass tcp;
--- init
my $all = main::by_client(1985, 128, 4);
my $dead = main::by_client(1986, 128, 4);
my @addrs = sort keys %$all;
my %used = map { main::only($all->{$_}) => 1 } @addrs;
my @of_d = grep { main::only($all->{$_}) eq 'd' } @addrs;
$Cflb::note{t} = "addresses: " . @addrs . "\n"
    . "on more than one endpoint: "
    . (grep { keys %{ $all->{$_} } > 1 } @addrs) . "\n"
    . "endpoints used: " . (keys %used >= 3 ? "3 or more" : keys %used) . "\n"
    . "d dead, on more than one endpoint: "
    . (grep { keys %{ $dead->{$_} } > 1 } @addrs) . "\n"
    . "d dead, clients of a, b, c moved: "
    . (grep { main::only($all->{$_}) ne 'd'
              && main::only($all->{$_}) ne main::only($dead->{$_}) } @addrs)
    . "\n"
    . "d dead, clients of d elsewhere: "
    . ((@of_d && !grep { main::only($dead->{$_}) !~ /^[abc]$/ } @of_d)
       ? "all" : "not all of " . @of_d) . "\n";
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
addresses: 32
on more than one endpoint: 0
endpoints used: 3 or more
d dead, on more than one endpoint: 0
d dead, clients of a, b, c moved: 0
d dead, clients of d elsewhere: all
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 2: without a monitor, a closed endpoint costs no session: proxy_next_upstream retries
The endpoint "dead" has half the weight; each session steered there is
retried on a or b.  The access log shows the retries.
--- stream_config eval
$::Backends . q{
    log_format up '$upstream_addr';
    cflb_pool r2 {
        endpoint a 127.0.0.1:1990 weight=0.25;
        endpoint dead 127.0.0.1:1998 weight=0.50;
        endpoint b 127.0.0.1:1991 weight=0.25;
    }
    cflb_lb tcp { pools r2; }
}
--- stream_server_config
    proxy_pass tcp;
    access_log logs/up.log up;
--- init
my $t = Cflb::tcp_sessions(1985, 200, log => 'logs/up.log');
my @up = Cflb::log_lines('logs/up.log');
my $retried = grep { /^127\.0\.0\.1:1998, 127\.0\.0\.1:199[01]$/ } @up;
$Cflb::note{t} = "sessions: " . (($t->{a} // 0) + ($t->{b} // 0)) . "\n"
    . "failed: " . ($t->{''} // 0) . "\n"
    . "retried after the dead endpoint: "
    . ($retried >= 50 ? "50 or more" : $retried) . "\n"
    . "tried the dead endpoint last: "
    . (grep { /1998$/ } @up) . "\n";
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
sessions: 200
failed: 0
retried after the dead endpoint: 50 or more
tried the dead endpoint last: 0
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 3: an endpoint that dies under traffic leaves steering by health (tcp monitor, no retries)
Endpoint a is a server the test starts, then kills.  With
proxy_next_upstream off a session steered to a dead endpoint fails, so
"b 100" after the kill shows the monitor took a out.  The bound is
interval + (retries + 1) x timeout = 1.3 s, plus one second for the
scheduler tick and a loaded machine.
--- stream_config eval
$::Backends . q{
    cflb_monitor t { type tcp; interval 1s; timeout 300ms; retries 0; }
    cflb_pool d3 {
        endpoint a 127.0.0.1:1994;
        endpoint b 127.0.0.1:1991;
        monitor t;
    }
    cflb_lb tcp { pools d3; }
    server {
        listen 127.0.0.1:1986;
        proxy_pass tcp;
        proxy_next_upstream off;
    }
}
--- stream_server_config
    return "tcp\n";
--- init
my $a = Cflb::greeter(1994, 'a');
my $out = eval {
    Cflb::wait_error_log(qr/endpoint "a" of pool "d3" .* is healthy/, 4);
    Cflb::wait_error_log(qr/endpoint "b" of pool "d3" .* is healthy/, 4);
    my $before = Cflb::tcp_sessions(1986, 100);
    Cflb::kill_child($a);
    my $secs = Cflb::wait_error_log(
        qr/endpoint "a" of pool "d3" .* is unhealthy, was healthy/, 5);
    "before: a " . ($before->{a} >= 20 ? "20 or more" : $before->{a} // 0)
    . ", b " . ($before->{b} >= 20 ? "20 or more" : $before->{b} // 0)
    . ", failed " . ($before->{''} // 0) . "\n"
    . "left in time: " . ($secs <= 2.3 ? "yes" : "no ($secs s)") . "\n"
    . "after:\n" . Cflb::tally_lines(Cflb::tcp_sessions(1986, 100));
};
$Cflb::note{t} = $out // $@;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
before: a 20 or more, b 20 or more, failed 0
left in time: yes
after:
b 100
--- error_log eval
qr/\[notice\] .*cflb: endpoint "a" of pool "d3" \(lb "tcp"\) is unhealthy, was healthy: TCP connection failed/
--- no_error_log
[error]



=== TEST 4: steering random splits connections by pool weight (.8/.2 over 1000, +- 0.05)
4 standard deviations of a share of .8 over 1000 samples are 0.051.
--- stream_config eval
$::Backends . q{
    cflb_pool s4a { endpoint a 127.0.0.1:1990; }
    cflb_pool s4b { endpoint b 127.0.0.1:1991; endpoint c 127.0.0.1:1992; }
    cflb_lb tcp {
        pools s4a s4b;
        steering random;
        random_steering s4a=0.80 s4b=0.20;
    }
}
--- stream_server_config
    proxy_pass tcp;
--- init
my $t = Cflb::tcp_sessions(1985, 1000);
$Cflb::note{t} = Cflb::shares({ a => $t->{a}, bc => $t->{b} + $t->{c},
                                map { $_ => $t->{$_} } grep { !/^[abc]$/ }
                                keys %$t },
                              { a => 0.8, bc => 0.2 }, 0.05);
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
a ok
bc ok
--- no_error_log
[error]



=== TEST 5: when every listed pool is critical, the fallback pool serves
Both listed pools have only closed endpoints under a tcp monitor, and
proxy_next_upstream is off: a session steered to them would fail.
--- stream_config eval
$::Backends . q{
    log_format pool '$cflb_pool $cflb_endpoint';
    cflb_monitor t { type tcp; interval 1s; timeout 300ms; retries 0; }
    cflb_pool f5a { endpoint x 127.0.0.1:1997; monitor t; }
    cflb_pool f5b { endpoint y 127.0.0.1:1998; monitor t; }
    cflb_pool f5c { endpoint c 127.0.0.1:1992; }
    cflb_lb tcp { pools f5a f5b; fallback_pool f5c; }
}
--- stream_server_config
    proxy_pass tcp;
    proxy_next_upstream off;
    access_log logs/pool.log pool;
--- init
my $ok = eval {
    Cflb::wait_error_log(qr/pool "f5a" .* is critical/, 4);
    Cflb::wait_error_log(qr/pool "f5b" .* is critical/, 4);
};
my $t = Cflb::tcp_sessions(1985, 50, log => 'logs/pool.log');
my %log;
$log{$_}++ for Cflb::log_lines('logs/pool.log');
$Cflb::note{t} = ($ok ? '' : $@) . Cflb::tally_lines($t)
                 . Cflb::tally_lines(\%log);
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
c 50
f5c c 50
--- error_log eval
qr/\[notice\] .*cflb: endpoint "y" of pool "f5b" \(lb "tcp"\) is unhealthy, was unknown: TCP connection failed/
--- no_error_log
[error]



=== TEST 6: $cflb_lb, $cflb_pool, $cflb_endpoint, $cflb_endpoint_addr in a stream access log
Sessions: a plain choice (1985); 24 to a pool of a closed and a live
endpoint (1986), where each session steered to the closed one is retried
on the live one and the variables name the last endpoint tried (both
kinds of line appear: each has probability 2^-24 of not); a proxy_pass
that is no cflb_lb (1987); an endpoint without a port (1988, to
127.0.0.2:1988); a UDP session (1989 udp); a failed session (1989: the
variables name the endpoint that failed); a balancer with no endpoint to
choose (1983: all four empty, $upstream_addr names the balancer).  The
log's distinct lines, sorted.
--- stream_config eval
$::Backends . q{
    log_format vars '$server_port $protocol lb=$cflb_lb pool=$cflb_pool '
                    'endpoint=$cflb_endpoint addr=$cflb_endpoint_addr '
                    'upstream=$upstream_addr';

    server { listen 127.0.0.2:1988; return "pt\n"; }
    server { listen 127.0.0.1:1990 udp; return "ua\n"; }

    cflb_pool v1 { endpoint a 127.0.0.1:1990; }
    cflb_pool v2 { endpoint x 127.0.0.1:1998; endpoint b 127.0.0.1:1991; }
    cflb_pool v4 { endpoint p 127.0.0.2; }
    cflb_pool v6 { endpoint x 127.0.0.1:1998; }
    cflb_pool v7 { endpoint x 127.0.0.1:1998 disabled; }
    cflb_lb lb1 { pools v1; }
    cflb_lb lb2 { pools v2; }
    cflb_lb lb4 { pools v4; }
    cflb_lb lb6 { pools v6; }
    cflb_lb lb7 { pools v7; }

    server {
        listen 127.0.0.1:1986;
        proxy_pass lb2;
        access_log logs/vars.log vars;
    }
    server {
        listen 127.0.0.1:1987;
        proxy_pass 127.0.0.1:1992;
        access_log logs/vars.log vars;
    }
    server {
        listen 127.0.0.1:1988;
        proxy_pass lb4;
        access_log logs/vars.log vars;
    }
    server {
        listen 127.0.0.1:1989 udp;
        proxy_pass lb1;
        proxy_responses 1;
        access_log logs/vars.log vars;
    }
    server {
        listen 127.0.0.1:1989;
        proxy_pass lb6;
        access_log logs/vars.log vars;
    }
    server {
        listen 127.0.0.1:1983;
        proxy_pass lb7;
        access_log logs/vars.log vars;
    }
}
--- stream_server_config
    proxy_pass lb1;
    access_log logs/vars.log vars;
--- init
my $log = 'logs/vars.log';
my $answers = '';
for my $port (1985 .. 1988) {
    my $n = $port == 1986 ? 24 : 1;
    $answers .= Cflb::tally_lines(Cflb::tcp_sessions($port, $n, log => $log));
}
$answers .= Cflb::tally_lines(Cflb::udp_sessions(1989, 1));
Cflb::wait_until(sub { Cflb::log_count($log) >= 28 }, 5);
for my $port (1989, 1983) {
    $answers .= Cflb::tally_lines(Cflb::tcp_sessions($port, 1, log => $log));
}
my %lines = map { $_ => 1 } Cflb::log_lines($log);
$Cflb::note{t} = $answers . CORE::join('', map { "$_\n" } sort keys %lines);
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
a 1
b 24
c 1
pt 1
ua 1
(none) 1
(none) 1
1983 TCP lb=- pool=- endpoint=- addr=- upstream=lb7
1985 TCP lb=lb1 pool=v1 endpoint=a addr=127.0.0.1:1990 upstream=127.0.0.1:1990
1986 TCP lb=lb2 pool=v2 endpoint=b addr=127.0.0.1:1991 upstream=127.0.0.1:1991
1986 TCP lb=lb2 pool=v2 endpoint=b addr=127.0.0.1:1991 upstream=127.0.0.1:1998, 127.0.0.1:1991
1987 TCP lb=- pool=- endpoint=- addr=- upstream=127.0.0.1:1992
1988 TCP lb=lb4 pool=v4 endpoint=p addr=127.0.0.2 upstream=127.0.0.2
1989 TCP lb=lb6 pool=v6 endpoint=x addr=127.0.0.1:1998 upstream=127.0.0.1:1998
1989 UDP lb=lb1 pool=v1 endpoint=a addr=127.0.0.1:1990 upstream=127.0.0.1:1990



=== TEST 7: a failed connection is retried within its pool only: the next pool is not tried
At layer 4, zero-downtime failover retries once on another endpoint of
the same pool; pool s7a has none, so the session fails although s7b
could serve (docs/affinity.md, "Zero-downtime failover").
--- stream_config eval
$::Backends . q{
    log_format up '$upstream_addr';
    cflb_pool s7a { endpoint x 127.0.0.1:1998; }
    cflb_pool s7b { endpoint b 127.0.0.1:1991; }
    cflb_lb tcp { pools s7a s7b; }
}
--- stream_server_config
    proxy_pass tcp;
    access_log logs/up.log up;
--- init
my $t = Cflb::tcp_sessions(1985, 5, log => 'logs/up.log');
my %up;
$up{$_}++ for Cflb::log_lines('logs/up.log');
$Cflb::note{t} = Cflb::tally_lines($t) . Cflb::tally_lines(\%up);
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
(none) 5
127.0.0.1:1998 5
--- error_log
connect() failed
--- no_error_log
no live upstreams



=== TEST 7b: passive health takes the one endpoint of the primary pool out, and the next pool serves
At layer 4 retries stay in the pool: without passive health every
session to s7a fails (TEST 7); with max_fails=1 the first one fails and
the endpoint leaves steering, so s7b serves the rest (issue 14).
--- stream_config eval
$::Backends . q{
    log_format up '$upstream_addr';
    cflb_pool s7a { endpoint x 127.0.0.1:1998 max_fails=1 fail_timeout=60s; }
    cflb_pool s7b { endpoint b 127.0.0.1:1991; }
    cflb_lb tcp { pools s7a s7b; }
}
--- stream_server_config
    proxy_pass tcp;
    access_log logs/up.log up;
--- init
my $t = Cflb::tcp_sessions(1985, 10, log => 'logs/up.log');
my %up;
$up{$_}++ for Cflb::log_lines('logs/up.log');
$Cflb::note{t} = Cflb::tally_lines($t) . Cflb::tally_lines(\%up);
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
(none) 1
b 9
127.0.0.1:1991 9
127.0.0.1:1998 1
--- error_log
is out of steering for 60 s after 1 failed attempts



=== TEST 8: failover_across_pools is refused in stream{}
--- stream_config
    cflb_zone cflb 1m;
    cflb_pool s8a { endpoint a 127.0.0.1:1990; }
    cflb_pool s8b { endpoint b 127.0.0.1:1991; }
    cflb_lb tcp { pools s8a s8b; failover_across_pools on; }
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"failover_across_pools" has no meaning in stream\{\}: a connection that fails is retried by "proxy_next_upstream" within the pool in \S+nginx\.conf:\d+/
