# vim:set ft= ts=4 sw=4 et fdm=marker:

# Location steering in http{} (docs/geo.md): clients from different
# loopback addresses, placed by a test database (t/lib/CflbGeo.pm lists
# them), land in the pools of their PoP, country and region; US-CA and
# US-NY in WNAM and ENAM; failover inside a geo list and to the fallback
# pool; proximity picks the nearest healthy pool; location_strategy pop
# and cflb_node; the fallbacks that are never an error to the client
# (unknown address, an IPv6 client and an IPv4 database, a database
# without city fields, ip-location-db's layout); the variables, the
# $cflb_trace words and the "geo" part of the status; a reload with a
# new database under load.  Every answer is deterministic: each client
# sends several requests and all must agree.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServRoot);
use IO::Socket::IP;
use Cflb;
use CflbGeo;

repeat_each(1);
master_on();
workers(2);
log_level('warn');

plan "no_plan";

our $Db = $CflbGeo::Dir;

CflbGeo::db('city.mmdb', 'city');
CflbGeo::db('asn.mmdb', 'asn');
CflbGeo::db('country.mmdb', 'country');
CflbGeo::db('city4.mmdb', 'city', undef, 4);
CflbGeo::db('iploc.mmdb', 'iploc');
CflbGeo::db('iploc-city.mmdb', 'iploc-city');
CflbGeo::db('moving.mmdb', 'city');

# every pool answers its name
our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "de"; }
    server { listen 127.0.0.1:1991; return 200 "eu"; }
    server { listen 127.0.0.1:1992; return 200 "usw"; }
    server { listen 127.0.0.1:1993; return 200 "use"; }
    server { listen 127.0.0.1:1994; return 200 "asia"; }
    server { listen 127.0.0.1:1995; return 200 "dflt"; }
    cflb_zone cflb 1m;
    cflb_pool de { endpoint a 127.0.0.1:1990; }
    cflb_pool eu { endpoint a 127.0.0.1:1991; }
    cflb_pool usw { endpoint a 127.0.0.1:1992; }
    cflb_pool use { endpoint a 127.0.0.1:1993; }
    cflb_pool asia { endpoint a 127.0.0.1:1994; }
    cflb_pool dflt { endpoint a 127.0.0.1:1995; }
_EOC_

# the same places as pools with coordinates, for proximity
our $Places = <<'_EOC_';
    server { listen 127.0.0.1:1980; return 200 "fra"; }
    server { listen 127.0.0.1:1981; return 200 "iad"; }
    server { listen 127.0.0.1:1982; return 200 "sjc"; }
    server { listen 127.0.0.1:1983; return 200 "nrt"; }
    server { listen 127.0.0.1:1986; return 200 "gru"; }
    cflb_pool fra { endpoint a 127.0.0.1:1980; coordinates 50.11 8.68; }
    cflb_pool iad { endpoint a 127.0.0.1:1981; coordinates 39.04 -77.49; }
    cflb_pool sjc { endpoint a 127.0.0.1:1982; coordinates 37.34 -121.89; }
    cflb_pool nrt { endpoint a 127.0.0.1:1983; coordinates 35.68 139.69; }
    cflb_pool gru { endpoint a 127.0.0.1:1986; coordinates -23.55 -46.63; }
_EOC_

our %Coords = (fra => [50.11, 8.68], iad => [39.04, -77.49],
               sjc => [37.34, -121.89], nrt => [35.68, 139.69],
               gru => [-23.55, -46.63]);

# a location per load balancer, each answer with its trace and the
# client's place as the variables give it
our $Config = <<'_EOC_';
    location = /status { cflb_status; }
    location ~ ^/(?<lb>[a-z0-9]+) {
        proxy_pass http://$lb;
        add_header X-Trace $cflb_trace always;
        add_header X-Where
            "$cflb_client_country/$cflb_client_region/$cflb_client_asn"
            always;
    }
    location = /where {
        return 200
            "$cflb_client_country/$cflb_client_region/$cflb_client_asn";
    }
_EOC_

our @All = ((map { "127.0.0.$_" } 1 .. 11), '127.0.0.99');

no_long_string();
no_shuffle();
run_tests();


