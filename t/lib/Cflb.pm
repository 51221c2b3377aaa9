package Cflb;

# Helpers for the cflb Test::Nginx suites: a bounded keep-alive HTTP load
# client, requests held open in the background, and filters that turn the
# cflb_status document into lines a test can compare exactly; for layer 4,
# stream{} blocks, TCP and UDP sessions (from chosen client addresses),
# sessions held open, endpoints a test can kill, waits on nginx's logs,
# and a reload; a webhook receiver that records what cflb_notify posts.
# Every process it starts is recorded in a pid file (see record_pid).

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep alarm);
use Test::Nginx::Util qw($ServerPort $ServRoot add_test_cleanup_handler
                         add_block_preprocessor);

our @children;
our @held;
our %note;


# ------------------------------------------------------------ pid files

# Each process the suite starts besides Test::Nginx's own nginx (which
# has its pid file in $ServRoot/logs): this test script, its servers and
# held clients, second nginx nodes, chromium.  Each has a file PID.pid in
# $PidDir: the pid, its start time (field 22 of /proc/PID/stat: a reused
# pid has another) and a string its command line contains.  The file goes
# when the process is reaped; scripts/test.sh stops the processes whose
# files an interrupted run left, and only if pid, start time and command
# line still match, never by name.
our $PidDir = $ENV{CFLB_TEST_PIDS} || "$ServRoot.pids";
our $Self = $$;


sub proc_start {
    my ($pid) = @_;

    open my $fh, '<', "/proc/$pid/stat" or return undef;
    my $stat = <$fh> // return undef;
    $stat =~ s/^.*\) //s;

    return (split ' ', $stat)[19];
}


# record $pid; $cmd is what its command line will contain (after an
# exec), by default its command line now
sub record_pid {
    my ($pid, $cmd) = @_;

    my $start = proc_start($pid) // return;

    if (!defined $cmd) {
        open my $fh, '<', "/proc/$pid/cmdline" or return;
        $cmd = do { local $/; <$fh> } // '';
        $cmd =~ tr/\0/ /;
        $cmd =~ s/\s+$//;
        return unless length $cmd;      # a zombie: already gone
    }

    mkdir $PidDir;
    open my $fh, '>', "$PidDir/$pid.pid"
        or die "cflb: $PidDir/$pid.pid: $!\n";
    print $fh "$pid\n$start\n$cmd\n";
    close $fh;
}


sub forget_pid {
    my ($pid) = @_;

    unlink "$PidDir/$pid.pid";
}


# a child forked to serve (or to hold a request) until its test block
# ends: reap() ends it
sub child {
    my ($pid) = @_;

    push @children, $pid;
    record_pid($pid);
}


record_pid($$);


# GET $path $n times over keep-alive connections; returns { body => count }.
# $headers is a sub taking the request index and returning header lines.
sub load {
    my ($path, $n, $headers, $port) = @_;

    $port ||= $ServerPort;

    my (%tally, $sock, $buf);
    my $deadline = time + 60;

    for my $i (1 .. $n) {
        die "cflb load: out of time after $i requests\n" if time > $deadline;

        $sock ||= connect_to($port);

        my $extra = $headers ? $headers->($i) : '';
        print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\n$extra\r\n";

        my ($status, $body, $close) = read_response($sock);

        if (!defined $status) {
            # the server closed a kept-alive connection: send again
            undef $sock;
            redo;
        }

        $tally{$status == 200 ? $body : "status $status"}++;
        undef $sock if $close;
    }

    return \%tally;
}


# open $n TCP connections to $port one after another, read what each
# answers until the server closes it; returns { answer => count }
sub tcp_tally {
    my ($port, $n, $send) = @_;

    my %tally;
    my $deadline = time + 60;

    for (1 .. $n) {
        die "cflb tcp_tally: out of time\n" if time > $deadline;

        my $sock = connect_to($port);
        print $sock $send if defined $send;

        local $/;
        my $answer = <$sock> // '';
        $answer =~ s/\s+$//;
        $tally{$answer}++;
    }

    return \%tally;
}


# a TCP connection to 127.0.0.1:$port, from the address $from if given
# (any 127.x.y.z: the whole 127/8 is local on lo)
sub connect_to {
    my ($port, $from) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Timeout => 5,
                                     $from ? (LocalAddr => $from) : ())
        or die "cflb: cannot connect to 127.0.0.1:$port: $!\n";

    return $sock;
}


# a minimal HTTP/1.1 response reader: Content-Length bodies only
sub read_response {
    my ($sock) = @_;

    local $/ = "\r\n";

    my $line = <$sock>;
    return undef unless defined $line;

    my ($status) = $line =~ m{^HTTP/1\.[01] (\d{3})} or return undef;
    my ($len, $close) = (0, 0);

    while (defined($line = <$sock>) && $line ne "\r\n") {
        $len = $1 if $line =~ /^Content-Length:\s*(\d+)/i;
        $close = 1 if $line =~ /^Connection:\s*close/i;
    }

    my $body = '';
    read($sock, $body, $len) if $len;
    $body =~ s/\s+$//;

    return ($status, $body, $close);
}


