# vim:set ft= ts=4 sw=4 et fdm=marker:

# Active health monitors against real peers on loopback: traffic leaves an
# endpoint that fails its checks and comes back when it passes, one probe
# per interval whatever the number of workers, probing survives the death
# of the probing worker, health survives a reload, and each monitor type
# decides against a real (or scripted) server.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServRoot);
use Cwd qw(abs_path);
use Cflb;

repeat_each(1);
workers(4);
master_on();

plan "no_plan";

our $Cert = abs_path('t/cert');

# backend a answers /healthz with 503 while html/down exists
our $Backends = <<'_EOC_';
    server {
        listen 127.0.0.1:1990;
        root html;
        location = /healthz {
            access_log logs/probes.log;
            if (-f $document_root/down) { return 503; }
            return 200 "ok";
        }
        location / { return 200 "a"; }
    }
    server { listen 127.0.0.1:1991; return 200 "b"; }
    cflb_zone cflb 1m;
_EOC_

our $Status = <<'_EOC_';
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; }
_EOC_

no_shuffle();
run_tests();

sub down { open my $f, '>', "$ServRoot/html/down" or die $!; close $f }
sub up { unlink "$ServRoot/html/down" }

__DATA__

=== TEST 1: traffic leaves a failing endpoint and comes back, within interval x (retries + 1) + timeout
interval 1s, retries 1, timeout 500ms: the bound is 2.5 s; the test allows
one more second for the 200 ms scheduler tick and a loaded machine.
--- http_config eval
$::Backends . q{
    cflb_monitor web { path /healthz; interval 1s; timeout 500ms; retries 1; }
    cflb_pool h1a { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_pool h1b { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools h1a h1b; }
}
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('h1a/a', 'healthy', 3);
my $before = Cflb::load('/t', 50);
main::down();
my $away = Cflb::wait_health('h1a/a', 'unhealthy', 5);
my $during = Cflb::load('/t', 50);
main::up();
my $back = Cflb::wait_health('h1a/a', 'healthy', 5);
my $after = Cflb::load('/t', 50);
$Cflb::note{out} = "before: " . CORE::join(',', %$before) . "\n"
    . "during: " . CORE::join(',', %$during) . "\n"
    . "after: " . CORE::join(',', %$after) . "\n"
    . "left in time: " . ($away <= 3.5 ? "yes" : "no ($away s)") . "\n"
    . "back in time: " . ($back <= 3.5 ? "yes" : "no ($back s)") . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before: a,50
during: b,50
after: a,50
left in time: yes
back in time: yes
--- error_log eval
[qr/cflb: endpoint "a" of pool "h1a" \(lb "www"\) is unhealthy, was healthy: Response code mismatch, status 503/,
 qr/cflb: endpoint "a" of pool "h1a" \(lb "www"\) is healthy, was unhealthy: No failures, status 200/,
 qr/cflb: pool "h1a" \(lb "www"\) is critical, was healthy/]



=== TEST 2: one probe per interval, with 4 workers
--- http_config eval
$::Backends . q{
    cflb_monitor web { path /healthz; interval 1s; timeout 500ms; }
    cflb_pool h2 { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_lb www { pools h2; }
}
--- config eval: $::Status
--- init
main::up();
sleep 5.5;
open my $f, '<', "$ServRoot/logs/probes.log" or die $!;
my @lines = <$f>;
$Cflb::note{n} = scalar @lines;
--- request
GET /status
--- response_body_filters eval
sub { my $n = $Cflb::note{n};
      "probes in 5.5 s: " . ($n >= 5 && $n <= 7 ? "5 to 7" : $n) . "\n" }
--- response_body
probes in 5.5 s: 5 to 7
--- no_error_log
[error]



=== TEST 3: killing the worker that probes does not stop probing
--- http_config eval
$::Backends . q{
    cflb_monitor web { path /healthz; interval 1s; timeout 500ms; }
    cflb_pool h3 { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_lb www { pools h3; }
}
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('h3/a', 'healthy', 3);
my $e = Cflb::endpoint('h3/a');
kill 'KILL', $e->{prober};
sleep 0.5;
my $probes = Cflb::endpoint('h3/a')->{probes};
sleep 3.2;
my $now = Cflb::endpoint('h3/a');
$Cflb::note{out} = "probes went on: "
    . ($now->{probes} >= $probes + 2 ? "yes" : "no") . "\n"
    . "by another worker: "
    . ($now->{prober} != $e->{prober} ? "yes" : "no") . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
probes went on: yes
by another worker: yes



=== TEST 4: a reload keeps health: no cold start, no request to a known-dead endpoint
consecutive_up 3 at a 1 s interval: a fresh start would take 2 s or more
to trust endpoint a; with the zone kept, the new workers use it at once.
--- http_config eval
$::Backends . q{
    cflb_monitor web {
        path /healthz; interval 1s; timeout 500ms; consecutive_up 3;
    }
    cflb_monitor gone { path /healthz; port 1998; interval 1s; timeout 500ms; }
    cflb_pool h4 { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_pool h4dead { endpoint x 127.0.0.1:1990; monitor gone; }
    cflb_pool h4b { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools h4dead h4 h4b; }
}
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('h4/a', 'healthy', 5);
Cflb::wait_health('h4dead/x', 'unhealthy', 3);
my @old = Cflb::worker_pids();
kill 'HUP', Cflb::master_pid();
Cflb::wait_until(sub { my %o = map { $_ => 1 } @old;
                       !grep { $o{$_} } Cflb::worker_pids() }, 5);
$Cflb::note{t} = Cflb::load('/t', 100);
--- request
GET /status
--- response_body_filters eval
sub { CORE::join('', map { "$_ $Cflb::note{t}{$_}\n" } sort keys %{ $Cflb::note{t} }) }
--- response_body
a 100



=== TEST 5: tcp monitor: a listener passes, a closed port fails
--- http_config eval
$::Backends . q{
    cflb_monitor t { type tcp; interval 1s; timeout 500ms; retries 0; }
    cflb_pool h5 {
        endpoint up 127.0.0.1:1991;
        endpoint closed 127.0.0.1:1998;
        monitor t;
    }
    cflb_lb www { pools h5; }
}
--- config eval: $::Status
--- init
Cflb::wait_health('h5/up', 'healthy', 3);
Cflb::wait_health('h5/closed', 'unhealthy', 3);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json(shift);
      CORE::join '', map { "$_->{name}: $_->{health}, $_->{reason}\n" }
          @{ $st->{pools}[0]{endpoints} } }
--- response_body
up: healthy, No failures
closed: unhealthy, TCP connection failed



=== TEST 6: udp_icmp monitor: silence passes, ICMP port unreachable fails
--- main_config
    stream { server { listen 127.0.0.1:1994 udp; return "pong"; } }
--- http_config eval
$::Backends . q{
    cflb_monitor u { type udp_icmp; interval 1s; timeout 500ms; retries 0; }
    cflb_pool h6 {
        endpoint listener 127.0.0.1:1994;
        endpoint nobody 127.0.0.1:1997;
        monitor u;
    }
    cflb_lb www { pools h6; }
}
--- config eval: $::Status
--- init
Cflb::wait_health('h6/listener', 'healthy', 3);
Cflb::wait_health('h6/nobody', 'unhealthy', 3);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json(shift);
      CORE::join '', map { "$_->{name}: $_->{health}, $_->{reason}\n" }
          @{ $st->{pools}[0]{endpoints} } }
--- response_body
listener: healthy, No failures
nobody: unhealthy, ICMP port unreachable



=== TEST 7: https monitor: certificate verification, trust, SNI name, allow_insecure
--- http_config eval
$::Backends . "
    server {
        listen 127.0.0.1:1995 ssl;
        ssl_certificate $::Cert/test.crt;
        ssl_certificate_key $::Cert/test.key;
        return 200 ok;
    }
    cflb_monitor strict { type https; interval 1s; timeout 500ms; retries 0; }
    cflb_monitor trusting {
        type https; interval 1s; timeout 500ms; retries 0;
        ssl_trusted_certificate $::Cert/test.crt;
    }
    cflb_monitor insecure {
        type https; interval 1s; timeout 500ms; retries 0; allow_insecure on;
    }
    cflb_pool h7strict { endpoint s 127.0.0.1:1995 host=secure.example; monitor strict; }
    cflb_pool h7trust { endpoint s 127.0.0.1:1995 host=secure.example; monitor trusting; }
    cflb_pool h7name { endpoint s 127.0.0.1:1995 host=other.example; monitor trusting; }
    cflb_pool h7insecure { endpoint s 127.0.0.1:1995 host=other.example; monitor insecure; }
    cflb_lb www { pools h7strict h7trust h7name h7insecure; }
"
--- config eval: $::Status
--- init
Cflb::wait_until(sub { !grep { $_->{endpoints}[0]{health} eq 'unknown' }
                           @{ Cflb::status()->{pools} } }, 4);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json(shift);
      CORE::join '', map { "$_->{name}: $_->{endpoints}[0]{health}, "
                     . "$_->{endpoints}[0]{reason}\n" } @{ $st->{pools} } }
--- response_body
h7strict: unhealthy, TLS untrusted certificate
h7trust: healthy, No failures
h7name: unhealthy, TLS name mismatch
h7insecure: healthy, No failures



=== TEST 8: expected_body is matched case-insensitively, in a gzip body too; expected_codes lists
--- http_config eval
$::Backends . q{
    server {
        listen 127.0.0.1:1996;
        gzip on; gzip_min_length 1; gzip_types text/plain;
        default_type text/plain;
        location = /alive { return 200 "Status: ALIVE and well\n"; }
        location = /moved { return 302 /alive; }
        location = /teapot { return 418 "short and stout"; }
    }
    cflb_monitor body {
        path /alive; header Accept-Encoding gzip; expected_body "alive AND";
        interval 1s; timeout 500ms; retries 0;
    }
    cflb_monitor nobody {
        path /alive; expected_body dead; interval 1s; timeout 500ms; retries 0;
    }
    cflb_monitor redirect {
        path /moved; follow_redirects on; expected_body alive;
        interval 1s; timeout 500ms; retries 0;
    }
    cflb_monitor noredirect { path /moved; interval 1s; timeout 500ms; retries 0; }
    cflb_monitor teapot {
        path /teapot; expected_codes 200 4xx; interval 1s; timeout 500ms;
        retries 0;
    }
    cflb_pool h8body { endpoint e 127.0.0.1:1996; monitor body; }
    cflb_pool h8nobody { endpoint e 127.0.0.1:1996; monitor nobody; }
    cflb_pool h8redirect { endpoint e 127.0.0.1:1996; monitor redirect; }
    cflb_pool h8noredirect { endpoint e 127.0.0.1:1996; monitor noredirect; }
    cflb_pool h8teapot { endpoint e 127.0.0.1:1996; monitor teapot; }
    cflb_lb www { pools h8body h8nobody h8redirect h8noredirect h8teapot; }
}
--- config eval: $::Status
--- init
Cflb::wait_until(sub { !grep { $_->{endpoints}[0]{health} eq 'unknown' }
                           @{ Cflb::status()->{pools} } }, 4);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json(shift);
      CORE::join '', map { "$_->{name}: $_->{endpoints}[0]{health}, "
                     . "$_->{endpoints}[0]{reason}, "
                     . "$_->{endpoints}[0]{status}\n" } @{ $st->{pools} } }
