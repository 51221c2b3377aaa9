# vim:set ft= ts=4 sw=4 et fdm=marker:

# Alert filters and https webhooks (docs/alerts.md): several cflb_notify,
# each with its own filters (alerts=, event_source=, new_health=,
# enabled=, pools=), and a pool's notification_filter, against a real
# receiver on loopback; every event numbered by "sequence", so that one
# worker's events arrive in that order; https:// webhooks verified as
# https monitors are (trusted file, names and IP addresses), or not with
# ssl_verify=off.  TLS is ended by this nginx in front of the receiver.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServRoot);
use Cwd qw(abs_path);
use Cflb;

repeat_each(1);
workers(1);
master_on();

plan "no_plan";

our $Cert = abs_path('t/cert');

# backend a answers /healthz with 503 while html/down exists
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

# TLS in front of the receiver on 1995: 1996 with a certificate for
# localhost and 127.0.0.1, 1997 with one for secure.example only
our $Tls = <<"_EOC_";
    server {
        listen 127.0.0.1:1996 ssl;
        ssl_certificate $Cert/localhost.crt;
        ssl_certificate_key $Cert/localhost.key;
        location / {
            proxy_pass http://127.0.0.1:1995;
            proxy_http_version 1.1;
        }
    }
    server {
        listen 127.0.0.1:1997 ssl;
        ssl_certificate $Cert/test.crt;
        ssl_certificate_key $Cert/test.key;
        location / {
            proxy_pass http://127.0.0.1:1995;
            proxy_http_version 1.1;
        }
    }
_EOC_

our $Config = <<'_EOC_';
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; }
    location /api/ { allow 127.0.0.1; deny all; cflb_api; }
_EOC_

no_shuffle();
run_tests();

sub down { open my $f, '>', "$ServRoot/html/down" or die $!; close $f }
sub up { unlink "$ServRoot/html/down" }

# one word per event: the pool or origin, and what happened
sub word {
    my ($e) = @_;

    my $who = $e->{event_source} eq 'origin'
              ? CORE::join(',', map { $_->{name} } grep { $_->{changed} }
                                                   @{ $e->{origins} })
              : $e->{pool}{name};

    return "$who:" . (exists $e->{new_health} ? $e->{new_health}
                      : $e->{enabled} ? "enabled" : "disabled");
}

__DATA__

