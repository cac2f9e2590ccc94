#!/usr/bin/env bash
# Installs the dependencies and builds Reducto into build/ (or $REDUCTO_BUILD_DIR).
# Extra arguments go to CMake, e.g. -DREDUCTO_WERROR=ON.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${REDUCTO_BUILD_DIR:-$ROOT/build}
bash "$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
if ! ninja -C "$BUILD" -j"$(nproc)" > "$BUILD/ninja.log" 2>&1; then
  grep -vE '^\[[0-9]+/[0-9]+\] ' "$BUILD/ninja.log" >&2
  echo "build failed (full log: $BUILD/ninja.log)" >&2
  exit 1
fi
echo "build: $BUILD/cli/reducto"
