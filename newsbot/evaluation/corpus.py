"""The dataset corpus in newsbot's store: ingested through the ingest pipeline, read back by id.

The corpus file is an ordinary `.jsonl.gz` input for the pipeline (`id` becomes the article id,
`date` the publication date), so a second run finds every article unchanged and embeds nothing.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from newsbot.evaluation.dataset import CORPUS_FILE, check_dataset
from vectorstore.store import NewsStore

logger = logging.getLogger(__name__)


def eval_collection_name(dataset_dir: Path, prefix: str = "eval") -> str:
    """The collection a dataset's corpus goes into, e.g. `eval-realtimeqa-2022-mini`."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(dataset_dir).resolve().name).strip("-._")
    return f"{prefix}-{slug or 'dataset'}"


def ingest_corpus(
    dataset_dir: Path,
    store: NewsStore,
    *,
    corpus_file: Path | None = None,
    options: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Ingest the dataset's corpus into `store` (unchanged articles cost nothing).

    Args:
        dataset_dir: the dataset folder.
        store: the store of the dataset's own collection.
        corpus_file: another corpus file to ingest instead (e.g. a slice, in tests).
        options: extra keyword arguments for `ingest.pipeline.ingest` (`chunk_tokens`, `overlap`,
            `tiktoken_cache_dir`, ...).
        progress: log progress every few hundred chunks.

    Returns:
        The ingest report as a dict (`new`, `updated`, `unchanged`, `chunks`, `tokens`, `seconds`).
    """
    from ingest.pipeline import ingest

    check_dataset(dataset_dir)
    path = corpus_file or dataset_dir / CORPUS_FILE
    kwargs: dict[str, Any] = {
        "tiktoken_cache_dir": Path(tempfile.gettempdir()) / "newsbot-tiktoken",
        **(options or {}),
    }
    if progress:
        kwargs.setdefault("progress", _log_progress)
    report = ingest([str(path)], store, **kwargs)
    info = report.to_dict()
    info.pop("warnings", None)
    info["failures"] = len(info.get("failures", []))
    return info


def _log_progress(articles: int, chunks: int, tokens: int) -> None:
    logger.info("Ingesting the corpus: %d articles, %d chunks, %d tokens", articles, chunks, tokens)


def chunk_texts(store: NewsStore, chunk_ids: Sequence[str]) -> dict[str, str]:
    """The stored text of each chunk id found in `store`."""
    if not chunk_ids:
        return {}
    got = store.langchain_vectorstore().get(ids=list(chunk_ids), include=["documents"])
    return {cid: doc for cid, doc in zip(got["ids"], got["documents"], strict=True) if doc}
