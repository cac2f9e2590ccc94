#!/usr/bin/env bash
# Consistency (issue 17, item 11): a corpus problem exits 1, usage errors 2; corpus
# verify's summary counts the lines it printed; corpus list of a directory without
# corpora says so; the audit entry names the corpus used when it came from the config
# file, the environment or a store.
# usage: consistency_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1
LOG=$W/state/reducto/audit.log
"$GEN" --size $((1 << 20)) ref new
mkdir store
"$R" -q corpus build -o store/c ref
"$R" -q corpus build -o store/other new
id=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' store/c/manifest.json | head -1)
"$R" -q compress -c store/c new -o n.rdc

expect_exit "a wrong corpus exits 1" 1 "made against corpus $id" "$R" decompress -c store/other n.rdc -o r
expect_exit "a missing corpus exits 1" 1 "corpus $id is needed" "$R" decompress -c nope n.rdc -o r
expect_exit "a usage error exits 2" 2 "has no option" "$R" decompress --nope n.rdc

# corpus verify: "failed F of N checks" where N = the OK and FAILED lines printed.
cp -r store/c damaged
printf x | dd of=damaged/pack/000000.seg bs=1 seek=100 conv=notrunc 2>/dev/null
expect_exit "corpus verify of a damaged corpus" 1 "failed 1 of [0-9]+ checks" "$R" corpus verify damaged
rows=$(grep -cE "^(OK|FAILED) " "$W/out"); notes=$(grep -cE "^NOTE " "$W/out")
check "  the count of checks is the OK and FAILED lines ($rows)" grep -qE "failed 1 of $rows checks \($notes notes?\)" "$W/err"
expect_ok "corpus verify of a sound corpus" "$R" corpus verify store/c
rows=$(grep -cE "^OK " "$W/out")
check "  says how many passed ($rows)" grep -q "verified: $rows of $rows checks passed" "$W/out"

mkdir nothing
expect_ok "corpus list of a directory without corpora" "$R" corpus list nothing
check "  says so" grep -qx "no corpora in nothing" "$W/out"
expect_ok "  --json prints an empty array" "$R" corpus list --json nothing
check "  ([])" sh -c "tr -d ' \n' < '$W/out' | grep -qx '\[\]'"

# The audit log names the corpus actually used.
last_corpus() { tail -n 1 "$LOG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["corpus"])'; }
REDUCTO_CORPUS=store/c "$R" -q compress new -o e.rdc
check "audit: corpus from REDUCTO_CORPUS recorded" [ "$(last_corpus)" = "$id" ]
mkdir -p xdg/reducto; printf 'corpus = "%s/store/c"\n' "$W" > xdg/reducto/config.toml
"$R" -q compress new -o f.rdc
check "audit: corpus from the config file recorded" [ "$(last_corpus)" = "$id" ]
rm xdg/reducto/config.toml
"$R" -q decompress -c store n.rdc -o g
check "audit: corpus found in a store recorded" [ "$(last_corpus)" = "$id" ]
"$R" -q decompress -c store/other n.rdc -o h 2>/dev/null
check "audit: a refused corpus is the one named" \
  [ "$(last_corpus)" = "$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' store/other/manifest.json | head -1)" ]
finish