# $n requests for $path sent from background processes that wait for the
# answer (or $secs), so they stay in flight while the test goes on
sub hold {
    my ($path, $n, $secs, $port, $nowait) = @_;

    $port ||= $ServerPort;
    $secs ||= 20;

    for (1 .. $n) {
        my $pid = fork();
        die "cflb: fork: $!\n" unless defined $pid;

        if ($pid == 0) {
            my $sock = connect_to($port);
            print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n";
            local $SIG{ALRM} = sub { POSIX::_exit(0) };
            alarm $secs;
            my $buf;
            sysread($sock, $buf, 4096);
            POSIX::_exit(0);
        }

        child($pid);
    }

    # let the requests reach the balancer
    wait_until(sub { active_total() >= $n }, 5) unless $nowait;
}


# hold requests until the endpoint NAME ("pool/endpoint") of the status
# document has exactly $n in flight; the requests that went elsewhere are
# noted in $note{minus} so shares can leave them out
sub hold_on {
    my ($name, $path, $n) = @_;

    my %sent;

    for (1 .. 10 * $n) {
        my %active = active_by_name();
        last if ($active{$name} || 0) >= $n;

        my %before = requests_by_name();
        hold($path, 1, 30, undef, 1);
        wait_until(sub { my %r = requests_by_name();
                         grep { ($r{$_} || 0) > ($before{$_} || 0) } keys %r },
                   5);
    }

    my %active = active_by_name();
    die "cflb: could not hold $n on $name\n" unless $active{$name} == $n;

    $note{minus} = { %active };
}


sub active_by_name {
    my $st = status();
    return map { my $p = $_;
                 ($p->{name} => $p->{active},
                  map { ("$p->{name}/$_->{name}" => $_->{active}) }
                      @{ $p->{endpoints} }) } @{ $st->{pools} };
}


sub requests_by_name {
    my $st = status();
    return map { my $p = $_;
                 ($p->{name} => $p->{requests},
                  map { ("$p->{name}/$_->{name}" => $_->{requests}) }
                      @{ $p->{endpoints} }) } @{ $st->{pools} };
}


# $clients clients (told apart by X-Real-IP) send $each requests; notes in
# $note{moved} how many clients saw more than one endpoint
sub sticky_clients {
    my ($path, $clients, $each) = @_;

    my %seen;

    for my $round (1 .. $each) {
        for my $c (1 .. $clients) {
            my $ip = sprintf("127.%d.%d.%d", 1 + $c % 200, $c >> 8, $c & 255);
            my $t = load($path, 1, sub { "X-Real-IP: $ip\r\n" });
            $seen{$c}{$_} = 1 for keys %$t;
        }
    }

    $note{moved} = grep { keys %{ $seen{$_} } > 1 } keys %seen;
}


# the endpoint record "pool/endpoint" of the status document
sub endpoint {
    my ($name, $port) = @_;

    my ($pool, $ep) = split m{/}, $name;
    my $st = status($port);

    for my $p (@{ $st->{pools} }) {
        next unless $p->{name} eq $pool;
        for (@{ $p->{endpoints} }) {
            return $_ if $_->{name} eq $ep;
        }
    }

    die "cflb: no endpoint $name in the status\n";
}


# wait until "pool/endpoint" has the health given; returns the seconds
# it took, or dies
sub wait_health {
    my ($name, $health, $secs) = @_;

    my $start = time;
    wait_until(sub { endpoint($name)->{health} eq $health }, $secs)
        or die "cflb: $name did not become $health in ${secs}s\n";

    return time - $start;
}


# wait until "pool/endpoint" was last checked with the reason given
# (servers a test starts after nginx may have failed the first checks)
sub wait_reason {
    my ($name, $reason, $secs) = @_;

    wait_until(sub { endpoint($name)->{reason} eq $reason }, $secs)
        or die "cflb: $name did not fail with \"$reason\" in ${secs}s\n";
}


# a scripted TCP server: for each connection, answers with the lines of
# $script ("> text" to send, "< prefix" to read a line, "<<N" to read N
# bytes), then closes
sub scripted {
    my ($port, $script, $secs) = @_;

    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Listen => 16,
                                      ReuseAddr => 1)
            or POSIX::_exit(1);
        local $SIG{ALRM} = sub { POSIX::_exit(0) };
        alarm($secs || 30);

        while (my $c = $l->accept) {
            for my $step (@$script) {
                if ($step =~ /^> (.*)/s) {
                    print $c $1;
                } elsif ($step =~ /^<<(\d+)/) {
                    my $buf;
                    last unless read($c, $buf, $1) == $1;
                } else {
                    my $line = <$c>;
                    last unless defined $line;
                }
            }
            close $c;
        }

        POSIX::_exit(0);
    }

    child($pid);
    sleep 0.2;
}


# a TCP port that accepts connections (in the kernel backlog) and never
# answers, for $secs seconds
sub blackhole {
    my ($port, $secs) = @_;

    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Listen => 64,
                                      ReuseAddr => 1)
            or POSIX::_exit(1);
        sleep($secs || 20);
        POSIX::_exit(0);
    }

    child($pid);
    sleep 0.2;
}


sub reap {
    close $_->[1] for @held;
    @held = ();
    kill 'KILL', @children if @children;

    for my $pid (@children) {
        waitpid($pid, 0);
        forget_pid($pid);
    }

    @children = ();
}


sub status {
    my ($port) = @_;

    my $sock = connect_to($port || $ServerPort);
    print $sock "GET /status HTTP/1.1\r\nHost: localhost\r\n"
                . "Connection: close\r\n\r\n";

    my ($st, $body) = read_response($sock);
    die "cflb: /status answered $st\n" unless defined $st && $st == 200;

    return decode_json($body);
}


