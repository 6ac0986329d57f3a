"""The answer check as a pipeline: `AnswerChecker` reads the draft as it streams and releases
only sentences that have passed every check, so nothing shown is ever taken back.

A kept sentence is released once the answer as a whole can no longer be refused: at least one
kept sentence cites a passage, and every answer gate (`checks.ANSWER_GATES`) has opened. Until
then kept sentences wait; if the draft ends first, the answer is the refusal and nothing was
shown. Markers are renumbered in order of first citation as sentences are released. A
sentence after the first that adds no word of its own to the answer is left out (a repeat).
An answer that only repeats its cited articles' headlines (`echoes_headline`) may be given
more detail: `go_on` reads a further draft into the same answer, after what is shown.
`check_answer` runs the same pipeline over a whole draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from bot.answer.grounding.checks import (
    ANSWER_GATES,
    SENTENCE_CHECKS,
    Evidence,
    SentenceVerdict,
    Span,
    quotes,
    subject,
)
from bot.answer.grounding.draft import DraftReader, DraftSentence
from bot.answer.grounding.markers import Renumbering, cited_numbers
from bot.answer.grounding.policy import GroundingPolicy
from bot.answer.grounding.refusal import NO_ARTICLES, REFUSAL
from bot.answer.grounding.words import content_words, known_names, plain
from bot.answer.links import plain_links
from vectorstore.records import Passage


@dataclass(frozen=True)
class Release:
    """Text ready to show (with the whitespace before it), the passages (0-based indexes) it
    cites for the first time, in their new numbering order, and what it rests on: for each
    passage it cites, the spans of the passage's text that hold it (`checks.quotes`)."""

    text: str
    new_citations: list[int]
    quotes: dict[int, list[Span]]


@dataclass
class CheckedAnswer:
    """The outcome of the check: `text` with markers renumbered (`[n]` is passage
    `cited[n - 1]`, 0-based, and rests on its spans `quotes[n - 1]`), or the refusal with the
    name of the check in `refused_by`."""

    text: str
    cited: list[int]
    grounded: bool
    refused_by: str | None = None
    verdicts: list[SentenceVerdict] = field(default_factory=list)
    quotes: list[list[Span]] = field(default_factory=list)


