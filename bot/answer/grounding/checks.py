"""The named checks, each a small pure function.

Sentence checks run in order on every sentence of the draft and return None (nothing to say),
or a `SentenceVerdict`: keep (possibly rewritten: a marker added, moved or removed), drop, or
refuse the whole answer. Answer checks look at the question and the passages (before the model
is asked) or at all the sentences kept so far (a gate that opens once and stays open).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.answer.grounding.lexicon import TIME_WORDS
from bot.answer.grounding.markers import cited_numbers, keep_known_markers, with_marker
from bot.answer.grounding.policy import GroundingPolicy
from bot.answer.grounding.refusal import is_refusal
from bot.answer.grounding.words import (
    content_words,
    names_and_numbers,
    plain,
    question_coverage,
    stem,
    subject_coverage,
    support,
)
from vectorstore.sentences import sentence_spans

Span = tuple[int, int]


@dataclass(frozen=True)
class SentenceVerdict:
    """What a check decided about one sentence of the model's draft: `action` is "keep" (shown,
    as `text`: a marker may be added, moved or removed), "drop" (left out) or "refuse" (the
    whole answer became the refusal); `check` names the deciding check. In the answer's verdicts
    (the debug view) `text` is the sentence as the model wrote it."""

    text: str
    action: Literal["keep", "drop", "refuse"]
    check: str
    reason: str


@dataclass
class Evidence:
    """What the checks compare an answer with."""

    passages: list[str]
    question: str
    follow_up: str = ""
    second_look: bool = False
    policy: GroundingPolicy = field(default_factory=GroundingPolicy)
    known: set[str] = field(default_factory=set)
    titles: list[str] = field(default_factory=list)
    sentences: list[list[tuple[Span, set[str]]]] = field(init=False)
    title_words: list[set[str]] = field(init=False)
    asked: set[str] = field(init=False)
    """The content words of the question and the follow-up: no claim of the answer's own."""

    def __post_init__(self) -> None:
        # Each passage's sentences (a line break ends one) with their content words: where a
        # claim must stand (`claim_window`) and what the answer quotes (`quotes`).
        self.sentences = [
            [((a, b), content_words(text[a:b])) for a, b in sentence_spans(text, lines=True)]
            for text in self.passages
        ]
        titles = self.titles or [""] * len(self.passages)
        self.title_words = [content_words(title) for title in titles]
        # Read by several checks on every sentence: worked out once.
        self.asked = content_words(self.question) | content_words(self.follow_up)


SentenceCheck = Callable[[str, bool, Evidence], SentenceVerdict | None]


def refusal(sentence: str, first: bool, evidence: Evidence) -> SentenceVerdict | None:
    """The model says the articles don't answer: as its first sentence that is its answer; later,
    a refusal tacked onto an answer would contradict it."""
    if not is_refusal(sentence):
        return None
    if first:
        return SentenceVerdict(
            sentence, "refuse", "refusal", "the model says the articles don't answer"
        )
    return SentenceVerdict(sentence, "drop", "refusal", "a refusal after an answer")


def known_markers(sentence: str, first: bool, evidence: Evidence) -> SentenceVerdict | None:
    """Markers that name no given passage are removed; the rest written `[a][b]`."""
    text = keep_known_markers(sentence, len(evidence.passages))
    unknown = set(cited_numbers(sentence)) - set(cited_numbers(text))
    reason = f"removed markers naming no passage: {sorted(unknown)}" if unknown else ""
    return SentenceVerdict(text, "keep", "known_markers", reason)


def attribution(sentence: str, first: bool, evidence: Evidence) -> SentenceVerdict | None:
    """An unmarked sentence is cited to the passage that holds most of its own words, when that
    share reaches `policy.attribute`, and dropped when none does (nothing would check it);
    short sentences ("Yes.") stay unmarked."""
    policy = evidence.policy
    if cited_numbers(sentence) or len(content_words(sentence)) < policy.min_content_words:
        return None
    scores = [support(sentence, p, evidence.question) for p in evidence.passages]
    best = max(range(len(scores)), key=scores.__getitem__, default=-1)
    if best < 0 or scores[best] < policy.attribute:
        share = scores[best] if best >= 0 else 0.0
        return SentenceVerdict(
            sentence, "drop", "attribution", f"unmarked; no passage holds more than {share:.0%}"
        )
    reason = f"unmarked; passage {best + 1} holds {scores[best]:.0%} of its words"
    return SentenceVerdict(with_marker(sentence, best + 1), "keep", "attribution", reason)


