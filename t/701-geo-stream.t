# vim:set ft= ts=4 sw=4 et fdm=marker:

# Location steering in stream{}, for TCP and UDP sessions steered by the
# client address (docs/geo.md): the maps (country, region by subdivision,
# the pools), failover inside a geo list and the fallback pool, proximity
# and the next nearest pool, dynamic_latency, a reload with a new
# database under load, and the variables, $cflb_trace and the status.
# Each load balancer serves a TCP listener (1985, or 1986) and a UDP one
# (1986 udp); every endpoint answers its pool's name over both, and
# the access logs of both listeners record the trace of each session.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServRoot);
use Time::HiRes qw(time sleep);
use Cflb;
use CflbGeo;

Cflb::stream_blocks();

repeat_each(1);
master_on();
workers(2);
log_level('warn');

plan "no_plan";

our $Db = $CflbGeo::Dir;

CflbGeo::db('city.mmdb', 'city');
CflbGeo::db('asn.mmdb', 'asn');
CflbGeo::db('moving.mmdb', 'city');

# a pool's endpoint: TCP and UDP on one port, answering the pool's name
sub backend {
    my ($port, $name) = @_;

    return "    server { listen 127.0.0.1:$port; listen 127.0.0.1:$port udp;"
           . " return \"$name\\n\"; }\n";
}

our $Backends = backend(1990, 'de') . backend(1991, 'eu')
    . backend(1992, 'usw') . backend(1993, 'use') . backend(1994, 'asia')
    . backend(1995, 'dflt') . <<'_EOC_';
    cflb_zone cflb 1m;
    log_format geo '$remote_addr '
                   '$cflb_client_country/$cflb_client_region/$cflb_client_asn '
                   '$cflb_trace';
_EOC_

our $Pools = <<'_EOC_';
    cflb_pool de { endpoint a 127.0.0.1:1990; }
    cflb_pool eu { endpoint a 127.0.0.1:1991; }
    cflb_pool usw { endpoint a 127.0.0.1:1992; }
    cflb_pool use { endpoint a 127.0.0.1:1993; }
    cflb_pool asia { endpoint a 127.0.0.1:1994; }
    cflb_pool dflt { endpoint a 127.0.0.1:1995; }
_EOC_

# the UDP listener of load balancer $lb, logging to logs/udp.log
sub udp_server {
    my ($lb) = @_;

    return <<"_EOC_";
    server {
        listen 127.0.0.1:1986 udp;
        proxy_pass $lb;
        proxy_responses 1;
        proxy_timeout 2s;
        access_log logs/udp.log geo;
    }
_EOC_
}

our $Tcp = <<'_EOC_';
    access_log logs/tcp.log geo;
_EOC_

# an http server on 1979 whose /NAME answers 503 while html/down-NAME
# exists: the monitors of stream pools probe it (port=1979)
our $Health = <<'_EOC_';
    server {
        listen 127.0.0.1:1979;
        root html;
        location ~ ^/(?<name>\w+)$ {
            if (-f $document_root/down-$name) { return 503; }
            return 200;
        }
    }
_EOC_

our @Clients = ('127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4',
                '127.0.0.5', '127.0.0.7', '127.0.0.99');

no_long_string();
no_shuffle();
run_tests();


# $n TCP sessions (to $port) and $n UDP ones (to 1986) from each address;
# one line per address and protocol: the answers, and what the access
# log says of those sessions (variables and trace, the endpoint part
# left out), each distinct one once
sub sessions {
    my ($port, $n, @from) = @_;

    my $out = '';

    for my $from (@from ? @from : @::Clients) {
        my $t = Cflb::tcp_sessions($port, $n, from => sub { $from },
                                   log => 'logs/tcp.log');
        $out .= "tcp $from " . answers($t) . " " . logged('tcp', $from)
                . "\n";

        my $before = Cflb::log_count('logs/udp.log');
        $t = Cflb::udp_sessions(1986, $n, from => sub { $from });
        Cflb::wait_until(sub {
            Cflb::log_count('logs/udp.log') >= $before + $n }, 5);
        $out .= "udp $from " . answers($t) . " " . logged('udp', $from)
                . "\n";
    }

    return $out;
}

