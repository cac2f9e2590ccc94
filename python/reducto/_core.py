"""Sessions, corpora, one-shot and file operations over the C ABI (reducto.h)."""

import collections.abc
import contextlib
import json
import os
import threading

from . import _errors
from ._errors import check, error
from ._lib import ffi, lib


class _Handle:
    """A C handle freed exactly once: by close(), or, when close() comes while calls on
    other threads still use it, by the last of them. The C ABI leaves a call on a handle
    that another thread frees undefined; this makes Corpus.close() safe at any time."""

    __slots__ = ("_pointer", "_free", "_what", "_lock", "_users", "_closed")

    def __init__(self, pointer, free, what):
        self._pointer = pointer
        self._free = free
        self._what = what
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False

    @property
    def closed(self):
        return self._closed

    def acquire(self):
        with self._lock:
            if self._closed:
                raise error(lib.REDUCTO_E_INVALID_HANDLE, f"the {self._what} is closed",
                            remedy=f"Open a new {self._what.split()[0]}, or close this "
                                   "one only once it is no longer used.")
            self._users += 1
            return self._pointer

    def release(self):
        with self._lock:
            self._users -= 1
            if self._closed and self._users == 0:
                self._free_now()

    @contextlib.contextmanager
    def use(self):
        pointer = self.acquire()
        try:
            yield pointer
        finally:
            self.release()

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._users == 0:
                self._free_now()

    def _free_now(self):
        pointer, self._pointer = self._pointer, None
        if pointer is not None:
            self._free(pointer)


class _HandleOwner:
    """close(), .closed, `with` and __del__ for an object whose C handle is _handle."""

    def close(self):
        """Releases the handle; what was made with it (corpora and streams of a session)
        keeps it alive in the library until they are closed too."""
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.close()

    @property
    def closed(self):
        return self._handle.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


def _value_text(value):
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, (str, bytes, os.PathLike)):
        return os.fsencode(value)
    raise TypeError(f"reducto: a setting's value must be a str, int, bool or path, not "
                    f"{type(value).__name__}")


@contextlib.contextmanager
def _params(values):
    """A reducto_params with the values that are not None (NULL when there are none),
    freed when the block ends."""
    items = [(key, value) for key, value in values.items() if value is not None]
    if not items:
        yield ffi.NULL
        return
    out = ffi.new("reducto_params**")
    check(lib.reducto_params_create(out))
    try:
        for key, value in items:
            check(lib.reducto_params_set(out[0], key.encode(), _value_text(value)))
        yield out[0]
    finally:
        lib.reducto_params_free(out[0])


class Stats:
    """What an operation did (reducto_stats)."""

    __slots__ = ("input_bytes", "output_bytes", "copy_bytes", "literal_bytes",
                 "delta_bytes", "blocks", "standalone", "fell_back")

    def __init__(self, c_stats):
        for name in self.__slots__[:6]:
            setattr(self, name, int(getattr(c_stats, name)))
        self.standalone = bool(c_stats.standalone)
        self.fell_back = bool(c_stats.fell_back)

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"reducto.Stats({fields})"


