# vim:set ft= ts=4 sw=4 et fdm=marker:

# Rules in stream{} (docs/rules.md), beyond the product: TCP sessions
# routed by client network and by the port the client connected to,
# $cflb_trace and the status of the stream zone; layer-7 settings and
# fixed_response refused with the reason.  The balancer listens on
# 127.0.0.1:1985; endpoints answer their name and close.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return "a\n"; }
    server { listen 127.0.0.1:1991; return "b\n"; }
    cflb_zone cflb 1m;
    cflb_pool pa { endpoint a 127.0.0.1:1990; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: sessions from 127.0.0.2-3 go to the rule's pool, the others to the load balancer's
--- stream_config eval
$::Backends . q{
    cflb_lb tcp {
        pools pa;
        rule office { condition 'ip.src in {127.0.0.2..127.0.0.3 10.0.0.0/8}'; override pools pb; }
    }
}
--- stream_server_config
    proxy_pass tcp;
--- init
my $out = '';
for my $from (qw(127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4)) {
    my $t = Cflb::tcp_sessions(1985, 3, from => sub { $from });
    $out .= "$from: " . CORE::join(',', map { "$_=$t->{$_}" } sort keys %$t) . "\n";
}
$Cflb::note{t} = $out;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
127.0.0.1: a=3
127.0.0.2: b=3
127.0.0.3: b=3
127.0.0.4: a=3
--- no_error_log
[error]



=== TEST 2: the server port, the load balancer's name; the trace and the status count
--- stream_config eval
$::Backends . q{
    log_format t '$cflb_trace';
    cflb_lb tcp {
        pools pa;
        rule port { condition 'cf.edge.server_port == 1986 and cf.load_balancer.name eq "tcp"'; override pools pb; }
    }
    server { listen 127.0.0.1:1986; proxy_pass tcp; access_log logs/t.log t; }
}
--- stream_server_config
    proxy_pass tcp;
    access_log logs/t.log t;
--- config
    location = /status { cflb_status; }
--- init
Cflb::tcp_sessions(1986, 2, log => 'logs/t.log');
Cflb::tcp_sessions(1985, 1, log => 'logs/t.log');
my $st = JSON::PP::decode_json(Cflb::get(path => '/status')->{body});
my ($lb) = grep { $_->{name} eq 'tcp' } @{ $st->{stream}{lbs} };
$Cflb::note{t} = CORE::join('', map { "$_\n" } Cflb::log_lines('logs/t.log'))
    . "$lb->{rules}[0]{name}: $lb->{rules}[0]{matches}\n";
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
lb=tcp rules=port pool=pb(priority) endpoint=pb/b(random)
lb=tcp rules=port pool=pb(priority) endpoint=pb/b(random)
lb=tcp pool=pa(priority) endpoint=pa/a(random)
port: 2
--- no_error_log
[error]



=== TEST 3: http fields are unknown in stream
--- stream_config eval
$::Backends . q{
    cflb_lb tcp {
        pools pa;
        rule web { condition 'http.host eq "a"'; override pools pb; }
    }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "tcp" rule "web": 1:1: unknown field "http\.host" in \S+nginx\.conf:\d+/



=== TEST 4: fixed_response is refused in stream, with the reason
--- stream_config eval
$::Backends . q{
    cflb_lb tcp {
        pools pa;
        rule down { condition 'true'; fixed_response 503; }
    }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"fixed_response" has no meaning in stream\{\}: a TCP or UDP session, or a DNS query, has no HTTP response to answer with in \S+nginx\.conf:\d+/



=== TEST 5: affinity overrides are refused in stream, with the reason
--- stream_config eval
$::Backends . q{
    cflb_lb tcp {
        pools pa;
        rule s { condition 'true'; override session_affinity cookie; }
    }
}
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"session_affinity" has no meaning in stream\{\}: a TCP or UDP session, or a DNS query, has no cookie or header to keep it/



=== TEST 6: a UDP session is routed by its client too
--- stream_config eval
$::Backends . q{
    server { listen 127.0.0.1:1992 udp; return "ua\n"; }
    server { listen 127.0.0.1:1993 udp; return "ub\n"; }
    cflb_pool ua { endpoint a 127.0.0.1:1992; }
    cflb_pool ub { endpoint b 127.0.0.1:1993; }
    cflb_lb dns {
        pools ua;
        rule two { condition 'ip.src == 127.0.0.2'; override pools ub; }
    }
    server { listen 127.0.0.1:1986 udp; proxy_pass dns; proxy_responses 1; }
}
--- stream_server_config
    proxy_pass 127.0.0.1:1990;
--- init
my $out = '';
for my $from (qw(127.0.0.1 127.0.0.2)) {
    my $t = Cflb::udp_sessions(1986, 2, from => sub { $from });
    $out .= "$from: " . CORE::join(',', map { "$_=$t->{$_}" } sort keys %$t) . "\n";
}
$Cflb::note{t} = $out;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
127.0.0.1: ua=2
127.0.0.2: ub=2
--- no_error_log
[error]
