"""`make scale-demo` stopped with SIGTERM (a `kill`, a service manager) leaves nothing behind.

The real script with real processes on loopback: PostgreSQL, `chroma run`, the model server, two
replicas and the ingest worker's run. SIGTERM goes to the script alone (not its process group, as
a terminal's Ctrl-C would): every process it started must be gone, and its temp folder removed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLES_DIR, REPO
from tests.fixtures_llm import TEST_MODELS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.server]


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def scratch() -> Iterator[Path]:
    """The script's TMPDIR: a folder PostgreSQL's user may enter too (pytest's tmp_path is
    private to root, and the cluster runs as `postgres` when the tests run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="scale-demo-stop-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_sigterm_stops_every_service_and_removes_the_temp_folder(scratch: Path) -> None:
    from bot.llm.model_files import ensure_default_model

    ensure_default_model(TEST_MODELS_DIR)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "OPENAI_"))}
    env |= {
        "NEWSBOT_MODELS_DIR": str(TEST_MODELS_DIR),
        "ANONYMIZED_TELEMETRY": "False",
        "TMPDIR": str(scratch),  # where the script makes its temp folders
    }
    article = next(iter(sorted(EXAMPLES_DIR.glob("*.md"))))
    log = scratch / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "scale_demo.py"), str(article)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # the signal reaches the script only, never its services
        )
    try:
        deadline = time.monotonic() + 900
        while "Ctrl-C stops everything" not in (output := log.read_text()):
            assert demo.poll() is None, output
            assert time.monotonic() < deadline, output
            time.sleep(1)
        folder = Path(re.search(r" in (\S+) \.\.\.", output)[1])  # type: ignore[index]
        urls = re.findall(r"^  \S.*?(http://127\.0\.0\.1:\d+)", output, re.MULTILINE)
        started = descendants(demo.pid)
        assert folder.parent == scratch, output
        assert folder.is_dir()
        assert len(urls) == 4, output  # chroma, the model server and two replicas answer HTTP
        assert len(started) >= 5, started

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=180) == 0, log.read_text()
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()

    assert [pid for pid in started if alive(pid)] == []
    for url in urls:
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=2)
    assert not folder.exists()
    assert [p.name for p in scratch.iterdir() if p.name.startswith("newsbot-")] == []
