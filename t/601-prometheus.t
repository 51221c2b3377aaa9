# vim:set ft= ts=4 sw=4 et fdm=marker:

# cflb_status?format=prometheus (docs/status.md): the output passes
# "promtool check metrics" (Debian's prometheus package; the test fails
# when it is missing) and every sample equals the JSON document's value
# for the same traffic, label values escaped as the format wants.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(2);
master_on();

plan "no_plan";

our $Promtool = '/usr/bin/promtool';

our $Http = <<'_EOC_';
    server { listen 127.0.0.1:1990; location / { return 200 "a"; } }
    server { listen 127.0.0.1:1991; location / { return 200 "b"; } }
    cflb_zone cflb 1m;
    cflb_monitor m { type tcp; interval 1h; timeout 1s; retries 0; }
    cflb_pool mon {
        endpoint a 127.0.0.1:1990 weight=0.75;
        endpoint b 127.0.0.1:1991 weight=0.25;
        endpoint dead 127.0.0.1:1998;
        endpoint off 127.0.0.1:1991 disabled;
        monitor m;
    }
    cflb_pool "we\"ird\\pool\nname" { endpoint "e\"1" 127.0.0.1:1991; }
    cflb_lb www {
        pools mon "we\"ird\\pool\nname";
        steering random;
        random_steering default_weight=0.5 mon=0.8;
        session_affinity cookie;
        drain_duration 300s;
        zero_downtime_failover temporary;
    }
_EOC_

our $Stream = <<'_EOC_';
stream {
    cflb_zone scflb 1m;
    cflb_pool tcp_pool { endpoint g 127.0.0.1:1994; }
    cflb_lb tcp { pools tcp_pool; }
    log_format s "$cflb_endpoint";
    server { listen 127.0.0.1:1985; proxy_pass tcp; access_log logs/stream.log s; }
}
_EOC_

our $Config = <<'_EOC_';
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; }
_EOC_

no_shuffle();
run_tests();


# the raw answer of GET $path: (content type, body)
sub fetch {
    my ($path) = @_;

    my $sock = Cflb::connect_to($Test::Nginx::Util::ServerPort);
    print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\n"
                . "Connection: close\r\n\r\n";
    local $/;
    my $raw = <$sock> // '';
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($type) = $head =~ /^Content-Type:\s*([^\r\n]*)/mi;

    return ($type // '', $body // '');
}


# promtool's verdict on $text: "ok", or its complaints
sub promtool {
    my ($text) = @_;

    -x $::Promtool or return "$::Promtool is missing (Debian: prometheus)";

    my $file = Cflb::key_file('metrics.txt', 0, $text);
    my $out = `$::Promtool check metrics < $file 2>&1`;

    return $? == 0 && $out eq '' ? "ok" : "exit " . ($? >> 8) . ": $out";
}


# the samples as { "name{l1=v1,l2=v2}" => value }, label values unescaped
sub samples {
    my ($text) = @_;

    my %s;

    for my $line (split /\n/, $text) {
        next if $line =~ /^#/;
        my ($name, $labels, $value) = $line =~ /^(\w+)\{(.*)\} (\S+)$/
            or die "cflb: not a sample: $line\n";
        my @l;
        while ($labels =~ /(\w+)="((?:[^"\\]|\\.)*)"/g) {
            my ($k, $v) = ($1, $2);
            $v =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
            push @l, "$k=$v";
        }
        $s{"$name\{" . CORE::join(',', @l) . "}"} = $value;
    }

    return \%s;
}


# what the JSON document says each sample should be
sub expected {
    my ($st) = @_;

    my %e;
    my %field = (requests_total => 'requests', failures_total => 'fails',
                 failovers_total => 'failovers',
                 sent_bytes_total => 'bytes_sent',
                 received_bytes_total => 'bytes_received',
                 sessions_total => 'sessions', outstanding => 'outstanding');

    for my $sub (['http', $st], ['stream', $st->{stream}]) {
        my ($sys, $doc) = @$sub;

        for my $p (@{ $doc->{pools} }) {
            my $pl = "subsystem=$sys,pool=$p->{name}";

            for my $o ($p, @{ $p->{endpoints} }) {
                my ($kind, $l) = $o == $p ? ('pool', $pl)
                                 : ('endpoint', "$pl,endpoint=$o->{name}");

                $e{"cflb_${kind}_$_\{$l}"} = $o->{ $field{$_} } for keys %field;
                $e{"cflb_${kind}_enabled\{$l}"} = $o->{enabled} ? 1 : 0;
                $e{"cflb_${kind}_rtt_seconds\{$l}"} = $o->{rtt_ms} / 1000
                    if defined $o->{rtt_ms};
            }

            $e{"cflb_pool_healthy\{$pl}"} = $p->{health} eq 'critical' ? 0 : 1;

            for my $ep (@{ $p->{endpoints} }) {
                my $l = "$pl,endpoint=$ep->{name}";
                $e{"cflb_endpoint_healthy\{$l}"} =
                    (!exists $ep->{healthy} || $ep->{healthy}) ? 1 : 0;
                $e{"cflb_endpoint_weight\{$l}"} = $ep->{weight};
                $e{"cflb_endpoint_drain_remaining_seconds\{$l}"} =
                    $ep->{drain}{remaining} if $ep->{drain};
            }
        }

        for my $lb (@{ $doc->{lbs} }) {
            $e{"cflb_lb_pool_weight\{subsystem=$sys,lb=$lb->{name},"
               . "pool=$_->{name}}"} = $_->{weight} for @{ $lb->{pools} };
        }
    }

    return \%e;
}

