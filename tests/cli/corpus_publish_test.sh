#!/usr/bin/env bash
# End-to-end tests of piece tables and `reducto corpus publish` (docs/repositories.md):
# the layout, the compressed pieces against the segments, versions, publishing again,
# a tampered repository, refusals, an interrupted publish, and a corpus from before
# piece tables (tests/corpus/golden/corpus-v1-nopieces, copied first: never written).
# usage: corpus_publish_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
GOLDEN=$(realpath "$(dirname "$0")/../corpus/golden/corpus-v1-nopieces")
source "$(dirname "$0")/test_lib.sh"

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# check_pieces REPO_CORPUS SOURCE_CORPUS: every piece of every .pz decompresses (zstd)
# to the bytes of the source's segment, and matches the piece table when there is one.
check_pieces() { python3 - "$1" "$2" <<'PY'
import glob, json, os, struct, subprocess, sys
repo, source = sys.argv[1:]
manifest = json.load(open(os.path.join(repo, "manifest.json")))
own = [s for s in manifest["segments"] if "corpus" not in s]
assert own, "no own segment"
for s in own:
    seg = open(os.path.join(source, s["file"]), "rb").read()
    base = os.path.join(repo, s["file"][:-len(".seg")])
    assert not os.path.exists(os.path.join(repo, s["file"])), "raw segment published"
    pz, pzi = open(base + ".pz", "rb").read(), open(base + ".pzi", "rb").read()
    assert pzi[:8] == b"RDCPZI01", pzi[:8]
    version, piece_size, size, count = struct.unpack_from("<IIQQ", pzi, 8)
    assert version == 1 and size == len(seg) and count == -(-size // piece_size)
    want_size = s["pieces"]["piece_size"] if "pieces" in s else 65536
    assert piece_size == want_size, (piece_size, want_size)
    offsets = struct.unpack_from("<%dQ" % (count + 1), pzi, 64)
    assert len(pzi) == 64 + 8 * (count + 1) and offsets[0] == 0 and offsets[-1] == len(pz)
    for i in range(count):
        out = subprocess.run(["zstd", "-dcq"], input=pz[offsets[i]:offsets[i + 1]],
                             capture_output=True, check=True).stdout
        assert out == seg[i * piece_size:(i + 1) * piece_size], "piece %d" % i
    if "pieces" in s:
        table = open(os.path.join(repo, s["pieces"]["file"]), "rb").read()
        assert table == open(os.path.join(source, s["pieces"]["file"]), "rb").read()
PY
}

cd "$W" || exit 1
"$GEN" --size $((3 << 20)) --seed 5 ref v2-input
mkdir store

# --- piece tables are written and verified ---
expect_ok "corpus build" "$R" -q corpus build -o store/v1 ref
check "build writes a piece table" test -s store/v1/pieces/000000.b3
check "the manifest lists it" python3 -c '
import json, os, sys
s = json.load(open("store/v1/manifest.json"))["segments"][0]
p = s["pieces"]
assert p["file"] == "pieces/000000.b3" and p["piece_size"] == 65536
assert p["size"] == 64 + 32 * -(-s["size"] // 65536) == os.path.getsize("store/v1/pieces/000000.b3")'
expect_ok "--no-fine-index still writes pieces" "$R" -q corpus build --no-fine-index -o nofine ref
check "... and no fine index" sh -c "test -s nofine/pieces/000000.b3 && test ! -e nofine/fine"
cp -r nofine damaged
flip damaged/pack/000000.seg 300000
expect_exit "verify names the damaged piece" 1 "pack segment damaged/pack/000000.seg: piece 4 \(bytes 262144\.\.327680\)" \
  "$R" corpus verify damaged
cp -r nofine damaged-table; flip damaged-table/pieces/000000.b3 100
expect_exit "verify checks the piece table's digest" 1 "piece table damaged-table/pieces/000000.b3 does not match its BLAKE3" \
  "$R" corpus verify damaged-table
expect_ok "corpus update" "$R" -q corpus update --from store/v1 -o store/v2 v2-input
check "update writes its own segment's table" sh -c "test -s store/v2/pieces/000001.b3 && test ! -e store/v2/pieces/000000.b3"
expect_ok "verify a version" "$R" corpus verify store/v2
v1_id=$(json store/v1/manifest.json 'd["id"]'); v2_id=$(json store/v2/manifest.json 'd["id"]')

"$R" key generate --symmetric -o corpus.key >/dev/null 2>&1
expect_ok "encrypted build" "$R" -q corpus build --encrypt-key corpus.key -o enc ref
check "an encrypted corpus has a table of its sealed segment" python3 -c '
import json, os
s = json.load(open("enc/manifest.json"))["segments"][0]
assert s["pieces"]["size"] == 64 + 32 * -(-os.path.getsize("enc/pack/000000.seg") // 65536)'
expect_ok "verify an encrypted corpus" "$R" corpus verify --corpus-key corpus.key enc
expect_exit "an encrypted corpus is not published" 1 "unavailable: .* is encrypted, and this reducto does not publish encrypted corpora" \
  "$R" corpus publish enc --to repo-enc

# --- publish ---
expect_ok "publish v1" "$R" corpus publish store/v1 --to repo
check "publish reports what it added" grep -q "^added  *corpus $v1_id from store/v1 at repo/corpora/$v1_id" "$W/err"
check "layout of a published corpus" sh -c "cd repo/corpora/$v1_id && test -f manifest.json && test -f pieces/000000.b3 && test -f pack/000000.pz && test -f pack/000000.pzi && test -f fine/000000.fine && test -f index/CURRENT && test ! -e pack/000000.seg"
check "the manifest is the corpus's, byte for byte" cmp -s store/v1/manifest.json "repo/corpora/$v1_id/manifest.json"
check "the index is copied whole" diff -r store/v1/index "repo/corpora/$v1_id/index"
check "every piece decompresses to the segment's bytes" check_pieces "repo/corpora/$v1_id" store/v1
expect_ok "publish v2 (parent already there)" "$R" corpus publish store/v2 --to repo
check "only the version is added" sh -c "grep -q '^already  *corpus $v1_id' '$W/err' && grep -q '^added  *corpus $v2_id' '$W/err'"
check "the version holds only its segment" sh -c "ls repo/corpora/$v2_id/pack | tr '\n' ' ' | grep -qx '000001.pz 000001.pzi '"
check "its pieces decompress to its segment" check_pieces "repo/corpora/$v2_id" store/v2
expect_ok "publish v2 again" "$R" corpus publish store/v2 --to repo
check "publishing again is a no-op" sh -c "grep -c 'already published' '$W/err' | grep -qx 2 && ! grep -q '^added' '$W/err'"
check "no staging directory is left" sh -c "! ls -A repo/corpora | grep -q tmp"
expect_ok "publish v2 to a fresh repository" "$R" corpus publish -T 2 store/v2 --to repo2 -l 3
check "ancestors are published first" sh -c "test -d repo2/corpora/$v1_id && test -d repo2/corpora/$v2_id"
check "publish is audited" sh -c "'$R' audit show | grep -qE 'corpus publish +${v1_id:0:8} +ok +store/v1 --to=repo'"

# --- refusals ---
cp -r repo tampered
printf ' ' >> "tampered/corpora/$v1_id/manifest.json"
expect_exit "a different manifest under the same id is an integrity failure" 1 \
  "integrity failure: the repository holds corpus $v1_id at tampered/corpora/$v1_id with manifest blake3" \
  "$R" corpus publish store/v2 --to tampered
expect_exit "missing corpus" 1 "not found" "$R" corpus publish store/none --to repo
expect_exit "a server that is not there: a clear error" 1 "127.0.0.1:9.*connect" \
  "$R" corpus publish store/v1 --to http://127.0.0.1:9/repo
expect_exit "--to is required" 2 "to is required" "$R" corpus publish store/v1
mkdir linked; ln -s "$W/repo/corpora" linked/corpora
expect_exit "a symbolic link in the repository is not followed" 2 "symbolic link" \
  "$R" corpus publish store/v1 --to linked

# --- an interrupted publish leaves no corpus ---
"$GEN" --size $((24 << 20)) --seed 9 big-ref big-target
expect_ok "build a larger corpus" "$R" -q corpus build --no-fine-index -o big big-ref
big_id=$(json big/manifest.json 'd["id"]')
"$R" corpus publish -T 1 big --to repo-int -l 19 >"$W/out" 2>"$W/err" & pid=$!
for _ in $(seq 1 200); do ls -A repo-int/corpora 2>/dev/null | grep -q "^.tmp-" && break; sleep 0.05; done
sleep 0.2; kill -INT $pid; wait $pid; rc=$?
check "interrupted publish exits 130" [ "$rc" -eq 130 ]
check "... and leaves no corpus and no staging directory" sh -c "test -d repo-int/corpora && test ! -e repo-int/corpora/$big_id && test -z \"\$(ls -A repo-int/corpora)\""

# --- a corpus from before piece tables ---
cp -r "$GOLDEN" old
old_id=$(json old/corpus/manifest.json 'd["id"]')
mkdir -p "$XDG_STATE_HOME/reducto"
echo "$old_id 4610461dfbbe27255d0ecf770c757ebd93786bee738a638793eb0a8f74bffe43" \
  >> "$XDG_STATE_HOME/reducto/corpora-made-here"
expect_ok "an old corpus verifies" "$R" corpus verify old/corpus
expect_ok "an old container decompresses against it" "$R" -q decompress -c old/corpus old/target.rdc -o old.out
check "... to the expected output" cmp -s old.out old/target.out
expect_ok "an old corpus publishes" "$R" corpus publish old/corpus --to repo
check "its segment is packed in 64 KiB pieces" check_pieces "repo/corpora/$old_id" old/corpus
check "... without a piece table" test ! -e "repo/corpora/$old_id/pieces"
check "the golden directory was not written" sh -c "cd '$GOLDEN' && test ! -e corpus.usage && test ! -e corpus/pieces"

finish
