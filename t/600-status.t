# vim:set ft= ts=4 sw=4 et fdm=marker:

# The status document (docs/status.md) against the traffic a test sent:
# requests per endpoint equal what each backend answered, outstanding
# goes back to 0, bytes equal what went over the wire, failovers and
# affinity sessions are counted where they happened, a disabled endpoint
# shows its drain, and the http document carries the stream zone.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(2);
master_on();

plan "no_plan";

# 100-byte bodies that name their backend by the first letter
our $Body = 'x' x 99;

our $Backends = <<"_EOC_";
    server { listen 127.0.0.1:1990; location / { return 200 "a$Body"; } }
    server { listen 127.0.0.1:1991; location / { return 200 "b$Body"; } }
    server { listen 127.0.0.1:1992; location / { return 200 "c$Body"; } }
    cflb_zone cflb 1m;
_EOC_

our $Status = <<'_EOC_';
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; }
_EOC_

# what nginx's proxy sends for GET /t to the load balancer "www"
our $Upstream_request = "GET /t HTTP/1.0\r\nHost: www\r\n"
                        . "Connection: close\r\n\r\n";

no_shuffle();
run_tests();


# the bytes backend $port answers to that request (the Date header keeps
# its length, so every answer has this many)
sub answer_length {
    my ($port) = @_;

    my $sock = Cflb::connect_to($port);
    print $sock $::Upstream_request;
    local $/;
    my $raw = <$sock> // '';

    return length $raw;
}


sub endpoints {
    my ($st) = @_;
    return map { my $p = $_; map { ("$p->{name}/$_->{name}" => $_) }
                                 @{ $p->{endpoints} } } @{ $st->{pools} };
}

__DATA__

=== TEST 1: requests per endpoint match the backends' answers; bytes exact
600 requests over three endpoints; each backend's answers are counted by
the client from the bodies.  Bytes sent are the proxied request's length
times the requests, bytes received the backend answer's length times.
--- http_config eval
$::Backends . q{
    cflb_pool s1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992;
    }
    cflb_lb www { pools s1; }
}
--- config eval: $::Status
--- init
$Cflb::note{tally} = Cflb::load('/t', 600);
$Cflb::note{len} = main::answer_length(1990);
$Cflb::note{time} = time;
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my %ep = main::endpoints($st);
    my %hits = map { substr($_, 0, 1) => $Cflb::note{tally}{$_} }
               keys %{ $Cflb::note{tally} };
    my $p = $st->{pools}[0];
    my ($out, $sum) = ('', 0);

    for my $n (qw(a b c)) {
        my $e = $ep{"s1/$n"};
        $sum += $e->{requests};
        $out .= "$n: requests " . ($e->{requests} == ($hits{$n} // -1)
                                   ? "match" : "$e->{requests} != $hits{$n}")
              . ", outstanding $e->{outstanding}/$e->{active}"
              . ", sent " . ($e->{bytes_sent}
                             == $e->{requests} * length $::Upstream_request
                             ? "exact" : $e->{bytes_sent})
              . ", received " . ($e->{bytes_received}
                                 == $e->{requests} * $Cflb::note{len}
                                 ? "exact" : $e->{bytes_received})
              . ", failovers $e->{failovers}, sessions $e->{sessions}"
              . ", drain " . (defined $e->{drain} ? "set" : "null") . "\n";
    }

    my %sumf;
    for my $f (qw(requests bytes_sent bytes_received)) {
        my $s = 0;
        $s += $_->{$f} for @{ $p->{endpoints} };
        $sumf{$f} = $s == $p->{$f} ? "=" : "$s != $p->{$f}";
    }

    $out . "sum $sum, pool outstanding $p->{outstanding}\n"
    . "pool = sum of endpoints: $sumf{requests} $sumf{bytes_sent} "
    . "$sumf{bytes_received}\n"
    . "subsystem $st->{subsystem}, time "
    . (abs($st->{time} - $Cflb::note{time}) <= 5 ? "now" : $st->{time})
    . ", stream " . (exists $st->{stream} ? "present" : "absent") . "\n"
    . "lb: $st->{lbs}[0]{session_affinity} "
    . "drain $st->{lbs}[0]{drain_duration} "
    . "zdf $st->{lbs}[0]{zero_downtime_failover}\n";
}
--- response_body
a: requests match, outstanding 0/0, sent exact, received exact, failovers 0, sessions 0, drain null
b: requests match, outstanding 0/0, sent exact, received exact, failovers 0, sessions 0, drain null
c: requests match, outstanding 0/0, sent exact, received exact, failovers 0, sessions 0, drain null
sum 600, pool outstanding 0
pool = sum of endpoints: = = =
subsystem http, time now, stream absent
lb: none drain 0 zdf none
--- no_error_log
[error]



