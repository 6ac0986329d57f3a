"""Load limits for the web app: a bounded queue in front of the model.

`AnswerGate` lets `active` questions reach the model at once (the model's parallel slots) and
`queued` more wait for a slot; anything beyond is turned away at once with a `Busy` carrying a
Retry-After estimate. Waiting happens here, before the model is called, so the model's timeout
counts only the model's own time. One gate serves the JSON API, the chat and the widget.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Protocol

DEFAULT_ANSWER_SECONDS = 30.0
"""Assumed answer time before any answer has been timed (the bundled model on 2 cores)."""


class Busy(Exception):
    """Every answer slot is taken and the queue is full (or the wait ran out)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"newsbot is busy answering other questions; try again in {retry_after} s")
        self.retry_after = retry_after


class Stopped(Exception):
    """The question's client went away while it waited for a slot."""


class _Flag(Protocol):
    def is_set(self) -> bool: ...


STOP_POLL_SECONDS = 0.1
"""How often a waiting question checks whether its client is still there."""


class AnswerGate:
    """At most `active` answers at once, `queued` waiting up to `max_wait` seconds each."""

    def __init__(self, active: int = 1, queued: int = 4, max_wait: float = 120.0) -> None:
        self.active_limit = active
        self.queued_limit = queued
        self.max_wait = max_wait
        self._active = 0
        self._waiting = 0
        self._turned_away = 0
        self._durations: deque[float] = deque(maxlen=20)
        self._cond = threading.Condition()

    @property
    def waiting(self) -> int:
        """Questions waiting for a slot now."""
        return self._waiting

    @property
    def active(self) -> int:
        """Questions holding a slot now."""
        return self._active

    @property
    def turned_away(self) -> int:
        """Questions refused with `Busy` since the gate was made (the metrics' 429s)."""
        return self._turned_away

    def _busy(self) -> Busy:
        self._turned_away += 1
        return Busy(self.retry_after())

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the mean answer time times the queue ahead."""
        mean = sum(self._durations) / len(self._durations) if self._durations else 0.0
        per_answer = mean or DEFAULT_ANSWER_SECONDS
        ahead = (self._waiting + 1) / self.active_limit
        return max(1, min(600, math.ceil(per_answer * ahead)))

    def acquire(self, stop: _Flag | None = None) -> float:
        """Wait for a slot; its start time (for `release`). A set `stop` (the client went away)
        gives up the place in the queue within STOP_POLL_SECONDS.

        Raises:
            Busy: at once when the queue is full, or after `max_wait` seconds without a slot.
            Stopped: `stop` was set while waiting.
        """
        deadline = time.monotonic() + self.max_wait
        with self._cond:
            if self._active >= self.active_limit and self._waiting >= self.queued_limit:
                raise self._busy()
            self._waiting += 1
            try:
                while stop is None or not stop.is_set():
                    if self._active < self.active_limit:
                        self._active += 1
                        return time.monotonic()
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._busy()
                    self._cond.wait(min(left, STOP_POLL_SECONDS))
                raise Stopped("the client went away while waiting for a slot")
            finally:
                self._waiting -= 1

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no question is being answered or waiting, at most `timeout` seconds;
        True when idle. Background work (polling followed feeds) calls it before each step
        that takes the processor, so it runs between answers."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._active or self._waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, STOP_POLL_SECONDS))
            return True

    def release(self, started: float) -> None:
        with self._cond:
            self._active -= 1
            self._durations.append(time.monotonic() - started)
            self._cond.notify()
