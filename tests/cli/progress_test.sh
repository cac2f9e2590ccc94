#!/usr/bin/env bash
# Progress of compress, decompress and corpus build: a line with bytes done, rate and time
# left on a terminal (run under a pseudo-terminal with util-linux `script`), nothing in a
# pipe or with -q, and the same container either way.
# usage: progress_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"

cd "$W" || exit 1
# Enough data that a run outlasts the first redraw (a quarter of a second), even on a
# fast machine: a max-profile run over 48 MiB, on one thread.
"$GEN" --size 50000000 ref new >/dev/null
# on_tty OUT CMD: runs CMD with stdin, stdout and stderr on a pseudo-terminal; what the
# terminal showed goes to OUT.raw, and to OUT with carriage returns turned into newlines
# and the erase-line sequences dropped.
on_tty() {
  local out=$1; shift
  script -qec "$*" /dev/null >"$out.raw"
  tr '\r' '\n' <"$out.raw" | sed 's/\x1b\[K//g' >"$out"
}

on_tty build.txt "$R" corpus build -o corpus ref
check "corpus build on a terminal shows progress" \
  grep -qE '^corpus: [0-9.]+ [KMG]iB of [0-9.]+ MiB \([0-9]+%\), [0-9.]+ [KMG]?i?B/s' build.txt
check "  then the summary line" grep -q '^corpus .* built at corpus' build.txt
expect_ok "corpus build into a pipe" "$R" corpus build -o corpus2 ref
check "  shows no progress" bash -c "! grep -qE ' of .*left|/s' '$W/err'"

on_tty tty.txt "$R" compress --profile max -T1 -c corpus new -o tty.rdc
check "compress on a terminal shows progress with size, share and time left" \
  grep -qE '^new: [0-9.]+ [KMG]iB of [0-9.]+ MiB \([0-9]+%\), [0-9.]+ [KMG]?i?B/s, [0-9:]+ left' \
  tty.txt
check "  then the summary line" grep -q '^new: .* -> .*copied.* from corpus' tty.txt
check "  the progress line was erased before it" grep -q $'\r\e\\[Knew: .* -> ' tty.txt.raw

expect_ok "compress into a pipe" "$R" compress --profile max -T1 -c corpus new -o pipe.rdc
check "  shows no progress" bash -c "! grep -qE ' of .*left|/s' '$W/err'"
check "  same container as on the terminal" cmp -s tty.rdc pipe.rdc

on_tty quiet.txt "$R" -q compress --profile max -T1 -c corpus new -o quiet.rdc
check "compress -q on a terminal shows nothing" bash -c "! grep -q '[a-z]' quiet.txt"
check "  and writes the same container" cmp -s tty.rdc quiet.rdc

on_tty dtty.txt "$R" decompress -T1 -c corpus tty.rdc -o restored
check "decompress on a terminal shows the summary" grep -q '^tty.rdc: .* blocks verified' dtty.txt
check "  and restores the input" cmp -s new restored
# A container that arrives slowly (a network): progress shows while it waits.
on_tty slow.txt "{ head -c 150000 tty.rdc; sleep 1; tail -c +150001 tty.rdc; } |" \
  "$R" decompress -T1 -c corpus -o restored3
check "decompress of a slow stdin shows progress" grep -qE '^stdin: [0-9.]+ KiB, ' slow.txt
check "  and restores the input" cmp -s new restored3
expect_ok "decompress into a pipe" "$R" decompress -c corpus tty.rdc -o restored2
check "  shows no progress" bash -c "! grep -qE ' of .*left|/s' '$W/err'"
# Progress of stdin, whose size is unknown when it is a pipe: bytes and rate only.
on_tty stdin.txt "cat new | $R compress --profile max -T1 -c corpus -o stdin.rdc"
check "compress of a piped stdin shows bytes and rate" \
  grep -qE '^stdin: [0-9.]+ [KMG]iB, [0-9.]+ [KMG]?i?B/s' stdin.txt
check "  same container" cmp -s tty.rdc stdin.rdc
finish
