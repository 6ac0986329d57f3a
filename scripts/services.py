"""The servers of a newsbot deployment, started as local processes on loopback ports.

PostgreSQL (registry, keyword index, ingest lock), `chroma run` (vectors), the bundled model behind
llama.cpp's OpenAI-compatible server (`newsbot model serve`, standing in for vLLM) and
`newsbot serve` replicas: each is what would run on its own machine, here on 127.0.0.1. Used by
`make scale-demo` (scripts/scale_demo.py), the topology test and the load benchmark.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import httpx

NEWSBOT = (sys.executable, "-c", "from newsbot.cli import main; main()")
CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """One running server process and where it answers."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for step in self.cleanup:
            step()


def _start(
    name: str,
    command: list[str],
    log: Path,
    ready: Callable[[], bool],
    url: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 180.0,
    cancelled: threading.Event | None = None,
) -> Service:
    """Start `command` and wait until `ready()` (or `cancelled` is set: then it is stopped);
    its output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=dict(env or os.environ)
        )
    service = Service(name, process, url, log)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if cancelled is not None and cancelled.is_set():
                raise RuntimeError(f"{name}: start cancelled")
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.2)
    except BaseException:  # a failed start, or Ctrl-C/SIGTERM while waiting: not left running
        service.stop()
        raise
    return service


Starter = Callable[..., Service]
"""A `start_*` function with its arguments bound (`functools.partial`); it is called with the
event that cancels it as `cancelled=`."""


def start_together(starters: Sequence[Starter]) -> list[Service]:
    """Start services side by side, each waiting for its own readiness, so that their start-up
    times overlap instead of adding up; returned in the order given.

    If one fails, or the wait is interrupted (Ctrl-C, or SIGTERM raised as KeyboardInterrupt),
    the starts still under way are cancelled and every service that did start is stopped before
    the error goes on: none is left running.
    """
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=len(starters))
    futures = [pool.submit(start, cancelled=cancel) for start in starters]
    failed: BaseException | None = None  # the first failure, which cancels the rest
    try:
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f.exception() for f in futures if f.done() and f.exception()), None)
        if failed is not None:
            cancel.set()
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True)  # every start has ended: a cancelled one within a poll
        if cancel.is_set():
            for future in futures:
                if future.exception() is None:
                    future.result().stop()
    if failed is not None:
        raise failed
    return [future.result() for future in futures]


def _http_ok(url: str, answering: bool = False) -> Callable[[], bool]:
    """True once `url` answers 200 (`answering`: answers at all, e.g. 401 behind a sign-in)."""

    def check() -> bool:
        try:
            status = httpx.get(url, timeout=2).status_code
        except httpx.TransportError:
            return False
        return status < 500 if answering else status == 200

    return check


# --- PostgreSQL --------------------------------------------------------------------------------


def postgres_bin(program: str) -> str:
    """The path of a PostgreSQL server program (Debian keeps them out of PATH)."""
    found = shutil.which(program)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / program).is_file():
            return str(folder / program)
    raise RuntimeError(
        f"PostgreSQL's {program} not found: install the server (`make postgres`, or "
        "apt-get install postgresql)"
    )


def start_postgres(
    log_dir: Path, port: int | None = None, cancelled: threading.Event | None = None
) -> Service:
    """A new PostgreSQL cluster in a temp folder, trusting local connections as user `newsbot`,
    with a database `newsbot`; `url` is its connection URL. It runs as the `postgres` user when
    this process is root (the server refuses to run as root). fsync is off: a throwaway cluster.
    """
    port = port or free_port()
    folder = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    data = folder / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    try:  # the cluster's folder goes with a failed or interrupted initdb
        subprocess.run(
            [
                *prefix,
                postgres_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "newsbot",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    command = [
        *prefix,
        postgres_bin("postgres"),
        "-D",
        str(data),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-k",
        str(folder),
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
    ]
    base = f"postgresql://newsbot@127.0.0.1:{port}"

    def ready() -> bool:
        import psycopg

        try:
            with psycopg.connect(base + "/postgres", connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    try:
        service = _start(
            "postgres",
            command,
            log_dir / "postgres.log",
            ready,
            base + "/newsbot",
            cancelled=cancelled,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    service.cleanup.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    try:
        create_database(base + "/postgres", "newsbot")
    except BaseException:
        service.stop()
        raise
    return service


def create_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


# --- Chroma, the model, newsbot ----------------------------------------------------------------


def start_chroma(
    folder: Path, port: int | None = None, cancelled: threading.Event | None = None
) -> Service:
    """`chroma run` storing into `folder`."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(CHROMA),
        "run",
        "--path",
        str(folder / "chroma"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    ready = _http_ok(url + "/api/v2/heartbeat")
    return _start("chroma", command, folder / "chroma.log", ready, url, cancelled=cancelled)


def start_model_server(
    log_dir: Path,
    env: Mapping[str, str],
    port: int | None = None,
    parallel: int = 1,
    cancelled: threading.Event | None = None,
) -> Service:
    """The bundled model behind llama.cpp's OpenAI-compatible server (`newsbot model serve`)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*NEWSBOT, "model", "serve", "--port", str(port), "--parallel", str(parallel)]
    ready = _http_ok(url + "/health")
    return _start("model server", command, log_dir / "model.log", ready, url, env, 300, cancelled)


def start_replica(
    name: str,
    data_dir: Path,
    env: Mapping[str, str],
    port: int | None = None,
    cancelled: threading.Event | None = None,
) -> Service:
    """`newsbot serve` with its own data dir."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*NEWSBOT, "serve", "--host", "127.0.0.1", "--port", str(port)]
    return _start(
        name,
        command,
        data_dir / "serve.log",
        _http_ok(url + "/api/health", answering=True),
        url,
        {**env, "NEWSBOT_DATA_DIR": str(data_dir)},
        cancelled=cancelled,
    )


def newsbot(
    *args: str, env: Mapping[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run one `newsbot` command to its end."""
    return subprocess.run(
        [*NEWSBOT, *args], capture_output=True, text=True, timeout=timeout, env=dict(env)
    )
