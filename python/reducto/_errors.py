"""ReductoError and one subclass per code of reducto.h.

The codes are the C ABI's pinned values. Each subclass also derives from the built-in
exception a Python program would catch for the same situation (ValueError for a bad
argument, FileNotFoundError for something missing, ...), so `except OSError` around
file handling keeps working.
"""

from ._lib import ffi, lib


class ReductoError(Exception):
    """A call into Reducto failed.

    code:    the C ABI's error code (reducto.h; REDUCTO_E_*), an int.
    name:    its name ("not_found", "integrity", ...).
    message: what happened, where, and usually what to do (the library's message).
    remedy:  what to do about an error of this code in general, one sentence.
    """

    def __init__(self, code, message, name=None, remedy=None):
        self.code = code
        self.name = name if name is not None else _text(lib.reducto_error_name(code))
        self.message = message
        self.remedy = remedy if remedy is not None else _text(lib.reducto_error_remedy(code))
        Exception.__init__(self, message or self.name)

    def __str__(self):
        text = self.message or self.name
        if self.remedy and self.remedy not in text:
            text += f" ({self.remedy})"
        return f"[{self.name}] {text}"

    def __reduce__(self):
        return (_rebuild, (self.code, self.message, self.name, self.remedy))


def _rebuild(code, message, name, remedy):
    return _CLASSES.get(code, ReductoError)(code, message, name, remedy)


class InvalidArgumentError(ReductoError, ValueError):
    """REDUCTO_E_INVALID_ARGUMENT: something passed is malformed or out of range."""


class NotFoundError(ReductoError, FileNotFoundError):
    """REDUCTO_E_NOT_FOUND: a file, corpus or key does not exist."""


class CorruptError(ReductoError):
    """REDUCTO_E_CORRUPT: bytes do not parse as the format they claim to be."""


class IntegrityError(ReductoError):
    """REDUCTO_E_INTEGRITY: bytes parse but a digest or bound disagrees (for a
    container: also the wrong corpus)."""


class ReductoIOError(ReductoError, OSError):
    """REDUCTO_E_IO: the operating system refused a read, write or rename."""


class UnavailableError(ReductoError):
    """REDUCTO_E_UNAVAILABLE: exists but cannot be used now (a lock, a busy name)."""


class PermissionDeniedError(ReductoError, PermissionError):
    """REDUCTO_E_PERMISSION: access denied, or the trust rule refused a corpus."""


class InvalidHandleError(ReductoError, ValueError):
    """REDUCTO_E_INVALID_HANDLE: a closed (or never opened) object was used."""


class BufferTooSmallError(ReductoError):
    """REDUCTO_E_BUFFER_TOO_SMALL: the output does not fit."""


class CallbackError(ReductoError):
    """REDUCTO_E_CALLBACK: a read or write callback failed (see __cause__)."""


class StateError(ReductoError):
    """REDUCTO_E_STATE: a call out of order (e.g. input after the end)."""


class NoMemoryError(ReductoError, MemoryError):
    """REDUCTO_E_NO_MEMORY: an allocation failed."""


class InternalError(ReductoError):
    """REDUCTO_E_INTERNAL: a bug in Reducto; please report it."""


_CLASSES = {
    lib.REDUCTO_E_INVALID_ARGUMENT: InvalidArgumentError,
    lib.REDUCTO_E_NOT_FOUND: NotFoundError,
    lib.REDUCTO_E_CORRUPT: CorruptError,
    lib.REDUCTO_E_INTEGRITY: IntegrityError,
    lib.REDUCTO_E_IO: ReductoIOError,
    lib.REDUCTO_E_UNAVAILABLE: UnavailableError,
    lib.REDUCTO_E_PERMISSION: PermissionDeniedError,
    lib.REDUCTO_E_INVALID_HANDLE: InvalidHandleError,
    lib.REDUCTO_E_BUFFER_TOO_SMALL: BufferTooSmallError,
    lib.REDUCTO_E_CALLBACK: CallbackError,
    lib.REDUCTO_E_STATE: StateError,
    lib.REDUCTO_E_NO_MEMORY: NoMemoryError,
    lib.REDUCTO_E_INTERNAL: InternalError,
}


for _code, _class in _CLASSES.items():
    _class.code = _code  # so that `except` clauses and tests can name the code by class


def _text(pointer):
    return "" if pointer == ffi.NULL else ffi.string(pointer).decode("utf-8", "replace")


def error(code, message=None, remedy=None):
    """The exception for `code`. Without `message`, the library's last error message,
    which is per thread: call this on the thread of the failing call, right after it.
    Errors found in Python pass their own message (and remedy, if the code's general
    one speaks of the C functions)."""
    if message is None:
        message = _text(lib.reducto_last_error_message())
    return _CLASSES.get(code, ReductoError)(code, message, remedy=remedy)


def check(code):
    """Raises the exception for a non-zero code of the call just made on this thread."""
    if code != lib.REDUCTO_OK:
        raise error(code)

