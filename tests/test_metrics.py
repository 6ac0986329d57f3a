"""`/metrics` (Prometheus' text format) and the JSON logs (issue 28).

Counting runs against a scripted assistant that answers or refuses as its question says (the
counts do not depend on the model); one slow case answers the seed question with the real store
and local model and reads the timings and the store's counts from the scrape. Followed-source
polls are counted from a real poller (a real store, the loopback news site of tests/feed_site.py),
and from the background thread `newsbot serve` starts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.answer.events import AnswerDone, AnswerEvent
from bot.answer.question import Question
from bot.web import build_app
from bot.web.json_logs import JsonFormatter
from bot.web.limits import AnswerGate, Busy
from bot.web.metrics import AnswerMetrics
from bot.web.server import log_config, serving_in_thread
from newsbot.settings import get_settings
from newsbot.web_entry import _follow_in_background
from tests.feed_site import Site
from tests.test_follow import follow, poll, site, store, worker, zorblat
from tests.test_web_api import (
    SEED_QUESTION,
    ScriptedAssistant,
    client_for,
    real_assistant,
    seed_store,
)
from vectorstore.follows import FollowedSources
from vectorstore.store import NewsStore

__all__ = ["real_assistant", "seed_store", "site", "store"]

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
KEY = {"Authorization": "Bearer s3cret"}


class RefusingWhenAsked(ScriptedAssistant):
    """Answers, with timings; refuses ("no passages") a question that says "refuse"."""

    def stream(self, question: Question) -> Iterator[AnswerEvent]:
        for event in super().stream(question):
            if isinstance(event, AnswerDone):
                result = event.result
                result.timings = {"first_token_s": 0.7, "total_s": 3.5}
                if "refuse" in question.text:
                    result.grounded, result.refused_by = False, "no_passages"
            yield event


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


class Stats:
    """A catalog of 12 articles in 80 chunks (none listed: the page header reads them)."""

    def stats(self) -> dict[str, Any]:
        return {"articles": 12, "chunks": 80}

    def list_articles(
        self, limit: int = 20, offset: int = 0, query: str | None = None
    ) -> list[Any]:
        return []


def test_metrics_count_three_answers_and_one_refusal_behind_the_key() -> None:
    client = client_for(build_app(RefusingWhenAsked(), api_key="s3cret", catalog=Stats()))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401

    for question in ("One?", "Two?", "Three?", "Please refuse?"):
        assert client.post("/api/ask", json={"question": question}, headers=KEY).status_code == 200
    reply = client.get("/metrics", headers=KEY)

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    samples = scrape(reply.text)
    answers = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "newsbot_answers_total"
    }
    assert answers == {
        (("outcome", "answered"), ("refused_by", "")): 3.0,
        (("outcome", "refused"), ("refused_by", "no_passages")): 1.0,
    }
    assert samples[("newsbot_answer_first_token_seconds_count", ())] == 4
    assert samples[("newsbot_answer_seconds_count", ())] == 4
    assert samples[("newsbot_answer_seconds_bucket", (("le", "5.0"),))] == 4
    assert samples[("newsbot_answer_seconds_bucket", (("le", "2.0"),))] == 0
    assert samples[("newsbot_answers_waiting", ())] == 0
    assert samples[("newsbot_answers_turned_away_total", ())] == 0
    assert samples[("newsbot_articles", ())] == 12
    assert samples[("newsbot_chunks", ())] == 80
    assert ("newsbot_feedback_total", (("vote", "down"),)) not in samples


def test_errors_and_429s_are_counted() -> None:
    failing = ScriptedAssistant(fail=RuntimeError("the model broke"))
    metrics = AnswerMetrics()
    from bot.web.answer_log import AnswerRecorder

    recorder = AnswerRecorder(None, metrics)
    with pytest.raises(RuntimeError):
        list(recorder.watch(failing.stream(Question("Q?")), "id", "api"))

    gate = AnswerGate(active=1, queued=0)
    gated = AnswerMetrics(gate)
    started = gate.acquire()
    with pytest.raises(Busy):
        gate.acquire()
    samples = scrape(gated.text().decode())
    assert samples[("newsbot_answers_active", ())] == 1
    assert samples[("newsbot_answers_turned_away_total", ())] == 1
    gate.release(started)
    assert scrape(gated.text().decode())[("newsbot_answers_active", ())] == 0
    errors = scrape(metrics.text().decode())
    assert errors[("newsbot_answers_total", (("outcome", "error"), ("refused_by", "")))] == 1


def test_json_logs_carry_the_answer_fields_and_no_question(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = client_for(build_app(RefusingWhenAsked()))
    with caplog.at_level(logging.INFO, logger="bot.web.answer_log"):
        body = client.post("/api/ask", json={"question": "Secret question?"}).json()
    [record] = [r for r in caplog.records if r.name == "bot.web.answer_log"]
    line = json.loads(JsonFormatter().format(record))

    assert line["answer_id"] == body["answer_id"]
    assert line["door"] == "api"
    assert line["outcome"] == "answered"
    assert line["total_s"] == 3.5
    assert line["level"] == "INFO"
    assert "Secret" not in json.dumps(line)

    access = logging.LogRecord(
        "uvicorn.access",
        20,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("::1", "POST", "/", "1.1", 200),
        None,
    )
    fields = json.loads(JsonFormatter().format(access))
    assert (fields["method"], fields["path"], fields["status"]) == ("POST", "/", 200)
    config = log_config(json_lines=True)
    assert {f["()"] for f in config["formatters"].values()} == {JsonFormatter}


@pytest.mark.slow
def test_a_real_answer_is_timed_in_the_metrics(real_assistant: Any, seed_store: Any) -> None:
    import httpx

    with serving_in_thread(build_app(real_assistant, catalog=seed_store)) as url:
        body = httpx.post(f"{url}/api/ask", json={"question": SEED_QUESTION}, timeout=300).json()
        samples = scrape(httpx.get(f"{url}/metrics").text)

    assert body["grounded"] is True
    answered = (("outcome", "answered"), ("refused_by", ""))
    assert samples[("newsbot_answers_total", answered)] == 1
    assert samples[("newsbot_answer_first_token_seconds_count", ())] == 1
    assert samples[("newsbot_answer_seconds_sum", ())] == pytest.approx(body["timings"]["total_s"])
    assert samples[("newsbot_articles", ())] == seed_store.stats()["articles"]
    assert samples[("newsbot_chunks", ())] == seed_store.stats()["chunks"]


def test_an_answer_stopped_because_its_client_left_is_no_error() -> None:
    import asyncio

    from bot.web.answer_log import AnswerRecorder
    from bot.web.stopping import Stop, answer_in_worker
    from newsbot.errors import ModelError

    metrics = AnswerMetrics()
    recorder = AnswerRecorder(None, metrics)
    stop = Stop()

    def cut_off() -> Iterator[AnswerEvent]:
        stop.set()  # the client left: the model's connection is cut, its read fails
        raise ModelError("connection reset")
        yield  # a generator

    async def consume() -> list[AnswerEvent]:
        events = answer_in_worker(
            AnswerGate(), lambda: recorder.watch(cut_off(), "id", "api"), stop
        )
        return [event async for event in events]

    assert asyncio.run(consume()) == []
    samples = scrape(metrics.text().decode())
    assert not any(name == "newsbot_answers_total" for name, _ in samples)


@pytest.mark.server
def test_newsbot_serve_writes_json_lines(
    clean_environ: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import httpx

    from scripts.services import start_replica

    monkeypatch.setenv("NEWSBOT_LOG_FORMAT", "json")
    monkeypatch.setenv("NEWSBOT_LOG_QUESTIONS", "true")
    server = start_replica("newsbot serve", clean_environ, os.environ)
    try:
        vote = {"answer_id": "0" * 32, "vote": "up"}
        assert httpx.post(server.url + "/api/feedback", json=vote).status_code == 404
        assert httpx.get(server.url + "/metrics").status_code == 200
    finally:
        server.stop()

    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    assert any(line["message"].startswith("newsbot is serving on") for line in lines), lines
    [access] = [line for line in lines if line.get("path") == "/api/feedback"]
    assert (access["method"], access["status"], access["logger"]) == ("POST", 404, "uvicorn.access")


def follow_samples(text: str) -> tuple[dict[str, float], float]:
    """The scrape's follow polls by outcome, and its followed articles."""
    samples = scrape(text)
    polls = {
        dict(labels)["outcome"]: value
        for (name, labels), value in samples.items()
        if name == "newsbot_follow_polls_total"
    }
    return polls, samples[("newsbot_follow_articles_total", ())]


