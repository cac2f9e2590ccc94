#!/usr/bin/env bash
# End-to-end tests of encrypted containers (docs/encryption.md), run as a user would:
# key files and passphrases, wrong and missing keys, damage, truncation, pipes.
# usage: encryption_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
expect_fail() { expect_exit "$@"; }  # NAME RC PATTERN CMD...

cd "$W" || exit 1
"$GEN" --size $((4 << 20)) ref new
"$R" -q corpus build -o corpus ref

expect_ok "key generate --symmetric" "$R" key generate --symmetric -o dk
check "the key file is mode 0600" [ "$(stat -c %a dk)" = 600 ]
id=$(grep '^key-id ' dk | cut -d' ' -f2)
check "the key id is printed" grep -q "key $id" "$W/out"
expect_ok "compress --encrypt-key" "$R" -q compress -c corpus --encrypt-key dk new -o new.enc
check "the output is not a plain container" [ "$(head -c 5 new.enc | tail -c 4)" = "RDCE" ]
expect_ok "decompress --decrypt-key" "$R" -q decompress -c corpus --decrypt-key dk new.enc -o new.out
check "round trip is byte-identical" cmp -s new new.out
if "$R" -q compress -c corpus --encrypt-key dk < new | "$R" -q decompress -c corpus --decrypt-key dk | cmp -s - new; then
  ok "encrypted stdin to stdout pipeline"; else bad "encrypted stdin to stdout pipeline"; fi
expect_ok "a plain container still decodes with a key given" "$R" -q compress -c corpus new -o new.rdc
expect_ok "  (decompress)" "$R" -q decompress -c corpus --decrypt-key dk new.rdc -o plain.out

expect_fail "no key" 1 "encrypted with key $id: pass --decrypt-key FILE" "$R" decompress -c corpus new.enc -o x
"$R" -q key generate --symmetric -o other
expect_fail "the wrong key" 1 "encrypted with key $id, and the key given is" "$R" decompress -c corpus --decrypt-key other new.enc -o x
chmod 644 dk
expect_fail "a key file others can read" 1 "chmod 600" "$R" decompress -c corpus --decrypt-key dk new.enc -o x
chmod 600 dk
python3 -c "import sys; b=bytearray(open('new.enc','rb').read()); b[len(b)//2]^=1; open('flipped.enc','wb').write(b)"
expect_fail "a flipped bit" 1 "does not authenticate" "$R" decompress -c corpus --decrypt-key dk flipped.enc -o x
head -c $(( $(stat -c %s new.enc) - 100 )) new.enc > cut.enc
expect_fail "a truncated file" 1 "truncated|does not authenticate" "$R" decompress -c corpus --decrypt-key dk cut.enc -o x
check "no output left by the failures" [ ! -e x ]

printf 'correct horse battery\n' > pass
expect_ok "compress --passphrase-file" "$R" -q compress -c corpus --passphrase-file pass new -o new.pp
export RPW='correct horse battery'
expect_ok "decompress --passphrase-env" "$R" -q decompress -c corpus --passphrase-env RPW new.pp -o pp.out
check "passphrase round trip is byte-identical" cmp -s new pp.out
export RPW='correct horse'
expect_fail "the wrong passphrase" 1 "passphrase does not unlock" "$R" decompress -c corpus --passphrase-env RPW new.pp -o x
expect_fail "a key and a passphrase" 2 "pass one of them" "$R" compress -c corpus --encrypt-key dk --passphrase-file pass new -o x
: > empty
expect_fail "an empty passphrase" 2 "passphrase is empty" "$R" compress -c corpus --passphrase-file empty new -o x
expect_fail "an unset variable" 2 "not set" "$R" compress -c corpus --passphrase-env NO_SUCH_VAR_X new -o x

