#!/usr/bin/env bash
# Set the project's version and open the matching debian/changelog entry.
#
#   scripts/bump-version.sh 0.11.0 "what changed, in one line"
#
# VERSION holds the version; debian/changelog must follow it (the package
# build refuses a mismatch), with Debian revision 1.  A packaging-only fix
# keeps VERSION and takes the next revision: add an entry by hand, or with
# "dch -i" from devscripts.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-}
text=${2:-}

if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || [ -z "$text" ]; then
    echo "usage: $0 X.Y.Z \"what changed\"" >&2
    exit 1
fi

old=$(cat "$top/VERSION")
if dpkg --compare-versions "$version" le "$old"; then
    echo "bump: $version is not above $old" >&2
    exit 1
fi

# the maintainer line of the newest entry, so that the entries agree
who=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$top/debian/changelog" | head -n 1)

{
    printf 'cflb (%s-1) bookworm; urgency=medium\n\n' "$version"
    printf '%s\n' "$text" | fold -s -w 72 \
        | sed 's/ *$//; 1s/^/  * /; 1!s/^/    /'
    printf '\n -- %s  %s\n\n' "$who" "$(date -R)"
    cat "$top/debian/changelog"
} > "$top/debian/changelog.new"
mv "$top/debian/changelog.new" "$top/debian/changelog"
echo "$version" > "$top/VERSION"

echo "bump: $old -> $version (VERSION, debian/changelog); commit both"
