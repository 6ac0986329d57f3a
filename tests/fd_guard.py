"""A pytest plugin (registered by conftest.py) that fails a test module leaving file descriptors
open: the suite's process once held over 1,400 (stores, Chroma clients and database connections
its tests opened and never closed), and `select.select` breaks past 1023.

Each run of a module's tests in a row (a whole module, or under xdist the part a worker runs in a
row) is compared end against start; the last test of the run gets a teardown error naming what
was left open. What session-wide fixtures open meanwhile (the PostgreSQL server, the model server)
is allowed for, and a garbage collection runs before a run is judged, since Chroma frees a
retired index only then. Counts /proc/self/fd, so it checks nothing where there is none.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Generator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: More descriptors than this left open by one module fail it. One store holds about a dozen
#: (Chroma's SQLite file and runtime, the registry, lock and counter files); a module's own
#: one-off imports a few.
BOUND = 25
_FDS = Path("/proc/self/fd")


@dataclass
class _Run:
    """The module whose tests are running, and what was open when its run began."""

    path: Path | None = None
    start: dict[str, str] = field(default_factory=dict)
    allowed: int = 0  # opened by session fixtures set up during the run
    session_setups: int = 0  # session fixtures being set up now (nested ones count once)


_run = _Run()


def open_fds() -> dict[str, str]:
    """{descriptor: what it is open on}."""
    found = {}
    for fd in os.listdir(_FDS):
        with suppress(OSError):  # closed meanwhile (the listing's own descriptor among them)
            found[fd] = os.readlink(_FDS / fd)
    return found


def _kind(target: str) -> str:
    """A descriptor's target without what differs per test (temp dirs, inode numbers)."""
    if target.startswith("/"):
        return Path(target).name
    return target if target.startswith("anon_inode:") else target.split(":[", 1)[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    if _FDS.is_dir() and item.path != _run.path:
        _run.path, _run.start, _run.allowed = item.path, open_fds(), 0
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    if fixturedef.scope not in ("session", "package") or not _FDS.is_dir():
        return (yield)
    before = len(open_fds())
    _run.session_setups += 1
    try:
        return (yield)
    finally:
        _run.session_setups -= 1
        if _run.session_setups == 0:
            _run.allowed += max(0, len(open_fds()) - before)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, Any, Any]:
    result = yield  # the run's fixtures are torn down now
    if _run.path == item.path and (nextitem is None or nextitem.path != item.path):
        _run.path = None
        _check(item)
    return result


def _check(item: pytest.Item) -> None:
    bound = BOUND + _run.allowed
    if len(open_fds()) - len(_run.start) <= bound:
        return
    gc.collect()  # what only a collection frees is not a leak
    now = open_fds()
    grown = len(now) - len(_run.start)
    if grown <= bound:
        return
    new = Counter(_kind(t) for fd, t in now.items() if _run.start.get(fd) != t)
    listed = ", ".join(f"{kind} x{n}" for kind, n in new.most_common(8))
    pytest.fail(
        f"{item.path.name} left {grown} more file descriptors open than when it began (at most "
        f"{bound} may stay): {listed}. Close what its tests open: the open_store fixture or "
        "NewsStore.close(), ArticleRegistry.close(), a `with` block.",
        pytrace=False,
    )
