# vim:set ft= ts=4 sw=4 et fdm=marker:

# DNS-only configuration errors: "nginx -t" names the file, the line and
# the bad token (names are checked by cflb_dns_name_from_text(), which
# says what is wrong and where), and what the configuration as a whole
# cannot be (a hostname outside every zone, one hostname for two load
# balancers, DNS settings in http{}).

use lib 't/lib';
use Test::Nginx::Socket;
use Cflb;

Cflb::stream_blocks();

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2);

our $Zone = <<'_EOC_';
    cflb_zone dns 1m;
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com.;
        ns ns1.example.com.;
    }
    cflb_pool us { endpoint a 192.0.2.1:80; }
_EOC_

no_long_string();
run_tests();

__DATA__

=== TEST 1: an invalid zone name: the reason and where
--- stream_config
    cflb_dns_zone example..com { soa a. b.; ns a.; }
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid cflb_dns_zone name "example\.\.com": empty label at offset 8 in \S+nginx\.conf:\d+/



=== TEST 2: an invalid hostname
--- stream_config eval
$::Zone . q{
    cflb_lb www { hostname "www .example.com"; pools us; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid hostname "www \.example\.com": invalid character at offset 3 in \S+nginx\.conf:\d+/



=== TEST 3: a label longer than 63 bytes in an ns name
--- stream_config
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com.;
        ns aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com;
    }
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid ns name "a{65}\.example\.com": label longer than 63 bytes at offset \d+ in \S+nginx\.conf:\d+/



=== TEST 4: a hostname outside every zone
--- stream_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.org; pools us; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*hostname "www\.example\.org" of cflb_lb "www" is outside every cflb_dns_zone in \S+nginx\.conf:\d+/



=== TEST 5: two load balancers with one hostname, in any case
--- stream_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools us; }
    cflb_lb www2 { hostname WWW.Example.COM.; pools us; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*hostname "WWW\.Example\.COM\." of cflb_lb "www2" in \S+nginx\.conf:\d+ is the hostname of cflb_lb "www" in \S+nginx\.conf:\d+ too/



=== TEST 6: hostname in http{} is refused with the reason
--- http_config
    cflb_zone cflb 1m;
    cflb_pool us { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools us; hostname www.example.com; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"hostname" has no meaning in http\{\}: a load balancer answers DNS queries for its hostname in stream\{\} \(cflb_dns\) in \S+nginx\.conf:\d+/



=== TEST 7: ttl in http{} too
--- http_config
    cflb_zone cflb 1m;
    cflb_pool us { endpoint a 127.0.0.1:1990; }
    cflb_lb www { pools us; ttl 30; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"ttl" has no meaning in http\{\}/



=== TEST 8: ttl without a hostname
--- stream_config eval
$::Zone . q{
    cflb_lb www { pools us; ttl 30; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_lb "www" has "ttl" or "enabled" but no "hostname" in \S+nginx\.conf:\d+/



=== TEST 9: an invalid ttl
--- stream_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools us; ttl -1; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid ttl "-1" in \S+nginx\.conf:\d+/



=== TEST 10: a zone without ns
--- stream_config
    cflb_dns_zone example.com { soa ns1.example.com. hostmaster.example.com.; }
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_dns_zone "example\.com" needs "ns" in \S+nginx\.conf:\d+/



=== TEST 11: an invalid soa parameter
--- stream_config
    cflb_dns_zone example.com {
        soa ns1.example.com. hostmaster.example.com. refresh=soon;
        ns ns1.example.com.;
    }
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid soa parameter "refresh=soon" in cflb_dns_zone "example\.com" in \S+nginx\.conf:\d+/



=== TEST 12: a duplicate zone, in any case
--- stream_config
    cflb_dns_zone example.com { soa a. b.; ns a.; }
    cflb_dns_zone EXAMPLE.com. { soa a. b.; ns a.; }
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate cflb_dns_zone "EXAMPLE\.com\.", first defined in \S+nginx\.conf:\d+/



=== TEST 13: cflb_dns and proxy_pass in one server
--- stream_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools us; }
    server { listen 127.0.0.1:1953 udp; cflb_dns; proxy_pass www; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_dns in \S+nginx\.conf:\d+ conflicts with another content handler of the server \(proxy_pass, return\.\.\.\)/



=== TEST 14: cflb_dns without a zone to answer for
--- stream_config
    cflb_zone dns 1m;
    server { listen 127.0.0.1:1953 udp; cflb_dns; }
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*cflb_dns in \S+nginx\.conf:\d+ has no cflb_dns_zone to answer for/



=== TEST 15: an edns_size out of range
--- stream_config eval
$::Zone . q{
    server { listen 127.0.0.1:1953 udp; cflb_dns edns_size=100; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid cflb_dns "edns_size=100", the size must be from 512 to 4096 in \S+nginx\.conf:\d+/



=== TEST 16: an unknown cflb_dns parameter
--- stream_config eval
$::Zone . q{
    server { listen 127.0.0.1:1953 udp; cflb_dns fast; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid cflb_dns parameter "fast", expected direct=on\|off, edns_size= or tcp_timeout= in \S+nginx\.conf:\d+/



=== TEST 17: a hostname endpoint of a load balancer at the apex (a CNAME is not allowed there)
--- stream_config eval
$::Zone . q{
    cflb_pool origin { endpoint o localhost:80; }
    cflb_lb apex { hostname example.com; pools origin; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*endpoint "o" of cflb_pool "origin" is a hostname, but cflb_lb "apex" answers at the zone apex, where a CNAME is not allowed/



=== TEST 18: cflb_dns outside a server
--- stream_config eval
$::Zone . q{
    cflb_dns;
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"cflb_dns" directive is not allowed here in \S+nginx\.conf:\d+/



=== TEST 19: enabled with a value other than on or off
--- stream_config eval
$::Zone . q{
    cflb_lb www { hostname www.example.com; pools us; enabled maybe; }
}
--- stream_server_config
    return "x";
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in "enabled", it must be "on" or "off" in \S+nginx\.conf:\d+/
