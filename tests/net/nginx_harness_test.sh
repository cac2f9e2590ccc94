#!/usr/bin/env bash
# The nginx harness of tests/net/nginx.sh (issue 18), before any Reducto test relies on
# it: HTTPS negotiates HTTP/2 and verifies only with the harness's CA, single and
# multiple ranges come back byte-exact, the access log counts the bytes, the bearer-token
# location answers 401 and 200, the server is read-only, and nginx_stop leaves no process
# and no bound port, also when the test that started it fails.
# usage: nginx_harness_test.sh REDUCTO REDUCTO_GEN   (neither is used: the arguments of
#        every command-line test, so ctest registers all of tests/net alike)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../cli/test_lib.sh"
source "$HERE/nginx.sh"
for tool in nginx openssl curl python3; do
  command -v $tool >/dev/null || { echo "FAIL $tool is missing: run scripts/setup.sh"; exit 1; }
done

mkdir -p "$W/root/private"
python3 -c 'import random, sys; random.seed(18); sys.stdout.buffer.write(random.randbytes(1 << 20))' > "$W/root/blob"
echo "for holders of the token" > "$W/root/private/note"
N=$(stat -c%s "$W/root/blob")
# slice FROM TO: bytes FROM..TO (inclusive) of the blob.
slice() { tail -c +$(($1 + 1)) "$W/root/blob" | head -c $(($2 - $1 + 1)); }

NGINX_TOKEN=s3cret-Token_18 nginx_start "$W/root" "$W/nginx" || { bad "nginx_start"; finish; exit 1; }
ok "nginx_start: $NGINX_HTTP_URL and $NGINX_HTTPS_URL"
pids="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
CURL=(curl -sS --cacert "$NGINX_CA_FILE")

# --- TLS and HTTP/2 ---
v=$("${CURL[@]}" --http2 -o "$W/got" -w '%{http_version}' "$NGINX_HTTPS_URL/blob" 2>"$W/err")
check "HTTPS with the CA negotiates HTTP/2 (curl says '$v')" [ "$v" = 2 ]
check "the HTTP/2 download is the file" cmp -s "$W/got" "$W/root/blob"
v=$("${CURL[@]}" --http2 -o /dev/null -w '%{http_version}' \
      --resolve "localhost:$NGINX_HTTPS_PORT:127.0.0.1" "https://localhost:$NGINX_HTTPS_PORT/blob" 2>"$W/err")
check "the certificate also names localhost (HTTP/$v)" [ "$v" = 2 ]
curl -sS --http2 -o /dev/null "$NGINX_HTTPS_URL/blob" 2>"$W/err"; rc=$?
check "without the CA, verification fails (curl exit $rc, 60 expected)" [ $rc -eq 60 ]
v=$(curl -sS -o /dev/null -w '%{http_version}' "$NGINX_HTTP_URL/blob" 2>"$W/err")
check "plain HTTP stays HTTP/1.1 ('$v')" [ "$v" = 1.1 ]

# --- ranges, on both ports ---
for url in "$NGINX_HTTP_URL" "$NGINX_HTTPS_URL"; do
  proto=${url%%:*}
  code=$("${CURL[@]}" -r 1000-1999 -o "$W/range" -w '%{http_code}' "$url/blob" 2>"$W/err")
  check "$proto: one range gives 206 ($code)" [ "$code" = 206 ]
  check "$proto: one range gives exactly bytes 1000-1999" cmp -s "$W/range" <(slice 1000 1999)
  code=$("${CURL[@]}" -r $((N - 10))- -o "$W/range" -w '%{http_code}' "$url/blob" 2>"$W/err")
  check "$proto: an open range gives the last 10 bytes" cmp -s "$W/range" <(slice $((N - 10)) $((N - 1)))
  "${CURL[@]}" -r 0-99,5000-5099,900000-900499 -D "$W/headers" -o "$W/multi" "$url/blob" 2>"$W/err"
  check "$proto: several ranges give multipart/byteranges" grep -qi '^content-type: multipart/byteranges; boundary=' "$W/headers"
  check "$proto: each part holds its bytes" python3 - "$W/headers" "$W/multi" "$W/root/blob" <<'PY'
import re, sys
headers, body, blob = open(sys.argv[1]).read(), open(sys.argv[2], 'rb').read(), open(sys.argv[3], 'rb').read()
boundary = re.search(r'boundary=(\S+)', headers, re.I).group(1).encode()
parts = [p for p in body.split(b'--' + boundary) if p.strip(b'\r\n-')]
seen = []
for part in parts:
    head, _, data = part.partition(b'\r\n\r\n')
    m = re.search(rb'Content-Range: bytes (\d+)-(\d+)/(\d+)', head, re.I)
    a, b = int(m.group(1)), int(m.group(2))
    data = data[:b - a + 1]
    assert data == blob[a:b + 1], (a, b)
    seen.append((a, b))
