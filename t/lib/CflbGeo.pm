package CflbGeo;

# Helpers for the location steering suites (t/70x-geo*.t): test databases
# written once per test file (t/lib/cflb-mmdb.pl) into a directory that
# lives as long as the file runs, a background load from one client
# address that counts every answer (the reload tests), a slow HTTP backend
# whose /health answers after a delay read from a file (dynamic_latency:
# tc netem is not available), and great-circle distances to check the
# kilometres of $cflb_trace.  Every process started is a Cflb child
# (recorded in a pid file, ended by Cflb::reap).

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

use Cflb;

require "cflb-mmdb.pl";


# the databases and the files tests change live here, outside the server
# root, which Test::Nginx empties before each block
our $Dir = tempdir('cflb-geo-XXXXXX', TMPDIR => 1, CLEANUP => 1);


# Where the test clients are: one loopback address each (the whole of
# 127/8 is local on lo, so a client picks its address with a bind).
# Columns as cflb-mmdb.pl reads them: network, country, subdivision,
# latitude, longitude, ASN ("-": absent).  127.0.0.99 is in no network.
our $Clients = <<'_EOC_';
127.0.0.1    DE  -   50.1109   8.6821    3320     # Frankfurt
127.0.0.2    US  CA  34.0522   -118.2437 15169    # Los Angeles: WNAM
127.0.0.3    US  NY  40.7128   -74.0060  7018     # New York: ENAM
127.0.0.4    CA  BC  49.2827   -123.1207 852      # Vancouver: WNAM
127.0.0.5    JP  -   35.6762   139.6503  2516     # Tokyo: NEAS
127.0.0.6    FR  -   48.8566   2.3522    -        # Paris: WEU
127.0.0.7    BR  -   -23.5558  -46.6396  28573    # Sao Paulo: SSAM
127.0.0.8    AU  -   -33.8688  151.2093  1221     # Sydney: OC
127.0.0.9    US  -   -         -         -        # US, no subdivision
127.0.0.10   EU  -   -         -         -        # not a country
127.0.0.11   GB  -   51.5074   -0.1278   -        # London: WEU
_EOC_


# write a database of $flavour (cflb-mmdb.pl's: city, country, asn,
# iploc, iploc-city, all) from $text (default $Clients) as $Dir/$name;
# returns its path
sub db {
    my ($name, $flavour, $text, $ipv) = @_;

    return CflbMmdb::write_db("$Dir/$name", $flavour, $text // $Clients,
                              $ipv);
}


# the same, written beside and renamed over $Dir/$name: a process that
# has the old file mapped keeps reading the old file (how an operator
# must replace a database, docs/geo.md)
sub replace_db {
    my ($name, $flavour, $text, $ipv) = @_;

    db("$name.new", $flavour, $text, $ipv);
    rename "$Dir/$name.new", "$Dir/$name"
        or die "cflb-geo: rename $Dir/$name: $!\n";

    return "$Dir/$name";
}


# ---------------------------------------------------------------- load

# A background client: GET $path on a new connection from address $from,
# again and again, until stop_load(); each answer counted by body (status
# other than 200: "status N", no answer: "failed").  Returns a handle.
sub start_load {
    my ($port, $path, $from) = @_;

    my $stop = "$Dir/load-stop.$$." . int(rand 1e9);
    my $out = "$stop.out";

    my $pid = fork();
    die "cflb-geo: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        my %tally;
        my $deadline = time + 60;

        while (!-e $stop && time < $deadline) {
            my $r = eval { Cflb::get(port => $port, path => $path,
                                     from => $from) };
            my $k = !$r ? 'failed'
                    : $r->{status} == 200 ? $r->{body}
                    : "status $r->{status}";
            $tally{$k}++;
        }

        open my $fh, '>', "$out.tmp" or POSIX::_exit(1);
        print $fh map { "$_\t$tally{$_}\n" } sort keys %tally;
        close $fh;
        rename "$out.tmp", $out;
        POSIX::_exit(0);
    }

    Cflb::child($pid);

    return { pid => $pid, stop => $stop, out => $out };
}


# stop a background client; returns its tally { answer => count }
sub stop_load {
    my ($h) = @_;

    open my $fh, '>', $h->{stop} or die "cflb-geo: $h->{stop}: $!\n";
    close $fh;

    Cflb::wait_until(sub { -e $h->{out} }, 20)
        or die "cflb-geo: the background load did not stop\n";

    waitpid($h->{pid}, 0);
    Cflb::forget_pid($h->{pid});
    @Cflb::children = grep { $_ != $h->{pid} } @Cflb::children;

    open my $fh2, '<', $h->{out} or die "cflb-geo: $h->{out}: $!\n";
    my %tally = map { chomp; split /\t/ } <$fh2>;

    return \%tally;
}


