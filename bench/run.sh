#!/usr/bin/env bash
# cflb benchmark: five HTTP front ends, side by side, proxying to the same
# four loopback backends.
#
#   bench/run.sh                  full run (about 8 minutes on 2 cores)
#   BENCH_QUICK=1 bench/run.sh    smoke run (under 2 minutes)
#
# After this layer-7 part it runs the layer-4 one, bench/stream.sh (TCP
# through ngx_stream_cflb_module, nginx stream and HAProxy mode tcp),
# unless BENCH_NO_L4=1.
#
# Variants, all keeping connections to the backends alive (upstream
# "keepalive 128" for nginx and cflb, "http-reuse always" for HAProxy):
#   rr        nginx upstream, round robin (the baseline every ratio is to)
#   lc        nginx upstream, least_conn
#   haproxy   HAProxy, balance roundrobin, one thread
#   cflb_rnd  cflb, endpoint_steering random, steering off
#   cflb_lors cflb, endpoint_steering least_outstanding_requests
#   cflb_cookie cflb_rnd with session_affinity cookie; every request
#             carries a valid __cflb cookie (obtained with curl when the
#             front end starts), so it measures the pinned path
#   cflb_trace cflb_rnd with "add_header X-Cflb-Trace $cflb_trace": the
#             traced path (docs/trace.md); cflb_rnd is the untraced one
#   cflb_rules cflb_rnd with five custom rules that no request matches (a
#             path "contains", a header "eq", a CIDR "in", a "matches", a
#             lower()+starts_with()): the rules' cost (docs/rules.md)
# and, for location steering (docs/geo.md), only when named in
# BENCH_VARIANTS (BENCH_VARIANTS=geo is a shortcut for all of them):
#   cflb_geo  cflb_rnd's pool chosen by steering geo (country_pools DE=,
#             region_pools WEU=) with a full-size Country database
#             (661,760 ranges from tor-geoipdb; 127.0.0.0/8 is DE in it)
#   cflb_geo_city  the same with the City-layout database (coordinates)
#   cflb_prox steering proximity over two pools with coordinates, the
#             City-layout database
#   cflb_off2 steering off over two monitored pools (a tcp monitor with
#             interval 3600s: one probe per endpoint, at start)
#   cflb_dyn  the same with steering dynamic_latency
#   rr_conn, cflb_geo_conn  rr and cflb_geo with keepalive_requests 1 for
#             the clients: a new client connection per request, so each
#             request pays its database lookup (the others look up once
#             per connection, the first request)
#
# Numbers per variant:
#   req/s     wrk -t1 -c32 for BENCH_SECONDS, median of BENCH_ROUNDS rounds
#             taken interleaved (wall clock: noisy, compare ratios only)
#   cpu/req   CPU time (user + system, from /proc) the front end used per
#             request during the wrk run, median: less disturbed than req/s
#             when other jobs share the machine, and unlike callgrind it
#             includes the kernel's work (sockets, epoll)
#   conns     backend connections the front end opened during a timed wrk
#             run (median): shows whether keepalive held under load
#   Ir/req    instructions the front end executes per proxied request,
#             counted by callgrind: (Ir(N2 requests) - Ir(N1 requests)) /
#             (N2 - N1), so start-up and shutdown cancel out (stable), for
#             two request shapes (plain, +256-byte header)
# then where cflb's instructions go (per function, against rr) and the pick
# micro-benchmark of src/common/test, when it exists.  docs/performance.md
# explains the method and the results.
#
# Knobs (environment):
#   BENCH_SECONDS (5)  BENCH_ROUNDS (5)  BENCH_N1 (2000)  BENCH_N2 (6000)
#   BENCH_KEEPALIVE (128)  BENCH_QUICK=1 (2 s, 1 round, N 300/900)
#   BENCH_KEEP=1       keep the temp dir (configs, callgrind files)
#   BENCH_NO_BUILD=1   use build/ngx_http_cflb_module.so as it is
#   BENCH_NO_L4=1      skip bench/stream.sh
#   BENCH_VARIANTS="rr cflb_cookie"   only these (rr first: the baseline)
#
# Needs only nginx, haproxy, wrk, valgrind (callgrind), curl and python3;
# talks to 127.0.0.1 only; every load is bounded in time or count;
# everything it starts is stopped on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
module=$top/build/ngx_http_cflb_module.so

if [ -n "${BENCH_QUICK:-}" ]; then
    seconds=${BENCH_SECONDS:-2}
    rounds=${BENCH_ROUNDS:-1}
    n1=${BENCH_N1:-300}
    n2=${BENCH_N2:-900}
else
    seconds=${BENCH_SECONDS:-5}
    rounds=${BENCH_ROUNDS:-5}
    n1=${BENCH_N1:-2000}
    n2=${BENCH_N2:-6000}
fi

# Idle backend connections nginx keeps per front end.  Its cache is one
# LRU list for all backends: with 32 clients, 32 slots are enough for
# round robin and least_conn, but random draws (cflb random, and cflb
# least_outstanding_requests, which is a weighted random draw) then close
# and reopen a backend connection every ~10 requests, and the run would
# measure TCP setup instead of the balancer (HAProxy's idle pools have no
# such cap).  4 backends x 32 clients = 128: nothing ever has to be closed.
keepalive=${BENCH_KEEPALIVE:-128}

variants=(rr lc haproxy cflb_rnd cflb_lors cflb_cookie cflb_trace cflb_rules)
geo_variants=(rr cflb_rnd cflb_geo cflb_geo_city cflb_prox cflb_off2
              cflb_dyn rr_conn cflb_geo_conn)
if [ "${BENCH_VARIANTS:-}" = geo ]; then
    variants=("${geo_variants[@]}")
elif [ -n "${BENCH_VARIANTS:-}" ]; then
    # a subset, e.g. "rr cflb_cookie": rr stays first, the baseline
    read -r -a variants <<< "$BENCH_VARIANTS"
fi
declare -A describe=(
    [rr]="nginx upstream round robin"
    [lc]="nginx upstream least_conn"
    [haproxy]="haproxy balance roundrobin"
    [cflb_rnd]="cflb random"
    [cflb_lors]="cflb least_outstanding_requests"
    [cflb_cookie]="cflb cookie affinity, pinned"
    [cflb_trace]="cflb random, \$cflb_trace header"
    [cflb_geo]="cflb geo, Country database"
    [cflb_geo_city]="cflb geo, City database"
    [cflb_prox]="cflb proximity, City database"
    [cflb_off2]="cflb off, 2 monitored pools"
    [cflb_dyn]="cflb dynamic_latency, 2 pools"
    [rr_conn]="round robin, a connection a request"
    [cflb_geo_conn]="cflb geo, a connection a request"
    [cflb_rules]="cflb random, 5 rules, none match"
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cflb-bench.XXXXXX")
pids=()          # every process we started and have not reaped yet
req_hdr=()       # extra curl/wrk arguments of the variant running

# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- configs

nginx_http_paths() {
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

# One nginx, one worker, four "return 200" servers: the backends every
# variant shares.  Long keepalive so connection setup is not measured.  The
# first one also serves stub_status: its "accepts" counter tells how many
# connections the front ends opened to the backends.
write_backend_conf() {
    local d=$tmp/backend p
    {
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "http {"
        nginx_http_paths "$d"
        echo "    keepalive_requests 10000000; keepalive_timeout 300s;"
        for p in "${backend_ports[@]}"; do
            echo "    server {"
            echo "        listen 127.0.0.1:$p;"
            echo "        location / { return 200 \"ok\"; }"
            [ "$p" = "${backend_ports[0]}" ] &&
                echo "        location = /bench-status { stub_status; }"
            echo "    }"
        done
        echo "}"
    } > "$d.conf"
}

# the part of the front end's http{} that differs between variants
upstream_block() {
    local p i
    case $1 in
    rr|lc|rr_conn)
        echo "    upstream backends {"
        [ "$1" = lc ] && echo "        least_conn;"
        for p in "${backend_ports[@]}"; do
            echo "        server 127.0.0.1:$p;"
        done
        echo "        keepalive $keepalive;"
        echo "    }"
        ;;
    cflb_geo|cflb_geo_city|cflb_prox|cflb_off2|cflb_dyn|cflb_geo_conn)
        geo_block "${1%_conn}"
        ;;
    cflb_rnd|cflb_lors|cflb_cookie|cflb_trace|cflb_rules)
        echo "    cflb_zone cflb 4m;"
        [ "$1" = cflb_cookie ] && echo "    cflb_affinity_key $tmp/cflb.key;"
        echo "    cflb_pool p1 {"
        i=0
        for p in "${backend_ports[@]}"; do
            i=$((i + 1))
            echo "        endpoint e$i 127.0.0.1:$p;"
        done
        if [ "$1" != cflb_lors ]; then
            echo "        endpoint_steering random;"
        else
            echo "        endpoint_steering least_outstanding_requests;"
        fi
        echo "    }"
        echo "    cflb_lb backends {"
        echo "        pools p1;"
        echo "        steering off;"
        [ "$1" = cflb_cookie ] && echo "        session_affinity cookie;"
        [ "$1" = cflb_rules ] && rules_block
        echo "        keepalive $keepalive;"
        echo "    }"
        ;;
    esac
}

