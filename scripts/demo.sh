#!/usr/bin/env bash
# The quick-start job: installs, builds, then on generated data (a 64 MiB reference
# and a realistically edited new version) builds a corpus, compresses the new version
# against it (default and max profiles), decompresses, verifies, and compares with
# zstd -3 and zstd -3 --patch-from.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${REDUCTO_BUILD_DIR:-$ROOT/build}
REDUCTO_BUILD_DIR=$BUILD bash "$ROOT/scripts/build.sh"
R=$BUILD/cli/reducto
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"

echo "== generating a 64 MiB reference and an edited new version"
"$BUILD/tools/reducto-gen" --size $((64 << 20)) reference new-version
echo "== reducto corpus build -o corpus reference"
"$R" corpus build -o "corpus" "reference"
echo "== reducto compress -c corpus new-version -o new-version.rdc"
"$R" compress -c "corpus" "new-version" -o "new-version.rdc"
echo "== reducto decompress -c corpus new-version.rdc -o restored"
"$R" decompress -c "corpus" "new-version.rdc" -o "restored"
cmp "new-version" "restored"
echo "== reducto compress --profile max -c corpus new-version -o new-version.max.rdc"
"$R" compress --profile max -c "corpus" "new-version" -o "new-version.max.rdc"
"$R" -q decompress -c "corpus" "new-version.max.rdc" | cmp - "new-version"
zstd -q -3 -T1 -c new-version > new-version.zst
zstd -q -3 -T1 --patch-from=reference -c new-version > new-version.patch.zst 2>/dev/null

target=$(stat -c%s new-version); ours=$(stat -c%s new-version.rdc); max=$(stat -c%s new-version.max.rdc)
z3=$(stat -c%s new-version.zst); patch3=$(stat -c%s new-version.patch.zst)
echo
printf '%-22s %12s %9s\n' "" bytes ratio
printf '%-22s %12d %9s\n' "new version" "$target" ""
printf '%-22s %12d %8.2fx\n' "reducto (default)" "$ours" "$(echo "$target/$ours" | bc -l)"
printf '%-22s %12d %8.2fx\n' "reducto --profile max" "$max" "$(echo "$target/$max" | bc -l)"
printf '%-22s %12d %8.2fx\n' "zstd -3" "$z3" "$(echo "$target/$z3" | bc -l)"
printf '%-22s %12d %8.2fx\n' "zstd -3 --patch-from" "$patch3" "$(echo "$target/$patch3" | bc -l)"
echo "round trip: verified (BLAKE3 per block, the trailer's over them, and cmp)"
