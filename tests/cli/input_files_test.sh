#!/usr/bin/env bash
# Inputs of compress and decompress: one reader of stdin per command, stdin on a
# terminal refused, an empty stdin noted, several inputs (a -> a.rdc and back), --rm
# and -k.
# usage: input_files_test.sh REDUCTO REDUCTO_GEN
set -u
R=$1; GEN=$2
source "$(dirname "$0")/test_lib.sh"

"$GEN" --size $((4 << 20)) "$W/ref" "$W/new"
"$R" -q corpus build -o "$W/corpus" "$W/ref"
printf 'secret words\n' > "$W/pw"
"$R" -q key generate --symmetric -o "$W/key"

# --- two readers of stdin are refused before anything is read ---
expect_exit "input and --passphrase-file both stdin" 2 "both the input \(-\) and --passphrase-file \(-\) would read standard input" \
  sh -c "cat '$W/new' | '$R' -q compress --passphrase-file - -c '$W/corpus' > '$W/out.rdc'"
check "nothing was written to stdout" test ! -s "$W/out.rdc"
expect_exit "input and --passphrase-file /dev/stdin" 2 "--passphrase-file \(/dev/stdin\)" \
  sh -c "cat '$W/new' | '$R' -q compress --passphrase-file /dev/stdin -c '$W/corpus' -o '$W/x.rdc'"
expect_exit "input and --encrypt-key /dev/stdin" 2 "--encrypt-key \(/dev/stdin\)" \
  sh -c "cat '$W/new' | '$R' -q compress --encrypt-key /dev/stdin -c '$W/corpus' -o '$W/x.rdc'"
expect_exit "input and --corpus-passphrase-file -" 2 "--corpus-passphrase-file \(-\)" \
  sh -c "cat '$W/new' | '$R' -q compress --corpus-passphrase-file - -c '$W/corpus' -o '$W/x.rdc'"
expect_exit "two passphrase files on stdin, input a file" 2 "both --passphrase-file \(-\) and --corpus-passphrase-file \(-\)" \
  sh -c "cat '$W/pw' | '$R' -q compress --passphrase-file - --corpus-passphrase-file - -c '$W/corpus' '$W/new' -o '$W/x.rdc'"
check "no output was left" test ! -e "$W/x.rdc"
"$R" -q compress --passphrase-file "$W/pw" -c "$W/corpus" "$W/new" -o "$W/enc.rdc"
expect_exit "decompress: input and --passphrase-file both stdin" 2 "both the input \(-\) and --passphrase-file \(-\)" \
  sh -c "cat '$W/enc.rdc' | '$R' -q decompress --passphrase-file - -c '$W/corpus' > '$W/out'"
expect_exit "decompress: input and --decrypt-key /dev/stdin" 2 "--decrypt-key \(/dev/stdin\)" \
  sh -c "cat '$W/enc.rdc' | '$R' -q decompress --decrypt-key /dev/stdin -c '$W/corpus' > '$W/out'"
expect_exit "corpus build: input and --passphrase-file both stdin" 2 "both --passphrase-file \(-\) and the input \(-\)" \
  sh -c "cat '$W/ref' | '$R' -q corpus build --passphrase-file - -o '$W/c2' -"
check "corpus build left no corpus" test ! -e "$W/c2"
# One reader is fine: the passphrase on stdin, the input a file.
if cat "$W/pw" | "$R" -q compress --passphrase-file - -c "$W/corpus" "$W/new" -o "$W/pp.rdc" \
   && "$R" -q decompress --passphrase-file "$W/pw" -c "$W/corpus" "$W/pp.rdc" | cmp -s - "$W/new"; then
  ok "the passphrase alone on stdin works"; else bad "the passphrase alone on stdin works"; fi

# --- stdin on a terminal is refused; an empty stdin pipe gets a note ---
# on_tty CMD: runs CMD with a pseudo-terminal as stdin (script from util-linux); its
# terminal output goes to $W/err, its exit status is returned.
on_tty() { timeout 20 script -qec "$1" /dev/null < /dev/null > "$W/err" 2>&1; }
on_tty "'$R' compress -c '$W/corpus' -o '$W/tty.rdc'"; rc=$?
if [ $rc -eq 2 ] && grep -q "stdin is a terminal" "$W/err"; then ok "compress from a terminal is refused"; else bad "compress from a terminal is refused (exit $rc)"; fi
check "and writes nothing" test ! -e "$W/tty.rdc"
on_tty "'$R' decompress -c '$W/corpus' -o '$W/tty.out'"; rc=$?
if [ $rc -eq 2 ] && grep -q "stdin is a terminal" "$W/err"; then ok "decompress from a terminal is refused"; else bad "decompress from a terminal is refused (exit $rc)"; fi
on_tty "'$R' -q compress -c '$W/corpus' '$W/new' -o '$W/tty-file.rdc'"; rc=$?
check "a file input on a terminal still works" test $rc -eq 0 -a -s "$W/tty-file.rdc"
printf '' | "$R" compress -c "$W/corpus" > "$W/empty.rdc" 2>"$W/err"; rc=$?
if [ $rc -eq 0 ] && grep -q "note: stdin was empty" "$W/err"; then ok "an empty stdin pipe gets a note"; else bad "an empty stdin pipe gets a note (exit $rc)"; fi
if "$R" -q decompress -c "$W/corpus" "$W/empty.rdc" > "$W/empty.out" && [ ! -s "$W/empty.out" ]; then
  ok "and its container holds an empty input"; else bad "and its container holds an empty input"; fi
