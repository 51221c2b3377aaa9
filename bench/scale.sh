#!/usr/bin/env bash
# cflb scale benchmark: large pools, many pools, large configurations
# (issue 15), against nginx's own balancers.  docs/performance.md
# ("Large pools and large configurations") has the method and results.
#
#   bench/scale.sh                full run (about 25 minutes on 2 cores)
#   BENCH_QUICK=1 bench/scale.sh  smoke run (about 5 minutes)
#
# Parts (BENCH_PARTS, all by default):
#   pools   instructions per proxied request (callgrind, the difference
#           of two run lengths as in bench/run.sh) for one pool of n
#           endpoints, n in BENCH_SIZES (4 100 1000 10000): nginx
#           upstream round robin, least_conn, "random two least_conn",
#           "hash $request_uri consistent"; cflb random and
#           least_outstanding_requests.  The n endpoints cycle over four
#           backends, so keepalive connections are shared as in
#           production pools behind one address each.
#   lbs     a load balancer of 2 and of 50 pools of 4 endpoints with
#           "steering least_outstanding_requests", against nginx round
#           robin over 4 servers
#   config  nginx -t and reload, wall time (median of 3) and
#           instructions: one pool of 10,000 endpoints against nginx's
#           upstream of 10,000 servers (with a zone), and 100,000
#           endpoints in 1,000 pools against 1,000 upstreams of 100
#   zone    shared memory per endpoint: the smallest zone nginx -t takes,
#           by bisection to a page, for 1,000 and 10,000 endpoints with
#           realistic names (16-32 characters), least_outstanding_requests
#           (a tree in the zone too), cflb_zone against nginx's upstream
#           zone; and what cflb's "too small" message says
#
# Knobs: BENCH_N1 (300) BENCH_N2 (900) requests of the two callgrind
# runs; BENCH_SIZES; BENCH_PARTS; BENCH_KEEP=1 keeps the temp dir;
# BENCH_NO_BUILD=1 uses build/*.so as they are; BENCH_MODULE=FILE
# measures another build of ngx_http_cflb_module.so (an older commit,
# for a before/after), and implies BENCH_NO_BUILD.
#
# Needs nginx, valgrind, curl and python3; talks to 127.0.0.1 only;
# everything it starts is stopped on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
module=${BENCH_MODULE:-$top/build/ngx_http_cflb_module.so}

if [ -n "${BENCH_QUICK:-}" ]; then
    n1=${BENCH_N1:-100}
    n2=${BENCH_N2:-300}
    sizes=${BENCH_SIZES:-4 1000 10000}
else
    n1=${BENCH_N1:-300}
    n2=${BENCH_N2:-900}
    sizes=${BENCH_SIZES:-4 100 1000 10000}
fi

parts=${BENCH_PARTS:-pools lbs config zone}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cflb-scale.XXXXXX")
pids=()

# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- configs

http_paths() {
    local d=$1
    cat <<EOF
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    access_log off;
EOF
}

# the four backends, one nginx worker, "return 200"
write_backend_conf() {
    local d=$tmp/backend p
    {
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "http {"
        http_paths "$d"
        echo "    keepalive_requests 10000000; keepalive_timeout 300s;"
        for p in "${backend_ports[@]}"; do
            echo "    server { listen 127.0.0.1:$p;"
            echo "             location / { return 200 \"ok\"; } }"
        done
        echo "}"
    } > "$d.conf"
}

# upstream_body VARIANT N: what the front end proxies to
upstream_body() {
    local v=$1 n=$2 i p
    case $v in
    rr|lc|r2lc|chash)
        echo "    upstream backends {"
        case $v in
        lc) echo "        least_conn;" ;;
        r2lc) echo "        random two least_conn;" ;;
        chash) echo "        hash \$request_uri consistent;" ;;
        esac
        for ((i = 0; i < n; i++)); do
            p=${backend_ports[$((i % 4))]}
            echo "        server 127.0.0.1:$p;"
        done
        echo "        keepalive 128;"
        echo "    }"
        ;;
    cflb_rnd|cflb_lors)
        echo "    cflb_zone cflb 64m;"
        echo "    cflb_pool p1 {"
        for ((i = 0; i < n; i++)); do
            p=${backend_ports[$((i % 4))]}
            echo "        endpoint e$i 127.0.0.1:$p;"
        done
        if [ "$v" = cflb_rnd ]; then
            echo "        endpoint_steering random;"
        else
            echo "        endpoint_steering least_outstanding_requests;"
        fi
        echo "    }"
        echo "    cflb_lb backends { pools p1; keepalive 128; }"
        ;;
    cflb_pools)
        # n pools of 4 endpoints, the pools chosen by load
        echo "    cflb_zone cflb 16m;"
        for ((i = 0; i < n; i++)); do
            echo "    cflb_pool p$i {"
            for p in "${backend_ports[@]}"; do
                echo "        endpoint e$p 127.0.0.1:$p;"
            done
            echo "    }"
        done
        echo -n "    cflb_lb backends { pools"
        for ((i = 0; i < n; i++)); do echo -n " p$i"; done
        echo "; steering least_outstanding_requests; keepalive 128; }"
        ;;
    esac
}

