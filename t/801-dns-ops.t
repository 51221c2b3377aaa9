# vim:set ft= ts=4 sw=4 et fdm=marker:

# DNS-only, as operators see it: the counters in the status document and
# in Prometheus, the variables in a stream access log, replies from the
# address a query came to on a wildcard listener, and a recursive
# resolver (unbound) in front, sending client subnets.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbDns;
use JSON::PP;

CflbDns::blocks();

repeat_each(1);

plan "no_plan";

our $Zone = <<'_EOC_';
    cflb_zone dns 1m;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
_EOC_

our $Promtool = '/usr/bin/promtool';

no_long_string();
no_shuffle();
run_tests();


# the responder's counters since $base (the "dns" object of an earlier
# status: the wait for the responder to answer asked it something) and
# each load balancer's, as lines
sub dns_counters {
    my ($base) = @_;

    my $st = CflbDns::status();
    my $d = $st->{dns};
    my $out = sprintf "responder queries=%d tcp=%d nodata=%d truncated=%d "
                      . "dropped=%d\n", map { $d->{$_} - $base->{$_} }
                      qw(queries tcp nodata truncated dropped);
    $out .= "responses " . CORE::join(' ', map {
                "$_=" . ($d->{responses}{$_} - $base->{responses}{$_})
            } sort keys %{ $d->{responses} }) . "\n";
    $out .= "zone $_->{name}\n" for @{ $d->{zones} };

    for my $lb (@{ $st->{lbs} }) {
        my $l = $lb->{dns} or next;
        $out .= "lb $lb->{name} $l->{hostname} ttl=$l->{ttl} enabled="
                . ($l->{enabled} ? "true" : "false")
                . " queries=$l->{queries} answers=$l->{answers}"
                . " nodata=$l->{nodata} nxdomain=$l->{nxdomain}\n";
        for my $p (@{ $l->{pools} }) {
            $out .= "  pool $p->{name} answers=$p->{answers}\n";
            $out .= "    $_->{name} $_->{record} $_->{data}"
                    . " answers=$_->{answers}\n" for @{ $p->{endpoints} };
        }
    }

    return $out;
}


# the cflb_dns_* samples whose value moved between two scrapes, with
# the difference
sub prom_delta {
    my ($before, $after) = @_;

    my %b = map { /^(cflb_dns_\S+) (\d+)$/ ? ($1 => $2) : () }
            split /\n/, $before;
    my $out = '';

    for (split /\n/, $after) {
        my ($k, $v) = /^(cflb_dns_\S+) (\d+)$/ or next;
        my $d = $v - ($b{$k} // 0);
        $out .= "$k $d\n" if $d;
    }

    return $out;
}


# GET $path on the http port: the body
sub fetch {
    my ($path) = @_;

    my $sock = Cflb::connect_to($Test::Nginx::Util::ServerPort);
    print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\n"
                . "Connection: close\r\n\r\n";
    local $/;
    my $raw = <$sock> // '';

    return (split /\r\n\r\n/, $raw, 2)[1] // '';
}


sub promtool {
    my ($text) = @_;

    -x $::Promtool or return "$::Promtool is missing (Debian: prometheus)";

    my $file = Cflb::key_file('metrics.txt', 0, $text);
    my $out = `$::Promtool check metrics < $file 2>&1`;

    return $? == 0 && $out eq '' ? "ok" : "exit " . ($? >> 8) . ": $out";
}

__DATA__

=== TEST 1: the counters in the status document: the responder's by response code, each load balancer's, per pool and endpoint
Queries: www A three times over UDP and once over TCP (a and b each
time), www AAAA (NODATA: no IPv6 endpoint), off A (disabled: NXDOMAIN),
nope (NXDOMAIN), example.org (REFUSED), two questions (FORMERR), a short
packet (dropped).  An answer carries every endpoint of pool us.
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80; }
    cflb_pool eu { endpoint c localhost:80; }
    cflb_lb www { hostname www.example.com; pools us eu; }
    cflb_lb off { hostname off.example.com; pools eu; enabled off;
                  ttl 10; }
}
--- dns_test
my $base = CflbDns::status()->{dns};
CflbDns::q('www.example.com', 'A') for 1 .. 3;
CflbDns::q('www.example.com', 'A', '--tcp');
CflbDns::q('www.example.com', 'AAAA');
CflbDns::q('off.example.com', 'A');
CflbDns::q('nope.example.com', 'A');
CflbDns::q('example.org', 'A');
CflbDns::py('craft', $_) for qw(qdcount2 short);
main::dns_counters($base)
--- dns_answers
responder queries=10 tcp=1 nodata=1 truncated=0 dropped=1
responses badvers=0 formerr=1 noerror=5 notimp=0 nxdomain=2 refused=1 servfail=0
zone example.com
lb www www.example.com ttl=30 enabled=true queries=5 answers=4 nodata=1 nxdomain=0
  pool us answers=4
    a A 192.0.2.1 answers=4
    b A 192.0.2.2 answers=4
  pool eu answers=0
    c CNAME localhost answers=0
