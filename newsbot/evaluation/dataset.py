"""Read a benchmark folder: `corpus.jsonl.gz` (documents) and `queries.jsonl` (quiz questions).

The format is the one of `shared/bench/*` (see its README): documents have `id, url, title, date,
text`; queries have `id, date, question, choices, answer_idx, answer_text, evidence_ids,
silver_ids, gcs_ids`. Documents are streamed, so a large corpus never sits in memory twice.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsbot.errors import InputError

CORPUS_FILE = "corpus.jsonl.gz"
QUERIES_FILE = "queries.jsonl"


@dataclass(frozen=True)
class Doc:
    """One corpus document; `date` is its publication date (YYYY-MM-DD) or None."""

    id: str
    url: str | None
    title: str | None
    date: str | None
    text: str


@dataclass(frozen=True)
class Query:
    """One quiz question, asked as of `date`; `answer_idx` holds the correct 0-based choices."""

    id: str
    date: str
    question: str
    choices: tuple[str, ...]
    answer_idx: tuple[int, ...]
    answer_text: str
    evidence_ids: tuple[str, ...]
    silver_ids: tuple[str, ...]
    gcs_ids: tuple[str, ...]

    @property
    def labels(self) -> frozenset[str]:
        """The documents that count as relevant: `evidence_ids` + `silver_ids`."""
        return frozenset(self.evidence_ids) | frozenset(self.silver_ids)


def check_dataset(dataset_dir: Path) -> None:
    """Raise InputError unless `dataset_dir` holds both dataset files."""
    missing = [n for n in (CORPUS_FILE, QUERIES_FILE) if not (dataset_dir / n).is_file()]
    if missing:
        raise InputError(
            f"{dataset_dir} is not a benchmark dataset (missing {', '.join(missing)}): pass a "
            f"folder with {CORPUS_FILE} and {QUERIES_FILE}, e.g. "
            "../shared/bench/realtimeqa-2022-mini"
        )


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each JSON object of a JSON-lines file (gzipped when it ends in .gz), with its line number.

    Raises:
        InputError: a line is not a JSON object.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number} is not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise InputError(f"{path}:{number} is not a JSON object")
            yield number, record


def iter_docs(
    dataset_dir: Path, ids: Collection[str] | None = None, corpus_file: Path | None = None
) -> Iterator[Doc]:
    """Stream the corpus documents, only those in `ids` when given.

    `corpus_file` reads another file of the same format instead (e.g. a slice of the corpus).

    Raises:
        InputError: the file is missing or a line is not a document.
    """
    check_dataset(dataset_dir)
    path = corpus_file or dataset_dir / CORPUS_FILE
    for number, record in read_records(path):
        try:
            doc_id = str(record["id"])
            if ids is not None and doc_id not in ids:
                continue
            yield Doc(
                id=doc_id,
                url=record.get("url"),
                title=record.get("title"),
                date=record.get("date"),
                text=str(record["text"]),
            )
        except KeyError as exc:
            raise InputError(f"{path}:{number} has no {exc.args[0]!r} field") from exc


def load_docs(dataset_dir: Path, ids: Collection[str]) -> dict[str, Doc]:
    """The documents with the given ids, by id (one pass over the corpus)."""
    wanted = set(ids)
    return {doc.id: doc for doc in iter_docs(dataset_dir, wanted)}


def load_queries(dataset_dir: Path, limit: int | None = None) -> list[Query]:
    """The first `limit` queries (all when None), in file order.

    Raises:
        InputError: the file is missing or a line lacks a field.
    """
    check_dataset(dataset_dir)
    path = dataset_dir / QUERIES_FILE
    queries: list[Query] = []
    for number, record in read_records(path):
        if limit is not None and len(queries) >= limit:
            break
        try:
            choices = tuple(str(c) for c in record["choices"])
            queries.append(
                Query(
                    id=str(record["id"]),
                    date=str(record["date"]),
                    question=str(record["question"]),
                    choices=choices,
                    answer_idx=tuple(int(i) for i in record["answer_idx"]),
                    answer_text=str(record.get("answer_text") or ""),
                    evidence_ids=tuple(record.get("evidence_ids") or ()),
                    silver_ids=tuple(record.get("silver_ids") or ()),
                    gcs_ids=tuple(record.get("gcs_ids") or ()),
                )
            )
        except KeyError as exc:
            raise InputError(f"{path}:{number} has no {exc.args[0]!r} field") from exc
    return queries
