"""What every benchmark part shares: its configuration, the machine it ran on, the command that
reproduces it (paths relative to the repository, so it runs on a fresh clone), percentiles."""

from __future__ import annotations

import os
import platform
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from newsbot.settings import Settings
    from vectorstore.store import NewsStore

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data"
SHARED = Path(os.environ.get("NEWSBOT_SHARED_DIR", REPO.parent / "shared"))
T = TypeVar("T")


@dataclass
class BenchConfig:
    """The options of `python -m benchmarks` (see its `--help`)."""

    mini: Path = SHARED / "bench" / "realtimeqa-2022-mini"
    full: Path = SHARED / "bench" / "realtimeqa-2022"
    h1: Path = SHARED / "bench" / "realtimeqa-2024-h1"
    data_dir: Path = REPO / "bench-out" / "data"
    work_dir: Path = REPO / "bench-out" / "work"
    k: int = 3
    docs: int = 0
    synthetic: int = 200_000
    questions: int = 30
    grounding_questions: int = 40
    grounding_sets: Sequence[str] = ("mini", "full")
    summaries: list[Path] = field(default_factory=list)
    own_data_dirs: list[Path] = field(default_factory=list)
    argv: Sequence[str] = ()


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory and the current load (the benchmarks share the machine)."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory_gib = round(kib / 2**20, 1)
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def portable(arg: str) -> str:
    """An argument with an absolute path made relative to the repository (`../shared/...`)."""
    name, eq, value = arg.partition("=")
    path = value if eq else arg
    if os.path.isabs(path):
        path = os.path.relpath(path, REPO)
        return f"{name}={path}" if eq else path
    return arg


def command(part: str, argv: Sequence[str]) -> str:
    """The command that re-runs `part` with the given options, runnable from the repo root."""
    args = [portable(a) for a in argv]
    if "--only" in args:
        at = args.index("--only")
        del args[at : at + 2]
    return shlex.join(["python", "-m", "benchmarks", "--only", part, *args])


def stamp(part: str, config: BenchConfig, extra: dict[str, Any]) -> dict[str, Any]:
    """Common fields of a part's result: date, machine, the command."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": command(part, config.argv),
        **extra,
    }


def pct(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile, rounded to 0.1 ms (None without values)."""
    from newsbot.evaluation.metrics import percentile

    value = percentile(values, q)
    return None if value is None else round(value, 4)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """`fn()` and the seconds it took."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def default_models_dir() -> Path:
    """The user's models folder, so the benchmark shares the installed model files."""
    from platformdirs import user_data_dir

    configured = os.environ.get("NEWSBOT_MODELS_DIR")
    if configured:
        return Path(configured)
    return Path(user_data_dir("newsbot", appauthor=False)) / "models"


def settings_for(data_dir: Path) -> Settings:
    """Default settings over `data_dir`, with the installed model files."""
    from newsbot.settings import get_settings

    return get_settings(data_dir=data_dir, models_dir=default_models_dir())


def open_store(settings: Settings, collection: str, *, build_keywords: bool = True) -> NewsStore:
    """The store of `collection` in the settings' data dir, its keyword ranking in memory built
    (as in a server past its first questions: a bench times the steady state) unless the bench
    times the build itself (`build_keywords=False`)."""
    from newsbot.factories import build_store

    store = build_store(settings, collection=collection)
    if build_keywords and store.keywords is not None and store.keywords.memory is not None:
        store.keywords.memory.build()
    return store
