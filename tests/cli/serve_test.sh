#!/usr/bin/env bash
# reducto serve (issue 18, docs/serve.md): a repository directory read-only over HTTP,
# checked with curl: whole files, HEAD, single and multiple byte ranges, 416,
# validators and conditional requests, refused methods, every way out of the store
# refused, bearer tokens, the access log, the command's errors, SIGTERM, and 200
# parallel range requests on 4 threads. Every server this test starts is stopped when
# it ends, failed or not.
# usage: serve_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1")
source "$(dirname "$0")/test_lib.sh"

server_pid=""
stop_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  server_pid=""
}
trap 'stop_server; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

# start_server ARGS...: reducto serve on 127.0.0.1, a free port, the store $S; sets URL.
start_server() {
  rm -f "$W/port"
  "$R" serve --store "$S" --listen 127.0.0.1:0 --port-file "$W/port" "$@" 2>"$W/serve.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    if [ -s "$W/port" ]; then URL=http://127.0.0.1:$(cat "$W/port"); return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "reducto serve did not start; its stderr:"; sed 's/^/  /' "$W/serve.log"; return 1
}
# status ARGS...: the HTTP status curl gets (the body goes to $W/body, headers to $W/headers).
status() { rm -f "$W/body"; : > "$W/body"; curl -s -o "$W/body" -D "$W/headers" -w '%{http_code}' "$@"; }
# header NAME: that response header's value from $W/headers.
header() { grep -i "^$1:" "$W/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# bytes FILE OFFSET LENGTH: that slice of FILE on stdout.
bytes() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }

# --- a repository in the static layout, and things outside it ---
S=$W/store; C=$S/corpora/7f3c
mkdir -p "$C/pack" "$C/pieces" "$C/signatures" "$C/index" "$W/outside"
head -c $((3 << 20)) /dev/urandom > "$C/pack/000001.pz"
head -c 1000 /dev/urandom > "$C/pack/000001.pzi"
printf '{"id": "7f3c", "pieces": 1}\n' > "$C/manifest.json"
: > "$C/pieces/000001.b3"
echo "TOP SECRET outside the store" > "$W/outside/secret"
echo "TOP SECRET outside the store" > "$W/secret"
ln -s "$W/outside/secret" "$C/leak"          # a symlink out of the store
ln -s "$W/outside" "$S/corpora/evil"         # a symlinked directory out of the store
ln -s pack/000001.pzi "$C/alias.pzi"         # a symlink inside the store
mkfifo "$C/fifo"
PZ=$C/pack/000001.pz; SIZE=$(stat -c %s "$PZ")

start_server -v || { bad "reducto serve starts"; finish; exit 1; }
ok "reducto serve starts"
check "  and says where it serves" grep -q "reducto serve: serving $S on $URL" "$W/serve.log"

# --- whole files and HEAD ---
check "GET of a pack is 200" [ "$(status "$URL/corpora/7f3c/pack/000001.pz")" = 200 ]
check "  with exactly the file's bytes" cmp -s "$W/body" "$PZ"
check "  as application/octet-stream" [ "$(header Content-Type)" = application/octet-stream ]
check "GET of manifest.json is application/json" \
  bash -c "[ \"\$(curl -s -o /dev/null -w '%{content_type}' '$URL/corpora/7f3c/manifest.json')\" = application/json ]"
check "GET of an empty file is 200 and empty" \
  bash -c "[ \"\$(curl -s -o '$W/empty' -w '%{http_code}' '$URL/corpora/7f3c/pieces/000001.b3')\" = 200 ] && [ ! -s '$W/empty' ]"
check "HEAD is 200" [ "$(status -I "$URL/corpora/7f3c/pack/000001.pz")" = 200 ]
check "  with the file's Content-Length" [ "$(header Content-Length)" = "$SIZE" ]
check "  Accept-Ranges: bytes" [ "$(header Accept-Ranges)" = bytes ]
ETAG=$(header ETag); LAST=$(header Last-Modified)
check "  an ETag" [ -n "$ETAG" ]
check "  a Last-Modified date" bash -c "[[ '$LAST' =~ ^[A-Z][a-z]{2},\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9:]{8}\ GMT$ ]]"
# (curl -I writes the headers where the body would go.)
check "  and no body" [ "$(wc -c < "$W/body")" -eq "$(wc -c < "$W/headers")" ]

# --- ranges ---
check "a single range is 206" [ "$(status -r 100-199 "$URL/corpora/7f3c/pack/000001.pz")" = 206 ]
check "  with exactly those bytes" cmp -s "$W/body" <(bytes "$PZ" 100 100)
check "  and Content-Range bytes 100-199/$SIZE" [ "$(header Content-Range)" = "bytes 100-199/$SIZE" ]
check "a suffix range (-500) gives the last 500 bytes" \
  bash -c "[ \"\$(curl -s -o '$W/suffix' -w '%{http_code}' -r -500 '$URL/corpora/7f3c/pack/000001.pz')\" = 206 ] && cmp -s '$W/suffix' <(tail -c 500 '$PZ')"
