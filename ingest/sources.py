"""Command-line inputs (PATH | GLOB | URL) expanded into files and URLs, each read by its loader.

Folders are searched recursively (hidden files and folders skipped) for the supported extensions;
globs are expanded (`**` included); URLs are passed through. `read_sources` runs the loaders and
turns every failure of one input into an `InputProblem`, so a bad file never stops the batch.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.article import Article, ArticleInputError, InputProblem
from ingest.loaders import feeds, html, jsonl, text, urls
from newsbot.errors import InputError

logger = logging.getLogger(__name__)

Loader = Callable[..., Iterator[Article | InputProblem]]

_LOADERS: dict[str, Loader] = {
    ".txt": text.load_text,
    ".md": text.load_text,
    ".html": html.load_html,
    ".htm": html.load_html,
    ".json": jsonl.load_json,
    ".json.gz": jsonl.load_json,
    ".jsonl": jsonl.load_json_lines,
    ".jsonl.gz": jsonl.load_json_lines,
    ".xml": feeds.load_feed,
    ".rss": feeds.load_feed,
    ".atom": feeds.load_feed,
}
LOOKED_FOR = ".txt .md .html .htm .json .jsonl .jsonl.gz .xml .rss .atom"


@dataclass(frozen=True)
class Source:
    """One input to read: a file with its loader's extension, or a URL (`extension` is "url")."""

    location: str
    extension: str


def extension_of(path: Path) -> str | None:
    """The supported extension of `path` (".jsonl.gz" counts as one), or None."""
    name = path.name.lower()
    for ext in sorted(_LOADERS, key=len, reverse=True):
        if name.endswith(ext) and len(name) > len(ext):
            return ext
    return None


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _folder_files(folder: Path) -> list[Path]:
    found = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not _is_hidden(p, folder) and extension_of(p) is not None
    ]
    return sorted(found)


def _nothing_found(where: str) -> str:
    return (
        f"No articles found in {where} (looked for {LOOKED_FOR}): "
        "pass a file or folder with articles"
    )


def expand_sources(arguments: list[str]) -> tuple[list[Source], list[InputProblem]]:
    """The files and URLs the arguments name, in order, each once; and the arguments that name none.

    Raises:
        InputError: no argument names any readable input (the message says what was looked for).
    """
    sources: list[Source] = []
    problems: list[InputProblem] = []
    seen: set[str] = set()

    def add(source: Source) -> None:
        key = source.location if source.extension == "url" else str(Path(source.location).resolve())
        if key not in seen:
            seen.add(key)
            sources.append(source)

    for argument in arguments:
        if urls.is_url(argument):
            add(Source(argument, "url"))
            continue
        path = Path(argument).expanduser()
        if path.is_dir():
            files = _folder_files(path)
        elif path.is_file():
            ext = extension_of(path)
            if ext is None:
                problems.append(
                    InputProblem(argument, f"unsupported file type (supported: {LOOKED_FOR})")
                )
                continue
            files = [path]
        elif glob.has_magic(argument):
            matches = (Path(m) for m in glob.glob(argument, recursive=True))
            files = sorted(m for m in matches if m.is_file() and extension_of(m) is not None)
        else:
            reason = (
                f"No articles found in {argument} (no such file or folder): "
                "pass a file, folder, glob or URL with articles"
            )
            problems.append(InputProblem(argument, reason))
            continue
        if not files:
            problems.append(InputProblem(argument, _nothing_found(argument)))
        for file in files:
            add(Source(str(file), extension_of(file) or ""))
    if not sources:
        messages = [
            p.reason if p.reason.startswith("No articles") else f"{p.origin}: {p.reason}"
            for p in problems
        ]
        raise InputError("; ".join(messages) or _nothing_found("the arguments (none given)"))
    return sources, problems


def read_source(
    source: Source, *, max_bytes: int, http_timeout: float
) -> Iterator[Article | InputProblem]:
    """The articles and problems of one input; never raises for a bad input."""
    try:
        if source.extension == "url":
            yield from urls.load_url(source.location, max_bytes=max_bytes, timeout=http_timeout)
        else:
            loader = _LOADERS[source.extension]
            yield from loader(Path(source.location), max_bytes=max_bytes)
    except ArticleInputError as exc:
        yield exc.problem()
    except (ValueError, LookupError, OSError, RecursionError) as exc:
        # A parser library choking on one odd input must not stop the batch.
        logger.debug("Reading %s failed", source.location, exc_info=True)
        yield InputProblem(source.location, f"could not be read ({type(exc).__name__}: {exc})")


def read_sources(
    sources: list[Source], *, max_bytes: int, http_timeout: float
) -> Iterator[Article | InputProblem]:
    """The articles and problems of all inputs, in order."""
    for source in sources:
        yield from read_source(source, max_bytes=max_bytes, http_timeout=http_timeout)
