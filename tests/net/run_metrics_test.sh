#!/usr/bin/env bash
# The metrics of a run as the command line exports them (docs/monitoring.md): the JSON
# document and the Prometheus text of compress, decompress and corpus build, checked
# against the files themselves and by promtool; a failed run's document; --progress json;
# a run that waits on its input is judged I/O bound; a decompression from a repository
# counts what it fetched; a real Pushgateway (Debian's prometheus-pushgateway) shows a
# compression's counters while it runs, read in the middle of the run; the alert rules
# for runs pass promtool; reducto report reads real documents. Every process this test
# starts is stopped when it ends, failed or not.
# usage: run_metrics_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
source "$HERE/../cli/test_lib.sh"
source "$HERE/nginx.sh"  # For its port picker (_nginx_free_port).
for tool in promtool prometheus-pushgateway curl python3; do
  command -v $tool >/dev/null || { echo "FAIL $tool is missing: run scripts/setup.sh"; exit 1; }
done

gateway_pid=""; feeder_pid=""; run_pid=""
stop_all() {
  for pid in $run_pid $feeder_pid $gateway_pid; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  run_pid=""; feeder_pid=""; gateway_pid=""
}
trap 'stop_all; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
cd "$W" || exit 1

# field FILE EXPR: a value of the JSON document FILE (EXPR in Python, `d` the document).
field() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }
size() { stat -c %s "$1"; }

expect_ok "promtool check rules docs/monitoring/run-rules.yml" \
  promtool check rules "$SRC/docs/monitoring/run-rules.yml"

# --- compress and decompress: the counts are the files' ---
"$GEN" --size $((6 << 20)) --seed 5 old new >/dev/null
expect_ok "corpus build --metrics-json" "$R" -q corpus build -o corpus old --metrics-json build.json
check "  corpus build counts its input" [ "$(field build.json 'd["counters"]["input_bytes"]')" = "$(size old)" ]
check "  and is labelled corpus build" [ "$(field build.json 'd["command"]')" = "corpus build" ]
expect_ok "compress --metrics-json --metrics-prom" \
  "$R" -q compress -c corpus new -o new.rdc --metrics-json c.json --metrics-prom c.prom
check "  original_bytes is the input's size" [ "$(field c.json 'd["counters"]["original_bytes"]')" = "$(size new)" ]
check "  container_bytes is the container's size" [ "$(field c.json 'd["counters"]["container_bytes"]')" = "$(size new.rdc)" ]
check "  copies, deltas and literals add up to the input" [ "$(field c.json \
  'd["counters"]["copy_bytes"] + d["counters"]["delta_bytes"] + d["counters"]["literal_bytes"]')" = "$(size new)" ]
check "  most of it copied" [ "$(field c.json 'int(d["coverage"] > 0.5)')" = 1 ]
check "  status ok, exit 0, profile and corpus labels" [ "$(field c.json \
  'd["status"], d["exit_code"], d["labels"]["profile"], len(d["labels"]["corpus_id"]) > 0')" = "ok 0 default True" ]
check "  every phase and the verdict" [ "$(field c.json 'len(d["phases"]), d["verdict"]["bound"] in ("cpu", "io", "network")')" = "11 True" ]
expect_ok "promtool check metrics accepts the Prometheus text" bash -c "promtool check metrics < c.prom"
check "  with the counts of the JSON document" \
  grep -qx "reducto_container_bytes{command=\"compress\"} $(size new.rdc)" c.prom
expect_ok "decompress --metrics-json" "$R" -q decompress -c corpus new.rdc -o back --metrics-json d.json
check "  the same copies as the compression" [ "$(field d.json 'd["counters"]["copy_bytes"]')" = "$(field c.json 'd["counters"]["copy_bytes"]')" ]
check "  original and container bytes" [ "$(field d.json 'd["counters"]["original_bytes"], d["counters"]["container_bytes"]')" = "$(size new) $(size new.rdc)" ]

# --- a failed run still writes its document; a bad flag is refused ---
head -c 3000 new.rdc > cut.rdc
expect_exit "a truncated container fails" 1 "truncated" "$R" -q decompress -c corpus cut.rdc -o cut.out --metrics-json f.json
check "  and its document says so" [ "$(field f.json 'd["status"], d["exit_code"]')" = "corrupt 1" ]
check "  and no output is left" [ ! -e cut.out ]
expect_exit "--metrics-json - is refused" 2 "stdout carries" "$R" -q compress -c corpus new -o x.rdc --metrics-json -
check "  and nothing was written" [ ! -e x.rdc ]
expect_exit "--progress must be auto, json or none" 2 "progress" "$R" -q compress -c corpus new -o x.rdc --progress yes

# --- a run that waits for its input: progress lines, the I/O verdict ---
mkfifo slow.fifo
( head -c $((2 << 20)) new; sleep 2.5; tail -c +$(((2 << 20) + 1)) new ) > slow.fifo &
feeder_pid=$!
expect_ok "compress of a stalling pipe with --progress json" \
  "$R" -q compress -c corpus slow.fifo -o slow.rdc -f --progress json --metrics-json slow.json
