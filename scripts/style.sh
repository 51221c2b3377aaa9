#!/usr/bin/env bash
# The house style gate for C sources: 80 columns, no tabs, no trailing
# spaces.  Prints offending lines and fails if there are any.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src ngx_* -name '*.[ch]')
bad=0

for f in $files; do
    awk -v f="$f" '
        length($0) > 80 { printf "%s:%d: longer than 80 columns\n", f, NR; bad = 1 }
        /\t/            { printf "%s:%d: tab\n", f, NR; bad = 1 }
        /[ \t]+$/       { printf "%s:%d: trailing white space\n", f, NR; bad = 1 }
        END             { exit bad }' "$f" || bad=1
done

[ $bad -eq 0 ] && echo "style: ok"
exit $bad
