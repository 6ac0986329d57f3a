"""JSON articles: .json (one article, a list, or `{"articles": [...]}`), .jsonl, and both gzipped.

Field names follow common news datasets: `id`, `title`, `text`|`body`|`content`, `url`|`link`,
`date`|`published`|`published_at`, `source`|`site`. A text holding HTML paragraphs is read as HTML.
In JSON Lines a bad line is reported with its line number and the other lines go on; that
includes a line with a NUL byte, while a file whose first line has one is binary (or UTF-16
without a BOM) and refused whole. An article (by its id or url) that comes again further down the
file is read from its last place only: a correction appended to a dump replaces it, and a re-run
finds it unchanged. A file with a UTF-16 byte-order mark is read as UTF-16, as a .json or .txt
file is.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ingest.article import (
    Article,
    ArticleInputError,
    InputProblem,
    build_article,
    named_article_id,
    too_long,
)
from ingest.loaders.html import fragment_to_text
from ingest.loaders.reading import decode_text, nul_reason

TEXT_FIELDS = ("text", "body", "content")
URL_FIELDS = ("url", "link")
DATE_FIELDS = ("date", "published", "published_at", "publishedAt", "pubDate")
SOURCE_FIELDS = ("source", "site")
TITLE_FIELDS = ("title", "headline")


_HTML_BLOCK = re.compile(r"</(p|div|li|h[1-6]|blockquote|section|article|td)>|<br\s*/?>", re.I)
"""What marks a text field as HTML: a closed block element or a line break. A "<" alone ("a<b
and c>d"), an address in angle brackets or a story that names "the <script> tag" does not."""

TOO_DEEP = "not readable JSON (nested too deeply: arrays or objects thousands of levels deep)"


def json_error(exc: json.JSONDecodeError, *, line: bool = True) -> str:
    """A JSON syntax error as a reason: "not valid JSON (Expecting value at line 1, column 9)"."""
    # Some messages end in "at" ("Unterminated string starting at"), which the position completes.
    message = exc.msg.removesuffix(" at")
    where = f"line {exc.lineno}, column {exc.colno}" if line else f"column {exc.colno}"
    return f"not valid JSON ({message} at {where})"


def _first(record: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def _string(value: Any, field: str, origin: str, *, numbers: bool = True) -> str | None:
    """A field as text: strings as they are, numbers as digits (unless not `numbers`),
    `{"name": ...}` by its name."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return str(value["name"])
    raise ArticleInputError(origin, f"field {field!r} should be text, not {type(value).__name__}")


def _fields(record: Any, origin: str, max_chars: int | None) -> dict[str, Any]:
    """`build_article`'s arguments from one decoded JSON object.

    Raises:
        ArticleInputError: it is not an object, has no text field, a field of the wrong type, or
            a text over `max_chars`.
    """
    if not isinstance(record, Mapping):
        raise ArticleInputError(origin, f"expected a JSON object, got {type(record).__name__}")
    text = _string(_first(record, TEXT_FIELDS), "text", origin)
    if not text or not text.strip():
        raise ArticleInputError(
            origin, f"no article text (looked for the fields {', '.join(TEXT_FIELDS)})"
        )
    if max_chars is not None and len(text) > max_chars:
        raise ArticleInputError(origin, too_long(len(text), max_chars))
    published = _first(record, DATE_FIELDS)
    if not isinstance(published, str | int | float):
        published = None if published is None else str(published)
    return {
        "origin": origin,
        "text": text,
        "title": _string(_first(record, TITLE_FIELDS), "title", origin),
        # A number is no address (stored, "42" would be its link and its id).
        "url": _string(_first(record, URL_FIELDS), "url", origin, numbers=False),
        "source": _string(_first(record, SOURCE_FIELDS), "source", origin),
        "published": published,
        "own_id": _string(record.get("id"), "id", origin),
        "max_chars": max_chars,
    }


def _built(fields: dict[str, Any]) -> tuple[Article, list[InputProblem]]:
    """The article of `_fields`; a text holding HTML paragraphs (a scraped dump's body) read as
    HTML, without its scripts and styles. Done only here: the first pass over a file builds
    only the repeated places.

    Raises:
        ArticleInputError: as `build_article`.
    """
    text = fields["text"]
    if _HTML_BLOCK.search(text):
        # Blank lines of the text stay paragraphs (the HTML reader joins all whitespace).
        text = "\n\n".join(fragment_to_text(part) for part in re.split(r"\n\s*\n", text))
    return build_article(**{**fields, "text": text})


def _superseded(records: Iterator[tuple[str, Any]], max_chars: int | None) -> dict[str, str]:
    """The places (`origin`s) whose article comes again further on, each with the place of its
    last readable version: only that one is read, so a dump with a correction appended stores the
    correction, once, however the run is batched (an article without an id or url is known by
    its content: a repeat of it is the same article). A later version that cannot be read is
    reported as such and leaves the earlier one stored."""
    last: dict[str, str] = {}
    earlier: list[tuple[str, str]] = []
    for origin, record in records:
        try:
            fields = _fields(record, origin, max_chars)
            key = named_article_id(fields["own_id"], fields["url"])
            if key in last:  # a later version: read whole (its text may clean to nothing)
                _built(fields)
        except ArticleInputError:
            continue
        if key is not None:
            if key in last:
                earlier.append((last[key], key))
            last[key] = origin
    return {origin: last[key] for origin, key in earlier}


def _emit(record: Any, origin: str, max_chars: int | None) -> Iterator[Article | InputProblem]:
    """The article in one decoded JSON object (its text at most `max_chars` long), or the problem
    with it (`_fields`)."""
    try:
        article, problems = _built(_fields(record, origin, max_chars))
    except ArticleInputError as exc:
        yield exc.problem()
        return
    yield article
    yield from problems


def _loads(raw: bytes) -> Any:
    """A line's JSON value, or None when it has none (reading the line reports why)."""
    try:
        return json.loads(raw) if raw.strip() and b"\x00" not in raw else None
    except (ValueError, RecursionError):
        return None


def _repeated(origin: str, last: str) -> InputProblem:
    return InputProblem(
        origin, f"the same article comes again at {last}; that later one is stored", skipped=False
    )


def read_json_lines(
    data: bytes, origin: str, *, max_chars: int | None = None, **_: object
) -> Iterator[Article | InputProblem]:
    """Articles from JSON Lines, one object per line (origins `origin:N`, N from 1).

    Raises:
        ArticleInputError: the data is binary (a NUL byte in the first line).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = decode_text(data, origin).encode("utf-8")  # then read line by line as UTF-8
    first_line = data.lstrip().split(b"\n", 1)[0]
    if b"\x00" in first_line:
        raise ArticleInputError(origin, nul_reason(data, "JSON Lines"))
    lines = data.splitlines()
    superseded = _superseded(
        (
            (f"{origin}:{number}", record)
            for number, raw in enumerate(lines, start=1)
            if (record := _loads(raw)) is not None
        ),
        max_chars,
    )
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        line = f"{origin}:{number}"
        if line in superseded:
            yield _repeated(line, superseded[line])
            continue
        if b"\x00" in raw:
            yield InputProblem(line, "the line contains NUL bytes (binary data), not JSON")
            continue
        try:
            record = json.loads(decode_text(raw, line, report_line=False))
        except ArticleInputError as exc:
            yield exc.problem()
            continue
        except json.JSONDecodeError as exc:
            yield InputProblem(line, json_error(exc, line=False))
            continue
        except RecursionError:
            yield InputProblem(line, TOO_DEEP)
            continue
        yield from _emit(record, line, max_chars)


def read_json(
    data: bytes, origin: str, *, max_chars: int | None = None, **_: object
) -> Iterator[Article | InputProblem]:
    """Articles from a JSON document: an object, a list, or `{"articles": [...]}` (JSON Lines
    saved as .json are read as such).

    Raises:
        ArticleInputError: the data is not valid JSON (or not UTF-8).
    """
    try:
        document = json.loads(decode_text(data, origin))
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON Lines saved as .json
            yield from read_json_lines(data, origin, max_chars=max_chars)
            return
        raise ArticleInputError(origin, json_error(exc)) from exc
    except RecursionError as exc:
        raise ArticleInputError(origin, TOO_DEEP) from exc
    if isinstance(document, Mapping) and isinstance(document.get("articles"), list):
        document = document["articles"]
    if isinstance(document, list):
        places = [f"{origin}[{index}]" for index in range(len(document))]
        superseded = _superseded(zip(places, document, strict=True), max_chars)
        for place, record in zip(places, document, strict=True):
            if place in superseded:
                yield _repeated(place, superseded[place])
            else:
                yield from _emit(record, place, max_chars)
    else:
        yield from _emit(document, origin, max_chars)
