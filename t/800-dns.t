# vim:set ft= ts=4 sw=4 et fdm=marker:

# DNS-only load balancing (issue 13, docs/dns.md): the answers of the
# responder in stream{}, queried with real clients: dig and kdig as an
# operator runs them, dnspython (t/lib/cflb-dns.py) for EDNS, client
# subnets, TCP and thousands of queries.  The responder listens on
# 127.0.0.1:1953, UDP and TCP; the endpoints are addresses nobody serves
# (a DNS load balancer never connects to them).

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbDns;

CflbDns::blocks();

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2 + 1);

our $Zone = <<'_EOC_';
    cflb_zone dns 1m;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com. refresh=3600
            retry=600 expire=604800 minimum=30;
        ns ns1.example.com. ns2.example.com.;
    }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: equal weights: every address, TTL 30, authoritative, as dig and kdig see it
--- dns_config eval
$::Zone . q{
    cflb_pool us {
        endpoint a 192.0.2.10:80; endpoint b 192.0.2.11:80;
        endpoint c 192.0.2.12:80;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
(CflbDns::dig(qw(+noall +answer www.example.com A))
 . CflbDns::kdig(qr/^;; (->>HEADER|Flags)/, qw(www.example.com A)))
=~ s/id: \d+/id: <id>/r
--- dns_answers
www.example.com. 30 IN A 192.0.2.10
www.example.com. 30 IN A 192.0.2.11
www.example.com. 30 IN A 192.0.2.12
;; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: <id>
;; Flags: qr aa; QUERY: 1; ANSWER: 3; AUTHORITY: 0; ADDITIONAL: 0



=== TEST 2: the query's case comes back as sent, the name matches in any case
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.10:80; }
    cflb_lb www { hostname WWW.Example.com; pools us; ttl 60; }
}
--- dns_test
CflbDns::q('wWw.ExAmPlE.cOm', 'A')
--- dns_answers
NOERROR qr aa
ANSWER wWw.ExAmPlE.cOm. 60 IN A 192.0.2.10



=== TEST 3: A and AAAA: the asked family only; ANY gets both
--- dns_config eval
$::Zone . q{
    cflb_pool dual {
        endpoint a 192.0.2.10:80; endpoint b [2001:db8::10]:80;
        endpoint c [2001:db8::11]:80;
    }
    cflb_lb www { hostname www.example.com; pools dual; }
}
--- dns_test
CflbDns::q('www.example.com', 'A') . "\n--\n"
. CflbDns::q('www.example.com', 'AAAA') . "\n--\n"
. CflbDns::q('www.example.com', 'ANY')
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.10
--
NOERROR qr aa
ANSWER www.example.com. 30 IN AAAA 2001:db8::10
ANSWER www.example.com. 30 IN AAAA 2001:db8::11
--
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.10
ANSWER www.example.com. 30 IN AAAA 2001:db8::10
ANSWER www.example.com. 30 IN AAAA 2001:db8::11



=== TEST 4: no endpoint of the asked family: NODATA with the SOA, TTL the SOA minimum
--- dns_config eval
$::Zone . q{
    cflb_pool v4 { endpoint a 192.0.2.10:80; }
    cflb_lb www { hostname www.example.com; pools v4; }
}
--- dns_test
CflbDns::q('www.example.com', 'AAAA') . "\n--\n"
. CflbDns::q('www.example.com', 'MX')
--- dns_answers
NOERROR qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30
--
NOERROR qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30



