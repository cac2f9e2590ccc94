#!/usr/bin/env bash
# End-to-end tests of the fine index (docs/corpus.md, "Fine index"), run as a user would:
# rows that a database moved far ahead of their old place and edited are found through
# it; a corpus can be built without it; a damaged fine index never changes an output,
# and verification reports it; versions, pruned and optimized corpora carry their own.
# usage: fine_index_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"

cd "$W" || exit 1
# A table of 40,000 rows; the new version rewrote the last 2,000 rows (a field changed in
# each) into free space at the start of the table: 3 MB ahead of their old place.
python3 - <<'PY'
import hashlib
def row(i, value):
    return b"%d\tcustomer_%05d\t%d\t%s\n" % (i, i % 9973, value, hashlib.sha1(b"%d" % i).hexdigest().encode())
rows = [row(i, i * 7 % 1000) for i in range(40000)]
open("ref", "wb").write(b"".join(rows))
moved = [row(i, i * 7 % 1000 + 1) for i in range(38000, 40000)]
open("new", "wb").write(b"".join(moved + rows[:38000]))
PY
round_trip() {  # NAME CORPUS: compress and decompress new against CORPUS, exactly
  expect_ok "$1" "$R" -q compress -f -c "$2" new -o "$2.rdc"
  "$R" -q decompress -f -c "$2" "$2.rdc" -o "$2.out" 2>"$W/err"
  check "  (exact round trip)" cmp -s new "$2.out"
}

expect_ok "corpus build writes a fine index" "$R" -q corpus build -o corpus ref
check "  fine/000000.fine is in the corpus" [ -s corpus/fine/000000.fine ]
"$R" corpus info corpus >info.txt
check "  corpus info lists it" grep -q "fine/000000.fine .* one position in 32" info.txt
expect_ok "corpus verify" "$R" corpus verify corpus
check "  verify checked it" grep -q "OK .*pack and index.* 1 fine index(es): every digest matches" "$W/out"
expect_ok "corpus build --no-fine-index" "$R" -q corpus build --no-fine-index -o plain ref
check "  no fine index" [ ! -e plain/fine ]

round_trip "compress with the fine index" corpus
round_trip "compress without" plain
with=$(stat -c %s corpus.rdc); without=$(stat -c %s plain.rdc)
echo "  moved rows: $with bytes with the fine index, $without without"
check "the moved rows are found: less than half the output" [ $((with * 2)) -lt "$without" ]
expect_ok "--profile max" "$R" -q compress -f --profile max -c corpus new -o max.rdc
check "  max finds them too" [ $(($(stat -c %s max.rdc) * 2)) -lt "$without" ]
expect_ok "--profile fast ignores it" "$R" -q compress -f --profile fast -c corpus new -o fast.rdc
check "  fast gives the same output with and without" [ "$("$R" -q compress --profile fast -c plain new | wc -c)" = "$(stat -c %s fast.rdc)" ]

# Damage: entries overwritten (the header intact) never change an output, only cost
# matches; verification fails; a missing fine index is a damaged corpus.
cp -r corpus damaged
python3 - damaged/fine/000000.fine <<'PY'
import os, sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[64:] = os.urandom(len(data) - 64)
open(path, "wb").write(data)
PY
round_trip "compress with a garbage fine index" damaged
expect_exit "corpus verify finds it" 1 "fine index .*does not match its BLAKE3" "$R" corpus verify damaged
check "  and says FAILED" grep -q "^FAILED .*pack and index" "$W/out"
rm damaged/fine/000000.fine
expect_exit "a missing fine index" 1 "fine index .*000000.fine is missing: the corpus is damaged; rebuild or re-fetch it" \
  "$R" compress -c damaged new -o x.rdc
check "  leaves no output" [ ! -e x.rdc ]

# A version indexes its own segment and lists its parent's fine index.
mkdir store && mv corpus store/v1
head -c 1000000 /dev/urandom >extra
expect_ok "corpus update" "$R" -q corpus update --from store/v1 -o store/v2 extra
check "  the version has its own fine index" [ -s store/v2/fine/000001.fine ]
check "  and lists both" [ "$(grep -c '"fine/' store/v2/manifest.json)" = 2 ]
cat extra new >new2
expect_ok "compress against the version" "$R" -q compress -c store/v2 new2 -o v2.rdc
"$R" -q decompress -c store/v2 v2.rdc -o v2.out 2>"$W/err"
check "  (exact round trip)" cmp -s new2 v2.out
expect_ok "corpus verify of the version" "$R" corpus verify store/v2
check "  both fine indexes checked" grep -q "2 fine index(es)" "$W/out"
expect_ok "corpus update --no-fine-index" "$R" -q corpus update --no-fine-index --from store/v1 -o store/v2b extra
check "  no fine index of its own" [ "$(grep -c '"fine/' store/v2b/manifest.json)" = 1 ]

# Pruned and optimized corpora.
expect_ok "corpus prune keeps a fine index" "$R" -q corpus prune --keep-for new -o pruned store/v1
check "  (it is there)" [ -s pruned/fine/000000.fine ]
expect_ok "corpus optimize" "$R" -q corpus optimize --budget 2M -o golden ref new
check "  has a fine index" [ -s golden/fine/000000.fine ]
check "  within the budget" [ "$(find golden -type f -printf '%s\n' | awk '{s += $1} END {print s}')" -le $((2 << 20)) ]
expect_ok "corpus optimize --no-fine-index" "$R" -q corpus optimize --no-fine-index --budget 2M -o golden2 ref new
check "  has none" [ ! -e golden2/fine ]

finish
