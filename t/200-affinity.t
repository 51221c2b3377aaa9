# vim:set ft= ts=4 sw=4 et fdm=marker:

# Session affinity (docs/affinity.md) against real nginx with 4 workers:
# every request goes on a connection of its own, so a session's requests
# land on different workers (each answer names its worker in X-Pid, and
# the blocks check that more than one answered).  Backends answer their
# letter; a pool of three equal endpoints makes a request that is not
# pinned land elsewhere with probability 2/3, so "30 requests, one
# endpoint" fails for a broken affinity with probability 1 - 3^-29.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServRoot);
use Cwd qw(abs_path);
use Cflb;

repeat_each(1);
workers(4);
master_on();
log_level('warn');

# one listening socket per worker, so that the kernel spreads connections
# over the workers (with one shared socket, an idle worker tends to take
# every connection)
$Test::Nginx::Util::ReusePort = 1;

plan "no_plan";

our $Cert = abs_path('t/cert');
our $Key1 = Cflb::key_file('k1', 32);
our $Key2 = Cflb::key_file('k2', 32);

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_zone cflb 1m;
_EOC_

# the letters of the three backends, as a pool body
our $Abc = <<'_EOC_';
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992;
_EOC_

our $Status = <<'_EOC_';
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; add_header X-Pid $pid always; }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# Sessions of one client each: a first request without a cookie, then $n
# with the cookie it got.  Returns lines a block compares.
sub cookie_sessions {
    my ($sessions, $n, %o) = @_;

    my ($moved, $again, $nocookie, $minw, %first) = (0, 0, 0, 99);

    for (1 .. $sessions) {
        my $r = Cflb::get(%o);

        if (!defined $r->{cookie}) {
            $nocookie++;
            next;
        }

        $first{$r->{body}} = 1;

        my $t = Cflb::repeat($n, %o,
                             headers => ["Cookie: __cflb=$r->{cookie}"]);
        $moved++ unless Cflb::bodies($t) eq $r->{body};
        $again += $t->{set};
        $minw = $t->{workers} if $t->{workers} < $minw;
    }

    return "first answers without a cookie: $nocookie\n"
        . "sessions that moved: $moved\n"
        . "answers that set the cookie again: $again\n"
        . "first choices spread: "
        . (keys %first > 1 ? "yes" : "no (" . CORE::join(',', keys %first)
                                     . ")") . "\n"
        . "every session crossed workers: "
        . ($minw > 1 && $minw < 99 ? "yes" : "no ($minw)") . "\n";
}


# $n requests for each of the header values given; lines as above
sub header_sessions {
    my ($values, $n, $header, %o) = @_;

    my ($moved, $set, $minw, %first) = (0, 0, 99);

    for my $v (@$values) {
        my $t = Cflb::repeat($n, %o, headers => ["$header$v"]);
        $moved++ if keys %{ $t->{bodies} } != 1;
        $first{Cflb::bodies($t)} = 1;
        $set += $t->{set};
        $minw = $t->{workers} if $t->{workers} < $minw;
    }

    return "sessions that moved: $moved\n"
        . "__cflb cookies set: $set\n"
        . "sessions spread: " . (keys %first > 1 ? "yes" : "no") . "\n"
        . "every session crossed workers: "
        . ($minw > 1 && $minw < 99 ? "yes" : "no ($minw)") . "\n";
}


# backend a answers /healthz with 503 while html/down exists
sub down { open my $f, '>', "$ServRoot/html/down" or die $!; close $f }
sub up { unlink "$ServRoot/html/down" }

__DATA__