__DATA__

=== TEST 1: promtool accepts the output and every sample equals the JSON
Traffic: 200 requests (cookies make sessions; the monitor keeps them off
the dead endpoint) and 20 TCP sessions through the stream zone.  A drain may tick
one second between the two documents: that one sample is allowed 1 s.
--- main_config eval: $::Stream
--- http_config eval: $::Http
--- config eval: $::Config
--- init
Cflb::greeter(1994, 'hello', 30);
Cflb::wait_health('mon/a', 'healthy', 10);
Cflb::wait_health('mon/dead', 'unhealthy', 10);
Cflb::load('/t', 200);
Cflb::tcp_sessions(1985, 20, log => 'logs/stream.log');
my ($type, $prom) = main::fetch('/status?format=prometheus');
my $st = Cflb::status();
$Cflb::note{type} = $type;
$Cflb::note{promtool} = main::promtool($prom);
$Cflb::note{got} = main::samples($prom);
$Cflb::note{want} = main::expected($st);
$Cflb::note{escaped} = ($prom =~ /pool="we\\"ird\\\\pool\\nname"/) ? 1 : 0;
--- request
GET /status
--- response_body_filters eval
sub {
    my ($got, $want) = @Cflb::note{qw(got want)};
    my (@bad, $n);

    for my $k (sort keys %$want) {
        $n++;
        my $tol = $k =~ /drain_remaining/ ? 1 : 1e-9;
        push @bad, "$k: got " . ($got->{$k} // 'none') . " want $want->{$k}"
            unless defined $got->{$k} && abs($got->{$k} - $want->{$k}) <= $tol;
    }

    my @extra = grep { !exists $want->{$_} } sort keys %$got;
    my %fam = map { /^(\w+)\{/ ? ($1 => 1) : () } keys %$got;

    "content type: $Cflb::note{type}\n"
    . "promtool: $Cflb::note{promtool}\n"
    . "label escaped: $Cflb::note{escaped}\n"
    . "samples checked: $n\n"
    . "families: " . scalar(keys %fam) . "\n"
    . "mismatches: " . (@bad ? CORE::join("\n", @bad) : "none") . "\n"
    . "without a JSON value: " . (@extra ? CORE::join(' ', @extra) : "none") . "\n"
    . "stream counted: "
    . $got->{'cflb_pool_requests_total{subsystem=stream,pool=tcp_pool}'} . "\n"
    . "sessions made: "
    . ($got->{'cflb_pool_sessions_total{subsystem=http,pool=mon}'} > 0 ? "yes" : "no") . "\n";
}
--- response_body
content type: text/plain; version=0.0.4; charset=utf-8
promtool: ok
label escaped: 1
samples checked: 96
families: 23
mismatches: none
without a JSON value: none
stream counted: 20
sessions made: yes
--- no_error_log
[alert]
[crit]



=== TEST 2: without cflb in stream{} there are no stream samples; promtool still accepts
--- http_config eval
q{
    server { listen 127.0.0.1:1990; location / { return 200 "a"; } }
    cflb_zone cflb 1m;
    cflb_pool p { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p; }
}
--- config eval: $::Config
--- init
Cflb::load('/t', 10);
my ($type, $prom) = main::fetch('/status?format=prometheus');
$Cflb::note{promtool} = main::promtool($prom);
$Cflb::note{stream} = () = $prom =~ /subsystem="stream"/g;
$Cflb::note{requests} = $prom =~ /^cflb_endpoint_requests_total\{subsystem="http",pool="p",endpoint="a"\} (\d+)$/m
                        ? $1 : 'none';
--- request
GET /status
--- response_body_filters eval
sub { "promtool: $Cflb::note{promtool}\nstream samples: $Cflb::note{stream}\n"
      . "requests: $Cflb::note{requests}\n" }
--- response_body
promtool: ok
stream samples: 0
requests: 10
--- no_error_log
[error]