class Session(_HandleOwner):
    """The policies every front end applies (reducto/session.h): the trust rule for
    corpora, usage records and the audit log. Thread-safe; share one.

    state_dir:         directory of the made-here record, usage warnings and audit anchor
                       (default $XDG_STATE_HOME/reducto; "" for none)
    audit_log:         the audit log's path, or "off" (default <state_dir>/audit.log)
    audit_sign_key:    secret key file that signs the audit log's head, or "off"
    trusted_keys:      public key files (NAME.pub) whose signature makes a corpus trusted
    skip_origin_check: use corpora without checking where they come from
    usage:             False: do not record which corpus bytes compressions use
    repositories:      URLs (https://, http://, file://) that a decompression given no
                       corpus fetches the container's corpus from (docs/repositories.md),
                       with repo_token (bearer token) and repo_ca_file for each
    cache_dir:         the cache of fetched pieces (default $XDG_CACHE_HOME/reducto)
    cache_limit:       its size limit, e.g. "10G" (the default)
    """

    def __init__(self, state_dir=None, audit_log=None, trusted_keys=(),
                 skip_origin_check=False, usage=True, audit_sign_key=None,
                 repositories=(), repo_token=None, repo_ca_file=None, cache_dir=None,
                 cache_limit=None):
        if isinstance(trusted_keys, (str, bytes, os.PathLike)):
            trusted_keys = (trusted_keys,)
        if audit_log is False:
            audit_log = "off"
        settings = ffi.new("reducto_settings**")
        check(lib.reducto_settings_create(settings))
        try:
            for key, value in (("state_dir", state_dir), ("audit_log", audit_log),
                               ("audit_sign_key", audit_sign_key)):
                if value is not None:
                    check(lib.reducto_settings_set(settings[0], key.encode(),
                                                   _value_text(value)))
            for key_file in trusted_keys:
                check(lib.reducto_settings_set(settings[0], b"trusted_keys",
                                               _value_text(key_file)))
            if isinstance(repositories, (str, bytes)):
                repositories = (repositories,)
            for url in repositories:
                check(lib.reducto_settings_set(settings[0], b"repository", _value_text(url)))
                for key, value in (("repo_token", repo_token), ("repo_ca_file", repo_ca_file)):
                    if value is not None:
                        check(lib.reducto_settings_set(settings[0], key.encode(),
                                                       _value_text(value)))
            for key, value in (("cache_dir", cache_dir), ("cache_limit", cache_limit)):
                if value is not None:
                    check(lib.reducto_settings_set(settings[0], key.encode(), _value_text(value)))
            if skip_origin_check:
                check(lib.reducto_settings_set(settings[0], b"skip_origin_check", b"true"))
            if not usage:
                check(lib.reducto_settings_set(settings[0], b"usage", b"false"))
            session = ffi.new("reducto_session**")
            check(lib.reducto_session_create(settings[0], session))
        finally:
            lib.reducto_settings_free(settings[0])
        self._handle = _Handle(session[0], lib.reducto_session_free, "session")



_default_session = None
_default_lock = threading.Lock()


def default_session():
    """The session used when none is passed: every default, as `reducto` without flags
    (state in $XDG_STATE_HOME/reducto), made on first use."""
    global _default_session
    with _default_lock:
        if _default_session is None or _default_session.closed:
            _default_session = Session()
        return _default_session


class Corpus(_HandleOwner):
    """An opened corpus (reducto_corpus_open, under the session's trust rule). Serves any
    number of compressions and decompressions from any threads; close it (or use `with`)
    to release its files and mappings.

    .id:   the corpus's id (a UUID string)
    .info: `reducto corpus info --json` as a dict
    .path: the directory it was opened from
    """

    def __init__(self, path, session=None, cache_size=None):
        self.session = session if session is not None else default_session()
        self.path = os.fspath(path)
        out = ffi.new("reducto_corpus**")
        with self.session._handle.use() as s, _params({"cache_size": cache_size}) as p:
            check(lib.reducto_corpus_open(s, os.fsencode(path), p, out))
        self._handle = _Handle(out[0], lib.reducto_corpus_free, "corpus")
        self.id = _errors._text(lib.reducto_corpus_id(out[0]))
        self._info = None

    @property
    def info(self):
        if self._info is None:
            with self._handle.use() as c:
                self._info = json.loads(_errors._text(lib.reducto_corpus_info_json(c)))
        return self._info


    def __repr__(self):
        state = "closed" if self.closed else "open"
        return f"<reducto.Corpus {self.id} at {self.path!r} ({state})>"


@contextlib.contextmanager
def _resolved(corpus, session):
    """(session pointer, corpus pointer or NULL, Session, Corpus or None) for one call.
    `corpus` may be a Corpus, a path (opened for this call only) or None; the session
    defaults to the corpus's, else the default session."""
    owned = None
    if corpus is not None and not isinstance(corpus, Corpus):
        corpus = owned = Corpus(corpus, session=session)
    if session is None:
        session = corpus.session if corpus is not None else default_session()
    try:
        with contextlib.ExitStack() as stack:
            s = stack.enter_context(session._handle.use())
            c = stack.enter_context(corpus._handle.use()) if corpus is not None else ffi.NULL
            yield s, c, session, corpus
    finally:
        if owned is not None:
            owned.close()


