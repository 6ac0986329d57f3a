"""`make bench`: measure newsbot's speed on real data and write BENCHMARKS.md.

Parts (run all, or some with `--only ingest,retrieval,answer,grounding,followups,serve,accuracy`):

- ingest: the realtimeqa-2022-mini corpus end to end through the ingest pipeline (chunks/s,
  tokens/s), the raw embedder on the same chunks, and LangChain's tutorial indexing
  (`Chroma.from_documents`, 1,000/200-character splits) with the same embedder, in one run;
- retrieval: `NewsStore.search` latency p50/p95 (query embedding included) at the mini size, at
  the full 2022 size (the real collection when `newsbot eval` built it, else random vectors at
  the chunk count of the full corpus) and on a synthetic 200k-chunk collection of random unit
  vectors;
- answer: first-token and total latency p50/p95 of the answering assistant over 30 questions;
- grounding: how often the answer check refuses mini questions asked over their own retrieved
  passages (should answer when the evidence is there) and over another question's passages
  (should refuse); the model's raw answers are cached in the work dir, so a changed check is
  re-scored without the model;
- followups: two-turn conversations over the sample articles (scripts/followups.jsonl, written for
  this project): follow-ups the articles answer and follow-ups they don't, scored like grounding;
- serve: peak resident memory of `newsbot serve` after it answered a question;
- accuracy: the summaries of `newsbot eval` runs (`--summaries a.summary.json ...`).

Results are kept in BENCHMARKS.md itself (a JSON comment at its end), so parts run at different
times add up; every part records its date, machine load and the exact command.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import platform
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSBOT_SHARED_DIR", REPO.parent / "shared"))
MINI = SHARED / "bench" / "realtimeqa-2022-mini"
FULL = SHARED / "bench" / "realtimeqa-2022"
OUTPUT = REPO / "BENCHMARKS.md"
PARTS = ("ingest", "retrieval", "answer", "grounding", "followups", "serve", "accuracy")
_RESULTS = re.compile(r"<!-- bench-results\n(.*?)\n-->", re.S)

logger = logging.getLogger("bench")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# --- helpers -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory and the current load (the benchmarks share the machine)."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory_gib = round(kib / 2**20, 1)
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def stamp(extra: dict[str, Any]) -> dict[str, Any]:
    """Common fields of a part's result: date, machine, the exact command."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": "python scripts/bench.py " + shlex.join(sys.argv[1:]),
        **extra,
    }


def pct(values: Sequence[float], q: float) -> float | None:
    from newsbot.evaluation.metrics import percentile

    value = percentile(values, q)
    return None if value is None else round(value, 4)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def default_models_dir() -> Path:
    """The user's models folder, so the benchmark shares the installed model files."""
    from platformdirs import user_data_dir

    configured = os.environ.get("NEWSBOT_MODELS_DIR")
    return (
        Path(configured)
        if configured
        else Path(user_data_dir("newsbot", appauthor=False)) / "models"
    )


def settings_for(data_dir: Path) -> Any:
    from newsbot.settings import get_settings

    return get_settings(data_dir=data_dir, models_dir=default_models_dir())


def open_store(settings: Any, collection: str) -> Any:
    from newsbot.factories import build_store

    return build_store(settings, collection=collection)


# --- ingest --------------------------------------------------------------------------------------


