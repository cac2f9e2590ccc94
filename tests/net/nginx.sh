# shellcheck shell=bash
# A private nginx on loopback for tests and benchmarks that fetch over HTTP (issue 18).
# Sourced, not run:  source tests/net/nginx.sh
#
#   nginx_start ROOT WORKDIR   serve ROOT (read-only: GET and HEAD, single and multiple
#                              ranges) on 127.0.0.1, plain HTTP/1.1 on one free port and
#                              HTTPS with HTTP/2 on another. Everything nginx writes (config,
#                              pid file, logs, temp paths, CA and server keys) is in WORKDIR.
#                              Exports NGINX_HTTP_URL, NGINX_HTTPS_URL (no trailing slash),
#                              NGINX_CA_FILE (the CA that signed the server certificate, for
#                              curl --cacert), NGINX_ACCESS_LOG, NGINX_PID, NGINX_WORKDIR.
#                              Returns non-zero, with error.log on stderr, if it cannot start.
#   nginx_stop                 stop it and wait until the master and its workers are gone
#                              and both ports are free; safe to call twice or unstarted.
#   nginx_bytes_sent [ERE]     sum of $bytes_sent (status line, headers and body, before TLS)
#   nginx_body_bytes [ERE]     sum of $body_bytes_sent
#   nginx_requests   [ERE]     number of requests
#                              ...over the access-log lines whose request ("GET /path
#                              HTTP/1.1") matches the awk regular expression ERE (all lines
#                              without one).
#   nginx_log_reset            empty the access log (nginx appends, no reopen needed).
#
# Bearer token: if NGINX_TOKEN is set when nginx_start runs, requests under the path prefix
# NGINX_TOKEN_PREFIX (default /private/; "/" protects everything) get 401 unless they
# carry "Authorization: Bearer $NGINX_TOKEN". The token is restricted to RFC 6750's
# b64token characters so it can go into the configuration unquoted.
#
# Stopping on failure: nginx_start adds nginx_stop in front of whatever EXIT trap the
# shell has at that moment (so a trap that removes WORKDIR still runs, after nginx is
# gone). A caller that sets its own EXIT trap *after* nginx_start replaces that chain and
# must call nginx_stop in it. bash runs the EXIT trap on SIGTERM and on `exit`; a caller
# that wants it on SIGINT too sets `trap 'exit 130' INT`. SIGKILL leaves nginx running:
# its pid is in WORKDIR/nginx.pid.
#
# Access log: one tab-separated line per request, fields in this order:
#   1 time_iso8601  2 remote_addr  3 connection  4 connection_requests  5 request
#   6 status  7 body_bytes_sent  8 bytes_sent  9 http_range  10 request_time
#   11 server_protocol (HTTP/1.1 or HTTP/2.0)
# nginx escapes control characters in variables (\xXX), so a tab never splits a field.
# $bytes_sent is what nginx hands to the connection before TLS: over HTTP/1.1 the status
# line, headers and body (253 bytes over the body for a 1 MiB file); over HTTP/2 the
# HPACK-coded HEADERS frame and every DATA frame's 9-byte header too (nginx cuts DATA
# frames at http2_chunk_size, 8 KiB: 1278 bytes over the body for the same file). TLS
# record overhead is counted nowhere. A multipart/byteranges body counts its part headers
# (256 bytes of body for two 10-byte ranges).
#
# Ranges: nginx answers one range with 206 and the bytes, several with 206
# multipart/byteranges. `max_ranges` is left unset (no limit; 1 would turn every
# multi-range request into a single-range one). nginx answers 200 with the whole file when
# the ranges add up to more than the file (its guard against overlapping ranges).
#
# Needs: nginx (1.19.5 or later for -e; `listen ... ssl http2` is the 1.22 syntax),
# openssl, python3, curl.

NGINX_WORKDIR=""; NGINX_PID=""; NGINX_HTTP_PORT=""; NGINX_HTTPS_PORT=""
# Debian's python3 directly: a pyenv shim first on the PATH costs most of a second a call.
_NGINX_PYTHON=python3; [ -x /usr/bin/python3 ] && _NGINX_PYTHON=/usr/bin/python3

