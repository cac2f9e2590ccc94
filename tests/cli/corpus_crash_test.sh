#!/usr/bin/env bash
# Crash safety of publishing a corpus (docs/corpus.md, "Building and publishing"):
# `corpus build` killed with SIGKILL at random moments, fresh and with --force over an
# existing corpus, leaves either nothing (or the old corpus, intact) or a complete corpus
# that verifies; `corpus list` never shows a leftover; a later build still works.
# SIGINT and SIGTERM remove the staging directory and exit 130 / 143.
# usage: corpus_crash_test.sh REDUCTO REDUCTO_GEN
set -u
R=$1; GEN=$2
source "$(dirname "$0")/test_lib.sh"
corpus_id() { "$R" corpus info --json "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
now_ms() { date +%s%3N; }
# intact DIR: `corpus verify` passes, or fails only its trust row because the build was
# killed after publishing and before recording the corpus as made here (compress would
# ask for a trusted key for it, and verify says so; the corpus itself is whole).
unrecorded=0
intact() {
  "$R" corpus verify "$1" >"$W/verify" 2>"$W/err" && return 0
  [ "$(grep -c '^FAILED' "$W/verify")" -eq 1 ] && grep -q '^FAILED  trust .*not in the record' "$W/verify" \
    && grep -q '^OK      pack and index' "$W/verify" && unrecorded=$((unrecorded + 1))
}

"$GEN" --size $((6 << 20)) --seed 7 "$W/ref" "$W/new"
mkdir "$W/store"
"$R" -q corpus build -o "$W/store/base" "$W/ref" || { echo "FAIL initial build"; exit 1; }
base_id=$(corpus_id "$W/store/base")

# How long one build takes here, to spread the kills over it (and a little beyond).
t0=$(now_ms); "$R" -q corpus build -o "$W/timing" "$W/new"; t1=$(now_ms); rm -rf "$W/timing"
span=$(( (t1 - t0) * 2 + 5 ))
echo "one build takes $((t1 - t0)) ms; kills spread over 0..$span ms"

# --- SIGKILL at random moments ---
RANDOM=4242
absent=0; complete=0; old_kept=0; replaced=0; broken=0
for i in $(seq 1 30); do
  delay_ms=$(( RANDOM % span ))
  if [ $((i % 2)) -eq 0 ]; then
    out=$W/store/base; args=(--force)
  else
    out=$W/store/c$i; args=()
  fi
  "$R" -q corpus build "${args[@]}" -o "$out" "$W/new" 2>/dev/null & pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  if [ ${#args[@]} -eq 0 ]; then
    if [ ! -e "$out" ]; then absent=$((absent + 1))
    elif intact "$out"; then complete=$((complete + 1))
    else broken=$((broken + 1)); bad "kill after $delay_ms ms left a broken corpus at $out"; fi
  else
    id=$(corpus_id "$out")
    if ! intact "$out"; then
      broken=$((broken + 1)); bad "kill of --force after $delay_ms ms left $out broken or missing"
    elif [ "$id" = "$base_id" ]; then old_kept=$((old_kept + 1))
    else replaced=$((replaced + 1)); base_id=$id; fi
  fi
done
echo "killed after publishing, before the record: $unrecorded"
echo "fresh builds: $absent left nothing, $complete complete; --force: $old_kept kept the old corpus, $replaced replaced it"
[ $broken -eq 0 ] && ok "30 builds killed at random: never a partial corpus at the output path" \
                  || bad "$broken killed builds left something broken"
[ $((absent + complete + old_kept + replaced)) -eq 30 ] && ok "every killed build accounted for" \
                                                         || bad "killed builds unaccounted for"

"$R" corpus list --json "$W/store" | python3 -c 'import json,sys; print("\n".join(c["path"] for c in json.load(sys.stdin)))' > "$W/list" 2>"$W/err"
if grep -qE '\.(tmp|old)-' "$W/list"; then bad "corpus list shows a leftover: $(grep -E '\.(tmp|old)-' "$W/list")"
else ok "corpus list never lists a leftover"; fi
listed_ok=1
while read -r c; do intact "$c" || { listed_ok=0; bad "listed corpus $c does not verify"; }; done < "$W/list"
[ $listed_ok -eq 1 ] && ok "every listed corpus verifies ($(wc -l < "$W/list") listed)"
echo "leftovers in the store: $(ls "$W/store" | grep -cE '\.(tmp|old)-')"

if "$R" -q corpus build --force -o "$W/store/base" "$W/ref" 2>"$W/err" && intact "$W/store/base"; then
  ok "a later --force build over the same path works despite leftovers"; else bad "a later --force build works"; fi
rm -rf "$W/store/c1"  # a killed build's path; its .tmp-* leftover, if any, stays
if "$R" -q corpus build -o "$W/store/c1" "$W/ref" 2>"$W/err" && intact "$W/store/c1"; then
  ok "a later fresh build to a killed build's path works"; else bad "a later fresh build to a killed build's path works"; fi

# --- corpus prune publishes the same way ---
"$R" -q corpus build -o "$W/store/src" "$W/ref"
pruned_broken=0; pruned_done=0
for i in $(seq 1 10); do
  delay_ms=$(( RANDOM % span ))
  "$R" -q corpus prune --keep-for "$W/new" -o "$W/store/pruned" --force "$W/store/src" 2>/dev/null & pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  if [ -e "$W/store/pruned" ]; then
    if intact "$W/store/pruned"; then pruned_done=$((pruned_done + 1))
    else pruned_broken=$((pruned_broken + 1)); fi
  fi
done
[ $pruned_broken -eq 0 ] && ok "10 prunes killed at random: the output is absent or verifies ($pruned_done verified)" \
                         || bad "$pruned_broken killed prunes left a broken corpus"

# --- SIGINT and SIGTERM remove the staging directory ---
# Large enough (about a second of building) that the signal lands during the build.
"$GEN" --stream $((512 << 20)) --seed 9 > "$W/big"
for sig in INT TERM; do
  want=$([ $sig = INT ] && echo 130 || echo 143)
  for mode in fresh force; do
    mkdir -p "$W/s-$sig-$mode"
    out=$W/s-$sig-$mode/c; args=()
    if [ $mode = force ]; then
      "$R" -q corpus build -o "$out" "$W/ref"; old=$(corpus_id "$out"); args=(--force)
    fi
    "$R" -q corpus build "${args[@]}" -o "$out" "$W/big" 2>"$W/err" & pid=$!
    for _ in $(seq 1 200); do compgen -G "$out.tmp-*" >/dev/null && break; sleep 0.01; done
    sleep 0.05
    kill -$sig $pid; wait $pid; rc=$?
    leftovers=$(ls "$W/s-$sig-$mode" | grep -E '\.(tmp|old)-')
    if [ $rc -eq "$want" ] && [ -z "$leftovers" ] && grep -q "partial corpus was removed" "$W/err"; then
      ok "SIG$sig of $mode build exits $want, says so and removes the staging directory"
    else bad "SIG$sig of $mode build (exit $rc, leftovers: $leftovers)"; fi
    if [ $mode = fresh ]; then
      [ ! -e "$out" ] && ok "SIG$sig of a fresh build leaves no corpus" || bad "SIG$sig of a fresh build left $out"
    else
      [ "$(corpus_id "$out")" = "$old" ] && intact "$out" \
        && ok "SIG$sig of a --force build keeps the old corpus intact" || bad "SIG$sig of a --force build: old corpus not intact"
    fi
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