check "an open range past the end is clamped to the file" \
  bash -c "[ \"\$(curl -s -o '$W/open' -w '%{http_code}' -r $((SIZE - 10))-$((SIZE * 2)) '$URL/corpora/7f3c/pack/000001.pz')\" = 206 ] && cmp -s '$W/open' <(tail -c 10 '$PZ')"
check "two ranges are 206" [ "$(status -r 0-9,2000000-2099999 "$URL/corpora/7f3c/pack/000001.pz")" = 206 ]
check "  as multipart/byteranges" bash -c "[[ '$(header Content-Type)' == multipart/byteranges\;\ boundary=* ]]"
check "  with both parts exactly" python3 - "$W/body" "$(header Content-Type)" "$PZ" "$SIZE" <<'PY'
import sys
body, ctype, path, size = open(sys.argv[1], 'rb').read(), sys.argv[2], sys.argv[3], int(sys.argv[4])
boundary = ctype.split('boundary=')[1].encode()
data = open(path, 'rb').read()
parts = body.split(b'--' + boundary)
assert parts[0] == b'' and parts[-1] == b'--\r\n', (parts[0][:40], parts[-1][:40])
want = [(0, 9), (2000000, 2099999)]
assert len(parts) - 2 == len(want)
for part, (a, b) in zip(parts[1:-1], want):
    head, payload = part.split(b'\r\n\r\n', 1)
    assert b'Content-Range: bytes %d-%d/%d' % (a, b, size) in head, head
    assert payload.endswith(b'\r\n'), 'part does not end with CRLF'
    assert payload[:-2] == data[a:b + 1], 'part %d-%d differs' % (a, b)
PY
check "a range past the end is 416" [ "$(status -r $SIZE- "$URL/corpora/7f3c/pack/000001.pz")" = 416 ]
check "  with Content-Range bytes */$SIZE" [ "$(header Content-Range)" = "bytes */$SIZE" ]

# --- validators ---
check "If-None-Match with the ETag is 304" \
  [ "$(status -H "If-None-Match: $ETAG" "$URL/corpora/7f3c/pack/000001.pz")" = 304 ]
check "  and sends no body" [ ! -s "$W/body" ]
check "If-None-Match with another tag is 200" \
  [ "$(status -H 'If-None-Match: "other"' "$URL/corpora/7f3c/pack/000001.pz")" = 200 ]
check "If-Modified-Since the Last-Modified date is 304" \
  [ "$(status -H "If-Modified-Since: $LAST" "$URL/corpora/7f3c/pack/000001.pz")" = 304 ]
check "If-Range with the ETag keeps the range (206)" \
  [ "$(status -r 0-99 -H "If-Range: $ETAG" "$URL/corpora/7f3c/pack/000001.pz")" = 206 ]
check "If-Range with a stale ETag sends the whole file (200)" \
  [ "$(status -r 0-99 -H 'If-Range: "stale"' "$URL/corpora/7f3c/pack/000001.pz")" = 200 ]
check "  all of it" cmp -s "$W/body" "$PZ"
check "If-Range with the Last-Modified date keeps the range" \
  [ "$(status -r 0-99 -H "If-Range: $LAST" "$URL/corpora/7f3c/pack/000001.pz")" = 206 ]

# --- read-only ---
for method in PUT POST DELETE PATCH OPTIONS; do
  check "$method is 405" [ "$(status -X $method --data-binary x "$URL/corpora/7f3c/manifest.json")" = 405 ]
  check "  with Allow: GET, HEAD" [ "$(header Allow)" = "GET, HEAD" ]
done
check "the manifest is unchanged" grep -q '"pieces": 1' "$C/manifest.json"

# --- nothing outside the store ---
for path in /../secret /corpora/../../secret /corpora/7f3c/../../../secret /%2e%2e/secret \
            /corpora/%2E%2E/%2e%2e/secret /corpora%2F..%2F..%2Fsecret /corpora/7f3c%2fmanifest.json \
            '/corpora\..\..\secret' /corpora/7f3c/manifest.json%00 /corpora/7f3c/leak \
            /corpora/evil/secret /corpora/7f3c/alias.pzi "/$W/secret" "//$W/secret" \
            /corpora/7f3c/fifo /corpora/7f3c/./manifest.json; do
  code=$(status --path-as-is "$URL$path")
  check "$path is refused ($code)" bash -c "[ $code = 404 ] || [ $code = 400 ]"
  check "  without the outside file's contents" bash -c "! grep -q 'TOP SECRET' '$W/body'"
