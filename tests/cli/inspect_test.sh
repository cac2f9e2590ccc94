#!/usr/bin/env bash
# Inspecting and testing containers (issue 17, item 5): `reducto list` (text and JSON),
# `reducto test` and `decompress -t`; a missing or wrong corpus names the id needed and
# how to get it; -c STORE finds the corpus by the container's id.
# usage: inspect_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1
"$GEN" --size $((2 << 20)) ref new
mkdir store
"$R" -q corpus build -o store/c ref
"$R" -q corpus build -o store/other new
id=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' store/c/manifest.json | head -1)
"$R" -q compress -c store/c new -o n.rdc
"$R" -q compress --standalone new -o s.rdc
"$R" -q key generate --symmetric -o dk
"$R" -q compress -c store/c --encrypt-key dk new -o e.rdc

expect_ok "list of a container" "$R" list n.rdc
check "  a header like zstd -l" grep -qE "^FILE +SIZE +ORIGINAL +RATIO +CORPUS +LEVEL +BLOCKS +ENCRYPTION +CORPUS BYTES" "$W/out"
check "  its corpus id and level 3" grep -qE "^n\.rdc .* $id +3 +[0-9]+ +none " "$W/out"
expect_ok "list --json" "$R" list --json n.rdc s.rdc
python3 - "$W/out" "$(stat -c%s n.rdc)" "$(stat -c%s new)" "$id" <<'PY' && ok "  JSON fields agree with the files" || bad "  JSON fields"
import json, sys
d = json.load(open(sys.argv[1]))
n, s = d
assert n["container_bytes"] == int(sys.argv[2]), n
assert n["original_bytes"] == int(sys.argv[3]), n
assert n["corpus"] == sys.argv[4] and n["encrypted"] is False and n["standalone"] is False
assert n["literal_bytes"] + n["copy_bytes"] + n["delta_bytes"] == n["original_bytes"]
assert 0 < n["corpus_bytes_referenced"] <= n["copy_bytes"] + n["delta_bytes"] + 16 * 2**20
assert s["standalone"] is True and s["corpus"] is None and s["copy_bytes"] == 0
assert s["literal_bytes"] == s["original_bytes"]
PY
expect_ok "list of an encrypted container without its key" "$R" list e.rdc
check "  says it is encrypted" grep -qE "^e\.rdc .*encrypted \(locked\)" "$W/out"
check "  and with which key" grep -q "e.rdc is encrypted with key .*--decrypt-key" "$W/err"
expect_ok "list with the key" "$R" list --decrypt-key dk e.rdc
check "  shows the corpus" grep -qE "^e\.rdc .* $id .* encrypted " "$W/out"
head -c 1000 n.rdc > cut.rdc
expect_exit "list of a truncated container" 1 "truncated container" "$R" list cut.rdc n.rdc
check "  still lists the good one" grep -q "^n.rdc " "$W/out"

expect_ok "test with the corpus" "$R" test -c store/c n.rdc s.rdc
check "  says OK for each" [ "$(grep -c ': OK: ' "$W/err")" -eq 2 ]
ls -A > before.ls
expect_ok "decompress -t" "$R" decompress -t -c store/c n.rdc
check "  writes nothing" sh -c "ls -A | cmp -s - before.ls"
check "  says OK" grep -q "^n.rdc: OK: " "$W/err"
expect_exit "decompress -t refuses -o" 2 "-t writes nothing" "$R" decompress -t -c store/c n.rdc -o x
cp n.rdc bad.rdc; flip bad.rdc -100
expect_exit "test of a damaged container" 1 "integrity|corrupt" "$R" test -c store/c bad.rdc
expect_exit "test of a truncated one among good ones fails" 1 "truncated" "$R" test -c store/c n.rdc cut.rdc
rm bad.rdc

expect_ok "-c STORE finds the corpus by id" "$R" decompress -c store n.rdc -o restored
check "  and rebuilds the original" cmp -s restored new
rm restored
expect_exit "no -c: names the corpus and how to get it" 1 "needs corpus $id: pass -c DIR with that corpus, or -c STORE" \
  "$R" decompress n.rdc -o restored
expect_exit "a missing -c: names the id, never 'build'" 1 "corpus $id is needed, and nope does not exist: pass -c with the directory of corpus $id" \
  "$R" decompress -c nope n.rdc -o restored
check "  (no corpus build advice)" sh -c "! grep -q 'corpus build' '$W/err'"
expect_exit "a wrong corpus is exit 1, not a usage error" 1 "made against corpus $id.*pass -c with corpus $id" \
  "$R" decompress -c store/other n.rdc -o restored
mkdir empty
expect_exit "a store without it" 1 "empty is neither that corpus nor a store that holds it" \
  "$R" decompress -c empty n.rdc -o restored
check "no output left behind" [ ! -e restored ]
finish
