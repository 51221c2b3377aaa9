# vim:set ft= ts=4 sw=4 et fdm=marker:

# cflb works with nginx's own upstream machinery: keepalive, retries,
# proxy_ssl_* with session reuse, and WebSocket upgrade.

use lib 't/lib';
use Test::Nginx::Socket;
use Cwd qw(abs_path);
use Cflb;

repeat_each(1);

plan "no_plan";

our $Cert = abs_path('t/cert');

our $Backends = <<"_EOC_";
    server { listen 127.0.0.1:1990; return 200 "a \$connection\\n"; }
    server { listen 127.0.0.1:1991; return 200 "b \$connection\\n"; }
    server {
        listen 127.0.0.1:1995 ssl;
        ssl_certificate $Cert/test.crt;
        ssl_certificate_key $Cert/test.key;
        return 200 "tls \$ssl_server_name \$ssl_session_reused\\n";
    }
    cflb_zone cflb 1m;
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: keepalive: the same backend connection serves every request
--- http_config eval
$::Backends . q{
    cflb_pool k2 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools k2; keepalive 4; }
}
--- config
    location /t {
        proxy_pass http://www;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }
--- init
my $t = Cflb::load('/t', 20);
$Cflb::note{conns} = scalar keys %$t;
--- request
GET /t
--- response_body_filters eval
sub { "distinct backend connections: $Cflb::note{conns}\n" }
--- response_body
distinct backend connections: 1



=== TEST 2: without keepalive every request opens its own connection
--- http_config eval
$::Backends . q{
    cflb_pool k3 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools k3; }
}
--- config
    location /t { proxy_pass http://www; }
--- init
my $t = Cflb::load('/t', 20);
$Cflb::note{conns} = scalar keys %$t;
--- request
GET /t
--- response_body_filters eval
sub { "distinct backend connections: $Cflb::note{conns}\n" }
--- response_body
distinct backend connections: 20



=== TEST 3: proxy_next_upstream off: a refused connection is the client's 502
--- http_config eval
$::Backends . q{
    cflb_pool k4 { endpoint dead 127.0.0.1:1998; }
    cflb_lb www { pools k4; }
}
--- config
    location /t { proxy_pass http://www; proxy_next_upstream off; }
--- request
GET /t
--- error_code: 502
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 4: retries never go back to an endpoint this request tried
Two dead endpoints and proxy_next_upstream_tries 5: there are only two
tries to make, and each endpoint is tried once.
--- http_config eval
$::Backends . q{
    cflb_pool k5 {
        endpoint d1 127.0.0.1:1997;
        endpoint d2 127.0.0.1:1998;
    }
    cflb_lb www { pools k5; }
}
--- config
    location /t { proxy_pass http://www; proxy_next_upstream_tries 5; }
--- request
GET /t
--- error_code: 502
--- grep_error_log eval
qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: \S+ server: \S+ request: "GET \/t HTTP\/1.1", upstream: "http:\/\/127.0.0.1:199[78]\/t"/
--- grep_error_log_out eval
[qr/\A[^\n]*199([78])[^\n]*\n[^\n]*199(?!\1)[78][^\n]*\n\z/]



=== TEST 5: proxy_ssl through a cflb_lb, with SNI and session reuse
--- http_config eval
$::Backends . q{
    cflb_pool k6 { endpoint s 127.0.0.1:1995; }
    cflb_lb www { pools k6; }
}
--- config eval
"location /t {
    proxy_pass https://www;
    proxy_ssl_server_name on;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $::Cert/test.crt;
    proxy_ssl_session_reuse on;
}"
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["tls www .\n", "tls www r\n", "tls www r\n"]
--- no_error_log
[error]



=== TEST 6: WebSocket upgrade passes through
--- http_config eval
$::Backends . q{
    cflb_pool k7 { endpoint ws 127.0.0.1:1996; }
    cflb_lb www { pools k7; }
}
--- config
    location /ws {
        proxy_pass http://www;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }
--- tcp_listen: 1996
--- tcp_reply eval
"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes"
--- raw_request eval
"GET /ws HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
"
--- raw_response_headers_like: ^HTTP/1.1 101 Switching Protocols\r\n.*Upgrade: websocket\r\n
--- response_body: frames
--- error_code: 101
--- no_error_log
[error]
