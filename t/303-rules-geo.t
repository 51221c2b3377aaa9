# vim:set ft= ts=4 sw=4 et fdm=marker:

# Rules together with geo (docs/rules.md): the client's country and AS
# number as fields, this node's region as cf.load_balancer.region, rules
# that override the geo maps, a rule that turns geo steering on over the
# load balancer's maps, and location_strategy.  Clients connect from
# 127.0.0.2 (DE), 127.0.0.3 (US, California) and 127.0.0.4 (JP), which a
# test database (t/lib/cflb-mmdb.pl) places.

use lib 't/lib';
use Test::Nginx::Socket;
use File::Temp qw(tempdir);
use Cflb;

require "cflb-mmdb.pl";

repeat_each(1);

plan "no_plan";

our $Dir = tempdir(CLEANUP => 1);
our $Db = CflbMmdb::write_db("$Dir/all.mmdb", 'all', <<'_EOD_');
127.0.0.2     DE  -   50.1109   8.6821     3320
127.0.0.3     US  CA  34.0522   -118.2437  15169
127.0.0.4     JP  -   35.6762   139.6503   -
_EOD_

our $Backends = <<"_EOC_";
    server { listen 127.0.0.1:1990; return 200 "de\\n"; }
    server { listen 127.0.0.1:1991; return 200 "us\\n"; }
    server { listen 127.0.0.1:1992; return 200 "jp\\n"; }
    server { listen 127.0.0.1:1993; return 200 "alt\\n"; }
    cflb_zone cflb 1m;
    cflb_geoip2 $Db;
    cflb_pool pde { endpoint a 127.0.0.1:1990; }
    cflb_pool pus { endpoint a 127.0.0.1:1991; }
    cflb_pool pjp { endpoint a 127.0.0.1:1992; }
    cflb_pool palt { endpoint a 127.0.0.1:1993; }
_EOC_

our $Config = <<'_EOC_';
    location /t {
        proxy_pass http://www;
        add_header X-Trace $cflb_trace always;
    }
_EOC_

no_long_string();
no_shuffle();
run_tests();


# "client path: answer" for each client address and path
sub answers {
    my (@paths) = @_;

    my $out = '';

    for my $from ('127.0.0.2', '127.0.0.3', '127.0.0.4') {
        for my $path (@paths) {
            my $r = Cflb::get(from => $from, path => $path);
            $out .= "$from $path: $r->{body}\n";
        }
    }

    return $out;
}

__DATA__

=== TEST 1: ip.src.country and ip.src.asnum route clients
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools palt;
        rule de { condition 'ip.src.country eq "DE"'; override pools pde; }
        rule google { condition 'ip.src.asnum eq 15169'; override pools pus; }
        rule asia { condition 'ip.src.country in {"JP" "KR"}'; override pools pjp; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body_filters eval
sub { main::answers('/t') }
--- response_body
127.0.0.2 /t: de
127.0.0.3 /t: us
127.0.0.4 /t: jp
--- no_error_log
[error]



=== TEST 2: a client the database does not know: its country and AS number are missing
127.0.0.1 is not in the database: every comparison is false, "!="
included.
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools palt;
        rule ne { condition 'ip.src.country ne "DE" or ip.src.asnum ne 1'; override pools pde; }
    }
}
--- config eval: $::Config
--- request eval
["GET /t"]
--- response_body eval
["alt\n"]
--- no_error_log
[error]



=== TEST 3: a rule overrides country_pools for its path; geo picks within them
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools palt;
        steering geo;
        country_pools DE=pde US=pus JP=pjp;
        rule alt {
            condition 'starts_with(http.request.uri.path, "/t/alt")';
            override country_pools US=palt;
        }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body_filters eval
sub { main::answers('/t', '/t/alt') }
--- response_body
127.0.0.2 /t: de
127.0.0.2 /t/alt: alt
127.0.0.3 /t: us
127.0.0.3 /t/alt: alt
127.0.0.4 /t: jp
127.0.0.4 /t/alt: alt
--- no_error_log
[error]



=== TEST 4: a rule overrides region_pools and keeps the load balancer's country_pools
Country maps come before region maps: the US client keeps its country
pool, DE and JP fall to the rule's regions (WEU, NEAS).
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools palt;
        steering geo;
        country_pools US=pus;
        rule regions {
            condition 'true';
            override region_pools WEU=pjp NEAS=pde;
        }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body_filters eval
sub { main::answers('/t') }
--- response_body
127.0.0.2 /t: jp
127.0.0.3 /t: us
127.0.0.4 /t: de
--- no_error_log
[error]



=== TEST 5: a rule turns geo steering on over the load balancer's maps
The load balancer steers "off" (its maps have no effect there, as the
warning says; without "steering" it would be geo, as in the product);
the rule's "override steering geo" uses them.
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools palt;
        steering off;
        region_pools WEU=pde WNAM=pus NEAS=pjp;
        rule geo {
            condition 'http.request.uri.path eq "/t/geo"';
            override steering geo;
        }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body_filters eval
sub { main::answers('/t', '/t/geo') }
--- response_body
127.0.0.2 /t: alt
127.0.0.2 /t/geo: de
127.0.0.3 /t: alt
127.0.0.3 /t/geo: us
127.0.0.4 /t: alt
127.0.0.4 /t/geo: jp
--- error_log
region_pools of cflb_lb "www" has no effect with steering off
--- no_error_log
[error]



=== TEST 6: cf.load_balancer.region is this node's; location_strategy pop from a rule
The node is in ENAM. The rule "pop" makes geo locate every client at
the node, so the ENAM map serves all of /t/pop; the trace says so.
--- http_config eval
$::Backends . q{
    cflb_node region=ENAM;
    cflb_lb www {
        pools palt;
        steering geo;
        region_pools WEU=pde WNAM=pus NEAS=pjp ENAM=palt;
        rule region {
            condition 'cf.load_balancer.region eq "ENAM" and http.request.uri.path eq "/t/pop"';
            override location_strategy pop;
        }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body_filters eval
sub { main::answers('/t', '/t/pop') }
--- response_body
127.0.0.2 /t: de
127.0.0.2 /t/pop: alt
127.0.0.3 /t: us
127.0.0.3 /t/pop: alt
127.0.0.4 /t: jp
127.0.0.4 /t/pop: alt
--- no_error_log
[error]



=== TEST 7: the trace of a rule's map: geo chose by country within the rule's pools
--- http_config eval
$::Backends . q{
    cflb_lb www {
        pools palt;
        steering geo;
        rule de { condition 'ip.src.country eq "DE"'; override country_pools DE=pjp; }
    }
}
--- config eval: $::Config
--- request
GET /t
--- response_body_filters eval
sub { my $r = Cflb::get(from => '127.0.0.2', path => '/t'); "$r->{headers}{'x-trace'}\n" }
--- response_body
lb=www rules=de pool=pjp(geo:country=DE) endpoint=pjp/a(random)
--- no_error_log
[error]
