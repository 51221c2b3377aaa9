#!/usr/bin/env bash
# Smoke test of the Debian packages (scripts/deb.sh builds them), as an
# operator would use them, on this machine, as root:
#
#   scripts/deb-smoke.sh [DIR]          DIR defaults to build/deb
#
#  1. every dependency of the packages comes from a Debian archive;
#  2. "apt install ./...deb" of both, the nginx service kept as it was
#     (policy-rc.d denies service actions during apt if no policy exists);
#  3. the files, the mod-*.conf snippets and their modules-enabled links;
#  4. "nginx -t", without any load_module, through the modules-enabled
#     links: the machine's own nginx.conf, every file of conf-examples/,
#     and the examples the packages ship;
#  5. traffic on loopback in a network namespace of its own, from a test
#     prefix: conf-examples/demo.conf in front of demo-backends.conf, plus
#     a stream{} load balancer, its status document and its dashboard;
#  6. "apt purge" of both, then no file of the packages, no link and no
#     change under /etc/nginx is left, and the service is as it was.
#
# Installed copies of the two packages are purged first: the test starts
# from a machine without them, and leaves it so, pass or fail.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "${1:-$top/build/deb}" && pwd)
pkgs=(libnginx-mod-http-cflb libnginx-mod-stream-cflb)
nginx=/usr/sbin/nginx
ns=cflb-deb-smoke

[ "$(id -u)" -eq 0 ] || { echo "deb-smoke: run as root" >&2; exit 1; }

