#!/usr/bin/env bash
# Installs every Debian package that Reducto's build, tests and benchmarks need.
# Idempotent: packages already present are skipped. Run as root on Debian bookworm.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libzstd-dev zstd librust-blake3-dev libxxhash-dev librocksdb-dev
  libsodium-dev libcurl4-openssl-dev libcpp-httplib-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  xdelta3 bsdiff time bc python3 python3-matplotlib valgrind
  python3-cffi python3-pytest python3-venv python3-pip python3-setuptools  # python/
  help2man man-db zsh util-linux tar gzip
  clang-14 libclang-rt-14-dev llvm-14
  bsdutils  # script(1): a terminal for the CLI tests of stdin on a TTY
  openssh-server openssh-client rsync curl  # tests/cli/pipelines_test.sh: sshd, ssh, rsync, HTTP
  debsecan  # scripts/debsecan.sh: known vulnerabilities in the packages the build uses
  nginx openssl casync zsync zchunk wrk  # tests/net/nginx.sh, bench/transfer.sh: HTTP repositories and the peers
  prometheus-cpp-dev prometheus prometheus-pushgateway  # metrics (docs/monitoring.md); promtool and real servers in tests
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present"
