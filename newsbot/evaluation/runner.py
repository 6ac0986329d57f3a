"""`run_eval`: ask every question of a benchmark dataset, write predictions, score them.

One run = one mode, one model, one embedder:

- `newsbot`: the dataset corpus is ingested (once; a rerun embeds nothing) into the given store
  through the ingest pipeline, and each question retrieves the top-k passages published on or
  before its date, formatted as the answer chain formats them;
- `gcs`: the authors' Google results for the question (`gcs_ids`, top 10), first 600 characters of
  each, instead of our retrieval (separates retriever quality from model quality);
- `closed_book`: no passages;
- `plain_rag`: LangChain's RAG tutorial as written (see `plain_rag`).

Every mode asks the same model with `ask_model`, so latencies compare. Each answered question is
appended to the predictions file at once; a rerun skips the ids already there (a killed run
resumes). The summary is computed over all questions of the run from that file.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel

from bot.answer.chain import format_as_of, format_passages
from newsbot.errors import ConfigError, InputError
from newsbot.evaluation import plain_rag
from newsbot.evaluation.choice import (
    ask_model,
    build_prompt,
    format_choices,
    parse_choice,
    parse_citations,
)
from newsbot.evaluation.corpus import chunk_texts, ingest_corpus
from newsbot.evaluation.dataset import Doc, Query, check_dataset, load_docs, load_queries
from newsbot.evaluation.metrics import QuestionScore, score_question, summarise
from prompts import Prompts, load_prompts
from vectorstore.records import Passage

if TYPE_CHECKING:
    from langchain_chroma import Chroma

    from vectorstore.store import NewsStore

logger = logging.getLogger(__name__)

Mode = Literal["newsbot", "gcs", "closed_book", "plain_rag", "plain_retrieval"]
MODES: tuple[Mode, ...] = ("newsbot", "gcs", "closed_book", "plain_rag", "plain_retrieval")
GCS_TOP = 10
GCS_CHARS = 600
#: Published multiple-choice accuracy (RealTimeQA authors' prediction files, 2022-06 .. 2023-12).
ANCHORS: dict[str, float] = {
    "published: GPT-3 + Google": 0.641,
    "published: RAG + Google": 0.421,
    "published: GPT-3 closed-book": 0.450,
}


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


@dataclass(frozen=True)
class _Retrieved:
    """One retrieved passage as the scorer needs it."""

    chunk_id: str
    article_id: str
    text: str
    score: float


@dataclass(frozen=True)
class _Asked:
    """What a mode produced for one question: the prompt and the passages in it."""

    prompt: str
    passages: list[_Retrieved]


class _Mode(Protocol):
    def prepare(self) -> dict[str, Any]: ...
    def ask(self, query: Query) -> _Asked: ...
    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]: ...


def _mc_prompt(prompts: Prompts, query: Query, passages: Sequence[Passage]) -> str:
    return build_prompt(
        prompts.get("multiple_choice"),
        as_of=format_as_of(date.fromisoformat(query.date)),
        passages=format_passages(passages),
        question=query.question,
        choices=query.choices,
    )


def _as_retrieved(passages: Sequence[Passage]) -> list[_Retrieved]:
    return [_Retrieved(p.chunk_id, p.article_id, p.text, p.score) for p in passages]


class _NewsbotMode:
    def __init__(
        self,
        dataset_dir: Path,
        store: NewsStore,
        prompts: Prompts,
        k: int,
        ingest_options: Mapping[str, Any] | None,
        corpus_file: Path | None,
    ) -> None:
        self.dataset_dir, self.store, self.prompts, self.k = dataset_dir, store, prompts, k
        self.ingest_options, self.corpus_file = ingest_options, corpus_file

    def prepare(self) -> dict[str, Any]:
        return ingest_corpus(
            self.dataset_dir,
            self.store,
            corpus_file=self.corpus_file,
            options=self.ingest_options,
            progress=True,
        )

    def ask(self, query: Query) -> _Asked:
        passages = self.store.search(
            query.question, self.k, published_before=date.fromisoformat(query.date)
        )
        return _Asked(_mc_prompt(self.prompts, query, passages), _as_retrieved(passages))

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        return chunk_texts(self.store, chunk_ids)


def _doc_passage(doc: Doc, chunk_id: str, text: str) -> Passage:
    url = doc.url or ""
    return Passage(
        chunk_id=chunk_id,
        article_id=doc.id,
        title=doc.title or "",
        url=url,
        source=(urlsplit(url).hostname or "").removeprefix("www."),
        published=doc.date,
        text=text,
        char_start=0,
        char_end=len(text),
        score=0.0,
        chunk_index=0,
    )


class _GcsMode:
    def __init__(self, dataset_dir: Path, queries: Sequence[Query], prompts: Prompts) -> None:
        self.dataset_dir, self.queries, self.prompts = dataset_dir, queries, prompts
        self.docs: dict[str, Doc] = {}

    def prepare(self) -> dict[str, Any]:
        wanted = {i for q in self.queries for i in q.gcs_ids[:GCS_TOP]}
        self.docs = load_docs(self.dataset_dir, wanted)
        return {"documents": len(self.docs)}

    def ask(self, query: Query) -> _Asked:
        passages = [
            _doc_passage(self.docs[i], f"{i}:gcs", self.docs[i].text[:GCS_CHARS])
            for i in query.gcs_ids[:GCS_TOP]
            if i in self.docs
        ]
        return _Asked(_mc_prompt(self.prompts, query, passages), _as_retrieved(passages))

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        out = {}
        for chunk_id in chunk_ids:
            doc = self.docs.get(chunk_id.rsplit(":", 1)[0])
            if doc is not None:
                out[chunk_id] = doc.text[:GCS_CHARS]
        return out


class _ClosedBookMode:
    def __init__(self, prompts: Prompts) -> None:
        self.prompts = prompts

    def prepare(self) -> dict[str, Any]:
        return {}

    def ask(self, query: Query) -> _Asked:
        return _Asked(_mc_prompt(self.prompts, query, []), [])

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        return {}


class _PlainRagMode:
    def __init__(
        self, dataset_dir: Path, store: object, collection: str, corpus_file: Path | None
    ) -> None:
        self.dataset_dir, self.collection, self.corpus_file = dataset_dir, collection, corpus_file
        self.client = getattr(store, "client", None)
        self.embeddings = getattr(store, "embeddings", None)
        if self.client is None or self.embeddings is None:
            raise ConfigError("plain_rag mode needs a store with `client` and `embeddings`")
        self.index: Chroma | None = None

    def prepare(self) -> dict[str, Any]:
        from newsbot.evaluation.dataset import iter_docs

        started = time.perf_counter()
        splits = plain_rag.split_docs(iter_docs(self.dataset_dir, corpus_file=self.corpus_file))
        self.index = plain_rag.build_index(
            splits,
            self.embeddings,  # type: ignore[arg-type]
            self.client,  # type: ignore[arg-type]
            self.collection,
        )
        return {"chunks": len(splits), "seconds": round(time.perf_counter() - started, 1)}

    def ask(self, query: Query) -> _Asked:
        assert self.index is not None
        splits = plain_rag.search(self.index, query.question)
        prompt = plain_rag.build_prompt(query.question, format_choices(query.choices), splits)
        return _Asked(prompt, [_Retrieved(s.chunk_id, s.article_id, s.text, 0.0) for s in splits])

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        assert self.index is not None
        got = self.index.get(ids=list(chunk_ids), include=["documents"])
        return dict(zip(got["ids"], got["documents"], strict=True))


class _PlainRetrievalMode(_PlainRagMode):
    """The tutorial's index and search, asked with newsbot's own multiple-choice prompt.

    Against `plain_rag` this separates what the tutorial's prompt costs from what its chunking
    and retrieval cost; against `newsbot` it isolates retrieval.
    """

    def __init__(self, *args: Any, prompts: Prompts) -> None:
        super().__init__(*args)
        self.prompts = prompts

    def ask(self, query: Query) -> _Asked:
        assert self.index is not None
        passages = [
            Passage(
                chunk_id=s.chunk_id,
                article_id=s.article_id,
                title="",
                url="",
                source="",
                published=s.published,
                text=s.text,
                char_start=0,
                char_end=len(s.text),
                score=0.0,
                chunk_index=0,
            )
            for s in plain_rag.search(self.index, query.question)
        ]
        return _Asked(_mc_prompt(self.prompts, query, passages), _as_retrieved(passages))


def read_preds(path: Path) -> dict[str, dict[str, Any]]:
    """The prediction lines already in `path`, by question id (a torn last line is ignored)."""
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                logger.warning("Ignoring a torn line in %s (a killed run); it is asked again", path)
                continue
            if isinstance(record, dict) and "id" in record:
                done[str(record["id"])] = record
    return done


def answer_seconds(preds: Iterable[dict[str, Any]]) -> float:
    """Time spent answering these predictions (the sum of their `total_s`)."""
    return round(sum(pred["total_s"] or 0.0 for pred in preds), 1)


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line a killed run left unfinished, so the next line does not run into it."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def _pred_line(query: Query, asked: _Asked, reply_text: str, reply: Any) -> dict[str, Any]:
    choice_idx = parse_choice(reply_text, query.choices)
    numbers = parse_citations(reply_text, len(asked.passages))
    cited: list[str] = []
    for n in numbers:
        article_id = asked.passages[n - 1].article_id
        if article_id not in cited:
            cited.append(article_id)
    return {
        "id": query.id,
        "choice_idx": choice_idx,
        "answer": reply_text,
        "grounded": choice_idx is not None and bool(cited),
        "retrieved": [
            {
                "article_id": p.article_id,
                "chunk_id": p.chunk_id,
                "rank": r,
                "score": round(p.score, 4),
            }
            for r, p in enumerate(asked.passages, start=1)
        ],
        "cited": cited,
        "ttft_s": None if reply.ttft_s is None else round(reply.ttft_s, 3),
        "total_s": round(reply.total_s, 3),
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
    }


def _score(query: Query, pred: dict[str, Any], texts: dict[str, str]) -> QuestionScore:
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


def summary_path_for(out_path: Path) -> Path:
    """Where the summary of a predictions file goes: `preds.jsonl` → `preds.summary.json`."""
    return out_path.with_name(out_path.name.removesuffix(".jsonl") + ".summary.json")


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
    mode: Mode = "newsbot",
    progress: bool = True,
    prompts: Prompts | None = None,
    model_name: str = "",
    ingest_options: Mapping[str, Any] | None = None,
    corpus_file: Path | None = None,
) -> EvalReport:
    """Evaluate one mode on a dataset; write `out_path` (predictions) and its summary JSON.

    Args:
        dataset_dir: folder with `corpus.jsonl.gz` and `queries.jsonl`.
        store: the `NewsStore` the dataset corpus goes into (its own collection; newsbot and
            plain_rag modes; plain_rag uses its `client` and `embeddings` only).
        llm: the chat model every mode asks.
        k: passages retrieved per question (newsbot mode; plain_rag keeps the tutorial's 4 and
            gcs the authors' top 10).
        limit: only the first `limit` questions.
        out_path: predictions file (default `<dataset>-<mode>.preds.jsonl` in the working dir).
        mode: `newsbot`, `gcs`, `closed_book` or `plain_rag`.
        progress: show a progress bar with the running accuracy on stderr.
        prompts: the prompt templates (default: the bundled ones).
        model_name: recorded in the summary.
        ingest_options: keyword arguments for `ingest.pipeline.ingest` (`tiktoken_cache_dir`,
            `chunk_tokens`, `overlap`); newsbot mode.
        corpus_file: index this file instead of the dataset's corpus (a slice, for tests);
            newsbot and plain_rag modes.

    Raises:
        InputError: the folder is not a dataset.
        ConfigError: the predictions file was made with other settings, or the mode is unknown.
    """
    started = time.perf_counter()
    dataset_dir = Path(dataset_dir)
    check_dataset(dataset_dir)
    if mode not in MODES:
        raise ConfigError(f"Unknown eval mode {mode!r}: use one of {', '.join(MODES)}")
    prompts = prompts or load_prompts()
    queries = load_queries(dataset_dir, limit)
    if not queries:
        raise InputError(f"{dataset_dir} has no questions in queries.jsonl")
    out_path = Path(out_path or f"{dataset_dir.name}-{mode}.preds.jsonl")
    summary_path = summary_path_for(out_path)
    effective_k = {
        "gcs": GCS_TOP,
        "plain_rag": plain_rag.TOP_K,
        "plain_retrieval": plain_rag.TOP_K,
        "closed_book": 0,
    }.get(mode, k)
    config = {"dataset": dataset_dir.name, "mode": mode, "k": effective_k, "model": model_name}
    _check_resumable(summary_path, config)

    runner: _Mode
    if mode == "newsbot":
        if store is None:
            raise ConfigError("newsbot mode needs a store for the dataset corpus")
        runner = _NewsbotMode(dataset_dir, store, prompts, k, ingest_options, corpus_file)
    elif mode == "gcs":
        runner = _GcsMode(dataset_dir, queries, prompts)
    elif mode == "closed_book":
        runner = _ClosedBookMode(prompts)
    else:
        name = getattr(store, "collection_name", None) or getattr(store, "name", "eval")
        if mode == "plain_retrieval":
            runner = _PlainRetrievalMode(
                dataset_dir, store, f"{name}-plainrag", corpus_file, prompts=prompts
            )
        else:
            runner = _PlainRagMode(dataset_dir, store, f"{name}-plainrag", corpus_file)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps({"config": config, "status": "running"}, indent=2) + "\n")

    ingest_info = runner.prepare()
    done = read_preds(out_path)
    _drop_torn_tail(out_path)
    by_id = {q.id: q for q in queries}
    resumed = sum(1 for qid in done if qid in by_id)
    todo = [q for q in queries if q.id not in done]
    if resumed:
        logger.info("Resuming: %d of %d questions already in %s", resumed, len(queries), out_path)

    texts: dict[str, str] = {}
    correct = sum(
        1 for qid, p in done.items() if qid in by_id and p["choice_idx"] in by_id[qid].answer_idx
    )
    answered = resumed
    with (
        out_path.open("a", encoding="utf-8") as out,
        _progress_bar(progress, len(queries), resumed) as advance,
    ):
        for query in todo:
            t0 = time.perf_counter()
            asked = runner.ask(query)
            reply = ask_model(llm, asked.prompt, started=t0)
            pred = _pred_line(query, asked, reply.text, reply)
            out.write(json.dumps(pred, ensure_ascii=False) + "\n")
            out.flush()
            done[query.id] = pred
            texts.update({p.chunk_id: p.text for p in asked.passages})
            answered += 1
            correct += pred["choice_idx"] in query.answer_idx
            advance(f"accuracy {correct / answered:.3f} ({correct}/{answered})")

    missing = sorted(
        {r["chunk_id"] for qid in done if qid in by_id for r in done[qid]["retrieved"]} - set(texts)
    )
    if missing:
        texts.update(runner.texts(missing))
    scores = [_score(q, done[q.id], texts) for q in queries if q.id in done]
    summary = summarise(scores)
    seconds = time.perf_counter() - started
    report = EvalReport(
        dataset=dataset_dir.name,
        mode=mode,
        k=effective_k,
        model=model_name,
        out_path=out_path,
        summary_path=summary_path,
        summary=summary,
        asked=len(todo),
        resumed=resumed,
        seconds=round(seconds, 1),
        answer_seconds=answer_seconds(done[q.id] for q in queries if q.id in done),
        ingest=ingest_info,
    )
    payload = {"config": config, "status": "done", **report.to_dict()}
    summary_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return report
