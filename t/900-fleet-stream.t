# vim:set ft= ts=4 sw=4 et fdm=marker:

# A fleet's stream (layer 4) zone (docs/fleet.md): its own keys below the
# same prefix ("<prefix>stream/"), changed through "stream/" of any
# node's API, applied by every node's stream zone, without touching the
# http zone's pools of the same name.  Nodes A and B: API and status on
# 1986-1987, TCP on 1996-1997; the backends (this test's nginx, http) on
# 1990-1991; etcd from t/lib/CflbFleet.pm.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbFleet;

repeat_each(1);
workers(1);
master_on();
log_level('warn');

plan "no_plan";

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


sub node {
    my ($name, $port, $tcp, $prefix) = @_;

    my $urls = CflbFleet::urls();

    my $http = <<"_EOC_";
    cflb_zone cflb 1m;
    cflb_cluster etcd=$urls prefix=$prefix node=$name timeout=1s;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991; }
    cflb_lb www { pools p1; }
    server {
        listen 127.0.0.1:$port;
        location /status { cflb_status; }
        location /api/ { allow 127.0.0.1; deny all; cflb_api; }
    }
_EOC_

    my $stream = <<"_EOC_";
    cflb_zone cflbs 1m;
    cflb_cluster etcd=$urls prefix=$prefix node=$name timeout=1s;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; endpoint b 127.0.0.1:1991; }
    cflb_lb tcp { pools p1; }
    server { listen 127.0.0.1:$tcp; proxy_pass tcp; }
_EOC_

    my $dir = CflbFleet::node($port, $http, undef, $stream);

    for my $s (0, 1) {
        CflbFleet::wait_etcd($port, 'connected', 20, $s)
            or die "cflb: node $name did not connect to etcd\n";
    }

    return $dir;
}


# $n TCP sessions to $port, each an HTTP/1.0 request the backend
# answers and closes (the client keeps its side open: nginx's stream
# proxy ends a session when the client half-closes): the bodies
sub tcp {
    my ($port, $n) = @_;

    my %t;

    for (1 .. $n) {
        my $sock = Cflb::connect_to($port);
        print $sock "GET / HTTP/1.0\r\nHost: x\r\n\r\n";

        local $/;
        local $SIG{ALRM} = sub { die "cflb: no answer on $port\n" };
        alarm 10;
        my $a = <$sock> // '';
        alarm 0;

        my ($body) = $a =~ /\r\n\r\n(.*)$/s;
        $body //= '';
        $body =~ s/\s+$//;
        $t{$body}++;
    }

    return join(',', sort keys %t);
}


sub scenario {
    my ($code) = @_;

    my $out = eval { $code->() };

    return defined $out ? $out : "died: $@";
}


__DATA__

=== TEST 1: a stream endpoint disabled through A's "stream/" reaches B's stream zone, not the http pool of the same name
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    CflbFleet::start();
    main::node('A', 1986, 1996, '/t900s-1/');
    main::node('B', 1987, 1997, '/t900s-1/');

    my $out = "B's sessions: " . main::tcp(1997, 20) . "\n";
    my $r = Cflb::api(PATCH => '/api/stream/pools/p1/endpoints/a',
                      '{"enabled":false}', port => 1986);
    $out .= "patch on A: $r->{status}\n";
    $out .= "B's stream zone within 10 s: "
        . (defined CflbFleet::wait_state(1987, "p1=on(a:1:off,b:1:on)\n", 10,
                                         1) ? "yes" : "no") . "\n";
    $out .= "B's sessions: " . main::tcp(1997, 20) . "\n";
    $out .= "B's http zone: " . CflbFleet::state(1987);
    $out .= "keys: " . join(' ', grep { !/ready/ }
                                 sort keys %{ CflbFleet::keys_below('/t900s-1/') })
        . "\n";
    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
B's sessions: a,b
patch on A: 200
B's stream zone within 10 s: yes
B's sessions: b
B's http zone: p1=on(a:1:on,b:1:on)
keys: /t900s-1/stream/endpoint/p1/a/enabled
node errors: none
--- no_error_log
[error]
