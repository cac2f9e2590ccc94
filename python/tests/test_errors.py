"""Errors: each carries the C ABI's code, name, message (read right after the failing
call, on its thread) and remedy, as the subclass of its code."""

import io

import pytest

import reducto

from inputs import database_dump, source_code


@pytest.fixture
def corpora(tmp_path, session):
    made = []
    for name, make in (("dump", database_dump), ("source", source_code)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "input").write_bytes(make(1))
        made.append(reducto.build_corpus([tmp_path / name], tmp_path / f"corpus-{name}",
                                         session=session))
    yield made
    for corpus in made:
        corpus.close()


TARGET = database_dump(2)


def _check(error, cls, code, name):
    assert type(error) is cls
    assert error.code == code == cls.code
    assert error.name == name
    assert error.message, "the library's message"
    assert error.remedy, "the code's remedy"
    assert error.message in str(error)


def test_missing_corpus(tmp_path, session):
    with pytest.raises(reducto.NotFoundError) as caught:
        reducto.Corpus(tmp_path / "no-such-corpus", session=session)
    _check(caught.value, reducto.NotFoundError, 2, "not_found")
    assert "no-such-corpus" in caught.value.message
    assert isinstance(caught.value, FileNotFoundError)


def test_a_container_needs_its_corpus(corpora):
    blob = reducto.compress(TARGET, corpora[0])
    with pytest.raises(reducto.NotFoundError) as caught:
        reducto.decompress(blob, session=corpora[0].session)
    _check(caught.value, reducto.NotFoundError, 2, "not_found")
    assert corpora[0].id in caught.value.message


def test_wrong_corpus(corpora):
    blob = reducto.compress(TARGET, corpora[0])
    # reducto.h says REDUCTO_E_INTEGRITY for a corpus other than the container's; the
    # library (the decoder's corpus check) says REDUCTO_E_NOT_FOUND when the id differs
    # and keeps INTEGRITY for the right id with another manifest. Either names both.
    with pytest.raises((reducto.IntegrityError, reducto.NotFoundError)) as caught:
        reducto.decompress(blob, corpora[1])
    assert caught.value.code in (2, 4) and caught.value.message and caught.value.remedy
    assert corpora[0].id in caught.value.message and corpora[1].id in caught.value.message
    with pytest.raises((reducto.IntegrityError, reducto.NotFoundError)):
        with reducto.open(io.BytesIO(blob), corpus=corpora[1]) as f:
            f.read()


@pytest.mark.parametrize("where", [20, 100, -40, -8, -1])
def test_corrupted_container(corpora, where):
    blob = bytearray(reducto.compress(TARGET, corpora[0]))
    where = where if where >= 0 else len(blob) + where
    blob[where] ^= 0x10
    with pytest.raises((reducto.CorruptError, reducto.IntegrityError)) as caught:
        reducto.decompress(bytes(blob), corpora[0])
    assert caught.value.code in (3, 4) and caught.value.message


@pytest.mark.parametrize("keep", [0, 1, 5, 30, 0.5, -9, -1])
def test_truncated_container(corpora, keep):
    blob = reducto.compress(TARGET, corpora[0])
    keep = int(len(blob) * keep) if isinstance(keep, float) else keep
    truncated = blob[:keep]
    with pytest.raises((reducto.CorruptError, reducto.IntegrityError)) as caught:
        reducto.decompress(truncated, corpora[0])
    assert caught.value.code in (3, 4) and caught.value.message


def test_untrusted_corpus(tmp_path, corpora):
    # A session whose state directory did not build the corpus, with no trusted key.
    with reducto.Session(state_dir=str(tmp_path / "elsewhere")) as stranger:
        with pytest.raises(reducto.PermissionDeniedError) as caught:
            reducto.Corpus(corpora[0].path, session=stranger)
        _check(caught.value, reducto.PermissionDeniedError, 7, "permission")
        assert isinstance(caught.value, PermissionError)
        with pytest.raises(reducto.PermissionDeniedError):
            reducto.verify_corpus(corpora[0].path, session=stranger)
    # Skipping the origin check is a choice the session makes (and audits).
    with reducto.Session(state_dir=str(tmp_path / "elsewhere"),
                         skip_origin_check=True) as careless:
        with reducto.Corpus(corpora[0].path, session=careless) as corpus:
            assert corpus.id == corpora[0].id


def test_verify_corpus(tmp_path, corpora, session):
    reducto.verify_corpus(corpora[0].path, session=session)
    pack = [p for p in (tmp_path / "corpus-dump").rglob("*") if p.is_file()]
    biggest = max(pack, key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[len(data) // 2] ^= 1
    biggest.write_bytes(bytes(data))
    with pytest.raises(reducto.ReductoError) as caught:
        reducto.verify_corpus(corpora[0].path, session=session)
    assert caught.value.code in (3, 4)


def test_closed_corpus_and_session(tmp_path, corpora, session):
    corpus = corpora[0]
    corpus.close()
    corpus.close()  # closing twice is harmless
    assert corpus.closed
    with pytest.raises(reducto.InvalidHandleError) as caught:
        reducto.compress(b"data", corpus)
    assert caught.value.code == 20 and "closed" in caught.value.message
    with pytest.raises(reducto.InvalidHandleError):
        corpus.info
    s = reducto.Session(state_dir=str(tmp_path / "s"))
    s.close()
    with pytest.raises(reducto.InvalidHandleError):
        reducto.compress(b"data", session=s)


def test_a_corpus_outlives_its_closed_session(tmp_path):
    s = reducto.Session(state_dir=str(tmp_path / "s"))
    (tmp_path / "in").write_bytes(source_code(1))
    corpus = reducto.build_corpus(tmp_path / "in", tmp_path / "c", session=s)
    s.close()
    # The library keeps the session alive for the corpus (reducto.h), but the Python
    # Session is closed: a call through it is refused in Python, before the library.
    with pytest.raises(reducto.InvalidHandleError):
        reducto.compress(source_code(2), corpus)
    assert corpus.info["id"] == corpus.id  # the corpus itself still works
    corpus.close()


def test_invalid_arguments(session):
    for options in ({"level": 99}, {"profile": "fastest"}, {"threads": 1000},
                    {"block_size": 10}):
        with pytest.raises(reducto.InvalidArgumentError) as caught:
            reducto.compress(b"data", session=session, **options)
        _check(caught.value, reducto.InvalidArgumentError, 1, "invalid_argument")
        assert isinstance(caught.value, ValueError)
    with pytest.raises(TypeError):
        reducto.compress("text is not bytes", session=session)
    with pytest.raises(reducto.InvalidArgumentError):
        reducto.build_corpus([], "x", avg="huge", session=session)
    with pytest.raises(TypeError):
        reducto.Session(audit_log=7.5)


def test_max_output(corpora):
    blob = reducto.compress(TARGET, corpora[0])
    assert reducto.decompress(blob, corpora[0], max_output=len(TARGET)) == TARGET
    with pytest.raises(reducto.ReductoError) as caught:
        reducto.decompress(blob, corpora[0], max_output=len(TARGET) - 1)
    assert caught.value.message


def test_errors_pickle():
    import pickle
    error = reducto.IntegrityError(4, "a message")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is reducto.IntegrityError
    assert (again.code, again.name, again.message, again.remedy) == \
        (4, "integrity", "a message", error.remedy)
