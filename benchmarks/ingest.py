"""Ingest throughput: the mini corpus through newsbot's pipeline, the raw embedder on the same
chunks, and LangChain's tutorial indexing (`Chroma.from_documents`, 1,000/200-character splits)
with the same embedder instance, in one run (so the ratios compare like with like)."""

from __future__ import annotations

import gzip
import json
import logging
import time
from typing import Any

from benchmarks.common import BenchConfig, open_store, settings_for, stamp, timed

logger = logging.getLogger(__name__)


def bench_ingest(config: BenchConfig) -> dict[str, Any]:
    """Index the mini corpus three ways with one embedder instance; same machine, same run."""
    from ingest.pipeline import ingest
    from ingest.tokens import load_encoding
    from newsbot.evaluation.dataset import iter_docs
    from newsbot.evaluation.modes import tutorial_rag as plain_rag
    from vectorstore.client import make_chroma_client

    run_dir = config.work_dir / f"ingest-{int(time.time())}"
    settings = settings_for(run_dir)
    corpus = config.mini / "corpus.jsonl.gz"
    if config.docs:
        corpus = run_dir / "corpus-slice.jsonl.gz"
        run_dir.mkdir(parents=True, exist_ok=True)
        with gzip.open(corpus, "wt", encoding="utf-8") as out:
            for n, doc in enumerate(iter_docs(config.mini)):
                if n >= config.docs:
                    break
                out.write(json.dumps(doc.__dict__) + "\n")
    store = open_store(settings, "bench-ingest")
    getattr(
        store.embeddings, "load", lambda: None
    )()  # model load is not part of any of the three timings
    encoding = load_encoding(settings.storage.data_dir / "tiktoken")

    logger.info("ingest: newsbot pipeline on %s", corpus)
    report, _ = timed(
        lambda: ingest(
            [str(corpus)],
            store,
            tiktoken_cache_dir=settings.storage.data_dir / "tiktoken",
            chunk_tokens=settings.retrieval.chunk_tokens,
            overlap=settings.retrieval.chunk_overlap,
        )
    )
    chars = sum(len(doc.text) for doc in iter_docs(config.mini, corpus_file=corpus))
    texts = store.langchain_vectorstore().get(include=["documents"])["documents"]

    logger.info("ingest: raw embedder on the same %d chunks", len(texts))
    _, raw_seconds = timed(lambda: store.embeddings.embed_documents(texts))
    raw_tokens = sum(len(encoding.encode_ordinary(t)) for t in texts)

    logger.info("ingest: LangChain tutorial (Chroma.from_documents, 1000/200 characters)")
    splits = plain_rag.split_docs(iter_docs(config.mini, corpus_file=corpus))
    client = make_chroma_client(run_dir / "tutorial")
    _, lc_seconds = timed(
        lambda: plain_rag.build_index(splits, store.embeddings, client, "tutorial")
    )
    lc_tokens = sum(len(encoding.encode_ordinary(s.page_content)) for s in splits)

    def rates(chunks: int, tokens: int, seconds: float) -> dict[str, Any]:
        return {
            "chunks": chunks,
            "tokens": tokens,
            "seconds": round(seconds, 1),
            "chunks_per_s": round(chunks / seconds, 1),
            "tokens_per_s": round(tokens / seconds),
        }

    newsbot = rates(report.chunks, report.tokens, report.seconds)
    newsbot["corpus_chars_per_s"] = round(chars / report.seconds)
    raw = rates(len(texts), raw_tokens, raw_seconds)
    tutorial = rates(len(splits), lc_tokens, lc_seconds)
    tutorial["corpus_chars_per_s"] = round(chars / lc_seconds)
    return stamp(
        "ingest",
        config,
        {
            "corpus": f"{config.mini.name}"
            + (f" (first {config.docs} docs)" if config.docs else ""),
            "articles": report.articles,
            "characters": chars,
            "chunk_tokens": settings.retrieval.chunk_tokens,
            "overlap": settings.retrieval.chunk_overlap,
            "newsbot": newsbot,
            "raw_embedder": raw,
            "langchain_tutorial": tutorial,
            "ratios": {
                "newsbot_tokens_per_s_vs_raw": round(
                    newsbot["tokens_per_s"] / raw["tokens_per_s"], 2
                ),
                "newsbot_vs_tutorial_corpus_time": round(lc_seconds / report.seconds, 2),
                "newsbot_vs_tutorial_tokens_per_s": round(
                    newsbot["tokens_per_s"] / tutorial["tokens_per_s"], 2
                ),
            },
        },
    )