=== TEST 5: unequal weights: one address, picked by weight (.75/.25 over 4000 queries, +-0.03)
4 standard deviations of a share of .75 over 4000 samples are 0.027.
--- dns_config eval
$::Zone . q{
    cflb_pool us {
        endpoint a 192.0.2.10:80 weight=0.75;
        endpoint b 192.0.2.11:80 weight=0.25;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
my %t = map { /^(\S+) (\d+)$/ ? ($1 => $2) : () }
        split /\n/, CflbDns::py('tally', 'www.example.com', 'A', 4000);
Cflb::shares(\%t, { '192.0.2.10' => 0.75, '192.0.2.11' => 0.25 }, 0.03)
--- dns_answers
192.0.2.10 ok
192.0.2.11 ok



=== TEST 6: unequal weights and two families: the pick is among the asked family, by weight (1/3, 2/3 over 3000, +-0.035)
A picks between a (0.5) and b (1.0); AAAA always gets c, which A never
gets.  4 standard deviations of 1/3 over 3000 samples are 0.034.
--- dns_config eval
$::Zone . q{
    cflb_pool mix {
        endpoint a 192.0.2.10:80 weight=0.5;
        endpoint b 192.0.2.11:80;
        endpoint c [2001:db8::10]:80 weight=0.3;
    }
    cflb_lb www { hostname www.example.com; pools mix; }
}
--- dns_test
my %t = map { /^(\S+) (\d+)$/ ? ($1 => $2) : () }
        split /\n/, CflbDns::py('tally', 'www.example.com', 'A', 3000);
Cflb::shares(\%t, { '192.0.2.10' => 1 / 3, '192.0.2.11' => 2 / 3 }, 0.035)
. CflbDns::py('tally', 'www.example.com', 'AAAA', 200)
--- dns_answers
192.0.2.10 ok
192.0.2.11 ok
2001:db8::10 200



=== TEST 7: an endpoint given as a hostname is answered as a CNAME to it
--- dns_config eval
$::Zone . q{
    cflb_pool origin { endpoint o localhost:80; }
    cflb_lb www { hostname www.example.com; pools origin; }
}
--- dns_test
CflbDns::q('www.example.com', 'A') . "\n--\n"
. CflbDns::q('www.example.com', 'CNAME') . "\n--\n"
. CflbDns::q('www.example.com', 'TXT')
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN CNAME localhost.
--
NOERROR qr aa
ANSWER www.example.com. 30 IN CNAME localhost.
--
NOERROR qr aa
ANSWER www.example.com. 30 IN CNAME localhost.



=== TEST 8: a CNAME to another of our load balancers carries that one's addresses
The target must resolve when nginx starts, so it is "localhost": a zone
of its own whose apex is the second load balancer's hostname.
--- dns_config eval
$::Zone . q{
    cflb_dns_zone localhost {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_pool origin { endpoint o localhost:80; }
    cflb_pool local { endpoint l 192.0.2.99:80; }
    cflb_lb www { hostname www.example.com; pools origin; }
    cflb_lb local { hostname localhost; pools local; ttl 5; }
}
--- dns_test
CflbDns::q('www.example.com', 'A')
--- dns_answers
NOERROR qr aa
ANSWER localhost. 5 IN A 192.0.2.99
ANSWER www.example.com. 30 IN CNAME localhost.



=== TEST 9: names of the zone: NXDOMAIN, a name between (NODATA), the apex's SOA and NS
Names in records are compressed against the question, so they take its
case (EXAMPLE.com), as with every server.
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.10:80; }
    cflb_lb www { hostname www.eu.lb.example.com; pools us; }
}
--- dns_test
CORE::join "\n--\n", CflbDns::q('nope.example.com', 'A'),
               CflbDns::q('a.www.eu.lb.example.com', 'A'),
               CflbDns::q('lb.example.com', 'A'),
               CflbDns::q('example.com', 'SOA'),
               CflbDns::q('EXAMPLE.com', 'NS'),
               CflbDns::q('example.com', 'A')
--- dns_answers
NXDOMAIN qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30
--
NXDOMAIN qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30
--
NOERROR qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30
--
NOERROR qr aa
ANSWER example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30
--
NOERROR qr aa
ANSWER EXAMPLE.com. 3600 IN NS ns1.EXAMPLE.com.
ANSWER EXAMPLE.com. 3600 IN NS ns2.EXAMPLE.com.
--
NOERROR qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30



=== TEST 10: outside every zone, or not class IN: REFUSED, not authoritative
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.10:80; }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
CORE::join "\n--\n", CflbDns::q('www.example.org', 'A'),
               CflbDns::q('com', 'NS'),
               CflbDns::q('xexample.com', 'A'),
               CflbDns::py('craft', 'chaos')
