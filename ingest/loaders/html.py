"""HTML pages (.html, .htm): main text and metadata with trafilatura; HTML fragments to text.

trafilatura finds the article body, title, publication date (from the page's markup only: no
guessing from the text), canonical url and site name. `fragment_to_text` turns the small HTML
snippets that feeds carry into plain text with paragraph breaks.

The source (site name) is, in order: `<meta property="og:site_name">`; the site suffix of the
page's `<title>` ("Headline | Site", "Headline - Site", "Headline — Site": the part after the last
separator), taken only when the rest is the headline the page states elsewhere (og:title,
twitter:title, an `<h1>`), or the suffix is the og:site_name or spells the page's domain; the
publisher the page's other metadata names (trafilatura: publisher meta, JSON-LD); else the domain
of the page's url (`build_article`). trafilatura alone takes a `<title>` part as the site name only
when it holds a dot ("example.com", but also "St. Louis votes"), and when nothing else names the
headline it keeps the `<title>`'s first part ("Pakistan - US talks end with deal" becomes
"Pakistan"): here the title is the whole `<title>` unless its suffix is a confirmed site name.

A page nested deeper than the HTML parser reads (libxml2 stops at 255 levels) is refused with that
reason rather than "no article text". trafilatura's own log lines (it logs ordinary outcomes such
as "discarding data" as warnings) are kept for `-vv`: the loader reports each page's problem once.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.metadata import examine_title_element
from trafilatura.utils import load_html as parse_page

from ingest.article import (
    Article,
    ArticleInputError,
    InputProblem,
    build_article,
    source_from_url,
)
from ingest.loaders.reading import decode_text, nul_reason

logger = logging.getLogger(__name__)

# Markup outweighs text, but not by more than this on real pages; a page past it is not parsed,
# since parsing and extraction take about a second per MB (a 50 MB page would hold ingest up).
_HTML_PER_TEXT = 20
# libxml2's HTML parser stops at this depth (without XML_PARSE_HUGE); what lies deeper is lost.
_PARSER_DEPTH = 255
_CHATTY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext")

# A site suffix: the part after the last of these separators (spaces around; a colon is not one,
# "Site: Headline" names the site first).
_SEPARATORS = (
    "|\u2013\u2014\u00b7\u2022\u00bb"  # bar, en dash, em dash, middle dot, bullet, guillemet
)
_TITLE_SUFFIX = re.compile(
    rf"^(?P<head>.+)\s+(?:[-{_SEPARATORS}]|::)\s+(?P<tail>[^{_SEPARATORS}]+?)$"
)
_SITE_NAME_MAX = 60
_HEADLINE_META = (
    './/head/meta[@property="og:title"]/@content',
    './/head/meta[@name="twitter:title"]/@content',
    './/head/meta[@property="twitter:title"]/@content',
)
_OG_SITE_NAME = './/head/meta[@property="og:site_name"]/@content'
_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w-]+)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
    "table", "section", "article", "header", "footer", "figure", "figcaption", "pre", "hr",
}  # fmt: skip


def decode_html(data: bytes, origin: str, declared: str | None = None) -> str:
    """Page text: by its byte-order mark, else the declared charset (HTTP header or `<meta
    charset>`) when not UTF-8, else UTF-8 (the order of the HTML standard's encoding sniffing).

    Raises:
        ArticleInputError: binary data, or bytes that are not valid in the page's encoding.
    """
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(data, origin)
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
    if tree is not None and _only_links(text, tree):
        # trafilatura falls back on whatever text a page has: a menu or an index of links.
        raise ArticleInputError(
            origin, "no article text found in the HTML page: it holds only links (a menu or index)"
        )
    page_url = getattr(doc, "url", None) or url
    title, source = _title_and_source(
        tree, getattr(doc, "title", None), getattr(doc, "sitename", None), page_url
    )
    article, problems = build_article(
        origin=origin,
        text=text,
        title=title,
        url=page_url,
        source=source,
        published=getattr(doc, "date", None),
        max_chars=max_chars,
    )
    yield article
    yield from problems


def _only_links(text: str, tree: lxml.html.HtmlElement) -> bool:
    """Whether every line of the extracted `text` is the whole text of one of the page's links."""
    labels = {_squash(link.text_content()) for link in tree.iter("a")}
    lines = [_squash(line) for line in text.splitlines() if line.strip()]
    return bool(lines) and all(line in labels for line in lines)


def _squash(value: str) -> str:
    """A name compared loosely: lower case, letters and digits only."""
    return re.sub(r"\W+", "", value.casefold())


def _names_domain(name: str, url: str | None) -> bool:
    """Whether a site name spells the url's domain: a label of its host before the top-level one,
    whole ("Harbour Gazette", harbourgazette.example) or as its first word ("BBC News", bbc.co.uk).
    """
    squashed = _squash(name)
    labels = [_squash(label) for label in source_from_url(url or "").split(".")[:-1]]
    return any(len(label) >= 3 and squashed.startswith(label) for label in labels)


def _url_site(url: str | None) -> str:
    """trafilatura's site name for a url it has nothing better for: the host with its port."""
    return re.sub(r"^(?:www|w\d+)\.", "", urlsplit(url or "").netloc.lower())


def _title_and_source(
    tree: lxml.html.HtmlElement | None,
    extracted_title: str | None,
    extracted_site: str | None,
    url: str | None,
) -> tuple[str | None, str | None]:
    """The headline and the site name of a page (see the module's docstring for the order).

    `extracted_title` and `extracted_site` are trafilatura's readings, `url` the page's url.
    """
    if tree is None:
        return extracted_title, extracted_site
    page_title, *split = examine_title_element(tree)
    og_site = next((str(v).strip() for v in tree.xpath(_OG_SITE_NAME) if str(v).strip()), "")
    headlines = [str(v) for path in _HEADLINE_META for v in tree.xpath(path)]
    headlines += [str(h1.text_content()) for h1 in tree.iter("h1")]
    if extracted_title and extracted_title not in split:  # not trafilatura's cut of <title>
        headlines.append(extracted_title)
    known = {_squash(h) for h in headlines if _squash(h)}
    title = extracted_title
    cuts = {_squash(page_title), *(_squash(part) for part in split if part)}
    suffix = ""
    if match := _TITLE_SUFFIX.match(page_title):
        head, tail = match["head"].strip(), match["tail"].strip()
        site_like = len(tail) <= _SITE_NAME_MAX and len(tail.split()) <= 8
        # The page's headline is the <title> less the suffix (and not the whole <title>).
        headline_less = _squash(head) in known and _squash(page_title) not in known
        named = _squash(tail) == _squash(og_site) or _names_domain(tail, url)
        if site_like and (headline_less or named):
            suffix = tail
            if not title or _squash(title) in cuts:  # the whole <title>, or trafilatura's cut
                title = head
    # No title, or trafilatura's cut of <title> at a separator nothing confirms: the whole <title>.
    cut = not title or (title in split and _squash(title) not in known)
    if not suffix and page_title and cut:
        title = page_title
    from_metadata = extracted_site or ""
    if (
        from_metadata in split
        or "://" in from_metadata
        or from_metadata.lower() in (source_from_url(url or ""), _url_site(url))
    ):
        from_metadata = ""  # trafilatura's reading of <title> or of the url: decided here instead
    return title, og_site or suffix or from_metadata or None


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
