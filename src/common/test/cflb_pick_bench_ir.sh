#!/bin/sh
#
# cflb_pick_bench_ir.sh BENCH
#
# Instructions per iteration of each cflb_pick_bench cell, counted by
# callgrind: every cell runs twice, with K and 3K iterations, and
# Ir = (Ir(3K) - Ir(K)) / 2K, so building the set and the tree cancels
# out.  K shrinks for the O(n) linear pick at large n.

bench=$1

if ! command -v valgrind >/dev/null 2>&1; then
    echo "bench-ir: skipped, valgrind is not installed"
    exit 0
fi

ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$bench" ir "$1" "$2" "$3" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-10s' "Ir per"
for n in 4 10 100 1000 10000; do
    printf ' %10s' "n=$n"
done
printf '\n'

for what in random hash linear linear+2 tree tree+2; do
    printf '%-10s' "$what"

    for n in 4 10 100 1000 10000; do
        k=20000

        case $what in
        linear*) k=$((2000000 / n)); [ $k -gt 20000 ] && k=20000 ;;
        esac

        a=$(ir "$what" "$n" "$k")
        b=$(ir "$what" "$n" $((3 * k)))

        printf ' %10s' "$(awk -v a="$a" -v b="$b" -v k="$k" \
                          'BEGIN { printf "%.1f", (b - a) / (2 * k) }')"
    done

    printf '\n'
done
