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

finish