# write_front VARIANT N: a single-process front end, $tmp/V-N.conf
write_front() {
    local v=$1 n=$2 d=$tmp/$1-$2
    {
        case $v in cflb_*) echo "load_module $module;" ;; esac
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "http {"
        http_paths "$d"
        echo "    keepalive_requests 10000000; keepalive_timeout 300s;"
        echo "    proxy_http_version 1.1;"
        echo "    proxy_set_header Connection \"\";"
        upstream_body "$v" "$n"
        echo "    server {"
        echo "        listen 127.0.0.1:$front_port;"
        echo "        location / { proxy_pass http://backends; }"
        echo "    }"
        echo "}"
    } > "$d.conf"
}


# ---------------------------------------------------------------- measuring

# requests /1 .. /N on one kept-alive connection: the 200s and connects
send_requests() {
    curl -s --max-time 900 -w '\n%{http_code} %{num_connects}\n' \
        "http://127.0.0.1:$front_port/[1-$1]" \
        | awk '$1 == 200 && NF == 2 { ok++; conn += $2 }
               END { print ok + 0, conn + 0 }'
}

# front_cmd and start_front (common.sh) run $tmp/$1.conf
front_cmd() {
    echo "nginx -p $tmp/$1 -e $tmp/$1/error.log -c $tmp/$1.conf"
}

# ir_per_request NAME: callgrind's Ir per request of front end NAME, the
# difference of an N1 and an N2 run; sets result
ir_per_request() {
    local name=$1 n a b f ok conns
    for n in "$n1" "$n2"; do
        f=$tmp/callgrind.$name.$n
        start_front "$name" valgrind --tool=callgrind \
            --callgrind-out-file="$f"
        read -r ok conns <<< "$(send_requests "$n")"
        stop_pid "$front_pid" QUIT 120
        [ "$ok" = "$n" ] || die "$name: only $ok of $n requests answered 200"
        [ "$conns" = 1 ] || log "bench: $name: $conns client connections"
        if [ "$n" = "$n1" ]; then
            a=$(awk '/^totals:/ { print $2 }' "$f")
        else
            b=$(awk '/^totals:/ { print $2 }' "$f")
        fi
    done
    result=$(awk -v a="$a" -v b="$b" -v d="$((n2 - n1))" \
        'BEGIN { printf "%.0f", (b - a) / d }')
}


# ---------------------------------------------------------------- parts

part_pools() {
    local n v
    local -A ir
    local variants=(rr lc r2lc chash cflb_rnd cflb_lors)

    echo "Instructions per proxied request, one pool of n endpoints"
    echo "(callgrind, N1=$n1 N2=$n2; ratios to nginx least_conn and to"
    echo "random two least_conn)"
    printf '  %-7s' n
    for v in "${variants[@]}"; do printf ' %10s' "$v"; done
    printf ' %8s %8s %8s\n' lors/lc lors/r2 lors/rr

    for n in $sizes; do
        for v in "${variants[@]}"; do
            write_front "$v" "$n"
            nginx -t -q -p "$tmp/$v-$n" -e "$tmp/$v-$n/error.log" \
                -c "$tmp/$v-$n.conf" || die "$v-$n: nginx -t failed"
            ir_per_request "$v-$n"
            ir[$v]=$result
            log "bench: pools n=$n $v: $result Ir/req"
        done
        printf '  %-7s' "$n"
        for v in "${variants[@]}"; do printf ' %10s' "${ir[$v]}"; done
        printf ' %8s %8s %8s\n' "$(ratio "${ir[cflb_lors]}" "${ir[lc]}")" \
            "$(ratio "${ir[cflb_lors]}" "${ir[r2lc]}")" \
            "$(ratio "${ir[cflb_lors]}" "${ir[rr]}")"
    done
    echo "  goal: least_outstanding_requests <= 1.03 x least_conn at every n"
    echo
}

