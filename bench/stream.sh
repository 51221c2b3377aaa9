#!/usr/bin/env bash
# cflb layer-4 benchmark: five TCP front ends, side by side, proxying to the
# same four loopback HTTP backends.  bench/run.sh runs it after the layer-7
# part; it also runs alone.
#
#   bench/stream.sh                  full run (about 4 minutes on 2 cores)
#   BENCH_QUICK=1 bench/stream.sh    smoke run (about a minute)
#
# Variants, each a stream{} proxy (HAProxy: mode tcp) in one process:
#   rr        nginx stream upstream, round robin (the baseline of ratios)
#   lc        nginx stream upstream, least_conn
#   haproxy   HAProxy, mode tcp, balance roundrobin, one thread
#   cflb_rnd  ngx_stream_cflb_module, endpoint_steering random
#   cflb_lc   ngx_stream_cflb_module, endpoint_steering least_connections
#
# A layer-4 balancer picks once per connection and then copies bytes, so
# two loads tell different things:
#   conn/s    connection rate: wrk -t1 -c32 with "Connection: close", so
#             every request is a new client connection and a new backend
#             connection (tiny response); median of BENCH_ROUNDS rounds
#             taken interleaved
#   cpu/conn  the front end's CPU time (user + system, /proc) per
#             connection during that run
#   MB/s      throughput: wrk -t1 -c8 on kept-alive connections fetching a
#             256 KB body, so the pick is rare and the copy loop dominates
#   cpu/MB    the front end's CPU time per MB proxied during that run
#   Ir/conn   instructions the front end executes per proxied connection,
#             counted by callgrind: (Ir(N2 conns) - Ir(N1 conns)) /
#             (N2 - N1), one connection per request, sequential (stable)
# then where cflb's instructions go, per shared object and function,
# against nginx round robin.  docs/performance.md ("Layer 4") explains
# the method and the results.
#
# Knobs (environment):
#   BENCH_SECONDS (5)  BENCH_ROUNDS (3)  BENCH_N1 (500)  BENCH_N2 (1500)
#   BENCH_QUICK=1      (2 s, 1 round, N 100/300)
#   BENCH_KEEP=1       keep the temp dir (configs, callgrind files)
#   BENCH_NO_BUILD=1   use build/ngx_stream_cflb_module.so as it is
#   BENCH_STREAM_MODULE  nginx's own stream module (Debian's by default)
#
# Needs only nginx, haproxy, wrk, valgrind (callgrind), curl and python3;
# talks to 127.0.0.1 only; every load is bounded in time or count;
# everything it starts is stopped on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
module=$top/build/ngx_stream_cflb_module.so
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
stream_module=${BENCH_STREAM_MODULE:-$stream_module}

if [ -n "${BENCH_QUICK:-}" ]; then
    seconds=${BENCH_SECONDS:-2}
    rounds=${BENCH_ROUNDS:-1}
    n1=${BENCH_N1:-100}
    n2=${BENCH_N2:-300}
else
    seconds=${BENCH_SECONDS:-5}
    rounds=${BENCH_ROUNDS:-3}
    n1=${BENCH_N1:-500}
    n2=${BENCH_N2:-1500}
fi

big_kb=256      # the body of the throughput run

variants=(rr lc haproxy cflb_rnd cflb_lc)
declare -A describe=(
    [rr]="nginx stream round robin"
    [lc]="nginx stream least_conn"
    [haproxy]="haproxy mode tcp roundrobin"
    [cflb_rnd]="cflb stream random"
    [cflb_lc]="cflb stream least_connections"
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cflb-bench-l4.XXXXXX")
pids=()          # every process we started and have not reaped yet

# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- configs

# One nginx, one worker, four HTTP servers: "/" answers "ok", "/big" a
# 256 KB file.  The backends every variant shares; they honour
# "Connection: close" and keep other connections alive.
write_backend_conf() {
    local d=$tmp/backend p
    mkdir -p "$tmp/www"
    head -c $((big_kb * 1024)) /dev/zero | tr '\0' 'x' > "$tmp/www/big"
    {
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "    client_body_temp_path $d/body;"
        echo "    proxy_temp_path $d/proxy;"
        echo "    fastcgi_temp_path $d/fastcgi;"
        echo "    uwsgi_temp_path $d/uwsgi;"
        echo "    scgi_temp_path $d/scgi;"
        echo "    access_log off;"
        echo "    sendfile on;"
        echo "    keepalive_requests 10000000; keepalive_timeout 300s;"
        for p in "${backend_ports[@]}"; do
            echo "    server {"
            echo "        listen 127.0.0.1:$p;"
            echo "        location / { return 200 \"ok\"; }"
            echo "        location = /big { root $tmp/www; }"
            echo "    }"
        done
        echo "}"
    } > "$d.conf"
}

# the part of the front end's stream{} that differs between variants
upstream_block() {
    local p i
    case $1 in
    rr|lc)
        echo "    upstream backends {"
        [ "$1" = lc ] && echo "        least_conn;"
        for p in "${backend_ports[@]}"; do
            echo "        server 127.0.0.1:$p;"
        done
        echo "    }"
        ;;
    cflb_rnd|cflb_lc)
        echo "    cflb_zone cflb 4m;"
        echo "    cflb_pool p1 {"
        i=0
        for p in "${backend_ports[@]}"; do
            i=$((i + 1))
            echo "        endpoint e$i 127.0.0.1:$p;"
        done
        if [ "$1" = cflb_rnd ]; then
            echo "        endpoint_steering random;"
        else
            echo "        endpoint_steering least_connections;"
        fi
        echo "    }"
        echo "    cflb_lb backends { pools p1; steering off; }"
        ;;
    esac
}

# A single-process nginx whose stream{} proxies the front port (no
# master, so callgrind sees every instruction in one process); stream{}
# has no access log unless one is configured.
write_nginx_front_conf() {
    local v=$1 d=$tmp/$1
    {
        echo "load_module $stream_module;"
        case $v in cflb_*) echo "load_module $module;" ;; esac
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "stream {"
        upstream_block "$v"
        echo "    server {"
        echo "        listen 127.0.0.1:$front_port;"
        echo "        proxy_pass backends;"
        echo "    }"
        echo "}"
    } > "$d.conf"
}

# ---------------------------------------------------------------- measuring

# wrk_run VARIANT ROUND KIND: one timed wrk run against a fresh front end.
# KIND "conn": -c32, "Connection: close", tiny body; sets result (conn/s)
# and result_cpu (front-end CPU microseconds per connection).  KIND "big":
# -c8 kept alive, the 256 KB body; sets result (MB/s) and result_cpu
# (front-end CPU milliseconds per MB).  Returns through variables, not
# $(...), so the pids it records stay in this shell.
wrk_run() {
    local v=$1 kind=$3 out=$tmp/wrk.$1.$2.$3 t0 t1 n mb rc args
    if [ "$kind" = conn ]; then
        args=(-c32 -H "Connection: close" "http://127.0.0.1:$front_port/")
    else
        args=(-c8 "http://127.0.0.1:$front_port/big")
    fi
    start_front "$v"
    wrk -t1 -d1s "${args[@]}" > /dev/null 2>&1 || true     # warm-up
    t0=$(cpu_ticks "$front_pid")
    wrk -t1 -d"${seconds}s" --timeout 5s "${args[@]}" > "$out" 2>&1 || true
    t1=$(cpu_ticks "$front_pid")
    if ! kill -0 "$front_pid" 2>/dev/null; then
        # report a crash, do not average it into the numbers
        wait "$front_pid" && rc=0 || rc=$?
        log "bench: $v round $2 $kind: the front end DIED under load" \
            "(exit $rc):"
        tail -n 5 "$tmp/$v.out" "$tmp/$v/error.log" 2>/dev/null >&2 || true
        forget_pid "$front_pid"
        result=0 result_cpu=0
        return 0
    fi
    stop_pid "$front_pid" "$(front_stop_signal "$v")" 10
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        log "bench: $v round $2 $kind:" \
            "$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ')"
    fi
    n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out")
    if [ "$kind" = conn ]; then
        result=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
        result_cpu=$(awk -v t="$((t1 - t0))" -v hz="$clk_tck" -v n="${n:-0}" \
            'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n;
                     else print 0 }')
    else
        # MB proxied: responses times the body (headers are noise here)
        mb=$(awk -v n="${n:-0}" -v kb="$big_kb" \
            'BEGIN { printf "%.3f", n * kb / 1024 }')
        result=$(awk -v mb="$mb" -v s="$seconds" \
            'BEGIN { printf "%.0f", mb / s }')
        result_cpu=$(awk -v t="$((t1 - t0))" -v hz="$clk_tck" -v mb="$mb" \
            'BEGIN { if (mb > 0) printf "%.3f", t / hz * 1e3 / mb;
                     else print 0 }')
    fi
}

# N sequential connections, one request each ("Connection: close"), with
# curl's URL globbing; prints the number of 200 answers and of TCP
# connections curl opened (should be N)
send_connections() {
    curl -s --max-time 600 -H "Connection: close" \
        -w '\n%{http_code} %{num_connects}\n' \
        "http://127.0.0.1:$front_port/[1-$1]" \
        | awk '$1 == 200 && NF == 2 { ok++; conn += $2 }
               END { print ok + 0, conn + 0 }'
}

# callgrind_ir VARIANT N: total instructions of a whole front-end life
# (start, N connections, clean exit); sets result
callgrind_ir() {
    local v=$1 n=$2 f=$tmp/callgrind.$1.conn.$2 res ok conns
    start_front "$v" valgrind --tool=callgrind --callgrind-out-file="$f"
    res=$(send_connections "$n")
    read -r ok conns <<< "$res"
    stop_pid "$front_pid" "$(front_stop_signal "$v")" 60
    [ "$ok" = "$n" ] || die "$v: only $ok of $n connections answered 200"
    [ "$conns" = "$n" ] ||
        log "bench: $v: curl opened $conns connections for $n requests"
    [ -s "$f" ] || die "$v: callgrind wrote no $f"
    result=$(awk '/^totals:/ { print $2 }' "$f")
}


# ---------------------------------------------------------------- main

for tool in nginx haproxy wrk valgrind curl python3; do
    command -v "$tool" > /dev/null || die "$tool is not installed"
done
[ -f "$stream_module" ] ||
    die "no $stream_module (Debian: libnginx-mod-stream; or set" \
        "BENCH_STREAM_MODULE)"

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    "$top/scripts/build.sh" >&2 || die "module build failed"
fi
[ -f "$module" ] || die "no $module (run scripts/build.sh)"
# a private copy: build/ is rewritten in place by concurrent builds
cp "$module" "$tmp/ngx_stream_cflb_module.so"
module=$tmp/ngx_stream_cflb_module.so

read -r -a all_ports <<< "$(free_ports 5)"
[ "${#all_ports[@]}" = 5 ] || die "could not find 5 free ports"
backend_ports=("${all_ports[@]:0:4}")
front_port=${all_ports[4]}

clk_tck=$(getconf CLK_TCK)

write_backend_conf
write_haproxy_conf tcp
for v in rr lc cflb_rnd cflb_lc; do
    write_nginx_front_conf "$v"
done
for v in "${variants[@]}"; do
    # check every config before spending time on any measurement
    if [ "$v" = haproxy ]; then
        haproxy -c -q -f "$tmp/haproxy.conf" >&2 || die "haproxy config"
    else
        nginx -t -q -p "$tmp/$v" -e "$tmp/$v/error.log" -c "$tmp/$v.conf" \
            || die "$v: nginx -t failed"
    fi
done

nginx -p "$tmp/backend" -e "$tmp/backend/error.log" -c "$tmp/backend.conf" \
    > "$tmp/backend.out" 2>&1 &
backend_pid=$!
pids+=("$backend_pid")
for p in "${backend_ports[@]}"; do
    wait_port "$p" 10 || die "backend on port $p did not come up"
done

cat <<EOF
cflb layer-4 benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')
  host:     $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
  cflb:     commit $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
  nginx:    $(nginx -v 2>&1 | sed 's/^nginx version: //'), stream module $stream_module
  haproxy:  $(haproxy -v | head -n 1 | cut -d' ' -f3)
  backends: 4 x nginx http on 127.0.0.1, one shared worker ("ok", and a
            ${big_kb} KB body); front ends single process, stream{} proxy
            (haproxy: mode tcp)
  wrk:      conn/s: -t1 -c32 "Connection: close"; MB/s: -t1 -c8 kept
            alive, ${big_kb} KB bodies; -d${seconds}s, median of $rounds
            interleaved round(s)
  callgrind: N1=$n1, N2=$n2 sequential connections (one request each),
            Ir/conn = (Ir(N2) - Ir(N1)) / (N2 - N1)

EOF

# ---- connection rate and throughput: rounds interleaved, so a slow
# period of the machine hits every variant rather than one
declare -A cps_list cps ccpu_list ccpu mbs_list mbs mcpu_list mcpu
for r in $(seq "$rounds"); do
    for v in "${variants[@]}"; do
        wrk_run "$v" "$r" conn
        cps_list[$v]="${cps_list[$v]:-} ${result:-0}"
        ccpu_list[$v]="${ccpu_list[$v]:-} $result_cpu"
        log "bench: round $r/$rounds $v: ${result:-failed} conn/s," \
            "$result_cpu us CPU/conn"
        wrk_run "$v" "$r" big
        mbs_list[$v]="${mbs_list[$v]:-} ${result:-0}"
        mcpu_list[$v]="${mcpu_list[$v]:-} $result_cpu"
        log "bench: round $r/$rounds $v: ${result:-failed} MB/s," \
            "$result_cpu ms CPU/MB"
    done
