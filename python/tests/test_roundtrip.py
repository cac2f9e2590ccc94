"""Round trips of every input kind, against a corpus of its older version and standalone,
through Python and through the command line in both directions."""

import pytest

import reducto

from inputs import KINDS


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    return request.param


@pytest.fixture
def versions(kind):
    make = KINDS[kind]
    return make(1), make(2)


@pytest.fixture
def corpus(tmp_path, session, versions):
    old_dir = tmp_path / "v1"
    old_dir.mkdir()
    (old_dir / "input").write_bytes(versions[0])
    with reducto.build_corpus([old_dir], tmp_path / "corpus-v1", session=session) as c:
        yield c


def test_round_trip_against_corpus(corpus, versions, session):
    target = versions[1]
    blob = reducto.compress(target, corpus)
    assert reducto.decompress(blob, corpus) == target
    # bytearray and memoryview in, the same container out.
    assert reducto.compress(bytearray(target), corpus) == blob
    assert reducto.decompress(memoryview(blob), corpus) == target


def test_round_trip_standalone(versions, session):
    target = versions[1]
    blob = reducto.compress(target, session=session)
    assert reducto.decompress(blob, session=session) == target


@pytest.mark.parametrize("kind", ["tar", "source", "elf", "dump"])
def test_a_corpus_of_the_older_version_helps(kind, corpus, versions, session):
    target = versions[1]
    against = reducto.compress(target, corpus)
    alone = reducto.compress(target, session=session)
    assert len(against) < len(alone)


def test_cli_decompresses_what_python_compressed(tmp_path, cli, corpus, versions):
    target = versions[1]
    (tmp_path / "py.rdc").write_bytes(reducto.compress(target, corpus))
    cli.run("decompress", "-q", "-c", corpus.path, tmp_path / "py.rdc",
            "-o", tmp_path / "py.out")
    assert (tmp_path / "py.out").read_bytes() == target


def test_python_decompresses_what_the_cli_compressed(tmp_path, cli, corpus, versions):
    target = versions[1]
    (tmp_path / "target").write_bytes(target)
    cli.run("compress", "-q", "-c", corpus.path, tmp_path / "target",
            "-o", tmp_path / "cli.rdc")
    blob = (tmp_path / "cli.rdc").read_bytes()
    assert reducto.decompress(blob, corpus) == target
    # The same input and settings give the same container, whichever front end.
    assert reducto.compress(target, corpus) == blob


def test_files(tmp_path, corpus, versions, session):
    target = versions[1]
    (tmp_path / "target").write_bytes(target)
    stats = reducto.compress_file(tmp_path / "target", tmp_path / "t.rdc", corpus)
    assert stats.input_bytes == len(target)
    assert stats.output_bytes == (tmp_path / "t.rdc").stat().st_size
    assert (tmp_path / "t.rdc").read_bytes() == reducto.compress(target, corpus)
    reducto.decompress_file(tmp_path / "t.rdc", tmp_path / "t.out", corpus)
    assert (tmp_path / "t.out").read_bytes() == target
    with pytest.raises(reducto.ReductoError):  # the output exists
        reducto.decompress_file(tmp_path / "t.rdc", tmp_path / "t.out", corpus)
    reducto.decompress_file(tmp_path / "t.rdc", tmp_path / "t.out", corpus, overwrite=True)
    assert (tmp_path / "t.out").read_bytes() == target


def test_decompress_fetches_the_corpus_from_a_repository(tmp_path, cli, corpus, versions):
    """A session with a repository and no corpus given: the container's corpus is fetched
    into the cache, verified, and used; the second time the cache serves it."""
    cli.run("corpus", "publish", "-q", corpus.path, "--to", tmp_path / "repo")
    blob = reducto.compress(versions[1], corpus)
    with reducto.Session(state_dir=str(tmp_path / "receiver"), skip_origin_check=True,
                         repositories=["file://" + str(tmp_path / "repo")],
                         cache_dir=str(tmp_path / "cache")) as receiver:
        assert reducto.decompress(blob, session=receiver) == versions[1]
    assert list((tmp_path / "cache" / "corpora").iterdir())
    with reducto.Session(state_dir=str(tmp_path / "receiver"), skip_origin_check=True,
                         repositories=["http://127.0.0.1:9/none"],
                         cache_dir=str(tmp_path / "cache")) as offline:
        assert reducto.decompress(blob, session=offline) == versions[1]
    with reducto.Session(state_dir=str(tmp_path / "receiver")) as no_repository:
        with pytest.raises(reducto.NotFoundError, match="repository"):
            reducto.decompress(blob, session=no_repository)


def test_last_metrics_counts_the_file_compressed(tmp_path, corpus, versions, session):
    source = tmp_path / "input"
    source.write_bytes(versions[1])
    stats = reducto.compress_file(source, tmp_path / "input.rdc", corpus, session=session)
    metrics = reducto.last_metrics()
    assert metrics["command"] == "compress" and metrics["status"] == "ok"
    assert metrics["counters"]["original_bytes"] == len(versions[1])
    assert metrics["counters"]["container_bytes"] == (tmp_path / "input.rdc").stat().st_size
    assert metrics["counters"]["copy_bytes"] == stats.copy_bytes
    reducto.decompress_file(tmp_path / "input.rdc", tmp_path / "back", corpus, session=session)
    assert reducto.last_metrics()["command"] == "decompress"
    assert reducto.last_metrics()["counters"]["original_bytes"] == len(versions[1])
