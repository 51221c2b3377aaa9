# vim:set ft= ts=4 sw=4 et fdm=marker:

# Exactly one probe per endpoint per interval, under contention: 8
# workers tick every 200 ms and race for the due checks of 1,000
# endpoints.  Each endpoint has an address of its own in 127/8, all
# served by one server of this nginx that logs the address probed and
# the time: two probes of one endpoint less than a quarter of an interval
# apart are a duplicate (a worker that read a due check, then won it
# after another one had probed it, docs/directives.md, cflb_monitor;
# those seen were 15-20 ms apart).  retries 0: a retry after a timeout
# is a second probe of the same check, by design.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(8);
master_on();
worker_connections(1024);
log_level('warn');

plan "no_plan";

no_shuffle();
run_tests();


# 1,000 endpoints at 127.1.X.Y:1996
sub pool {
    my $conf = "    cflb_pool big {\n";

    for my $i (0 .. 999) {
        $conf .= sprintf("        endpoint e%d 127.1.%d.%d:1996;\n",
                         $i, int($i / 250), $i % 250 + 1);
    }

    return $conf . "        monitor m;\n    }\n";
}


# address => [ times ] from the probe log
sub probes {
    my %t;

    for (Cflb::log_lines('logs/probe.log')) {
        my ($addr, $msec) = split;
        push @{ $t{$addr} }, $msec;
    }

    return \%t;
}

__DATA__

=== TEST 1: 8 workers, 1,000 endpoints, 2 s interval: no endpoint probed twice in one interval
--- http_config eval
q{
    log_format probe '$server_addr $msec';
    server {
        listen 1996;
        access_log logs/probe.log probe;
        location / { return 200 "ok"; }
    }
    cflb_zone cflb 4m;
    cflb_monitor m { type http; path /hc; interval 2s; timeout 1s; retries 0; }
} . main::pool() . q{
    cflb_lb www { pools big; }
}
--- config
    location = /status { cflb_status; }
--- init
# every endpoint probed at least 5 times: 4 intervals or more
Cflb::wait_until(sub {
    my $t = main::probes();
    keys %$t == 1000 && !grep { @$_ < 5 } values %$t }, 60);
my $t = main::probes();
my ($n, $dup, $min) = (0, 0, 1e9);
for my $times (values %$t) {
    my @s = sort { $a <=> $b } @$times;
    $n += @s;
    for my $i (1 .. $#s) {
        my $gap = $s[$i] - $s[$i - 1];
        $min = $gap if $gap < $min;
        $dup++ if $gap < 0.5;
    }
}
$Cflb::note{out} = "endpoints probed: " . (keys %$t) . "\n"
    . "probes: " . ($n >= 5000 ? "5000 or more" : $n) . "\n"
    . "duplicates: $dup" . ($dup ? sprintf(" (closest %.3f s)", $min) : "")
    . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
endpoints probed: 1000
probes: 5000 or more
duplicates: 0
--- no_error_log
[error]
[alert]
--- timeout: 90
