"""Reducto: compress files against a shared reference corpus.

Python bindings over Reducto's stable C ABI (include/reducto/reducto.h), loaded with
cffi's ABI mode from libreducto.so.0 ($REDUCTO_LIBRARY, else the system's). The same
checks, trust rule, usage records and audit entries as the `reducto` command line.

    import reducto
    with reducto.build_corpus(["v1/"], "corpus-v1") as corpus:
        blob = reducto.compress(b"...", corpus)
        assert reducto.decompress(blob, corpus) == b"..."

Thread safety: Session and Corpus objects may be shared by threads; a file from
reducto.open is used by one thread at a time. Calls into the library release the GIL.
"""

from ._lib import ffi as _ffi, lib as _clib
from ._errors import (
    ReductoError, InvalidArgumentError, NotFoundError, CorruptError, IntegrityError,
    ReductoIOError, UnavailableError, PermissionDeniedError, InvalidHandleError,
    BufferTooSmallError, CallbackError, StateError, NoMemoryError, InternalError,
)
from ._core import (
    Session, Corpus, Stats, default_session, compress, decompress, compress_file,
    decompress_file, compress_stream, decompress_stream, build_corpus, verify_corpus,
    last_metrics,
)
from ._file import ReductoFile, open

__version__ = _ffi.string(_clib.reducto_version_string()).decode()
version_number = _clib.reducto_version_number()

__all__ = [
    "ReductoError", "InvalidArgumentError", "NotFoundError", "CorruptError",
    "IntegrityError", "ReductoIOError", "UnavailableError", "PermissionDeniedError",
    "InvalidHandleError", "BufferTooSmallError", "CallbackError", "StateError",
    "NoMemoryError", "InternalError",
    "Session", "Corpus", "Stats", "default_session", "compress", "decompress",
    "compress_file", "decompress_file", "compress_stream", "decompress_stream",
    "build_corpus", "verify_corpus", "last_metrics", "ReductoFile", "open",
]
