"""One Session and one Corpus shared by threads; the session's policies (audit log,
made-here record) as the command line applies them."""

import io
import json
import threading

import pytest

import reducto

from inputs import KINDS, database_dump, source_code, tar_of_files


@pytest.fixture
def corpus(tmp_path, session):
    (tmp_path / "v1").mkdir()
    for name, make in (("a.c", source_code), ("b.sql", database_dump),
                       ("c.tar", tar_of_files)):
        (tmp_path / "v1" / name).write_bytes(make(1))
    with reducto.build_corpus([tmp_path / "v1"], tmp_path / "corpus", session=session) as c:
        yield c


def test_eight_threads_share_a_corpus_and_a_session(corpus, session):
    targets = [KINDS[kind](2) + f"thread {i}".encode() * i
               for i, kind in enumerate(sorted(KINDS))]
    targets.append(source_code(2)[::-1])  # eight in all
    expected = [reducto.compress(t, corpus) for t in targets]
    failures = []
    start = threading.Barrier(len(targets))

    def work(i):
        try:
            start.wait()
            for round in range(4):
                if round % 2:
                    blob = reducto.compress(targets[i], corpus, session=session, threads=2)
                else:
                    buffer = io.BytesIO()
                    with reducto.open(buffer, "wb", corpus=corpus) as f:
                        f.write(targets[i])
                    blob = buffer.getvalue()
                if blob != expected[i]:
                    failures.append(f"thread {i}: another container")
                if reducto.decompress(blob, corpus, session=session) != targets[i]:
                    failures.append(f"thread {i}: round trip differs")
            # An error on one thread leaves the message of another thread alone.
            try:
                reducto.decompress(blob[: len(blob) // 2], corpus)
            except reducto.ReductoError as error:
                if not error.message:
                    failures.append(f"thread {i}: an empty error message")
        except Exception as error:  # reported below, with the thread
            failures.append(f"thread {i}: {error!r}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_closing_a_corpus_while_threads_use_it(tmp_path, session):
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "a").write_bytes(database_dump(1))
    corpus = reducto.build_corpus(tmp_path / "v1", tmp_path / "c", session=session)
    target = database_dump(2)
    outcomes = []

    def work():
        for _ in range(20):
            try:
                assert reducto.decompress(reducto.compress(target, corpus), corpus) == target
                outcomes.append("ok")
            except reducto.InvalidHandleError:
                outcomes.append("closed")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    corpus.close()  # freed by the last call that still uses it
    for t in threads:
        t.join()
    assert set(outcomes) <= {"ok", "closed"} and len(outcomes) == 80


def _audit_entries(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_operations_are_audited(tmp_path, state_dir, corpus, session, cli):
    target = source_code(2)
    blob = reducto.compress(target, corpus)
    reducto.decompress(blob, corpus)
    (tmp_path / "t").write_bytes(target)
    reducto.compress_file(tmp_path / "t", tmp_path / "t.rdc", corpus)
    log = state_dir / "audit.log"
    entries = _audit_entries(log)
    operations = [(e["operation"], e.get("corpus"), e["outcome"]) for e in entries]
    assert ("corpus build", corpus.id, "ok") in operations
    assert operations.count(("compress", corpus.id, "ok")) >= 2
    assert ("decompress", corpus.id, "ok") in operations
    # The log is a hash chain the command line verifies.
    cli.run("audit", "verify", "-q", log)
    # A refusal is audited too.
    with pytest.raises(reducto.ReductoError):
        reducto.decompress(blob[:-3], corpus)
    entries = _audit_entries(log)
    assert entries[-1]["operation"] == "decompress" and entries[-1]["outcome"] != "ok"
    cli.run("audit", "verify", "-q", log)


def test_an_audit_log_of_its_own_or_none(tmp_path, corpus, state_dir):
    log = tmp_path / "elsewhere.log"
    with reducto.Session(state_dir=str(state_dir), audit_log=str(log)) as s:
        reducto.compress(b"payload" * 100, corpus, session=s)
    assert [e["operation"] for e in _audit_entries(log)] == ["compress"]
    before = (state_dir / "audit.log").read_bytes()
    with reducto.Session(state_dir=str(state_dir), audit_log="off") as s:
        reducto.compress(b"payload" * 100, corpus, session=s)
    assert (state_dir / "audit.log").read_bytes() == before


def test_the_cli_trusts_what_the_session_built(tmp_path, corpus, cli):
    # Same state directory: the corpus is in the made-here record the CLI reads.
    (tmp_path / "t").write_bytes(source_code(2))
    cli.run("compress", "-q", "-c", corpus.path, tmp_path / "t", "-o", tmp_path / "t.rdc")
    cli.run("corpus", "verify", "-q", corpus.path)


def test_the_default_session_uses_xdg_state_home(tmp_path):
    # conftest points XDG_STATE_HOME into the test's directory.
    (tmp_path / "in").write_bytes(source_code(1))
    with reducto.build_corpus(tmp_path / "in", tmp_path / "c") as corpus:
        assert corpus.session is reducto.default_session()
        reducto.compress(source_code(2), corpus)
    assert (tmp_path / "state" / "reducto" / "audit.log").exists()
