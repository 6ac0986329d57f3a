"""The follow worker: polls the due followed sources until told to stop, one process per source.

`newsbot follow run` runs it in the foreground; `newsbot serve` runs it on a background thread.
Each pass takes the sources that are due and unheld, claims each one's lease (another replica
may have taken it first: then it is theirs) and polls it. Between passes it sleeps until the
next check is due, but never longer than `WAKE_SECONDS`, so a source added by another process is
seen soon. `after_pass` runs after each pass (retention, when NEWSBOT_KEEP_DAYS is set).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable

from ingest.follow.poller import LeaseLost, Poller, PollStopped
from newsbot.errors import NewsbotError
from vectorstore.follows import FollowedSources, PollOutcome

logger = logging.getLogger(__name__)

WAKE_SECONDS = 5.0
"""Longest sleep between two looks at the list of followed sources."""


def worker_name() -> str:
    """This process's name as a lease owner: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class FollowWorker:
    """Polls `sources` with `poller` (see the module docstring)."""

    def __init__(
        self,
        sources: FollowedSources,
        poller: Poller,
        *,
        after_pass: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sources = sources
        self.poller = poller
        self.after_pass = after_pass
        self.clock = clock

    def run_once(self, stop: threading.Event | None = None) -> list[tuple[str, PollOutcome]]:
        """Poll every source that is due and that this process gets the lease of."""
        done: list[tuple[str, PollOutcome]] = []
        if stop is not None:
            self.poller.stopping = stop.is_set
        for source in self.sources.due(self.clock()):
            if stop is not None and stop.is_set():
                break
            if not self.poller.claim(source):
                continue  # another process polls it
            # The due list was read before the polls ahead of this one: another process may
            # have polled this source since (its next check moved on, its failures counted).
            fresh = self.sources.get(source.url)
            if fresh is None or fresh.next_check > self.clock():
                self.sources.release(source.url, self.poller.owner)
                continue
            source = fresh
            try:
                done.append((source.url, self.poller.poll(source)))
            except LeaseLost:
                logger.warning("%s: another process took it over mid-poll", source.url)
            except PollStopped:
                self.sources.release(source.url, self.poller.owner)  # the next one may start
                break
            except Exception as exc:  # one source's surprise must not stop the others' polls
                logger.exception("%s: the poll failed", source.url)
                done.append((source.url, self.poller.fail(source, _said(exc))))
        if self.after_pass is not None and not (stop is not None and stop.is_set()):
            self.after_pass()
        return done

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; a pass that fails (the database down) is logged and the
        next one tried after a pause."""
        while not stop.is_set():
            try:
                self.run_once(stop)
                wait = self._until_next()
            except Exception:  # a database gone for a while: this thread must outlive it
                logger.exception("follow: a pass failed; trying again in %g s", WAKE_SECONDS)
                wait = WAKE_SECONDS
            stop.wait(wait)

    def _until_next(self) -> float:
        due = self.sources.next_due()
        if due is None:
            return WAKE_SECONDS
        return min(WAKE_SECONDS, max(0.05, due - self.clock()))


def _said(exc: Exception) -> str:
    if isinstance(exc, NewsbotError):
        return str(exc)
    return f"newsbot could not poll it ({type(exc).__name__}: {exc}); see the log"


def start_in_thread(
    worker: FollowWorker, nice: int = 10
) -> tuple[threading.Thread, threading.Event]:
    """Run `worker` on a daemon thread; set the returned event to stop it.

    On Linux the thread's own scheduling priority is lowered by `nice`, so its parsing and page
    extraction yield the processor to answers.
    """
    stop = threading.Event()

    def run() -> None:
        # Not Linux, or not permitted: it runs at normal priority.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        worker.run(stop)

    thread = threading.Thread(target=run, name="newsbot-follow", daemon=True)
    thread.start()
    return thread, stop
