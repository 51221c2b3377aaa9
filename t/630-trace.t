# vim:set ft= ts=4 sw=4 et fdm=marker:

# $cflb_trace (docs/trace.md): the decision trace of a request, in an
# X-Trace response header and in an access log.  Every setup is chosen so
# that the trace is known in advance: a test sends requests and compares
# the distinct traces (sorted) with the exact lines expected.  Where a
# random draw decides between two outcomes, both lines are expected and
# the chance that one does not appear is given.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);
master_on();
workers(1);
log_level('warn');

plan "no_plan";

our $Key = Cflb::key_file('k', 32);

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_zone cflb 1m;
    cflb_monitor t { type tcp; interval 1s; timeout 300ms; retries 0; }
    log_format trace '$cflb_trace';
_EOC_

our $Config = <<'_EOC_';
    location = /status { cflb_status; }
    location /t {
        proxy_pass http://www;
        add_header X-Trace $cflb_trace always;
        access_log logs/trace.log trace;
    }
    location /plain { add_header X-Trace $cflb_trace always; return 204; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# $n requests (get() options in %o); the distinct X-Trace values, sorted,
# one a line, each after the answer (the body, or the status if not 200)
sub traces {
    my ($n, %o) = @_;

    my %seen;

    for (1 .. $n) {
        my $r = Cflb::get(%o);
        my $answer = $r->{status} == 200 ? $r->{body} : $r->{status};
        $seen{"$answer: " . ($r->{headers}{'x-trace'} // 'none')} = 1;
    }

    return CORE::join '', map { "$_\n" } sort keys %seen;
}


# one request's X-Trace with the cookie given (or none)
sub trace_with {
    my ($cookie) = @_;

    my $r = Cflb::get(defined $cookie ? (headers => ["Cookie: __cflb=$cookie"])
                                      : ());
    return $r->{headers}{'x-trace'} // 'none';
}

__DATA__

=== TEST 1: random traffic steering: the trace names the pool and endpoint that answered
Two pools of one endpoint each; 30 requests reach both (each line has
probability 2^-30 of not appearing).
--- http_config eval
$::Backends . q{
    cflb_pool r1 { endpoint a 127.0.0.1:1990; }
    cflb_pool r2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools r1 r2; steering random; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::traces(30);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a: lb=www pool=r1(random) endpoint=r1/a(random)
b: lb=www pool=r2(random) endpoint=r2/b(random)
--- no_error_log
[error]



=== TEST 2: off steering: a critical first pool is skipped, the next in priority serves
p1's only endpoint is a closed port under a tcp monitor, so p1 has fewer
healthy endpoints than minimum_origins 1.
--- http_config eval
$::Backends . q{
    cflb_pool p1 { endpoint x 127.0.0.1:1998; monitor t; }
    cflb_pool p2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools p1 p2; }
}
--- config eval: $::Config
--- init
Cflb::wait_health('p1/x', 'unhealthy', 5);
$Cflb::note{out} = main::traces(5);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
b: lb=www pool=p2(priority) endpoint=p2/b(random) skipped=p1:critical
--- no_error_log
[error]



=== TEST 3: a disabled and an unhealthy endpoint are listed with their reasons, in the access log too
least_outstanding_requests asks about every weighted endpoint on every
pick, so both are examined on every request.
--- http_config eval
$::Backends . q{
    cflb_pool e {
        endpoint d 127.0.0.1:1991 disabled;
        endpoint u 127.0.0.1:1998;
        endpoint a 127.0.0.1:1990;
        endpoint_steering least_outstanding_requests;
        monitor t;
    }
    cflb_lb www { pools e; }
}
--- config eval: $::Config
--- init
Cflb::wait_health('e/u', 'unhealthy', 5);
my $out = main::traces(5);
my %log = map { $_ => 1 } Cflb::log_lines('logs/trace.log');
$Cflb::note{out} = $out . "log: " . CORE::join("\nlog: ", sort keys %log)
                   . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a: lb=www pool=e(priority) endpoint=e/a(least_outstanding_requests) skipped=e/d:disabled,e/u:unhealthy
log: lb=www pool=e(priority) endpoint=e/a(least_outstanding_requests) skipped=e/d:disabled,e/u:unhealthy
--- no_error_log
[error]



=== TEST 4: the fallback pool serves when no listed pool can: disabled and critical pools are listed
--- http_config eval
$::Backends . q{
    cflb_pool p0 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool p1 { endpoint x 127.0.0.1:1998; monitor t; }
    cflb_pool fb { endpoint c 127.0.0.1:1992; }
    cflb_lb www { pools p0 p1; fallback_pool fb; }
}
--- config eval: $::Config
--- init
Cflb::wait_health('p1/x', 'unhealthy', 5);
$Cflb::note{out} = main::traces(5);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
c: lb=www pool=fb(fallback) endpoint=fb/c(random) skipped=p0:disabled,p1:critical
--- no_error_log
[error]



=== TEST 5: cookie affinity: new, resumed, and tokens refused as invalid, expired or unknown
A token of the load balancer www2 (same key, other pool) names no
endpoint of www.
--- http_config eval
$::Backends . qq{
    cflb_affinity_key $::Key;
    cflb_pool c { endpoint a 127.0.0.1:1990; }
    cflb_pool c2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools c; session_affinity cookie; }
    cflb_lb www2 { pools c2; session_affinity cookie; }
}
--- config eval
$::Config . q{
    location /u { proxy_pass http://www2; }
}
--- init
my $first = Cflb::get();
my $other = Cflb::get(path => '/u')->{cookie};
my $t = $first->{cookie};
(my $forged = $t) =~ tr/A-Za-z/B-ZAb-za/;
$Cflb::note{out} = CORE::join '', map { "$_\n" }
    "new: " . ($first->{headers}{'x-trace'} // 'none'),
    "resumed: " . main::trace_with($t),
    "forged: " . main::trace_with($forged),
    "garbage: " . main::trace_with('x'),
    "expired: " . main::trace_with(Cflb::forge_token($t, $::Key, time - 5)),
    "unknown: " . main::trace_with($other);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
new: lb=www affinity=cookie:new pool=c(priority) endpoint=c/a(random)
resumed: lb=www affinity=cookie:resumed pool=c(affinity) endpoint=c/a(affinity)
forged: lb=www affinity=cookie:invalid pool=c(priority) endpoint=c/a(random)
garbage: lb=www affinity=cookie:invalid pool=c(priority) endpoint=c/a(random)
expired: lb=www affinity=cookie:expired pool=c(priority) endpoint=c/a(random)
unknown: lb=www affinity=cookie:unknown pool=c(priority) endpoint=c/a(random)
--- no_error_log
[error]



=== TEST 6: header affinity without the session header: affinity=header:none
--- http_config eval
$::Backends . q{
    cflb_pool h { endpoint a 127.0.0.1:1990; }
    cflb_lb www {
        pools h;
        session_affinity header;
        session_affinity_headers X-Session;
    }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::traces(2)
    . main::traces(1, headers => ['X-Session: s1'])
    =~ s/^/with: /r;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a: lb=www affinity=header:none pool=h(priority) endpoint=h/a(random)
with: a: lb=www affinity=header:new pool=h(priority) endpoint=h/a(random)
--- no_error_log
[error]



=== TEST 7: zero-downtime failover: retry= names the endpoint that refused, and it is skipped as tried
Without a monitor the closed endpoint is a candidate: a first pick that
lands on it is retried on a.  40 requests show both traces (each has
probability 2^-40 of not appearing).
--- http_config eval
$::Backends . q{
    cflb_pool z {
        endpoint dead 127.0.0.1:1998;
        endpoint a 127.0.0.1:1990;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www { pools z; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::traces(40);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a: lb=www pool=z(priority) endpoint=z/a(least_outstanding_requests)
a: lb=www pool=z(priority) endpoint=z/a(least_outstanding_requests) skipped=z/dead:tried retry=z/dead:failed
--- error_log
connect() failed (111: Connection refused)



=== TEST 8: load shedding: a pool that sheds all new traffic is skipped as shed
--- http_config eval
$::Backends . q{
    cflb_pool s1 { endpoint a 127.0.0.1:1990; load_shedding default_percent=100; }
    cflb_pool s2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools s1 s2; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::traces(5);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
b: lb=www pool=s2(priority) endpoint=s2/b(random) skipped=s1:shed
--- no_error_log
[error]



=== TEST 9: names outside letters, digits and "-._~" are escaped; more than 8 skips end in +N; no cflb_lb, no trace
--- http_config eval
$::Backends . q{
    cflb_pool "eu west/1" {
        endpoint d1 127.0.0.1:1991 disabled;
        endpoint d2 127.0.0.1:1991 disabled;
        endpoint d3 127.0.0.1:1991 disabled;
        endpoint d4 127.0.0.1:1991 disabled;
        endpoint d5 127.0.0.1:1991 disabled;
        endpoint d6 127.0.0.1:1991 disabled;
        endpoint d7 127.0.0.1:1991 disabled;
        endpoint d8 127.0.0.1:1991 disabled;
        endpoint d9 127.0.0.1:1991 disabled;
        endpoint "a:1,b" 127.0.0.1:1990;
        endpoint_steering least_connections;
    }
    cflb_lb www { pools "eu west/1"; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::traces(2) . main::traces(1, path => '/plain');
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a: lb=www pool=eu%20west%2F1(priority) endpoint=eu%20west%2F1/a%3A1%2Cb(least_connections) skipped=eu%20west%2F1/d1:disabled,eu%20west%2F1/d2:disabled,eu%20west%2F1/d3:disabled,eu%20west%2F1/d4:disabled,eu%20west%2F1/d5:disabled,eu%20west%2F1/d6:disabled,eu%20west%2F1/d7:disabled,eu%20west%2F1/d8:disabled,+1
204: none
--- no_error_log
[error]



=== TEST 10: no endpoint at all: pool=- endpoint=- and the reasons
--- http_config eval
$::Backends . q{
    cflb_pool p0 { endpoint a 127.0.0.1:1990; enabled off; }
    cflb_pool fb { endpoint c 127.0.0.1:1992; enabled off; }
    cflb_lb www { pools p0; fallback_pool fb; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::traces(2);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
530: lb=www pool=- endpoint=- skipped=p0:disabled
--- error_log
no pool can serve and neither can the fallback pool "fb", 530



=== TEST 11: stream: $cflb_trace in a stream access log
--- stream_config eval
q{
    server { listen 127.0.0.1:1990; return "a\n"; }
    cflb_zone cflb 1m;
    log_format trace '$cflb_trace';
    cflb_pool p0 { endpoint x 127.0.0.1:1991; enabled off; }
    cflb_pool p { endpoint d 127.0.0.1:1991 disabled; endpoint a 127.0.0.1:1990; endpoint_steering least_connections; }
    cflb_lb tcp { pools p0 p; }
}
--- stream_server_config
    proxy_pass tcp;
    access_log logs/stream.log trace;
--- init
Cflb::tcp_sessions(1985, 3, log => 'logs/stream.log');
my %log = map { $_ => 1 } Cflb::log_lines('logs/stream.log');
$Cflb::note{out} = CORE::join '', map { "$_\n" } sort keys %log;
--- stream_request
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
lb=tcp pool=p(priority) endpoint=p/a(least_connections) skipped=p0:disabled,p/d:disabled
--- no_error_log
[error]



=== TEST 12: a pool that sheds sessions breaks them: affinity=cookie:shed
s1 takes all new traffic (default_percent=0) and sheds every session
(session_percent=100): a session made on s1 is steered afresh to s2.
--- http_config eval
$::Backends . qq{
    cflb_affinity_key $::Key;
    cflb_pool s1 {
        endpoint a 127.0.0.1:1990;
        load_shedding default_percent=0 session_percent=100;
    }
    cflb_pool s2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools s1 s2; session_affinity cookie; }
}
--- config eval: $::Config
--- init
my $first = Cflb::get();
$Cflb::note{out} = CORE::join '', map { "$_\n" }
    "first: $first->{body}: " . ($first->{headers}{'x-trace'} // 'none'),
    "again: " . main::trace_with($first->{cookie});
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
first: a: lb=www affinity=cookie:new pool=s1(priority) endpoint=s1/a(random)
again: lb=www affinity=cookie:shed pool=s2(priority) endpoint=s2/b(random) skipped=s1:shed
--- no_error_log
[error]



=== TEST 13: drain: a disabled endpoint serves its sessions while it drains (draining for others); unusable where it does not
A session is pinned to b, then a reload disables b.  www drains for an
hour; www0 (same pool and key, no drain) finds b unusable.
--- http_config eval
$::Backends . qq{
    cflb_affinity_key $::Key;
    cflb_pool c {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www { pools c; session_affinity cookie; drain_duration 1h; }
    cflb_lb www0 { pools c; session_affinity cookie; }
}
--- config eval
$::Config . q{
    location /z {
        proxy_pass http://www0;
        add_header X-Trace $cflb_trace always;
    }
}
--- init
my $b = Cflb::pin('b')->{cookie};
Cflb::reload_edit('endpoint b 127.0.0.1:1991;',
                  'endpoint b 127.0.0.1:1991 disabled;');
my $z = Cflb::get(path => '/z', headers => ["Cookie: __cflb=$b"]);
$Cflb::note{out} = CORE::join '', map { "$_\n" }
    "pinned: " . main::trace_with($b),
    "new: " . main::trace_with(),
    "no drain: " . ($z->{headers}{'x-trace'} // 'none');
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
pinned: lb=www affinity=cookie:resumed pool=c(affinity) endpoint=c/b(affinity)
new: lb=www affinity=cookie:new pool=c(priority) endpoint=c/a(least_outstanding_requests) skipped=c/b:draining
no drain: lb=www0 affinity=cookie:unusable pool=c(priority) endpoint=c/a(least_outstanding_requests) skipped=c/b:disabled
--- no_error_log
[error]



=== TEST 14: random draws that land on a skipped candidate again record it once
Weighted random redraws after a miss, so q1 (critical) and q2/d
(disabled) are each drawn, often more than once, in about half of the
requests: 80 requests show the four combinations (each has probability
(3/4)^80 < 1e-9 of not appearing), and none lists a candidate twice.
--- http_config eval
$::Backends . q{
    cflb_pool q1 { endpoint x 127.0.0.1:1998; monitor t; }
    cflb_pool q2 { endpoint d 127.0.0.1:1991 disabled; endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools q1 q2; steering random; }
}
--- config eval: $::Config
--- init
Cflb::wait_health('q1/x', 'unhealthy', 5);
$Cflb::note{out} = main::traces(80);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a: lb=www pool=q2(random) endpoint=q2/a(random)
a: lb=www pool=q2(random) endpoint=q2/a(random) skipped=q1:critical
a: lb=www pool=q2(random) endpoint=q2/a(random) skipped=q1:critical,q2/d:disabled
a: lb=www pool=q2(random) endpoint=q2/a(random) skipped=q2/d:disabled
--- no_error_log
[error]



=== TEST 15: failover across pools: the retry leaves the exhausted pool for the next one
--- http_config eval
$::Backends . q{
    cflb_pool z1 { endpoint dead 127.0.0.1:1998; }
    cflb_pool z2 { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools z1 z2; failover_across_pools on; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::traces(3);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
b: lb=www pool=z2(priority) endpoint=z2/b(random) skipped=z1/dead:tried,z1:exhausted retry=z1/dead:failed
--- error_log
connect() failed (111: Connection refused)



=== TEST 16: ip_cookie: the first choice is made from the client address, then the session is resumed
--- http_config eval
$::Backends . qq{
    cflb_affinity_key $::Key;
    cflb_pool i { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools i; session_affinity ip_cookie; }
}
--- config eval: $::Config
--- init
my $first = Cflb::get();
$Cflb::note{out} = CORE::join '', map { "$_\n" }
    "first: " . ($first->{headers}{'x-trace'} // 'none'),
    "again: " . main::trace_with($first->{cookie});
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
first: lb=www affinity=ip_cookie:new pool=i(ip_cookie) endpoint=i/a(ip_cookie)
again: lb=www affinity=ip_cookie:resumed pool=i(affinity) endpoint=i/a(affinity)
--- no_error_log
[error]
