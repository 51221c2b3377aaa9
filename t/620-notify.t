# vim:set ft= ts=4 sw=4 et fdm=marker:

# Alerts as webhooks (cflb_notify) against a real receiver on loopback:
# one event per health change of an endpoint, one per pool crossing
# minimum_origins, in the product's JSON shape; retries with backoff
# until the webhook takes it; requests keep flowing while the webhook is
# down; what a worker still held when it exits is logged as dropped; the
# stream subsystem alerts too.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServRoot);
use Cflb;

repeat_each(1);
workers(2);
worker_connections(1024);      # TEST 7 probes 140 endpoints at once
master_on();

plan "no_plan";

# backend a answers /healthz with 503 while html/down exists; b is fine
our $Backends = <<'_EOC_';
    server {
        listen 127.0.0.1:1990;
        root html;
        location = /healthz {
            if (-f $document_root/down) { return 503; }
            return 200 "ok";
        }
        location / { return 200 "a"; }
    }
    server { listen 127.0.0.1:1991; return 200 "b"; }
    cflb_zone cflb 1m;
    cflb_monitor web { path /healthz; interval 1s; timeout 500ms; }
_EOC_

our $Status = <<'_EOC_';
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; }
_EOC_

no_shuffle();
run_tests();

sub down { open my $f, '>', "$ServRoot/html/down" or die $!; close $f }
sub up { unlink "$ServRoot/html/down" }

# one line per event: source, new health, origins (the changed one
# starred, with its reason and code), the pool's health and change
sub summary {
    my @lines;

    for my $p (@_) {
        my $e = $p->{event} or do { push @lines, "not JSON"; next };
        my $o = CORE::join ' ', map {
            "$_->{name}" . ($_->{changed} ? '*' : '')
            . " ($_->{failure_reason}, $_->{response_code})"
        } @{ $e->{origins} };

        push @lines, "$e->{event_source} $e->{new_health}: $o; pool "
                     . "$e->{pool}{name} "
                     . ($e->{pool}{healthy} ? "healthy" : "unhealthy")
                     . ($e->{pool}{changed} ? ", changed" : "");
    }

    return CORE::join '', map { "$_\n" } @lines;
}

# the fields of an event and of the request carrying it, as "ok" lines
sub fields {
    my ($p) = @_;

    my $e = $p->{event};
    my $h = $p->{headers};
    my $o = $e->{origins}[0];
    my %ok = (
        'request' => $p->{method} eq 'POST' && $p->{path} eq '/hook?k=1',
        'headers' => $h->{'content-type'} eq 'application/json'
                     && $h->{'content-length'} == length($p->{body})
                     && $h->{'host'} eq '127.0.0.1:1995'
                     && $h->{'user-agent'} =~ m{^cflb/}
                     && $h->{'connection'} eq 'close',
        'id' => $e->{id} =~ /^[0-9a-f]{32}$/,
        'timestamp' => $e->{timestamp}
                       =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
        'alert_type' => $e->{alert_type} eq 'load_balancing_health_alert',
        'hostname' => length($e->{hostname}) > 0,
        'subsystem' => $e->{subsystem} eq 'http',
        'load_balancers' => "@{ $e->{load_balancers} }" eq 'www',
        'pool' => $e->{pool}{id} =~ /^[0-9a-f]{16}$/
                  && $e->{pool}{minimum_origins} == 2
                  && $e->{pool}{enabled} && $e->{pool}{health} eq 'critical',
        'origin' => $o->{ip} eq '127.0.0.1:1990' && $o->{enabled}
                    && !$o->{healthy},
    );

    return CORE::join '', map { "$_ " . ($ok{$_} ? "ok" : "bad") . "\n" }
                          sort keys %ok;
}

__DATA__

=== TEST 1: an endpoint goes down and comes back: one event each way, and the pool's as it crosses minimum_origins
Two workers probe; nothing is sent at start (a first check that finds an
endpoint healthy confirms what was assumed).  After the four events, two
more check intervals pass: no duplicate may come.
--- http_config eval
$::Backends . q{
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;
        monitor web; minimum_origins 2;
    }
    cflb_lb www { pools p1; }
    cflb_notify http://127.0.0.1:1995/hook?k=1;
}
--- config eval: $::Status
--- init
main::up();
Cflb::webhook(1995, [], 30);
Cflb::wait_health('p1/a', 'healthy', 3);
Cflb::wait_health('p1/b', 'healthy', 3);
sleep 1.2;
my $start = () = Cflb::webhook_posts();
main::down();
Cflb::wait_posts(2, 5);
main::up();
Cflb::wait_posts(4, 5);
sleep 2.2;
my @posts = Cflb::webhook_posts();
$Cflb::note{out} = "at start: $start\n" . main::summary(@posts)
                   . main::fields($posts[0]);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
