#!/usr/bin/env bash
# Larger-than-memory benchmark (issue "Corpus Management Toolkit"): a corpus built from
# CORPUS_SIZE (default 20 GiB) of non-repeating generated input at a 4 KiB average, then
# a TARGET_SIZE (default 2 GiB) target compressed against it and decompressed, each
# inside a cgroup v1 memory cgroup limited to LIMIT (default 1 GiB). Reports the index
# size on disk, peak RSS / RssAnon / RssFile (bench/memprobe.py), the cgroup's peak and
# failure count, and throughput. Not a CI test: needs CORPUS_SIZE + 10% of free disk.
# usage: bench/large_corpus.sh [BUILD_DIR] [CORPUS_SIZE] [TARGET_SIZE] [LIMIT] [WORK_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
CORPUS_SIZE=${2:-$((20 << 30))}
TARGET_SIZE=${3:-$((2 << 30))}
LIMIT=${4:-$((1 << 30))}
W=${5:-$(mktemp -d "${TMPDIR:-/tmp}/reducto-large.XXXXXX")}
R=$BUILD/cli/reducto; GEN=$BUILD/tools/reducto-gen
PROBE="python3 $ROOT/bench/memprobe.py --cgroup-limit $LIMIT"
mkdir -p "$W"
# The target: the stretch of the corpus's stream from 9 GiB on (so look-ups land deep
# in the index), with an edit every MiB.
target() { "$GEN" --stream $((9 * (1 << 30) + TARGET_SIZE)) --seed 21 --edit-every $((1 << 20)) | tail -c "$TARGET_SIZE"; }
if [ -e "$W/corpus/manifest.json" ]; then
  echo "== reusing the corpus in $W/corpus (delete it to measure the build again)"
else
  echo "== corpus build: $((CORPUS_SIZE >> 20)) MiB at --avg 4K, cgroup limit $((LIMIT >> 20)) MiB"
  $PROBE --json "$W/build.json" -- "'$GEN' --stream $CORPUS_SIZE --seed 21 | '$R' corpus build --avg 4K -o '$W/corpus' -"
fi
du -sb "$W/corpus/index" "$W/corpus/pack" | sed 's/^/  on disk: /'
[ -e "$W/target" ] || target > "$W/target"
# fast: one index look-up per 4 KiB chunk of the target; default: extended copies.
for profile in fast default; do
  echo "== compress $((TARGET_SIZE >> 20)) MiB, --profile $profile"
  $PROBE --json "$W/compress-$profile.json" -- \
    "'$R' compress --profile $profile -c '$W/corpus' '$W/target' -o '$W/target.rdc' -f"
done
echo "== decompress"
$PROBE --json "$W/decompress.json" -- "'$R' decompress -c '$W/corpus' '$W/target.rdc' -o '$W/target.out' -f"
cmp "$W/target" "$W/target.out" && echo "  round trip exact"
python3 - "$W" "$CORPUS_SIZE" "$TARGET_SIZE" <<'PY'
import json, os, sys
w, corpus, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for step, size in (("build", corpus), ("compress-fast", target), ("compress-default", target),
                   ("decompress", target)):
    if not os.path.exists(f"{w}/{step}.json"):
        continue
    r = json.load(open(f"{w}/{step}.json"))
    for p in r["processes"]:
        print(f"{step}: {r['seconds']:.1f} s, {size / r['seconds'] / 1e6:.0f} MB/s; peak RSS "
              f"{p['vm_hwm_kib'] / 1024:.0f} MiB, RssAnon {p['rss_anon_kib'] / 1024:.0f} MiB, "
              f"RssFile {p['rss_file_kib'] / 1024:.0f} MiB; cgroup peak "
              f"{r['cgroup_max_usage'] / 2**20:.0f} MiB of {r['cgroup_limit'] / 2**20:.0f}, failcnt "
              f"{r['cgroup_failcnt']}, exit {r['exit']}")
PY
