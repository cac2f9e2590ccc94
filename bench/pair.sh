#!/usr/bin/env bash
# Reducto on one REF/TARGET pair, then the peers from ../shared/bench/peers.sh in the
# same run, in the same table format. Corpus build time is reported apart: a corpus is
# built once and used for many targets.
# usage: bench/pair.sh REF TARGET [peer...]    (peers default: zstd3 patch3)
#        REDUCTO=path/to/reducto  REDUCTO_FLAGS="--level 3"
#        REDUCTO_RUNS="fast:--profile fast;max:--profile max -l 9"  (NAME:FLAGS, one row each;
#        overrides REDUCTO_FLAGS)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
R=${REDUCTO:-$ROOT/build/cli/reducto}
REF=$1; TGT=$2; shift 2
PEERS=${*:-zstd3 patch3}
RUNS=${REDUCTO_RUNS:-reducto:${REDUCTO_FLAGS:-}}
W=$(mktemp -d); trap 'rm -rf $W' EXIT
N=$(stat -c%s "$TGT")
/usr/bin/time -f "%e %M" -o $W/tb "$R" -q corpus build -o $W/corpus "$REF" || exit 1
read bt bm < $W/tb
echo "reducto corpus build: $(stat -c%s "$REF") bytes in $bt s, peak RSS $((bm / 1024)) MiB, corpus $(du -sb $W/corpus | cut -f1) bytes"
printf "%-10s | %11s | %7s | %7s | %7s | %6s |\n" tool bytes ratio comp_s dec_s rssMiB
IFS=';' read -ra SETS <<< "$RUNS"
for set in "${SETS[@]}"; do
  name=${set%%:*}; flags=${set#*:}
  /usr/bin/time -f "%e %M" -o $W/tc "$R" -q compress $flags -c $W/corpus "$TGT" -o $W/o || exit 1
  /usr/bin/time -f "%e %M" -o $W/td "$R" -q decompress -c $W/corpus $W/o -o $W/r || exit 1
  sz=$(stat -c%s $W/o); ok=OK; cmp -s $W/r "$TGT" || ok=MISMATCH
  read ct cm < $W/tc; read dt dm < $W/td
  printf "%-10s | %11d | %7.2f | %7.2f | %7.2f | %6d | %s\n" "$name" $sz $(echo "$N/$sz" | bc -l) $ct $dt $((cm / 1024)) $ok
  rm -f $W/o $W/r
done
bash "$ROOT/../shared/bench/peers.sh" "$REF" "$TGT" $PEERS | tail -n +2
