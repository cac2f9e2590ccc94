#!/usr/bin/env bash
# Many processes read corpora of one store while another process builds a new corpus
# into the store and another replaces a corpus with --force (docs/corpus.md, "Readers
# and replacement"). Every round trip that succeeds is exact; a reader of the corpus
# being replaced either finishes exactly or fails with a clear error, never with a
# wrong output; readers of a corpus nobody replaces always succeed.
# usage: corpus_concurrency_test.sh REDUCTO REDUCTO_GEN
set -u
R=$1; GEN=$2
source "$(dirname "$0")/test_lib.sh"
export REDUCTO_USAGE=0  # usage recording is tested elsewhere; keep the store's files alone

"$GEN" --size $((6 << 20)) --seed 3 "$W/ref" "$W/new"
"$GEN" --size $((6 << 20)) --seed 4 "$W/ref2" "$W/new2"
mkdir "$W/store" "$W/log"
"$R" -q corpus build -o "$W/store/stable" "$W/ref"
"$R" -q corpus build -o "$W/store/moving" "$W/ref"

# reader NAME CORPUS INPUT ROUNDS: compress and decompress, classify each round.
reader() {
  local name=$1 corpus=$2 input=$3 rounds=$4 i
  for i in $(seq 1 "$rounds"); do
    local c=$W/$name.$i.rdc o=$W/$name.$i.out
    if ! "$R" -q compress -c "$corpus" "$input" -o "$c" 2>"$W/log/$name.$i.err"; then
      echo "clean-fail compress" >> "$W/log/$name"; continue
    fi
    if ! "$R" -q decompress -c "$corpus" "$c" -o "$o" 2>>"$W/log/$name.$i.err"; then
      if [ -e "$o" ]; then echo "partial-output" >> "$W/log/$name"; else echo "clean-fail decompress" >> "$W/log/$name"; fi
      rm -f "$c"; continue
    fi
    if cmp -s "$input" "$o"; then echo "exact" >> "$W/log/$name"; else echo "WRONG" >> "$W/log/$name"; fi
    rm -f "$c" "$o"
  done
}

for n in 1 2; do reader stable$n "$W/store/stable" "$W/new" 8 & done
for n in 1 2; do reader moving$n "$W/store/moving" "$W/new" 8 & done
( for i in $(seq 1 6); do "$R" -q corpus build -o "$W/store/built$i" "$W/ref2" 2>>"$W/log/builder.err" || echo fail >> "$W/log/builder"; done ) &
( for i in $(seq 1 6); do "$R" -q corpus build --force -o "$W/store/moving" "$W/ref" 2>>"$W/log/replacer.err" || echo fail >> "$W/log/replacer"; done ) &
wait

count() { cat "$W"/log/$1 2>/dev/null | grep -c "$2"; }
se=$(count 'stable[12]' '^exact'); sa=$(cat "$W"/log/stable[12] | wc -l)
me=$(count 'moving[12]' '^exact'); mf=$(count 'moving[12]' 'clean-fail'); ma=$(cat "$W"/log/moving[12] | wc -l)
wrong=$(cat "$W"/log/stable[12] "$W"/log/moving[12] | grep -cE 'WRONG|partial-output')
echo "stable corpus: $se of $sa round trips exact; replaced corpus: $me exact, $mf failed cleanly, of $ma"
[ "$wrong" -eq 0 ] && ok "no wrong or partial output in $((sa + ma)) concurrent round trips" || bad "$wrong wrong or partial outputs"
[ "$se" -eq 16 ] && ok "every round trip against the untouched corpus is exact" || bad "stable corpus: only $se of 16 exact"
[ "$me" -ge 1 ] && ok "round trips against the corpus being replaced do succeed ($me exact)" || bad "no exact round trip against the replaced corpus"
[ ! -e "$W/log/builder" ] && [ ! -e "$W/log/replacer" ] && ok "the concurrent build and the 6 replacements all succeeded" \
  || bad "a concurrent build or replacement failed: $(cat "$W"/log/*.err | head -3)"
# A clean failure says what happened: the message names the corpus and is not a crash.
unclear=0
for f in "$W"/log/moving*.err; do
  [ -s "$f" ] || continue
  grep -qE '^reducto: ' "$f" || { unclear=$((unclear + 1)); sed 's/^/  stderr: /' "$f" | head -3; }
done
[ $unclear -eq 0 ] && ok "every failure is a clear reducto error" || bad "$unclear failures without a clear message"
for f in "$W"/log/moving*.err; do [ -s "$f" ] && head -1 "$f"; done | sed -E 's/[0-9a-f]{64}/DIGEST/g; s/[0-9a-f-]{36}/ID/g; s#'"$W"'#W#g; s/moving[0-9.]+rdc/X.rdc/; s/^/  seen: /' | sort | uniq -c | head -5
"$R" corpus list --json "$W/store" | python3 -c 'import json,sys; print("\n".join(c["path"] for c in json.load(sys.stdin)))' > "$W/list"
[ "$(wc -l < "$W/list")" -eq 8 ] && ! grep -qE '\.(tmp|old)-' "$W/list" && ok "the store lists exactly its 8 corpora" \
  || bad "the store lists: $(cat "$W/list")"
for c in $(cat "$W/list"); do "$R" -q corpus verify "$c" >/dev/null 2>&1 || bad "$c does not verify"; done
[ -z "$(ls "$W/store" | grep -E '\.(tmp|old)-')" ] && ok "no staging directory left in the store" || bad "leftovers in the store"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
