#!/usr/bin/env bash
# Inputs of compress and decompress: one reader of stdin per command, stdin on a
# terminal refused, an empty stdin noted, several inputs (a -> a.rdc and back), --rm
# and -k.
# usage: input_files_test.sh REDUCTO REDUCTO_GEN
set -u
R=$1; GEN=$2
source "$(dirname "$0")/test_lib.sh"

"$GEN" --size $((4 << 20)) "$W/ref" "$W/new"
C=$W/corpus
"$R" -q corpus build -o "$C" "$W/ref"
printf 'secret words\n' > "$W/pw"
# ok_if NAME CONDITION...: like check, for a condition given as a test expression.
ok_if() { local n=$1; shift; if [ "$@" ]; then ok "$n"; else bad "$n"; fi; }

# --- two readers of stdin are refused before anything is read ---
BOTH="would read standard input"
expect_exit "input and --passphrase-file both stdin" 2 \
  "both the input \(-\) and --passphrase-file \(-\) $BOTH" \
  sh -c "cat '$W/new' | '$R' -q compress --passphrase-file - -c '$C' > '$W/out.rdc'"
check "nothing was written to stdout" test ! -s "$W/out.rdc"
expect_exit "input and --passphrase-file /dev/stdin" 2 "--passphrase-file \(/dev/stdin\)" \
  sh -c "cat '$W/new' | '$R' -q compress --passphrase-file /dev/stdin -c '$C' -o '$W/x.rdc'"
expect_exit "input and --encrypt-key /dev/stdin" 2 "--encrypt-key \(/dev/stdin\)" \
  sh -c "cat '$W/new' | '$R' -q compress --encrypt-key /dev/stdin -c '$C' -o '$W/x.rdc'"
expect_exit "input and --corpus-passphrase-file -" 2 "--corpus-passphrase-file \(-\)" \
  sh -c "cat '$W/new' | '$R' -q compress --corpus-passphrase-file - -c '$C' -o '$W/x.rdc'"
expect_exit "two passphrase files on stdin, input a file" 2 \
  "both --passphrase-file \(-\) and --corpus-passphrase-file \(-\)" \
  sh -c "cat '$W/pw' | '$R' -q compress --passphrase-file - --corpus-passphrase-file - \
         -c '$C' '$W/new' -o '$W/x.rdc'"
check "no output was left" test ! -e "$W/x.rdc"
"$R" -q compress --passphrase-file "$W/pw" -c "$C" "$W/new" -o "$W/enc.rdc"
expect_exit "decompress: input and --passphrase-file both stdin" 2 \
  "both the input \(-\) and --passphrase-file \(-\)" \
  sh -c "cat '$W/enc.rdc' | '$R' -q decompress --passphrase-file - -c '$C' > '$W/out'"
expect_exit "decompress: input and --decrypt-key /dev/stdin" 2 "--decrypt-key \(/dev/stdin\)" \
  sh -c "cat '$W/enc.rdc' | '$R' -q decompress --decrypt-key /dev/stdin -c '$C' > '$W/out'"
expect_exit "corpus build: input and --passphrase-file both stdin" 2 \
  "both --passphrase-file \(-\) and the input \(-\)" \
  sh -c "cat '$W/ref' | '$R' -q corpus build --passphrase-file - -o '$W/c2' -"
check "corpus build left no corpus" test ! -e "$W/c2"
# One reader is fine: the passphrase on stdin, the input a file.
if cat "$W/pw" | "$R" -q compress --passphrase-file - -c "$C" "$W/new" -o "$W/pp.rdc" &&
   "$R" -q decompress --passphrase-file "$W/pw" -c "$C" "$W/pp.rdc" | cmp -s - "$W/new"; then
  ok "the passphrase alone on stdin works"; else bad "the passphrase alone on stdin works"; fi

# --- stdin on a terminal is refused; an empty stdin pipe gets a note ---
# on_tty CMD: runs CMD with a pseudo-terminal as stdin (script, from util-linux); its
# terminal output goes to $W/err, its exit status is returned.
on_tty() { timeout 20 script -qec "$1" /dev/null < /dev/null > "$W/err" 2>&1; }
on_tty "'$R' compress -c '$C' -o '$W/tty.rdc'"; rc=$?
ok_if "compress from a terminal is refused (exit $rc)" \
  $rc -eq 2 -a -n "$(grep "stdin is a terminal" "$W/err")"
check "and writes nothing" test ! -e "$W/tty.rdc"
on_tty "'$R' decompress -c '$C' -o '$W/tty.out'"; rc=$?
ok_if "decompress from a terminal is refused (exit $rc)" \
  $rc -eq 2 -a -n "$(grep "stdin is a terminal" "$W/err")"
on_tty "'$R' -q compress -c '$C' '$W/new' -o '$W/tty-file.rdc'"; rc=$?
ok_if "a file input on a terminal still works" $rc -eq 0 -a -s "$W/tty-file.rdc"
printf '' | "$R" compress -c "$C" > "$W/empty.rdc" 2>"$W/err"; rc=$?
ok_if "an empty stdin pipe gets a note (exit $rc)" \
  $rc -eq 0 -a -n "$(grep "note: stdin was empty" "$W/err")"
