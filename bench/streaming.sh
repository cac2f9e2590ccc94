#!/usr/bin/env bash
# Streaming benchmark (issue "Stream at memory speed"): SIZE (default 20 GiB) of
# generated, non-repeating data piped through `reducto compress | reducto decompress`
# and compared with the generator's output, against a 1 GiB corpus that the stream
# repeats with an edit every MiB. Reports each process's peak RSS, peak RssAnon and
# peak RssFile (bench/memprobe.py) and the throughput. Not a CI test.
# usage: bench/streaming.sh [BUILD_DIR] [SIZE_BYTES] [THREADS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
SIZE=${2:-$((20 << 30))}
THREADS=${3:-0}
R=$BUILD/cli/reducto; GEN=$BUILD/tools/reducto-gen
W=$(mktemp -d "${TMPDIR:-/tmp}/reducto-streaming.XXXXXX"); trap 'rm -rf "$W"' EXIT
PERIOD=$((1 << 30))
"$GEN" --stream $PERIOD --seed 11 | "$R" -q corpus build -o "$W/corpus" -
stream="'$GEN' --stream $SIZE --seed 11 --period $PERIOD --edit-every $((1 << 20))"
python3 "$ROOT/bench/memprobe.py" --json "$W/report.json" -- \
  "$stream | '$R' -q compress -T $THREADS -c '$W/corpus' | '$R' -q decompress -T $THREADS -c '$W/corpus' | cmp - <($stream)"
python3 - "$W/report.json" "$SIZE" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); size = int(sys.argv[2])
print(f"{size / 2**30:.1f} GiB through compress | decompress | cmp: exit {r['exit']}, "
      f"{r['seconds']:.1f} s, {size / r['seconds'] / 1e6:.0f} MB/s end to end")
for p in r["processes"]:
    role = "compress" if " compress " in p["cmdline"] else "decompress"
    print(f"  {role}: peak RSS {p['vm_hwm_kib'] / 1024:.0f} MiB "
          f"(RssAnon {p['rss_anon_kib'] / 1024:.0f} MiB, RssFile {p['rss_file_kib'] / 1024:.0f} MiB)")
sys.exit(r["exit"])
EOF
