"""Loads libreducto.so.0 through cffi's ABI mode (no compiler, no build step).

Where the library comes from, in order: $REDUCTO_LIBRARY (a path), then what the
system's loader finds (ctypes.util.find_library, then "libreducto.so.0" as
LD_LIBRARY_PATH and ld.so.cache resolve it).
"""

import ctypes.util
import os

import cffi

from ._cdef import CDEF

ffi = cffi.FFI()
ffi.cdef(CDEF)

SONAME = "libreducto.so.0"


def _candidates():
    explicit = os.environ.get("REDUCTO_LIBRARY")
    if explicit:
        # An explicit choice is the only candidate: falling back to another copy would
        # hide a mistake in the variable.
        return [explicit]
    found = ctypes.util.find_library("reducto")
    names = [found] if found else []
    if SONAME not in names:
        names.append(SONAME)
    return names


def _load():
    tried = []
    for name in _candidates():
        try:
            return ffi.dlopen(name)
        except OSError as error:
            tried.append(f"{name}: {error}")
    raise ImportError(
        "reducto: cannot load Reducto's C library (" + "; ".join(tried) + "). "
        "Set REDUCTO_LIBRARY to the path of libreducto.so.0 (in a build tree: "
        "build/src/capi/libreducto.so.0, made by `ninja -C build reducto_shared`), or "
        "install it where the loader looks (`cmake --install build`, then `ldconfig`; "
        "or LD_LIBRARY_PATH)."
    )


lib = _load()