sub active_total {
    my $st = eval { status() } or return -1;
    my $n = 0;
    $n += $_->{active} for @{ $st->{pools} };
    return $n;
}


sub wait_until {
    my ($cond, $secs) = @_;

    my $deadline = time + $secs;

    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.05;
    }

    return 0;
}


sub master_pid {
    open my $fh, '<', "$ServRoot/logs/nginx.pid" or die "cflb: no pid: $!\n";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}


sub worker_pids {
    my $master = master_pid();
    my @pids = grep { /\d/ } split /\s+/, `pgrep -P $master`;
    return @pids;
}


# Shares of a tally against expectations with a tolerance, as lines:
# "NAME ok" when within, "NAME got G expected E +- T" when not.
sub shares {
    my ($tally, $expect, $tol) = @_;

    my $total = 0;
    $total += $_ for values %$tally;

    my $out = '';

    for my $name (sort keys %$expect) {
        my $got = $total ? ($tally->{$name} || 0) / $total : 0;

        if (abs($got - $expect->{$name}) <= $tol) {
            $out .= "$name ok\n";

        } else {
            $out .= sprintf("%s got %.4f expected %.4f +- %.4f (n=%d)\n",
                            $name, $got, $expect->{$name}, $tol, $total);
        }
    }

    for my $name (sort keys %$tally) {
        $out .= "$name unexpected\n" unless exists $expect->{$name};
    }

    return $out;
}


# A response_body_filters sub: the shares of requests among pools (or,
# with names "pool/endpoint", among endpoints) in the status document,
# checked by shares().  $minus takes requests a test sent on purpose
# elsewhere (held ones) off a name's count.
sub status_shares {
    my ($expect, $tol, $minus) = @_;

    return sub {
        my $st = decode_json(shift);
        my %tally;

        for my $p (@{ $st->{pools} }) {
            $tally{$p->{name}} = $p->{requests};
            $tally{"$p->{name}/$_->{name}"} = $_->{requests}
                for @{ $p->{endpoints} };
        }

        $tally{$_} -= $minus->{$_} for keys %{ $minus || {} };

        my %sel = map { $_ => $tally{$_} || 0 } keys %$expect;
        return shares(\%sel, $expect, $tol);
    };
}


# the status document reduced to "pool/endpoint active=N" lines
sub active_lines {
    my ($json) = @_;

    my $st = decode_json($json);
    my $out = '';

    for my $p (@{ $st->{pools} }) {
        $out .= "$p->{name} active=$p->{active}\n";
        $out .= "$p->{name}/$_->{name} active=$_->{active}\n"
            for @{ $p->{endpoints} };
    }

    return $out;
}


# Stream blocks without Lua: --- stream_config and --- stream_server_config
# become a stream{} server on port 1985; --- stream_request is sent to it
# from Perl once nginx runs, and what it answers is checked against
# --- stream_response (or _like) as the body of a placeholder request.
our @stream_requests;

