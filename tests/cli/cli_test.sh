#!/usr/bin/env bash
# End-to-end tests of the reducto command line, run as a user would run it.
# usage: cli_test.sh REDUCTO REDUCTO_GEN
set -u
R=$1; GEN=$2
SHARED=$(cd "$(dirname "$0")/../../../shared" 2>/dev/null && pwd)
source "$(dirname "$0")/test_lib.sh"

# expect_fail NAME PATTERN CMD...: the command exits non-zero and stderr matches PATTERN.
expect_fail() {
  local n=$1 pat=$2; shift 2
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qiE "$pat" "$W/err"; then ok "$n"; else bad "$n (exit $rc)"; fi
}
# no_leftovers NAME DIR: no output or temporary file was left in DIR.
no_leftovers() { if [ -z "$(ls -A "$2")" ]; then ok "$1"; else bad "$1: left $(ls -A "$2")"; fi; }

"$GEN" --size $((8 << 20)) "$W/ref" "$W/new"
head -c 3000000 /dev/urandom > "$W/random"

# --- round trips ---
expect_ok "corpus build" "$R" -q corpus build -o "$W/corpus" "$W/ref"
expect_ok "compress file to file" "$R" -q compress -c "$W/corpus" "$W/new" -o "$W/new.rdc"
expect_ok "decompress file to file" "$R" -q decompress -c "$W/corpus" "$W/new.rdc" -o "$W/new.out"
if cmp -s "$W/new" "$W/new.out"; then ok "round trip is byte-identical"; else bad "round trip is byte-identical"; fi
n=$(stat -c%s "$W/new"); c=$(stat -c%s "$W/new.rdc"); z=$(zstd -q -3 -c "$W/new" | wc -c)
if [ "$c" -lt "$z" ]; then ok "beats zstd -3 on the generated pair ($c < $z bytes)"; else bad "beats zstd -3 ($c >= $z)"; fi

if cat "$W/new" | "$R" -q compress -c "$W/corpus" | "$R" -q decompress -c "$W/corpus" | cmp -s - "$W/new"; then
  ok "stdin to stdout pipeline"; else bad "stdin to stdout pipeline"; fi
for p in fast default max; do
  if "$R" -q compress --profile $p -c "$W/corpus" "$W/new" -o "$W/new-$p.rdc" && "$R" -q decompress -c "$W/corpus" "$W/new-$p.rdc" | cmp -s - "$W/new"; then
    ok "profile $p round trip"; else bad "profile $p round trip"; fi
done
f=$(stat -c%s "$W/new-fast.rdc"); d=$(stat -c%s "$W/new-default.rdc"); m=$(stat -c%s "$W/new-max.rdc")
if [ "$d" -lt "$f" ] && [ "$m" -le "$d" ]; then ok "max <= default < fast ($m, $d, $f bytes)"; else bad "max <= default < fast ($m, $d, $f bytes)"; fi
# The zstd level in the header (byte 12): the profile's default unless a flag, the
# environment or the config gives one.
header_level() { od -An -tu1 -j12 -N1 "$1" | tr -d ' '; }
printf 'level = 4\n' > "$W/level.toml"
"$R" -q compress --profile max -c "$W/corpus" "$W/new" -o "$W/lv-max.rdc"
"$R" -q compress --profile max --level 3 -c "$W/corpus" "$W/new" -o "$W/lv-max3.rdc"
REDUCTO_LEVEL=5 "$R" -q compress --profile max -c "$W/corpus" "$W/new" -o "$W/lv-env.rdc"
"$R" -q --config "$W/level.toml" compress --profile max -c "$W/corpus" "$W/new" -o "$W/lv-config.rdc"
got="$(header_level "$W/new-default.rdc") $(header_level "$W/lv-max.rdc") $(header_level "$W/lv-max3.rdc") $(header_level "$W/lv-env.rdc") $(header_level "$W/lv-config.rdc")"
if [ "$got" = "3 9 3 5 4" ]; then ok "levels: default 3, max 9, --level, REDUCTO_LEVEL and config override"
else bad "levels: default 3, max 9, --level, REDUCTO_LEVEL and config override (got $got)"; fi
if "$R" compress --profile max -c "$W/corpus" "$W/new" -o "$W/new-max2.rdc" 2>&1 | grep -qE "copied (and [0-9.]+% delta-encoded )?from corpus"; then
  ok "compress summary"; else bad "compress summary"; fi
