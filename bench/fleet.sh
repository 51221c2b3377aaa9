#!/usr/bin/env bash
# cflb fleet benchmark (docs/fleet.md, docs/performance.md): a 3-member
# etcd cluster on loopback (Debian's etcd-server) and two cflb nodes.
#
#   bench/fleet.sh                 1,000 changes, Ir/req at 2000/6000
#   BENCH_QUICK=1 bench/fleet.sh   200 changes, Ir/req at 300/900
#
# 1. Propagation: BENCH_CHANGES (1000) weight changes made through node
#    A's runtime API, one after another, each to another endpoint and
#    weight; for each, the time from sending the PATCH to A's answer (etcd
#    took it and A applied it) and to node B showing it, B being polled
#    through its API on a kept-alive connection (so the figure includes
#    up to one poll, about 0.2 ms).  Reported as a distribution: min,
#    p50, p90, p99, max.  Goal: p99 under 100 ms.
# 2. Request path: instructions per proxied request (callgrind, as in
#    bench/run.sh: (Ir(N2) - Ir(N1)) / (N2 - N1)) of a single-process cflb
#    front end with endpoint_steering random, without and with
#    cflb_cluster (connected to the same etcd).  The fleet's own work
#    (its 100 ms timer, the watch) runs by time, not by request, and is
#    counted apart: the functions of the cluster files, etcd's client and
#    parsers, per request of the run.
#
# The front end has keys of its own (another prefix than the nodes'), so
# that both variants steer over the same weights.
#
# Knobs: BENCH_CHANGES, BENCH_N1, BENCH_N2, BENCH_PARTS ("propagation ir",
# either or both), BENCH_KEEP=1 (keep the temp dir), BENCH_NO_BUILD=1.  Talks to 127.0.0.1 only; everything it starts
# is stopped on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
module=$top/build/ngx_http_cflb_module.so

if [ -n "${BENCH_QUICK:-}" ]; then
    changes=${BENCH_CHANGES:-200}
    n1=${BENCH_N1:-300}
    n2=${BENCH_N2:-900}
else
    changes=${BENCH_CHANGES:-1000}
    n1=${BENCH_N1:-2000}
    n2=${BENCH_N2:-6000}
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cflb-fleet-bench.XXXXXX")
pids=()

# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in nginx etcd valgrind curl python3; do
    command -v "$tool" > /dev/null || die "$tool is not installed"
done

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    "$top/scripts/build.sh" >&2 || die "module build failed"
fi
[ -f "$module" ] || die "no $module (run scripts/build.sh)"
cp "$module" "$tmp/ngx_http_cflb_module.so"
module=$tmp/ngx_http_cflb_module.so

read -r -a ports <<< "$(free_ports 12)"
[ "${#ports[@]}" = 12 ] || die "could not find 12 free ports"
client=("${ports[@]:0:3}")
peer=("${ports[@]:3:3}")
node_a=${ports[6]}
node_b=${ports[7]}
front_port=${ports[8]}
backend_ports=("${ports[@]:9:2}")
etcd_urls=$(printf 'http://127.0.0.1:%s,' "${client[@]}")
etcd_urls=${etcd_urls%,}


# ---------------------------------------------------------------- etcd

etcd_pids=()

# the members are stopped with KILL: a member whose peers stop at the same
# time may wait seconds on TERM, and its data is thrown away anyway
stop_etcd() {
    local pid
    for pid in "${etcd_pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        forget_pid "$pid"
    done
    etcd_pids=()
}

start_etcd() {
    local i cluster=""
    for i in 0 1 2; do
        cluster="$cluster${cluster:+,}m$i=http://127.0.0.1:${peer[$i]}"
    done
    for i in 0 1 2; do
        etcd --name "m$i" --data-dir "$tmp/etcd/m$i" \
            --listen-client-urls "http://127.0.0.1:${client[$i]}" \
            --advertise-client-urls "http://127.0.0.1:${client[$i]}" \
            --listen-peer-urls "http://127.0.0.1:${peer[$i]}" \
            --initial-advertise-peer-urls "http://127.0.0.1:${peer[$i]}" \
            --initial-cluster "$cluster" --initial-cluster-state new \
            --initial-cluster-token cflb-bench --log-level warn \
            > "$tmp/etcd.m$i.log" 2>&1 &
        pids+=($!)
        etcd_pids+=($!)
    done
    for i in 0 1 2; do
        local deadline=$((SECONDS + 30))
        until curl -s -o /dev/null --max-time 2 -X POST \
                  -d '{"key":"AA=="}' \
                  "http://127.0.0.1:${client[$i]}/v3/kv/put"
        do
            [ "$SECONDS" -lt "$deadline" ] \
                || { tail -n 20 "$tmp/etcd.m$i.log" >&2;
                     die "etcd member $i did not start"; }
            sleep 0.2
        done
    done
}


# ---------------------------------------------------------------- nodes