def _supports(passage: str, sentence: str, evidence: Evidence) -> bool:
    policy = evidence.policy
    return (
        support(sentence, passage) >= policy.cited_support
        and support(sentence, passage, evidence.question) >= policy.cited_new_words
    )


def cited_support(sentence: str, first: bool, evidence: Evidence) -> SentenceVerdict | None:
    """A cited sentence stands when its cited passages hold enough of its words; otherwise its
    marker moves to a passage that does (small models misnumber), or it is dropped."""
    numbers = cited_numbers(sentence)
    if not numbers:
        return None
    passages = evidence.passages
    if _supports(" ".join(passages[n - 1] for n in numbers), sentence, evidence):
        return SentenceVerdict(sentence, "keep", "cited_support", f"supported by passage {numbers}")
    supporting = [n for n, p in enumerate(passages, 1) if _supports(p, sentence, evidence)]
    if supporting:
        best = max(supporting, key=lambda n: support(sentence, passages[n - 1]))
        reason = f"cited {numbers}, but passage {best} holds it"
        return SentenceVerdict(with_marker(sentence, best), "keep", "cited_support", reason)
    share = support(sentence, " ".join(passages[n - 1] for n in numbers))
    return SentenceVerdict(
        sentence, "drop", "cited_support", f"its passages hold only {share:.0%} of its words"
    )


def names(sentence: str, first: bool, evidence: Evidence) -> SentenceVerdict | None:
    """A sentence that names someone or something, or gives a number, that neither the passages
    (titles included) nor the question mention: that detail was invented."""
    unknown = names_and_numbers(sentence) - evidence.known
    if not unknown:
        return None
    return SentenceVerdict(sentence, "drop", "names", f"{sorted(unknown)} appear in no passage")


# Where a list's parts meet.
_LIST_PARTS = re.compile(r"[:;,]")
MIN_QUOTED = 2
"""Fewest words of a claim a passage sentence holds to be quoted for it; else the whole passage."""


def _best(words: set[str], sentences: Sequence[tuple[Span, set[str]]]) -> tuple[int, Span]:
    """How many of `words` the sentence holding most of them holds (the first of equals), and its
    span."""
    pairs = ((len(words & held), span) for span, held in sentences)
    return max(pairs, key=lambda pair: pair[0], default=(0, (0, 0)))


def _list_parts(sentence: str, asked: set[str]) -> list[set[str]]:
    """The own words of each part of a list ("three areas: migration control, police training
    and joint operations"), when the sentence is one (three parts or more, two words each)."""
    parts = [content_words(part) - asked for part in _LIST_PARTS.split(plain(sentence))]
    parts = [part for part in parts if len(part) >= 2]
    return parts if len(parts) >= 3 else []


def _cited(sentence: str, evidence: Evidence) -> list[int]:
    return [n for n in cited_numbers(sentence) if 1 <= n <= len(evidence.passages)]


def claim_window(sentence: str, first: bool, evidence: Evidence) -> SentenceVerdict | None:
    """A cited sentence's own words (those not in the question) must stand together in one
    sentence of a cited passage: "the strike resumes on Thursday" built from "talks resume on
    Thursday" and "a longer strike could follow" is words of the passage, not its claim. A list
    sums up several sentences: each of its parts must then stand in one of them.
    Off when `policy.claim_window` is 0."""
    threshold = evidence.policy.claim_window
    numbers = _cited(sentence, evidence)
    own = content_words(plain(sentence)) - evidence.asked
    if threshold <= 0 or not numbers or len(own) < 2:
        return None
    sentences = [held for n in numbers for held in evidence.sentences[n - 1]]
    parts = [own] if _best(own, sentences)[0] / len(own) >= threshold else []
    parts = parts or _list_parts(sentence, evidence.asked)
    if parts and all(_best(part, sentences)[0] / len(part) >= threshold for part in parts):
        return None
    return SentenceVerdict(
        sentence, "drop", "claim_window", f"no passage sentence holds {threshold:.0%} of its claim"
    )


