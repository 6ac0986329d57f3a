"""The multiple-choice step: passages + question + lettered choices in, the model's pick out.

The prompt (`prompts/multiple_choice.txt`) starts with fixed instructions, so the server can reuse
its cached prefix, then the date the question is asked as of, the numbered passages, the question
and the choices lettered A-D. `parse_choice` reads the pick robustly ("B", "(B)", "Answer: B",
"B. text", or the choice's text itself); an answer it cannot read gives None, which is counted and
reported (and scored as wrong), never guessed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from bot.answer.grounding import MARKER, marker_numbers
from newsbot.evaluation.metrics import normalise
from prompts import PromptTemplateFile

LETTERS = "ABCDEFGH"
#: Enough for "Answer: B [2]" and a little preamble; the reply ends at its first line break.
MAX_ANSWER_TOKENS = 24
STOP = ("\n",)
NO_PASSAGES = "(no passages)"

# A lone letter: in parentheses anywhere, or after "answer (is)", "option", "choice", or at the
# start of the reply, followed by punctuation, a citation, or the end (so "A new law" is no pick).
_PARENS = re.compile(r"\(([A-H])\)")
_MARKED = re.compile(
    r"(?:^|\banswer(?:\s+is)?\s*[:\-]?|\b(?:option|choice)\s*[:\-]?)\s*\(?([A-H])\)?"
    r"(?=$|[.,:;)\]]|\s*\[|\s*$|\s+[-\u2013\u2014]\s|\s*\n)",
    re.IGNORECASE,
)


def letter(index: int) -> str:
    """The letter of a 0-based choice index (0 → "A")."""
    return LETTERS[index]


def format_choices(choices: Sequence[str]) -> str:
    """The choices as "A. ..." lines."""
    return "\n".join(f"{letter(i)}. {text}" for i, text in enumerate(choices))


def _bare(text: str) -> str:
    return normalise(text).strip("\"'. ")


def parse_choice(reply: str, choices: Sequence[str]) -> int | None:
    """The 0-based choice a reply picks, or None when it picks none or is ambiguous.

    A letter in one of the forms above wins (the earliest one); otherwise a reply that contains
    exactly one choice's text (ignoring case and quotes) picks it.
    """
    text = reply.replace("*", "").replace("#", "").strip()
    n = len(choices)
    found: list[tuple[int, int]] = []
    for pattern in (_PARENS, _MARKED):
        for match in pattern.finditer(text):
            index = LETTERS.index(match.group(1).upper())
            if index < n:
                found.append((match.start(1), index))
    if found:
        return min(found)[1]
    said = _bare(text)
    bare = [_bare(c) for c in choices]
    hits = [i for i, c in enumerate(bare) if c and c in said]
    # A choice inside another that was also named ("Paris" in "Paris, Texas") is not a separate hit.
    hits = [i for i in hits if not any(j != i and bare[i] in bare[j] for j in hits)]
    return hits[0] if len(hits) == 1 else None


def parse_citations(reply: str, n_passages: int) -> list[int]:
    """The 1-based passage numbers cited, in order of first mention, only valid ones.

    Markers are read as the product reads them (`bot.answer.grounding.MARKER`): "[2]", "[1, 3]",
    "[1-2]", "[passage 2]".
    """
    seen: list[int] = []
    for match in MARKER.finditer(reply):
        for number in marker_numbers(match.group(1)):
            if 1 <= number <= n_passages and number not in seen:
                seen.append(number)
    return seen


def build_prompt(
    template: PromptTemplateFile,
    *,
    as_of: str,
    passages: str,
    question: str,
    choices: Sequence[str],
) -> str:
    """Fill the multiple-choice template; empty `passages` become a "(no passages)" line."""
    return template.format(
        as_of=as_of,
        passages=passages.strip() or NO_PASSAGES,
        question=question.strip(),
        choices=format_choices(choices),
    )


@dataclass(frozen=True)
class ChoiceReply:
    """The model's reply to one question, with timings since `started` and token counts."""

    text: str
    ttft_s: float | None
    total_s: float
    prompt_tokens: int
    completion_tokens: int


def ask_model(
    llm: BaseChatModel,
    prompt: str,
    *,
    started: float,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> ChoiceReply:
    """Stream the model's reply to `prompt`; times count from `started` (a `perf_counter()`).

    Token counts come from the server's usage report (0 when it sends none).
    """
    options: dict[str, Any] = {"max_tokens": max_tokens, "stop": list(STOP)}
    if type(llm).__name__ == "ChatOpenAI" or hasattr(llm, "stream_usage"):
        options["stream_usage"] = True
    parts: list[str] = []
    first: float | None = None
    prompt_tokens = completion_tokens = 0
    for chunk in llm.stream([HumanMessage(prompt)], **options):
        content = chunk.content if isinstance(chunk.content, str) else ""
        if content and first is None:
            first = time.perf_counter()
        parts.append(content)
        usage = getattr(chunk, "usage_metadata", None)
        if usage:
            prompt_tokens = max(prompt_tokens, int(usage.get("input_tokens", 0)))
            completion_tokens = max(completion_tokens, int(usage.get("output_tokens", 0)))
    done = time.perf_counter()
    return ChoiceReply(
        text="".join(parts).strip(),
        ttft_s=None if first is None else first - started,
        total_s=done - started,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )
