"""RSS and Atom feeds (.xml, .rss, .atom) with feedparser: each entry is an article.

An entry's full content is used when the feed carries it, else its summary; HTML in either becomes
plain text. The feed's title is the entry's source unless the entry names its own. A feed that is
not well-formed XML is read as far as feedparser can, with a warning that entries may be missing.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from typing import Any
from xml.sax import SAXException

import feedparser

from ingest.article import Article, ArticleInputError, InputProblem, build_article, make_article_id
from ingest.dates import DateError, ImplausibleDate, parse_published
from ingest.loaders.html import fragment_to_text
from ingest.loaders.reading import nul_reason


def entry_text(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    body = max(contents, key=len) if contents else entry.get("summary", "")
    return fragment_to_text(str(body or ""))


def entry_title(entry: Any) -> str:
    """The entry's title as text: an Atom `type="html"` title loses its tags and entities."""
    title = str(entry.get("title", "") or "")
    detail = entry.get("title_detail") or {}
    if detail.get("type") in ("text/html", "application/xhtml+xml"):
        return " ".join(fragment_to_text(title).split())
    return title


def entry_source(entry: Any, feed_title: str) -> str:
    source = entry.get("source")
    if isinstance(source, dict) and source.get("title"):
        return str(source["title"])
    return feed_title


def entry_published(entry: Any) -> object:
    """The entry's date as written when it can be read (so an evening in New York stays that
    day), else feedparser's reading of it.

    feedparser gives UTC, reads a year `0000` as 2000 and reports a bad date as a `struct_time`;
    reading the text itself first keeps the publisher's day, and lets the warning quote what the
    feed says instead of storing a wrong date.
    """
    for key in ("published", "updated"):
        raw = entry.get(key)
        parsed = entry.get(f"{key}_parsed")
        if isinstance(raw, str) and raw.strip():
            try:
                parse_published(raw)
            except ImplausibleDate:
                return raw
            except DateError:
                pass  # a format only feedparser knows: its reading stands
            else:
                return raw  # its own offset kept: feedparser's reading is in UTC, a day off
        if parsed is not None:
            return parsed
        if raw:
            return raw
    return None


def read_feed(
    data: bytes,
    origin: str,
    *,
    max_chars: int | None = None,
    url: str | None = None,
    **_: object,
) -> Iterator[Article | InputProblem]:
    """The entries of an RSS/Atom document as articles; origins are `origin#N` (N from 1).
    `url` is the feed's address when fetched: the base of relative entry links.

    Raises:
        ArticleInputError: the data is not a feed (no entries and a parse error, or no channel).
    """
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ArticleInputError(origin, nul_reason(data, "an RSS/Atom feed"))
    # A stream: bytes could be taken for a path. The feed's address resolves relative links.
    headers = {"content-location": url} if url else {}
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    entries = parsed.get("entries", [])
    if not entries:
        if parsed.get("bozo"):
            problem = parsed.get("bozo_exception")
            raise ArticleInputError(origin, f"not a readable RSS/Atom feed ({problem})")
        if not parsed.get("version"):
            raise ArticleInputError(origin, "not an RSS/Atom feed (no <rss> or <feed> element)")
        raise ArticleInputError(origin, "the feed has no entries")
    feed_title = str(parsed.get("feed", {}).get("title", ""))
    for number, entry in enumerate(entries, start=1):
        entry_origin = f"{origin}#{number}"
        link = str(entry.get("link", "") or "")
        guid = str(entry.get("id", "") or "")
        # A guid that is just the link adds nothing; the url hash is the id then.
        own_id = guid if guid and guid != link and "://" not in guid else None
        # feedparser also sets guidislink when an id merely comes before a real <link>.
        taken = entry.get("guidislink") and link == guid
        if taken and not link.lower().startswith(("http://", "https://")):
            # feedparser's stand-in for a missing link, an id ("tag:..."), is no address to show;
            # the entry keeps the id it was stored under when it was taken for one.
            link, own_id = "", make_article_id(None, guid, "", "", "")
        try:
            article, problems = build_article(
                origin=entry_origin,
                text=entry_text(entry),
                title=entry_title(entry),
                url=link,
                source=entry_source(entry, feed_title),
                published=entry_published(entry),
                own_id=own_id,
                max_chars=max_chars,
            )
        except ArticleInputError as exc:
            yield exc.problem()
            continue
        # A guid names the entry within its feed only (`ingest.pipeline.guid_taken`).
        yield dataclasses.replace(article, feed_guid=True) if own_id and link else article
        yield from problems
    if isinstance(parsed.get("bozo_exception"), SAXException):
        # feedparser's lenient parser read what it could of broken XML: an entry may be missing
        # or run into the next, and no entry's own problem would say so.
        reason = f"not well-formed XML ({parsed['bozo_exception']}): entries may be missing"
        yield InputProblem(origin, reason, skipped=False)
