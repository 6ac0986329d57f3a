"""Command-line inputs (PATH | GLOB | URL) expanded into files and URLs, each read by its loader.

Folders are searched recursively (hidden files and folders skipped) for the supported extensions;
a subfolder that cannot be listed is reported, not skipped in silence. Globs are expanded (`**`
included); URLs are passed through. Files of other types found in a folder or by a glob
(`notes.pdf`) are counted and named (`Expansion.unsupported`), not failures: a folder of articles
may hold other things; a file of another type named on the command line is a failure. A path that
cannot be looked at (too long, no permission, not a regular file) is reported with the true reason.
`read_sources` runs the loaders and turns every failure of one input into an `InputProblem`, so a
bad file never stops the batch.
"""

from __future__ import annotations

import errno
import glob
import logging
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ingest.article import Article, ArticleInputError, InputProblem, keyed_by_file
from ingest.cleaning import printable
from ingest.loaders import feeds, html, jsonl, text, urls
from ingest.loaders.fetching import FetchPolicy
from ingest.loaders.reading import gunzip_capped, read_capped
from newsbot.errors import InputError

logger = logging.getLogger(__name__)

Reader = Callable[..., Iterator[Article | InputProblem]]

#: The reader of each supported file extension: bytes in, articles and problems out.
_READERS: dict[str, Reader] = {
    ".txt": text.read_text,
    ".md": partial(text.read_text, markdown=True),
    ".html": html.read_html,
    ".htm": html.read_html,
    ".json": jsonl.read_json,
    ".json.gz": jsonl.read_json,
    ".jsonl": jsonl.read_json_lines,
    ".jsonl.gz": jsonl.read_json_lines,
    ".xml": feeds.read_feed,
    ".rss": feeds.read_feed,
    ".atom": feeds.read_feed,
}
LOOKED_FOR = ".txt .md .html .htm .json .jsonl .jsonl.gz .xml .rss .atom"
#: Files that hold one article: without an id or url of its own it is known by its file.
ONE_ARTICLE = frozenset({".txt", ".md", ".html", ".htm"})
#: Unsupported files named one by one in a summary; the rest are counted.
NAMED_UNSUPPORTED = 10


@dataclass(frozen=True)
class Source:
    """One input to read: a file with its loader's extension, or a URL (`extension` is "url")."""

    location: str
    extension: str


@dataclass(frozen=True)
class Expansion:
    """What the command-line inputs name.

    `sources` are read in order; `problems` are inputs that name nothing readable (failures);
    `unsupported` are files of other types found in folders or by globs (skipped, not failures).
    """

    sources: list[Source]
    problems: list[InputProblem]
    unsupported: list[str]


def unsupported_note(paths: list[str]) -> str:
    """The summary of skipped unsupported files, e.g. "skipped 2 unsupported files: notes.pdf,
    photo.jpg (newsbot reads .txt .md ...)"; a long list is cut after a few names."""
    shown = ", ".join(paths[:NAMED_UNSUPPORTED])
    if len(paths) > NAMED_UNSUPPORTED:
        shown += f" and {len(paths) - NAMED_UNSUPPORTED:,} more"
    files = "file" if len(paths) == 1 else "files"
    return f"skipped {len(paths):,} unsupported {files}: {shown} (newsbot reads {LOOKED_FOR})"


def extension_of(path: Path) -> str | None:
    """The supported extension of `path` (".jsonl.gz" counts as one), or None."""
    name = path.name.lower()
    for ext in sorted(_READERS, key=len, reverse=True):
        if name.endswith(ext) and len(name) > len(ext):
            return ext
    return None


