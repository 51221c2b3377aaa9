# vim:set ft= ts=4 sw=4 et fdm=marker:

# Open TCP sessions in shared memory, with 4 workers: least_connections
# sees the sessions every worker holds, a closed session gives its count
# back, a worker that dies gives back what it held, a reload keeps the
# counts of sessions still open in the old workers, no way a session
# ends leaks a count, least_outstanding_requests ignores them, and
# traffic steering least_connections counts them per pool.
#
# least_connections is a weighted draw, not a strict minimum: with
# equal weights an endpoint with n open sessions gets 1/(n+1) of the
# weight.  So the tests hold sessions on endpoint a, then measure where
# short sessions go: with a holding n and b none, b gets (n+1)/(n+2) of
# them, where a lost or per-worker count would give about 1/2 or well
# below (n+1)/(n+2).  Each short session waits until nginx has logged
# it, so the next one is steered with its count given back.  Tolerances
# are 4 standard deviations of the expected share.
#
# The endpoints are servers run by the test: they greet each connection
# with their name and keep it open until the client closes it.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);
workers(4);
master_on();

plan "no_plan";

# the share of b in a tally, checked against (n+1)/(n+2) for n held on a
sub b_share {
    my ($t, $n_a, $label) = @_;

    my $total = 0;
    $total += $_ for values %$t;

    my $p = ($n_a + 1) / ($n_a + 2);
    my $tol = 4 * sqrt($p * (1 - $p) / $total);
    my $got = ($t->{b} // 0) / $total;

    return abs($got - $p) <= $tol
           ? "$label: b share ok\n"
           : sprintf("%s: b share %.4f, expected %.4f +- %.4f (n=%d)\n",
                     $label, $got, $p, $tol, $total);
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: least_connections counts the sessions of all workers, and a closed session frees its count
30 sessions are opened one after another and held (reuseport spreads
them over the 4 workers; the log shows it), then b's are closed: 400
short sessions must then go to b with (n+1)/(n+2), n = the sessions a
still holds.  Were counts per worker, a would look lighter (about n/4)
and b get visibly less; were b's closed sessions still counted, b would
get about half.
--- stream_config
    log_format lc '$pid $cflb_endpoint';
    cflb_zone cflb 1m;
    cflb_pool lc1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint_steering least_connections;
    }
    cflb_lb tcp { pools lc1; }
    server {
        listen 127.0.0.1:1986 reuseport;
        proxy_pass tcp;
        access_log logs/lc.log lc;
    }
--- stream_server_config
    return "tcp\n";
--- init
Cflb::greeter(1990, 'a');
Cflb::greeter(1991, 'b');
my $out = eval {
    my $held = Cflb::hold_sessions(1986, 30);
    my ($na, $nb) = ($held->{a} // 0, $held->{b} // 0);
    die "held sessions: " . Cflb::tally_lines($held) unless $na + $nb == 30;
    Cflb::release('b');
    Cflb::wait_until(sub { Cflb::log_count('logs/lc.log') >= $nb }, 5);
    my $t = Cflb::tcp_sessions(1986, 400, log => 'logs/lc.log');
    Cflb::release('a');
    Cflb::wait_until(sub { Cflb::log_count('logs/lc.log') >= 430 }, 5);
    my @log = Cflb::log_lines('logs/lc.log');
    my %pids = map { (split / /)[0] => 1 } @log[0 .. $nb - 1],
                                           @log[430 - $na .. 429];
    "held: 30, a " . ($na >= 5 ? "5 or more" : $na) . "\n"
    . "workers holding them: " . (keys %pids >= 2 ? "2 or more" : 1) . "\n"
    . main::b_share($t, $na, "a holds $na");
};
$Cflb::note{t} = $out // $@;
--- response_body_filters eval
sub { my $t = $Cflb::note{t}; $t =~ s/a holds \d+/a holds n/; $t }
--- response_body
held: 30, a 5 or more
workers holding them: 2 or more
a holds n: b share ok
--- no_error_log
[error]



=== TEST 2: the counts of a worker that dies are taken back by its successor
Sessions are held on a as in TEST 1, then every worker is killed (their
sessions die with them, without free_peer).  The new workers take the
dead workers' counts back: short sessions then split evenly again (+- 4
standard deviations of 1/2 over 300).  Leaked counts would keep b near
(n+1)/(n+2).
--- stream_config
    log_format lc '$pid $cflb_endpoint';
    cflb_zone cflb 1m;
    cflb_pool lc2 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint_steering least_connections;
    }
    cflb_lb tcp { pools lc2; }
    server {
        listen 127.0.0.1:1986 reuseport;
        proxy_pass tcp;
        access_log logs/lc.log lc;
    }
