# vim:set ft= ts=4 sw=4 et fdm=marker:

# DNS-only with location steering (docs/geo.md, docs/dns.md): geo and
# proximity locate the client by the query's client subnet (ECS) or by
# the resolver's address, as location_strategy and prefer_ecs say, and
# the ECS echo's scope says whether the answer depended on the subnet.
# The database (t/lib/cflb-mmdb.pl) places three subnets and two
# resolvers (127.0.0.1 in France, 127.0.0.2 in New York); every pool
# has one endpoint whose address names it.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;
use CflbDns;
use CflbGeo;

CflbDns::blocks();

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2);

our $Db = CflbGeo::db('dns.mmdb', 'city', <<'_EOC_');
198.51.100.0/24  DE  -   50.1109   8.6821    3320     # Frankfurt: WEU
203.0.113.0/24   US  CA  34.0522   -118.2437 15169    # Los Angeles: WNAM
192.0.2.0/24     JP  -   35.6762   139.6503  2516     # Tokyo: NEAS
127.0.0.1        FR  -   48.8566   2.3522    -        # Paris: WEU
127.0.0.2        US  NY  40.7128   -74.0060  7018     # New York: ENAM
_EOC_

our $Config = <<"_EOC_";
    cflb_zone dns 1m;
    cflb_geoip2 $::Db;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_pool de { endpoint a 10.0.0.1:80; coordinates 50.11 8.68; }
    cflb_pool eu { endpoint a 10.0.0.2:80; coordinates 48.85 2.35; }
    cflb_pool usw { endpoint a 10.0.0.3:80; coordinates 34.05 -118.24; }
    cflb_pool use { endpoint a 10.0.0.4:80; coordinates 40.71 -74.00; }
    cflb_pool asia { endpoint a 10.0.0.5:80; coordinates 35.67 139.65; }
    cflb_pool dflt { endpoint a 10.0.0.9:80; }
_EOC_

our $Geo = <<'_EOC_';
        pools dflt;
        country_pools DE=de;
        region_pools WEU=eu WNAM=usw ENAM=use NEAS=asia;
_EOC_

no_long_string();
no_shuffle();
run_tests();


# for each of (ECS subnet or "-", resolver address): the answer and the
# echo's scope, "addr scope" (scope "-": no ECS echoed)
sub asked {
    my ($name, @cases) = @_;

    my $out = '';

    while (my ($ecs, $src) = splice @cases, 0, 2) {
        my $r = CflbDns::q($name, 'A', '--src', $src,
                           $ecs eq '-' ? () : ('--ecs', $ecs));
        my ($addr) = $r =~ /^ANSWER \S+ \d+ IN A (\S+)/m;
        my ($scope) = $r =~ m{ECS \S+/\d+/(\d+)};
        $out .= sprintf "%-16s from %s: %s scope %s\n", $ecs, $src,
                        $addr // '-', $scope // '-';
    }

    return $out;
}

__DATA__

=== TEST 1: geo, prefer_ecs=always: the subnet's country or region picks the pools (scope 24); without one, the resolver's
A subnet the database does not know gets "pools", and the scope still
says the answer was the subnet's.
--- dns_config eval
$::Config . qq{
    cflb_lb www {
        hostname www.example.com;
$::Geo
        location_strategy client prefer_ecs=always;
    }
}
--- dns_test
main::asked('www.example.com',
            '198.51.100.0/24' => '127.0.0.1', '203.0.113.0/24' => '127.0.0.1',
            '192.0.2.0/24' => '127.0.0.2', '10.9.9.0/24' => '127.0.0.1',
            '-' => '127.0.0.1', '-' => '127.0.0.2')
--- dns_answers
198.51.100.0/24  from 127.0.0.1: 10.0.0.1 scope 24
203.0.113.0/24   from 127.0.0.1: 10.0.0.3 scope 24
192.0.2.0/24     from 127.0.0.2: 10.0.0.5 scope 24
10.9.9.0/24      from 127.0.0.1: 10.0.0.9 scope 24
-                from 127.0.0.1: 10.0.0.2 scope -
-                from 127.0.0.2: 10.0.0.4 scope -