=== TEST 2: outstanding counts requests held in flight, then returns to 0
Four requests wait on an endpoint that never answers until the proxy
read timeout (2 s) gives them up.
--- http_config eval
$::Backends . q{
    cflb_pool s2 { endpoint hole 127.0.0.1:1999; }
    cflb_lb www { pools s2; }
}
--- config eval
$::Status . q{
    location /slow { proxy_pass http://www; proxy_read_timeout 2s; }
}
--- init
Cflb::blackhole(1999, 30);
Cflb::hold('/slow', 4, 10);
$Cflb::note{held} = Cflb::endpoint('s2/hole')->{outstanding};
Cflb::wait_until(sub { Cflb::active_total() == 0 }, 10);
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my $e = $st->{pools}[0]{endpoints}[0];
    "held $Cflb::note{held}\n"
    . "after: outstanding $e->{outstanding}, requests $e->{requests}, "
    . "fails $e->{fails}\n";
}
--- response_body
held 4
after: outstanding 0, requests 4, fails 4
--- error_log
upstream timed out



=== TEST 3: failovers are counted on the endpoint that took the retry over
Every attempt on "dead" (no listener) is refused and retried once on
"a" (zero_downtime_failover temporary): a's failovers equal dead's
failures, and the client sees only a.
--- http_config eval
$::Backends . q{
    cflb_pool s3 {
        endpoint a 127.0.0.1:1990;
        endpoint dead 127.0.0.1:1998;
    }
    cflb_lb www { pools s3; zero_downtime_failover temporary; }
}
--- config eval: $::Status
--- init
$Cflb::note{tally} = Cflb::load('/t', 300);
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my %ep = main::endpoints($st);
    my ($a, $d, $p) = ($ep{'s3/a'}, $ep{'s3/dead'}, $st->{pools}[0]);
    "client saw: " . CORE::join(' ', map { substr($_, 0, 1) . "=$Cflb::note{tally}{$_}" }
                               sort keys %{ $Cflb::note{tally} }) . "\n"
    . "dead tried: " . ($d->{requests} > 50 ? "yes" : "no ($d->{requests})")
    . ", all failed: " . ($d->{fails} == $d->{requests} ? "yes" : "no") . "\n"
    . "a failovers = dead fails: "
    . ($a->{failovers} == $d->{fails} ? "yes" : "$a->{failovers} != $d->{fails}")
    . "\n"
    . "dead failovers $d->{failovers}, dead bytes received $d->{bytes_received}\n"
    . "pool failovers = a's: "
    . ($p->{failovers} == $a->{failovers} ? "yes" : "no") . "\n"
    . "a requests = first tries + failovers: "
    . ($a->{requests} == 300 - $d->{requests} + $a->{failovers}
       ? "yes" : "no") . "\n";
}
--- response_body
client saw: a=300
dead tried: yes, all failed: yes
a failovers = dead fails: yes
dead failovers 0, dead bytes received 0
pool failovers = a's: yes
a requests = first tries + failovers: yes
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 4: cookie affinity: each new session is counted once, on its endpoint
40 clients without a cookie each start a session (a Set-Cookie); 40 more
requests carry those cookies and start none.
--- http_config eval
$::Backends . q{
    cflb_pool s4 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www { pools s4; session_affinity cookie; }
}
--- config eval: $::Status
--- init
my (%by, @cookies);
for (1 .. 40) {
    my $r = Cflb::get();
    next unless defined $r->{cookie};
    push @cookies, $r->{cookie};
    $by{substr($r->{body}, 0, 1)}++;
}
Cflb::get(headers => ["Cookie: __cflb=$_"]) for @cookies;
$Cflb::note{set} = scalar @cookies;
$Cflb::note{by} = \%by;
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my %ep = main::endpoints($st);
    my $by = $Cflb::note{by};
    "cookies set $Cflb::note{set}\n"
    . CORE::join('', map { "$_: sessions " . ($ep{"s4/$_"}{sessions} == ($by->{$_} // 0)
                                        ? "match" : "differ") . "\n" } qw(a b))
    . "pool sessions $st->{pools}[0]{sessions}, requests "
    . "$st->{pools}[0]{requests}\n"
    . "lb: $st->{lbs}[0]{session_affinity} ttl "
    . "$st->{lbs}[0]{session_affinity_ttl}\n";
}
--- response_body
cookies set 40
a: sessions match
b: sessions match
pool sessions 40, requests 80
lb: cookie ttl 82800
--- no_error_log
[error]



