#!/usr/bin/env bash
# reducto report (issue 20): the economics of a corpus from the --metrics-json files of
# real runs and prices and volumes from flags, the environment or the config file; text
# and --json; the errors and their exit statuses (2: the command line or a setting, 1:
# a file that is missing or not a metrics document).
# usage: report_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1

# run FILE COMMAND STATUS ORIGINAL CONTAINER FETCH [CORPUS_ID] [VERSION]: a metrics
# document as docs/monitoring.md specifies it, every key present.
run() {
  cat > "$1" <<JSON
{"reducto_metrics": ${8:-1}, "command": "$2", "status": "$3", "exit_code": 0,
 "labels": {"profile": "default", "corpus_id": "${7:-b3-one}"},
 "counters": {"input_bytes": 0, "output_bytes": 0, "original_bytes": $4, "container_bytes": $5,
   "copy_bytes": 0, "copies": 0, "delta_bytes": 0, "deltas": 0, "literal_bytes": 0,
   "chunks": 0, "chunks_found": 0, "blocks": 0, "fetch_bytes": $6, "fetch_requests": 0,
   "fetch_retries": 0, "pieces_fetched": 0, "pieces_cached": 0, "cache_bytes": 0},
 "ratio": 0.0, "hit_rate": 0.0, "coverage": 0.0, "throughput_bytes_per_second": 0.0,
 "wall_seconds": 1.5, "cpu_seconds": 3.0, "peak_memory_bytes": 0,
 "phases": {"read": {"wall_seconds": 0.0, "cpu_seconds": 0.0}},
 "verdict": {"bound": "cpu", "io_blocked_seconds": 0.0, "network_blocked_seconds": 0.0,
             "compute_seconds": 0.0, "evidence": "by hand"}}
JSON
}
# Two transfers, 12 GB sent as 1 GB and 8 GB as 3 GB: a mean of 10 GB as 2 GB, 8 GB saved.
run c1.json compress ok 12000000000 1000000000 0
run c2.json compress ok 8000000000 3000000000 0
run d1.json decompress ok 12000000000 1000000000 1000000000
run d2.json decompress ok 8000000000 3000000000 3000000000
run failed.json compress not_found 0 0 0
run other.json compress ok 10 5 0 b3-two
run v2.json compress ok 10 5 0 b3-one 2
printf '{"reducto_metrics": 1, "command": ' > broken.json
printf '{"hello": "world"}\n' > wrong.json
# 0.05 per GB sent, 0.02 per GB-month, 100 transfers a month, 4 receivers, a 5 GB corpus
# changed every other month, received data kept 3 months (worked in economics_test.cc).
PRICES=(--price-transfer-gb 0.05 --price-storage-gb-month 0.02 --transfers-per-month 100
        --receivers 4 --corpus-size 5000000000 --corpus-changes-per-month 0.5 --keep-months 3)
