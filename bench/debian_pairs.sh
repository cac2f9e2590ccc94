#!/usr/bin/env bash
# Builds benchmark pairs from Debian package updates of compiled code: for each
# package, the uncompressed payload (dpkg-deb --fsys-tarfile) of an older and a newer
# version in the bookworm archives, as OUT/NAME/ref and OUT/NAME/target.
#
#   bench/debian_pairs.sh [OUT]        default OUT: /tmp/reducto-datasets
#
# The versions are the ones the bookworm, bookworm-updates and bookworm-security
# archives offered on 2026-12-07 (apt-cache madison); a version that the archive no
# longer has is reported, and that pair skipped.
set -euo pipefail
OUT=${1:-/tmp/reducto-datasets}
# name package old-version new-version
PAIRS=(
  "libssl libssl3 3.0.20-1~deb12u2 3.0.22-1~deb12u2"
  "postgres postgresql-15 15.18-0+deb12u1 15.20-0+deb12u1"
  "libc libc6 2.36-9+deb12u7 2.36-9+deb12u14"
  "systemd libsystemd-shared 252.38-1~deb12u1 252.39-1~deb12u2"
  "python python3.11-minimal 3.11.2-6+deb12u8 3.11.2-6+deb12u9"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for line in "${PAIRS[@]}"; do
  read -r name package old new <<<"$line"
  if [[ -s $OUT/$name/ref && -s $OUT/$name/target ]]; then
    echo "$name: present in $OUT/$name"
    continue
  fi
  mkdir -p "$OUT/$name"
  ok=1
  for side in ref:$old target:$new; do
    file=${side%%:*} version=${side#*:}
    rm -f "$work"/*.deb
    if ! (cd "$work" && apt-get download -q "$package=$version" >/dev/null 2>&1); then
      echo "$name: $package $version is not in the archives any more: skipped" >&2
      ok=0
      break
    fi
    dpkg-deb --fsys-tarfile "$work"/*.deb >"$OUT/$name/$file"
  done
  if [[ $ok == 1 ]]; then
    echo "$name: $package $old -> $new, $(stat -c%s "$OUT/$name/ref") -> $(stat -c%s "$OUT/$name/target") bytes"
  else
    rm -rf "${OUT:?}/$name"
  fi
done
