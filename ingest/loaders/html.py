"""HTML pages (.html, .htm): main text and metadata with trafilatura; HTML fragments to text.

trafilatura finds the article body, title, publication date (from the page's markup only: no
guessing from the text), canonical url and site name. `fragment_to_text` turns the small HTML
snippets that feeds carry into plain text with paragraph breaks.

A page nested deeper than the HTML parser reads (libxml2 stops at 255 levels) is refused with that
reason rather than "no article text". trafilatura's own log lines (it logs ordinary outcomes such
as "discarding data" as warnings) are kept for `-vv`: the loader reports each page's problem once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.utils import load_html as parse_page

from ingest.article import Article, ArticleInputError, InputProblem, build_article
from ingest.loaders.reading import decode_text, nul_reason

logger = logging.getLogger(__name__)

# Markup outweighs text, but not by more than this on real pages; a page past it is not parsed,
# since parsing and extraction take about a second per MB (a 50 MB page would hold ingest up).
_HTML_PER_TEXT = 20
# libxml2's HTML parser stops at this depth (without XML_PARSE_HUGE); what lies deeper is lost.
_PARSER_DEPTH = 255
_CHATTY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext")

_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w-]+)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
    "table", "section", "article", "header", "footer", "figure", "figcaption", "pre", "hr",
}  # fmt: skip


def decode_html(data: bytes, origin: str, declared: str | None = None) -> str:
    """Page text: the declared charset (HTTP header or `<meta charset>`) when not UTF-8, else UTF-8.

    Raises:
        ArticleInputError: binary data, or bytes that are not valid in the page's encoding.
    """
    meta = _CHARSET.search(data[:4096])
    charset = (declared or (meta.group(1).decode("ascii") if meta else "utf-8")).lower()
    if charset.replace("-", "").replace("_", "") in ("utf8", "usascii", "ascii"):
        return decode_text(data, origin)
    if b"\x00" in data:
        raise ArticleInputError(origin, nul_reason(data, "an HTML page"))
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise ArticleInputError(origin, f"not valid {charset} text ({exc})") from exc


def _depth(root: lxml.html.HtmlElement) -> int:
    """How many levels of elements the tree has (the root is level 1)."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest


def _quiet_extractor() -> None:
    # Shown with -vv (debug); otherwise they are noise beside the loader's own one-line problem.
    level = logging.NOTSET if logger.isEnabledFor(logging.DEBUG) else logging.CRITICAL
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(level)


def read_html(
    data: bytes,
    origin: str,
    *,
    url: str | None = None,
    charset: str | None = None,
    max_chars: int | None = None,
) -> Iterator[Article | InputProblem]:
    """The article in an HTML page's bytes; `url` is its address when fetched (the page's
    canonical url wins over it), `charset` the encoding the server declared (else the page's own).

    Raises:
        ArticleInputError: the page is binary or undecodable, or no article text is found in it.
    """
    html = decode_html(data, origin, declared=charset)
    _quiet_extractor()
    if max_chars is not None and len(html) > max_chars * _HTML_PER_TEXT:
        raise ArticleInputError(
            origin,
            f"the HTML page is {len(html):,} characters, over the {max_chars * _HTML_PER_TEXT:,} "
            f"read for one article ({_HTML_PER_TEXT} x NEWSBOT_MAX_ARTICLE_CHARS): raise that "
            "setting to accept it",
        )
    latest = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    try:
        tree = parse_page(html)
        if tree is not None and _depth(tree) > _PARSER_DEPTH:
            raise ArticleInputError(
                origin,
                f"the HTML nests elements more than {_PARSER_DEPTH} levels deep, deeper than the "
                "parser reads: the page cannot be read whole",
            )
        doc = trafilatura.bare_extraction(
            tree if tree is not None else html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_images=False,
            date_extraction_params={
                "original_date": True,
                "extensive_search": False,
                "max_date": latest,
            },
        )
    except (ValueError, etree.LxmlError) as exc:
        raise ArticleInputError(origin, f"not a readable HTML page ({exc})") from exc
    text = getattr(doc, "text", None) if doc is not None else None
    if not text:
        raise ArticleInputError(origin, "no article text found in the HTML page")
    article, problems = build_article(
        origin=origin,
        text=text,
        title=getattr(doc, "title", None),
        url=getattr(doc, "url", None) or url,
        source=getattr(doc, "sitename", None),
        published=getattr(doc, "date", None),
        max_chars=max_chars,
    )
    yield article
    yield from problems


def fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML snippet, a paragraph per block element; plain text stays as is."""
    if "<" not in fragment:
        return fragment
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    for unwanted in [e for e in root.iter("script", "style") if e.getparent() is not None]:
        unwanted.drop_tree()
    for element in root.iter():
        if element.text:
            element.text = _WHITESPACE.sub(" ", element.text)
        if element.tail:
            element.tail = _WHITESPACE.sub(" ", element.tail)
        if isinstance(element.tag, str) and element.tag in _BLOCK_TAGS:
            element.text = "\n\n" + (element.text or "")
            element.tail = "\n\n" + (element.tail or "")
    return str(root.text_content())