: > "$W/empty"
if "$R" -q compress -c "$W/corpus" "$W/empty" | "$R" -q decompress -c "$W/corpus" > "$W/empty.out" && [ ! -s "$W/empty.out" ]; then
  ok "empty input round-trips"; else bad "empty input round-trips"; fi
if "$R" -q compress --standalone "$W/random" -o "$W/s.rdc" && "$R" -q decompress "$W/s.rdc" -o "$W/s.out" && cmp -s "$W/random" "$W/s.out"; then
  ok "standalone round trip needs no corpus"; else bad "standalone round trip"; fi
mkdir -p "$W/dir/sub"; cp "$W/random" "$W/dir/b"; cp "$W/ref" "$W/dir/sub/a"
expect_ok "corpus build from a directory" "$R" -q corpus build -o "$W/corpus-dir" "$W/dir"
if cat "$W/ref" | "$R" -q corpus build -o "$W/corpus-stdin" - && "$R" corpus info --json "$W/corpus-stdin" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["id"]' ; then
  ok "corpus build from stdin, info --json"; else bad "corpus build from stdin, info --json"; fi
if "$R" corpus info "$W/corpus" | grep -q "$("$R" corpus info --json "$W/corpus" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"; then
  ok "corpus info prints the id"; else bad "corpus info prints the id"; fi

# --- threads: the same container and output for any count ---
same=1
for p in fast default max; do
  for t in 1 2 3; do
    "$R" -q compress --profile $p -T $t --block-size 64K -c "$W/corpus" "$W/new" -o "$W/t$t.rdc" -f || same=0
  done
  cmp -s "$W/t1.rdc" "$W/t2.rdc" && cmp -s "$W/t1.rdc" "$W/t3.rdc" || same=0
  for t in 1 4; do "$R" -q decompress -T $t -c "$W/corpus" "$W/t2.rdc" | cmp -s - "$W/new" || same=0; done
done
if [ $same -eq 1 ]; then ok "containers byte-identical for 1, 2, 3 threads (every profile)"; else bad "containers byte-identical across thread counts"; fi
expect_fail "compress -T -1" "threads|-T" "$R" compress -T -1 -c "$W/corpus" "$W/new" -o "$W/x.rdc"
expect_fail "REDUCTO_THREADS=lots" "REDUCTO_THREADS" env REDUCTO_THREADS=lots "$R" compress -c "$W/corpus" "$W/new" -o "$W/x.rdc"
printf 'threads = -2\n' > "$W/threads.toml"
expect_fail "config threads = -2" "threads must be" "$R" --config "$W/threads.toml" compress -c "$W/corpus" "$W/new" -o "$W/x.rdc"
if "$R" -q decompress -c "$W/corpus" "$W/new.rdc" -o /dev/null && [ -c /dev/null ]; then
  ok "decompress -o /dev/null writes to the device"; else bad "decompress -o /dev/null"; fi

# --- --max-output: a container that would produce more is refused, nothing written ---
n_new=$(stat -c%s "$W/new")
expect_ok "decompress --max-output at the exact size" "$R" -q decompress --max-output "$n_new" -c "$W/corpus" "$W/new.rdc" -o "$W/limit.out"
mkdir -p "$W/limited"
expect_fail "decompress --max-output 1M refuses a larger output" "output limit.*--max-output" \
  "$R" -q decompress --max-output 1M -c "$W/corpus" "$W/new.rdc" -o "$W/limited/out"
