# vim:set ft= ts=4 sw=4 et fdm=marker:

# Every file in conf-examples/ passes "nginx -t" with the built modules,
# so the examples cannot rot.  (A plain Test::More file: Test::Nginx writes
# its own nginx.conf, and these are whole files.)

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use Test::More;

my $top = abs_path('.');
my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my @examples = sort glob("$top/conf-examples/*.conf");

# a prefix whose modules/ holds the built modules and the stream module
my $prefix = tempdir(CLEANUP => 1);
mkdir "$prefix/modules" or die "$prefix/modules: $!";
mkdir "$prefix/logs" or die "$prefix/logs: $!";

for my $so (split /\s+/, $ENV{TEST_NGINX_LOAD_MODULES} || '') {
    next unless $so;
    my ($name) = $so =~ m{([^/]+)$};
    symlink $so, "$prefix/modules/$name" or die "symlink $so: $!";
}

# Each example is checked as a copy in $prefix/conf/, where it would be
# installed: a relative file name in it (geo.conf's databases) is then
# relative to that directory, as nginx reads it, and not to the source
# tree.  geo.conf names two small databases, built here from
# conf-examples/geo-clients.txt as the demo builds them.
mkdir "$prefix/conf" or die "$prefix/conf: $!";

if (-f "$top/conf-examples/geo-clients.txt") {
    mkdir "$prefix/conf/geo" or die "$prefix/conf/geo: $!";

    for my $kind ('city', 'asn') {
        system("perl $top/t/lib/cflb-mmdb.pl $kind "
               . "$prefix/conf/geo/clients-$kind.mmdb "
               . "< $top/conf-examples/geo-clients.txt") == 0
            or die "cflb-mmdb.pl $kind failed\n";
    }
}

ok(@examples >= 5, "there are examples to check");

for my $example (@examples) {
    my ($name) = $example =~ m{([^/]+)$};
    my $conf = "$prefix/conf/$name";

    system('cp', $example, $conf) == 0 or die "cp $example: $?";

    my $out = `$nginx -t -p $prefix/ -c $conf 2>&1`;

    ok($? == 0 && $out =~ /test is successful/, "nginx -t $name")
        or diag($out);
}

done_testing();
