#!/usr/bin/env bash
# The settings table (cli/settings.cc): every setting is reachable from the config file,
# its environment variable and its flag, with flag over environment over file; a bad
# value names where it came from; the README's configuration table lists every key and
# variable the binary knows. -v prints each setting not at its default and its source.
# usage: settings_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
README="$(cd "$(dirname "$0")/../.." && pwd)/README.md"
TEST_LIB="$(cd "$(dirname "$0")" && pwd)/test_lib.sh"
cd "$W" || exit 1
"$GEN" --size $((256 << 10)) ref new
"$R" -q corpus build -o corpus ref
"$R" -q compress -c corpus new -o new.rdc
mkdir -p xdg/reducto
CONFIG=xdg/reducto/config.toml

# setting KEY FILE_LINE ENV=VALUE SHOWN_FILE SHOWN_ENV SHOWN_FLAG -- CMD...: with the
# file only, the file's value is used; with the variable too, the variable's; with the
# flag (in CMD) too, the flag's. -v names the value and where it came from each time.
# CMD is run as given (with the flag) and with the flag removed (the word FLAG... up to
# the marker @ are dropped).
setting() {
  local key=$1 line=$2 envset=$3 shown_file=$4 shown_env=$5 shown_flag=$6; shift 7
  local with=() without=() drop=0 word
  for word in "$@"; do
    if [ "$word" = "@" ]; then drop=$((1 - drop)); continue; fi
    with+=("$word"); [ $drop -eq 1 ] || without+=("$word")
  done
  printf '%b\n' "$line" > "$CONFIG"
  "$R" -v "${without[@]}" >/dev/null 2>"$W/err"
  check "$key from the file" grep -qF "setting $key = $shown_file (from \`$key\` in $W/$CONFIG)" "$W/err"
  if [ -n "$envset" ]; then
    env "$envset" "$R" -v "${without[@]}" >/dev/null 2>"$W/err"
    check "$key: ${envset%%=*} over the file" grep -qF "setting $key = $shown_env (from ${envset%%=*})" "$W/err"
  fi
  env ${envset:+"$envset"} "$R" -v "${with[@]}" >/dev/null 2>"$W/err"
  check "$key: the flag over the environment and the file" grep -qE "setting $key = $shown_flag \(from -" "$W/err"
  rm -f "$CONFIG"
}

setting corpus 'corpus = "c1"' REDUCTO_CORPUS=c2 c1 c2 c3 -- compress @ -c c3 @ new -o x.rdc
setting fallback 'fallback = "standalone"' REDUCTO_FALLBACK=error standalone error standalone -- \
  compress @ --fallback standalone @ -c corpus new -o x.rdc -f
setting level 'level = 4' REDUCTO_LEVEL=5 4 5 6 -- compress @ -l 6 @ -c corpus new -o x.rdc -f
setting block_size 'block_size = "128K"' REDUCTO_BLOCK_SIZE=256K 131072 262144 524288 -- \
  compress @ --block-size 512K @ -c corpus new -o x.rdc -f
setting threads 'threads = 1' REDUCTO_THREADS=2 1 2 3 -- compress @ -T 3 @ -c corpus new -o x.rdc -f
setting cache_size 'cache_size = "16M"' REDUCTO_CACHE_SIZE=32M 16777216 33554432 67108864 -- \
  compress @ --cache-size 64M @ -c corpus new -o x.rdc -f
setting max_output 'max_output = "1M"' REDUCTO_MAX_OUTPUT=2M 1048576 2097152 3145728 -- \
  decompress @ --max-output 3M @ -c corpus new.rdc -o x.out -f
setting trusted_keys 'trusted_keys = ["k1.pub"]' REDUCTO_TRUSTED_KEYS=k2.pub:k3.pub \
  "$W/xdg/reducto/k1.pub" "k2.pub, k3.pub" k4.pub -- compress @ --trusted-key k4.pub @ -c corpus new -o x.rdc -f
setting usage 'usage = true' REDUCTO_USAGE=1 true true false -- compress @ --no-usage @ -c corpus new -o x.rdc -f
setting chunking.avg '[chunking]\navg = "4K"' REDUCTO_AVG_SIZE=16K 4096 16384 32768 -- chunk @ --avg 32K @ new
setting chunking.min '[chunking]\nmin = "1K"' "" 1024 - 2048 -- chunk @ --min 2K @ new
setting chunking.max '[chunking]\nmax = "20K"' "" 20480 - 24576 -- chunk @ --max 24K @ new
setting chunking.normalization '[chunking]\nnormalization = 2' "" 2 - 0 -- chunk @ --normalization 0 @ new
setting retention.corpus_max_age '[retention]\ncorpus_max_age = "2d"' "" 172800 - 259200 -- \
  gc -n @ --max-age 3d @ store