lb off off.example.com ttl=10 enabled=false queries=1 answers=0 nodata=0 nxdomain=1
  pool eu answers=0
    c CNAME localhost answers=0
--- no_error_log
[error]



=== TEST 2: a truncated answer does not count its endpoints; the retry over TCP does
--- dns_config eval
$::Zone . "    cflb_pool big {\n"
. CORE::join('', map { "        endpoint e$_ 10.0.0.$_:80;\n" } 1 .. 40)
. "    }\n    cflb_lb www { hostname www.example.com; pools big; }\n"
--- dns_test
my $base = CflbDns::status()->{dns};
CflbDns::q('www.example.com', 'A');
CflbDns::q('www.example.com', 'A', '--tcp');
my $l = CflbDns::lb_dns('www');
my $st = CflbDns::status()->{dns};
"truncated=" . ($st->{truncated} - $base->{truncated})
. " queries=$l->{queries} answers=$l->{answers} "
. "pool=$l->{pools}[0]{answers} e1=$l->{pools}[0]{endpoints}[0]{answers}"
--- dns_answers
truncated=1 queries=2 answers=2 pool=1 e1=1



=== TEST 3: the same counters in Prometheus, valid for promtool
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80; }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
my $before = main::fetch('/status?format=prometheus');
CflbDns::q('www.example.com', 'A') for 1 .. 2;
CflbDns::q('nope.example.com', 'A');
my $text = main::fetch('/status?format=prometheus');
main::prom_delta($before, $text) . "promtool: " . main::promtool($text)
--- dns_answers
cflb_dns_queries_total{subsystem="stream"} 3
cflb_dns_responses_total{subsystem="stream",rcode="noerror"} 2
cflb_dns_responses_total{subsystem="stream",rcode="nxdomain"} 1
cflb_dns_lb_queries_total{subsystem="stream",lb="www"} 2
cflb_dns_lb_responses_total{subsystem="stream",lb="www",result="answer"} 2
cflb_dns_pool_answers_total{subsystem="stream",lb="www",pool="us"} 2
cflb_dns_endpoint_answers_total{subsystem="stream",lb="www",pool="us",endpoint="a"} 2
cflb_dns_endpoint_answers_total{subsystem="stream",lb="www",pool="us",endpoint="b"} 2
promtool: ok



