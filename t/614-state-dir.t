# vim:set ft= ts=4 sw=4 et fdm=marker:

# cflb_state_file where the workers cannot write (docs/api.md): nginx -t
# and start refuse a directory the workers' user cannot create and rename
# files in, naming the directory and the user; a missing directory is
# made for that user, as nginx makes its temp paths; a write that fails
# at run time answers the PATCH with a 500 JSON error saying the change
# is applied but not saved, shows in the status document, and is retried
# by the next PATCH; a FIFO or a directory as the file is refused at once
# rather than hanging nginx.  The node is a second nginx (Cflb::instance)
# whose workers run as nobody; the test runs as root.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);
workers(1);
master_on();
log_level('warn');

if ($> != 0) {
    plan skip_all => 'needs root, to run workers as another user';

} else {
    plan "no_plan";
}

$Cflb::InstanceUser = 'nobody nogroup';

our $Node = <<'_EOC_';
    cflb_zone cflb 1m;
    cflb_state_file STATE;
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
    server { listen 127.0.0.1:1991; return 200 "b\n"; }
    cflb_pool p1 {
        endpoint a 127.0.0.1:1990;
        endpoint b 127.0.0.1:1991;
    }
    cflb_lb www { pools p1; }
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


# the node's configuration with the state file at $state
sub node {
    my ($state) = @_;

    (my $c = $::Node) =~ s/STATE/$state/;
    return $c;
}


# a node started with its state file in $sub of its prefix, which is
# left open to others (a temporary directory is 0700); returns the prefix
sub start {
    my ($sub) = @_;

    require File::Temp;
    my $dir = File::Temp::tempdir('cflb-node-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    chmod 0711, $dir;

    return Cflb::instance(1989, main::node("$dir/$sub"), 1, $dir);
}


# nginx run on the node's configuration (-t, or in the foreground, which
# ends at once when the configuration is refused), at most 10 seconds:
# "exit N" (124: it hung), and what it said
sub nginx_run {
    my ($dir, @args) = @_;

    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $out = `timeout 10 $bin -p $dir/ -c $dir/nginx.conf @args 2>&1`;

    return ("exit " . ($? >> 8), $out);
}


# the node's nginx.conf with the state file moved to $state
sub move_state {
    my ($dir, $state) = @_;

    open my $fh, '<', "$dir/nginx.conf" or die $!;
    my $c = do { local $/; <$fh> };
    close $fh;

    $c =~ s/cflb_state_file \S+;/cflb_state_file $state;/ or die "no file";

    open $fh, '>', "$dir/nginx.conf" or die $!;
    print $fh $c;
    close $fh;
}


sub owner {
    my @st = stat $_[0] or return "missing";
    return sprintf "%s %04o", scalar getpwuid($st[4]), $st[2] & 07777;
}

__DATA__

=== TEST 1: a directory the workers' user cannot write: nginx -t and start fail, naming it and the user
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = main::start('cflb/state.json');
Cflb::stop_instances();
mkdir "$dir/ro", 0755;
main::move_state($dir, "$dir/ro/state.json");
my $msg = qr/\[emerg\] .*cflb_state_file "\Q$dir\E\/ro\/state\.json": the worker processes' user "nobody" cannot create and rename files in "\Q$dir\E\/ro": open\(\) "\Q$dir\E\/ro\/\.state\.json\.check-\d+" failed \(13: Permission denied\); give that user the directory/;
my ($rc, $out) = main::nginx_run($dir, '-t');
my $o = "nginx -t: $rc, " . ($out =~ $msg ? "says why" : "silent: $out") . "\n";
($rc, $out) = main::nginx_run($dir);
$o .= "start: $rc, " . ($out =~ $msg ? "says why" : "silent: $out") . "\n";
$o .= "left behind: " . CORE::join(' ', map { s{.*/}{}r } glob("$dir/ro/.*check*")) . "\n";
$Cflb::note{out} = $o;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
nginx -t: exit 1, says why
start: exit 1, says why
left behind: 
--- no_error_log
[error]



=== TEST 2: a missing directory is made for the workers' user, who writes the file there
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = main::start('cflb/state.json');
my $o = "directory: " . main::owner("$dir/cflb") . "\n";
my $r = Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}',
                  port => 1989);
