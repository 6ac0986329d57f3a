"""The one error family of newsbot.

Every failure a user can cause or fix (a bad file, a missing model, a wrong setting) is raised as a
subclass of `NewsbotError`. The CLI and the web app turn these into one-line messages; anything else
is a bug and keeps its traceback. Messages say what went wrong and how to fix it.
"""


class NewsbotError(Exception):
    """Root of all errors that newsbot reports to users without a traceback."""


class ConfigError(NewsbotError):
    """A setting is missing, malformed or inconsistent with the stored data."""


class InputError(NewsbotError):
    """An input (file, URL, record) could not be read as news articles."""


class StoreError(NewsbotError):
    """The vector store or article registry refused an operation."""


class ModelError(NewsbotError):
    """A model (embedder or LLM) is missing, corrupt or unreachable."""
