"""One sentence splitter, and the quote the check finds behind each shown sentence.

The splitter (`vectorstore.sentences`) is what chunking, the compact context and the draft check
cut by; the check returns, for each shown sentence, the span of the cited passage it rests on, and
the web, the API and the terminal show that span as it is (no second rule).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from bot.answer.context import compact_passages
from bot.answer.grounding import AnswerChecker, GroundingPolicy, check_answer
from bot.answer.grounding.draft import split_draft
from bot.answer.result import AnswerResult, Source
from bot.terminal import format_sources
from bot.web.render import passage_html, result_sources_html
from ingest.chunking import chunk_text
from ingest.tokens import load_encoding
from tests.test_compact_context import ARTICLE
from tests.test_grounding import HARBOUR, SUMMARY, passages
from vectorstore.sentences import sentence_spans, sentences

FERRY = (
    "The island ferry will add an early crossing at six in the morning from June, the operator "
    "said on Friday. Commuters had asked for it for two years. "
    "The new crossing costs the same as the others, and the last ferry still leaves at ten."
)
FERRY_CITED = FERRY[: FERRY.index(" Commuters")]


# --- one splitter -------------------------------------------------------------------------------


def test_sentences_keep_titles_and_offsets() -> None:
    found = sentences(ARTICLE)
    assert "Dr. Ilse Varga led the talks for the union." in found
    assert len(found) == 6
    assert sentences('He said "No." Then No. 5 won [1] Next\nline') == [
        'He said "No."',
        "Then No. 5 won [1]",
        "Next\nline",
    ]
    assert sentences("A headline\nThe body.", lines=True) == ["A headline", "The body."]
    assert all(ARTICLE[a:b].strip() == ARTICLE[a:b] for a, b in sentence_spans(ARTICLE))


def test_every_part_cuts_at_the_same_sentences(tmp_path: Path) -> None:
    expected = sentences(ARTICLE)
    assert [s.text for s in split_draft(ARTICLE)] == expected
    kept = compact_passages(passages([ARTICLE]), "Who led the talks?", 1000)
    assert kept[0].text == " ".join(expected)
    encoding = load_encoding(tmp_path / "tiktoken")
    chunks = chunk_text(ARTICLE, encoding, chunk_tokens=20, overlap=0)
    starts = {a for a, _ in sentence_spans(ARTICLE)}
    assert len(chunks) > 1
    assert all(chunk.char_start in starts for chunk in chunks)


# --- the check returns the span -----------------------------------------------------------------


def test_the_check_returns_the_passage_sentence_behind_each_shown_sentence() -> None:
    answer = "The island ferry adds an early crossing at six in the morning from June [2]."
    checked = check_answer(answer, passages(["Rain fell.", FERRY]), "When does the ferry leave?")
    assert checked.grounded
    assert checked.cited == [1]
    (span,) = checked.quotes[0]
    assert FERRY[slice(*span)] == FERRY_CITED


def test_streamed_releases_carry_their_quotes() -> None:
    checker = AnswerChecker(passages([FERRY]), "When does the ferry leave?")
    assert checker.before_answer() is None
    released = checker.feed("The last ferry still leaves at ten [1]. More ")
    released += checker.feed("text follows.") + checker.close()
    (first,) = [r for r in released if r.new_citations]
    (span,) = first.quotes[0]
    assert FERRY[slice(*span)].startswith("The new crossing costs the same")


def test_a_list_rests_on_one_sentence_per_part_and_a_paraphrase_on_the_whole_passage() -> None:
    checked = check_answer(SUMMARY, passages(HARBOUR), "What was agreed?")
    quoted = [HARBOUR[0][a:b] for a, b in checked.quotes[0]]
    assert quoted == [
        "The two ministries settled on three parts of the harbour deal.",
        "The first is dredging of the east channel.",
        "The second is a new ferry timetable for the islands.",
        "The third is shared customs checks at the quay.",
    ]
    # With the claim check off, a sentence no one passage sentence holds two words of rests on
    # the whole passage.
    loose = GroundingPolicy(claim_window=0.0)
    paraphrase = check_answer("Pay rises and ships wait [1].", passages([ARTICLE]), policy=loose)
    assert paraphrase.grounded
    assert paraphrase.quotes == [[(0, len(ARTICLE))]]


# --- the doors show that span -------------------------------------------------------------------


def _result(source_quotes: list[tuple[int, int]]) -> AnswerResult:
    source = Source(
        1, "ferry", "Ferry", "https://example.org/f", "Bay Courier", "2025-05-10",
        "<b>" + FERRY, 0, 1, 0.5, [(a + 3, b + 3) for a, b in source_quotes],
    )  # fmt: skip
    return AnswerResult("Early crossing [1].", [source], True, "q", "q", "2025-05-12")


def test_the_web_marks_the_checks_span_escaped() -> None:
    span = (0, len(FERRY_CITED))
    block = result_sources_html(_result([span]))
    assert f"&lt;b&gt;<mark>{FERRY_CITED}</mark> Commuters" in block
    assert block.count("<mark>") == 1
    assert "<mark>" not in result_sources_html(_result([]))
    long = passage_html("A. " * 1000, [(0, 2)])
    assert long.startswith("<mark>A.</mark> A.")
    assert long.endswith("…")
    assert len(long) < 2100


def test_the_api_and_the_terminal_carry_the_span() -> None:
    result = _result([(0, len(FERRY_CITED))])
    source = result.sources[0]
    assert source.quoted == [FERRY_CITED]
    # The SSE `source` event is `asdict(source)`; the `result` event and --json are `to_dict()`.
    assert asdict(source)["quotes"] == [(3, 3 + len(FERRY_CITED))]
    assert result.to_dict()["sources"][0]["quotes"] == [(3, 3 + len(FERRY_CITED))]
    printed = format_sources(result).splitlines()
    assert printed[2] == f"    \u201c{FERRY_CITED}\u201d"