--- response_body
h8body: healthy, No failures, 200
h8nobody: unhealthy, Response body mismatch, 200
h8redirect: healthy, No failures, 200
h8noredirect: unhealthy, Response code mismatch, 302
h8teapot: healthy, No failures, 418



=== TEST 9: smtp monitor against scripted servers: a polite one and a refusing one
--- http_config eval
$::Backends . q{
    cflb_monitor mail { type smtp; interval 1s; timeout 500ms; retries 0; }
    cflb_pool h9 {
        endpoint good 127.0.0.1:1992;
        endpoint bad 127.0.0.1:1993;
        monitor mail;
    }
    cflb_lb www { pools h9; }
}
--- config eval: $::Status
--- init
Cflb::scripted(1992, ["> 220 mx.test ESMTP\r\n", "< HELO",
                      "> 250-mx.test\r\n250 ok\r\n", "< QUIT",
                      "> 221 bye\r\n"]);
Cflb::scripted(1993, ["> 554 go away\r\n"]);
Cflb::wait_health('h9/good', 'healthy', 3);
Cflb::wait_reason('h9/bad', 'Response code mismatch', 3);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json(shift);
      CORE::join '', map { "$_->{name}: $_->{health}, $_->{reason}, $_->{status}\n" }
          @{ $st->{pools}[0]{endpoints} } }
