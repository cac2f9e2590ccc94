#!/usr/bin/env bash
# The C ABI's test program under AddressSanitizer and UndefinedBehaviorSanitizer: the
# library, its C++ core and the C test all built with both (build-sanitize/), any
# report fails the run. Run by .ci/run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${REDUCTO_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREDUCTO_WERROR=ON \
  -DREDUCTO_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
ninja -C "$BUILD" -j"$(nproc)" reducto_capi_test >"$BUILD/ninja.log" 2>&1 || {
  grep -vE '^\[[0-9]+/[0-9]+\] ' "$BUILD/ninja.log" >&2; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
bash "$ROOT/tests/capi/run_in_temp_dir.sh" "$BUILD/tests/reducto_capi_test"
echo "capi under ASan and UBSan: passed"
