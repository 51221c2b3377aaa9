#!/usr/bin/env bash
# cflb geo: databases for benchmarks, the lookup check, and the cost of
# one lookup.
#
#   bench/geo-db.sh               everything below, into build/geo/
#   bench/geo-db.sh check         step 1 only (seconds; for a test run)
#   GEO_NPM=1 bench/geo-db.sh     also the ip-location-db database from
#                                 the npm package (a second, real-world
#                                 database in the flat layout)
#   GEO_LOOKUPS=N                 lookups per measurement (200000)
#
# 1. the test databases of t/lib/cflb-mmdb.pl (every layout, IPv4 and
#    IPv6 trees) and the lookup check over them: the real
#    ngx_cflb_geo_lookup() compiled against the nginx headers of a
#    scripts/build.sh tree (bench/cflb_geo_lookup.c);
# 2. a full-size Country database, written by the same Perl writer from
#    Debian's tor-geoipdb ranges (build time and size printed), and the
#    same ranges with GeoLite2-City-sized records (made-up places); not
#    committed, rebuilt when missing;
# 3. instructions per lookup, counted by callgrind over
#    ngx_cflb_geo_lookup() only, for random public IPv4 and IPv6
#    addresses.
#
# Needs: libmaxmind-db-writer-perl mmdb-bin tor-geoipdb valgrind
# libmaxminddb-dev (scripts/deps.sh installs them).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/geo
lookups=${GEO_LOOKUPS:-200000}

log() { printf '%s\n' "$*" >&2; }
die() { log "geo-db: $*"; exit 1; }

mode=${1:-all}

for tool in perl mmdblookup valgrind cc; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh)"
done
[ -f /usr/share/tor/geoip ] || die "tor-geoipdb is missing (scripts/deps.sh)"

mkdir -p "$out/test"

# the nginx headers and ngx_auto_config.h of this machine's nginx
[ -f "$top/build/nginx/objs/ngx_auto_config.h" ] || "$top/scripts/build.sh"
ngx=$top/build/nginx

log "geo-db: the lookup harness"
cc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
    -I"$ngx/src/core" -I"$ngx/src/event" -I"$ngx/src/event/modules" \
    -I"$ngx/src/os/unix" -I"$ngx/objs" \
    -I"$top/src/common" -I"$top/src/ngx" \
    "$top/bench/cflb_geo_lookup.c" "$top/src/ngx/ngx_cflb_geo.c" \
    "$top/src/common/cflb_geo.c" "$top/src/common/cflb_geo_vec.c" \
    -o "$out/cflb_geo_lookup" -lmaxminddb

log "geo-db: the writer's self-test (mmdblookup reads it back)"
perl "$top/t/lib/cflb-mmdb.pl" --selftest

log "geo-db: the test databases and the lookup check"
perl "$top/t/lib/cflb-mmdb.pl" --testdbs "$out/test"
"$out/cflb_geo_lookup" check "$out/test"

[ "$mode" = check ] && exit 0

dbs=()
for kind in country city; do
    db=$out/tor-$kind.mmdb
    flag=--tor
    [ "$kind" = city ] && flag=--tor-city
    if [ ! -f "$db" ]; then
        log "geo-db: building $db from tor-geoipdb"
        start=$(date +%s.%N)
        perl "$top/t/lib/cflb-mmdb.pl" "$flag" "$db.tmp"
        mv "$db.tmp" "$db"
        end=$(date +%s.%N)
        printf 'geo-db: %s: built in %.1f s, %s bytes\n' "$db" \
            "$(echo "$end - $start" | bc)" "$(stat -c %s "$db")"
    fi
    dbs+=("$db")
done

if [ "${GEO_NPM:-0}" = 1 ]; then
    pkg=@ip-location-db/geo-whois-asn-country-mmdb
    npmdb=$out/npm/node_modules/$pkg/geo-whois-asn-country.mmdb
    if [ ! -f "$npmdb" ]; then
        log "geo-db: npm install $pkg"
        npm install --prefix "$out/npm" --no-audit --no-fund "$pkg" >&2
    fi
    dbs+=("$npmdb")
fi

# Ir per lookup: callgrind counts only inside ngx_cflb_geo_lookup(), so
# opening the file and making addresses do not count
for f in "${dbs[@]}"; do
    for family in 4 6; do
        cg=$out/callgrind.out.$family
        valgrind --tool=callgrind --callgrind-out-file="$cg" \
            --toggle-collect=ngx_cflb_geo_lookup \
            "$out/cflb_geo_lookup" bench "$f" "$lookups" "$family" \
            2>"$out/valgrind.log" \
            || { cat "$out/valgrind.log" >&2; die "callgrind failed"; }
        ir=$(awk '/^summary:/ { print $2 }' "$cg")
        printf 'geo-db: %s, IPv%s: %s Ir per lookup (%s lookups)\n' \
            "$(basename "$f")" "$family" \
            "$(echo "scale=1; $ir / $lookups" | bc)" "$lookups"
    done
done