# The counts do not depend on the registry's engine (tests/test_follow.py runs both).
@pytest.mark.parametrize("open_store", ["sqlite"], indirect=True)
def test_follow_polls_are_counted_by_outcome(site: Site, store: NewsStore, tmp_path: Path) -> None:
    app = build_app(RefusingWhenAsked(), api_key="s3cret", catalog=Stats())
    client = client_for(app)
    assert follow_samples(client.get("/metrics", headers=KEY).text) == (
        {"new": 0, "unchanged": 0, "error": 0},
        0,
    )
    zorblat(site)
    w = worker(store, tmp_path)
    w.poller.on_poll = app.state.metrics.polled  # what `newsbot serve` gives its poller
    follow(w, site.url("/feed.xml"))

    [first] = poll(w)
    [second] = poll(w)
    site.failing["/feed.xml"] = 500
    [third] = poll(w)

    assert (first.new_articles, second.new_articles) == (1, 0)
    assert [h.status for h in site.requests("/feed.xml")] == [200, 304, 500]
    assert third.error is not None
    polls, articles = follow_samples(client.get("/metrics", headers=KEY).text)
    assert polls == {"new": 1, "unchanged": 1, "error": 1}
    assert articles == 1 == store.registry.count()


@pytest.mark.parametrize("open_store", ["sqlite"], indirect=True)
def test_serves_background_poller_counts_into_the_apps_metrics(
    site: Site, store: NewsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_NETWORKS", '["127.0.0.1/32"]')
    settings = get_settings()
    assert settings.fetch.follow_in_serve
    zorblat(site)
    FollowedSources(store.registry.database, "news").add(
        site.url("/feed.xml"), 3600, "auto", time.time()
    )
    app = build_app(RefusingWhenAsked())
    client = client_for(app)

    before = set(threading.enumerate())
    stop = _follow_in_background(settings, store, app)
    assert stop is not None
    try:
        deadline = time.time() + 60
        while not any(follow_samples(client.get("/metrics").text)[0].values()):
            assert time.time() < deadline, "the background poller counted no poll in 60 s"
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout=30)
    assert follow_samples(client.get("/metrics").text) == (
        {"new": 1, "unchanged": 0, "error": 0},
        1,
    )