--- response_body
good: healthy, No failures, 221
bad: unhealthy, Response code mismatch, 554



=== TEST 10: misbehaving endpoints fail within the timeout: silence, garbage, a huge body
--- http_config eval
$::Backends . q{
    server {
        listen 127.0.0.1:1996;
        location = /huge { return 200 "$request_id"; }
    }
    cflb_monitor m { interval 1s; timeout 500ms; retries 0; expected_body zzz; path /huge; }
    cflb_pool h10 {
        endpoint silent 127.0.0.1:1999;
        endpoint garbage 127.0.0.1:1993;
        endpoint big 127.0.0.1:1992;
        monitor m;
    }
    cflb_lb www { pools h10; }
}
--- config eval: $::Status
--- init
Cflb::blackhole(1999, 30);
Cflb::scripted(1993, ["> \x00\x01garbage\r\n\r\n"]);
Cflb::scripted(1992, ["< GET", "> HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"
                      . ("x" x 65536)]);
Cflb::wait_reason('h10/silent', 'HTTP timeout occurred', 3);
Cflb::wait_reason('h10/garbage', 'HTTP Invalid Response', 3);
Cflb::wait_reason('h10/big', 'Response body mismatch', 3);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json(shift);
      CORE::join '', map { "$_->{name}: $_->{health}, $_->{reason}\n" }
          @{ $st->{pools}[0]{endpoints} } }
