"""Score recorded drafts with the answer check, the way the product uses it.

`check` is the one adapter between the golden tests and the answer check's API
(`bot.answer.grounding.check_answer`), so a change of that API is one change here.

`answer` replays the product's flow over a recorded case: check the first draft; when the model
refused (the "refusal" check) although passages were retrieved, check the second-look draft
instead (`second_look=True`), as `Assistant.stream` does.
`score` counts, per half of the corpus, what the check made of each case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vectorstore.records import Passage

# The check that finds the model's own refusal; the product then takes the second look.
MODEL_REFUSAL = "refusal"


@dataclass(frozen=True)
class Checked:
    """What the answer check made of one draft; `refused_by` is "" when it answered; marker
    `[n]` of `text` cites passage `cited[n - 1]` (0-based)."""

    text: str
    grounded: bool
    refused_by: str
    cited: tuple[int, ...] = ()


def check(
    raw: str, passages: Sequence[Passage], question: str, follow_up: str, second_look: bool
) -> Checked:
    """The one adapter between these tests and `bot.answer.grounding.check_answer`."""
    from bot.answer.grounding import check_answer

    result = check_answer(raw, passages, question, follow_up=follow_up, second_look=second_look)
    refused_by = "" if result.grounded else str(result.refused_by or "unnamed")
    return Checked(result.text, result.grounded, refused_by, tuple(result.cited))


def answer(case: dict[str, Any], passages: Sequence[Passage]) -> Checked:
    """The checked answer the product would show for a recorded case."""
    question = case["question"]
    follow_up = case.get("follow_up", "")
    first = check(case["draft"], passages, question, follow_up, False)
    if passages and first.refused_by == MODEL_REFUSAL:
        return check(case["second_look_draft"], passages, question, follow_up, True)
    return first


def check_all(
    cases: Sequence[dict[str, Any]], articles: dict[str, Any]
) -> list[tuple[dict[str, Any], Checked]]:
    """Every case with its checked answer; `articles` are the shared ones its passages name."""
    from tests.golden.corpus import load_passages

    return [(case, answer(case, load_passages(case["passages"], articles))) for case in cases]


def outcome(case: dict[str, Any], checked: Checked) -> str:
    """ "refused", "right" (grounded and holds an expected fact) or "wrong" (grounded, doesn't)."""
    if not checked.grounded:
        return "refused"
    text = _plain(checked.text)
    return "right" if any(_plain(fact) in text for fact in case.get("facts", [])) else "wrong"


def _plain(text: str) -> str:
    """Lower case with curly quotes made straight, and a fact's own quotes dropped: the correct
    choice “Squid Game” is in the answer 'The show "Squid Game" ...'."""
    return text.translate(_QUOTES).lower().strip().strip("\"'")


_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def score(rows: Iterable[tuple[dict[str, Any], Checked]]) -> dict[str, dict[str, int]]:
    """Counts per half: cases expected to be refused and how many were; cases expected to be
    answered and how many were right, wrong but grounded, or refused."""
    halves: dict[str, Counter[str]] = {}
    for case, checked in rows:
        if case["expect"] not in ("answer", "refuse"):
            continue  # "unknown": the passages may or may not hold the answer
        counts = halves.setdefault(case["half"], Counter())
        result = outcome(case, checked)
        counts[f"expect_{case['expect']}"] += 1
        if case["expect"] == "refuse":
            counts["refused_when_expected"] += result == "refused"
        else:
            counts["right"] += result == "right"
            counts["wrong_grounded"] += result == "wrong"
            counts["refused_answerable"] += result == "refused"
    return {half: dict(sorted(c.items())) for half, c in sorted(halves.items())}


def refusal_table(rows: Iterable[tuple[dict[str, Any], Checked]]) -> list[tuple[str, str, int]]:
    """(check, expected verdict, refusals) for every check that refused a case, most first."""
    counts = Counter((checked.refused_by, case["expect"]) for case, checked in rows)
    return sorted(
        ((by, expect, n) for (by, expect), n in counts.items() if by),
        key=lambda row: (-row[2], row[0], row[1]),
    )