# the pool both nodes and the front end use: the backends (two ports,
# each endpoint twice under another name, for four endpoints)
pool_block() {
    cat <<EOF
    cflb_pool p1 {
        endpoint e1 127.0.0.1:${backend_ports[0]};
        endpoint e2 127.0.0.1:${backend_ports[1]};
        endpoint e3 127.0.0.1:${backend_ports[0]};
        endpoint e4 127.0.0.1:${backend_ports[1]};
        endpoint_steering random;
    }
    cflb_lb backends { pools p1; keepalive 32; }
EOF
}

write_backend_conf() {
    local d=$tmp/backend p
    {
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "http { access_log off;"
        echo "    keepalive_requests 10000000; keepalive_timeout 300s;"
        for p in "${backend_ports[@]}"; do
            echo "    server { listen 127.0.0.1:$p; return 200 \"ok\"; }"
        done
        echo "}"
    } > "$d.conf"
}

# a node: master and two workers, the API on its port
write_node_conf() {
    local name=$1 port=$2 d=$tmp/$1
    {
        echo "load_module $module;"
        echo "daemon off; worker_processes 2;"
        nginx_paths "$d"
        echo "events { worker_connections 1024; }"
        echo "http { access_log off;"
        echo "    cflb_zone cflb 4m;"
        echo "    cflb_cluster etcd=$etcd_urls prefix=/bench/ node=$name;"
        pool_block
        echo "    server { listen 127.0.0.1:$port;"
        echo "        location /api/ { allow 127.0.0.1; deny all; cflb_api; }"
        echo "    }"
        echo "}"
    } > "$d.conf"
}

start_nginx() {   # start_nginx NAME PORT: runs $tmp/NAME.conf
    nginx -p "$tmp/$1" -e "$tmp/$1/error.log" -c "$tmp/$1.conf" \
        > "$tmp/$1.out" 2>&1 &
    pids+=($!)
    local deadline=$((SECONDS + 30))
    until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$2/"; do
        [ "$SECONDS" -lt "$deadline" ] \
            || { tail -n 20 "$tmp/$1.out" "$tmp/$1/error.log" >&2;
                 die "$1 did not start"; }
        sleep 0.2
    done
}


# ---------------------------------------------------------------- part 1

