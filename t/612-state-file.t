# vim:set ft= ts=4 sw=4 et fdm=marker:

# cflb_state_file (docs/api.md): runtime changes outlive a restart (the
# node is stopped and started again in the same prefix, not reloaded); a
# configuration that changes what an override replaced wins; a corrupt
# file or one naming objects that are gone is logged and ignored, and
# nginx starts.  The node is a second nginx (Cflb::instance) on port
# 1989, so the test can stop and start it.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(1);
master_on();
log_level('warn');

plan "no_plan";

our $Node = <<'_EOC_';
    cflb_zone cflb 1m;
    cflb_state_file logs/state.json;
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    server { listen 127.0.0.1:1992; return 200 "c\n"; }
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991 weight=0.5;
    }
    cflb_pool p2 { endpoint c 127.0.0.1:1992; }
    cflb_lb www { pools p1 p2; }
    server {
        listen 127.0.0.1:1989;
        location /t { proxy_pass http://www; }
        location /api/ { allow 127.0.0.1; deny all; cflb_api; }
    }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# the node's state: pools and endpoints, enabled and weights, one line
sub state {
    my $pools = Cflb::api(GET => '/api/pools', undef, port => 1989)->{json};

    return CORE::join(' ', map {
        my $p = $_;
        "$p->{name}=" . ($p->{enabled} ? 'on' : 'off') . '('
        . CORE::join(',', map { "$_->{name}:$_->{weight}:"
                                . ($_->{enabled} ? 'on' : 'off') }
                          @{ $p->{endpoints} }) . ')'
    } @$pools) . "\n";
}


# stop the node and start it again in its prefix, with $http
sub restart {
    my ($dir, $http) = @_;

    Cflb::stop_instances();
    Cflb::instance(1989, $http, 2, $dir);
}


# the node's log lines matching $re: what nginx logs while it reads its
# configuration goes to stderr (logs/stdout), the rest to logs/error.log
sub node_lines {
    my ($dir, $re) = @_;

    my @l;

    for my $f ("$dir/logs/stdout", "$dir/logs/error.log") {
        open my $fh, '<', $f or next;
        push @l, grep { /$re/ } <$fh>;
    }

    return @l;
}


sub node_log {
    return node_lines(@_) ? 'logged' : 'not logged';
}

__DATA__

=== TEST 1: changes survive a restart; the file says what they are
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
my $out = "start: " . main::state();
Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}',
          port => 1989);
Cflb::api(PATCH => '/api/pools/p1/endpoints/b', '{"weight":0.3}',
          port => 1989);
Cflb::api(PATCH => '/api/pools/p2', '{"enabled":false}', port => 1989);
$out .= "changed: " . main::state();
main::restart($dir, $::Node);
$out .= "restarted: " . main::state();
my $t = Cflb::repeat(20, port => 1989);
$out .= "traffic: " . Cflb::bodies($t) . "\n";
open my $fh, '<', "$dir/logs/state.json" or die "no state file: $!\n";
my $st = JSON::PP::decode_json(do { local $/; <$fh> });
$out .= "file: version $st->{version}, pools "
    . CORE::join(',', map { "$_->{name}:" . ($_->{enabled} ? 1 : 0) . '/'
                            . ($_->{configured_enabled} ? 1 : 0) }
                      @{ $st->{pools} })
    . ", endpoints "
    . CORE::join(',', map { "$_->{pool}/$_->{name}\@$_->{address}"
                            . (exists $_->{weight}
                               ? ":$_->{weight}/$_->{configured_weight}" : '')
                            . (exists $_->{enabled}
                               ? ':' . ($_->{enabled} ? 1 : 0) : '') }
                      @{ $st->{endpoints} }) . "\n";
$out .= "tmp file left: " . (-e "$dir/logs/state.json.tmp" ? "yes" : "no")
    . "\n";
$out .= "node errors: " . (Cflb::instance_errors() || "none\n");
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
start: p1=on(a:1:on,b:0.5:on) p2=on(c:1:on)
changed: p1=on(a:1:off,b:0.3:on) p2=off(c:1:on)
restarted: p1=on(a:1:off,b:0.3:on) p2=off(c:1:on)
traffic: b
file: version 1, pools p2:0/1, endpoints p1/a@127.0.0.1:1990:0,p1/b@127.0.0.1:1991:0.3/0.5
tmp file left: no
node errors: none
--- no_error_log
[error]



