#!/usr/bin/env bash
# The C ABI as a user gets it: libreducto.so exports only reducto_* symbols under its
# soname; `cmake --install` puts the library, reducto.h, a pkg-config file and a CMake
# package in a prefix; the example of docs/api.md builds against that installed copy
# with pkg-config and with find_package(reducto), runs, and round-trips a file.
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(realpath "$1"); SRC=$(realpath "$2")
R="$BUILD/cli/reducto"; GEN="$BUILD/tools/reducto-gen"
source "$SRC/tests/cli/test_lib.sh"

LIB="$BUILD/src/capi/libreducto.so"
exported=$(nm -D --defined-only "$LIB" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}')
check "libreducto.so exports the C ABI" grep -q '^reducto_compress$' <<<"$exported"
others=$(grep -v '^reducto_' <<<"$exported")
check "  and nothing but reducto_* symbols (found: ${others:0:200})" [ -z "$others" ]
check "  under the soname libreducto.so.0" \
  bash -c "readelf -d '$LIB' | grep -q 'SONAME.*\[libreducto.so.0\]'"
# Every function the header declares is exported.
declared=$(grep -oE 'reducto_[a-z_]+\(' "$SRC/include/reducto/reducto.h" | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(sort -u <<<"$exported"))
check "  and every function reducto.h declares (missing: $missing)" [ -z "$missing" ]

P=$W/prefix
expect_ok "cmake --install into a temporary prefix" cmake --install "$BUILD" --prefix "$P"
LIBDIR=$(dirname "$(find "$P" -name 'libreducto.so.0' | head -1)")
check "  lib/libreducto.so.0 and the development link" [ -e "$LIBDIR/libreducto.so" ]
check "  include/reducto/reducto.h" [ -s "$P/include/reducto/reducto.h" ]
check "  the pkg-config file" [ -s "$LIBDIR/pkgconfig/reducto.pc" ]
check "  the CMake package" [ -s "$LIBDIR/cmake/reducto/reductoConfig.cmake" ]

# The example of docs/api.md, the first ```c block after "## The C ABI".
mkdir -p "$W/app"
awk '/^## The C ABI/ {in_section=1} in_section && /^```c$/ {grab=1; next}
     grab && /^```$/ {exit} grab {print}' "$SRC/docs/api.md" >"$W/app/example.c"
check "docs/api.md has the example" grep -q 'int main' "$W/app/example.c"

# Data: an old version, and a new one that shares most of it.
"$GEN" --size 3000000 --seed 5 "$W/old" "$W/new" >/dev/null

run_example() {  # NAME EXE: runs the example in its own state directory and checks it
  local name=$1 exe=$2
  rm -rf "$W/state-$name" "$W/corpus-$name"
  expect_ok "  $name: the example runs" env LD_LIBRARY_PATH="$LIBDIR" \
    XDG_STATE_HOME="$W/state-$name" "$exe" "$W/old" "$W/new" "$W/corpus-$name" "$W/$name"
  check "  $name: the round trip gives the new version back" cmp -s "$W/new" "$W/$name.out"
  check "  $name: the container is smaller than a quarter of the target" \
    [ "$(stat -c %s "$W/$name.rdc")" -lt $(($(stat -c %s "$W/new") / 4)) ]
  expect_ok "  $name: reducto decompress reads the container too" env XDG_STATE_HOME="$W/state-$name" \
    "$R" decompress -c "$W/corpus-$name" "$W/$name.rdc" -o "$W/$name.cli"
  check "  $name: with the same bytes" cmp -s "$W/new" "$W/$name.cli"
}

CC=${CC:-cc}
expect_ok "the example compiles with pkg-config (C11, -Werror)" env PKG_CONFIG_PATH="$LIBDIR/pkgconfig" \
  bash -c "$CC -std=c11 -Wall -Wextra -Wpedantic -Werror '$W/app/example.c' -o '$W/app/by-pkg-config' \
           \$(pkg-config --cflags --libs reducto)"
run_example pkg-config "$W/app/by-pkg-config"

cat >"$W/app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(reducto_consumer C)
find_package(reducto 0.1 REQUIRED)
add_executable(example example.c)
target_link_libraries(example PRIVATE reducto::reducto)
CMAKE
expect_ok "the example configures with find_package(reducto)" \
  cmake -S "$W/app" -B "$W/app/build" -G Ninja -DCMAKE_PREFIX_PATH="$P"
expect_ok "  and builds" ninja -C "$W/app/build"
run_example find_package "$W/app/build/example"

finish
