"""Record the local model's raw answers into the golden corpus (tests/golden/cases.jsonl).

Run by hand from the repo root; it makes about 330 model calls (30-60 min on 2 idle cores, hours
on a busy machine) and is resumable: cases already in cases.jsonl are skipped, each new one is
appended as soon as it is recorded. The mini collection may still be filling (retrieval then
sees part of the corpus; the recorded passages are what the case is checked on):

    .venv/bin/newsbot --data-dir ../data --collection eval-realtimeqa-2022-mini \\
        ingest ../shared/bench/realtimeqa-2022-mini/corpus.jsonl.gz      # once, ~5 min
    NEWSBOT_DATA_DIR=../data .venv/bin/python -m tests.golden.record
    NEWSBOT_DATA_DIR=../data .venv/bin/python -m tests.golden.record --floors

A second process with `--reverse` records from the other end at the same time. To re-record
from scratch, delete cases.jsonl first. On a busy machine (load 8 on 2 cores)
NEWSBOT_THREADS=1 wrote tokens ten times faster than 2 threads, which wait for each other.
`--floors` records nothing: it scores the fixture with today's answer check and writes
floors.json (the scores tests/test_golden.py must keep). The model is the configured one (the
bundled local model unless NEWSBOT_LLM_* say otherwise; its files are looked up in
NEWSBOT_MODELS_DIR, else the user's newsbot models folder).

Cases, each asked through the product's own steps (`Assistant.retrieve`: condense and
`retrieve_passages`; then the answer step and, always, the second-look step over the same passages,
so any refusal detector can be scored on both drafts):

- grounding: the first 40 RealTimeQA-mini questions, each over its own retrieved passages
  ("matched": expected verdict "answer", fact: the correct choice's text, when the evidence article
  was retrieved; "unknown" when it was not) and over the passages of another question whose
  evidence they don't hold ("mismatched", "refuse"), as the grounding suite picks them; half by a
  stable hash of the question id;
- follow-ups: two-turn conversations; the first question is answered and checked as the product
  does, then the follow-up is asked with that history. The followups suite's cases (over
  examples/articles) is the tuning half; heldout_followups.jsonl (written separately, over
  examples/articles plus the shared seed article) the held-out half.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from newsbot.evaluation.suites import followups
from tests.golden import corpus, scoring

logger = logging.getLogger("golden")

MINI_QUESTIONS = 40
TUNING_FOLLOWUPS = followups.CASES  # the followups suite's own cases
SAMPLES = corpus.REPO / "examples" / "articles"

T = TypeVar("T")
Recording = tuple[str, Callable[[], dict[str, Any]]]


def half_of(question_id: str) -> str:
    """The half a mini question belongs to, by a hash that doesn't change between runs."""
    return "heldout" if int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 2 else "tuning"