: > "$W/empty"
"$R" compress -c "$W/corpus" "$W/empty" -o "$W/empty2.rdc" 2>"$W/err"
check "an empty input file gets no note" test -z "$(grep note "$W/err")"

# --- several inputs: a b c -> a.rdc b.rdc c.rdc, and back ---
mkdir "$W/m"; cp "$W/new" "$W/m/a"; cp "$W/ref" "$W/m/b"; head -c 100000 "$W/new" > "$W/m/c"
for f in a b c; do cp "$W/m/$f" "$W/m/$f.orig"; done
expect_ok "compress a b c" "$R" -q compress -c "$W/corpus" "$W/m/a" "$W/m/b" "$W/m/c"
all=1; for f in a b c; do "$R" -q decompress -c "$W/corpus" "$W/m/$f.rdc" | cmp -s - "$W/m/$f" || all=0; done
check "a.rdc, b.rdc, c.rdc hold a, b, c" test $all -eq 1
rm "$W/m/a" "$W/m/b" "$W/m/c"
expect_ok "decompress a.rdc b.rdc c.rdc" "$R" -q decompress -c "$W/corpus" "$W/m/a.rdc" "$W/m/b.rdc" "$W/m/c.rdc"
all=1; for f in a b c; do cmp -s "$W/m/$f" "$W/m/$f.orig" || all=0; done
check "decompress wrote a, b, c back" test $all -eq 1
expect_exit "-o with several inputs" 2 "-o names one output, but 2 inputs" \
  "$R" -q compress -c "$W/corpus" "$W/m/a" "$W/m/b" -o "$W/m/x.rdc"
expect_exit "stdin among several inputs" 2 "standard input cannot be one of several inputs" \
  "$R" -q compress -c "$W/corpus" "$W/m/a" - < /dev/null

# A failure on one input is reported; the others are still processed.
rm -f "$W/m"/*.rdc
expect_exit "compress a missing b: exit 1" 1 "missing" "$R" -q compress -c "$W/corpus" "$W/m/a" "$W/m/missing" "$W/m/b"
check "a.rdc and b.rdc were still written" test -s "$W/m/a.rdc" -a -s "$W/m/b.rdc"
expect_exit "compress a.rdc among several refuses that one" 2 "a.rdc: it already ends in .rdc" \
  "$R" -q compress -c "$W/corpus" "$W/m/a.rdc" "$W/m/c"
check "and still writes c.rdc" test -s "$W/m/c.rdc"
mkdir "$W/d"; cp "$W/m/a.rdc" "$W/d/a.rdc"; cp "$W/m/b.rdc" "$W/d/b.bin"; cp "$W/m/c.rdc" "$W/d/c.rdc"
expect_exit "decompress a name without .rdc among several" 2 "b.bin: the name does not end in .rdc" \
  "$R" -q decompress -c "$W/corpus" "$W/d/a.rdc" "$W/d/b.bin" "$W/d/c.rdc"
check "and still writes a and c" cmp -s "$W/d/a" "$W/m/a.orig"
check "c too" cmp -s "$W/d/c" "$W/m/c.orig"
expect_ok "decompress -o names the output of one input without .rdc" "$R" -q decompress -c "$W/corpus" "$W/d/b.bin" -o "$W/d/b"
check "b restored" cmp -s "$W/d/b" "$W/m/b.orig"

# --- --rm removes inputs after success, -k keeps them (the default) ---
mkdir "$W/rm"; cp "$W/m/a.orig" "$W/rm/a"; cp "$W/m/b.orig" "$W/rm/b"
expect_ok "compress -k a b" "$R" -q compress -k -c "$W/corpus" "$W/rm/a" "$W/rm/b"
check "-k keeps the inputs" test -e "$W/rm/a" -a -e "$W/rm/b"
rm "$W/rm/a.rdc"
expect_exit "compress --rm a b, where b.rdc exists" 2 "b.rdc already exists" \
  "$R" -q compress --rm -c "$W/corpus" "$W/rm/a" "$W/rm/b"
check "--rm removed a, whose a.rdc was written" test ! -e "$W/rm/a" -a -s "$W/rm/a.rdc"
check "--rm kept b, whose output failed" cmp -s "$W/rm/b" "$W/m/b.orig"
rm "$W/rm/b"
expect_ok "decompress --rm a.rdc b.rdc" "$R" -q decompress --rm -c "$W/corpus" "$W/rm/a.rdc" "$W/rm/b.rdc"
check "--rm left only the decompressed files" test "$(ls "$W/rm" | tr '\n' ' ')" = "a b "
check "which are the originals" cmp -s "$W/rm/a" "$W/m/a.orig"
expect_ok "compress --rm one input with -o" "$R" -q compress --rm -c "$W/corpus" "$W/rm/a" -o "$W/rm/one.rdc"
check "removed it" test ! -e "$W/rm/a" -a -s "$W/rm/one.rdc"
expect_exit "--rm with output to stdout" 2 "--rm removes an input file.*stdout" \
  sh -c "'$R' -q compress --rm -c '$W/corpus' '$W/rm/b' > '$W/rm/b.out'"
check "and keeps the input" test -e "$W/rm/b"
expect_exit "-k and --rm together" 2 "--rm excludes --keep|--keep excludes --rm" "$R" -q compress -k --rm -c "$W/corpus" "$W/rm/b"

finish
