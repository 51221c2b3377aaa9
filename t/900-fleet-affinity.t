# vim:set ft= ts=4 sw=4 et fdm=marker:

# Header affinity across a fleet (docs/fleet.md): with cflb_cluster, a
# new header session's first pick comes from its session key, so every
# node maps a session to the same endpoint without sharing its session
# table; when that endpoint stops serving, the next pick is the same on
# every node too.  Nodes A and B on ports 1986-1987, the backends (this
# test's nginx) on 1990-1993, etcd from t/lib/CflbFleet.pm.

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
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    server { listen 127.0.0.1:1993; return 200 "d\n"; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


sub node_http {
    my ($name, $port, $prefix) = @_;

    my $urls = CflbFleet::urls();

    return <<"_EOC_";
    cflb_zone cflb 1m;
    cflb_cluster etcd=$urls prefix=$prefix node=$name ttl=3s timeout=1s;
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992 weight=0.5;
        endpoint d 127.0.0.1:1993 weight=0.5;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www {
        pools p1;
        session_affinity header;
        session_affinity_headers X-Session;
    }
    server {
        listen 127.0.0.1:$port;
        location /t {
            proxy_pass http://www;
            add_header X-Trace \$cflb_trace always;
        }
        location /status { cflb_status; }
        location /api/ { allow 127.0.0.1; deny all; cflb_api; }
    }
_EOC_
}


sub node {
    my ($name, $port, $prefix) = @_;

    my $dir = CflbFleet::node($port, node_http($name, $port, $prefix));

    CflbFleet::wait_etcd($port, 'connected', 20)
        or die "cflb: node $name did not connect to etcd\n";

    return $dir;
}


# $clients sessions alternating between A and B, $each requests each:
# { session => { endpoint => count } }, and the "how" of the traces
sub alternate {
    my ($tag, $clients, $each, $seen, $how) = @_;

    for my $round (1 .. $each) {
        for my $c (1 .. $clients) {
            my $port = ($round + $c) % 2 ? 1986 : 1987;
            my $r = Cflb::get(port => $port,
                              headers => ["X-Session: $tag-$c"]);
            $seen->{$c}{$r->{body}}++;
            $how->{$1}++ if ($r->{headers}{'x-trace'} // '')
                            =~ / endpoint=p1\/\w+(\(\w+\))/;
        }
    }
}


sub scenario {
    my ($code) = @_;

    my $out = eval { $code->() };

    return defined $out ? $out : "died: $@";
}


__DATA__

=== TEST 1: sessions alternating between two nodes stay on one endpoint; when it is disabled, each moves, the same way on both nodes
--- http_config eval: $::Backends
--- config
    location /t { return 200 "ok"; }
--- init
$Cflb::note{out} = main::scenario(sub {
    CflbFleet::start();
    main::node('A', 1986, '/t900a-1/');
    main::node('B', 1987, '/t900a-1/');

    my (%seen, %how, %first);
    main::alternate('s', 60, 6, \%seen, \%how);

    my $moved = grep { keys %{ $seen{$_} } > 1 } keys %seen;
    my %per = map { my ($e) = keys %{ $seen{$_} }; ($e => 1) } keys %seen;
    my $out = "sessions on two endpoints or more: $moved of 60\n";
    $out .= "endpoints used: " . join(',', sort keys %per) . "\n";
    $out .= "how: " . join(',', sort keys %how) . "\n";

    # the endpoint of most sessions stops serving, everywhere
    my %count;
    for my $c (keys %seen) {
        my ($e) = keys %{ $seen{$c} };
        $first{$c} = $e;
        $count{$e}++;
    }
    my ($gone) = sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count;

    my $r = Cflb::api(PATCH => "/api/pools/p1/endpoints/$gone",
                      '{"enabled":false}', port => 1986);
    $out .= "disabled: $r->{status}\n";
    CflbFleet::wait_state(1987, CflbFleet::state(1986), 10);

    my (%after, %how2);
    main::alternate('s', 60, 6, \%after, \%how2);

    my $split = grep { keys %{ $after{$_} } > 1 } keys %after;
    my $stayed = grep { $first{$_} ne $gone
                        && join(',', keys %{ $after{$_} }) eq $first{$_} }
                 keys %after;
    my $others = grep { $first{$_} ne $gone } keys %after;
    my $on_gone = grep { $after{$_}{$gone} } keys %after;

    $out .= "after: sessions on two endpoints or more: $split of 60, on the "
        . "disabled one: $on_gone, the others kept theirs: "
        . ($stayed == $others ? "all" : "$stayed of $others") . "\n";
    $out .= "node errors: " . (CflbFleet::node_errors() || "none\n");
    return $out;
});
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sessions on two endpoints or more: 0 of 60
endpoints used: a,b,c,d
how: (affinity),(session_key)
disabled: 200
after: sessions on two endpoints or more: 0 of 60, on the disabled one: 0, the others kept theirs: all
node errors: none
--- no_error_log
[error]
