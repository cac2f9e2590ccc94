#!/usr/bin/env bash
# Source-based coverage of the fuzz targets over the inputs of a fuzzing run: builds the
# replay programs with clang's coverage instrumentation and REDUCTO_FUZZING (as the
# fuzzers are built, so that the checksums they skip do not hide the parsers), replays
# each target's inputs, and prints llvm-cov's per-file report for the sources the
# target is about. Not part of CI: run it after a long fuzzing session.
# usage: tests/fuzz/coverage.sh INPUTS_DIR   (INPUTS_DIR/<target>/ holds the inputs,
#        e.g. the corpora that libFuzzer grew)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
INPUTS=$(cd "$1" && pwd)
B=$ROOT/build-coverage
FLAGS="-fprofile-instr-generate -fcoverage-mapping -DREDUCTO_FUZZING"
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" >/dev/null
declare -A SOURCES=(
  [codec]="src/codec/decoder.cc src/codec/container.cc src/codec/instructions.cc"
  [manifest]="src/corpus/manifest.cc"
  [envelope]="src/crypto/envelope.cc"
  [signature]="src/crypto/text_record.cc"
)
for target in codec manifest envelope signature; do
  [ -d "$INPUTS/$target" ] || continue
  ninja -C "$B" "reducto_replay_$target" >/dev/null
  rm -f "$B/$target".profraw
  LLVM_PROFILE_FILE="$B/$target.profraw" "$B/tests/fuzz/reducto_replay_$target" "$INPUTS/$target" >/dev/null
  llvm-profdata-14 merge -sparse "$B/$target.profraw" -o "$B/$target.profdata"
  echo "== $target: $(ls "$INPUTS/$target" | wc -l) inputs"
  files=()
  for f in ${SOURCES[$target]}; do files+=("$ROOT/$f"); done
  llvm-cov-14 report "$B/tests/fuzz/reducto_replay_$target" -instr-profile="$B/$target.profdata" \
    "${files[@]}" | sed "s|$ROOT/||"
done
