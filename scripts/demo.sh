#!/usr/bin/env bash
# The cflb demo: nginx with the cflb modules on 127.0.0.1:8080 in front of
# six local endpoints in three pools.  Shows the traffic split, then an
# outage of one pool and the failover, then the recovery, session
# affinity, location steering (clients placed by their loopback source
# address), and prints the dashboard's address
# (http://127.0.0.1:8080/cflb).  Leaves both
# nginx instances running for you to try; "scripts/demo.sh stop" ends them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/build/demo
nginx=${NGINX:-/usr/sbin/nginx}

# stop the demo's two nginx instances by their pid files, each only if
# that pid still is an nginx run with the demo's prefix
stop() {
    local f pid
    for f in "$demo/logs/nginx.pid" "$demo/logs/backends.pid"; do
        [ -f "$f" ] || continue
        read -r pid < "$f" || continue
        tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" \
            | grep -qF -- "-p $demo " || continue
        kill -QUIT "$pid" 2>/dev/null || true
    done
    sleep 0.5
}

if [ "${1:-}" = stop ]; then
    stop
    echo "demo: stopped"
    exit 0
fi

echo "demo: [1/3] Debian packages (scripts/deps.sh)..."
"$top/scripts/deps.sh"
echo "demo: [2/3] the modules (scripts/build.sh)..."
"$top/scripts/build.sh"

echo "demo: [3/3] starting nginx: six endpoints on 127.0.0.1:8081-8086," \
     "cflb on 127.0.0.1:8080..."
stop
mkdir -p "$demo/logs" "$demo/modules" "$demo/conf"
ln -sf "$top/build/ngx_http_cflb_module.so" "$demo/modules/"
cp "$top/conf-examples/demo.conf" "$top/conf-examples/demo-backends.conf" \
   "$demo/conf/"
# the demo's client databases (conf-examples/geo-clients.txt), under a
# second: each client is a loopback address placed in a country
mkdir -p "$demo/conf/geo"
for kind in city asn; do
    perl "$top/t/lib/cflb-mmdb.pl" "$kind" "$demo/conf/geo/clients-$kind.mmdb" \
        < "$top/conf-examples/geo-clients.txt"
done

"$nginx" -p "$demo" -c conf/demo-backends.conf
"$nginx" -p "$demo" -c conf/demo.conf
sleep 1

# N requests over one keep-alive connection; count who answered
tally() {
    local url=$1 n=$2 urls=()
    for ((i = 0; i < n; i++)); do urls+=("$url"); done
    curl -s "${urls[@]}" | sed 's/ host=.*//' | sort | uniq -c \
        | awk -v n="$n" '{ printf "    %-12s %5d  %5.1f %%\n", $2, $1, 100 * $1 / n }'
}

health() {
    curl -s http://127.0.0.1:8080/status | perl -MJSON::PP -e '
        my $st = decode_json(join "", <STDIN>);
        for my $p (@{ $st->{pools} }) {
            printf "    %-12s %-9s", $p->{name}, $p->{health};
            printf " %s=%s", $_->{name}, $_->{health} for @{ $p->{endpoints} };
            print "\n";
        }'
}

backends() {
    # with or without the us_east endpoints (8081-8083)
    if [ "$1" = down ]; then
        sed -i '/127.0.0.1:808[123]/s/^/#/' "$demo/conf/demo-backends.conf"
    else
        sed -i '/127.0.0.1:808[123]/s/^#//' "$demo/conf/demo-backends.conf"
    fi
    "$nginx" -p "$demo" -c conf/demo-backends.conf -s reload 2>/dev/null
    sleep 1
}

cat <<END

cflb demo: nginx with ngx_http_cflb_module on http://127.0.0.1:8080/
  load balancer "www":      pools us_east (a .5, b .3, c .2) and eu_west
                            (d, e), steering random 60/40
  load balancer "failover": the same pools, steering off (active-passive)
  load balancers "geo" and "near": steering geo and proximity over them
                            and ap_northeast (f), clients placed by source
                            address (conf-examples/geo-clients.txt)

1. Traffic split of 1000 requests to http://127.0.0.1:8080/
   (expected: us_east 60 % as a 30 / b 18 / c 12, eu_west 40 % as d/e)
END
tally http://127.0.0.1:8080/ 1000

echo
echo "2. Active-passive: 200 requests to /failover (all to us_east)"
tally http://127.0.0.1:8080/failover 200

echo
echo "   Health, from the monitors (one probe per endpoint per second):"
health

echo
echo "3. us_east goes down (its three endpoints stop listening)."
backends down
echo "   The monitors mark it critical within a second or two:"
health
echo "   200 requests to /failover: all to eu_west, no client errors"
tally http://127.0.0.1:8080/failover 200

echo
echo "4. us_east is back: the monitors see it, traffic fails back."
backends up
sleep 1
health
tally http://127.0.0.1:8080/failover 200

echo
echo "5. Session affinity on /sticky: 100 requests without cookies spread,"
echo "   100 with the __cflb cookie of the first response stay on one endpoint."
tally http://127.0.0.1:8080/sticky 100
jar="$demo/cookies.txt"
rm -f "$jar"
for ((i = 0; i < 100; i++)); do
    curl -s -b "$jar" -c "$jar" http://127.0.0.1:8080/sticky
done | sed 's/ host=.*//' | sort | uniq -c \
    | awk '{ printf "    %-12s %5d  (with the cookie)\n", $2, $1 }'
awk '$6 == "__cflb" { print "    cookie: __cflb=" $7 }' "$jar"

echo
echo "6. Location steering: one request to /geo and one to /near from each"
echo "   client address (curl --interface), placed by the demo's database:"
printf '    %-11s %-16s %-14s %-20s %-14s %s\n' client place geo why near why
for ip in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.7 \
          127.0.0.99; do
    g=$(curl -s -D - --interface "$ip" http://127.0.0.1:8080/geo | tr -d '\r')
    n=$(curl -s -D - --interface "$ip" http://127.0.0.1:8080/near | tr -d '\r')
    printf '    %-11s %-16s %-14s %-20s %-14s %s\n' "$ip" \
        "$(sed -n 's/^X-Cflb-Client: *//p' <<< "$g" \
           | sed 's/ \([0-9]\)/ AS\1/; s/^ *$/unknown/')" \
        "$(tail -n 1 <<< "$g" | sed 's/ host=.*//')" \
        "$(sed -n 's/^X-Cflb-Trace: .*pool=[^(]*(\([^)]*\)).*/\1/p' <<< "$g")" \
        "$(tail -n 1 <<< "$n" | sed 's/ host=.*//')" \
        "$(sed -n 's/^X-Cflb-Trace: .*pool=[^(]*(\([^)]*\)).*/\1/p' <<< "$n")"
done

cat <<END

Shared counters of every pool and endpoint:
    curl http://127.0.0.1:8080/status
$(curl -s http://127.0.0.1:8080/status | head -c 400)...

Open the dashboard in a browser on this machine (it refreshes itself):
    http://127.0.0.1:8080/cflb

Try it yourself:
    curl -i http://127.0.0.1:8080/          (X-Cflb-Pool, X-Cflb-Endpoint)
    curl -i --interface 127.0.0.5 http://127.0.0.1:8080/geo    (a client in Tokyo)
    tail -f $demo/logs/cflb.log             (each decision)
    grep cflb: $demo/logs/error.log         (health changes)
    edit $demo/conf/demo.conf, then
    $nginx -p $demo -c conf/demo.conf -s reload

Stop the demo: scripts/demo.sh stop
END
