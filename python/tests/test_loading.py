"""Loading the library: $REDUCTO_LIBRARY, a clear error without it, and the exported
symbols are the cdef's functions."""

import os
import re
import shutil
import subprocess
import sys

import pytest

import reducto
from reducto._cdef import CDEF


def test_a_missing_library_says_what_to_do(tmp_path):
    env = dict(os.environ, REDUCTO_LIBRARY=str(tmp_path / "libreducto.so.0"))
    result = subprocess.run([sys.executable, "-c", "import reducto"], env=env,
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "REDUCTO_LIBRARY" in result.stderr and "libreducto.so.0" in result.stderr


def test_the_library_exports_the_cdefs_functions():
    path = os.environ.get("REDUCTO_LIBRARY")
    if not path or not shutil.which("nm"):
        pytest.skip("needs $REDUCTO_LIBRARY and nm")
    symbols = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True,
                             text=True, check=True).stdout
    exported = {line.split()[-1].split("@")[0] for line in symbols.splitlines()
                if line.split()[-2:-1] == ["T"]}
    declared = set(re.findall(r"\b(reducto_\w+)\(", CDEF))
    assert exported == declared
