package CflbFleet;

# The fleet's test harness (t/900-fleet*.t): a 3-member etcd cluster on
# loopback ports from Debian's etcd-server, started once per test file
# and stopped at its end, whose members a test can kill and start again;
# cflb nodes (second nginx instances, Cflb::instance) that share its keys;
# helpers to read a node's state and its log.  Every process is started
# by fork and exec, recorded in a pid file (Cflb::record_pid) and
# stopped by its pid, never by name.

use strict;
use warnings;

use File::Temp ();
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);

use Cflb;


# the members: client ports 12371-12373, peer ports 12381-12383
our @Client = (12371, 12372, 12373);
our @Peer = (12381, 12382, 12383);
our @members;          # { pid, dir, log }, by index
our $Dir;


sub etcd_bin {
    my $bin = $ENV{TEST_NGINX_ETCD} || '/usr/bin/etcd';

    die "cflb: $bin is missing (Debian's etcd-server, see "
        . "scripts/deps.sh)\n" unless -x $bin;

    return $bin;
}


# "http://127.0.0.1:12371,..." for cflb_cluster etcd=
sub urls {
    return join ',', map { "http://127.0.0.1:$_" } @Client;
}


# start member $i (0..2), with its data directory kept across restarts
sub start_member {
    my ($i) = @_;

    return if $members[$i] && $members[$i]{pid};

    $Dir ||= File::Temp::tempdir('cflb-etcd-XXXXXX', TMPDIR => 1,
                                 CLEANUP => 1);

    my $name = "m$i";
    my $cluster = join ',', map { "m$_=http://127.0.0.1:$Peer[$_]" } 0 .. 2;
    my @cmd = (etcd_bin(), '--name', $name,
               '--data-dir', "$Dir/$name",
               '--listen-client-urls', "http://127.0.0.1:$Client[$i]",
               '--advertise-client-urls', "http://127.0.0.1:$Client[$i]",
               '--listen-peer-urls', "http://127.0.0.1:$Peer[$i]",
               '--initial-advertise-peer-urls', "http://127.0.0.1:$Peer[$i]",
               '--initial-cluster', $cluster,
               '--initial-cluster-state', 'new',
               '--initial-cluster-token', 'cflb-t',
               # a quick election: loopback, a test's patience
               '--heartbeat-interval', '50', '--election-timeout', '500',
               '--log-level', 'warn');

    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>>', "$Dir/$name.log";
        open STDERR, '>&', \*STDOUT;
        exec(@cmd) or POSIX::_exit(127);
    }

    Cflb::record_pid($pid, "--name $name --data-dir $Dir/$name");
    $members[$i] = { pid => $pid };
}


# every member that is not running started, then a wait until each
# answers and the cluster has a leader (a write goes through)
sub start {
    start_member($_) for 0 .. 2;

    for my $i (0 .. 2) {
        Cflb::wait_until(sub { defined call($i, '/v3/kv/range',
                                            '{"key":"AA=="}') }, 30)
            or die "cflb: etcd member $i did not start:\n" . member_log($i);
    }

    Cflb::wait_until(sub {
        my $r = call(0, '/v3/kv/put', '{"key":"' . b64('/cflb-t/ready')
                                      . '","value":"MQ=="}');
        $r && $r->{header} }, 30)
        or die "cflb: the etcd cluster has no leader:\n" . member_log(0);
}


# kill member $i now (SIGKILL: it dies, nothing is flushed)
sub kill_member {
    my ($i) = @_;

    my $m = $members[$i] or return;
    return unless $m->{pid};

    kill 'KILL', $m->{pid};
    waitpid($m->{pid}, 0);
    Cflb::forget_pid($m->{pid});
    $m->{pid} = 0;
}


sub kill_all {
    kill_member($_) for 0 .. 2;
}