"$R" -q decompress -c "$C" "$W/empty.rdc" > "$W/empty.out"; rc=$?
ok_if "and its container holds an empty input" $rc -eq 0 -a ! -s "$W/empty.out"
: > "$W/empty"
"$R" compress -c "$C" "$W/empty" -o "$W/empty2.rdc" 2>"$W/err"
ok_if "an empty input file gets no note" -z "$(grep note "$W/err")"

# --- several inputs: a b c -> a.rdc b.rdc c.rdc, and back ---
M=$W/m; mkdir "$M"
cp "$W/new" "$M/a"; cp "$W/ref" "$M/b"; head -c 100000 "$W/new" > "$M/c"
for f in a b c; do cp "$M/$f" "$M/$f.orig"; done
expect_ok "compress a b c" "$R" -q compress -c "$C" "$M/a" "$M/b" "$M/c"
all=1
for f in a b c; do "$R" -q decompress -c "$C" "$M/$f.rdc" | cmp -s - "$M/$f" || all=0; done
ok_if "a.rdc, b.rdc, c.rdc hold a, b, c" $all -eq 1
rm "$M/a" "$M/b" "$M/c"
expect_ok "decompress a.rdc b.rdc c.rdc" "$R" -q decompress -c "$C" "$M/a.rdc" "$M/b.rdc" "$M/c.rdc"
all=1; for f in a b c; do cmp -s "$M/$f" "$M/$f.orig" || all=0; done
ok_if "decompress wrote a, b, c back" $all -eq 1
expect_exit "-o with several inputs" 2 "-o names one output, but 2 inputs" \
  "$R" -q compress -c "$C" "$M/a" "$M/b" -o "$M/x.rdc"
expect_exit "stdin among several inputs" 2 "standard input cannot be one of several inputs" \
  "$R" -q compress -c "$C" "$M/a" - < /dev/null

# A failure on one input is reported; the others are still processed.
rm -f "$M"/*.rdc
expect_exit "compress a missing b: exit 1" 1 "missing" \
  "$R" -q compress -c "$C" "$M/a" "$M/missing" "$M/b"
check "a.rdc and b.rdc were still written" test -s "$M/a.rdc" -a -s "$M/b.rdc"
expect_exit "compress a.rdc among several refuses that one" 2 "a.rdc: it already ends in .rdc" \
  "$R" -q compress -c "$C" "$M/a.rdc" "$M/c"
check "and still writes c.rdc" test -s "$M/c.rdc"
D=$W/d; mkdir "$D"
cp "$M/a.rdc" "$D/a.rdc"; cp "$M/b.rdc" "$D/b.bin"; cp "$M/c.rdc" "$D/c.rdc"
expect_exit "decompress a name without .rdc among several" 2 \
  "b.bin: the name does not end in .rdc" \
  "$R" -q decompress -c "$C" "$D/a.rdc" "$D/b.bin" "$D/c.rdc"
check "and still writes a and c" cmp -s "$D/a" "$M/a.orig"
check "c too" cmp -s "$D/c" "$M/c.orig"
expect_ok "decompress -o names the output of one input without .rdc" \
  "$R" -q decompress -c "$C" "$D/b.bin" -o "$D/b"
check "b restored" cmp -s "$D/b" "$M/b.orig"

# --- --rm removes inputs after success, -k keeps them (the default) ---
RM=$W/rm; mkdir "$RM"; cp "$M/a.orig" "$RM/a"; cp "$M/b.orig" "$RM/b"
expect_ok "compress -k a b" "$R" -q compress -k -c "$C" "$RM/a" "$RM/b"
check "-k keeps the inputs" test -e "$RM/a" -a -e "$RM/b"
rm "$RM/a.rdc"
expect_exit "compress --rm a b, where b.rdc exists" 2 "b.rdc already exists" \
  "$R" -q compress --rm -c "$C" "$RM/a" "$RM/b"
check "--rm removed a, whose a.rdc was written" test ! -e "$RM/a" -a -s "$RM/a.rdc"
check "--rm kept b, whose output failed" cmp -s "$RM/b" "$M/b.orig"
rm "$RM/b"
expect_ok "decompress --rm a.rdc b.rdc" "$R" -q decompress --rm -c "$C" "$RM/a.rdc" "$RM/b.rdc"
check "--rm left only the decompressed files" test "$(ls "$RM" | tr '\n' ' ')" = "a b "
check "which are the originals" cmp -s "$RM/a" "$M/a.orig"
expect_ok "compress --rm one input with -o" "$R" -q compress --rm -c "$C" "$RM/a" -o "$RM/one.rdc"
check "removed it" test ! -e "$RM/a" -a -s "$RM/one.rdc"
expect_exit "--rm with output to stdout" 2 "--rm removes an input file.*stdout" \
  sh -c "'$R' -q compress --rm -c '$C' '$RM/b' > '$RM/b.out'"
check "and keeps the input" test -e "$RM/b"
expect_exit "-k and --rm together" 2 "--rm excludes --keep|--keep excludes --rm" \
  "$R" -q compress -k --rm -c "$C" "$RM/b"

finish