def os_reason(exc: OSError) -> str:
    """What an OSError on a path means for the person who named the path."""
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long for this system (a name has at most 255 bytes)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: check that you may read it and open every folder above it"
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    return f"cannot be opened ({exc.strerror or exc})"


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _folder_files(folder: Path) -> tuple[list[Path], list[InputProblem], list[Path]]:
    """The supported files under `folder` (hidden ones skipped), the subfolders not listable, and
    the files of unsupported types."""
    found: list[Path] = []
    problems: list[InputProblem] = []
    unsupported: list[Path] = []

    def unreadable(exc: OSError) -> None:
        where = exc.filename or str(folder)
        problems.append(InputProblem(str(where), f"folder skipped: {os_reason(exc)}"))

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(root) / name
            if name.startswith("."):
                continue
            if path.is_symlink() and not path.exists() and extension_of(path) is not None:
                # A file the reader meant to give, whose target is gone: said, not skipped silently.
                problems.append(InputProblem(str(path), "a link to a file that does not exist"))
                continue
            if not path.is_file():
                continue
            (found if extension_of(path) is not None else unsupported).append(path)
    return sorted(found), problems, sorted(unsupported)


def _glob(pattern: str) -> list[Path]:
    """What a glob matches. `**` descends into real folders only, as a folder's walk does (a link
    to a folder above it would repeat the tree forever), and skips hidden names like it."""
    if "**" not in pattern:
        return [Path(m) for m in glob.glob(os.path.expanduser(pattern))]
    parts = Path(pattern).expanduser().parts
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    base = Path(*parts[:fixed]) if fixed else Path()
    return [
        match
        for match in base.glob(str(Path(*parts[fixed:])))
        if not any(part.startswith(".") for part in match.relative_to(base).parts)
    ]


