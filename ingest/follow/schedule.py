"""When a followed source is checked next: its interval, and a growing gap with jitter after errors.

`parse_every` reads the intervals people write (`15m`, `2h`, `90s`, `1d`); `next_check` spaces the
checks of a failing source 2, 4, 8... times its interval (at most `MAX_BACKOFF`), each gap
shortened by a random part of up to a quarter so that many sources failing together (a shared
host down) do not come back in step.
"""

from __future__ import annotations

import random
import re

from newsbot.errors import InputError

MIN_EVERY = 1.0
"""Shortest interval accepted, in seconds (for tests on loopback; feeds deserve minutes)."""
MAX_EVERY = 365 * 86_400.0
"""Longest interval accepted, in seconds: a year (dates past year 9999 cannot be shown)."""
MAX_BACKOFF = 86_400.0
"""Longest gap between two checks of a failing source, in seconds."""
JITTER = 0.25
"""Part of a backoff gap that is random."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


def parse_every(text: str) -> float:
    """Seconds in an interval such as `15m`, `2h`, `90s`, `1d` (a bare number is minutes).

    Raises:
        InputError: the text is not such an interval, or is shorter than MIN_EVERY or longer
            than MAX_EVERY.
    """
    match = _EVERY.fullmatch(text.strip().lower())
    if not match:
        raise InputError(f"{text!r} is not an interval: use e.g. 90s, 15m, 2h or 1d")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "m"]
    if seconds < MIN_EVERY:
        raise InputError(f"{text!r} is too short: check at most once a second")
    if seconds > MAX_EVERY:
        raise InputError(f"{text!r} is too long: check at least once a year (365d)")
    return seconds


def parse_age(text: str) -> float:
    """Seconds in an age such as `180d`, `12h` (a bare number is days).

    Raises:
        InputError: the text is not such an age.
    """
    match = _EVERY.fullmatch(text.strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"{text!r} is not an age: use e.g. 180d, 12h or 30")
    return float(match.group(1)) * _UNITS[match.group(2) or "d"]


def say_every(seconds: float) -> str:
    """`900.0` as "15m", `7200.0` as "2h"; the largest unit that divides it."""
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def next_check(now: float, every: float, failures: int, rng: random.Random | None = None) -> float:
    """When to check a source next: after `every`, or after a growing gap when its last
    `failures` checks failed in a row."""
    if failures <= 0:
        return now + every
    gap = min(max(MAX_BACKOFF, every), every * 2.0 ** min(failures, 30))
    return now + gap * (1.0 - JITTER * (rng or random).random())
