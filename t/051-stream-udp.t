# vim:set ft= ts=4 sw=4 et fdm=marker:

# UDP load balancing in stream{}: each datagram from a new client socket
# is a new session, steered by the same core as TCP.  The endpoints are
# nginx stream servers that answer one datagram with their name; the
# balancer listens on 127.0.0.1:1986 udp with proxy_responses 1, so a
# session ends with its one answer.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990 udp; return "a\n"; }
    server { listen 127.0.0.1:1991 udp; return "b\n"; }
    server { listen 127.0.0.1:1992 udp; return "c\n"; }
    server { listen 127.0.0.1:1993 udp; return "d\n"; }
    server { listen 127.0.0.1:1990; return "a\n"; }
    server { listen 127.0.0.1:1991; return "b\n"; }
    server { listen 127.0.0.1:1992; return "c\n"; }
    server { listen 127.0.0.1:1993; return "d\n"; }
    cflb_zone cflb 1m;
_EOC_

# client address of session i: 32 addresses, each used by consecutive
# sessions ($each per address)
sub client {
    my ($each) = @_;
    return sub { sprintf "127.0.0.%d", 1 + int(($_[0] - 1) / $each) };
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a datagram is proxied to a cflb_lb endpoint and answered
--- stream_config eval
$::Backends . q{
    cflb_pool u1 { endpoint a 127.0.0.1:1990; }
    cflb_lb udp { pools u1; }
    server {
        listen 127.0.0.1:1986 udp;
        proxy_pass udp;
        proxy_responses 1;
    }
}
--- stream_server_config
    return "tcp\n";
--- init
$Cflb::note{t} = Cflb::tally_lines(Cflb::udp_sessions(1986, 3));
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
a 3
--- no_error_log
[error]



=== TEST 2: endpoint weights steer UDP sessions (.75/.25 over 2000, +- 0.04)
Each session is a datagram from a new client port; 4 standard deviations
of a share of .75 over 2000 samples are 0.039.
--- stream_config eval
$::Backends . q{
    cflb_pool u2 {
        endpoint a 127.0.0.1:1990 weight=0.75;
        endpoint b 127.0.0.1:1991 weight=0.25;
    }
    cflb_lb udp { pools u2; }
    server {
        listen 127.0.0.1:1986 udp;
        proxy_pass udp;
        proxy_responses 1;
    }
}
--- stream_server_config
    return "tcp\n";
--- init
$Cflb::note{t} = Cflb::shares(Cflb::udp_sessions(1986, 2000),
                              { a => 0.75, b => 0.25 }, 0.04);
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
a ok
b ok
--- no_error_log
[error]



=== TEST 3: hash keeps each client address on one endpoint, at UDP and TCP alike
32 client addresses (127.0.0.1 to .32) send 4 sessions each, every one
from a new port.  With hashing on the address without its port, each
address sees one endpoint.  The ring is placed from the endpoint names,
so a UDP pool and a TCP pool with the same names map every address to
the same endpoint.  Of 4 equal endpoints, 32 addresses reach at least 3
(a miss has probability 6 x 2^-32).
--- stream_config eval
$::Backends . q{
    cflb_pool u3 {
        endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992; endpoint d 127.0.0.1:1993;
        endpoint_steering hash;
    }
    cflb_pool t3 {
        endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992; endpoint d 127.0.0.1:1993;
        endpoint_steering hash;
    }
    cflb_lb udp { pools u3; }
    cflb_lb tcp { pools t3; }
    server {
        listen 127.0.0.1:1986 udp;
        proxy_pass udp;
        proxy_responses 1;
    }
}
--- stream_server_config
    proxy_pass tcp;
--- init
my (%udp, %tcp);
for my $i (1 .. 128) {
    my $from = main::client(4)->($i);
    my $u = Cflb::udp_sessions(1986, 1, from => sub { $from });
    my $t = Cflb::tcp_sessions(1985, 1, from => sub { $from });
    $udp{$from}{$_}++ for keys %$u;
    $tcp{$from}{$_}++ for keys %$t;
}
my @addrs = sort keys %udp;
my %used = map { (keys %{ $udp{$_} })[0] => 1 } @addrs;
$Cflb::note{t} = "addresses: " . @addrs . "\n"
    . "on more than one endpoint (udp): "
    . (grep { keys %{ $udp{$_} } > 1 } @addrs) . "\n"
    . "on more than one endpoint (tcp): "
    . (grep { keys %{ $tcp{$_} } > 1 } @addrs) . "\n"
    . "unanswered: " . (grep { exists $udp{$_}{''} } @addrs) . "\n"
    . "endpoints used: " . (keys %used >= 3 ? "3 or more" : keys %used) . "\n"
    . "udp and tcp disagree: "
    . (grep { CORE::join(',', keys %{ $udp{$_} })
              ne CORE::join(',', keys %{ $tcp{$_} }) } @addrs) . "\n";
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
addresses: 32
on more than one endpoint (udp): 0
on more than one endpoint (tcp): 0
unanswered: 0
endpoints used: 3 or more
udp and tcp disagree: 0
--- no_error_log
[error]



=== TEST 4: udp_icmp monitor takes a dead UDP endpoint out of steering
Nothing listens on 1997, so a datagram there draws ICMP port
unreachable; the monitor marks it unhealthy and every session goes to the
live endpoint, although the dead one has ten times its weight (without
the monitor, about 10 sessions in 11 would go unanswered).
--- stream_config eval
$::Backends . q{
    cflb_monitor u { type udp_icmp; interval 1s; timeout 500ms; retries 0; }
    cflb_pool u4 {
        endpoint dead 127.0.0.1:1997 weight=1.00;
        endpoint a 127.0.0.1:1990 weight=0.10;
        monitor u;
    }
    cflb_lb udp { pools u4; }
    server {
        listen 127.0.0.1:1986 udp;
        proxy_pass udp;
        proxy_responses 1;
    }
}
--- stream_server_config
    return "tcp\n";
--- init
my $ok = eval {
    Cflb::wait_error_log(qr/endpoint "a" of pool "u4" .* is healthy/, 4);
    Cflb::wait_error_log(qr/endpoint "dead" of pool "u4" .* is unhealthy/, 4);
};
$Cflb::note{t} = ($ok ? '' : $@)
                 . Cflb::tally_lines(Cflb::udp_sessions(1986, 200));
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
a 200
--- error_log eval
qr/\[notice\] .*cflb: endpoint "dead" of pool "u4" \(lb "udp"\) is unhealthy, was unknown: ICMP port unreachable/
--- no_error_log
[error]
