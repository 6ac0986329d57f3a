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
    """What every command needs: the settings, read once from the environment and options.

    Commands that only read the store take `stored_settings` (a data dir that does not exist is
    an error, never created); those that write to it take `writable_settings` (the data dir is
    made, and said so once).
    """

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from newsbot.settings import get_settings

            self._settings = get_settings(**self.overrides)
        return self._settings

    def stored_settings(self) -> Settings:
        """The settings of a command that reads the store.

        Raises:
            ConfigError: the data dir holding the store does not exist (a mistyped
                `--data-dir` would otherwise show an empty store and leave a folder behind).
        """
        settings = self.settings
        if _store_is_local(settings) and not settings.storage.data_dir.is_dir():
            import shlex

            from newsbot.errors import ConfigError

            where = settings.storage.data_dir
            option = (
                f" --data-dir {shlex.quote(str(where))}" if self.overrides.get("data_dir") else ""
            )
            raise ConfigError(
                f"No data dir at {where}: nothing is stored there. Check the path, or store "
                f"articles there first with `newsbot{option} ingest PATH` (which creates it)"
            )
        return settings

    def writable_settings(self) -> Settings:
        """The settings of a command that stores into the data dir: it is created if missing,
        and the command says so on stderr."""
        settings = self.settings
        where = settings.storage.data_dir
        if where.exists() and not where.is_dir():
            from newsbot.errors import ConfigError

            raise ConfigError(
                f"The data dir {where} is a file, not a folder: name a folder (--data-dir or "
                "NEWSBOT_DATA_DIR)"
            )
        if not settings.storage.data_dir.is_dir():
            settings.storage.data_dir.mkdir(parents=True)
            click.echo(f"Created the data dir {settings.storage.data_dir}", err=True)
        return settings


def _store_is_local(settings: Settings) -> bool:
    """Whether the article registry lives in the data dir (no shared database)."""
    return not settings.storage.database_url


pass_ctx = click.make_pass_decorator(Context)
