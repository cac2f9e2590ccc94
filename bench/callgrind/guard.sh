#!/usr/bin/env bash
# Performance regression guard that does not depend on a clock: counts the instructions
# (valgrind --tool=callgrind, total Ir over all threads) that `reducto chunk`,
# `reducto compress` and `reducto decompress` execute on a fixed generated pair, and
# compares each with bench/callgrind/baseline.txt. Fails when one grew by more than
# $REDUCTO_GUARD_LIMIT percent (default 5). The corpus build is not counted; compress and
# decompress run with -T 1, so that no thread scheduling enters the counts.
#
# usage: bench/callgrind/guard.sh            compare (CI runs this after the tests)
#        bench/callgrind/guard.sh --update   rewrite the baseline: a deliberate commit of
#                                            its own, saying why the counts moved
# env:   REDUCTO_BUILD_DIR (default build/), REDUCTO_GUARD_LIMIT (percent, default 5)
#
# The counts are exact for one binary and one input; a different compiler, zstd,
# RocksDB or valgrind changes them, and so does BLAKE3's CPU dispatch, which sees
# valgrind's emulated CPU rather than the host's (repeatable, but not the native path).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${REDUCTO_BUILD_DIR:-$ROOT/build}
BASELINE=$ROOT/bench/callgrind/baseline.txt
LIMIT=${REDUCTO_GUARD_LIMIT:-5}
R=$BUILD/cli/reducto
GEN=$BUILD/tools/reducto-gen
# The input: a ~68 MB reference and a ~69 MB edited target (about 10 s in all). DO NOT CHANGE without --update.
GEN_ARGS=(--size 67108864 --seed 7)
for x in "$R" "$GEN"; do [ -x "$x" ] || { echo "guard: $x missing: run scripts/build.sh" >&2; exit 2; }; done
command -v valgrind >/dev/null || { echo "guard: valgrind missing: run scripts/setup.sh" >&2; exit 2; }

# A fixed work path, so that path lengths (which reach a few string operations) never vary.
W=/tmp/reducto-callgrind-guard
rm -rf "$W"; mkdir -p "$W"; trap 'rm -rf "$W"' EXIT
# The corpus is made "here" (the state directory that the origin policy reads) for the
# counted runs too; they write no audit log.
export XDG_STATE_HOME=$W/state REDUCTO_AUDIT_LOG=off
"$GEN" "${GEN_ARGS[@]}" "$W/ref" "$W/target" >/dev/null
"$R" -q corpus build -o "$W/corpus" "$W/ref"
"$R" -q compress -T 1 -c "$W/corpus" "$W/target" -o "$W/native.rdc"

# Total Ir of one command (everything after the name), from callgrind's summary line.
count() {
  local name=$1; shift
  setarch "$(uname -m)" -R env -i PATH=/usr/bin:/bin HOME=/nonexistent \
    XDG_STATE_HOME="$XDG_STATE_HOME" REDUCTO_AUDIT_LOG=off \
    valgrind --tool=callgrind --callgrind-out-file="$W/$name.out" -q "$@" >/dev/null 2>"$W/$name.err" ||
    { echo "guard: $name failed under valgrind:" >&2; cat "$W/$name.err" >&2; exit 1; }
  awk '/^(summary|totals):/ { print $2; exit }' "$W/$name.out"
}
declare -A NOW
NOW[chunk]=$(count chunk "$R" -q chunk "$W/target")
NOW[compress]=$(count compress "$R" -q compress -T 1 -c "$W/corpus" "$W/target" -o "$W/t.rdc")
NOW[decompress]=$(count decompress "$R" -q decompress -T 1 -c "$W/corpus" "$W/native.rdc" -o "$W/restored")
cmp -s "$W/restored" "$W/target" || { echo "guard: decompress under valgrind did not restore the target" >&2; exit 1; }
cmp -s "$W/t.rdc" "$W/native.rdc" || { echo "guard: compress under valgrind wrote other bytes than natively" >&2; exit 1; }

if [ "${1:-}" = "--update" ]; then
  {
    echo "# Instructions (callgrind total Ir) per command on reducto-gen ${GEN_ARGS[*]};"
    echo "# written by bench/callgrind/guard.sh --update. Refresh only in a commit of its own."
    echo "# $(valgrind --version), $(${CXX:-c++} --version 2>/dev/null | head -1), $(uname -m)"
    for k in chunk compress decompress; do echo "$k ${NOW[$k]}"; done
  } > "$BASELINE"
  cat "$BASELINE"
  exit 0
fi

[ -f "$BASELINE" ] || { echo "guard: no $BASELINE: run bench/callgrind/guard.sh --update" >&2; exit 2; }
fail=0
printf "%-11s %15s %15s %9s\n" command baseline now change
for k in chunk compress decompress; do
  base=$(awk -v k=$k '$1 == k { print $2 }' "$BASELINE")
  [ -n "$base" ] || { echo "guard: $k missing from $BASELINE" >&2; exit 2; }
  change=$(awk -v a="$base" -v b="${NOW[$k]}" 'BEGIN { printf "%+.2f", (b - a) * 100 / a }')
  verdict=ok
  if awk -v c="$change" -v l="$LIMIT" 'BEGIN { exit !(c > l) }'; then verdict="FAIL (> +$LIMIT%)"; fail=1
  elif awk -v c="$change" -v l="$LIMIT" 'BEGIN { exit !(c < -l) }'; then verdict="faster: consider --update"; fi
  printf "%-11s %15s %15s %8s%% %s\n" "$k" "$base" "${NOW[$k]}" "$change" "$verdict"
done
if [ $fail -ne 0 ]; then
  echo "guard: instruction counts grew by more than $LIMIT%. If that is intended, run" >&2
  echo "       bench/callgrind/guard.sh --update and commit the baseline on its own, saying why." >&2
  exit 1
fi
echo "callgrind guard: within +$LIMIT% of the baseline"
