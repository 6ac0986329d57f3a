"""Prompt reading: what each prompt token costs the bundled model before its first token, and
what llama.cpp's prompt-prefix cache saves.

The answer's first token waits for the model to read the whole prompt, so the context budget
(`NEWSBOT_CONTEXT_TOKENS`) is paid in seconds. This part sends the product's local server
(`build_local_server`, as `newsbot ask` starts it) prompts of real news text of several lengths,
each new to the server, and times the first token of a one-token reply; then one prompt twice
with a different last line, as consecutive questions share their fixed beginning. It also
counts the answer prompt's fixed tokens (its template without passages and question) and how
many of them come before the passages, which is what the cache can keep between questions.
"""

from __future__ import annotations

import itertools
import statistics
import time
from datetime import date
from typing import Any

from benchmarks.common import BenchConfig, settings_for, stamp

#: Words of news text per prompt, and prompts per length (each a different stretch of text).
WORDS = (100, 200, 400, 600)
REPEATS = 3
#: Words of the prompt sent twice, to time its cached beginning.
SHARED_WORDS = 400


def _first_token(client: Any, model: str, text: str) -> tuple[float, int]:
    """Seconds to the first token of a one-token reply to `text`, and its prompt tokens."""
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": text}],
        max_tokens=1,
        temperature=0.0,
        stream=True,
        stream_options={"include_usage": True},
    )
    first, tokens = 0.0, 0
    for chunk in stream:
        if not first and chunk.choices and chunk.choices[0].delta.content is not None:
            first = time.perf_counter() - started
        if chunk.usage:
            tokens = chunk.usage.prompt_tokens
    return first, tokens


def _prompt_tokens(client: Any, model: str, messages: list[dict[str, str]]) -> int:
    reply = client.chat.completions.create(model=model, messages=messages, max_tokens=1)
    return int(reply.usage.prompt_tokens)


def _fixed_tokens(client: Any, model: str) -> dict[str, int]:
    """The answer prompt's tokens without passages and question, and those before the passages."""
    from bot.answer.chain import answer_prompt, format_as_of
    from prompts import load_prompts

    prompts = load_prompts()
    messages = answer_prompt(prompts).format_messages(
        as_of=format_as_of(date.today()), passages="", question=""
    )
    roles = {"system": "system", "human": "user"}
    whole = [{"role": roles[m.type], "content": str(m.content)} for m in messages]
    before = [dict(m) for m in whole]
    before[-1]["content"] = prompts.answer_user.text.split("{passages}")[0]
    return {
        "template": _prompt_tokens(client, model, whole),
        "before_passages": _prompt_tokens(client, model, before),
    }


def bench_prompt_reading(config: BenchConfig) -> dict[str, Any]:
    """First-token seconds by prompt length (uncached), a cached prefix, the fixed tokens."""
    from openai import OpenAI

    from newsbot.evaluation.dataset import iter_docs
    from newsbot.factories import build_local_server

    settings = settings_for(config.data_dir)
    server = build_local_server(settings)
    client = OpenAI(base_url=server.base_url, api_key="local")
    # The words every prompt takes, from the corpus's first articles.
    needed = REPEATS * sum(WORDS) + SHARED_WORDS
    words = list(
        itertools.islice((w for doc in iter_docs(config.mini) for w in doc.text.split()), needed)
    )
    _first_token(client, server.model_name, "Hello.")  # load the model
    offset = 0
    rows = []
    for size in WORDS:
        seconds, tokens = [], []
        for _ in range(REPEATS):
            first, count = _first_token(
                client, server.model_name, " ".join(words[offset : offset + size])
            )
            offset += size
            seconds.append(first)
            tokens.append(count)
        median = statistics.median(seconds)
        rows.append(
            {
                "words": size,
                "prompt_tokens": round(statistics.mean(tokens)),
                "first_token_s": round(median, 3),
                "tokens_per_s": round(statistics.mean(tokens) / median, 1),
            }
        )
    shared = " ".join(words[offset : offset + SHARED_WORDS])
    uncached = _first_token(client, server.model_name, shared + "\nQuestion one?")
    cached = _first_token(client, server.model_name, shared + "\nAnother question, two?")
    return stamp(
        "prompt",
        config,
        {
            "model": server.model_name,
            "threads": settings.limits.resolved_threads,
            "by_length": rows,
            "shared_prefix": {
                "prompt_tokens": cached[1],
                "first_token_s_new": round(uncached[0], 3),
                "first_token_s_prefix_cached": round(cached[0], 3),
            },
            "answer_prompt_fixed_tokens": _fixed_tokens(client, server.model_name),
        },
    )