done
for v in "${variants[@]}"; do
    # shellcheck disable=SC2086   # the lists are meant to split
    cps[$v]=$(median ${cps_list[$v]})
    # shellcheck disable=SC2086
    ccpu[$v]=$(median2 ${ccpu_list[$v]})
    # shellcheck disable=SC2086
    mbs[$v]=$(median ${mbs_list[$v]})
    # shellcheck disable=SC2086
    mcpu[$v]=$(median2 ${mcpu_list[$v]})
done

# ---- instructions per connection
declare -A ir
for v in "${variants[@]}"; do
    callgrind_ir "$v" "$n1"
    a=$result
    callgrind_ir "$v" "$n2"
    b=$result
    ir[$v]=$(awk -v a="$a" -v b="$b" -v d="$((n2 - n1))" \
        'BEGIN { printf "%.0f", (b - a) / d }')
    log "bench: callgrind $v: Ir($n1)=$a Ir($n2)=$b -> ${ir[$v]} Ir/conn"
done

echo "Connection rate and throughput (wrk; wall clock, noisy when other"
echo "jobs share the machine: compare variants of the same run).  cpu: the"
echo "front end's user+system CPU per connection, per MB.  Medians over the"
echo "rounds."
printf '  %-31s %7s %6s %8s %6s %6s %6s %7s %6s\n' variant conn/s x_rr \
    cpu/conn x_rr MB/s x_rr cpu/MB x_rr
for v in "${variants[@]}"; do
    printf '  %-31s %7s %6s %6sus %6s %6s %6s %5sms %6s\n' "${describe[$v]}" \
        "${cps[$v]}" "$(ratio "${cps[$v]}" "${cps[rr]}")" \
        "${ccpu[$v]}" "$(ratio "${ccpu[$v]}" "${ccpu[rr]}")" \
        "${mbs[$v]}" "$(ratio "${mbs[$v]}" "${mbs[rr]}")" \
        "${mcpu[$v]}" "$(ratio "${mcpu[$v]}" "${mcpu[rr]}")"
done
echo "  rounds:"
for v in "${variants[@]}"; do
    printf '    %-31s conn/s %s; MB/s %s\n' "${describe[$v]}" \
        "${cps_list[$v]# }" "${mbs_list[$v]# }"
done
echo

echo "Instructions per proxied connection (callgrind, user space only;"
echo "stable between runs, unlike wall clock)"
printf '  %-31s %10s %8s\n' variant "Ir/conn" x_rr
for v in "${variants[@]}"; do
    printf '  %-31s %10s %8s\n' "${describe[$v]}" "${ir[$v]}" \
        "$(ratio "${ir[$v]}" "${ir[rr]}")"
done
echo

echo "Where the instructions go (difference method per function, next to"
echo "nginx stream round robin):"
for v in cflb_rnd cflb_lc; do
    echo "  ${describe[$v]}:"
    profile_vs_rr "$v" 12 conn conn
done
echo

echo "Summary (conn/s, MB/s, cpu: wall clock, noisy; Ir/conn: callgrind)"
printf '  %-31s %7s %6s %6s %6s %8s %6s %8s %6s\n' variant conn/s x_rr \
    MB/s x_rr cpu/conn x_rr Ir/conn x_rr
for v in "${variants[@]}"; do
    printf '  %-31s %7s %6s %6s %6s %6sus %6s %8s %6s\n' "${describe[$v]}" \
        "${cps[$v]}" "$(ratio "${cps[$v]}" "${cps[rr]}")" \
        "${mbs[$v]}" "$(ratio "${mbs[$v]}" "${mbs[rr]}")" \
        "${ccpu[$v]}" "$(ratio "${ccpu[$v]}" "${ccpu[rr]}")" \
        "${ir[$v]}" "$(ratio "${ir[$v]}" "${ir[rr]}")"
done
echo "  target (the layer-7 one, per connection): cflb Ir/conn <= 1.03 x"
echo "  nginx stream round robin"
for v in cflb_rnd cflb_lc; do
    x=$(ratio "${ir[$v]}" "${ir[rr]}")
    if awk -v x="$x" 'BEGIN { exit !(x + 0 > 0 && x + 0 <= 1.03) }'; then
        verdict=met
    else
        verdict="NOT met"
    fi
    printf '    %-31s %s  %s\n' "${describe[$v]}" "$x" "$verdict"
done