# the location steering variants: pool p1 as cflb_rnd's, p2 the same
# backends under other names, far away
geo_block() {
    local p i db
    echo "    cflb_zone cflb 4m;"
    case $1 in
    cflb_geo) db=$geo_country ;;
    cflb_geo_city|cflb_prox) db=$geo_city ;;
    esac
    [ -n "${db:-}" ] && echo "    cflb_geoip2 $db;"
    case $1 in cflb_off2|cflb_dyn)
        echo "    cflb_monitor m { type tcp; interval 3600s; timeout 2s; }"
    esac
    for pool in p1 p2; do
        [ "$pool" = p2 ] && [ "$1" != cflb_prox ] && [ "$1" != cflb_off2 ] \
            && [ "$1" != cflb_dyn ] && continue
        echo "    cflb_pool $pool {"
        i=0
        for p in "${backend_ports[@]}"; do
            i=$((i + 1))
            echo "        endpoint e$i 127.0.0.1:$p;"
        done
        echo "        endpoint_steering random;"
        case $1 in
        cflb_prox)
            # the City database puts 127.0.0.0/8 at 47.5 59.5
            if [ "$pool" = p1 ]; then
                echo "        coordinates -30 -60;"
            else
                echo "        coordinates 50 60;"
            fi
            ;;
        cflb_off2|cflb_dyn) echo "        monitor m;" ;;
        esac
        echo "    }"
    done
    echo "    cflb_lb backends {"
    case $1 in
    cflb_geo|cflb_geo_city)
        echo "        pools p1;"
        echo "        steering geo;"
        echo "        country_pools DE=p1 FR=p1 US=p1;"
        echo "        region_pools WEU=p1 ENAM=p1;"
        ;;
    cflb_prox)
        echo "        pools p1 p2;"
        echo "        steering proximity;"
        ;;
    cflb_off2)
        echo "        pools p1 p2;"
        echo "        steering off;"
        ;;
    cflb_dyn)
        echo "        pools p1 p2;"
        echo "        steering dynamic_latency;"
        ;;
    esac
    echo "        keepalive $keepalive;"
    echo "    }"
}

# the full-size databases (t/lib/cflb-mmdb.pl from tor-geoipdb, with
# 127.0.0.0/8 in DE), built into build/geo/ once: about 5 and 8 s
geo_dbs() {
    local kind db flag
    for kind in country city; do
        db=$top/build/geo/tor-$kind-lo.mmdb
        flag=--tor
        [ "$kind" = city ] && flag=--tor-city
        if [ ! -f "$db" ]; then
            log "bench: building $db (tor-geoipdb, 127.0.0.0/8 in DE)"
            mkdir -p "$top/build/geo"
            perl "$top/t/lib/cflb-mmdb.pl" --loopback DE "$flag" "$db.tmp" \
                >&2 || die "could not build $db"
            mv "$db.tmp" "$db"
        fi
    done
    geo_country=$top/build/geo/tor-country-lo.mmdb
    geo_city=$top/build/geo/tor-city-lo.mmdb
}