propagation() {
    python3 - "$node_a" "$node_b" "$changes" <<'EOF'
import http.client, json, sys, time

a_port, b_port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ca = http.client.HTTPConnection("127.0.0.1", a_port, timeout=10)
cb = http.client.HTTPConnection("127.0.0.1", b_port, timeout=10)


def get_weight(conn, ep):
    conn.request("GET", "/api/pools/p1/endpoints/" + ep)
    r = conn.getresponse()
    return round(json.loads(r.read())["weight"] * 100)


# wait until both nodes watch etcd: a first change goes through
deadline = time.time() + 30
while True:
    ca.request("PATCH", "/api/pools/p1/endpoints/e1", body='{"weight":0.5}')
    r = ca.getresponse()
    r.read()
    if r.status == 200 and get_weight(cb, "e1") == 50:
        break
    if time.time() > deadline:
        sys.exit("bench: the nodes did not come up with etcd")
    time.sleep(0.2)

acks, seen, polls = [], [], 0

for i in range(n):
    ep = "e%d" % (1 + i % 4)
    w = 10 + (i // 4) % 80            # each endpoint's next weight differs
    t0 = time.perf_counter()
    ca.request("PATCH", "/api/pools/p1/endpoints/" + ep,
               body=json.dumps({"weight": w / 100}))
    r = ca.getresponse()
    r.read()
    t1 = time.perf_counter()
    if r.status != 200:
        sys.exit("bench: change %d answered %d" % (i, r.status))
    while get_weight(cb, ep) != w:
        polls += 1
        if time.perf_counter() - t0 > 10:
            sys.exit("bench: change %d did not reach B in 10 s" % i)
    t2 = time.perf_counter()
    acks.append((t1 - t0) * 1000)
    seen.append((t2 - t0) * 1000)


def dist(xs):
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
    return "min %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms" % (
        xs[0], q(0.50), q(0.90), q(0.99), xs[-1])


print("changes: %d (one at a time, through node A's API)" % n)
print("A answered (etcd took it, A applied it):  " + dist(acks))
print("B shows it (from the PATCH sent):         " + dist(seen))
print("B polls that did not see it yet: %d" % polls)
print("p99 goal (100 ms): %s" % ("met" if sorted(seen)[int(0.99 * n)] < 100
                                 else "MISSED"))
EOF
}


# ---------------------------------------------------------------- part 2

write_front_conf() {   # write_front_conf VARIANT: cflb_rnd or cflb_fleet
    local v=$1 d=$tmp/$1
    {
        echo "load_module $module;"
        echo "master_process off; daemon off; worker_processes 1;"
        nginx_paths "$d"
        echo "events { worker_connections 4096; }"
        echo "http { access_log off;"
        echo "    keepalive_requests 10000000; keepalive_timeout 300s;"
        echo "    proxy_http_version 1.1;"
        echo "    proxy_set_header Connection \"\";"
        echo "    cflb_zone cflb 4m;"
        [ "$v" = cflb_fleet ] &&
            echo "    cflb_cluster etcd=$etcd_urls prefix=/bench-front/ node=front;"
        pool_block
        echo "    server { listen 127.0.0.1:$front_port;"
        echo "        location / { proxy_pass http://backends; }"
        echo "    }"
        echo "}"
    } > "$d.conf"
}

# callgrind_ir VARIANT N: total Ir of a front-end life serving N requests
# on one kept-alive connection, and the part in the fleet's functions;
# sets result and result_fleet
callgrind_ir() {
    local v=$1 n=$2 f=$tmp/callgrind.$1.$2 ok
    start_front "$v" valgrind --tool=callgrind --callgrind-out-file="$f"
    ok=$(curl -s --max-time 600 -w '\n%{http_code}\n' \
             "http://127.0.0.1:$front_port/[1-$n]" | grep -c '^200$' || true)
    stop_pid "$front_pid" QUIT 60
    [ "$ok" = "$n" ] || die "$v: only $ok of $n requests answered 200"
    result=$(awk '/^totals:/ { print $2 }' "$f")
    read -r result_fleet result_module <<< "$(fleet_ir "$f")"
}

# self Ir in a callgrind file of the fleet's functions, and of the rest of
# the cflb module: "FLEET MODULE" (fn= and ob= names are compressed to
# "(id)" after their first use; the cost line after a calls= line is a
# call's inclusive cost, not self cost)
fleet_ir() {
    awk '
        function named(s, tab,    id, rest) {
            if (match(s, /^\([0-9]+\)/)) {
                id = substr(s, 1, RLENGTH); rest = substr(s, RLENGTH + 1)
                sub(/^ /, "", rest)
                if (rest != "") { tab[id] = rest }
                return tab[id]
            }
            return s
        }
        /^ob=/ { s = $0; sub(/^ob=/, "", s); ob = named(s, obs); next }
        /^fn=/ {
            s = $0; sub(/^fn=/, "", s); name = named(s, fns)
            fleet = (name ~ /^(ngx_cflb_cluster|ngx_cflb_etcd|cflb_etcd|cflb_json|cflb_base64|cflb_quorum|cflb_votes|cflb_nodes)/)
            mod = (ob ~ /ngx_http_cflb_module\.so$/)
            calls = 0; next
        }
        # a call target names an object or a function for later uses
        /^cob=/ { s = $0; sub(/^cob=/, "", s); named(s, obs); next }
        /^cfn=/ { s = $0; sub(/^cfn=/, "", s); named(s, fns); next }
        /^c(fi|fl|fe)=/ { next }
        /^calls=/ { calls = 1; next }
        /^[-+*0-9]/ {
            if (calls) { calls = 0; next }
            if (NF < 2) { next }
            if (fleet) { f += $2 } else if (mod) { m += $2 }
        }
        END { print f + 0, m + 0 }' "$1"
}

front_cmd() { echo "nginx -p $tmp/$1 -e $tmp/$1/error.log -c $tmp/$1.conf"; }


# ---------------------------------------------------------------- main

log "bench: etcd, 3 members on 127.0.0.1:${client[*]}"
start_etcd

write_backend_conf
start_nginx backend "${backend_ports[0]}"

parts=${BENCH_PARTS:-propagation ir}

if [[ $parts == *propagation* ]]; then
    write_node_conf A "$node_a"
    write_node_conf B "$node_b"
    start_nginx A "$node_a"
    start_nginx B "$node_b"

    echo "== propagation: a change on A, applied on B"
    propagation
    echo
fi

[[ $parts == *ir* ]] || { stop_etcd; exit 0; }

echo "== request path: Ir/req of cflb random, without and with cflb_cluster"
per_req() {   # per_req A1 A2: (A2 - A1) / (N2 - N1)
    awk -v a="$1" -v b="$2" -v n1="$n1" -v n2="$n2" \
        'BEGIN { printf "%.0f", (b - a) / (n2 - n1) }'
}

printf '%-12s %8s %14s %14s\n' variant Ir/req "cflb module" "fleet (timer)"
for v in cflb_rnd cflb_fleet; do
    write_front_conf "$v"
    callgrind_ir "$v" "$n1"
    ir1=$result fl1=$result_fleet mo1=$result_module
    callgrind_ir "$v" "$n2"
    printf '%-12s %8s %14s %14s\n' "$v" "$(per_req "$ir1" "$result")" \
        "$(per_req "$mo1" "$result_module")" \
        "$(per_req "$fl1" "$result_fleet")"
done
echo "(Ir/req: the whole front end; cflb module: the module's own"
echo " instructions but the fleet's; fleet: the cluster files, etcd's"
echo " client and parsers, which run by time, not by request)"

stop_etcd
