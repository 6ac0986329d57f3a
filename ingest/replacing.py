"""Which stored articles a batch of the ingest takes the place of.

An article keeps its id while its input names the same id or url, or for a one-article file the
same path. It takes another id when its file is one stored before files were known by path (the
article's `replaces`), when its file drops the `id:` or `url:` it named, or when the file is
renamed or moved. `replaced_articles` finds the stored versions under the old ids, which the
ingest deletes once the new ones are written. A file retires only the version it wrote itself
(`vectorstore.article_files` keeps its content hash): a story that a feed, a dump or another file
has written since stays, as does an id that another input of the batch or another file names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.article import Article, file_article_id
from vectorstore.article_files import ArticleFiles, FileRecord
from vectorstore.registry import ArticleRegistry


@dataclass(frozen=True)
class Batch:
    """The articles a batch writes, those of files whose id another input took (`shadowed`,
    not written), and what each of their files wrote last (`before`, by path)."""

    articles: list[Article]
    shadowed: list[Article]
    before: dict[str, FileRecord]

    @property
    def from_files(self) -> list[Article]:
        """The batch's articles of one-article files, the shadowed ones too."""
        return [a for a in [*self.articles, *self.shadowed] if a.source_file]


def _earlier_versions(
    files: ArticleFiles, batch: Batch, content_hash: Callable[[Article], str]
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """`{old id: (new id, the content hash the file wrote under it)}` for files that dropped
    the `id:` or `url:` they named, or were renamed or moved (the same content, written by a
    file that is gone); and the gone files, whose rows the new ones take over."""
    earlier: dict[str, tuple[str, str]] = {}
    unknown: dict[str, Article] = {}
    for article in batch.from_files:
        record = batch.before.get(article.source_file)
        if record is None:
            unknown[content_hash(article)] = article
        elif article.article_id == file_article_id(article.source_file):
            earlier[record[1]] = (article.article_id, record[2])
    gone: list[str] = []
    for path, old, written in files.still_stored(unknown) if unknown else ():
        if old not in earlier and not Path(path).exists():
            earlier[old] = (unknown[written].article_id, written)
            gone.append(path)
    here = {a.source_file for a in batch.from_files}
    for path, old, _ in files.of_articles(earlier) if earlier else ():
        if path not in here and Path(path).exists():
            earlier.pop(old, None)  # two files that name one url: the other one's too
    return earlier, gone


def replaced_articles(
    registry: ArticleRegistry,
    files: ArticleFiles,
    batch: Batch,
    content_hash: Callable[[Article], str],
) -> tuple[list[str], set[str], list[str]]:
    """The stored articles that the batch takes the place of (to delete once it is written),
    the new ids that take a place (counted updated), and the files gone meanwhile.

    `content_hash` is the hash the registry keeps for an article's version."""
    now = {a.article_id for a in batch.articles}
    earlier, gone = _earlier_versions(files, batch, content_hash)
    # The id each replaces, with the version it may replace ("": any version).
    everyone = [*batch.articles, *batch.shadowed]
    replaced = {a.replaces: (a.article_id, "") for a in everyone if a.replaces} | earlier
    replaced = {old: new for old, new in replaced.items() if old not in now}
    state = registry.state_of([*replaced, *(new for new, _ in replaced.values())])
    retiring = [
        old
        for old, (_, version) in replaced.items()
        if old in state and (not version or state[old][0] == version)
    ]
    return retiring, {replaced[old][0] for old in retiring} - set(state), gone
