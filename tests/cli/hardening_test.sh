#!/usr/bin/env bash
# What an adversarial review found (issue 16), each as a user meets it: a corpus deleted
# through a symbolic link, a damaged pack behind a compress, a corpus whose manifest was
# edited passing `corpus verify`, a corpus cache of 0 bytes.
# usage: hardening_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1
"$GEN" --size $((4 << 20)) ref new
"$R" -q corpus build -o corpus ref

# corpus delete through a symbolic link: refused before anything is touched.
"$R" -q corpus build -o victim ref
ln -s victim clink
sum_before=$(cat victim/pack/* | md5sum)
expect_exit "corpus delete of a symbolic link is refused" 2 "clink is a symbolic link to victim: nothing deleted" \
  "$R" corpus delete clink
expect_exit "  (also with a trailing slash)" 2 "symbolic link" "$R" corpus delete clink/
check "  the target's pack is untouched" [ "$(cat victim/pack/* | md5sum)" = "$sum_before" ]
check "  the link is still there" [ -L clink ]
expect_ok "  the corpus still verifies" "$R" corpus verify victim
expect_ok "  and deleting the directory itself works" "$R" -q corpus delete victim
check "  completely" [ ! -e victim ]

# A damaged pack: compress says the corpus failed a check, and never copies those bytes.
cp -r corpus damaged
python3 - damaged/pack/000000.seg <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
for at in range(len(b) // 7, len(b), len(b) // 7): b[at] ^= 0x5a
open(p, 'wb').write(b)
PY
for profile in fast default max; do
  expect_ok "compress --profile $profile against a damaged pack succeeds" \
    "$R" -q compress --profile "$profile" -c damaged new -o "new.$profile.rdc"
  # Every chunk goes through the index in the fast profile; the others extend copies
  # byte by byte, which stops at a damaged byte as at an edit (compared, never copied),
  # and check the pieces their ADDs and DELTAs rely on (bytes that differ from the
  # target) against the piece tables: a damaged one is not used.
  if [ "$profile" = fast ]; then
    check "  and says the corpus failed a check" grep -q "failed a check: [0-9]* chunks of its pack differ" "$W/err"
  else
    check "  and says the corpus failed a check" grep -q "failed a check: [0-9]* ranges of its pack differ" "$W/err"
  fi
  expect_ok "  its container decodes against an intact copy of the corpus" \
    "$R" -q decompress -c corpus "new.$profile.rdc" -o "new.$profile.out"
  check "  exactly" cmp -s new "new.$profile.out"
done
"$R" -q compress -c corpus new -o intact.rdc 2>"$W/err"
check "an intact corpus gives no such warning" bash -c "! grep -q 'failed a check' '$W/err'"

# corpus verify applies the trust policy that compress applies.
cp -r corpus edited
sed -i 's/"created": *"[^"]*"/"created":"2020-01-01T00:00:00Z"/' edited/manifest.json
expect_exit "compress refuses a corpus whose manifest was edited" 1 "not in the record of corpora made here" \
  "$R" -q compress -c edited new -o x.rdc
expect_exit "corpus verify refuses it too" 1 "trust|not in the record of corpora made here" \
  "$R" corpus verify edited
check "  with a FAILED trust row" grep -q "^FAILED  trust" "$W/out"
check "  naming the record it looked up" grep -q "$W/state/reducto/corpora-made-here" "$W/err"
expect_ok "corpus verify of a corpus made here passes" "$R" corpus verify corpus
check "  and says why it is trusted" grep -q "^OK      trust .*made by this user on this machine" "$W/out"

# A corpus cache of 0 (or below the least a reader uses) is refused, not silently the default.
for size in 0 1K; do
  expect_exit "--cache-size $size is refused" 2 "below the smallest corpus cache" \
    "$R" compress --cache-size "$size" -c corpus new -o x.rdc
  expect_exit "REDUCTO_CACHE_SIZE=$size is refused" 2 "REDUCTO_CACHE_SIZE [0-9]+ is below" \
    env REDUCTO_CACHE_SIZE="$size" "$R" decompress -c corpus intact.rdc -o x
done
check "  and nothing was written" bash -c "[ ! -e x.rdc ] && [ ! -e x ]"
expect_ok "--cache-size 16M is accepted" "$R" -q compress --cache-size 16M -c corpus new -o ok.rdc

finish
