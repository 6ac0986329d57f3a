"""Reading input bytes safely: size cap, empty and binary files, gzip, strict UTF-8."""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from pathlib import Path

from ingest.article import ArticleInputError

CAP_HINT = "raise NEWSBOT_MAX_INPUT_BYTES to accept it"


def too_large(origin: str, size: int | str, max_bytes: int) -> ArticleInputError:
    """The error for an input over the size cap."""
    return ArticleInputError(
        origin, f"{size} bytes is larger than the {max_bytes}-byte cap ({CAP_HINT})"
    )


def read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; refuses files over `max_bytes` (before reading them) and empty files.

    Raises:
        ArticleInputError: the file is missing, unreadable, too large or empty.
    """
    origin = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise too_large(origin, size, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ArticleInputError(origin, f"cannot read the file ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise too_large(origin, f"more than {max_bytes}", max_bytes)
    if not data.strip():
        raise ArticleInputError(origin, "the file is empty")
    return data


def gunzip_capped(data: bytes, origin: str, max_bytes: int) -> bytes:
    """Decompress gzip data, refusing more than `max_bytes` of output.

    Raises:
        ArticleInputError: the data is not gzip, is truncated, or expands past the cap.
    """
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArticleInputError(origin, f"not a readable gzip file ({exc})") from exc
    if len(out) > max_bytes:
        raise too_large(origin, f"more than {max_bytes} uncompressed", max_bytes)
    if not out.strip():
        raise ArticleInputError(origin, "the file is empty")
    return out


def decode_text(data: bytes, origin: str, *, report_line: bool = True) -> str:
    """Text from bytes: UTF-8 (a BOM is allowed) or BOM-marked UTF-16; binary data is refused.

    Raises:
        ArticleInputError: the bytes contain NUL bytes (binary) or are not valid UTF-8.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ArticleInputError(origin, f"not valid UTF-16 ({exc.reason})") from exc
    if b"\x00" in data:
        raise ArticleInputError(origin, "binary data (contains NUL bytes), not a text article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        where = f"line {line_no}, " if report_line else ""
        raise ArticleInputError(
            origin,
            f"not valid UTF-8 ({where}byte {exc.start}): save the file as UTF-8",
        ) from exc
