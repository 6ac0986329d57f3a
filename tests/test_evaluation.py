"""Evaluation: metrics and answer parsing on hand-made cases, and `run_eval` end to end."""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.llm.local_server import LocalLLMServer
from bot.llm.providers import make_chat_model
from newsbot.evaluation.choice import format_choices, parse_choice, parse_citations
from newsbot.evaluation.command import suite_answering
from newsbot.evaluation.corpus import eval_collection_name
from newsbot.evaluation.dataset import Query, iter_docs, load_queries
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
from newsbot.evaluation.runner import EvalReport, run_eval
from newsbot.factories import build_store
from newsbot.settings import Settings, get_settings
from tests.conftest import MINI_DIR
from vectorstore.records import Passage

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
    interval = summary["accuracy_ci95"]
    assert isinstance(interval, list)
    assert interval[0] < 0.5 < interval[1]
    assert summary["answer_recall@1"] == 0.25
    assert summary["evidence_hit@5"] == 0.5
    assert summary["evidence_hit@10"] == 0.75
    assert summary["mrr@10"] == pytest.approx(round((1 + 1 / 4 + 1 / 7) / 4, 4))
    assert summary["citation_precision"] == 0.5
    assert (summary["citation_precision_right"], summary["citation_precision_wrong"]) == (1, 0)
    assert summary["accuracy_with_evidence"] == round(2 / 3, 4)  # 3 retrieved a labelled doc
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


# --- end to end, with the real local model -----------------------------------------------------


def whole_chunks(settings: Settings) -> dict[str, Any]:
    """The assistant's options from the settings, over whole chunks (no compact context)."""
    return {**suite_answering(settings), "context_tokens": 0}


PRED_KEYS = {
    "id",
    "choice_idx",
    "answer",
    "grounded",
    "retrieved",
    "cited",
    "ttft_s",
    "total_s",
    "prompt_tokens",
    "completion_tokens",
}
SUMMARY_KEYS = {
    "n",
    "accuracy",
    "accuracy_ci95",
    "unparseable",
    "answer_recall@1",
    "answer_recall@5",
    "answer_recall@10",
    "evidence_hit@1",
    "evidence_hit@5",
    "evidence_hit@10",
    "mrr@10",
    "citation_precision",
    "ttft_p50_s",
    "ttft_p95_s",
    "total_p50_s",
    "total_p95_s",
}


def _corpus_slice(dataset: Path, queries: list[Query], path: Path) -> set[str]:
    """The evidence documents of `queries` plus two search distractors each, as a .jsonl.gz."""
    wanted: set[str] = set()
    for query in queries:
        wanted |= query.labels
        wanted |= set([i for i in query.gcs_ids if i not in query.labels][:2])
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for doc in iter_docs(dataset, wanted):
            handle.write(json.dumps(doc.__dict__) + "\n")
    return wanted


