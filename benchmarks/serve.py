"""Memory of `newsbot serve`: start it on the mini collection, ask one question over the JSON
API, read the process's peak resident memory."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BenchConfig,
    default_models_dir,
    portable,
    stamp,
    timed,
)
from newsbot.errors import ModelError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def bench_serve(config: BenchConfig) -> dict[str, Any]:
    """Start `newsbot serve`, ask one question over the API, read the process's peak RSS."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries

    port = _free_port()
    newsbot = Path(sys.executable).with_name("newsbot")
    command = [
        str(newsbot),
        "--data-dir",
        str(config.data_dir),
        "--collection",
        eval_collection_name(config.mini),
        "serve",
        "--port",
        str(port),
    ]
    env = {**os.environ, "NEWSBOT_MODELS_DIR": str(default_models_dir())}
    log_path = config.work_dir / "serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                error = log_path.read_text(errors="replace")[-2000:]
                raise ModelError(f"newsbot serve exited: {error}")
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ModelError("newsbot serve did not answer /api/health in 300 s") from None
                time.sleep(1)
        idle = _peak_rss_mib(process.pid)
        query = load_queries(config.mini, 1)[0]
        body = json.dumps({"question": query.question, "as_of": query.date}).encode()
        request = urllib.request.Request(
            f"{base}/api/ask", data=body, headers={"content-type": "application/json"}
        )
        _, seconds = timed(lambda: urllib.request.urlopen(request, timeout=600).read())
        peak = _peak_rss_mib(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    return stamp(
        "serve",
        config,
        {
            "serve_command": shlex.join(["newsbot", *map(portable, command[1:])]),
            "peak_rss_mib_before_first_question": round(idle),
            "peak_rss_mib_after_one_answer": round(peak),
            "first_answer_s": round(seconds, 1),
        },
    )
