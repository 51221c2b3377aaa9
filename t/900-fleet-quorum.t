# vim:set ft= ts=4 sw=4 et fdm=marker:

# Health quorum of a fleet ("quorum majority", docs/fleet.md): three
# nodes probe endpoint a, each vote in etcd under its lease, and every
# node follows the majority of the live nodes' verdicts.  Which nodes
# see a down is set per node: a's /health answers 503 to the probes of
# node N (header X-Node: N) while the file down-N exists.  Nodes A, B,
# C on ports 1986-1988, the backends (this test's nginx) on 1990-1991,
# etcd from t/lib/CflbFleet.pm.  Waits have deadlines; no assertion is
# on time.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbFleet;
use File::Temp ();

repeat_each(1);
workers(1);
master_on();
log_level('warn');

plan "no_plan";

our $Flags = File::Temp::tempdir('cflb-flags-XXXXXX', TMPDIR => 1,
                                 CLEANUP => 1);

our $Backends = <<"_EOC_";
    server {
        listen 127.0.0.1:1990;
        location = /health {
            if (-f $Flags/down-\$http_x_node) { return 503; }
            return 200;
        }
        location / { return 200 "a\\n"; }
    }
    server { listen 127.0.0.1:1991; return 200 "b\\n"; }
_EOC_

our %Port = (A => 1986, B => 1987, C => 1988);

no_long_string();
no_shuffle();
run_tests();


sub node_http {
    my ($name, $port, $prefix) = @_;

    my $urls = CflbFleet::urls();

    return <<"_EOC_";
    cflb_zone cflb 1m;
    cflb_cluster etcd=$urls prefix=$prefix node=$name ttl=2s timeout=1s;
    cflb_monitor web {
        type http;
        path /health;
        header X-Node $name;
        interval 1s;
        timeout 500ms;
        quorum majority;
    }
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        monitor web;
    }
    cflb_lb www { pools p1; }
    server {
        listen 127.0.0.1:$port;
        location /t {
            proxy_pass http://www;
            add_header X-Trace \$cflb_trace always;
        }
        location /status { cflb_status; }
    }
_EOC_
}


sub node {
    my ($name, $prefix) = @_;

    my $dir = CflbFleet::node($Port{$name},
                              node_http($name, $Port{$name}, $prefix));

    CflbFleet::wait_etcd($Port{$name}, 'connected', 20)
        or die "cflb: node $name did not connect to etcd\n";

    return $dir;
}


# node N's probes of a fail (1) or pass (0)
sub down {
    my ($name, $down) = @_;

    my $f = "$Flags/down-$name";

    if ($down) {
        open my $fh, '>', $f or die "cflb: $f: $!\n";
        close $fh;

    } else {
        unlink $f;
    }
}


# "a: healthy (local unhealthy, 2 up, 1 down)" as node N's status says
sub a_on {
    my ($name) = @_;

    my $e = CflbFleet::endpoint($Port{$name}, 'p1/a') or return "down";
    my $q = $e->{quorum};

    return "$e->{health} (local $q->{local}, $q->{healthy} up, "
           . "$q->{unhealthy} down)";
}


# wait until node N shows a as $want; the line, or what it shows then
sub wait_a {
    my ($name, $want, $secs) = @_;

    Cflb::wait_until(sub { a_on($name) eq $want }, $secs);

    return "$name: " . a_on($name) . "\n";
}


