#!/usr/bin/env bash
# Are containers byte-identical to those of an earlier binary? For refactors that must
# not change the output (issue 15). Each bench pair's target is compressed with the
# three profiles, -T1, against a corpus built ONCE (by the binary that records), so
# that the corpus id is the same for both binaries.
#   bench/identical.sh record OLD_REDUCTO     build the corpora, write the expected hashes
#   bench/identical.sh check NEW_REDUCTO      compare; exit 1 naming any that differ
# env: WORK (default /tmp/reducto-identical: corpora, state, expected.txt),
#      DATASETS (default /tmp/reducto-datasets, made by ../shared/bench/datasets.sh)
set -euo pipefail
MODE=$1; R=$(readlink -f "$2")
WORK=${WORK:-/tmp/reducto-identical}; D=${DATASETS:-/tmp/reducto-datasets}
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config
mkdir -p "$WORK/corpora"
: > "$OUT/got.txt"
for p in kernel ci-build pgdump vm-ext4; do
  [ -f "$D/$p/target" ] || continue
  if [ ! -d "$WORK/corpora/$p" ]; then
    [ "$MODE" = record ] || { echo "no corpus for $p: run 'record' with the old binary first"; continue; }
    "$R" -q corpus build "$D/$p/ref" -o "$WORK/corpora/$p"
  fi
  for prof in fast default max; do
    "$R" -q compress --no-usage -T1 --profile $prof -c "$WORK/corpora/$p" "$D/$p/target" \
      -o "$OUT/c.rdc" -f
    echo "$p $prof $(sha256sum < "$OUT/c.rdc" | cut -c1-16) $(stat -c %s "$OUT/c.rdc")" >> "$OUT/got.txt"
  done
done
cat "$OUT/got.txt"
if [ "$MODE" = record ]; then cp "$OUT/got.txt" "$WORK/expected.txt"; exit 0; fi
fail=0
while read -r p prof sha _; do
  want=$(awk -v p="$p" -v f="$prof" '$1 == p && $2 == f {print $3}' "$WORK/expected.txt")
  [ "$want" = "$sha" ] || { echo "DIFFERENT: $p $prof"; fail=1; }
done < "$OUT/got.txt"
[ $fail = 0 ] && echo "identical: every container is byte-identical" || exit 1