sub stream_blocks {
    add_block_preprocessor(sub {
        my $block = shift;

        return unless defined $block->stream_config
                      || defined $block->stream_server_config;

        my $main = ($block->main_config // '')
                   . "stream {\n" . ($block->stream_config // '')
                   . "\n    server {\n        listen 127.0.0.1:1985;\n"
                   . ($block->stream_server_config // '')
                   . "\n    }\n}\n";

        $block->set_value('main_config', $main);

        return if defined $block->must_die;

        push @stream_requests, $block->stream_request // '';
        my $id = $#stream_requests;

        $block->set_value('init', ($block->init // '')
            . "\n\$Cflb::note{stream} = Cflb::tcp_exchange(1985,"
            . " \$Cflb::stream_requests[$id]);\n");
        $block->set_value('config', ($block->config // '')
            . "\n    location = /cflb_stream { return 204; }\n");
        $block->set_value('request', "GET /cflb_stream\n");
        $block->set_value('error_code', 204);
        $block->set_value('response_body_filters',
                          sub { $Cflb::note{stream} })
            unless defined $block->response_body_filters;
        $block->set_value('response_body', $block->stream_response)
            if defined $block->stream_response;
        $block->set_value('response_body_like', $block->stream_response_like)
            if defined $block->stream_response_like;
    });
}


# one TCP exchange: send $data, read until the server closes
sub tcp_exchange {
    my ($port, $data) = @_;

    my $sock = connect_to($port);
    print $sock $data if length $data;
    shutdown($sock, 1) if length $data;

    local $/;
    local $SIG{ALRM} = sub { die "cflb: no answer from stream port $port\n" };
    alarm 10;
    my $answer = <$sock> // '';
    alarm 0;

    return $answer;
}


# Layer 4 (stream) helpers: greeting TCP backends that a test can kill,
# TCP sessions held open, UDP sessions, and waits on nginx's log files.

# a TCP endpoint on 127.0.0.1:$port that greets every connection with
# "$name\n" and keeps it open until the client closes it; lives $secs
# seconds, or until killed (that is how a test makes an endpoint die).
# The socket listens before this returns; returns the server's pid.
sub greeter {
    my ($port, $name, $secs) = @_;

    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Listen => 128,
                                  ReuseAddr => 1)
        or die "cflb: greeter cannot listen on $port: $!\n";

    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';
        my $sel = IO::Select->new($l);
        my $deadline = time + ($secs || 30);

        while (time < $deadline) {
            for my $s ($sel->can_read(0.5)) {
                if ($s == $l) {
                    my $c = $l->accept or next;
                    syswrite($c, "$name\n");
                    $sel->add($c);
                    next;
                }

                my $buf;
                next if sysread($s, $buf, 4096);
                $sel->remove($s);
                close $s;
            }
        }

        POSIX::_exit(0);
    }

    close $l;
    child($pid);

    return $pid;
}


# end a child (a greeter) now: its port closes
sub kill_child {
    my ($pid) = @_;

    kill 'KILL', $pid;
    waitpid($pid, 0);
    forget_pid($pid);
    @children = grep { $_ != $pid } @children;
}


# the first line a socket receives, without its end of line; "" when the
# peer closes or sends nothing for 5 seconds
sub read_line {
    my ($sock) = @_;

    my $line = '';
    my $sel = IO::Select->new($sock);

    while ($line !~ /\n/ && $sel->can_read(5)) {
        last unless sysread($sock, $line, 256, length $line);
    }

    $line =~ s/\n.*//s;
    $line =~ s/\s+$//;

    return $line;
}


# $n TCP sessions to $port one after another, each closed once its first
# line arrived; returns { first line => count }, "" counting the sessions
# that got nothing.  Options: from => sub giving the client address of
# session i; log => an access log of the stream server: each session then
# waits until nginx has logged it, that is until the session is over and
# its counters are given back, before the next one starts.
sub tcp_sessions {
    my ($port, $n, %o) = @_;

    my %tally;
    my $deadline = time + 60;
    my $logged = $o{log} ? log_count($o{log}) : 0;

    for my $i (1 .. $n) {
        die "cflb tcp_sessions: out of time\n" if time > $deadline;

        my $sock = connect_to($port, $o{from} ? $o{from}->($i) : undef);
        $tally{read_line($sock)}++;
        close $sock;

        next unless $o{log};

        $logged++;
        my $until = time + 5;
        while (log_count($o{log}) < $logged) {
            die "cflb: session $i to $port was not logged\n" if time > $until;
            sleep 0.002;
        }
    }

    return \%tally;
}


# open $n TCP sessions to $port one after another and keep them open in
# @held, each once its first line (the endpoint's greeting) arrived, so
# that the next one is steered with this one counted; returns
# { greeting => count } for these $n
sub hold_sessions {
    my ($port, $n) = @_;

    my %tally;

    for (1 .. $n) {
        my $sock = connect_to($port);
        my $name = read_line($sock);
        push @held, [$name, $sock];
        $tally{$name}++;
    }

    return \%tally;
}


# close the held sessions greeted with $name; returns how many
sub release {
    my ($name) = @_;

    my @mine = grep { $_->[0] eq $name } @held;
    @held = grep { $_->[0] ne $name } @held;
    close $_->[1] for @mine;

    return scalar @mine;
}


# $n UDP sessions to 127.0.0.1:$port, each one datagram "x" from a new
# socket, so from a new client port; returns { first datagram answered
# => count }, "" when nothing came back in 2 seconds.  Option: from =>
# sub giving the client address of session i.
sub udp_sessions {
    my ($port, $n, %o) = @_;

    my %tally;
    my $deadline = time + 60;

    for my $i (1 .. $n) {
        die "cflb udp_sessions: out of time\n" if time > $deadline;

        my $from = $o{from} ? $o{from}->($i) : undef;
        my $sock = IO::Socket::INET->new(Proto => 'udp',
                                         PeerAddr => '127.0.0.1',
                                         PeerPort => $port,
                                         $from ? (LocalAddr => $from) : ())
            or die "cflb: udp socket to $port: $!\n";

        send($sock, "x", 0);

        my $answer = '';
        if (IO::Select->new($sock)->can_read(2)) {
            recv($sock, $answer, 65536, 0) // ($answer = '');
        }

        $answer =~ s/\s+$//;
        $tally{$answer}++;
        close $sock;
    }

    return \%tally;
}


# a tally as "name count" lines, sorted by name; "" shows as "(none)"
sub tally_lines {
    my ($tally) = @_;

    return join '', map { ($_ eq '' ? '(none)' : $_) . " $tally->{$_}\n" }
                    sort keys %$tally;
}


# the lines of a file under the server root ("logs/stream.log")
sub log_lines {
    my ($name) = @_;

    open my $fh, '<', "$ServRoot/$name" or return ();
    my @lines = <$fh>;
    chomp @lines;

    return @lines;
}


sub log_count {
    my ($name) = @_;

    return scalar(my @l = log_lines($name));
}


# wait until a line of logs/error.log matches $re; returns the seconds
# it took, or dies
sub wait_error_log {
    my ($re, $secs) = @_;

    my $start = time;
    wait_until(sub { grep { /$re/ } log_lines('logs/error.log') }, $secs)
        or die "cflb: no error log line like $re in ${secs}s\n";

    return time - $start;
}


# rewrite nginx.conf (each $from becomes $to) and HUP the master; returns
# once $workers new workers run and every old one still there is
# shutting down, with its listeners closed (it stays while it has
# sessions open: an open stream session is not idle)
sub reload_with {
    my ($from, $to, $workers) = @_;

    my $conf = "$ServRoot/conf/nginx.conf";
    open my $in, '<', $conf or die "cflb: $conf: $!\n";
    my $text = do { local $/; <$in> };
    close $in;

    $text =~ s/\Q$from\E/$to/g or die "cflb: \"$from\" is not in $conf\n";

    open my $out, '>', $conf or die "cflb: $conf: $!\n";
    print $out $text;
    close $out;

    my %old = map { $_ => 1 } worker_pids();
    kill 'HUP', master_pid();

    wait_until(sub {
        my @new = grep { !$old{$_} } worker_pids();
        return 0 unless @new == $workers;

        for my $pid (keys %old) {
            open my $fh, '<', "/proc/$pid/cmdline" or next;
            my $title = <$fh> // '';
            return 0 if $title =~ /worker process/
                        && $title !~ /shutting down/;
        }

        return 1;
    }, 10) or die "cflb: the reload did not replace the workers\n";
}


# ---------------------------------------------------------------- affinity

# One GET on a connection of its own (so that successive requests may land
# on different workers).  Options: path ('/t'), port, from (the local
# address to connect from: any of 127/8), headers (header lines), tls.
# Returns { status, body, pid (the X-Pid header, the worker that
# answered), cookie (the __cflb token the answer set, or undef),
# set_cookie (that whole Set-Cookie value), nset (how many __cflb
# Set-Cookie lines), headers ({ lowercased name => value }) }.
sub get {
    my (%o) = @_;

    my %addr = (PeerAddr => '127.0.0.1', PeerPort => $o{port} || $ServerPort,
                Timeout => 5, $o{from} ? (LocalAddr => $o{from}) : ());
    my $sock;

    if ($o{tls}) {
        require IO::Socket::SSL;
        $sock = IO::Socket::SSL->new(%addr, SSL_verify_mode => 0);

    } else {
        $sock = IO::Socket::INET->new(%addr);
    }

    die "cflb get: cannot connect to port $addr{PeerPort}"
        . ($o{from} ? " from $o{from}" : '') . ": $!\n" unless $sock;

    my $req = 'GET ' . ($o{path} || '/t') . " HTTP/1.1\r\nHost: localhost\r\n"
              . "Connection: close\r\n";
    $req .= "$_\r\n" for @{ $o{headers} || [] };
    print $sock "$req\r\n";

    my $raw = '';
    {
        local $SIG{ALRM} = sub { die "cflb get: no answer in 10 s\n" };
        alarm 10;
        local $/;
        $raw = <$sock> // '';
        alarm 0;
    }
    close $sock;

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})}
        or die "cflb get: not an HTTP response: \"$raw\"\n";

    my %r = (status => $status, body => $body // '', nset => 0);
    $r{body} =~ s/\s+$//;

    for my $line (split /\r\n/, $head) {
        $r{pid} = $1 if $line =~ /^X-Pid:\s*(\d+)/i;
        $r{headers}{lc $1} = $2 if $line =~ /^([^:\s]+):\s*(.*)$/;

        if ($line =~ /^Set-Cookie:\s*(__cflb=([^;]*).*)$/i) {
            $r{set_cookie} = $1;
            $r{cookie} = $2;
            $r{nset}++;
        }
    }

    return \%r;
}


# $n requests, each as get(%o); returns { bodies => { body => count },
# set => answers that set a __cflb cookie, workers => distinct workers,
# tokens => { token => count } of the cookies set }
sub repeat {
    my ($n, %o) = @_;

    my (%bodies, %pids, %tokens);
    my $set = 0;
    my $deadline = time + 60;

    for (1 .. $n) {
        die "cflb repeat: out of time\n" if time > $deadline;

        my $r = get(%o);
        $bodies{$r->{status} == 200 ? $r->{body} : "status $r->{status}"}++;
        $pids{$r->{pid}} = 1 if defined $r->{pid};

        if (defined $r->{cookie}) {
            $set++;
            $tokens{$r->{cookie}}++;
        }
    }

    return { bodies => \%bodies, set => $set, workers => scalar keys %pids,
             tokens => \%tokens };
}


# "a" or "a=3 b=7": the bodies of a repeat() result
sub bodies {
    my ($r) = @_;

    my $b = $r->{bodies};
    return (keys %$b)[0] if keys %$b == 1;
    return CORE::join ' ', map { "$_=$b->{$_}" } sort keys %$b;
}


# fresh requests (no cookie) until one is answered by the backend that
# answers $body; returns that answer (with its cookie)
sub pin {
    my ($body, %o) = @_;

    for (1 .. 200) {
        my $r = get(%o);
        return $r if $r->{status} == 200 && $r->{body} eq $body;
    }

    die "cflb pin: no fresh request reached \"$body\" in 200 tries\n";
}


# a __cflb Set-Cookie value with its token shown as <token> when it is 50
# characters of base64url, and its attributes sorted (their order is not
# part of the contract, their set is)
sub cookie_shape {
    my ($line) = @_;

    return 'no cookie' unless defined $line;

    my ($first, @attrs) = split /;\s*/, $line;
    $first =~ s/^__cflb=[A-Za-z0-9_-]{50}$/__cflb=<token>/;

    return CORE::join '; ', $first, sort @attrs;
}


# the fields of a token: version, pool and endpoint ids (hex), expiry, mac
# (hex); undef when it does not decode to 37 bytes
sub token_fields {
    my ($token) = @_;

    require MIME::Base64;
    my $bin = MIME::Base64::decode_base64url($token);
    return undef unless length $bin == 37;

    my ($v, $pool, $ep, $exp, $mac) = unpack 'C a8 a8 a4 a16', $bin;

    return { version => $v, pool => unpack('H*', $pool),
             endpoint => unpack('H*', $ep), expiry_raw => $exp,
             mac => unpack('H*', $mac), bin => $bin };
}


# A token like $token (same version, pool and endpoint) with the expiry
# $expiry, authenticated with the key in $keyfile: HMAC-SHA256 over the
# 21 bytes before the MAC, truncated to 16 bytes (docs/affinity.md).  The
# byte order of the expiry is taken from $token itself: the one that
# reads as a time within 8 days of now.
sub forge_token {
    my ($token, $keyfile, $expiry) = @_;

    require Digest::SHA;
    require MIME::Base64;

    my $f = token_fields($token) or die "cflb forge: not a 37-byte token\n";

    my $le = unpack 'V', $f->{expiry_raw};
    my $order = abs($le - time) < 8 * 86400 ? 'V' : 'N';

    open my $fh, '<', $keyfile or die "cflb forge: $keyfile: $!\n";
    binmode $fh;
    my $key = do { local $/; <$fh> };
    close $fh;

    my $data = substr($f->{bin}, 0, 17) . pack($order, $expiry);
    my $mac = substr(Digest::SHA::hmac_sha256($data, $key), 0, 16);

    return MIME::Base64::encode_base64url($data . $mac);
}


# the expiry a token carries (Unix seconds), whichever byte order
sub token_expiry {
    my ($token) = @_;

    my $f = token_fields($token) or return undef;
    my $le = unpack 'V', $f->{expiry_raw};

    return abs($le - time) < 8 * 86400 ? $le : unpack('N', $f->{expiry_raw});
}


# a file of $n random bytes (or of the bytes given) in a directory that is
# removed at exit; returns its absolute path
our $Tmp;

sub key_file {
    my ($name, $n, $bytes) = @_;

    require File::Temp;
    $Tmp ||= File::Temp::tempdir('cflb-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    $bytes //= CORE::join '', map { chr int rand 256 } 1 .. $n;

    open my $fh, '>', "$Tmp/$name" or die "cflb: $Tmp/$name: $!\n";
    binmode $fh;
    print $fh $bytes;
    close $fh;

    return "$Tmp/$name";
}


# Reload the running nginx with its nginx.conf edited (every $from
# replaced by $to, or $edit->(\$text) when $from is a code ref), and wait
# until no worker of the old configuration is left.
sub reload_edit {
    my ($from, $to) = @_;

    my $conf = "$ServRoot/conf/nginx.conf";
    open my $in, '<', $conf or die "cflb: $conf: $!\n";
    my $text = do { local $/; <$in> };
    close $in;

    if (ref $from eq 'CODE') {
        $from->(\$text);

    } elsif (defined $from) {
        $text =~ s/\Q$from\E/$to/g or die "cflb reload: no \"$from\"\n";
    }

    open my $out, '>', $conf or die "cflb: $conf: $!\n";
    print $out $text;
    close $out;

    my @old = worker_pids();
    my %old = map { $_ => 1 } @old;
    kill 'HUP', master_pid();

    wait_until(sub {
        my @now = worker_pids();
        @now == @old && !grep { $old{$_} } @now;
    }, 10) or die "cflb: the reload did not replace the workers\n";
}


# Another nginx, to play a second node: its own prefix directory, the same
# modules, $workers workers, the given text inside http{} (and $stream,
# if given, inside stream{}).  It listens where that text says; the test
# waits until $port answers.  Stopped with the test block (see reap).
# $dir: start it again in the prefix of one stopped before (a restart),
# with a fresh error log.  As root its workers run as $InstanceUser
# ("root" unless a test sets another, such as "nobody nogroup").
our @instances;
our $InstanceUser = 'root';

sub instance {
    my ($port, $http, $workers, $dir, $stream) = @_;

    require File::Temp;
    $dir ||= File::Temp::tempdir('cflb-node-XXXXXX', TMPDIR => 1,
                                 CLEANUP => 1);
    mkdir "$dir/logs";
    unlink "$dir/logs/error.log";

    my $conf = CORE::join '',
        map({ "load_module $_;\n" } grep { length }
            split /\s+/, $ENV{TEST_NGINX_LOAD_MODULES} // ''),
        ($> == 0 ? "user $InstanceUser;\n" : ''),
        "daemon off;\nmaster_process on;\n",
        "worker_processes ", $workers || 2, ";\n",
        "pid $dir/logs/nginx.pid;\n",
        "error_log $dir/logs/error.log warn;\n",
        "events { worker_connections 256; accept_mutex off; }\n",
        "http {\n    access_log off;\n",
        map({ "    ${_}_temp_path $dir/$_;\n" }
            qw(client_body proxy fastcgi uwsgi scgi)),
        $http, "\n}\n",
        (defined $stream ? "stream {\n$stream\n}\n" : '');

    open my $fh, '>', "$dir/nginx.conf" or die "cflb: $dir/nginx.conf: $!\n";
    print $fh $conf;
    close $fh;

    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', "$dir/logs/stdout";
        open STDERR, '>&', \*STDOUT;
        exec($bin, "-p", "$dir/", "-c", "$dir/nginx.conf")
            or POSIX::_exit(127);
    }

    push @instances, { pid => $pid, dir => $dir };
    record_pid($pid, "-p $dir/");

    my $up = wait_until(sub {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                              Timeout => 1) ? 1 : 0 }, 10);

    unless ($up) {
        my $log = `cat $dir/logs/stdout $dir/logs/error.log 2>/dev/null`;
        die "cflb: the second nginx did not start on $port:\n$log\n";
    }

    return $dir;
}


# the lines at [alert], [crit] or [emerg] (or a worker's death) in the
# error logs of the second nodes
sub instance_errors {
    my $out = '';

    for my $i (@instances) {
        open my $fh, '<', "$i->{dir}/logs/error.log" or next;
        $out .= CORE::join '', grep { /\[(alert|crit)\]|exited on signal/ }
                                    <$fh>;
    }

    return $out;
}


sub stop_instances {
    for my $i (@instances) {
        my @workers = grep { /\d/ } split /\s+/, `pgrep -P $i->{pid}`;

        kill 'TERM', $i->{pid};
        my $gone = wait_until(sub {
            waitpid($i->{pid}, POSIX::WNOHANG()) != 0 }, 5);

        unless ($gone) {
            kill 'KILL', $i->{pid}, @workers;
            waitpid($i->{pid}, 0);
        }

        forget_pid($i->{pid});
    }

    @instances = ();
}


# ------------------------------------------------------------- runtime API

# One request to the runtime API on a connection of its own: $method $path
# with $body (bytes, or undef for none).  Returns { status, body, allow,
# json (the body decoded, or undef) }.
sub api {
    my ($method, $path, $body, %o) = @_;

    my $sock = connect_to($o{port} || $ServerPort);
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
              . "Connection: close\r\n";
    $req .= "Content-Length: " . length($body) . "\r\n" if defined $body;
    print $sock "$req\r\n", $body // '';

    my $raw = '';
    {
        local $SIG{ALRM} = sub { die "cflb api: no answer in 10 s\n" };
        alarm 10;
        local $/;
        $raw = <$sock> // '';
        alarm 0;
    }
    close $sock;

    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})}
        or die "cflb api: not an HTTP response: \"$raw\"\n";
    my ($allow) = $head =~ /^Allow:\s*([^\r\n]*)/mi;

    return { status => $status, body => $rest // '', allow => $allow,
             json => scalar eval { decode_json($rest) } };
}


