#!/usr/bin/env bash
# Install everything cflb needs on Debian bookworm, idempotently:
# build deps, nginx + nginx-dev, test and bench tools, and Test::Nginx.
set -euo pipefail

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        exec sudo -E "$0" "$@"
    fi
}

pkgs="build-essential nginx nginx-dev libnginx-mod-stream libssl-dev
      libpcre2-dev zlib1g-dev libmaxminddb-dev perl libio-socket-ssl-perl
      gcc-multilib curl haproxy wrk valgrind procps psmisc libjansson-dev
      prometheus chromium libmaxmind-db-writer-perl mmdb-bin tor-geoipdb
      dnsutils knot-dnsutils python3-dnspython unbound
      dnsperf gdnsd nsd knot"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing="$missing $p"
done

if ! perl -MTest::Nginx::Socket -e 1 2>/dev/null; then
    missing="$missing test-nginx"
fi

[ -z "$missing" ] && exit 0
need_root "$@"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# prometheus is here for its promtool only, unbound, gdnsd, nsd and knot
# for the DNS tests and benchmark, which start their own: keep their
# package scripts from starting a server while installing (policy-rc.d
# says "not now")
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi

# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
    ${missing/test-nginx/} >/dev/null
if trap -p EXIT | grep -q policy; then
    rm -f "$policy"
    trap - EXIT
fi

if ! perl -MTest::Nginx::Socket -e 1 2>/dev/null; then
    # Test::Nginx is packaged only in Debian's unstable suite; it is pure
    # Perl and its dependencies are all in bookworm.  Read the mirror the
    # machine already uses and fetch that one package from unstable
    # through a throw-away apt state, leaving the machine's sources as
    # they are.
    mirror=$(grep -rhoE '^(URIs:|deb) *[a-z]+://[^ ]+/debian/?' \
                 /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
             | grep -v security | head -n 1 | sed -E 's/^(URIs:|deb) *//' \
             || true)
    [ -n "$mirror" ] || { echo "deps: no Debian mirror in apt sources" >&2;
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
    apt-get "${opts[@]}" update -qq
    (cd "$tmp" && apt-get "${opts[@]}" download libtest-nginx-perl)
    apt-get install -y -qq "$tmp"/libtest-nginx-perl_*.deb >/dev/null
fi