done
check "a directory is 404" [ "$(status "$URL/corpora/7f3c/pack")" = 404 ]
check "  also with a trailing slash" [ "$(status "$URL/corpora/7f3c/pack/")" != 200 ]
check "a missing file is 404" [ "$(status "$URL/corpora/7f3c/pack/000009.pz")" = 404 ]
check "/healthz is 200 ok" [ "$(status "$URL/healthz")" = 200 ] && check "  ok" grep -qx ok "$W/body"

check "the -v log has a line per request" grep -q '"GET /corpora/7f3c/pack/000001.pz" range=bytes=100-199 206 100' "$W/serve.log"

# --- stopping ---
kill -TERM "$server_pid"; wait "$server_pid"; rc=$?; server_pid=""
check "SIGTERM stops the server with exit 0 (got $rc)" [ $rc -eq 0 ]

# --- bearer tokens ---
printf '# readers\n\n  alpha-token-1  \nbeta-token-2\n' > "$W/tokens"
if start_server -v --token-file "$W/tokens"; then ok "reducto serve --token-file starts"
else bad "reducto serve --token-file starts"; fi
check "without a token: 401" [ "$(status "$URL/corpora/7f3c/manifest.json")" = 401 ]
check "  with WWW-Authenticate: Bearer" bash -c "[[ '$(header WWW-Authenticate)' == Bearer* ]]"
check "with a wrong token: 403" \
  [ "$(status -H 'Authorization: Bearer alpha-token-X' "$URL/corpora/7f3c/manifest.json")" = 403 ]
check "with a Basic header: 401" \
  [ "$(status -u user:alpha-token-1 "$URL/corpora/7f3c/manifest.json")" = 401 ]
check "with the first token: 200" \
  [ "$(status -H 'Authorization: Bearer alpha-token-1' "$URL/corpora/7f3c/manifest.json")" = 200 ]
check "with the second token: 200" \
  [ "$(status -H 'Authorization: bearer beta-token-2' "$URL/corpora/7f3c/manifest.json")" = 200 ]
check "/healthz needs no token" [ "$(status "$URL/healthz")" = 200 ]
check "the -v log records the requests" grep -q '"GET /corpora/7f3c/manifest.json" range=- 403' "$W/serve.log"
check "  but never a token" bash -c "! grep -q -e alpha-token -e beta-token '$W/serve.log'"
PORT=$(cat "$W/port")

# --- the command's errors ---
expect_exit "the port in use is an error" 1 "address in use" \
  "$R" serve --store "$S" --listen "127.0.0.1:$PORT"
stop_server
expect_exit "a missing store is an error" 1 "not found|no such" \
  "$R" serve --store "$W/nothing" --listen 127.0.0.1:0
expect_exit "a store that is a file is an error" 2 "not a directory" \
  "$R" serve --store "$C/manifest.json" --listen 127.0.0.1:0
expect_exit "a bad address is an error" 2 "bad listen address" \
  "$R" serve --store "$S" --listen 127.0.0.1
expect_exit "a port out of range is an error" 2 "bad listen address" \
  "$R" serve --store "$S" --listen 127.0.0.1:70000
expect_exit "a host that does not resolve is an error" 2 "does not resolve|not an address" \
  "$R" serve --store "$S" --listen no-such-host.invalid:0
expect_exit "a missing token file is an error" 1 "cannot open" \
  "$R" serve --store "$S" --listen 127.0.0.1:0 --token-file "$W/no-tokens"
printf '# nothing here\n\n' > "$W/empty-tokens"
expect_exit "an empty token file is an error" 2 "holds no token" \
  "$R" serve --store "$S" --listen 127.0.0.1:0 --token-file "$W/empty-tokens"
if [ "$(id -u)" != 0 ]; then
  cp "$W/tokens" "$W/unreadable-tokens"; chmod 000 "$W/unreadable-tokens"
  expect_exit "an unreadable token file is an error" 1 "permission" \
    "$R" serve --store "$S" --listen 127.0.0.1:0 --token-file "$W/unreadable-tokens"
fi

# --- load: 200 range requests, 16 at a time, on 4 threads ---
if start_server --threads 4; then ok "reducto serve --threads 4 starts"
else bad "reducto serve --threads 4 starts"; fi
export URL PZ
seq 0 199 | xargs -P 16 -I{} bash -c '
  off=$(( ({} * 15731) % 3000000 )); len=$(( 1000 + {} * 37 ))
  curl -s -r $off-$((off + len - 1)) "$URL/corpora/7f3c/pack/000001.pz" |
    cmp -s - <(tail -c +$((off + 1)) "$PZ" | head -c $len) || echo "request {} ($off+$len) differs"
' > "$W/load" 2>&1
check "200 parallel range requests are all exact" [ ! -s "$W/load" ]
[ -s "$W/load" ] && head -5 "$W/load"
kill -INT "$server_pid"; wait "$server_pid"; rc=$?; server_pid=""
check "SIGINT stops the server with exit 0 (got $rc)" [ $rc -eq 0 ]

finish