def _stat(path: Path) -> os.stat_result | None:
    """The path's status; None when there is nothing there. OSError for any other failure."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _nothing_found(where: str, unsupported: list[Path] | None = None) -> str:
    if unsupported:
        names = unsupported_note([str(p) for p in unsupported]).removeprefix("skipped ")
        return f"No articles found in {where}, only {names}: pass a file or folder with articles"
    return (
        f"No articles found in {where} (looked for {LOOKED_FOR}): "
        "pass a file or folder with articles"
    )


def expand_sources(arguments: list[str]) -> tuple[list[Source], list[InputProblem]]:
    """The files and URLs the arguments name, in order, each once; and the arguments that name none.

    `expand` tells the unsupported files found in folders as well.

    Raises:
        InputError: no argument names any readable input (the message says what was looked for).
    """
    expansion = expand(arguments)
    return expansion.sources, expansion.problems


def expand(arguments: list[str]) -> Expansion:
    """The files and URLs the arguments name, in order, each once; the arguments that name none;
    and the files of unsupported types in the folders and globs given.

    Raises:
        InputError: no argument names any readable input (the message says what was looked for).
    """
    sources: list[Source] = []
    problems: list[InputProblem] = []
    skipped: list[Path] = []
    skipped_keys: set[str] = set()
    seen: set[str] = set()

    def add(source: Source) -> None:
        key = source.location if source.extension == "url" else str(Path(source.location).resolve())
        if key not in seen:
            seen.add(key)
            sources.append(source)

    for argument in arguments:
        if not argument.strip():  # `Path("")` is the current folder: an unset "$VAR", most often
            problems.append(InputProblem(repr(argument), "an empty argument names no input"))
            continue
        if urls.is_url(argument):
            add(Source(argument, "url"))
            continue
        path = Path(argument).expanduser()
        try:
            status = _stat(path)
        except OSError as exc:
            problems.append(InputProblem(argument, os_reason(exc)))
            continue
        other: list[Path] = []
        if status is not None and stat.S_ISDIR(status.st_mode):
            files, unlisted, other = _folder_files(path)
            problems.extend(unlisted)
            if unlisted and not files:
                continue  # the unreadable folder is the reason; "no articles" would mislead
        elif status is not None and stat.S_ISREG(status.st_mode):
            ext = extension_of(path)
            if ext is None:
                problems.append(
                    InputProblem(argument, f"unsupported file type (supported: {LOOKED_FOR})")
                )
                continue
            files = [path]
        elif status is not None:
            kind = _special_kind(status.st_mode)
            problems.append(InputProblem(argument, f"{kind}, not a file or folder: pass a file"))
            continue
        elif glob.has_magic(argument):
            matches = _glob(argument)
            files = sorted(m for m in matches if m.is_file() and extension_of(m) is not None)
            other = sorted(m for m in matches if m.is_file() and extension_of(m) is None)
        else:
            reason = (
                f"No articles found in {argument} (no such file or folder): "
                "pass a file, folder, glob or URL with articles"
            )
            problems.append(InputProblem(argument, reason))
            continue
        if not files:
            problems.append(InputProblem(argument, _nothing_found(argument, other)))
            continue  # the unsupported files are named in that reason
        for path in other:  # a folder given twice (or a glob within it) counts a file once
            if str(path.resolve()) not in skipped_keys:
                skipped_keys.add(str(path.resolve()))
                skipped.append(path)
        for file in files:
            add(Source(str(file), extension_of(file) or ""))
    if not sources:
        messages = [
            p.reason if p.reason.startswith("No articles") else f"{p.origin}: {p.reason}"
            for p in problems
        ]
        shown = "; ".join(messages) or _nothing_found("the arguments (none given)")
        raise InputError(printable(shown))  # file names may hold terminal escapes
    return Expansion(sources, problems, [str(p) for p in skipped])


def load_file(
    path: Path, *, max_bytes: int, max_chars: int | None = None
) -> Iterator[Article | InputProblem]:
    """The articles and problems in a file of a supported type (`extension_of`).

    Raises:
        ArticleInputError: the file is unreadable, empty, too large, not gzip (.gz), binary, or
            holds no article.
    """
    extension = extension_of(path) or ""
    data = read_capped(path, max_bytes)
    if extension.endswith(".gz"):
        data = gunzip_capped(data, str(path), max_bytes)
    yield from _READERS[extension](data, str(path), max_chars=max_chars)


def read_sources(
    sources: list[Source],
    *,
    max_bytes: int,
    http_timeout: float,
    fetch_policy: FetchPolicy | None = None,
    max_chars: int | None = None,
    key_by_file: bool = True,
) -> Iterator[Article | InputProblem]:
    """The articles and problems of the inputs, in order; never raises for a bad input.

    URLs are fetched under `fetch_policy`; without one, public addresses only, with `max_bytes`
    and `http_timeout` as the caps. An article text longer than `max_chars` is a problem. With
    `key_by_file`, a one-article file without an id or url is known by its path
    (`keyed_by_file`); uploads, whose paths are temporary, are known by their content.
    """
    policy = fetch_policy or FetchPolicy(max_bytes=max_bytes, timeout=http_timeout)
    for source in sources:
        said_something = False  # an input that yields neither an article nor a problem is named
        try:
            if source.extension == "url":
                items = urls.load_url(source.location, policy=policy, max_chars=max_chars)
                keyed = False
            else:
                path = Path(source.location)
                keyed = key_by_file and source.extension in ONE_ARTICLE
                items = load_file(path, max_bytes=max_bytes, max_chars=max_chars)
            for item in items:
                said_something = True
                yield keyed_by_file(item, path) if keyed and isinstance(item, Article) else item
            if not said_something:
                yield InputProblem(source.location, "holds no articles (an empty list or file)")
        except ArticleInputError as exc:
            yield exc.problem()
        except UnicodeEncodeError as exc:
            if not _is_text(source.location):  # Python keeps such a name's bytes as surrogates
                yield InputProblem(source.location, "its name is not UTF-8 text: rename it")
                continue
            yield InputProblem(source.location, f"could not be read ({type(exc).__name__}: {exc})")
        except (ValueError, LookupError, OSError, RecursionError) as exc:
            # A parser library choking on one odd input must not stop the batch.
            logger.debug("Reading %s failed", source.location, exc_info=True)
            yield InputProblem(source.location, f"could not be read ({type(exc).__name__}: {exc})")


def _is_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
