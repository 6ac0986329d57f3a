"""The descriptor guard (tests/fd_guard.py) run on small suites in a pytest of their own: a module
that keeps descriptors open fails and says which; one that closes them, or whose session-wide
fixture opens them, passes; so under pytest-xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SUITE = {
    "conftest.py": """
import os
import pytest

@pytest.fixture(scope="session")
def server_pipes():
    fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(40)]
    yield fds
    for fd in fds:
        os.close(fd)
""",
    "test_keeps.py": """
import os

kept = []

def test_opens_forty_and_keeps_them():
    kept.extend(os.open(os.devnull, os.O_RDONLY) for _ in range(40))
""",
    "test_closes.py": """
import os

def test_opens_forty_and_closes_them():
    for fd in [os.open(os.devnull, os.O_RDONLY) for _ in range(40)]:
        os.close(fd)

def test_keeps_a_few_under_the_bound():
    test_keeps_a_few_under_the_bound.kept = [os.open(os.devnull, os.O_RDONLY) for _ in range(5)]
""",
    "test_session.py": """
def test_before_the_session_fixture():
    pass

def test_with_the_session_fixture(server_pipes):
    assert len(server_pipes) == 40
""",
}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_module_that_keeps_descriptors_open_fails_and_says_which(
    tmp_path: Path, workers: list[str]
) -> None:
    for name, text in SUITE.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    pytest_args = ["-p", "tests.fd_guard", "-p", "no:cacheprovider", "-q", *workers]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "test_keeps.py left 40 more file descriptors open than when it began" in out
    assert "(at most 25 may stay): null x40." in out
    assert "ERROR at teardown of test_opens_forty_and_keeps_them" in out
    assert "5 passed, 1 error" in out
