#!/usr/bin/env bash
# End-to-end tests of `reducto corpus optimize`, run as a user would run it.
# usage: corpus_optimize_test.sh REDUCTO REDUCTO_GEN
set -u
R=$1; GEN=$2
source "$(dirname "$0")/test_lib.sh"

# expect_fail NAME EXIT PATTERN CMD...: the command exits with EXIT and stderr matches PATTERN.
expect_fail() {
  local n=$1 code=$2 pat=$3; shift 3
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  if [ $rc -eq "$code" ] && grep -qiE "$pat" "$W/err"; then ok "$n"; else bad "$n (exit $rc)"; fi
}
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$1)" "$W/report.json"; }

# Samples: a generated file, an edited version of it, and an unrelated file: what
# repeats (a and b share most chunks) must win over what does not (c).
mkdir "$W/samples"
"$GEN" --size $((3 << 20)) --seed 1 "$W/samples/a" "$W/samples/b"
"$GEN" --size $((1 << 20)) --seed 2 "$W/samples/c" "$W/unused"

# --- a corpus within the budget, and its report ---
if "$R" corpus optimize --budget 1M -o "$W/golden" "$W/samples" >"$W/report.txt" 2>"$W/err"; then
  ok "optimize --budget 1M"; else bad "optimize --budget 1M"; fi
check "the directory, every file counted, fits 1M ($(dir_bytes "$W/golden") bytes)" \
  test "$(dir_bytes "$W/golden")" -le $((1 << 20))
for field in "samples" "dedup potential" "corpus bytes" "predicted hit rate" "recommended  *--avg [0-9]+K"; do
  check "the report shows $field" grep -qE "^$field" "$W/report.txt"
done
check "the chunk-size table has 5 averages" test "$(grep -cE '^  (4|8|16|32|64)K ' "$W/report.txt")" -eq 5
check "the corpus verifies" "$R" -q corpus verify "$W/golden"

# --- predicted vs measured hit rate (compress --profile fast), within 5 points ---
"$R" corpus optimize --budget 2M --json -o "$W/golden2" "$W/samples" >"$W/report.json" 2>"$W/err"
predicted=$(json '["predicted_hit_rate"]')
copied=0; total=0
for s in a b c; do
  "$R" compress --profile fast -c "$W/golden2" "$W/samples/$s" -o "$W/$s.rdc" 2>"$W/c.err"
  pct=$(grep -oE '[0-9.]+% copied' "$W/c.err" | grep -oE '^[0-9.]+')
  n=$(stat -c%s "$W/samples/$s")
  copied=$(python3 -c "print($copied + $pct / 100 * $n)"); total=$((total + n))
  "$R" -q decompress -c "$W/golden2" "$W/$s.rdc" | cmp -s - "$W/samples/$s" || bad "round trip of $s"
done
measured=$(python3 -c "print($copied / $total)")
check "predicted $predicted vs measured $measured hit rate: within 5 points" \
  python3 -c "import sys; sys.exit(abs($predicted - $measured) > 0.05)"
check "--json is valid and within the budget" \
  python3 -c "import json,sys; d=json.load(open('$W/report.json')); sys.exit(not (d['corpus_bytes'] <= d['budget'] == 2097152 and len(d['chunk_sizes']) == 5 and d['recommended_avg'] > 0))"
check "the JSON's corpus_bytes is the directory's size" test "$(json '["corpus_bytes"]')" -eq "$(dir_bytes "$W/golden2")"

# --- counts that outgrow memory: the same corpus, nothing left behind ---
mkdir "$W/spill"
"$R" corpus optimize --budget 2M --json --max-counted-chunks 50 -o "$W/spill/golden" "$W/samples" >"$W/spill.json" 2>"$W/err"
check "spilled counts give the same prediction" python3 -c "
import json, sys
a, b = json.load(open('$W/report.json')), json.load(open('$W/spill.json'))
sys.exit(not (b['counts_spilled'] and not a['counts_spilled'] and a['covered_bytes'] == b['covered_bytes']
              and a['selected_chunks'] == b['selected_chunks'] and a['chunk_sizes'] == b['chunk_sizes']))"
check "the scratch database is removed" test "$(ls -A "$W/spill")" = golden

# --- chunking flags and signing, as corpus build ---
"$R" -q key generate -o "$W/key" 2>"$W/err"
if "$R" -q corpus optimize --budget 1500K --avg 16K --sign-key "$W/key" -o "$W/signed" "$W/samples/a" "$W/samples/b" 2>"$W/err"; then
  ok "optimize --avg 16K --sign-key"; else bad "optimize --avg 16K --sign-key"; fi
check "signed corpus fits 1500K including its signature" test "$(dir_bytes "$W/signed")" -le $((1500 << 10))
check "the signature is there and valid" "$R" -q corpus verify --trusted-key "$W/key.pub" "$W/signed"
check "the corpus was chunked at 16K" grep -q '"avg": 16384' "$W/signed/manifest.json"

# --- bad input: exit status, a message that says what to do, nothing left behind ---
mkdir "$W/dest"
expect_fail "budget 0" 2 "budget is 0.*--budget" "$R" corpus optimize --budget 0 -o "$W/dest/g" "$W/samples"
expect_fail "budget below an empty corpus" 2 "too small even for an empty corpus.*--budget" \
  "$R" corpus optimize --budget 2K -o "$W/dest/g" "$W/samples"
expect_fail "budget that is not a size" 2 "budget.*is not a size" "$R" corpus optimize --budget lots -o "$W/dest/g" "$W/samples"
expect_fail "missing sample" 1 "missing" "$R" corpus optimize --budget 1M -o "$W/dest/g" "$W/samples/a" "$W/missing"
expect_fail "stdin is not a sample" 2 "stdin" "$R" corpus optimize --budget 1M -o "$W/dest/g" -
expect_fail "no samples" 2 "samples" "$R" corpus optimize --budget 1M -o "$W/dest/g"
expect_fail "no budget" 2 "budget" "$R" corpus optimize -o "$W/dest/g" "$W/samples"
expect_fail "average outside the corpus range" 2 "4K and 64K" "$R" corpus optimize --budget 1M --avg 2K -o "$W/dest/g" "$W/samples"
check "failures leave nothing behind" test -z "$(ls -A "$W/dest")"
expect_fail "existing output needs --force" 2 "already exists.*--force" "$R" corpus optimize --budget 1M -o "$W/golden" "$W/samples"
check "--force replaces it" "$R" -q corpus optimize --budget 512K --force -o "$W/golden" "$W/samples"
check "the replacement fits 512K" test "$(dir_bytes "$W/golden")" -le $((512 << 10))

echo "corpus_optimize_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
