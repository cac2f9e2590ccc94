#!/usr/bin/env bash
# Reducto in the pipelines people run (issue 21): the ```sh blocks of docs/integration.md
# (tar, ssh, rsync, HTTP download) run as written, in order, with `bash -e -o pipefail`,
# on two generated release trees; then every tree they restored is compared with the
# original, file by file (names, types, modes, sizes, symlink targets, contents).
#
# The page's host `receiver` is an sshd this test starts on a free loopback port, with a
# host key, a user key and authorized_keys of its own in $W (nothing in /etc/ssh or
# ~/.ssh is read or written); `ssh` on the PATH adds -F with those settings. The sshd
# gives sessions another XDG_STATE_HOME, so the receiver is another machine to the
# origin check (it needs --trusted-key, as a real one does). The page's /srv/releases
# is $W/receiver and https://downloads.example.com a local HTTP server.
#
# sshd needs root (privilege separation): run as another user the test fails, saying so
# (ctest here has no skip code). Both servers stop when the test ends, failed or not.
# usage: pipelines_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
PAGE=$(realpath "$(dirname "$0")/../../docs/integration.md")
source "$(dirname "$0")/test_lib.sh"

sshd_pid=""; http_pid=""; made_privsep_dir=""
stop_servers() {
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
  [ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null && wait "$http_pid" 2>/dev/null
  [ -n "$made_privsep_dir" ] && rmdir "$made_privsep_dir" 2>/dev/null
  sshd_pid=""; http_pid=""; made_privsep_dir=""
}
trap 'stop_servers; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$W/bin" "$W/receiver-bin" "$W/sender" "$W/receiver" "$W/ssh"
ln -s "$R" "$W/bin/reducto"; ln -s "$R" "$W/receiver-bin/reducto"
export PATH="$W/bin:$PATH"
cd "$W/sender" || exit 1

# --- two releases: nested directories, a symlink, an empty file, a file of a few MiB ---
# release DIR SIDE: SIDE 1 is the earlier release (the corpus), 2 the later one.
"$GEN" --size $((3 << 20)) --seed 1 "$W/big.1" "$W/big.2" >/dev/null
"$GEN" --size $((200 << 10)) --seed 2 "$W/data.1" "$W/data.2" >/dev/null
release() {
  local d=$1 side=$2 i
  mkdir -p "$d/bin" "$d/lib" "$d/share/data/tables" "$d/etc/app.d" "$d/doc"
  cp "$W/big.$side" "$d/lib/libapp.so.1.$side"
  ln -s "libapp.so.1.$side" "$d/lib/libapp.so"
  cp "$W/data.$side" "$d/share/data/tables/orders.bin"
  : > "$d/etc/app.d/empty.conf"
  printf '#!/bin/sh\necho "app %s"\n' "$side" > "$d/bin/app"; chmod 755 "$d/bin/app"
  for i in $(seq 1 40); do
    printf 'setting_%d = %d\n' "$i" $((i * side)) >> "$d/etc/app.conf"
    seq 1 $((i * 50)) | sed "s/^/line $i of release $side: /" > "$d/doc/page $i.txt"
  done
  chmod 600 "$d/etc/app.conf"
  [ "$side" = 2 ] && printf 'new in 1.1\n' > "$d/doc/CHANGES"
  return 0
}
release release-1.0 1
release release-1.1 2

# --- the servers: sshd for `receiver`, HTTP for downloads.example.com ---
start_sshd() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "sshd needs root (privilege separation): run this test as root, as CI does"; return 1
  fi
  [ -x /usr/sbin/sshd ] || { echo "no /usr/sbin/sshd: install openssh-server (scripts/setup.sh)"; return 1; }
  command -v ssh-keygen >/dev/null || { echo "no ssh-keygen: install openssh-client"; return 1; }
  if [ ! -d /run/sshd ]; then mkdir -m 0755 /run/sshd && made_privsep_dir=/run/sshd; fi
  ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/hostkey" || return 1
  ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/userkey" || return 1
  cp "$W/ssh/userkey.pub" "$W/ssh/authorized_keys"
  local port; port=$(free_port) || return 1
  cat > "$W/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $W/ssh/hostkey
AuthorizedKeysFile $W/ssh/authorized_keys
PidFile $W/ssh/sshd.pid
AllowUsers $(id -un)
PermitRootLogin prohibit-password
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PrintMotd no
PrintLastLog no
X11Forwarding no
SetEnv PATH=$W/receiver-bin:/usr/local/bin:/usr/bin:/bin XDG_STATE_HOME=$W/receiver-home/state XDG_CONFIG_HOME=$W/receiver-home/config
EOF
  cat > "$W/ssh/ssh_config" <<EOF
Host receiver
  HostName 127.0.0.1
  Port $port
  User $(id -un)
  IdentityFile $W/ssh/userkey
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $W/ssh/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking accept-new
  BatchMode yes
  ConnectTimeout 10
EOF
  printf '#!/bin/sh\nexec /usr/bin/ssh -F "%s/ssh/ssh_config" "$@"\n' "$W" > "$W/bin/ssh"
  chmod 755 "$W/bin/ssh"
  /usr/sbin/sshd -t -f "$W/ssh/sshd_config" || { echo "sshd refuses its configuration"; return 1; }
  # A safety net beyond the trap: the server stops by itself after 15 minutes.
  timeout 900 /usr/sbin/sshd -D -e -f "$W/ssh/sshd_config" 2>"$W/ssh/sshd.log" &
  sshd_pid=$!
  local i
  for i in $(seq 1 50); do
    ssh receiver true 2>"$W/ssh/client.log" && return 0
    kill -0 "$sshd_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "sshd on 127.0.0.1:$port does not answer; its log:"; sed 's/^/  /' "$W/ssh/sshd.log" | tail -5
  echo "ssh said:"; sed 's/^/  /' "$W/ssh/client.log" | tail -3
  return 1
}
start_http() {
  local port; port=$(free_port) || return 1
  python3 -m http.server --bind 127.0.0.1 --directory "$W/sender" "$port" >"$W/http.log" 2>&1 &
  http_pid=$!
  HTTP_URL=http://127.0.0.1:$port
  local i
  for i in $(seq 1 50); do
    curl -fsS -o /dev/null "$HTTP_URL/" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "the HTTP server on 127.0.0.1:$port does not answer"; return 1
}
if start_sshd >"$W/err" 2>&1; then ok "sshd for receiver is up"
else bad "sshd for receiver is up"; fi
if start_http >"$W/err" 2>&1; then ok "HTTP server is up"
else bad "HTTP server is up"; HTTP_URL=http://127.0.0.1:9; fi

