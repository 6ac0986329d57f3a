"""The ingest pipeline: inputs → articles → (skip unchanged) → chunks → store, in streaming batches.

Articles are read lazily; the store says which of a batch are unchanged (same content hash, fully
written) before anything is chunked or embedded, and the rest are written in groups of a few
hundred chunks. An article id seen twice in one run is stored once (the last version wins). A
failed input is reported and the run goes on; an interrupted run leaves `pending` articles, which
the store never reports as unchanged, so the next run completes them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tiktoken

from ingest.article import Article, InputProblem, make_article_id, same_url
from ingest.chunking import CHUNK_OVERLAP, CHUNK_TOKENS, chunk_text
from ingest.loaders.fetching import FetchPolicy
from ingest.replacing import Batch, replaced_articles
from ingest.sources import expand, read_sources
from ingest.tokens import load_encoding
from vectorstore.article_files import ArticleFiles
from vectorstore.records import ArticleMeta, ChunkText
from vectorstore.retention import Pins

if TYPE_CHECKING:
    from vectorstore.store import NewsStore

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, int], None]
"""Called as `progress(articles_done, chunks_done, tokens_done)` after each written group."""


@dataclass
class IngestReport:
    """What one ingest run did; `failures` skipped an input, `warnings` stored it with a caveat.

    `unsupported` are the files of other types found in folders or by globs: skipped, not failed.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    tokens: int = 0
    seconds: float = 0.0
    failures: list[InputProblem] = field(default_factory=list)
    warnings: list[InputProblem] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Inputs (files, lines, URLs, feed entries) that yielded no article."""
        return len(self.failures)

    @property
    def articles(self) -> int:
        """Distinct articles read successfully."""
        return self.new + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return {**asdict(self), "failed": self.failed, "seconds": round(self.seconds, 3)}


@dataclass
class _Run:
    store: NewsStore
    encoding: tiktoken.Encoding
    chunk_tokens: int
    overlap: int
    batch_chunks: int
    progress: Progress | None
    report: IngestReport = field(default_factory=IngestReport)
    counted: dict[str, str] = field(default_factory=dict)
    """How each article of the run was counted: new, updated or unchanged."""
    articles_done: int = 0
    files: ArticleFiles | None = None
    shadowed: list[Article] = field(default_factory=list)
    """Articles of files that another input of the batch took the id of (the last one wins):
    not stored, but their files are known to name that id."""

    def meta(self, article: Article) -> ArticleMeta:
        """The article's store record; its hash also covers how it was chunked.

        Changing the chunk size or overlap must re-chunk stored articles on the next ingest, so the
        chunking parameters are part of what "unchanged" compares.
        """
        recipe = f"{article.content_hash}|{self.encoding.name}|{self.chunk_tokens}|{self.overlap}"
        digest = hashlib.sha256(recipe.encode()).hexdigest()
        return replace(article.to_meta(), content_hash=digest)

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(self.articles_done, self.report.chunks, self.report.tokens)

    def _count(self, articles: list[Article], unchanged: set[str], replacing: set[str]) -> None:
        # An article of another input, counted unchanged in an earlier batch, that this batch
        # writes in another version (the last one wins) was updated after all.
        for article_id in {a.article_id for a in articles} - unchanged:
            if self.counted.get(article_id) == "unchanged":
                self.report.unchanged -= 1
                self.report.updated += 1
                self.counted[article_id] = "updated"
        fresh = [a.article_id for a in articles if a.article_id not in self.counted]
        # A pending row was never completely stored: finishing it counts as new.
        state = self.store.registry.state_of(fresh) if fresh else {}
        for article_id in fresh:
            if article_id in unchanged:
                outcome = "unchanged"
            elif article_id in replacing or state.get(article_id, ("", "pending"))[1] == "done":
                outcome = "updated"
            else:
                outcome = "new"
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
            self.counted[article_id] = outcome

    def _write(self, group: list[tuple[ArticleMeta, list[ChunkText]]]) -> None:
        written = self.store.put_articles(group)
        self.report.chunks += written
        self.report.tokens += sum(c.tokens for _, chunks in group for c in chunks)
        self.articles_done += len(group)
        self._tick()

    def flush(self, batch: dict[str, Article]) -> None:
        """Skip the unchanged articles of `batch`, chunk and write the others."""
        if not batch:
            return
        articles = list(batch.values())
        batch.clear()
        # Held from the check to the write: another process ingesting the same input waits, then
        # finds these articles unchanged instead of embedding them again.
        with self.store.ingest_lock():
            self._store_changed(articles, self.shadowed)
        self.shadowed = []

    def _files(self) -> ArticleFiles:
        if self.files is None:
            self.files = ArticleFiles(self.store.registry.database, self.store.registry.collection)
        return self.files

    def _store_changed(self, articles: list[Article], shadowed: list[Article]) -> None:
        from_files = [a for a in [*articles, *shadowed] if a.source_file]
        paths = [a.source_file for a in from_files]
        before = self._files().of_paths(paths) if paths else {}
        retiring, taking, gone = replaced_articles(
            self.store.registry,
            self._files(),
            Batch(articles, shadowed, before),
            lambda article: self.meta(article).content_hash,
        )
        unchanged = self.store.unchanged_ids([self.meta(a) for a in articles])
        self._count(articles, unchanged, taking)
        skipped = sum(1 for a in articles if a.article_id in unchanged)
        if skipped:
            self.articles_done += skipped
            self._tick()
        group: list[tuple[ArticleMeta, list[ChunkText]]] = []
        size = 0
        for article in articles:
            if article.article_id in unchanged:
                continue
            chunks = chunk_text(article.text, self.encoding, self.chunk_tokens, self.overlap)
            if group and size + len(chunks) > self.batch_chunks:
                self._write(group)
                group, size = [], 0
            group.append((self.meta(article), chunks))
            size += len(chunks)
        if group:
            self._write(group)
        # Only now that the new versions are stored: a crash meanwhile leaves both, not neither.
        for old in retiring:
            self.store.delete_article(old)
        if retiring:
            Pins(self.store.registry.database, self.store.registry.collection).carry_over(retiring)
        wrote = [(a.source_file, a.article_id, self.meta(a).content_hash) for a in from_files]
        changed = [record for record in wrote if before.get(record[0]) != record]
        if changed:
            self._files().record(changed)
        if gone:
            self._files().forget(gone)


def ingest(
    sources: list[str],
    store: NewsStore,
    *,
    tiktoken_cache_dir: Path,
    chunk_tokens: int = CHUNK_TOKENS,
    overlap: int = CHUNK_OVERLAP,
    max_bytes: int = 200_000_000,
    http_timeout: float = 20.0,
    progress: Progress | None = None,
    batch_articles: int = 64,
    batch_chunks: int = 256,
    max_article_chars: int = 300_000,
    fetch_policy: FetchPolicy | None = None,
    key_by_file: bool = True,
) -> IngestReport:
    """Read `sources` (paths, folders, globs, URLs) into `store`; unchanged articles cost nothing.

    Args:
        sources: the command-line inputs.
        store: the `NewsStore` to write to.
        tiktoken_cache_dir: where cl100k_base's token file is prepared (e.g. `data_dir/"tiktoken"`).
        chunk_tokens: most tokens per chunk.
        overlap: most tokens shared by consecutive chunks of one article.
        max_bytes: largest input file or download accepted.
        http_timeout: seconds to wait for a URL.
        progress: called with (articles_done, chunks_done, tokens_done) as work completes.
        batch_articles: articles checked against the store at once.
        batch_chunks: most chunks handed to the store in one write (at least one article).
        max_article_chars: longest article text accepted, in characters (checked as read).
        fetch_policy: what URL fetches may reach and spend; None means public addresses only,
            with `max_bytes` and `http_timeout` as the caps.
        key_by_file: know an article of a one-article file without an id or url by its path,
            so an edited file replaces it (False for uploads, whose paths are temporary).

    Raises:
        InputError: no argument names any input at all.
    """
    started = time.perf_counter()
    expansion = expand(sources)
    items = read_sources(
        expansion.sources,
        max_bytes=max_bytes,
        http_timeout=http_timeout,
        fetch_policy=fetch_policy,
        max_chars=max_article_chars,
        key_by_file=key_by_file,
    )
    report = IngestReport(
        failures=list(expansion.problems), unsupported=list(expansion.unsupported)
    )
    return ingest_articles(
        items,
        store,
        tiktoken_cache_dir=tiktoken_cache_dir,
        chunk_tokens=chunk_tokens,
        overlap=overlap,
        progress=progress,
        batch_articles=batch_articles,
        batch_chunks=batch_chunks,
        report=report,
        started=started,
    )


def guid_taken(store: NewsStore, guid: str, url: str) -> bool:
    """Whether a story with another link is stored under a feed's `guid`: a guid ("1") need
    only be unique within its own feed, and another feed's entry must not overwrite that story,
    which is then known by its link instead."""
    row = store.registry.get(guid)
    return row is not None and bool(url) and not same_url(row.url, url)


def ingest_articles(
    items: Iterable[Article | InputProblem],
    store: NewsStore,
    *,
    tiktoken_cache_dir: Path,
    chunk_tokens: int = CHUNK_TOKENS,
    overlap: int = CHUNK_OVERLAP,
    progress: Progress | None = None,
    batch_articles: int = 64,
    batch_chunks: int = 256,
    report: IngestReport | None = None,
    started: float | None = None,
) -> IngestReport:
    """Store articles already read (and count the problems met reading them), as `ingest` does
    for the inputs it reads: unchanged ones cost nothing, the rest are chunked and written in
    groups under the ingest lock. Followed feeds (`ingest.follow`) hand their entries in here.
    """
    started = time.perf_counter() if started is None else started
    run = _Run(
        store, load_encoding(tiktoken_cache_dir), chunk_tokens, overlap, batch_chunks, progress
    )
    if report is not None:
        run.report = report
    report = run.report
    batch: dict[str, Article] = {}
    first_origin: dict[str, str] = {}
    first_url: dict[str, str] = {}
    for item in items:
        if isinstance(item, InputProblem):
            (report.failures if item.skipped else report.warnings).append(item)
            continue
        if item.feed_guid and (
            not same_url(first_url.setdefault(item.article_id, item.url), item.url)
            or guid_taken(store, item.article_id, item.url)
        ):
            logger.info("%s: its guid %r names another story", item.origin, item.article_id)
            item = replace(item, article_id=make_article_id(None, item.url, "", "", ""))
        earlier = first_origin.setdefault(item.article_id, item.origin)
        if earlier != item.origin:
            report.warnings.append(
                InputProblem(
                    item.origin,
                    f"same article id {item.article_id!r} as {earlier}; the last one is stored",
                    skipped=False,
                )
            )
            shadowed = batch.pop(item.article_id, None)
            if shadowed is not None and shadowed.source_file:
                run.shadowed.append(shadowed)
        batch[item.article_id] = item
        if len(batch) >= batch_articles:
            run.flush(batch)
    run.flush(batch)
    report.seconds = time.perf_counter() - started
    logger.info(
        "Ingested %d articles (%d new, %d updated, %d unchanged), %d chunks, %d failed, %.1f s",
        report.articles,
        report.new,
        report.updated,
        report.unchanged,
        report.chunks,
        report.failed,
        report.seconds,
    )
    return report
