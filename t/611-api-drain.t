# vim:set ft= ts=4 sw=4 et fdm=marker:

# Drain through the runtime API (docs/api.md, docs/affinity.md): an
# endpoint disabled by PATCH keeps its cookie sessions until
# drain_duration has passed, on every worker, while new sessions avoid
# it; then the old cookies move.  4 workers, a connection per request and
# reuseport, so a session's requests cross workers.  A pool of three
# equal endpoints: a request that is not pinned avoids "a" with
# probability 2/3, so "20 requests all on a" fails for a broken drain
# with probability 1 - 3^-19.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use Time::HiRes qw(time sleep);

repeat_each(1);
workers(4);
master_on();
log_level('notice');

$Test::Nginx::Util::ReusePort = 1;

plan "no_plan";

our $Http = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_zone cflb 1m;
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint c 127.0.0.1:1992;
    }
_EOC_

our $Config = <<'_EOC_';
    location /t { proxy_pass http://www; add_header X-Pid $pid always; }
    location /api/ { allow 127.0.0.1; deny all; cflb_api; }
_EOC_

no_long_string();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: disabled by the API: the old session stays until drain_duration, new ones avoid it, then it moves
The drain lasts 4 s; the checks during it take well under a second.  The
wait for its end is bounded (10 s).
--- http_config eval
$::Http . q{
    cflb_lb www { pools p1; session_affinity cookie; drain_duration 4s; }
}
--- config eval: $::Config
--- init
my $out = '';
my $old = Cflb::pin("a")->{cookie};
my $cookie = ["Cookie: __cflb=$old"];
my $r = Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}');
$out .= "patch: $r->{status} enabled="
    . ($r->{json}{enabled} ? 'true' : 'false') . "\n";
my $t = Cflb::repeat(20, headers => $cookie);
$out .= "old session while draining: " . Cflb::bodies($t) . ", cookies set "
    . "$t->{set}, workers " . ($t->{workers} > 1 ? "several" : "one") . "\n";
$t = Cflb::repeat(30);
$out .= "new sessions while draining: "
    . (exists $t->{bodies}{a} ? "reach a" : "avoid a") . "\n";
my $moved = Cflb::wait_until(sub {
    Cflb::get(headers => $cookie)->{body} ne 'a' }, 10);
$out .= "old session after the drain: " . ($moved ? "moved" : "stuck") . "\n";
$t = Cflb::repeat(20, headers => $cookie);
$out .= "and stays off a: "
    . (exists $t->{bodies}{a} ? "no" : "yes") . "\n";
$r = Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":true}');
$t = Cflb::repeat(40);
$out .= "enabled again, new sessions: "
    . (exists $t->{bodies}{a} ? "reach a" : "avoid a") . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
patch: 200 enabled=false
old session while draining: a, cookies set 0, workers several
new sessions while draining: avoid a
old session after the drain: moved
and stays off a: yes
enabled again, new sessions: reach a
--- error_log
cflb: pool "p1" endpoint "a" disabled, draining at runtime
cflb: pool "p1" endpoint "a" enabled at runtime
--- no_error_log
[error]



=== TEST 2: a second disable does not restart the drain; a reload keeps it going
No second drain start is logged, the old session still reaches "a" after
the reload (a reload that cleared the drain would move it at once) and
moves once the drain ends.
--- http_config eval
$::Http . q{
    cflb_lb www { pools p1; session_affinity cookie; drain_duration 4s; }
}
--- config eval: $::Config
--- init
my $out = '';
my $old = Cflb::pin("a")->{cookie};
my $cookie = ["Cookie: __cflb=$old"];
Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}');
my $again = Cflb::api(PATCH => '/api/pools/p1/endpoints/a',
                      '{"enabled":false}');
$out .= "second disable: $again->{status}\n";
Cflb::reload_edit(undef);
my $t = Cflb::repeat(10, headers => $cookie);
$out .= "after the reload, old session: " . Cflb::bodies($t) . "\n";
$t = Cflb::repeat(30);
$out .= "new sessions: " . (exists $t->{bodies}{a} ? "reach a" : "avoid a")
    . "\n";
my $moved = Cflb::wait_until(sub {
    Cflb::get(headers => $cookie)->{body} ne 'a' }, 10);
$out .= "old session after the drain: " . ($moved ? "moved" : "stuck") . "\n";
my @lines = grep { /draining at runtime/ } Cflb::log_lines('logs/error.log');
$out .= "drain starts logged: " . scalar(@lines) . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
second disable: 200
after the reload, old session: a
new sessions: avoid a
old session after the drain: moved
drain starts logged: 1
--- no_error_log
[error]



=== TEST 3: without affinity, disabling is immediate on every worker
--- http_config eval
$::Http . q{
    cflb_lb www { pools p1; }
}
--- config eval: $::Config
--- init
Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}');
my $t = Cflb::repeat(40);
$Cflb::note{out} = "a served: " . ($t->{bodies}{a} || 0) . ", workers "
    . ($t->{workers} > 1 ? "several" : "one") . "\n";
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
a served: 0, workers several
--- no_error_log
[error]