def bench_ingest(args: argparse.Namespace) -> dict[str, Any]:
    """Index the mini corpus three ways with one embedder instance; same machine, same run."""
    from ingest.pipeline import ingest
    from ingest.tokens import load_encoding
    from newsbot.evaluation import plain_rag
    from newsbot.evaluation.dataset import iter_docs
    from vectorstore.client import make_chroma_client

    run_dir = args.work_dir / f"ingest-{int(time.time())}"
    settings = settings_for(run_dir)
    corpus = args.mini / "corpus.jsonl.gz"
    if args.docs:
        corpus = run_dir / "corpus-slice.jsonl.gz"
        run_dir.mkdir(parents=True, exist_ok=True)
        with gzip.open(corpus, "wt", encoding="utf-8") as out:
            for n, doc in enumerate(iter_docs(args.mini)):
                if n >= args.docs:
                    break
                out.write(json.dumps(doc.__dict__) + "\n")
    store = open_store(settings, "bench-ingest")
    store.embeddings.load()  # model load is not part of any of the three timings
    encoding = load_encoding(settings.data_dir / "tiktoken")

    logger.info("ingest: newsbot pipeline on %s", corpus)
    report, _ = timed(
        lambda: ingest(
            [str(corpus)],
            store,
            tiktoken_cache_dir=settings.data_dir / "tiktoken",
            chunk_tokens=settings.chunk_tokens,
            overlap=settings.chunk_overlap,
        )
    )
    chars = sum(len(doc.text) for doc in iter_docs(args.mini, corpus_file=corpus))
    texts = store.langchain_vectorstore().get(include=["documents"])["documents"]

    logger.info("ingest: raw embedder on the same %d chunks", len(texts))
    _, raw_seconds = timed(lambda: store.embeddings.embed_documents(texts))
    raw_tokens = sum(len(encoding.encode_ordinary(t)) for t in texts)

    logger.info("ingest: LangChain tutorial (Chroma.from_documents, 1000/200 characters)")
    splits = plain_rag.split_docs(iter_docs(args.mini, corpus_file=corpus))
    client = make_chroma_client(run_dir / "tutorial")
    _, lc_seconds = timed(
        lambda: plain_rag.build_index(splits, store.embeddings, client, "tutorial")
    )
    lc_tokens = sum(len(encoding.encode_ordinary(s.page_content)) for s in splits)

    def rates(chunks: int, tokens: int, seconds: float) -> dict[str, Any]:
        return {
            "chunks": chunks,
            "tokens": tokens,
            "seconds": round(seconds, 1),
            "chunks_per_s": round(chunks / seconds, 1),
            "tokens_per_s": round(tokens / seconds),
        }

    newsbot = rates(report.chunks, report.tokens, report.seconds)
    newsbot["corpus_chars_per_s"] = round(chars / report.seconds)
    raw = rates(len(texts), raw_tokens, raw_seconds)
    tutorial = rates(len(splits), lc_tokens, lc_seconds)
    tutorial["corpus_chars_per_s"] = round(chars / lc_seconds)
    return stamp(
        {
            "corpus": f"{args.mini.name}" + (f" (first {args.docs} docs)" if args.docs else ""),
            "articles": report.articles,
            "characters": chars,
            "chunk_tokens": settings.chunk_tokens,
            "overlap": settings.chunk_overlap,
            "newsbot": newsbot,
            "raw_embedder": raw,
            "langchain_tutorial": tutorial,
            "ratios": {
                "newsbot_tokens_per_s_vs_raw": round(
                    newsbot["tokens_per_s"] / raw["tokens_per_s"], 2
                ),
                "newsbot_vs_tutorial_corpus_time": round(lc_seconds / report.seconds, 2),
                "newsbot_vs_tutorial_tokens_per_s": round(
                    newsbot["tokens_per_s"] / tutorial["tokens_per_s"], 2
                ),
            },
        }
    )


# --- retrieval -----------------------------------------------------------------------------------


def _latencies(store: Any, questions: Sequence[tuple[str, date]], k: int) -> dict[str, Any]:
    """Search p50/p95 as of each question's date (a date filter) and as of today (usually none:
    no stored article is newer, see `NewsStore.search`)."""
    for text, when in questions[:3]:  # warm up: model load, caches
        store.search(text, k, published_before=when)
    dated: list[float] = []
    today: list[float] = []
    for text, when in questions:
        for day, seconds in ((when, dated), (date.today(), today)):
            started = time.perf_counter()
            store.search(text, k, published_before=day)
            seconds.append(time.perf_counter() - started)
    return {
        "queries": len(dated),
        "p50_ms": round(1000 * (pct(dated, 50) or 0), 1),
        "p95_ms": round(1000 * (pct(dated, 95) or 0), 1),
        "today_p50_ms": round(1000 * (pct(today, 50) or 0), 1),
        "today_p95_ms": round(1000 * (pct(today, 95) or 0), 1),
    }


def _count_chunks(dataset: Path, settings: Any) -> int:
    """Chunks the dataset's corpus makes with the default chunking (no embedding)."""
    from ingest.chunking import chunk_text
    from ingest.cleaning import clean_text
    from ingest.tokens import load_encoding
    from newsbot.evaluation.dataset import iter_docs

    encoding = load_encoding(settings.data_dir / "tiktoken")
    total = 0
    for doc in iter_docs(dataset):
        text = clean_text(doc.text)
        if text:
            total += len(chunk_text(text, encoding, settings.chunk_tokens, settings.chunk_overlap))
    return total