class _Stream(_HandleOwner):
    """A reducto_cstream or reducto_dstream: one thread at a time."""

    _KINDS = {
        "compress": (lib.reducto_cstream_create, lib.reducto_cstream_free,
                     lib.reducto_cstream_compress, lib.reducto_cstream_stats,
                     "reducto_cstream**"),
        "decompress": (lib.reducto_dstream_create, lib.reducto_dstream_free,
                       lib.reducto_dstream_decompress, lib.reducto_dstream_stats,
                       "reducto_dstream**"),
    }

    def __init__(self, kind, corpus, session, params):
        create, free, self._step, self._stats, out_type = self._KINDS[kind]
        out = ffi.new(out_type)
        # The stream keeps the session and corpus alive in the library (reducto.h), so
        # they are held here only while it is made.
        with _resolved(corpus, session) as (s, c, _, _), _params(params) as p:
            check(create(s, c, p, out))
        self._handle = _Handle(out[0], free, f"{kind} stream")
        self._done = ffi.new("int*")
        self.done = False

    def step(self, out_buffer, in_buffer, end):
        """One call of reducto_Xstream_Y; True once the whole output has been written."""
        with self._handle.use() as stream:
            out_before, in_before = out_buffer.pos, in_buffer.pos
            could_progress = out_before < out_buffer.size and (
                end or in_before < in_buffer.size)
            check(self._step(stream, out_buffer, in_buffer, 1 if end else 0, self._done))
            self.done = bool(self._done[0])
            if (could_progress and not self.done and out_buffer.pos == out_before
                    and in_buffer.pos == in_before):
                # reducto.h: the call blocks until it consumed or produced something (a
                # call with no input and no end may return at once); looping here would
                # spin.
                raise error(lib.REDUCTO_E_INTERNAL,
                            "a stream call returned without progress (a bug in the "
                            "library: please report it)")
            return self.done

    def stats(self):
        out = ffi.new("reducto_stats*")
        with self._handle.use() as stream:
            check(self._stats(stream, out))
        return Stats(out)


def _run_stream(stream, data, chunk_size):
    """Feeds all of `data` with end = 1 and collects the output."""
    source = ffi.from_buffer(data)
    in_buffer = ffi.new("reducto_in_buffer*", {"src": source, "size": len(source), "pos": 0})
    space = ffi.new("char[]", chunk_size)
    out_buffer = ffi.new("reducto_out_buffer*", {"dst": space, "size": chunk_size, "pos": 0})
    pieces = []
    while True:
        done = stream.step(out_buffer, in_buffer, True)
        if out_buffer.pos:
            pieces.append(ffi.buffer(space, out_buffer.pos)[:])
            out_buffer.pos = 0
        if done:
            return b"".join(pieces)


def _chunk_size(n):
    return max(64 << 10, min(n, 4 << 20))


def _compress_params(profile, level, threads, block_size):
    return {"profile": profile, "level": level, "threads": threads,
            "block_size": block_size}


