#!/usr/bin/env bash
# Many small targets against one corpus (issue 15, "Opening costs"): COUNT (default 1000)
# files of 1 KiB, cut from an edited copy of a 6 MiB reference, compressed
#   - by one `reducto compress` process (the corpus opened once, shared by every file),
#   - by a loop of one `reducto compress` process per file (the corpus opened each time),
#   - by a loop of `zstd --patch-from=REF -3` per file (the peer: it reads REF each time).
# Each way runs RUNS (default 3) times, alternating; the medians are printed with the
# total output bytes. Not a CI test: the machines are shared and noisy.
# usage: bench/many_small.sh [BUILD_DIR] [COUNT] [RUNS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}; COUNT=${2:-1000}; RUNS=${3:-3}
R=$BUILD/cli/reducto; GEN=$BUILD/tools/reducto-gen
command -v zstd >/dev/null || { echo "many_small: zstd missing: run scripts/setup.sh" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/reducto-many-small.XXXXXX"); trap 'rm -rf "$W"' EXIT
export XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/config
"$GEN" --size $((6 << 20)) --seed 3 "$W/ref" "$W/target"
"$R" -q corpus build -o "$W/corpus" "$W/ref"
mkdir -p "$W/files"
split -b 1024 -a 5 -d "$W/target" "$W/files/f"
find "$W/files" -type f | sort | tail -n +$((COUNT + 1)) | xargs -r rm
FILES=("$W"/files/f*)

clean() { rm -f "$W"/files/*.rdc "$W"/files/*.zst; }
one_process() { "$R" -q compress --no-usage -T1 -c "$W/corpus" -f "${FILES[@]}"; }
process_per_file() { for f in "${FILES[@]}"; do "$R" -q compress --no-usage -T1 -c "$W/corpus" -f "$f" -o "$f.rdc"; done; }
zstd_per_file() { for f in "${FILES[@]}"; do zstd -q -3 -f --patch-from="$W/ref" "$f" -o "$f.zst"; done; }
out_bytes() { cat "$W"/files/*.$1 | wc -c; }

declare -A times sizes
for run in $(seq "$RUNS"); do
  for way in one_process process_per_file zstd_per_file; do
    clean
    start=$(date +%s.%N); $way; end=$(date +%s.%N)
    times[$way]+="$(echo "$end - $start" | bc) "
    [ "$way" = zstd_per_file ] && sizes[$way]=$(out_bytes zst) || sizes[$way]=$(out_bytes rdc)
  done
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "${#FILES[@]} files of 1 KiB against a 6 MiB corpus, median of $RUNS runs (alternating):"
for way in one_process process_per_file zstd_per_file; do
  printf "  %-17s %7.2f s  %9d bytes out\n" "$way" "$(echo "${times[$way]}" | median)" "${sizes[$way]}"
done
