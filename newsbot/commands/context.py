"""What every `newsbot` command shares: the settings (read once, when first needed), exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    # Imported when a command first needs the settings: `newsbot --help` never loads pydantic,
    # and no command module loads LangChain, Chroma or openai before it runs (see
    # tests/test_cli_help.py).
    from newsbot.settings import Settings

EXIT_OK, EXIT_FATAL, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 130


class Context:
    """What every command needs: the settings, read once from the environment and options."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from newsbot.settings import get_settings

            self._settings = get_settings(**self.overrides)
        return self._settings


pass_ctx = click.make_pass_decorator(Context)
