# vim:set ft= ts=4 sw=4 et fdm=marker:

# The bad input table of location steering (docs/geo.md): each row is a
# configuration that "nginx -t" must refuse, in http{} and in stream{}
# alike (the directives are the same), with the exact message: the file,
# the line of the directive at fault and the token.  A few rows are
# warnings that let the test succeed.  (A plain Test::More file, as
# t/090: the line numbers are those of a file this test writes.)
#
# Each row: a name, the lines inside http{} or stream{} (the line marked
# "#<" is the one the message must name), and the message expected after
# "[emerg] " (or "[warn] "), where CONF stands for the file and LINE for
# the marked line; " in CONF:LINE" is added unless the row says where.

use strict;
use warnings;

use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;

use CflbGeo;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my @modules = grep { length } split /\s+/, $ENV{TEST_NGINX_LOAD_MODULES} || '';

my $dir = tempdir('cflb-geo-errors-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;

# copies of the modules the user "nobody" can load: the checkout may be
# where only root reads (/root/project on a fresh machine)
for my $m (@modules) {
    my $copy = "$dir/" . ($m =~ s{.*/}{}r);
    system('cp', $m, $copy) == 0 or die "cp $m: $?";
    chmod 0644, $copy;
    $m = $copy;
}

my $city = CflbGeo::db('city.mmdb', 'city');
my $country = CflbGeo::db('country.mmdb', 'country');

# a corrupt file, a truncated database, an empty file, a directory, and a
# database that only root may read
my $garbage = "$dir/garbage.mmdb";
my $cut = "$dir/cut.mmdb";
my $empty = "$dir/empty.mmdb";
my $subdir = "$dir/dir.mmdb";
my $secret = "$dir/secret.mmdb";
{
    open my $fh, '>', $garbage or die $!;
    print $fh pack('N*', map { $_ * 2654435761 % 4294967296 } 1 .. 300);
    close $fh;

    open my $in, '<:raw', $city or die $!;
    my $bytes = do { local $/; <$in> };
    open my $out, '>:raw', $cut or die $!;
    print $out substr($bytes, 0, length($bytes) - 100);
    close $out;

    open $out, '>', $empty or die $!;
    close $out;

    mkdir $subdir or die $!;

    open $out, '>:raw', $secret or die $!;
    print $out $bytes;
    close $out;
    chmod 0600, $secret;
}

my $pools = <<'_EOC_';
    cflb_zone cflb 1m;
    cflb_pool eu { endpoint a 127.0.0.1:1991; coordinates 50.11 8.68; }
    cflb_pool us { endpoint a 127.0.0.1:1993; coordinates 39.04 -77.49; }
    cflb_pool nc { endpoint a 127.0.0.1:1995; }
_EOC_

my $regions = 'WNAM ENAM WEU EEU NSAM SSAM OC ME NAF SAF SAS SEAS NEAS';

my @rows = (
    # maps: keys
    [ 'unknown region code', <<'_EOC_',
    cflb_lb w {
        pools us;
        region_pools WEU=eu XX=us;  #<
    }
_EOC_
      qq{unknown region "XX" in region_pools, expected one of $regions} ],

    [ 'a region code of older pages (IN, now SAS)', <<'_EOC_',
    cflb_lb w { pools us; region_pools IN=eu; }  #<
_EOC_
      qq{unknown region "IN" in region_pools, expected one of $regions} ],

    [ 'a three-letter country code', <<'_EOC_',
    cflb_lb w { pools us; country_pools USA=us; }  #<
_EOC_
      'invalid country "USA" in country_pools, expected an ISO 3166-1 '
      . 'alpha-2 code such as DE or US' ],

    [ 'a country code with a digit', <<'_EOC_',
    cflb_lb w { pools us; country_pools D1=eu; }  #<
_EOC_
      'invalid country "D1" in country_pools, expected an ISO 3166-1 '
      . 'alpha-2 code such as DE or US' ],

    [ 'a code that is not a country (EU)', <<'_EOC_',
    cflb_lb w { pools us; country_pools EU=eu; }  #<
_EOC_
      'invalid country "EU" in country_pools, expected an ISO 3166-1 '
      . 'alpha-2 code such as DE or US' ],

    [ 'an entry without "="', <<'_EOC_',
    cflb_lb w { pools us; pop_pools LAX; }  #<
_EOC_
      'invalid pop_pools entry "LAX", expected KEY=POOL or '
      . 'KEY=POOL,POOL...' ],

    [ 'an entry without pools', <<'_EOC_',
    cflb_lb w { pools us; country_pools DE=; }  #<
_EOC_
      'invalid country_pools entry "DE=", expected KEY=POOL or '
      . 'KEY=POOL,POOL...' ],

    [ 'an empty pool name at the end of a list', <<'_EOC_',
    cflb_lb w { pools us; region_pools WEU=eu,; }  #<
_EOC_
      'empty pool name in region_pools entry "WEU=eu,"' ],

    [ 'an empty pool name inside a list', <<'_EOC_',
    cflb_lb w { pools us; region_pools WEU=eu,,us; }  #<
_EOC_
      'empty pool name in region_pools entry "WEU=eu,,us"' ],

    # maps: pools
    [ 'a pool no cflb_pool defines', <<'_EOC_',
    cflb_lb w {
        pools us;
        country_pools DE=eu,nope;  #<
    }
_EOC_
      'unknown pool "nope" in country_pools entry "DE" of cflb_lb "w" '
      . 'in CONF:LINE', 'no line' ],

    [ 'a pool twice in one list', <<'_EOC_',
    cflb_lb w { pools us; pop_pools FRA=eu,us,eu; }  #<
_EOC_
      'pool "eu" is listed twice in pop_pools entry "FRA=eu,us,eu"' ],

    # maps: repeated
    [ 'a region mapped twice (letter case does not matter)', <<'_EOC_',
    cflb_lb w {
        pools us;
        region_pools WEU=eu ENAM=us
                     weu=us;  #<
    }
_EOC_
      '"weu" is mapped twice in region_pools' ],

    [ 'a country mapped twice', <<'_EOC_',
    cflb_lb w { pools us; country_pools DE=eu FR=eu DE=us; }  #<
_EOC_
      '"DE" is mapped twice in country_pools' ],

    [ 'a PoP mapped twice', <<'_EOC_',
    cflb_lb w { pools us; pop_pools LAX=us lax=eu; }  #<
_EOC_
      '"lax" is mapped twice in pop_pools' ],

    [ 'a map directive twice', <<'_EOC_',
    cflb_lb w {
        pools us;
        country_pools DE=eu;
        country_pools FR=eu;  #<
    }
_EOC_
      '"country_pools" directive is duplicate' ],

    [ 'a map outside cflb_lb', <<'_EOC_',
    upstream u { server 127.0.0.1:1991; region_pools WEU=eu; }  #<
_EOC_
      '"region_pools" directive is allowed only inside cflb_lb' ],

    # coordinates
    [ 'a latitude out of range', <<'_EOC_',
    cflb_pool x { endpoint a 127.0.0.1:1991; coordinates 90.5 0; }  #<
_EOC_
      'invalid latitude "90.5" in coordinates of cflb_pool "x": '
      . 'latitude out of range -90 to 90' ],

    [ 'a longitude out of range', <<'_EOC_',
    cflb_pool x {
        endpoint a 127.0.0.1:1991;
        coordinates 0 -180.5;  #<
    }
_EOC_
      'invalid longitude "-180.5" in coordinates of cflb_pool "x": '
      . 'longitude out of range -180 to 180' ],

    [ 'a coordinate in exponent notation', <<'_EOC_',
    cflb_pool x { endpoint a 127.0.0.1:1991; coordinates 1e1 0; }  #<
_EOC_
      'invalid latitude "1e1" in coordinates of cflb_pool "x": '
      . 'invalid character at offset 1' ],

    [ 'coordinates twice', <<'_EOC_',
    cflb_pool x {
        endpoint a 127.0.0.1:1991;
        coordinates 1 2;
        coordinates 1 2;  #<
    }
_EOC_
      '"coordinates" directive is duplicate in cflb_pool "x"' ],

    [ 'cflb_node lat= out of range', <<'_EOC_',
    cflb_node pop=FRA lat=95 lon=8;  #<
_EOC_
      'invalid lat= "95" in cflb_node: latitude out of range -90 to 90' ],

    [ 'cflb_node lat= without lon=', <<'_EOC_',
    cflb_node lat=50.1;  #<
_EOC_
      'cflb_node needs both lat= and lon=, or neither' ],

    [ 'cflb_node: an unknown region', <<'_EOC_',
    cflb_node region=XX;  #<
_EOC_
      qq{unknown region "region=XX" in cflb_node, expected one of $regions} ],

    [ 'cflb_node: a parameter twice', <<'_EOC_',
    cflb_node region=WEU pop=FRA region=EEU;  #<
_EOC_
      'duplicate cflb_node parameter "region=EEU"' ],

    [ 'cflb_node: an unknown parameter', <<'_EOC_',
    cflb_node colo=FRA;  #<
_EOC_
      'invalid cflb_node parameter "colo=FRA", expected pop=, region=, '
      . 'lat= or lon=' ],

    [ 'cflb_node twice', <<'_EOC_',
    cflb_node pop=FRA;
    cflb_node region=WEU;  #<
_EOC_
      '"cflb_node" directive is duplicate' ],

    # location_strategy
    [ 'location_strategy: an unknown mode', <<'_EOC_',
    cflb_lb w { pools us; location_strategy resolver_ip; }  #<
_EOC_
      'invalid location_strategy "resolver_ip", expected client or pop' ],

    [ 'location_strategy: an unknown prefer_ecs', <<'_EOC_',
    cflb_lb w { pools us; location_strategy pop prefer_ecs=sometimes; }  #<
_EOC_
      'invalid location_strategy parameter "prefer_ecs=sometimes", '
      . 'expected prefer_ecs=always, never, proximity or geo' ],

    # proximity
    [ 'proximity: a pool without coordinates', <<'_EOC_',
    cflb_geoip2 CITY;
    cflb_lb w { pools eu nc; steering proximity; }
_EOC_
      'proximity steering of cflb_lb "w" needs coordinates on every pool, '
      . 'cflb_pool "nc" has none ("coordinates LAT LON;") in CONF:LINE',
      'no line', 'nc' ],

    [ 'proximity: no database and no cflb_node coordinates', <<'_EOC_',
    cflb_node pop=FRA region=WEU;
    cflb_lb w { pools eu us; steering proximity; }  #<
_EOC_
      'proximity steering of cflb_lb "w" needs the client\'s coordinates: '
      . 'cflb_geoip2, or cflb_node lat= lon=, in CONF:LINE', 'no line' ],

    [ 'proximity: location_strategy pop, cflb_node without coordinates',
      <<'_EOC_',
    cflb_geoip2 CITY;
    cflb_node pop=FRA;
    cflb_lb w {  #<
        pools eu us;
        steering proximity;
        location_strategy pop;
    }
_EOC_
      'proximity steering of cflb_lb "w" needs the client\'s coordinates: '
      . 'location_strategy pop takes cflb_node lat= lon=, in CONF:LINE',
      'no line' ],

    [ 'proximity: a Country database only (no coordinates in it)',
      <<'_EOC_',
    cflb_geoip2 COUNTRY;
    cflb_node lat=50 lon=8;
    cflb_lb w { pools eu us; steering proximity; }  #<
_EOC_
      'proximity steering of cflb_lb "w" needs the client\'s coordinates: '
      . 'a cflb_geoip2 database with them (City), in CONF:LINE',
      'no line' ],

    # the database file
    [ 'a missing database', <<"_EOC_",
    cflb_geoip2 $dir/missing.mmdb;  #<
_EOC_
      qq{cflb geo database "$dir/missing.mmdb": Error opening the }
      . 'specified MaxMind DB file (2: No such file or directory)' ],

    [ 'a relative name is the configuration directory\'s, and missing',
      <<'_EOC_',
    cflb_geoip2 geo/none.mmdb;  #<
_EOC_
      qq{cflb geo database "PREFIX/geo/none.mmdb": Error opening the }
      . 'specified MaxMind DB file (2: No such file or directory)' ],

    [ 'a directory', <<"_EOC_",
    cflb_geoip2 $subdir;  #<
_EOC_
      qq{cflb geo database "$subdir": An attempt to read data from the }
      . 'MaxMind DB file failed (19: No such device)' ],

    [ 'an empty file', <<"_EOC_",
    cflb_geoip2 $empty;  #<
_EOC_
      qq{cflb geo database "$empty": An attempt to read data from the }
      . 'MaxMind DB file failed (22: Invalid argument)' ],

    [ 'a file that is not a MaxMind DB', <<"_EOC_",
    cflb_geoip2 $garbage;  #<
_EOC_
      qq{cflb geo database "$garbage": The MaxMind DB file contains }
      . 'invalid metadata' ],

    [ 'a database cut short', <<"_EOC_",
    cflb_geoip2 $cut;  #<
_EOC_
      qq{cflb geo database "$cut": The MaxMind DB file's data section }
      . 'contains bad data (unknown data type or corrupt data)' ],

    # warnings: nginx -t succeeds
    [ 'maps with a steering other than geo have no effect', <<'_EOC_',
    cflb_lb w {
        pools us eu;
        steering random;
        country_pools DE=eu;  #<
    }
_EOC_
      'country_pools of cflb_lb "w" has no effect with steering random, '
      . 'only with geo, in CONF:LINE', 'warn' ],
);

# as a user other than root, a database only root may read
if ($> == 0 && -x '/usr/bin/setpriv') {
    push @rows, [ 'an unreadable database', <<"_EOC_",
    cflb_geoip2 $secret;  #<
_EOC_
        qq{cflb geo database "$secret": Error opening the specified }
        . 'MaxMind DB file (13: Permission denied)', 'nobody' ];
}


# the configuration file of a row in http{} or stream{}; returns the
# text and the marked line's number
sub conf {
    my ($sub, $body) = @_;

    $body =~ s/\bCITY\b/$city/g;
    $body =~ s/\bCOUNTRY\b/$country/g;

    my $head = join '', map({ "load_module $_;\n" } @modules),
        "error_log $dir/error.log;\n",
        "pid $dir/nginx.pid;\n",
        "events {}\n",
        "$sub {\n",
        $pools;

    my $text = $head . $body . "}\n";
    my @lines = split /\n/, $text;
    my ($line) = grep { $lines[$_ - 1] =~ /#</ } 1 .. @lines;

    return ($text, $line);
}


my $n = 0;

for my $row (@rows) {
    my ($name, $body, $want, $how, $pool) = @$row;
    $how //= '';

    for my $sub ('http', 'stream') {
        my ($text, $line) = conf($sub, $body);
        my $file = "$dir/$sub-" . ++$n . ".conf";

        # the line of a cflb_pool's own block, for a message naming it
        if (defined $pool) {
            my @l = split /\n/, $text;
            ($line) = grep { $l[$_ - 1] =~ /cflb_pool $pool / } 1 .. @l;
        }

        open my $fh, '>', $file or die "$file: $!";
        print $fh $text;
        close $fh;

        my $cmd = "$nginx -t -p $dir/ -c $file 2>&1";
        $cmd = "setpriv --reuid=nobody --regid=nogroup --clear-groups $cmd"
            if $how eq 'nobody';

        my $out = `$cmd`;
        my $rc = $?;

        (my $exp = $want) =~ s/CONF/$file/g;
        $exp =~ s/PREFIX/$dir/g;
        $exp =~ s/LINE/$line/g;

        my $level = $how eq 'warn' ? 'warn' : 'emerg';
        $exp = "[$level] $exp";
        $exp .= " in $file:$line" unless $how eq 'no line' || $how eq 'warn';

        # "nginx: [emerg] ..." before the error log is open, the log's
        # format after: "2026/01/01 00:00:00 [emerg] 12#12: ..."
        my @got = map { s/^(?:nginx: |\S+ \S+ )(\[\w+\]) (?:\d+#\d+: )?/$1 /r }
                  grep { /\[$level\]/ } split /\n/, $out;

        is($got[0] // $out, $exp, "$sub: $name");

        if ($how eq 'warn') {
            ok($rc == 0 && $out =~ /test is successful/,
               "$sub: $name: nginx -t succeeds") or diag($out);
        } else {
            ok($rc != 0 && $out =~ /test failed/, "$sub: $name: refused")
                or diag($out);
        }
    }
}

done_testing();
