"""Follow-ups and changes of topic: what the model reads for the second question of a
conversation, no model for the second question.

Dev-only (not shipped); a part of `python -m benchmarks` (`--only topics`). Two kinds of second
question, each searched three ways: *beside* the earlier question (the follow-up with "(after:
earlier question)", as before), *fused* (that and the follow-up alone, rankings fused, always),
and as the *product* does (fused only when `names_own_subject` says the follow-up may be new).

- **Changes of topic**: each question of a dataset asked after the one before it in the file,
  when the two have no labelled article in common, with the earlier answer's text as the
  assistant's turn. Counted: the labelled article among the k passages (*evidence*), and the
  answer's text in what the model reads (*answer*), per half of the questions (tuning /
  held-out, `benchmarks.ranking.half`).
- **Follow-ups**: the conversations of the `followups` suite (samples) and of
  benchmarks/data/followups-seed.jsonl, over a store of the mini corpus plus the sample articles
  and the seed (so a follow-up's own words meet other stories), the first answer the product's
  own. Counted: one of the case's expected facts in what the model reads, per half of the cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.common import DATA, SHARED, BenchConfig, open_store, settings_for, stamp
from benchmarks.ranking import half
from bot.answer.assistant import Assistant
from bot.answer.chain import retrieve_passages
from bot.answer.context import compact_passages
from bot.answer.history import ChatTurn, recent_turns, with_earlier_question
from bot.answer.question import Question
from newsbot.evaluation.metrics import contains_answer
from vectorstore.records import Passage

WAYS = ("beside", "fused", "product")
Searched = tuple[list[Passage], list[Passage]]  # the k passages, what the model reads of them


def _searches(assistant: Assistant, question: Question) -> Iterator[tuple[str, Searched]]:
    """The second question searched each of the three ways, with what the model reads."""
    history = recent_turns(question.history, assistant.max_history_chars)
    standalone = with_earlier_question(question.text, history)
    day = question.day
    for way in WAYS:
        if way == "product":
            _, retrieval = assistant.retrieve(question)
            passages = retrieval.passages
        else:
            alone = question.text if way == "fused" else None
            passages = retrieve_passages(
                assistant.retriever, standalone, assistant.k, day, alone=alone
            ).passages
        shown = passages
        if assistant.context_tokens > 0 and way != "product":
            shown = compact_passages(passages, standalone, assistant.context_tokens)
        yield way, (passages, shown)


def _tally(counts: dict[str, Any], group: str, way: str, name: str, hit: bool) -> None:
    bucket = counts.setdefault(group, {}).setdefault(way, {})
    bucket[name] = bucket.get(name, 0) + int(hit)


def topic_changes(assistant: Assistant, dataset: Path) -> dict[str, Any]:
    """Per half: questions, and per way the evidence and answer counts."""
    queries = [json.loads(line) for line in (dataset / "queries.jsonl").open()]
    counts: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    for earlier, query in pairwise(queries):
        labels = set(query.get("evidence_ids") or []) | set(query.get("silver_ids") or [])
        before = set(earlier.get("evidence_ids") or []) | set(earlier.get("silver_ids") or [])
        if not labels or labels & before:
            continue
        history: list[ChatTurn] = [
            {"role": "user", "content": earlier["question"]},
            {"role": "assistant", "content": earlier["answer_text"]},
        ]
        question = Question(query["question"], history, date.fromisoformat(query["date"]))
        group = half(query["id"])
        sizes[group] = sizes.get(group, 0) + 1
        for way, (passages, shown) in _searches(assistant, question):
            _tally(counts, group, way, "evidence", any(p.article_id in labels for p in passages))
            read = " ".join(p.text for p in shown)
            _tally(counts, group, way, "answer", contains_answer(query["answer_text"], read))
    return {group: {"questions": sizes[group], **counts[group]} for group in sorted(sizes)}


def follow_ups(
    assistant: Assistant, ask: Callable[[str], str], cases_files: Sequence[Path]
) -> dict[str, Any]:
    """Per half of the answerable cases: one of its facts in what the model reads, per way."""
    counts: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    first_answers: dict[str, str] = {}
    for path in cases_files:
        for line in path.open():
            case = json.loads(line)
            if case["expect"] != "answer":
                continue
            if case["first"] not in first_answers:
                first_answers[case["first"]] = ask(case["first"])
            history: list[ChatTurn] = [
                {"role": "user", "content": case["first"]},
                {"role": "assistant", "content": first_answers[case["first"]]},
            ]
            group = half(case["first"] + case["follow_up"])
            sizes[group] = sizes.get(group, 0) + 1
            for way, (_, shown) in _searches(assistant, Question(case["follow_up"], history)):
                read = " ".join(p.text for p in shown).lower()
                found = any(key.lower() in read for key in case["keys"])
                _tally(counts, group, way, "answer", found)
    return {group: {"cases": sizes[group], **counts[group]} for group in sorted(sizes)}


def bench_topics(config: BenchConfig) -> dict[str, Any]:
    """Changes of topic on full 2022 and 2024-H1 (their stores in the data dir), follow-ups over
    the mini corpus with the sample articles and the seed (a store in the work dir)."""
    from newsbot.evaluation.corpus import eval_collection_name, ingest_corpus
    from newsbot.evaluation.suites.followups import ARTICLES, CASES
    from newsbot.factories import build_assistant

    settings = settings_for(config.data_dir)
    changes = {}
    for dataset in (config.full, config.h1):
        store = open_store(settings, eval_collection_name(dataset))
        changes[dataset.name] = topic_changes(build_assistant(settings, store), dataset)

    from ingest.pipeline import ingest

    mixed = settings_for(config.work_dir / "topics-data")
    store = open_store(mixed, "topics", build_keywords=False)
    tiktoken: dict[str, Any] = {"tiktoken_cache_dir": mixed.storage.data_dir / "tiktoken"}
    ingest_corpus(config.mini, store, options=tiktoken)
    ingest([str(ARTICLES), str(SHARED / "corpus" / "seed")], store, **tiktoken)
    store = open_store(mixed, "topics")
    assistant = build_assistant(mixed, store)
    today = date.today()
    cases = [CASES, DATA / "followups-seed.jsonl"]
    asked = follow_ups(assistant, lambda q: assistant.ask(Question(q, as_of=today)).answer, cases)
    return stamp(
        "topics",
        config,
        {"k": settings.retrieval.top_k, "topic_changes": changes, "follow_ups": asked},
    )
