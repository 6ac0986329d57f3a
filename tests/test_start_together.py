"""`scripts.services.start_together`: the servers of a deployment start side by side, and none is
left running when one of them fails to start."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.services import Service, start_together


def sleeper(name: str, tmp_path: Path) -> Service:
    """A real process standing in for a server that starts at once."""
    process = subprocess.Popen(["sleep", "60"])
    return Service(name, process, f"http://127.0.0.1/{name}", tmp_path / f"{name}.log")


def slow_to_start(tmp_path: Path, cancelled: threading.Event) -> Service:
    """A start that waits for readiness until it is cancelled (as `_start` does)."""
    if cancelled.wait(timeout=30):
        raise RuntimeError("slow: start cancelled")
    raise AssertionError("never cancelled")


def failing(cancelled: threading.Event) -> Service:
    time.sleep(0.2)  # after the others have started
    raise RuntimeError("chroma did not start: port in use")


def test_services_start_side_by_side_and_come_back_in_order(tmp_path: Path) -> None:
    def starter(name: str, seconds: float) -> Callable[[threading.Event], Service]:
        def start(cancelled: threading.Event) -> Service:
            time.sleep(seconds)
            return sleeper(name, tmp_path)

        return start

    started = time.monotonic()
    services = start_together([starter("a", 1.0), starter("b", 1.0), starter("c", 0.1)])
    try:
        assert time.monotonic() - started < 1.9, "the waits overlapped"
        assert [s.name for s in services] == ["a", "b", "c"]
        assert all(s.process.poll() is None for s in services)
    finally:
        for service in services:
            service.stop()


def test_one_failed_start_cancels_the_others_and_stops_the_started(tmp_path: Path) -> None:
    running: list[Service] = []

    def started(cancelled: threading.Event) -> Service:
        service = sleeper("postgres", tmp_path)
        running.append(service)
        return service

    began = time.monotonic()
    with pytest.raises(RuntimeError, match="port in use"):
        start_together([started, lambda cancelled: slow_to_start(tmp_path, cancelled), failing])
    assert time.monotonic() - began < 10, "the slow start was cancelled, not waited out"
    [service] = running
    assert service.process.poll() is not None, "the started service was stopped"
