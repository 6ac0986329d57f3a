"""Question time windows and the compact context: pure functions over text and passages.

The sample text is written for these tests; the retrieval around them is tested with real
Chroma in tests/test_hybrid.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.answer.chain import retrieve_passages
from bot.answer.context import GAP, compact_passages
from bot.answer.question import EVERYTHING, question_window
from vectorstore.records import Passage, SearchFilter

AS_OF = date(2022, 6, 16)  # a Thursday


@pytest.mark.parametrize(
    ("question", "first", "last"),
    [
        ("Who resigned this week?", date(2022, 6, 8), AS_OF),
        ("What happened yesterday in Rome?", date(2022, 6, 14), date(2022, 6, 16)),
        ("What did the court decide today?", date(2022, 6, 15), AS_OF),
        ("Which bill passed last month?", date(2022, 4, 30), AS_OF),
        ("What did the council agree in March 2021?", date(2021, 2, 28), date(2021, 4, 1)),
        ("Who won the vote on June 3?", date(2022, 6, 2), date(2022, 6, 4)),
        ("What changed in 2020?", date(2020, 1, 1), date(2020, 12, 31)),
        ("What happened in September?", date(2021, 8, 31), date(2021, 10, 1)),
        ("Which company surpassed Apple last Friday?", date(2022, 6, 9), AS_OF),
        ("Who marched last weekend?", date(2022, 6, 10), date(2022, 6, 13)),
        ("Where will it be hottest this weekend?", date(2022, 6, 10), AS_OF),
        ("Who won last Thursday?", date(2022, 6, 8), AS_OF),  # a week ago, not today
        ("What did the court rule on Tuesday?", date(2022, 6, 13), AS_OF),
        ("Who spoke on Thursday?", date(2022, 6, 15), AS_OF),  # today
        ("Which painting was recently targeted by protesters?", date(2022, 5, 15), AS_OF),
    ],
)
def test_a_named_time_becomes_a_window(question: str, first: date, last: date) -> None:
    window = question_window(question, AS_OF)
    assert window is not None
    assert (window.first, window.last) == (first, last)


@pytest.mark.parametrize(
    "question",
    [
        "What did Pakistan and the US agree on?",
        "Who may lead the party next?",  # "may" the verb
        "Will the march go ahead?",  # "march" the noun
        "What is planned for 2031?",  # a year after the question's date names no past news
        "Who shopped on Black Friday?",  # a named day, not a weekday of the past week
        "What will happen next Friday?",
    ],
)
def test_no_window_without_a_named_past_time(question: str) -> None:
    assert question_window(question, AS_OF) is None


def passage(article_id: str, text: str, rank: int, chunk_index: int = 0, start: int = 0) -> Passage:
    return Passage(
        chunk_id=f"{article_id}:{chunk_index}",
        article_id=article_id,
        title=article_id.title(),
        url="",
        source="Wire",
        published="2022-06-15",
        text=text,
        char_start=start,
        char_end=start + len(text),
        score=0.5,
        chunk_index=chunk_index,
        rank=rank,
    )


ARTICLE = (
    "The port of Halvern reopened on Monday. Dock workers had stopped work for nine days. "
    "Dr. Ilse Varga led the talks for the union. The agreement raises pay by 4 percent. "
    "Talks on pensions resume on Thursday. Weather delayed the first ships."
)


def test_compact_context_keeps_the_sentences_that_bear_on_the_question() -> None:
    chunk = passage("halvern", ARTICLE, rank=1, start=100)
    copy = passage("syndicated", ARTICLE.replace("Monday", "Monday morning"), rank=2)
    compact = compact_passages([chunk, copy], "How much does the agreement raise pay?", 30)
    assert [p.article_id for p in compact] == ["halvern"]  # the copy says nothing new
    kept = compact[0]
    assert "The agreement raises pay by 4 percent." in kept.text
    assert "Weather" not in kept.text
    assert len(kept.text) <= 30 * 4 + len("Talks on pensions resume on Thursday.")
    # The passage spans its sentences in the article exactly.
    article_text = " " * 100 + ARTICLE
    assert article_text[kept.char_start : kept.char_end].startswith(kept.text.split(GAP)[0])


def test_compact_context_marks_gaps_between_distant_sentences() -> None:
    chunk = passage("halvern", ARTICLE, rank=1)
    compact = compact_passages([chunk], "Who led the talks and when was the port reopened?", 40)
    assert compact[0].text.startswith("The port of Halvern reopened on Monday.")
    assert GAP in compact[0].text


TALKS = (
    "Officials met in Corvel on Tuesday.\n\n"
    "The two ministries reached a deal on the harbour. It covers three things. The first is "
    "dredging of the east channel. The second is a new ferry timetable. The third is shared "
    "customs checks.\n\n"
    "Fishermen said they were not consulted. A protest is planned for Friday."
)


def test_a_matching_sentence_brings_its_paragraph() -> None:
    """What was agreed sits in sentences that share no word with the question."""
    compact = compact_passages([passage("corvel", TALKS, rank=1)], "What deal was reached?", 55)
    (kept,) = compact
    for part in ("dredging of the east channel", "ferry timetable", "shared customs checks"):
        assert part in kept.text
    assert "protest" not in kept.text


def test_a_paragraph_over_the_budget_gives_way_to_its_best_sentence() -> None:
    chunk = passage("corvel", TALKS, rank=1)
    compact = compact_passages([chunk], "What deal was reached?", 15, leads=0)
    assert compact[0].text == "The two ministries reached a deal on the harbour."


def test_the_best_articles_lead_comes_first_and_the_best_sentence_always() -> None:
    chunk = passage("corvel", TALKS, rank=1)
    compact = compact_passages([chunk], "What deal was reached?", 15, leads=1)
    assert compact[0].text == (
        "Officials met in Corvel on Tuesday. The two ministries reached a deal on the harbour."
    )
    later = passage("corvel", TALKS, rank=1, chunk_index=1)  # not the article's first chunk
    assert compact_passages([later], "What deal was reached?", 15, leads=1)[0].text == (
        "The two ministries reached a deal on the harbour."
    )


class Recorder:
    """A retriever that answers from fixed passages and records the filters it was asked with."""

    def __init__(self, inside: list[Passage], outside: list[Passage]) -> None:
        self.inside, self.outside = inside, outside
        self.asked: list[SearchFilter | None] = []

    def search(
        self,
        query: str,
        k: int,
        published_before: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[Passage]:
        self.asked.append(filters)
        found = self.inside if filters and filters.since else self.inside + self.outside
        return found[:k]


def test_a_window_is_searched_first_then_filled_from_outside() -> None:
    inside = [passage("this-week", "Inside the week.", rank=1)]
    outside = [passage(f"old{i}", f"Older {i}.", rank=i + 2) for i in range(3)]
    retriever = Recorder(inside, outside)
    found = retrieve_passages(retriever, "Who resigned this week?", 3, AS_OF, time_windows=True)
    assert retriever.asked[0] == SearchFilter(date(2022, 6, 8), AS_OF)
    assert {p.article_id for p in found.passages} == {"this-week", "old0", "old1"}
    assert sorted(p.rank for p in found.passages) == [1, 2, 3]
    # Without windows, or without a named time, one unfiltered search.
    retriever.asked.clear()
    retrieve_passages(retriever, "Who resigned this week?", 3, AS_OF, time_windows=False)
    assert retriever.asked == [EVERYTHING]
