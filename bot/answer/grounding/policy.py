"""The answer check's thresholds, in one object: `GroundingPolicy`.

Each number says how much of a sentence (or a question) the passages must hold. They were set on
the grounding and follow-up benchmarks' tuning half and are reported on both halves in
BENCHMARKS.md and docs/grounding.md; a number moved to make one named case pass does not belong
here. `NEWSBOT_TUNING` (a JSON object of these field names) overrides them for experiments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroundingPolicy:
    """How much support the check asks for.

    Attributes:
        attribute: share of an unmarked sentence's own content words (the question's left out)
            that one passage must hold for the sentence to be cited to it.
        min_content_words: sentences with fewer content words ("Yes.", "In short:") are not
            attributed.
        cited_support: share of a cited sentence's content words (the question's included) that
            its cited passages must hold ...
        cited_new_words: ... and share of the words it adds to the question. The first catches
            a sentence about other passages; the second one that echoes the question and
            invents the rest.
        follow_up_coverage: share of a follow-up's own content words that the passages or the
            answer must hold; below it the answer is about something else than was asked.
        subject_coverage: share of the subject a follow-up names with "about", "regarding" or
            "concerning" that the passages must mention (0 turns the check off).
        second_look_coverage: share of the question's content words that an answer given on the
            second look must restate (a sentence copied from an unrelated passage is supported
            but answers nothing).
        claim_window: share of a cited sentence's own words (the question's left out) that one
            sentence of its passages must hold together (0 turns the check off); set on the
            sample articles' cached follow-up drafts (docs/grounding.md).
        restated_near: share of the question's words a cited sentence restates (time words
            aside) that must stand in a cited passage's title or within one sentence of the
            passage sentence naming the sentence's own answer (0 turns the check off); set on
            the tuning half of the grounding suite's cached drafts (docs/grounding.md).
    """

    attribute: float = 0.6
    min_content_words: int = 3
    cited_support: float = 0.4
    cited_new_words: float = 0.5
    follow_up_coverage: float = 0.5
    subject_coverage: float = 0.5
    second_look_coverage: float = 0.5
    claim_window: float = 0.6
    restated_near: float = 0.34