at start: 0
origin Unhealthy: a* (Response code mismatch, 503); pool p1 unhealthy, changed
pool Unhealthy: a* (Response code mismatch, 503) b (No failures, 200); pool p1 unhealthy, changed
origin Healthy: a* (No failures, 200); pool p1 healthy, changed
pool Healthy: a* (No failures, 200) b (No failures, 200); pool p1 healthy, changed
alert_type ok
headers ok
hostname ok
id ok
load_balancers ok
origin ok
pool ok
request ok
subsystem ok
timestamp ok
--- error_log eval
[qr/cflb: webhook "http:\/\/127\.0\.0\.1:1995\/hook\?k=1": event [0-9a-f]{32} delivered, answered 200 after 0 retries/]
--- no_error_log
[error]



=== TEST 2: an endpoint that goes down in a pool that stays above minimum_origins: no pool event
--- http_config eval
$::Backends . q{
    cflb_pool p2 {
        endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;
        monitor web; minimum_origins 1;
    }
    cflb_lb www { pools p2; }
    cflb_notify http://127.0.0.1:1995/hook;
}
--- config eval: $::Status
--- init
main::up();
Cflb::webhook(1995, [], 30);
Cflb::wait_health('p2/a', 'healthy', 3);
main::down();
Cflb::wait_posts(1, 5);
sleep 2.2;
$Cflb::note{out} = main::summary(Cflb::webhook_posts());
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
origin Unhealthy: a* (Response code mismatch, 503); pool p2 healthy
--- no_error_log
[error]



=== TEST 3: the webhook answers 500 twice, then 200: the event arrives on the third try, after 1 s and 2 s of backoff, and the next one follows
The gaps are checked from below only (a timer never fires early by more
than the 200 ms allowed here); the second must be the longer.
--- http_config eval
$::Backends . q{
    cflb_pool p3 { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_lb www { pools p3; }
    cflb_notify http://127.0.0.1:1995/hook retries=3;
}
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('p3/a', 'healthy', 3);
Cflb::webhook(1995, [500, 500], 30);
main::down();
my @p = Cflb::wait_posts(2, 15);
my ($g1, $g2) = ($p[1]{t} - $p[0]{t}, $p[2]{t} - $p[1]{t});
$Cflb::note{out} = "attempts: " . CORE::join(' ', map { $_->{status} } @p)
    . "\nsame event three times: "
    . (($p[0]{event}{id} eq $p[1]{event}{id}
        && $p[1]{event}{id} eq $p[2]{event}{id}) ? "yes" : "no")
    . "\nin order: " . CORE::join(' ', map { $_->{event}{event_source} } @p)
    . "\nfirst gap at least 0.8 s: " . ($g1 >= 0.8 ? "yes" : "no ($g1)")
    . "\nsecond gap at least 1.6 s and longer: "
    . ($g2 >= 1.6 && $g2 > $g1 ? "yes" : "no ($g1, $g2)") . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
attempts: 500 500 200 200
same event three times: yes
in order: origin origin origin pool
first gap at least 0.8 s: yes
second gap at least 1.6 s and longer: yes
--- error_log eval
[qr/cflb: webhook "[^"]+": event [0-9a-f]{32} answered 500, retry 1 of 3 in 1000 ms/,
 qr/cflb: webhook "[^"]+": event [0-9a-f]{32} answered 500, retry 2 of 3 in 2000 ms/,
 qr/event [0-9a-f]{32} delivered, answered 200 after 2 retries/]
--- no_error_log
[error]