part_lbs() {
    local n rr

    echo "A load balancer of n pools of 4 endpoints, steering"
    echo "least_outstanding_requests, against nginx round robin (4 servers)"
    write_front rr 4
    ir_per_request rr-4
    rr=$result
    printf '  %-24s %10s %8s\n' variant Ir/req x_rr
    printf '  %-24s %10s %8s\n' "nginx round robin" "$rr" 1.000
    for n in 2 50; do
        write_front cflb_pools "$n"
        nginx -t -q -p "$tmp/cflb_pools-$n" \
            -e "$tmp/cflb_pools-$n/error.log" -c "$tmp/cflb_pools-$n.conf" \
            || die "cflb_pools-$n: nginx -t failed"
        ir_per_request "cflb_pools-$n"
        log "bench: lbs $n pools: $result Ir/req"
        printf '  %-24s %10s %8s\n' "cflb, $n pools" "$result" \
            "$(ratio "$result" "$rr")"
    done
    echo "  goal: 50 pools <= 1.03 x nginx round robin"
    echo
}

# config_file KIND POOLS PER ZONE: one nginx.conf for nginx -t; KIND
# cflb or nginx; names of 16-32 characters; addresses 10.x.y.z:8080
config_file() {
    python3 - "$@" "$module" <<'EOF'
import sys
kind, pools, per, zone, module = sys.argv[1:6]
pools, per = int(pools), int(per)
out = []
if kind == 'cflb':
    out.append('load_module %s;' % module)
out.append('events {}')
out.append('http {')
out.append('  access_log off;')
if kind == 'cflb':
    out.append('  cflb_zone cflb %s;' % zone)
elif zone == 'auto':
    # each upstream its own zone, room for about 2 KB per server
    zone = '%dm' % max(1, (per * 2048 + (1 << 20) - 1) >> 20)
for p in range(pools):
    pool = 'pool-frontend-%s-%04d' % (('east', 'west')[p % 2], p)
    if kind == 'cflb':
        out.append('  cflb_pool %s {' % pool)
    else:
        out.append('  upstream %s {' % pool)
        out.append('    zone %s %s;' % (pool, zone))
    for e in range(per):
        i = p * per + e
        addr = '10.%d.%d.%d:8080' % (i >> 16 & 255, i >> 8 & 255, i & 255)
        if kind == 'cflb':
            out.append('    endpoint app-server-%06d.dc1 %s;' % (i, addr))
        else:
            out.append('    server %s;' % addr)
    if kind == 'cflb':
        # a least-load tree too: the most a pool takes
        out.append('    endpoint_steering least_outstanding_requests;')
    out.append('  }')
    if kind == 'cflb':
        out.append('  cflb_lb lb-%s { pools %s; }' % (pool, pool))
out.append('}')
print('\n'.join(out))
EOF
}

# nginx_t FILE: nginx -t in a prefix of its own; success or not
nginx_t() {
    local d=$tmp/t.$$
    mkdir -p "$d/logs"
    nginx -t -q -p "$d" -e "$d/logs/error.log" -g "pid $d/nginx.pid;" \
        -c "$1" > "$d/out" 2>&1
}

# wall time of nginx -t, median of 3, in ms
nginx_t_ms() {
    local i t0 t1 list=()
    for i in 1 2 3; do
        t0=$(date +%s%N)
        nginx_t "$1" || die "nginx -t failed on $1"
        t1=$(date +%s%N)
        list+=($(((t1 - t0) / 1000000)))
    done
    median "${list[@]}"
}

# instructions of nginx -t (callgrind, the whole process)
nginx_t_ir() {
    local d=$tmp/t.$$
    mkdir -p "$d/logs"
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.t" \
        nginx -t -q -p "$d" -e "$d/logs/error.log" -g "pid $d/nginx.pid;" \
        -c "$1" > /dev/null 2>&1 || die "nginx -t under callgrind failed"
    awk '/^totals:/ { print $2 }' "$tmp/cg.t"
}

# reload_ms FILE: a master with 1 worker runs FILE; the time from HUP
# until the new worker replaced the old one, median of 3 reloads, in ms
reload_ms() {
    local d=$tmp/r.$$ master old new i t0 t1 list=()
    mkdir -p "$d/logs"
    nginx -p "$d" -e "$d/logs/error.log" -c "$1" \
        -g "pid $d/nginx.pid; daemon off; worker_processes 1;" \
        > "$d/out" 2>&1 &
    master=$!
    pids+=("$master")
    for i in $(seq 100); do
        old=$(pgrep -P "$master" | head -n 1 || true)
        [ -n "$old" ] && break
        sleep 0.1
    done
    [ -n "$old" ] || die "reload: no worker started for $1"
    for i in 1 2 3; do
        t0=$(date +%s%N)
        kill -HUP "$master"
        new=$old
        while [ "$new" = "$old" ] || [ -z "$new" ]; do
            new=$(pgrep -P "$master" | grep -vx "$old" | head -n 1 || true)
            sleep 0.01
        done
        t1=$(date +%s%N)
        list+=($(((t1 - t0) / 1000000)))
        while pgrep -P "$master" | grep -qx "$old"; do sleep 0.01; done
        old=$new
    done
    stop_pid "$master" QUIT 30
    median "${list[@]}"
}