@pytest.mark.slow
@pytest.mark.timeout(1800)  # three answers over two whole chunks; slow on a busy 2-core machine
def test_eval_end_to_end_resumes_and_embeds_nothing_twice(
    tmp_path: Path,
    local_llm: LocalLLMServer,
) -> None:
    queries = load_queries(MINI_DIR, limit=2)
    corpus = tmp_path / "slice.jsonl.gz"
    doc_ids = _corpus_slice(MINI_DIR, queries, corpus)
    settings = get_settings()
    store = build_store(settings, collection=eval_collection_name(MINI_DIR))
    llm = make_chat_model("local", local_server_factory=lambda: local_llm)
    out = tmp_path / "preds.jsonl"

    def run() -> EvalReport:
        return run_eval(
            MINI_DIR,
            store=store,
            llm=llm,
            k=2,
            limit=2,
            out_path=out,
            progress=False,
            corpus_file=corpus,
            ingest_options={"tiktoken_cache_dir": settings.storage.data_dir / "tiktoken"},
            answering=whole_chunks(settings),
        )

    first = run()
    assert first.asked == 2
    assert first.ingest["new"] == len(doc_ids)
    assert first.ingest["chunks"] > 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in lines] == [q.id for q in queries]
    for pred, query in zip(lines, queries, strict=True):
        assert set(pred) == PRED_KEYS
        assert pred["choice_idx"] is None or pred["choice_idx"] in range(len(query.choices))
        assert [r["rank"] for r in pred["retrieved"]] == [1, 2]
        assert {r["article_id"] for r in pred["retrieved"]} <= doc_ids
        assert all(r["chunk_id"].startswith(r["article_id"] + ":") for r in pred["retrieved"])
        assert set(pred["cited"]) <= {r["article_id"] for r in pred["retrieved"]}
        assert pred["total_s"] >= (pred["ttft_s"] or 0) > 0
        assert pred["prompt_tokens"] > 100
        assert pred["completion_tokens"] > 0
    assert set(first.summary) >= SUMMARY_KEYS
    assert first.summary["n"] == 2
    saved = json.loads(first.summary_path.read_text(encoding="utf-8"))
    assert saved["status"] == "done"
    assert saved["summary"] == first.summary

    # A run killed while writing its second line: the rerun asks only that question again and
    # finds every article unchanged.
    out.write_text(json.dumps(lines[0]) + '\n{"id": "torn', encoding="utf-8")
    second = run()
    assert (second.asked, second.resumed) == (1, 1)
    assert second.ingest["chunks"] == 0
    assert second.ingest["unchanged"] == len(doc_ids)
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == [q.id for q in queries], "the torn line is gone, the question asked again"
    assert second.summary["n"] == 2
    preds = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert second.answer_seconds == pytest.approx(sum(p["total_s"] for p in preds), abs=0.1)
    assert second.answer_seconds > preds[-1]["total_s"], "the resumed questions count too"

    # A rerun of the finished file asks nothing and scores exactly as the run that asked.
    third = run()
    assert (third.asked, third.resumed) == (0, 2)
    assert third.summary == second.summary


@pytest.mark.slow
def test_closed_book_mode_asks_without_passages(
    tmp_path: Path,
    local_llm: LocalLLMServer,
) -> None:
    llm = make_chat_model("local", local_server_factory=lambda: local_llm)
    report = run_eval(
        MINI_DIR,
        store=None,
        llm=llm,
        limit=1,
        out_path=tmp_path / "cb.jsonl",
        mode="closed_book",
        progress=False,
    )
    pred = json.loads((tmp_path / "cb.jsonl").read_text(encoding="utf-8"))
    assert pred["retrieved"] == []
    assert pred["cited"] == []
    assert pred["grounded"] is False
    assert report.summary["evidence_hit@10"] == 0.0


# --- the library: predictions store, registry, product path, suites, package data -----------


def test_prediction_store_skips_a_torn_line_and_cuts_it_before_appending(tmp_path: Path) -> None:
    from newsbot.evaluation.predictions import PredictionStore, key_of

    path = tmp_path / "drafts.jsonl"
    path.write_text('{"id": "a", "chunks": ["x:0", "x:1"]}\n{"id": "b", "chu', encoding="utf-8")
    store = PredictionStore(path, key_of("id", "chunks"))
    assert list(store.read()) == [("a", ("x:0", "x:1"))]
    store.append({"id": "b", "chunks": ["y:0"]})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]
    again = PredictionStore(path, key_of("id", "chunks"))
    assert ("b", ("y:0",)) in again
    assert len(again) == 2


def test_every_registered_mode_loads_with_its_number_of_passages() -> None:
    from newsbot.errors import ConfigError
    from newsbot.evaluation import registry

    ks = {name: spec.k(7) for name, spec in registry.MODES.items()}
    assert ks == {"newsbot": 7, "gcs": 10, "closed_book": 0, "plain_rag": 4, "plain_retrieval": 4}
    with pytest.raises(ConfigError, match="Unknown eval mode 'nope'"):
        registry.mode("nope")


def test_citations_are_read_as_the_product_reads_markers() -> None:
    assert parse_citations("Answer: B [1, 3] and [passage 2]", 5) == [1, 3, 2]
    assert parse_citations("Answer: C [2-4]", 3) == [2, 3]


def _sample_store(tmp_path: Path) -> Any:
    from ingest.pipeline import ingest
    from tests.conftest import EXAMPLES_DIR

    settings = get_settings()
    store = build_store(settings, collection="samples")
    ingest([str(EXAMPLES_DIR)], store, tiktoken_cache_dir=settings.storage.data_dir / "tiktoken")
    return store