# the endpoints $n requests through node N reach, and the traces that
# name a in "quorum"
sub traffic {
    my ($name, $n) = @_;

    my (%bodies, %quorum);

    for (1 .. $n) {
        my $r = Cflb::get(port => $Port{$name});
        $bodies{$r->{body}}++;
        $quorum{$1}++ if ($r->{headers}{'x-trace'} // '')
                         =~ / quorum=(\S+)/;
    }

    return "$name serves: " . join(',', sort keys %bodies)
           . (%quorum ? "; trace quorum=" . join(',', sort keys %quorum)
                      : '') . "\n";
}


sub scenario {
    my ($code) = @_;

    my $out = eval { $code->() };

    return defined $out ? $out : "died: $@";
}


__DATA__

=== TEST 1: one node's probe fails, the two others see a healthy: it stays in rotation there, logged and traced; two of three see it down: every node drops it
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    main::down($_, 0) for qw(A B C);
    CflbFleet::start();
    my %dir = map { $_ => main::node($_, '/t900q-1/') } qw(A B C);

    my $out = '';
    $out .= main::wait_a($_, 'healthy (local healthy, 3 up, 0 down)', 20)
        for qw(A B C);

    main::down('A', 1);
    $out .= main::wait_a('A', 'healthy (local unhealthy, 2 up, 1 down)', 20);
    $out .= main::traffic('A', 40);
    $out .= "A logged: " . scalar(CflbFleet::log_lines($dir{A}, qr/\[notice\].*endpoint "a" of pool "p1" \(lb "www"\) stays healthy, this node sees it unhealthy: Response code mismatch, status 503; quorum: 2 of 3 nodes see it healthy, overruling this node/)) . "\n";

    main::down('B', 1);
    $out .= main::wait_a('C', 'unhealthy (local healthy, 1 up, 2 down)', 20);
    $out .= main::wait_a('A', 'unhealthy (local unhealthy, 1 up, 2 down)',
                         20);
    $out .= main::traffic('C', 40);
    $out .= "C logged: " . scalar(CflbFleet::log_lines($dir{C}, qr/\[notice\].*endpoint "a" of pool "p1" \(lb "www"\) is unhealthy, was healthy: the votes of the fleet; quorum: 2 of 3 nodes see it unhealthy, overruling this node/)) . "\n";

    main::down($_, 0) for qw(A B);
    $out .= main::wait_a('C', 'healthy (local healthy, 3 up, 0 down)', 20);
    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
A: healthy (local healthy, 3 up, 0 down)
B: healthy (local healthy, 3 up, 0 down)
C: healthy (local healthy, 3 up, 0 down)
A: healthy (local unhealthy, 2 up, 1 down)
A serves: a,b; trace quorum=p1/a:healthy
A logged: 1
C: unhealthy (local healthy, 1 up, 2 down)
A: unhealthy (local unhealthy, 1 up, 2 down)
C serves: b; trace quorum=p1/a:unhealthy
C logged: 1
C: healthy (local healthy, 3 up, 0 down)
node errors: none
--- no_error_log
[error]



=== TEST 2: a node that dies stops voting once its lease expires: the tie of the two left keeps each node's own verdict
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    main::down($_, 0) for qw(A B C);
    CflbFleet::start();
    my %dir = map { $_ => main::node($_, '/t900q-2/') } qw(A B C);

    main::down('A', 1);
    my $out = main::wait_a('A', 'healthy (local unhealthy, 2 up, 1 down)',
                           20);
    $out .= main::wait_a('B', 'healthy (local healthy, 2 up, 1 down)', 20);

    CflbFleet::kill_node($dir{C});

    $out .= main::wait_a('A', 'unhealthy (local unhealthy, 1 up, 1 down)',
                         20);
    $out .= main::wait_a('B', 'healthy (local healthy, 1 up, 1 down)', 20);
    $out .= "A's voters: " . join(',', sort keys %{
        CflbFleet::endpoint(1986, 'p1/a')->{quorum}{votes} }) . "\n";

    my $kv = CflbFleet::keys_below('/t900q-2/');
    $out .= "votes in etcd: " . join(',', map { m{/([^/]+)$} }
                                          grep { m{/vote/p1/a/} }
                                          sort keys %$kv) . "\n";
    $out .= "node errors: " . (CflbFleet::node_errors() =~ s/.*exited on signal 9.*\n//gr || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
A: healthy (local unhealthy, 2 up, 1 down)
B: healthy (local healthy, 2 up, 1 down)
A: unhealthy (local unhealthy, 1 up, 1 down)
B: healthy (local healthy, 1 up, 1 down)
A's voters: B
votes in etcd: A,B
node errors: none
--- no_error_log
[error]
