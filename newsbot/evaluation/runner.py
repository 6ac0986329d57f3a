"""`run_eval`: ask every question of a benchmark dataset in one mode, store predictions, score.

One run = one mode (see `registry.MODES`), one model, one embedder. Every mode asks the same model
with `ask_model`, so latencies compare. Each answered question is appended to the predictions
store at once; a rerun skips the ids already there (a killed run resumes). The summary is
computed over all questions of the run from that file.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbot.errors import ConfigError, InputError
from newsbot.evaluation import registry
from newsbot.evaluation.choice import ask_model, parse_choice, parse_citations
from newsbot.evaluation.dataset import Query, check_dataset, load_queries
from newsbot.evaluation.metrics import QuestionScore, score_question, summarise
from newsbot.evaluation.modes.base import Asked, ModeContext
from newsbot.evaluation.predictions import PredictionStore, Record, summary_path_for

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from prompts import Prompts
    from vectorstore.store import NewsStore

logger = logging.getLogger(__name__)


@dataclass
class EvalReport:
    """The outcome of `run_eval`: where things were written and the summary.

    `asked` questions were answered in this run, `resumed` were already in the predictions file.
    `seconds` is this run's wall time; `answer_seconds` the time spent answering all the
    questions in the file, resumed runs included (what a whole run costs, however often it was
    stopped). `ingest` describes the corpus preparation (chunks embedded, seconds).
    """

    dataset: str
    mode: str
    k: int
    model: str
    out_path: Path
    summary_path: Path
    summary: dict[str, Any]
    asked: int
    resumed: int
    seconds: float
    answer_seconds: float = 0.0
    ingest: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        data = asdict(self)
        data["out_path"] = str(self.out_path)
        data["summary_path"] = str(self.summary_path)
        return data


def answer_seconds(preds: Iterable[Record]) -> float:
    """Time spent answering these predictions (the sum of their `total_s`)."""
    return round(sum(pred["total_s"] or 0.0 for pred in preds), 1)


def _pred_line(query: Query, asked: Asked, reply_text: str, reply: Any) -> Record:
    choice_idx = parse_choice(reply_text, query.choices)
    cited: list[str] = []
    for n in parse_citations(reply_text, len(asked.passages)):
        article_id = asked.passages[n - 1].article_id
        if article_id not in cited:
            cited.append(article_id)
    by_score = sorted(asked.passages, key=lambda p: -p.score)  # stable: unscored keep their order
    return {
        "id": query.id,
        "choice_idx": choice_idx,
        "answer": reply_text,
        "grounded": choice_idx is not None and bool(cited),
        # rank: by retrieval score; n: the passage's number in the prompt (the product's order).
        "retrieved": [
            {
                "article_id": p.article_id,
                "chunk_id": p.chunk_id,
                "rank": rank,
                "n": asked.passages.index(p) + 1,
                "score": round(p.score, 4),
            }
            for rank, p in enumerate(by_score, start=1)
        ],
        "cited": cited,
        "ttft_s": None if reply.ttft_s is None else round(reply.ttft_s, 3),
        "total_s": round(reply.total_s, 3),
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
    }


def _score(query: Query, pred: Record, texts: Mapping[str, str]) -> QuestionScore:
    retrieved = sorted(pred["retrieved"], key=lambda r: int(r["rank"]))
    return score_question(
        choice_idx=pred["choice_idx"],
        answer_idx=query.answer_idx,
        answer_text=query.answer_text,
        labels=query.labels,
        retrieved=[(r["article_id"], texts.get(r["chunk_id"], "")) for r in retrieved],
        cited=pred["cited"],
        ttft_s=pred["ttft_s"],
        total_s=pred["total_s"],
    )


def _check_resumable(summary_path: Path, config: dict[str, Any]) -> None:
    if not summary_path.is_file():
        return
    try:
        before = json.loads(summary_path.read_text(encoding="utf-8")).get("config", {})
    except (OSError, json.JSONDecodeError):
        return
    changed = [key for key, value in config.items() if key in before and before[key] != value]
    if changed:
        raise ConfigError(
            f"{summary_path.parent / summary_path.name.replace('.summary.json', '.jsonl')} holds "
            f"predictions made with other settings ({', '.join(changed)}): pass another --out "
            "or delete that file to start over"
        )


@contextmanager
def _progress_bar(enabled: bool, total: int, done: int) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda _description: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("asking", total=total, completed=done)

        def advance(description: str) -> None:
            bar.update(task, advance=1, description=description)

        yield advance


def run_eval(
    dataset_dir: Path,
    *,
    store: NewsStore | None,
    llm: BaseChatModel,
    k: int = 5,
    limit: int | None = None,
    out_path: Path | None = None,
    mode: str = "newsbot",
    progress: bool = True,
    prompts: Prompts | None = None,
    model_name: str = "",
    ingest_options: Mapping[str, Any] | None = None,
    corpus_file: Path | None = None,
    answering: Mapping[str, Any] | None = None,
) -> EvalReport:
    """Evaluate one mode on a dataset; write `out_path` (predictions) and its summary JSON.

    Args:
        dataset_dir: folder with `corpus.jsonl.gz` and `queries.jsonl`.
        store: the `NewsStore` of the dataset's own collection (modes that index a corpus).
        llm: the chat model every mode asks.
        k: passages per question (modes without a number of their own, e.g. `newsbot`).
        limit: only the first `limit` questions.
        out_path: predictions file (default `<dataset>-<mode>.preds.jsonl` in the working dir).
        mode: a name of `registry.MODES`.
        progress: show a progress bar with the running accuracy on stderr.
        prompts: the prompt templates (default: the bundled ones).
        model_name: recorded in the summary.
        ingest_options: keyword arguments for `ingest.pipeline.ingest` (`tiktoken_cache_dir`,
            `chunk_tokens`, `overlap`); newsbot mode.
        corpus_file: index this file instead of the dataset's corpus (a slice, for tests).
        answering: the product's retrieval options (`Assistant`'s `time_windows`,
            `context_tokens`) and ranking, for the newsbot mode; recorded in the summary.

    Raises:
        InputError: the folder is not a dataset.
        ConfigError: the predictions file was made with other settings, or the mode is unknown.
    """
    from prompts import load_prompts

    started = time.perf_counter()
    dataset_dir = Path(dataset_dir)
    check_dataset(dataset_dir)
    spec = registry.mode(mode)
    queries = load_queries(dataset_dir, limit)
    if not queries:
        raise InputError(f"{dataset_dir} has no questions in queries.jsonl")
    out_path = Path(out_path or f"{dataset_dir.name}-{mode}.preds.jsonl")
    summary_path = summary_path_for(out_path)
    effective_k = spec.k(k)
    config = {"dataset": dataset_dir.name, "mode": mode, "k": effective_k, "model": model_name}
    if answering and spec.needs_store:
        config["answering"] = dict(answering)
    _check_resumable(summary_path, config)
    context = ModeContext(
        dataset_dir=dataset_dir,
        queries=queries,
        prompts=prompts or load_prompts(),
        llm=llm,
        k=effective_k,
        store=store,
        ingest_options=dict(ingest_options or {}),
        corpus_file=corpus_file,
        answering={k: v for k, v in (answering or {}).items() if k != "ranking"},
    )
    runner = spec.build(context)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps({"config": config, "status": "running"}, indent=2) + "\n")

    ingest_info = runner.prepare()
    preds = PredictionStore(out_path)
    by_id = {q.id: q for q in queries}
    resumed = sum(1 for qid in preds.read() if qid in by_id)
    todo = [q for q in queries if q.id not in preds]
    if resumed:
        logger.info("Resuming: %d of %d questions already in %s", resumed, len(queries), out_path)

    correct = sum(
        1 for q in queries if q.id in preds and preds.read()[q.id]["choice_idx"] in q.answer_idx
    )
    answered = resumed
    with _progress_bar(progress, len(queries), resumed) as advance:
        for query in todo:
            t0 = time.perf_counter()
            asked = runner.ask(query)
            reply = ask_model(llm, asked.prompt, started=t0)
            pred = _pred_line(query, asked, reply.text, reply)
            preds.append(pred)
            answered += 1
            correct += pred["choice_idx"] in query.answer_idx
            advance(f"accuracy {correct / answered:.3f} ({correct}/{answered})")

    # Score every question against the stored chunks, whether asked now or resumed: the text the
    # model read (a compact context is a few sentences of them) would make a resumed run score
    # differently from one made in one go.
    done = [preds.read()[q.id] for q in queries if q.id in preds]
    texts = runner.texts(sorted({r["chunk_id"] for pred in done for r in pred["retrieved"]}))
    scores = [_score(q, preds.read()[q.id], texts) for q in queries if q.id in preds]
    report = EvalReport(
        dataset=dataset_dir.name,
        mode=mode,
        k=effective_k,
        model=model_name,
        out_path=out_path,
        summary_path=summary_path,
        summary=summarise(scores),
        asked=len(todo),
        resumed=resumed,
        seconds=round(time.perf_counter() - started, 1),
        answer_seconds=answer_seconds(done),
        ingest=ingest_info,
    )
    payload = {"config": config, "status": "done", **report.to_dict()}
    summary_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return report
