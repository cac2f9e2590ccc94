#!/usr/bin/env bash
# The Python package's tests (python/tests), as a user gets the package: installed with
# pip, offline, into a fresh venv of Debian's python3 that sees the system's cffi,
# pytest and setuptools (--system-site-packages), then run against a build's C library
# and command line. Registered with ctest as `python` (tests/CMakeLists.txt).
#
# Usage: tests/python/run.sh LIBREDUCTO_SO_0 REDUCTO_CLI [pytest arguments...]
# Fails when Debian's python3 lacks venv, cffi or pytest: scripts/setup.sh installs them.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 path/to/libreducto.so.0 path/to/reducto [pytest arguments...]" >&2
  exit 2
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$(realpath "$1"); CLI=$(realpath "$2"); shift 2
# Debian's interpreter, not whatever python3 comes first in PATH (pyenv, conda): the
# packages the venv inherits are Debian's.
PY=${REDUCTO_PYTHON:-/usr/bin/python3}

if ! "$PY" -c 'import venv, ensurepip, cffi, pytest, setuptools, wheel' 2>/dev/null; then
  echo "python: $PY lacks venv, cffi, pytest, setuptools or wheel: run scripts/setup.sh" \
       "(python3-venv python3-cffi python3-pytest python3-setuptools python3-pip)" >&2
  exit 1
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/reducto-python.XXXXXX"); trap 'rm -rf "$W"' EXIT
"$PY" -m venv --system-site-packages "$W/venv"
# pip builds in the directory it is given (build/, reducto.egg-info): a copy keeps the
# source tree clean and parallel runs apart. --no-index: nothing is downloaded (cffi is
# the system's); setup.py without pyproject.toml lets pip 23 build with the system's
# setuptools, without an isolated build environment (python/setup.py says why).
mkdir "$W/src"
cp -r "$ROOT/python/setup.py" "$ROOT/python/reducto" "$W/src/"
"$W/venv/bin/pip" install --quiet --no-index "$W/src"

cd "$W"
export REDUCTO_LIBRARY=$LIB REDUCTO_CLI=$CLI
export REDUCTO_HEADER=$ROOT/include/reducto/reducto.h
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
installed=$("$W/venv/bin/python" -c 'import reducto; print(reducto.__file__)')
case $installed in
  "$W/venv/"*) ;;
  *) echo "python: the tests would import $installed, not the installed package" >&2; exit 1 ;;
esac
"$W/venv/bin/python" -m pytest -p no:cacheprovider -q "$ROOT/python/tests" "$@"
