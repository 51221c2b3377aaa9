# vim:set ft= ts=4 sw=4 et fdm=marker:

# Behave like nginx's own upstream{} where users know it (issue 14): a
# failed attempt with no other endpoint left passes the endpoint's own
# answer, or nginx's status for the failure, and the upstream variables
# name only real endpoints; passive health (max_fails, fail_timeout)
# takes a dead endpoint out of steering after a few failed attempts.
# Each case is run side by side with a plain upstream{} where nginx has
# one.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(2);
master_on();
log_level('warn');

plan "no_plan";

our $Up = <<'_EOC_';
    cflb_zone cflb 1m;
    upstream plain { server 127.0.0.1:1990; }
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; }
_EOC_

our $Loc = <<'_EOC_';
    location = /t { return 200 "t\n"; }
    location /c/ {
        proxy_pass http://www/;
        add_header X-Up "$upstream_addr|$upstream_status" always;
    }
    location /p/ {
        proxy_pass http://plain/;
        add_header X-Up "$upstream_addr|$upstream_status" always;
    }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# the same request through cflb (/c/) and through upstream{} (/p/):
# "status body X-Up" of each, and whether they agree
sub side_by_side {
    my ($path) = @_;

    my @r = map { Cflb::get(path => "/$_/$path") } qw(c p);
    my @line = map { "$_->{status} " . ($_->{headers}{'x-up'} // '-') } @r;

    my $out = "cflb: $line[0]\nplain: $line[1]\n";
    $out .= "bodies " . ($r[0]{body} eq $r[1]{body} ? "equal" : "differ")
            . "\n";

    return $out;
}

__DATA__

=== TEST 1: one endpoint, proxy_next_upstream http_404: its own 404, as upstream{} gives
--- http_config eval
$::Up . q{
    server { listen 127.0.0.1:1990; location / { return 404 "not here\n"; } }
}
--- config eval
"proxy_next_upstream error timeout http_404;\n" . $::Loc
--- request
GET /t
--- response_body_filters eval
sub { main::side_by_side('x') }
--- response_body
cflb: 404 127.0.0.1:1990|404
plain: 404 127.0.0.1:1990|404
bodies equal
--- no_error_log
[error]



=== TEST 2: one endpoint that never answers: 504, as upstream{} gives, and no second entry in $upstream_addr
--- http_config eval
$::Up
--- config eval
"proxy_read_timeout 300ms;\n" . $::Loc
--- init
Cflb::blackhole(1990, 20);
--- request
GET /t
--- response_body_filters eval
sub { main::side_by_side('x') }
--- response_body
cflb: 504 127.0.0.1:1990|504
plain: 504 127.0.0.1:1990|504
bodies equal
--- error_log
upstream timed out



=== TEST 3: two endpoints, one refusing: the retry still goes to the other (nothing lost)
--- http_config
    cflb_zone cflb 1m;
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    cflb_pool p1 { endpoint a 127.0.0.1:1990; endpoint dead 127.0.0.1:1998; }
    cflb_lb www { pools p1; }
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body_filters eval
sub { Cflb::bodies(Cflb::repeat(40)) . "\n" }
--- response_body
a
--- error_log
connect() failed



=== TEST 4: passive health: a dead endpoint leaves steering after max_fails failed attempts, in every worker
--- http_config
    cflb_zone cflb 1m;
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
        endpoint dead 127.0.0.1:1998;
        passive_health max_fails=2 fail_timeout=30s;
    }
    cflb_lb www { pools p1; }
    log_format tr '$cflb_trace';
--- config
    location /t { proxy_pass http://www; access_log logs/trace.log tr; }
    location = /status { cflb_status; }
--- request
GET /t
--- response_body_filters eval
sub {
    my $r = Cflb::repeat(300);
    my $fails = grep { /connect\(\) failed/ }
                Cflb::log_lines('logs/error.log');
    my $dead = Cflb::endpoint('p1/dead');
    # a third of the draws land on it first (3 endpoints): about 100
    my $failing = grep { /dead:failing/ } Cflb::log_lines('logs/trace.log');
    return "bodies: " . Cflb::bodies($r) =~ s/=\d+//gr . "\n"
           . "failed connects: " . ($fails >= 2 && $fails <= 4 ? "2 to 4"
                                                               : $fails) . "\n"
           . "status: failing=" . ($dead->{passive}{failing} ? 1 : 0)
           . " max_fails=$dead->{passive}{max_fails}\n"
           . "trace names it failing: " . ($failing > 50 ? "yes" : $failing)
           . "\n";
}
--- response_body
bodies: a b
failed connects: 2 to 4
status: failing=1 max_fails=2
trace names it failing: yes
--- error_log
is out of steering for 30 s after 2 failed attempts



=== TEST 5: passive health is off by default: the dead endpoint keeps being tried
--- http_config
    cflb_zone cflb 1m;
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    cflb_pool p1 { endpoint a 127.0.0.1:1990; endpoint dead 127.0.0.1:1998; }
    cflb_lb www { pools p1; }
--- config
    location /t { proxy_pass http://www; }
--- request
GET /t
--- response_body_filters eval
sub {
    Cflb::repeat(100);
    my $fails = grep { /connect\(\) failed/ }
                Cflb::log_lines('logs/error.log');
    return "failed connects: " . ($fails > 20 ? "many" : $fails) . "\n";
}
--- response_body
failed connects: many
--- no_error_log
out of steering



=== TEST 6: passive_health errors
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990 max_fails=x; }
    cflb_lb www { pools p1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid "max_fails=x", max_fails takes 0 to 1000 in \S+nginx\.conf:\d+/



=== TEST 7: passive_health needs max_fails
--- http_config
    cflb_zone cflb 1m;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; passive_health fail_timeout=5s; }
    cflb_lb www { pools p1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*passive_health of cflb_pool "p1" needs max_fails=N in \S+nginx\.conf:\d+/
