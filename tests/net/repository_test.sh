#!/usr/bin/env bash
# End-to-end tests of corpus repositories (docs/repositories.md), as a user runs them:
# publish a corpus, then decompress on a receiver that does not hold it, from a
# file:// repository, from `reducto serve`, from a real nginx with TLS and HTTP/2, and
# from the tests' fault-injecting server; the cache, its limit, and the failures.
# usage: repository_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
BIN=$(dirname "$R")/..
FAULT=$(realpath "$BIN/tests/reducto-fault-server" 2>/dev/null || true)
source "$(dirname "$0")/../cli/test_lib.sh"
source "$(dirname "$0")/nginx.sh"

fail() { bad "$1"; }

PIDS=()
stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  PIDS=()
  nginx_stop
}
trap 'stop_servers; rm -rf "$W"' EXIT

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# "corpus pieces: N fetched (...)" of the last command's stderr.
fetched() { sed -nE 's/^corpus pieces: ([0-9]+) fetched.*/\1/p' "$W/err" | tail -1; }
from_cache() { sed -nE 's/^corpus pieces: .* ([0-9]+) from the cache$/\1/p' "$W/err" | tail -1; }
# Waits for a server to write its port into FILE; prints the port.
wait_port() {
  for _ in $(seq 1 100); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    sleep 0.05
  done
  return 1
}

cd "$W" || exit 1
export XDG_STATE_HOME="$W/state"  # The sender's "made here" record; receivers use keys.
# The new version keeps a third of the old one and adds new bytes: a receiver needs only
# some of the corpus's pieces.
"$GEN" --size $((6 << 20)) --seed 21 old edited
"$GEN" --size $((2 << 20)) --seed 22 extra-old extra
head -c $((2 << 20)) edited > new; head -c $((1 << 20)) extra >> new
cat new extra > newer
"$R" -q key generate -o release
mkdir store

# --- the sender: build, sign, publish, compress ---
expect_ok "corpus build" "$R" -q corpus build --sign-key release -o store/v1 old
expect_ok "corpus publish to a directory" "$R" corpus publish store/v1 --to repo
v1=$("$R" corpus info --json store/v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect_ok "compress against the corpus" "$R" -q compress -c store/v1 new -o new.rdc
pack_pieces=$(python3 -c "import os; print((os.path.getsize('store/v1/pack/000000.seg') + 65535) // 65536)")

# Receivers run without the sender's state: the corpus was not made here.
export XDG_STATE_HOME="$W/receiver-state"
RECV=(--trusted-key release.pub)

# --- a cold receiver, file:// repository ---
expect_ok "cold decompress from file://" "$R" decompress "${RECV[@]}" --repo "file://$W/repo" \
  --cache-dir cache new.rdc -o out1
check "cold: round trip" cmp -s new out1
cold=$(fetched)
check "cold: fetched some pieces" [ "${cold:-0}" -gt 0 ]
check "cold: fetched fewer pieces than the pack has (partial fetch)" [ "${cold:-0}" -lt "$pack_pieces" ]

# --- warm cache: no request at all (the repository is unreachable now) ---
expect_ok "warm decompress, repository unreachable" "$R" decompress "${RECV[@]}" \
  --repo "http://127.0.0.1:9/none" --cache-dir cache new.rdc -o out2
check "warm: round trip" cmp -s new out2
check "warm: nothing fetched" [ "$(fetched)" = 0 ]
check "warm: every piece from the cache" [ "$(from_cache)" = "$cold" ]

# --- corpus fetch --for warms a cache with exactly what decompress fetches ---
expect_ok "corpus fetch --for" "$R" corpus fetch "${RECV[@]}" --repo "file://$W/repo" \
  --cache-dir cache2 --for new.rdc
check "fetch --for fetched the same pieces" grep -q "$cold pieces fetched" "$W/err"
expect_ok "corpus fetch ID (whole)" "$R" corpus fetch "${RECV[@]}" --repo "file://$W/repo" \
  --cache-dir cache2 "$v1"
check "whole fetch fetched the rest" grep -q "$((pack_pieces - cold)) pieces fetched" "$W/err"
expect_ok "cache info" "$R" cache info --cache-dir cache2
check "cache info lists the corpus complete" grep -qE "^$v1 .* $pack_pieces/$pack_pieces " "$W/out"
expect_ok "cache info --json" "$R" cache info --json --cache-dir cache2
check "cache info --json" python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); c=d['corpora'][0]
assert c['id']=='$v1' and c['pieces_present']==c['pieces_total']==$pack_pieces, c" "$W/out"

# --- trust: an untrusted corpus is refused before its pack is fetched ---
expect_exit "no trusted key: refused" 1 "not made here|trusted" "$R" decompress \
  --repo "file://$W/repo" --cache-dir cache3 new.rdc -o out3
check "refused: no output" [ ! -e out3 ]
check "refused: no pack piece fetched" sh -c '! ls cache3/corpora/*/pack/*.seg.have 2>/dev/null | grep -q .'

