#!/usr/bin/env bash
# The warning compress prints when the corpus matches the target poorly: a tar of a
# directory against a corpus built from the directory, a compressed target, unrelated
# data; and none when the corpus was built from the same kind of stream.
# usage: match_warning_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"

cd "$W" || exit 1
# A source tree: 400 files of 1 to 24 KB.
python3 - <<'PY'
import os, random
rng = random.Random(7)
words = [("w%d" % i).encode() for i in range(5000)]
for i in range(400):
    os.makedirs("tree/d%d" % (i % 20), exist_ok=True)
    n = rng.randint(1000, 24000)
    text = b" ".join(rng.choice(words) for _ in range(n // 5))[:n]
    open("tree/d%d/f%d.txt" % (i % 20, i), "wb").write(text)
PY
tar -cf tree.tar tree
expect_ok "corpus build from the directory" "$R" -q corpus build -o dir-corpus tree
expect_ok "corpus build from a tar of it" "$R" -q corpus build -o tar-corpus tree.tar

expect_ok "compress the tar against the directory's corpus" \
  "$R" compress -c dir-corpus tree.tar -o a.rdc
check "  warns that the match is poor" grep -q "warning: corpus .* matched tree.tar poorly" "$W/err"
check "  says the target is a tar and the corpus not" \
  grep -q "tree.tar is a tar stream, but the corpus was not built from one" "$W/err"
check "  and how to build the corpus" grep -q 'tar -cf - DIR | reducto corpus build' "$W/err"
expect_ok "  the container is still right" "$R" -q decompress -c dir-corpus a.rdc -o a.out
check "  (round trip)" cmp -s tree.tar a.out

expect_ok "compress the tar against the tar's corpus" "$R" compress -c tar-corpus tree.tar -o b.rdc
check "  no warning" bash -c "! grep -q warning '$W/err'"
check "  and far smaller" [ "$(stat -c %s b.rdc)" -lt "$(( $(stat -c %s a.rdc) / 10 ))" ]
expect_ok "compress a file of the tree against the directory's corpus" \
  "$R" compress -c dir-corpus tree/d3/f3.txt -o c.rdc
check "  no warning" bash -c "! grep -q warning '$W/err'"

gzip -c tree.tar >tree.tar.gz
expect_ok "compress a gzip of the tar" "$R" compress -c tar-corpus tree.tar.gz -o d.rdc
check "  warns that gzip hides the content" grep -q "tree.tar.gz is gzip-compressed" "$W/err"
check "  and says to compress the uncompressed stream" \
  grep -q "gzip -dc FILE | reducto compress" "$W/err"

head -c 300000 /dev/urandom >noise
expect_ok "compress unrelated data" "$R" compress -c tar-corpus noise -o e.rdc
check "  warns, with the share not found" \
  grep -qE "matched noise poorly: (9[0-9]|100)\.[0-9]% of it was not found" "$W/err"
expect_ok "compress -q unrelated data" "$R" -q compress -f -c tar-corpus noise -o e.rdc
check "  says nothing" [ ! -s "$W/err" ]
expect_ok "compress --standalone" "$R" compress --standalone noise -o f.rdc
check "  no warning (no corpus to match)" bash -c "! grep -q warning '$W/err'"
finish
