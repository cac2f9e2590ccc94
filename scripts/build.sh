#!/usr/bin/env bash
# Installs the dependencies and builds Reducto into build/ (or $REDUCTO_BUILD_DIR).
# Extra arguments go to CMake, e.g. -DREDUCTO_WERROR=ON.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${REDUCTO_BUILD_DIR:-$ROOT/build}
bash "$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C "$BUILD" -j"$(nproc)" | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
test -x "$BUILD/cli/reducto" || { echo "build failed" >&2; exit 1; }
echo "build: $BUILD/cli/reducto"
