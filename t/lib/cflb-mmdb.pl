#!/usr/bin/perl
#
# Small MaxMind DB files for the tests, written with Debian's
# libmaxmind-db-writer-perl from a compact description:
#
#   # network     country  subdivision  latitude  longitude  asn
#   127.0.0.1     DE       -            50.1109   8.6821     3320
#   127.0.0.2/31  US       CA           34.0522   -118.2437  15169
#   ::1           JP       -            35.6762   139.6503   -
#
# "-" is absent; a bare address is a /32 or /128.  Flavours:
#
#   city      GeoIP2-City layout: country, registered_country,
#             subdivisions, location
#   country   GeoIP2-Country layout: country, registered_country
#   asn       GeoLite2-ASN layout: autonomous_system_number
#   iploc     ip-location-db's country layout: country_code
#   iploc-city  ip-location-db's city layout: country_code, latitude,
#             longitude
#   all       the City layout plus autonomous_system_number, under a type
#             name that says nothing (the "same file" ASN case)
#
# From a test:   require "cflb-mmdb.pl";   (prove -I t/lib)
#                CflbMmdb::write_db($path, $flavour, $text, $ip_version);
# From a shell:  perl t/lib/cflb-mmdb.pl [--ip-version 4|6] FLAVOUR OUT < DESC
#                perl t/lib/cflb-mmdb.pl --selftest
#                perl t/lib/cflb-mmdb.pl --testdbs DIR
#                perl t/lib/cflb-mmdb.pl [--loopback CC] --tor OUT [GEOIP GEOIP6]
#                perl t/lib/cflb-mmdb.pl [--loopback CC] --tor-city OUT [...]
#
# --testdbs writes every flavour, IPv6 and IPv4, from the self-test's
# description as DIR/FLAVOUR-6.mmdb and DIR/FLAVOUR-4.mmdb (the lookup
# check in bench/ reads them).  --tor writes a full-size Country database
# from Debian's tor-geoipdb ranges (/usr/share/tor/geoip and geoip6) for
# benchmarks; --tor-city the same ranges as GeoIP2-City-sized records
# (names in eight languages, continent, location, a subdivision for the
# US and Canada) with made-up places, to measure the City lookup path.
# --loopback CC adds 127.0.0.0/8 in country CC (with a made-up place in
# the City layout): bench/run.sh's clients all come from 127.0.0.1.
#
# The self-test writes every flavour and reads each record back with
# mmdblookup (Debian's mmdb-bin, libmaxminddb), ending with the line
# "cflb-mmdb: N passed, M failed".

package CflbMmdb;

use strict;
use warnings;

use File::Temp qw(tempdir);
use MaxMind::DB::Writer::Tree;


