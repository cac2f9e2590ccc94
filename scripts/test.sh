#!/usr/bin/env bash
# Installs the dependencies, builds Reducto with warnings as errors, and runs the whole
# test suite (unit, property, golden-file and command-line tests).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${REDUCTO_BUILD_DIR:-$ROOT/build}
REDUCTO_BUILD_DIR=$BUILD bash "$ROOT/scripts/build.sh" -DREDUCTO_WERROR=ON "$@"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)"
