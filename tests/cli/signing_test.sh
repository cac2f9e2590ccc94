#!/usr/bin/env bash
# End-to-end tests of keys, corpus signatures, verification and the trust policy of
# the reducto command line, run as a user would run it.
# usage: signing_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"

# expect_fail NAME PATTERN CMD...: the command exits 1 or 2 and stderr matches PATTERN.
expect_fail() {
  local n=$1 pat=$2; shift 2
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qiE -- "$pat" "$W/err"; then ok "$n"; else bad "$n (exit $rc)"; fi
}
# touch_created CORPUS: changes one digit of the manifest's creation time, so that the
# manifest stays valid and only its signatures can tell.
touch_created() { python3 - "$1/manifest.json" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
m = re.search(r'"created": "[0-9-]+T[0-9:]+(\d)Z"', text)
d = m.group(1); pos = m.start(1)
text = text[:pos] + ('1' if d != '1' else '2') + text[pos + 1:]
open(path, 'w').write(text)
PY
}

"$GEN" --size $((4 << 20)) "$W/ref" "$W/new" >/dev/null
cd "$W" || exit 1

# --- key generate ---
expect_ok "key generate" "$R" key generate -o alice
check "key generate prints the key id" grep -qE '^key [0-9a-f]{16}$' "$W/out"
alice=$(sed -n 's/^key //p' "$W/out")
check "secret key is mode 0600" [ "$(stat -c %a alice)" = 600 ]
check "public key is alice.pub" grep -q "^reducto-ed25519-public-key v1$" alice.pub
check "secret key is self-describing" grep -q "^reducto-ed25519-secret-key v1$" alice
check "key id in the public key file" grep -q "^key-id $alice$" alice.pub
before=$(md5sum alice alice.pub)
expect_fail "key generate refuses to overwrite" "exists.*--force" "$R" key generate -o alice
check "refused generate left the keys alone" [ "$(md5sum alice alice.pub)" = "$before" ]
expect_ok "key generate --force" "$R" -q key generate -o carol
expect_ok "key generate --force replaces" "$R" key generate -o carol --force
expect_fail "key generate of a .pub name" "name the secret key" "$R" key generate -o x.pub
expect_fail "key generate in a missing directory" "not found|no such" "$R" key generate -o nodir/k
expect_ok "second key" "$R" -q key generate -o bob
bob=$(sed -n 's/^key-id //p' bob.pub)

# --- build --sign-key, sign, info, list ---
mkdir store
expect_ok "corpus build --sign-key" "$R" corpus build -o store/signed --sign-key alice "$W/ref"
check "build reports the signer" grep -q "signed by $alice" "$W/err"
check "the signature is published with the corpus" [ -f "store/signed/signatures/$alice.sig" ]
check "no staging directory is left" [ -z "$(ls store | grep -v '^signed$')" ]
check "the signature file is text" grep -q "^reducto-corpus-signature v1$" "store/signed/signatures/$alice.sig"
expect_ok "corpus build unsigned" "$R" -q corpus build -o store/unsigned "$W/ref"
manifest=$(md5sum store/signed/manifest.json)
expect_ok "corpus sign adds a second signer" "$R" corpus sign store/signed --sign-key bob
check "corpus sign names the signature file" grep -q "signatures/$bob.sig" "$W/out"
check "signing leaves the manifest unchanged" [ "$(md5sum store/signed/manifest.json)" = "$manifest" ]
expect_ok "corpus info" "$R" corpus info store/signed
check "corpus info shows both signers" sh -c "grep -q '$alice (valid)' '$W/out' && grep -q '$bob (valid)' '$W/out'"
expect_ok "corpus info --json" "$R" corpus info --json store/signed
check "corpus info --json lists valid signatures" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(s["key_id"] for s in d["signatures"] if s["valid"]) == sorted(sys.argv[2:])' "$W/out" "$alice" "$bob"
expect_ok "corpus list" "$R" corpus list store --trusted-key alice.pub
check "corpus list shows both corpora and signers" sh -c "grep -q 'store/signed' '$W/out' && grep -q 'store/unsigned' '$W/out' && grep -q '$alice (valid, trusted)' '$W/out'"
expect_ok "corpus list --json" "$R" corpus list --json store
check "corpus list --json is JSON with ids" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [c["path"] for c in d] == ["store/signed", "store/unsigned"] and all(c["id"] for c in d)' "$W/out"