my %TYPES = (
    country                        => 'map',
    registered_country             => 'map',
    location                       => 'map',
    names                          => 'map',
    subdivisions                   => [ 'array', 'map' ],
    iso_code                       => 'utf8_string',
    en                             => 'utf8_string',
    country_code                   => 'utf8_string',
    latitude                       => 'double',
    longitude                      => 'double',
    accuracy_radius                => 'uint16',
    city                           => 'map',
    continent                      => 'map',
    code                           => 'utf8_string',
    geoname_id                     => 'uint32',
    time_zone                      => 'utf8_string',
    de                             => 'utf8_string',
    es                             => 'utf8_string',
    fr                             => 'utf8_string',
    ja                             => 'utf8_string',
    'pt-BR'                        => 'utf8_string',
    ru                             => 'utf8_string',
    'zh-CN'                        => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

my %DB_TYPE = (
    city         => 'GeoIP2-City',
    country      => 'GeoIP2-Country',
    asn          => 'GeoLite2-ASN',
    iploc        => 'country',
    'iploc-city' => 'city',
    all          => 'cflb-test',
);


# [ { network, country, subdivision, lat, lon, asn }, ... ]
sub parse_desc {
    my ($text) = @_;
    my @rows;

    for my $line ( split /\n/, $text ) {
        $line =~ s/#.*//;
        next if $line !~ /\S/;

        my @f = split ' ', $line;
        die "cflb-mmdb: 6 fields expected: $line\n" if @f != 6;

        my %r;
        @r{qw(network country subdivision lat lon asn)}
            = map { $_ eq '-' ? undef : $_ } @f;

        if ( $r{network} !~ m{/} ) {
            $r{network} .= $r{network} =~ /:/ ? '/128' : '/32';
        }

        push @rows, \%r;
    }

    return \@rows;
}


sub record {
    my ( $flavour, $r ) = @_;
    my %d;

    if ( $flavour eq 'asn' ) {
        return undef if !defined $r->{asn};
        return {
            autonomous_system_number       => $r->{asn} + 0,
            autonomous_system_organization => "AS$r->{asn}",
        };
    }

    if ( $flavour =~ /^iploc/ ) {
        $d{country_code} = $r->{country} if defined $r->{country};

        if ( $flavour eq 'iploc-city' && defined $r->{lat} ) {
            $d{latitude}  = $r->{lat} + 0;
            $d{longitude} = $r->{lon} + 0;
        }

        return %d ? \%d : undef;
    }

    if ( defined $r->{country} ) {
        $d{country} = {
            iso_code => $r->{country},
            names    => { en => "country $r->{country}" },
        };
        $d{registered_country} = { iso_code => $r->{country} };
    }

    if ( $flavour ne 'country' ) {
        if ( defined $r->{subdivision} ) {
            $d{subdivisions} = [ { iso_code => $r->{subdivision} } ];
        }

        if ( defined $r->{lat} ) {
            $d{location} = {
                latitude        => $r->{lat} + 0,
                longitude       => $r->{lon} + 0,
                accuracy_radius => 20,
            };
        }
    }

    if ( $flavour eq 'all' && defined $r->{asn} ) {
        $d{autonomous_system_number} = $r->{asn} + 0;
    }

    return %d ? \%d : undef;
}


sub new_tree {
    my ( $db_type, $ip_version ) = @_;

    return MaxMind::DB::Writer::Tree->new(
        ip_version            => $ip_version,
        record_size           => 28,
        database_type         => $db_type,
        languages             => ['en'],
        description           => { en => 'cflb test database' },
        map_key_type_callback => sub { $TYPES{ $_[0] } },

        # the tests live on 127.0.0.0/8 and ::1, which the writer would
        # otherwise leave out as reserved
        remove_reserved_networks => 0,
    );
}


sub write_db {
    my ( $path, $flavour, $text, $ip_version ) = @_;

    $ip_version //= 6;
    die "cflb-mmdb: unknown flavour \"$flavour\"\n"
        if !exists $DB_TYPE{$flavour};

    my $tree = new_tree( $DB_TYPE{$flavour}, $ip_version );

    for my $r ( @{ parse_desc($text) } ) {
        next if $ip_version == 4 && $r->{network} =~ /:/;

        my $data = record( $flavour, $r );
        $tree->insert_network( $r->{network}, $data ) if $data;
    }

    open my $fh, '>:raw', $path or die "cflb-mmdb: $path: $!\n";
    $tree->write_tree($fh);
    close $fh or die "cflb-mmdb: $path: $!\n";

    return $path;
}


# the value at a path as mmdblookup prints it, or undef if absent

sub lookup {
    my ( $path, $ip, @keys ) = @_;

    my $out = qx(mmdblookup --file '$path' --ip '$ip' @keys 2>&1);

    return undef if $? != 0 || $out =~ /Could not find|No entry|error/i;
    return $1 if $out =~ /"(.*)" <utf8_string>/;
    return $1 + 0 if $out =~ /([-\d.e+]+) <(?:double|float)>/;
    return $1 + 0 if $out =~ /(\d+) <uint\d+>/;

    return undef;
}


my $SELFTEST_DESC = <<'END';
# network       country  subdivision  lat        lon        asn
127.0.0.1       DE       -            50.1109    8.6821     3320
127.0.0.2       US       CA           34.0522    -118.2437  15169
127.0.0.3       US       NY           40.7128    -74.0060   7018
127.0.0.4       CA       BC           49.2827    -123.1207  852
127.0.0.5       JP       -            -          -          -
127.0.0.16/28   BR       -            -23.5558   -46.6396   28573
::1             AU       -            -33.8688   151.2093   1221
2001:db8::/32   SG       -            1.3521     103.8198   -
END


sub selftest {
    my $dir = tempdir( CLEANUP => 1 );
    my ( $pass, $fail ) = ( 0, 0 );

    my $check = sub {
        my ( $what, $got, $want ) = @_;
        my $ok
            = !defined $want ? !defined $got
            : !defined $got  ? 0
            : $want =~ /^-?[\d.]+$/ ? abs( $got - $want ) < 1e-9
            :                         $got eq $want;

        if ($ok) {
            $pass++;
        }
        else {
            $fail++;
            printf "FAIL %s: got %s, want %s\n", $what,
                $got // 'nothing', $want // 'nothing';
        }
    };

    my $rows = parse_desc($SELFTEST_DESC);

    for my $flavour ( sort keys %DB_TYPE ) {
        for my $ipv ( 6, 4 ) {
            my $f = write_db( "$dir/$flavour-$ipv.mmdb", $flavour,
                $SELFTEST_DESC, $ipv );

            my $meta = qx(mmdblookup --file '$f' --ip 127.0.0.1 --verbose);
            $check->( "$flavour/$ipv type",
                $meta =~ /Type:\s+(\S.*?)\s*$/m ? $1 : undef,
                $DB_TYPE{$flavour} );
            $check->( "$flavour/$ipv ip version",
                $meta =~ /IP version:\s+IPv(\d)/ ? $1 : undef, $ipv );

            for my $r (@$rows) {
                my ($ip) = $r->{network} =~ m{^([^/]+)};
                $ip =~ s/\.0$/.17/;     # inside 127.0.0.16/28
                $ip = '2001:db8::42' if $ip eq '2001:db8::';

                # an IPv4 database cannot answer an IPv6 address
                next if $ipv == 4 && $ip =~ /:/;

                my $d = record( $flavour, $r ) // {};
                my $t = "$flavour/$ipv $ip";

                if ( $flavour =~ /^iploc/ ) {
                    $check->( "$t country_code",
                        lookup( $f, $ip, 'country_code' ),
                        $d->{country_code} );
                    $check->( "$t latitude",
                        lookup( $f, $ip, 'latitude' ), $d->{latitude} );
                    next;
                }

                if ( $flavour eq 'asn' ) {
                    $check->( "$t asn",
                        lookup( $f, $ip, 'autonomous_system_number' ),
                        $d->{autonomous_system_number} );
                    next;
                }

                $check->( "$t country",
                    lookup( $f, $ip, qw(country iso_code) ),
                    $d->{country}{iso_code} );
                $check->( "$t subdivision",
                    lookup( $f, $ip, qw(subdivisions 0 iso_code) ),
                    $d->{subdivisions}[0]{iso_code} );
                $check->( "$t latitude",
                    lookup( $f, $ip, qw(location latitude) ),
                    $d->{location}{latitude} );
                $check->( "$t longitude",
                    lookup( $f, $ip, qw(location longitude) ),
                    $d->{location}{longitude} );
                $check->( "$t asn",
                    lookup( $f, $ip, 'autonomous_system_number' ),
                    $d->{autonomous_system_number} );
            }

            # an address in no network
            $check->( "$flavour/$ipv 127.0.0.99",
                lookup( $f, '127.0.0.99', qw(country iso_code) ), undef );
        }
    }

    print "cflb-mmdb: $pass passed, $fail failed\n";

    return $fail == 0;
}


sub write_testdbs {
    my ($dir) = @_;

    for my $flavour ( sort keys %DB_TYPE ) {
        for my $ipv ( 6, 4 ) {
            write_db( "$dir/$flavour-$ipv.mmdb", $flavour, $SELFTEST_DESC,
                $ipv );
        }
    }
}


# tor's "FIRST,LAST,CC" lines: integers for IPv4, addresses for IPv6

# a record the size and shape of a GeoLite2-City one, for country cc

sub city_record {
    my ($cc) = @_;
    my %names = map { $_ => "$cc name in $_" }
        qw(de en es fr ja pt-BR ru zh-CN);
    my $h = unpack '%16C*', $cc;

    my %r = (
        city      => { geoname_id => 1000 + $h, names => {%names} },
        continent => { code => 'XX', geoname_id => 6255148,
            names => {%names} },
        country => { geoname_id => 2000 + $h, iso_code => $cc,
            names => {%names} },
        location => {
            accuracy_radius => 100,
            latitude        => ( $h % 180 ) - 89.5,
            longitude       => ( $h * 7 % 360 ) - 179.5,
            time_zone       => 'Etc/UTC',
        },
        registered_country => { geoname_id => 2000 + $h, iso_code => $cc,
            names => {%names} },
    );

    if ( $cc eq 'US' || $cc eq 'CA' ) {
        $r{subdivisions} = [ { geoname_id => 5332921,
            iso_code => $cc eq 'US' ? 'CA' : 'BC', names => {%names} } ];
    }

    return \%r;
}


sub write_tor {
    my ( $path, $v4, $v6, $city, $loopback ) = @_;

    $v4 //= '/usr/share/tor/geoip';
    $v6 //= '/usr/share/tor/geoip6';

    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version            => 6,
        record_size           => 24,
        database_type => $city ? 'cflb-tor-City' : 'cflb-tor-Country',
        languages             => ['en'],
        description           => { en => 'cflb benchmark, from tor-geoipdb' },
        map_key_type_callback => sub { $TYPES{ $_[0] } },

        # as MaxMind's own: ::ffff:0:0/96 and 2002::/16 lead to IPv4
        alias_ipv6_to_ipv4 => 1,

        # 127/8 is reserved: kept only when asked for (--loopback)
        remove_reserved_networks => $loopback ? 0 : 1,
    );

    my %rec;
    my ( $n, $skipped ) = ( 0, 0 );

    # benchmark clients all come from 127.0.0.1: give them a country
    if ($loopback) {
        $rec{$loopback} = $city ? city_record($loopback) : {
            country            => { iso_code => $loopback },
            registered_country => { iso_code => $loopback },
        };
        $tree->insert_network( '127.0.0.0/8', $rec{$loopback} );
    }

    for my $file ( $v4, $v6 ) {
        open my $fh, '<', $file or die "cflb-mmdb: $file: $!\n";

        while (<$fh>) {
            next if /^#/;
            chomp;
            my ( $first, $last, $cc ) = split /,/;
            next if !defined $cc || $cc !~ /^[A-Z]{2}$/;

            if ( $first =~ /^\d+$/ ) {
                $first = join '.', unpack 'C4', pack 'N', $first;
                $last  = join '.', unpack 'C4', pack 'N', $last;
            }

            # one record per country, shared by all its ranges
            $rec{$cc} //= $city ? city_record($cc) : {
                country            => { iso_code => $cc },
                registered_country => { iso_code => $cc },
            };

            # 2002::/16 and the like are aliases of IPv4 here: skipped
            if ( eval { $tree->insert_range( $first, $last, $rec{$cc} ); 1 } )
            {
                $n++;
            }
            else {
                $skipped++;
            }
        }

        close $fh;
    }

    open my $out, '>:raw', $path or die "cflb-mmdb: $path: $!\n";
    $tree->write_tree($out);
    close $out or die "cflb-mmdb: $path: $!\n";

    print "cflb-mmdb: $path: $n ranges ($skipped aliased ones skipped), ",
        scalar( keys %rec ), " countries\n";
}


