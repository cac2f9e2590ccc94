# Shared by the command-line tests (tests/cli/*_test.sh), sourced after `set -u` and
# after R and GEN are set: a scratch directory $W removed on exit, no user
# configuration or REDUCTO_* variable leaking in, and the PASS/FAIL bookkeeping.
W=$(mktemp -d "${TMPDIR:-/tmp}/reducto-test.XXXXXX"); trap 'rm -rf "$W"' EXIT
export XDG_CONFIG_HOME=$W/xdg XDG_STATE_HOME=$W/state XDG_CACHE_HOME=$W/cache  # no user configuration, audit log or cache
unset REDUCTO_CORPUS REDUCTO_LEVEL REDUCTO_BLOCK_SIZE REDUCTO_AVG_SIZE REDUCTO_TRUSTED_KEYS \
      REDUCTO_THREADS REDUCTO_CACHE_SIZE REDUCTO_USAGE REDUCTO_AUDIT_LOG REDUCTO_MAX_OUTPUT REDUCTO_FALLBACK \
      REDUCTO_REPOS REDUCTO_REPO_TOKEN_FILE REDUCTO_REPO_CA_FILE REDUCTO_REPO_TIMEOUT \
      REDUCTO_CACHE_DIR REDUCTO_CACHE_LIMIT
unset REDUCTO_PRICE_TRANSFER_GB REDUCTO_PRICE_STORAGE_GB_MONTH REDUCTO_TRANSFERS_PER_MONTH \
      REDUCTO_RECEIVERS REDUCTO_CORPUS_SIZE REDUCTO_CORPUS_CHANGES_PER_MONTH REDUCTO_KEEP_MONTHS \
      REDUCTO_CORPUS_COPIES  # reducto report's prices and volumes
passed=0; failed=0

ok()  { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$W/err" ] && sed 's/^/  stderr: /' "$W/err" | head -5; }
# expect_ok NAME CMD...: the command succeeds (its stdout goes to $W/out).
expect_ok() { local n=$1; shift; if "$@" >"$W/out" 2>"$W/err"; then ok "$n"; else bad "$n (exit $?)"; fi; }
# expect_exit NAME RC PATTERN CMD...: the command exits with RC and stderr matches PATTERN.
expect_exit() {
  local n=$1 want=$2 pat=$3; shift 3
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  if [ $rc -eq "$want" ] && grep -qiE -- "$pat" "$W/err"; then ok "$n"; else bad "$n (exit $rc, wanted $want)"; fi
}
# check NAME CONDITION...: the condition (a command) holds.
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }
# flip FILE POS: flips one bit of the byte at POS (negative: from the end).
flip() { python3 - "$1" "$2" <<'PY'
import sys
path, pos = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, 'rb').read()); b[pos] ^= 0x10; open(path, 'wb').write(b)
PY
}
# finish: the summary line and the exit status.
finish() { echo "$(basename "$0" .sh): $passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