wait "$feeder_pid" 2>/dev/null; feeder_pid=""
check "  one JSON progress line per second while it waits" [ "$(grep -c '"type":"progress"' "$W/err")" -ge 2 ]
check "  each line parses and the last is the end, ok" [ "$(python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print(lines[-1]["type"], lines[-1]["status"], all("input_bytes" in l for l in lines))' "$W/err")" = "end ok True" ]
check "  judged I/O bound (waited on reads)" [ "$(field slow.json 'd["verdict"]["bound"]')" = io ]
check "  with the wait in the evidence" [ "$(field slow.json 'int(d["verdict"]["io_blocked_seconds"] >= 2)')" = 1 ]

# --- decompression from a repository counts what it fetched ---
expect_ok "corpus publish" "$R" -q corpus publish corpus --to repo
expect_ok "decompress from a repository --metrics-json" \
  "$R" decompress new.rdc -o fetched --repo "file://$W/repo" --cache-dir cache \
  --insecure-skip-verify --metrics-json r.json
pieces=$(sed -n 's/^corpus pieces: \([0-9]*\) fetched.*/\1/p' "$W/err")
check "  pieces_fetched is the pieces the summary names" [ "$(field r.json 'd["counters"]["pieces_fetched"]')" = "$pieces" ]
check "  bytes and requests fetched" [ "$(field r.json 'int(d["counters"]["fetch_bytes"] > 0 and d["counters"]["fetch_requests"] > 0)')" = 1 ]
expect_ok "again, from the cache" \
  "$R" -q decompress new.rdc -o fetched2 --repo "file://$W/repo" --cache-dir cache \
  --insecure-skip-verify --metrics-json r2.json
check "  nothing fetched the second time" [ "$(field r2.json 'd["counters"]["fetch_bytes"]')" = 0 ]
check "  the pieces come from the cache" [ "$(field r2.json 'int(d["counters"]["pieces_cached"] > 0 and d["counters"]["cache_bytes"] > 0)')" = 1 ]

# --- reducto report reads the documents of these runs ---
expect_ok "reducto report on real run documents" "$R" report --json --price-transfer-gb 0.09 \
  --price-storage-gb-month 0.02 --transfers-per-month 100 --receivers 3 --corpus-size 7000000 \
  --corpus-changes-per-month 1 c.json r.json
check "  saves what the container saves" [ "$(python3 -c 'import json, sys; print(int(json.load(sys.stdin)["per_transfer"]["saved_bytes"]))' < "$W/out" 2>/dev/null)" = "$(( $(size new) - $(size new.rdc) ))" ]

# gateway_value FILE SERIES: the value of SERIES (name and labels up to the job's) in the
# Pushgateway's exposition FILE, as an integer (the gateway writes 3.145728e+06).
gateway_value() {
  python3 -c 'import sys
for line in open(sys.argv[1]):
    if line.startswith(sys.argv[2]): print(int(float(line.split()[-1]))); break' "$1" "$2"
}

# --- a Pushgateway sees a compression while it runs ---
for _ in 1 2 3; do
  GW_PORT=$(_nginx_free_port)
  prometheus-pushgateway --web.listen-address="127.0.0.1:$GW_PORT" >gateway.log 2>&1 &
  gateway_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$GW_PORT/-/ready" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$GW_PORT/-/ready" >/dev/null && break
  kill "$gateway_pid" 2>/dev/null; wait "$gateway_pid" 2>/dev/null; gateway_pid=""
done
[ -n "$gateway_pid" ] || { bad "the Pushgateway starts: $(tail -3 gateway.log)"; finish; exit 1; }
GW=http://127.0.0.1:$GW_PORT
mkfifo push.fifo
( head -c $((3 << 20)) new; sleep 4; tail -c +$(((3 << 20) + 1)) new ) > push.fifo &
feeder_pid=$!
"$R" -q compress -c corpus push.fifo -o push.rdc -f --metrics-push "$GW" 2>push.err &
run_pid=$!
sleep 2.5  # The run has read the first 3 MiB and waits for the rest.
curl -s "$GW/metrics" > mid.txt
check "  mid-run: the gateway holds the bytes read so far" \
  [ "$(gateway_value mid.txt 'reducto_input_bytes{command="compress"')" = $((3 << 20)) ]
check "  and says the run is running" grep -q '^reducto_run_info{.*status="running".*} 1$' mid.txt
check "  while the run is still going" kill -0 "$run_pid"
wait "$run_pid"; rc=$?; run_pid=""
wait "$feeder_pid" 2>/dev/null; feeder_pid=""
check "  the run succeeds" [ "$rc" = 0 ]
curl -s "$GW/metrics" > end.txt
check "  at the end: all of the input" \
  [ "$(gateway_value end.txt 'reducto_input_bytes{command="compress"')" = "$(size new)" ]
check "  and the final status" grep -q '^reducto_run_info{.*status="ok".*} 1$' end.txt
kill "$gateway_pid" 2>/dev/null; wait "$gateway_pid" 2>/dev/null; gateway_pid=""
expect_exit "a Pushgateway that is not there: the run says so" 1 "Pushgateway" \
  "$R" -q compress -c corpus new -o unpushed.rdc --metrics-push "$GW"
check "  and still writes its container" [ -s unpushed.rdc ]
expect_exit "a malformed --metrics-push URL is refused" 2 "http://HOST:PORT" \
  "$R" -q compress -c corpus new -o y.rdc --metrics-push gateway

finish
