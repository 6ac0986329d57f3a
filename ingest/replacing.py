"""Which stored articles a batch of the ingest takes the place of.

An article keeps its id while its input names the same id or url, or for a one-article file the
same path. It takes another id when its file is one stored before files were known by path (the
article's `replaces`), when its file drops the `id:` or `url:` it named or names another id for
the same page, or when the file is renamed or moved. `replaced_articles` finds the stored
versions under the old ids, which the ingest deletes once the new ones are written. A file
retires only the version it wrote itself (`vectorstore.article_files` keeps its content hash): a
story that a feed, a dump or another file has written since stays, as does an id that another
input of the batch or another file names. A file saved over with another page (another url) is
another article.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.article import Article, file_article_id
from vectorstore.article_files import ArticleFiles, FileRecord
from vectorstore.registry import ArticleRegistry, normalize_url


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


Options = dict[str, list[tuple[str, str]]]
"""`{old id: [(new id, the version of old it may replace: its content hash, "" for any)]}`."""


def _same_page(registry: ArticleRegistry, old: str, article: Article) -> bool:
    """Whether the stored article `old` has the article's url (`normalize_url`): the file
    changed the id it names for one page (an `id:` added or dropped, http to https)."""
    row = registry.get(old) if article.url else None
    return row is not None and normalize_url(row.url) == normalize_url(article.url)


def _earlier_versions(
    registry: ArticleRegistry,
    files: ArticleFiles,
    batch: Batch,
    content_hash: Callable[[Article], str],
) -> tuple[Options, list[str]]:
    """The versions that files of the batch wrote under another id: the file now names no id
    or url, or another id for the same page; or it was renamed or moved (its content, written
    by a file that is gone). Also the gone files, whose rows the new ones take over."""
    held = registry.state_of(record[1] for record in batch.before.values())
    earlier: Options = {}
    moved: dict[str, Article] = {}
    for article in batch.from_files:
        record = batch.before.get(article.source_file)
        stored = record is not None and held.get(record[1], ("",))[0] == record[2]
        if record is None or not stored or record[2] != content_hash(article):
            moved[content_hash(article)] = article  # new here, or changed: a renamed file?
        if record is None or not stored or record[1] == article.article_id:
            continue
        if article.article_id == file_article_id(article.source_file) or _same_page(
            registry, record[1], article
        ):
            earlier.setdefault(record[1], []).append((article.article_id, record[2]))
    gone: list[str] = []
    for path, old, written in files.still_stored(moved) if moved else ():
        if not Path(path).exists():
            earlier.setdefault(old, []).append((moved[written].article_id, written))
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
) -> tuple[dict[str, str], set[str], list[str]]:
    """`{old id: new id}` of the stored articles that the batch takes the place of (to delete
    once it is written),
    the new ids that take a place (counted updated), and the files gone meanwhile.

    `content_hash` is the hash the registry keeps for an article's version."""
    now = {a.article_id for a in batch.articles}
    options, gone = _earlier_versions(registry, files, batch, content_hash)
    for article in [*batch.articles, *batch.shadowed]:
        if article.replaces:
            options.setdefault(article.replaces, []).append((article.article_id, ""))
    options = {old: choices for old, choices in options.items() if old not in now}
    state = registry.state_of([*options, *(new for c in options.values() for new, _ in c)])
    retiring: dict[str, str] = {}
    for old, choices in options.items():
        # Several files may name the old id: the one that wrote the stored version retires it.
        for new, version in choices:
            if old in state and (not version or state[old][0] == version):
                retiring[old] = new
                break
    return retiring, set(retiring.values()) - set(state), gone