=== TEST 1: each webhook gets the events its filters take; a pool's notification_filter mutes its origins' health
p1 (a, b; minimum_origins 2) and p2 (c, on a's backend, muting its
origins) go down with a's backend and come back; then p2 is disabled
and enabled by the API.  One worker, so each webhook's events arrive in
"sequence" order; a webhook sees the same id and sequence as the others
for one event.
--- http_config eval
$::Backends . q{
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;
        monitor web; minimum_origins 2;
    }
    cflb_pool p2 {
        endpoint c 127.0.0.1:1990; monitor web;
        notification_filter origin=off;
    }
    cflb_lb www { pools p1 p2; }
    cflb_notify http://127.0.0.1:1995/all;
    cflb_notify http://127.0.0.1:1995/unhealthy alerts=health
                new_health=Unhealthy;
    cflb_notify http://127.0.0.1:1995/pools event_source=pool;
    cflb_notify http://127.0.0.1:1995/p2 pools=p2;
    cflb_notify http://127.0.0.1:1995/disabled alerts=enablement
                enabled=false;
}
--- config eval: $::Config
--- init
main::up();
Cflb::webhook(1995, [], 40);
Cflb::wait_health('p1/a', 'healthy', 3);
Cflb::wait_health('p2/c', 'healthy', 3);
main::down();
Cflb::wait_health('p1/a', 'unhealthy', 5);
Cflb::wait_health('p2/c', 'unhealthy', 5);
main::up();
Cflb::wait_health('p1/a', 'healthy', 5);
Cflb::wait_health('p2/c', 'healthy', 5);
Cflb::api(PATCH => '/api/pools/p2', '{"enabled":false}');
Cflb::api(PATCH => '/api/pools/p2', '{"enabled":true}');
# 8 + 3 + 6 + 4 + 1
my @posts = Cflb::wait_posts(22, 10);
sleep 1.2;
@posts = Cflb::webhook_posts();
my (%by, %seen, $ordered, $same);
$ordered = $same = 1;
for my $p (@posts) {
    my $e = $p->{event};
    push @{ $by{$p->{path}} }, $e;
    my $prev = $by{$p->{path}}[-2];
    $ordered = 0 if $prev && $prev->{sequence} >= $e->{sequence};
    my $k = "$e->{sequence}";
    $same = 0 if exists $seen{$k} && $seen{$k} ne $e->{id};
    $seen{$k} = $e->{id};
}
my $out = '';
for my $path (qw(/all /unhealthy /pools /p2 /disabled)) {
    $out .= "$path: " . CORE::join(' ', sort map { main::word($_) }
                                        @{ $by{$path} || [] }) . "\n";
}
$out .= "arrived in sequence order: " . ($ordered ? "yes" : "no") . "\n";
$out .= "one id per sequence: " . ($same ? "yes" : "no") . "\n";
$out .= "sequences: " . scalar(keys %seen) . " distinct\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
/all: a:Healthy a:Unhealthy p1:Healthy p1:Unhealthy p2:Healthy p2:Unhealthy p2:disabled p2:enabled
/unhealthy: a:Unhealthy p1:Unhealthy p2:Unhealthy
/pools: p1:Healthy p1:Unhealthy p2:Healthy p2:Unhealthy p2:disabled p2:enabled
/p2: p2:Healthy p2:Unhealthy p2:disabled p2:enabled
/disabled: p2:disabled
arrived in sequence order: yes
one id per sequence: yes
sequences: 8 distinct
--- no_error_log
[error]



=== TEST 2: https webhooks: trusted by file, by IP address and by name; ssl_verify=off; an untrusted one and a wrong name are refused
--- http_config eval
$::Backends . $::Tls . qq{
    cflb_pool p1 { endpoint a 127.0.0.1:1990; monitor web; }
    cflb_lb www { pools p1; }
    cflb_notify https://127.0.0.1:1996/by-ip event_source=origin
                ssl_trusted_certificate=$::Cert/localhost.crt;
    cflb_notify https://localhost:1996/by-name event_source=origin
                ssl_trusted_certificate=$::Cert/localhost.crt;
    cflb_notify https://127.0.0.1:1997/insecure event_source=origin
                ssl_verify=off;
    cflb_notify https://127.0.0.1:1996/untrusted event_source=origin
                retries=0;
    cflb_notify https://127.0.0.1:1997/wrong-name event_source=origin
                retries=0 ssl_trusted_certificate=$::Cert/test.crt;
}
--- config eval: $::Config
--- init
main::up();
Cflb::webhook(1995, [], 30);
Cflb::wait_health('p1/a', 'healthy', 3);
main::down();
Cflb::wait_posts(3, 10);
Cflb::wait_error_log(qr/wrong-name.*dropped/, 5);
Cflb::wait_error_log(qr/untrusted.*dropped/, 5);
$Cflb::note{out} = CORE::join '', map {
    "$_->{path} $_->{event}{event_source} $_->{event}{new_health}\n" }
    sort { $a->{path} cmp $b->{path} } Cflb::webhook_posts();
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
/by-ip origin Unhealthy
/by-name origin Unhealthy
/insecure origin Unhealthy
--- error_log eval
[qr/\[error\] .*cflb: webhook "https:\/\/127\.0\.0\.1:1996\/untrusted": event [0-9a-f]{32} dropped after 0 retries, the last certificate verify error: \(\d+:[^)]+\)/,
 qr/\[error\] .*cflb: webhook "https:\/\/127\.0\.0\.1:1997\/wrong-name": event [0-9a-f]{32} dropped after 0 retries, the last certificate does not match "127\.0\.0\.1"/,
 qr/cflb: webhook "https:\/\/localhost:1996\/by-name": event [0-9a-f]{32} delivered, answered 200/]
--- no_error_log
[alert]
[crit]