# --- the page's blocks, in order, each named by its section ---
mkdir -p "$W/blocks"
awk -v dir="$W/blocks" '
  /^## / { section = substr($0, 4) }
  /^```sh$/ { n++; file = sprintf("%s/%02d.sh", dir, n); print section > (file ".name"); on = 1; next }
  /^```$/ { on = 0 }
  on { print > file }' "$PAGE"
check "the page has its tested blocks" [ "$(ls "$W"/blocks/*.sh 2>/dev/null | wc -l)" -ge 7 ]
for block in "$W"/blocks/*.sh; do
  name="$(cat "$block.name"): $(head -c 70 "$block" | head -1)"
  sed -i -e "s|/srv/releases|$W/receiver|g" -e "s|https://downloads.example.com|$HTTP_URL|g" "$block"
  expect_ok "$name" bash -e -o pipefail "$block"
  check "  with no warning" bash -c "! grep -qi 'warning' '$W/err'"
done

# --- every restored tree is the release, file by file ---
# listing DIR: one line per entry: type, mode, size (files), path, symlink target.
listing() {
  (cd "$1" && find . \( -type d -printf 'd %m %p\n' \) -o -printf '%y %m %s %p -> %l\n' | sort)
}
same_tree() {
  [ -d "$2" ] && [ "$(listing "$1")" = "$(listing "$2")" ] &&
    diff -r --no-dereference "$1" "$2" >/dev/null &&
    [ -L "$2/lib/libapp.so" ] && [ "$(readlink "$2/lib/libapp.so")" = libapp.so.1.2 ] &&
    [ -f "$2/etc/app.d/empty.conf" ] && [ ! -s "$2/etc/app.d/empty.conf" ] &&
    [ "$(stat -c %s "$2/lib/libapp.so.1.2")" -gt $((3 << 20)) ]
}
check "tar: the restored tree is the release" same_tree release-1.1 restored
check "ssh: the tree on the receiver is the release" same_tree release-1.1 "$W/receiver/release-1.1"
check "ssh: the tree fetched from the receiver is the release" same_tree release-1.1 fetched
check "rsync: the tree from the copied container is the release" same_tree release-1.1 "$W/receiver/from-rsync"
check "HTTP: the downloaded tree is the release" same_tree release-1.1 downloaded
check "the receiver's copy of the corpus is signed" [ -d "$W/receiver/corpora/release-1.0/signatures" ]
# ok_entries LOG OPERATION: how many successful OPERATION entries the audit log LOG has.
ok_entries() { grep "\"operation\":\"$2\"" "$1" 2>/dev/null | grep -c '"outcome":"ok"'; }
check "the receiver's audit log has its runs (2 decompress, 1 compress)" \
  [ "$(ok_entries "$W/receiver-home/state/reducto/audit.log" decompress)" -eq 2 -a \
    "$(ok_entries "$W/receiver-home/state/reducto/audit.log" compress)" -eq 1 ]
check "  and this side's has its own only (3 decompress)" \
  [ "$(ok_entries "$W/state/reducto/audit.log" decompress)" -eq 3 ]
tarball=$(tar --sort=name -cf - -C release-1.1 . | wc -c); zst=$(tar --sort=name -cf - -C release-1.1 . | zstd -q -3 | wc -c)
rdc=$(stat -c %s release-1.1.tar.rdc 2>/dev/null || echo 0)
if [ "$rdc" -gt 0 ] && [ $((rdc * 2)) -lt "$zst" ]; then
  ok "the container is less than half of zstd -3 ($rdc bytes; zstd $zst; tar $tarball)"
else bad "the container is less than half of zstd -3 ($rdc bytes; zstd $zst; tar $tarball)"; fi

stop_servers
check "sshd stopped" bash -c "! [ -f '$W/ssh/sshd.pid' ] || ! kill -0 \$(cat '$W/ssh/sshd.pid') 2>/dev/null"
finish