setting retention.leftover_max_age '[retention]\nleftover_max_age = "2h"' "" 7200 - 10800 -- \
  gc -n @ --leftover-age 3h @ store
# The audit log has no flag.
printf 'audit_log = "a1.log"\n' > "$CONFIG"
env REDUCTO_AUDIT_LOG="$W/a2.log" "$R" -q compress -c corpus new -o x.rdc -f
check "audit_log: REDUCTO_AUDIT_LOG over the file" test -s a2.log -a ! -e a1.log
rm -f "$CONFIG"

# --- a bad value names where it came from, the same way in every layer ---
printf 'threads = 999\n' > "$CONFIG"
expect_exit "file: a value out of range" 2 "config.toml: threads must be an integer 0\.\.256 \(0: one per core\), got 999" \
  "$R" compress -c corpus new -o x.rdc -f
printf 'threads = "2"\n' > "$CONFIG"
expect_exit "file: a value of the wrong type" 2 "config.toml: threads must be an integer 0\.\.256.*, got \"2\"" \
  "$R" compress -c corpus new -o x.rdc -f
rm -f "$CONFIG"
expect_exit "environment: the same message" 2 "REDUCTO_THREADS must be an integer 0\.\.256 \(0: one per core\), got '999'" \
  env REDUCTO_THREADS=999 "$R" compress -c corpus new -o x.rdc -f
expect_exit "flag: the same message" 2 "--threads must be an integer 0\.\.256 \(0: one per core\), got '999'" \
  "$R" compress -T 999 -c corpus new -o x.rdc -f
expect_exit "a bad environment value fails even under a good flag" 2 "REDUCTO_LEVEL must be an integer 1\.\.22, got '0'" \
  env REDUCTO_LEVEL=0 "$R" compress -l 3 -c corpus new -o x.rdc -f
expect_exit "level: the flag's range" 2 "--level must be an integer 1\.\.22, got '23'" \
  "$R" compress -l 23 -c corpus new -o x.rdc -f
expect_exit "block size: the flag's range" 2 "--block-size must be a size from 64K to 64M, got '128M'" \
  "$R" compress --block-size 128M -c corpus new -o x.rdc -f
expect_exit "block size: not a size, from the environment" 2 "REDUCTO_BLOCK_SIZE: '4Q' is not a size" \
  env REDUCTO_BLOCK_SIZE=4Q "$R" compress -c corpus new -o x.rdc -f
expect_exit "cache size: below the smallest, from the flag" 2 "--cache-size 1048576 is below the smallest corpus cache" \
  "$R" compress --cache-size 1M -c corpus new -o x.rdc -f
printf '[chunking]\navg = "32M"\n' > "$CONFIG"
expect_exit "chunk size: the file's range" 2 "config.toml: chunking.avg must be a size of at most 16M, got \"32M\"" \
  "$R" chunk new
printf '[retention]\ncorpus_max_age = "soon"\n' > "$CONFIG"
expect_exit "duration: the file's value" 2 "config.toml: retention.corpus_max_age: 'soon' is not a duration" \
  "$R" gc -n store
printf '[chunking]\nav = "8K"\n' > "$CONFIG"
expect_exit "unknown key in a table" 2 "unknown key chunking.av in .*\(known: avg, min, max, normalization\)" \
  "$R" chunk new
rm -f "$CONFIG"
expect_exit "usage: not a boolean, from the environment" 2 "REDUCTO_USAGE must be true or false, got 'maybe'" \
  env REDUCTO_USAGE=maybe "$R" compress -c corpus new -o x.rdc -f

# --- the README's configuration table lists every key and variable ---
printf 'nonsense = 1\n' > "$CONFIG"
"$R" chunk new 2>"$W/err" >/dev/null
rm -f "$CONFIG"
known=$(sed -n 's/.*(known: \(.*\))$/\1/p' "$W/err" | tr -d '[]' | tr ',' ' ')
table=$(sed -n '/^## Configuration/,/^## /p' "$README" | grep '^| `')
check "the binary lists its keys" test -n "$known"
for key in $known; do
  case $key in
    chunking) subkeys="avg min max normalization" ;;
    retention) subkeys="corpus_max_age leftover_max_age" ;;
    *) subkeys="" ;;
  esac
  if [ -z "$subkeys" ]; then
    check "README lists \`$key\`" grep -q "^| \`$key\` |" <<<"$table"
  else
    for sub in $subkeys; do
      check "README lists [$key] $sub" sh -c "grep '^| \`\[$key\] ' | grep -q '[ \`]$sub\`'" <<<"$table"
    done
  fi
done
for var in $(grep -o 'REDUCTO_[A-Z_]*' <<<"$table" | sort -u); do
  env "$var=1" "$R" -v chunk new >/dev/null 2>"$W/err"
  check "README's $var is read" grep -q "$var" "$W/err"
  check "  and unset by test_lib.sh" grep -qw "$var" "$TEST_LIB"
done
finish