# --- a repository without the corpus, then failover to the next ---
mkdir empty-repo
expect_exit "corpus in no repository" 1 "not in the cache.*no repository gave it" "$R" decompress \
  "${RECV[@]}" --repo "file://$W/empty-repo" --cache-dir cache4 new.rdc -o out4
check "names the repository tried" grep -q "file://$W/empty-repo" "$W/err"
check "says what to do" grep -q "pass -c DIR" "$W/err"
check "no output" [ ! -e out4 ]
expect_ok "failover to the second repository" "$R" decompress "${RECV[@]}" \
  --repo "file://$W/empty-repo" --repo "file://$W/repo" --cache-dir cache4 new.rdc -o out4
check "failover: round trip" cmp -s new out4

# --- a damaged cache is noticed, and the pieces fetched again ---
seg=$(ls cache/corpora/"$v1"/pack/*.seg)
python3 - "$seg" <<'PY'
import sys
path = sys.argv[1]
have = open(path + ".have", "rb").read()
first = have.index(b"\x01")
with open(path, "r+b") as f:
    f.seek(first * 65536 + 10); b = f.read(1); f.seek(first * 65536 + 10)
    f.write(bytes([b[0] ^ 0xFF]))
PY
expect_ok "damaged cache piece is fetched again" "$R" decompress "${RECV[@]}" \
  --repo "file://$W/repo" --cache-dir cache new.rdc -o out5
check "damaged cache: round trip" cmp -s new out5
check "damaged cache: one piece fetched again" [ "$(fetched)" = 1 ]
truncate -s 1000 "$seg"
expect_ok "truncated cache segment is fetched again" "$R" decompress "${RECV[@]}" \
  --repo "file://$W/repo" --cache-dir cache new.rdc -o out6
check "truncated cache: round trip" cmp -s new out6
check "truncated cache: all its pieces fetched again" [ "$(fetched)" = "$cold" ]

# --- a new version over an older cached one: only its own segment is fetched ---
expect_ok "corpus update" env XDG_STATE_HOME="$W/state" "$R" -q corpus update \
  --sign-key release --from store/v1 -o store/v2 newer
# (the sender's state: the update was made here)
expect_ok "publish the version" env XDG_STATE_HOME="$W/state" "$R" corpus publish store/v2 \
  --to repo
check "publish says the parent was there" grep -q "already" "$W/err"
expect_ok "compress against v2" env XDG_STATE_HOME="$W/state" "$R" -q compress -c store/v2 \
  newer -o newer.rdc
expect_ok "fetch v2 for the container, v1 cached" "$R" corpus fetch "${RECV[@]}" \
  --repo "file://$W/repo" --cache-dir cache2 --for newer.rdc
expect_ok "decompress v2's container from the cache" "$R" decompress "${RECV[@]}" \
  --repo "http://127.0.0.1:9/none" --cache-dir cache2 newer.rdc -o out7
check "version: round trip" cmp -s newer out7

# --- two decompressions at once share one cache and fetch each piece once ---
( "$R" decompress "${RECV[@]}" --repo "file://$W/repo" --cache-dir shared new.rdc -o c1 2>c1.err; echo $? > c1.rc ) &
( "$R" decompress "${RECV[@]}" --repo "file://$W/repo" --cache-dir shared new.rdc -o c2 2>c2.err; echo $? > c2.rc ) &
wait
check "concurrent: both succeed" [ "$(cat c1.rc c2.rc)" = "$(printf '0\n0')" ]
check "concurrent: both round trip" sh -c 'cmp -s new c1 && cmp -s new c2'
total=$(cat c1.err c2.err | sed -nE 's/^corpus pieces: ([0-9]+) fetched.*/\1/p' | paste -sd+ | bc)
check "concurrent: each piece fetched once ($total = $cold)" [ "$total" = "$cold" ]

# --- the cache limit evicts the least recently used corpus ---
"$GEN" --size $((3 << 20)) --seed 23 other other-new
expect_ok "a second corpus" env XDG_STATE_HOME="$W/state" "$R" -q corpus build \
  --sign-key release -o store/other other
expect_ok "publish it" env XDG_STATE_HOME="$W/state" "$R" -q corpus publish store/other --to repo
expect_ok "compress against it" env XDG_STATE_HOME="$W/state" "$R" -q compress \
  -c store/other other-new -o other.rdc
expect_ok "fill a cache with v1" "$R" -q decompress "${RECV[@]}" --repo "file://$W/repo" \
  --cache-dir lru new.rdc -o l1
sleep 1.1
used=$("$R" cache info --json --cache-dir lru | python3 -c 'import json,sys; print(json.load(sys.stdin)["disk_bytes"])')
expect_ok "the second corpus, limit below both" "$R" -q decompress "${RECV[@]}" \
  --repo "file://$W/repo" --cache-dir lru --cache-limit $((used + 4096)) other.rdc -o l2
check "limit: round trip" cmp -s other-new l2
"$R" cache info --cache-dir lru > lru.txt
check "limit: the least recently used corpus was evicted" sh -c "! grep -q '^$v1' lru.txt"
expect_ok "cache prune --all" "$R" cache prune --all --cache-dir lru
check "prune --all empties the cache" sh -c "'$R' cache info --cache-dir lru | grep -q ' 0 corpora'"

# --- reducto serve, with a token ---
echo "s3cret-token" > token
"$R" serve --store repo --listen 127.0.0.1:0 --port-file serve.port --token-file token 2>serve.err &
PIDS+=($!)
port=$(wait_port serve.port) || fail "reducto serve did not start: $(cat serve.err)"
URL="http://127.0.0.1:$port"
expect_exit "serve: no token" 1 "401|token" "$R" decompress "${RECV[@]}" --repo "$URL" \
  --cache-dir sc1 new.rdc -o s1
check "no token: no output" [ ! -e s1 ]
echo "wrong" > wrong-token
expect_exit "serve: wrong token" 1 "403|token" "$R" decompress "${RECV[@]}" --repo "$URL" \
  --repo-token-file wrong-token --cache-dir sc1 new.rdc -o s1
check "the token is not in the message" sh -c "! grep -q wrong '$W/err'"
expect_ok "serve: with the token" "$R" decompress "${RECV[@]}" --repo "$URL" \
  --repo-token-file token --cache-dir sc1 new.rdc -o s1
check "serve: round trip" cmp -s new s1
check "serve: the same pieces as file://" [ "$(fetched)" = "$cold" ]

# --- nginx with TLS (a CA of the test's own) and HTTP/2 ---
nginx_start "$W/repo" "$W/nginx"
expect_exit "TLS without the CA: refused" 1 "certificate|SSL|TLS" "$R" decompress "${RECV[@]}" \
  --repo "$NGINX_HTTPS_URL" --repo-timeout 5 --cache-dir nc1 new.rdc -o n1
check "TLS refused: no output" [ ! -e n1 ]
expect_ok "nginx over TLS with the CA" "$R" decompress "${RECV[@]}" --repo "$NGINX_HTTPS_URL" \
  --repo-ca-file "$NGINX_CA_FILE" --cache-dir nc1 new.rdc -o n1
check "nginx: round trip" cmp -s new n1
check "nginx: requests went over HTTP/2" grep -q "HTTP/2" "$NGINX_ACCESS_LOG"
check "nginx: the packed pieces were asked for in ranges only (206)" python3 -c '
import sys
pz = [l.split("\t") for l in open(sys.argv[1]) if ".pz " in l]
assert pz and all(f[5] == "206" and f[8].startswith("bytes=") for f in pz), pz[:3]' "$NGINX_ACCESS_LOG"
nginx_stop

# --- the failures, from the fault-injecting server ---
if [ -x "$FAULT" ]; then
  fault() {  # MODE TIMES: restart the fault server with that fault
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    PIDS=(); rm -f fault.port
    "$FAULT" --dir repo --port-file fault.port --fault "$1" --times "$2" 2>fault.err &
    PIDS+=($!)
    FURL="http://127.0.0.1:$(wait_port fault.port)"
  }
  for mode in status:503 cut-short wrong-bytes; do
    fault "$mode" 2
    expect_ok "fault $mode twice, then served: retried" "$R" decompress "${RECV[@]}" \
      --repo "$FURL" --cache-dir "f-$mode" new.rdc -o "f-$mode.out"
    check "fault $mode: round trip" cmp -s new "f-$mode.out"
  done
  for mode in status:503 status:404 cut-short wrong-bytes ignore-range stall; do
    fault "$mode" 100000
    expect_exit "fault $mode always: a clear error" 1 "$FURL" "$R" decompress "${RECV[@]}" \
      --repo "$FURL" --repo-timeout 2 --cache-dir "g-$mode" new.rdc -o "g-$mode.out"
    check "fault $mode: no output" [ ! -e "g-$mode.out" ]
  done
  fault status:503 100000
  expect_ok "a failing repository, then a good one: failover" "$R" decompress "${RECV[@]}" \
    --repo "$FURL" --repo "file://$W/repo" --cache-dir failover new.rdc -o fo.out
  check "failover: round trip" cmp -s new fo.out
else
  fail "the fault-injecting server was not built ($BIN/tests/reducto-fault-server)"
fi
expect_exit "connection refused: a clear error" 1 "127.0.0.1:9" "$R" decompress "${RECV[@]}" \
  --repo "http://127.0.0.1:9/repo" --cache-dir refused new.rdc -o r.out
expect_exit "DNS failure: a clear error" 1 "nonexistent.invalid" "$R" decompress "${RECV[@]}" \
  --repo "http://nonexistent.invalid/repo" --cache-dir dns new.rdc -o d.out

finish
