#!/usr/bin/env bash
# The parser as a user meets it (issue 17, item 3): unknown words are named with the
# valid ones and the nearest; `reducto help CMD` and -V work; parser messages carry the
# `reducto:` prefix and blame the right argument; help names values (FILE, DIR, SIZE,
# N); -q and -v are listed by every command; -v says where settings and corpus came from.
# usage: command_line_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1
"$GEN" --size $((1 << 20)) ref new
"$R" -q corpus build -o corpus ref

expect_exit "a mistyped command" 2 "^reducto: 'compres' is not a reducto command: did you mean compress\? The commands: analyze, audit, cache, chunk, compress, config, corpus, decompress, gc, key, list, report" \
  "$R" compres
expect_exit "a mistyped subcommand" 2 "^reducto: 'bild' is not a command of reducto corpus: did you mean build\? The commands: build, delete, fetch, info" \
  "$R" corpus bild
expect_exit "no suggestion for a word far from all" 2 "^reducto: 'xyzzy' is not a reducto command\. The commands:" \
  "$R" xyzzy
expect_exit "no command at all" 2 "^reducto: reducto needs a command: analyze, audit, cache, chunk, compress" "$R"
expect_exit "a group without its command" 2 "^reducto: reducto corpus needs a command: build, delete" "$R" corpus
expect_ok "-V prints the version" "$R" -V
check "  reducto and a version" grep -qE "^reducto [0-9]+\.[0-9]+\.[0-9]+$" "$W/out"
expect_ok "help compress" "$R" help compress
check "  prints compress's help" grep -q "^Usage: reducto compress \[OPTIONS\]" "$W/out"
expect_ok "help corpus build" "$R" help corpus build
check "  prints corpus build's help" grep -q "^Usage: reducto corpus build" "$W/out"
expect_exit "help of an unknown command" 2 "'compres' is not a reducto command: did you mean compress" \
  "$R" help compres
expect_exit "-19 is not an option" 2 "^reducto: -19 is not an option: to compress at zstd level 19, pass -l 19" \
  "$R" compress -19 -c corpus new -o x.rdc
check "  nothing written" [ ! -e x.rdc ]
expect_exit "-19 blamed even as the only argument" 2 "^reducto: -19 is not an option" "$R" compress -c corpus -19
expect_ok "a negative value of an option is not blamed" "$R" compress -c corpus new -o x.rdc -l 19
expect_exit "a mistyped option" 2 "^reducto: reducto compress has no option --levle: did you mean --level\?" \
  "$R" compress --levle 3 -c corpus new -o y.rdc
expect_exit "an unknown short option" 2 "^reducto: reducto compress has no option -x .*reducto help compress" \
  "$R" compress -x -c corpus new -o y.rdc
expect_exit "CLI11's own errors carry the prefix" 2 "^reducto: --output is required \(\`reducto help corpus build\` lists the options\)" \
  "$R" corpus build ref
expect_exit "  and name the command" 2 "^reducto: Could not convert: --max-counted-chunks.*reducto help corpus optimize" \
  "$R" corpus optimize --budget 1M -o opt --max-counted-chunks lots ref
expect_exit "a setting flag out of range names the flag and the range" 2 \
  "^reducto: invalid argument: --threads must be an integer 0\.\.256 \(0: one per core\), got '999'" \
  "$R" compress -T 999 -c corpus new -o y.rdc
expect_ok "flags after the input are still flags" "$R" compress -c corpus new -o z.rdc -f -q
check "  (quiet)" [ ! -s "$W/err" ]

"$R" help compress > help.txt
check "help names values: -c DIR" grep -qE "^  -c,--corpus DIR " help.txt
check "  -o FILE" grep -qE "^  -o,--output FILE " help.txt
check "  --block-size SIZE" grep -qE "^  --block-size SIZE " help.txt
check "  -T N (no INT:INT in [0 - 256])" grep -qE "^  -T,--threads N " help.txt
check "  no TEXT or INT anywhere" sh -c "! grep -qE 'TEXT|INT' help.txt"
check "  -q is listed" grep -qE "^  -q,--quiet " help.txt
check "  -v is listed" grep -qE "^  -v,--verbose " help.txt
"$R" help corpus build > help.txt
check "corpus build -o is a DIR" grep -qE "^  -o,--output DIR " help.txt
for c in chunk "corpus info" "corpus list" "corpus verify" "corpus prune" gc "key generate" decompress "audit show"; do
  "$R" help $c > help.txt
  check "help $c: no TEXT/INT, -q listed" sh -c "! grep -qE 'TEXT|INT' help.txt && grep -qE '^  -q,--quiet ' help.txt"
done

expect_ok "-v says where settings and corpus come from" env REDUCTO_CORPUS=corpus "$R" -v compress new -o v.rdc
check "  the settings' source" grep -q "^reducto: settings from built-in defaults" "$W/err"
check "  the corpus and where it came from" grep -q "^reducto: corpus corpus (from REDUCTO_CORPUS)" "$W/err"
check "  threads and level" grep -q "^reducto: profile default, level 3, block size 4.0 MiB, threads one per core" "$W/err"
expect_ok "decompress -v names the corpus" env REDUCTO_CORPUS=corpus "$R" decompress -v v.rdc -o v.out
check "  and where it came from" grep -q "^reducto: corpus corpus (from REDUCTO_CORPUS), threads" "$W/err"
expect_ok "without -v, none of it" "$R" compress -c corpus new -o v2.rdc
check "  (no detail lines)" sh -c "! grep -q '^reducto: settings' '$W/err'"
finish
