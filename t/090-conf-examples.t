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

ok(@examples >= 5, "there are examples to check");

for my $conf (@examples) {
    my $out = `$nginx -t -p $prefix/ -c $conf 2>&1`;
    my ($name) = $conf =~ m{([^/]+)$};

    ok($? == 0 && $out =~ /test is successful/, "nginx -t $name")
        or diag($out);
}

done_testing();