# every member stopped: TERM, up to 3 s to exit, then KILL (a member
# whose peers are gone may not finish a graceful stop)
sub stop {
    my @pids = map { $_->{pid} } grep { $_ && $_->{pid} } @members;

    return unless @pids;

    kill 'TERM', @pids;

    Cflb::wait_until(sub { !grep { alive($_) } @pids }, 3);

    for my $pid (@pids) {
        kill 'KILL', $pid if alive($pid);
        waitpid($pid, 0);
        Cflb::forget_pid($pid);
    }

    $_->{pid} = 0 for grep { $_ } @members;
}


# a child still running (reaped if it just exited)
sub alive {
    my ($pid) = @_;

    return 0 if waitpid($pid, POSIX::WNOHANG()) == $pid;

    return kill(0, $pid) ? 1 : 0;
}


sub member_log {
    my ($i) = @_;

    open my $fh, '<', "$Dir/m$i.log" or return '';
    my @l = <$fh>;

    return join '', @l[-(@l < 20 ? @l : 20) .. -1];
}


sub b64 {
    require MIME::Base64;
    return MIME::Base64::encode_base64($_[0], '');
}


# one POST to member $i's gateway; the decoded answer, or undef
sub call {
    my ($i, $path, $body) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $Client[$i], Timeout => 2)
        or return undef;

    print $sock "POST $path HTTP/1.1\r\nHost: etcd\r\nConnection: close\r\n"
                . "Content-Type: application/json\r\n"
                . "Content-Length: " . length($body) . "\r\n\r\n$body";

    my $raw = '';
    {
        local $SIG{ALRM} = sub { die "cflb: etcd $path: no answer\n" };
        alarm 5;
        local $/;
        $raw = eval { <$sock> } // '';
        alarm 0;
    }

    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    return undef unless defined $head && $head =~ m{^HTTP/1\.1 200};

    if ($head =~ /Transfer-Encoding: chunked/i) {
        my $out = '';
        while ($rest =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($rest, 0, $n, '');
            $rest =~ s/^\r\n//;
        }
        $rest = $out;
    }

    return eval { decode_json($rest) };
}