# ---------------------------------------------------------------- webhooks

# A webhook receiver on 127.0.0.1:$port (cflb_notify): answers the
# statuses of @$statuses to the first requests, one each, then 200, and
# records every request it read, before answering, as one JSON line of
# logs/webhook.log: { t (arrival, Unix seconds), status (answered),
# method, path, headers (names in lower case), body }.  Lives $secs
# seconds, or until its test block ends.
sub webhook {
    my ($port, $statuses, $secs) = @_;

    my $file = "$ServRoot/logs/webhook.log";
    unlink $file;

    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Listen => 16,
                                  ReuseAddr => 1)
        or die "cflb: webhook cannot listen on $port: $!\n";

    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        my @answers = @{ $statuses || [] };
        local $SIG{ALRM} = sub { POSIX::_exit(0) };
        alarm($secs || 30);

        while (my $c = $l->accept) {
            my $req = webhook_read($c) or next;
            $req->{status} = @answers ? shift @answers : 200;

            open my $log, '>>', $file or POSIX::_exit(1);
            print $log encode_json($req), "\n";
            close $log;

            print $c "HTTP/1.1 $req->{status} X\r\nContent-Length: 0\r\n"
                     . "Connection: close\r\n\r\n";
            close $c;
        }

        POSIX::_exit(0);
    }

    close $l;
    child($pid);

    return $pid;
}