# ------------------------------------------------------- slow backend

# An HTTP/1.x server on 127.0.0.1:$port, one process and no fork per
# connection (a fork costs milliseconds, which would be noise in the
# round trips measured): GET /health is answered "ok" after the delay
# (in milliseconds) that the file $Dir/delay-$name holds when the probe
# arrives, and logged in $Dir/probes-$name (one line per probe, at its
# arrival); anything else is answered "$name" at once.  Lives $secs
# seconds or until its test block ends.  set_delay() changes the delay.
sub slow_backend {
    my ($port, $name, $delay, $secs) = @_;

    set_delay($name, $delay // 0);
    unlink "$Dir/probes-$name";

    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Listen => 128,
                                  ReuseAddr => 1, Blocking => 0)
        or die "cflb-geo: cannot listen on $port: $!\n";

    my $pid = fork();
    die "cflb-geo: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';
        serve_slow($l, $name, time + ($secs || 60));
        POSIX::_exit(0);
    }

    close $l;
    Cflb::child($pid);

    return $pid;
}


# the event loop of slow_backend(): connections read until the end of
# the head, then answered at once or at their due time
sub serve_slow {
    my ($l, $name, $deadline) = @_;

    my $sel = IO::Select->new($l);
    my (%in, @due);

    while (time < $deadline) {
        my $wait = 0.05;
        $wait = $due[0][0] - time if @due && $due[0][0] - time < $wait;
        $wait = 0 if $wait < 0;

        for my $s ($sel->can_read($wait)) {
            if ($s == $l) {
                while (my $c = $l->accept) {
                    $c->blocking(0);
                    $sel->add($c);
                    $in{$c} = '';
                }
                next;
            }

            my $n = sysread($s, $in{$s}, 4096, length $in{$s});

            if (!$n) {
                $sel->remove($s);
                delete $in{$s};
                close $s;
                next;
            }

            next unless $in{$s} =~ /\r?\n\r?\n/;

            my ($path) = $in{$s} =~ m{^[A-Z]+ (\S+)};
            my ($at, $body) = (time, $name);

            if (defined $path && $path eq '/health') {
                if (open my $log, '>>', "$Dir/probes-$name") {
                    syswrite($log, sprintf("%.3f\n", $at));
                    close $log;
                }

                $at += delay($name) / 1000;
                $body = 'ok';
            }

            $sel->remove($s);
            delete $in{$s};
            @due = sort { $a->[0] <=> $b->[0] } @due, [$at, $s, $body];
        }

        while (@due && $due[0][0] <= time) {
            my (undef, $c, $body) = @{ shift @due };
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: "
                         . length($body) . "\r\nConnection: close\r\n\r\n"
                         . $body);
            close $c;
        }
    }
}


sub set_delay {
    my ($name, $ms) = @_;

    my $f = "$Dir/delay-$name";
    open my $fh, '>', "$f.tmp" or die "cflb-geo: $f: $!\n";
    print $fh "$ms\n";
    close $fh;
    rename "$f.tmp", $f or die "cflb-geo: $f: $!\n";
}


sub delay {
    my ($name) = @_;

    open my $fh, '<', "$Dir/delay-$name" or return 0;
    my $ms = <$fh> // 0;
    chomp $ms;

    return $ms;
}


# the arrival times of the probes $name received so far
sub probes {
    my ($name) = @_;

    open my $fh, '<', "$Dir/probes-$name" or return ();
    my @t = <$fh>;
    chomp @t;

    return @t;
}


# ---------------------------------------------------------- distances

# great-circle distance in km by the haversine formula, on the mean
# Earth radius cflb uses (IUGG, 6371.0088 km)
sub km {
    my ($lat1, $lon1, $lat2, $lon2) = @_;

    my $r = 3.14159265358979 / 180;
    my $a = sin(($lat2 - $lat1) * $r / 2) ** 2
            + cos($lat1 * $r) * cos($lat2 * $r)
              * sin(($lon2 - $lon1) * $r / 2) ** 2;

    return 2 * 6371.0088 * atan2(sqrt($a), sqrt(1 - $a));
}


1;