def test_newsbot_mode_asks_over_the_products_retrieval(tmp_path: Path) -> None:
    """The mode's passages are `Assistant.retrieve`'s (prompt order) and the prompt numbers them
    as the answer chain does, then asks the multiple-choice question."""
    from langchain_core.language_models import GenericFakeChatModel

    from bot.answer.assistant import Assistant
    from bot.answer.chain import format_passages
    from bot.answer.question import Question
    from newsbot.evaluation import registry
    from newsbot.evaluation.modes.base import ModeContext
    from prompts import load_prompts

    store = _sample_store(tmp_path)
    llm = GenericFakeChatModel(messages=iter([]))
    prompts = load_prompts()
    query = Query(
        id="q1",
        date="2030-01-01",
        question="Why did Halvern's bus and tram drivers go on strike?",
        choices=("pay", "weather", "a holiday", "a parade"),
        answer_idx=(0,),
        answer_text="pay",
        evidence_ids=(),
        silver_ids=(),
        gcs_ids=(),
    )
    answering = whole_chunks(get_settings())
    context = ModeContext(
        dataset_dir=tmp_path,
        queries=[query],
        prompts=prompts,
        llm=llm,
        k=3,
        store=store,
        answering=answering,
    )
    asked = registry.mode("newsbot").build(context).ask(query)
    _, retrieval = Assistant(store, llm, prompts, k=3, **answering).retrieve(
        Question(query.question, as_of=date(2030, 1, 1))
    )
    assert [p.chunk_id for p in asked.passages] == [p.chunk_id for p in retrieval.passages]
    assert len(asked.passages) == 3
    assert format_passages(retrieval.passages) in asked.prompt
    assert "D. a parade" in asked.prompt
    assert asked.prompt.index(query.question) > asked.prompt.index(retrieval.passages[-1].text)


def test_grounding_suite_rescores_cached_drafts_with_the_products_check(tmp_path: Path) -> None:
    from newsbot.evaluation.suites.grounding import GroundingCase, score_grounding

    store = _sample_store(tmp_path)
    passages = store.search("Why did Halvern's bus and tram drivers go on strike?", 3)
    sentence = passages[0].text.split(". ")[0].strip().rstrip(".")
    supported = sentence + " [1]."
    fact = max(sentence.split(), key=len)
    cases = [
        GroundingCase(
            {"raw": supported, "second_look": False},
            "Why did the drivers strike?",
            fact,
            "matched, evidence retrieved",
            passages,
        ),
        GroundingCase(
            {"raw": "The articles I have don't say.", "second_look": False},
            "Who won the 2031 chess final?",
            "nobody",
            "mismatched",
            passages,
        ),
    ]
    result = score_grounding(cases, k=3)
    matched = result["groups"]["matched, evidence retrieved"]
    mismatched = result["groups"]["mismatched"]
    assert (matched["questions"], matched["refused"]) == (1, 0)
    assert matched["right_answered"] == 1
    assert (mismatched["refused"], mismatched["refused_by"]) == (1, {"refusal": 1})
    assert result["later_shown"] == []


def test_a_suite_checks_a_draft_against_the_compact_context_the_model_read() -> None:
    """The product checks a draft against the sentences the model read, not the chunks whole: a
    draft quoting a sentence the compact context left out is refused there, and so in the suite."""
    from newsbot.evaluation.modes.base import plain_passage
    from newsbot.evaluation.suites.drafts import recheck

    text = (
        "The council approved the harbour budget on Monday after a long debate.\n\n"
        "Separately, the city zoo welcomed a baby giraffe named Tumi."
    )
    passages = [plain_passage("h:0", "h", text, title="Harbour budget")]
    draft = "The city zoo welcomed a baby giraffe named Tumi [1]."
    question = "What did the council approve?"
    assert recheck(draft, passages, question).grounded
    assert not recheck(draft, passages, question, context_tokens=15).grounded