sub answers {
    my ($t) = @_;
    return CORE::join ',', map { $_ eq '' ? '(none)' : $_ } sort keys %$t;
}

# the distinct log lines of $from (then forgotten: the log is emptied)
sub logged {
    my ($proto, $from) = @_;

    my %seen;

    for (Cflb::log_lines("logs/$proto.log")) {
        my ($addr, $where, $trace) = split / /, $_, 3;
        next unless $addr eq $from;
        $trace =~ s/^lb=\S+ //;
        $trace =~ s/ endpoint=\S+//;
        $seen{"$where $trace"} = 1;
    }

    truncate "$ServRoot/logs/$proto.log", 0;

    return CORE::join ' | ', sort keys %seen;
}

# wait until the stream endpoint "pool/endpoint" has the health given
sub wait_health {
    my ($name, $health, $secs) = @_;

    my ($pool, $ep) = split m{/}, $name;

    Cflb::wait_until(sub {
        my $st = Cflb::status()->{stream} or return 0;
        grep { $_->{name} eq $pool
               && grep { $_->{name} eq $ep && $_->{health} eq $health }
                       @{ $_->{endpoints} } } @{ $st->{pools} };
    }, $secs) or die "cflb: $name did not become $health in ${secs}s\n";
}

sub down { open my $f, '>', "$ServRoot/html/down-$_[0]" or die $!; close $f }
sub up { unlink "$ServRoot/html/down-$_[0]" }

__DATA__

=== TEST 1: TCP and UDP: country, region (by subdivision in the US and Canada), then the pools; the variables, the trace, the status
--- stream_config eval
$::Backends . $::Pools . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_geoip2 $::Db/asn.mmdb;
    cflb_lb g1 {
        pools dflt;
        country_pools DE=de;
        region_pools WNAM=usw ENAM=use NEAS=asia;
    }
} . main::udp_server('g1')
--- stream_server_config eval
"    proxy_pass g1;\n" . $::Tcp
--- config
    location = /status { cflb_status; }
--- init
$Cflb::note{out} = main::sessions(1985, 3);
my $g = Cflb::status()->{stream}{geo};
$Cflb::note{out} .= "status: " . CORE::join(' ', map {
    (my $p = $_->{path}) =~ s{.*/}{}; "$p=$_->{type}" } @{ $g->{databases} })
    . "\n";
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
tcp 127.0.0.1 de DE/WEU/3320 pool=de(geo:country=DE)
udp 127.0.0.1 de DE/WEU/3320 pool=de(geo:country=DE)
tcp 127.0.0.2 usw US/WNAM/15169 pool=usw(geo:region=WNAM)
udp 127.0.0.2 usw US/WNAM/15169 pool=usw(geo:region=WNAM)
tcp 127.0.0.3 use US/ENAM/7018 pool=use(geo:region=ENAM)
udp 127.0.0.3 use US/ENAM/7018 pool=use(geo:region=ENAM)
tcp 127.0.0.4 usw CA/WNAM/852 pool=usw(geo:region=WNAM)
udp 127.0.0.4 usw CA/WNAM/852 pool=usw(geo:region=WNAM)
tcp 127.0.0.5 asia JP/NEAS/2516 pool=asia(geo:region=NEAS)
udp 127.0.0.5 asia JP/NEAS/2516 pool=asia(geo:region=NEAS)
tcp 127.0.0.7 dflt BR/SSAM/28573 pool=dflt(geo)
udp 127.0.0.7 dflt BR/SSAM/28573 pool=dflt(geo)
tcp 127.0.0.99 dflt // pool=dflt(geo)
udp 127.0.0.99 dflt // pool=dflt(geo)
status: city.mmdb=GeoIP2-City asn.mmdb=GeoLite2-ASN
--- no_error_log
[error]
[warn]



