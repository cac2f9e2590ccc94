#!/usr/bin/env bash
# CI's short fuzzing run: builds the libFuzzer targets with clang, ASan and UBSan
# (-DREDUCTO_FUZZ=ON, into build-fuzz/), replays every kept crash input, then fuzzes
# each target for SECONDS (default 30) from its seed inputs. Fails on any finding; the
# input that found it is left in build-fuzz/findings/ (keep it in
# tests/fuzz/regressions/<target>/ once fixed).
# usage: tests/fuzz/smoke.sh [SECONDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_PER_TARGET=${1:-30}
B=$ROOT/build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$B" -G Ninja -DREDUCTO_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$B" -j"$(nproc)" > "$B/ninja.log" 2>&1 || { tail -30 "$B/ninja.log" >&2; exit 1; }
mkdir -p "$B/findings"
for fuzzer in "$B"/tests/fuzz/reducto_fuzz_*; do
  name=${fuzzer##*/reducto_fuzz_}
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  cp "$ROOT/tests/fuzz/corpus/$name"/* "$work/"
  regressions=$(find "$ROOT/tests/fuzz/regressions/$name" -type f ! -name .keep)
  if [ -n "$regressions" ]; then "$fuzzer" -rss_limit_mb=2048 $regressions >/dev/null 2>&1; fi
  if ! "$fuzzer" -max_total_time="$SECONDS_PER_TARGET" -max_len=70000 -rss_limit_mb=2048 \
       -artifact_prefix="$B/findings/$name-" "$work" > "$B/fuzz-$name.log" 2>&1; then
    tail -40 "$B/fuzz-$name.log" >&2
    echo "fuzz smoke: $name found a problem; the input is in $B/findings/" >&2
    exit 1
  fi
  echo "fuzz smoke: $name $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$B/fuzz-$name.log" | tail -1)s, no finding"
  rm -rf "$work"; trap - EXIT
done