=== TEST 5: a disabled endpoint drains for the longest drain_duration of the lbs using its pool
--- http_config eval
$::Backends . q{
    cflb_pool s5 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991 disabled;
    }
    cflb_pool s5x { endpoint c 127.0.0.1:1992 disabled; }
    cflb_lb www { pools s5; session_affinity cookie; drain_duration 60s; }
    cflb_lb long { pools s5; session_affinity cookie; drain_duration 600s; }
    cflb_lb other { pools s5x; }
}
--- config eval: $::Status
--- init
$Cflb::note{time} = time;
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my %ep = main::endpoints($st);
    my $t = $Cflb::note{time};
    my $d = $ep{'s5/b'}{drain};
    my $x = $ep{'s5x/c'}{drain};
    "a: enabled " . JSON::PP::encode_json($ep{'s5/a'}{enabled})
    . ", drain " . JSON::PP::encode_json($ep{'s5/a'}{drain}) . "\n"
    . "b: enabled " . JSON::PP::encode_json($ep{'s5/b'}{enabled})
    . ", since " . ($d->{since} <= $t && $d->{since} > $t - 30 ? "start" : $d->{since})
    . ", duration $d->{duration}, remaining "
    . ($d->{remaining} == $d->{since} + 600 - $st->{time} ? "since+600-time" : $d->{remaining})
    . "\n"
    . "c: duration $x->{duration}, remaining $x->{remaining}\n"
    . "lbs drain: " . CORE::join(' ', map { $_->{drain_duration} } @{ $st->{lbs} }) . "\n";
}
--- response_body
a: enabled true, drain null
b: enabled false, since start, duration 600, remaining since+600-time
c: duration 0, remaining 0
lbs drain: 60 600 0
--- no_error_log
[error]



=== TEST 6: the http document carries the stream zone, with its traffic
30 TCP sessions through a stream cflb_lb to a greeter: requests, bytes
received (the greeting) and outstanding back to 0 show under "stream".
--- main_config
stream {
    cflb_zone scflb 1m;
    cflb_pool tcp_pool { endpoint g 127.0.0.1:1994; }
    cflb_lb tcp { pools tcp_pool; }
    log_format s "$cflb_endpoint";
    server { listen 127.0.0.1:1985; proxy_pass tcp; access_log logs/stream.log s; }
}
--- http_config eval
$::Backends . q{
    cflb_pool s6 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools s6; }
}
--- config eval: $::Status
--- init
Cflb::greeter(1994, 'greetings', 30);
$Cflb::note{tally} = Cflb::tcp_sessions(1985, 30, log => 'logs/stream.log');
--- request
GET /status
--- response_body_filters eval
sub {
    my $st = JSON::PP::decode_json(shift);
    my $s = $st->{stream};
    my $p = $s->{pools}[0];
    my $e = $p->{endpoints}[0];
    "client saw: " . Cflb::tally_lines($Cflb::note{tally})
    . "http pools: " . CORE::join(' ', map { $_->{name} } @{ $st->{pools} }) . "\n"
    . "stream lbs: " . CORE::join(' ', map { $_->{name} } @{ $s->{lbs} })
    . ", affinity field " . (exists $s->{lbs}[0]{session_affinity} ? "shown" : "absent") . "\n"
    . "stream pool $p->{name}: requests $p->{requests}, outstanding $p->{outstanding}\n"
    . "endpoint $e->{name}: requests $e->{requests}, received "
    . ($e->{bytes_received} == 30 * length("greetings\n") ? "30 greetings" : $e->{bytes_received})
    . ", sent $e->{bytes_sent}\n";
}
--- response_body
client saw: greetings 30
http pools: s6
stream lbs: tcp, affinity field absent
stream pool tcp_pool: requests 30, outstanding 0
endpoint g: requests 30, received 30 greetings, sent 0
--- no_error_log
[error]



=== TEST 7: ?format=json is the default document; an unknown format is refused
--- http_config eval
$::Backends . q{
    cflb_pool s7 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools s7; }
}
--- config eval: $::Status
--- request eval
["GET /status?format=json", "GET /status?format=xml"]
--- response_headers eval
["Content-Type: application/json", "Content-Type: text/html"]
--- error_code eval
[200, 400]
--- no_error_log
[error]



=== TEST 8: a block without cflb objects serves an empty document
--- config
    location = /status { cflb_status; }
--- request eval
["GET /status", "GET /status?format=prometheus"]
--- response_body_like eval
[qr/^\{"time":\d+,"subsystem":"http","lbs":\[\],"pools":\[\]\}$/,
 qr/^# HELP cflb_endpoint_requests_total [^\n]+\n# TYPE cflb_endpoint_requests_total counter\n/]
--- no_error_log
[error]
