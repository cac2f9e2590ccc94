#!/usr/bin/env bash
# Known vulnerabilities in the Debian packages Reducto is built from: the shared libraries
# the built binaries link (ldd -> file -> dpkg -S -> package) and the -dev packages of
# scripts/setup.sh (headers compiled in, e.g. CLI11, toml++, nlohmann-json), checked with
# debsecan against Debian's security tracker for bookworm.
#
# Reports every finding. Exit status:
#   0  nothing found; or only vulnerabilities Debian has not fixed in bookworm (nothing
#      to do but wait, reported); or the tracker's data could not be downloaded (no
#      network: said clearly, nothing checked); or, without --strict, fixes available.
#   1  with --strict: Debian has a fix for an installed package (`apt upgrade` is due);
#      or the packages could not be found (no build, dpkg or debsecan missing).
# usage: scripts/debsecan.sh [--strict]
#   REDUCTO_BUILD_DIR  the build (default build/); its cli/reducto and lib*.so* are read
#   DEBSECAN_SOURCE    the tracker's data URL (debsecan --source; e.g. a local mirror)
#   DEBSECAN_TIMEOUT   seconds before giving up the download (default 60)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${REDUCTO_BUILD_DIR:-$ROOT/build}
SUITE=bookworm
strict=0
case ${1:-} in
  --strict) strict=1 ;;
  "") ;;
  *) echo "usage: scripts/debsecan.sh [--strict]" >&2; exit 2 ;;
esac
say() { echo "debsecan: $*"; }

command -v debsecan >/dev/null || { say "debsecan is not installed: run scripts/setup.sh"; exit 1; }
command -v dpkg >/dev/null || { say "no dpkg: this checks a Debian system"; exit 1; }
binaries=()
[ -x "$BUILD/cli/reducto" ] && binaries+=("$BUILD/cli/reducto")
while IFS= read -r lib; do binaries+=("$lib"); done < <(find "$BUILD/src/capi" -maxdepth 1 -name 'libreducto.so.*' -type f 2>/dev/null)
if [ ${#binaries[@]} -eq 0 ]; then
  say "no build in $BUILD (cli/reducto): build first (scripts/build.sh) or set REDUCTO_BUILD_DIR"; exit 1
fi

# The package that owns a file: dpkg -S knows the path as the package installed it,
# which on a merged /usr may be the /lib spelling of a /usr/lib file or the other way.
owner() {
  local f=$1 candidates=("$1") p
  candidates+=("$(realpath "$f")")
  case $f in /usr/lib/*) candidates+=("${f#/usr}") ;; /lib/*) candidates+=("/usr$f") ;; esac
  for p in "${candidates[@]}"; do
    dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1 && return 0
  done
  return 1
}
declare -A packages=()
unowned=()
for b in "${binaries[@]}"; do
  while read -r lib; do
    pkg=$(owner "$lib") && [ -n "$pkg" ] && packages[$pkg]=1 || unowned+=("$lib")
  done < <(ldd "$b" | grep -oE '/[^ ]+' | sort -u)
done
# The -dev packages the build compiles against, as scripts/setup.sh lists them.
while read -r pkg; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && packages[$pkg]=1
done < <(sed -n '/^PACKAGES=(/,/^)/p' "$ROOT/scripts/setup.sh" | sed 's/#.*//' | tr ' ' '\n' | grep -- '-dev$')
say "${#packages[@]} packages: $(printf '%s\n' "${!packages[@]}" | sort | tr '\n' ' ')"
[ ${#unowned[@]} -gt 0 ] && say "not from a Debian package (not checked): ${unowned[*]}"

# debsecan prints "CVE-... PACKAGE (fixed, remotely exploitable, high urgency)" for every
# installed package; "fixed" means the suite has a fixed version.
out=$(mktemp); err=$(mktemp); trap 'rm -f "$out" "$err"' EXIT
source_args=(); [ -n "${DEBSECAN_SOURCE:-}" ] && source_args=(--source "$DEBSECAN_SOURCE")
timeout "${DEBSECAN_TIMEOUT:-60}" debsecan --suite "$SUITE" --format summary "${source_args[@]}" >"$out" 2>"$err"
rc=$?
if [ $rc -eq 124 ] || grep -q "while downloading" "$err"; then
  reason=$(grep -v "while downloading" "$err" | head -1 | sed 's/^error: //')
  [ $rc -eq 124 ] && reason="no answer within ${DEBSECAN_TIMEOUT:-60} s"
  say "NOT CHECKED: the vulnerability data could not be downloaded from" \
      "${DEBSECAN_SOURCE:-https://security-tracker.debian.org/tracker/debsecan/release/1/}$SUITE" \
      "(${reason:-no reason given}); run this where that URL is reachable, or set" \
      "DEBSECAN_SOURCE to a mirror of it"
  exit 0
fi
if [ $rc -ne 0 ]; then
  say "debsecan failed (exit $rc):"; sed 's/^/  /' "$err"; exit 1
fi

fixed=(); unfixed=()
while read -r cve pkg notes; do
  [ -n "${packages[$pkg]:-}" ] || continue
  if [[ $notes == *fixed* ]]; then fixed+=("$cve $pkg $notes"); else unfixed+=("$cve $pkg $notes"); fi
done < "$out"
say "$(wc -l < "$out") findings on this system, $(( ${#fixed[@]} + ${#unfixed[@]} )) in these packages"
if [ ${#unfixed[@]} -gt 0 ]; then
  say "${#unfixed[@]} not fixed in $SUITE yet (nothing to upgrade to; watch the tracker):"
  printf '  %s\n' "${unfixed[@]}"
fi
if [ ${#fixed[@]} -gt 0 ]; then
  say "${#fixed[@]} FIXED in $SUITE, but installed here in an older version: apt upgrade is due:"
  printf '  %s\n' "${fixed[@]}"
  [ $strict -eq 1 ] && { say "failing (--strict)"; exit 1; }
fi
exit 0
