"""Answers beside a poll: does polling a followed feed slow answers?

The answer bench's measure (`Assistant.ask`, first-token and whole-answer time on mini
questions, each as of its date) in two conditions with questions of their own (llama.cpp would
find a repeated prompt cached): alone, and while this process polls a followed 200-entry feed
as `newsbot serve` does, on its background thread that waits for `AnswerGate.wait_idle` before
each step that takes the processor. Each question holds a slot of an `AnswerGate`, as in the web
app, and a reader's pause (`GAP_S`) separates questions in both conditions. The feed and its 200
article pages (texts of the mini corpus's first documents) are served on a loopback port; the
poll stores into a data dir of its own (work dir/follow-data, emptied first), so the mini
collection stays as it is.
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from email.utils import formatdate
from itertools import islice
from typing import Any

from benchmarks.common import BenchConfig, open_store, pct, settings_for, stamp
from bot.answer.question import Question

ENTRIES = 200
GAP_S = 2.0
"""Seconds between one answer and the next question, in both conditions."""


def _timed_answers(assistant: Any, gate: Any, queries: list[Any]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"first": [], "total": []}
    for query in queries:
        started = gate.acquire()
        try:
            asked = Question(query.question, as_of=date.fromisoformat(query.date))
            result = assistant.ask(asked)
        finally:
            gate.release(started)
        if "first_token_s" in result.timings:
            times["first"].append(result.timings["first_token_s"])
        times["total"].append(result.timings["total_s"])
        time.sleep(GAP_S)
    return times


def bench_follow(config: BenchConfig) -> dict[str, Any]:
    """First-token and whole-answer p50/p95 without and with a 200-entry feed polled beside."""
    from bot.web.limits import AnswerGate
    from ingest.follow.worker import start_in_thread
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import iter_docs, load_queries
    from newsbot.factories import build_assistant, build_store
    from newsbot.follow_command import build_worker, followed_sources
    from newsbot.web_entry import answers_first
    from tests.feed_site import article_html, rss, serve_site

    settings = settings_for(config.data_dir)
    store = open_store(settings, eval_collection_name(config.mini))
    assistant = build_assistant(settings, store)
    half = max(1, config.questions // 2)
    queries = load_queries(config.mini, 2 * half)
    alone_queries, beside_queries = queries[:half], queries[half:]
    first = queries[0]
    assistant.ask(Question(first.question, as_of=date.fromisoformat(first.date)))  # load model
    gate = AnswerGate()

    alone = _timed_answers(assistant, gate, alone_queries)

    poll_dir = config.work_dir / "follow-data"
    shutil.rmtree(poll_dir, ignore_errors=True)
    poll_settings = settings.replace(data_dir=poll_dir, fetch_allow_networks=["127.0.0.1/32"])
    poll_dir.mkdir(parents=True)
    poll_store = build_store(poll_settings)
    with serve_site() as site:
        items = []
        for n, doc in enumerate(islice(iter_docs(config.mini), ENTRIES)):
            title = doc.title or f"Story {n}"
            site.put(f"/news/{n}", article_html(title, doc.text.split("\n\n")))
            items.append((f"/news/{n}", title, "Short teaser.", formatdate(usegmt=True)))
        site.put("/feed.xml", rss(site, items), "application/rss+xml")
        followed = followed_sources(poll_settings)
        followed.add(site.url("/feed.xml"), 2.0, "auto", time.time())
        followed.database.close()
        worker = build_worker(poll_settings, poll_store, pause=answers_first(gate))
        polling, stop = start_in_thread(worker)  # niced, as in `newsbot serve`
        poll_started = time.perf_counter()
        try:
            beside = _timed_answers(assistant, gate, beside_queries)
        finally:
            stored_while_answering = poll_store.registry.count()
            stop.set()
            polling.join(timeout=600)
        poll_seconds = time.perf_counter() - poll_started
        pages_read = sum(1 for hit in site.hits if hit.path.startswith("/news/"))
    poll_store.registry.close()

    def ratio(key: str) -> float | None:
        base, other = pct(alone[key], 50), pct(beside[key], 50)
        return round(other / base, 3) if base and other else None

    return stamp(
        "follow",
        config,
        {
            "questions_per_condition": half,
            "gap_s": GAP_S,
            "feed_entries": ENTRIES,
            "alone_first_token_p50_s": pct(alone["first"], 50),
            "alone_first_token_p95_s": pct(alone["first"], 95),
            "alone_total_p50_s": pct(alone["total"], 50),
            "beside_first_token_p50_s": pct(beside["first"], 50),
            "beside_first_token_p95_s": pct(beside["first"], 95),
            "beside_total_p50_s": pct(beside["total"], 50),
            "first_token_p50_ratio": ratio("first"),
            "total_p50_ratio": ratio("total"),
            # Proof the poll ran beside the answers, not after them:
            "articles_stored_while_answering": stored_while_answering,
            "pages_read": pages_read,
            "poll_thread_s": round(poll_seconds, 1),
        },
    )