# --- encrypted corpora ---
expect_ok "corpus build --encrypt-key" "$R" corpus build --encrypt-key dk -o sealed ref
check "the corpus holds its wrapped key" [ -f sealed/data-key ]
check "corpus info says it is encrypted" sh -c "'$R' corpus info sealed | grep -q '^encrypted .*in data-key'"
no_plaintext() { python3 - "$1" "$2" <<'PY'
import os, sys
ref = open(sys.argv[1], 'rb').read()
probes = [ref[i:i + 64] for i in range(0, len(ref) - 64, 4096)]
probes = [p for p in probes if len(set(p)) >= 24]  # zero runs also fill the index's prefixes
assert len(probes) > 100
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        if f == 'manifest.json': continue
        data = open(os.path.join(root, f), 'rb').read()
        if any(p in data for p in probes): sys.exit(1)
PY
}
check "no file of the corpus holds the reference's bytes" no_plaintext ref sealed
if no_plaintext ref corpus; then bad "the probe finds the bytes in a plain corpus"; else ok "the probe finds the bytes in a plain corpus"; fi
expect_fail "compress without the corpus key" 1 "corpus is encrypted with key $id: pass --corpus-key FILE" "$R" compress -c sealed new -o x
expect_fail "compress with the wrong corpus key" 1 "encrypted with key $id, not with key" "$R" compress -c sealed --corpus-key other new -o x
expect_ok "compress --corpus-key" "$R" -q compress -c sealed --corpus-key dk new -o sealed.rdc
# An encrypted corpus has no fine index (it would show which windows the pack holds), so
# the like-for-like plain corpus is one built without it.
"$R" -q corpus build --no-fine-index -o corpus-nofine ref
"$R" -q compress -c corpus-nofine new -o nofine.rdc
check "the same container size as with a plain corpus without a fine index" [ "$(stat -c %s sealed.rdc)" = "$(stat -c %s nofine.rdc)" ]
check "an encrypted corpus has no fine index" [ ! -e sealed/fine ]
expect_fail "decompress without the corpus key" 1 "pass --corpus-key" "$R" decompress -c sealed sealed.rdc -o x
expect_ok "decompress --corpus-key" "$R" -q decompress -c sealed --corpus-key dk sealed.rdc -o sealed.out
check "round trip through an encrypted corpus" cmp -s new sealed.out
expect_ok "decompress --decrypt-key unlocks the corpus too" "$R" -q compress -c sealed --corpus-key dk --encrypt-key dk new -o both.enc
expect_ok "  (one key for both)" "$R" -q decompress -c sealed --decrypt-key dk both.enc -o both.out
check "  (round trip)" cmp -s new both.out
expect_fail "--corpus-key wins over --decrypt-key" 1 "encrypted with key $id, not with key" "$R" decompress -c sealed --decrypt-key dk --corpus-key other both.enc -o x
expect_ok "corpus verify --corpus-key" "$R" corpus verify sealed --corpus-key dk
expect_fail "corpus verify without it names the key" 1 "pass --corpus-key FILE with key $id" "$R" corpus verify sealed
cp -a sealed damaged
python3 - damaged/pack/000000.seg <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[100000] ^= 1; open(sys.argv[1], 'wb').write(b)
PY
expect_fail "a flipped pack bit is an integrity error" 1 "chunk 1 of pack segment .* does not authenticate" "$R" decompress -c damaged --corpus-key dk sealed.rdc -o x
export RPW='correct horse battery'
expect_ok "corpus build --passphrase-env" "$R" -q corpus build --passphrase-env RPW -o sealed-pp ref
expect_fail "a passphrase corpus asks for one" 1 "encrypted with a passphrase: pass --corpus-passphrase-file" "$R" compress -c sealed-pp new -o x
expect_ok "compress --corpus-passphrase-env" "$R" -q compress -c sealed-pp --corpus-passphrase-env RPW new -o pp.rdc
expect_fail "update refuses an encrypted parent" 1 "encrypted.*cannot make a new version" "$R" corpus update --from sealed -o v2 new
cp -a sealed copy
expect_ok "corpus delete of an encrypted corpus" "$R" corpus delete sealed
check "delete says it crypto-shredded" grep -q "crypto-shredded: its wrapped key was erased first" "$W/err"
rm copy/data-key
expect_fail "a corpus without its key never opens" 1 "data-key is gone.*crypto-shredded" "$R" decompress -c copy --corpus-key dk sealed.rdc -o x
check "no output left by the failures" [ ! -e x ]
expect_ok "audit show lists the delete" "$R" audit show --operation "corpus delete"

# --- passphrases asked on the terminal (script(1) gives the command a terminal) ---
if command -v script >/dev/null; then
  prompt() { local input=$1; shift; printf "$input" | timeout 60 script -qec "$*" /dev/null > "$W/out" 2>&1; }
  if prompt 'tty pw\ntty pw\n' "'$R' -q compress -c corpus --passphrase-prompt new -o tty.enc" && [ -f tty.enc ]; then
    ok "compress --passphrase-prompt asks twice"; else bad "compress --passphrase-prompt asks twice"; fi
  check "the prompt says what it asks" grep -q "Passphrase again:" "$W/out"
  if prompt 'tty pw\n' "'$R' -q decompress -c corpus --passphrase-prompt tty.enc -o tty.out" && cmp -s new tty.out; then
    ok "decompress --passphrase-prompt"; else bad "decompress --passphrase-prompt"; fi
  if ! prompt 'one\ntwo\n' "'$R' -q compress -c corpus --passphrase-prompt new -o tty2.enc" && grep -q "passphrases differ" "$W/out" && [ ! -e tty2.enc ]; then
    ok "two different passphrases write nothing"; else bad "two different passphrases write nothing"; fi
  if prompt 'tty pw\ntty pw\n' "'$R' -q corpus build --passphrase-prompt -o tty-corpus ref" &&
     prompt 'tty pw\n' "'$R' -q compress -c tty-corpus --corpus-passphrase-prompt new -o tty3.rdc"; then
    ok "corpus build and compress --corpus-passphrase-prompt"; else bad "corpus build and compress --corpus-passphrase-prompt"; fi
fi
expect_fail "no terminal to ask" 2 "no terminal to ask for the passphrase" setsid "$R" compress -c corpus --passphrase-prompt new -o x

# A key path that is not a file says what it is, not "chmod 600 /dev/null".
mkdir keydir
for path in /dev/null keydir; do
  expect_fail "--encrypt-key $path" 2 "$path is (a character device|a directory), not a key file" \
    "$R" compress -c corpus --encrypt-key "$path" new -o x
  check "  does not advise chmod" bash -c "! grep -q chmod '$W/err'"
  expect_fail "--trusted-key $path" 2 "$path is (a character device|a directory), not a key file" \
    "$R" decompress -c corpus --trusted-key "$path" new.enc -o x
done

finish
