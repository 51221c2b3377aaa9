# vim:set ft= ts=4 sw=4 et fdm=marker:

# steering dynamic_latency against real probes (docs/geo.md): the pool
# whose endpoints answer their monitor's probes faster takes the traffic,
# whatever the order of "pools"; when the delays change it moves within
# three probe intervals; two pools of equal speed do not take turns, and
# all workers choose alike; a pool without a monitor comes after the
# measured ones.  The endpoints
# are Perl servers whose /health sleeps for a delay read from a file
# (CflbGeo::slow_backend; tc netem is not available), and every probe is
# logged at its arrival, so "within three probe intervals" is counted in
# probes, not in seconds.

use lib 't/lib';
use Test::Nginx::Socket;
use Time::HiRes qw(time sleep);
use Cflb;
use CflbGeo;

repeat_each(1);
master_on();
workers(2);
log_level('warn');

plan "no_plan";

our $Config = <<'_EOC_';
    location = /status { cflb_status; }
    location /t {
        proxy_pass http://dyn;
        add_header X-Trace $cflb_trace always;
    }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# the answer of one request, and its trace's pool part
sub ask {
    my $r = Cflb::get(path => '/t');
    my ($how) = ($r->{headers}{'x-trace'} // '') =~ /pool=(\S+)/;

    return ($r->{status} == 200 ? $r->{body} : "status $r->{status}",
            $how // 'none');
}

# wait until each named endpoint has received $n probes more than now
sub wait_probes {
    my ($n, @names) = @_;

    my %start = map { $_ => scalar(my @p = CflbGeo::probes($_)) } @names;

    Cflb::wait_until(sub {
        !grep { (my @p = CflbGeo::probes($_)) < $start{$_} + $n } @names
    }, 5 * $n + 5) or die "dynamic: fewer than $n probes more\n";
}

# probes of $name that arrived after time $t
sub probes_since {
    my ($name, $t) = @_;

    return scalar grep { $_ > $t } CflbGeo::probes($name);
}

# $n requests: their distinct answers, each with its trace's pool part
sub answers {
    my ($n) = @_;

    my %seen;

    for (1 .. $n) {
        my ($body, $how) = ask();
        $seen{"$body $how"} = 1;
    }

    return CORE::join ', ', sort keys %seen;
}

# requests, one every 50 ms, until one is answered by $want; returns
# the time it was answered, or dies after $secs
sub until_answer {
    my ($want, $secs) = @_;

    my $deadline = time + $secs;

    while (time < $deadline) {
        my ($body) = ask();
        return time if $body eq $want;
        sleep 0.05;
    }

    die "dynamic: no answer from $want in $secs s\n";
}

__DATA__

=== TEST 1: the faster pool takes the traffic, and the traffic moves within three probe intervals each time the delays swap
pa answers its probes after 300 ms, pb at once: pb, although pa comes
first in "pools".  Then the delays swap, and swap back.  After each
swap, the probes each endpoint received until the first request
answered by the other pool are counted: at most 3 (probes every
second; a pool's round trip is a moving average that goes half way to
a new value each probe, docs/geo.md).
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor slow { path /health; interval 1s; timeout 900ms;
                        retries 0; }
    cflb_pool pa { endpoint a 127.0.0.1:1990; monitor slow; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; monitor slow; }
    cflb_lb dyn { pools pa pb; steering dynamic_latency; }
--- config eval: $::Config
--- init
CflbGeo::slow_backend(1990, 'a', 300, 60);
CflbGeo::slow_backend(1991, 'b', 0, 60);
main::wait_probes(3, 'a', 'b');
my $out = "before: " . main::answers(20) . "\n";
for my $to ('a', 'b') {
    my $swap = time;
    CflbGeo::set_delay('a', $to eq 'a' ? 0 : 300);
    CflbGeo::set_delay('b', $to eq 'a' ? 300 : 0);
    main::until_answer($to, 20);
    my ($k) = sort { $b <=> $a } map { main::probes_since($_, $swap) }
                                     ('a', 'b');
    $out .= "to $to after probes: " . ($k <= 3 ? "3 or fewer" : $k) . "\n";
    main::wait_probes(1, 'a', 'b');
    $out .= "then: " . main::answers(20) . "\n";
}
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { (my $o = $Cflb::note{out}) =~ s/dynamic:\d+ms/dynamic:Nms/g; $o }
--- response_body
before: b pb(dynamic:Nms)
to a after probes: 3 or fewer
then: a pa(dynamic:Nms)
to b after probes: 3 or fewer
then: b pb(dynamic:Nms)
--- no_error_log
[error]
[warn]



=== TEST 2: two pools of equal speed do not take turns, and every worker makes the same choice; a pool without a monitor comes after them
Both answer their probes after 100 ms (20 ms of jitter would still be
within the band of 20 %).  Over ten probe intervals, a request every
100 ms, on a new connection each, to either of the 2 workers: always
pa, the first of the two in "pools".  pc, first in "pools", has no
monitor: never chosen while a measured pool can serve.
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor quick { path /health; interval 1s; timeout 900ms;
                         retries 0; }
    server { listen 127.0.0.1:1992; return 200 "c"; }
    cflb_pool pc { endpoint c 127.0.0.1:1992; }
    cflb_pool pa { endpoint a 127.0.0.1:1990; monitor quick; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; monitor quick; }
    cflb_lb dyn { pools pc pa pb; steering dynamic_latency; }
--- config eval: $::Config
--- init
CflbGeo::slow_backend(1990, 'a', 100, 60);
CflbGeo::slow_backend(1991, 'b', 100, 60);
main::wait_probes(2, 'a', 'b');
my %seen;
my $start = scalar(my @p = CflbGeo::probes('a'));
while ((my @q = CflbGeo::probes('a')) < $start + 10) {
    my ($body) = main::ask();
    $seen{$body}++;
    sleep 0.1;
}
$Cflb::note{out} = "answers: " . CORE::join(' ', sort keys %seen) . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
answers: a
--- error_log
steering of cflb_lb "dyn": cflb_pool "pc" has no monitor to measure
--- no_error_log
[error]
