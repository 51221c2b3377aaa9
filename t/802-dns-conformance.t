# vim:set ft= ts=4 sw=4 et fdm=marker:

# DNS-only: what the responder does with malformed and unusual queries
# (RFC 1035, RFC 6891 EDNS, RFC 7871 client subnet), crafted with
# dnspython (t/lib/cflb-dns.py craft CASE), over UDP (answered in the
# listening socket's handler) and over UDP sessions and TCP; and that
# garbage never takes a worker down.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbDns;

CflbDns::blocks();

repeat_each(1);
master_on();
workers(1);

plan "no_plan";

our $Config = <<'_EOC_';
    cflb_zone dns 1m;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_pool us { endpoint a 192.0.2.1:80; }
    cflb_lb www { hostname www.example.com; pools us; }
_EOC_

# every case, its response as lines, one case after the other
sub crafted {
    my (@opts) = @_;

    return CORE::join "\n", map { "$_: " . CflbDns::py('craft', $_, @opts) }
        qw(qdcount0 qdcount2 truncated short response notify update axfr
           badvers ecs_family ecs_bits ecs_long two_opt trailing pointer
           case);
}

our $Expected = <<'_EOC_';
qdcount0: FORMERR qr
NOQUESTION
qdcount2: FORMERR qr
truncated: FORMERR qr
NOQUESTION
short: (none)
response: (none)
notify: NOTIMP qr opcode=NOTIFY
update: NOTIMP qr opcode=UPDATE
axfr: NOTIMP qr
badvers: BADVERS qr
EDNS 1232
ecs_family: FORMERR qr
EDNS 1232
ecs_bits: FORMERR qr
EDNS 1232
ecs_long: FORMERR qr
EDNS 1232
two_opt: FORMERR qr
trailing: FORMERR qr
pointer: FORMERR qr
NOQUESTION
case: NOERROR qr aa
ANSWER wWw.ExAmPlE.cOm. 30 IN A 192.0.2.1
_EOC_

no_long_string();
no_shuffle();
run_tests();


# the worker pids; none without a master (valgrind runs: a crash then
# ends nginx, and the query after the garbage gets no answer)
sub worker_list {
    my @w = eval { Cflb::worker_pids() };

    return sort @w;
}

__DATA__

=== TEST 1: malformed and unusual queries over UDP, answered directly
FORMERR for a bad question, a bad OPT or a bad client subnet (the OPT
then has no subnet option), NOTIMP for other opcodes and zone transfers
(the opcode echoed), BADVERS for EDNS version 1, nothing for what is not
a query; the 0x20 case comes back as sent.
--- dns_config eval: $::Config
--- dns_test
main::crafted()
--- dns_answers eval: $::Expected



=== TEST 2: the same over UDP sessions (direct=off)
--- dns_config eval: $::Config
--- dns_server
cflb_dns direct=off;
--- dns_test
main::crafted()
--- dns_answers eval: $::Expected



=== TEST 3: the same over TCP (what is not a query is answered by nothing, the connection closes)
--- dns_config eval: $::Config
--- dns_test
main::crafted('--tcp')
--- dns_answers eval: $::Expected



=== TEST 4: 20,000 random or mangled datagrams: every worker lives, the next query is answered
--- dns_config eval: $::Config
--- dns_test
my @before = main::worker_list();
my $out = CflbDns::py('garbage', 20000, 13);
my @after = main::worker_list();
"$out\nworkers " . ("@before" eq "@after" ? "the same" : "changed")
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
workers the same
--- no_error_log
[alert]
[crit]
exited on signal



=== TEST 5: 2,000 random or mangled TCP messages, lengths that lie included: the same
--- dns_config eval: $::Config
--- dns_test
my @before = main::worker_list();
my $out = CflbDns::py('garbage', 2000, 14, '--tcp');
my @after = main::worker_list();
"$out\nworkers " . ("@before" eq "@after" ? "the same" : "changed")
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
workers the same
--- no_error_log
[alert]
[crit]
exited on signal



=== TEST 6: the same garbage through UDP sessions
--- dns_config eval: $::Config
--- dns_server
cflb_dns direct=off;
--- dns_test
my @before = main::worker_list();
my $out = CflbDns::py('garbage', 5000, 15);
my @after = main::worker_list();
"$out\nworkers " . ("@before" eq "@after" ? "the same" : "changed")
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN A 192.0.2.1
workers the same
--- no_error_log
[alert]
[crit]
exited on signal