# one request of a webhook client: head, then a Content-Length body
sub webhook_read {
    my ($c) = @_;

    local $/ = "\r\n";

    my $line = <$c> // return undef;
    my ($method, $path) = $line =~ m{^(\S+) (\S+) HTTP/1\.1\r\n$}
        or return undef;
    my %h;

    while (defined($line = <$c>) && $line ne "\r\n") {
        $line =~ s/\r\n$//;
        my ($k, $v) = split /:\s*/, $line, 2;
        $h{lc $k} = $v;
    }

    my $body = '';
    read($c, $body, $h{'content-length'} || 0);

    return { t => time, method => $method, path => $path, headers => \%h,
             body => $body };
}


# the requests the webhook recorded, oldest first, bodies decoded into
# {event} (undef when the body is not JSON)
sub webhook_posts {
    my @posts = map { decode_json($_) } log_lines('logs/webhook.log');

    $_->{event} = eval { decode_json($_->{body}) } for @posts;

    return @posts;
}


# wait until the webhook recorded $n requests answered 2xx; returns them
# all (webhook_posts), or dies
sub wait_posts {
    my ($n, $secs) = @_;

    wait_until(sub { (grep { $_->{status} =~ /^2/ } webhook_posts()) >= $n },
               $secs)
        or die "cflb: the webhook did not get $n events in ${secs}s\n";

    return webhook_posts();
}


