#!/usr/bin/env bash
# The guides (docs/guides/*.md) work as written: every ```sh block of each page runs, in
# order, with `bash -e -o pipefail`, on small generated data named as the page says; a
# command that fails fails the test, and so does a warning (the guides build each corpus
# from the same kind of stream they compress, so none may match poorly).
# usage: guides_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
GUIDES=$(realpath "$(dirname "$0")/../../docs/guides")
source "$(dirname "$0")/test_lib.sh"

mkdir -p "$W/bin" && ln -s "$R" "$W/bin/reducto"
export PATH="$W/bin:$PATH"

# tree DIR SEED: a release tree of binaries and text files; tree_update OLD NEW: the
# next release (some files edited, one added, one removed).
tree() {
  python3 - "$1" "$2" <<'PY'
import os, random, sys
out, rng = sys.argv[1], random.Random(int(sys.argv[2]))
words = [("w%d" % i).encode() for i in range(3000)]
for i in range(120):
    path = os.path.join(out, "d%d" % (i % 8), "f%03d" % i + (".so" if i % 3 == 0 else ".txt"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    n = rng.randint(500, 40000)
    data = rng.randbytes(n) if i % 3 == 0 else b" ".join(rng.choice(words) for _ in range(n // 5))
    open(path, "wb").write(data)
PY
}
tree_update() {
  cp -a "$1" "$2"
  python3 - "$2" <<'PY'
import os, random, sys
root, rng = sys.argv[1], random.Random(99)
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
for path in files[::12]:
    data = bytearray(open(path, "rb").read())
    at = rng.randrange(len(data))
    data[at:at + 16] = rng.randbytes(16)
    open(path, "wb").write(bytes(data))
os.remove(files[5])
open(os.path.join(root, "d0", "new.txt"), "wb").write(b"added in this release\n" * 200)
PY
}
# dump OUT SEED EDITS: a SQL dump of 30,000 rows; EDITS rows updated, and some deleted and
# inserted, against the dump of the same SEED.
dump() {
  python3 - "$1" "$2" "$3" <<'PY'
import random, sys
out, seed, edits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = ["INSERT INTO orders VALUES (%d, 'customer_%05d', %d, '2026-10-%02d');\n"
        % (i, i * 7 % 9973, i * 13 % 1000, i % 28 + 1) for i in range(30000)]
rng = random.Random(seed + edits)
for _ in range(edits):
    i = rng.randrange(len(rows))
    rows[i] = rows[i].replace("2026-10", "2026-11")
if edits:
    del rows[1000:1100]
    rows += ["INSERT INTO orders VALUES (%d, 'new', 1, '2026-11-01');\n" % i for i in range(500)]
open(out, "w").write("".join(rows))
PY
}

prepare() {  # GUIDE: the data the guide's commands name, in the current directory
  case $1 in
    vm-images)
      mkdir -p images && "$GEN" --size 6000000 images/golden-2026.10.img images/web-01.img \
        >/dev/null ;;
    os-updates) tree release-1.0 1 && tree_update release-1.0 release-1.1 ;;
    ci-artifacts) tree build-41 2 && tree_update build-41 build-42 ;;
    database-backups) dump monday.sql 3 0 && dump tuesday.sql 3 400 ;;
  esac
}

for page in "$GUIDES"/*.md; do
  guide=$(basename "$page" .md)
  mkdir -p "$W/$guide" && cd "$W/$guide" || exit 1
  prepare "$guide"
  # The page's ```sh blocks, in order.
  awk '/^```sh$/ {on = 1; next} /^```$/ {on = 0} on' "$page" >commands.sh
  check "$guide: the page has commands" [ -s commands.sh ]
  expect_ok "$guide: every command in the page succeeds" bash -e -o pipefail commands.sh
  check "  with no warning" bash -c "! grep -qi 'warning' '$W/err'"
done
cd "$W" || exit 1
check "the four guides are there" [ "$(ls "$GUIDES"/*.md | wc -l)" -ge 4 ]
finish