# prices FLAG VALUE...: P is PRICES with those flags' values replaced (a flag is taken once).
prices() {
  local -A over=(); local i
  while [ $# -gt 0 ]; do over[$1]=$2; shift 2; done
  P=()
  for ((i = 0; i < ${#PRICES[@]}; i += 2)); do P+=("${PRICES[i]}" "${over[${PRICES[i]}]-${PRICES[i+1]}}"); done
}
# row NAME BYTES MONEY: the text table has that row.
row() { grep -qE "^$1 +$2 +$3\$" "$W/out"; }

expect_ok "text report" "$R" report "${PRICES[@]}" c1.json c2.json
check "  names the corpus and the runs" grep -qxF "corpus b3-one: 2 compress runs, 0 decompress runs" "$W/out"
check "  per transfer" grep -qF "per transfer: 10.00 GB original, 2.00 GB sent (5.00x), 8.00 GB saved" "$W/out"
check "  bandwidth saved 800 GB, 40.00" row "bandwidth saved" "800.00 GB" "40.00"
check "  storage saved 2.4 TB, 48.00" row "storage saved \(3 months kept\)" "2.40 TB" "48.00"
check "  corpus distribution 10 GB, -0.50" row "corpus distribution \(0.5 changes\)" "10.00 GB" "-0.50"
check "  corpus storage 25 GB, -0.50" row "corpus storage \(5 copies\)" "25.00 GB" "-0.50"
check "  net saving 87.00" grep -qE "^net saving +87.00$" "$W/out"
check "  first distribution from the corpus size" \
  grep -qxF "first distribution: 5.00 GB to each of 4 receivers (the corpus size), 1.00 once" "$W/out"
check "  payback 1/87 month" grep -qxF "payback: 0.01 months (0.3 days)" "$W/out"

expect_ok "--json, with fetches measured" "$R" report --json "${PRICES[@]}" c1.json c2.json d1.json d2.json
check "  values" python3 - "$W/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
close = lambda a, b: abs(a - b) <= 1e-9 * max(1, abs(b))
assert d["corpus_id"] == "b3-one"
assert d["runs"] == {"compress": 2, "decompress": 2, "fetching": 2, "other": 0, "skipped": []}, d["runs"]
assert d["inputs"]["receivers"] == 4 and d["inputs"]["corpus_bytes"] == 5000000000
assert d["inputs"]["corpus_copies"] == 5 and close(d["inputs"]["price_transfer_gb"], 0.05)
t = d["per_transfer"]
assert t["original_bytes"] == 10e9 and t["container_bytes"] == 2e9 and t["saved_bytes"] == 8e9
assert t["compress_wall_seconds"] == 1.5 and t["decompress_cpu_seconds"] == 3.0
m = d["per_month"]
for key, want in {"bandwidth_saved_bytes": 800e9, "bandwidth_saved": 40, "storage_saved_bytes": 2400e9,
                  "storage_saved": 48, "distribution_bytes": 4e9, "distribution_cost": 0.2,
                  "corpus_storage_bytes": 25e9, "corpus_storage_cost": 0.5, "net_saving": 87.3}.items():
    assert close(m[key], want), (key, m[key], want)
assert d["distribution_source"] == "fetch"
assert d["distribution_bytes_per_receiver"] == 2e9 and d["first_distribution_bytes"] == 8e9
assert close(d["first_distribution_cost"], 0.4)
assert close(d["payback_months"], 0.4 / 87.3), d["payback_months"]
PY

prices --transfers-per-month 0
expect_ok "never pays back" "$R" report --json "${P[@]}" c1.json
check "  payback_months is null, net saving -1" python3 -c "
import json; d = json.load(open('$W/out'))
assert d['payback_months'] is None and abs(d['per_month']['net_saving'] + 1) < 1e-9, d"
expect_ok "  the text says never" "$R" report "${P[@]}" c1.json
check "  payback: never" grep -qxF "payback: never (the net saving per month is not positive)" "$W/out"

mkdir -p xdg/reducto
cat > xdg/reducto/config.toml <<'TOML'
price_transfer_gb = 0.05
price_storage_gb_month = 0.02
transfers_per_month = 100
receivers = 4
corpus_size = 5000000000
corpus_changes_per_month = 0.5
keep_months = 3
TOML
expect_ok "prices and volumes from the config file" "$R" report --json c1.json c2.json
check "  net saving 87" python3 -c "
import json; d = json.load(open('$W/out')); assert abs(d['per_month']['net_saving'] - 87) < 1e-9, d"
expect_ok "  the environment over the file" env REDUCTO_RECEIVERS=9 REDUCTO_CORPUS_COPIES=1 \
  "$R" report --json c1.json c2.json
check "  receivers 9, one copy" python3 -c "
import json; d = json.load(open('$W/out')); i = d['inputs']
assert i['receivers'] == 9 and i['corpus_copies'] == 1, i"
expect_ok "  config show lists them" "$R" config show
check "  price_transfer_gb = 0.05 (file)" grep -qE "^price_transfer_gb = 0.05 +\(file " "$W/out"
check "  keep_months = 3.0 (file)" grep -qE "^keep_months = 3.0 +\(file " "$W/out"
check "  corpus_copies = unset (default)" grep -qE "^corpus_copies = unset +\(default\)$" "$W/out"
printf 'price_transfer_gb = "cheap"\n' > xdg/reducto/config.toml
expect_exit "a price that is not a number, in the file" 2 "config.toml: price_transfer_gb must be a price of at least 0 per GB" \
  "$R" report c1.json
rm xdg/reducto/config.toml

"$GEN" --size $((256 << 10)) ref new
"$R" -q corpus build -o corpus ref
pack=$("$R" corpus info --json corpus | python3 -c 'import json, sys; print(json.load(sys.stdin)["pack_bytes"])')
NO_SIZE=("${PRICES[@]:0:8}" --corpus-changes-per-month 0.5)
expect_ok "-c CORPUS: the size of its pack" "$R" report --json "${NO_SIZE[@]}" -c corpus c1.json
check "  corpus_bytes is the pack's ($pack)" python3 -c "
import json; d = json.load(open('$W/out')); assert d['inputs']['corpus_bytes'] == $pack, d['inputs']"
check "  warns that the runs are of another corpus" grep -qE "warning: corpus holds corpus [0-9a-f-]+ but the runs are of corpus b3-one" "$W/err"

# --- errors ---
expect_exit "no run files" 2 "no run files: give the files .*--metrics-json" "$R" report "${PRICES[@]}"
expect_exit "a missing run file" 1 "not found: metrics file missing.json not found" \
  "$R" report "${PRICES[@]}" c1.json missing.json
expect_exit "a file that is not JSON" 1 "corrupt: broken.json: not a reducto metrics document: not JSON" \
  "$R" report "${PRICES[@]}" broken.json
expect_exit "JSON of another schema" 1 "corrupt: wrong.json: .*no \"reducto_metrics\".*--metrics-json" \
  "$R" report "${PRICES[@]}" wrong.json
expect_exit "a newer version" 2 "v2.json: metrics document version 2, this reducto reads version 1" \
  "$R" report "${PRICES[@]}" v2.json
expect_exit "a missing price names the flag, variable and key" 2 \
  "no transfer price: set --price-transfer-gb PRICE, REDUCTO_PRICE_TRANSFER_GB or \`price_transfer_gb\`" \
  "$R" report "${PRICES[@]:2}" c1.json
expect_exit "no corpus size" 2 "no corpus size: set --corpus-size SIZE.* or give the corpus directory with -c" \
  "$R" report "${NO_SIZE[@]}" c1.json
prices --price-transfer-gb -1
expect_exit "a negative price" 2 "--price-transfer-gb must be a price of at least 0 per GB.*got '-1'" \
  "$R" report "${P[@]}" c1.json
prices --price-transfer-gb 0.05x
expect_exit "a price with trailing text" 2 "--price-transfer-gb must be a price .*got '0.05x'" \
  "$R" report "${P[@]}" c1.json
prices --receivers 0
expect_exit "zero receivers" 2 "--receivers must be an integer 1" "$R" report "${P[@]}" c1.json
expect_exit "a failed run is skipped with a warning" 0 "warning: failed.json: skipped, failed: not_found" \
  "$R" report "${PRICES[@]}" c1.json failed.json
check "  and the report counts it" grep -qxF "corpus b3-one: 1 compress run, 0 decompress runs, 1 skipped" "$W/out"
expect_ok "  -q keeps the warning quiet" "$R" -q report "${PRICES[@]}" c1.json failed.json
check "  (stderr empty)" [ ! -s "$W/err" ]
expect_exit "only failed runs" 2 "none of the 1 runs is a successful compress run" \
  "$R" report "${PRICES[@]}" failed.json
expect_exit "runs of two corpora" 2 "the runs are of 2 corpora: b3-one \(1 run\), b3-two \(1 run\)" \
  "$R" report "${PRICES[@]}" c1.json other.json
finish