# five rules of the kinds people write, none of which the benchmark's
# requests (GET /1, /2, ... from 127.0.0.1) match, so each runs in full
rules_block() {
    cat <<'EOF'
        rule blog { condition 'http.request.uri.path contains "/blog"'; override pools p1; }
        rule canary { condition 'http.request.headers["x-canary"][0] eq "on"'; override pools p1; }
        rule office { condition 'ip.src in {10.0.0.0/8 192.168.0.0/16 2001:db8::/32}'; override pools p1; }
        rule admin { condition 'http.request.uri.path matches "^/admin/[0-9]+$"'; override pools p1; }
        rule api { condition 'starts_with(lower(http.request.uri.path), "/api/")'; override pools p1; }
EOF
}

# A single-process nginx front end (no master, so callgrind sees every
# instruction in one process).  keepalive_requests is raised so a client's
# connection is never closed during a measurement.
write_nginx_front_conf() {
    local v=$1 d=$tmp/$1
    {
        case $v in cflb_*) echo "load_module $module;" ;; esac
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "http {"
        nginx_http_paths "$d"
        case $v in
        *_conn) echo "    keepalive_requests 1;" ;;
        *) echo "    keepalive_requests 10000000; keepalive_timeout 300s;" ;;
        esac
        echo "    proxy_http_version 1.1;"
        echo "    proxy_set_header Connection \"\";"
        upstream_block "$v"
        echo "    server {"
        echo "        listen 127.0.0.1:$front_port;"
        echo "        location / { proxy_pass http://backends; }"
        [ "$v" = cflb_trace ] &&
            echo "        add_header X-Cflb-Trace \$cflb_trace;"
        echo "    }"
        echo "}"
    } > "$d.conf"
}

# ---------------------------------------------------------------- measuring

# front_headers VARIANT: set req_hdr, the extra curl/wrk arguments of the
# front end just started: for cflb_cookie, a __cflb cookie it set, sent
# with every later request (the key file makes it valid in every run).
# Warns if the front end sets it again (then the run measures minting).
front_headers() {
    local c
    req_hdr=()
    [ "$1" = cflb_cookie ] || return 0
    c=$(curl -s -o /dev/null -D - "http://127.0.0.1:$front_port/" \
        | sed -n 's/^Set-Cookie: *\(__cflb=[^;]*\).*/\1/ip' | tr -d '\r')
    [ -n "$c" ] || die "cflb_cookie: the front end set no __cflb cookie"
    req_hdr=(-H "Cookie: $c")
    if curl -s -o /dev/null -D - "${req_hdr[@]}" \
        "http://127.0.0.1:$front_port/" | grep -qi '^Set-Cookie: *__cflb='
    then
        log "bench: cflb_cookie: the cookie was not honoured (set again)"
    fi
}

# Sequential requests on one kept-alive client connection: curl's URL
# globbing fetches /1 .. /N reusing the connection.  Prints the number of
# 200 answers and of TCP connections curl had to open (should be 1).
# send_requests N SHAPE: SHAPE "pad" adds one 256-byte request header.
send_requests() {
    local hdr=()
    [ "$2" = pad ] && hdr=(-H "X-Bench-Pad: $(printf '%0243d' 0)")
    curl -s --max-time 600 -w '\n%{http_code} %{num_connects}\n' \
        "${hdr[@]}" "${req_hdr[@]}" "http://127.0.0.1:$front_port/[1-$1]" \
        | awk '$1 == 200 && NF == 2 { ok++; conn += $2 }
               END { print ok + 0, conn + 0 }'
}

# connections accepted so far by all four backends (one nginx)
backend_accepts() {
    curl -s --max-time 5 "http://127.0.0.1:${backend_ports[0]}/bench-status" \
        | awk 'NR == 3 { print $1 }'
}