--- stream_server_config
    return "tcp\n";
--- init
Cflb::greeter(1990, 'a');
Cflb::greeter(1991, 'b');
my $out = eval {
    my $held = Cflb::hold_sessions(1986, 20);
    my $nb = Cflb::release('b');
    Cflb::wait_until(sub { Cflb::log_count('logs/lc.log') >= $nb }, 5);
    my @old = Cflb::worker_pids();
    kill 'KILL', @old;
    my %old = map { $_ => 1 } @old;
    Cflb::wait_until(sub { (grep { !$old{$_} } Cflb::worker_pids()) == 4 }, 10)
        or die "the workers were not replaced\n";
    Cflb::release('a');
    my $t = Cflb::tcp_sessions(1986, 300, log => 'logs/lc.log');
    my $b = ($t->{b} // 0) / 300;
    "a held: " . (($held->{a} // 0) >= 5 ? "5 or more" : $held->{a}) . "\n"
    . "b share after the crash: "
    . (abs($b - 0.5) <= 4 * sqrt(0.25 / 300) ? "ok" : $b) . "\n";
};
$Cflb::note{t} = $out // $@;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
a held: 5 or more
b share after the crash: ok
--- error_log eval
qr/\[notice\] .*cflb: taking back counters of exited worker \d+/
--- no_error_log
[error]



=== TEST 3: a reload keeps the counts of sessions open in the old workers
Configuration 1 has only endpoint a; 12 sessions are held on it.  The
reload adds b: the old workers keep the 12 sessions, and the new workers
see them, so b gets 13/14 of the short sessions (half if the counts were
lost).  When the 12 close, the old workers' decrements reach the same
records: the split is even again.
--- stream_config
    log_format lc '$pid $cflb_endpoint';
    cflb_zone cflb 1m;
    cflb_pool rl3 {
        endpoint a 127.0.0.1:1990;
        endpoint_steering least_connections;
    }
    cflb_lb tcp { pools rl3; }
    server {
        listen 127.0.0.1:1986;
        proxy_pass tcp;
        access_log logs/lc.log lc;
    }
--- stream_server_config
    return "tcp\n";
--- init
Cflb::greeter(1990, 'a');
Cflb::greeter(1991, 'b');
my $log = 'logs/lc.log';
my $out = eval {
    my $held = Cflb::hold_sessions(1986, 12);
    Cflb::reload_with('endpoint a 127.0.0.1:1990;',
                      'endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991;',
                      4);
    my $t = Cflb::tcp_sessions(1986, 300, log => $log);
    my $n = Cflb::log_count($log);
    $n += Cflb::release('a');
    Cflb::wait_until(sub { Cflb::log_count($log) >= $n }, 5)
        or die "the held sessions were not logged\n";
    my $even = Cflb::tcp_sessions(1986, 200, log => $log);
    my $b = ($even->{b} // 0) / 200;
    "held before the reload: " . Cflb::tally_lines($held)
    . main::b_share($t, 12, "after the reload")
    . "after closing them: "
    . (abs($b - 0.5) <= 4 * sqrt(0.25 / 200) ? "even" : $b) . "\n";
};
$Cflb::note{t} = $out // $@;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
held before the reload: a 12
after the reload: b share ok
after closing them: even
--- no_error_log
[error]



=== TEST 4: no count leaks: failed connects, proxy_timeout and endpoint closes all give theirs back
While b's port is closed, 20 sessions are held; those steered to b are
refused there and retried on a, and all 20 end by proxy_timeout.  10
more end when a's server dies.  Then a and b both serve: a count left
behind on either would tilt the split of 300 short sessions away from
1/2 (+- 4 standard deviations).
--- stream_config
    log_format lk '$pid $cflb_endpoint $upstream_addr';
    cflb_zone cflb 1m;
    cflb_pool lk4 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint_steering least_connections;
    }
    cflb_lb tcp { pools lk4; }
    server {
        listen 127.0.0.1:1986 reuseport;
        proxy_pass tcp;
        proxy_timeout 300ms;
        access_log logs/lk.log lk;
    }
--- stream_server_config
    return "tcp\n";
--- init
my $log = 'logs/lk.log';
my $out = eval {
    my $a = Cflb::greeter(1990, 'a');
    my $timed = Cflb::hold_sessions(1986, 20);
    Cflb::wait_until(sub { Cflb::log_count($log) >= 20 }, 5)
        or die "the sessions did not time out\n";
    my $closed = Cflb::hold_sessions(1986, 10);
    Cflb::kill_child($a);
    Cflb::wait_until(sub { Cflb::log_count($log) >= 30 }, 5)
        or die "the sessions did not end with their endpoint\n";
    Cflb::reap();
    Cflb::greeter(1990, 'a');
    Cflb::greeter(1991, 'b');
    my $retried = grep { / 127\.0\.0\.1:1991, 127\.0\.0\.1:1990$/ }
                  Cflb::log_lines($log);
    my $t = Cflb::tcp_sessions(1986, 300, log => $log);
    my $b = ($t->{b} // 0) / 300;
    "held: " . Cflb::tally_lines($timed)
    . "retried after b: " . ($retried > 0 ? "some" : "none") . "\n"
    . "b share: " . (abs($b - 0.5) <= 4 * sqrt(0.25 / 300) ? "ok" : $b)
    . "\n";
};
$Cflb::note{t} = $out // $@;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
held: a 20
retried after b: some
b share: ok
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 5: least_outstanding_requests at layer 4 is plain weighted random: open sessions do not weigh
With 20 sessions held on a, least_connections would send b about 21/22
of the new ones (TEST 1); least_outstanding_requests has no requests to
count in stream{} and keeps the even split (+- 4 standard deviations of
1/2 over 300).
--- stream_config
    log_format lc '$pid $cflb_endpoint';
    cflb_zone cflb 1m;
    cflb_pool lo5 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb tcp { pools lo5; }
    server {
        listen 127.0.0.1:1986 reuseport;
        proxy_pass tcp;
        access_log logs/lc.log lc;
    }
--- stream_server_config
    return "tcp\n";
--- init
Cflb::greeter(1990, 'a');
Cflb::greeter(1991, 'b');
my $log = 'logs/lc.log';
my $out = eval {
    my $held = {};
    for (1 .. 200) {
        my $t = Cflb::hold_sessions(1986, 1);
        $held->{$_} += $t->{$_} for keys %$t;
        last if ($held->{a} // 0) >= 20;
    }
    my $nb = Cflb::release('b');
    Cflb::wait_until(sub { Cflb::log_count($log) >= $nb }, 5);
    my $t = Cflb::tcp_sessions(1986, 300, log => $log);
    my $b = ($t->{b} // 0) / 300;
    "held on a: " . ($held->{a} // 0) . "\n"
    . "b share: " . (abs($b - 0.5) <= 4 * sqrt(0.25 / 300) ? "ok" : $b)
    . "\n";
};
$Cflb::note{t} = $out // $@;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
held on a: 20
b share: ok
--- no_error_log
[error]



=== TEST 6: traffic steering least_connections counts a pool's open sessions; least_outstanding_requests does not
Pools pa (endpoint a) and pb (endpoint b) under two balancers: lc with
steering least_connections (1986), lo with least_outstanding_requests
(1987).  Sessions are held through lc and pb's are closed, leaving n on
pa: lc then sends (n+1)/(n+2) of new sessions to pb, lo half.
--- stream_config
    log_format lc '$pid $cflb_pool';
    cflb_zone cflb 1m;
    cflb_pool pa { endpoint a 127.0.0.1:1990; }
    cflb_pool pb { endpoint b 127.0.0.1:1991; }
    cflb_lb lc { pools pa pb; steering least_connections; }
    cflb_lb lo { pools pa pb; steering least_outstanding_requests; }
    server {
        listen 127.0.0.1:1986 reuseport;
        proxy_pass lc;
        access_log logs/lc.log lc;
    }
    server {
        listen 127.0.0.1:1987 reuseport;
        proxy_pass lo;
        access_log logs/lc.log lc;
    }
--- stream_server_config
    return "tcp\n";
--- init
Cflb::greeter(1990, 'a');
Cflb::greeter(1991, 'b');
my $log = 'logs/lc.log';
my $out = eval {
    my $held = Cflb::hold_sessions(1986, 30);
    my $na = $held->{a} // 0;
    my $nb = Cflb::release('b');
    Cflb::wait_until(sub { Cflb::log_count($log) >= $nb }, 5);
    my $lc = Cflb::tcp_sessions(1986, 300, log => $log);
    my $lo = Cflb::tcp_sessions(1987, 300, log => $log);
    my $b = ($lo->{b} // 0) / 300;
    "held on a: " . ($na >= 5 ? "5 or more" : $na) . "\n"
    . main::b_share($lc, $na, "least_connections")
    . "least_outstanding_requests: b share "
    . (abs($b - 0.5) <= 4 * sqrt(0.25 / 300) ? "ok" : $b) . "\n";
};
$Cflb::note{t} = $out // $@;
--- response_body_filters eval
sub { $Cflb::note{t} }
--- response_body
held on a: 5 or more
least_connections: b share ok
least_outstanding_requests: b share ok
--- no_error_log
[error]
