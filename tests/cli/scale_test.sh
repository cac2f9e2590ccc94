#!/usr/bin/env bash
# Scale tests of the command line: offsets past 4 GiB in both the target and the corpus
# pack, with non-repeating generated data streamed through pipes (zeros would collapse
# into one chunk and prove nothing), and pathological inputs in bounded memory.
# Needs about 5 GiB of free disk for the corpus; skips (passing) with a message when
# the disk is smaller.
# usage: scale_test.sh REDUCTO REDUCTO_GEN
set -u -o pipefail
R=$1; GEN=$2
source "$(dirname "$0")/test_lib.sh"
# peak_rss_mib CMD...: runs CMD (stdin and stdout as given) and prints its peak RSS in MiB
# to fd 3.
peak_rss_mib() {
  python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, file=open(3, "w", closefd=False))
sys.exit(rc)' "$@"
}

GiB=$((1 << 30))
CORPUS_BYTES=$((4 * GiB + GiB / 4))   # 4.25 GiB: pack addresses past 2^32.
TARGET_BYTES=$((4 * GiB + GiB / 2))   # 4.5 GiB: target offsets past 2^32.
free_kib=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt $((5 * 1024 * 1024 + 512 * 1024)) ]; then
  echo "SKIP 4 GiB boundary: only $((free_kib / 1024)) MiB free in $W (needs 5.5 GiB)"