part_config() {
    local c n cm nm
    echo "Configuration load: nginx -t (instructions, whole process, and"
    echo "wall time) and reload (HUP until the new worker runs), cflb"
    echo "against nginx's upstream{} with a zone, the same addresses"
    printf '  %-40s %12s %8s %10s\n' configuration "nginx -t Ir" "-t ms" \
        "reload ms"
    for c in "1 10000" "1000 100"; do
        read -r cm nm <<< "$c"
        config_file cflb "$cm" "$nm" 256m > "$tmp/cflb-$cm.conf"
        config_file nginx "$cm" "$nm" auto > "$tmp/nginx-$cm.conf"
        for k in nginx cflb; do
            n=$(nginx_t_ir "$tmp/$k-$cm.conf")
            eval "ir_$k=$n"
            printf '  %-40s %12s %8s %10s\n' \
                "$k: $cm x $nm = $((cm * nm))" "$n" \
                "$(nginx_t_ms "$tmp/$k-$cm.conf")" \
                "$(reload_ms "$tmp/$k-$cm.conf")"
        done
        # shellcheck disable=SC2154   # set by the eval above
        echo "    cflb / nginx, nginx -t Ir: $(ratio "$ir_cflb" "$ir_nginx")"
    done
    echo "  goal: one pool of 10,000 <= 2 x nginx's upstream of 10,000"
    echo
}

# the smallest zone (bytes, to a page) for which nginx -t accepts the
# configuration KIND POOLS PER
min_zone() {
    local kind=$1 pools=$2 per=$3 lo hi mid
    lo=8
    hi=65536
    while [ $((hi - lo)) -gt 1 ]; do
        mid=$(((lo + hi) / 2))
        config_file "$kind" "$pools" "$per" "$((mid * 4))k" > "$tmp/z.conf"
        if nginx_t "$tmp/z.conf"; then hi=$mid; else lo=$mid; fi
    done
    echo $((hi * 4096))
}

part_zone() {
    local k n a b said
    echo "Shared memory per endpoint: the smallest zone nginx -t accepts"
    echo "(bisection to 4 KB) for one pool of n endpoints, names of 20-22"
    echo "characters; per endpoint = (zone(n) - zone(10)) / (n - 10); for"
    echo "nginx, each upstream has its own zone"
    printf '  %-10s %8s %12s %12s %14s\n' kind n "zone(n)" "B/endpoint" \
        "cflb says"
    for k in nginx cflb; do
        a=$(min_zone "$k" 1 10)
        for n in 1000 10000; do
            b=$(min_zone "$k" 1 "$n")
            said=-
            if [ "$k" = cflb ]; then
                config_file cflb 1 "$n" 32k > "$tmp/z.conf"
                nginx_t "$tmp/z.conf" || true
                said=$(grep -o 'it needs [0-9]*k' "$tmp/t.$$/out" \
                       | grep -o '[0-9]*k' || echo '?')
            fi
            printf '  %-10s %8s %12s %12s %14s\n' "$k" "$n" "$b" \
                "$(((b - a) / (n - 10)))" "$said"
        done
    done
    echo "  goal: cflb <= nginx (about 805 B per server)"
    echo
}


# ---------------------------------------------------------------- main

for tool in nginx valgrind curl python3; do
    command -v "$tool" > /dev/null || die "$tool is not installed"
done

if [ -z "${BENCH_NO_BUILD:-}" ] && [ -z "${BENCH_MODULE:-}" ]; then
    "$top/scripts/build.sh" >&2 || die "module build failed"
fi
[ -f "$module" ] || die "no $module (run scripts/build.sh)"
cp "$module" "$tmp/ngx_http_cflb_module.so"
module=$tmp/ngx_http_cflb_module.so

read -r -a all_ports <<< "$(free_ports 5)"
[ "${#all_ports[@]}" = 5 ] || die "could not find 5 free ports"
backend_ports=("${all_ports[@]:0:4}")
front_port=${all_ports[4]}

write_backend_conf
nginx -p "$tmp/backend" -e "$tmp/backend/error.log" -c "$tmp/backend.conf" \
    > "$tmp/backend.out" 2>&1 &
pids+=("$!")
for p in "${backend_ports[@]}"; do
    wait_port "$p" 10 || die "backend on port $p did not come up"
done

cat <<EOF
cflb scale benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')
  host:   $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
  cflb:   ${BENCH_MODULE:-commit $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)}
  nginx:  $(nginx -v 2>&1 | sed 's/^nginx version: //')

EOF

for part in $parts; do
    "part_$part"
done
