"""The refusal: the sentences newsbot says when the articles don't answer, and the one detector
that recognises a refusal in the model's own words."""

from __future__ import annotations

import re

# What the user sees when the passages don't support an answer (the answer prompt also offers
# the model this sentence).
REFUSAL = "The articles I have don't say."
# What the user sees when no stored article matched at all (the model is not asked).
NO_ARTICLES = "The articles I have don't say: no stored article matches this question."

_REFUSAL = re.compile(
    r"\b(articles?|passages?|sources?|texts?)\b[^.]*?\b(do not|don't|does not|doesn't|did not|"
    r"didn't|cannot|can't|contain no|say nothing|have no|has no|provide no)\b"
    r"|\bno (information|mention|details?)\b|\bnot (mentioned|stated|specified|provided)\b",
    re.IGNORECASE,
)


def is_refusal(sentence: str) -> bool:
    """True when the sentence says, in any wording, that the articles don't answer."""
    return bool(_REFUSAL.search(sentence.replace("\u2019", "'")))
