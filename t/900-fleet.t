# vim:set ft= ts=4 sw=4 et fdm=marker:

# cflb_cluster (docs/fleet.md): runtime changes made through any node's
# API reach every node through a real 3-member etcd cluster (Debian's
# etcd-server, on loopback ports, started by t/lib/CflbFleet.pm), and etcd
# trouble never hurts traffic.  The nodes are second nginx instances
# (Cflb::instance) on ports 1986-1988; the backends a, b and c are this
# test's own nginx, on 1990-1992.  Each block has its own key prefix.
# Waits have deadlines; no assertion is on time.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbFleet;

repeat_each(1);
workers(1);
master_on();
log_level('warn');

plan "no_plan";

our $Key = Cflb::key_file('fleet.key', 32);

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# the http{} text of a node named $name on $port, its keys below $prefix
sub node_http {
    my ($name, $port, $prefix) = @_;

    my $urls = CflbFleet::urls();

    return <<"_EOC_";
    cflb_zone cflb 1m;
    cflb_state_file logs/state.json;
    cflb_affinity_key $::Key;
    cflb_cluster etcd=$urls prefix=$prefix node=$name ttl=3s timeout=1s;
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991 weight=0.5;
    }
    cflb_pool p2 { endpoint c 127.0.0.1:1992; }
    cflb_lb www { pools p1 p2; session_affinity cookie; drain_duration 60s; }
    server {
        listen 127.0.0.1:$port;
        location /t { proxy_pass http://www; }
        location /status { cflb_status; }
        location /api/ { allow 127.0.0.1; deny all; cflb_api; }
    }
_EOC_
}


# start node $name ("A", "B", "C" on 1986, 1987, 1988), connected
sub node {
    my ($name, $prefix, $dir) = @_;

    my $port = { A => 1986, B => 1987, C => 1988 }->{$name};

    $dir = CflbFleet::node($port, node_http($name, $port, $prefix), $dir);

    CflbFleet::wait_etcd($port, 'connected', 20)
        or die "cflb: node $name did not connect to etcd\n";

    return $dir;
}


# a PATCH to a node's API: "STATUS", and the error if any
sub patch {
    my ($port, $path, $body) = @_;

    my $r = Cflb::api(PATCH => "/api/$path", $body, port => $port);

    return $r->{status} . ($r->{json} && $r->{json}{error}
                           ? " $r->{json}{error}" : '');
}


# the outcome of a block's scenario: its lines, or why it died
sub scenario {
    my ($code) = @_;

    my $out = eval { $code->() };

    return defined $out ? $out : "died: $@";
}


__DATA__

=== TEST 1: a drain through node A's API stops new sessions on node B; its own sessions stay; etcd holds the change
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    CflbFleet::start();
    my $a = main::node('A', '/t900-1/');
    my $b = main::node('B', '/t900-1/');

    # a session on B, on endpoint a
    my $pinned = Cflb::pin('a', port => 1987);
    my $cookie = "Cookie: __cflb=$pinned->{cookie}";

    my $out = "patch on A: " . main::patch(1986, 'pools/p1/endpoints/a',
                                           '{"enabled":false}') . "\n";
    $out .= "A: " . CflbFleet::state(1986);
    $out .= "B within 10 s: "
        . (defined CflbFleet::wait_state(1987, CflbFleet::state(1986), 10)
           ? "yes" : "no: " . CflbFleet::state(1987)) . "\n";

    my $fresh = Cflb::repeat(20, port => 1987);
    $out .= "new sessions on B: " . Cflb::bodies($fresh) . "\n";
    my $old = Cflb::repeat(5, port => 1987, headers => [$cookie]);
    $out .= "the session on B: " . Cflb::bodies($old) . "\n";

    my $drain = CflbFleet::endpoint(1987, 'p1/a')->{drain};
    $out .= "B drains a for " . $drain->{duration} . " s\n";

    my $kv = CflbFleet::keys_below('/t900-1/');
    my $v = JSON::PP::decode_json($kv->{'/t900-1/http/endpoint/p1/a/enabled'});
    $out .= "etcd: enabled=" . ($v->{enabled} ? 'true' : 'false')
        . " configured=" . ($v->{configured} ? 'true' : 'false')
        . " node=$v->{node} at=" . (abs($v->{at} - time) < 60 ? 'now' : '?')
        . "\n";

    for my $n ([A => $a], [B => $b]) {
        $out .= "$n->[0] logged: " . scalar(CflbFleet::log_lines($n->[1],
            qr/\[notice\].*endpoint "a" disabled, draining at runtime/))
            . "\n";
    }

    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
