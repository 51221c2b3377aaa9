# Shell helpers shared by the cflb benchmarks (bench/run.sh, layer 7, and
# bench/stream.sh, layer 4), sourced by them.  The caller sets $tmp (its
# temp dir), pids=() and, for start_front, front_cmd and $front_port, then
# installs the traps:
#
#   trap cleanup EXIT
#   trap 'exit 130' INT TERM
#
# tmp, front_port, n1 and n2 are the caller's:
# shellcheck shell=bash disable=SC2154


# ---------------------------------------------------------------- processes

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# Stop what we started: TERM first, then KILL for anything still running
# 5 seconds later.
cleanup() {
    local pid deadline=$((SECONDS + 5))
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -n "${BENCH_KEEP:-}" ]; then
        log "bench: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}

forget_pid() {
    local keep=() p
    for p in "${pids[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    pids=("${keep[@]}")
}

# wait_port PORT SECONDS: until something answers HTTP on the port
wait_port() {
    local deadline=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$deadline" ]; do
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" && return 0
        sleep 0.2
    done
    return 1
}

# stop_pid PID SIGNAL SECONDS: signal, then wait (bounded) for the exit;
# the signal is the one that makes the program exit cleanly, which is what
# makes callgrind write its output
stop_pid() {
    local pid=$1 deadline=$((SECONDS + $3))
    kill "-$2" "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "bench: pid $pid ignored SIG$2 for $3 s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# free_ports N: N ports in 20000-29999 that nobody listens on (checked by
# binding them), so runs do not collide with each other or with the
# kernel's ephemeral range the clients' sockets come from
free_ports() {
    python3 - "$1" <<'EOF'
import random, socket, sys
want, got = int(sys.argv[1]), []
for p in random.sample(range(20000, 30000), 10000):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        got.append(p)
    except OSError:
        pass
    finally:
        s.close()
    if len(got) == want:
        break
print(" ".join(map(str, got)))
EOF
}


# ---------------------------------------------------------------- configs

# the per-instance paths nginx would otherwise want in /var; as root,
# nginx would also chown its temp dirs to "nobody", who does not exist in
# a user namespace (unshare -r): they stay root's
nginx_paths() {
    local d=$1
    mkdir -p "$d"
    cat <<EOF
pid $d/nginx.pid;
error_log $d/error.log warn;
EOF
    if [ "$(id -u)" = 0 ]; then
        echo "user root $(id -gn);"
    fi
}


# ---------------------------------------------------------------- measuring

# start_front VARIANT [WRAPPER...]: start the front end (optionally under a
# wrapper such as valgrind), wait until it answers; sets front_pid
start_front() {
    local v=$1 cmd
    shift
    read -r -a cmd <<< "$(front_cmd "$v")"
    "$@" "${cmd[@]}" > "$tmp/$v.out" 2>&1 &
    front_pid=$!
    pids+=("$front_pid")
    if ! wait_port "$front_port" 120; then
        tail -n 20 "$tmp/$v.out" "$tmp/$v/error.log" 2>/dev/null >&2 || true
        die "$v: front end did not come up"
    fi
}

# CPU time a process has used so far, user + system, in clock ticks
# (fields 14 and 15 of /proc/PID/stat, counted after the "(comm)" field)
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
    awk '{ print $12 + $13 }' <<< "${stat##*) }"
}