$o .= "patch: $r->{status}\n";
$o .= "file: " . main::owner("$dir/cflb/state.json") . "\n";
$o .= "saved: " . (Cflb::status(1989)->{state_file}{saved} ? "true" : "false")
    . "\n";
$o .= "node errors: " . (Cflb::instance_errors() || "none\n");
$Cflb::note{out} = $o;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
directory: nobody 0700
patch: 200
file: nobody 0644
saved: true
node errors: none
--- no_error_log
[error]



=== TEST 3: a write that fails at run time: 500 with a JSON error, the change in effect, the status says so; a repeat once it can write saves it
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = main::start('cflb/state.json');
chown 0, 0, "$dir/cflb";
my $r = Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}',
                  port => 1989);
my $o = "patch: $r->{status} "
    . (($r->{json}{status} // 0) == 500 ? "json" : "NOT JSON: $r->{body}")
    . "\n";
$o .= "error: " . (($r->{json}{error} // '') =~ /^the change is applied in memory but not persisted in the state file, a restart would undo it: open\(\) "\Q$dir\E\/cflb\/state\.json\.tmp" failed \(13: Permission denied\)$/ ? "says why" : "\"$r->{json}{error}\"") . "\n";
my $a = Cflb::api(GET => '/api/pools/p1/endpoints/a', undef, port => 1989);
$o .= "in effect: enabled=" . ($a->{json}{enabled} ? "true" : "false") . "\n";
my $sf = Cflb::status(1989)->{state_file};
$o .= "status: saved=" . ($sf->{saved} ? "true" : "false") . ", error "
    . (($sf->{error} // '') =~ /Permission denied/ ? "given" : "missing")
    . ", failed " . (($sf->{failed} // 0) > 0 ? "given" : "missing") . "\n";
$r = Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}',
               port => 1989);
$o .= "the same again: $r->{status}\n";
chown scalar(getpwnam('nobody')), 0, "$dir/cflb";
$r = Cflb::api(PATCH => '/api/pools/p1/endpoints/a', '{"enabled":false}',
               port => 1989);
$o .= "once writable: $r->{status}\n";
$sf = Cflb::status(1989)->{state_file};
$o .= "status: saved=" . ($sf->{saved} ? "true" : "false") . ", error "
    . (exists $sf->{error} ? "given" : "gone") . "\n";
open my $fh, '<', "$dir/cflb/state.json";
$o .= "file: " . (do { local $/; <$fh> // '' } =~ /"name":"a".*"enabled":false/s
                  ? "holds the change" : "lacks it") . "\n";
$o .= "alert logged: " . (Cflb::instance_errors() =~ /\[alert\].*cannot save the runtime overrides in cflb_state_file "\Q$dir\E\/cflb\/state\.json": open\(\)/ ? "yes" : "no") . "\n";
$Cflb::note{out} = $o;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
patch: 500 json
error: says why
in effect: enabled=false
status: saved=false, error given, failed given
the same again: 500
once writable: 200
status: saved=true, error gone
file: holds the change
alert logged: yes
--- no_error_log
[error]



=== TEST 4: a FIFO or a directory as the state file: refused at once by nginx -t and at start, not waited on
--- config
    location /t { return 200 "ok"; }
--- init
my $dir = main::start('cflb/state.json');
Cflb::stop_instances();
system('mkfifo', "$dir/cflb/state.json") == 0 or die "mkfifo: $?";
my $msg = qr/\[emerg\] .*cflb_state_file "\Q$dir\E\/cflb\/state\.json" is not a regular file/;
my ($rc, $out) = main::nginx_run($dir, '-t');
my $o = "fifo, nginx -t: $rc, " . ($out =~ $msg ? "says why" : "silent: $out") . "\n";
($rc, $out) = main::nginx_run($dir);
$o .= "fifo, start: $rc, " . ($out =~ $msg ? "says why" : "silent: $out") . "\n";
unlink "$dir/cflb/state.json";
mkdir "$dir/cflb/state.json";
($rc, $out) = main::nginx_run($dir, '-t');
$o .= "directory, nginx -t: $rc, " . ($out =~ $msg ? "says why" : "silent: $out") . "\n";
$Cflb::note{out} = $o;
--- request
GET /t
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
fifo, nginx -t: exit 1, says why
fifo, start: exit 1, says why
directory, nginx -t: exit 1, says why
--- no_error_log
[error]