=== TEST 2: geo, prefer_ecs=proximity (the default): the subnet does not count for geo, the resolver does (scope 0)
--- dns_config eval
$::Config . qq{
    cflb_lb www {
        hostname www.example.com;
$::Geo
    }
}
--- dns_test
main::asked('www.example.com',
            '198.51.100.0/24' => '127.0.0.1', '192.0.2.0/24' => '127.0.0.2')
--- dns_answers
198.51.100.0/24  from 127.0.0.1: 10.0.0.2 scope 0
192.0.2.0/24     from 127.0.0.2: 10.0.0.4 scope 0



=== TEST 3: proximity, prefer_ecs=proximity: the pool nearest the subnet (scope 24), else the nearest the resolver
--- dns_config eval
$::Config . q{
    cflb_lb www {
        hostname www.example.com;
        pools de eu usw use asia;
        steering proximity;
    }
}
--- dns_test
main::asked('www.example.com',
            '198.51.100.0/24' => '127.0.0.2', '203.0.113.0/24' => '127.0.0.1',
            '192.0.2.0/24' => '127.0.0.1', '-' => '127.0.0.1',
            '-' => '127.0.0.2')
--- dns_answers
198.51.100.0/24  from 127.0.0.2: 10.0.0.1 scope 24
203.0.113.0/24   from 127.0.0.1: 10.0.0.3 scope 24
192.0.2.0/24     from 127.0.0.1: 10.0.0.5 scope 24
-                from 127.0.0.1: 10.0.0.2 scope -
-                from 127.0.0.2: 10.0.0.4 scope -



=== TEST 4: prefer_ecs=never: the resolver's place, whatever the subnet (scope 0)
--- dns_config eval
$::Config . qq{
    cflb_lb www {
        hostname www.example.com;
$::Geo
        location_strategy client prefer_ecs=never;
    }
}
--- dns_test
main::asked('www.example.com',
            '198.51.100.0/24' => '127.0.0.2', '192.0.2.0/24' => '127.0.0.1')
--- dns_answers
198.51.100.0/24  from 127.0.0.2: 10.0.0.4 scope 0
192.0.2.0/24     from 127.0.0.1: 10.0.0.2 scope 0



=== TEST 5: location_strategy pop (the product's DNS persistence recipe 1): this node's region for everyone (scope 0)
--- dns_config eval
$::Config . qq{
    cflb_node pop=NRT region=NEAS;
    cflb_lb www {
        hostname www.example.com;
$::Geo
        location_strategy pop prefer_ecs=always;
    }
}
--- dns_test
main::asked('www.example.com',
            '198.51.100.0/24' => '127.0.0.1', '-' => '127.0.0.2')
--- dns_answers
198.51.100.0/24  from 127.0.0.1: 10.0.0.5 scope 0
-                from 127.0.0.2: 10.0.0.5 scope -



=== TEST 6: the trace and the client's place in a DNS access log: the subnet's
--- dns_config eval
$::Config . qq{
    log_format dns '\$cflb_client_country/\$cflb_client_region '
                   '[\$cflb_trace]';
    access_log logs/dns.log dns;
    cflb_lb www {
        hostname www.example.com;
$::Geo
        location_strategy client prefer_ecs=always;
    }
}
--- dns_server
cflb_dns direct=off;
--- dns_test
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= 2 }, 5);
my $from = Cflb::log_count('logs/dns.log');
CflbDns::q('www.example.com', 'A', '--ecs', '203.0.113.0/24');
CflbDns::q('www.example.com', 'A', '--src', '127.0.0.2');
Cflb::wait_until(sub { Cflb::log_count('logs/dns.log') >= $from + 2 }, 5);
CORE::join "\n", (Cflb::log_lines('logs/dns.log'))[$from .. $from + 1]
--- dns_answers
US/WNAM [lb=www pool=usw(geo:region=WNAM) endpoint=usw/a(random) qtype=A rcode=NOERROR answer=usw/a ecs=203.0.113.0/24 scope=24]
US/ENAM [lb=www pool=use(geo:region=ENAM) endpoint=use/a(random) qtype=A rcode=NOERROR answer=use/a]