# Where a variant's instructions go, by the same difference method applied
# per function: self cost of every (object, function) in the N2 run minus
# the N1 run, over N2 - N1, next to the same for nginx round robin (the
# variant "rr").  profile_vs_rr VARIANT [TOP [SHAPE [UNIT]]] reads the
# files $tmp/callgrind.VARIANT.SHAPE.N (SHAPE "plain" by default, N = $n1
# and $n2); UNIT ("req") names what N counts.  Reads callgrind's files
# directly (the format is documented with valgrind), so it does not depend
# on callgrind_annotate's layout.
profile_vs_rr() {
    python3 - "$tmp" "$1" rr "$n1" "$n2" "${2:-12}" "${3:-plain}" \
        "${4:-req}" <<'EOF'
import collections, re, sys

tmp, variant, base, n1, n2, top, shape, unit = sys.argv[1:]
n1, n2, top = int(n1), int(n2), int(top)


def self_costs(path):
    """Self Ir per (object, function) of one callgrind output file."""
    names = {'ob': {}, 'fl': {}, 'fn': {}}
    kind = {'ob': 'ob', 'cob': 'ob', 'fl': 'fl', 'fi': 'fl', 'fe': 'fl',
            'cfi': 'fl', 'cfl': 'fl', 'fn': 'fn', 'cfn': 'fn'}
    ref = re.compile(r'^\((\d+)\)(?:\s+(.*))?$')
    cost = collections.Counter()
    ob = fn = '?'
    skip = False
    with open(path) as f:
        for line in f:
            key, eq, val = line.rstrip('\n').partition('=')
            if eq and key in kind:
                # "(id) name" defines a compressed name, "(id)" uses it
                m = ref.match(val)
                table = names[kind[key]]
                if m and m.group(2) is not None:
                    table[m.group(1)] = m.group(2)
                name = table.get(m.group(1), '?') if m else val
                if key == 'ob':
                    ob = name.rsplit('/', 1)[-1]
                elif key == 'fn':
                    fn = name
            elif eq and key == 'calls':
                skip = True    # the next cost line is the callee's inclusive
            elif line[:1].isdigit() or line[:1] in '+-*':
                parts = line.split()
                if not skip and len(parts) > 1:
                    cost[(ob, fn)] += int(parts[1])
                skip = False
    return cost


def per_request(v):
    a = self_costs('%s/callgrind.%s.%s.%d' % (tmp, v, shape, n1))
    b = self_costs('%s/callgrind.%s.%s.%d' % (tmp, v, shape, n2))
    return {k: (b[k] - a[k]) / (n2 - n1) for k in set(a) | set(b)}


def by_object(d):
    o = collections.Counter()
    for (ob, _), c in d.items():
        o[ob] += c
    return o


v, r = per_request(variant), per_request(base)
vo, ro = by_object(v), by_object(r)
print('    %-26s %8s %8s %8s'
      % ('Ir/%s per shared object' % unit, base, 'this', 'diff'))
for ob in sorted(set(vo) | set(ro), key=lambda o: -max(vo[o], ro[o])):
    if max(abs(vo[ob]), abs(ro[ob])) >= 1:
        print('      %-26s %8.0f %8.0f %+8.0f'
              % (ob[:26], ro[ob], vo[ob], vo[ob] - ro[ob]))
print('    functions differing most   %8s %8s %8s' % (base, 'this', 'diff'))
keys = set(v) | set(r)
delta = {k: v.get(k, 0) - r.get(k, 0) for k in keys}
for k in sorted(keys, key=lambda k: -abs(delta[k]))[:top]:
    print('      %-26s %8.0f %8.0f %+8.0f  %s'
          % (k[1][:26], r.get(k, 0), v.get(k, 0), delta[k], k[0]))
EOF
}

# median of the numbers given (one per round)
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "n/a";
              else if (NR % 2) printf "%.0f\n", v[(NR + 1) / 2];
              else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

median2() {   # the same, with 2 decimals
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "n/a";
              else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
              else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {   # ratio A B: A/B with 3 decimals, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a + 0 > 0 && b + 0 > 0) printf "%.3f", a / b; else print "n/a" }'
}


# write_haproxy_conf http|tcp: HAProxy in the same shape as the nginx
# fronts: one thread, no logging; in http mode idle backend connections
# are reused by any request (nginx's upstream keepalive does the same)
write_haproxy_conf() {
    local i=0 p
    {
        echo "global"
        echo "    nbthread 1"
        echo "    maxconn 4096"
        echo "    hard-stop-after 20s"
        echo "defaults"
        echo "    mode $1"
        echo "    timeout connect 5s"
        echo "    timeout client 60s"
        echo "    timeout server 60s"
        if [ "$1" = http ]; then
            echo "    timeout http-keep-alive 60s"
            echo "    http-reuse always"
        fi
        echo "frontend fe"
        echo "    bind 127.0.0.1:$front_port"
        echo "    default_backend be"
        echo "backend be"
        echo "    balance roundrobin"
        for p in "${backend_ports[@]}"; do
            i=$((i + 1))
            echo "    server s$i 127.0.0.1:$p"
        done
    } > "$tmp/haproxy.conf"
}

# front_cmd VARIANT: the command line that runs the variant's front end in
# the foreground, single process; front_stop_signal: how to make it exit
# cleanly (graceful stop for nginx, soft stop for HAProxy)
front_cmd() {
    if [ "$1" = haproxy ]; then
        echo "haproxy -db -f $tmp/haproxy.conf"
    else
        echo "nginx -p $tmp/$1 -e $tmp/$1/error.log -c $tmp/$1.conf"
    fi
}

front_stop_signal() {
    if [ "$1" = haproxy ]; then echo USR1; else echo QUIT; fi
}