=== TEST 2: TCP and UDP: failover inside a geo list when a pool's monitor fails, then the fallback pool
WEU's list is eu, de; the fallback is dflt, while "use" (in "pools")
stays healthy.
--- http_config eval: $::Health
--- stream_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_monitor m { type http; port 1979; path /m; interval 1s;
                     timeout 500ms; }
    cflb_monitor meu { type http; port 1979; path /eu; interval 1s;
                       timeout 500ms; }
    cflb_monitor mde { type http; port 1979; path /de; interval 1s;
                       timeout 500ms; }
    cflb_pool eu { endpoint a 127.0.0.1:1991; monitor meu; }
    cflb_pool de { endpoint a 127.0.0.1:1990; monitor mde; }
    cflb_pool use { endpoint a 127.0.0.1:1993; monitor m; }
    cflb_pool dflt { endpoint a 127.0.0.1:1995; }
    cflb_lb g2 { pools use; fallback_pool dflt; region_pools WEU=eu,de; }
} . main::udp_server('g2')
--- stream_server_config eval
"    proxy_pass g2;\n" . $::Tcp
--- config
    location = /status { cflb_status; }
--- init
main::wait_health("$_/a", 'healthy', 5) for qw(eu de use);
my @from = ('127.0.0.1', '127.0.0.3');
my $out = "all healthy:\n" . main::sessions(1985, 2, @from);
main::down('eu');
main::wait_health('eu/a', 'unhealthy', 5);
$out .= "eu down:\n" . main::sessions(1985, 2, @from);
main::down('de');
main::wait_health('de/a', 'unhealthy', 5);
$out .= "eu and de down:\n" . main::sessions(1985, 2, @from);
$Cflb::note{out} = $out;
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
all healthy:
tcp 127.0.0.1 eu DE/WEU/ pool=eu(geo:region=WEU)
udp 127.0.0.1 eu DE/WEU/ pool=eu(geo:region=WEU)
tcp 127.0.0.3 use US/ENAM/ pool=use(geo)
udp 127.0.0.3 use US/ENAM/ pool=use(geo)
eu down:
tcp 127.0.0.1 de DE/WEU/ pool=de(geo:region=WEU) skipped=eu:critical
udp 127.0.0.1 de DE/WEU/ pool=de(geo:region=WEU) skipped=eu:critical
tcp 127.0.0.3 use US/ENAM/ pool=use(geo)
udp 127.0.0.3 use US/ENAM/ pool=use(geo)
eu and de down:
tcp 127.0.0.1 dflt DE/WEU/ pool=dflt(fallback) skipped=eu:critical,de:critical
udp 127.0.0.1 dflt DE/WEU/ pool=dflt(fallback) skipped=eu:critical,de:critical
tcp 127.0.0.3 use US/ENAM/ pool=use(geo)
udp 127.0.0.3 use US/ENAM/ pool=use(geo)
--- no_error_log
[error]



=== TEST 3: TCP and UDP: proximity, the nearest pool; the next nearest when it fails
--- http_config eval: $::Health
--- stream_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_monitor mfra { type http; port 1979; path /fra; interval 1s;
                        timeout 500ms; }
    cflb_pool fra { endpoint a 127.0.0.1:1990; coordinates 50.11 8.68;
                    monitor mfra; }
    cflb_pool iad { endpoint a 127.0.0.1:1993; coordinates 39.04 -77.49; }
    cflb_pool sjc { endpoint a 127.0.0.1:1992; coordinates 37.34 -121.89; }
    cflb_pool nrt { endpoint a 127.0.0.1:1994; coordinates 35.68 139.69; }
    cflb_lb p3 { pools nrt sjc iad fra; steering proximity; }
} . main::udp_server('p3')
--- stream_server_config eval
"    proxy_pass p3;\n" . $::Tcp
--- config
    location = /status { cflb_status; }