def test_a_later_years_question_answered_is_listed_for_a_reader() -> None:
    """A question of a later year, answered from look-alike stories: counted as shown, and
    listed with its answer (there is no right answer in the store to score it by)."""
    from newsbot.evaluation.suites.grounding import GROUPS, GroundingCase, score_grounding

    passages = [
        Passage(
            "a:0",
            "a",
            "Strike ends",
            "",
            "Wire",
            "2022-06-01",
            "The strike ended on Monday.",
            0,
            27,
            0.9,
            0,
            rank=1,
        ),
    ]
    shown = GroundingCase(
        {"raw": "The strike ended on Monday [1].", "second_look": False},
        "When did the 2024 strike end?",
        "",
        GROUPS[3],
        passages,
    )
    refused = GroundingCase(
        {"raw": "The articles I have don't say.", "second_look": False},
        "Who won the 2024 vote?",
        "",
        GROUPS[3],
        passages,
    )
    result = score_grounding([shown, refused], k=1)
    later = result["groups"]["later year"]
    assert (later["questions"], later["refused"], later["wrong_grounded"]) == (2, 1, 1)
    assert result["later_shown"] == [
        {"question": "When did the 2024 strike end?", "answer": "The strike ended on Monday [1]."}
    ]

    # Asked as of its day, a question naming a time no passage was published in is refused
    # before the model, as the product refuses it: the suite scores the same.
    dated = replace(shown, question="Which strike ended last Monday?", as_of=date(2024, 3, 8))
    result = score_grounding([dated], k=1)
    later = result["groups"]["later year"]
    assert (later["refused"], later["refused_by"]) == (1, {"named_time": 1})
    assert result["later_shown"] == []


SHIPPED = ("newsbot", "bot", "ingest", "prompts", "vectorstore")


def test_shipped_code_reads_no_repository_path() -> None:
    """`newsbot eval` runs from an installed wheel: no shipped module climbs out of its package to
    the repository (`parents[...]`, the clone's scripts/, examples/ or benchmarks/)."""
    import re

    root = Path(__file__).resolve().parents[1]
    climbs = re.compile(r"parents\[|\.parent\.parent|/ \"(scripts|examples|benchmarks)\"")
    found = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for package in SHIPPED
        for path in sorted((root / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if climbs.search(line)
    ]
    assert found == []


def test_the_followups_suites_data_are_package_data() -> None:
    """The suite's cases and sample articles load through importlib.resources, and pyproject's
    package-data ships each of them in the wheel."""
    import fnmatch
    import tomllib
    from importlib import resources

    from newsbot.evaluation.suites.followups import ARTICLES, CASES, load_cases

    data = resources.files("newsbot.evaluation").joinpath("data")
    assert Path(str(data.joinpath("followups.jsonl"))) == CASES
    assert len(load_cases()) >= 30
    articles = sorted(p.name for p in ARTICLES.iterdir())
    assert {"kettle-recall.html", "sample-feed.xml"} <= set(articles)
    root = Path(__file__).resolve().parents[1]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["newsbot.evaluation"]
    for path in [CASES, *(ARTICLES / name for name in articles)]:
        relative = path.relative_to(root / "newsbot" / "evaluation").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


@pytest.mark.slow
@pytest.mark.timeout(1800)  # one conversation: two answers and a condensed follow-up
def test_followups_suite_caches_the_products_drafts_and_rescores_without_the_model(
    tmp_path: Path,
    local_llm: LocalLLMServer,
) -> None:
    from newsbot.evaluation.suites.followups import COLLECTION, run_followups

    settings = get_settings()
    store = build_store(settings, collection=COLLECTION)
    llm = make_chat_model("local", local_server_factory=lambda: local_llm)
    out = tmp_path / "followups.drafts.jsonl"
    options = {"tiktoken_cache_dir": settings.storage.data_dir / "tiktoken"}
    answering = whole_chunks(settings)

    run = partial(
        run_followups,
        store=store,
        k=3,
        out_path=out,
        limit=1,
        ingest_options=options,
        answering=answering,
    )
    first = run(llm=llm)
    assert (first.asked, first.cached) == (1, 0)
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["standalone"]
    assert len(record["passages"]) == 3
    assert isinstance(record["raw"], str)  # "" when a check refused before the model was asked
    assert isinstance(record["second_look"], bool)
    assert all(seconds > 0 for seconds in record["first_token_s"])
    assert first.result["first_token_p50_s"]["follow_up"] == record["first_token_s"][1]
    (group,) = first.result["groups"].values()
    assert group["questions"] == 1
    assert first.summary_path.is_file()

    again = run(llm=None)  # the cache alone
    assert (again.asked, again.cached) == (0, 1)
    assert again.result == first.result
