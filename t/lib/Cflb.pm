package Cflb;

# Helpers for the cflb Test::Nginx suites: a bounded keep-alive HTTP load
# client, requests held open in the background, and filters that turn the
# cflb_status document into lines a test can compare exactly.

use strict;
use warnings;

use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Test::Nginx::Util qw($ServerPort $ServRoot);

our @children;
our %note;


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


sub connect_to {
    my ($port) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Timeout => 5)
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
    my ($path, $n, $secs, $port) = @_;

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

        push @children, $pid;
    }

    # let the requests reach the balancer
    wait_until(sub { active_total() >= $n }, 5);
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

    push @children, $pid;
    sleep 0.2;
}


sub reap {
    kill 'KILL', @children if @children;
    waitpid($_, 0) for @children;
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


END { reap() }

1;