# --- verify ---
expect_ok "verify without trusted keys" "$R" corpus verify store/signed
check "verify lists the checks" sh -c "grep -q '^OK *manifest' '$W/out' && grep -q '^OK *signature.*$alice' '$W/out' && grep -q '^OK *pack and index' '$W/out'"
expect_ok "verify with a trusted key" "$R" corpus verify store/signed --trusted-key bob.pub
check "verify reports trust" grep -q "^OK *trust.*$bob" "$W/out"
expect_ok "verify an unsigned corpus without trusted keys" "$R" corpus verify store/unsigned
expect_fail "verify an unsigned corpus with a trusted key" "no valid signature by a trusted key.*--trusted-key" "$R" corpus verify store/unsigned --trusted-key alice.pub
"$R" -q key generate -o mallory
expect_fail "verify with only an untrusted key" "signed only by.*not trusted" "$R" corpus verify store/signed --trusted-key mallory.pub

# --- damage: each is detected and named ---
damaged() { rm -rf "$W/d"; cp -a store/signed "$W/d"; }
damaged; flip d/pack/000000.seg 5000
expect_fail "verify: flipped pack byte names the segment" "pack/000000.seg.*re-fetch" "$R" corpus verify d
check "verify: FAILED line for the pack" grep -q "^FAILED *pack and index" "$W/out"
damaged; flip "$(ls d/index/*.sst | head -1)" 300
expect_fail "verify: flipped index byte names the index" "index" "$R" corpus verify d
damaged; touch_created d
expect_fail "verify: changed manifest names manifest.json" "manifest.json.*changed after it was signed.*re-fetch" "$R" corpus verify d
check "verify: every signature fails on a changed manifest" [ "$(grep -c '^FAILED *signature' "$W/out")" = 2 ]
damaged; flip d/manifest.json 200
expect_fail "verify: broken manifest JSON" "manifest.json" "$R" corpus verify d
damaged; flip "d/signatures/$alice.sig" -20
expect_fail "verify: flipped signature byte names the .sig" "signatures/$alice.sig" "$R" corpus verify d --trusted-key alice.pub
check "verify: the other signature still checks" grep -q "^OK *signature.*$bob" "$W/out"
damaged; mkdir -p store/unsigned/signatures; cp "d/signatures/$bob.sig" store/unsigned/signatures/
expect_fail "verify: a signature copied from another corpus" "another corpus" "$R" corpus verify store/unsigned
rm -rf store/unsigned/signatures

# --- compress and decompress with trusted keys ---
mkdir outdir
expect_fail "compress refuses an unsigned corpus" "no valid signature by a trusted key.*--trusted-key FILE.pub.*trusted_keys" "$R" compress -c store/unsigned --trusted-key alice.pub "$W/new" -o outdir/x.rdc
check "refused compress leaves no output" [ -z "$(ls outdir)" ]
expect_fail "compress refuses an untrusted signer" "not trusted" "$R" compress -c store/signed --trusted-key mallory.pub "$W/new" -o outdir/x.rdc
expect_ok "compress with a trusted signer" "$R" compress -c store/signed --trusted-key mallory.pub --trusted-key bob.pub "$W/new" -o new.rdc
expect_fail "decompress refuses an untrusted signer" "not trusted.*--trusted-key" "$R" decompress -c store/signed --trusted-key mallory.pub new.rdc -o outdir/x
check "refused decompress leaves no output" [ -z "$(ls outdir)" ]
expect_ok "decompress with a trusted signer" "$R" decompress -c store/signed --trusted-key alice.pub new.rdc -o new.out
check "trusted round trip is byte-identical" cmp -s "$W/new" new.out
damaged; flip "d/signatures/$alice.sig" -20; rm "d/signatures/$bob.sig"
expect_fail "decompress refuses a damaged trusted signature" "$alice.*does not check" "$R" decompress -c d --trusted-key alice.pub new.rdc -o outdir/x
damaged; touch_created d
expect_fail "compress refuses a changed manifest" "changed after it was signed" "$R" compress -c d --trusted-key alice.pub "$W/new" -o outdir/x.rdc
expect_ok "standalone containers need no signature" "$R" -q compress --standalone --trusted-key alice.pub "$W/new" -o s.rdc
expect_ok "standalone decompress needs no signature" "$R" -q decompress --trusted-key alice.pub s.rdc -o s.out