patch on A: 200
A: p1=on(a:1:off,b:0.5:on) p2=on(c:1:on)
B within 10 s: yes
new sessions on B: b
the session on B: a
B drains a for 60 s
etcd: enabled=false configured=true node=A at=now
A logged: 1
B logged: 1
node errors: none
--- no_error_log
[error]



=== TEST 2: changes from two nodes apply in order everywhere; node C started later gets the current state
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    CflbFleet::start();
    main::node('A', '/t900-2/');
    main::node('B', '/t900-2/');

    my $out = '';
    $out .= "A weight: " . main::patch(1986, 'pools/p1/endpoints/b',
                                       '{"weight":0.3}') . "\n";
    $out .= "B pool: " . main::patch(1987, 'pools/p2', '{"enabled":false}')
        . "\n";
    $out .= "B weight: " . main::patch(1987, 'pools/p1/endpoints/b',
                                       '{"weight":0.4,"enabled":false}')
        . "\n";
    $out .= "A enable: " . main::patch(1986, 'pools/p1/endpoints/b',
                                       '{"enabled":true}') . "\n";

    my $want = "p1=on(a:1:on,b:0.4:on) p2=off(c:1:on)\n";

    for my $p (1986, 1987) {
        $out .= "$p: " . (defined CflbFleet::wait_state($p, $want, 10)
                          ? "converged" : CflbFleet::state($p)) . "\n";
    }

    main::node('C', '/t900-2/');
    $out .= "C: " . CflbFleet::state(1988);
    my $t = Cflb::repeat(20, port => 1988);
    $out .= "C's traffic: " . join(',', sort keys %{ $t->{bodies} }) . "\n";
    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
A weight: 200
B pool: 200
B weight: 200
A enable: 200
1986: converged
1987: converged
C: p1=on(a:1:on,b:0.4:on) p2=off(c:1:on)
C's traffic: a,b
node errors: none
--- no_error_log
[error]



=== TEST 3: one etcd member dies: the nodes move to another, log it once, and changes still propagate
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    CflbFleet::start();
    my $a = main::node('A', '/t900-3/');
    my $b = main::node('B', '/t900-3/');

    # both watch through the first member: it dies
    my $out = "A on: " . CflbFleet::status(1986)->{cluster}{member} . "\n";
    CflbFleet::kill_member(0);

    for my $p (1986, 1987) {
        $out .= "$p connected again: "
            . (CflbFleet::wait_etcd($p, 'connected', 10) ? "yes" : "no")
            . ", on: " . CflbFleet::status($p)->{cluster}{member} . "\n";
    }

    $out .= "patch on B: " . main::patch(1987, 'pools/p1/endpoints/a',
                                         '{"weight":0.25}') . "\n";
    $out .= "A within 10 s: "
        . (defined CflbFleet::wait_state(1986, "p1=on(a:0.25:on,b:0.5:on) "
                                         . "p2=on(c:1:on)\n", 10)
           ? "yes" : "no: " . CflbFleet::state(1986)) . "\n";

    # the first lines: connected, then the loss; a later election may
    # take the leader away long enough for more, never a line twice
    for my $n ([A => $a], [B => $b]) {
        my @s = CflbFleet::states($n->[1]);
        $out .= "$n->[0]: " . join(', ', @s[0 .. 2]) . ", repeated: "
            . CflbFleet::repeats(@s) . ", lost 12371 for 12372: "
            . scalar(CflbFleet::log_lines($n->[1], qr/\[warn\].*zone "cflb" lost etcd, http:\/\/127\.0\.0\.1:12371:.*; trying http:\/\/127\.0\.0\.1:12372/))
            . "\n";
    }

    CflbFleet::start();
    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
A on: http://127.0.0.1:12371
1986 connected again: yes, on: http://127.0.0.1:12372
1987 connected again: yes, on: http://127.0.0.1:12372
patch on B: 200
A within 10 s: yes
A: connecting, connected, lost, repeated: 0, lost 12371 for 12372: 1
B: connecting, connected, lost, repeated: 0, lost 12371 for 12372: 1
node errors: none
--- no_error_log
[error]



