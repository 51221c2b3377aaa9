#!/bin/sh
# Build-time check (dh_auto_test): the modules just built load into the
# system's nginx, after Debian's stream module, and accept a configuration
# using both, with "nginx -t" (no process is started, no port bound).
#
#   sh debian/check-modules.sh BUILDDIR
set -e

b=$(cd "$1" && pwd)
p=$(mktemp -d)
trap 'rm -rf "$p"' EXIT

for so in "$b"/*.so; do
    [ -f "$so" ] || { echo "check-modules: no module in $b" >&2; exit 1; }
done

cat > "$p/nginx.conf" << END
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $b/ngx_http_cflb_module.so;
load_module $b/ngx_stream_cflb_module.so;

error_log stderr;
pid nginx.pid;
events {}

http {
    # nothing outside the temporary prefix, so that a build as a user works
    access_log off;
    client_body_temp_path tmp;
    proxy_temp_path tmp;
    fastcgi_temp_path tmp;
    uwsgi_temp_path tmp;
    scgi_temp_path tmp;

    cflb_zone cflb 1m;
    cflb_pool p {
        endpoint a 127.0.0.1:8081 weight=0.5;
        endpoint b 127.0.0.1:8082;
    }
    cflb_lb www { pools p; steering random; }

    server {
        listen 127.0.0.1:8080;
        location / { proxy_pass http://www; }
        location = /status { cflb_status; }
        location = /cflb { cflb_dashboard; }
    }
}

stream {
    cflb_zone cflb_stream 1m;
    cflb_pool p { endpoint a 127.0.0.1:8081; }
    cflb_lb l4 { pools p; }
    server { listen 127.0.0.1:9000; proxy_pass l4; }
}
END

/usr/sbin/nginx -t -q -p "$p/" -c "$p/nginx.conf"
echo "check-modules: nginx -t accepts both modules"