debs=()
for p in "${pkgs[@]}"; do
    f=("$dir/${p}"_*.deb)
    if [ ${#f[@]} -ne 1 ] || [ ! -f "${f[0]}" ]; then
        echo "deb-smoke: want one ${p}_*.deb in $dir" >&2
        exit 1
    fi
    debs+=("${f[0]}")
done

checks=0
fail() { echo "deb-smoke: FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 "$@"
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

tmp=$(mktemp -d)
chmod 755 "$tmp"
policy=/usr/sbin/policy-rc.d
own_policy=no
netns_up=no
purged=yes

cleanup() {
    set +e
    if [ $netns_up = yes ]; then
        for pid in "$tmp"/prefix/logs/*.pid; do
            [ -f "$pid" ] && kill -QUIT "$(cat "$pid")" 2>/dev/null
        done
        sleep 0.5
        ip netns delete "$ns" 2>/dev/null
    fi
    if [ $purged = no ]; then
        echo "deb-smoke: purging the packages after a failure" >&2
        apt_get purge -y -qq "${pkgs[@]}" >/dev/null 2>&1
    fi
    [ $own_policy = yes ] && rm -f "$policy"
    rm -rf "$tmp"
}
trap cleanup EXIT

# Packages' maintainer scripts must not start, stop or reload the
# machine's nginx while we install and purge: "exit 101" is "not now".
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    own_policy=yes
fi

# the nginx service as the machine has it: running or not, enabled or not
service_state() {
    if [ -f /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null
    then
        echo "running $(cat /run/nginx.pid)"
    else
        echo "not running"
    fi
    echo "rc links:" /etc/rc?.d/*nginx*
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl is-enabled nginx 2>/dev/null || true
    fi
}

# what the packages could touch under /etc/nginx, links included
etc_state() {
    find /etc/nginx -printf '%p %y %l\n' | sort
}

for p in "${pkgs[@]}"; do
    if dpkg-query -W "$p" >/dev/null 2>&1 \
       && ! dpkg-query -W -f='${Status}' "$p" | grep -q 'not-installed'
    then
        echo "deb-smoke: purging an earlier $p"
        apt_get purge -y -qq "$p" >/dev/null
    fi
done

service_before=$(service_state)
etc_before=$(etc_state)


# 1. dependencies from Debian only

# the package sources whose Release file says Origin: Debian
apt-cache policy | awk '
    /^ *-?[0-9]+ / { src = $0; sub(/^ *-?[0-9]+ /, "", src) }
    /^ +release .*o=Debian(,|$)/ { print src }' > "$tmp/debian-sources"
[ -s "$tmp/debian-sources" ] || fail "apt knows no Debian archive"

# true if apt installs PKG (or has it installed) from a Debian archive
from_debian() {
    apt-cache policy "$1" | awk -v srcs="$tmp/debian-sources" '
        BEGIN { while ((getline l < srcs) > 0) debian[l] = 1 }
        /^  Candidate:/ { cand = $2 }
        /^  Installed:/ { inst = $2 }
        # mawk has no {n}: the version lines start with " *** " or 5 blanks
        /^ (\*\*\*|   ) [^ ]+ -?[0-9]+$/ {
            v = $0; sub(/^ (\*\*\*|   ) /, "", v); sub(/ -?[0-9]+$/, "", v)
            next
        }
        /^        -?[0-9]+ / {
            s = $0; sub(/^ *-?[0-9]+ /, "", s)
            if ((v == cand || v == inst) && (s in debian)) found = 1
        }
        END { exit !found }'
}

deps=$(for deb in "${debs[@]}"; do dpkg-deb -f "$deb" Depends; done \
       | tr ',|' '\n\n' | sed -E 's/\(.*\)//; s/:any//; s/^ *//; s/ *$//' \
       | grep -v '^$' | sort -u)
for dep in $deps; do
    providers=$dep
    if [ -z "$(apt-cache show "$dep" 2>/dev/null)" ]; then
        # a virtual package, e.g. nginx-abi-*: who provides it
        providers=$(apt-cache showpkg "$dep" \
                    | sed -n '/^Reverse Provides:/,$p' | sed 1d \
                    | awk '{ print $1 }' | sort -u)
        [ -n "$providers" ] || fail "nothing provides $dep"
    fi
    for p in $providers; do
        from_debian "$p" || fail "$dep: $p is not from a Debian archive"
    done
done
ok "every dependency is a Debian package: $(echo "$deps" | paste -sd,)"

apt_get install -s "${debs[@]}" > "$tmp/simulate" 2>&1 \
    || { cat "$tmp/simulate" >&2; fail "apt cannot install the packages"; }
if grep -E '^(Inst|Remv) ' "$tmp/simulate" \
   | grep -vE '^Inst libnginx-mod-(http|stream)-cflb ' \
   | grep -v 'Debian' > "$tmp/foreign"; then
    cat "$tmp/foreign" >&2
    fail "apt would pull or remove packages not from Debian"
fi
ok "apt install pulls only Debian packages" \
   "($(grep -c '^Inst ' "$tmp/simulate") to install, ours included)"


# 2. install

purged=no
apt_get install -y -qq "${debs[@]}" > "$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log" >&2; fail "apt install"; }
for p in "${pkgs[@]}"; do
    installed "$p" || fail "$p is not installed"
done
ok "apt install ./$(basename "${debs[0]}") ./$(basename "${debs[1]}")"

[ "$(service_state)" = "$service_before" ] \
    || fail "the nginx service changed on install"
ok "the nginx service is as it was: $(echo "$service_before" | head -n 1)"


# 3. files and links

for p in "${pkgs[@]}"; do
    dpkg -L "$p" > "$tmp/$p.files"
done

check_module() {    # package module-file conf-name priority
    local so=/usr/lib/nginx/modules/$2
    local conf=/usr/share/nginx/modules-available/$3
    local link=/etc/nginx/modules-enabled/$4-$3
    local doc=/usr/share/doc/$1
    [ -f "$so" ] || fail "$so missing"
    grep -qx "load_module modules/$2;" "$conf" || fail "$conf: $(cat "$conf")"
    [ "$(readlink "$link")" = "$conf" ] || fail "$link is not a link to $conf"
    for f in copyright changelog.Debian.gz README.Debian README.md.gz \
             directives.md.gz; do
        [ -f "$doc/$f" ] || fail "$doc/$f missing"
    done
    ls "$doc"/examples/*.conf >/dev/null 2>&1 || fail "no $doc/examples"
    ok "$1: $so, $link, $doc"
}

check_module libnginx-mod-http-cflb ngx_http_cflb_module.so \
    mod-http-cflb.conf 50
check_module libnginx-mod-stream-cflb ngx_stream_cflb_module.so \
    mod-stream-cflb.conf 70
# the stream module must load before the stream cflb module
[ -e /etc/nginx/modules-enabled/50-mod-stream.conf ] \
    || fail "libnginx-mod-stream's 50-mod-stream.conf is not enabled"
ok "50-mod-stream.conf loads before 70-mod-stream-cflb.conf"

abi=$(dpkg-query -W -f='${Provides}' nginx | tr ',' '\n' \
      | grep -o 'nginx-abi-[^ ]*' || true)
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Depends}' "$p" | grep -q "$abi" \
        || fail "$p does not depend on $abi"
done
ok "both depend on $abi, which the installed nginx provides"


# 4. nginx -t through modules-enabled, in a namespace of its own

ip netns add "$ns"
netns_up=yes
ip netns exec "$ns" ip link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

# a test prefix laid out as Debian's (/usr/share/nginx), whose modules/
# is a link to /usr/lib/nginx/modules: "load_module modules/..." in the
# mod-*.conf snippets is relative to the prefix
mkdir -p "$tmp/prefix/logs" "$tmp/prefix/conf/geo"
ln -s /usr/lib/nginx/modules "$tmp/prefix/modules"

# demo.conf steers by location: its client databases, as the demo makes them
for kind in city asn; do
    perl "$top/t/lib/cflb-mmdb.pl" "$kind" \
        "$tmp/prefix/conf/geo/clients-$kind.mmdb" \
        < "$top/conf-examples/geo-clients.txt"
done

# a conf-examples file as Debian runs it: no load_module, the enabled
# modules included instead, as /etc/nginx/nginx.conf does
debianize() {
    {
        echo "include /etc/nginx/modules-enabled/*.conf;"
        grep -v '^[[:space:]]*load_module' "$1"
    } > "$2"
}

nginx_t() {     # conf what [prefix]
    in_ns "$nginx" -t -p "${3:-$tmp/prefix/}" -c "$1" > "$tmp/t.log" 2>&1 \
        && grep -q 'test is successful' "$tmp/t.log" \
        || { cat "$tmp/t.log" >&2; fail "nginx -t $2"; }
    ok "nginx -t $2"
}

nginx_t /etc/nginx/nginx.conf "/etc/nginx/nginx.conf (the machine's own)" \
    /usr/share/nginx/

for conf in "$top"/conf-examples/*.conf; do
    name=$(basename "$conf")
    debianize "$conf" "$tmp/prefix/conf/$name"
    nginx_t "$tmp/prefix/conf/$name" "conf-examples/$name, modules-enabled"
done

cat > "$tmp/prefix/conf/shipped-examples.conf" << END
include /etc/nginx/modules-enabled/*.conf;
events {}
http {
    include /usr/share/doc/libnginx-mod-http-cflb/examples/cflb-http.conf;
}
include /usr/share/doc/libnginx-mod-stream-cflb/examples/cflb-stream.conf;
END
nginx_t "$tmp/prefix/conf/shipped-examples.conf" \
    "the examples in /usr/share/doc, modules-enabled"


# 5. traffic: the demo's load balancer, and a stream{} one beside it

conf=$tmp/prefix/conf/demo.conf
cat >> "$conf" << 'END'

stream {
    cflb_zone cflb_stream 1m;

    cflb_pool l4 {
        endpoint a 127.0.0.1:8081;
        endpoint d 127.0.0.1:8084;
    }

    cflb_lb l4 { pools l4; }

    server {
        listen 127.0.0.1:9000;
        proxy_pass l4;
    }
}
END
debianize "$top/conf-examples/demo-backends.conf" \
    "$tmp/prefix/conf/demo-backends.conf"

in_ns "$nginx" -p "$tmp/prefix/" -c "$tmp/prefix/conf/demo-backends.conf"
in_ns "$nginx" -p "$tmp/prefix/" -c "$conf"

# N requests over one connection; who answered, counted
tally() {
    local url=$1 n=$2 urls=() i
    for ((i = 0; i < n; i++)); do urls+=("$url"); done
    in_ns curl -sS --retry 5 --retry-connrefused --retry-delay 1 \
        -o - "${urls[@]}" | sed 's/ host=.*//' | sort | uniq -c
}

# the demo's pools have health monitors: wait until the first probes
# have found every endpoint healthy (during that round a pool can be
# critical for a moment, and its share goes to the other one)
healthy() {
    in_ns curl -sS http://127.0.0.1:8080/status 2>/dev/null \
    | perl -MJSON::PP -e '
        my $st = eval { decode_json(do { local $/; <STDIN> }) } or exit 1;
        exit !(@{ $st->{pools} } >= 2
               && !grep { $_->{health} ne "healthy" } @{ $st->{pools} });'
}
for ((i = 0; i < 100; i++)); do
    healthy && break
    sleep 0.1
done
healthy || fail "http: the demo's pools did not become healthy"
ok "http: every pool of the demo is healthy"

# 1000 requests, random steering 60 % / 40 % between the pools: us_east
# gets 600, one standard deviation is sqrt(1000 * 0.6 * 0.4) = 15.5, and
# the tolerance is 5 of them (a false failure once in 1.7 million runs)
tally http://127.0.0.1:8080/ 1000 > "$tmp/l7"
total=$(awk '{ n += $1 } END { print n + 0 }' "$tmp/l7")
[ "$total" -eq 1000 ] \
    || { cat "$tmp/l7" >&2; fail "http: $total/1000 answers"; }
if grep -vE ' (us_east/[abc]|eu_west/[de])$' "$tmp/l7"; then
    fail "http: unexpected answers"
fi
us=$(awk '$2 ~ /^us_east/ { n += $1 } END { print n + 0 }' "$tmp/l7")
[ "$us" -ge 523 ] && [ "$us" -le 677 ] \
    || { cat "$tmp/l7" >&2; fail "http: us_east took $us of 1000, not 600"; }
ok "http: 1000 requests through cflb_lb www, us_east $us (600 +- 77):" \
   "$(awk '{ printf "%s %s ", $2, $1 }' "$tmp/l7")"

# layer 4: endpoints a and d, 1/2 each, over 100 connections
for ((i = 0; i < 100; i++)); do
    in_ns curl -sS http://127.0.0.1:9000/ || true
done | sort | uniq -c > "$tmp/l4"
grep -q ' us_east/a$' "$tmp/l4" && grep -q ' eu_west/d$' "$tmp/l4" \
    || { cat "$tmp/l4" >&2; fail "stream: both endpoints should answer"; }
total=$(awk '{ n += $1 } END { print n + 0 }' "$tmp/l4")
[ "$total" -eq 100 ] || { cat "$tmp/l4" >&2; fail "stream: $total/100"; }
ok "stream: 100 TCP connections through cflb_lb l4:" \
   "$(awk '{ printf "%s %s ", $2, $1 }' "$tmp/l4")"

# the counters in shared memory saw exactly that traffic
in_ns curl -sS -o "$tmp/status.json" http://127.0.0.1:8080/status
perl -MJSON::PP -e '
    my $st = decode_json(do { local $/; <STDIN> });
    my %http = map { $_->{name} => $_ } @{ $st->{pools} };
    my %l4 = map { $_->{name} => $_ } @{ $st->{stream}{pools} || [] };
    my $n = $http{us_east}{requests} + $http{eu_west}{requests};
    $n == 1000 or die "status: http pools counted $n requests, not 1000\n";
    ($l4{l4}{requests} // -1) == 100
        or die "status: stream pool l4 counted $l4{l4}{requests}, not 100\n";
' < "$tmp/status.json" || fail "status document"
ok "cflb_status: 1000 http requests and 100 stream sessions counted"

code=$(in_ns curl -sS -o "$tmp/dash.html" -w '%{http_code} %{content_type}' \
       http://127.0.0.1:8080/cflb)
case $code in
"200 text/html"*) grep -qi '<html' "$tmp/dash.html" \
                      || fail "dashboard: no page" ;;
*) fail "dashboard: $code" ;;
esac
ok "cflb_dashboard: the page built in at configure time"

if grep -E '\[(alert|emerg|crit|error)\]' "$tmp"/prefix/logs/error.log; then
    fail "errors in the error log"
fi
ok "no error in the error log"

for pid in "$tmp"/prefix/logs/*.pid; do
    kill -QUIT "$(cat "$pid")"
done
sleep 0.5
ip netns delete "$ns"
netns_up=no


# 6. purge

apt_get purge -y -qq "${pkgs[@]}" > "$tmp/purge.log" 2>&1 \
    || { cat "$tmp/purge.log" >&2; fail "apt purge"; }
purged=yes
for p in "${pkgs[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
       | grep -qv 'not-installed'; then
        fail "$p is still known to dpkg: $(dpkg-query -W -f='${Status}' "$p")"
    fi
    if ls /var/lib/dpkg/info/"$p".* >/dev/null 2>&1; then
        fail "/var/lib/dpkg/info/$p.* left"
    fi
    while read -r f; do
        # directories other packages share (/usr/lib/nginx/modules) stay
        if [ -d "$f" ] && [ "$f" != "/usr/share/doc/$p" ]; then
            continue
        fi
        if [ -e "$f" ] || [ -L "$f" ]; then
            fail "$f left behind by $p"
        fi
    done < "$tmp/$p.files"
done
ok "apt purge: no file of the packages is left"

[ "$(etc_state)" = "$etc_before" ] || {
    diff <(echo "$etc_before") <(etc_state) >&2
    fail "/etc/nginx differs from before the install"
}
ok "/etc/nginx is as before the install (modules-enabled links gone)"

[ "$(service_state)" = "$service_before" ] \
    || fail "the nginx service changed"
ok "the nginx service is as it was"

echo "deb-smoke: $checks passed"
