#!/usr/bin/env bash
# cflb DNS-only benchmark: the cflb_dns responder against the dedicated
# authoritative servers Debian ships (gdnsd, the closest peer: health
# checked, geo; nsd; knot), answering the same names from the same data,
# one worker or thread each, side by side in one run, on loopback.
#
#   bench/dns.sh                  full run (about 8 minutes on 2 cores)
#   BENCH_QUICK=1 bench/dns.sh    smoke run (about a minute)
#
# Run it in a network namespace of its own so that its ports clash with
# nothing (ip netns add X; ip netns exec X ip link set lo up;
# ip netns exec X bench/dns.sh).
#
# Variants, each one process answering UDP on 127.0.0.1:
#   cflb          ngx_stream_cflb_module, cflb_dns: one nginx worker,
#                 datagrams answered from the listening socket's handler
#   cflb_session  the same with "cflb_dns direct=off": a stream session
#                 per datagram, as nginx's UDP path makes them
#   gdnsd         gdnsd 3, udp_threads 1
#   nsd           nsd 4, server-count 1
#   knot          knot 3, udp-workers 1
# All answer www.example.com A with two A records (cflb: a load balancer
# with one pool of two equal endpoints, so every query runs a decision).
#
# Measures, per variant, with and without a client subnet (ECS, RFC 7871,
# 192.0.2.0/24) in every query:
#   qps        dnsperf -T1 -c4 -q100 for BENCH_SECONDS: queries answered
#              per second at saturation, and queries lost (no answer in
#              5 s); median of BENCH_ROUNDS rounds.  Every server runs
#              from the start (idle but the one under load) and a round
#              runs them one after the other, so x_gdnsd is the median of
#              ratios taken seconds apart, which a busy moment of a shared
#              machine disturbs least.  At most
#              100 queries are in flight: 100 small datagrams fit the
#              default socket buffer (212992 bytes, about 800 bytes of
#              kernel memory each), so a server that another process
#              pauses for a moment loses none; with 200 they may not fit,
#              whatever the server

#   cpu/q      the server's CPU time (user + system, /proc, whole process
#              tree) per query answered during that run
#   p50, p99   latency at a fixed offered rate (BENCH_RATE qps, under
#              every server's maximum) over BENCH_LAT_SECONDS: dnsperf -v
#              reports each query's latency
# and then what the stream session costs: cflb and cflb_session answering
# a query outside every zone (REFUSED, no decision at all: the smallest
# handler there is) next to the full answer.
#
# Knobs: BENCH_SECONDS (3) BENCH_ROUNDS (5) BENCH_RATE (20000)
#        BENCH_LAT_SECONDS (3) BENCH_QUICK=1 (2 s, 1 round, 2 s latency)
#        BENCH_KEEP=1 (keep the temp dir) BENCH_NO_BUILD=1 (use
#        build/o2/ngx_stream_cflb_module.so as it is)
#
# Needs nginx, dnsperf, gdnsd, nsd, knot (Debian packages of those
# names), python3.  Loopback only; every load is bounded in time;
# everything it starts is stopped on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

# built with -O2, as Debian builds nginx, gdnsd, nsd and knot (the
# default build is nginx's -O), in a build directory of its own
build=$top/build/o2
module=$build/ngx_stream_cflb_module.so
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so

if [ -n "${BENCH_QUICK:-}" ]; then
    seconds=${BENCH_SECONDS:-2}
    rounds=${BENCH_ROUNDS:-1}
    lat_seconds=${BENCH_LAT_SECONDS:-2}
else
    seconds=${BENCH_SECONDS:-3}
    rounds=${BENCH_ROUNDS:-5}
    lat_seconds=${BENCH_LAT_SECONDS:-3}
fi
rate=${BENCH_RATE:-20000}

# the server on one CPU, dnsperf on another (when there are two), so
# they do not take turns on one; BENCH_NO_PIN=1 leaves it to the kernel
if [ -z "${BENCH_NO_PIN:-}" ] && [ "$(nproc)" -ge 2 ] \
   && command -v taskset > /dev/null
then
    server_pin="taskset -c 0"
    client="taskset -c 1"
else
    server_pin=""
    client=""
fi

variants=(cflb cflb_session gdnsd nsd knot)
declare -A describe=(
    [cflb]="cflb_dns (direct)"
    [cflb_session]="cflb_dns direct=off"
    [gdnsd]="gdnsd $(dpkg-query -W -f='${Version}' gdnsd 2>/dev/null)"
    [nsd]="nsd $(dpkg-query -W -f='${Version}' nsd 2>/dev/null)"
    [knot]="knot $(dpkg-query -W -f='${Version}' knot 2>/dev/null)"
)

# the client subnet option: code 8, family 1, /24, scope 0, 192.0.2
ecs_opt=8:00011800c00002

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cflb-bench-dns.XXXXXX")
pids=()

# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- configs

zone_file() {
    cat <<'EOF'
$ORIGIN example.com.
$TTL 3600
@    3600 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 604800 30
@    3600 IN NS  ns1.example.com.
@    3600 IN NS  ns2.example.com.
www    30 IN A   192.0.2.10
www    30 IN A   192.0.2.11
EOF
}

write_configs() {
    local d

    # cflb, both ways
    for v in cflb cflb_session; do
        d=$tmp/$v
        {
            echo "load_module $stream_module;"
            echo "load_module $module;"
            echo "daemon off; worker_processes 1;"
            nginx_paths "$d"
            echo "events { worker_connections 1024; }"
            echo "stream {"
            echo "    cflb_zone dns 1m;"
            echo "    cflb_dns_zone example.com {"
            echo "        soa ns1.example.com. hostmaster.example.com.;"
            echo "        ns ns1.example.com. ns2.example.com.;"
            echo "    }"
            echo "    cflb_pool web {"
            echo "        endpoint a 192.0.2.10:80;"
            echo "        endpoint b 192.0.2.11:80;"
            echo "    }"
            echo "    cflb_lb www { hostname www.example.com; pools web; }"
            echo "    server {"
            echo "        listen 127.0.0.1:${port[$v]} udp;"
            if [ "$v" = cflb ]; then
                echo "        cflb_dns;"
            else
                echo "        cflb_dns direct=off;"
            fi
            echo "    }"
            echo "}"
        } > "$d.conf"
    done

    # gdnsd: its state and control socket in the temp dir
    d=$tmp/gdnsd
    mkdir -p "$d/zones" "$d/run" "$d/state"
    zone_file > "$d/zones/example.com"
    cat > "$d/config" <<EOF
options => {
  listen => [ 127.0.0.1:${port[gdnsd]} ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => $d/run
  state_dir => $d/state
}
EOF

    # nsd, in the foreground, no database, no remote control
    d=$tmp/nsd
    mkdir -p "$d"
    zone_file > "$d/example.com.zone"
    cat > "$d/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@${port[nsd]}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$d"
    database: ""
    zonelistfile: "$d/zone.list"
    xfrdfile: "$d/xfrd.state"
    pidfile: "$d/nsd.pid"
    logfile: "$d/nsd.log"
    verbosity: 0
    # Debian builds nsd with response rate limiting, on by default at
    # 200 qps per /24: a benchmark from one address needs it off
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: example.com
    zonefile: example.com.zone
EOF

    # knot, in the foreground
    d=$tmp/knot
    mkdir -p "$d/db"
    zone_file > "$d/example.com.zone"
    cat > "$d/knot.conf" <<EOF
server:
    rundir: "$d"
    listen: 127.0.0.1@${port[knot]}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$d/db"
control:
    listen: "$d/knot.sock"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$d"
zone:
  - domain: example.com
    file: example.com.zone
EOF
}

server_cmd() {
    case $1 in
    cflb|cflb_session)
        echo "nginx -p $tmp/$1 -e $tmp/$1/error.log -c $tmp/$1.conf" ;;
    gdnsd)  echo "gdnsd -c $tmp/gdnsd start" ;;
    nsd)    echo "nsd -d -c $tmp/nsd/nsd.conf" ;;
    knot)   echo "knotd -c $tmp/knot/knot.conf" ;;
    esac
}