--- dns_answers
REFUSED qr
--
REFUSED qr
--
REFUSED qr
--
REFUSED qr



=== TEST 11: a load balancer at the apex answers A there; SOA and NS stay the zone's
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.10:80; }
    cflb_lb apex { hostname example.com; pools us; }
}
--- dns_test
CORE::join "\n--\n", CflbDns::q('example.com', 'A'),
               CflbDns::q('example.com', 'SOA')
--- dns_answers
NOERROR qr aa
ANSWER example.com. 30 IN A 192.0.2.10
--
NOERROR qr aa
ANSWER example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30



=== TEST 12: a disabled load balancer answers as a missing name
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.10:80; }
    cflb_lb www { hostname www.example.com; pools us; enabled off; }
    cflb_lb api { hostname api.example.com; pools us; enabled on; }
}
--- dns_test
CORE::join "\n--\n", CflbDns::q('www.example.com', 'A'),
               CflbDns::q('api.example.com', 'A')
--- dns_answers
NXDOMAIN qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30
--
NOERROR qr aa
ANSWER api.example.com. 30 IN A 192.0.2.10



=== TEST 13: traffic steering off: the first pool; disabled, the next; none left, the fallback; the fallback disabled too, NODATA
--- dns_config eval
$::Zone . q{
    cflb_pool p1 { endpoint a 192.0.2.1:80; enabled off; }
    cflb_pool p2 { endpoint b 192.0.2.2:80; }
    cflb_pool p3 { endpoint c 192.0.2.3:80; enabled off; }
    cflb_pool fb { endpoint d 192.0.2.4:80; }
    cflb_pool off { endpoint e 192.0.2.5:80; enabled off; }
    cflb_lb one { hostname one.example.com; pools p1 p2; }
    cflb_lb two { hostname two.example.com; pools p1 p3; fallback_pool fb; }
    cflb_lb three { hostname three.example.com; pools p1 p3;
                    fallback_pool off; }
}
--- dns_test
CORE::join "\n--\n", CflbDns::q('one.example.com', 'A'),
               CflbDns::q('two.example.com', 'A'),
               CflbDns::q('three.example.com', 'A')
--- dns_answers
NOERROR qr aa
ANSWER one.example.com. 30 IN A 192.0.2.2
--
NOERROR qr aa
ANSWER two.example.com. 30 IN A 192.0.2.4
--
NOERROR qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30



=== TEST 14: random traffic steering splits queries between pools (.5/.5 over 2000, +-0.045)
4 standard deviations of .5 over 2000 samples are 0.045.
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.10:80; }
    cflb_pool eu { endpoint b 198.51.100.10:80; }
    cflb_lb www { hostname www.example.com; pools us eu; steering random; }
}
--- dns_test
my %t = map { /^(\S+) (\d+)$/ ? ($1 => $2) : () }
        split /\n/, CflbDns::py('tally', 'www.example.com', 'A', 2000);
Cflb::shares(\%t, { '192.0.2.10' => 0.5, '198.51.100.10' => 0.5 }, 0.045)
--- dns_answers
192.0.2.10 ok
198.51.100.10 ok



