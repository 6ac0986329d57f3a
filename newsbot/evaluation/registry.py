"""The registry of evaluation modes and suites: names, one-line help, and where each lives.

Light on purpose: `newsbot --help` lists the names without importing any mode (a mode's module
loads LangChain, Chroma or the answer chain only when that mode runs).

- Modes answer the multiple-choice questions of a dataset (suite `mc`) over passages chosen their
  way; `newsbot` is the product's own path.
- Suites are what `newsbot eval` measures: `mc` (accuracy, retrieval and latency of one mode),
  `grounding` and `followups` (how often the product's answer check answers or refuses, scored
  from the product's own answer stream).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsbot.errors import ConfigError

if TYPE_CHECKING:
    from newsbot.evaluation.modes.base import EvalMode, ModeContext


@dataclass(frozen=True)
class ModeSpec:
    """One mode: `target` is "module:Class" of a class built from a `ModeContext`."""

    name: str
    help: str
    target: str
    needs_store: bool = False

    def load(self) -> Any:
        """The mode's class (imports its module)."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def k(self, requested: int) -> int:
        """Passages per question: the mode's own number, or the one asked for."""
        fixed: int | None = self.load().fixed_k
        return requested if fixed is None else fixed

    def build(self, context: ModeContext) -> EvalMode:
        """A ready-to-prepare instance of the mode."""
        mode: EvalMode = self.load()(context)
        return mode


@dataclass(frozen=True)
class SuiteSpec:
    """One suite of `newsbot eval`; `needs_dataset` says whether it takes a DATASET folder."""

    name: str
    help: str
    needs_dataset: bool = True


_MODES = "newsbot.evaluation.modes"
MODES: dict[str, ModeSpec] = {
    spec.name: spec
    for spec in (
        ModeSpec(
            "newsbot",
            "newsbot's own retrieval and passages (as `newsbot ask`)",
            f"{_MODES}.product:NewsbotMode",
            needs_store=True,
        ),
        ModeSpec("gcs", "the dataset's Google results", f"{_MODES}.given:GcsMode"),
        ModeSpec("closed_book", "no passages", f"{_MODES}.given:ClosedBookMode"),
        ModeSpec(
            "plain_rag",
            "LangChain's RAG tutorial as written (its prompt)",
            f"{_MODES}.tutorial:PlainRagMode",
            needs_store=True,
        ),
        ModeSpec(
            "plain_retrieval",
            "the tutorial's retrieval with newsbot's prompt",
            f"{_MODES}.tutorial:PlainRetrievalMode",
            needs_store=True,
        ),
    )
}

SUITES: dict[str, SuiteSpec] = {
    spec.name: spec
    for spec in (
        SuiteSpec("mc", "multiple-choice accuracy, retrieval and latency of one --mode"),
        SuiteSpec("grounding", "answers over their own and another question's passages"),
        SuiteSpec("followups", "two-turn conversations over examples/articles", False),
    )
}


def mode(name: str) -> ModeSpec:
    """The mode called `name`.

    Raises:
        ConfigError: no such mode.
    """
    try:
        return MODES[name]
    except KeyError:
        raise ConfigError(f"Unknown eval mode {name!r}: use one of {', '.join(MODES)}") from None
