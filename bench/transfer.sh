#!/usr/bin/env bash
# shellcheck disable=SC2154  # the timings are assigned by printf -v in timed()
# The transfer itself (issue 18): bytes on the wire and the receiver's wall time to
# rebuild each pair's new version from an HTTP server, for Reducto and for the tools a
# user would otherwise pick. A private nginx (tests/net/nginx.sh) serves everything over
# plain HTTP/1.1 on loopback; the bytes are nginx's $bytes_sent (status line, headers and
# bodies) summed over the requests of one case, so they include each tool's index or
# header downloads and its range overhead. Every rebuilt file is compared with cmp.
#
# usage: bench/transfer.sh [--tools casync,zsync,zchunk,reducto] [--cases a,b]
#                          [--out FILE] [--keep] DATASET_DIR PAIR...
#   DATASET_DIR holds PAIR/ref (the old version) and PAIR/target (the new one), as
#   ../shared/bench/datasets.sh lays them out (pairs: kernel pgdump vm-ext4 ci-build).
#   REDUCTO=path/to/reducto (default build/cli/reducto of this tree)
#   REDUCTO_DECOMPRESS_FLAGS: extra flags for `reducto decompress --repo` (default none)
#   TMPDIR: where the work directory goes (about 4 times the largest pair).
#
# The cases:
#   a  the receiver holds the old version.
#      casync  : `casync make --store=STORE new.caibx NEW` (a blob index: NEW is a file);
#                receiver `casync extract --store=URL/store --seed=OLD URL/new.caibx OUT`.
#      zsync   : `zsyncmake -u new -o new.zsync NEW`; receiver `zsync -i OLD -o OUT URL/new.zsync`.
#      zchunk  : `zck -o new.zck NEW`; zckdl takes only a zchunk file as its source (a plain
#                OLD fails: "Invalid lead, perhaps this is not a zck file?"), so the
#                receiver holds OLD.zck (made by `zck OLD` before the clock starts, as if
#                kept from the previous download); receiver `zckdl -s OLD.zck
#                URL/new.zck && unzck new.zck`.
#      reducto : the receiver holds the corpus of OLD (`reducto corpus build OLD`, before
#                the clock starts); sender `reducto compress -c corpus NEW -o new.rdc`;
#                receiver `curl -o new.rdc URL/new.rdc && reducto decompress -c corpus
#                new.rdc -o OUT`.
#   b  the receiver holds nothing.
#      casync without --seed; zsync without -i; zckdl without -s (then unzck);
#      reducto: the sender ran `reducto corpus publish corpus --to REPO`; the receiver
#      `curl -o new.rdc URL/new.rdc && reducto decompress --repo URL/repo --cache-dir
#      EMPTY new.rdc -o OUT`. Then the "second target": OLD compressed against the same
#      corpus (the only other version a pair has), decompressed with the same cache: its
#      bytes are the container and the corpus pieces the first did not fetch.
#      If `corpus publish` or `decompress --repo` fail (not in this build), the script
#      says so and goes on.
#   The yardstick: `zstd -3` of NEW, downloaded with curl and decompressed (case "full");
#   the ratio column is wire bytes / that file's size.
#
# Sender-side work (indexes, chunk stores, containers, corpora) is timed apart, in the
# "sender s" column; it is done once for many receivers. Everything runs one after the
# other: the machine is shared.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
R=${REDUCTO:-$ROOT/build/cli/reducto}
TOOLS=casync,zsync,zchunk,reducto; CASES=a,b; OUT=""; KEEP=0
while [ $# -gt 0 ]; do case $1 in
  --tools) TOOLS=$2; shift 2;; --tools=*) TOOLS=${1#*=}; shift;;
  --cases) CASES=$2; shift 2;; --cases=*) CASES=${1#*=}; shift;;
  --out) OUT=$2; shift 2;; --out=*) OUT=${1#*=}; shift;;
  --keep) KEEP=1; shift;;
  -h|--help) sed -n '3,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
  -*) echo "transfer.sh: unknown option $1 (--help)" >&2; exit 2;;
  *) break;;