# ------------------------------------------------------------- dashboard

# Debian's chromium, headless, on $url: returns the DOM once the page ran
# for $o{budget} ms of virtual time (--dump-dom), or with png => FILE
# saves a screenshot of the window ($o{size}, "1280,900") there instead.
# Bounded by timeout(1); dies when chromium is missing or fails, so a
# test that needs it fails rather than skips.
sub chromium {
    my ($url, %o) = @_;

    my $bin = $ENV{TEST_NGINX_CHROMIUM} || '/usr/bin/chromium';
    die "cflb: $bin is missing (Debian's chromium, see scripts/deps.sh)\n"
        unless -x $bin;

    require File::Temp;
    my $profile = File::Temp::tempdir('cflb-chromium-XXXXXX', TMPDIR => 1,
                                      CLEANUP => 1);

    my @cmd = ('timeout', '-k', '5', '60', $bin, '--headless=new',
               '--no-sandbox', '--disable-gpu', '--no-first-run',
               '--disable-extensions', '--disable-background-networking',
               '--hide-scrollbars', "--user-data-dir=$profile",
               '--window-size=' . ($o{size} || '1280,900'),
               '--virtual-time-budget=' . ($o{budget} || 4000),
               $o{png} ? "--screenshot=$o{png}" : '--dump-dom', $url);

    my $pid = open(my $fh, '-|');
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec(@cmd) or POSIX::_exit(127);
    }

    record_pid($pid, $bin);
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    forget_pid($pid);

    die "cflb: chromium on $url failed (status $?)\n" if $?;
    die "cflb: chromium wrote no screenshot to $o{png}\n"
        if $o{png} && !-s $o{png};

    return $out;
}