=== TEST 15: least_outstanding_requests is weighted random in DNS (.8/.2 over 3000, +-0.03)
The mode has no load: the policy counts 0 everywhere and draws by
weight.  4 standard deviations of .8 over 3000 samples are 0.029.
--- dns_config eval
$::Zone . q{
    cflb_pool us {
        endpoint a 192.0.2.10:80 weight=0.8;
        endpoint b 192.0.2.11:80 weight=0.2;
        endpoint_steering least_outstanding_requests;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
my %t = map { /^(\S+) (\d+)$/ ? ($1 => $2) : () }
        split /\n/, CflbDns::py('tally', 'www.example.com', 'A', 3000);
Cflb::shares(\%t, { '192.0.2.10' => 0.8, '192.0.2.11' => 0.2 }, 0.03)
--- dns_answers
192.0.2.10 ok
192.0.2.11 ok



=== TEST 16: hash persistence by resolver address: 40 resolvers, 5 queries each, none moves
Four endpoints of (nearly) equal weight, so one address per answer; the
resolvers are 127.0.1.1 to .40.  40 resolvers reach at least 3 of the 4
endpoints (a miss has probability 4 x (3/4)^40 = 4e-5).
--- dns_config eval
$::Zone . q{
    cflb_pool us {
        endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80 weight=0.99;
        endpoint c 192.0.2.3:80; endpoint d 192.0.2.4:80;
        endpoint_steering hash;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
my $out = CflbDns::py('tally', 'www.example.com', 'A', 200, '--each', 5);
my ($clients, $moved) = $out =~ /^clients (\d+) moved (\d+)/;
my $seen = () = $out =~ /^192\.0\.2\.\d+ \d+$/mg;
"clients $clients moved $moved, endpoints " . ($seen >= 3 ? ">= 3" : $seen)
--- dns_answers
clients 40 moved 0, endpoints >= 3



=== TEST 17: hash persistence by client subnet: the ECS address keys the hash, and the scope says so
40 subnets (10.0.k.0/24) from one resolver, 5 queries each.  The scope
of the echo is the whole source prefix: the answer depends on it.
--- dns_config eval
$::Zone . q{
    cflb_pool us {
        endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80 weight=0.99;
        endpoint c 192.0.2.3:80; endpoint d 192.0.2.4:80;
        endpoint_steering hash;
    }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
my $out = CflbDns::py('tally', 'www.example.com', 'A', 200, '--ecs-each', 5);
my ($clients, $moved) = $out =~ /^clients (\d+) moved (\d+)/;
my $seen = () = $out =~ /^192\.0\.2\.\d+ \d+$/mg;
"clients $clients moved $moved, endpoints " . ($seen >= 3 ? ">= 3" : $seen)
. "\n" . (CflbDns::q('www.example.com', 'A', '--ecs', '10.9.9.0/24')
          =~ /(ECS .*)/)[0]
--- dns_answers
clients 40 moved 0, endpoints >= 3
ECS 10.9.9.0/24/24



=== TEST 18: the echo: random steering does not depend on the client (scope 0); IPv6 and /0 subnets
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; endpoint b 192.0.2.2:80; }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
CORE::join "\n--\n",
    CflbDns::q('www.example.com', 'A', '--ecs', '198.51.100.0/24'),
    CflbDns::py('craft', 'ecs_v6'), CflbDns::py('craft', 'ecs_zero')
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
ANSWER www.example.com. 30 IN A 192.0.2.2
EDNS 1232 ECS 198.51.100.0/24/0
--
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
ANSWER www.example.com. 30 IN A 192.0.2.2
EDNS 1232 ECS 2001:db8:1234::/48/0
--
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
ANSWER www.example.com. 30 IN A 192.0.2.2
EDNS 1232 ECS 0.0.0.0/0/0



=== TEST 19: load shedding by hash (the product's DNS persistence recipe 2): each resolver stays with one pool
p1 sheds half of its traffic by the hash of the resolver's address to
p2.  40 resolvers, 5 queries each: none moves, both pools serve (a miss
has probability 2 x 2^-40).
--- dns_config eval
$::Zone . q{
    cflb_pool p1 {
        endpoint a 192.0.2.1:80;
        load_shedding default_percent=50 default_policy=hash;
    }
    cflb_pool p2 { endpoint b 192.0.2.2:80; }
    cflb_lb www { hostname www.example.com; pools p1 p2; }
}
--- dns_test
my $out = CflbDns::py('tally', 'www.example.com', 'A', 200, '--each', 5);
$out =~ s/^(192\.0\.2\.\d) \d+$/$1 some/mg;
$out
--- dns_answers
clients 40 moved 0
192.0.2.1 some
192.0.2.2 some



=== TEST 20: too large for UDP: TC without records (512, and 1232 with EDNS), then all 100 over TCP
100 endpoints in one pool of equal weights: 1,600 bytes of A records.
--- dns_config eval
$::Zone . "    cflb_pool big {\n"
. CORE::join('', map { "        endpoint e$_ 10.0.0.$_:80;\n" } 1 .. 100)
. "    }\n    cflb_lb www { hostname www.example.com; pools big; }\n"
--- dns_test
my $tcp = CflbDns::q('www.example.com', 'A', '--tcp');
my $n = () = $tcp =~ /^ANSWER /mg;
CORE::join "\n--\n", CflbDns::q('www.example.com', 'A'),
               CflbDns::q('www.example.com', 'A', '--edns', 4096),
               "tcp: " . ($tcp =~ /^(.*)/)[0] . ", $n records",
               CflbDns::dig('+noall', '+answer', 'www.example.com', 'A')
               =~ tr/\n// . " records from dig, which retries over TCP"
--- dns_answers
NOERROR qr aa tc
--
NOERROR qr aa tc
EDNS 1232
--
tcp: NOERROR qr aa, 100 records
--
100 records from dig, which retries over TCP



=== TEST 21: EDNS: our size whatever the client's, DO copied, the OPT on errors too
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_server
cflb_dns edns_size=1400;
--- dns_test
CORE::join "\n--\n",
    CflbDns::q('www.example.com', 'A', '--edns', 512),
    CflbDns::py('craft', 'flags'),
    CflbDns::q('nope.example.org', 'A', '--edns', 4096)
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
EDNS 1400
--
NOERROR qr aa rd cd
ANSWER www.example.com. 30 IN A 192.0.2.1
EDNS 1400 DO
--
REFUSED qr
EDNS 1400



=== TEST 22: TCP: two pipelined queries sent in pieces, answered in order on one connection
--- dns_config eval
$::Zone . q{
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_lb www { hostname www.example.com; pools us; }
}
--- dns_test
CflbDns::py('pair')
--- dns_answers
id 1: NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
id 2: NOERROR qr aa
ANSWER example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30



=== TEST 23: TCP: 10,000 pipelined queries for 1.6 KB answers (16 MB), read a second later: all answered, in order
The client reads nothing until it has written every query, and its
receive buffer is small (8 KB), so the
socket buffers fill and the answers wait in the server, which stops
reading until they are sent.
--- dns_config eval
$::Zone . "    cflb_pool big {\n"
. CORE::join('', map { "        endpoint e$_ 10.0.0.$_:80;\n" } 1 .. 100)
. "    }\n    cflb_lb www { hostname www.example.com; pools big; }\n"
--- dns_test
CflbDns::py("flood", "www.example.com", 10000)
--- dns_answers
10000 answers, in order, sizes 1633
--- no_error_log
[error]



=== TEST 24: a zone inside a zone: the deepest holds its names
--- dns_config eval
$::Zone . q{
    cflb_dns_zone eu.example.com {
        soa ns.eu.example.com. admin.eu.example.com. minimum=60;
        ns ns.eu.example.com.;
    }
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_lb www { hostname www.eu.example.com; pools us; }
}
--- dns_test
CORE::join "\n--\n", CflbDns::q('www.eu.example.com', 'A'),
               CflbDns::q('x.eu.example.com', 'A'),
               CflbDns::q('x.example.com', 'A')
--- dns_answers
NOERROR qr aa
ANSWER www.eu.example.com. 30 IN A 192.0.2.1
--
NXDOMAIN qr aa
AUTHORITY eu.example.com. 60 IN SOA ns.eu.example.com. admin.eu.example.com. <serial> 3600 600 604800 60
--
NXDOMAIN qr aa
AUTHORITY example.com. 30 IN SOA ns1.example.com. hostmaster.example.com. <serial> 3600 600 604800 30