no_leftovers "a refused decompress leaves no output" "$W/limited"
printf 'max_output = "1M"\n' > "$W/max_output.toml"
expect_fail "config max_output" "output limit" "$R" -q --config "$W/max_output.toml" decompress -c "$W/corpus" "$W/new.rdc" -o "$W/limited/out"
expect_fail "REDUCTO_MAX_OUTPUT" "output limit" env REDUCTO_MAX_OUTPUT=1M "$R" -q decompress -c "$W/corpus" "$W/new.rdc" -o "$W/limited/out"
expect_ok "--max-output overrides the config" "$R" -q --config "$W/max_output.toml" decompress --max-output 64M -c "$W/corpus" "$W/new.rdc" -o "$W/limited/out"
expect_fail "--max-output rejects a bad size" "max-output.*is not a size" "$R" -q decompress --max-output 1X -c "$W/corpus" "$W/new.rdc" -o "$W/x.out"

# --- chunk: known-answer vectors through the CLI ---
if [ -f "$SHARED/testdata/SekienAkashita.jpg" ]; then
  got=$("$R" chunk --min 4096 --avg 16384 --max 65535 "$SHARED/testdata/SekienAkashita.jpg" | cut -f1,2 | tr '\t\n' ', ')
  if [ "$got" = "0,21325 21325,17140 38465,28084 66549,18217 84766,24700 " ]; then ok "chunk reproduces the FastCDC vectors"; else bad "chunk vectors: $got"; fi
  if "$R" chunk --json --min 4096 --avg 16384 --max 65535 "$SHARED/testdata/SekienAkashita.jpg" | head -1 | grep -q '"blake3":"261930e84e14c240210ae8c459acc4bb85dd52f1b91c868f2106dbc1ceb3acca"'; then
    ok "chunk --json with BLAKE3"; else bad "chunk --json with BLAKE3"; fi
fi
expect_fail "chunk rejects min below 64" "64 <= min" "$R" chunk --min 32 --avg 128 --max 256 "$W/random"
expect_fail "chunk rejects max above 16 MiB" "16777216|16M" "$R" chunk --min 4K --avg 8M --max 32M "$W/random"
expect_fail "chunk rejects min >= avg" "min < avg" "$R" chunk --min 8K --avg 8K --max 16K "$W/random"
expect_fail "chunk rejects normalization 4" "normali" "$R" chunk --normalization 4 "$W/random"
expect_fail "chunk rejects a negative size" "is not a size" "$R" chunk --avg -8K "$W/random"
expect_fail "chunk rejects a fractional size" "is not a size" "$R" chunk --avg 1.5K "$W/random"
[ "$("$R" chunk --avg 8KiB "$W/random" | md5sum)" = "$("$R" chunk --avg 8192 "$W/random" | md5sum)" ] \
  && ok "8KiB and 8192 are the same size" || bad "8KiB and 8192 are the same size"
expect_fail "chunk of a missing file" "not.*found|no such" "$R" chunk "$W/missing"

# --- configuration precedence: flag over environment over file ---
mkdir -p "$W/xdg/reducto"; printf '[chunking]\navg = "4K"\n' > "$W/xdg/reducto/config.toml"
a=$("$R" chunk --avg 4K "$W/random" | md5sum); b=$("$R" chunk --avg 16K "$W/random" | md5sum); c=$("$R" chunk --avg 32K "$W/random" | md5sum)
[ "$("$R" chunk "$W/random" | md5sum)" = "$a" ] && ok "config file sets the average" || bad "config file sets the average"
[ "$(REDUCTO_AVG_SIZE=16K "$R" chunk "$W/random" | md5sum)" = "$b" ] && ok "environment overrides the file" || bad "environment overrides the file"
[ "$(REDUCTO_AVG_SIZE=16K "$R" chunk --avg 32K "$W/random" | md5sum)" = "$c" ] && ok "flag overrides the environment" || bad "flag overrides the environment"
printf 'levle = 3\n' > "$W/bad.toml"
expect_fail "unknown config key" "unknown key 'levle'" "$R" --config "$W/bad.toml" chunk "$W/random"
expect_fail "missing --config file" "not found" "$R" --config "$W/nope.toml" chunk "$W/random"
rm -rf "$W/xdg/reducto"