# --- configuration: trusted_keys, REDUCTO_TRUSTED_KEYS, flags ---
mkdir -p xdg/reducto
printf 'trusted_keys = ["../../mallory.pub"]\n' > xdg/reducto/config.toml
expect_fail "config trusted_keys refuses (path relative to the config)" "trusted: " "$R" compress -c store/signed "$W/new" -o outdir/x.rdc
printf 'trusted_keys = ["%s/alice.pub"]\n' "$W" > xdg/reducto/config.toml
expect_ok "config trusted_keys accepts" "$R" -q compress -c store/signed "$W/new" -o c1.rdc
expect_fail "config trusted_keys on an unsigned corpus" "trusted_keys" "$R" compress -c store/unsigned "$W/new" -o outdir/x.rdc
expect_fail "environment overrides the config" "not trusted" env REDUCTO_TRUSTED_KEYS="$W/mallory.pub" "$R" compress -c store/signed "$W/new" -o outdir/x.rdc
expect_ok "REDUCTO_TRUSTED_KEYS is colon-separated" env REDUCTO_TRUSTED_KEYS="$W/mallory.pub:$W/bob.pub" "$R" -q compress -c store/signed "$W/new" -o c2.rdc
expect_ok "the flag overrides the environment" env REDUCTO_TRUSTED_KEYS="$W/mallory.pub" "$R" -q decompress -c store/signed --trusted-key bob.pub c2.rdc -o c2.out
expect_ok "verify uses the configured keys" "$R" corpus verify store/signed
check "verify reports configured trust" grep -q "^OK *trust.*$alice" "$W/out"
printf 'trusted_keys = "alice.pub"\n' > xdg/reducto/config.toml
expect_fail "trusted_keys must be an array" "trusted_keys must be an array" "$R" compress -c store/signed "$W/new" -o outdir/x.rdc
printf 'trusted_key = ["alice.pub"]\n' > xdg/reducto/config.toml
expect_fail "unknown config key lists trusted_keys" "unknown key 'trusted_key'.*trusted_keys" "$R" compress -c store/signed "$W/new" -o outdir/x.rdc
rm -rf xdg/reducto

# --- origin: a corpus made elsewhere must verify before use ---
# Another user or machine is another state directory, where none of these corpora
# were made.
elsewhere() { env XDG_STATE_HOME="$W/elsewhere" "$@"; }
check "made-here corpora are recorded in the state directory" grep -q "^$("$R" corpus info --json store/unsigned | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') [0-9a-f]\{64\}$" "$W/state/reducto/corpora-made-here"
expect_ok "a corpus made here needs no trusted key" "$R" -q compress -c store/unsigned "$W/new" -o here.rdc
expect_exit "elsewhere: compress refuses a corpus made elsewhere" 1 "is not in the record of corpora made here.*--trusted-key KEY.pub.*--insecure-skip-verify" \
  elsewhere "$R" compress -c store/unsigned "$W/new" -o outdir/x.rdc
