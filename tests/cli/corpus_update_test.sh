#!/usr/bin/env bash
# End-to-end tests of corpus versions (`reducto corpus update`), run as a user would
# run them: build, update, inspect, verify, compress and decompress, and the failures.
# usage: corpus_update_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"

expect_fail() { expect_exit "$@"; }  # NAME RC PATTERN CMD...
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

cd "$W" || exit 1
"$GEN" --size $((4 << 20)) --seed 7 ref v2-input
"$GEN" --size $((1 << 20)) --seed 8 extra-ref extra   # unrelated bytes for a third version
cat v2-input extra > v3-input
mkdir store

# --- a version stores only what its parent lacks ---
expect_ok "corpus build" "$R" corpus build -o store/v1 ref
expect_ok "corpus update" "$R" corpus update --from store/v1 -o store/v2 v2-input
check "update reports the new bytes" grep -qE "^new bytes: .*\(([0-9]+) bytes\) in the new pack segment.*what a receiver that has store/v1 must fetch" "$W/err"
check "update reports the address space" grep -qE "^address space: .* in 2 segments" "$W/err"
"$R" corpus info --json store/v1 > v1.json; "$R" corpus info --json store/v2 > v2.json
v1_id=$(json v1.json 'd["id"]'); v2_id=$(json v2.json 'd["id"]')
v1_pack=$(json v1.json 'd["pack_bytes"]'); v2_new=$(json v2.json 'd["new_bytes"]')
check "info --json: parent, pinned digest, new bytes, space" python3 - v1.json v2.json <<'PY'
import json, sys
v1, v2 = (json.load(open(p)) for p in sys.argv[1:])
assert v2["parent"] == v1["id"] and v2["parent_manifest_blake3"] == v1["manifest_digest"]
assert v2["format_version"] == 2 and v1["format_version"] == 1
assert v2["segments"][0]["corpus"] == v1["id"] and "corpus" not in v2["segments"][1]
assert v2["pack_bytes"] == v1["pack_bytes"] + v2["new_bytes"]
assert 0 < v2["new_bytes"] < v1["pack_bytes"] // 2, (v2["new_bytes"], v1["pack_bytes"])
PY
check "the new version holds only its own segment" [ "$(ls store/v2/pack)" = "000001.seg" ]
check "its segment is the new bytes" [ "$(stat -c%s store/v2/pack/000001.seg)" = "$v2_new" ]
expect_ok "corpus info of a version" "$R" corpus info store/v2
check "info shows parent, new bytes and space" sh -c "grep -q '^parent  *$v1_id (manifest blake3' '$W/out' && grep -q '^new bytes  .*($v2_new bytes): what a receiver that has the parent must fetch' '$W/out' && grep -q '^space  *.*($((v1_pack + v2_new)) bytes)' '$W/out'"

# --- a chain, list, verify ---
expect_ok "update of a version" "$R" -q corpus update --from store/v2 -o store/v3 v3-input
expect_ok "corpus list" "$R" corpus list store
check "list shows each version with its parent" sh -c "grep -qE '^$v1_id  +-  ' '$W/out' && grep -qE '^$v2_id  +$v1_id  .*store/v2$' '$W/out' && grep -qE '  $v2_id  .*store/v3$' '$W/out'"
check "list has a NEW column" grep -qE '^ID +PARENT +CREATED +PACK +NEW +AVG' "$W/out"
expect_ok "corpus list --json" "$R" corpus list --json store
check "list --json has parents and new bytes" python3 -c '
import json, sys
d = {c["path"]: c for c in json.load(open(sys.argv[1]))}
assert d["store/v3"]["parent"] == d["store/v2"]["id"] and d["store/v2"]["parent"] == d["store/v1"]["id"]
assert d["store/v1"]["new_bytes"] == d["store/v1"]["pack_bytes"]
assert d["store/v3"]["pack_bytes"] == d["store/v2"]["pack_bytes"] + d["store/v3"]["new_bytes"]' "$W/out"
expect_ok "verify a chain of three" "$R" corpus verify store/v3
check "verify names the ancestors" grep -qE "^OK +ancestors +$v2_id at store/v2, $v1_id at store/v1" "$W/out"

# --- compress and decompress against versions ---
expect_ok "compress against v1" "$R" -q compress -c store/v1 v2-input -o against-v1.rdc
expect_ok "compress against v3" "$R" -q compress -c store/v3 v3-input -o against-v3.rdc
expect_ok "decompress against v3" "$R" -q decompress -c store/v3 against-v3.rdc -o v3.out
check "round trip through a chain is byte-identical" cmp -s v3-input v3.out
expect_ok "compress v2-input against v2" "$R" -q compress -c store/v2 v2-input -o against-v2.rdc
check "the version compresses its own input better than the parent ($(stat -c%s against-v2.rdc) < $(stat -c%s against-v1.rdc) bytes)" \
  [ "$(stat -c%s against-v2.rdc)" -lt "$(stat -c%s against-v1.rdc)" ]
expect_ok "an old container still decodes with the old corpus" "$R" -q decompress -c store/v1 against-v1.rdc -o v1.out
check "and is byte-identical" cmp -s v2-input v1.out
expect_fail "an old container names its corpus" 1 "made against corpus $v1_id.*pass -c with corpus $v1_id" \
  "$R" decompress -c store/v2 against-v1.rdc -o wrong.out
check "no output from the refused decompress" [ ! -e wrong.out ]