else
  # The target is the corpus's stream with an edit every 64 MiB, and it repeats with the
  # corpus's length: its bytes past 4 GiB are copies of pack bytes past 4 GiB, then
  # copies of the start of the pack again.
  corpus_stream() { "$GEN" --stream $CORPUS_BYTES --seed 7; }
  target_stream() { "$GEN" --stream $TARGET_BYTES --seed 7 --period $CORPUS_BYTES --edit-every $((64 << 20)); }
  if corpus_stream | "$R" -q corpus build --avg 64K -o "$W/corpus" - 2>"$W/err"; then
    ok "corpus build of 4.25 GiB from stdin"; else bad "corpus build of 4.25 GiB from stdin"; fi
  pack=$("$R" corpus info --json "$W/corpus" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pack_bytes"])')
  if [ "$pack" -eq $CORPUS_BYTES ]; then ok "pack holds all $pack bytes (past 2^32)"; else bad "pack holds $pack bytes, expected $CORPUS_BYTES"; fi
  if target_stream | "$R" compress -T 2 -c "$W/corpus" -o "$W/target.rdc" 2>"$W/err"; then
    ok "compress 4.5 GiB from stdin"; else bad "compress 4.5 GiB from stdin"; fi
  copied=$(grep -oE '[0-9.]+% copied' "$W/err" | cut -d% -f1)
  if python3 -c "import sys; sys.exit(0 if float('${copied:-0}') > 99.5 else 1)"; then
    ok "copied ${copied}% of the target from the corpus"; else bad "copied only ${copied:-?}% of the target"; fi
  if "$R" -q decompress -T 2 -c "$W/corpus" "$W/target.rdc" | cmp -s - <(target_stream); then
    ok "4.5 GiB round trip is byte-identical"; else bad "4.5 GiB round trip is byte-identical"; fi
  if "$R" -q corpus verify "$W/corpus" 2>"$W/err" >/dev/null; then
    ok "corpus verify reads the whole 4.25 GiB pack"; else bad "corpus verify of the 4.25 GiB corpus"; fi
  rm -rf "$W/corpus" "$W/target.rdc"
fi

# Pathological inputs: 1 GiB of zeros and 1 GiB of one repeated byte pattern, through
# compress and decompress, each in bounded memory. Neither is in the corpus, so every
# block is literals: compress with two threads holds 3 segments of 32 MiB and their
# instructions (as large again), the block stream's zstd context and the corpus cache
# (docs/encoder.md, "Memory"): under 384 MiB. Decompress holds a few blocks: under
# 200 MiB.
"$GEN" --stream $((64 << 20)) --seed 3 > "$W/ref"
"$R" -q corpus build -o "$W/small" "$W/ref"

# A pack larger than the cache's share (12 MiB of 16M) is read whole: its mapped pages
# are dropped, and -v says so; the default cache holds it, and nothing is said.
"$R" -v compress -T 1 --cache-size 16M -c "$W/small" "$W/ref" -o "$W/ref.rdc" 2>"$W/err"
"$R" -v compress -T 1 -c "$W/small" "$W/ref" -o "$W/ref-default.rdc" 2>"$W/err-default"
if grep -q "mapped pages passed the 16.0 MiB cache and were dropped [1-9][0-9]* times" "$W/err" &&
   ! grep -q "mapped pages passed" "$W/err-default" && cmp -s "$W/ref.rdc" "$W/ref-default.rdc"; then
  ok "-v says when the corpus's pages passed the cache, and the container is the same"
else
  bad "the cache note: $(grep -h "cache\|dropped" "$W/err" "$W/err-default")"
fi
rm -f "$W/ref.rdc" "$W/ref-default.rdc"
for input in zeros pattern; do
  if [ $input = zeros ]; then source_cmd() { head -c $GiB /dev/zero; }
  else source_cmd() { yes 'reducto scale test pattern' | head -c $GiB; }; fi
  rss=$(source_cmd | peak_rss_mib "$R" -q compress -T 2 -c "$W/small" -o "$W/$input.rdc" 3>&1 >/dev/null 2>"$W/err")
  size=$(stat -c%s "$W/$input.rdc" 2>/dev/null || echo 0)
  if [ "$size" -gt 0 ] && [ "$size" -lt $((1 << 20)) ] && [ "${rss:-999}" -lt 384 ]; then
    ok "1 GiB of $input: $size byte container, peak RSS $rss MiB"
  else
    bad "1 GiB of $input: $size bytes, peak RSS ${rss:-?} MiB (want < 1 MiB, < 384 MiB)"
  fi
  rss=$(peak_rss_mib "$R" -q decompress -c "$W/small" "$W/$input.rdc" -o "$W/$input.out" 3>&1 2>"$W/err")
  if cmp -s "$W/$input.out" <(source_cmd) && [ "${rss:-999}" -lt 200 ]; then
    ok "1 GiB of $input decompresses exactly, peak RSS $rss MiB"
  else
    bad "1 GiB of $input round trip (peak RSS ${rss:-?} MiB)"
  fi
  rm -f "$W/$input.out"
done

# Memory short: inside a 300 MiB memory cgroup (v1; skipped where it cannot be made),
# a 1 GiB --cache-size is cut to fit, the run finishes exactly and says what it did.
CG=/sys/fs/cgroup/memory/reducto-scale-test-$$
if mkdir "$CG" 2>/dev/null && echo $((300 << 20)) > "$CG/memory.limit_in_bytes" 2>/dev/null; then
  "$GEN" --stream $((256 << 20)) --seed 3 --period $((64 << 20)) --edit-every $((1 << 20)) > "$W/target"
  bash -c "echo \$\$ > '$CG/cgroup.procs' && exec '$R' compress --cache-size 1G -c '$W/small' '$W/target' -o '$W/target.rdc'" 2>"$W/err"
  rc=$?
  if [ $rc -eq 0 ] && grep -q "memory is short: the corpus cache was limited to" "$W/err" &&
     "$R" -q decompress -c "$W/small" "$W/target.rdc" | cmp -s - "$W/target"; then
    ok "in a 300 MiB cgroup the cache shrinks, the run says so and round-trips"
  else
    bad "in a 300 MiB cgroup (exit $rc)"
  fi
  rmdir "$CG" 2>/dev/null
else
  rmdir "$CG" 2>/dev/null
  echo "SKIP memory-short run: cannot create a cgroup v1 memory cgroup here"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
