#!/usr/bin/env bash
# Output files of compress and decompress: published without replacing a file that
# appeared during the run (two runs racing to one name, a file created meanwhile),
# nothing left behind by kill -9, never written over the input, and the input's
# permission bits and modification time kept.
# usage: output_files_test.sh REDUCTO REDUCTO_GEN
set -u
R=$1; GEN=$2
source "$(dirname "$0")/test_lib.sh"

"$GEN" --size $((4 << 20)) "$W/ref" "$W/new"
"$R" -q corpus build -o "$W/corpus" "$W/ref"
"$R" -q compress -c "$W/corpus" "$W/new" -o "$W/new.rdc"
mkdir "$W/fifo"

# wait_for_output PID DIR: waits until process PID holds a file in DIR open (its
# temporary output); so a test knows the run is past its "already exists" check.
wait_for_output() {
  for _ in $(seq 200); do
    ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $2/" && return 0
    sleep 0.05
  done
  echo "  (process $1 never opened an output in $2)"; return 1
}
# only_file NAME DIR FILE: DIR holds FILE and nothing else.
only_file() {
  if [ "$(ls -A "$2")" = "$3" ]; then ok "$1"; else bad "$1: $2 holds: $(ls -A "$2")"; fi
}
# restores NAME FILE: FILE is a container that decompresses to $W/new.
restores() {
  if "$R" -q decompress -c "$W/corpus" "$2" | cmp -s - "$W/new"; then ok "$1"; else bad "$1"; fi
}

# race DIR INPUT CMD...: runs CMD (reading stdin, writing into DIR) twice at once, each
# with its stdin on a FIFO held open until both have their output open, then feeds
# both INPUT. Sets rc_a and rc_b; the stderr of each is in $W/race-a.err, race-b.err.
race() {
  local dir=$1 input=$2; shift 2
  rm -f "$W/fifo/a" "$W/fifo/b"; mkfifo "$W/fifo/a" "$W/fifo/b"
  "$@" < "$W/fifo/a" 2>"$W/race-a.err" & local pa=$!
  exec 7>"$W/fifo/a"
  "$@" < "$W/fifo/b" 2>"$W/race-b.err" & local pb=$!
  exec 8>"$W/fifo/b"
  wait_for_output $pa "$dir"; wait_for_output $pb "$dir"
  cat "$input" >&7; exec 7>&-
  cat "$input" >&8; exec 8>&-
  wait $pa; rc_a=$?; wait $pb; rc_b=$?
}
# one_won NAME: exactly one of the racing runs succeeded, and the other failed (exit 1)
# saying that the output appeared meanwhile.
one_won() {
  local loser_rc loser_err
  if [ "$rc_a" -eq 0 ]; then loser_rc=$rc_b; loser_err=$W/race-b.err
  else loser_rc=$rc_a; loser_err=$W/race-a.err; fi
  if [ $((rc_a == 0)) -ne $((rc_b == 0)) ] && [ "$loser_rc" -eq 1 ] &&
     grep -q "appeared while this command ran" "$loser_err"; then
    ok "$1"
  else
    bad "$1 (exits $rc_a and $rc_b)"; sed 's/^/  stderr: /' "$W"/race-?.err | head -4
  fi
}

# --- two runs to one name without -f: one wins, the other fails, nothing is lost ---
mkdir "$W/race1"
race "$W/race1" "$W/new.rdc" "$R" -q decompress -c "$W/corpus" -o "$W/race1/out"
one_won "two decompress -o same: exactly one succeeds"
only_file "the racing decompress left one file" "$W/race1" out
check "the surviving output is complete and correct" cmp -s "$W/race1/out" "$W/new"

mkdir "$W/race2"
race "$W/race2" "$W/new" "$R" -q compress -c "$W/corpus" -o "$W/race2/out.rdc"
one_won "two compress -o same: exactly one succeeds"
only_file "the racing compress left one file" "$W/race2" out.rdc
restores "the surviving container is complete and correct" "$W/race2/out.rdc"

# --- a file created at the output path during the run is left as it is ---
# created_meanwhile DIR CMD...: runs CMD with stdin from a FIFO, creates DIR/out
# once CMD is running, then feeds it $W/new.rdc; sets rc.
created_meanwhile() {
  local dir=$1; shift
  rm -f "$W/fifo/a"; mkfifo "$W/fifo/a"
  "$@" < "$W/fifo/a" 2>"$W/err" & local p=$!
  exec 7>"$W/fifo/a"
  wait_for_output $p "$dir"
  echo "precious" > "$dir/out"
  cat "$W/new.rdc" >&7; exec 7>&-
  wait $p; rc=$?
}
mkdir "$W/meanwhile"
created_meanwhile "$W/meanwhile" "$R" -q decompress -c "$W/corpus" -o "$W/meanwhile/out"
if [ $rc -eq 1 ] && grep -q "appeared while this command ran.*pass -f" "$W/err"; then
  ok "a file created during the run fails it (exit 1, says so)"