# --- chunking is inherited ---
expect_fail "--avg that conflicts with the parent" 2 "--avg 16384 conflicts with the chunking of store/v1 \(--avg 8192\).*drop --avg" \
  "$R" corpus update --from store/v1 -o store/bad --avg 16K v2-input
expect_ok "--avg that agrees with the parent" "$R" -q corpus update --from store/v1 -o store/same --avg 8K v2-input
expect_fail "--normalization that conflicts" 2 "--normalization 3 conflicts" \
  "$R" corpus update --from store/v1 -o store/bad --normalization 3 v2-input
check "nothing left by refused updates" [ ! -e store/bad ]

# --- where a version may go ---
mkdir elsewhere
expect_fail "a version away from its parent" 2 "must be in the same directory as its parent store/v1.*-o store/NAME" \
  "$R" corpus update --from store/v1 -o elsewhere/v2 v2-input
check "nothing written elsewhere" [ -z "$(ls -A elsewhere)" ]
expect_fail "an existing output" 2 "already exists: pass --force" "$R" corpus update --from store/v1 -o store/v2 v2-input
expect_fail "--force never replaces an ancestor" 2 "which the new version builds on" \
  "$R" corpus update --force --from store/v2 -o store/v1 v3-input
expect_fail "a missing parent" 1 "corpus store/nope not found" "$R" corpus update --from store/nope -o store/x v2-input
expect_fail "a missing input" 1 "missing-input" "$R" corpus update --from store/v1 -o store/x missing-input
expect_fail "no inputs" 2 "required" "$R" corpus update --from store/v1 -o store/x
check "store holds only the corpora (and their usage stores)" [ "$(ls store | grep -v '\.usage$' | tr '\n' ' ')" = "same v1 v2 v3 " ]
expect_ok "update from stdin" sh -c "'$R' -q corpus update --from store/v1 -o store/stdin - < v2-input"
check "stdin version has the same new bytes" [ "$(json <("$R" corpus info --json store/stdin) 'd["new_bytes"]')" = "$v2_new" ]

# --- signing ---
expect_ok "key generate" "$R" -q key generate -o alice
expect_ok "update --sign-key" "$R" corpus update --from store/v2 -o store/signed --sign-key alice v3-input
check "update says who signed" grep -q "signed by" "$W/err"
expect_ok "the signed version verifies with the key trusted" "$R" corpus verify store/signed --trusted-key alice.pub
expect_ok "compress with the signed version trusted" "$R" -q compress -c store/signed --trusted-key alice.pub v3-input -o signed.rdc

# --- a missing, replaced or damaged parent ---
mv store/v1 v1-away
expect_fail "compress: missing grandparent" 1 "is a new version of corpus $v1_id.*not in store: copy or fetch the parent corpus into store" \
  "$R" compress -c store/v3 v3-input -o x.rdc
check "no container from the failed compress" [ ! -e x.rdc ]
expect_fail "decompress: missing grandparent" 1 "new version of corpus $v1_id" "$R" decompress -c store/v3 against-v3.rdc -o x.out
check "no output from the failed decompress" [ ! -e x.out ]
expect_fail "verify: missing grandparent" 1 "not in store" "$R" corpus verify store/v3
check "verify: FAILED ancestors line" grep -qE "^FAILED +ancestors" "$W/out"
expect_ok "info still reads the version's manifest" "$R" corpus info store/v3
"$R" -q corpus build -o store/v1 ref
expect_fail "a different corpus under the parent's name" 1 "new version of corpus $v1_id.*not in store" \
  "$R" decompress -c store/v2 against-v2.rdc -o x.out
rm -rf store/v1; cp -a v1-away store/v1
python3 - store/v1/manifest.json <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["created"] = "2000-01-01T00:00:00Z"
open(p, "w").write(json.dumps(d, indent=2) + "\n")
PY
expect_fail "an edited parent manifest" 1 "integrity.*but the corpus with that id at store/v1 has manifest blake3.*replaced or edited" \
  "$R" compress -c store/v2 v2-input -o x.rdc
rm -rf store/v1; mv v1-away store/v1
expect_ok "the original parent back: decompress works again" "$R" -q decompress -c store/v3 against-v3.rdc -o v3.again
flip store/v1/pack/000000.seg 4000
expect_fail "verify of a version: flipped byte in the parent's segment" 1 "ancestor corpus $v1_id at store/v1.*pack segment store/v1/pack/000000.seg: piece 0 .* does not match" \
  "$R" corpus verify store/v3
expect_fail "update --sign-key refuses a damaged parent" 1 "refusing to sign a new version of a damaged corpus" \
  "$R" corpus update --from store/v2 -o store/signed2 --sign-key alice v3-input
check "nothing left by the refused signed update" [ ! -e store/signed2 ]

# --- pruning a version keeps what its file needs from the whole chain ---
mkdir prune-store
"$R" -q corpus build -o prune-store/p1 ref && "$R" -q corpus update --from prune-store/p1 -o prune-store/p2 v3-input
expect_ok "prune a version --keep-for" "$R" corpus prune --keep-for v3-input --profile fast -o prune-store/pruned prune-store/p2
copied() { "$R" compress --profile fast --no-usage -c "$1" v3-input -o /dev/null 2>&1 | grep -oE '[0-9.]+% copied'; }
check "the pruned version copies as much of the file (fast) as the version" [ "$(copied prune-store/pruned)" = "$(copied prune-store/p2)" ]

echo "corpus_update_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
