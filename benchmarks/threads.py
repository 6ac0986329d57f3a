"""Threads: the product's answer time with the local models on 1 and on 2 CPU threads
(`NEWSBOT_THREADS`), on an idle machine and on one where another process keeps a core busy.

llama.cpp's prompt processing is compute-bound and splits across threads; when another process
holds a core, a second thread waits for it. Each cell answers the same first mini questions with
`Assistant.ask` (as `newsbot ask`), after one unmeasured answer that loads the model.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from benchmarks.common import BenchConfig, open_store, pct, settings_for, stamp
from bot.answer.question import Question

#: Questions per cell: four cells of the answer bench's 30 would take most of an hour.
QUESTIONS = 10


def _spin() -> None:  # pragma: no cover - runs in the child process
    while True:
        pass


@contextmanager
def _busy_core(busy: bool) -> Iterator[None]:
    """One process spinning on a core for the duration (nothing when `busy` is false)."""
    if not busy:
        yield
        return
    spinner = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
    spinner.start()
    try:
        yield
    finally:
        spinner.kill()
        spinner.join()


def bench_threads(config: BenchConfig) -> dict[str, Any]:
    """First-token and whole-answer times for threads 1 and 2, idle and with a core busy."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import build_assistant

    # llama.cpp keeps recent prompts: a question asked twice would find its prompt cached. Each
    # condition therefore gets questions of its own (the same ones for 1 and 2 threads, each on
    # a fresh server), and the answer that loads the model is a question of neither.
    queries = load_queries(config.mini, 2 * QUESTIONS + 1)
    sets = {False: range(QUESTIONS), True: range(QUESTIONS, 2 * QUESTIONS)}
    warm = queries[-1]
    cells: list[dict[str, Any]] = []
    for threads in (1, 2):
        settings = settings_for(config.data_dir).replace(threads=threads)
        store = open_store(settings, eval_collection_name(config.mini))
        assistant = build_assistant(settings, store)
        assistant.ask(Question(warm.question, as_of=date.fromisoformat(warm.date)))
        for busy, asked in sets.items():
            first, total, tokens = [], [], []
            with _busy_core(busy):
                load = os.getloadavg()[0]
                for query in (queries[i] for i in asked):
                    result = assistant.ask(
                        Question(query.question, as_of=date.fromisoformat(query.date))
                    )
                    if "model_first_token_s" in result.timings:
                        first.append(result.timings["model_first_token_s"])
                    total.append(result.timings["total_s"])
                    tokens.append(result.usage.get("prompt_tokens", 0))
            cells.append(
                {
                    "threads": threads,
                    "other_load": "one core busy" if busy else "idle",
                    "questions": f"{asked[0] + 1}-{asked[-1] + 1}",
                    "load_1m": round(load, 2),
                    "model_first_token_p50_s": pct(first, 50),
                    "total_p50_s": pct(total, 50),
                    "total_p95_s": pct(total, 95),
                    "prompt_tokens_mean": round(sum(tokens) / len(tokens)),
                }
            )
    return stamp("threads", config, {"questions": QUESTIONS, "cells": cells})
