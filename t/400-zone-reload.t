# vim:set ft= ts=4 sw=4 et fdm=marker:

# "nginx -s reload" keeps the shared state of every pool and endpoint that
# stays (matched by pool, name and address); a changed address starts
# fresh, and the workers of the new configuration count into the same
# records as the old ones.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServRoot);
use Cflb;

repeat_each(1);
workers(2);
master_on();

plan "no_plan";

no_shuffle();
run_tests();

sub reload_with {
    my ($from, $to) = @_;

    my $conf = "$ServRoot/conf/nginx.conf";
    open my $in, '<', $conf or die "cflb: $conf: $!\n";
    my $text = do { local $/; <$in> };
    close $in;

    $text =~ s/\Q$from\E/$to/g if defined $from;

    open my $out, '>', $conf or die "cflb: $conf: $!\n";
    print $out $text;
    close $out;

    my @old = Cflb::worker_pids();
    kill 'HUP', Cflb::master_pid();

    Cflb::wait_until(sub {
        my %old = map { $_ => 1 } @old;
        my @new = grep { !$old{$_} } Cflb::worker_pids();
        @new == 2 && @new == Cflb::worker_pids();
    }, 10) or die "cflb: the reload did not replace the workers\n";
}

__DATA__

=== TEST 1: counters survive a reload; a moved endpoint starts fresh
--- http_config
    server { listen 127.0.0.1:1990; return 200 "a"; }
    server { listen 127.0.0.1:1991; return 200 "b"; }
    server { listen 127.0.0.1:1992; return 200 "b2"; }
    cflb_zone cflb 1m;
    cflb_pool z1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www { pools z1; }
--- config
    location = /status { cflb_status; }
    location /t { proxy_pass http://www; }
--- init
my $t = Cflb::load('/t', 400);
$Cflb::note{a} = $t->{a};
main::reload_with('127.0.0.1:1991', '127.0.0.1:1992');
Cflb::load('/t', 100);
--- request
GET /status
--- response_body_filters eval
sub {
    my $p = JSON::PP::decode_json(shift)->{pools}[0];
    my %e = map { $_->{name} => $_ } @{ $p->{endpoints} };
    my $kept = $e{a}{requests} - $Cflb::note{a};
    "pool requests: $p->{requests}\n"
    . "a kept its count: " . ($kept >= 0 && $kept <= 100 ? "yes" : "no") . "\n"
    . "b now at $e{b}{address}, counted since: "
    . ($e{b}{requests} == 100 - $kept ? "the reload" : "before") . "\n";
}
--- response_body
pool requests: 500
a kept its count: yes
b now at 127.0.0.1:1992, counted since: the reload



=== TEST 2: requests in flight across a reload are given back by the old workers
--- http_config
    cflb_zone cflb 1m;
    cflb_pool z2 { endpoint hole 127.0.0.1:1999; }
    cflb_lb www { pools z2; }
--- config
    location = /status { cflb_status; }
    location /hold { proxy_pass http://www; proxy_read_timeout 2s; }
--- init
Cflb::blackhole(1999, 30);
Cflb::hold('/hold', 4, 10);
$Cflb::note{before} = Cflb::active_total();
main::reload_with();
# the old workers finish their requests (504 after 2 s), then exit
Cflb::wait_until(sub { Cflb::active_total() == 0 }, 10);
--- request
GET /status
--- response_body_filters eval
sub { "before: $Cflb::note{before}\n" . Cflb::active_lines(shift) }
--- response_body
before: 4
z2 active=0
z2/hole active=0
