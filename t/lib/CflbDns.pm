package CflbDns;

# Helpers for the DNS-only suites (t/80x-dns*.t): a block layout with the
# responder on 127.0.0.1:1953 (UDP and TCP), real clients (dig, kdig, and
# dnspython through t/lib/cflb-dns.py), a recursive resolver in front
# (unbound), TCP endpoints a monitor can check at any 127/8 address, and
# the stream part of the status document.
#
# A block with --- dns_config gets:
#   stream { <dns_config>  server { listen 1953 udp; listen 1953;
#                                   <dns_server, default "cflb_dns;"> } }
#   (--- dns_reuseport: both listens reuseport, one socket per worker)
#   http locations /status (cflb_status) and /cflb/ (cflb_api)
# and --- dns_test, Perl code run once nginx is up, whose value (text)
# is checked against --- dns_answers (or --- dns_answers_like).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use Test::Nginx::Util qw($ServerPort $ServRoot add_block_preprocessor
                         add_test_cleanup_handler);

use Cflb;

our $Port = 1953;
our $Out;
our @Children;

# the python3 that has dnspython (Debian's, when pyenv's has not)
our $Python = (grep { system("$_ -c 'import dns.message' 2>/dev/null") == 0 }
               'python3', '/usr/bin/python3')[0] // 'python3';

our $Client = abs_path('t/lib/cflb-dns.py');

add_test_cleanup_handler(\&reap);