=== TEST 1: cookie: each client stays on one endpoint over 30 requests across workers
--- http_config eval
$::Backends . qq{
    cflb_pool f1 { $::Abc }
    cflb_lb www { pools f1; session_affinity cookie; }
}
--- config eval: $::Status
--- init
$Cflb::note{out} = main::cookie_sessions(12, 30);
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
first answers without a cookie: 0
sessions that moved: 0
answers that set the cookie again: 0
first choices spread: yes
every session crossed workers: yes
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: control: the same cookies on a load balancer without affinity spread
The cookies come from the load balancer "www" that has affinity; "plain"
shares its pool and has none: its requests carrying them must not stick.
--- http_config eval
$::Backends . qq{
    cflb_pool f2 { $::Abc }
    cflb_lb www { pools f2; session_affinity cookie; }
    cflb_lb plain { pools f2; }
}
--- config eval
$::Status . q{
    location /plain { proxy_pass http://plain; add_header X-Pid $pid always; }
}
--- init
my ($stuck, $set) = (0, 0);
for (1 .. 10) {
    my $r = Cflb::get();
    my $t = Cflb::repeat(30, path => '/plain',
                         headers => ["Cookie: __cflb=$r->{cookie}"]);
    $stuck++ if keys %{ $t->{bodies} } == 1;
    $set += $t->{set};
}
$Cflb::note{out} = "sessions on one endpoint: $stuck\ncookies set: $set\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sessions on one endpoint: 0
cookies set: 0
--- no_error_log
[error]



=== TEST 3: ip_cookie: the first choice follows the client address, then the cookie rules
20 client addresses send 12 requests each without a cookie: each address
always gets one endpoint, the addresses spread, and every answer sets a
cookie.  Then a cookie from one address, presented from an address that
steers elsewhere, wins over the address.
--- http_config eval
$::Backends . qq{
    cflb_pool f3 { $::Abc }
    cflb_lb www { pools f3; session_affinity ip_cookie; }
}
--- config eval: $::Status
--- init
my (%by_addr, %ends);
my ($moved, $unset, $minw) = (0, 0, 99);
for my $i (1 .. 20) {
    my $from = "127.0.3.$i";
    my $t = Cflb::repeat(12, from => $from);
    $moved++ if keys %{ $t->{bodies} } != 1;
    $unset += 12 - $t->{set};
    $by_addr{$from} = Cflb::bodies($t);
    $ends{$by_addr{$from}} = 1;
    $minw = $t->{workers} if $t->{workers} < $minw;
}
# an address A and an address B that the address hash sends elsewhere
my ($A) = sort keys %by_addr;
my ($B) = grep { $by_addr{$_} ne $by_addr{$A} } sort keys %by_addr;
my $c = Cflb::get(from => $A)->{cookie};
my $t = Cflb::repeat(20, from => $B, headers => ["Cookie: __cflb=$c"]);
$Cflb::note{out} = "addresses that moved: $moved\n"
    . "answers without a cookie: $unset\n"
    . "addresses spread: " . (keys %ends > 1 ? "yes" : "no") . "\n"
    . "every address crossed workers: " . ($minw > 1 ? "yes" : "no") . "\n"
    . "A's cookie from B goes to A's endpoint: "
    . (Cflb::bodies($t) eq $by_addr{$A} ? "yes" : "no (" . Cflb::bodies($t) . ")")
    . ", set again: $t->{set}\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
addresses that moved: 0
answers without a cookie: 0
addresses spread: yes
every address crossed workers: yes
A's cookie from B goes to A's endpoint: yes, set again: 0
--- no_error_log
[error]



=== TEST 4: header: the same header value stays on one endpoint across workers, no cookie
--- http_config eval
$::Backends . qq{
    cflb_pool f4 { $::Abc }
    cflb_lb www {
        pools f4;
        session_affinity header;
        session_affinity_headers X-Session;
    }
}
--- config eval: $::Status
--- init
$Cflb::note{out} = main::header_sessions([map { "s$_" } 1 .. 12], 30,
                                         'X-Session: ');
# without the header there is no session
my $t = Cflb::repeat(30);
$Cflb::note{out} .= "without the header: "
    . (keys %{ $t->{bodies} } > 1 ? "spread" : "one endpoint") . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sessions that moved: 0
__cflb cookies set: 0
sessions spread: yes
every session crossed workers: yes
without the header: spread
--- no_error_log
[error]



=== TEST 5: header: require_all_headers off needs one of the headers, on needs all
--- http_config eval
$::Backends . qq{
    cflb_pool f5 { $::Abc }
    cflb_lb any {
        pools f5;
        session_affinity header;
        session_affinity_headers X-A X-B;
    }
    cflb_lb all {
        pools f5;
        session_affinity header;
        session_affinity_headers X-A X-B;
        session_affinity_require_all_headers on;
    }
}
--- config
    location /any { proxy_pass http://any; add_header X-Pid $pid always; }
    location /all { proxy_pass http://all; add_header X-Pid $pid always; }
--- init
my $out = '';
my @cases = (
    [any => 'X-A only', ['X-A: 1']],
    [any => 'X-B only', ['X-B: 1']],
    [any => 'both', ['X-A: 1', 'X-B: 2']],
    [any => 'neither', []],
    [all => 'X-A only', ['X-A: 1']],
    [all => 'X-B only', ['X-B: 1']],
    [all => 'both', ['X-A: 1', 'X-B: 2']],
    [all => 'neither', []],
);
for my $c (@cases) {
    my ($lb, $what, $h) = @$c;
    # three sessions each (values told apart by a suffix): a spread among
    # them is chance, a spread within one is no session
    my $stuck = 0;
    for my $s (1 .. 3) {
        my @h = map { "$_$s" } @$h;
        my $t = Cflb::repeat(30, path => "/$lb", headers => \@h);
        $stuck++ if keys %{ $t->{bodies} } == 1;
    }
    $out .= "$lb, $what: " . ($stuck == 3 ? "session" : $stuck == 0
                              ? "no session" : "mixed ($stuck of 3)") . "\n";
}
$Cflb::note{out} = $out;
--- request
GET /any
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
any, X-A only: session
any, X-B only: session
any, both: session
any, neither: no session
all, X-A only: no session
all, X-B only: no session
all, both: session
all, neither: no session
--- no_error_log
[error]



=== TEST 6: header: cookie:NAME keys on that request cookie alone
Other cookies change on every request and do not matter; without the sid
cookie there is no session.
--- http_config eval
$::Backends . qq{
    cflb_pool f6 { $::Abc }
    cflb_lb www {
        pools f6;
        session_affinity header;
        session_affinity_headers cookie:sid;
    }
}
--- config eval: $::Status
--- init
my ($moved, %first) = (0);
for my $s (1 .. 10) {
    my %b;
    for my $i (1 .. 30) {
        my $r = Cflb::get(headers => ["Cookie: other=$i; sid=v$s; more=$i"]);
        $b{$r->{status} == 200 ? $r->{body} : $r->{status}} = 1;
    }
    $moved++ if keys %b != 1;
    $first{CORE::join ',', keys %b} = 1;
}
my $t = Cflb::repeat(30, headers => ["Cookie: other=1; sidx=v1"]);
$Cflb::note{out} = "sessions that moved: $moved\n"
    . "sessions spread: " . (keys %first > 1 ? "yes" : "no") . "\n"
    . "without sid: " . (keys %{ $t->{bodies} } > 1 ? "spread" : "one endpoint")
    . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
sessions that moved: 0
sessions spread: yes
without sid: spread
--- no_error_log
[error]



=== TEST 7: header: 3000 distinct sessions in a small zone: no errors, bounded memory, LRU keeps the busy one
The zone is 128 KB, so the session table (a quarter of it at most) must
evict.  One session is used after every 50 others: least-recently-used
eviction never drops it, so it never moves.  Worker memory (RSS) may not
grow by the size of the values sent (3000 x 1000 bytes).
--- http_config eval
q{
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_zone cflb 128k;
} . qq{
    cflb_pool f7 { $::Abc }
    cflb_lb www {
        pools f7;
        session_affinity header;
        session_affinity_headers X-Session;
    }
}
--- config eval: $::Status
--- init
sub rss { my $kb = 0;
          for my $p (Cflb::worker_pids()) {
              open my $f, '<', "/proc/$p/status" or next;
              while (<$f>) { $kb += $1 if /^VmRSS:\s+(\d+)/ } }
          return $kb }
my $pad = 'x' x 990;
Cflb::load('/t', 400, sub { "X-Session: warm$_[0]$pad\r\n" });
my $before = rss();
my $busy = Cflb::get(headers => ['X-Session: busy'])->{body};
my ($busy_moved, $tally) = (0, {});
for my $round (0 .. 59) {
    my $t = Cflb::load('/t', 50,
                       sub { "X-Session: v$round.$_[0]$pad\r\n" });
    $tally->{$_} += $t->{$_} for keys %$t;
    $busy_moved++ if Cflb::get(headers => ['X-Session: busy'])->{body} ne $busy;
}
my $grew = rss() - $before;
# a new session after the flood still sticks
my $fresh = Cflb::repeat(30, headers => ['X-Session: after-the-flood']);
$Cflb::note{out} = "flood answers: "
    . CORE::join(',', map { /^[abc]$/ ? () : "$_=$tally->{$_}" } sort keys %$tally)
    . "ok\n"
    . "busy session moved: $busy_moved\n"
    . "a new session sticks: " . (keys %{ $fresh->{bodies} } == 1 ? "yes" : "no") . "\n"
    . "worker memory grew by less than 2 MB: "
    . ($grew < 2048 ? "yes" : "no ($grew KB over 4 workers)") . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
flood answers: ok
busy session moved: 0
a new session sticks: yes
worker memory grew by less than 2 MB: yes
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: the cookie and its attributes, mode by mode, on plain HTTP and TLS
Attributes are compared as a set (the order is not the contract).  The
token is 50 characters of base64url and carries the expiry: now + TTL.
--- http_config eval
$::Backends . qq{
    cflb_pool f8 { $::Abc }
    cflb_lb def { pools f8; session_affinity cookie; }
    cflb_lb ttl { pools f8; session_affinity cookie; session_affinity_ttl 30m; }
    cflb_lb ip7d { pools f8; session_affinity ip_cookie; session_affinity_ttl 7d; }
    cflb_lb strict { pools f8; session_affinity cookie;
                     session_affinity_samesite strict; }
    cflb_lb none { pools f8; session_affinity cookie;
                   session_affinity_samesite none; }
    cflb_lb always { pools f8; session_affinity cookie;
                     session_affinity_secure always; }
    cflb_lb never { pools f8; session_affinity cookie;
                    session_affinity_samesite lax;
                    session_affinity_secure never; }
    cflb_lb neverstrict { pools f8; session_affinity cookie;
                          session_affinity_samesite strict;
                          session_affinity_secure never; }
    server {
        listen 127.0.0.1:1986 ssl;
        ssl_certificate $::Cert/test.crt;
        ssl_certificate_key $::Cert/test.key;
        location ~ ^/(\\w+) { proxy_pass http://\$1; }
    }
}
--- config
    location ~ ^/(\w+) { proxy_pass http://$1; }
--- init
my $out = '';
for my $lb (qw(def ttl ip7d strict none always never neverstrict)) {
    my $r = Cflb::get(path => "/$lb");
    $out .= "$lb: " . Cflb::cookie_shape($r->{set_cookie}) . "\n";
    if ($lb eq 'def' || $lb eq 'ttl' || $lb eq 'ip7d') {
        my ($age) = $r->{set_cookie} =~ /Max-Age=(\d+)/;
        my $exp = Cflb::token_expiry($r->{cookie}) // 0;
        $out .= "$lb: token expiry is now + Max-Age: "
            . (abs($exp - time - $age) <= 5 ? "yes" : "no ($exp)") . "\n";
    }
}
for my $lb (qw(def always never neverstrict)) {
    my $r = Cflb::get(path => "/$lb", port => 1986, tls => 1);
    $out .= "tls $lb: " . Cflb::cookie_shape($r->{set_cookie}) . "\n";
}
$Cflb::note{out} = $out;
--- request
GET /def
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
def: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=Lax
def: token expiry is now + Max-Age: yes
ttl: __cflb=<token>; HttpOnly; Max-Age=1800; Path=/; SameSite=Lax
ttl: token expiry is now + Max-Age: yes
ip7d: __cflb=<token>; HttpOnly; Max-Age=604800; Path=/; SameSite=Lax
ip7d: token expiry is now + Max-Age: yes
strict: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=Strict
none: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=None; Secure
always: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=Lax; Secure
never: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=Lax
neverstrict: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=Strict
tls def: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=None; Secure
tls always: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=None; Secure
tls never: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=Lax
tls neverstrict: __cflb=<token>; HttpOnly; Max-Age=82800; Path=/; SameSite=Strict
--- no_error_log
[error]



=== TEST 9: expiry is fixed and enforced: never re-set, an expired token is steered afresh
A TTL can not be shorter than 30 minutes, so expired tokens are made by
the test: with the key file, it re-signs a real token with another expiry
(HMAC-SHA256 over the 21 bytes before the MAC, as docs/affinity.md lays
the token out).  The future one proves the re-signing right (it must be
honoured); the past one must be ignored.  A token signed with another key
is ignored too.
--- http_config eval
$::Backends . qq{
    cflb_affinity_key $::Key1;
    cflb_pool f9 { $::Abc }
    cflb_lb www { pools f9; session_affinity cookie; }
}
--- config eval: $::Status
--- init
my $r = Cflb::get();
my $c = $r->{cookie};
my $out = '';
# valid: later requests over two seconds never set it again
my $set = 0;
for (1 .. 3) {
    my $t = Cflb::repeat(5, headers => ["Cookie: __cflb=$c"]);
    $set += $t->{set};
    Time::HiRes::sleep(0.7);
}
$out .= "valid token set again: $set\n";
my %cases = (
    'future, same key' => Cflb::forge_token($c, $::Key1, time + 900),
    'past, same key' => Cflb::forge_token($c, $::Key1, time - 5),
    'future, other key' => Cflb::forge_token($c, $::Key2, time + 900),
);
for my $case (sort keys %cases) {
    my $t = Cflb::repeat(30, headers => ["Cookie: __cflb=$cases{$case}"]);
    my $honoured = Cflb::bodies($t) eq $r->{body} && $t->{set} == 0;
    my $afresh = $t->{set} == 30 && keys %{ $t->{bodies} } > 1
                 && !grep { $_ eq $cases{$case} } keys %{ $t->{tokens} };
    $out .= "$case: " . ($honoured ? "honoured" : $afresh ? "steered afresh"
            : "neither (" . Cflb::bodies($t) . ", set $t->{set})") . "\n";
}
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
valid token set again: 0
future, other key: steered afresh
future, same key: honoured
past, same key: steered afresh
--- no_error_log
[error]



=== TEST 10: an unhealthy endpoint breaks affinity and a new cookie is set
The session pinned to a moves to b with a new cookie while a fails its
monitor; the new cookie keeps it on b after a recovers, and the old
cookie, still valid, goes back to a.
--- http_config eval
q{
    server {
        listen 127.0.0.1:1990;
        root html;
        location = /healthz {
            if (-f $document_root/down) { return 503; }
            return 200 "ok";
        }
        location / { return 200 "a\n"; }
    }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    cflb_zone cflb 1m;
    cflb_monitor web { path /healthz; interval 1s; timeout 500ms; retries 0; }
    cflb_pool f10 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        monitor web;
    }
    cflb_lb www { pools f10; session_affinity cookie; }
}
--- config eval: $::Status
--- init
main::up();
Cflb::wait_health('f10/a', 'healthy', 4);
Cflb::wait_health('f10/b', 'healthy', 4);
my $ca = Cflb::pin('a')->{cookie};
my $out = '';
my $t = Cflb::repeat(10, headers => ["Cookie: __cflb=$ca"]);
$out .= "healthy: " . Cflb::bodies($t) . ", set $t->{set}\n";
main::down();
Cflb::wait_health('f10/a', 'unhealthy', 4);
my $r = Cflb::get(headers => ["Cookie: __cflb=$ca"]);
my $cb = $r->{cookie} // 'none';
$out .= "a unhealthy: $r->{body}, new cookie: "
    . ($cb ne 'none' && $cb ne $ca ? "yes" : "no") . "\n";
$t = Cflb::repeat(10, headers => ["Cookie: __cflb=$cb"]);
$out .= "new cookie: " . Cflb::bodies($t) . ", set $t->{set}\n";
main::up();
Cflb::wait_health('f10/a', 'healthy', 4);
$t = Cflb::repeat(10, headers => ["Cookie: __cflb=$cb"]);
$out .= "a back, new cookie: " . Cflb::bodies($t) . ", set $t->{set}\n";
$t = Cflb::repeat(10, headers => ["Cookie: __cflb=$ca"]);
$out .= "a back, old cookie: " . Cflb::bodies($t) . ", set $t->{set}\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
healthy: a, set 0
a unhealthy: b, new cookie: yes
new cookie: b, set 0
a back, new cookie: b, set 0
a back, old cookie: a, set 0
--- no_error_log
[alert]
[crit]



=== TEST 11: tampered, foreign and malformed cookies are steered afresh, never an error
Each value is sent 4 times (so to several workers); each answer must be a
200 from a backend with a new valid __cflb.  The header may be 8 KB
(large_client_header_buffers is raised so that nginx lets it through).
--- http_config eval
$::Backends . qq{
    cflb_pool f11 { $::Abc }
    cflb_pool f11x { endpoint x 127.0.0.1:1990; }
    cflb_lb www { pools f11; session_affinity cookie; }
    cflb_lb other { pools f11x; session_affinity cookie; }
    large_client_header_buffers 4 32k;
}
--- config eval
$::Status . q{
    location /other { proxy_pass http://other; }
}
--- init
my $c = Cflb::get()->{cookie};
my $foreign = Cflb::get(path => '/other')->{cookie};
my $flip = sub { my ($s, $i) = @_;
                 substr($s, $i, 1) = substr($s, $i, 1) eq 'A' ? 'B' : 'A'; $s };
my @cases = (
    ['flipped at 2', '__cflb=' . $flip->($c, 2)],
    ['flipped at 10', '__cflb=' . $flip->($c, 10)],
    ['flipped at 30', '__cflb=' . $flip->($c, 30)],
    ['flipped at 45', '__cflb=' . $flip->($c, 45)],
    ['truncated to 49', '__cflb=' . substr($c, 0, 49)],
    ['truncated to 20', '__cflb=' . substr($c, 0, 20)],
    ['two more characters', "__cflb=${c}AA"],
    ['another pool', "__cflb=$foreign"],
    ['garbage', '__cflb=not-a-token'],
    ['50 non-base64 bytes', '__cflb=' . ('!' x 50)],
    ['high bytes', '__cflb=' . ("\xff\xfe\x80" x 17)],
    ['8 KB', '__cflb=' . ('A' x 8192)],
    ['empty', '__cflb='],
    ['no =', '__cflb'],
    ['among others', "a=1; __cflb=" . $flip->($c, 10) . "; b=2"],
    ['the valid token under the name x__cflb', "x__cflb=$c"],
    ['the valid token under the name __cflbx', "__cflbx=$c"],
    ['200 __cflb cookies', CORE::join('; ', map { "__cflb=junk$_" } 1 .. 200)],
);
my $out = '';
for my $case (@cases) {
    my ($name, $value) = @$case;
    # the __cflb value sent (a fresh token may equal the valid one it
    # was made from: tokens of one endpoint made in one second are equal)
    my ($sent) = $value =~ /__cflb=?([^;]*)/;
    my %seen;
    for (1 .. 4) {
        my $r = Cflb::get(headers => ["Cookie: $value"]);
        my $ok = $r->{status} == 200 && $r->{body} =~ /^[abc]$/
                 && defined $r->{cookie} && $r->{cookie} =~ /^[\w-]{50}$/
                 && ($r->{cookie} ne $sent || $sent eq $c);
        $seen{$ok ? "200, new cookie" : "status $r->{status} body "
              . substr($r->{body}, 0, 40) . " cookie "
              . ($r->{cookie} // 'none')} = 1;
    }
    $out .= "$name: " . CORE::join(' / ', sort keys %seen) . "\n";
}
# the valid one still works afterwards
my $t = Cflb::repeat(10, headers => ["Cookie: __cflb=$c"]);
$out .= "valid: " . (keys %{ $t->{bodies} } == 1 ? "sticks" : "moves")
    . ", set $t->{set}\n";
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
flipped at 2: 200, new cookie
flipped at 10: 200, new cookie
flipped at 30: 200, new cookie
flipped at 45: 200, new cookie
truncated to 49: 200, new cookie
truncated to 20: 200, new cookie
two more characters: 200, new cookie
another pool: 200, new cookie
garbage: 200, new cookie
50 non-base64 bytes: 200, new cookie
high bytes: 200, new cookie
8 KB: 200, new cookie
empty: 200, new cookie
no =: 200, new cookie
among others: 200, new cookie
the valid token under the name x__cflb: 200, new cookie
the valid token under the name __cflbx: 200, new cookie
200 __cflb cookies: 200, new cookie
valid: sticks, set 0
--- no_error_log
[error]
[alert]
[crit]
exited on signal



=== TEST 12: nodes with the same key file honour each other's cookies, by names; another key does not
node 2 (port 1989) has this configuration; node 3 (1988) the same key with
the endpoints listed in another order (tokens name endpoints, not
positions); node 4 (1987) the same configuration with another key.  With
ip_cookie, an address gets the same endpoint on nodes 1 and 2.
--- http_config eval
$::Backends . qq{
    cflb_affinity_key $::Key1;
    cflb_pool f12 { $::Abc }
    cflb_lb www { pools f12; session_affinity cookie; }
    cflb_lb wip { pools f12; session_affinity ip_cookie; }
}
--- config eval
$::Status . q{
    location /ip { proxy_pass http://wip; }
}
--- init
my $node = sub {
    my ($port, $key, $pool) = @_;
    Cflb::instance($port, qq{
    cflb_zone cflb 1m;
    cflb_affinity_key $key;
    cflb_pool f12 { $pool }
    cflb_lb www { pools f12; session_affinity cookie; }
    cflb_lb wip { pools f12; session_affinity ip_cookie; }
    server {
        listen 127.0.0.1:$port;
        location /t { proxy_pass http://www; add_header X-Pid \$pid always; }
        location /ip { proxy_pass http://wip; }
    }}, 2);
};
$node->(1989, $::Key1, $::Abc);
$node->(1988, $::Key1, CORE::join "\n", reverse split /\n/, $::Abc);
$node->(1987, $::Key2, $::Abc);
my $out = '';
my $sticks = sub {
    my ($c, $port, $want) = @_;
    my $t = Cflb::repeat(20, port => $port, headers => ["Cookie: __cflb=$c"]);
    return Cflb::bodies($t) eq $want && $t->{set} == 0 ? "honoured"
        : $t->{set} == 20 ? "steered afresh"
        : "neither (" . Cflb::bodies($t) . ", set $t->{set})";
};
for my $e (qw(a b c)) {
    my $c1 = Cflb::pin($e)->{cookie};
    $out .= "node 1's cookie for $e on node 2: " . $sticks->($c1, 1989, $e) . "\n";
    $out .= "node 1's cookie for $e on node 3: " . $sticks->($c1, 1988, $e) . "\n";
    $out .= "node 1's cookie for $e on node 4: " . $sticks->($c1, 1987, $e) . "\n";
}
my $r2 = Cflb::get(port => 1989);
$out .= "node 2's cookie on node 1: "
    . $sticks->($r2->{cookie}, undef, $r2->{body}) . "\n";
my $differ = 0;
for my $i (1 .. 20) {
    my $one = Cflb::get(path => '/ip', from => "127.0.4.$i")->{body};
    my $two = Cflb::get(path => '/ip', from => "127.0.4.$i", port => 1989)->{body};
    $differ++ if $one ne $two;
}
$out .= "addresses steered differently by nodes 1 and 2: $differ\n";
$out .= "node errors: " . (Cflb::instance_errors() || "none\n");
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
node 1's cookie for a on node 2: honoured
node 1's cookie for a on node 3: honoured
node 1's cookie for a on node 4: steered afresh
node 1's cookie for b on node 2: honoured
node 1's cookie for b on node 3: honoured
node 1's cookie for b on node 4: steered afresh
node 1's cookie for c on node 2: honoured
node 1's cookie for c on node 3: honoured
node 1's cookie for c on node 4: steered afresh
node 2's cookie on node 1: honoured
addresses steered differently by nodes 1 and 2: 0
node errors: none
--- no_error_log
[error]



=== TEST 13: without a key file, the zone's random key is kept across a reload
--- http_config eval
$::Backends . qq{
    cflb_pool f13 { $::Abc }
    cflb_lb www { pools f13; session_affinity cookie; }
}
--- config eval: $::Status
--- init
my $r = Cflb::get();
Cflb::reload_edit();
my $t = Cflb::repeat(20, headers => ["Cookie: __cflb=$r->{cookie}"]);
$Cflb::note{out} = "after the reload: "
    . (Cflb::bodies($t) eq $r->{body} ? "same endpoint" : Cflb::bodies($t))
    . ", set $t->{set}\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
after the reload: same endpoint, set 0
--- no_error_log
[error]



=== TEST 14: header: the TTL is an idle timeout, refreshed by every request (TTL 30 s)
15 sessions are used again at 12 s and 24 s, 15 others are left idle; at
34 s the used ones are all where they were, while the idle ones have
expired and are steered afresh: about 2/3 of them land elsewhere (at
least 4 of 15 do, but with probability 1e-4).
--- http_config eval
$::Backends . qq{
    cflb_pool f14 { $::Abc }
    cflb_lb www {
        pools f14;
        session_affinity header;
        session_affinity_headers X-Session;
        session_affinity_ttl 30s;
    }
}
--- config eval: $::Status
--- init
my $t0 = Time::HiRes::time();
my (%at, $moved_used, $moved_idle);
for my $s (1 .. 30) {
    $at{$s} = Cflb::get(headers => ["X-Session: s$s"])->{body};
}
for my $when (12, 24) {
    Time::HiRes::sleep($t0 + $when - Time::HiRes::time());
    Cflb::get(headers => ["X-Session: s$_"]) for 1 .. 15;
}
Time::HiRes::sleep($t0 + 34 - Time::HiRes::time());
($moved_used, $moved_idle) = (0, 0);
for my $s (1 .. 30) {
    next if Cflb::get(headers => ["X-Session: s$s"])->{body} eq $at{$s};
    if ($s <= 15) { $moved_used++ } else { $moved_idle++ }
}
$Cflb::note{out} = "used sessions that moved: $moved_used\n"
    . "idle sessions steered afresh: "
    . ($moved_idle >= 4 ? "yes" : "no (only $moved_idle of 15 moved)") . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
used sessions that moved: 0
idle sessions steered afresh: yes
--- timeout: 60
--- no_error_log
[error]



=== TEST 15: ip_cookie: the first choice is the address's under random and load-based steering too
Pools steered at random or by least outstanding requests, endpoints by
least outstanding requests or least connections: 40 addresses send 10
requests each without a cookie, and each address keeps one endpoint.
--- http_config eval
$::Backends . q{
    server { listen 127.0.0.1:1993; return 200 "d\n"; }
    cflb_pool f15a {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint_steering least_outstanding_requests;
    }
    cflb_pool f15b {
        endpoint c 127.0.0.1:1992;
        endpoint d 127.0.0.1:1993;
        endpoint_steering least_connections;
    }
    cflb_lb rnd { pools f15a f15b; steering random; session_affinity ip_cookie; }
    cflb_lb lors {
        pools f15a f15b;
        steering least_outstanding_requests;
        session_affinity ip_cookie;
    }
}
--- config
    location = /status { cflb_status; }
    location ~ ^/(\w+) { proxy_pass http://$1; add_header X-Pid $pid always; }
--- init
my $out = '';
for my $lb (qw(rnd lors)) {
    my ($moved, %ends) = (0);
    for my $i (1 .. 40) {
        my $t = Cflb::repeat(10, path => "/$lb", from => "127.0.7.$i");
        $moved++ if keys %{ $t->{bodies} } > 1;
        $ends{Cflb::bodies($t)} = 1;
    }
    $out .= "$lb: addresses that moved: $moved, endpoints used: "
        . (keys %ends > 2 ? "several" : CORE::join(',', sort keys %ends)) . "\n";
}
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
rnd: addresses that moved: 0, endpoints used: several
lors: addresses that moved: 0, endpoints used: several
--- no_error_log
[error]
