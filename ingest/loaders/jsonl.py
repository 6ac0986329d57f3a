"""JSON articles: .json (one article, a list, or `{"articles": [...]}`), .jsonl, and both gzipped.

Field names follow common news datasets: `id`, `title`, `text`|`body`|`content`, `url`|`link`,
`date`|`published`|`published_at`, `source`|`site`. In JSON Lines a bad line is reported with its
line number and the other lines go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ingest.article import Article, ArticleInputError, InputProblem, build_article
from ingest.loaders.reading import decode_text, gunzip_capped, read_capped

EXTENSIONS = (".json", ".jsonl", ".json.gz", ".jsonl.gz")

TEXT_FIELDS = ("text", "body", "content")
URL_FIELDS = ("url", "link")
DATE_FIELDS = ("date", "published", "published_at", "publishedAt", "pubDate")
SOURCE_FIELDS = ("source", "site")
TITLE_FIELDS = ("title", "headline")


def _first(record: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def _string(value: Any, field: str, origin: str) -> str | None:
    """A field as text: strings as they are, numbers as digits, `{"name": ...}` by its name."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return str(value["name"])
    raise ArticleInputError(origin, f"field {field!r} should be text, not {type(value).__name__}")


def article_from_record(record: Any, origin: str) -> tuple[Article, list[InputProblem]]:
    """An article from one decoded JSON object.

    Raises:
        ArticleInputError: not an object, no text field, or a field of the wrong type.
    """
    if not isinstance(record, Mapping):
        raise ArticleInputError(origin, f"expected a JSON object, got {type(record).__name__}")
    text = _string(_first(record, TEXT_FIELDS), "text", origin)
    if not text or not text.strip():
        raise ArticleInputError(
            origin, f"no article text (looked for the fields {', '.join(TEXT_FIELDS)})"
        )
    published = _first(record, DATE_FIELDS)
    if not isinstance(published, str | int | float):
        published = None if published is None else str(published)
    return build_article(
        origin=origin,
        text=text,
        title=_string(_first(record, TITLE_FIELDS), "title", origin),
        url=_string(_first(record, URL_FIELDS), "url", origin),
        source=_string(_first(record, SOURCE_FIELDS), "source", origin),
        published=published,
        own_id=_string(record.get("id"), "id", origin),
    )


def _emit(record: Any, origin: str) -> Iterator[Article | InputProblem]:
    try:
        article, problems = article_from_record(record, origin)
    except ArticleInputError as exc:
        yield exc.problem()
        return
    yield article
    yield from problems


def _payload(path: Path, max_bytes: int) -> bytes:
    data = read_capped(path, max_bytes)
    if path.name.lower().endswith(".gz"):
        data = gunzip_capped(data, str(path), max_bytes)
    return data


def load_json_lines(path: Path, *, max_bytes: int) -> Iterator[Article | InputProblem]:
    """Articles from a JSON Lines file (.jsonl or .jsonl.gz), one object per line.

    Raises:
        ArticleInputError: the whole file is unreadable (empty, too large, not gzip, binary).
    """
    data = _payload(path, max_bytes)
    if b"\x00" in data:
        raise ArticleInputError(str(path), "binary data (contains NUL bytes), not JSON Lines")
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        origin = f"{path}:{number}"
        try:
            record = json.loads(decode_text(raw, origin, report_line=False))
        except ArticleInputError as exc:
            yield exc.problem()
            continue
        except json.JSONDecodeError as exc:
            yield InputProblem(origin, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        yield from _emit(record, origin)


def load_json(path: Path, *, max_bytes: int) -> Iterator[Article | InputProblem]:
    """Articles from a JSON file (.json or .json.gz): an object, a list, or `{"articles": [...]}`.

    Raises:
        ArticleInputError: the file is unreadable or not valid JSON.
    """
    origin = str(path)
    text = decode_text(_payload(path, max_bytes), origin)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON Lines saved as .json
            yield from load_json_lines(path, max_bytes=max_bytes)
            return
        raise ArticleInputError(
            origin, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc
    if isinstance(document, Mapping) and isinstance(document.get("articles"), list):
        document = document["articles"]
    if isinstance(document, list):
        for index, record in enumerate(document):
            yield from _emit(record, f"{origin}[{index}]")
    else:
        yield from _emit(document, origin)
