"""Turn answers and sources into safe chat markup, with citations that link to their sources.

Everything that comes from articles (titles, passages, urls, sources) or from the model is escaped
here before Gradio renders it. Only the sources' own `http://` and `https://` urls become links;
a link or URL in the model's text is made plain text (`bot.answer.links.plain_links`: an article
can tell the model to add one), and a non-http(s) url (`javascript:`, `data:`, ...) is never a
link. Gradio's own HTML sanitizer runs afterwards as
a second line of defence, but nothing here relies on it.

A finished answer's `[n]` markers are in-page links (`#nb-<key>-<n>`) to the matching item of its
Sources block, where the spans of the passage the answer rests on are marked: the answer check's
`Source.quotes`, never worked out again here.
The key is a hash of the answer, its timings and its sources, so it is the same whenever one
answer is rendered and differs between answers (even to one question: their timings differ);
`static/newsbot.css` highlights the linked item.

A source with no web address (an article ingested from a file) links to its stored text in the
app (`bot.web.article_page`: a relative `article/<id>`, by id, never a file path). Each source is
a heading line (title, source, date) and the passage below it, two blocks; a passage that
starts with the title's line is shown without it, so the headline never runs into the text.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from urllib.parse import quote

from bot.answer.links import plain_links
from bot.answer.result import AnswerResult, Source
from vectorstore.records import RelatedArticle

PASSAGE_CHARS = 2000
"""Longest passage quoted under an answer (a chunk is ~200 tokens); longer ones end in "…"."""

# A marker `[n]` stays as written (`cite_links` links it) unless what follows makes it a link's
# label or a reference definition ("[1](", "[1]:"; Markdown allows no space between).
_KEPT_MARKER = re.compile(r"\[\d{1,3}\](?![(:])")
_MARKDOWN_SIGNS = re.compile(r"[\\\[\]]")
_ESCAPED_SIGN = re.compile(r"\\([\\\[\]])")
_SPACES = re.compile(r"\s+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]|$)")
# A checked answer's markers are `[n]` (one number each); in escaped text they are unchanged.
_CITE = re.compile(r"\[(\d{1,3})\]")
CITE_LINK = re.compile(r'<a class="nb-cite" href="#[^"]*">(\[\d{1,3}\])</a>')
"""A citation link as `cite_links` writes it (model text cannot hold one: it is escaped)."""


ARTICLE_PATH = "article"
"""Where the app shows a stored article (`bot.web.article_page`), under the chat page and the
widget: `article/<article id>`."""


def article_path(article_id: str) -> str:
    """The address of an article's stored text, relative to the chat page or the widget."""
    return f"{ARTICLE_PATH}/{quote(article_id, safe='')}"


def is_web_url(url: str) -> bool:
    """True for absolute http(s) urls, the only ones rendered as clickable links."""
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://")) and len(lowered) > len("https://")


def short_date(published: str | None) -> str:
    """An ISO date or datetime as its date part ("2025-06-05"); anything else unchanged."""
    value = (published or "").strip()
    return value[:10] if _ISO_DATE.match(value) else value


_MARKDOWN_SIGNS_IN_TEXT = re.compile(r"[\\`*\[\]]")


def markdown_text(text: str) -> str:
    """Text from outside (a file name, a URL, a server's reason phrase, an error) as Markdown
    that shows it as written: HTML escaped, and the signs Markdown builds links, images, code
    and emphasis from escaped (`[sign in](https://…)` in a 404's reason phrase stays text). Dots,
    slashes and underscores stay: Markdown shows a URL it links by itself with its backslashes.
    """
    return _MARKDOWN_SIGNS_IN_TEXT.sub(r"\\\g<0>", html.escape(text, quote=False))


def answer_markdown(text: str) -> str:
    """The model's answer as Markdown that can hold no HTML, link or image: its links and URLs
    are made plain text (`plain_links`), and then every bracket but a citation marker's is
    escaped, so no link of any Markdown form can be built from what is left (only the `[n]` that
    `cite_links` adds are links)."""
    escaped = html.escape(plain_links(text), quote=False)
    parts, start = [], 0
    for marker in _KEPT_MARKER.finditer(escaped):
        parts += [_MARKDOWN_SIGNS.sub(r"\\\g<0>", escaped[start : marker.start()]), marker[0]]
        start = marker.end()
    return "".join([*parts, _MARKDOWN_SIGNS.sub(r"\\\g<0>", escaped[start:])])


def answer_key(result: AnswerResult) -> str:
    """A short id for one answer's citation anchors: the same for the same answer and sources."""
    digest = hashlib.sha256()
    for part in (
        result.question,
        result.answer,
        *(s.article_id + s.passage for s in result.sources),
    ):
        digest.update(part.encode("utf-8", "replace") + b"\0")
    return digest.hexdigest()[:10]


def source_anchor(key: str, n: int) -> str:
    """The element id of source `n` in the Sources block of the answer with `key`."""
    return f"nb-{key}-{n}"


def cite_links(markdown: str, key: str, numbers: Sequence[int]) -> str:
    """`answer_markdown`'s output with each `[n]` of a listed source made a link to it."""
    known = set(numbers)

    def link(match: re.Match[str]) -> str:
        n = int(match[1])
        if n not in known:
            return match[0]
        return f'<a class="nb-cite" href="#{source_anchor(key, n)}">[{n}]</a>'

    return _CITE.sub(link, markdown)


