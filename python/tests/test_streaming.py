"""The push/pull streams: any cutting of the input and any output space give the
one-shot container; reducto.open reads and writes as gzip.open does."""

import io

import pytest

import reducto
from reducto._core import _Stream
from reducto._lib import ffi

from inputs import source_code, tar_of_files


@pytest.fixture
def corpus(tmp_path, session):
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "source.c").write_bytes(source_code(1))
    (tmp_path / "v1" / "files.tar").write_bytes(tar_of_files(1))
    with reducto.build_corpus([tmp_path / "v1"], tmp_path / "corpus", session=session) as c:
        yield c


TARGET = source_code(2) + tar_of_files(2)

CHUNK_SIZES = [1, 3, 1000, 4096, 65535, 65536, 65537, 300_000, len(TARGET)]


def _drive(kind, corpus, data, in_chunk, out_space, params=None):
    """Runs a stream directly: `in_chunk` bytes of input per call, `out_space` bytes of
    output space."""
    pieces = []
    with _Stream(kind, corpus, None, params or {}) as stream:
        space = ffi.new("char[]", out_space)
        out = ffi.new("reducto_out_buffer*", {"dst": space, "size": out_space, "pos": 0})
        source = ffi.from_buffer(data)
        in_buffer = ffi.new("reducto_in_buffer*")
        start = 0
        while not stream.done:
            end = min(len(data), start + in_chunk)
            in_buffer.src = source + start
            in_buffer.size = end - start
            in_buffer.pos = 0
            last = end == len(data)
            # Until this piece is consumed (and, for the last, until the end).
            while not stream.done and (in_buffer.pos < in_buffer.size or last):
                stream.step(out, in_buffer, last)
                pieces.append(ffi.buffer(space, out.pos)[:])
                out.pos = 0
            start = end
        stats = stream.stats()
    return b"".join(pieces), stats


@pytest.mark.parametrize("in_chunk", CHUNK_SIZES)
def test_any_input_cutting_gives_the_one_shot_container(corpus, in_chunk):
    blob = reducto.compress(TARGET, corpus)
    out_space = 1 if in_chunk == 1000 else 7 if in_chunk == 3 else 1 << 16
    streamed, stats = _drive("compress", corpus, TARGET, in_chunk, out_space)
    assert streamed == blob
    assert stats.input_bytes == len(TARGET) and stats.output_bytes == len(blob)
    back, _ = _drive("decompress", corpus, blob, in_chunk, out_space)
    assert back == TARGET


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_threads_do_not_change_the_container(corpus, threads):
    assert reducto.compress(TARGET, corpus, threads=threads) == reducto.compress(TARGET, corpus)


@pytest.mark.parametrize("write_size", CHUNK_SIZES)
def test_open_write_gives_the_one_shot_container(tmp_path, corpus, write_size):
    path = tmp_path / "t.rdc"
    with reducto.open(path, "wb", corpus=corpus) as f:
        for start in range(0, len(TARGET), write_size):
            assert f.write(TARGET[start:start + write_size]) == \
                len(TARGET[start:start + write_size])
    assert path.read_bytes() == reducto.compress(TARGET, corpus)


@pytest.mark.parametrize("read_size", [1, 100, 4096, 131072, 1 << 20])
def test_open_read_in_pieces(tmp_path, corpus, read_size):
    path = tmp_path / "t.rdc"
    path.write_bytes(reducto.compress(TARGET, corpus))
    pieces = []
    with reducto.open(path, "rb", corpus=corpus) as f:
        assert f.readable() and not f.writable() and not f.seekable()
        while True:
            piece = f.read(read_size)
            if not piece:
                break
            assert len(piece) <= read_size
            pieces.append(piece)
        assert f.stats().output_bytes == len(TARGET)
    assert b"".join(pieces) == TARGET


def test_open_file_objects_readinto_readline_and_text(corpus):
    buffer = io.BytesIO()
    with reducto.open(buffer, "wb", corpus=corpus) as f:
        f.write(TARGET)
    assert not buffer.closed  # a file object passed in stays open, as gzip does
    buffer.seek(0)
    with reducto.open(buffer, corpus=corpus) as f:
        first = f.readline()
        assert first == TARGET.split(b"\n", 1)[0] + b"\n"
        space = bytearray(1000)
        assert f.readinto(space) == 1000
        assert bytes(space) == TARGET[len(first):len(first) + 1000]
        assert f.read() == TARGET[len(first) + 1000:]
        assert f.read() == b""
    text = "naïve café\n" * 1000
    buffer = io.BytesIO()
    with reducto.open(buffer, "wt", encoding="utf-8") as f:
        f.write(text)
        blob = None
    blob = buffer.getvalue()
    assert reducto.decompress(blob) == text.encode()
    with reducto.open(io.BytesIO(blob), "rt", encoding="utf-8") as f:
        assert f.readlines() == text.splitlines(keepends=True)


def test_an_exception_in_a_with_block_leaves_no_valid_container(tmp_path, corpus):
    path = tmp_path / "t.rdc"
    with pytest.raises(RuntimeError):
        with reducto.open(path, "wb", corpus=corpus) as f:
            f.write(TARGET[:500_000])
            raise RuntimeError("the producer failed")
    with pytest.raises(reducto.ReductoError) as caught:
        reducto.decompress(path.read_bytes(), corpus)
    assert caught.value.code in (reducto.CorruptError.code, reducto.IntegrityError.code)


def test_open_modes(tmp_path, corpus):
    path = tmp_path / "t.rdc"
    with reducto.open(path, "xb") as f:
        f.write(b"abc")
    with pytest.raises(FileExistsError):
        reducto.open(path, "xb")
    with reducto.open(path) as f:
        with pytest.raises(io.UnsupportedOperation):
            f.write(b"x")
        assert f.read() == b"abc"
    with pytest.raises(ValueError):
        f.read()
    with pytest.raises(ValueError):
        reducto.open(path, "ab")


def test_trailing_bytes_after_the_container_are_refused(corpus):
    blob = reducto.compress(b"hello" * 1000, corpus)
    with reducto.open(io.BytesIO(blob + b"junk"), corpus=corpus) as f:
        with pytest.raises(reducto.ReductoError):
            f.read()


def test_callback_streams(corpus):
    blob = reducto.compress(TARGET, corpus)
    out = io.BytesIO()
    stats = reducto.compress_stream(io.BytesIO(TARGET), out, corpus)
    assert out.getvalue() == blob and stats.output_bytes == len(blob)
    back = io.BytesIO()
    reducto.decompress_stream(io.BytesIO(blob), back, corpus)
    assert back.getvalue() == TARGET

    class Failing(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError("the disk is on fire")

    with pytest.raises(reducto.CallbackError) as caught:
        reducto.compress_stream(Failing(), io.BytesIO(), corpus)
    assert caught.value.code == 22
    assert isinstance(caught.value.__cause__, OSError)
