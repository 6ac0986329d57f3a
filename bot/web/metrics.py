"""What operators scrape at `/metrics` (Prometheus' text format, through prometheus-client).

- `newsbot_answers_total{outcome, refused_by}`: answers given, by outcome (`answered`,
  `refused` with the check that refused, `error`);
- `newsbot_answer_first_token_seconds`, `newsbot_answer_seconds`: histograms of the time to the
  first checked text and to the whole answer (the assistant's own timings: the wait for a slot
  is not in them);
- `newsbot_answers_waiting`, `newsbot_answers_active`, `newsbot_answers_turned_away_total`: the
  answer queue (`bot.web.limits.AnswerGate`) and its 429s;
- `newsbot_articles`, `newsbot_chunks`: what the store holds, read when scraped;
- `newsbot_feedback_total{vote}`: readers' votes stored, each time an answer's vote becomes
  that value (a changed vote counts under its new value; a comment sent after it, or the same
  vote again, is not counted again);
- `newsbot_follow_polls_total{outcome}`: checks of followed sources made by this process's
  poller (`newsbot serve`'s background thread), by outcome: `new` (it stored new articles),
  `unchanged` (a 304, or no entry it had not stored before), `error` (the check failed: the
  fetch, the document, or the poll itself); a poll cut short by a stop, or taken over by
  another replica, is not counted;
- `newsbot_follow_articles_total`: new articles those polls stored (a teaser later completed
  from its page is one article, counted once).

Each app has its own `CollectorRegistry` (not the module-global one), so two apps in one
process never share counts. Counts are per process: Prometheus sums the replicas.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from newsbot.errors import NewsbotError

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FIRST_TOKEN_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 60.0)
ANSWER_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0, 300.0)


class Queue(Protocol):
    """What the metrics read of the answer queue (`AnswerGate`)."""

    @property
    def waiting(self) -> int: ...

    @property
    def active(self) -> int: ...

    @property
    def turned_away(self) -> int: ...


class Counts(Protocol):
    """What the metrics read of the store (`stats`: `articles`, `chunks`)."""

    def stats(self) -> Mapping[str, Any]: ...


class Poll(Protocol):
    """What the metrics read of a followed source's check (`vectorstore.follows.PollOutcome`)."""

    @property
    def error(self) -> str | None: ...

    @property
    def new_articles(self) -> int: ...


POLL_OUTCOMES = ("new", "unchanged", "error")


class _Live(Collector):
    """The queue and the store, read at each scrape."""

    def __init__(self, queue: Queue | None, store: Counts | None) -> None:
        self.queue = queue
        self.store = store

    def collect(self) -> Iterator[Metric]:
        if self.queue is not None:
            yield GaugeMetricFamily(
                "newsbot_answers_waiting",
                "Questions waiting for an answer slot",
                value=self.queue.waiting,
            )
            yield GaugeMetricFamily(
                "newsbot_answers_active", "Questions being answered", value=self.queue.active
            )
            yield CounterMetricFamily(
                "newsbot_answers_turned_away",
                "Questions turned away with HTTP 429 (queue full or wait too long)",
                value=self.queue.turned_away,
            )
        if self.store is not None:
            try:
                stats = self.store.stats()
            except NewsbotError as exc:  # a scrape still shows the answer counts
                log.warning("metrics: cannot read the store: %s", exc)
                return
            for name in ("articles", "chunks"):
                if name in stats:
                    yield GaugeMetricFamily(
                        f"newsbot_{name}", f"{name.capitalize()} in the store", value=stats[name]
                    )


class AnswerMetrics:
    """The app's metrics; `answered` and `voted` are called from the answer path, `polled` from
    the follow thread (thread-safe)."""

    def __init__(self, queue: Queue | None = None, store: Counts | None = None) -> None:
        self.registry = CollectorRegistry()
        self.answers = Counter(
            "newsbot_answers",
            "Answers given, by outcome and (for refusals) the check that refused",
            ["outcome", "refused_by"],
            registry=self.registry,
        )
        self.first_token = Histogram(
            "newsbot_answer_first_token_seconds",
            "Seconds from the question to the first checked answer text",
            buckets=FIRST_TOKEN_BUCKETS,
            registry=self.registry,
        )
        self.whole = Histogram(
            "newsbot_answer_seconds",
            "Seconds from the question to the whole answer",
            buckets=ANSWER_BUCKETS,
            registry=self.registry,
        )
        self.votes = Counter(
            "newsbot_feedback", "Readers' votes stored", ["vote"], registry=self.registry
        )
        self.polls = Counter(
            "newsbot_follow_polls",
            "Checks of followed sources by this process, by outcome (new, unchanged, error)",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in POLL_OUTCOMES:  # shown at 0 before the first poll, so rates start there
            self.polls.labels(outcome)
        self.polled_articles = Counter(
            "newsbot_follow_articles",
            "New articles stored by this process's checks of followed sources",
            registry=self.registry,
        )
        self.registry.register(_Live(queue, store))

    def answered(
        self, outcome: str, refused_by: str, timings: Mapping[str, float] | None = None
    ) -> None:
        self.answers.labels(outcome, refused_by).inc()
        if timings:
            if "first_token_s" in timings:
                self.first_token.observe(timings["first_token_s"])
            if "total_s" in timings:
                self.whole.observe(timings["total_s"])

    def voted(self, vote: str) -> None:
        self.votes.labels(vote).inc()

    def polled(self, poll: Poll) -> None:
        """Count one check of a followed source (the follow poller's `on_poll`)."""
        if poll.error is not None:
            outcome = "error"
        elif poll.new_articles:
            outcome = "new"
        else:
            outcome = "unchanged"
        self.polls.labels(outcome).inc()
        self.polled_articles.inc(poll.new_articles)

    def text(self) -> bytes:
        """The exposition, as `/metrics` serves it."""
        return generate_latest(self.registry)