class AnswerChecker:
    """Checks one draft over the passages it was written from."""

    def __init__(
        self,
        passages: Sequence[Passage],
        question: str,
        follow_up: str = "",
        second_look: bool = False,
        policy: GroundingPolicy | None = None,
        named_time: tuple[date, date] | None = None,
    ) -> None:
        self.named_time = named_time
        self._outside_named_time = named_time is not None and not any(
            _published_within(p.published, *named_time) for p in passages
        )
        # Names may come from the passages' titles, sources and dates too.
        labels = [f"{p.title} {p.source} {p.published}" for p in passages]
        texts = [p.text for p in passages]
        known = known_names("\n".join([question, follow_up, *texts, *labels]))
        policy = policy or GroundingPolicy()
        self.evidence = Evidence(
            texts, question, follow_up, second_look, policy, known, [p.title for p in passages]
        )
        self.refused_by: str | None = None if passages else "no_passages"
        self.verdicts: list[SentenceVerdict] = []
        self._reader = DraftReader()
        self._numbers = Renumbering()
        self._waiting: list[tuple[DraftSentence, str]] = []
        self._answer_words: set[str] = set()
        self._cites = False
        self._open = False
        self._shown = ""
        self._carry: DraftSentence | None = None
        self._quotes: dict[int, list[Span]] = {}

    def before_answer(self) -> str | None:
        """The name of the check that refuses before the model is asked, or None."""
        if self.refused_by is None:
            reason = subject(self.evidence)
            if reason:
                self.refused_by = "subject"
                self.verdicts.append(SentenceVerdict("", "refuse", "subject", reason))
        if self.refused_by is None and self.named_time and self._outside_named_time:
            # "What happened this week?" over stories of another time: whatever they say
            # answers another week's question, however well its words match.
            first, last = self.named_time
            reason = f"no passage was published between {first} and {last}"
            self.refused_by = "named_time"
            self.verdicts.append(SentenceVerdict("", "refuse", "named_time", reason))
        return self.refused_by

    def feed(self, delta: str) -> list[Release]:
        """Check the sentences the delta completes; return what may be shown now. After a
        refusal (`refused_by` set) the rest of the draft is ignored: stop the model."""
        if self.refused_by:
            return []
        return self._check(self._reader.feed(delta))

    def close(self) -> list[Release]:
        """The draft has ended: check its last sentence."""
        if self.refused_by:
            return []
        return self._check(self._reader.close())

    def echoes_headline(self) -> bool:
        """Whether the answer, shown in full, says nothing its cited articles' titles don't:
        "Pakistan and the US agreed to work together against fake visa networks [1]." under
        that headline. The article's text goes on to say what the headline sums up."""
        if self.refused_by or not self._open or self._waiting:
            return False
        titles = set().union(*(self.evidence.title_words[n] for n in self._numbers.cited))
        return bool(titles) and self._answer_words - self.evidence.asked <= titles

    def go_on(self) -> None:
        """Read a further draft (after `close`) into this answer: its sentences are checked as
        later sentences of the same answer, and shown after what was shown."""
        self._reader = DraftReader()

    def result(self) -> CheckedAnswer:
        """The checked answer (call after `close`)."""
        if not self.refused_by and not self._open:
            failed = [n for n, gate in ANSWER_GATES if not gate(self.evidence, self._answer_words)]
            self.refused_by = failed[0] if self._cites and failed else "supported_sentence"
        if self.refused_by:
            refusal = NO_ARTICLES if self.refused_by == "no_passages" else REFUSAL
            return CheckedAnswer(refusal, [], False, self.refused_by, self.verdicts)
        cited = self._numbers.cited
        spans = [self._quotes.get(n, []) for n in cited]
        return CheckedAnswer(self._shown, cited, True, None, self.verdicts, spans)

    def _check(self, sentences: list[DraftSentence]) -> list[Release]:
        released: list[Release] = []
        for sentence in sentences:
            first = not self.verdicts
            text, verdict = self._run_checks(sentence.text, first)
            words = content_words(plain(text))
            if verdict.action == "keep" and not first and self._repeats(words):
                verdict = SentenceVerdict(
                    sentence.text, "drop", "repeat", "adds no word of its own"
                )
            self.verdicts.append(verdict)
            if verdict.action == "refuse":
                self.refused_by = verdict.check
                return []
            if verdict.action == "drop":
                if "\n" in sentence.lead and self._carry is None:
                    self._carry = sentence  # the next sentence keeps its line break and bullet
                continue
            sentence = self._with_carried_layout(sentence)
            self._waiting.append((sentence, text))
            self._answer_words |= words
            self._cites = self._cites or bool(cited_numbers(text))
            if not self._open:
                gates = all(gate(self.evidence, self._answer_words) for _, gate in ANSWER_GATES)
                self._open = self._cites and gates
            if self._open:
                released += [self._release(s, t) for s, t in self._waiting]
                self._waiting = []
        return released

    def _repeats(self, words: set[str]) -> bool:
        """Whether a kept sentence's own words (its `words` but the question's) were all said
        before."""
        own = words - self.evidence.asked
        return bool(own) and own <= self._answer_words

    def _run_checks(self, sentence: str, first: bool) -> tuple[str, SentenceVerdict]:
        text = sentence
        notes = []
        for check in SENTENCE_CHECKS:
            verdict = check(text, first, self.evidence)
            if verdict is None:
                continue
            if verdict.action != "keep":
                return text, replace(verdict, text=sentence)
            text = verdict.text
            if verdict.reason:
                notes.append(verdict)
        decided_by = notes[-1].check if notes else "all"
        reason = "; ".join(n.reason for n in notes) or "passed every check"
        return text, SentenceVerdict(sentence, "keep", decided_by, reason)

    def _with_carried_layout(self, sentence: DraftSentence) -> DraftSentence:
        carried, self._carry = self._carry, None
        if carried is None or "\n" in sentence.lead:
            return sentence
        return DraftSentence(carried.lead, sentence.bullet or carried.bullet, sentence.text)

    def _release(self, sentence: DraftSentence, text: str) -> Release:
        # Links come only from the sources (the markers): any other URL or link in the model's
        # text, planted by an article, is shown as plain text, at every door.
        text = plain_links(text)
        found = quotes(text, self.evidence)
        for n, spans in found.items():
            kept = self._quotes.setdefault(n, [])
            kept += [span for span in spans if span not in kept]
        text, new = self._numbers.apply(text)
        lead = ""
        if self._shown:
            newlines = min(sentence.lead.count("\n"), 2)
            lead = "\n" * newlines if newlines else " "
        shown = lead + sentence.bullet + text
        self._shown += shown
        return Release(shown, [n - 1 for n in new], found)


def _published_within(published: str | None, first: date, last: date) -> bool:
    """Whether an ISO publication date (or datetime) falls on `first..last`, both included."""
    return published is not None and first.isoformat() <= published[:10] <= last.isoformat()


def check_answer(
    raw: str,
    passages: Sequence[Passage],
    question: str = "",
    follow_up: str = "",
    second_look: bool = False,
    policy: GroundingPolicy | None = None,
    named_time: tuple[date, date] | None = None,
) -> CheckedAnswer:
    """Check a whole draft: the same pipeline `Assistant.stream` runs as the model writes.

    `question` is the (standalone) question answered; `follow_up` the user's own words when it
    was asked with chat history; `second_look` says the model had refused once; `named_time` the
    publication days the question's words name (`bot.answer.question.question_window`).
    """
    checker = AnswerChecker(passages, question, follow_up, second_look, policy, named_time)
    if checker.before_answer() is None:
        checker.feed(raw)
        checker.close()
    return checker.result()
