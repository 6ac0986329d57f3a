"""Reading input bytes safely: size cap, empty and binary files, gzip, strict UTF-8.

NUL bytes mean binary data, except in UTF-16 text saved without a byte-order mark, which is said
as such (`nul_reason`) rather than called binary.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from pathlib import Path

from ingest.article import ArticleInputError


def too_large(
    origin: str, size: int | str, max_bytes: int, setting: str = "NEWSBOT_MAX_INPUT_BYTES"
) -> ArticleInputError:
    """The error for an input over the size cap; `setting` is the one that raises the cap."""
    return ArticleInputError(
        origin,
        f"{size} bytes is larger than the {max_bytes}-byte cap (raise {setting} to accept it)",
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
    return _capped(data, origin, max_bytes, "")


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
    return _capped(out, origin, max_bytes, " uncompressed")


def _capped(data: bytes, origin: str, max_bytes: int, what: str) -> bytes:
    """`data`, refused when longer than `max_bytes` (read one byte past the cap) or blank."""
    if len(data) > max_bytes:
        raise too_large(origin, f"more than {max_bytes}{what}", max_bytes)
    if not data.strip():
        raise ArticleInputError(origin, "the file is empty")
    return data


def _utf16_without_bom(data: bytes) -> bool:
    """Whether `data` reads as UTF-16 text: NUL high bytes on one side, printable text decoded."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return False
    even_zeros, odd_zeros = sample[0::2].count(0), sample[1::2].count(0)
    for codec, zeros, others in (
        ("utf-16-le", odd_zeros, even_zeros),
        ("utf-16-be", even_zeros, odd_zeros),
    ):
        if zeros < pairs * 0.3 or others > pairs * 0.05:
            continue
        try:
            text = codecs.getincrementaldecoder(codec)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        shown = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
        if text and shown >= 0.95 * len(text):
            return True
    return False


def nul_reason(data: bytes, kind: str) -> str:
    """Why data with NUL bytes is refused: UTF-16 without a BOM, or binary data (not `kind`)."""
    if _utf16_without_bom(data):
        return (
            "looks like UTF-16 text without a byte-order mark (BOM): save it as UTF-8 "
            "(or as UTF-16 with a BOM)"
        )
    return f"binary data (contains NUL bytes), not {kind}"


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
        raise ArticleInputError(origin, nul_reason(data, "a text article"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        where = f"line {line_no}, " if report_line else ""
        raise ArticleInputError(
            origin,
            f"not valid UTF-8 ({where}byte {exc.start}): save the file as UTF-8",
        ) from exc