=== TEST 4: all of etcd dies: traffic goes on without a failure, changes are refused with 503 and change nothing, each state change is logged once, and the nodes converge when etcd returns
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    CflbFleet::start();
    my $a = main::node('A', '/t900-4/');
    my $b = main::node('B', '/t900-4/');

    my $out = "weight: " . main::patch(1986, 'pools/p1/endpoints/b',
                                       '{"weight":0.3}') . "\n";
    my $before = CflbFleet::state(1987);

    CflbFleet::kill_all();

    for my $p (1986, 1987) {
        $out .= "$p unreachable: "
            . (CflbFleet::wait_etcd($p, 'unreachable', 20) ? "yes" : "no")
            . "\n";
    }

    # traffic: every request answered, from the last known state
    my %t;
    for my $p (1986, 1987) {
        my $r = Cflb::load('/t', 200, undef, $p);
        $t{$_} += $r->{$_} for keys %$r;
    }
    $out .= "traffic: " . join(' ', map { "$_=" . ($_ =~ /status/ ? $t{$_}
                                                   : 'ok') }
                                  sort keys %t) . "\n";

    my $r = Cflb::api(PATCH => '/api/pools/p1/endpoints/a',
                      '{"enabled":false}', port => 1987);
    $out .= "patch: $r->{status}, "
        . ($r->{json}{error} =~ /^etcd did not take the change, nothing changed: http:\/\/127\.0\.0\.1:1237\d: connect\(\) failed/
           ? "says why" : "says: $r->{json}{error}") . "\n";
    $out .= "unchanged: "
        . (CflbFleet::state(1987) eq $before ? "yes" : "no") . "\n";

    # a few rounds of the backoff go by: still one line for each state
    sleep 3;

    for my $n ([A => $a], [B => $b]) {
        my @s = CflbFleet::states($n->[1]);
        $out .= "$n->[0] during the outage: " . join(', ', @s)
            . ", repeated: " . CflbFleet::repeats(@s) . "\n";
    }

    $out .= "unreachable says why: "
        . (CflbFleet::log_lines($a, qr/\[error\].*zone "cflb" cannot reach etcd, every member failed, the last: http:\/\/127\.0\.0\.1:1237\d: connect\(\) failed .*; retrying with a backoff of up to 5000 ms, steering from the last known state/)
           ? "yes" : "no") . "\n";

    CflbFleet::start();

    for my $p (1986, 1987) {
        $out .= "$p connected: "
            . (CflbFleet::wait_etcd($p, 'connected', 30) ? "yes" : "no")
            . "\n";
    }

    $out .= "patch after: " . main::patch(1986, 'pools/p1/endpoints/a',
                                          '{"weight":0.6}') . "\n";
    $out .= "B converged: "
        . (defined CflbFleet::wait_state(1987, CflbFleet::state(1986), 10)
           ? "yes" : "no") . "\n";

    # etcd's first elections may take its leader away again: more lines
    # then, but never one twice in a row
    for my $n ([A => $a, 1986], [B => $b, 1987]) {
        CflbFleet::wait_etcd($n->[2], 'connected', 10);
        my @s = CflbFleet::states($n->[1]);
        $out .= "$n->[0] after: $s[-1], repeated: " . CflbFleet::repeats(@s)
            . "\n";
    }

    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
weight: 200
1986 unreachable: yes
1987 unreachable: yes
traffic: a=ok b=ok
patch: 503, says why
unchanged: yes
A during the outage: connecting, connected, lost, unreachable, repeated: 0
B during the outage: connecting, connected, lost, unreachable, repeated: 0
unreachable says why: yes
1986 connected: yes
1987 connected: yes
patch after: 200
B converged: yes
A after: connected, repeated: 0
B after: connected, repeated: 0
node errors: none
--- no_error_log
[error]



=== TEST 5: the state file is the local cache: a node started while etcd is down serves from it, and catches up when etcd returns
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    CflbFleet::start();
    main::node('A', '/t900-5/');
    my $c = main::node('C', '/t900-5/');

    my $out = "a: " . main::patch(1986, 'pools/p1/endpoints/a',
                                  '{"weight":0.2}') . "\n";
    CflbFleet::wait_state(1988, CflbFleet::state(1986), 10);

    CflbFleet::stop_node($c);
    $out .= "b while C is down: " . main::patch(1986, 'pools/p1/endpoints/b',
                                                '{"weight":0.7}') . "\n";
    CflbFleet::kill_all();

    CflbFleet::node(1988, main::node_http('C', 1988, '/t900-5/'), $c);
    $out .= "C from its state file: " . CflbFleet::state(1988);
    my $t = Cflb::repeat(10, port => 1988);
    $out .= "C serves: " . join(',', sort keys %{ $t->{bodies} }) . "\n";

    CflbFleet::start();
    $out .= "C caught up: "
        . (defined CflbFleet::wait_state(1988, "p1=on(a:0.2:on,b:0.7:on) "
                                         . "p2=on(c:1:on)\n", 30)
           ? "yes" : "no: " . CflbFleet::state(1988)) . "\n";
    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a: 200
b while C is down: 200
C from its state file: p1=on(a:0.2:on,b:0.5:on) p2=on(c:1:on)
C serves: a,b
C caught up: yes
node errors: none
--- no_error_log
[error]
