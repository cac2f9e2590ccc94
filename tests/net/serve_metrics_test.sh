#!/usr/bin/env bash
# reducto serve's /metrics (docs/monitoring.md, "reducto serve: /metrics") as Prometheus
# sees it: promtool checks the exposition and the alert rules (docs/monitoring/
# serve-rules.yml, also unit-tested with tests/net/serve_rules_test.yml); then a real
# Prometheus scrapes a server on a published repository every second, with the bearer
# token, while curl makes a known set of requests, and its query API must give exactly
# those counts. Last, a real receiver decompresses over the server and its range
# requests show up. Every process this test starts is stopped when it ends, failed or
# not.
# usage: serve_metrics_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
RULES=$SRC/docs/monitoring/serve-rules.yml
source "$HERE/../cli/test_lib.sh"
source "$HERE/nginx.sh"  # For its port picker (_nginx_free_port) and $_NGINX_PYTHON.
[ -x "$GEN" ] || { echo "FAIL $GEN is missing: build the reducto-gen target"; exit 1; }
for tool in promtool prometheus curl python3; do
  command -v $tool >/dev/null || { echo "FAIL $tool is missing: run scripts/setup.sh"; exit 1; }
done

serve_pid=""; prom_pid=""
stop_all() {
  for pid in $serve_pid $prom_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  serve_pid=""; prom_pid=""
}
trap 'stop_all; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

# --- the rules file ---
expect_ok "promtool check rules docs/monitoring/serve-rules.yml" promtool check rules "$RULES"
expect_ok "promtool test rules tests/net/serve_rules_test.yml" \
  bash -c "cd '$HERE' && promtool test rules serve_rules_test.yml"