# --- bad arguments ---
expect_fail "no subcommand" "needs a command" "$R"
expect_fail "unknown subcommand" "not a reducto command" "$R" frobnicate
expect_fail "compress without a corpus" "needs a corpus" "$R" compress "$W/new"
expect_fail "compress level 23" "level" "$R" compress -c "$W/corpus" --level 23 "$W/new" -o "$W/x.rdc"
expect_fail "compress unknown profile" "unknown profile 'fastest'.*fast, default or max" "$R" compress -c "$W/corpus" --profile fastest "$W/new" -o "$W/x.rdc"
expect_fail "corpus build avg below 4K" "4 ?KiB|4096" "$R" corpus build --avg 2K -o "$W/c2" "$W/ref"
expect_fail "corpus build missing input" "not found|no such" "$R" corpus build -o "$W/c3" "$W/missing"
[ ! -e "$W/c3" ] && ok "failed build leaves no corpus" || bad "failed build leaves no corpus"
expect_fail "corpus build over an existing corpus" "exists" "$R" corpus build -o "$W/corpus" "$W/ref"
expect_fail "corpus info of a missing dir" "not found" "$R" corpus info "$W/missing"
expect_fail "corpus info of a non-corpus dir" "not a Reducto corpus" "$R" corpus info "$W/dir"
expect_fail "output exists without -f" "exists" "$R" compress -c "$W/corpus" "$W/new" -o "$W/new.rdc"
expect_fail "output is a directory" "not a regular file" "$R" compress -c "$W/corpus" "$W/new" -o "$W/dir" -f
expect_fail "input is a directory" "directory" "$R" compress -c "$W/corpus" "$W/dir" -o "$W/x.rdc"

# --- missing, wrong and corrupt corpora ---
mkdir "$W/o1"
if "$R" compress --fallback standalone -c "$W/nowhere" "$W/new" -o "$W/o1/fb.rdc" 2>"$W/err" && grep -q "standalone" "$W/err" \
   && "$R" -q decompress "$W/o1/fb.rdc" | cmp -s - "$W/new"; then ok "missing corpus falls back to standalone when asked"; else bad "missing corpus falls back"; fi
rm -f "$W/o1/fb.rdc"
expect_fail "--no-fallback with a missing corpus" "not found" "$R" compress --no-fallback -c "$W/nowhere" "$W/new" -o "$W/o1/x.rdc"
no_leftovers "--no-fallback leaves no output" "$W/o1"
expect_fail "a directory that is not a corpus" "not a Reducto corpus" "$R" compress -c "$W/dir" "$W/new" -o "$W/o1/x.rdc"
no_leftovers "non-corpus leaves no output" "$W/o1"
expect_fail "decompress with the wrong corpus" "corpus" "$R" decompress -c "$W/corpus-dir" "$W/new.rdc" -o "$W/o1/x"
no_leftovers "wrong corpus leaves no output" "$W/o1"
expect_fail "decompress without the needed corpus" "needs corpus|-c" "$R" decompress "$W/new.rdc" -o "$W/o1/x"
cp -r "$W/corpus" "$W/corpus-bad"; seg=$(find "$W/corpus-bad/pack" -type f | head -1); truncate -s -1 "$seg"
expect_fail "truncated pack segment" "segment|damaged|corrupt" "$R" decompress -c "$W/corpus-bad" "$W/new.rdc" -o "$W/o1/x"
no_leftovers "damaged corpus leaves no output" "$W/o1"

# --- damaged containers: every failure exits non-zero and leaves nothing ---
size=$(stat -c%s "$W/new.rdc")
for cut in 0 1 20 100 $((size / 2)) $((size - 41)) $((size - 1)); do
  head -c "$cut" "$W/new.rdc" > "$W/trunc.rdc"
  expect_fail "truncated container at $cut bytes" "truncated|not a Reducto|corrupt|integrity" "$R" decompress -c "$W/corpus" "$W/trunc.rdc" -o "$W/o1/x"
