"""Plain-text and Markdown articles (.txt, .md).

A file may start with front matter between `---` lines (`title:`, `date:`, `source:`, `url:`, `id:`,
one `key: value` per line; any line ending). Without a title there, a Markdown file's first
`# heading` is the title (and is taken out of the text); otherwise the first line is the title and
stays in the text, as does a heading other than the front matter's title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.article import Article, InputProblem, build_article
from ingest.loaders.reading import decode_text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
# A `---` line, then `key: value` lines, never closed: front matter its writer forgot to close.
_UNCLOSED_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:[A-Za-z_][\w-]*[ \t]*:.*\n)+")
_HEADING = re.compile(r"\A\s*#{1,6}[ \t]+(.+?)[ \t#]*(?:\n|\Z)")

_ALIASES = {
    "title": "title",
    "headline": "title",
    "date": "published",
    "published": "published",
    "published_at": "published",
    "source": "source",
    "site": "source",
    "url": "url",
    "link": "url",
    "id": "id",
}


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """The front matter's known fields (by canonical name) and the text after it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # saved on Windows, or old Macs
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        field = _FIELD.match(line)
        if field and field.group(1).lower() in _ALIASES:
            value = field.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[_ALIASES[field.group(1).lower()]] = value
    return fields, text[match.end() :]


def _unclosed_front_matter(text: str) -> bool:
    """Whether `text` opens with front matter naming a known field and no closing `---` (a
    `---` rule followed by "Update: ..." is text, not front matter)."""
    block = _UNCLOSED_FRONT_MATTER.match(text)
    if block is None:
        return False
    names = (_FIELD.match(line) for line in block.group(0).splitlines()[1:])
    return any(name and name.group(1).lower() in _ALIASES for name in names)


def read_text(
    data: bytes,
    origin: str,
    *,
    url: str | None = None,
    charset: str | None = None,
    max_chars: int | None = None,
    markdown: bool = False,
) -> Iterator[Article | InputProblem]:
    """The article in a text file's bytes (see the module docstring for the layout); `url` is
    used when the front matter names none (the address the text was fetched from).

    Raises:
        ArticleInputError: the bytes are binary or not UTF-8, or hold no text.
    """
    text = decode_text(data, origin)
    fields, body = parse_front_matter(text)
    unclosed = not fields and _unclosed_front_matter(body)
    title = fields.get("title")
    heading = _HEADING.match(body) if markdown else None
    # The heading is the title, or repeats it; one that says something else is text to keep.
    if heading and (not title or heading.group(1).strip().casefold() == title.casefold()):
        body = body[heading.end() :]
        title = title or heading.group(1)
    article, problems = build_article(
        origin=origin,
        text=body,
        title=title,
        url=fields.get("url") or url,
        source=fields.get("source"),
        published=fields.get("published"),
        own_id=fields.get("id"),
        max_chars=max_chars,
    )
    yield article
    if unclosed:
        reason = "its front matter has no closing --- line: it was read as the article's text"
        yield InputProblem(origin, reason, skipped=False)
    yield from problems