# wrk_rps VARIANT ROUND: one throughput round against a fresh front end;
# sets result (req/s), result_cpu (front-end CPU microseconds per request)
# and result_conns (backend connections opened during the timed part).  Functions that start processes return through a
# variable, not $(...), so the pids they record stay in this shell.
wrk_rps() {
    local v=$1 out=$tmp/wrk.$1.$2 before after t0 t1 n rc
    start_front "$v"
    front_headers "$v"
    # a short warm-up so the backend connections exist before timing
    wrk -t1 -c32 -d1s "${req_hdr[@]}" "http://127.0.0.1:$front_port/" \
        > /dev/null 2>&1 || true
    before=$(backend_accepts)
    t0=$(cpu_ticks "$front_pid")
    wrk -t1 -c32 -d"${seconds}s" --timeout 5s "${req_hdr[@]}" \
        "http://127.0.0.1:$front_port/" > "$out" 2>&1 || true
    t1=$(cpu_ticks "$front_pid")
    after=$(backend_accepts)
    if ! kill -0 "$front_pid" 2>/dev/null; then
        # report a crash, do not average it into the numbers
        wait "$front_pid" && rc=0 || rc=$?
        log "bench: $v round $2: the front end DIED under load (exit $rc):"
        tail -n 5 "$tmp/$v.out" "$tmp/$v/error.log" 2>/dev/null >&2 || true
        forget_pid "$front_pid"
        result=0 result_cpu=0 result_conns=0
        return 0
    fi
    n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out")
    result_cpu=$(awk -v t="$((t1 - t0))" -v hz="$clk_tck" -v n="${n:-0}" \
        'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print 0 }')
    # minus 1: the status request's own connection
    result_conns=$((after - before - 1))
    stop_pid "$front_pid" "$(front_stop_signal "$v")" 10
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        log "bench: $v round $2: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ')"
    fi
    result=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
}

# callgrind_ir VARIANT N SHAPE: total instructions of a whole front-end
# life (start, N requests, clean exit), from callgrind's "totals:" line;
# sets result
callgrind_ir() {
    local v=$1 n=$2 f=$tmp/callgrind.$1.$3.$2 res ok conns
    start_front "$v" valgrind --tool=callgrind --callgrind-out-file="$f"
    front_headers "$v"
    res=$(send_requests "$n" "$3")
    read -r ok conns <<< "$res"
    stop_pid "$front_pid" "$(front_stop_signal "$v")" 60
    [ "$ok" = "$n" ] || die "$v: only $ok of $n requests answered 200"
    case $v in
    *_conn) [ "$conns" = "$n" ] \
                || log "bench: $v: $conns connections for $n requests" ;;
    *) [ "$conns" = 1 ] \
           || log "bench: $v: client needed $conns connections for $n requests"
    esac
    [ -s "$f" ] || die "$v: callgrind wrote no $f"
    result=$(awk '/^totals:/ { print $2 }' "$f")
}


# ---------------------------------------------------------------- main

for tool in nginx haproxy wrk valgrind curl python3; do
    command -v "$tool" > /dev/null || die "$tool is not installed"
done

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    "$top/scripts/build.sh" >&2 || die "module build failed"
fi
[ -f "$module" ] || die "no $module (run scripts/build.sh)"
# Load a private copy: build/ is rewritten in place by concurrent builds,
# and a shared object changing under a running nginx kills it (SIGBUS).
cp "$module" "$tmp/ngx_http_cflb_module.so"
module=$tmp/ngx_http_cflb_module.so

read -r -a all_ports <<< "$(free_ports 5)"
[ "${#all_ports[@]}" = 5 ] || die "could not find 5 free ports"
backend_ports=("${all_ports[@]:0:4}")
front_port=${all_ports[4]}

clk_tck=$(getconf CLK_TCK)

write_backend_conf
write_haproxy_conf http
head -c 32 /dev/urandom > "$tmp/cflb.key"
case " ${variants[*]} " in
    *" cflb_geo"*|*" cflb_prox "*) geo_dbs ;;
