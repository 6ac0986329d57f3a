"""What the answer path pays for the question log and the metrics (issue 28's budget: < 5 ms).

Each answer is a realistic stream (a `Searched`, 4 cited sources, 60 checked deltas, the result
with its timings) iterated through `AnswerRecorder.watch`, as the web app does, against the same
stream iterated bare. Per answer: the wrapper's added time (p50 / p95 / max over `--answers`,
each answer timed both ways back to back), with the log on (`DatabaseQuestionLog` in a SQLite
file, or PostgreSQL with `--database-url`), with the JSON answer line written (to /dev/null),
and with the log off (metrics only). Then how long the log's writer thread takes to commit the
rows (off the answer path), and that every row arrived.

    python -m benchmarks.question_log [--answers 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bot.answer.events import AnswerDone, AnswerEvent, Searched, SourceCited, TextDelta
from bot.answer.result import AnswerResult, Source
from bot.web.answer_log import AnswerRecorder, new_answer_id
from bot.web.json_logs import JsonFormatter
from bot.web.metrics import AnswerMetrics
from newsbot.question_log import DatabaseQuestionLog
from vectorstore.database import open_database

DELTAS = 60


def _result() -> AnswerResult:
    sources = [
        Source(
            n,
            f"article-{n}",
            f"A headline about the story, part {n}",
            f"https://news.example.org/2025/05/story-{n}",
            "Example News",
            "2025-05-10",
            "A passage of the article that the answer cites. " * 8,
            0,
            400,
            0.71,
            [(0, 120)],
        )
        for n in range(1, 5)
    ]
    answer = "A checked sentence of the answer, with its citation [1]. " * DELTAS
    result = AnswerResult(answer, sources, True, "What happened?", "What happened?", "2025-05-12")
    result.timings = {"retrieval_s": 0.05, "first_token_s": 2.1, "total_s": 9.8}
    return result


def _events(result: AnswerResult) -> Iterator[AnswerEvent]:
    yield Searched(passages=4, articles=4, question=result.question)
    for source in result.sources:
        yield SourceCited(source)
    piece = result.answer[: len(result.answer) // DELTAS]
    for _ in range(DELTAS):
        yield TextDelta(piece)
    yield AnswerDone(result)


def _overhead_ms(recorder: AnswerRecorder, answers: int) -> list[float]:
    """Per answer: time through `watch` minus time bare, in ms."""
    result = _result()
    added = []
    for _ in range(answers):
        started = time.perf_counter()
        for _event in _events(result):
            pass
        bare = time.perf_counter() - started
        started = time.perf_counter()
        for _event in recorder.watch(_events(result), new_answer_id(), "api"):
            pass
        added.append(1000 * (time.perf_counter() - started - bare))
    return added


def _line(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return (
        f"{name}: added p50 {statistics.median(ms):.3f} ms, p95 {p95:.3f} ms, "
        f"max {ms[-1]:.2f} ms per answer"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=2000, help="answers per configuration")
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a temp SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(Path(folder), url=args.database_url)
        question_log = DatabaseQuestionLog(database)
        logged = AnswerRecorder(question_log, AnswerMetrics())
        _overhead_ms(logged, 50)  # warm-up: the writer thread, imports, the first commits
        question_log.flush(timeout=600)  # the whole queue, however long it takes
        before = question_log.count()
        print(_line(f"log on ({database.kind})", _overhead_ms(logged, args.answers)))
        started = time.perf_counter()
        question_log.flush(timeout=600)  # the whole queue, however long it takes
        drained = time.perf_counter() - started
        written = question_log.count() - before
        print(
            f"  writer: {written} of {args.answers} rows committed; queue drained {drained:.2f} s"
        )

        answer_log = logging.getLogger("bot.web.answer_log")
        handler = logging.FileHandler("/dev/null")
        handler.setFormatter(JsonFormatter())
        answer_log.addHandler(handler)
        answer_log.setLevel(logging.INFO)
        try:
            print(_line("log on + JSON answer line", _overhead_ms(logged, args.answers)))
        finally:
            answer_log.removeHandler(handler)
            answer_log.setLevel(logging.NOTSET)
        question_log.flush(timeout=600)  # the whole queue, however long it takes
        print(
            _line(
                "log off (metrics only)",
                _overhead_ms(AnswerRecorder(None, AnswerMetrics()), args.answers),
            )
        )
        database.close()


if __name__ == "__main__":
    main()
