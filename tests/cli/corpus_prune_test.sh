#!/usr/bin/env bash
# The usage store and `reducto corpus prune` (docs/corpus.md, "Usage store", "Pruning").
# usage: corpus_prune_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
expect_fail() { expect_exit "$@"; }  # NAME RC PATTERN CMD...
runs() { find "$W/c.usage" -name '*.run' 2>/dev/null | wc -l; }
copied() { sed -nE 's/.*, ([0-9.]+)% copied.*/\1/p' "$W/err"; }

cd "$W" || exit 1
"$GEN" --size $((8 << 20)) --seed 5 ref new
"$GEN" --size $((8 << 20)) --seed 6 other other-new
cat ref other > both  # the corpus: the target needs about half of it
"$R" -q corpus build -o c both || { echo "FAIL corpus build"; exit 1; }
find c -type f -exec stat -c '%n %s %Y' {} + | sort > corpus-files.before

# --- usage recording ---
expect_ok "compress records usage" "$R" compress -c c new -o new.rdc
check "the usage store is beside the corpus" test -d c.usage
check "one run recorded" test "$(runs)" -eq 1
check "compress says nothing about usage" sh -c "! grep -qi usage '$W/err'"
find c -type f -exec stat -c '%n %s %Y' {} + | sort > corpus-files.after
check "the corpus itself is unchanged" cmp -s corpus-files.before corpus-files.after
"$R" corpus list . > list 2>&1
check "corpus list does not list the usage store" sh -c "! grep -q usage '$W/list'"
expect_ok "corpus verify still passes" "$R" corpus verify c
expect_ok "compress --no-usage" "$R" -q compress --no-usage -c c new -o n1.rdc
check "--no-usage records nothing" test "$(runs)" -eq 1
expect_ok "REDUCTO_USAGE=0" env REDUCTO_USAGE=0 "$R" -q compress -c c new -o n2.rdc
check "REDUCTO_USAGE=0 records nothing" test "$(runs)" -eq 1
mkdir -p xdg/reducto; echo 'usage = false' > xdg/reducto/config.toml
expect_ok "usage = false in the config" "$R" -q compress -c c new -o n3.rdc
check "usage = false records nothing" test "$(runs)" -eq 1
echo 'usage = "no"' > xdg/reducto/config.toml
expect_fail "usage must be a boolean" 2 "usage must be true or false" "$R" -q compress -c c new -o n4.rdc
rm -f xdg/reducto/config.toml
expect_fail "REDUCTO_USAGE must be 0 or 1" 2 "REDUCTO_USAGE must be" env REDUCTO_USAGE=maybe "$R" -q compress -c c new -o n5.rdc
expect_ok "compress --standalone" "$R" -q compress --standalone new -o s.rdc
check "--standalone records nothing" test "$(runs)" -eq 1

# Several processes at once: every compress succeeds and every run is kept.
for i in 1 2 3 4; do "$R" -q compress -c c new -o p$i.rdc 2>"$W/p$i.err" & done; wait
check "4 concurrent compresses record 4 runs without a warning" \
  sh -c "test $(runs) -eq 5 && ! grep -q warning '$W'/p?.err"

# An unwritable store: compress still succeeds, warns once, and the output is right.
"$GEN" --size $((2 << 20)) --seed 9 small small-new
"$R" -q corpus build -o ro small
touch ro.usage  # a file where the store's directory would go
if "$R" -q compress -c ro small-new -o ro.rdc 2>"$W/err"; then
  if [ "$(grep -c warning "$W/err")" -eq 1 ] && grep -q "not recorded" "$W/err" \
     && "$R" -q decompress -c ro ro.rdc | cmp -s - small-new; then
    ok "an unwritable usage store: one warning, compress succeeds, output exact"
  else bad "unwritable usage store: warning or output wrong"; fi
else bad "compress failed because the usage store is unwritable"; fi
# Said once per corpus (a read-only mount would warn on every run otherwise).
expect_ok "  a second compress against it" "$R" -q compress -c ro small-new -o ro2.rdc
check "  does not warn again" sh -c "! grep -q 'not recorded' '$W/err'"
check "  the marker is under \$XDG_STATE_HOME" test -f "$XDG_STATE_HOME/reducto/usage-warned/$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' ro/manifest.json | head -1)"
"$R" -q corpus build -o ro-other small-new; touch ro-other.usage
expect_ok "  another corpus's store unwritable" "$R" -q compress -c ro-other small -o ro3.rdc
check "  warns once for that one" grep -q "not recorded" "$W/err"