# $n requests to $path from $from: one line, the address, the answer,
# X-Where and X-Trace (the trace without its endpoint part); several
# lines joined by " | " if the requests did not all agree
sub where {
    my ($from, $path, $n) = @_;

    my %seen;

    for (1 .. ($n || 8)) {
        my $r = Cflb::get(from => $from, path => $path);
        my $trace = $r->{headers}{'x-trace'} // 'none';
        $trace =~ s/^lb=\S+ //;
        $trace =~ s/ endpoint=\S+//;
        my $answer = $r->{status} == 200 ? $r->{body} : $r->{status};
        $seen{"$answer " . ($r->{headers}{'x-where'} // '') . " $trace"} = 1;
    }

    return "$from " . CORE::join(' | ', sort keys %seen) . "\n";
}

sub where_all {
    my ($path, @from) = @_;

    return CORE::join '', map { where($_, $path) } (@from ? @from : @All);
}

sub down { open my $f, '>', "$ServRoot/html/down-$_[0]" or die $!; close $f }
sub up { unlink "$ServRoot/html/down-$_[0]" }

__DATA__

=== TEST 1: geo: country, then region (US and Canada by subdivision), then the pools
Two databases, looked up in order, each filling what is still unknown:
the City one (country, subdivision, coordinates) and the ASN one.
DE has a country entry, so it wins over WEU; France and Britain take
WEU's list; US-CA and CA-BC are WNAM, US-NY ENAM; a US address without
a subdivision is ENAM (the country's line); SSAM and OC have no list,
"EU" is not a country and 127.0.0.99 is in no network: the pools.
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_geoip2 $::Db/asn.mmdb;
    cflb_lb g1 {
        pools dflt eu;
        country_pools DE=de;
        region_pools WNAM=usw ENAM=use WEU=eu NEAS=asia;
    }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::where_all('/g1');
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.1 de DE/WEU/3320 pool=de(geo:country=DE)
127.0.0.2 usw US/WNAM/15169 pool=usw(geo:region=WNAM)
127.0.0.3 use US/ENAM/7018 pool=use(geo:region=ENAM)
127.0.0.4 usw CA/WNAM/852 pool=usw(geo:region=WNAM)
127.0.0.5 asia JP/NEAS/2516 pool=asia(geo:region=NEAS)
127.0.0.6 eu FR/WEU/ pool=eu(geo:region=WEU)
127.0.0.7 dflt BR/SSAM/28573 pool=dflt(geo)
127.0.0.8 dflt AU/OC/1221 pool=dflt(geo)
127.0.0.9 use US/ENAM/ pool=use(geo:region=ENAM)
127.0.0.10 dflt // pool=dflt(geo)
127.0.0.11 eu GB/WEU/ pool=eu(geo:region=WEU)
127.0.0.99 dflt // pool=dflt(geo)
--- no_error_log
[error]
[warn]



=== TEST 2: no steering with a map means geo; steering "" too; the map's pools need not be listed
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_lb g2a { pools dflt; country_pools JP=asia; }
    cflb_lb g2b { pools dflt; steering ""; region_pools WEU=eu; }
    cflb_lb g2c { pools dflt use; steering ""; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::where_all('/g2a', '127.0.0.5', '127.0.0.1')
    . main::where_all('/g2b', '127.0.0.5', '127.0.0.1')
    . main::where_all('/g2c', '127.0.0.5', '127.0.0.1');
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.5 asia JP/NEAS/ pool=asia(geo:country=JP)
127.0.0.1 dflt DE/WEU/ pool=dflt(geo)
127.0.0.5 dflt JP/NEAS/ pool=dflt(geo)
127.0.0.1 eu DE/WEU/ pool=eu(geo:region=WEU)
127.0.0.5 dflt JP/NEAS/ pool=dflt(priority)
127.0.0.1 dflt DE/WEU/ pool=dflt(priority)
--- no_error_log
[error]
[warn]



=== TEST 3: pop_pools: this node's PoP comes before everything; another PoP's entry is not used
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_node pop=LAX;
    cflb_lb g3a {
        pools dflt;
        pop_pools FRA=eu LAX=usw,use;
        country_pools DE=de;
        region_pools WEU=eu;
    }
    cflb_lb g3b { pools dflt; pop_pools FRA=eu; country_pools DE=de; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::where_all('/g3a', '127.0.0.1', '127.0.0.5',
                                   '127.0.0.99')
    . main::where_all('/g3b', '127.0.0.1', '127.0.0.5');
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.1 usw DE/WEU/ pool=usw(geo:pop=LAX)
127.0.0.5 usw JP/NEAS/ pool=usw(geo:pop=LAX)
127.0.0.99 usw // pool=usw(geo:pop=LAX)
127.0.0.1 de DE/WEU/ pool=de(geo:country=DE)
127.0.0.5 dflt JP/NEAS/ pool=dflt(geo)
--- no_error_log
[error]
[warn]



=== TEST 4: location_strategy pop: every client is where this node is; without a database, client means pop
Port 1984 has a database, and g4a locates by the node (region WNAM);
g4b by the client.  The second server (1987) has no database: its
load balancer, with the default "client", places everyone at the node.
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_node region=WNAM;
    cflb_lb g4a {
        pools dflt;
        location_strategy pop;
        country_pools DE=de;
        region_pools WNAM=usw WEU=eu;
    }
    cflb_lb g4b {
        pools dflt;
        location_strategy client;
        country_pools DE=de;
        region_pools WNAM=usw WEU=eu;
    }
}
--- config eval: $::Config
--- init
my $nodb = Cflb::instance(1987, q{
    cflb_zone cflb 1m;
    cflb_node region=ENAM;
    cflb_pool use { endpoint a 127.0.0.1:1993; }
    cflb_pool dflt { endpoint a 127.0.0.1:1995; }
    cflb_lb g4c { pools dflt; region_pools ENAM=use; }
    server {
        listen 127.0.0.1:1987;
        location = /status { cflb_status; }
        location /g4c {
            proxy_pass http://g4c;
            add_header X-Trace $cflb_trace always;
            add_header X-Where
                "$cflb_client_country/$cflb_client_region/$cflb_client_asn"
                always;
        }
    }
}, 1);
my $st = Cflb::status(1987);
$Cflb::note{out} = main::where_all('/g4a', '127.0.0.1', '127.0.0.3')
    . main::where_all('/g4b', '127.0.0.1', '127.0.0.3');
for my $from ('127.0.0.1', '127.0.0.3') {
    my $r = Cflb::get(port => 1987, path => '/g4c', from => $from);
    my $t = $r->{headers}{'x-trace'};
    $t =~ s/^lb=\S+ //;
    $t =~ s/ endpoint=\S+//;
    $Cflb::note{out} .= "1987 $from $r->{body} $r->{headers}{'x-where'} $t\n";
}
$Cflb::note{out} .= "1987 status geo: "
    . JSON::PP->new->canonical->encode($st->{geo}) . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.1 usw DE/WEU/ pool=usw(geo:region=WNAM)
127.0.0.3 usw US/ENAM/ pool=usw(geo:region=WNAM)
127.0.0.1 de DE/WEU/ pool=de(geo:country=DE)
127.0.0.3 dflt US/ENAM/ pool=dflt(geo)
1987 127.0.0.1 use // pool=use(geo:region=ENAM)
1987 127.0.0.3 use // pool=use(geo:region=ENAM)
1987 status geo: {"databases":[],"node":{"pop":"","region":"ENAM"}}
--- no_error_log
[error]
[warn]



=== TEST 5: failover inside a geo list when a pool's monitor fails, then the fallback pool when the list is exhausted
WEU's list is eu, de.  The fallback pool is dflt, not "use", the first
of "pools", which is healthy all along: an exhausted geo list goes to
the fallback (docs/geo.md says why).  ENAM clients are not affected.
--- http_config eval
qq{
    server {
        listen 127.0.0.1:1990;
        root html;
        location = /health {
            if (-f \$document_root/down-de) { return 503; }
            return 200;
        }
        location / { return 200 "de"; }
    }
    server {
        listen 127.0.0.1:1991;
        root html;
        location = /health {
            if (-f \$document_root/down-eu) { return 503; }
            return 200;
        }
        location / { return 200 "eu"; }
    }
    server { listen 127.0.0.1:1993; return 200 "use"; }
    server { listen 127.0.0.1:1995; return 200 "dflt"; }
    cflb_zone cflb 1m;
    cflb_geoip2 $::Db/city.mmdb;
    cflb_monitor m { path /health; interval 1s; timeout 500ms; }
    cflb_pool eu { endpoint a 127.0.0.1:1991; monitor m; }
    cflb_pool de { endpoint a 127.0.0.1:1990; monitor m; }
    cflb_pool use { endpoint a 127.0.0.1:1993; monitor m; }
    cflb_pool dflt { endpoint a 127.0.0.1:1995; }
    cflb_lb g5 {
        pools use;
        fallback_pool dflt;
        region_pools WEU=eu,de;
    }
}
--- config eval: $::Config
--- init
Cflb::wait_health("$_/a", 'healthy', 5) for qw(eu de use);
my @from = ('127.0.0.1', '127.0.0.3');
my $out = "all healthy:\n" . main::where_all('/g5', @from);
main::down('eu');
Cflb::wait_health('eu/a', 'unhealthy', 5);
$out .= "eu down:\n" . main::where_all('/g5', @from);
main::down('de');
Cflb::wait_health('de/a', 'unhealthy', 5);
$out .= "eu and de down:\n" . main::where_all('/g5', @from);
main::up('eu');
Cflb::wait_health('eu/a', 'healthy', 5);
$out .= "eu back:\n" . main::where_all('/g5', @from);
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
all healthy:
127.0.0.1 eu DE/WEU/ pool=eu(geo:region=WEU)
127.0.0.3 use US/ENAM/ pool=use(geo)
eu down:
127.0.0.1 de DE/WEU/ pool=de(geo:region=WEU) skipped=eu:critical
127.0.0.3 use US/ENAM/ pool=use(geo)
eu and de down:
127.0.0.1 dflt DE/WEU/ pool=dflt(fallback) skipped=eu:critical,de:critical
127.0.0.3 use US/ENAM/ pool=use(geo)
eu back:
127.0.0.1 eu DE/WEU/ pool=eu(geo:region=WEU)
127.0.0.3 use US/ENAM/ pool=use(geo)
--- no_error_log
[error]



=== TEST 6: proximity: the nearest pool, whatever the order of "pools"; the distance in the trace
Each client's kilometres are checked against the haversine distance
(within 1 km).  US without coordinates, "EU" and 127.0.0.99 have no
place: failover order, the first of "pools".
--- http_config eval
$::Places . qq{
    cflb_zone cflb 1m;
    cflb_geoip2 $::Db/city.mmdb;
    cflb_lb p6 { pools nrt gru sjc iad fra; steering proximity; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::where_all('/p6');
--- request
GET /status
--- response_body_filters eval
sub {
    # each "(proximity:Nkm)" checked against the haversine distance
    my %at = map { my @f = split; ($f[0] => [@f[3, 4]]) }
             grep { /\S/ && !/^\s*#/ } split /\n/, $CflbGeo::Clients;
    (my $out = $Cflb::note{out}) =~ s{^(\S+) (\S+) (.*)\(proximity:(\d+)km\)}{
        my $km = CflbGeo::km(@{ $at{$1} }, @{ $::Coords{$2} });
        "$1 $2 $3(proximity:" . (abs($km - $4) <= 1 ? "ok" : "$4 not $km")
        . ")"
    }mge;
    $out;
}
--- response_body
127.0.0.1 fra DE/WEU/ pool=fra(proximity:ok)
127.0.0.2 sjc US/WNAM/ pool=sjc(proximity:ok)
127.0.0.3 iad US/ENAM/ pool=iad(proximity:ok)
127.0.0.4 sjc CA/WNAM/ pool=sjc(proximity:ok)
127.0.0.5 nrt JP/NEAS/ pool=nrt(proximity:ok)
127.0.0.6 fra FR/WEU/ pool=fra(proximity:ok)
127.0.0.7 gru BR/SSAM/ pool=gru(proximity:ok)
127.0.0.8 nrt AU/OC/ pool=nrt(proximity:ok)
127.0.0.9 nrt US/ENAM/ pool=nrt(proximity)
127.0.0.10 nrt // pool=nrt(proximity)
127.0.0.11 fra GB/WEU/ pool=fra(proximity:ok)
127.0.0.99 nrt // pool=nrt(proximity)
--- no_error_log
[error]
[warn]



=== TEST 7: proximity moves to the next nearest pool when the nearest fails, and back
From Frankfurt: fra 0 km, iad 6,549 km, sjc 9,153 km, nrt 9,333 km,
gru 9,829 km.  fra's monitor fails: iad; iad's too: sjc.  The trace
lists the pools examined and left out in the order proximity asked
them: the nearest first, then, searching in "pools" order, each pool
nearer than the best so far (nrt, sjc, iad2).
--- http_config eval
$::Places . qq{
    cflb_zone cflb 1m;
    cflb_geoip2 $::Db/city.mmdb;
    cflb_monitor m { path /health; interval 1s; timeout 500ms; }
    server {
        listen 127.0.0.1:1990;
        root html;
        location = /fra { if (-f \$document_root/down-fra) { return 503; }
                          return 200; }
        location = /iad { if (-f \$document_root/down-iad) { return 503; }
                          return 200; }
    }
    cflb_monitor mfra { path /fra; port 1990; interval 1s; timeout 500ms; }
    cflb_monitor miad { path /iad; port 1990; interval 1s; timeout 500ms; }
    cflb_pool fra2 { endpoint a 127.0.0.1:1980; coordinates 50.11 8.68;
                     monitor mfra; }
    cflb_pool iad2 { endpoint a 127.0.0.1:1981; coordinates 39.04 -77.49;
                     monitor miad; }
    cflb_lb p7 { pools nrt gru sjc iad2 fra2; steering proximity; }
}
--- config eval: $::Config
--- init
Cflb::wait_health("$_/a", 'healthy', 5) for qw(fra2 iad2);
my $out = main::where_all('/p7', '127.0.0.1');
main::down('fra');
Cflb::wait_health('fra2/a', 'unhealthy', 5);
$out .= main::where_all('/p7', '127.0.0.1');
main::down('iad');
Cflb::wait_health('iad2/a', 'unhealthy', 5);
$out .= main::where_all('/p7', '127.0.0.1');
main::up('fra');
Cflb::wait_health('fra2/a', 'healthy', 5);
$out .= main::where_all('/p7', '127.0.0.1');
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { (my $o = $Cflb::note{out}) =~ s/proximity:\d+km/proximity:km/g; $o }
--- response_body
127.0.0.1 fra DE/WEU/ pool=fra2(proximity:km)
127.0.0.1 iad DE/WEU/ pool=iad2(proximity:km) skipped=fra2:critical
127.0.0.1 sjc DE/WEU/ pool=sjc(proximity:km) skipped=fra2:critical,iad2:critical
127.0.0.1 fra DE/WEU/ pool=fra2(proximity:km)
--- no_error_log
[error]



=== TEST 8: proximity by this node's place: location_strategy pop, or no database
--- http_config eval
$::Places . qq{
    cflb_zone cflb 1m;
    cflb_geoip2 $::Db/city.mmdb;
    cflb_node pop=NRT lat=35.77 lon=140.39;
    cflb_lb p8 { pools fra iad sjc nrt; steering proximity;
                 location_strategy pop; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::where_all('/p8', '127.0.0.1', '127.0.0.2',
                                   '127.0.0.99');
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.1 nrt DE/WEU/ pool=nrt(proximity:64km)
127.0.0.2 nrt US/WNAM/ pool=nrt(proximity:64km)
127.0.0.99 nrt // pool=nrt(proximity:64km)
--- no_error_log
[error]
[warn]



=== TEST 9: a Country database: the US and Canada by their country's line; with a City one after it, by subdivision
Port 1984 looks clients up in a Country database only (proximity is
refused at "nginx -t" with it: t/703).  Port 1987 has the Country
database first and the City one after: the subdivision comes from the
second, and the region follows it.
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/country.mmdb;
    cflb_lb g9 { pools dflt; region_pools WNAM=usw ENAM=use; }
}
--- config eval: $::Config
--- init
Cflb::instance(1987, qq{
    cflb_geoip2 $::Db/country.mmdb;
    cflb_geoip2 $::Db/city.mmdb;
    server {
        listen 127.0.0.1:1987;
        location / {
            return 200
                "\$cflb_client_country/\$cflb_client_region/\$cflb_client_asn";
        }
    }
}, 1);
$Cflb::note{out} = main::where_all('/g9', '127.0.0.2', '127.0.0.4');
for my $from ('127.0.0.2', '127.0.0.4', '127.0.0.3') {
    $Cflb::note{out} .= "1987 $from "
        . Cflb::get(port => 1987, from => $from)->{body} . "\n";
}
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.2 use US/ENAM/ pool=use(geo:region=ENAM)
127.0.0.4 use CA/ENAM/ pool=use(geo:region=ENAM)
1987 127.0.0.2 US/WNAM/
1987 127.0.0.4 CA/WNAM/
1987 127.0.0.3 US/ENAM/
--- no_error_log
[error]
[warn]



=== TEST 10: an IPv6 client and an IPv4-only database: no place, the pools; IPv4 clients as usual
--- http_config eval
$::Backends . $::Places . qq{
    cflb_geoip2 $::Db/city4.mmdb;
    cflb_lb g10 { pools dflt; country_pools DE=de; }
    cflb_lb p10 { pools gru fra; steering proximity; }
    server {
        listen [::1]:1988;
        location ~ ^/(?<lb>[a-z0-9]+) {
            proxy_pass http://\$lb;
            add_header X-Trace \$cflb_trace always;
            add_header X-Where
                "\$cflb_client_country/\$cflb_client_region/\$cflb_client_asn"
                always;
        }
    }
}
--- config eval: $::Config
--- init
my $out = '';
for my $lb ('g10', 'p10') {
    my $s = IO::Socket::IP->new(PeerHost => '::1', PeerPort => 1988,
                                Timeout => 5) or die "::1: $!\n";
    print $s "GET /$lb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    my $raw = do { local $/; <$s> };
    my ($status) = $raw =~ m{^HTTP/1.1 (\d+)};
    my ($trace) = $raw =~ m{X-Trace: lb=\S+ (.*?) endpoint=}i;
    my ($w) = $raw =~ m{X-Where: (.*?)\r}i;
    my ($body) = $raw =~ m{\r\n\r\n(.*)}s;
    $out .= "::1 $status $body $w $trace\n";
}
$out .= main::where_all('/g10', '127.0.0.1')
    . main::where_all('/p10', '127.0.0.1');
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
::1 200 dflt // pool=dflt(geo)
::1 200 gru // pool=gru(proximity)
127.0.0.1 de DE/WEU/ pool=de(geo:country=DE)
127.0.0.1 fra DE/WEU/ pool=fra(proximity:0km)
--- no_error_log
[error]
[warn]



=== TEST 11: ip-location-db's layout (country_code at the top): geo, and proximity with its city file
--- http_config eval
$::Backends . $::Places . qq{
    cflb_geoip2 $::Db/iploc-city.mmdb;
    cflb_lb g11 { pools dflt; country_pools DE=de; region_pools ENAM=use; }
    cflb_lb p11 { pools gru fra sjc iad; steering proximity; }
}
--- config eval: $::Config
--- init
$Cflb::note{out} = main::where_all('/g11', '127.0.0.1', '127.0.0.2',
                                   '127.0.0.99')
    . main::where_all('/p11', '127.0.0.1', '127.0.0.2');
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.1 de DE/WEU/ pool=de(geo:country=DE)
127.0.0.2 use US/ENAM/ pool=use(geo:region=ENAM)
127.0.0.99 dflt // pool=dflt(geo)
127.0.0.1 fra DE/WEU/ pool=fra(proximity:0km)
127.0.0.2 sjc US/ENAM/ pool=sjc(proximity:492km)
--- no_error_log
[error]
[warn]



=== TEST 12: the variables without a load balancer, and without any database
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/iploc.mmdb;
    cflb_geoip2 $::Db/asn.mmdb;
    server {
        listen 127.0.0.1:1989;
        location / {
            return 200
                "[\$cflb_client_country/\$cflb_client_region/\$cflb_client_asn]";
        }
    }
}
--- config eval: $::Config
--- init
my $nodb = Cflb::instance(1987, q{
    server {
        listen 127.0.0.1:1987;
        location / {
            return 200
                "[$cflb_client_country/$cflb_client_region/$cflb_client_asn]";
        }
    }
}, 1);
my $out = '';
for my $from ('127.0.0.1', '127.0.0.2', '127.0.0.10', '127.0.0.99') {
    $out .= "$from " . Cflb::get(from => $from, path => '/where')->{body}
        . " " . Cflb::get(from => $from, port => 1989)->{body}
        . " " . Cflb::get(from => $from, port => 1987)->{body} . "\n";
}
$Cflb::note{out} = $out;
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
127.0.0.1 DE/WEU/3320 [DE/WEU/3320] [//]
127.0.0.2 US/ENAM/15169 [US/ENAM/15169] [//]
127.0.0.10 // [//] [//]
127.0.0.99 // [//] [//]
--- no_error_log
[error]
[warn]



=== TEST 13: the "geo" part of the status: the databases in lookup order, and this node
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_geoip2 $::Db/asn.mmdb;
    cflb_node pop=FRA region=weu lat=50.1109 lon=-8.6821;
    cflb_lb g13 { pools dflt; }
}
--- config eval: $::Config
--- request
GET /status
--- response_body_filters eval
sub {
    my $g = JSON::PP::decode_json(shift)->{geo};
    my $out = '';
    for my $d (@{ $g->{databases} }) {
        (my $p = $d->{path}) =~ s{.*/}{};
        my $age = time - $d->{build};
        $out .= "database $p $d->{type} built "
            . ($age >= 0 && $age < 3600 ? "within the hour" : "at $d->{build}")
            . "\n";
    }
    $out . "node " . JSON::PP->new->canonical->encode($g->{node}) . "\n";
}
--- response_body
database city.mmdb GeoIP2-City built within the hour
database asn.mmdb GeoLite2-ASN built within the hour
node {"lat":50.1109,"lon":-8.6821,"pop":"FRA","region":"WEU"}
--- no_error_log
[error]
[warn]



=== TEST 14: a reload with a new database moves clients, with no failed request under load
127.0.0.1 is in Germany, then (the file replaced, nginx reloaded) in
Japan.  A background client sends requests from it on new connections
all along; every answer is counted.
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/moving.mmdb;
    cflb_lb g14 { pools dflt; country_pools DE=de JP=asia; }
}
--- config eval: $::Config
--- init
my $load = CflbGeo::start_load(1984, '/g14', '127.0.0.1');
Cflb::wait_until(sub { 0 }, 1);
(my $japan = $CflbGeo::Clients) =~ s/^127\.0\.0\.1 +DE/127.0.0.1 JP/m;
CflbGeo::replace_db('moving.mmdb', 'city', $japan);
Cflb::reload_edit();
Cflb::wait_until(sub { Cflb::get(from => '127.0.0.1', path => '/g14')->{body}
                       eq 'asia' }, 10);
Cflb::wait_until(sub { 0 }, 1);
my $t = CflbGeo::stop_load($load);
my $after = Cflb::repeat(20, from => '127.0.0.1', path => '/g14');
$Cflb::note{out} = "before and during: "
    . CORE::join(' ', map { "$_=" . ($t->{$_} > 0 ? 'some' : 0) }
                      sort keys %$t) . "\n"
    . "after: " . Cflb::bodies($after) . "\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
before and during: asia=some de=some
after: asia
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: each request of a keep-alive connection by its own address (realip): the place kept with the connection follows it
One connection, 40 requests, X-Real-IP taking turns between Frankfurt,
Tokyo, an unknown address and New York; the client's place is kept
with the connection (one lookup per connection and address), and must
not leak from one request to the next.
--- http_config eval
$::Backends . qq{
    cflb_geoip2 $::Db/city.mmdb;
    cflb_lb g15 { pools dflt; country_pools DE=de JP=asia US=use; }
}
--- config eval
qq{
    set_real_ip_from 127.0.0.0/8;
    real_ip_header X-Real-IP;
    location = /status { cflb_status; }
    location /g15 {
        proxy_pass http://g15;
        add_header X-Where "\$cflb_client_country";
    }
}
--- init
my @ip = ('127.0.0.1', '127.0.0.5', '127.0.0.99', '127.0.0.3');
my %want = ('127.0.0.1' => 'de', '127.0.0.5' => 'asia',
            '127.0.0.99' => 'dflt', '127.0.0.3' => 'use');
my $sock = Cflb::connect_to(1984);
my ($ok, $bad) = (0, '');
for my $i (0 .. 39) {
    my $ip = $ip[$i % 4];
    print $sock "GET /g15 HTTP/1.1\r\nHost: x\r\nX-Real-IP: $ip\r\n\r\n";
    my ($status, $body) = Cflb::read_response($sock);
    if (defined $body && $body eq $want{$ip}) { $ok++ }
    else { $bad .= " $ip:" . ($body // 'none') }
}
$Cflb::note{out} = "right: $ok of 40$bad\n";
--- request
GET /status
--- response_body_filters eval
sub { $Cflb::note{out} }
--- response_body
right: 40 of 40
--- no_error_log
[error]
[warn]