# A PNG file decoded (8-bit RGB or RGBA, not interlaced: what chromium
# writes): { width, height, bpp, pixels => the unfiltered rows, packed }
sub png_read {
    my ($file) = @_;

    require Compress::Zlib;

    open my $fh, '<:raw', $file or die "cflb: $file: $!\n";
    my $data = do { local $/; <$fh> };
    close $fh;

    die "cflb: $file is not a PNG\n"
        unless substr($data, 0, 8) eq "\x89PNG\r\n\x1a\n";

    my ($pos, $idat, %h) = (8, '');

    while ($pos + 8 <= length $data) {
        my ($len, $type) = unpack 'N a4', substr($data, $pos, 8);
        my $body = substr($data, $pos + 8, $len);
        $pos += 12 + $len;

        if ($type eq 'IHDR') {
            @h{qw(width height depth ctype compr filter interlace)}
                = unpack 'N N C C C C C', $body;

        } elsif ($type eq 'IDAT') {
            $idat .= $body;

        } elsif ($type eq 'IEND') {
            last;
        }
    }

    die "cflb: $file: not 8-bit RGB(A), or interlaced\n"
        unless $h{depth} == 8 && ($h{ctype} == 2 || $h{ctype} == 6)
               && !$h{interlace};

    my $bpp = $h{ctype} == 6 ? 4 : 3;
    my $stride = $h{width} * $bpp;
    my $raw = Compress::Zlib::uncompress($idat)
        // die "cflb: $file: bad image data\n";

    die "cflb: $file: the image data is short\n"
        unless length $raw == $h{height} * ($stride + 1);

    my @prev = (0) x $stride;
    my $pixels = '';

    for my $y (0 .. $h{height} - 1) {
        my $f = ord substr($raw, $y * ($stride + 1), 1);
        my @cur = unpack 'C*', substr($raw, $y * ($stride + 1) + 1, $stride);

        png_unfilter($f, \@cur, \@prev, $bpp);
        $pixels .= pack 'C*', @cur;
        @prev = @cur;
    }

    return { width => $h{width}, height => $h{height}, bpp => $bpp,
             pixels => $pixels };
}


# undo one scanline's filter (PNG spec, 9.2) in place
sub png_unfilter {
    my ($f, $cur, $prev, $bpp) = @_;

    my $n = @$cur;

    return if $f == 0;

    if ($f == 1) {
        $cur->[$_] = ($cur->[$_] + $cur->[$_ - $bpp]) & 255 for $bpp .. $n - 1;

    } elsif ($f == 2) {
        $cur->[$_] = ($cur->[$_] + $prev->[$_]) & 255 for 0 .. $n - 1;

    } elsif ($f == 3) {
        for my $i (0 .. $n - 1) {
            my $a = $i >= $bpp ? $cur->[$i - $bpp] : 0;
            $cur->[$i] = ($cur->[$i] + (($a + $prev->[$i]) >> 1)) & 255;
        }

    } elsif ($f == 4) {
        for my $i (0 .. $n - 1) {
            my ($a, $c) = $i >= $bpp ? ($cur->[$i - $bpp], $prev->[$i - $bpp])
                                     : (0, 0);
            my $b = $prev->[$i];
            my $p = $a + $b - $c;
            my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $c));
            my $pred = ($pa <= $pb && $pa <= $pc) ? $a : ($pb <= $pc ? $b : $c);
            $cur->[$i] = ($cur->[$i] + $pred) & 255;
        }

    } else {
        die "cflb: PNG filter type $f is not defined\n";
    }
}


# how many pixels of a png_read() image are within $tol of the colour
# "#rrggbb" in each of red, green and blue
sub png_count {
    my ($img, $hex, $tol) = @_;

    my @want = map { hex } $hex =~ /^#(..)(..)(..)$/ or die "cflb: $hex\n";
    my ($px, $bpp, $n) = ($img->{pixels}, $img->{bpp}, 0);

    for (my $i = 0; $i < length $px; $i += $bpp) {
        my ($r, $g, $b) = unpack 'C3', substr($px, $i, 3);
        $n++ if abs($r - $want[0]) <= $tol && abs($g - $want[1]) <= $tol
                && abs($b - $want[2]) <= $tol;
    }

    return $n;
}


# held requests, black holes and second nodes end with their test block
add_test_cleanup_handler(sub { reap(); stop_instances() });

END { reap(); stop_instances(); forget_pid($$) if $$ == $Self }

1;
