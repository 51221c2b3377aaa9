#!/usr/bin/env bash
# Build ngx_http_cflb_module.so and ngx_stream_cflb_module.so against the
# nginx this machine runs (Debian's nginx + nginx-dev), into build/.
#
#   scripts/build.sh              dynamic modules for /usr/sbin/nginx
#   CFLB_CC_OPT="-O0 -g" ...      extra compiler flags (e.g. sanitizers)
#
# With a full nginx source tree instead, see README ("Building").
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src=/usr/share/nginx/src
out=${CFLB_BUILD:-$top/build}

[ -f "$src/conf_flags" ] \
    || { echo "build: nginx-dev is not installed (scripts/deps.sh)" >&2;
         exit 1; }

mkdir -p "$out"
if [ ! -f "$out/nginx/configure" ]; then
    echo "build: copying nginx's build tree ($src)..."
    rm -rf "$out/nginx"
    cp -r "$src" "$out/nginx"
fi

cd "$out/nginx"

# the exact flags Debian built nginx with, so the modules are binary
# compatible; stream is dynamic there, so it is built (and loaded) too
# shellcheck disable=SC1091
. ./conf_flags
# and the source list in config: a new file needs a new objs/Makefile;
# the dashboard's assets are compiled in by configure, so they count too
stamp="${NGX_CONF_FLAGS[*]} ${CFLB_CC_OPT:-} $(cksum < "$top/config")"
stamp="$stamp $(cat "$top"/ngx_http_cflb_module/dashboard/* | cksum)"
if [ ! -f objs/Makefile ] || [ "$(cat objs/.cflb-stamp 2>/dev/null)" != "$stamp" ]
then
    echo "build: configuring nginx's build tree with Debian's flags" \
         "(about 10 s)..."
    ./configure "${NGX_CONF_FLAGS[@]}" --with-stream=dynamic \
        --with-cc-opt="-Wall -Wextra -Werror -Wno-unused-parameter ${CFLB_CC_OPT:-}" \
        --add-dynamic-module="$top" > "$out/configure.log" 2>&1 \
        || { tail -n 30 "$out/configure.log" >&2; exit 1; }
    echo "$stamp" > objs/.cflb-stamp
fi

if [ -f objs/ngx_http_cflb_module.so ]; then
    echo "build: compiling what changed in the modules..."
else
    echo "build: compiling the modules (first time: under a minute)..."
fi
make -j"$(nproc)" -f objs/Makefile objs/ngx_http_cflb_module.so \
    objs/ngx_stream_cflb_module.so > "$out/make.log" 2>&1 \
    || { grep -E 'error|warning' -A3 "$out/make.log" | head -n 60 >&2; exit 1; }

# replace, never overwrite: a running nginx maps the old files
for so in ngx_http_cflb_module.so ngx_stream_cflb_module.so; do
    cp "objs/$so" "$out/$so.new"
    mv -f "$out/$so.new" "$out/$so"
done
echo "build: $out/ngx_http_cflb_module.so $out/ngx_stream_cflb_module.so"