def _synthetic(settings: Any, name: str, size: int, dimension: int) -> Any:
    """A newsbot collection of `size` random unit vectors (dated across 2022), built once."""
    import numpy as np

    store = open_store(settings, name)
    collection = store.client.get_collection(name)
    have = collection.count()
    if have >= size:
        return store
    rng = np.random.default_rng(2022)
    batch = min(5000, store.client.get_max_batch_size())
    start_day = (date(2022, 1, 1) - date(1970, 1, 1)).days
    logger.info("retrieval: inserting %d random vectors into %s", size - have, name)
    for first in range(have, size, batch):
        n = min(batch, size - first)
        vectors = rng.standard_normal((n, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        days = rng.integers(0, 365, n)
        collection.add(
            ids=[f"synthetic-{(first + i) // 10}:{(first + i) % 10}" for i in range(n)],
            embeddings=vectors,
            documents=[f"synthetic chunk {first + i}" for i in range(n)],
            metadatas=[
                {
                    "article_id": f"synthetic-{(first + i) // 10}",
                    "title": "",
                    "url": "",
                    "source": "",
                    "published": str(
                        date(2022, 1, 1).fromordinal(date(2022, 1, 1).toordinal() + int(d))
                    ),
                    "published_ts": start_day + int(d),
                    "chunk_index": (first + i) % 10,
                    "char_start": 0,
                    "char_end": 0,
                    "content_hash": "",
                }
                for i, d in enumerate(days)
            ],
        )
    return store


def bench_retrieval(args: argparse.Namespace) -> dict[str, Any]:
    """Search latency at three collection sizes, with the mini questions as queries."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries

    settings = settings_for(args.data_dir)
    questions = [(q.question, date.fromisoformat(q.date)) for q in load_queries(args.mini)]
    rows: dict[str, Any] = {}

    mini = open_store(settings, eval_collection_name(args.mini))
    if mini.stats()["chunks"] == 0:
        raise SystemExit(
            f"No mini collection in {args.data_dir}: run `newsbot --data-dir {args.data_dir} eval "
            f"{args.mini} --limit 1` first (it ingests the corpus)"
        )
    rows["mini (real)"] = {"chunks": mini.stats()["chunks"], **_latencies(mini, questions, args.k)}

    full = open_store(settings, eval_collection_name(args.full))
    full_chunks = full.stats()["chunks"]
    if full_chunks:
        rows["full 2022 (real)"] = {"chunks": full_chunks, **_latencies(full, questions, args.k)}
    else:
        size = _count_chunks(args.full, settings)
        store = _synthetic(settings, f"bench-synthetic-{size}", size, mini.dimension)
        rows["full 2022 size (random vectors)"] = {
            "chunks": size,
            **_latencies(store, questions, args.k),
        }
    big = _synthetic(settings, f"bench-synthetic-{args.synthetic}", args.synthetic, mini.dimension)
    rows[f"synthetic {args.synthetic // 1000}k (random vectors)"] = {
        "chunks": args.synthetic,
        **_latencies(big, questions, args.k),
    }
    return stamp({"k": args.k, "rows": rows})


# --- answer --------------------------------------------------------------------------------------


def bench_answer(args: argparse.Namespace) -> dict[str, Any]:
    """The assistant's first-token and total latency on real questions of the mini set."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import build_assistant

    settings = settings_for(args.data_dir)
    store = open_store(settings, eval_collection_name(args.mini))
    assistant = build_assistant(settings, store)
    queries = load_queries(args.mini, args.questions)
    assistant.ask(queries[0].question, as_of=date.fromisoformat(queries[0].date))  # load model
    first, total, prompt_tokens, completion_tokens = [], [], [], []
    second_looks = 0
    for query in queries:
        result = assistant.ask(query.question, as_of=date.fromisoformat(query.date))
        second_looks += result.second_look
        if "first_token_s" in result.timings:
            first.append(result.timings["first_token_s"])
        total.append(result.timings["total_s"])
        prompt_tokens.append(result.usage.get("prompt_tokens", 0))
        completion_tokens.append(result.usage.get("completion_tokens", 0))
    return stamp(
        {
            "questions": len(queries),
            "k": settings.top_k,
            "max_tokens": settings.llm_max_tokens,
            "first_token_p50_s": pct(first, 50),
            "first_token_p95_s": pct(first, 95),
            "total_p50_s": pct(total, 50),
            "total_p95_s": pct(total, 95),
            "prompt_tokens_mean": round(sum(prompt_tokens) / len(prompt_tokens)),
            "completion_tokens_mean": round(sum(completion_tokens) / len(completion_tokens)),
            "second_looks": second_looks,
        }
    )


# --- grounding -----------------------------------------------------------------------------------


def _read_answer_cache(path: Path, fields: Sequence[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Cached raw answers (JSON lines) by the values of `fields` (lists become tuples)."""
    cache: dict[tuple[Any, ...], dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = tuple(tuple(v) if isinstance(v, list) else v for v in map(row.get, fields))
            cache[key] = row
    return cache


def _append_answer(path: Path, row: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


def _draft(items: Iterable[Any]) -> tuple[str, Any]:
    """The model's raw answer (the streamed deltas) and the stream's final `AnswerResult`."""
    raw = ""
    for item in items:
        if isinstance(item, str):
            raw += item
        else:
            return raw, item
    raise RuntimeError("the answer stream ended without a result")


class _FixedPassages:
    """A retriever that returns the same passages for any question (they are already chosen)."""

    def __init__(self, passages: Sequence[Any]) -> None:
        self.passages = list(passages)

    def search(self, query: str, k: int, published_before: date | None = None) -> list[Any]:
        return self.passages[:k]


def _grounding_answers(args: argparse.Namespace, generate: bool = True) -> list[dict[str, Any]]:
    """The model's raw answers to mini questions over their own passages ("matched") and over
    another question's passages ("mismatched"), cached in the work dir by question, kind, prompt
    text and passages (chunk ids), so a changed answer check re-scores them without the model
    (with `generate=False`, answers not in the cache are left out)."""
    import hashlib

    from bot.answer.assistant import Assistant
    from bot.answer.chain import prompt_order
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import build_llm
    from prompts import load_prompts

    settings = settings_for(args.data_dir)
    store = open_store(settings, eval_collection_name(args.mini))
    prompts = load_prompts()
    prompt_key = hashlib.sha256(
        (prompts.answer_system.text + prompts.answer_user.text + prompts.answer_retry.text).encode()
    ).hexdigest()[:12]
    cache_path = args.work_dir / "grounding-answers.jsonl"
    cache = _read_answer_cache(cache_path, ("id", "kind", "prompt", "chunks"))
    queries = load_queries(args.mini, args.grounding_questions)
    retrieved = [
        prompt_order(store.search(q.question, args.k, published_before=date.fromisoformat(q.date)))
        for q in queries
    ]
    llm = None
    rows = []
    half = len(queries) // 2
    for i, query in enumerate(queries):
        other = next(
            j
            for j in [(i + half + step) % len(queries) for step in range(len(queries))]
            if j != i and not ({p.article_id for p in retrieved[j]} & query.labels)
        )
        for kind, passages in (("matched", retrieved[i]), ("mismatched", retrieved[other])):
            chunk_ids = [p.chunk_id for p in passages]
            key = (query.id, kind, prompt_key, tuple(chunk_ids))
            if key not in cache:
                if not generate:
                    continue
                llm = llm or build_llm(settings)
                assistant = Assistant(_FixedPassages(passages), llm, prompts, k=args.k)
                raw, result = _draft(
                    assistant.stream(query.question, as_of=date.fromisoformat(query.date))
                )
                cache[key] = {
                    "id": query.id,
                    "kind": kind,
                    "prompt": prompt_key,
                    "chunks": chunk_ids,
                    "raw": raw,
                    "second_look": result.second_look,
                }
                _append_answer(cache_path, cache[key])
                logger.info("%s %s: %r", query.id, kind, raw[:120])
            rows.append(
                {
                    **cache[key],
                    "question": query.question,
                    "answer_text": query.answer_text,
                    "evidence_retrieved": bool(
                        {p.article_id for p in passages} & query.labels and kind == "matched"
                    ),
                    "passages": passages,
                }
            )
    return rows


def bench_grounding(args: argparse.Namespace) -> dict[str, Any]:
    """How often the answer check refuses: questions over their own passages (should answer when
    the evidence was retrieved) and over another question's passages (should refuse)."""
    from bot.answer.assistant import check_answer

    rows = _grounding_answers(args)
    counts: dict[str, dict[str, int]] = {}
    examples: list[dict[str, str]] = []
    for row in rows:
        group = (
            "mismatched"
            if row["kind"] == "mismatched"
            else (
                "matched, evidence retrieved"
                if row["evidence_retrieved"]
                else "matched, no evidence"
            )
        )
        answer, _, grounded = check_answer(
            row["raw"], row["passages"], row["question"], second_look=row["second_look"]
        )
        model_refused = row["second_look"]
        c = counts.setdefault(
            group,
            {
                "questions": 0,
                "model_refused": 0,
                "second_look_answered": 0,
                "refused": 0,
                "right_answered": 0,
            },
        )
        c["questions"] += 1
        c["model_refused"] += model_refused
        c["second_look_answered"] += model_refused and grounded
        c["refused"] += not grounded
        c["right_answered"] += grounded and row["answer_text"].lower() in answer.lower()
        if group != "mismatched" and not grounded and not model_refused and len(examples) < 8:
            examples.append(
                {
                    "question": row["question"],
                    "raw": row["raw"][:300],
                    "correct": row["answer_text"],
                }
            )
    return stamp({"k": args.k, "groups": counts, "refused_examples": examples})


# --- follow-ups ----------------------------------------------------------------------------------

FOLLOWUPS = REPO / "scripts" / "followups.jsonl"
SAMPLES = REPO / "examples" / "articles"


class _RecordingRetriever:
    """Passes searches to the store and keeps the last result (the follow-up's passages)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.last: list[Any] = []

    def search(self, query: str, k: int, published_before: date | None = None) -> list[Any]:
        self.last = self.store.search(query, k, published_before=published_before)
        return self.last


def _followup_answers(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Two-turn conversations over the sample articles (scripts/followups.jsonl): the model's
    first answer, the condensed follow-up, its passages and raw answer, cached in the work dir by
    conversation, prompts, model and k, so a changed answer check re-scores them without the
    model."""
    import dataclasses
    import hashlib

    from bot.answer.assistant import Assistant
    from bot.answer.chain import prompt_order
    from bot.answer.history import ChatTurn
    from bot.llm.model_files import DEFAULT_MODEL
    from ingest.pipeline import ingest
    from newsbot.factories import build_llm
    from prompts import load_prompts
    from vectorstore.records import Passage

    settings = settings_for(args.work_dir / "followups-data")
    prompts = load_prompts()
    prompt_key = hashlib.sha256(
        "".join(prompts.templates[name].text for name in sorted(prompts.templates)).encode()
    ).hexdigest()[:12]
    model = settings.llm_model or (
        settings.llm_model_path.name if settings.llm_model_path else DEFAULT_MODEL.filename
    )
    model_key = f"{settings.llm_provider}:{model}:k={args.k}"
    cache_path = args.work_dir / "followup-answers.jsonl"
    cache = _read_answer_cache(cache_path, ("first", "follow_up", "prompt", "model"))
    cases = [json.loads(line) for line in FOLLOWUPS.read_text(encoding="utf-8").splitlines()]
    assistant = None
    rows = []
    for case in cases:
        key = (case["first"], case["follow_up"], prompt_key, model_key)
        if key not in cache:
            if assistant is None:
                store = open_store(settings, "followups")
                ingest([str(SAMPLES)], store, tiktoken_cache_dir=settings.data_dir / "tiktoken")
                retriever = _RecordingRetriever(store)
                assistant = Assistant(retriever, build_llm(settings), prompts, k=args.k)
            first = assistant.ask(case["first"])
            history: list[ChatTurn] = [
                {"role": "user", "content": case["first"]},
                {"role": "assistant", "content": first.answer},
            ]
            raw, result = _draft(assistant.stream(case["follow_up"], history))
            cache[key] = {
                "first": case["first"],
                "follow_up": case["follow_up"],
                "prompt": prompt_key,
                "model": model_key,
                "first_answer": first.answer,
                "standalone": result.standalone_question,
                "passages": [dataclasses.asdict(p) for p in prompt_order(retriever.last)],
                "raw": raw,
                "second_look": result.second_look,
            }
            _append_answer(cache_path, cache[key])
            logger.info("%s → %r", case["follow_up"], raw[:120])
        row = dict(cache[key])
        row["passages"] = [Passage(**p) for p in row["passages"]]
        rows.append({**case, **row})
    return rows


def bench_followups(args: argparse.Namespace) -> dict[str, Any]:
    """Follow-ups that the sample articles answer or don't: how often the model alone and the
    checked answer refuse, and how often an answer holds the expected fact."""
    from bot.answer.assistant import check_answer

    counts: dict[str, dict[str, int]] = {}
    cases = []
    for row in _followup_answers(args):
        answer, _, grounded = check_answer(
            row["raw"],
            row["passages"],
            row["standalone"],
            follow_up=row["follow_up"],
            second_look=row["second_look"],
        )
        _, _, grounded_without = check_answer(
            row["raw"],
            row["passages"],
            row["standalone"],
            follow_up=row["follow_up"],
            subject_threshold=0.0,
            second_look=row["second_look"],
        )
        by_subject = grounded_without and not grounded
        right = grounded and any(key.lower() in answer.lower() for key in row.get("keys", []))
        c = counts.setdefault(
            row["expect"],
            {
                "questions": 0,
                "model_refused": 0,
                "second_look_answered": 0,
                "refused": 0,
                "by_subject": 0,
                "right": 0,
            },
        )
        c["questions"] += 1
        c["model_refused"] += row["second_look"]
        c["second_look_answered"] += row["second_look"] and grounded
        c["refused"] += not grounded
        c["by_subject"] += by_subject
        c["right"] += right
        cases.append(
            {
                "follow_up": row["follow_up"],
                "expect": row["expect"],
                "raw": row["raw"][:200],
                "answer": answer[:200],
                "grounded": grounded,
                "by_subject": by_subject,
            }
        )
    return stamp({"k": args.k, "groups": counts, "cases": cases})


# --- serve ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def bench_serve(args: argparse.Namespace) -> dict[str, Any]:
    """Start `newsbot serve`, ask one question over the API, read the process's peak RSS."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries

    port = _free_port()
    newsbot = Path(sys.executable).with_name("newsbot")
    command = [
        str(newsbot),
        "--data-dir",
        str(args.data_dir),
        "--collection",
        eval_collection_name(args.mini),
        "serve",
        "--port",
        str(port),
    ]
    env = {**os.environ, "NEWSBOT_MODELS_DIR": str(default_models_dir())}
    log_path = args.work_dir / "serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                error = log_path.read_text(errors="replace")[-2000:]
                raise SystemExit(f"newsbot serve exited: {error}")
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("newsbot serve did not answer /api/health in 300 s") from None
                time.sleep(1)
        idle = _peak_rss_mib(process.pid)
        query = load_queries(args.mini, 1)[0]
        body = json.dumps({"question": query.question, "as_of": query.date}).encode()
        request = urllib.request.Request(
            f"{base}/api/ask", data=body, headers={"content-type": "application/json"}
        )
        _, seconds = timed(lambda: urllib.request.urlopen(request, timeout=600).read())
        peak = _peak_rss_mib(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    return stamp(
        {
            "serve_command": shlex.join(["newsbot", *command[1:]]),
            "peak_rss_mib_before_first_question": round(idle),
            "peak_rss_mib_after_one_answer": round(peak),
            "first_answer_s": round(seconds, 1),
        }
    )


# --- accuracy ------------------------------------------------------------------------------------


def _answer_seconds(summary: dict[str, Any]) -> float:
    """Time spent answering, from the predictions of a summary written before it was recorded."""
    from newsbot.evaluation.runner import answer_seconds, read_preds

    preds = list(read_preds(Path(summary["out_path"])).values())
    return answer_seconds(preds[: summary["summary"]["n"]])


def bench_accuracy(args: argparse.Namespace) -> dict[str, Any]:
    """Collect `newsbot eval` summary files (written next to their predictions)."""
    runs = []
    for path in args.summaries:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("status") != "done":
            raise SystemExit(f"{path} is from an unfinished run")
        runs.append(
            {
                "dataset": data["dataset"],
                "mode": data["mode"],
                "k": data["k"],
                "model": data.get("model", ""),
                "seconds": data["seconds"],
                "answer_seconds": data.get("answer_seconds") or _answer_seconds(data),
                "summary": data["summary"],
                "ingest": data.get("ingest", {}),
            }
        )
    return stamp({"runs": runs, "commands": args.eval_commands})


# --- BENCHMARKS.md -------------------------------------------------------------------------------


def load_results(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    found = _RESULTS.search(path.read_text(encoding="utf-8"))
    return json.loads(found.group(1)) if found else {}


def _header(result: dict[str, Any]) -> list[str]:
    m = result["machine"]
    return [
        f"Measured {result['date']} on {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, "
        f"Python {m['python']}; 1-minute load average at the start: {m['load_1m']}.",
        "",
        f"    {result['command']}",
        "",
    ]


def render(results: dict[str, Any]) -> str:
    from newsbot.evaluation.report import markdown_table
    from newsbot.settings import Settings

    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    out = [
        "# Benchmarks",
        "",
        "Measured with `scripts/bench.py` (`make bench`) and `newsbot eval`, on the real news of",
        "`../shared/bench` (RealTimeQA 2022; see its README). Default configuration: the bundled",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M on llama.cpp, all-MiniLM-L6-v2 int8 ONNX embeddings,",
        f"{defaults['chunk_tokens']}-token chunks with {defaults['chunk_overlap']} overlap, "
        f"k = {defaults['top_k']}. Each section says when and how it was measured;",
        "ratios compare numbers measured in the same run. A high load average means other work",
        "shared the CPU and the absolute timings are pessimistic.",
        "",
    ]
    if "accuracy" in results:
        r = results["accuracy"]
        out += ["## Accuracy (`newsbot eval`)", "", *_header(r)]
        for command in r.get("commands") or []:
            out += [f"    {command}"]
        out += [""]
        rows = [
            (
                f"{run['dataset']} {run['mode']} (k={run['k']}, "
                f"{run.get('answer_seconds', run['seconds']) / 60:.0f} min answering)",
                run["summary"],
            )
            for run in r["runs"]
        ]
        out += [markdown_table(rows), ""]
        out += [
            "acc = multiple-choice accuracy (chance 0.25) with its 95% Wilson interval; ans@k =",
            "answer text in the top-k chunks; ev@k = a chunk of an evidence/silver document in the",
            "top k (a run retrieves only its k chunks, so @5 and @10 count those k); TTFT =",
            "seconds from the question to the first answer token (retrieval included). n below",
            "the dataset's size: the first n questions only.",
            "Published anchors are GPT-3-class systems over 2,060 questions (2022-06 .. 2023-12).",
            "",
        ]
    if "ingest" in results:
        r = results["ingest"]
        out += ["## Ingest throughput", "", *_header(r)]
        out += [
            f"Corpus: {r['corpus']}, {r['articles']} articles, {r['characters']:,} characters. "
            "Tokens are cl100k_base tokens of the chunk texts.",
            "",
            "| method | chunks | tokens | seconds | chunks/s | tokens/s |",
            "|---|---|---|---|---|---|",
        ]
        labels = {
            "newsbot": f"newsbot ingest, end to end ({r['chunk_tokens']}-token chunks)",
            "raw_embedder": "raw embedder on the same chunks",
            "langchain_tutorial": "LangChain Chroma.from_documents (1,000/200 chars)",
        }
        for key, label in labels.items():
            row = r[key]
            out.append(
                f"| {label} | {row['chunks']:,} | {row['tokens']:,} | {row['seconds']} | "
                f"{row['chunks_per_s']} | {row['tokens_per_s']:,} |"
            )
        ratios = r["ratios"]
        out += [
            "",
            f"- newsbot end to end runs at {ratios['newsbot_tokens_per_s_vs_raw']}x the raw "
            "embedder's tokens/s (the rest is reading, cleaning, chunking and Chroma writes);",
            "- the whole corpus is searchable "
            f"{ratios['newsbot_vs_tutorial_corpus_time']}x as fast as with the tutorial's "
            f"indexing ({ratios['newsbot_vs_tutorial_tokens_per_s']}x its tokens/s).",
            "",
        ]
    if "retrieval" in results:
        r = results["retrieval"]
        out += ["## Retrieval latency", "", *_header(r)]
        out += [
            f"`NewsStore.search(question, k={r['k']}, published_before=...)`, query embedding "
            "included, over the 80 mini questions (3 warm-up queries first), as of each",
            "question's date (Chroma filters on the publication date in SQLite first) and as of",
            "today (no article is newer, so newsbot searches without the filter). All",
            "collections share one data dir, as in a benchmark run; the filter's cost grows",
            "with the number of chunks it lets through and with everything stored in the data",
            "dir. The synthetic collections have no article registry, so they are always",
            "filtered (as of today, every chunk passes: the slowest case).",
            "",
            "| collection | chunks | as of question date p50 / p95 ms | as of today p50 / p95 ms |",
            "|---|---|---|---|",
        ]
        for label, row in r["rows"].items():
            today = (
                f"{row['today_p50_ms']} / {row['today_p95_ms']}" if "today_p50_ms" in row else "—"
            )
            out.append(
                f"| {label} | {row['chunks']:,} | {row['p50_ms']} / {row['p95_ms']} | {today} |"
            )
        out.append("")
    if "answer" in results:
        r = results["answer"]
        out += ["## Answer latency", "", *_header(r)]
        out += [
            f"The assistant (`Assistant.ask`, k={r['k']}, at most {r['max_tokens']} answer "
            f"tokens) on the first {r['questions']} mini questions, each as of its date; mean "
            f"prompt {r['prompt_tokens_mean']} tokens, mean answer {r['completion_tokens_mean']} "
            f"tokens (both summed over the two attempts of the {r['second_looks']} answers that "
            "took a second look, which the times include).",
            "",
            "| | p50 s | p95 s |",
            "|---|---|---|",
            f"| first token | {r['first_token_p50_s']} | {r['first_token_p95_s']} |",
            f"| whole answer | {r['total_p50_s']} | {r['total_p95_s']} |",
            "",
        ]
    if "grounding" in results:
        r = results["grounding"]
        out += ["## Refusals (the answer check)", "", *_header(r)]
        out += [
            f"The first mini questions, each answered (k={r['k']}) from its own retrieved passages",
            "and, separately, from the passages retrieved for another question whose evidence they",
            "do not hold. Over its own passages the bot should answer when the evidence was",
            "retrieved; over another question's passages it should refuse. *model refused*: the",
            "model's first reply was the refusal, so it was asked once more without that way out;",
            "*answered on a second look*: of those, answers that passed the check; *refused*: the",
            "result after the answer check (sentences their passages don't support, or that name",
            "someone or give a number the passages never mention, dropped; answers that miss what",
            "was asked refused); *right*: answered (grounded) and the answer contains the correct",
            "choice's text.",
            "",
            "| passages | questions | model refused | answered on a second look "
            "| refused after the check | right |",
            "|---|---|---|---|---|---|",
        ]
        for group, c in r["groups"].items():
            out.append(
                f"| {group} | {c['questions']} | {c['model_refused']} | "
                f"{c['second_look_answered']} | {c['refused']} | {c['right_answered']} |"
            )
        out.append("")
        if r.get("refused_examples"):
            out += ["Answers over their own passages that the check (not the model) refused:", ""]
            out += [
                f"- {e['question']} → {e['raw']!r} (correct: {e.get('correct', '?')})"
                for e in r["refused_examples"]
            ]
            out.append("")
    if "followups" in results:
        r = results["followups"]
        out += ["## Follow-up questions", "", *_header(r)]
        out += [
            "Two-turn conversations over the sample articles in `examples/articles`",
            f"(`scripts/followups.jsonl`, k={r['k']}): a first question, then a follow-up that the",
            'articles answer or one they don\'t ("What about toasters?" after a kettle recall).',
            "*model refused*: the model's first reply to the follow-up (it is then asked once more",
            "without that way out); *answered on a second look*: of those, answers that passed the",
            "check; *refused*: after the answer check; *by the subject rule*: of those, refused",
            "only because the passages never mention what the follow-up asks about (the check",
            "without that rule answers them); *right*: answered and the answer holds the expected",
            "fact.",
            "",
            "| follow-ups | questions | model refused | answered on a second look "
            "| refused after the check | by the subject rule | right |",
            "|---|---|---|---|---|---|---|",
        ]
        for group, c in r["groups"].items():
            label = "answered by the articles" if group == "answer" else "not in the articles"
            out.append(
                f"| {label} | {c['questions']} | {c['model_refused']} | "
                f"{c['second_look_answered']} | {c['refused']} | {c['by_subject']} | "
                f"{c['right']} |"
            )
        wrong = [c for c in r["cases"] if c["grounded"] == (c["expect"] == "refuse")]
        if wrong:
            out += ["", "Follow-ups the check got wrong:", ""]
            out += [f"- {c['follow_up']} → {c['answer']!r}" for c in wrong]
        out.append("")
    if "serve" in results:
        r = results["serve"]
        out += ["## Memory of `newsbot serve`", "", *_header(r)]
        out += [
            f"    {r['serve_command']}",
            "",
            f"Peak RSS {r['peak_rss_mib_before_first_question']} MiB once listening, "
            f"{r['peak_rss_mib_after_one_answer']} MiB after answering one question over "
            f"`/api/ask` (model loaded; that answer took {r['first_answer_s']} s).",
            "",
        ]
    out += ["<!-- bench-results", json.dumps(results, indent=1), "-->", ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(PARTS[:-1]),
        help="comma-separated parts (accuracy needs --summaries)",
    )
    parser.add_argument("--mini", type=Path, default=MINI)
    parser.add_argument("--full", type=Path, default=FULL)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("NEWSBOT_DATA_DIR", REPO / "bench-out" / "data")),
        help="newsbot data dir holding the eval collections (eval-realtimeqa-2022-mini, ...)",
    )
    parser.add_argument("--work-dir", type=Path, default=REPO / "bench-out" / "work")
    parser.add_argument("--docs", type=int, default=0, help="ingest only the first N docs")
    parser.add_argument("--synthetic", type=int, default=200_000)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument(
        "--grounding-questions", type=int, default=40, help="mini questions of the grounding part"
    )
    parser.add_argument(
        "-k", type=int, default=None, help="passages per question (default: newsbot's top_k)"
    )
    parser.add_argument("--summaries", nargs="*", default=[], help="eval summary JSON files")
    parser.add_argument("--eval-commands", nargs="*", default=[], help="commands that made them")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if args.k is None:
        from newsbot.settings import Settings

        args.k = Settings.model_fields["top_k"].default
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; choose from {', '.join(PARTS)}")
    if "accuracy" in parts and not args.summaries:
        parser.error("the accuracy part needs --summaries")
    runners = {
        "ingest": bench_ingest,
        "retrieval": bench_retrieval,
        "answer": bench_answer,
        "grounding": bench_grounding,
        "followups": bench_followups,
        "serve": bench_serve,
        "accuracy": bench_accuracy,
    }
    for part in parts:
        logger.info("--- %s ---", part)
        result = runners[part](args)
        results = load_results(args.output)
        results[part] = result
        args.output.write_text(render(results), encoding="utf-8")
        logger.info("%s: %s", part, json.dumps(result))


if __name__ == "__main__":
    random.seed(0)
    main()