esac
for v in "${variants[@]}"; do
    [ "$v" = haproxy ] || write_nginx_front_conf "$v"
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
cflb benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')
  host:     $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
  cflb:     commit $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
  nginx:    $(nginx -v 2>&1 | sed 's/^nginx version: //')
  haproxy:  $(haproxy -v | head -n 1 | cut -d' ' -f3)
  backends: 4 x nginx "return 200 ok" on 127.0.0.1, one shared worker
  keepalive to the backends in every variant (nginx/cflb: upstream
  keepalive $keepalive; haproxy: http-reuse always); front ends single process
  wrk:      -t1 -c32 -d${seconds}s, median of $rounds interleaved round(s)
  callgrind: N1=$n1, N2=$n2 sequential requests on one connection,
            Ir/req = (Ir(N2) - Ir(N1)) / (N2 - N1)

EOF

# ---- throughput: rounds interleaved, so a slow period of the machine hits
# every variant rather than one
declare -A rps_list rps conn_list conns cpu_list cpu
for r in $(seq "$rounds"); do
    for v in "${variants[@]}"; do
        wrk_rps "$v" "$r"
        rps_list[$v]="${rps_list[$v]:-} ${result:-0}"
        conn_list[$v]="${conn_list[$v]:-} $result_conns"
        cpu_list[$v]="${cpu_list[$v]:-} $result_cpu"
        log "bench: throughput round $r/$rounds $v: ${result:-failed} req/s," \
            "$result_cpu us CPU/req, $result_conns backend connects"
    done
done
for v in "${variants[@]}"; do
    # shellcheck disable=SC2086   # the list is meant to split
    rps[$v]=$(median ${rps_list[$v]})
    # shellcheck disable=SC2086
    conns[$v]=$(median ${conn_list[$v]})
    # shellcheck disable=SC2086
    cpu[$v]=$(median2 ${cpu_list[$v]})
done

# ---- instructions per request, for two request shapes: curl's plain GET,
# and the same with one 256-byte header more.  Why two: nginx allocates
# per-request memory in 4 KB pool blocks, and whether a request needs one
# block more is a step of ~350 Ir (malloc + free) that a few bytes more or
# less, from any module, can trigger.  A small difference between variants
# is only real if it shows in both shapes.
declare -A ir irpad
for v in "${variants[@]}"; do
    for shape in plain pad; do
        callgrind_ir "$v" "$n1" "$shape"
        a=$result
        callgrind_ir "$v" "$n2" "$shape"
        b=$result
        x=$(awk -v a="$a" -v b="$b" -v d="$((n2 - n1))" \
            'BEGIN { printf "%.0f", (b - a) / d }')
        if [ "$shape" = plain ]; then ir[$v]=$x; else irpad[$v]=$x; fi
        log "bench: callgrind $v $shape: Ir($n1)=$a Ir($n2)=$b -> $x Ir/req"
    done
done

echo "Throughput (wrk; wall clock, noisy when other jobs share the machine:"
echo "compare variants of the same run, not absolute numbers).  cpu/req: the"
echo "front end's user+system CPU per request; conns: backend connections it"
echo "opened during a timed run (a few hundred against 100k+ requests means"
echo "keepalive held).  All medians over the rounds."
printf '  %-34s %8s %6s %8s %6s %6s  %s\n' variant req/s x_rr "cpu/req" x_rr \
    conns "rounds (req/s)"
for v in "${variants[@]}"; do
    printf '  %-34s %8s %6s %6sus %6s %6s  %s\n' "${describe[$v]}" \
        "${rps[$v]}" "$(ratio "${rps[$v]}" "${rps[rr]}")" \
        "${cpu[$v]}" "$(ratio "${cpu[$v]}" "${cpu[rr]}")" \
        "${conns[$v]}" "${rps_list[$v]# }"
done
echo

echo "Instructions per proxied request (callgrind; deterministic to within"
echo "a fraction of a percent between runs, unlike wall clock).  plain: curl's"
echo "GET; +256B: the same with one 256-byte header more"
printf '  %-34s %10s %8s %10s %8s\n' variant "Ir/req" x_rr "+256B" x_rr
for v in "${variants[@]}"; do
    printf '  %-34s %10s %8s %10s %8s\n' "${describe[$v]}" "${ir[$v]}" \
        "$(ratio "${ir[$v]}" "${ir[rr]}")" "${irpad[$v]}" \
        "$(ratio "${irpad[$v]}" "${irpad[rr]}")"
