# vim:set ft= ts=4 sw=4 et fdm=marker:

# The dashboard (cflb_dashboard, docs/dashboard.md) in Debian's headless
# chromium against real nginx: the rendered DOM is compared with the
# status document nginx serves, and a screenshot is decoded (Cflb.pm's
# PNG reader) to see the health colours drawn.  Chromium is required: the
# test fails without it.  Other blocks check the location's answers.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::Nginx::Util qw($ServerPort);
use JSON::PP;
use File::Temp ();
use Cflb;

repeat_each(1);
workers(2);
master_on();
log_level('warn');

plan "no_plan";

# the colours app.css gives healthy and unhealthy (or critical)
our %Colour = (green => '#1a7f37', red => '#cf222e');

# a 14-pixel dot draws about 120 pixels of its exact colour (its rim is
# blended with the background)
our $Dot = 100;

our $Backends = <<'_EOC_';
    server { listen 127.0.0.1:1990; return 200 "good\n"; }
    server { listen 127.0.0.1:1991; return 200 "old\n"; }
    server { listen 127.0.0.1:1992; return 200 "s1\n"; }
    server { listen 127.0.0.1:1993; return 200 "s2\n"; }
    cflb_zone cflb 1m;
_EOC_

no_long_string();
no_shuffle();
run_tests();


sub url { "http://127.0.0.1:$ServerPort$_[0]" }


# the endpoint rows of a dumped DOM: { "pool/endpoint" => { class, html } }
sub rows {
    my ($dom) = @_;

    my %rows;

    while ($dom =~ m{<tr\ class="endpoint\ ([^"]*)"\ data-pool="([^"]*)"
                     \ data-endpoint="([^"]*)">(.*?)</tr>}gsx)
    {
        $rows{"$2/$3"} = { class => $1, html => $4 };
    }

    return \%rows;
}


# the text of an HTML fragment
sub text {
    my ($html) = @_;

    $html =~ s/<[^>]*>/ /g;
    $html =~ s/\s+/ /g;
    $html =~ s/^ | $//g;

    return $html;
}


# the error banner of a dumped DOM: "hidden" or its text
sub banner {
    my ($dom) = @_;

    my ($attrs, $body) = $dom =~ m{<div id="error"([^>]*)>(.*?)</div>}s
        or return "missing";

    return $attrs =~ /\bhidden\b/ ? "hidden" : "shown: " . text($body);
}