def alternate(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """`items` taken in turn from each value of `key` (order kept within each), so a recording cut
    short still holds both halves and both verdicts."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    mixed = itertools.zip_longest(*groups.values())
    return [item for row in mixed for item in row if item is not None]


class _Fixed:
    """A retriever that returns passages already chosen, whatever the question."""

    def __init__(self, passages: list[Any]) -> None:
        self.passages = passages

    def search(self, query: str, k: int, published_before: date | None = None) -> list[Any]:
        return self.passages[:k]


class Recorder:
    """The model calls of one recording session, through the product's chain."""

    def __init__(self, settings: Any) -> None:
        from newsbot.factories import build_llm
        from prompts import load_prompts

        self.settings = settings
        self.k = settings.retrieval.top_k
        self.prompts = load_prompts()
        self.llm = build_llm(settings)
        self.firsts: dict[tuple[str, str], dict[str, Any]] = {}

    def ask(
        self, retriever: Any, question: str, history: list[Any], as_of: date
    ) -> tuple[str, Any, str, str]:
        """The standalone question, its retrieval, the model's raw draft and its raw second-look
        draft, through the product's own steps ("" drafts when nothing was retrieved)."""
        from bot.answer.assistant import Assistant

        assistant = Assistant(retriever, self.llm, self.prompts, self.k)
        standalone, retrieval = assistant.retrieve(question, history, as_of)
        if not retrieval.passages:
            return standalone, retrieval, "", ""
        inputs = {"as_of": as_of, "retrieval": retrieval, "standalone_question": standalone}
        draft = str(assistant.answer.invoke(inputs).text)
        second = str(assistant.second_look.invoke(inputs).text)
        return standalone, retrieval, draft, second

    def first_turn(self, store_name: str, store: Any, question: str, as_of: date) -> dict[str, Any]:
        """The first question's answer as the product shows it, once per store and question."""
        from bot.answer.assistant import Assistant

        key = (store_name, question)
        if key not in self.firsts:
            result = Assistant(store, self.llm, self.prompts, self.k).ask(question, as_of=as_of)
            self.firsts[key] = {"first": question, "first_answer": result.answer}
        return self.firsts[key]


def mini_cases(rec: Recorder) -> Iterator[Recording | None]:
    """The grounding cases; None while the mini corpus is still being ingested (another process
    may be at it), so the follow-ups are recorded meanwhile."""
    from bot.answer.chain import retrieve_passages
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import build_store

    queries = load_queries(corpus.MINI_DIR, MINI_QUESTIONS)
    while True:
        try:
            store = build_store(rec.settings, collection=eval_collection_name(corpus.MINI_DIR))
            retrieved = [
                retrieve_passages(store, q.question, rec.k, date.fromisoformat(q.date)).passages
                for q in queries
            ]
            break
        except Exception as exc:  # Chroma's "database is locked" while an ingest writes
            logger.info("mini collection not readable yet (%s), waiting", exc)
            time.sleep(5)
            yield None
    half = len(queries) // 2
    for i in alternate(range(len(queries)), lambda i: half_of(queries[i].id)):
        query = queries[i]
        # Another question's passages that hold none of this one's evidence (as in the suite).
        other = next(
            j
            for j in [(i + half + step) % len(queries) for step in range(len(queries))]
            if j != i and not ({p.article_id for p in retrieved[j]} & query.labels)
        )
        for kind, passages in (("matched", retrieved[i]), ("mismatched", retrieved[other])):

            def record(query: Any = query, kind: str = kind, passages: Any = passages) -> Any:
                as_of = date.fromisoformat(query.date)
                _, _, draft, second = rec.ask(_Fixed(passages), query.question, [], as_of)
                evidence = bool({p.article_id for p in passages} & query.labels)
                return {
                    "suite": "grounding",
                    "kind": kind,
                    "half": half_of(query.id),
                    # Over its own passages without the evidence article, either verdict can be
                    # right: such a case is in the per-check table but not in the scores.
                    "expect": "refuse"
                    if kind == "mismatched"
                    else "answer"
                    if evidence
                    else "unknown",
                    "facts": [query.answer_text] if kind == "matched" else [],
                    "evidence_retrieved": evidence,
                    "question": query.question,
                    "as_of": query.date,
                    "passages": [
                        corpus.passage_record(p, "realtimeqa-2022-mini") for p in passages
                    ],
                    "draft": draft,
                    "second_look_draft": second,
                }

            yield f"grounding:{query.id}:{kind}", record


def followup_cases(rec: Recorder, half: str) -> Iterator[Recording]:
    from ingest.pipeline import ingest
    from newsbot.factories import build_store

    path, name = (
        (TUNING_FOLLOWUPS, "golden-samples")
        if half == "tuning"
        else (corpus.HELDOUT_FOLLOWUPS, "golden-samples-seed")
    )
    sources = [str(SAMPLES)] + ([str(corpus.SEED_DIR)] if half == "heldout" else [])
    # A data dir of their own: the mini corpus's ingest may hold the main store's write lock.
    settings = rec.settings.replace(data_dir=rec.settings.storage.data_dir / "golden")
    store = build_store(settings, collection=name)
    ingest(
        sources,
        store,
        tiktoken_cache_dir=settings.storage.data_dir / "tiktoken",
        chunk_tokens=settings.retrieval.chunk_tokens,
        overlap=settings.retrieval.chunk_overlap,
    )
    seed_ids = set(corpus.read_shared_articles({"seed": set()}) if half == "heldout" else {})
    as_of = date.today()
    lines = path.read_text(encoding="utf-8").splitlines()
    conversations = [json.loads(line) for line in lines if line.strip()]
    firsts = list(dict.fromkeys(c["first"] for c in conversations))
    # By first question (its answer is asked once), expected verdicts alternating.
    order = sorted(
        alternate(range(len(conversations)), lambda n: conversations[n]["expect"]),
        key=lambda n: firsts.index(conversations[n]["first"]),
    )
    for n in order:
        conversation = conversations[n]

        def record(c: dict[str, Any] = conversation) -> dict[str, Any]:
            first = rec.first_turn(name, store, c["first"], as_of)
            history = [
                {"role": "user", "content": first["first"]},
                {"role": "assistant", "content": first["first_answer"]},
            ]
            standalone, retrieval, draft, second = rec.ask(store, c["follow_up"], history, as_of)
            return {
                "suite": "followups",
                "half": half,
                "expect": c["expect"],
                "facts": c.get("keys", []),
                **first,
                "follow_up": c["follow_up"],
                "question": standalone,
                "as_of": as_of.isoformat(),
                "passages": [
                    corpus.passage_record(p, "seed" if p.article_id in seed_ids else None)
                    for p in retrieval.passages
                ],
                "draft": draft,
                "second_look_draft": second,
            }

        yield f"followups:{half}:{n:02d}", record


def write_floors() -> None:
    """Score the fixture with today's answer check and keep the scores as the floors."""
    cases = corpus.load_cases()
    rows = scoring.check_all(cases, corpus.read_shared_articles(corpus.shared_refs(cases)))
    floors = {
        "measured": date.today().isoformat(),
        "check": "bot.answer.grounding.check_answer",
        "cases": len(cases),
        "halves": scoring.score(rows),
    }
    corpus.FLOORS.write_text(json.dumps(floors, indent=1) + "\n", encoding="utf-8")
    logger.info("floors: %s", json.dumps(floors))


def _note_run(settings: Any, rec: Recorder) -> None:
    """Add this run's recording conditions to meta.json (cases keep their own passages, so runs
    under other settings may share the fixture; each run says from which case it recorded)."""
    current = {
        "model": _model_name(settings),
        "provider": settings.model.provider,
        "k": rec.k,
        "context_tokens": settings.retrieval.context_tokens,
        "chunk_tokens": settings.retrieval.chunk_tokens,
        "chunk_overlap": settings.retrieval.chunk_overlap,
        "temperature": settings.model.temperature,
        "max_tokens": settings.model.max_tokens,
        "prompts_sha256": hashlib.sha256(
            "".join(t.text for _, t in sorted(rec.prompts.templates.items())).encode()
        ).hexdigest()[:12],
    }
    runs = (
        json.loads(corpus.META.read_text(encoding="utf-8"))["runs"] if corpus.META.is_file() else []
    )
    last = runs[-1] if runs else {}
    if {k: v for k, v in last.items() if k in current} != current:
        first = len(corpus.load_cases()) + 1 if corpus.CASES.is_file() else 1
        runs.append({**current, "recorded": date.today().isoformat(), "first_case": first})
    corpus.META.write_text(json.dumps({"runs": runs}, indent=1) + "\n", encoding="utf-8")


def _model_name(settings: Any) -> str:
    from bot.llm.model_spec import DEFAULT_MODEL

    if settings.model.model:
        return str(settings.model.model)
    return settings.model.model_path.name if settings.model.model_path else DEFAULT_MODEL.filename


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--floors", action="store_true", help="only write floors.json")
    parser.add_argument(
        "--reverse",
        action="store_true",
        help="record from the last case back, so a second process can run beside a first",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if args.floors:
        write_floors()
        return
    from platformdirs import user_data_dir

    from newsbot.settings import get_settings

    models = os.environ.get("NEWSBOT_MODELS_DIR") or Path(user_data_dir("newsbot")) / "models"
    settings = get_settings(models_dir=models)
    rec = Recorder(settings)
    _note_run(settings, rec)
    # Interleaved, so a recording cut short still covers every suite and both halves.
    groups = [mini_cases(rec), followup_cases(rec, "tuning"), followup_cases(rec, "heldout")]
    items = [i for i in itertools.chain.from_iterable(itertools.zip_longest(*groups)) if i]
    for case_id, record in reversed(items) if args.reverse else items:
        if case_id in {case["id"] for case in corpus.load_cases()}:  # maybe by another process
            continue
        case = {"id": case_id, **record()}
        with corpus.CASES.open("a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)  # one whole line at a time, whoever else appends
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
        logger.info("%s: %r | %r", case_id, case["draft"][:80], case["second_look_draft"][:80])


if __name__ == "__main__":
    main()