check "refused compress leaves no output" [ -z "$(ls outdir)" ]
expect_exit "elsewhere: decompress refuses it too" 1 "is not in the record of corpora made here" elsewhere "$R" decompress -c store/unsigned here.rdc -o outdir/x
check "refused decompress leaves no output" [ -z "$(ls outdir)" ]
expect_ok "elsewhere: a trusted signer makes it usable" elsewhere "$R" -q compress -c store/signed --trusted-key alice.pub "$W/new" -o there.rdc
expect_ok "elsewhere: decompress with a trusted signer" elsewhere "$R" -q decompress -c store/signed --trusted-key bob.pub there.rdc -o there.out
check "elsewhere: round trip is byte-identical" cmp -s "$W/new" there.out
expect_ok "elsewhere: --insecure-skip-verify uses it" elsewhere "$R" -q decompress -c store/unsigned --insecure-skip-verify here.rdc -o skipped.out
check "--insecure-skip-verify is loud" grep -q "WARNING: --insecure-skip-verify" "$W/err"
check "--insecure-skip-verify round trip" cmp -s "$W/new" skipped.out
expect_ok "elsewhere: audit show" elsewhere "$R" audit show --operation decompress
check "--insecure-skip-verify is in the audit log" grep -qE -- "--insecure-skip-verify( |$)" "$W/out"
expect_ok "elsewhere: a standalone container needs no corpus check" elsewhere "$R" -q decompress -c store/unsigned s.rdc -o s2.out
expect_exit "elsewhere: corpus update refuses a parent made elsewhere" 1 "the parent corpus: corpus .* at store/unsigned is not in the record of corpora made here" \
  elsewhere "$R" corpus update --from store/unsigned -o store/v2 "$W/new"
expect_exit "elsewhere: corpus prune refuses a corpus made elsewhere" 1 "is not in the record of corpora made here" \
  elsewhere "$R" corpus prune --keep-for "$W/new" -o store/pruned store/unsigned
check "refused update and prune made nothing" [ ! -e store/v2 ] && [ ! -e store/pruned ]
expect_ok "elsewhere: update from a trusted parent" elsewhere "$R" -q corpus update --from store/signed --trusted-key alice.pub -o store/v2 "$W/new"
expect_ok "elsewhere: the new version is made there" elsewhere "$R" -q compress -c store/v2 "$W/new" -o v2.rdc
damaged; touch_created d
expect_exit "a corpus whose manifest changed is no longer the one made here" 1 "is not in the record of corpora made here" "$R" compress -c d "$W/new" -o outdir/x.rdc
rm -rf store/v2

# --- wrong or missing keys ---
expect_fail "a public key given as a secret key" "is a public key.*secret key file" "$R" corpus sign store/unsigned --sign-key alice.pub
expect_fail "a secret key given as a trusted key" "SECRET key.*alice.pub" "$R" corpus verify store/signed --trusted-key alice
expect_fail "a missing trusted key" "trusted key.*not found|no such" "$R" compress -c store/signed --trusted-key nobody.pub "$W/new" -o outdir/x.rdc
expect_fail "a file that is not a key" "not a Reducto public key file" "$R" corpus verify store/signed --trusted-key "$W/ref"
chmod 644 alice
expect_fail "a secret key readable by others is refused" "chmod 600" "$R" corpus sign store/unsigned --sign-key alice
chmod 600 alice
expect_fail "corpus sign without --sign-key" "--sign-key" "$R" corpus sign store/unsigned
expect_fail "build with a bad key builds nothing" "is a public key" "$R" corpus build -o store/never --sign-key alice.pub "$W/ref"
check "nothing was left by the refused build" [ -z "$(ls store | grep never)" ]
damaged; flip d/pack/000000.seg 5000
expect_fail "corpus sign refuses a damaged corpus" "refusing to sign.*pack/000000.seg" "$R" corpus sign d --sign-key alice
expect_fail "corpus list of a missing store" "not found|no such" "$R" corpus list "$W/nowhere"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
