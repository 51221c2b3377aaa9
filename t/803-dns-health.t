# vim:set ft= ts=4 sw=4 et fdm=marker:

# DNS-only load balancers are the same objects as layer 4 ones: their
# monitors, pool health, fallback, runtime API (under stream/) and
# reload work as for any other, seen here through the answers.  Two
# workers, each with its own sockets (reuseport): every worker sees a
# health change and the counters add up.  The endpoints are TCP
# listeners the test starts at 127.0.0.11 and up, port 1961, checked by a
# "type tcp" monitor every second.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbDns;

CflbDns::blocks();

repeat_each(1);
master_on();
workers(2);
log_level('notice');

plan "no_plan";

our $Zone = <<'_EOC_';
    cflb_zone dns 1m;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_monitor tcp1 { type tcp; interval 1s; timeout 500ms; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# $n queries for www A: the distinct answers, one per line
sub answers {
    my ($n) = @_;

    my $out = CflbDns::py('tally', 'www.example.com', 'A', $n || 40);

    return CORE::join '', map { (split / /)[0] . "\n" } split /\n/, $out;
}

__DATA__

=== TEST 1: an endpoint whose monitor fails leaves the answers, and comes back when it passes
Answers are taken once the status says the endpoint changed: no
waiting on a clock.  40 queries each time reach both workers.
--- dns_config eval
$::Zone . q{
    cflb_pool us {
        endpoint a 127.0.0.11:1961; endpoint b 127.0.0.12:1961;
        endpoint c 127.0.0.13:1961;
        monitor tcp1;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_reuseport
--- dns_test
my %pid = map { $_ => CflbDns::listener("127.0.0.1$_", 1961) } 1 .. 3;
CflbDns::wait_health("us/$_", 'healthy', 10) for qw(a b c);
my $out = "all up:\n" . main::answers();
CflbDns::kill_child($pid{2});
CflbDns::wait_health('us/b', 'unhealthy', 10);
$out .= "b down:\n" . main::answers();
$pid{2} = CflbDns::listener('127.0.0.12', 1961);
CflbDns::wait_health('us/b', 'healthy', 10);
$out . "b up again:\n" . main::answers()
--- dns_answers
all up:
127.0.0.11,127.0.0.12,127.0.0.13
b down:
127.0.0.11,127.0.0.13
b up again:
127.0.0.11,127.0.0.12,127.0.0.13
--- no_error_log
[error]



=== TEST 2: every pool critical: the fallback answers, its health ignored; the fallback disabled too: NODATA with the SOA
Pool us is critical once its endpoint fails; the fallback fb's endpoint
fails too but a fallback serves regardless (the product's "no health").
Disabling fb through the runtime API leaves nothing: NODATA, the SOA.
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 127.0.0.11:1961; monitor tcp1; }
    cflb_pool fb { endpoint f 127.0.0.14:1961; monitor tcp1; }
    cflb_lb www { hostname www.example.com; pools us; fallback_pool fb; }
}
--- dns_reuseport
--- dns_test
my $a = CflbDns::listener('127.0.0.11', 1961);
CflbDns::wait_health('us/a', 'healthy', 10);
my $out = "us up:\n" . main::answers();
CflbDns::kill_child($a);
CflbDns::wait_health('us/a', 'unhealthy', 10);
CflbDns::wait_health('fb/f', 'unhealthy', 10);
$out .= "us and fb down:\n" . main::answers();
my $r = Cflb::api('PATCH', '/cflb/stream/pools/fb', '{"enabled": false}');
$out .= "PATCH $r->{status}\n";
$out . "fb disabled:\n" . CflbDns::q('www.example.com', 'A')
--- dns_answers
us up:
127.0.0.11
us and fb down:
127.0.0.14
PATCH 200
fb disabled:
NOERROR qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30



=== TEST 3: the runtime API: a disabled endpoint leaves the answers; unequal weights make the answer one address
--- dns_config eval
$::Zone . q{
    cflb_pool us {
        endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80;
        endpoint c 192.0.2.3:80;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_reuseport
--- dns_test
my $out = "before:\n" . main::answers();
my $r = Cflb::api('PATCH', '/cflb/stream/pools/us/endpoints/c',
                  '{"enabled": false}');
$out .= "c disabled ($r->{status}):\n" . main::answers();
$r = Cflb::api('PATCH', '/cflb/stream/pools/us/endpoints/b',
               '{"weight": 0.5}');
$out . "b weighs 0.5 ($r->{status}):\n" . main::answers(200)
--- dns_answers
before:
192.0.2.1,192.0.2.2,192.0.2.3
c disabled (200):
192.0.2.1,192.0.2.2
b weighs 0.5 (200):
192.0.2.1
192.0.2.2



=== TEST 4: both workers answer, and their counts add up in the zone
The status of the access log tells which worker answered (direct=off:
each datagram is a session).
--- dns_config eval
$::Zone . q{
    log_format who '$pid';
    access_log logs/dns.log who;
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_server
cflb_dns direct=off;
--- dns_reuseport
--- dns_test
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= 2 }, 5);
my $from = Cflb::log_count('logs/dns.log');
my $base = CflbDns::status()->{dns}{queries};
CflbDns::py('tally', 'www.example.com', 'A', 300, '--each', 1);
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= $from + 300 }, 10);
my %w = map { $_ => 1 } (Cflb::log_lines('logs/dns.log'))[$from .. $from + 299];
my $l = CflbDns::lb_dns('www');
"workers " . (keys %w > 1 ? "several" : "one")
. ", queries $l->{queries}, answers $l->{answers}, responder "
. (CflbDns::status()->{dns}{queries} - $base)
--- dns_answers
workers several, queries 300, answers 300, responder 300



=== TEST 5: a reload keeps the counters of a load balancer whose pools stay, and starts afresh one whose pools changed
--- skip_eval: 2: $ENV{TEST_NGINX_USE_VALGRIND}
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_pool eu { endpoint b 192.0.2.2:80; }
    cflb_lb www { hostname www.example.com; pools us; }
    cflb_lb api { hostname api.example.com; pools us; }
}
--- dns_test
CflbDns::q('www.example.com', 'A') for 1 .. 3;
CflbDns::q('api.example.com', 'A') for 1 .. 2;
Cflb::reload_with('cflb_lb api { hostname api.example.com; pools us; }',
                  'cflb_lb api { hostname api.example.com; pools eu; }', 2);
my $out = "www " . CflbDns::lb_dns('www')->{queries}
          . ", api " . CflbDns::lb_dns('api')->{queries} . "\n";
$out . CflbDns::q('api.example.com', 'A')
--- dns_answers
www 3, api 0
NOERROR qr aa
ANSWER api.example.com. 30 IN A 192.0.2.2
