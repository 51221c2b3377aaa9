# vim:set ft= ts=4 sw=4 et fdm=marker:

# Hostname endpoints with "resolve" (docs/directives.md, endpoint):
# looked up again while nginx runs, with nginx's own "resolver", each
# answer kept for its TTL and 5 s at most, every address used in turn;
# a name that stops resolving takes its endpoint out of steering (trace
# reason "dns"), probes follow the current address.  The names resolve
# only through a small authoritative responder on 127.0.0.1:1955
# (t/lib/cflb-dns-origin.py) that reads its records file again for each
# query: a test changes the answers by rewriting the file.  The system
# resolver does not know them, so each endpoint starts without an
# address and gets its addresses from the run-time lookups.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw(add_block_preprocessor);
use Cflb;
use CflbDns;
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

Cflb::stream_blocks();
CflbDns::blocks();

repeat_each(1);
workers(2);
master_on();

plan "no_plan";

our $DnsPort = 1955;
our $Dir = tempdir(CLEANUP => 1);
our $Records = "$Dir/records";

# the python3 that has dnspython (Debian's, when pyenv's has not)
our $Python = (grep { system("$_ -c 'import dns.message' 2>/dev/null") == 0 }
               'python3', '/usr/bin/python3')[0] // 'python3';

our $Main = $$;
our $Dns;
our $DnsOut;


# the responder's records, replaced at once (a query reads either file)
sub records {
    my ($text) = @_;

    open my $fh, '>', "$Records.new" or die "records: $!\n";
    print $fh $text;
    close $fh;
    rename "$Records.new", $Records or die "records: $!\n";
}


# the responder, for the whole file; it answers once it says "ready"
sub start_dns {
    records('');

    my $script = abs_path('t/lib/cflb-dns-origin.py');
    $Dns = open(my $out, '-|', $Python, $script, '--port', $DnsPort,
                '--records', $Records, '--log', "$Dir/queries")
        or die "cflb-dns-origin: $!\n";

    Cflb::record_pid($Dns, 'cflb-dns-origin');

    my $line = <$out> // '';
    die "cflb-dns-origin did not start\n" unless $line =~ /^ready/;

    # its pipe stays open with it: nothing more is written to it
    $DnsOut = $out;
}


END {
    # the script's exit status is not the responder's
    local $?;

    if (defined $Dns && $$ == $Main) {
        kill 'KILL', $Dns;
        waitpid($Dns, 0);
        Cflb::forget_pid($Dns);
    }
}


# the answering backend of one request: its address, or "status N"
sub one {
    my $r = Cflb::get();
    return $r->{status} == 200 ? $r->{body} : "status $r->{status}";
}


# poll (at most $secs) until $n answers in a row are $want; then the
# other worker has had the same time to follow
sub wait_answer {
    my ($want, $secs, $n) = @_;

    my $row = 0;
    $n //= 10;

    Cflb::wait_until(sub { $row = (one() eq $want) ? $row + 1 : 0;
                           $row >= $n }, $secs)
        or die "cflb: the answers did not become \"$want\" in ${secs}s\n";
}


start_dns();