done
no_leftovers "truncated containers leave no output" "$W/o1"
flip() { python3 - "$1" "$2" "$3" <<'PY'
import sys
src, dst, pos = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, 'rb').read()); b[pos] ^= 0x10; open(dst, 'wb').write(b)
PY
}
for pos in 0 9 12 30 60 90 $((size / 3)) $((size / 2)) $((size - 40)) $((size - 20)) $((size - 3)); do
  flip "$W/new.rdc" "$W/flip.rdc" "$pos"
  expect_fail "flipped bit at byte $pos" "corrupt|integrity|not a Reducto|mismatch|truncated|version|corpus" "$R" decompress -c "$W/corpus" "$W/flip.rdc" -o "$W/o1/x"
done
no_leftovers "damaged containers leave no output" "$W/o1"
cat "$W/new.rdc" <(echo garbage) > "$W/trail.rdc"
expect_fail "trailing garbage" "trailing|corrupt" "$R" decompress -c "$W/corpus" "$W/trail.rdc" -o "$W/o1/x"
expect_fail "not a container" "not a Reducto container" "$R" decompress -c "$W/corpus" "$W/ref" -o "$W/o1/x"
no_leftovers "bad containers leave no output" "$W/o1"

# --- full disks ---
expect_fail "decompress to /dev/full" "space|write" sh -c "'$R' -q decompress -c '$W/corpus' '$W/new.rdc' > /dev/full"
expect_fail "compress to /dev/full" "space|write" sh -c "'$R' -q compress -c '$W/corpus' '$W/new' > /dev/full"
mkdir -p "$W/tiny"
if mount -t tmpfs -o size=1m tmpfs "$W/tiny" 2>/dev/null; then
  expect_fail "decompress onto a full tmpfs" "space" "$R" decompress -c "$W/corpus" "$W/new.rdc" -o "$W/tiny/out"
  no_leftovers "full tmpfs holds no partial output" "$W/tiny"
  expect_fail "corpus build onto a full tmpfs" "space" "$R" corpus build -o "$W/tiny/c" "$W/ref"
  no_leftovers "full tmpfs holds no partial corpus" "$W/tiny"
  umount "$W/tiny"
else
  echo "SKIP full tmpfs (mount not permitted here); /dev/full cases above still ran"
fi

# --- interrupted runs leave no partial output ---
"$GEN" --size $((64 << 20)) "$W/bigref" "$W/big"
mkdir "$W/o2"
"$R" -q compress --standalone --level 19 "$W/big" -o "$W/o2/big.rdc" & pid=$!
sleep 0.5; kill -INT $pid; wait $pid; rc=$?
if [ $rc -eq 130 ]; then ok "SIGINT exits 130"; else bad "SIGINT exits 130 (got $rc)"; fi
no_leftovers "SIGINT leaves no partial output" "$W/o2"
"$R" -q compress --standalone --level 19 "$W/big" -o "$W/o2/big.rdc" 2>"$W/term.err" & pid=$!
sleep 0.5; kill -TERM $pid; wait $pid; rc=$?
if [ $rc -eq 143 ] && grep -q "terminated (SIGTERM)" "$W/term.err"; then ok "SIGTERM exits 143 with a message"; else bad "SIGTERM exits 143 (got $rc)"; fi
no_leftovers "SIGTERM leaves no partial output" "$W/o2"
"$R" -q compress -c "$W/corpus" "$W/big" -o "$W/big.rdc"
"$R" -q decompress -c "$W/corpus" "$W/big.rdc" 2>"$W/pipe.err" | head -c 1000 > /dev/null
rc=${PIPESTATUS[0]}
if [ $rc -eq 141 ] && grep -q "reader of the output pipe went away" "$W/pipe.err"; then
  ok "closed pipe: exit 141 with a message"; else bad "closed pipe: exit 141 with a message (got $rc)"; fi
"$R" -q compress -c "$W/corpus" "$W/big" 2>"$W/pipe.err" | head -c 1000 > /dev/null
rc=${PIPESTATUS[0]}
if [ $rc -eq 141 ]; then ok "compress into a closed pipe exits 141"; else bad "compress into a closed pipe (got $rc)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
