#!/usr/bin/env bash
# Install everything cflb needs on Debian bookworm, idempotently: the
# build, the demo and the tests, the benchmarks (README "Requirements").
# Runs as root, or through sudo; says what it installs, keeps apt's
# output in a log file whose path it prints, and its tail on failure.
set -euo pipefail

# the modules' build: the toolchain, nginx and its build tree (nginx-dev),
# the libraries Debian's nginx was configured with
build="build-essential nginx nginx-dev libnginx-mod-stream libssl-dev
       libpcre2-dev zlib1g-dev libmaxminddb-dev libjansson-dev"
# the demo and the tests: Test::Nginx's Perl (and TLS for it), curl for
# the demo, pgrep, the -m32 unit tests, promtool (package prometheus, its
# server is not started) to check the metrics, a headless chromium for
# the dashboard, the MaxMind DB writer and reader for test databases;
# the DNS clients (dig, kdig, dnspython) and a resolver (unbound) for the
# DNS-only suites; Test::Nginx itself comes below
tests="perl libio-socket-ssl-perl curl procps gcc-multilib prometheus
       chromium libmaxmind-db-writer-perl mmdb-bin
       dnsutils knot-dnsutils python3-dnspython unbound"
# the benchmarks (bench/): a full-size country database from tor's; the
# DNS load generator and the authoritative servers bench/dns.sh compares
bench="haproxy wrk valgrind python3 tor-geoipdb dnsperf gdnsd nsd knot"

say() { printf 'deps: %s\n' "$*"; }

missing=""
for p in $build $tests $bench; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing="$missing $p"
done
missing=${missing# }

tn=""
perl -MTest::Nginx::Socket -e 1 2>/dev/null || tn=libtest-nginx-perl

[ -z "$missing$tn" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        say "missing: $missing $tn"
        say "installing them needs root: run this as root" >&2
        exit 1
    fi
    say "installing Debian packages needs root: sudo $0"
    exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600)

log=$(mktemp -t cflb-deps.XXXXXX)
chmod 644 "$log"
n=$(wc -w <<< "$missing $tn")
say "installing $n Debian packages and what they depend on" \
    "(first run: 1 to 7 minutes, by the mirror); apt's log: $log"
[ -n "$missing" ] && fold -s -w 70 <<< "$missing" | sed 's/ *$//; s/^/deps:   /'

fail() {
    say "$1 failed; the end of $log:" >&2
    tail -n 20 "$log" | sed 's/^/    /' >&2
    exit 1
}

# apt's machine-readable status (APT::Status-Fd) as a line each 10 % of
# the download and of the installation
progress() {
    local kind pkg pct desc p dl=0 pm=0

    while IFS=: read -r kind pkg pct desc; do
        p=${pct%%.*}
        [[ $p =~ ^[0-9]+$ ]] || continue
        p=$((p / 10 * 10))
        if [ "$kind" = dlstatus ] && [ "$p" -gt "$dl" ]; then
            dl=$p
            say "  downloading: $p %"
        elif [ "$kind" = pmstatus ] && [ "$p" -gt "$pm" ]; then
            pm=$p
            say "  installing: $p % ($desc)"
        elif [ "$kind" = pmerror ]; then
            say "  error: $pkg: $desc"
        fi
    done
}

say "reading the package lists (apt-get update)..."
"${apt[@]}" update >> "$log" 2>&1 || fail "apt-get update"

if [ -n "$missing" ]; then
    # prometheus is here for its promtool only, unbound, gdnsd, nsd and
    # knot for tests and benchmarks that start their own: keep their
    # package scripts from starting a server while installing
    # (policy-rc.d: "not now")
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi

    # fd 3 carries apt's status lines, the rest goes to the log
    # shellcheck disable=SC2086
    "${apt[@]}" install -y --no-install-recommends -o APT::Status-Fd=3 \
        $missing 3>&1 >> "$log" 2>&1 | progress \
        || fail "apt-get install"

    if trap -p EXIT | grep -q policy; then
        rm -f "$policy"
        trap - EXIT
    fi
fi

if [ -n "$tn" ]; then
    # Test::Nginx is packaged only in Debian's unstable suite; it is pure
    # Perl and its dependencies are all in bookworm.  Read the mirror the
    # machine already uses and fetch that one package from unstable
    # through a throw-away apt state, leaving the machine's sources as
    # they are.
    say "fetching Test::Nginx (libtest-nginx-perl) from Debian unstable..."
    mirror=$(grep -rhoE '^(URIs:|deb) *[a-z]+://[^ ]+/debian/?' \
                 /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
             | grep -v security | head -n 1 | sed -E 's/^(URIs:|deb) *//' \
             || true)
    [ -n "$mirror" ] || { say "no Debian mirror in apt sources" >&2;
                          exit 1; }

    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
    echo "deb $mirror unstable main" > "$tmp/sources.list"
    opts=(-o Dir::Etc::SourceList="$tmp/sources.list"
          -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists="$tmp/lists"
          -o Dir::Cache="$tmp/cache"
          -o APT::Get::List-Cleanup=0)
    "${apt[@]}" "${opts[@]}" update >> "$log" 2>&1 \
        || fail "apt-get update (unstable)"
    (cd "$tmp" && "${apt[@]}" "${opts[@]}" download libtest-nginx-perl) \
        >> "$log" 2>&1 || fail "apt-get download libtest-nginx-perl"
    "${apt[@]}" install -y "$tmp"/libtest-nginx-perl_*.deb >> "$log" 2>&1 \
        || fail "apt-get install libtest-nginx-perl"
fi

say "done: $n packages installed"
