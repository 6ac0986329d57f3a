"""The golden corpus: the answer check scored on recorded model answers, with no model.

tests/golden/cases.jsonl holds the local model's raw drafts (first and second look) for the
grounding and follow-up benchmarks, each with the verdict it should get; tests/golden/record.py
records them (its docstring says how). Each case is checked the way the product checks it, and
per half (tuning / held-out) the scores must stay at least at the floors measured when the corpus
was recorded (tests/golden/floors.json): refusals where a refusal is expected, right answers
where an answer is expected, and no more wrong-but-grounded answers. Passages of the shared news
data are read from the shared folder at run time; without it these tests skip.

Run with `-s` to see the scores and which check refused how many cases.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.golden import corpus, scoring
from tests.golden.record import half_of

Rows = list[tuple[dict[str, Any], scoring.Checked]]


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    loaded = corpus.load_cases()
    assert loaded, f"{corpus.CASES} is empty: record it with tests/golden/record.py"
    return loaded


@pytest.fixture(scope="module")
def rows(cases: list[dict[str, Any]]) -> Rows:
    missing = [
        str(corpus.SHARED_SOURCES[name])
        for name in corpus.shared_refs(cases)
        if not corpus.SHARED_SOURCES[name].exists()
    ]
    if missing:
        pytest.skip(f"shared data absent ({', '.join(missing)}); set NEWSBOT_SHARED_DIR")
    articles = corpus.read_shared_articles(corpus.shared_refs(cases))
    return scoring.check_all(cases, articles)


def _report(scores: dict[str, dict[str, int]], rows: Rows) -> str:
    lines = ["half      expect_refuse refused  expect_answer right wrong_grounded refused"]
    for half, c in scores.items():
        lines.append(
            f"{half:9} {c.get('expect_refuse', 0):13} {c.get('refused_when_expected', 0):7}  "
            f"{c.get('expect_answer', 0):13} {c.get('right', 0):5} "
            f"{c.get('wrong_grounded', 0):14} {c.get('refused_answerable', 0):7}"
        )
    lines.append("check that refused            expected  cases")
    lines += [f"{by:29} {expect:9} {n:5}" for by, expect, n in scoring.refusal_table(rows)]
    return "\n".join(lines)


def test_scores_hold_the_recorded_floors(rows: Rows) -> None:
    floors = json.loads(corpus.FLOORS.read_text(encoding="utf-8"))
    scores = scoring.score(rows)
    report = _report(scores, rows)
    print(f"\ngolden corpus (floors of {floors['measured']}):\n{report}")
    assert set(scores) == set(floors["halves"]) == {"tuning", "heldout"}
    for half, floor in floors["halves"].items():
        now = scores[half]
        # The same cases as when the floors were measured, or the floors mean nothing.
        assert (now.get("expect_answer"), now.get("expect_refuse")) == (
            floor.get("expect_answer"),
            floor.get("expect_refuse"),
        ), half
        assert now.get("refused_when_expected", 0) >= floor["refused_when_expected"], report
        assert now.get("right", 0) >= floor["right"], report
        assert now.get("wrong_grounded", 0) <= floor["wrong_grounded"], report


def test_every_mismatched_case_is_refused(rows: Rows) -> None:
    mismatched = [(case, c) for case, c in rows if case.get("kind") == "mismatched"]
    answered = [(case["id"], c.text[:120]) for case, c in mismatched if c.grounded]
    assert mismatched
    assert answered == []


def test_every_case_is_complete_and_in_its_half(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        assert case["half"] in ("tuning", "heldout"), case["id"]
        assert case["expect"] in ("answer", "refuse", "unknown"), case["id"]
        assert all(case[k] for k in ("passages", "draft", "second_look_draft")), case["id"]
        if case["expect"] == "answer":
            assert case["facts"], case["id"]
        if case["suite"] == "grounding":
            # The split is a hash of the question id: recomputing it gives the stored half.
            assert case["half"] == half_of(case["id"].split(":")[1]), case["id"]
        else:
            assert all(case[k] for k in ("first", "first_answer", "follow_up")), case["id"]
    # Both suites have cases of both verdicts in both halves.
    kinds = {(case["suite"], case["half"], case["expect"]) for case in cases}
    assert kinds >= {
        (suite, half, expect)
        for suite in ("grounding", "followups")
        for half in ("tuning", "heldout")
        for expect in ("answer", "refuse")
    }