esac; done
[ $# -ge 2 ] || { echo "usage: transfer.sh [--tools LIST] [--cases a,b] [--out FILE] DATASET_DIR PAIR..." >&2; exit 2; }
D=$(realpath "$1"); shift; PAIRS=("$@")
OUT=${OUT:-transfer-$(date +%Y%m%d-%H%M%S).md}
has() { [[ ,$1, == *,$2,* ]]; }
for t in ${TOOLS//,/ }; do case $t in casync|zsync|zchunk|reducto) ;; *) echo "transfer.sh: unknown tool $t" >&2; exit 2;; esac; done
for p in "${PAIRS[@]}"; do
  [ -f "$D/$p/ref" ] && [ -f "$D/$p/target" ] || { echo "transfer.sh: $D/$p/ref and $D/$p/target must exist (../shared/bench/datasets.sh builds them)" >&2; exit 2; }
done
need=(nginx openssl curl zstd cmp)
has $TOOLS casync && need+=(casync); has $TOOLS zsync && need+=(zsync zsyncmake)
has $TOOLS zchunk && need+=(zck zckdl unzck)
for c in "${need[@]}"; do command -v $c >/dev/null || { echo "transfer.sh: $c is missing: run scripts/setup.sh" >&2; exit 2; }; done
if has $TOOLS reducto && [ ! -x "$R" ]; then echo "transfer.sh: no reducto at $R (set REDUCTO=)" >&2; exit 2; fi

W=$(mktemp -d "${TMPDIR:-/tmp}/reducto-transfer.XXXXXX")
[ $KEEP -eq 1 ] && trap 'echo "kept $W" >&2' EXIT || trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP
export XDG_CONFIG_HOME=$W/xdg XDG_STATE_HOME=$W/state   # no user configuration or audit log
source "$ROOT/tests/net/nginx.sh"
mkdir -p "$W/www"
nginx_start "$W/www" "$W/nginx" >/dev/null || exit 1   # chained in front of the EXIT trap
U=$NGINX_HTTP_URL

ROWS=(); NOTES=()
note() { NOTES+=("$*"); echo "  note: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# timed VAR CMD...: runs CMD (output to $W/log), its wall seconds in VAR; returns its status.
timed() {
  local _var=$1 _t0 _rc; shift; _t0=$(now)
  "$@" >"$W/log" 2>&1; _rc=$?
  printf -v "$_var" '%s' "$(since "$_t0")"; return $_rc
}
# row PAIR TOOL CASE SECONDS CHECK SENDER_S: one table row with the bytes of the log so far.
row() {
  local b r n; b=$(nginx_bytes_sent); n=$(nginx_requests)
  r=$(awk -v b="$b" -v z="$ZSTD_BYTES" 'BEGIN { printf "%.4f", b / z }')
  ROWS+=("| $1 | $2 | $3 | $b | $4 | $r | $n | $6 | $5 |")
  echo "  $1 $2 $3: $b bytes in $n requests, $4 s, $5" >&2
}
fail_row() { ROWS+=("| $1 | $2 | $3 | - | - | - | - | - | $4 |"); echo "  $1 $2 $3: $4" >&2; }
same() { cmp -s "$1" "$2" && echo OK || echo MISMATCH; }
# receive PAIR TOOL CASE NEW OUT SENDER_S CMD...: one measured receiver run.
receive() {
  local pair=$1 tool=$2 case=$3 new=$4 out=$5 sender=$6 s; shift 6
  rm -rf "$out"; nginx_log_reset
  if timed s "$@"; then row "$pair" "$tool" "$case" "$s" "$(same "$out" "$new")" "$sender"
  else fail_row "$pair" "$tool" "$case" "FAILED: $(tail -1 "$W/log")"; note "$pair $tool $case failed: $(tail -3 "$W/log" | tr '\n' ' ')"; fi
  rm -rf "$out"
}

for pair in "${PAIRS[@]}"; do
  OLD=$D/$pair/ref NEW=$D/$pair/target P=$W/$pair S=$W/www/$pair
  mkdir -p "$P" "$S"; ln -s "$NEW" "$S/new"
  echo "== $pair: old $(stat -c%s "$OLD") bytes, new $(stat -c%s "$NEW") bytes" >&2

  # The yardstick: the new version as one zstd -3 file.
  timed zs zstd -q -3 -T1 "$NEW" -o "$S/new.zst"; ZSTD_BYTES=$(stat -c%s "$S/new.zst")
  receive "$pair" "zstd -3" full "$NEW" "$P/out" "$zs" \
    bash -c 'curl -sSf -o "$1.zst" "$2" && zstd -q -d "$1.zst" -o "$1" && rm "$1.zst"' _ "$P/out" "$U/$pair/new.zst"

  if has $TOOLS casync; then
    timed ss casync make --store="$S/store" "$S/new.caibx" "$NEW" || note "$pair casync make failed: $(tail -1 "$W/log")"
    has $CASES a && receive "$pair" casync a "$NEW" "$P/out" "$ss" \
      casync extract --store="$U/$pair/store" --seed="$OLD" "$U/$pair/new.caibx" "$P/out"
    has $CASES b && receive "$pair" casync b "$NEW" "$P/out" "$ss" \
      casync extract --store="$U/$pair/store" "$U/$pair/new.caibx" "$P/out"
    rm -rf "$S/store"
  fi

  if has $TOOLS zsync; then
    timed ss bash -c 'cd "$1" && zsyncmake -u new -o new.zsync "$2"' _ "$S" "$NEW" || note "$pair zsyncmake failed"
    has $CASES a && receive "$pair" zsync a "$NEW" "$P/out" "$ss" zsync -q -i "$OLD" -o "$P/out" "$U/$pair/new.zsync"
    has $CASES b && receive "$pair" zsync b "$NEW" "$P/out" "$ss" zsync -q -o "$P/out" "$U/$pair/new.zsync"
    rm -f "$P"/out.part
  fi

  if has $TOOLS zchunk; then
    timed ss zck -o "$S/new.zck" "$NEW" || note "$pair zck failed: $(tail -1 "$W/log")"
    # zckdl writes new.zck into the current directory; unzck then writes new.
    zget() ( rm -rf "$P/zd" && mkdir -p "$P/zd" && cd "$P/zd" && zckdl -q "$@" && unzck new.zck && mv new "$P/out" )
    if has $CASES a; then
      timed zo zck -o "$P/old.zck" "$OLD"
      note "$pair zchunk a: the receiver's OLD.zck took $zo s to make (not counted; zckdl refuses a plain file as source)"
      receive "$pair" zchunk a "$NEW" "$P/out" "$ss" zget -s "$P/old.zck" "$U/$pair/new.zck"
      rm -f "$P/old.zck"
    fi
    has $CASES b && receive "$pair" zchunk b "$NEW" "$P/out" "$ss" zget "$U/$pair/new.zck"
    rm -rf "$P/zd" "$S/new.zck"
  fi

  if has $TOOLS reducto; then
    if ! timed cb "$R" -q corpus build "$OLD" -o "$P/corpus"; then
      note "$pair reducto corpus build failed: $(tail -1 "$W/log")"
    else
      note "$pair reducto: the corpus of OLD took $cb s to build ($(du -sb "$P/corpus" | cut -f1) bytes on disk)"
      timed rc "$R" -q compress -c "$P/corpus" "$NEW" -o "$S/new.rdc" || note "$pair reducto compress failed: $(tail -1 "$W/log")"
      has $CASES a && receive "$pair" reducto a "$NEW" "$P/out" "$rc" \
        bash -c 'curl -sSf -o "$1/new.rdc" "$2" && "$3" -q decompress -c "$1/corpus" "$1/new.rdc" -o "$1/out" && rm "$1/new.rdc"' \
        _ "$P" "$U/$pair/new.rdc" "$R"
      if has $CASES b; then
        if ! timed rp "$R" -q corpus publish "$P/corpus" --to "$S/repo"; then
          fail_row "$pair" reducto b "not run: corpus publish failed"
          note "$pair reducto b not run: \`reducto corpus publish\` failed (not in this build yet?): $(tail -1 "$W/log")"
        else
          mkdir -p "$P/cache"
          # $5 (REDUCTO_DECOMPRESS_FLAGS) is unquoted: a list of flags.
          receive "$pair" reducto b "$NEW" "$P/out" "$rc + publish $rp" \
            bash -c 'curl -sSf -o "$1/new.rdc" "$2" && "$3" -q decompress --repo "$4" --cache-dir "$1/cache" $5 "$1/new.rdc" -o "$1/out" && rm "$1/new.rdc"' \
            _ "$P" "$U/$pair/new.rdc" "$R" "$U/$pair/repo" "${REDUCTO_DECOMPRESS_FLAGS:-}"
          timed r2 "$R" -q compress -c "$P/corpus" "$OLD" -o "$S/second.rdc"
          receive "$pair" reducto "b, second target (OLD), same cache" "$OLD" "$P/out" "$r2" \
            bash -c 'curl -sSf -o "$1/second.rdc" "$2" && "$3" -q decompress --repo "$4" --cache-dir "$1/cache" $5 "$1/second.rdc" -o "$1/out" && rm "$1/second.rdc"' \
            _ "$P" "$U/$pair/second.rdc" "$R" "$U/$pair/repo" "${REDUCTO_DECOMPRESS_FLAGS:-}"
          grep -q FAILED <<< "${ROWS[-2]}" && note "$pair reducto b: \`reducto decompress --repo\` failed (not in this build yet?)"
        fi
      fi
    fi
    rm -rf "$P/corpus" "$P/cache" "$S/repo" "$S"/*.rdc
  fi
  rm -rf "$P" "$S"
done

{
  echo "# bench/transfer.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') on loopback, plain HTTP/1.1. Wire bytes: nginx \$bytes_sent summed over the case's requests."
  echo "Ratio: wire bytes / zstd -3 of the new version. Receiver wall seconds; sender seconds apart."
  echo "reducto: $("$R" --version 2>/dev/null | head -1)"
  echo
  echo "| pair | tool | case | bytes on the wire | wall s | wire / zstd -3 | requests | sender s | check |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Cases: a = the receiver holds the old version, b = it holds nothing, full = the zstd -3 file downloaded."
  [ ${#NOTES[@]} -gt 0 ] && { echo; printf -- '- %s\n' "${NOTES[@]}"; }
} | tee "$OUT"
echo "written to $OUT" >&2
