# vim:set ft= ts=4 sw=4 et fdm=marker:

# The stream module parses the same blocks with the same code and steers
# TCP connections with the same core.  (Layer-4 depth: issue "Layer-4".)

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return "a\n"; }
    server { listen 127.0.0.1:1991; return "b\n"; }
    server { listen 127.0.0.2:1993; return "passthrough\n"; }
    cflb_zone cflb 1m;
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: proxy_pass to a cflb_lb in stream{}
--- stream_config eval
$::Backends . q{
    cflb_pool s1 { endpoint a 127.0.0.1:1990; }
    cflb_lb tcp { pools s1; }
}
--- stream_server_config
    proxy_pass tcp;
--- stream_request
--- stream_response
a
--- no_error_log
[error]



=== TEST 2: endpoint weights steer connections (.75/.25 over 2000, +- 0.04)
--- stream_config eval
$::Backends . q{
    cflb_pool s2 {
        endpoint a 127.0.0.1:1990 weight=0.75;
        endpoint b 127.0.0.1:1991 weight=0.25;
    }
    cflb_lb tcp { pools s2; }
}
--- stream_server_config
    proxy_pass tcp;
--- init
$Cflb::note{shares} = Cflb::shares(Cflb::tcp_tally(1985, 2000),
                                   { a => 0.75, b => 0.25 }, 0.04);
--- stream_request
--- response_body_filters eval
sub { $Cflb::note{shares} }
--- response_body
a ok
b ok
--- no_error_log
[error]



=== TEST 3: an endpoint without a port takes the port the client connected to
--- stream_config eval
$::Backends . q{
    cflb_pool s3 { endpoint p 127.0.0.2; }
    cflb_lb tcp { pools s3; }
    server { listen 127.0.0.1:1993; proxy_pass tcp; }
}
--- stream_server_config
    proxy_pass 127.0.0.1:1993;
--- stream_request
--- stream_response
passthrough
--- no_error_log
[error]



=== TEST 4: host= is refused at layer 4
--- stream_config
    cflb_zone cflb 1m;
    cflb_pool s4 { endpoint a 127.0.0.1:1990 host=a.example; }
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"host=" of endpoint "a" has no meaning in stream\{\}, a TCP or UDP session has no Host header in \S+nginx\.conf:\d+/



=== TEST 5: the same configuration errors as in http{}
--- stream_config
    cflb_zone cflb 1m;
    cflb_pool s5 { endpoint a 127.0.0.1:1990; }
    cflb_lb tcp { pools s5 missing; }
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown pool "missing" in cflb_lb "tcp" in \S+nginx\.conf:\d+/



=== TEST 6: health monitors work in stream{} from the same code
With proxy_next_upstream off, a connection steered to the dead pool would
fail: the tcp monitor takes that pool out first.
--- stream_config eval
$::Backends . q{
    cflb_monitor t { type tcp; interval 1s; timeout 300ms; retries 0; }
    cflb_pool s6dead { endpoint x 127.0.0.1:1998; monitor t; }
    cflb_pool s6live { endpoint a 127.0.0.1:1990; monitor t; }
    cflb_lb tcp { pools s6dead s6live; }
}
--- stream_server_config
    proxy_pass tcp;
    proxy_next_upstream off;
--- init
sleep 1;
$Cflb::note{t} = Cflb::tcp_tally(1985, 50);
--- stream_request
--- response_body_filters eval
sub { CORE::join '', map { "$_ $Cflb::note{t}{$_}\n" } sort keys %{ $Cflb::note{t} } }
--- response_body
a 50
--- error_log
cflb: endpoint "x" of pool "s6dead" (lb "tcp") is unhealthy, was unknown: TCP connection failed
