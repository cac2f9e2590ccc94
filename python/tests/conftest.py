"""Fixtures of the reducto package's tests.

Every test has its own state directory (never the user's ~/.local/state): the session
fixture records there the corpora it builds, so its later opens pass the origin rule.
The command line, for the interoperability tests, is $REDUCTO_CLI (else `reducto` on
PATH), run with XDG_STATE_HOME and XDG_CONFIG_HOME in the test's directory, so that it
shares the session's state directory and reads no user configuration.
"""

import os
import shutil
import subprocess

import pytest

import reducto


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / "state" / "reducto"


@pytest.fixture
def session(state_dir):
    with reducto.Session(state_dir=str(state_dir)) as s:
        yield s


@pytest.fixture(autouse=True)
def _no_user_state(tmp_path, monkeypatch):
    # The default session (used when a call passes none) reads these on first use.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for name in list(os.environ):
        if name.startswith("REDUCTO_") and name not in ("REDUCTO_LIBRARY", "REDUCTO_CLI"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(reducto._core, "_default_session", None)


class Cli:
    def __init__(self, path, tmp_path):
        self.path = path
        self.env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"),
                        XDG_CONFIG_HOME=str(tmp_path / "xdg"))

    def run(self, *args, check=True):
        result = subprocess.run([self.path, *map(str, args)], env=self.env,
                                capture_output=True)
        if check and result.returncode != 0:
            raise AssertionError(f"reducto {' '.join(map(str, args))} exited "
                                 f"{result.returncode}: {result.stderr.decode()}")
        return result


@pytest.fixture
def cli(tmp_path):
    path = os.environ.get("REDUCTO_CLI") or shutil.which("reducto")
    if not path:
        pytest.skip("set REDUCTO_CLI to the reducto command line (build/cli/reducto)")
    return Cli(path, tmp_path)
