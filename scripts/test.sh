#!/usr/bin/env bash
# Run every cflb test: the style gate, the core's unit tests under
# AddressSanitizer and UBSan (native and -m32), the module build, then the
# Test::Nginx suites against real nginx with the modules.  Installs what
# it needs first (scripts/deps.sh).  Ends with a summary line.
#
#   scripts/test.sh               everything
#   scripts/test.sh t/010-*.t     only these Test::Nginx files
#   scripts/test.sh stop          stop the servers an interrupted run left
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

# Test::Nginx's nginx has its pid file in the server root; t/lib/Cflb.pm
# records every other process the suite starts in $pids (see there)
servroot=${TEST_NGINX_SERVROOT:-$top/t/servroot}
pids=${CFLB_TEST_PIDS:-$servroot.pids}

say() { printf 'test: %s\n' "$*"; }

# the start time of a process (field 22 of /proc/PID/stat), its command
# line with spaces between the arguments, its children's pids
proc_start() {
    local stat f
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a f <<< "${stat##*) }"
    echo "${f[19]}"
}

proc_cmdline() {
    tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline" | sed 's/ *$//'
}

proc_children() {
    local s f
    for s in /proc/[0-9]*/stat; do
        f=$(cat "$s" 2>/dev/null) || continue
        f=${f##*) }
        read -r -a f <<< "$f"
        [ "${f[1]}" = "$1" ] && echo "${s//[^0-9]/}"
    done
    return 0
}

# stop_pid PID START: TERM, up to 5 s to exit, then KILL; and KILL the
# children it had (nginx's workers outlive a master killed with KILL)
# that are still there, each checked by its start time too
stop_pid() {
    local pid=$1 start=$2 kids=() k ks i
    for k in $(proc_children "$pid"); do
        ks=$(proc_start "$k") && kids+=("$k:$ks")
    done
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        [ "$(proc_start "$pid")" = "$start" ] || break
        sleep 0.1
    done
    [ "$(proc_start "$pid")" = "$start" ] && kill -KILL "$pid" 2>/dev/null
    for k in "${kids[@]}"; do
        [ "$(proc_start "${k%:*}")" = "${k#*:}" ] \
            && kill -KILL "${k%:*}" 2>/dev/null
    done
    return 0
}

# Stop what a run of the suite left running, by its pid files, and only
# the processes they name: same pid, same start time (a reused pid has
# another), a command line that still holds what was recorded.  Nothing
# is looked up by name.
stop_leftovers() {
    local f pid start cmd now n=0

    for f in "$pids"/*.pid; do
        [ -f "$f" ] || continue
        { read -r pid; read -r start; read -r cmd; } < "$f" || true
        rm -f "$f"
        [[ ${pid:-} =~ ^[0-9]+$ ]] || continue
        [ "$pid" != $$ ] || continue
        [ "$(proc_start "$pid")" = "$start" ] || continue
        now=$(proc_cmdline "$pid")
        [[ $now == *"$cmd"* ]] || continue
        say "stopping pid $pid, left by an earlier run: ${now:0:100}"
        stop_pid "$pid" "$start"
        n=$((n + 1))
    done

    # Test::Nginx's nginx: its pid file, and a command line naming this
    # server root
    f=$servroot/logs/nginx.pid
    if [ -f "$f" ]; then
        read -r pid < "$f" || true
        if [[ ${pid:-} =~ ^[0-9]+$ ]] && start=$(proc_start "$pid") \
           && [[ $(proc_cmdline "$pid") == *"-p $servroot/"* ]]
        then
            say "stopping nginx $pid, left by an earlier run"
            stop_pid "$pid" "$start"
            n=$((n + 1))
        fi
    fi

    return 0
}

if [ "${1:-}" = stop ]; then
    stop_leftovers
    exit 0
fi

t0=$SECONDS
logs=$top/build/test
summary=()
unit=

elapsed() {
    local s=$((SECONDS - t0))
    printf '%d min %02d s' $((s / 60)) $((s % 60))
}

# the summary line: what passed, and where it failed
finish() {
    local done="" s
    for s in "${summary[@]}"; do
        done="$done${done:+; }$s"
    done
    stop_leftovers
    if [ "$1" = 0 ]; then
        say "PASS in $(elapsed): $done"
    else
        say "FAIL in $(elapsed) at $2${done:+ (passed before: $done)}"
    fi
    exit "$1"
}

trap 'echo; say "interrupted"; stop_leftovers; exit 130' INT TERM

say "[1/5] Debian packages (scripts/deps.sh)..."
scripts/deps.sh || finish 1 "installing the Debian packages"

say "[2/5] style of the C sources..."
scripts/style.sh || finish 1 "the style gate"
summary+=("style ok")

say "[3/5] unit tests of the core with ASan and UBSan, native and -m32" \
    "(first time: about a minute)..."
mkdir -p "$logs"
make -C src/common/test test > "$logs/unit.log" 2>&1
rc=$?
unit=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/unit.log" | tail -n 1)
grep -E '^\[(native|m32)\] ([0-9]+ passed|skipped)' "$logs/unit.log" \
    | sed 's/^/    /'
if [ $rc -ne 0 ]; then
    # the failed checks, crashes and sanitizer reports, not the compiler
    # command lines
    grep -vE '^(cc|gcc|clang|mkdir|make)\b' "$logs/unit.log" \
        | grep -vE ': [0-9]+ (passed, 0 failed|inputs)$' \
        | tail -n 40 | sed 's/^/    /'
    say "unit tests: ${unit:-did not run}; log: $logs/unit.log"
    finish 1 "the unit tests"
fi
say "unit tests: $unit"
summary+=("unit tests: $unit")

say "[4/5] the modules (scripts/build.sh)..."
scripts/build.sh || finish 1 "building the modules"

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES="/usr/lib/nginx/modules/ngx_stream_module.so
    $top/build/ngx_http_cflb_module.so $top/build/ngx_stream_cflb_module.so"
export TEST_NGINX_CFLB_ROOT="$top"

# leftovers of an interrupted run would hold the test ports
stop_leftovers

if [ $# -gt 0 ]; then
    files=("$@")
else
    files=(t/*.t)
fi
# about 8 s a file here (201 s for 25 files, on 2 cores)
secs=$((${#files[@]} * 10))
if [ $secs -lt 60 ]; then
    eta="under a minute"
else
    eta="about $(((secs + 59) / 60)) minutes"
fi
n=${#files[@]}
say "[5/5] Test::Nginx: $n file$([ "$n" = 1 ] || echo s) against real" \
    "nginx ($eta)..."
prove --timer -I t/lib "${files[@]}" 2>&1 | tee "$logs/prove.log"
rc=${PIPESTATUS[0]}
tn=$(sed -nE 's/^Files=([0-9]+), Tests=([0-9]+),.*/\1 files, \2 tests/p' \
         "$logs/prove.log" | tail -n 1 | sed 's/^1 files/1 file/')
[ "$rc" -eq 0 ] || finish 1 "the Test::Nginx suites (${tn:-no result})"
summary+=("Test::Nginx: $tn ok")

finish 0