sub blocks {
    add_block_preprocessor(sub {
        my $block = shift;

        return unless defined $block->dns_config;

        my $server = $block->dns_server // 'cflb_dns;';
        my $rp = defined $block->dns_reuseport ? ' reuseport' : '';
        my $main = ($block->main_config // '')
                   . "stream {\n" . $block->dns_config
                   . "\n    server {\n"
                   . "        listen 127.0.0.1:$Port udp$rp;\n"
                   . "        listen 127.0.0.1:$Port$rp;\n"
                   . "        $server\n    }\n}\n";

        $block->set_value('main_config', $main);

        return if defined $block->must_die;

        $block->set_value('config', ($block->config // '')
            . "\n    location = /status { cflb_status; }"
            . "\n    location /cflb/ { allow 127.0.0.1; deny all; cflb_api; }"
            . "\n    location = /dns { return 204; }\n");
        $block->set_value('request', "GET /dns\n");
        $block->set_value('error_code', 204);

        my $code = $block->dns_test // '""';
        $block->set_value('init', ($block->init // '')
            . "\nCflbDns::ready();"
            . "\n\$CflbDns::Out = eval { $code };"
            . "\n\$CflbDns::Out = \"died: \$@\" if \$@;\n");
        $block->set_value('response_body_filters',
                          sub { $CflbDns::Out =~ s/\n*\z/\n/r });
        $block->set_value('response_body', $block->dns_answers)
            if defined $block->dns_answers;
        $block->set_value('response_body_like', $block->dns_answers_like)
            if defined $block->dns_answers_like;
    });
}


# ---------------------------------------------------------------- clients

# until the responder answers over UDP and TCP (slow under valgrind)
sub ready {
    for my $tcp ('', '--tcp') {
        Cflb::wait_until(sub { py('raw', '000100000001000000000000'
                                  . '03636f6d0000060001', $tcp || ())
                               !~ /^\(none\)/ }, 60);
    }
}


# cflb-dns.py with these arguments (the port defaults to the responder's)
sub py {
    my @args = @_;

    my $cmd = join ' ', $Python, $Client, map { quote($_) } @args;
    my $out = `$cmd 2>&1`;
    chomp $out;

    return $out;
}

# one query shown as lines (see cflb-dns.py)
sub q {
    my ($name, $type, @opts) = @_;

    return py('query', $name, $type, @opts);
}

# dig, as an operator would run it: the answer section only, sorted
sub dig {
    my (@args) = @_;

    my $cmd = join ' ', 'dig', '+time=2', '+tries=1', '+norec',
                        "-p $Port", '@127.0.0.1', map { quote($_) } @args;
    my @lines = grep { length } split /\n/, `$cmd 2>&1`;

    return join '', map { s/\s+/ /g; "$_\n" } sort @lines;
}

# kdig, with the options given; the lines matching $re, tabs squeezed
sub kdig {
    my ($re, @args) = @_;

    my $cmd = join ' ', 'kdig', '+time=2', '+retry=0', '+norec',
                        "-p $Port", '@127.0.0.1', map { quote($_) } @args;
    my @lines = grep { /$re/ } split /\n/, `$cmd 2>&1`;

    return join '', map { s/\s+/ /g; s/ $//; "$_\n" } @lines;
}

sub quote {
    my ($s) = @_;

    return $s if $s =~ m{^[\w@.:/=+,-]+$};
    $s =~ s/'/'\\''/g;

    return "'$s'";
}


# ---------------------------------------------------------------- status

# the stream part of the status document
sub status {
    return Cflb::status()->{stream};
}

# the "dns" object of load balancer $name in the status document
sub lb_dns {
    my ($name) = @_;

    for (@{ status()->{lbs} }) {
        return $_->{dns} if $_->{name} eq $name;
    }

    die "cflb: no stream lb $name in the status\n";
}

# the stream endpoint "pool/endpoint" of the status document
sub endpoint {
    my ($name) = @_;

    my ($pool, $ep) = split m{/}, $name;

    for my $p (@{ status()->{pools} }) {
        next unless $p->{name} eq $pool;
        for (@{ $p->{endpoints} }) {
            return $_ if $_->{name} eq $ep;
        }
    }

    die "cflb: no stream endpoint $name in the status\n";
}

sub wait_health {
    my ($name, $health, $secs) = @_;

    Cflb::wait_until(sub { endpoint($name)->{health} eq $health }, $secs)
        or die "cflb: $name did not become $health in ${secs}s\n";
}


# ---------------------------------------------------------------- servers

# a TCP listener at $addr:$port that accepts and closes connections, for
# a "type tcp" monitor; lives until killed (reap, or kill_child)
sub listener {
    my ($addr, $port) = @_;

    my $l = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port,
                                  Listen => 64, ReuseAddr => 1)
        or die "cflb: cannot listen on $addr:$port: $!\n";

    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        local $SIG{ALRM} = sub { POSIX::_exit(0) };
        alarm 120;
        while (my $c = $l->accept) {
            close $c;
        }
        POSIX::_exit(0);
    }

    close $l;
    push @Children, $pid;

    return $pid;
}

sub kill_child {
    my ($pid) = @_;

    kill 'KILL', $pid;
    waitpid($pid, 0);
    @Children = grep { $_ != $pid } @Children;
}

sub reap {
    kill 'KILL', @Children if @Children;
    waitpid($_, 0) for @Children;
    @Children = ();
}


# unbound on 127.0.0.1:$port, a stub zone example.com pointing at the
# responder, and the client subnet option sent to it (subnetcache);
# returns once it answers; stopped by reap
sub unbound {
    my ($port, $extra) = @_;

    # not under the server root, which the next block removes
    my $dir = tempdir('cflb-unbound-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    open my $fh, '>', "$dir/unbound.conf" or die "cflb: $dir: $!\n";
    print $fh <<"EOF";
server:
    interface: 127.0.0.1\@$port
    port: $port
    do-ip6: no
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    module-config: "subnetcache iterator"
    send-client-subnet: 127.0.0.1
    client-subnet-always-forward: yes
    max-client-subnet-ipv4: 24
    qname-minimisation: no
    harden-referral-path: no
    target-fetch-policy: "0 0 0 0 0"
$extra
stub-zone:
    name: "example.com"
    stub-addr: 127.0.0.1\@$Port
EOF
    close $fh;

    my $pid = fork();
    die "cflb: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', "$dir/unbound.out";
        open STDERR, '>&', \*STDOUT;
        { exec 'unbound', '-d', '-c', "$dir/unbound.conf" };
        POSIX::_exit(127);
    }

    push @Children, $pid;

    Cflb::wait_until(sub {
        `dig +time=1 +tries=1 -p $port \@127.0.0.1 example.com SOA 2>&1`
            =~ /status: NOERROR/
    }, 10) or die "cflb: unbound did not answer: "
                  . `cat $dir/unbound.out` . "\n";

    return $pid;
}


1;