--- response_body
silent: unhealthy, HTTP timeout occurred
garbage: unhealthy, HTTP Invalid Response
big: unhealthy, Response body mismatch
--- no_error_log
[alert]



=== TEST 11: ldap monitor: an anonymous bind, answered by scripted servers
A scripted responder stands in for slapd: it reads the 14-byte bind
request and answers success (resultCode 0) or invalidCredentials (49).
--- http_config eval
$::Backends . q{
    cflb_monitor dir { type ldap; interval 1s; timeout 500ms; retries 0; }
    cflb_pool h11 {
        endpoint good 127.0.0.1:1992;
        endpoint refused 127.0.0.1:1993;
        monitor dir;
    }
    cflb_lb www { pools h11; }
}
--- config eval: $::Status
--- init
Cflb::scripted(1992, ["<<14", "> \x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00"]);
Cflb::scripted(1993, ["<<14", "> \x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00"]);
Cflb::wait_health('h11/good', 'healthy', 3);
Cflb::wait_reason('h11/refused', 'Response code mismatch', 3);
--- request
GET /status
--- response_body_filters eval
sub { my $st = JSON::PP::decode_json(shift);
      CORE::join '', map { "$_->{name}: $_->{health}, $_->{reason}, $_->{status}\n" }
          @{ $st->{pools}[0]{endpoints} } }
--- response_body
good: healthy, No failures, 0
refused: unhealthy, Response code mismatch, 49



=== TEST 12: icmp_ping monitor: 127.0.0.1 answers echo requests
The workers run as root here, so the probe has a raw socket if no ICMP
datagram socket is allowed (see docs/directives.md on privileges).
--- http_config eval
$::Backends . q{
    cflb_monitor ping { type icmp_ping; interval 1s; timeout 500ms; retries 0; }
    cflb_pool h12 { endpoint lo 127.0.0.1; monitor ping; }
    cflb_lb www { pools h12; }
}
--- config eval: $::Status
--- init
Cflb::wait_health('h12/lo', 'healthy', 3);
--- request
GET /status
--- response_body_filters eval
sub { my $e = JSON::PP::decode_json(shift)->{pools}[0]{endpoints}[0];
      "$e->{name}: $e->{health}, $e->{reason}\n" }
--- response_body
lo: healthy, No failures
--- no_error_log
[error]