_nginx_free_port() {
  "$_NGINX_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# _nginx_port_free PORT: nothing listens on 127.0.0.1:PORT (a bind succeeds).
_nginx_port_free() {
  "$_NGINX_PYTHON" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}

# _nginx_certificates DIR: a CA (ca.key, ca.crt) and a server key and certificate it
# signed (server.key, server.crt) for IP 127.0.0.1 and DNS localhost, valid two days.
_nginx_certificates() {
  local d=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=Reducto test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null || return 1
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" 2>/dev/null || return 1
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.crt" -days 2 -extfile "$d/server.ext" 2>/dev/null || return 1
  chmod 600 "$d/ca.key" "$d/server.key"
}

# _nginx_config ROOT WORKDIR HTTP_PORT HTTPS_PORT: writes WORKDIR/nginx.conf.
_nginx_config() {
  local root=$1 w=$2 hp=$3 sp=$4 user="" locations
  # As root the workers would run as nobody, who may not read ROOT; any other user keeps
  # its own identity (nginx ignores `user` then, with a warning).
  [ "$(id -u)" -eq 0 ] && user="user $(id -un) $(id -gn);"
  locations="location / { limit_except GET { deny all; } }"
  if [ -n "${NGINX_TOKEN:-}" ]; then
    local prefix=${NGINX_TOKEN_PREFIX:-/private/} match
    match="^~ $prefix"; [ "$prefix" = / ] && match=/
    local guarded="location $match {
      limit_except GET { deny all; }
      if (\$http_authorization != \"Bearer $NGINX_TOKEN\") { return 401; }
      add_header WWW-Authenticate 'Bearer realm=\"reducto-test\"' always;
    }"
    if [ "$prefix" = / ]; then locations=$guarded; else locations="$locations
    $guarded"; fi
  fi
  cat > "$w/nginx.conf" <<EOF
# Written by tests/net/nginx.sh; everything nginx writes stays in $w.
$user
daemon on;
worker_processes 1;
pid $w/nginx.pid;
error_log $w/error.log warn;
events { worker_connections 512; }
http {
  types { text/plain txt; text/html html; application/json json; }
  default_type application/octet-stream;
  log_format reducto "\$time_iso8601\t\$remote_addr\t\$connection\t\$connection_requests\t\$request\t\$status\t\$body_bytes_sent\t\$bytes_sent\t\$http_range\t\$request_time\t\$server_protocol";
  access_log $w/access.log reducto;
  client_body_temp_path $w/tmp/client;
  proxy_temp_path $w/tmp/proxy;
  fastcgi_temp_path $w/tmp/fastcgi;
  uwsgi_temp_path $w/tmp/uwsgi;
  scgi_temp_path $w/tmp/scgi;
  sendfile on;
  keepalive_requests 10000;
  server_tokens off;
  server {
    listen 127.0.0.1:$hp;
    listen 127.0.0.1:$sp ssl http2;
    server_name localhost 127.0.0.1;
    ssl_certificate $w/tls/server.crt;
    ssl_certificate_key $w/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $root;
    autoindex off;
    $locations
  }
}
EOF
}

nginx_start() {
  local root w
  if [ $# -ne 2 ] || [ ! -d "$1" ]; then
    echo "nginx_start: usage: nginx_start ROOT WORKDIR (ROOT an existing directory)" >&2; return 2
  fi
  if [ -n "$NGINX_PID" ] && _nginx_running "$NGINX_PID"; then
    echo "nginx_start: an nginx of this shell already runs (pid $NGINX_PID): nginx_stop first" >&2; return 2
  fi
  if [ -n "${NGINX_TOKEN:-}" ] && ! [[ $NGINX_TOKEN =~ ^[A-Za-z0-9._~+/-]+=*$ ]]; then
    echo "nginx_start: NGINX_TOKEN may hold only A-Z a-z 0-9 . _ ~ + / - and trailing =" >&2; return 2
  fi
  root=$(realpath "$1"); mkdir -p "$2" && w=$(realpath "$2") || return 1
  mkdir -p "$w/tmp" "$w/tls" || return 1
  _nginx_certificates "$w/tls" || { echo "nginx_start: openssl could not make the certificates" >&2; return 1; }
  # A free port can be taken between the probe and nginx's bind: try a few pairs.
  for _ in 1 2 3 4 5; do
    NGINX_HTTP_PORT=$(_nginx_free_port); NGINX_HTTPS_PORT=$(_nginx_free_port)
    [ "$NGINX_HTTP_PORT" = "$NGINX_HTTPS_PORT" ] && continue
    _nginx_config "$root" "$w" "$NGINX_HTTP_PORT" "$NGINX_HTTPS_PORT"
    : > "$w/access.log"; : > "$w/error.log"
    if nginx -p "$w" -c "$w/nginx.conf" -e "$w/error.log" 2>>"$w/error.log"; then break; fi
    grep -q "Address already in use" "$w/error.log" || break
  done
  NGINX_PID=$(cat "$w/nginx.pid" 2>/dev/null)
  if [ -z "$NGINX_PID" ] || ! _nginx_running "$NGINX_PID"; then
    echo "nginx_start: nginx did not start; $w/error.log says:" >&2; sed 's/^/  /' "$w/error.log" >&2
    NGINX_PID=""; return 1
  fi
  NGINX_WORKDIR=$w
  export NGINX_WORKDIR NGINX_PID NGINX_HTTP_PORT NGINX_HTTPS_PORT
  export NGINX_HTTP_URL="http://127.0.0.1:$NGINX_HTTP_PORT"
  export NGINX_HTTPS_URL="https://127.0.0.1:$NGINX_HTTPS_PORT"
  export NGINX_CA_FILE="$w/tls/ca.crt"
  export NGINX_ACCESS_LOG="$w/access.log"
  # Chain the stop in front of the EXIT trap the caller has now (see the header).
  local previous; previous=$(trap -p EXIT)
  # shellcheck disable=SC2064 # the previous trap's text is meant to be put in now
  if [ -n "$previous" ]; then eval "set -- $previous"; trap "nginx_stop; $3" EXIT
  else trap nginx_stop EXIT; fi
  # nginx binds before it forks, so the ports accept now; a connect makes sure.
  for _ in $(seq 50); do
    _nginx_listening "$NGINX_HTTP_PORT" && _nginx_listening "$NGINX_HTTPS_PORT" && break
    sleep 0.1
  done
}

# _nginx_running PID...: one of them runs. A zombie does not count: the daemonized master
# is reparented to PID 1, which may be slow to reap it (or never, in some containers),
# and kill -0 succeeds on a zombie.
_nginx_running() {
  local p state
  for p in "$@"; do
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$p/stat" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] && return 0
  done
  return 1
}
# _nginx_listening PORT: something accepts connections on 127.0.0.1:PORT.
_nginx_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

nginx_stop() {
  [ -n "$NGINX_PID" ] || return 0
  local pid=$NGINX_PID children
  children=$(pgrep -P "$pid" 2>/dev/null)
  kill -TERM "$pid" 2>/dev/null   # fast shutdown: the master stops its workers
  for _ in $(seq 100); do
    _nginx_running "$pid" $children || break
    sleep 0.05
  done
  _nginx_running "$pid" $children && kill -KILL "$pid" $children 2>/dev/null
  for _ in $(seq 100); do
    _nginx_listening "$NGINX_HTTP_PORT" || _nginx_listening "$NGINX_HTTPS_PORT" || break
    sleep 0.05
  done
  NGINX_PID=""
}

_nginx_sum() {  # field, ERE
  awk -F'\t' -v f="$1" -v pat="${2:-}" 'pat == "" || $5 ~ pat { s += $f } END { printf "%d\n", s }' "$NGINX_ACCESS_LOG"
}
nginx_bytes_sent() { _nginx_sum 8 "${1:-}"; }
nginx_body_bytes() { _nginx_sum 7 "${1:-}"; }
nginx_requests() {
  awk -F'\t' -v pat="${1:-}" 'pat == "" || $5 ~ pat { n++ } END { printf "%d\n", n }' "$NGINX_ACCESS_LOG"
}
nginx_log_reset() { : > "$NGINX_ACCESS_LOG"; }
