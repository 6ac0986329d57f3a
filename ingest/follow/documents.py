"""A followed document read into entries: an RSS/Atom feed, a news sitemap (`<news:news>`), a plain
sitemap, or a sitemap index (which names more sitemaps).

Feeds are read with feedparser, as `ingest.loaders.feeds` reads them for `newsbot ingest`, and
their entries carry text (the feed's content or summary). Sitemaps carry only links (and, in a
news sitemap, a title, a date and the publication's name): their articles are read from the
pages. XML is parsed without DTDs, entities or network access, so a hostile sitemap can neither
expand nor reach anything. A gzipped sitemap (`sitemap.xml.gz`) is unpacked under the size cap.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import feedparser
from lxml import etree

from ingest.article import ArticleInputError
from ingest.loaders.feeds import entry_published, entry_source, entry_text, entry_title
from ingest.loaders.reading import gunzip_capped, nul_reason

_SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


@dataclass(frozen=True)
class Entry:
    """One entry of a followed document: `key` knows it across polls (its guid, else its link)."""

    key: str
    link: str
    title: str = ""
    text: str = ""
    published: object = None
    source: str = ""
    own_id: str | None = None
    """The entry's own article id (a guid that is not a URL), as `read_feed` takes it."""


@dataclass(frozen=True)
class Document:
    """What a followed URL holds: its `kind`, its entries (newest first when dates say so), and
    for a sitemap index, the sitemaps it names (with their last change, when given)."""

    kind: str
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[tuple[str, str]] = field(default_factory=list)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _sitemap(root: etree._Element) -> Document:
    ns = {"s": _SITEMAP, "n": _NEWS}
    if _local(root.tag) == "sitemapindex":
        children = [
            (_text(item, f"{{{_SITEMAP}}}loc"), _text(item, f"{{{_SITEMAP}}}lastmod"))
            for item in root.iterfind("s:sitemap", ns)
        ]
        return Document("sitemap index", sitemaps=[(loc, mod) for loc, mod in children if loc])
    entries: list[Entry] = []
    news_seen = False
    for item in root.iterfind("s:url", ns):
        link = _text(item, f"{{{_SITEMAP}}}loc")
        if not link:
            continue
        news = item.find("n:news", ns)
        news_seen = news_seen or news is not None
        published = _text(news, f"{{{_NEWS}}}publication_date") or _text(
            item, f"{{{_SITEMAP}}}lastmod"
        )
        entries.append(
            Entry(
                key=link,
                link=link,
                title=_text(news, f"{{{_NEWS}}}title"),
                published=published or None,
                source=_text(news, f"{{{_NEWS}}}publication/{{{_NEWS}}}name"),
            )
        )
    # Newest first, so a capped poll reads the latest articles (ISO dates sort as text).
    entries.sort(key=lambda e: str(e.published or ""), reverse=True)
    return Document("news sitemap" if news_seen else "sitemap", entries)


def _feed(data: bytes, origin: str) -> Document:
    # Its address is the base of relative entry links ("/news/a.html").
    parsed = feedparser.parse(io.BytesIO(data), response_headers={"content-location": origin})
    items = parsed.get("entries", [])
    if not items and not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        why = f" ({problem})" if problem else ""
        raise ArticleInputError(
            origin, f"not an RSS/Atom feed or a sitemap{why}: follow a feed or sitemap URL"
        )
    feed_title = str(parsed.get("feed", {}).get("title", ""))
    entries = []
    for item in items:
        link = str(item.get("link", "") or "").strip()
        guid = str(item.get("id", "") or "").strip()
        key = guid or link
        if not key:
            continue  # nothing to know it by next time: it would come back as new every poll
        entries.append(
            Entry(
                key=key,
                link=link,
                title=entry_title(item),
                text=entry_text(item),
                published=entry_published(item),
                source=entry_source(item, feed_title),
                own_id=guid if guid and guid != link and "://" not in guid else None,
            )
        )
    return Document("feed", entries)


def read_document(data: bytes, origin: str, max_bytes: int) -> Document:
    """The entries of a fetched feed or sitemap.

    Raises:
        ArticleInputError: the data is neither a feed nor a sitemap (or is binary, or a gzip
            that does not unpack within `max_bytes`).
    """
    if data[:2] == b"\x1f\x8b":
        data = gunzip_capped(data, origin, max_bytes)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ArticleInputError(origin, nul_reason(data, "a feed or sitemap"))
    head = data[:4096].lower()
    if b"<urlset" in head or b"<sitemapindex" in head:
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise ArticleInputError(origin, f"not a readable sitemap ({exc})") from exc
        if _local(root.tag) in ("urlset", "sitemapindex"):
            return _sitemap(root)
    return _feed(data, origin)