else
  bad "a file created during the run fails it (exit $rc)"
fi
check "the file created meanwhile is untouched" test "$(cat "$W/meanwhile/out")" = "precious"
only_file "and nothing else is left" "$W/meanwhile" out
rm "$W/meanwhile/out"
created_meanwhile "$W/meanwhile" "$R" -q decompress -f -c "$W/corpus" -o "$W/meanwhile/out"
if [ $rc -eq 0 ] && cmp -s "$W/meanwhile/out" "$W/new"; then
  ok "with -f the file created meanwhile is replaced"
else
  bad "with -f the file created meanwhile is replaced (exit $rc)"
fi
only_file "with -f nothing else is left" "$W/meanwhile" out

# --- kill -9 mid-run leaves no file in the output directory ---
# killed DIR DATA CMD...: runs CMD with stdin from a FIFO held open, feeds it the first
# 100000 bytes of DATA, and kills it with SIGKILL while it waits for the rest.
killed() {
  local dir=$1 data=$2; shift 2
  rm -f "$W/fifo/a"; mkfifo "$W/fifo/a"
  "$@" < "$W/fifo/a" 2>/dev/null & local p=$!
  exec 7>"$W/fifo/a"
  head -c 100000 "$data" >&7
  wait_for_output $p "$dir" || bad "$* opened its output"
  kill -9 $p; wait $p 2>/dev/null; exec 7>&-
}
no_leftovers() { only_file "$1" "$2" ""; }
mkdir "$W/k9"
killed "$W/k9" "$W/new" "$R" -q compress -c "$W/corpus" -o "$W/k9/out.rdc"
no_leftovers "kill -9 during compress -o leaves nothing" "$W/k9"
killed "$W/k9" "$W/new" "$R" -q compress -f -c "$W/corpus" -o "$W/k9/out.rdc"
no_leftovers "kill -9 during compress -f -o leaves nothing" "$W/k9"
killed "$W/k9" "$W/new.rdc" "$R" -q decompress -c "$W/corpus" -o "$W/k9/out"
no_leftovers "kill -9 during decompress -o leaves nothing" "$W/k9"

# --- -f never writes over the input ---
cp "$W/new" "$W/victim"; cp "$W/new.rdc" "$W/victim.rdc"
expect_exit "compress -f -o INPUT INPUT is refused" 2 "victim is the input file itself" \
  "$R" -q compress -f -c "$W/corpus" -o "$W/victim" "$W/victim"
check "the input survived compress -f -o INPUT" cmp -s "$W/victim" "$W/new"
ln "$W/victim" "$W/victim-link"
expect_exit "compress -f onto a hard link of the input is refused" 2 "input file itself" \
  "$R" -q compress -f -c "$W/corpus" -o "$W/victim-link" "$W/victim"
check "the input survived compress -f onto its hard link" cmp -s "$W/victim" "$W/new"
expect_exit "decompress -f -o INPUT INPUT is refused" 2 "victim.rdc is the input file itself" \
  "$R" -q decompress -f -c "$W/corpus" -o "$W/victim.rdc" "$W/victim.rdc"
expect_exit "decompress -f -o INPUT < INPUT is refused" 2 "input file itself" \
  sh -c "'$R' -q decompress -f -c '$W/corpus' -o '$W/victim.rdc' < '$W/victim.rdc'"
check "the container survived decompress -f -o INPUT" cmp -s "$W/victim.rdc" "$W/new.rdc"

# --- outputs take the input's permission bits and modification time ---
MD=$W/meta; mkdir "$MD"
cp "$W/new" "$MD/dump"; chmod 600 "$MD/dump"; touch -d '2001-02-03 04:05:06.5' "$MD/dump"
# same_attrs NAME FILE: FILE has the permission bits and mtime of $MD/dump.
same_attrs() {
  local got want; got=$(stat -c '%a %y' "$2"); want=$(stat -c '%a %y' "$MD/dump")
  if [ "$got" = "$want" ]; then ok "$1"; else bad "$1 (got $got, wanted $want)"; fi
}
"$R" -q compress -c "$W/corpus" "$MD/dump" -o "$MD/dump.rdc"
same_attrs "compress keeps mode 600 and the mtime" "$MD/dump.rdc"
"$R" -q decompress -c "$W/corpus" "$MD/dump.rdc" -o "$MD/dump.out"
same_attrs "decompress gives back mode 600 and the mtime" "$MD/dump.out"
chmod 640 "$MD/dump"
printf 'pw\n' > "$W/pw"
"$R" -q compress -f --passphrase-file "$W/pw" -c "$W/corpus" "$MD/dump" -o "$MD/dump.rdc"
same_attrs "an encrypted container (written with -f) keeps mode 640 and the mtime" "$MD/dump.rdc"
"$R" -q compress -c "$W/corpus" -o "$MD/stdin.rdc" < "$MD/dump"
check "from stdin the output is 0644" test "$(stat -c %a "$MD/stdin.rdc")" = 644

finish
