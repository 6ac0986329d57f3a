"""The refusal: the sentences newsbot says when the articles don't answer, and the one detector
that recognises a refusal in the model's own words."""

from __future__ import annotations

import re

from vectorstore.records import SearchFilter

# What the user sees when the passages don't support an answer (the answer prompt also offers
# the model this sentence).
REFUSAL = "The articles I have don't say."
# What the user sees when no stored article matched at all (the model is not asked).
NO_ARTICLES = "The articles I have don't say: no stored article matches this question."


def no_articles_within(filters: SearchFilter) -> str:
    """`NO_ARTICLES` for a search its filters narrowed: it says what was searched, so a reader
    who named a source the library does not hold, or a range of days, sees why nothing came."""
    if not filters:
        return NO_ARTICLES
    within = []
    if filters.sources:
        within.append("from " + " or ".join(filters.sources))
    if filters.since and filters.until:
        within.append(f"published {filters.since} to {filters.until}")
    elif filters.since:
        within.append(f"published since {filters.since}")
    elif filters.until:
        within.append(f"published until {filters.until}")
    return (
        f"The articles I have don't say: no stored article {' and '.join(within)} matches this "
        "question."
    )


_REFUSAL = re.compile(
    r"\b(articles?|passages?|sources?|texts?)\b[^.]*?\b(do not|don't|does not|doesn't|did not|"
    r"didn't|cannot|can't|contain no|say nothing|have no|has no|provide no)\b"
    r"|\bno (information|mention|details?)\b|\bnot (mentioned|stated|specified|provided)\b",
    re.IGNORECASE,
)


def is_refusal(sentence: str) -> bool:
    """True when the sentence says, in any wording, that the articles don't answer."""
    return bool(_REFUSAL.search(sentence.replace("\u2019", "'")))
