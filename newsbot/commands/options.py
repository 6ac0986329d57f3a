"""Options that several commands share: `--as-of` and the search filter (`--since`, `--until`,
`--source`) of `newsbot ask` and `newsbot chat`; a value that can't be read is a usage error
naming the option."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from newsbot.settings import Settings
    from vectorstore.records import SearchFilter

F = TypeVar("F", bound=Callable[..., Any])


def filter_options(command: F) -> F:
    """`--since`, `--until` and `--source`: the date range and sources a question searches."""
    options = [
        click.option(
            "--since",
            metavar="DAY",
            help="Only articles published on or after DAY (YYYY-MM-DD, or 7d: seven days before "
            "--as-of or today). Undated articles are left out.",
        ),
        click.option(
            "--until",
            metavar="DAY",
            help="Only articles published on or before DAY (as --since).",
        ),
        click.option(
            "--source",
            "sources",
            multiple=True,
            metavar="NAME",
            help="Only articles from this source (case-insensitive; repeat for several).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def as_of_option(command: F) -> F:
    """`--as-of`: the day a question is answered as of."""
    return click.option(
        "--as-of", callback=_parse_date, help="Answer as of this date (YYYY-MM-DD; default today)."
    )(command)


def read_filter(
    since: str | None, until: str | None, sources: tuple[str, ...], as_of: date | None
) -> SearchFilter:
    """The search filter of `--since/--until/--source` (empty without them); a date that can't
    be read is a usage error naming the option."""
    from bot.answer.question import make_filter, parse_day
    from newsbot.errors import InputError

    days: dict[str, date | None] = {}
    for hint, value in (("--since", since), ("--until", until)):
        try:
            days[hint] = parse_day(value, hint, as_of or date.today()) if value else None
        except InputError as exc:  # not a date, or out of range; click names the option
            message = str(exc).removeprefix(f"{hint} ")
            raise click.BadParameter(message, param_hint=hint) from None
    try:
        return make_filter(days["--since"], days["--until"], sources)
    except InputError as exc:  # since after until, too many or too long sources
        raise click.UsageError(str(exc)) from None


def check_something_stored(settings: Settings) -> None:
    """An empty store would answer every question with a refusal, after loading the model: a
    one-line error says why instead.

    Raises:
        InputError: no article is stored in the collection.
    """
    from newsbot.errors import InputError
    from newsbot.factories import build_registry

    if build_registry(settings).count() == 0:
        raise InputError(
            f"No article is stored in the collection {settings.storage.collection!r} yet: "
            "store some first with `newsbot ingest PATH`"
        )


def check_sources(sources: tuple[str, ...], settings: Settings) -> None:
    """`--source` names that no stored article has are a usage error that lists the stored
    ones (the search would otherwise say only that no article matches)."""
    if not sources:
        return
    from newsbot.factories import build_registry

    stored = sorted((s for s in build_registry(settings).sources() if s.strip()), key=str.casefold)
    known = {name.casefold() for name in stored}
    unknown = [name for name in sources if name.casefold() not in known]
    if unknown:
        message = f"no stored article comes from {', '.join(unknown)}"
        raise click.BadParameter(
            f"{message}; stored sources: {', '.join(stored) or 'none'}", param_hint="--source"
        )


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    from bot.answer.question import in_range
    from newsbot.errors import InputError

    try:
        return in_range(date.fromisoformat(value), "--as-of")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None
    except InputError as exc:
        raise click.BadParameter(str(exc).removeprefix("--as-of ")) from None