--- init
main::wait_health('fra/a', 'healthy', 5);
my $out = main::sessions(1985, 2, '127.0.0.1', '127.0.0.2', '127.0.0.3',
                         '127.0.0.5', '127.0.0.99');
main::down('fra');
main::wait_health('fra/a', 'unhealthy', 5);
$out .= "fra down:\n" . main::sessions(1985, 2, '127.0.0.1');
$Cflb::note{out} = $out;
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
tcp 127.0.0.1 de DE/WEU/ pool=fra(proximity:0km)
udp 127.0.0.1 de DE/WEU/ pool=fra(proximity:0km)
tcp 127.0.0.2 usw US/WNAM/ pool=sjc(proximity:492km)
udp 127.0.0.2 usw US/WNAM/ pool=sjc(proximity:492km)
tcp 127.0.0.3 use US/ENAM/ pool=iad(proximity:351km)
udp 127.0.0.3 use US/ENAM/ pool=iad(proximity:351km)
tcp 127.0.0.5 asia JP/NEAS/ pool=nrt(proximity:4km)
udp 127.0.0.5 asia JP/NEAS/ pool=nrt(proximity:4km)
tcp 127.0.0.99 asia // pool=nrt(proximity)
udp 127.0.0.99 asia // pool=nrt(proximity)
fra down:
tcp 127.0.0.1 use DE/WEU/ pool=iad(proximity:6549km) skipped=fra:critical
udp 127.0.0.1 use DE/WEU/ pool=iad(proximity:6549km) skipped=fra:critical
--- no_error_log
[error]



=== TEST 4: TCP and UDP: dynamic_latency prefers the pool that answers its probes faster, and moves within three probe intervals
The pools' endpoints answer TCP and UDP sessions with their name; their
monitors probe slow HTTP servers on 1970 and 1971 (port=), whose
delays the test sets: 300 ms and 0, then swapped.
--- stream_config eval
main::backend(1990, "a") . main::backend(1991, "b") . q{
    cflb_zone cflb 1m;
    log_format geo '$remote_addr - $cflb_trace';
    cflb_monitor sa { type http; port 1970; path /health; interval 1s;
                      timeout 900ms; retries 0; }
    cflb_monitor sb { type http; port 1971; path /health; interval 1s;
                      timeout 900ms; retries 0; }
    cflb_pool pa { endpoint a 127.0.0.1:1990; monitor sa; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; monitor sb; }
    cflb_lb dyn { pools pa pb; steering dynamic_latency; }
} . main::udp_server('dyn')
--- stream_server_config eval
"    proxy_pass dyn;\n" . $::Tcp
--- init
CflbGeo::slow_backend(1970, 'a', 300, 60);
CflbGeo::slow_backend(1971, 'b', 0, 60);
Cflb::wait_until(sub { (my @a = CflbGeo::probes('a')) >= 3
                       && (my @b = CflbGeo::probes('b')) >= 3 }, 10);
my $out = "before:\n" . main::sessions(1985, 5, '127.0.0.1');
my $swap = time;
CflbGeo::set_delay('a', 0);
CflbGeo::set_delay('b', 300);
my $deadline = time + 20;
while (time < $deadline) {
    my $t = Cflb::tcp_sessions(1985, 1);
    last if $t->{a};
    sleep 0.05;
}
my ($k) = sort { $b <=> $a } map { scalar grep { $_ > $swap }
                                   CflbGeo::probes($_) } ('a', 'b');
$out .= "moved after probes: " . ($k <= 3 ? "3 or fewer" : $k) . "\n";
Cflb::wait_until(sub { 0 }, 1.5);
truncate "$ServRoot/logs/tcp.log", 0;
$out .= "after:\n" . main::sessions(1985, 5, '127.0.0.1');
$Cflb::note{out} = $out;
--- response_body_filters eval
sub { (my $o = $Cflb::note{out}) =~ s/dynamic:\d+ms/dynamic:Nms/g; $o }
--- response_body
before:
tcp 127.0.0.1 b - pool=pb(dynamic:Nms)
udp 127.0.0.1 b - pool=pb(dynamic:Nms)
moved after probes: 3 or fewer
after:
tcp 127.0.0.1 a - pool=pa(dynamic:Nms)
udp 127.0.0.1 a - pool=pa(dynamic:Nms)
--- no_error_log
[error]
[warn]