# the keys below $prefix and their values, decoded: { key => value }
sub keys_below {
    my ($prefix) = @_;

    my $end = $prefix;
    substr($end, -1, 1) = chr(ord(substr($end, -1)) + 1);

    for my $i (0 .. 2) {
        my $r = call($i, '/v3/kv/range', '{"key":"' . b64($prefix)
                                         . '","range_end":"' . b64($end)
                                         . '"}') or next;
        require MIME::Base64;
        return { map { MIME::Base64::decode_base64($_->{key})
                       => MIME::Base64::decode_base64($_->{value} // '') }
                     @{ $r->{kvs} || [] } };
    }

    return undef;
}


# ---------------------------------------------------------------- nodes

# A cflb node: Cflb::instance on $port with $http inside http{} (and
# $stream in stream{}), its error log at info so that the connection's
# changes show.  Returns its prefix directory.
sub node {
    my ($port, $http, $dir, $stream) = @_;

    local $Cflb::InstanceLogLevel = 'info';

    return Cflb::instance($port, $http, 2, $dir, $stream);
}


# the node of $dir dies: its master and workers killed at once
sub kill_node {
    my ($dir) = @_;

    my ($i) = grep { $_->{dir} eq $dir } @Cflb::instances or return;

    my @workers = grep { /\d/ } split /\s+/, `pgrep -P $i->{pid}`;

    kill 'KILL', $i->{pid}, @workers;
    waitpid($i->{pid}, 0);
    Cflb::forget_pid($i->{pid});

    @Cflb::instances = grep { $_->{dir} ne $dir } @Cflb::instances;
}


# the node of $dir stopped (nginx -s quit: its workers finish), for at
# most 10 s, then killed
sub stop_node {
    my ($dir) = @_;

    my ($i) = grep { $_->{dir} eq $dir } @Cflb::instances or return;

    my @workers = grep { /\d/ } split /\s+/, `pgrep -P $i->{pid}`;

    kill 'QUIT', $i->{pid};

    unless (Cflb::wait_until(sub { !alive($i->{pid}) }, 10)) {
        kill 'KILL', $i->{pid}, @workers;
    }

    waitpid($i->{pid}, 0);
    Cflb::wait_until(sub { !grep { kill 0, $_ } @workers }, 5);
    Cflb::forget_pid($i->{pid});

    @Cflb::instances = grep { $_->{dir} ne $dir } @Cflb::instances;
}


# the node's status document, or undef
sub status {
    my ($port) = @_;

    return eval { Cflb::status($port) };
}


# its "cluster" object's "etcd": connected, reconnecting...
sub etcd_state {
    my ($port, $stream) = @_;

    my $st = status($port) or return 'down';
    $st = $st->{stream} if $stream;

    return $st->{cluster} ? $st->{cluster}{etcd} : 'none';
}


# "pool/endpoint" of the node's status, or undef
sub endpoint {
    my ($port, $name, $stream) = @_;

    my ($pool, $ep) = split m{/}, $name;
    my $st = status($port) or return undef;
    $st = $st->{stream} if $stream;

    for my $p (@{ $st->{pools} }) {
        next unless $p->{name} eq $pool;
        return $p if !defined $ep;
        for (@{ $p->{endpoints} }) {
            return $_ if $_->{name} eq $ep;
        }
    }

    return undef;
}


# "p1=on(a:1:on,b:0.5:off)": pools and endpoints, enabled and weights,
# as the node's status says (a drained endpoint is off)
sub state {
    my ($port, $stream) = @_;

    my $st = status($port) or return "down\n";
    $st = $st->{stream} if $stream;

    return join(' ', map {
        my $p = $_;
        "$p->{name}=" . ($p->{enabled} ? 'on' : 'off') . '('
        . join(',', map { "$_->{name}:$_->{weight}:"
                          . ($_->{enabled} ? 'on' : 'off') }
                        @{ $p->{endpoints} }) . ')'
    } @{ $st->{pools} }) . "\n";
}


# wait until the node's state is $want ("p1=on(...)\n"); the seconds it
# took, or undef after $secs
sub wait_state {
    my ($port, $want, $secs, $stream) = @_;

    my $t0 = time;

    return Cflb::wait_until(sub { state($port, $stream) eq $want }, $secs)
           ? time - $t0 : undef;
}


sub wait_etcd {
    my ($port, $want, $secs, $stream) = @_;

    return Cflb::wait_until(sub { etcd_state($port, $stream) eq $want },
                            $secs);
}


# the lines of a node's error log that match $re
sub log_lines {
    my ($dir, $re) = @_;

    my @l;

    for my $f ("$dir/logs/stdout", "$dir/logs/error.log") {
        open my $fh, '<', $f or next;
        push @l, grep { /$re/ } <$fh>;
    }

    return @l;
}


# the states of a node's etcd connection, in the order its log gave
# them: connecting, connected, lost, unreachable (one line each)
sub states {
    my ($dir) = @_;

    my %word = ('connects to etcd' => 'connecting',
                'is connected to etcd' => 'connected',
                'lost etcd' => 'lost',
                'cannot reach etcd' => 'unreachable');

    return map { /zone "[^"]+" (connects to etcd|is connected to etcd|lost etcd|cannot reach etcd)/ ? $word{$1} : () }
           log_lines($dir, qr/cflb: zone "[^"]+" (connects to|is connected to|lost|cannot reach) etcd/);
}


# how many lines of states() repeat the one before (each state change
# is logged once: none should)
sub repeats {
    my @s = @_;

    return scalar grep { $s[$_] eq $s[$_ - 1] } 1 .. $#s;
}


# the nodes' [alert], [crit] and [emerg] lines, and crashed workers
sub node_errors {
    return Cflb::instance_errors();
}


# the exit status of the test is not the members'
END { local $?; stop() }

1;
