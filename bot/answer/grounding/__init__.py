"""The answer check: which sentences of the model's draft the passages support.

`AnswerChecker` (the streaming pipeline) and `check_answer` (the same over a whole draft) run the
named checks of `checks` under the thresholds of `GroundingPolicy`. The design and its measured
limits are in docs/grounding.md.
"""

from bot.answer.grounding.checker import AnswerChecker, CheckedAnswer, Release, check_answer
from bot.answer.grounding.checks import SentenceVerdict
from bot.answer.grounding.markers import MARKER, marker_numbers, strip_markers
from bot.answer.grounding.policy import GroundingPolicy
from bot.answer.grounding.refusal import NO_ARTICLES, REFUSAL, is_refusal, no_articles_within

__all__ = [
    "MARKER",
    "NO_ARTICLES",
    "REFUSAL",
    "AnswerChecker",
    "CheckedAnswer",
    "GroundingPolicy",
    "Release",
    "SentenceVerdict",
    "check_answer",
    "is_refusal",
    "marker_numbers",
    "no_articles_within",
    "strip_markers",
]
