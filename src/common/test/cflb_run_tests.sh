#!/bin/sh
#
# cflb_run_tests.sh LABEL RESULTS TEST...
#
# Runs each test program, shows its output, and appends "passed failed"
# (counts of checks) to RESULTS.  A program that exits non-zero without
# reporting a failed check (a crash, a sanitizer report) counts as one
# failed check.  Always exits 0: the Makefile decides from RESULTS.

label=$1
results=$2
shift 2

passed=0
failed=0

for t in "$@"; do
    out=$("$t" 2>&1)
    rc=$?

    printf '%s\n' "$out" | sed "s|^|[$label] |"

    line=$(printf '%s\n' "$out" \
           | grep -E '^[a-z0-9_]+: [0-9]+ passed, [0-9]+ failed$' \
           | tail -n 1)
    p=$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+) passed.*/\1/p')
    f=$(printf '%s\n' "$line" | sed -nE 's/.* ([0-9]+) failed$/\1/p')
    p=${p:-0}
    f=${f:-0}

    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "[$label] $t: exit status $rc without a failed check"
        f=1
    fi

    passed=$((passed + p))
    failed=$((failed + f))
done

echo "[$label] $passed passed, $failed failed"
echo "$passed $failed" >> "$results"
