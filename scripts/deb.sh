#!/usr/bin/env bash
# Build the Debian packages libnginx-mod-http-cflb and
# libnginx-mod-stream-cflb for this machine's nginx, into build/deb/.
#
#   scripts/deb.sh            build; lintian checks them when installed
#   scripts/deb.sh --lint     install lintian first if missing
#
# The build dependencies (debian/control) come from Debian through
# "apt-get build-dep" when some are missing.  The build runs
# "dpkg-buildpackage -b -us -uc" in a temporary copy of the tree (tracked
# and new files, as git sees them), so the tree stays clean.  Install with
#   apt install ./build/deb/libnginx-mod-http-cflb_*.deb \
#               ./build/deb/libnginx-mod-stream-cflb_*.deb
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${CFLB_DEB_OUT:-$top/build/deb}
lint=no
[ "${1:-}" = --lint ] && lint=yes

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -E "$@"; fi
}

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=900 "$@" >/dev/null
}

updated=no
apt_update() {
    [ $updated = yes ] || apt_install update -qq
    updated=yes
}

# dpkg-buildpackage and dpkg-checkbuilddeps
if ! command -v dpkg-checkbuilddeps >/dev/null; then
    apt_update
    apt_install install -y -qq --no-install-recommends dpkg-dev
fi

if ! (cd "$top" && dpkg-checkbuilddeps) 2>/dev/null; then
    echo "deb: installing the build dependencies of debian/control"
    apt_update
    apt_install build-dep -y -qq "$top"
fi

if [ $lint = yes ] && ! command -v lintian >/dev/null; then
    apt_update
    apt_install install -y -qq --no-install-recommends lintian
fi

version=$(cd "$top" && dpkg-parsechangelog -S Version)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/cflb-${version%-*}
mkdir "$src"

if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # what git tracks or would track, as it is now (deleted files skipped)
    (cd "$top" && git ls-files -z -co --exclude-standard \
        | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' \
            sh \
        | tar --null -T - -cf -) | tar -C "$src" -xf -
else
    (cd "$top" && tar --exclude=./build --exclude=./.git -cf - .) \
        | tar -C "$src" -xf -
fi

echo "deb: dpkg-buildpackage -b -us -uc (cflb $version)"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc -J"${CFLB_JOBS:-2}") \
        > "$tmp/build.log" 2>&1; then
    tail -n 40 "$tmp/build.log" >&2
    mkdir -p "$out"
    cp "$tmp/build.log" "$out/build.log"
    echo "deb: the build failed, log in $out/build.log" >&2
    exit 1
fi

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
cp "$tmp/build.log" "$out/build.log"
mv "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes "$out/"

if command -v lintian >/dev/null; then
    # errors fail the build; warnings and notes are shown
    echo "deb: lintian"
    lintian -I --fail-on error "$out"/*.changes || {
        echo "deb: lintian found errors" >&2
        exit 1
    }
fi

for deb in "$out"/*.deb; do
    echo "deb: $deb"
done
