"""What the answer-check suites share: asking the product, caching its drafts, re-checking them.

A draft is cached under the prompts and the model that wrote it (`prompt_key`, `model_key`), so a
changed prompt or model asks again while a changed check re-scores the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbot.evaluation.predictions import PredictionStore, key_of
from vectorstore.records import Passage, SearchFilter

if TYPE_CHECKING:
    from prompts import Prompts


def prompt_key(prompts: Prompts) -> str:
    """A short hash of every prompt template: cached drafts are valid for these prompts only."""
    text = "".join(prompts.templates[name].text for name in sorted(prompts.templates))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def answering_key(answering: Mapping[str, Any]) -> str:
    """The part of a cached draft's key that says which product options made it (a draft made
    over whole chunks is not one made over the compact context)."""
    return ",".join(f"{name}={value}" for name, value in sorted(answering.items()))


class Drafts:
    """A suite's drafts: each read from the cache at `path`, or asked of the product now and
    appended there.

    A draft is keyed by the fields that name its question and by the prompts and model that wrote
    it (`prompt_key`; `model`: the model's name and the options that matter), in `key` order.
    """

    def __init__(self, path: Path, key: Sequence[str], prompts: Prompts, model: str) -> None:
        self.cache = PredictionStore(path, key_of(*key))
        self.prompt = prompt_key(prompts)
        self.model = model
        self.asked = 0

    def get(
        self, question: Mapping[str, Any], ask: Callable[[], dict[str, Any]] | None
    ) -> dict[str, Any] | None:
        """The cached draft of `question`; else, with `ask`, a new one (its record is `question`,
        the prompts and model, then what `ask` returns); else None."""
        record = {**question, "prompt": self.prompt, "model": self.model}
        cached = self.cache.get(self.cache.key(record))
        if cached is not None or ask is None:
            return cached
        record.update(ask())
        self.cache.append(record)
        self.asked += 1
        return record


def context_budget(answering: Mapping[str, Any]) -> int:
    """The compact context's budget a suite's drafts were written over (0: the chunks whole),
    from the product options it answered with: what `recheck` compacts their passages to."""
    return int(answering.get("context_tokens") or 0)


@dataclass(frozen=True)
class Verdict:
    """The check's outcome on one cached draft."""

    answer: str
    grounded: bool
    refused_by: str | None


def recheck(
    draft: str,
    passages: Sequence[Passage],
    question: str,
    *,
    follow_up: str = "",
    second_look: bool = False,
    as_of: date | None = None,
    context_tokens: int = 0,
) -> Verdict:
    """Run the product's answer check on a cached draft; with `as_of`, the time the question's
    words name (the follow-up's own, when there is one) is checked as `Assistant.stream` does.
    With `context_tokens`, the draft is checked against the compact context the model read
    (`Assistant.retrieve`), not the retrieved chunks whole."""
    from bot.answer.context import compact_passages
    from bot.answer.grounding import check_answer
    from bot.answer.question import named_days

    if context_tokens > 0:
        passages = compact_passages(passages, question, context_tokens)
    checked = check_answer(
        draft,
        passages,
        question,
        follow_up=follow_up,
        second_look=second_look,
        named_time=named_days(follow_up or question, as_of) if as_of else None,
    )
    return Verdict(checked.text, checked.grounded, checked.refused_by)


class SuiteRetriever:
    """The retriever of a suite's assistant: it searches `store`, or, given `passages` instead
    (already chosen), returns them for any question; it keeps the last result (the passages a
    follow-up was answered over)."""

    def __init__(self, store: Any = None, passages: Sequence[Passage] = ()) -> None:
        self.store = store
        self.passages = list(passages)
        self.last: list[Passage] = []

    def search(
        self,
        query: str,
        k: int,
        published_before: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[Passage]:
        if self.store is None:
            self.last = self.passages[:k]
        else:
            self.last = list(self.store.search(query, k, published_before, filters))
        return self.last


def count(counts: dict[str, int], key: str, by: int | bool = 1) -> None:
    """Add `by` to `counts[key]`."""
    counts[key] = counts.get(key, 0) + int(by)


def tally(
    groups: dict[str, dict[str, Any]], group: str, verdict: Verdict, second_look: bool
) -> None:
    """Count one re-checked draft in its group: questions, model refused (it took a second look),
    answered on a second look, refused after the check, and by which check."""
    counts = groups.setdefault(group, {"refused_by": {}})
    count(counts, "questions")
    count(counts, "model_refused", second_look)
    count(counts, "second_look_answered", second_look and verdict.grounded)
    count(counts, "refused", not verdict.grounded)
    if not verdict.grounded:
        count(counts["refused_by"], verdict.refused_by or "unknown")
