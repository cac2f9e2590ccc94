#!/usr/bin/env bash
# A corpus that cannot be found (issue 17, item 2): an error by default, naming the path
# looked for and where it came from; a standalone container only when asked for
# (--fallback standalone, `fallback` in the config, REDUCTO_FALLBACK), said on stderr and
# in the audit log.
# usage: fallback_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1
LOG=$W/state/reducto/audit.log
"$GEN" --size $((1 << 20)) ref new
"$R" -q corpus build -o corpus ref

expect_exit "a mistyped -c is an error" 1 "corpus nope not found: no such directory \(looked for $W/nope\)" \
  "$R" compress -c nope new -o x.rdc
check "  and writes nothing" [ ! -e x.rdc ]
check "  the audit log records the failure" grep -q '"outcome":"failed: not found: corpus nope' "$LOG"
expect_exit "--no-fallback is still accepted" 1 "corpus nope not found" \
  "$R" compress --no-fallback -c nope new -o x.rdc
expect_exit "a corpus from REDUCTO_CORPUS says so" 1 "the corpus directory of REDUCTO_CORPUS: corpus gone not found" \
  env REDUCTO_CORPUS=gone "$R" compress new -o x.rdc
mkdir -p xdg/reducto; printf 'corpus = "%s/gone"\n' "$W" > xdg/reducto/config.toml
expect_exit "a corpus from the config file says so" 1 "the corpus directory of \`corpus\` in .*config.toml" \
  "$R" compress new -o x.rdc
rm xdg/reducto/config.toml
check "  nothing written" [ ! -e x.rdc ]

expect_exit "--fallback standalone writes a standalone container" 0 \
  "warning: corpus nope \(from -c\) not found: wrote a standalone container" \
  "$R" compress --fallback standalone -c nope new -o x.rdc
check "  which decompresses without a corpus" sh -c "'$R' -q decompress x.rdc | cmp -s - new"
check "  the audit log says it fell back" \
  grep -q '"outcome":"ok: fell back to a standalone container: corpus nope (from -c) not found' "$LOG"
expect_ok "  audit show --outcome ok lists it" "$R" audit show --outcome ok --operation compress
check "  (one entry)" [ "$(wc -l < "$W/out")" -eq 1 ]
rm x.rdc
expect_exit "REDUCTO_FALLBACK=standalone" 0 "corpus nope \(from -c\) not found: wrote a standalone" \
  env REDUCTO_FALLBACK=standalone "$R" compress -c nope new -o x.rdc
rm -f x.rdc
printf 'fallback = "standalone"\n' > xdg/reducto/config.toml
expect_exit "fallback = \"standalone\" in the config" 0 "not found: wrote a standalone container" \
  "$R" compress -c nope new -o x.rdc
expect_exit "  --fallback error overrides it" 1 "corpus nope not found" \
  "$R" compress --fallback error -c nope new -o y.rdc
expect_exit "  so does --no-fallback" 1 "corpus nope not found" \
  "$R" compress --no-fallback -c nope new -o y.rdc
rm xdg/reducto/config.toml
expect_exit "REDUCTO_FALLBACK=maybe is refused" 2 "REDUCTO_FALLBACK must be \"error\"" \
  env REDUCTO_FALLBACK=maybe "$R" compress -c corpus new -o y.rdc
expect_exit "--fallback maybe is refused" 2 "fallback" \
  "$R" compress --fallback maybe -c corpus new -o y.rdc
expect_ok "a corpus that exists is used whatever the fallback" \
  "$R" compress --fallback standalone -c corpus new -o y.rdc
check "  (copied from it)" grep -q "copied.* from corpus" "$W/err"
finish