=== TEST 5: TCP and UDP: a reload with a new database moves clients, with no failed TCP session under load
127.0.0.1 is in Germany, then in Japan.  Background clients open TCP
sessions and send UDP datagrams from it all along; every answer counts.
No TCP session may fail.  A UDP datagram may go unanswered, at most 2:
nginx drops one now and then at a reload, cflb or not (its own round
robin, in this network namespace: 1 of 77,492 datagrams over 5
reloads; here 1 of about 6,000 in 1 run of 4).
--- stream_config eval
$::Backends . $::Pools . qq{
    cflb_geoip2 $::Db/moving.mmdb;
    cflb_lb g5 { pools dflt; country_pools DE=de JP=asia; }
} . main::udp_server('g5')
--- stream_server_config eval
"    proxy_pass g5;\n" . $::Tcp
--- init
my @loads;
for my $proto ('tcp', 'udp') {
    my $stop = "$CflbGeo::Dir/stop-$proto";
    unlink $stop, "$stop.out";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my (%t, $n);
        my $deadline = time + 60;
        while (!-e $stop && time < $deadline) {
            my $r = eval { $proto eq 'tcp'
                ? Cflb::tcp_sessions(1985, 1, from => sub { '127.0.0.1' })
                : Cflb::udp_sessions(1986, 1, from => sub { '127.0.0.1' })
            } || { failed => 1 };
            $t{$_} += $r->{$_} for keys %$r;
        }
        open my $fh, '>', "$stop.out.tmp" or POSIX::_exit(1);
        print $fh map { ($_ eq '' ? '(none)' : $_) . "=$t{$_}\n" } sort keys %t;
        close $fh;
        rename "$stop.out.tmp", "$stop.out";
        POSIX::_exit(0);
    }
    Cflb::child($pid);
    push @loads, [$proto, $stop, $pid];
}
Cflb::wait_until(sub { 0 }, 1);
(my $japan = $CflbGeo::Clients) =~ s/^127\.0\.0\.1 +DE/127.0.0.1 JP/m;
CflbGeo::replace_db('moving.mmdb', 'city', $japan);
Cflb::reload_edit();
Cflb::wait_until(sub { Cflb::tcp_sessions(1985, 1)->{asia} }, 10);
Cflb::wait_until(sub { 0 }, 1);
my $out = '';
for my $l (@loads) {
    my ($proto, $stop, $pid) = @$l;
    open my $fh, '>', $stop or die $!;
    close $fh;
    Cflb::wait_until(sub { -e "$stop.out" }, 20);
    open $fh, '<', "$stop.out" or die "$stop.out: $!";
    my %t = map { chomp; split /=/ } <$fh>;
    # nginx itself may drop a datagram that arrives as the old workers
    # close the shared UDP socket (see the block's description)
    my $lost = delete $t{'(none)'} // 0;
    $out .= "$proto: "
        . CORE::join(' ', map { "$_=" . ($t{$_} > 0 ? 'some' : 0) }
                          sort keys %t)
        . ($proto eq 'udp'
           ? " unanswered: " . ($lost <= 2 ? "2 or fewer" : $lost)
           : $lost ? " unanswered: $lost" : '') . "\n";
}
$out .= "after: " . Cflb::tally_lines(Cflb::tcp_sessions(1985, 10,
                                      from => sub { '127.0.0.1' }));
$Cflb::note{out} = $out;
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
tcp: asia=some de=some
udp: asia=some de=some unanswered: 2 or fewer
after: asia 10
--- no_error_log
[error]
[alert]
[crit]
