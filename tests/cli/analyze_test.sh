#!/usr/bin/env bash
# reducto analyze (issue 20): a dry run that writes nothing, predicts the ratio of a real
# compress within 10% on a generated pair, exactly with --sample 1.0, applies the origin
# rule like compress, and refuses stdin, a missing corpus and empty or missing inputs.
# usage: analyze_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1
"$GEN" --size $((24 << 20)) ref new
"$R" -q corpus build -o c ref
"$R" -q compress -c c new -o new.rdc
real=$(stat -c%s new.rdc)

# The corpus and the files beside it (the state directory is the session's).
listing() { ls -lR c; ls -l --ignore=state --ignore=xdg --ignore=out --ignore=err; }
before=$(listing | md5sum)
expect_ok "analyze prints a block" "$R" analyze -c c new
check "  with the ratio, hit rate and cold fetch" grep -q "ratio" "$W/out"
check "  cold fetch" grep -q "cold fetch" "$W/out"
check "  and writes nothing" test "$(listing | md5sum)" = "$before"

expect_ok "--sample 1.0 --json" "$R" analyze -c c --sample 1.0 --json new
python3 - "$W/out" "$real" <<'PY' && ok "  the whole input predicts the real container exactly" || bad "  exact prediction"
import json, sys
d = json.load(open(sys.argv[1]))["inputs"][0]
assert d["exact"] is True and d["container_bytes"] == int(sys.argv[2]), (d["container_bytes"], sys.argv[2])
PY

"$GEN" --stream $((32 << 20)) --seed 3 > big.ref
"$GEN" --stream $((32 << 20)) --seed 3 --edit-every $((8 << 10)) > big.new
"$R" -q corpus build -o bc big.ref
"$R" -q compress -c bc big.new -o big.rdc
expect_ok "a sample of 10%" "$R" analyze -c bc --sample 10% --json big.new
python3 - "$W/out" "$(stat -c%s big.rdc)" "$(stat -c%s big.new)" <<'PY' && ok "  predicts the real ratio within 10%" || bad "  within 10%"
import json, sys
d = json.load(open(sys.argv[1]))["inputs"][0]
real = int(sys.argv[3]) / int(sys.argv[2])
assert d["exact"] is False and abs(d["ratio"] - real) <= 0.1 * real, (d["ratio"], real)
PY

expect_ok "several inputs" "$R" analyze -c c new ref
check "  and a total" grep -q "^total:" "$W/out"
expect_exit "stdin is refused" 2 "must not consume a stream" "$R" analyze -c c - < new
expect_exit "no corpus" 2 "pass -c DIR.*corpus build" "$R" analyze new
: > empty
expect_exit "an empty input" 2 "empty" "$R" analyze -c c empty
expect_exit "a missing input" 1 "missing" "$R" analyze -c c missing
mkdir -p other && "$R" -q corpus build -o other/c ref
XDG_STATE_HOME=$W/elsewhere expect_exit "a corpus not made here" 1 "not in the record of corpora made here" "$R" analyze -c c new
finish
