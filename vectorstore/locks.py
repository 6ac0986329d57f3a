"""Advisory file locks that order newsbot's processes (and the threads inside each) around writes.

A `FileLock` is one per lock file per process (`FileLock.at(path)`), so every thread of the process
goes through the same `threading.RLock` first and the same open file for `flock(2)`: two `flock`
calls on different descriptors of one file would block each other even inside one process. The
lock is re-entrant for the thread that holds it; a thread holding it shared cannot upgrade.

The kernel drops a `flock` when its process dies, `kill -9` included, so a crashed writer never
leaves a stale lock behind. POSIX only (`fcntl`), like the rest of newsbot's process handling.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

_instances: dict[tuple[type, object], ReentrantLock] = {}
_instances_lock = threading.Lock()
Lock = TypeVar("Lock", bound="ReentrantLock")


def one_per_process(kind: type[Lock], key: object, *args: object) -> Lock:
    """The process's one `kind(*args)` lock for `key` (made on first use), so every thread goes
    through the same thread lock and the same cross-process handle."""
    with _instances_lock:
        lock = _instances.get((kind, key))
        if lock is None:
            lock = _instances[(kind, key)] = kind(*args)
        assert isinstance(lock, kind)
        return lock


class ReentrantLock(ABC):
    """A lock held exclusive or shared across processes and exclusive among the threads of one,
    re-entrant for the thread that holds it; a thread holding it shared cannot upgrade.

    Subclasses take and drop the cross-process lock (`_acquire`, `_release`); this class counts
    the holder's nesting so that only the outermost `hold` takes and drops it.
    """

    name: str

    def __init__(self) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._shared = False

    @contextmanager
    def hold(
        self, *, shared: bool = False, purpose: str = "write", wait: bool = True
    ) -> Iterator[bool]:
        """Hold the lock for the `with` block; waits (and says so in the log) while another has it.

        Yields True when held. With `wait=False` it never waits: when another thread or process
        has the lock, it yields False at once and the block runs without it.

        Raises:
            RuntimeError: the thread holds it shared and asks for it exclusively.
        """
        if not self._thread_lock.acquire(blocking=wait):
            yield False
            return
        try:
            if self._depth == 0:
                if not self._acquire(shared, purpose, wait):
                    yield False
                    return
                self._shared = shared
            elif self._shared and not shared:
                raise RuntimeError(f"{self.name}: cannot upgrade a shared lock to exclusive")
            self._depth += 1
            try:
                yield True
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()
        finally:
            self._thread_lock.release()

    @abstractmethod
    def _acquire(self, shared: bool, purpose: str, wait: bool = True) -> bool:
        """Take the cross-process lock; False (without waiting) when `wait` is False and another
        process has it."""

    @abstractmethod
    def _release(self) -> None: ...


def waiting(purpose: str, name: object) -> None:
    logger.info("Waiting for another newsbot process to finish its %s (%s)", purpose, name)


class FileLock(ReentrantLock):
    """A `flock(2)` lock on `path`. Use `FileLock.at(path)`, not the constructor, so a process
    holds one per file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.name = str(path)
        self._fd: int | None = None

    @classmethod
    def at(cls, path: Path) -> FileLock:
        """The process's lock on `path` (created on first use; the file is made when first held)."""
        return one_per_process(cls, os.path.realpath(path), path)

    def _acquire(self, shared: bool, purpose: str, wait: bool = True) -> bool:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                return False
            waiting(purpose, self.path)
            fcntl.flock(self._fd, mode)
        return True

    def _release(self) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file unless a thread of this process holds the lock (waiting for other
        threads' holds to end); the next `hold` opens it again. For the owner of a data dir that
        is done with it, so a process that opens many keeps no descriptor per dir."""
        with self._thread_lock:
            if self._depth == 0 and self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)