=== TEST 4: the access log of UDP sessions and TCP connections: $cflb_lb, $cflb_pool, $cflb_endpoint, $cflb_endpoint_name, $cflb_endpoint_addr, $cflb_trace
With direct=off each datagram is a stream session, logged; a TCP
connection is logged once, with its last query.  $cflb_endpoint holds
the addresses answered (or the CNAME target), as $cflb_endpoint_addr;
$cflb_endpoint_name their names.
--- dns_config eval
$::Zone . q{
    log_format dns '$protocol $status lb=$cflb_lb pool=$cflb_pool '
                   'ep=$cflb_endpoint name=$cflb_endpoint_name '
                   'addr=$cflb_endpoint_addr '
                   '[$cflb_trace]';
    access_log logs/dns.log dns;
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_pool origin { endpoint o localhost:80; }
    cflb_lb www { hostname www.example.com; pools us; }
    cflb_lb alias { hostname alias.example.com; pools origin; }
}
--- dns_server
cflb_dns direct=off;
--- dns_test
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= 2 }, 5);
my $from = Cflb::log_count('logs/dns.log');
CflbDns::q('www.example.com', 'A');
CflbDns::q('www.example.com', 'A', '--ecs', '198.51.100.0/24');
CflbDns::q('alias.example.com', 'A');
CflbDns::q('nope.example.com', 'AAAA');
CflbDns::py('craft', 'short');
CflbDns::q('www.example.com', 'A', '--tcp');
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= $from + 6 }, 5);
CORE::join "\n", (Cflb::log_lines('logs/dns.log'))[$from .. $from + 5]
--- dns_answers
UDP 200 lb=www pool=us ep=192.0.2.1 name=a addr=192.0.2.1 [lb=www pool=us(priority) endpoint=us/a(random) qtype=A rcode=NOERROR answer=us/a]
UDP 200 lb=www pool=us ep=192.0.2.1 name=a addr=192.0.2.1 [lb=www pool=us(priority) endpoint=us/a(random) qtype=A rcode=NOERROR answer=us/a ecs=198.51.100.0/24 scope=0]
UDP 200 lb=alias pool=origin ep=localhost name=o addr=localhost [lb=alias pool=origin(priority) endpoint=origin/o(random) qtype=A rcode=NOERROR answer=origin/o]
UDP 200 lb=- pool=- ep=- name=- addr=- [lb=- pool=- endpoint=- qtype=AAAA rcode=NXDOMAIN answer=-]
UDP 400 lb=- pool=- ep=- name=- addr=- [lb=- pool=- endpoint=- qtype=- rcode=- answer=-]
TCP 200 lb=www pool=us ep=192.0.2.1 name=a addr=192.0.2.1 [lb=www pool=us(priority) endpoint=us/a(random) qtype=A rcode=NOERROR answer=us/a]



=== TEST 5: a wildcard listener replies from the address the query came to (127.0.0.2), directly and in sessions
dig rejects a reply from another address ("reply from unexpected
source") and then times out.
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_lb www { hostname www.example.com; pools us; }
    server { listen 1954 udp; cflb_dns; }
    server { listen 1955 udp; cflb_dns direct=off; }
}
--- dns_test
CORE::join '', map {
    `dig +time=2 +tries=1 +short -p $_ \@127.0.0.2 www.example.com A 2>&1`
} 1954, 1955
--- dns_answers
192.0.2.1
192.0.2.1



=== TEST 6: unbound in front: it resolves through the responder, answers and NXDOMAIN alike
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80; }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
CflbDns::unbound(1956, '');
my @out = map { scalar `dig +time=3 +tries=1 -p 1956 \@127.0.0.1 $_ 2>&1` }
          'www.example.com A', 'nope.example.com A';
CORE::join('', map { /status: (\w+)/ ? "$1\n" : "no status: $_" } @out)
. CORE::join('', sort grep { /^www\S+\s+\d+\s+IN\s+A\s/ }
                 split /^/, $out[0]) =~ s/[ \t]+/ /gr
--- dns_answers
NOERROR
NXDOMAIN
www.example.com. 30 IN A 192.0.2.1
www.example.com. 30 IN A 192.0.2.2



=== TEST 7: unbound in front, sending client subnets: the hash keys on each subnet, unbound caches per subnet (scope 24)
Hash steering on one of four endpoints: 30 client subnets, asked three
times each through unbound, never move; the responder saw the subnets
(its trace) and said the answer depends on the whole /24.
--- dns_config eval
$::Zone . q{
    log_format dns '[$cflb_trace]';
    access_log logs/dns.log dns;
    cflb_pool us {
        endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80 weight=0.99;
        endpoint c 192.0.2.3:80; endpoint d 192.0.2.4:80;
        endpoint_steering hash;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_server
cflb_dns direct=off;
--- dns_test
CflbDns::unbound(1956, '');
my (%seen, %all);
for my $round (1 .. 3) {
    for my $k (1 .. 30) {
        my $a = `dig +time=3 +tries=1 +short -p 1956 \@127.0.0.1 +subnet=10.7.$k.0/24 www.example.com A 2>&1`;
        chomp $a;
        $seen{$k}{$a} = 1;
        $all{$a} = 1;
    }
}
my $moved = grep { keys %{ $seen{$_} } > 1 } keys %seen;
my @trace = grep { /ecs=10\.7\.\d+\.0\/24 scope=24/ }
            Cflb::log_lines('logs/dns.log');
"moved $moved, answers " . (keys %all >= 3 ? ">= 3" : scalar keys %all)
. ", subnets seen " . (@trace >= 30 ? ">= 30" : scalar @trace)
--- dns_answers
moved 0, answers >= 3, subnets seen >= 30