def compress(data, corpus=None, *, profile="default", level=None, threads=None,
             block_size=None, session=None):
    """Compresses the bytes-like `data` against `corpus` (a Corpus, a corpus directory,
    or None for a standalone container) and returns the container.

    The container is the same as `reducto compress` writes, for any `threads`."""
    with _Stream("compress", corpus, session,
                 _compress_params(profile, level, threads, block_size)) as stream:
        return _run_stream(stream, data, _chunk_size(len(memoryview(data)) // 2))


def decompress(blob, corpus=None, *, max_output=None, threads=None, session=None):
    """Decompresses the container `blob` (bytes-like) and returns the target. A container
    made against a corpus needs that corpus (NotFoundError when `corpus` is None,
    IntegrityError when it is another). The result is returned only once the whole
    container verified."""
    with _Stream("decompress", corpus, session,
                 {"max_output": max_output, "threads": threads}) as stream:
        return _run_stream(stream, blob, _chunk_size(len(memoryview(blob)) * 4))


def compress_file(in_path, out_path, corpus=None, *, profile="default", level=None,
                  threads=None, block_size=None, overwrite=False,
                  session=None):
    """`reducto compress` of one file: `out_path` appears only when complete, and must
    not exist unless `overwrite`. Returns Stats."""
    stats = ffi.new("reducto_stats*")
    values = _compress_params(profile, level, threads, block_size)
    values["overwrite"] = True if overwrite else None
    with _resolved(corpus, session) as (s, c, _, _), _params(values) as p:
        check(lib.reducto_compress_file(s, c, p, os.fsencode(in_path),
                                        os.fsencode(out_path), stats))
    return Stats(stats)


def decompress_file(in_path, out_path, corpus=None, *, max_output=None, threads=None,
                    overwrite=False, session=None):
    """`reducto decompress` of one file: `out_path` appears only once the container
    verified, and must not exist unless `overwrite`. Returns Stats."""
    stats = ffi.new("reducto_stats*")
    values = {"max_output": max_output, "threads": threads,
              "overwrite": True if overwrite else None}
    with _resolved(corpus, session) as (s, c, _, _), _params(values) as p:
        check(lib.reducto_decompress_file(s, c, p, os.fsencode(in_path),
                                          os.fsencode(out_path), stats))
    return Stats(stats)


def last_metrics():
    """What the last compress_file, decompress_file, compress_stream or
    decompress_stream call on this thread did, successful or not: the metrics document of
    docs/monitoring.md ("The JSON document": counts, phase times, verdict) as a dict;
    None before the first. (compress and decompress of bytes run as streams and are not
    counted here.)"""
    text = ffi.string(lib.reducto_last_metrics_json()).decode()
    return json.loads(text) if text else None


# ---- streaming through callbacks: file objects in and out ----

class _CallbackState:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.exception = None


def _on_callback_error(exception, value, traceback):
    # cffi calls this, still inside the callback, when the Python function raised; the
    # state is in the context argument, which this hook does not get, so it is kept per
    # thread by the callbacks below before they run user code.
    state = getattr(_callback_local, "state", None)
    if state is not None and state.exception is None:
        state.exception = value


_callback_local = threading.local()


def _read_callback(context, buffer, capacity):
    state = ffi.from_handle(context)
    _callback_local.state = state
    target = ffi.buffer(buffer, capacity)
    readinto = getattr(state.reader, "readinto", None)
    if readinto is not None:
        count = readinto(target)
        return 0 if count is None else count
    data = state.reader.read(capacity)
    target[0:len(data)] = data
    return len(data)


def _write_callback(context, buffer, size):
    state = ffi.from_handle(context)
    _callback_local.state = state
    view = ffi.buffer(buffer, size)
    written = 0
    while written < size:
        count = state.writer.write(view[written:])
        written += size - written if count is None else count
    return 0


_read_fn = ffi.callback("reducto_read_fn", _read_callback, error=-1,
                        onerror=_on_callback_error)
_write_fn = ffi.callback("reducto_write_fn", _write_callback, error=-1,
                         onerror=_on_callback_error)


def _run_callbacks(function, reader, writer, corpus, session, values):
    state = _CallbackState(reader, writer)
    handle = ffi.new_handle(state)
    stats = ffi.new("reducto_stats*")
    with _resolved(corpus, session) as (s, c, _, _), _params(values) as p:
        code = function(s, c, p, _read_fn, handle, _write_fn, handle, stats)
    if code != lib.REDUCTO_OK:
        raised = error(code)
        raise raised from state.exception
    return Stats(stats)


def compress_stream(reader, writer, corpus=None, *, profile="default", level=None,
                    threads=None, block_size=None, session=None):
    """Compresses what `reader` (a binary file object: readinto or read) gives into
    `writer` (write). Returns Stats. An exception in either becomes the __cause__ of a
    CallbackError."""
    return _run_callbacks(lib.reducto_compress_callbacks, reader, writer, corpus, session,
                          _compress_params(profile, level, threads, block_size))


def decompress_stream(reader, writer, corpus=None, *, max_output=None, session=None):
    """Decompresses from `reader` into `writer`. What `writer` receives is verified block
    by block; the whole only once this returns: on an exception, discard it."""
    return _run_callbacks(lib.reducto_decompress_callbacks, reader, writer, corpus,
                          session, {"max_output": max_output})


# ---- corpora ----

def build_corpus(inputs, out_dir, *, avg=None, min=None, max=None, normalization=None,
                 overwrite=False, cache_size=None, session=None):
    """Builds a corpus at `out_dir` from `inputs` (a path, or an iterable of files and
    directories), as `reducto corpus build` does (published atomically, recorded as made
    by the session, audited), and returns it opened with the same session."""
    if isinstance(inputs, (str, bytes, os.PathLike)):
        inputs = [inputs]
    elif not isinstance(inputs, collections.abc.Iterable):
        raise TypeError("reducto.build_corpus: inputs must be a path or paths")
    encoded = [ffi.new("char[]", os.fsencode(path)) for path in inputs]
    array = ffi.new("const char*[]", encoded) if encoded else ffi.NULL
    if session is None:
        session = default_session()
    values = {"chunking.avg": avg, "chunking.min": min, "chunking.max": max,
              "chunking.normalization": normalization,
              "overwrite": True if overwrite else None}
    with session._handle.use() as s, _params(values) as p:
        check(lib.reducto_corpus_build(s, array, len(encoded), os.fsencode(out_dir), p))
    return Corpus(out_dir, session=session, cache_size=cache_size)


def verify_corpus(path, session=None):
    """Reads the whole corpus at `path` and checks every digest (`reducto corpus
    verify`); raises on the first problem."""
    if session is None:
        session = default_session()
    with session._handle.use() as s:
        check(lib.reducto_corpus_verify(s, os.fsencode(path)))