=== TEST 2: the configuration wins over an override of a value it changed
b's weight goes 0.5 -> 0.6 in the configuration: its override (0.3, made
over 0.5) is dropped and logged.  a's disable was made over "enabled",
which the configuration still says: it stays.  Setting b back to 0.5
later does not bring the dropped override back.
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}',
          port => 1989);
Cflb::api(PATCH => '/api/pools/p1/endpoints/b', '{"weight":0.3}',
          port => 1989);
(my $changed = $::Node) =~ s/weight=0\.5/weight=0.6/ or die;
main::restart($dir, $changed);
my $out = "config changed: " . main::state();
$out .= "drop: " . main::node_log($dir, qr/\[notice\].*changed "weight" of endpoint "b" of pool "p1".*override is dropped/) . "\n";
main::restart($dir, $::Node);
$out .= "config back: " . main::state();
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
config changed: p1=on(a:1:off,b:0.6:on) p2=on(c:1:on)
drop: logged
config back: p1=on(a:1:off,b:0.5:on) p2=on(c:1:on)
--- no_error_log
[error]



=== TEST 3: a corrupt state file: logged, ignored, nginx starts with the configuration
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::api(PATCH => '/api/pools/p2', '{"enabled":false}', port => 1989);
Cflb::stop_instances();
open my $fh, '>', "$dir/logs/state.json" or die;
print $fh '{"version":1,"pools":[{"name":"p2","enab';
close $fh;
Cflb::instance(1989, $::Node, 2, $dir);
my $out = "started: " . main::state();
$out .= "warning: " . main::node_log($dir, qr/\[warn\].*cflb_state_file "\S+state\.json" is ignored/) . "\n";
$out .= "node errors: " . (Cflb::instance_errors() || "none\n");
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
started: p1=on(a:1:on,b:0.5:on) p2=on(c:1:on)
warning: logged
node errors: none
--- no_error_log
[error]



=== TEST 4: entries for objects that are gone or invalid: each logged and ignored, the rest applies
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::stop_instances();
open my $fh, '>', "$dir/logs/state.json" or die;
print $fh '{"version":1,"pools":[{"name":"gone","enabled":false,'
    . '"configured_enabled":true},{"name":"p2","enabled":"no"}],'
    . '"endpoints":[{"pool":"p1","name":"a","address":"127.0.0.9:1990",'
    . '"enabled":false,"configured_enabled":true},'
    . '{"pool":"p1","name":"b","address":"127.0.0.1:1991","weight":7,'
    . '"configured_weight":0.5},'
    . '{"pool":"p1","name":"b","address":"127.0.0.1:1991","weight":0.2,'
    . '"configured_weight":0.5}]}';
close $fh;
Cflb::instance(1989, $::Node, 2, $dir);
my $out = "started: " . main::state();
$out .= "gone pool: " . main::node_log($dir, qr/\[warn\].*pool "gone" endpoint "" .*is not in the configuration/) . "\n";
$out .= "moved address: " . main::node_log($dir, qr/\[warn\].*pool "p1" endpoint "a" 127\.0\.0\.9:1990 is not in the configuration/) . "\n";
$out .= "invalid entries: "
    . main::node_lines($dir, qr/entry \d+ of "\w+" is invalid/) . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
started: p1=on(a:1:on,b:0.2:on) p2=on(c:1:on)
gone pool: logged
moved address: logged
invalid entries: 2
--- no_error_log
[error]



=== TEST 5: a reload keeps the overrides in the zone, and nginx -t does not touch the file
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::api(PATCH => '/api/pools/p1/endpoints/b', '{"weight":0.3}',
          port => 1989);
my $mtime = (stat "$dir/logs/state.json")[9];
my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $t = system("$bin -p $dir/ -c $dir/nginx.conf -t >/dev/null 2>&1");
my $master = $Cflb::instances[0]{pid};
my @old = grep { /\d/ } split /\s+/, `pgrep -P $master`;
kill 'HUP', $master;
Cflb::wait_until(sub {
    my %now = map { $_ => 1 } grep { /\d/ } split /\s+/, `pgrep -P $master`;
    !grep { $now{$_} } @old }, 10);
my $out = "nginx -t: " . ($t == 0 ? "ok" : "failed") . "\n";
$out .= "reloaded: " . main::state();
$out .= "file untouched: "
    . ((stat "$dir/logs/state.json")[9] == $mtime ? "yes" : "no") . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
nginx -t: ok
reloaded: p1=on(a:1:on,b:0.3:on) p2=on(c:1:on)
file untouched: yes
--- no_error_log
[error]
