#!/usr/bin/env bash
# What the front ends cost: one pair, one thread, the same corpus, alternating rounds of
# the command line, Python's file calls (reducto.compress_file, the C ABI's file call),
# Python's in-memory calls (reducto.compress/decompress, the C ABI's push/pull streams)
# and `zstd -3 --patch-from` in the same loop. Prints the median wall time of each and
# checks that every container is byte-identical to the command line's.
# usage: bench/bindings.sh BUILD_DIR DATASETS_DIR [PAIR] [ROUNDS]
#   (DATASETS_DIR from ../shared/bench/datasets.sh; PAIR default kernel; ROUNDS default 5)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(realpath "$1"); D=$(realpath "$2")/${3:-kernel}; ROUNDS=${4:-5}
R=$BUILD/cli/reducto; LIB=$BUILD/src/capi/libreducto.so.0
W=$(mktemp -d "${TMPDIR:-/tmp}/reducto-bindings.XXXXXX"); trap 'rm -rf "$W"' EXIT
export XDG_STATE_HOME=$W/state REDUCTO_LIBRARY=$LIB
/usr/bin/python3 -m venv --system-site-packages "$W/venv" >/dev/null
mkdir "$W/src" && cp -r "$ROOT/python/setup.py" "$ROOT/python/reducto" "$W/src/"
"$W/venv/bin/pip" install --quiet --no-index "$W/src"
PY=$W/venv/bin/python
"$R" -q corpus build -o "$W/corpus" "$D/ref"

cat >"$W/run.py" <<'PY'
import sys, time, reducto
mode, corpus_dir, src, dst = sys.argv[1:5]
corpus = reducto.Corpus(corpus_dir)
start = time.monotonic()
if mode == "file-c":
    reducto.compress_file(src, dst, corpus, threads=1)
elif mode == "file-d":
    reducto.decompress_file(src, dst, corpus, threads=1)
else:
    data = open(src, "rb").read()
    start = time.monotonic()  # The call alone, not reading the file.
    out = (reducto.compress(data, corpus, threads=1) if mode == "mem-c"
           else reducto.decompress(data, corpus, threads=1))
    elapsed = time.monotonic() - start
    open(dst, "wb").write(out)
    print(elapsed)
    sys.exit(0)
print(time.monotonic() - start)
PY

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
declare -A T
for _ in $(seq "$ROUNDS"); do
  T[cli-c]+="$(t "$R" -q compress -T1 -c "$W/corpus" "$D/target" -o "$W/cli.rdc" -f) "
  T[cli-d]+="$(t "$R" -q decompress -T1 -c "$W/corpus" "$W/cli.rdc" -o "$W/cli.out" -f) "
  rm -f "$W/file.rdc" "$W/file.out"
  T[py-file-c]+="$("$PY" "$W/run.py" file-c "$W/corpus" "$D/target" "$W/file.rdc") "
  T[py-file-d]+="$("$PY" "$W/run.py" file-d "$W/corpus" "$W/file.rdc" "$W/file.out") "
  T[py-mem-c]+="$("$PY" "$W/run.py" mem-c "$W/corpus" "$D/target" "$W/mem.rdc") "
  T[py-mem-d]+="$("$PY" "$W/run.py" mem-d "$W/corpus" "$W/mem.rdc" "$W/mem.out") "
  T[zstd-c]+="$(t zstd -q -3 -f --patch-from="$D/ref" "$D/target" -o "$W/z.zst" --long=27) "
  T[zstd-d]+="$(t zstd -q -d -f --patch-from="$D/ref" "$W/z.zst" -o "$W/z.out" --long=27) "
done
cmp "$W/cli.rdc" "$W/file.rdc" && cmp "$W/cli.rdc" "$W/mem.rdc" && echo "containers: identical"
cmp "$D/target" "$W/cli.out" && cmp "$D/target" "$W/file.out" && cmp "$D/target" "$W/mem.out" &&
  echo "round trips: exact"
med() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "pair ${3:-kernel}: target $(stat -c %s "$D/target") bytes, container $(stat -c %s "$W/cli.rdc"), zstd $(stat -c %s "$W/z.zst")"
for k in cli-c py-file-c py-mem-c zstd-c cli-d py-file-d py-mem-d zstd-d; do
  printf "%-10s median %6.3f s   (%s)\n" "$k" "$(echo "${T[$k]}" | med)" "${T[$k]}"
done