# what the DOM of TEST 1 shows, against the status document $st
sub compare {
    my ($dom, $st) = @_;

    my $rows = rows($dom);
    my (%pools, %eps, $bad_shares);

    $pools{$1} = 1 while $dom =~ /<tr class="pool [^"]*" data-pool="([^"]*)"/g;

    for my $p (@{ $st->{pools} }) {
        for my $e (@{ $p->{endpoints} }) {
            my $name = "$p->{name}/$e->{name}";
            my $row = $rows->{$name} or next;
            $eps{$name} = $e;

            my ($share) = $row->{html} =~ /data-share="([\d.]+)"/;
            my $want = $p->{requests} ? $e->{requests} / $p->{requests} : -1;

            $bad_shares .= " $name=" . ($share // 'none') . "/$want"
                unless defined $share && abs($share - $want) < 0.0001;
        }
    }

    my $out = "load balancers shown: "
        . CORE::join(' ', sort($dom =~ /<li class="lb" data-lb="([^"]*)"/g))
        . "\npools shown: " . CORE::join(' ', sort keys %pools)
        . "\nendpoints shown: " . CORE::join(' ', sort keys %$rows) . "\n";

    for my $name ('web/good', 'web/bad') {
        my $row = $rows->{$name} or next;
        my ($reason) = $row->{html} =~ m{<td class="reason">(.*?)</td>};
        $out .= "$name: $row->{class}, reason "
            . ($reason eq $eps{$name}{reason} ? "as the status says"
                                               : "\"$reason\"") . "\n";
    }

    $out .= "web/old: " . drain($rows->{'web/old'}, $eps{'web/old'}) . "\n";
    $out .= "shares as the status says: "
        . ($bad_shares ? "no:$bad_shares" : keys %eps ? "yes" : "no rows")
        . "\n";

    return $out;
}


# the disabled endpoint's row: struck out, and a countdown exactly when
# the status document has a drain in progress
sub drain {
    my ($row, $e) = @_;

    return "not shown" unless $row;

    my $out = $row->{class} =~ /\bdisabled\b/ ? "disabled" : "not disabled";
    my ($count) = $row->{html} =~ m{<span class="drain"[^>]*>([^<]*)</span>};

    if (ref $e->{drain} && $e->{drain}{remaining} > 0) {
        Test::More::diag("status has drain, remaining $e->{drain}{remaining}");
        return "$out, countdown as the status says"
            if ($count // '') =~ /^drains in \d+:\d\d$/;

    } else {
        Test::More::diag("status has no drain in progress for web/old");
        return "$out, countdown as the status says" unless defined $count;
    }

    return "$out, drain cell \"" . ($count // 'none') . "\"";
}

__DATA__

=== TEST 1: the dashboard in chromium: pools, endpoints, health, shares, drain, colours
Pool web has a healthy endpoint, one whose monitor finds its port closed
(1999), and one disabled in the configuration with a drain in progress
(cookie affinity); pool spare is unmonitored.  Traffic first: 20 requests
to www (all to web/good), 40 to spread (s1 and s2 at random).  The
screenshot must show more of each health colour than the same page with
an empty status document (the legend draws one dot of each), by at least
one dot.
--- http_config eval
$::Backends . q{
    cflb_monitor tcp { type tcp; interval 1s; timeout 500ms; retries 0; }
    cflb_pool web {
        endpoint good 127.0.0.1:1990;
        endpoint bad 127.0.0.1:1999;
        endpoint old 127.0.0.1:1991 disabled;
        monitor tcp;
    }
    cflb_pool spare {
        endpoint s1 127.0.0.1:1992;
        endpoint s2 127.0.0.1:1993 weight=0.5;
    }
    cflb_lb www {
        pools web spare;
        session_affinity cookie;
        drain_duration 300s;
    }
    cflb_lb spread { pools spare; steering random; }
}
--- config
    location = /status { cflb_status; }
    location = /dash { cflb_dashboard; }
    location = /empty {
        if ($arg_format = json) { return 200 '{"lbs":[],"pools":[]}'; }
        cflb_dashboard;
    }
    location /t { proxy_pass http://www; }
    location /s { proxy_pass http://spread; }
--- init
Cflb::wait_health('web/bad', 'unhealthy', 10);
Cflb::wait_health('web/good', 'healthy', 10);
Cflb::load('/t', 20);
Cflb::load('/s', 40);

my $dom = Cflb::chromium(main::url('/dash'));
my $dir = File::Temp::tempdir('cflb-dash-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($png, $empty) = ("$dir/dash.png", "$dir/empty.png");
Cflb::chromium(main::url('/dash'), png => $png);
Cflb::chromium(main::url('/empty'), png => $empty);

my $img = Cflb::png_read($png);
my $base = Cflb::png_read($empty);
my %more = map { $_ => Cflb::png_count($img, $::Colour{$_}, 8)
                      - Cflb::png_count($base, $::Colour{$_}, 8) } keys %::Colour;
Test::More::diag("pixels beyond the empty page's: green $more{green}, red $more{red}");

$Cflb::note{dom} = $dom;
$Cflb::note{shot} = "screenshot: PNG $img->{width}x$img->{height}\n"
    . "green of the healthy endpoint: " . ($more{green} >= $::Dot ? "drawn" : "missing") . "\n"
    . "red of the unhealthy endpoint: " . ($more{red} >= $::Dot ? "drawn" : "missing") . "\n";
--- request
GET /status
--- response_body_filters eval
sub {
    my $dom = $Cflb::note{dom};
    main::compare($dom, JSON::PP::decode_json(shift))
    . "error banner: " . main::banner($dom) . "\n"
    . "last updated: " . ($dom =~ m{<time id="updated">\d\d:\d\d:\d\d</time>} ? "a time" : "not set") . "\n"
    . $Cflb::note{shot};
}
--- response_body
load balancers shown: spread www
pools shown: spare web
endpoints shown: spare/s1 spare/s2 web/bad web/good web/old
web/good: health-healthy, reason as the status says
web/bad: health-unhealthy, reason as the status says
web/old: disabled, countdown as the status says
shares as the status says: yes
error banner: hidden
last updated: a time
screenshot: PNG 1280x900
green of the healthy endpoint: drawn
red of the unhealthy endpoint: drawn
--- no_error_log
[error]
--- timeout: 120



=== TEST 2: fields of a newer status document: drain countdown, drained, stream, outstanding, failovers, bytes
The page is fed a fixed document by a location that answers ?format=json
itself, so every field the renderer knows is exercised: a drain with 95 s
left (about 4 s of virtual time pass in chromium), one at 0, a stream
section, outstanding and sessions, failovers and byte counts.
--- config
    location = /fix {
        if ($arg_format = json) {
            return 200 '{"time":1700000000,"subsystem":"http","lbs":[{"name":"www","steering":"random","fallback_pool":"p","pools":[{"name":"p","weight":0.6}]}],"pools":[{"name":"p","enabled":true,"endpoint_steering":"random","minimum_origins":1,"monitor":null,"health":"unmonitored","active":0,"outstanding":2,"requests":10,"fails":1,"failovers":1,"bytes_sent":1500,"bytes_received":2500000,"endpoints":[{"name":"draining","address":"127.0.0.1:1","weight":1.00,"enabled":false,"active":0,"outstanding":2,"requests":4,"fails":0,"failovers":0,"drain":{"since":1699999905,"remaining":95}},{"name":"drained","address":"127.0.0.1:2","weight":0.5,"enabled":false,"active":0,"requests":6,"fails":1,"failovers":1,"drain":{"since":1699990000,"remaining":0}}]}],"stream":{"lbs":[{"name":"tcp","steering":"off","fallback_pool":"sp","pools":[{"name":"sp","weight":1.00}]}],"pools":[{"name":"sp","enabled":true,"endpoint_steering":"least_connections","minimum_origins":1,"monitor":null,"health":"unmonitored","active":3,"requests":7,"fails":0,"endpoints":[{"name":"s","address":"127.0.0.1:3","weight":1.00,"enabled":true,"active":3,"sessions":3,"requests":7,"fails":0}]}]}}';
        }
        cflb_dashboard;
    }
--- init
$Cflb::note{dom} = Cflb::chromium(main::url('/fix'));
--- request
GET /fix?asset=index.html
--- response_body_filters eval
sub {
    my $dom = $Cflb::note{dom};
    my $rows = main::rows($dom);
    my $out = '';

    for my $name (sort keys %$rows) {
        my @td = map { main::text($_) } $rows->{$name}{html} =~ m{<td[^>]*>(.*?)</td>}gs;
        $td[10] =~ s/^drains in 1:([23]\d)$/drains in 1:2x-3x/;
        $out .= "$name: " . CORE::join(' | ', map { length ? $_ : '(empty)' } @td[3 .. 10]) . "\n";
    }

    my ($detail) = $dom =~ m{data-pool="p">.*?<span class="detail">(.*?)</span>}s;
    $out .= "pool p: $detail\n";

    $out . "stream section: " . ($dom =~ m{<section class="subsystem" id="stream"><h2>Stream} ? "yes" : "no") . "\n"
    . "error banner: " . main::banner($dom) . "\n";
}
--- response_body
p/drained: 0.50 | no | 60.0 % | – | 0 | 6 | 1 (1 failover) | drained
p/draining: 1.00 | no | 40.0 % | – | 2 | 4 | 0 (0 failovers) | drains in 1:2x-3x
sp/s: 1.00 | yes | 100.0 % | – | 3 | 7 | 0 | (empty)
pool p: enabled · steering random · monitor none · minimum origins 1 · RTT – · outstanding 2 · requests 10 · 1.5 kB out, 2.5 MB in · fails 1 (1 failover)
stream section: yes
error banner: hidden
--- no_error_log
[error]
--- timeout: 60



=== TEST 3: a failing status fetch shows the error banner
--- config
    location = /broken {
        if ($arg_format = json) { return 502; }
        cflb_dashboard;
    }
--- init
$Cflb::note{dom} = Cflb::chromium(main::url('/broken'));
--- request
GET /broken?asset=app.css
--- response_body_filters eval
sub { "error banner: " . main::banner($Cflb::note{dom}) . "\n" }
--- response_body
error banner: shown: Cannot fetch the status: HTTP 502
--- timeout: 60



=== TEST 4: the page: HTML, security headers, assets referenced from the same location
--- config
    location = /dash { cflb_dashboard; }
--- request
GET /dash
--- response_headers
Content-Type: text/html; charset=utf-8
Cache-Control: no-store
X-Content-Type-Options: nosniff
Content-Security-Policy: default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'
--- response_body_like chomp
<script src="\?asset=app\.js" defer></script>
--- no_error_log
[error]



=== TEST 5: the script, with its type
--- config
    location = /dash { cflb_dashboard; }
--- request
GET /dash?asset=app.js
--- response_headers
Content-Type: text/javascript; charset=utf-8
X-Content-Type-Options: nosniff
--- response_body_like chomp
fetch\('\?format=json'



=== TEST 6: the style sheet, with its type
--- config
    location = /dash { cflb_dashboard; }
--- request
GET /dash?asset=app.css
--- response_headers
Content-Type: text/css; charset=utf-8
--- response_body_like chomp
--green: #1a7f37;



=== TEST 7: the status document from the same location
--- http_config eval
$::Backends . q{
    cflb_pool web { endpoint good 127.0.0.1:1990; }
    cflb_lb www { pools web; }
}
--- config
    location = /dash { cflb_dashboard; }
--- request
GET /dash?format=json
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_filters eval
sub { CORE::join ' ', map { $_->{name} } @{ JSON::PP::decode_json(shift)->{pools} } }
--- response_body chomp
web



=== TEST 8: HEAD answers the headers only
--- config
    location = /dash { cflb_dashboard; }
--- request
HEAD /dash?asset=app.css
--- response_headers
Content-Type: text/css; charset=utf-8
--- response_body chomp



=== TEST 9: other methods get 405
--- config
    location = /dash { cflb_dashboard; }
--- request
POST /dash
x=1
--- error_code: 405



=== TEST 10: an unknown asset or format is not found
--- config
    location = /dash { cflb_dashboard; }
--- request eval
["GET /dash?asset=../../etc/passwd", "GET /dash?format=xml"]
--- error_code eval
[404, 404]



=== TEST 11: cflb_dashboard takes no arguments
--- config
    location = /dash { cflb_dashboard on; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "cflb_dashboard" directive in \S+nginx\.conf:\d+/