=== TEST 4: the webhook is down: requests are answered as usual while the events are retried, then dropped after 2 retries
Pool p4 has the monitored endpoint, pool live takes the traffic when p4
is critical.  Nothing listens on the webhook's port.
--- http_config eval
$::Backends . q{
    cflb_pool p4 { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_pool live { endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools p4 live; }
    cflb_notify http://127.0.0.1:1995/hook retries=2 timeout=1s;
}
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('p4/a', 'healthy', 3);
main::down();
Cflb::wait_health('p4/a', 'unhealthy', 5);
my (%tally, $rounds);
my $dropped = qr/event [0-9a-f]{32} dropped after 2 retries/;
for (1 .. 100) {
    my $t = Cflb::load('/t', 10);
    $tally{$_} += $t->{$_} for keys %$t;
    $rounds++;
    last if (grep { /$dropped/ } Cflb::log_lines('logs/error.log')) >= 2;
    sleep 0.1;
}
$Cflb::note{out} = "answered: " . CORE::join(',', %tally) . "\n"
    . "during the retries: " . ($rounds >= 10 ? "yes" : "no ($rounds)")
    . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} =~ s/answered: b,\d+/answered: all by b/; $Cflb::note{out} }
--- response_body
answered: all by b
during the retries: yes
--- error_log eval
[qr/\[warn\] .*cflb: webhook "http:\/\/127\.0\.0\.1:1995\/hook": event [0-9a-f]{32} connect\(\) failed, retry 1 of 2 in 1000 ms/,
 qr/\[warn\] .*event [0-9a-f]{32} connect\(\) failed, retry 2 of 2 in 2000 ms/,
 qr/\[error\] .*cflb: webhook "http:\/\/127\.0\.0\.1:1995\/hook": event [0-9a-f]{32} dropped after 2 retries, the last connect\(\) failed/]
--- no_error_log
[alert]
[crit]



=== TEST 5: a reload while events wait for their retry: the old worker exits at once and logs them as dropped
--- http_config eval
$::Backends . q{
    cflb_pool p5 { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_lb www { pools p5; }
    cflb_notify http://127.0.0.1:1995/hook retries=5;
}
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('p5/a', 'healthy', 3);
main::down();
Cflb::wait_error_log(qr/retry 1 of 5 in 1000 ms/, 5);
Cflb::reload_edit('retries=5', 'retries=4');
Cflb::wait_error_log(qr/dropped at worker exit/, 5);
--- request
GET /status
--- error_code: 200
--- error_log eval
qr/\[warn\] .*cflb: webhook "http:\/\/127\.0\.0\.1:1995\/hook": 2 event\(s\) dropped at worker exit/
--- no_error_log
[alert]
[crit]
open socket



=== TEST 6: stream{} alerts too, with "subsystem": "stream"
--- main_config
    stream {
        cflb_zone scflb 1m;
        cflb_monitor sweb { type http; path /healthz; interval 1s;
                            timeout 500ms; }
        cflb_pool s6 { endpoint a 127.0.0.1:1990; monitor sweb; }
        cflb_lb tcp6 { pools s6; }
        cflb_notify http://127.0.0.1:1995/stream;
        server { listen 127.0.0.1:1996; proxy_pass tcp6; }
    }
--- http_config eval: $::Backends
--- config
    location = /t { return 200; }
--- init
main::up();
Cflb::webhook(1995, [], 30);
sleep 1.5;
main::down();
my @p = Cflb::wait_posts(2, 5);
$Cflb::note{out} = CORE::join '', map {
    "$_->{path} $_->{event}{subsystem} $_->{event}{event_source} "
    . "$_->{event}{new_health} $_->{event}{load_balancers}[0]\n" } @p;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
/stream stream origin Unhealthy tcp6
/stream stream pool Unhealthy tcp6
--- no_error_log
[error]



=== TEST 7: a webhook that never answers and more events than a queue holds: the oldest waiting go, logged once per worker
141 events (140 endpoints and their pool) among 2 workers: one of them
queues more than 64.
--- http_config eval
$::Backends . "cflb_pool p7 { monitor web;\n"
    . CORE::join('', map { "endpoint e$_ 127.0.0.1:1990;\n" } 1 .. 140)
    . "}\ncflb_lb www { pools p7; }\n"
    . "cflb_notify http://127.0.0.1:1995/hook timeout=3s;\n"
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('p7/e140', 'healthy', 3);
Cflb::blackhole(1995, 30);
main::down();
Cflb::wait_health('p7/e140', 'unhealthy', 5);
sleep 0.5;
my %per;
for (Cflb::log_lines('logs/error.log')) {
    $per{$1}++ if /(\d+)#\d+: .*64 events waiting, dropping the oldest/;
}
$Cflb::note{out} = "workers that dropped: " . (%per ? "some" : "none") . "\n"
    . "logged once each: "
    . ((grep { $_ != 1 } values %per) ? "no" : "yes") . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
workers that dropped: some
logged once each: yes
--- no_error_log
[alert]
[crit]
