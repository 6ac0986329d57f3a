"""The article record that loaders produce, its id rules, and the problems loaders report.

An `Article` is built only through `build_article`, which cleans the text, picks the id (the input's
own id; else a hash of the normalised url; else of source+title+text), reads the publication date
(never invented) and computes the content hash the store uses to skip unchanged articles.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ingest.cleaning import clean_field, clean_text, no_lone_surrogates
from ingest.dates import DateError, parse_published
from newsbot.errors import InputError
from vectorstore.records import ArticleMeta
from vectorstore.registry import without_tracking

_TITLE_MAX = 150


@dataclass(frozen=True)
class Article(ArticleMeta):
    """One news article, as loaded and cleaned; `text` is what chunk offsets point into, `origin`
    where it came from ("path", "path:line" or URL)."""

    text: str
    origin: str
    replaces: str = ""
    """An id this article was stored under before and takes the place of (`keyed_by_file`)."""
    feed_guid: bool = False
    """Its id is a feed's guid, unique within that feed only ("1"): held by a story with
    another link, it names another article (`ingest.pipeline.guid_taken`)."""
    source_file: str = ""
    """The full path of the one-article file it was read from (`keyed_by_file`); "" else."""

    def to_meta(self) -> ArticleMeta:
        """The part of the article the store keeps besides its chunks."""
        return ArticleMeta(*(getattr(self, f.name) for f in fields(ArticleMeta)))


@dataclass(frozen=True)
class InputProblem:
    """Something wrong with an input: `skipped` means no article was stored for it.

    `origin` is the path, `path:line` or URL; `reason` says what is wrong, for a person to fix.
    """

    origin: str
    reason: str
    skipped: bool = True


class ArticleInputError(InputError):
    """An input (a file, a line, a URL) that yields no article; carries where and why."""

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason

    def problem(self) -> InputProblem:
        """This error as a reportable problem."""
        return InputProblem(self.origin, self.reason, skipped=True)


def too_long(length: int, max_chars: int) -> str:
    """Why an article over the per-article limit is refused, and how to accept it."""
    return (
        f"the article text is {length:,} characters, over the {max_chars:,}-character limit per "
        "article: split it, or raise NEWSBOT_MAX_ARTICLE_CHARS"
    )


def normalise_url(url: str) -> str:
    """The url with lower-case scheme and host, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    query = without_tracking(parts.query)
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def same_url(a: str, b: str) -> bool:
    """Whether two links name one page (`normalise_url`)."""
    return normalise_url(a) == normalise_url(b)


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def make_article_id(own_id: str | None, url: str, source: str, title: str, text: str) -> str:
    """The input's own id if it has one; else a hash of the normalised url; else of the content."""
    if own_id and own_id.strip():
        return own_id.strip()
    if url:
        return _sha("url", normalise_url(url))[:24]
    return _sha("content", source, title, text)[:24]


def link(url: str | None) -> str:
    """An input's url as it is stored and shown: one line, no user name or password (a link
    shown under every answer citing it must not hold them)."""
    url = clean_field(url or "")
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # no URL ("http://[oops@x"): kept as given
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def named_article_id(own_id: str | None, url: str | None) -> str | None:
    """The id an input names by its own id or url, as `build_article` makes it (None without
    either): a reader can tell two places of one article apart before building either."""
    own_id = no_lone_surrogates(own_id or "").strip()
    url = link(url)
    return make_article_id(own_id, url, "", "", "") if own_id or url else None


def file_article_id(full_path: str) -> str:
    """The id of an article known by its file's full path (`keyed_by_file`)."""
    return _sha("file", full_path)[:24]


def keyed_by_file(article: Article, path: Path) -> Article:
    """An article of a one-article file that names no id and no url, known by its file instead
    of its content: an edited file then replaces its article instead of adding one. It
    `replaces` the content id such an article had before (stores made before this rule). A
    file that names an id or url is known by those; it `replaces` the article its file was
    known by before they were added (front matter given a `url:` later). Its `source_file`
    lets the ingest find the version stored before an id or url was dropped, or the file
    renamed (`vectorstore.article_files`)."""
    content_id = make_article_id(None, "", article.source, article.title, article.text)
    full_path = str(path.resolve())
    file_id = file_article_id(full_path)
    if article.url or article.article_id != content_id:
        return replace(article, replaces=file_id, source_file=full_path)
    return replace(article, article_id=file_id, replaces=content_id, source_file=full_path)


def source_from_url(url: str) -> str:
    """The site name a url implies: its host without `www.` ("" without a url)."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def fallback_title(text: str, url: str) -> str:
    """A title for an input that has none: the url's slug, else the text's first line."""
    slug = ""
    if url:
        segments = [s for s in urlsplit(url).path.split("/") if s and s not in ("index.html",)]
        if segments:
            slug = re.sub(r"\.(s?html?|php|aspx?)$", "", segments[-1])
    if re.search(r"[A-Za-z]{3,}.*[-_].*[A-Za-z]{3,}", slug):
        words = re.sub(r"[-_]+", " ", slug).strip()
        return words[:1].upper() + words[1:]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > _TITLE_MAX:
        first = first[:_TITLE_MAX].rsplit(" ", 1)[0] + "…"
    return first


def build_article(
    *,
    origin: str,
    text: str | None,
    title: str | None = None,
    url: str | None = None,
    source: str | None = None,
    published: object = None,
    own_id: str | None = None,
    today: date | None = None,
    max_chars: int | None = None,
) -> tuple[Article, list[InputProblem]]:
    """Clean and validate one article's fields into an `Article`.

    Returns the article and any non-fatal problems (an unreadable or implausible date, which is
    dropped rather than guessed).

    Raises:
        ArticleInputError: the text is longer than `max_chars` (checked before any cleaning, which
            on a 50 MB text alone takes half a minute), or has no text after cleaning.
    """
    if max_chars is not None and len(text or "") > max_chars:
        raise ArticleInputError(origin, too_long(len(text or ""), max_chars))
    body = clean_text(text or "")
    if not body:
        raise ArticleInputError(origin, "no article text (the text is missing or empty)")
    problems: list[InputProblem] = []
    # Control and bidi characters go: these fields are printed on terminals (`newsbot list`).
    clean_url = link(url)
    clean_source = clean_field(source or "") or source_from_url(clean_url)
    clean_title = clean_field(title or "") or fallback_title(body, clean_url)
    try:
        iso_date = parse_published(published, today=today)
    except DateError as exc:
        iso_date = None
        problems.append(InputProblem(origin, str(exc), skipped=False))
    article_id = named_article_id(own_id, clean_url) or make_article_id(
        None, "", clean_source, clean_title, body
    )
    content_hash = _sha(clean_title, body, clean_url, clean_source, iso_date or "")
    article = Article(
        article_id=article_id,
        title=clean_title,
        url=clean_url,
        source=clean_source,
        published=iso_date,
        text=body,
        origin=origin,
        content_hash=content_hash,
    )
    return article, problems
