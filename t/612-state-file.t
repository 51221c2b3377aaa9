# vim:set ft= ts=4 sw=4 et fdm=marker:

# cflb_state_file (docs/api.md): runtime changes outlive a restart (the
# node is stopped and started again in the same prefix, not reloaded); a
# configuration that changes what an override replaced wins; a corrupt
# file is moved aside (and said so in the log and the status document
# until the next good write), never overwritten; entries that are
# invalid, repeated or name objects that are gone are logged, a few by
# name and then counted, and nginx starts.  The node is a second nginx
# (Cflb::instance) on port 1989, so the test can stop and start it.

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
        location = /status { cflb_status; }
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


sub file_lines {
    my ($file, $re) = @_;

    open my $fh, '<', $file or return ();
    return grep { /$re/ } <$fh>;
}


sub node_log {
    return node_lines(@_) ? 'logged' : 'not logged';
}


# the node's file as it is
sub slurp {
    open my $fh, '<', $_[0] or return undef;
    local $/;
    return <$fh>;
}


sub spew {
    my ($file, $text) = @_;

    open my $fh, '>', $file or die "$file: $!\n";
    print $fh $text;
    close $fh;
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



=== TEST 3: a corrupt state file is moved aside, logged, and shown in the status until the next good write
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::api(PATCH => '/api/pools/p2', '{"enabled":false}', port => 1989);
Cflb::stop_instances();
my $bad = '{"version":1,"pools":[{"name":"p2","enab';
main::spew("$dir/logs/state.json", $bad);
Cflb::instance(1989, $::Node, 2, $dir);
my $out = "started: " . main::state();
my @aside = glob("$dir/logs/state.json.corrupt-*");
$out .= "moved aside: " . scalar(@aside)
    . (@aside && $aside[0] =~ /\.corrupt-\d{8}T\d{6}Z$/ ? ", named by time" : "")
    . (@aside && main::slurp($aside[0]) eq $bad ? ", bytes kept" : "") . "\n";
$out .= "original gone: " . (-e "$dir/logs/state.json" ? "no" : "yes") . "\n";
$out .= "logged: " . main::node_log($dir, qr/\[error\].*cflb_state_file "\S+state\.json" is corrupt \(.+ at line 1\): moved to "\S+state\.json\.corrupt-\d+T\d+Z", the overrides it holds are not applied/) . "\n";
my $sf = Cflb::status(1989)->{state_file};
$out .= "status: corrupt "
    . (@aside && ($sf->{corrupt} // '') eq $aside[0] ? "names it" : "missing")
    . ", saved " . ($sf->{saved} ? "true" : "false") . "\n";
Cflb::api(PATCH => '/api/pools/p1', '{"enabled":false}', port => 1989);
$sf = Cflb::status(1989)->{state_file};
$out .= "after a change: corrupt "
    . (exists $sf->{corrupt} ? "still shown" : "no longer shown")
    . ", aside file " . (-e $aside[0] ? "kept" : "gone") . ", new file "
    . (main::slurp("$dir/logs/state.json") =~ /"p1"/ ? "written" : "missing")
    . "\n";
$out .= "node errors: " . (Cflb::instance_errors() || "none\n");
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
started: p1=on(a:1:on,b:0.5:on) p2=on(c:1:on)
moved aside: 1, named by time, bytes kept
original gone: yes
logged: logged
status: corrupt names it, saved true
after a change: corrupt no longer shown, aside file kept, new file written
node errors: none
--- no_error_log
[error]



=== TEST 4: not a version 1 file: moved aside too; nginx -t says so and leaves it where it is
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::stop_instances();
main::spew("$dir/logs/state.json", '{"version":2,"pools":[]}');
my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $t = `$bin -p $dir/ -c $dir/nginx.conf -t 2>&1`;
my $out = "nginx -t: " . ($? == 0 ? "ok" : "failed")
    . (($t =~ /\[error\] .*cflb_state_file "\S+" is corrupt \(not a version 1 state file\): the overrides it holds are not applied, and nginx will move it aside when it loads this configuration/) ? ", says it" : ", silent") . "\n";
$out .= "after nginx -t: " . (glob("$dir/logs/state.json.corrupt-*") ? "moved" : "in place") . "\n";
Cflb::instance(1989, $::Node, 2, $dir);
$out .= "after start: " . (glob("$dir/logs/state.json.corrupt-*") ? "moved" : "in place") . "\n";
$out .= "started: " . main::state();
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
nginx -t: ok, says it
after nginx -t: in place
after start: moved
started: p1=on(a:1:on,b:0.5:on) p2=on(c:1:on)
--- no_error_log
[error]



=== TEST 5: entries for objects that are gone or invalid: each logged and ignored, the rest applies
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



=== TEST 6: a reload keeps the overrides in the zone, and nginx -t does not touch the file
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



=== TEST 7: lists of the wrong type and unknown fields are logged; what is valid applies
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::stop_instances();
main::spew("$dir/logs/state.json", '{"version":1,"pools":[{"name":"p2",'
    . '"enabled":false,"configured_enabled":true}],"endpoints":"x",'
    . '"colour":1}');
Cflb::instance(1989, $::Node, 2, $dir);
my $out = "started: " . main::state();
$out .= "endpoints: " . main::node_log($dir, qr/\[warn\].*cflb_state_file "\S+": "endpoints" is not an array, ignored/) . "\n";
$out .= "colour: " . main::node_log($dir, qr/\[warn\].*cflb_state_file "\S+": unknown field "colour", ignored/) . "\n";
$out .= "moved aside: " . (glob("$dir/logs/state.json.corrupt-*") ? "yes" : "no") . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
started: p1=on(a:1:on,b:0.5:on) p2=off(c:1:on)
endpoints: logged
colour: logged
moved aside: no
--- no_error_log
[error]



=== TEST 8: an entry repeated for an endpoint that is there: the first applies, the repeat is named as such
It is not "not in the configuration": the endpoint is.
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::stop_instances();
my $b = '{"pool":"p1","name":"b","address":"127.0.0.1:1991",'
        . '"configured_weight":0.5,"weight":';
main::spew("$dir/logs/state.json", '{"version":1,"endpoints":['
    . $b . '0.2},' . $b . '0.4}]}');
Cflb::instance(1989, $::Node, 2, $dir);
my $out = "started: " . main::state();
$out .= "repeat: " . main::node_log($dir, qr/\[warn\].*cflb_state_file "\S+": entry 1 of "endpoints" repeats pool "p1" endpoint "b" 127\.0\.0\.1:1991, only entry 0 is used/) . "\n";
$out .= "not in the configuration: " . main::node_log($dir, qr/is not in the configuration/) . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
started: p1=on(a:1:on,b:0.2:on) p2=on(c:1:on)
repeat: logged
not in the configuration: not logged
--- no_error_log
[error]



=== TEST 9: 200,000 entries for objects that are gone, with invalid and repeated ones: a few warnings of each kind, then a count
The master then rewrites the file with what applies.
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = Cflb::instance(1989, $::Node, 2);
Cflb::stop_instances();
my $b = '{"pool":"p1","name":"b","address":"127.0.0.1:1991",'
        . '"configured_weight":0.5,"weight":0.2}';
main::spew("$dir/logs/state.json", '{"version":1,"pools":['
    . CORE::join(',', map { '{"name":"gone' . $_ . '","enabled":false,'
                            . '"configured_enabled":true}' } 1 .. 200000)
    . '],"endpoints":['
    . CORE::join(',', ($b) x 12, ('{"pool":"p1"}') x 9) . ']}');
Cflb::instance(1989, $::Node, 2, $dir);
my $out = "started: " . main::state();
# what the zone's load logs goes to error.log, and at start to stderr too
my @gone = main::file_lines("$dir/logs/error.log", qr/\[warn\].*pool "gone\d+" endpoint "" +is not in the configuration, ignored/);
my @more = main::file_lines("$dir/logs/error.log", qr/\[warn\].*cflb_state_file "\S+": 199995 more entries not in the configuration, ignored/);
my @inv = main::node_lines($dir, qr/\[warn\].*entry \d+ of "endpoints" is invalid, ignored/);
my @inv_more = main::node_lines($dir, qr/\[warn\].*: 4 more invalid entries ignored/);
my @rep = main::node_lines($dir, qr/\[warn\].*repeats pool "p1" endpoint "b"/);
my @rep_more = main::node_lines($dir, qr/\[warn\].*: 6 more repeated entries ignored/);
$out .= "gone: " . @gone . " named, " . @more . " count\n";
$out .= "invalid: " . @inv . " named, " . @inv_more . " count\n";
$out .= "repeated: " . @rep . " named, " . @rep_more . " count\n";
$out .= "file rewritten: "
    . (length(main::slurp("$dir/logs/state.json")) < 1000 ? "yes" : "no")
    . "\n";
$Cflb::note{out} = $out;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
started: p1=on(a:1:on,b:0.2:on) p2=on(c:1:on)
gone: 5 named, 1 count
invalid: 5 named, 1 count
repeated: 5 named, 1 count
file rewritten: yes
--- no_error_log
[error]
