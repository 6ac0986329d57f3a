"""Ingest benchmark: a corpus into a fresh data dir, end to end, against the raw embedder.

Prints docs, chunks, tokens, wall time and chunks/s of a first ingest, the raw embedder's chunks/s
on the very same chunk texts (the ratio is the pipeline's overhead: reading, chunking, Chroma,
registry), and the time of a second, unchanged run. Settings come from the environment as usual
(`NEWSBOT_EMBED_BATCH_SIZE`, `NEWSBOT_THREADS`, ...), except the data dir, which is a temp folder.

    python -m benchmarks.ingest_alone ../shared/bench/realtimeqa-2022-mini [--limit N]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from ingest.article import Article
from ingest.chunking import chunk_text
from ingest.pipeline import ingest
from ingest.sources import expand_sources, read_sources
from ingest.tokens import load_encoding
from newsbot.factories import build_embeddings, build_store
from newsbot.settings import get_settings


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _corpus(arg: str) -> Path:
    path = Path(arg)
    return path / "corpus.jsonl.gz" if path.is_dir() else path


def _limited(corpus: Path, limit: int, folder: Path) -> Path:
    """A copy of the first `limit` lines of the corpus (for quick trial runs)."""
    import gzip

    out = folder / "corpus-head.jsonl"
    with gzip.open(corpus, "rt", encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for number, line in enumerate(src):
            if number >= limit:
                break
            dst.write(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="corpus.jsonl.gz, or a folder that holds one")
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles")
    args = parser.parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        corpus = _corpus(args.corpus)
        if args.limit:
            corpus = _limited(corpus, args.limit, Path(tmp))
        settings = get_settings(data_dir=data_dir)
        store = build_store(settings)
        store.embeddings.embed_documents(["warm up"])  # model load is not ingest time
        common = {
            "tiktoken_cache_dir": data_dir / "tiktoken",
            "chunk_tokens": settings.retrieval.chunk_tokens,
            "overlap": settings.retrieval.chunk_overlap,
            "max_bytes": settings.limits.max_input_bytes,
            "http_timeout": settings.fetch.timeout,
        }
        print(f"Ingesting {corpus} into a fresh data dir ...", flush=True)
        first = ingest([str(corpus)], store, **common)  # type: ignore[arg-type]
        print(f"  first run: {first.to_dict() | {'failures': len(first.failures)}}", flush=True)
        second = ingest([str(corpus)], store, **common)  # type: ignore[arg-type]
        print(f"  second run: {second.seconds:.2f} s, {second.unchanged} unchanged", flush=True)

        # The raw embedder on the same chunk texts, with no pipeline around it.
        encoding = load_encoding(data_dir / "tiktoken")
        sources, _ = expand_sources([str(corpus)])
        texts = [
            chunk.text
            for item in read_sources(
                sources, max_bytes=settings.limits.max_input_bytes, http_timeout=1
            )
            if isinstance(item, Article)
            for chunk in chunk_text(
                item.text,
                encoding,
                settings.retrieval.chunk_tokens,
                settings.retrieval.chunk_overlap,
            )
        ]
        raw = build_embeddings(settings)
        raw.embed_documents(["warm up"])
        print(f"Embedding the same {len(texts)} chunks with the raw embedder ...", flush=True)
        started = time.perf_counter()
        raw.embed_documents(texts)
        raw_seconds = time.perf_counter() - started

    docs = first.articles
    rows = [
        ("docs", f"{docs}"),
        ("failed inputs", f"{first.failed}"),
        ("chunks", f"{first.chunks}"),
        ("tokens (cl100k)", f"{first.tokens:,}"),
        ("first run, wall time", f"{first.seconds:.1f} s"),
        ("first run, chunks/s end to end", f"{first.chunks / first.seconds:.1f}"),
        ("raw embedder, chunks/s (same chunks)", f"{len(texts) / raw_seconds:.1f}"),
        ("pipeline overhead", f"{first.seconds / raw_seconds - 1:+.0%} over the raw embedder"),
        ("second run (all unchanged), wall time", f"{second.seconds:.2f} s"),
    ]
    print()
    print(f"Machine: {_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Load average at the end (1, 5, 15 min): {load}")
    print(f"Embedder: {store.embedder_name}, batch {settings.embedder.batch_size}")
    print(f"Command: make bench-ingest  (python -m benchmarks.ingest_alone {args.corpus})")
    print()
    print("| measure | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
