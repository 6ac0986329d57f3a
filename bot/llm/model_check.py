"""Is this file the bundled model? Its size and sha256, with a sidecar record for quick checks.

A small sidecar file (`<model>.verified.json`) records size, mtime and sha256 of a verified file,
so later starts check it in microseconds instead of rehashing 1.1 GB.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bot.llm.model_spec import DEFAULT_MODEL, READ_CHUNK, ModelSpec, Progress


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def write_sidecar(path: Path, sha256: str) -> None:
    """Record that `path`, as it is now (size, mtime), has been verified to have `sha256`."""
    stat = path.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    _sidecar(path).write_text(json.dumps(record) + "\n", encoding="utf-8")


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    """The sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as stream:
        while chunk := stream.read(READ_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def verify_model(path: Path, spec: ModelSpec = DEFAULT_MODEL, *, full: bool = False) -> bool:
    """True when `path` is the model described by `spec`.

    The quick check compares the size, and the size, mtime and hash recorded in the sidecar by the
    last full check. `full=True` rehashes the file (about 5 s per GB) and refreshes the sidecar.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    if stat.st_size != spec.size:
        return False
    if not full:
        try:
            record = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return bool(
            record.get("size") == stat.st_size
            and record.get("mtime_ns") == stat.st_mtime_ns
            and record.get("sha256") == spec.sha256
        )
    if file_sha256(path) != spec.sha256:
        return False
    write_sidecar(path, spec.sha256)
    return True