# --- prune --keep-for ---
expect_ok "prune --keep-for" "$R" corpus prune --keep-for new -o pruned c
check "prune reports kept and dropped chunks" grep -qE "kept [0-9]+ of [0-9]+ chunks .*dropped [0-9]+ chunks" "$W/err"
expect_ok "the pruned corpus verifies" "$R" corpus verify pruned
a=$("$R" corpus info --json c | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["pack_bytes"])')
b=$("$R" corpus info --json pruned | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["pack_bytes"], d["parent"])')
set -- $a $b
check "the pruned corpus has a new id, no parent, and a smaller pack" test "$1" != "$3" -a "$5" = None -a "$4" -lt "$2"
check "about half the pack is dropped" test "$4" -lt $(( $2 * 6 / 10 ))
"$R" -q compress --no-usage --profile fast -c c new -o f1.rdc; s1=$(stat -c%s f1.rdc)
"$R" -q compress --no-usage --profile fast -c pruned new -o f2.rdc; s2=$(stat -c%s f2.rdc)
"$R" compress --no-usage --profile fast -c c new -o f3.rdc -f 2>"$W/err"; p1=$(copied)
"$R" compress --no-usage --profile fast -c pruned new -o f4.rdc -f 2>"$W/err"; p2=$(copied)
check "--profile fast copies the same bytes from the pruned corpus ($p1% = $p2%)" test "$p1" = "$p2" -a -n "$p1"
expect_ok "a container made against the pruned corpus decompresses" sh -c "'$R' -q decompress -c pruned f2.rdc | cmp -s - new"
expect_fail "prune refuses an existing output" 2 "already exists" "$R" corpus prune --keep-for new -o pruned c
expect_ok "prune --force replaces it" "$R" -q corpus prune --keep-for new -o pruned --force c
expect_fail "prune --keep-for a missing file" 1 "missing" "$R" corpus prune --keep-for missing -o p-missing c
check "nothing is left after a failed prune" sh -c "! ls -d '$W'/p-missing* 2>/dev/null"

# --- prune --unused-since ---
expect_ok "prune --unused-since 1h" "$R" corpus prune --unused-since 1h -o recent c
k1=$(sed -nE 's/.*kept ([0-9]+) of.*/\1/p' "$W/err")
"$R" corpus prune --keep-for new --profile default -o kf c 2>"$W/err"
k2=$(sed -nE 's/.*kept ([0-9]+) of.*/\1/p' "$W/err")
check "--unused-since keeps what the recorded compressions used ($k1 = $k2 chunks)" test "$k1" = "$k2" -a -n "$k1"
check "folding consumed the runs" test "$(runs)" -eq 0
expect_ok "prune --unused-since 0s drops everything used more than 0 s ago" sh -c "sleep 1.1; '$R' corpus prune --unused-since 0s -o none c"
check "  ... and reports 0 kept" grep -q "kept 0 of" "$W/err"
expect_fail "--unused-since without a usage store" 1 "no usage is recorded.*--keep-for" "$R" corpus prune --unused-since 30d -o out-x pruned
for d in 30 30x -1d 1.5d abc 30D ""; do
  expect_fail "--unused-since '$d' is rejected" 2 "is not a duration.*30d" "$R" corpus prune --unused-since "$d" -o out-x c
done
expect_fail "both modes" 2 "exactly one of --keep-for" "$R" corpus prune --keep-for new --unused-since 30d -o out-x c
expect_fail "neither mode" 2 "exactly one of --keep-for" "$R" corpus prune -o out-x c
expect_fail "prune of a missing corpus" 1 "not found" "$R" corpus prune --keep-for new -o out-x nowhere
check "no output was left by the failures" sh -c "! ls -d '$W'/out-x* 2>/dev/null"

# --- signing ---
"$R" -q key generate -o signer >/dev/null 2>&1
expect_ok "prune --sign-key" "$R" corpus prune --keep-for new --sign-key signer -o signed c
expect_ok "the pruned corpus is signed by that key" "$R" corpus verify signed --trusted-key signer.pub
expect_fail "a bad --sign-key fails before anything is built" 1 "missing.key|not found|no such" "$R" corpus prune --keep-for new --sign-key missing.key -o out-x c
check "  ... leaving nothing" sh -c "! ls -d '$W'/out-x* 2>/dev/null"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