done
echo

echo "Where the instructions go (plain shape, difference method per function,"
echo "next to nginx round robin):"
for v in "${variants[@]}"; do
    case $v in *_conn) continue ;; cflb_*) ;; *) continue ;; esac
    echo "  ${describe[$v]}:"
    profile_vs_rr "$v" 14
done
echo

# ---- the core pick micro-benchmark (src/common/test), built into our temp
# dir so that nothing is written into the source tree
echo "Endpoint pick micro-benchmark (make -C src/common/test bench):"
mb=$top/src/common/test
if make -s -C "$mb" -n bench B="$tmp/pick" > /dev/null 2>&1; then
    if ! timeout 300 make -s -C "$mb" bench B="$tmp/pick" 2>&1 | sed 's/^/  /'
    then
        echo "  (micro-benchmark failed)"
    fi
else
    echo "  skipped: 'make bench' is not available there yet"
fi
echo

echo "Summary (req/s, cpu/req: wall clock, noisy; Ir/req: callgrind, stable)"
printf '  %-32s %7s %6s %8s %6s %7s %6s %7s %6s\n' \
    variant req/s x_rr "cpu/req" x_rr Ir/req x_rr "+256B" x_rr
for v in "${variants[@]}"; do
    printf '  %-32s %7s %6s %6sus %6s %7s %6s %7s %6s\n' "${describe[$v]}" \
        "${rps[$v]}" "$(ratio "${rps[$v]}" "${rps[rr]}")" \
        "${cpu[$v]}" "$(ratio "${cpu[$v]}" "${cpu[rr]}")" \
        "${ir[$v]}" "$(ratio "${ir[$v]}" "${ir[rr]}")" \
        "${irpad[$v]}" "$(ratio "${irpad[$v]}" "${irpad[rr]}")"
done
# target VARIANT BASE LIMIT: is VARIANT's Ir/req within LIMIT x BASE's,
# in both shapes (only for variants that ran)
target() {
    local v=$1 base=$2 limit=$3 shape x verdict
    [ -n "${ir[$v]:-}" ] && [ -n "${ir[$base]:-}" ] || return 0
    for shape in plain pad; do
        if [ "$shape" = plain ]; then
            x=$(ratio "${ir[$v]}" "${ir[$base]}")
        else
            x=$(ratio "${irpad[$v]}" "${irpad[$base]}")
        fi
        if awk -v x="$x" -v l="$limit" 'BEGIN { exit !(x + 0 > 0 && x + 0 <= l) }'
        then
            verdict=met
        else
            verdict="NOT met"
        fi
        printf '    %-34s %-6s %s x %-8s %s\n' "${describe[$v]}" "$shape" "$x" \
            "$base" "$verdict"
    done
}

echo "  target: cflb Ir/req <= 1.03 x nginx round robin (cookie affinity: 1.08,"
echo "  five rules that do not match: 1.05);"
echo "  geo <= 1.10 x round robin, proximity <= geo on the same database,"
echo "  dynamic_latency <= off over the same pools"
target cflb_rnd rr 1.03
target cflb_lors rr 1.03
target cflb_cookie rr 1.08
target cflb_rules rr 1.05
target cflb_geo rr 1.10
target cflb_geo_city rr 1.10
target cflb_prox cflb_geo_city 1.00
target cflb_dyn cflb_off2 1.00
target cflb_geo_conn rr_conn 1.10

# ---- layer 4: bench/stream.sh, with its own temp dir, ports and backends
# (ours are stopped first, so they take no CPU from it)
if [ -z "${BENCH_NO_L4:-}" ]; then
    stop_pid "$backend_pid" QUIT 10
    echo
    BENCH_NO_BUILD=1 "$top/bench/stream.sh" || die "bench/stream.sh failed"
fi