# --- a published repository, served with a token ---
cd "$W" || exit 1
"$GEN" --size $((2 << 20)) --seed 31 old new >/dev/null
"$R" -q key generate -o release
expect_ok "corpus build" "$R" -q corpus build --sign-key release -o corpus old
expect_ok "corpus publish" "$R" -q corpus publish corpus --to repo
expect_ok "compress against the corpus" "$R" -q compress -c corpus new -o new.rdc
PACK=$(find repo -path '*/pack/*' -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
PACK=${PACK#repo}
[ -n "$PACK" ] || { bad "the published repository has a pack file"; finish; exit 1; }
echo "s3cret-scrape-token" > token
AUTH=(-H "Authorization: Bearer s3cret-scrape-token")

"$R" serve --store repo --listen 127.0.0.1:0 --port-file serve.port --token-file token \
  2>serve.err &
serve_pid=$!
for _ in $(seq 1 100); do [ -s serve.port ] && break; sleep 0.05; done
[ -s serve.port ] || { bad "reducto serve starts: $(cat serve.err)"; finish; exit 1; }
SERVE_PORT=$(cat serve.port); URL=http://127.0.0.1:$SERVE_PORT

check "/metrics without the token is 401" \
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" = 401 ]
check "/metrics with the token is 200" \
  [ "$(curl -s -o metrics.txt -D metrics.headers -w '%{http_code}' "${AUTH[@]}" "$URL/metrics")" = 200 ]
check "  as text/plain; version=0.0.4; charset=utf-8" \
  grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' metrics.headers
expect_ok "promtool check metrics accepts it" bash -c "promtool check metrics < metrics.txt"
for series in reducto_serve_response_bytes_total reducto_serve_range_requests_total \
              reducto_serve_ranges_total reducto_serve_not_modified_total reducto_serve_errors_total \
              reducto_serve_request_duration_seconds reducto_serve_in_flight_requests \
              reducto_serve_start_time_seconds; do
  check "  it has $series" grep -q "^# TYPE $series " metrics.txt
done

# --- a real Prometheus scraping it every second ---
cat > prometheus.yml <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: reducto-serve
    scrape_interval: 1s
    scrape_timeout: 1s
    authorization:
      type: Bearer
      credentials_file: $W/token
    static_configs:
      - targets: ['127.0.0.1:$SERVE_PORT']
EOF
expect_ok "promtool check config" promtool check config prometheus.yml
# The picked port can be taken before Prometheus binds it: a few tries.
for _ in 1 2 3; do
  PROM_PORT=$(_nginx_free_port); PROM=http://127.0.0.1:$PROM_PORT
  prometheus --config.file=prometheus.yml --storage.tsdb.path="$W/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn 2>prometheus.err &
  prom_pid=$!
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "$PROM/-/ready" && break
    kill -0 "$prom_pid" 2>/dev/null || break
    sleep 0.1
  done
  curl -sf -o /dev/null "$PROM/-/ready" && break
  kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; prom_pid=""
done
[ -n "$prom_pid" ] || { bad "prometheus starts: $(tail -5 prometheus.err)"; finish; exit 1; }
ok "prometheus starts on $PROM"

# query EXPR: the value of the first sample EXPR gives now, or nothing.
query() {
  curl -s --get --data-urlencode "query=$1" "$PROM/api/v1/query" | "$_NGINX_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
data = d.get("data", {}); r = data.get("result", [])
if d.get("status") == "success" and r:
    v = float(r[1] if data["resultType"] == "scalar" else r[0]["value"][1])
    print(v if v != v or v in (float("inf"), float("-inf")) or v != int(v) else int(v))'
}
# wait_for EXPR WANT: polls, up to 30 s, until EXPR gives WANT; true when it did.
wait_for() {
  for _ in $(seq 1 150); do
    [ "$(query "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  return 1
}
# wait_above EXPR N: polls, up to 30 s, until EXPR gives more than N.
wait_above() {
  local v
  for _ in $(seq 1 150); do
    v=$(query "$1")
    [ -n "$v" ] && "$_NGINX_PYTHON" -c 'import sys; sys.exit(not float(sys.argv[1]) > float(sys.argv[2]))' "$v" "$2" && return 0
    sleep 0.2
  done
  return 1
}
check "the target is up (scraped with the token)" wait_for 'up{job="reducto-serve"}' 1

# --- a known set of requests ---
bytes=0
# get ARGS...: one curl with the token; adds the body bytes received to $bytes.
get() {
  local n; n=$(curl -s -o /dev/null -w '%{size_download}' "${AUTH[@]}" "$@")
  bytes=$((bytes + n))
}
get -D whole.headers "$URL$PACK"                                   # 200
ETAG=$(grep -i '^etag:' whole.headers | cut -d' ' -f2- | tr -d '\r')
for r in 0-99 1000-1999 -500 4096-; do get -r "$r" "$URL$PACK"; done  # 4 x 206, 1 range each
get -r 0-9,100-199,5000-5999 "$URL$PACK"                           # 206, 3 ranges (multipart)
get -r 10-19 -H "If-Range: $ETAG" "$URL$PACK"                      # 206, If-Range hit
get -H "If-None-Match: $ETAG" "$URL$PACK"                          # 304
get "$URL/corpora/no-such-corpus/manifest.json"                    # 404
get "$URL/no-such-file"                                            # 404
curl -s -o /dev/null "${AUTH[@]}" "$URL/healthz"                   # not store traffic
n=$(curl -s -o /dev/null -w '%{size_download}' "$URL$PACK")         # 401: no token
bytes=$((bytes + n))
[ -n "$ETAG" ] && ok "the pack's ETag: $ETAG" || bad "the pack's ETag"

# Every figure must reach Prometheus; the last scrape after the requests decides.
expect() {  # NAME EXPR WANT
  if wait_for "$2" "$3"; then ok "$1 ($2 = $3)"
  else bad "$1 ($2 = $(query "$2"), wanted $3)"; fi
}
expect "206 answers" 'sum(reducto_serve_requests_total{code="206"})' 6
expect "range requests" 'reducto_serve_range_requests_total' 6
expect "ranges, multipart counted per part" 'reducto_serve_ranges_total' 8
expect "304 answers" 'sum(reducto_serve_requests_total{code="304"})' 1
expect "answered from the client's cache (304 and If-Range hit)" 'reducto_serve_not_modified_total' 2
expect "404 answers" 'sum(reducto_serve_requests_total{code="404"})' 2
expect "not_found errors" 'reducto_serve_errors_total{kind="not_found"}' 2
expect "401 answers (the store request and the scrape without token)" \
  'sum(reducto_serve_requests_total{code="401"})' 2
expect "unauthorized errors (store only)" 'reducto_serve_errors_total{kind="unauthorized"}' 1
expect "no internal error" 'reducto_serve_errors_total{kind="internal"}' 0
expect "store requests timed (not scrapes, not /healthz)" \
  'reducto_serve_request_duration_seconds_count' 11
expect "body bytes, as curl received them" 'reducto_serve_response_bytes_total' "$bytes"
expect "nothing in flight" 'reducto_serve_in_flight_requests' 0
check "scrapes counted in requests_total" \
  wait_above 'sum(reducto_serve_requests_total{code="200",method="GET"})' 3
check "the start time is the server's" "$_NGINX_PYTHON" -c "
import sys, time; t = float(sys.argv[1]); sys.exit(not time.time() - 120 < t <= time.time())" \
  "$(query reducto_serve_start_time_seconds)"
# Every dashboard expression of docs/monitoring.md gives a number.
"$_NGINX_PYTHON" - "$SRC/docs/monitoring.md" > dashboard.promql <<'PY'
import re, sys
text = open(sys.argv[1]).read()
table = text.split("### Dashboard queries", 1)[1].split("\n\n", 2)[1]
for row in table.splitlines()[2:]:
    print(re.search(r"`([^`]+)`", row.split("|")[2]).group(1))
PY
check "docs/monitoring.md has dashboard queries" [ "$(wc -l < dashboard.promql)" -ge 8 ]
while IFS= read -r expr; do
  check "dashboard query gives a number: $expr" bash -c '[ -n "$1" ]' _ "$(query "$expr")"
done < dashboard.promql
check "prometheus loaded the reducto-serve rule group" \
  bash -c "curl -s '$PROM/api/v1/rules' | grep -q '\"name\":\"reducto-serve\"'"

# --- a real receiver fetches its pieces in ranges ---
before=$(query reducto_serve_range_requests_total)
expect_ok "decompress over reducto serve" "$R" -q decompress --trusted-key release.pub \
  --repo "$URL" --repo-token-file token --cache-dir cache new.rdc -o new.out
check "  round trip" cmp -s new new.out
check "  its range requests are counted" wait_above reducto_serve_range_requests_total "$before"
expect "  and no new error" 'sum(reducto_serve_errors_total{kind!~"not_found|unauthorized"})' 0

finish