# --- records: the responder's records as the block starts
add_block_preprocessor(sub {
    my $block = shift;
    records($block->records // '');
});


our $Http = <<'_EOC_';
    resolver 127.0.0.1:1955 valid=1s ipv6=off;
    resolver_timeout 2s;
    server {
        listen 127.0.0.1:1990;
        listen 127.0.0.2:1990;
        location / { return 200 "$server_addr\n"; }
    }
    server {
        listen 127.0.0.3:1990;
        location /health { return 503; }
        location / { return 200 "$server_addr\n"; }
    }
    cflb_zone cflb 1m;
_EOC_

our $Config = <<'_EOC_';
    location /t {
        proxy_pass http://www;
        add_header X-Trace "$cflb_trace" always;
        add_header X-Addr "$cflb_endpoint_addr|$upstream_addr" always;
    }
    location /status { cflb_status; }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: resolve without a resolver in http{}: nginx -t fails, naming the endpoint's place
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*no resolver defined to resolve "origin\.cflb\.test" of endpoint "e" in \S+nginx\.conf:\d+/



=== TEST 2: resolve on an IP address: an error
--- http_config
    resolver 127.0.0.1:1955;
    cflb_zone cflb 1m;
    cflb_pool p { endpoint e 127.0.0.1:1990 resolve; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"resolve" of endpoint "e" needs a hostname, "127\.0\.0\.1:1990" is an address in \S+nginx\.conf:\d+/



=== TEST 3: resolve on a unix socket: an error
--- http_config
    resolver 127.0.0.1:1955;
    cflb_zone cflb 1m;
    cflb_pool p { endpoint e unix:/tmp/cflb-none.sock resolve; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"resolve" of endpoint "e" needs a hostname, "unix:\/tmp\/cflb-none\.sock" is an address/



=== TEST 3b: a resolver without valid= of 5s or less: nginx starts, and says the answers are kept for their TTL
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config
    resolver 127.0.0.1:1955 valid=30s ipv6=off;
    cflb_zone cflb 1m;
    server { listen 127.0.0.1:1990; location / { return 200 "$server_addr\n"; } }
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
--- config
    location /t { proxy_pass http://www; }
--- init
main::wait_answer('127.0.0.1', 15);
--- request
GET /t
--- response_body
127.0.0.1
--- error_log eval
qr/\[warn\] .*the resolver of "origin\.cflb\.test" of endpoint "e" in \S+nginx\.conf:\d+ keeps answers for their TTL; add "valid=5s" to "resolver" to look names up again every 5 seconds at least/



=== TEST 4: a name that does not resolve at load: nginx starts (a warning), 530 while it has no address; once the name resolves, it serves
--- http_config eval
$::Http . q{
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
}
--- config eval: $::Config
--- init
my $out = "first: " . main::one() . "\n";
main::records("origin.cflb.test A 1 127.0.0.2\n");
main::wait_answer('127.0.0.2', 15);
$out .= "then: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
first: status 530
then: 127.0.0.2
--- error_log eval
qr/\[warn\] .*endpoint "e": "origin\.cflb\.test" does not resolve now \(host not found\), it has no address until it does in \S+nginx\.conf:\d+/
--- no_error_log
[alert]



=== TEST 5: two A records: both addresses serve, in turn (200 requests, each 0.5 +- 0.1)
--- records
origin.cflb.test A 1 127.0.0.1
origin.cflb.test A 1 127.0.0.2
--- http_config eval
$::Http . q{
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
}
--- config eval: $::Config
--- init
Cflb::wait_until(sub { my $b = Cflb::repeat(10)->{bodies};
                       $b->{'127.0.0.1'} && $b->{'127.0.0.2'} }, 15)
    or die "both addresses did not serve in 15 s\n";
$Cflb::note{out} = Cflb::shares(Cflb::repeat(200)->{bodies},
                                { '127.0.0.1' => 0.5, '127.0.0.2' => 0.5 },
                                0.1);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.1 ok
127.0.0.2 ok
--- no_error_log
[error]



=== TEST 6: $upstream_addr and $cflb_endpoint_addr name the address connected to; the status document the current addresses
--- records
origin.cflb.test A 1 127.0.0.2
--- http_config eval
$::Http . q{
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
}
--- config eval: $::Config
--- init
main::wait_answer('127.0.0.2', 15);
my $r = Cflb::get();
my $ep = Cflb::endpoint('p/e');
$Cflb::note{out} = "X-Addr: $r->{headers}{'x-addr'}\n"
    . "address: $ep->{address}\n"
    . "addresses: @{ $ep->{addresses} }\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
X-Addr: 127.0.0.2:1990|127.0.0.2:1990
address: origin.cflb.test:1990
addresses: 127.0.0.2:1990



=== TEST 7: the address changes while nginx runs (TTL 1): the answers follow, then all of the next 50 come from the new address
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config eval
$::Http . q{
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
}
--- config eval: $::Config
--- init
main::wait_answer('127.0.0.1', 15);
main::records("origin.cflb.test A 1 127.0.0.2\n");
main::wait_answer('127.0.0.2', 15, 20);
$Cflb::note{out} = Cflb::bodies(Cflb::repeat(50)) . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.2
--- no_error_log
[error]



=== TEST 8: the name stops resolving (NXDOMAIN): the other pool serves, the trace says "dns"; the name back, its pool serves again
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint e origin.cflb.test:1990 resolve; }
    cflb_pool p2 { endpoint b 127.0.0.3:1990; }
    cflb_lb www { pools p1 p2; }
}
--- config eval: $::Config
--- init
my $out = '';
main::wait_answer('127.0.0.1', 15);
main::records('');
main::wait_answer('127.0.0.3', 15, 20);
my $r = Cflb::get();
$out .= "trace: $r->{headers}{'x-trace'}\n";
$out .= "away: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
main::records("origin.cflb.test A 1 127.0.0.1\n");
main::wait_answer('127.0.0.1', 15, 20);
$out .= "back: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body_like
^trace: lb=www pool=p2\(priority\) endpoint=p2/b\(\w+\) skipped=p1/e:dns,p1:exhausted
away: 127\.0\.0\.3
back: 127\.0\.0\.1
--- error_log eval
[qr/\[warn\] .*cflb: endpoint "e" of pool "p1": "origin\.cflb\.test" could not be resolved \(3: Host not found\), it has no address now/,
 qr/\[notice\] .*cflb: endpoint "e" of pool "p1": "origin\.cflb\.test" resolves again/]
--- no_error_log
[error]



=== TEST 9: SERVFAIL: the same, the endpoint left out until the name answers again
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config eval
$::Http . q{
    cflb_pool p1 { endpoint e origin.cflb.test:1990 resolve; }
    cflb_pool p2 { endpoint b 127.0.0.3:1990; }
    cflb_lb www { pools p1 p2; }
}
--- config eval: $::Config
--- init
my $out = '';
main::wait_answer('127.0.0.1', 15);
main::records("origin.cflb.test SERVFAIL\n");
main::wait_answer('127.0.0.3', 15, 20);
$out .= "away: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
main::records("origin.cflb.test A 1 127.0.0.1\n");
main::wait_answer('127.0.0.1', 15, 20);
$out .= "back: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
away: 127.0.0.3
back: 127.0.0.1
--- error_log eval
qr/could not be resolved \(2: Server failure\)/



=== TEST 10: the only pool, its only endpoint stops resolving: 530 (the fallback cannot serve), logged with the trace
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config eval
$::Http . q{
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
}
--- config eval: $::Config
--- init
my $out = '';
main::wait_answer('127.0.0.1', 15);
main::records('');
main::wait_answer('status 530', 15, 20);
my $r = Cflb::get();
$out .= "status: $r->{status}\n";
$out .= "trace: $r->{headers}{'x-trace'}\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body_like
^status: 530
trace: lb=www pool=- endpoint=- skipped=p/e:dns,p:exhausted
--- error_log
cflb_lb "www": no pool can serve and neither can the fallback pool



=== TEST 11: probes follow the current address: moved to a backend whose /health fails, the endpoint turns unhealthy
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config eval
$::Http . q{
    cflb_monitor m { type http; path /health; interval 1s; timeout 500ms; }
    cflb_pool p1 { endpoint e origin.cflb.test:1990 resolve; monitor m; }
    cflb_pool p2 { endpoint b 127.0.0.2:1990; }
    cflb_lb www { pools p1 p2; }
}
--- config eval: $::Config
--- init
my $out = '';
Cflb::wait_health('p1/e', 'healthy', 15);
$out .= "healthy: " . Cflb::endpoint('p1/e')->{reason} . "\n";
main::records("origin.cflb.test A 1 127.0.0.3\n");
Cflb::wait_health('p1/e', 'unhealthy', 15);
my $ep = Cflb::endpoint('p1/e');
$out .= "unhealthy: $ep->{reason} $ep->{status}\n";
$out .= "then: " . Cflb::bodies(Cflb::repeat(20)) . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body_like
^healthy: No failures
unhealthy: Response code mismatch 503
then: 127\.0\.0\.2



=== TEST 12: no address, no probe: the check is not a failure, the endpoint's health stays as it was
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config eval
$::Http . q{
    cflb_monitor m { type http; path /; interval 1s; timeout 500ms; }
    cflb_pool p1 { endpoint e origin.cflb.test:1990 resolve; monitor m; }
    cflb_pool p2 { endpoint b 127.0.0.3:1990; }
    cflb_lb www { pools p1 p2; }
}
--- config eval: $::Config
--- init
my $out = '';
Cflb::wait_health('p1/e', 'healthy', 15);
main::records('');
main::wait_answer('127.0.0.3', 15, 20);
# both workers have lost the address (1 s TTL), a probe under way ended
sleep 2;
my $probes = Cflb::endpoint('p1/e')->{probes};
# three intervals without an address: no probe can be awaited, so wait
sleep 3;
my $ep = Cflb::endpoint('p1/e');
$out .= "health: $ep->{health}\n";
$out .= "probes: " . ($ep->{probes} == $probes ? "none" : "some") . "\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
health: healthy
probes: none



=== TEST 13: stream{}: a TCP endpoint with resolve, two A records: both addresses serve (200 sessions, each 0.5 +- 0.1)
--- records
origin.cflb.test A 1 127.0.0.1
origin.cflb.test A 1 127.0.0.2
--- stream_config
    resolver 127.0.0.1:1955 valid=1s ipv6=off;
    server { listen 127.0.0.1:1994; listen 127.0.0.2:1994;
             return "$server_addr\n"; }
    cflb_zone cflb 1m;
    cflb_pool s { endpoint e origin.cflb.test:1994 resolve; }
    cflb_lb tcp { pools s; }
--- stream_server_config
    proxy_pass tcp;
--- init
Cflb::wait_until(sub { my $t = Cflb::tcp_tally(1985, 10);
                       $t->{'127.0.0.1'} && $t->{'127.0.0.2'} }, 15)
    or die "both addresses did not serve in 15 s\n";
$Cflb::note{shares} = Cflb::shares(Cflb::tcp_tally(1985, 200),
                                   { '127.0.0.1' => 0.5,
                                     '127.0.0.2' => 0.5 }, 0.1);
--- stream_request
--- response_body_filters eval
sub { $Cflb::note{shares} }
--- response_body
127.0.0.1 ok
127.0.0.2 ok
--- no_error_log
[error]



=== TEST 14: stream{}: resolve without a resolver fails there too
--- stream_config
    cflb_zone cflb 1m;
    cflb_pool s { endpoint e origin.cflb.test:1994 resolve; }
    cflb_lb tcp { pools s; }
--- stream_server_config
    proxy_pass tcp;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*no resolver defined to resolve "origin\.cflb\.test" of endpoint "e" in \S+nginx\.conf:\d+/



=== TEST 15: a reload: the old workers leave at once (their lookups are cancelable), the new ones look the name up, the endpoint keeps its counters
--- records
origin.cflb.test A 1 127.0.0.1
--- http_config eval
$::Http . q{
    cflb_pool p { endpoint e origin.cflb.test:1990 resolve; }
    cflb_lb www { pools p; }
}
--- config eval: $::Config
--- init
main::wait_answer('127.0.0.1', 15);
my $before = Cflb::endpoint('p/e')->{requests};
my %old = map { $_ => 1 } Cflb::worker_pids();
Cflb::reload_with('resolve;', 'resolve weight=1;', 2);
my $gone = Cflb::wait_until(sub { !grep { kill 0, $_ } keys %old }, 10);
main::records("origin.cflb.test A 1 127.0.0.2\n");
main::wait_answer('127.0.0.2', 15);
my $after = Cflb::endpoint('p/e')->{requests};
$Cflb::note{out} = "old workers gone: " . ($gone ? "yes" : "no") . "\n"
    . "counters kept: " . ($after > $before && $before >= 10 ? "yes" : "no")
    . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
old workers gone: yes
counters kept: yes
--- no_error_log
[error]



=== TEST 16: DNS-only: resolve is accepted without a resolver (a warning), the name answered as a CNAME to it
--- dns_config
    cflb_zone dns 1m;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com. refresh=3600
            retry=600 expire=604800 minimum=30;
        ns ns1.example.com. ns2.example.com.;
    }
    cflb_pool origin { endpoint o origin.cflb.test:80 resolve; }
    cflb_lb www { hostname www.example.com; pools origin; }
--- dns_test
CflbDns::q('www.example.com', 'A')
--- dns_answers
NOERROR qr aa
ANSWER www.example.com. 30 IN CNAME origin.cflb.test.
--- error_log eval
qr/\[warn\] .*no resolver defined to resolve "origin\.cflb\.test" of endpoint "o" in \S+nginx\.conf:\d+, it is resolved at load only/



=== TEST 17: stream{}: resolve without a port: the address looked up, the port the client connected to
--- records
origin.cflb.test A 1 127.0.0.2
--- stream_config
    resolver 127.0.0.1:1955 valid=1s ipv6=off;
    server { listen 127.0.0.2:1985; return "$server_addr:$server_port\n"; }
    cflb_zone cflb 1m;
    cflb_pool s { endpoint e origin.cflb.test resolve; }
    cflb_lb tcp { pools s; }
--- stream_server_config
    proxy_pass tcp;
--- init
Cflb::wait_until(sub { Cflb::tcp_tally(1985, 1)->{'127.0.0.2:1985'} }, 15)
    or die "the address did not serve in 15 s\n";
$Cflb::note{out} = join '', map { "$_\n" }
                        sort keys %{ Cflb::tcp_tally(1985, 20) };
--- stream_request
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.2:1985
--- no_error_log
[error]
