#!/usr/bin/env bash
# End-to-end tests of the audit log (docs/audit.md) as a user meets it: commands
# append entries, `audit verify` finds every kind of tampering and says which line,
# `audit show` filters, a signing key signs the head.
# usage: audit_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
# expect_fail NAME PATTERN CMD...: the command exits 1 and stderr matches PATTERN.
expect_fail() {
  local n=$1 pat=$2; shift 2
  "$@" >"$W/out" 2>"$W/err"; local rc=$?
  if [ $rc -eq 1 ] && grep -qiE -- "$pat" "$W/err"; then ok "$n"; else bad "$n (exit $rc)"; fi
}
cd "$W" || exit 1
LOG=$W/state/reducto/audit.log
"$GEN" --size $((2 << 20)) ref new
"$R" -q corpus build -o c ref
"$R" -q compress -c c new -o new.rdc
"$R" -q decompress -c c new.rdc -o new.out
"$R" -q decompress -c missing new.rdc -o x 2>/dev/null
"$R" -q corpus verify c >/dev/null
check "five operations recorded" [ "$(wc -l < "$LOG")" -eq 5 ]
check "the log is mode 0600" [ "$(stat -c %a "$LOG")" = 600 ]
expect_ok "audit verify of an intact log" "$R" audit verify
check "  says how many entries" grep -q "5 entries, chain intact, head matches (unsigned)" "$W/out"
expect_ok "audit show --outcome failed" "$R" audit show --outcome failed
check "  shows only the failed decompress" grep -qx ".*decompress.*failed: not found.*" "$W/out"
check "  (one line)" [ "$(wc -l < "$W/out")" -eq 1 ]
expect_ok "audit show --operation compress" "$R" audit show --operation compress
check "  shows one entry" [ "$(wc -l < "$W/out")" -eq 1 ]

cp "$LOG" log.orig; cp "$LOG.head" head.orig
restore() { cp log.orig "$LOG"; cp head.orig "$LOG.head"; }
sed -i '2s/"outcome":"ok"/"outcome":"ok "/' "$LOG"
expect_fail "an edited line" "line 3 does not chain to line 2: line 2 was edited" "$R" audit verify
restore; sed -i '3d' "$LOG"
expect_fail "a removed line" "line 3 does not chain to line 2" "$R" audit verify
restore; sed -i '2{h;d};3{G}' "$LOG"
expect_fail "two swapped lines" "does not chain|removed or reordered" "$R" audit verify
restore; head -n 3 log.orig > "$LOG"
expect_fail "the last two lines removed" "the log has 3 entries but its head records 5: the last 2 entries were removed" "$R" audit verify
restore; sed -i '5s/"outcome":"ok"/"outcome":"OK"/' "$LOG"
expect_fail "the last line edited" "line 5 \(the last entry\) does not match the head" "$R" audit verify
restore; head -c -20 log.orig > "$LOG"
expect_fail "cut inside an entry" "cut in the middle of an entry" "$R" audit verify
restore; rm "$LOG.head"
expect_fail "the head removed" "head .* is missing" "$R" audit verify
restore
sed -i '2s/"ok"/"ok "/' "$LOG"
"$R" -q corpus verify c >/dev/null 2>"$W/err"
check "a command warns that it was not recorded" grep -q "was not recorded in the audit log" "$W/err"
check "  and the tampered log was not extended" [ "$(wc -l < "$LOG")" -eq 5 ]
restore
: > "$LOG"
"$R" -q corpus verify c >/dev/null 2>"$W/err"
check "an emptied log is not started again" grep -q "holds 0 entries but .* records 5" "$W/err"
check "  (it stays empty)" [ ! -s "$LOG" ]
expect_fail "  and audit verify reports it" "records 5" "$R" audit verify
rm -f "$LOG" "$LOG.head"
"$R" -q corpus verify c >/dev/null 2>"$W/err"
check "a log removed with its head is found by its anchor" grep -q "was not recorded.*anchor" "$W/err"
expect_fail "  and audit verify reports it" "its anchor .* records 5" \
  "$R" audit verify
restore

cp new $'new\n  99 2026-01-01T00:00:00Z root@host corpus delete ok  forged\e[2J'
"$R" -q compress -c c -o forged.rdc new$'\n'* 2>/dev/null
expect_ok "audit show of an argument with a newline and an escape" "$R" audit show --operation compress
check "  prints one line per entry" [ "$(wc -l < "$W/out")" -eq 2 ]
check "  with the newline and the escape shown as \\n and \\x1b" grep -qF '\n  99 2026' "$W/out"
check "  and no escape character" bash -c "! grep -q $'\e' '$W/out'"
"$R" -q key generate -o auditor
mkdir -p "$W/xdg/reducto"; printf 'audit_sign_key = "%s"\n' "$W/auditor" > "$W/xdg/reducto/config.toml"
"$R" -q compress -c c new -o new2.rdc 2>"$W/err"
check "a signing key does not adopt an unsigned head" grep -q "is not signed, but audit_sign_key is set" "$W/err"
mkdir aside; mv "$LOG" "$LOG.head" "$W"/state/reducto/audit-anchors aside/
"$R" -q compress -c c new -o new3.rdc
expect_ok "a signed head verifies" "$R" audit verify --trusted-key auditor.pub
check "  says who signed it" grep -q "signed by $(grep '^key-id ' auditor | cut -d' ' -f2)" "$W/out"
"$R" -q corpus verify c >/dev/null
cp "$LOG" log.signed; cp "$LOG.head" head.signed
head -n 1 log.signed > "$LOG"
head -n 1 log.signed | tr -d '\n' > line1   # one chunk: `reducto chunk` prints its BLAKE3
printf 'reducto-audit-head v1\nentries 1\nlast-blake3 %s\n' \
  "$("$R" chunk line1 | grep -oE '[0-9a-f]{64}' | head -n 1)" > "$LOG.head"
"$R" -q corpus verify c >/dev/null 2>"$W/err"
check "a cut signed log with an unsigned head is not extended" \
  grep -q "is not signed, but audit_sign_key is set" "$W/err"
check "  (the log still holds one entry)" [ "$(wc -l < "$LOG")" -eq 1 ]
expect_fail "  and verify --trusted-key refuses it" "not signed by a trusted key|anchor" \
  "$R" audit verify --trusted-key auditor.pub
cp log.signed "$LOG"; cp head.signed "$LOG.head"
"$R" -q key generate -o stranger
expect_fail "a head not signed by a trusted key" "signed by .*, not a trusted key" "$R" audit verify --trusted-key stranger.pub
python3 - "$LOG.head" <<'PY'
import sys
p = sys.argv[1]; t = open(p).read().splitlines()
t = [l if not l.startswith("signature ") else l[:-6] + ("A" if l[-6] != "A" else "B") + l[-5:] for l in t]
open(p, "w").write("\n".join(t) + "\n")
PY
expect_fail "a flipped head signature" "does not verify|damaged" "$R" audit verify --trusted-key auditor.pub
finish
