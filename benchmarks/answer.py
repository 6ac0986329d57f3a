"""Answer latency: the product's first-token and whole-answer time (`Assistant.ask`, as
`newsbot ask`) on the first mini questions, each as of its date."""

from __future__ import annotations

from datetime import date
from typing import Any

from benchmarks.common import BenchConfig, open_store, pct, settings_for, stamp
from bot.answer.question import Question


def bench_answer(config: BenchConfig) -> dict[str, Any]:
    """The assistant's first-token and total latency on real questions of the mini set."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import build_assistant

    settings = settings_for(config.data_dir)
    store = open_store(settings, eval_collection_name(config.mini))
    assistant = build_assistant(settings, store)
    queries = load_queries(config.mini, config.questions)
    assistant.ask(
        Question(queries[0].question, as_of=date.fromisoformat(queries[0].date))
    )  # load model
    first, model_first, total, prompt_tokens, completion_tokens = [], [], [], [], []
    second_looks = 0
    more = []  # seconds of each request for the detail behind a headline
    for query in queries:
        result = assistant.ask(Question(query.question, as_of=date.fromisoformat(query.date)))
        second_looks += result.second_look
        if "more_s" in result.timings:
            more.append(result.timings["more_s"])
        if "first_token_s" in result.timings:
            first.append(result.timings["first_token_s"])
        if "model_first_token_s" in result.timings:
            model_first.append(result.timings["model_first_token_s"])
        total.append(result.timings["total_s"])
        prompt_tokens.append(result.usage.get("prompt_tokens", 0))
        completion_tokens.append(result.usage.get("completion_tokens", 0))
    return stamp(
        "answer",
        config,
        {
            "questions": len(queries),
            "k": settings.retrieval.top_k,
            "context_tokens": settings.retrieval.context_tokens,
            "retrieval": settings.retrieval.retrieval,
            "max_tokens": settings.model.max_tokens,
            "first_token_p50_s": pct(first, 50),
            "first_token_p95_s": pct(first, 95),
            # the model's own first token: what a raw, unchecked stream would have shown first
            "model_first_token_p50_s": pct(model_first, 50),
            "model_first_token_p95_s": pct(model_first, 95),
            "total_p50_s": pct(total, 50),
            "total_p95_s": pct(total, 95),
            "prompt_tokens_mean": round(sum(prompt_tokens) / len(prompt_tokens)),
            "completion_tokens_mean": round(sum(completion_tokens) / len(completion_tokens)),
            "second_looks": second_looks,
            "more_details": len(more),
            "more_p50_s": pct(more, 50),
        },
    )
