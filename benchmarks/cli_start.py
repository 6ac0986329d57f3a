"""CLI start time: wall time of `newsbot --help` and `newsbot stats`, each run several times one
after the other in a fresh process (as `hyperfine --runs N` would), on an empty data dir."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BenchConfig, stamp

RUNS = 10
COMMANDS = (("--help",), ("stats",))


def _seconds(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def bench_cli(config: BenchConfig) -> dict[str, Any]:
    """Best and median wall time of each command over `RUNS` runs (after one warm-up run)."""
    newsbot = str(Path(sys.executable).with_name("newsbot"))
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "NEWSBOT_DATA_DIR": data_dir}
        for args in COMMANDS:
            argv = [newsbot, *args]
            _seconds(argv, env)  # warm-up: the file cache, Chroma's first-run setup
            times = [_seconds(argv, env) for _ in range(RUNS)]
            rows.append(
                {
                    "command": " ".join(["newsbot", *args]),
                    "best_s": round(min(times), 2),
                    "median_s": round(statistics.median(times), 2),
                }
            )
    return stamp("cli", config, {"runs": RUNS, "rows": rows})
