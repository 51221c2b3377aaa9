# vim:set ft= ts=4 sw=4 et fdm=marker:

# Custom rules of DNS-only load balancers (docs/rules.md, docs/dns.md):
# the product's unproxied fields (dns.qry.type, dns.qry.name,
# dns.qry.name.len, dns.rr.opt.client, dns.rr.opt.client.addr), ip.src
# as the client subnet's address when the query has one (else the
# resolver's) and its place in the databases, override ttl in the
# answer, terminates, disabled rules, the counters (status, Prometheus
# checked by promtool), $cflb_trace, and what "nginx -t" refuses.
# Queries come from dig, kdig and dnspython (t/lib/cflb-dns.py); every
# pool's endpoints have addresses that name it (10.0.N.x, 2001:db8::N:x).

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbDns;
use CflbGeo;

CflbDns::blocks();

repeat_each(1);

# a query block checks the status, the answers and the error log; an
# "nginx -t" block that nginx dies and the message
plan tests => repeat_each() * (3 * blocks() - blocks('must_die'));

our $Db = CflbGeo::db('dns-rules.mmdb', 'all', <<'_EOC_');
198.51.100.0/24  DE  -   50.1109   8.6821    3320     # Frankfurt
203.0.113.0/24   US  CA  34.0522   -118.2437 15169    # Los Angeles
127.0.0.1        FR  -   48.8566   2.3522    -        # Paris
_EOC_

our $Zone = <<'_EOC_';
    cflb_zone dns 1m;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_pool one { endpoint a 10.0.1.1:80; endpoint b [2001:db8::1:1]:80; }
    cflb_pool two { endpoint a 10.0.2.1:80; endpoint b [2001:db8::2:1]:80; }
    cflb_pool three { endpoint a 10.0.3.1:80; }
_EOC_

our $Promtool = '/usr/bin/promtool';

no_long_string();
no_shuffle();
run_tests();


# one query by dnspython: "addresses ttl=T scope=S" (scope "-": no ECS
# echoed, addresses "-": none)
sub ans {
    my ($name, $type, @opts) = @_;

    my $r = CflbDns::q($name, $type, @opts);
    my @rr = $r =~ /^ANSWER \S+ (\d+) IN (?:A|AAAA) (\S+)/mg;
    my %ttl;
    my @addr;

    while (my ($ttl, $addr) = splice @rr, 0, 2) {
        $ttl{$ttl} = 1;
        push @addr, $addr;
    }

    my ($scope) = $r =~ m{ECS \S+/\d+/(\d+)};

    return sprintf "%s ttl=%s scope=%s", @addr ? CORE::join(',', sort @addr)
                                               : '-',
                   CORE::join(',', sort keys %ttl) || '-', $scope // '-';
}