def plain_answer(markdown: str) -> str:
    """A rendered answer back to the text the model wrote (citation links as `[n]`)."""
    return html.unescape(_ESCAPED_SIGN.sub(r"\1", CITE_LINK.sub(r"\1", markdown)))


def result_markdown(result: AnswerResult) -> str:
    """A finished answer: escaped Markdown whose `[n]` link to its sources."""
    numbers = [source.n for source in result.sources]
    return cite_links(answer_markdown(result.answer), answer_key(result), numbers)


def _one_line(text: str, limit: int) -> str:
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def passage_html(passage: str, quotes: Sequence[tuple[int, int]] = ()) -> str:
    """The passage on one line (at most PASSAGE_CHARS), escaped, its `quotes` spans in <mark>."""
    merged: list[list[int]] = []  # overlapping spans as one
    for start, end in sorted(quotes):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    # Each span is fenced by two control characters (none is left in the text) that outlive
    # `_one_line` and escaping, then become the tags.
    text = passage.translate({0: " ", 1: " "})
    for start, end in reversed(merged):
        text = f"{text[:start]}\0{text[start:end]}\1{text[end:]}"
    shown = html.escape(_one_line(text, PASSAGE_CHARS))
    shown += "\1" if shown.count("\0") > shown.count("\1") else ""
    return shown.replace("\0", "<mark>").replace("\1", "</mark>")


def _heading(title: str, url: str, article_id: str = "") -> str:
    """An article's title, escaped: a link to its url when that is http(s), else (given its
    id) a link to its stored text in the app, with any other url beside it as text."""
    shown = html.escape(_one_line(title, 300) or "(untitled)")
    url = url.strip()
    if is_web_url(url):
        return (
            f'<a href="{html.escape(url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{shown}</a>'
        )
    if article_id:
        heading = (
            f'<a class="nb-stored" href="{html.escape(article_path(article_id), quote=True)}" '
            f'target="_blank" rel="noopener noreferrer" title="The article as stored">{shown}</a>'
        )
    else:
        heading = f"<strong>{shown}</strong>"
    if url:
        heading += f' <span class="nb-url">{html.escape(_one_line(url, 200))}</span>'
    return heading


def _meta(source: str, published: str | None) -> str:
    """ "source · date", escaped ("" when neither is known)."""
    details = [html.escape(_one_line(part, 120)) for part in (source, short_date(published))]
    return " · ".join(part for part in details if part)


def _without_title(
    passage: str, title: str, quotes: Sequence[tuple[int, int]]
) -> tuple[str, list[tuple[int, int]]]:
    """The passage without a headline that repeats the title shown above it (an article's
    first chunk often starts with it), its quote spans moved to match. A headline is the title
    on a line of its own, or followed by a new sentence (a capital, a digit: passages made of
    chosen sentences join lines with a space); the title's words going on a sentence stay."""
    head = title.strip()
    body = passage.lstrip()
    start = len(passage) - len(body)
    after = body[len(head) :]
    own_line = after.startswith(("\n", "\r"))
    following = after.lstrip()[:1]
    new_sentence = after[:1].isspace() and (following.isupper() or following.isdigit())
    if not head or not body.startswith(head) or not (own_line or new_sentence):
        return passage, list(quotes)
    rest = passage[start + len(head) :]
    cut = start + len(head) + len(rest) - len(rest.lstrip())
    if cut >= len(passage):
        return passage, list(quotes)
    moved = [(max(begin - cut, 0), end - cut) for begin, end in quotes if end > cut]
    return passage[cut:], moved


def source_html(source: Source, key: str = "") -> str:
    """One numbered source: linked title, source name, date and the passage with its quotes
    marked, all escaped; with the answer's `key`, the target of that answer's `[n]` links."""
    heading = _heading(source.title, source.url, source.article_id)
    meta = _meta(source.source, source.published)
    passage = passage_html(*_without_title(source.passage, source.title, source.quotes))
    anchor = f' id="{source_anchor(key, source.n)}"' if key else ""
    # The heading line and the passage are two blocks (apart in the page's text too); no line
    # break between them: the list stays one HTML block that Markdown leaves alone.
    return (
        f'<li value="{source.n}" class="nb-source"{anchor}><div class="nb-source-head">{heading}'
        + (f' <span class="nb-meta">{meta}</span>' if meta else "")
        + f"</div><blockquote>{passage}</blockquote></li>"
    )


def sources_html(sources: Sequence[Source], key: str = "") -> str:
    """The sources as one HTML list with no blank lines (Markdown leaves it alone); "" if none;
    `key` as for `source_html`."""
    if not sources:
        return ""
    items = "".join(source_html(source, key) for source in sources)
    return f'<ol class="nb-sources">{items}</ol>'


def result_sources_html(result: AnswerResult) -> str:
    """A finished answer's Sources block: link targets for its `[n]`, quotes marked."""
    return sources_html(result.sources, answer_key(result))


def related_html(related: Sequence[RelatedArticle]) -> str:
    """More on the story: a list of linked titles with source and date, all escaped; "" if
    none."""
    if not related:
        return ""
    items = []
    for article in related:
        meta = _meta(article.source, article.published)
        heading = _heading(article.title, article.url, article.article_id)
        items.append(
            f'<li class="nb-related-item">{heading}'
            + (f' <span class="nb-meta">{meta}</span>' if meta else "")
            + "</li>"
        )
    return f'<ul class="nb-related">{"".join(items)}</ul>'
