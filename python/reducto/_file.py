"""reducto.open: a file object over the push/pull streams, as gzip.open."""

import builtins
import io
import os

from ._core import _Stream
from ._errors import error
from ._lib import ffi, lib

_CHUNK = 128 << 10


class ReductoFile(io.BufferedIOBase):
    """A container read ("rb": the target's bytes come out) or written ("wb": the
    target's bytes go in, the container goes to the file).

    Reading: each block is verified before its bytes are returned, and the container's
    trailer when the end is reached; an error raises from read(). Until read() returned
    b"" (the end), what was read is verified block by block only.

    Writing: close() (or the end of a `with` block) writes the container's end. When a
    `with` block ends with an exception, the stream is cancelled instead, and the file
    holds an incomplete container that decompression refuses.
    """

    def __init__(self, filename, mode="rb", corpus=None, *, profile="default", level=None,
                 threads=None, block_size=None, max_output=None,
                 session=None):
        super().__init__()
        self._file = None
        self._owns_file = False
        self._stream = None
        self._reading = True
        if mode in ("r", "rb"):
            self._reading = True
        elif mode in ("w", "wb", "x", "xb"):
            self._reading = False
        else:
            super().close()  # nothing to finish
            raise ValueError(f"reducto.open: mode {mode!r}: expected 'rb', 'wb' or 'xb' "
                             "(or 'rt', 'wt', 'xt' through reducto.open)")
        if isinstance(filename, (str, bytes, os.PathLike)):
            self._file = builtins.open(filename, mode[0] + "b")
            self._owns_file = True
            self.name = os.fspath(filename)
        elif hasattr(filename, "read" if self._reading else "write"):
            self._file = filename
            self.name = getattr(filename, "name", "")
        else:
            super().close()
            raise TypeError("reducto.open: filename must be a path or a binary file object")
        try:
            if self._reading:
                self._stream = _Stream("decompress", corpus, session,
                                       {"max_output": max_output})
            else:
                self._stream = _Stream("compress", corpus, session, {
                    "profile": profile, "level": level, "threads": threads,
                    "block_size": block_size})
        except BaseException:
            self._close_file()
            super().close()
            raise
        self.mode = "rb" if self._reading else "wb"
        self._out_space = ffi.new("char[]", _CHUNK)
        self._out = ffi.new("reducto_out_buffer*",
                            {"dst": self._out_space, "size": _CHUNK, "pos": 0})
        self._in = ffi.new("reducto_in_buffer*", {"src": ffi.NULL, "size": 0, "pos": 0})
        self._in_keep = None     # what self._in points into
        self._input_ended = False
        self._pending = b""      # decompressed, not yet returned
        self._pending_pos = 0
        self._stats = None

    # ---- common ----

    def readable(self):
        self._check_open()
        return self._reading

    def writable(self):
        self._check_open()
        return not self._reading

    def seekable(self):
        return False

    def _check_open(self):
        if self.closed:
            raise ValueError("I/O operation on closed reducto file")

    def stats(self):
        """What the stream did (Stats); complete once reading reached the end or writing
        was closed."""
        if self._stats is not None:
            return self._stats
        return self._stream.stats()

    def close(self):
        if self.closed:
            return
        try:
            if not self._reading and self._stream is not None:
                self._finish()
            if self._stream is not None and self._stream.done:
                self._stats = self._stream.stats()
        finally:
            try:
                super().close()  # flushes the file, so before closing it
            finally:
                if self._stream is not None:
                    self._stream.close()
                self._close_file()

    def abort(self):
        """Closes without finishing: a write stream is cancelled, leaving an incomplete
        container."""
        if self.closed:
            return
        try:
            super().close()
        finally:
            if self._stream is not None:
                self._stream.close()
            self._close_file()

    def _close_file(self):
        if self._owns_file and self._file is not None:
            self._file.close()

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None and not self._reading:
            self.abort()
        else:
            self.close()

    def fileno(self):
        raise io.UnsupportedOperation("a reducto file has no file descriptor of its own")

    def detach(self):
        raise io.UnsupportedOperation("reducto files cannot be detached")

    # ---- writing ----

    def write(self, data):
        self._check_open()
        if self._reading:
            raise io.UnsupportedOperation("not writable: opened for reading")
        source = ffi.from_buffer(data)
        size = len(source)
        self._in.src = source
        self._in.size = size
        self._in.pos = 0
        try:
            while self._in.pos < size:
                self._stream.step(self._out, self._in, False)
                self._drain()
        finally:
            self._in.src = ffi.NULL
            self._in.size = self._in.pos = 0
        return size

    def _finish(self):
        self._in.src = ffi.NULL
        self._in.size = self._in.pos = 0
        while not self._stream.done:
            self._stream.step(self._out, self._in, True)
            self._drain()
        self._file.flush()

    def _drain(self):
        if self._out.pos:
            self._file.write(ffi.buffer(self._out_space, self._out.pos)[:])
            self._out.pos = 0

    def flush(self):
        """Flushes the underlying file. The stream itself has no flush: bytes written are
        part of a block that is complete only when full or at close()."""
        self._check_open()
        if not self._reading:
            self._file.flush()

    # ---- reading ----

    def _fill(self):
        """Decompresses until some output is pending; False at the end."""
        while True:
            if self._stream.done:
                return False
            if self._in.pos == self._in.size and not self._input_ended:
                chunk = self._file.read(_CHUNK)
                if not chunk:
                    self._input_ended = True
                    self._in_keep = None
                    self._in.src = ffi.NULL
                    self._in.size = self._in.pos = 0
                else:
                    self._in_keep = ffi.from_buffer(chunk)
                    self._in.src = self._in_keep
                    self._in.size = len(chunk)
                    self._in.pos = 0
            self._stream.step(self._out, self._in, self._input_ended)
            if self._stream.done:
                self._check_trailing()
            if self._out.pos:
                self._pending = ffi.buffer(self._out_space, self._out.pos)[:]
                self._pending_pos = 0
                self._out.pos = 0
                return True

    def _check_trailing(self):
        if self._in.pos < self._in.size or (not self._input_ended and self._file.read(1)):
            raise error(lib.REDUCTO_E_CORRUPT,
                        f"{self.name or 'the input'}: bytes follow the end of the "
                        "container: it is not one container")
        self._stats = self._stream.stats()

    def _take(self, n):
        start = self._pending_pos
        end = len(self._pending) if n < 0 else min(len(self._pending), start + n)
        self._pending_pos = end
        return self._pending[start:end]

    def read(self, size=-1):
        self._check_open()
        if not self._reading:
            raise io.UnsupportedOperation("not readable: opened for writing")
        if size is None or size < 0:
            pieces = [self._take(-1)]
            while self._fill():
                pieces.append(self._take(-1))
            return b"".join(pieces)
        if size == 0:
            return b""
        pieces = []
        wanted = size
        while wanted > 0:
            if self._pending_pos == len(self._pending) and not self._fill():
                break
            piece = self._take(wanted)
            pieces.append(piece)
            wanted -= len(piece)
        return b"".join(pieces)

    def read1(self, size=-1):
        self._check_open()
        if not self._reading:
            raise io.UnsupportedOperation("not readable: opened for writing")
        if self._pending_pos == len(self._pending) and not self._fill():
            return b""
        return self._take(size if size is not None and size >= 0 else -1)

    def readinto(self, buffer):
        with memoryview(buffer) as view, view.cast("B") as target:
            data = self.read(len(target))
            target[:len(data)] = data
            return len(data)

    def readinto1(self, buffer):
        with memoryview(buffer) as view, view.cast("B") as target:
            data = self.read1(len(target))
            target[:len(data)] = data
            return len(data)

    def peek(self, size=0):
        self._check_open()
        if self._pending_pos == len(self._pending) and not self._fill():
            return b""
        return self._pending[self._pending_pos:]


def open(filename, mode="rb", corpus=None, *, encoding=None, errors=None, newline=None,
         **options):
    """Opens a container for reading ("rb", "rt") or writing ("wb", "xb", "wt", "xt"),
    as gzip.open: `filename` is a path or a binary file object; `corpus` a Corpus, a
    corpus directory or None (standalone). Options: profile, level, threads, block_size
    (writing), max_output (reading), session. Text modes wrap the file in an
    io.TextIOWrapper with encoding, errors and newline."""
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"reducto.open: invalid mode {mode!r}")
        binary = ReductoFile(filename, mode.replace("t", "b"), corpus, **options)
        return io.TextIOWrapper(binary, encoding, errors, newline)
    if encoding is not None or errors is not None or newline is not None:
        raise ValueError("reducto.open: encoding, errors and newline are for text modes")
    return ReductoFile(filename, mode, corpus, **options)
