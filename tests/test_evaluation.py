"""Evaluation: metrics and answer parsing on hand-made cases, and `run_eval` end to end."""

from __future__ import annotations

import math

import pytest

from newsbot.evaluation.choice import format_choices, parse_choice, parse_citations
from newsbot.evaluation.metrics import (
    QuestionScore,
    contains_answer,
    first_rank,
    hit_at_k,
    mrr_at_k,
    normalise,
    percentile,
    score_question,
    summarise,
    wilson_interval,
)

CHOICES = ["“Game of Thrones”", "“Squid Game”", "Europe", "North America"]


# --- metrics ---------------------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_value() -> None:
    # 8 of 10: Wilson 95% interval is 0.4902 .. 0.9433 (z = 1.96).
    interval = wilson_interval(8, 10)
    assert interval.value == pytest.approx(0.8)
    assert interval.low == pytest.approx(0.4902, abs=1e-4)
    assert interval.high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0).low == 0.0
    assert wilson_interval(0, 0).high == 1.0
    none = wilson_interval(0, 20)
    assert none.low == 0.0
    assert 0.0 < none.high < 0.2
    every = wilson_interval(20, 20)
    assert every.high == pytest.approx(1.0)
    assert 0.8 < every.low < 1.0
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(3, 2)


def test_answer_matching_ignores_case_quotes_and_spacing() -> None:
    assert normalise("  “Squid\n Game”  ") == '"squid game"'
    assert contains_answer("“Squid Game”", "Netflix renewed squid game for a second season")
    assert contains_answer("Biden\u2019s plan", "the president said Biden's  plan would pass")
    assert not contains_answer("Europe", "North America will require one charger")
    assert not contains_answer("", "anything")


def test_ranks_hits_and_mrr() -> None:
    assert first_rank([False, False, True, True]) == 3
    assert first_rank([]) is None
    ranks = [1, 3, None, 12]
    assert hit_at_k(ranks, 1) == pytest.approx(0.25)
    assert hit_at_k(ranks, 5) == pytest.approx(0.5)
    assert hit_at_k(ranks, 10) == pytest.approx(0.5)
    assert mrr_at_k(ranks, 10) == pytest.approx((1 + 1 / 3) / 4)
    assert hit_at_k([], 5) == 0.0


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_score_question_counts_labels_answers_and_citations() -> None:
    score = score_question(
        choice_idx=1,
        answer_idx=[1],
        answer_text="“Squid Game”",
        labels={"doc-gold"},
        retrieved=[
            ("doc-x", "an unrelated story"),
            ("doc-y", "Squid Game is coming back"),
            ("doc-gold", "Netflix said so"),
        ],
        cited=["doc-y", "doc-x", "doc-gold"],
        ttft_s=1.5,
        total_s=2.0,
    )
    assert score.correct
    assert score.parsed
    assert score.answer_rank == 2
    assert score.label_rank == 3
    assert (score.cited_good, score.cited_total) == (2, 3)


def test_unparseable_answer_is_wrong_and_counted() -> None:
    score = score_question(
        choice_idx=None,
        answer_idx=[0],
        answer_text="x",
        labels=set(),
        retrieved=[],
        cited=[],
        ttft_s=None,
        total_s=3.0,
    )
    summary = summarise([score])
    assert not score.correct
    assert summary["unparseable"] == 1
    assert summary["accuracy"] == 0.0
    assert summary["citation_precision"] is None
    assert summary["ttft_p50_s"] is None


def test_summary_fields() -> None:
    def make(correct: bool, rank: int | None) -> QuestionScore:
        return QuestionScore(
            correct=correct,
            parsed=True,
            answer_rank=rank,
            label_rank=rank,
            cited_total=1,
            cited_good=int(correct),
            ttft_s=1.0,
            total_s=2.0,
        )

    summary = summarise([make(True, 1), make(True, 4), make(False, None), make(False, 7)])
    assert summary["n"] == 4
    assert summary["accuracy"] == 0.5
    low, high = summary["accuracy_ci95"]  # type: ignore[misc]
    assert low < 0.5 < high
    assert summary["answer_recall@1"] == 0.25
    assert summary["evidence_hit@5"] == 0.5
    assert summary["evidence_hit@10"] == 0.75
    assert summary["mrr@10"] == pytest.approx(round((1 + 1 / 4 + 1 / 7) / 4, 4))
    assert summary["citation_precision"] == 0.5
    assert summary["total_p95_s"] == 2.0
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in summary.values())


# --- parsing the model's pick ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("B", 1),
        ("(B)", 1),
        ("Answer: B [2]", 1),
        ("**Answer: D**", 3),
        ("The answer is c.", 2),
        ("Answer:\nC", 2),
        ("B. “Squid Game” [1]", 1),
        ("C) Europe", 2),
        ("The passages say Europe will require it [3].", 2),
        ("squid game", 1),
        ("A new law was passed.", None),  # "A" as a word is no pick
        ("Answer: A new law", None),
        ("Either Europe or North America.", None),  # two choices named: ambiguous
        ("The articles I have don't say.", None),
        ("", None),
    ],
)
def test_parse_choice(reply: str, expected: int | None) -> None:
    assert parse_choice(reply, CHOICES) == expected


def test_letters_beyond_the_choices_are_ignored() -> None:
    assert parse_choice("Answer: E", CHOICES) is None


def test_parse_citations_keeps_valid_numbers_in_order() -> None:
    assert parse_citations("Answer: B [2] [9] [1][2]", 5) == [2, 1]
    assert parse_citations("Answer: B", 5) == []


def test_format_choices_letters_them() -> None:
    assert format_choices(["x", "y"]) == "A. x\nB. y"
