# vim:set ft= ts=4 sw=4 et fdm=marker:

# cflb_cluster and "quorum" in cflb_monitor: configuration errors, each
# with its file, line and reason; and a node whose etcd cannot be reached
# at start, which serves anyway (docs/fleet.md).  No etcd runs here.

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2 + 1);

no_long_string();
run_tests();

__DATA__

=== TEST 1: "quorum majority" needs cflb_cluster
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor web { type tcp; quorum majority; }
    cflb_pool p1 { endpoint a 127.0.0.1:1990; monitor web; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"quorum majority" of cflb_monitor "web" in \S+nginx\.conf:\d+ needs cflb_cluster/



=== TEST 2: an unknown quorum
--- http_config
    cflb_zone cflb 1m;
    cflb_monitor web { type tcp; quorum most; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid quorum "most", expected local or majority in \S+nginx\.conf:\d+/



=== TEST 3: cflb_cluster without etcd members
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster prefix=/x/ node=a;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_cluster needs "etcd=" with the URLs of the etcd members in \S+nginx\.conf:\d+/



=== TEST 4: https members are refused, with the way out
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=http://127.0.0.1:2379,https://127.0.0.1:2380 node=a;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*https etcd members are not supported in "https:\/\/127\.0\.0\.1:2380", use http:\/\/ on a trusted network or a local TLS proxy in \S+nginx\.conf:\d+/



=== TEST 5: another scheme
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=ftp://127.0.0.1 node=a;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid etcd URL "ftp:\/\/127\.0\.0\.1": it must start with "http:\/\/" in \S+nginx\.conf:\d+/



=== TEST 6: a path in a member's URL
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=http://127.0.0.1:2379/v3 node=a;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*a path in etcd URL "http:\/\/127\.0\.0\.1:2379\/v3" in \S+nginx\.conf:\d+/



=== TEST 7: a node name that could not be a key part as it is
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=http://127.0.0.1:2379 node=fra/1;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid node name "fra\/1": 1 to 63 letters, digits, "\.", "_" or "-" in \S+nginx\.conf:\d+/



=== TEST 8: a lease shorter than 2 s
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=http://127.0.0.1:2379 node=a ttl=1s;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "ttl=1s" in \S+nginx\.conf:\d+/



=== TEST 9: a prefix not starting with "/"
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=http://127.0.0.1:2379 node=a prefix=cflb/;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "prefix=cflb\/" in \S+nginx\.conf:\d+/



=== TEST 10: twice
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=http://127.0.0.1:2379 node=a;
    cflb_cluster etcd=http://127.0.0.1:2379 node=b;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"cflb_cluster" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 11: etcd out of reach at start: nginx serves from its configuration, says so in status and once in its log
--- http_config
    cflb_zone cflb 1m;
    cflb_cluster etcd=http://127.0.0.1:12379,http://127.0.0.1:12378 prefix=/p/ node=solo timeout=200ms;
    cflb_pool p1 { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools p1; }
    server { listen 127.0.0.1:1990; return 200 "a\n"; }
--- config
    location /t { proxy_pass http://www; }
    location /status { cflb_status; }
--- init
Cflb::wait_until(sub { my $st = eval { Cflb::status() };
                       $st && $st->{cluster}{etcd} eq 'unreachable' }, 10);
--- request
GET /status
--- response_body_filters eval
sub {
    my $c = JSON::PP::decode_json(shift)->{cluster};
    my $t = Cflb::load('/t', 20);
    return "node=$c->{node} prefix=$c->{prefix} etcd=$c->{etcd} "
           . "error=" . ($c->{error} =~ /connect\(\) failed/ ? 'says why'
                                                              : $c->{error})
           . "\ntraffic: " . Cflb::tally_lines($t);
}
--- response_body
node=solo prefix=/p/http/ etcd=unreachable error=says why
traffic: a 20
--- grep_error_log eval: qr/cannot reach etcd/
--- grep_error_log_out
cannot reach etcd