# each case [label, name, type, options...]: "label: answer" lines
sub table {
    my $out = '';

    for (@_) {
        my ($label, @q) = @$_;
        $out .= "$label: " . ans(@q) . "\n";
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

=== TEST 1: dns.qry.type: A from pool one, AAAA and ANY from pool two (dig and kdig)
The product's numbers: 1 is A, 28 AAAA, 255 ANY.
--- dns_config eval
$::Zone . q{
    cflb_lb www {
        hostname www.example.com;
        pools one;
        rule six { condition 'dns.qry.type in {28 255}'; override pools two; }
    }
}
--- dns_test
CflbDns::dig(qw(+short www.example.com A))
. CflbDns::dig(qw(+short www.example.com AAAA))
. CflbDns::dig(qw(+noall +answer www.example.com ANY))
. CflbDns::kdig(qr/\sIN\s/, qw(+noall +answer www.example.com AAAA))
--- dns_answers
10.0.1.1
2001:db8::2:1
www.example.com. 30 IN A 10.0.2.1
www.example.com. 30 IN AAAA 2001:db8::2:1
www.example.com. 30 IN AAAA 2001:db8::2:1
--- no_error_log
[error]



=== TEST 2: ip.src is the client subnet's address when the query has one, else the resolver's; the echo's scope says the answer depended on the subnet
A subnet of source prefix 0 has no address (RFC 7871 7.1.2): the
resolver's counts.
--- dns_config eval
$::Zone . q{
    cflb_lb www {
        hostname www.example.com;
        pools one;
        rule res { condition 'ip.src eq 127.0.0.2'; override pools two; }
        rule net { condition 'ip.src in {198.51.100.0/24 2001:db8:77::/48}';
                   override pools three; }
    }
}
--- dns_test
main::table(
    ['127.0.0.1', 'www.example.com', 'A', '--src', '127.0.0.1'],
    ['127.0.0.2', 'www.example.com', 'A', '--src', '127.0.0.2'],
    ['127.0.0.1 ecs 198.51.100.0/24', 'www.example.com', 'A',
     '--src', '127.0.0.1', '--ecs', '198.51.100.0/24'],
    ['127.0.0.2 ecs 198.51.100.0/24', 'www.example.com', 'A',
     '--src', '127.0.0.2', '--ecs', '198.51.100.0/24'],
    ['127.0.0.2 ecs 203.0.113.0/24', 'www.example.com', 'A',
     '--src', '127.0.0.2', '--ecs', '203.0.113.0/24'],
    ['127.0.0.2 ecs 0.0.0.0/0', 'www.example.com', 'A',
     '--src', '127.0.0.2', '--ecs', '0.0.0.0/0'],
    ['127.0.0.1 ecs 2001:db8:77::/48', 'www.example.com', 'A',
     '--src', '127.0.0.1', '--ecs', '2001:db8:77::/48'])
. CflbDns::dig(qw(+short +subnet=198.51.100.0/24 www.example.com A))
. CflbDns::kdig(qr/CLIENT-SUBNET/, qw(+subnet=203.0.113.0/24 www.example.com A))
--- dns_answers
127.0.0.1: 10.0.1.1 ttl=30 scope=-
127.0.0.2: 10.0.2.1 ttl=30 scope=-
127.0.0.1 ecs 198.51.100.0/24: 10.0.3.1 ttl=30 scope=24
127.0.0.2 ecs 198.51.100.0/24: 10.0.3.1 ttl=30 scope=24
127.0.0.2 ecs 203.0.113.0/24: 10.0.1.1 ttl=30 scope=24
127.0.0.2 ecs 0.0.0.0/0: 10.0.2.1 ttl=30 scope=0
127.0.0.1 ecs 2001:db8:77::/48: 10.0.3.1 ttl=30 scope=48
10.0.3.1
;; CLIENT-SUBNET: 203.0.113.0/24/24
--- no_error_log
[error]



=== TEST 3: dns.rr.opt.client and dns.rr.opt.client.addr; a rule that reads neither ip.src nor the subnet's address leaves the scope at 0
--- dns_config eval
$::Zone . q{
    cflb_lb flag {
        hostname flag.example.com;
        pools one;
        rule ecs { condition 'dns.rr.opt.client and dns.qry.type == 1';
                   override pools two; }
    }
    cflb_lb www {
        hostname www.example.com;
        pools one;
        rule none { condition 'not dns.rr.opt.client'; override pools two; }
        rule addr {
            condition 'dns.rr.opt.client.addr in {"203.0.113.0" "2001:db8:1::"}';
            override pools three;
        }
    }
}
--- dns_test
main::table(
    ['no ecs', 'www.example.com', 'A'],
    ['ecs 0.0.0.0/0', 'www.example.com', 'A', '--ecs', '0.0.0.0/0'],
    ['ecs 203.0.113.0/24', 'www.example.com', 'A', '--ecs', '203.0.113.0/24'],
    ['ecs 203.0.112.0/23', 'www.example.com', 'A', '--ecs', '203.0.112.0/23'],
    ['ecs 2001:db8:1::/48', 'www.example.com', 'A', '--ecs', '2001:db8:1::/48'],
    ['ecs 198.51.100.0/24', 'www.example.com', 'A', '--ecs', '198.51.100.0/24'],
    ['flag', 'flag.example.com', 'A'],
    ['flag ecs 198.51.100.0/24', 'flag.example.com', 'A',
     '--ecs', '198.51.100.0/24'])
--- dns_answers
no ecs: 10.0.2.1 ttl=30 scope=-
ecs 0.0.0.0/0: 10.0.2.1 ttl=30 scope=0
ecs 203.0.113.0/24: 10.0.3.1 ttl=30 scope=24
ecs 203.0.112.0/23: 10.0.1.1 ttl=30 scope=23
ecs 2001:db8:1::/48: 10.0.3.1 ttl=30 scope=48
ecs 198.51.100.0/24: 10.0.1.1 ttl=30 scope=24
flag: 10.0.1.1 ttl=30 scope=-
flag ecs 198.51.100.0/24: 10.0.2.1 ttl=30 scope=0
--- no_error_log
[error]



=== TEST 4: dns.qry.name is the name asked, lower case with the final dot: two hostnames of a zone, CNAMEs to a third load balancer whose rules see the name asked
A CNAME target must resolve when nginx starts, so the third load
balancer is "localhost", at the apex of a zone of its own; its records
follow the CNAME in the answer.
--- dns_config eval
$::Zone . q{
    cflb_dns_zone localhost {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_pool origin { endpoint o localhost:80; }
    cflb_lb www { hostname www.example.com; pools origin; }
    cflb_lb api { hostname api.example.com; pools origin; }
    cflb_lb local {
        hostname localhost;
        pools one;
        rule www { condition 'dns.qry.name eq "www.example.com."';
                   override pools two; }
        rule api { condition 'starts_with(dns.qry.name, "api.")';
                   override pools three; }
        rule direct { condition 'dns.qry.name.len == 10'; override ttl 5; }
    }
}
--- dns_test
CflbDns::dig(qw(+noall +answer localhost A))
. CflbDns::dig(qw(+noall +answer www.example.com A))
. CflbDns::dig(qw(+noall +answer WWW.Example.COM A))
. CflbDns::kdig(qr/\sIN\s/, qw(+noall +answer api.example.com A))
--- dns_answers
localhost. 5 IN A 10.0.1.1
localhost. 30 IN A 10.0.2.1
www.example.com. 30 IN CNAME localhost.
WWW.Example.COM. 30 IN CNAME localhost.
localhost. 30 IN A 10.0.2.1
api.example.com. 30 IN CNAME localhost.
localhost. 30 IN A 10.0.3.1
--- no_error_log
[error]



=== TEST 5: override ttl: the TTL of the answers the rule matched, the load balancer's for the others
--- dns_config eval
$::Zone . q{
    cflb_lb www {
        hostname www.example.com;
        pools one;
        ttl 60;
        rule six { condition 'dns.qry.type == 28'; override ttl 5; }
        rule zero { condition 'ip.src eq 127.0.0.3'; override ttl 0; }
    }
}
--- dns_test
CflbDns::dig(qw(+noall +answer www.example.com A))
. CflbDns::dig(qw(+noall +answer www.example.com AAAA))
. CflbDns::kdig(qr/\sIN\s/, qw(+noall +answer -b 127.0.0.3 www.example.com A))
--- dns_answers
www.example.com. 60 IN A 10.0.1.1
www.example.com. 5 IN AAAA 2001:db8::1:1
www.example.com. 0 IN A 10.0.1.1
--- no_error_log
[error]



=== TEST 6: every match applies, the last winning; terminates stops there; priority orders them; a disabled rule never runs
--- dns_config eval
$::Zone . q{
    cflb_lb last {
        hostname last.example.com;
        pools one;
        rule a { condition 'true'; override pools two; }
        rule b { condition 'dns.qry.type == 1'; override pools three; }
    }
    cflb_lb term {
        hostname term.example.com;
        pools one;
        rule a { condition 'dns.qry.type == 1'; terminates; override pools two; }
        rule b { condition 'true'; override pools three; override ttl 7; }
    }
    cflb_lb prio {
        hostname prio.example.com;
        pools one;
        rule a { condition 'true'; override pools two; }
        rule b { condition 'true'; priority -1; override pools three; }
    }
    cflb_lb off {
        hostname off.example.com;
        pools one;
        rule a { condition 'true'; disabled; override pools two; }
    }
}
--- dns_test
main::table(
    ['last A', 'last.example.com', 'A'],
    ['last AAAA', 'last.example.com', 'AAAA'],
    ['term A', 'term.example.com', 'A'],
    ['term AAAA', 'term.example.com', 'AAAA'],
    ['prio', 'prio.example.com', 'A'],
    ['off', 'off.example.com', 'A'])
--- dns_answers
last A: 10.0.3.1 ttl=30 scope=-
last AAAA: 2001:db8::2:1 ttl=30 scope=-
term A: 10.0.2.1 ttl=30 scope=-
term AAAA: - ttl=- scope=-
prio: 10.0.2.1 ttl=30 scope=-
off: 10.0.1.1 ttl=30 scope=-
--- no_error_log
[error]



=== TEST 7: ip.src.country and ip.src.asnum of the client subnet's address, else of the resolver's
The database places 198.51.100.0/24 in Germany, 203.0.113.0/24 in the
United States (AS15169), 127.0.0.1 in France.
--- dns_config eval
"    cflb_geoip2 $::Db;\n" . $::Zone . q{
    cflb_pool de { endpoint a 10.0.4.1:80; }
    cflb_pool fr { endpoint a 10.0.5.1:80; }
    cflb_lb www {
        hostname www.example.com;
        pools one;
        rule de { condition 'ip.src.country eq "DE"'; override pools de; }
        rule fr { condition 'ip.src.country in {"FR" "BE"}'; override pools fr; }
        rule google { condition 'ip.src.asnum == 15169'; override pools two; }
    }
}
--- dns_test
main::table(
    ['127.0.0.1', 'www.example.com', 'A', '--src', '127.0.0.1'],
    ['127.0.0.2', 'www.example.com', 'A', '--src', '127.0.0.2'],
    ['127.0.0.1 ecs 198.51.100.0/24', 'www.example.com', 'A',
     '--src', '127.0.0.1', '--ecs', '198.51.100.0/24'],
    ['127.0.0.1 ecs 203.0.113.0/24', 'www.example.com', 'A',
     '--src', '127.0.0.1', '--ecs', '203.0.113.0/24'],
    ['127.0.0.1 ecs 192.0.2.0/24', 'www.example.com', 'A',
     '--src', '127.0.0.1', '--ecs', '192.0.2.0/24'])
--- dns_answers
127.0.0.1: 10.0.5.1 ttl=30 scope=-
127.0.0.2: 10.0.1.1 ttl=30 scope=-
127.0.0.1 ecs 198.51.100.0/24: 10.0.4.1 ttl=30 scope=24
127.0.0.1 ecs 203.0.113.0/24: 10.0.2.1 ttl=30 scope=24
127.0.0.1 ecs 192.0.2.0/24: 10.0.1.1 ttl=30 scope=24
--- no_error_log
[error]



=== TEST 8: cf.edge.server_port: the port the query came to, directly and in sessions
--- dns_config eval
$::Zone . q{
    cflb_lb www {
        hostname www.example.com;
        pools one;
        rule p { condition 'cf.edge.server_port in {1954 1955}'; override pools two; }
    }
    server { listen 127.0.0.1:1954 udp; cflb_dns; }
    server { listen 127.0.0.1:1955 udp; cflb_dns direct=off; }
}
--- dns_test
CORE::join '', map {
    `dig +time=2 +tries=1 +short -p $_ \@127.0.0.1 www.example.com A 2>&1`
} 1953, 1954, 1955
--- dns_answers
10.0.1.1
10.0.2.1
10.0.2.1
--- no_error_log
[error]



=== TEST 9: the rules' counters in the status document and in Prometheus (promtool), chased CNAMEs included
--- dns_config eval
$::Zone . q{
    cflb_dns_zone localhost {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_pool origin { endpoint o localhost:80; }
    cflb_lb www { hostname www.example.com; pools origin; }
    cflb_lb local {
        hostname localhost;
        pools one;
        rule six { condition 'dns.qry.type == 28'; override pools two; }
        rule via { condition 'dns.qry.name eq "www.example.com."';
                   terminates; override pools three; }
        rule never { condition 'true'; disabled; override pools two; }
    }
}
--- dns_test
CflbDns::q('localhost', 'A') for 1 .. 2;
CflbDns::q('localhost', 'AAAA') for 1 .. 3;
CflbDns::q('www.example.com', 'A');
CflbDns::q('localhost', 'AAAA', '--tcp');
my ($lb) = grep { $_->{name} eq 'local' } @{ CflbDns::status()->{lbs} };
my $text = main::fetch('/status?format=prometheus');
CORE::join('', map {
    "$_->{name} p=$_->{priority} t=" . ($_->{terminates} ? 1 : 0)
    . " d=" . ($_->{disabled} ? 1 : 0) . " matches=$_->{matches}\n"
} @{ $lb->{rules} })
. CORE::join('', grep { /^cflb_rule_matches_total\{subsystem="stream"/ }
                 split /^/, $text)
. "promtool: " . main::promtool($text) . "\n"
--- dns_answers
six p=0 t=0 d=0 matches=4
via p=0 t=1 d=0 matches=1
never p=0 t=0 d=1 matches=0
cflb_rule_matches_total{subsystem="stream",lb="local",rule="six"} 4
cflb_rule_matches_total{subsystem="stream",lb="local",rule="via"} 1
cflb_rule_matches_total{subsystem="stream",lb="local",rule="never"} 0
promtool: ok
--- no_error_log
[error]



=== TEST 10: $cflb_trace names the rules that matched; $cflb_endpoint logs the addresses answered, $cflb_endpoint_name their names
--- dns_config eval
$::Zone . q{
    log_format dns 'ep=$cflb_endpoint name=$cflb_endpoint_name [$cflb_trace]';
    access_log logs/dns.log dns;
    cflb_pool six { endpoint b [2001:db8::6:1]:80; }
    cflb_lb www {
        hostname www.example.com;
        pools three;
        rule six { condition 'dns.qry.type == 28'; override pools six; }
        rule sub { condition 'ip.src in {198.51.100.0/24}'; override ttl 5; }
    }
}
--- dns_server
cflb_dns direct=off;
--- dns_test
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= 2 }, 5);
my $from = Cflb::log_count('logs/dns.log');
CflbDns::q('www.example.com', 'A');
CflbDns::q('www.example.com', 'AAAA', '--ecs', '198.51.100.0/24');
CflbDns::q('www.example.com', 'AAAA', '--tcp');
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= $from + 3 }, 5);
CORE::join "\n", (Cflb::log_lines('logs/dns.log'))[$from .. $from + 2]
--- dns_answers
ep=10.0.3.1 name=a [lb=www pool=three(priority) endpoint=three/a(random) qtype=A rcode=NOERROR answer=three/a]
ep=2001:db8::6:1 name=b [lb=www rules=six,sub pool=six(priority) endpoint=six/b(random) qtype=AAAA rcode=NOERROR answer=six/b ecs=198.51.100.0/24 scope=24]
ep=2001:db8::6:1 name=b [lb=www rules=six pool=six(priority) endpoint=six/b(random) qtype=AAAA rcode=NOERROR answer=six/b]
--- no_error_log
[error]



=== TEST 11: a DNS load balancer reached by proxy_pass too: its dns.* fields are missing there, ip.src is the connection's
--- dns_config eval
$::Zone . q{
    cflb_pool back { endpoint a 127.0.0.1:1990; }
    cflb_pool back2 { endpoint a 127.0.0.1:1991; }
    cflb_lb www {
        hostname www.example.com;
        pools back;
        rule typed { condition 'dns.qry.type == 1 and dns.qry.qu'; override pools two; }
        rule src { condition 'ip.src eq 127.0.0.1 and cf.edge.server_port == 1992';
                   override pools back2; }
    }
    server { listen 127.0.0.1:1990; return "back"; }
    server { listen 127.0.0.1:1991; return "back2"; }
    server { listen 127.0.0.1:1992; proxy_pass www; }
}
--- dns_test
my $s = Cflb::connect_to(1992);
local $/;
my $got = <$s> // '(nothing)';
"proxied: $got\n" . CflbDns::dig(qw(+short www.example.com A))
--- dns_answers
proxied: back2
10.0.2.1
--- no_error_log
[error]



=== TEST 12: nginx -t: a dns.* field in an http load balancer
--- http_config
    cflb_zone cflb 1m;
    cflb_pool us { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools us; rule r { condition 'dns.qry.type == 28'; } }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "www" rule "r": 1:1: unknown field "dns\.qry\.type": the dns\.\* fields are those of DNS queries, for the load balancers with a hostname in stream\{\} in \S+nginx\.conf:\d+/



=== TEST 13: nginx -t: a dns.* field in a stream load balancer without a hostname
--- dns_config eval
$::Zone . q{
    cflb_lb tcp { pools one; rule r { condition 'ip.src eq 10.0.0.1 or dns.rr.opt.client'; } }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "tcp" rule "r": 1:23: unknown field "dns\.rr\.opt\.client": the dns\.\* fields are those of DNS queries, and this load balancer has no hostname in \S+nginx\.conf:\d+/



=== TEST 14: nginx -t: fixed_response in a DNS load balancer
--- dns_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools one;
                  rule r { condition 'true'; fixed_response 503; } }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"fixed_response" has no meaning in stream\{\}: a TCP or UDP session, or a DNS query, has no HTTP response to answer with in \S+nginx\.conf:\d+/



=== TEST 15: nginx -t: an affinity override in a DNS load balancer
--- dns_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools one;
                  rule r { condition 'true'; override session_affinity ip_cookie; } }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"session_affinity" has no meaning in stream\{\}: a TCP or UDP session, or a DNS query, has no cookie or header to keep it; "endpoint_steering hash" keeps a client address on one endpoint in \S+nginx\.conf:\d+/



=== TEST 16: nginx -t: dns.qry.type is a number, not a type's name
--- dns_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools one;
                  rule r { condition 'dns.qry.type eq "AAAA"'; } }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "www" rule "r": 1:17: expected an integer, dns\.qry\.type is the number of the type: 1 for A, 28 for AAAA, 5 for CNAME, 255 for ANY in \S+nginx\.conf:\d+/



=== TEST 17: nginx -t: a type's name in a set
--- dns_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools one;
                  rule r { condition 'dns.qry.type in {1 "AAAA"}'; } }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "www" rule "r": 1:20: expected an integer or "\}", dns\.qry\.type is the number of the type: 1 for A, 28 for AAAA, 5 for CNAME, 255 for ANY in \S+nginx\.conf:\d+/



=== TEST 18: nginx -t: an operator of bytes on dns.qry.type
--- dns_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools one;
                  rule r { condition 'dns.qry.type contains "A"'; } }
}
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "www" rule "r": 1:14: "contains" needs bytes, dns\.qry\.type is an integer in \S+nginx\.conf:\d+/
