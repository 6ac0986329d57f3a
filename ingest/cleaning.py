"""Conservative text cleaning: normalise unicode and whitespace, drop obvious boilerplate lines.

Only whole lines that are clearly not article text are removed ("Read More: ...", "Advertisement",
cookie banners, newsletter sign-up lines); paragraphs (blank-line separated) and line breaks are
kept, so the chunker can split on them. `boilerplate_kind` tells why a line would be dropped, which
the tests use to measure what cleaning removes from real articles.

Short fields (title, source, url) lose control characters and bidi overrides (`clean_field`): they
are printed on terminals, where an escape sequence or a right-to-left override would act instead
of showing. `printable` makes any value safe to print there, stored data included.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Zero-width characters, soft hyphens, BOMs and C0/C1 controls other than newline and tab.
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Half of a UTF-16 pair on its own: JSON's "\ud800" decodes to one, and no UTF-8 encoder takes it.
_LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Bidi embeddings, overrides and isolates reorder what a terminal shows (the "Trojan Source" trick).
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_FIELD_CONTROLS = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")
_TERMINAL_UNSAFE = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}\u061c\u2028\u2029]")
_MAX_BOILERPLATE_LEN = 300

_BOILERPLATE: list[tuple[str, re.Pattern[str]]] = [
    (
        "read-more link",
        re.compile(
            r"^(read more|also read|read also|related|see also|recommended|more on this|"
            r"related articles?|related stories|you may also like)\s*[:|»>\-\u2013\u2014].*$",
            re.IGNORECASE,
        ),
    ),
    (
        "ad marker",
        re.compile(
            r"^(advertisement|advert|ad|sponsored( content)?|story continues below"
            r"( advertisement)?|continue reading( below)?|scroll to continue( with content)?)"
            r"\s*[.:]?$",
            re.IGNORECASE,
        ),
    ),
    (
        "share buttons",
        re.compile(
            r"^((share|share this( article| story)?|tweet|email|print|copy link)\s*[|·•/]?\s*)+$",
            re.IGNORECASE,
        ),
    ),
    (
        "cookie banner",
        re.compile(
            r"^(?=.*\bcookies?\b)(?=.*\b(accept|consent|we use|privacy policy|manage)\b).*$",
            re.IGNORECASE,
        ),
    ),
    (
        "newsletter sign-up",
        re.compile(r"^(?=.*\b(sign up|subscribe)\b)(?=.*\b(newsletter|inbox)\b).*$", re.IGNORECASE),
    ),
]


def boilerplate_kind(line: str) -> str | None:
    """Why `line` (already stripped) is boilerplate, or None when it may be article text."""
    if not line or len(line) > _MAX_BOILERPLATE_LEN:
        return None
    for kind, pattern in _BOILERPLATE:
        if pattern.match(line):
            return kind
    return None


def normalise(text: str) -> str:
    """NFC, `\\n` line ends, no invisible characters, single spaces, no trailing blanks per line."""
    text = unicodedata.normalize("NFC", no_lone_surrogates(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n\n")
    text = _INVISIBLE.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(lines)


def no_lone_surrogates(value: str) -> str:
    """`value` with each lone surrogate (which cannot be stored) as U+FFFD, the replacement
    character, as a decoder shows bytes it cannot read."""
    return _LONE_SURROGATES.sub("\ufffd", value)


def clean_field(value: str) -> str:
    """A one-line field (title, source, url): no control or bidi characters, single spaces."""
    spaced = _FIELD_CONTROLS.sub(" ", unicodedata.normalize("NFC", no_lone_surrogates(value)))
    return " ".join(_INVISIBLE.sub("", spaced).split())


def printable(value: str) -> str:
    """`value` with every control, format (bidi marks and overrides, zero-width characters) and
    line-separator character shown as an escape (`\\x1b`, `\\u202e`, `\\u200f`), so printing it
    cannot move the cursor, recolour or reorder the terminal: the same characters `newsbot ask`
    escapes (`bot.terminal.printable`), and the line separators besides."""

    def shown(char: str) -> str:
        code = ord(char)
        if not _TERMINAL_UNSAFE.match(char) and unicodedata.category(char) != "Cf":
            return char
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return "".join(shown(char) for char in value)


def clean_text(text: str) -> str:
    """Article text ready for chunking: normalised, boilerplate lines dropped, paragraphs kept."""
    kept = [line for line in normalise(text).split("\n") if boilerplate_kind(line) is None]
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()
