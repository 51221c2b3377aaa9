#!/usr/bin/env bash
# Run every cflb test: the core's unit tests under AddressSanitizer and
# UBSan, then the Test::Nginx suites against real nginx with the modules.
#
#   scripts/test.sh               everything
#   scripts/test.sh t/010-*.t     only these Test::Nginx files
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh
scripts/style.sh
make -C src/common/test test
scripts/build.sh

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES="/usr/lib/nginx/modules/ngx_stream_module.so
    $top/build/ngx_http_cflb_module.so $top/build/ngx_stream_cflb_module.so"
export TEST_NGINX_CFLB_ROOT="$top"

# leftovers of an interrupted run would hold the test ports
pkill -f "$top/t/servroot" 2>/dev/null || true

if [ $# -gt 0 ]; then
    prove -I t/lib "$@"
else
    prove -I t/lib -r t
fi