# ---------------------------------------------------------------- measuring

# start_server VARIANT: runs it, waits until it answers; sets server_pid
start_server() {
    local v=$1 cmd deadline
    read -r -a cmd <<< "$server_pin $(server_cmd "$v")"
    "${cmd[@]}" > "$tmp/$v.out" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    deadline=$((SECONDS + 20))
    while ! dig +time=1 +tries=1 +short -p "${port[$v]}" @127.0.0.1 \
              www.example.com A 2>/dev/null | grep -q 192.0.2; do
        if [ "$SECONDS" -ge "$deadline" ] \
           || ! kill -0 "$server_pid" 2>/dev/null
        then
            tail -n 20 "$tmp/$v.out" >&2 || true
            die "$v did not come up"
        fi
        sleep 0.2
    done
}

stop_server() {
    stop_pid "$server_pid" TERM 10
}

# CPU ticks of a process and all its descendants (nsd's servers are
# its grandchildren)
tree_ticks() {
    local p t
    t=$(cpu_ticks "$1")
    for p in $(pgrep -P "$1" 2>/dev/null || true); do
        t=$((t + $(tree_ticks "$p")))
    done
    echo "$t"
}

# the query file: one name, one type
printf 'www.example.com A\n' > "$tmp/q.www"
printf 'www.example.org A\n' > "$tmp/q.refused"

# qps_run VARIANT ROUND LOAD QUERIES: one saturation run; sets qps, lost
# and cpu (microseconds per answered query)
qps_run() {
    local v=$1 load=$3 out=$tmp/dnsperf.$1.$2.$3.$4 t0 t1 done_q args
    args=(-s 127.0.0.1 -p "${port[$v]}" -d "$tmp/q.$4" -T 1 -c 4 -q 100)
    [ "$load" = ecs ] && args+=(-E "$ecs_opt")
    $client dnsperf "${args[@]}" -l 1 > /dev/null 2>&1 || true # warm-up
    t0=$(tree_ticks "$server_pid")
    $client dnsperf "${args[@]}" -l "$seconds" > "$out" 2>&1 ||
        log "bench: dnsperf failed: $(tail -n 3 "$out")"
    t1=$(tree_ticks "$server_pid")
    qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$out")
    lost=$(awk '/Queries lost:/ { print $3 }' "$out")
    done_q=$(awk '/Queries completed:/ { print $3 }' "$out")
    cpu=$(awk -v t="$((t1 - t0))" -v hz="$clk_tck" -v n="${done_q:-0}" \
        'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print 0 }')
    qps=${qps:-0} lost=${lost:-?}
}

# lat_run VARIANT LOAD: latency at the fixed rate; sets p50 and p99 (us)
# and lat_lost
lat_run() {
    local v=$1 load=$2 out=$tmp/latency.$1.$2 args
    args=(-s 127.0.0.1 -p "${port[$v]}" -d "$tmp/q.www" -T 1 -c 4 -q 100
          -Q "$rate" -l "$lat_seconds" -v)
    [ "$load" = ecs ] && args+=(-E "$ecs_opt")
    $client dnsperf "${args[@]}" > "$out" 2>&1 || true
    read -r p50 p99 lat_lost <<< "$(python3 - "$out" <<'EOF'
import sys
lat, lost = [], '?'
for line in open(sys.argv[1]):
    if line.startswith('> '):
        try:
            lat.append(float(line.split()[-1]) * 1e6)
        except ValueError:
            pass                          # "> T ...": timed out, lost
    elif 'Queries lost:' in line:
        lost = line.split()[2]
lat.sort()
if not lat:
    print('n/a n/a', lost)
else:
    print('%.0f %.0f %s' % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)],
                            lost))
EOF
)"
}


# ---------------------------------------------------------------- main

for tool in nginx dnsperf gdnsd nsd knotd dig python3 pgrep; do
    command -v "$tool" > /dev/null ||
        die "$tool is not installed (scripts/deps.sh installs it)"
done

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    CFLB_BUILD=$build CFLB_CC_OPT="-O2 ${CFLB_CC_OPT:-}" \
        "$top/scripts/build.sh" >&2 || die "module build failed"