assert seen == [(0, 99), (5000, 5099), (900000, 900499)], seen
PY
done

# --- the access log ---
nginx_log_reset
"${CURL[@]}" --http2 -r 4096-8191 -o /dev/null "$NGINX_HTTPS_URL/blob"
"${CURL[@]}" -o /dev/null "$NGINX_HTTP_URL/blob"
line=$(grep -F 'GET /blob HTTP/2.0' "$NGINX_ACCESS_LOG")
IFS=$'\t' read -r _ _ _ _ _ status body sent range rtime proto <<< "$line"
check "the log records the range request: status $status, body $body, range '$range', $proto" \
  [ "$status $body $range $proto" = "206 4096 bytes=4096-8191 HTTP/2.0" ]
check "bytes_sent ($sent) counts the headers on top of the body ($body)" [ "$sent" -gt "$body" ]
check "request_time is recorded ($rtime)" grep -qE "^[0-9]+[.][0-9]{3}$" <<< "$rtime"
check "nginx_body_bytes sums the bodies ($(nginx_body_bytes) = $N + 4096)" [ "$(nginx_body_bytes)" -eq $((N + 4096)) ]
check "nginx_body_bytes selects by request (HTTP/1.1 only: $(nginx_body_bytes 'HTTP/1[.]1$'))" \
  [ "$(nginx_body_bytes 'HTTP/1[.]1$')" -eq "$N" ]
check "nginx_bytes_sent sums bytes_sent ($(nginx_bytes_sent) > body)" [ "$(nginx_bytes_sent)" -gt $((N + 4096)) ]
check "nginx_requests counts 2 requests" [ "$(nginx_requests)" -eq 2 ]

# --- bearer token, read-only ---
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@" 2>"$W/err"; }
for url in "$NGINX_HTTP_URL" "$NGINX_HTTPS_URL"; do
  proto=${url%%:*}
  c=$(code "$url/private/note"); check "$proto: the token location without a token gives 401 ($c)" [ "$c" = 401 ]
  c=$(code -H "Authorization: Bearer wrong" "$url/private/note"); check "$proto: a wrong token gives 401 ($c)" [ "$c" = 401 ]
  c=$(code -H "Authorization: Bearer s3cret-Token_18" "$url/private/note"); check "$proto: the token gives 200 ($c)" [ "$c" = 200 ]
  c=$(code "$url/blob"); check "$proto: outside the location no token is needed ($c)" [ "$c" = 200 ]
  c=$(code -X PUT --data-binary @/dev/null "$url/blob"); check "$proto: PUT is refused ($c)" [ "$c" = 403 ]
  c=$(code -X DELETE "$url/blob"); check "$proto: DELETE is refused ($c)" [ "$c" = 403 ]
done
check "the file is untouched" cmp -s "$W/got" "$W/root/blob"

# --- stop ---
http_port=$NGINX_HTTP_PORT; https_port=$NGINX_HTTPS_PORT
nginx_stop
alive=""; for p in $pids; do _nginx_running "$p" && alive="$alive $p"; done
check "after nginx_stop no nginx process is left (was $pids, alive:${alive:- none})" [ -z "$alive" ]
check "after nginx_stop both ports are free" _nginx_port_free "$http_port"
check "  (HTTPS too)" _nginx_port_free "$https_port"
curl -s -o /dev/null "http://127.0.0.1:$http_port/blob"; rc=$?
check "nothing answers on the old port (curl exit $rc)" [ $rc -eq 7 ]
check "nginx_stop twice is harmless" nginx_stop

# A test that fails after nginx_start: the chained EXIT trap stops nginx, then runs the
# trap the test had (which removes its directory).
bash -c 'source "$1"; D=$2; trap "rm -rf \"$D/w\"; echo trap-ran > \"$D/trap\"" EXIT
         nginx_start "$D/root" "$D/w" || exit 3
         echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr "\n" " ")" > "$D/pids"; echo $NGINX_HTTP_PORT > "$D/port"
         false || exit 1' _ "$HERE/nginx.sh" "$W"; rc=$?
alive=""; for p in $(cat "$W/pids" 2>/dev/null); do _nginx_running "$p" && alive="$alive $p"; done
check "a failing test (exit $rc) leaves no nginx behind (alive:${alive:- none})" [ "$rc $(cat "$W/pids" 2>/dev/null | wc -w)$alive" = "1 2" ]
check "  and its own EXIT trap still ran" [ -f "$W/trap" -a ! -d "$W/w" ]
check "  and its port is free" _nginx_port_free "$(cat "$W/port")"
finish