_TIME_STEMS = frozenset(map(stem, TIME_WORDS))


def restated_question(sentence: str, first: bool, evidence: Evidence) -> SentenceVerdict | None:
    """A sentence that restates the question and fills in its answer ("Elon Musk is reportedly
    preparing to float on the London Stock Exchange") claims the question's words of that
    answer. A passage that names the answer in another story (an earlier year's look-alike,
    another company) doesn't say that: some of the restated words (more than a third by
    default; time words aside, `named_time` judges those) must stand in a cited passage's title
    or within one sentence of a passage sentence holding the answer's own words.
    Off when `policy.restated_near` is 0."""
    threshold = evidence.policy.restated_near
    numbers = _cited(sentence, evidence)
    words = content_words(plain(sentence))
    restated = (words & evidence.asked) - _TIME_STEMS
    own = words - evidence.asked
    if threshold <= 0 or not numbers or len(restated) < 2 or not own:
        return None
    near = 0
    for n in numbers:
        sentences = evidence.sentences[n - 1]
        for i, (_, held) in enumerate(sentences):
            if own & held:
                window = evidence.title_words[n - 1].union(
                    *(nearby for _, nearby in sentences[max(0, i - 1) : i + 2])
                )
                near = max(near, len(restated & window))
    if near / len(restated) >= threshold:
        return None
    return SentenceVerdict(
        sentence,
        "drop",
        "restated_question",
        f"{near} of the {len(restated)} question words it restates stand near its answer",
    )


def quotes(sentence: str, evidence: Evidence) -> dict[int, list[Span]]:
    """What a checked sentence rests on: for each passage it cites (0-based), the span of the
    passage sentence holding most of its own words (of a list, one for each part that one holds),
    or the whole passage when no sentence holds `MIN_QUOTED` of them (a paraphrase)."""
    words, asked = content_words(plain(sentence)), evidence.asked
    own = words - asked if len(words - asked) >= 2 else words
    found: dict[int, list[Span]] = {}
    for n in _cited(sentence, evidence):
        sentences = evidence.sentences[n - 1]
        held, span = _best(own, sentences)
        spans = [span] if held >= MIN_QUOTED else [(0, len(evidence.passages[n - 1]))]
        if held < evidence.policy.claim_window * len(own):
            best = [_best(part, sentences) for part in _list_parts(sentence, asked)]
            spans = sorted({where for count, where in best if count >= MIN_QUOTED}) or spans
        found[n - 1] = spans
    return found


SENTENCE_CHECKS: tuple[SentenceCheck, ...] = (
    refusal,
    known_markers,
    attribution,
    cited_support,
    claim_window,
    restated_question,
    names,
)


def subject(evidence: Evidence) -> str | None:
    """Before the model: a follow-up about a subject ("What about toasters?") that the passages
    mostly never mention cannot be answered from them."""
    threshold = evidence.policy.subject_coverage
    if evidence.follow_up and subject_coverage(evidence.follow_up, evidence.passages) < threshold:
        return "the passages don't mention what the follow-up asks about"
    return None


def follow_up_coverage(evidence: Evidence, answer_words: set[str]) -> bool:
    """Open once the passages or the answer hold most of the follow-up's words ("What did they
    agree about trade tariffs?" answered with the earlier agreement stays closed)."""
    if not evidence.follow_up:
        return True
    seen = answer_words.union(*map(content_words, evidence.passages))
    return question_coverage(evidence.follow_up, seen) >= evidence.policy.follow_up_coverage


def second_look_coverage(evidence: Evidence, answer_words: set[str]) -> bool:
    """Open once a second-look answer restates most of the question."""
    if not evidence.second_look:
        return True
    coverage = question_coverage(evidence.question, answer_words)
    return coverage >= evidence.policy.second_look_coverage


AnswerGate = Callable[[Evidence, set[str]], bool]
ANSWER_GATES: tuple[tuple[str, AnswerGate], ...] = (
    ("follow_up_coverage", follow_up_coverage),
    ("second_look_coverage", second_look_coverage),
)