fi
[ -f "$module" ] || die "no $module (run bench/dns.sh without BENCH_NO_BUILD)"
cp "$module" "$tmp/ngx_stream_cflb_module.so"
module=$tmp/ngx_stream_cflb_module.so

read -r -a all_ports <<< "$(free_ports ${#variants[@]})"
[ "${#all_ports[@]}" = "${#variants[@]}" ] || die "no free ports"
declare -A port
i=0
for v in "${variants[@]}"; do
    port[$v]=${all_ports[$i]}
    i=$((i + 1))
done

clk_tck=$(getconf CLK_TCK)
write_configs

cat <<EOF
cflb DNS-only benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')
  host:     $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
  cflb:     commit $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
  nginx:    $(nginx -v 2>&1 | sed 's/^nginx version: //'), one worker;
            the module built with -O2
  dnsperf:  $(dnsperf -h 2>&1 | sed -n 's/^Version //p'), -T1 -c4 -q100,
            www.example.com A (two A records); qps: ${seconds}s runs,
            median of $rounds round(s) (x_gdnsd: median of per-round
            ratios); latency: -Q $rate for ${lat_seconds}s per round;
            ECS: 192.0.2.0/24 in every query
  cpus:     server: ${server_pin:-any}, dnsperf: ${client:-any}

EOF

# every server runs from the start, idle but for the one under load, so
# that the runs of one round follow each other within seconds: a busy
# moment of the machine then hits the variants of a round alike, and
# each variant's ratio to gdnsd is taken within its round
declare -A spid
for v in "${variants[@]}"; do
    start_server "$v"
    spid[$v]=$server_pid
done

# median with 3 decimals (of ratios)
median3() {
    printf '%s\n' "$@" | sort -g | awk 'NF { v[++n] = $1 }
        END { if (n == 0) print "n/a";
              else if (n % 2) printf "%.3f\n", v[(n + 1) / 2];
              else printf "%.3f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# ratio of two numbers, or nothing
ratio_of() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0)
                                         printf "%.3f", a / b }'
}

declare -A qps_list lost_list cpu_list p50_list p99_list lat_list
declare -A xq_list xp_list
loads=(plain ecs)
for r in $(seq "$rounds"); do
    for l in "${loads[@]}"; do
        for v in "${variants[@]}"; do
            server_pid=${spid[$v]}
            qps_run "$v" "$r" "$l" www
            qps_list[$v.$l]="${qps_list[$v.$l]:-} $qps"
            lost_list[$v.$l]="${lost_list[$v.$l]:-} $lost"
            cpu_list[$v.$l]="${cpu_list[$v.$l]:-} $cpu"
            declare "q_$v=$qps"
            log "bench: round $r/$rounds $l $v: $qps qps, $lost lost," \
                "$cpu us CPU/query"
        done
        for v in "${variants[@]}"; do
            q="q_$v"
            xq_list[$v.$l]="${xq_list[$v.$l]:-} $(ratio_of "${!q}" "$q_gdnsd")"
        done
        for v in "${variants[@]}"; do
            server_pid=${spid[$v]}
            lat_run "$v" "$l"
            p50_list[$v.$l]="${p50_list[$v.$l]:-} $p50"
            p99_list[$v.$l]="${p99_list[$v.$l]:-} $p99"
            lat_list[$v.$l]="${lat_list[$v.$l]:-} $lat_lost"
            declare "p_$v=$p99"
            log "bench: round $r/$rounds $l $v: at $rate qps p50 $p50 us," \
                "p99 $p99 us, $lat_lost lost"
        done
        for v in "${variants[@]}"; do
            q="p_$v"
            xp_list[$v.$l]="${xp_list[$v.$l]:-} $(ratio_of "${!q}" "$p_gdnsd")"
        done
    done
    for v in cflb cflb_session; do
        server_pid=${spid[$v]}
        qps_run "$v" "$r" plain refused
        qps_list[$v.refused]="${qps_list[$v.refused]:-} $qps"
        cpu_list[$v.refused]="${cpu_list[$v.refused]:-} $cpu"
        log "bench: round $r/$rounds refused $v: $qps qps, $cpu us CPU/query"
    done
done

for v in "${variants[@]}"; do
    stop_pid "${spid[$v]}" TERM 10
done

# sum of the numbers given
sum() {
    printf '%s\n' "$@" | awk '{ s += $1 } END { print s + 0 }'
}

declare -A p50s p99s lats xqs xps
for v in "${variants[@]}"; do
    for l in "${loads[@]}"; do
        # shellcheck disable=SC2086   # the lists are meant to split
        p50s[$v.$l]=$(median ${p50_list[$v.$l]})
        # shellcheck disable=SC2086
        p99s[$v.$l]=$(median ${p99_list[$v.$l]})
        # shellcheck disable=SC2086
        lats[$v.$l]=$(sum ${lat_list[$v.$l]})
        # shellcheck disable=SC2086
        xqs[$v.$l]=$(median3 ${xq_list[$v.$l]})
        # shellcheck disable=SC2086
        xps[$v.$l]=$(median3 ${xp_list[$v.$l]})
    done
done

for l in "${loads[@]}"; do
    [ "$l" = plain ] && echo "Without ECS" || echo "With ECS (192.0.2.0/24)"
    printf '  %-22s %8s %7s %6s %7s %8s %8s %7s %6s\n' variant qps x_gdnsd \
        lost cpu/q "p50 us" "p99 us" x_gdnsd lost
    for v in "${variants[@]}"; do
        # shellcheck disable=SC2086   # the lists are meant to split
        q=$(median ${qps_list[$v.$l]})
        # shellcheck disable=SC2086
        g=$(median ${qps_list[gdnsd.$l]})
        # shellcheck disable=SC2086
        c=$(median2 ${cpu_list[$v.$l]})
        # shellcheck disable=SC2086
        lsum=$(sum ${lost_list[$v.$l]})
        printf '  %-22s %8s %7s %6s %5sus %8s %8s %7s %6s\n' \
            "${describe[$v]}" "$q" "${xqs[$v.$l]}" "$lsum" "$c" \
            "${p50s[$v.$l]}" "${p99s[$v.$l]}" "${xps[$v.$l]}" \
            "${lats[$v.$l]}"
    done
    echo "  rounds (qps; p99 us):"
    for v in "${variants[@]}"; do
        printf '    %-22s %s; %s\n' "${describe[$v]}" \
            "${qps_list[$v.$l]# }" "${p99_list[$v.$l]# }"
    done
    echo "  x_gdnsd: the median of the ratios taken in each round"
    echo
done

echo "What the stream session costs (no ECS): a REFUSED answer (no zone,"
echo "no decision) next to the full one, directly and as sessions"
printf '  %-22s %12s %9s %12s %9s\n' variant "qps REFUSED" cpu/q \
    "qps answer" cpu/q
for v in cflb cflb_session; do
    # shellcheck disable=SC2086
    printf '  %-22s %12s %7sus %12s %7sus\n' "${describe[$v]}" \
        "$(median ${qps_list[$v.refused]})" \
        "$(median2 ${cpu_list[$v.refused]})" \
        "$(median ${qps_list[$v.plain]})" \
        "$(median2 ${cpu_list[$v.plain]})"
done
echo

echo "Goal (issue 13): cflb >= 0.9 x gdnsd's qps with 0 lost queries, and"
echo "p99 <= 1.5 x gdnsd's"
for l in "${loads[@]}"; do
    # shellcheck disable=SC2086
    lsum=$(sum ${lost_list[cflb.$l]})
    xq=${xqs[cflb.$l]:-n/a}
    xp=${xps[cflb.$l]:-n/a}
    if awk -v q="$xq" -v p="$xp" -v l="$lsum" \
        'BEGIN { exit !(q >= 0.9 && p > 0 && p <= 1.5 && l == 0) }'
    then
        verdict=met
    else
        verdict="NOT met"
    fi
    printf '  %-6s qps x%s, lost %s, p99 x%s: %s\n' "$l" "$xq" "$lsum" \
        "$xp" "$verdict"
done