sub main {
    my @args = @_;
    my $ip_version = 6;

    if ( @args && $args[0] eq '--selftest' ) {
        exit( selftest() ? 0 : 1 );
    }

    if ( @args == 2 && $args[0] eq '--testdbs' ) {
        return write_testdbs( $args[1] );
    }

    my $loopback;

    if ( @args >= 2 && $args[0] eq '--loopback' ) {
        ( undef, $loopback, @args ) = @args;
        die "cflb-mmdb: --loopback takes a country code\n"
            if $loopback !~ /^[A-Z]{2}$/;
    }

    if ( @args >= 2 && $args[0] eq '--tor' ) {
        return write_tor( @args[ 1 .. 3 ], 0, $loopback );
    }

    if ( @args >= 2 && $args[0] eq '--tor-city' ) {
        return write_tor( @args[ 1 .. 3 ], 1, $loopback );
    }

    if ( @args >= 2 && $args[0] eq '--ip-version' ) {
        ( undef, $ip_version, @args ) = @args;
    }

    die "usage: $0 [--ip-version 4|6] FLAVOUR OUT.mmdb < DESCRIPTION\n"
        . "       $0 --selftest\n"
        if @args != 2;

    local $/;
    my $text = <STDIN>;

    write_db( $args[1], $args[0], $text, $ip_version );
}


main(@ARGV) if !caller;

1;
