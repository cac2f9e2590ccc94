"""The examples of docs/python.md run as written: each ```python block in order, in one
namespace, in a directory holding releases/v1/app.tar, releases/v2/app.tar and a corpus
corpus-v1 built from releases/v1 (by the default session, whose state conftest keeps in
the test's directory)."""

import os
import pathlib
import re

import reducto

from inputs import tar_of_files

DOC = pathlib.Path(os.environ.get(
    "REDUCTO_PYTHON_DOC", pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"))


def _blocks():
    return re.findall(r"^```python\n(.*?)^```$", DOC.read_text(), flags=re.S | re.M)


def test_the_examples_of_docs_python_md_run(tmp_path, monkeypatch, capsys):
    for version in (1, 2):
        (tmp_path / "releases" / f"v{version}").mkdir(parents=True)
        (tmp_path / "releases" / f"v{version}" / "app.tar").write_bytes(tar_of_files(version))
    monkeypatch.chdir(tmp_path)
    reducto.build_corpus(["releases/v1"], "corpus-v1").close()
    blocks = _blocks()
    assert len(blocks) >= 8, "the examples were not found"
    namespace = {"__name__": "docs_python_md"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"{DOC.name}, example {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{DOC}: example {number} failed:\n{block}") from error
    printed = capsys.readouterr().out
    assert reducto.__version__ in printed
    assert "2 not_found" in printed
    assert "1" in printed.splitlines()  # one compress in the service's audit log
    assert (tmp_path / "app.tar").read_bytes() == tar_of_files(2)
