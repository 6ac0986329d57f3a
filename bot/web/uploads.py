"""Uploads leave nothing behind: a refused upload's files are deleted, and old uploads expire.

Gradio's upload route writes each file of a request to a temporary file in its upload folder
before it checks the file's name; a name it then refuses (`..`) fails the request but left the
temporary file there, where `file=` would serve it. `delete_refused_uploads` makes the route
delete the temporary files a failed request wrote (names refused, a file over the size limit).

Uploads the Library never ingests (a form abandoned after the upload) are deleted by Gradio's
own `delete_cache` once UPLOAD_MAX_AGE old (`bot.web.ui`); ingested ones at once
(`bot.web.library`).
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any

from gradio import route_utils, routes

UPLOAD_MAX_AGE = 3600
"""Seconds an upload is kept when the Library does not ingest it."""

_written: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "newsbot_upload_files", default=None
)
# Gradio's module attributes (imported names, not exported): set and read with setattr/getattr.
_temporary_file = getattr(route_utils, "NamedTemporaryFile")  # noqa: B009
_upload_fn = route_utils.upload_fn


def _recorded_temporary_file(*args: Any, **kwargs: Any) -> Any:
    """Gradio's `NamedTemporaryFile`, its name noted for the upload request writing it."""
    file = _temporary_file(*args, **kwargs)
    written = _written.get()
    if written is not None:
        written.append(file.name)
    return file


async def _upload_fn_deleting_on_error(*args: Any, **kwargs: Any) -> Any:
    """Gradio's `upload_fn`; when it fails, the temporary files it wrote are deleted."""
    token = _written.set([])
    try:
        return await _upload_fn(*args, **kwargs)
    except BaseException:
        for name in _written.get() or []:
            Path(name).unlink(missing_ok=True)
        raise
    finally:
        _written.reset(token)


def delete_refused_uploads() -> None:
    """Install the wrappers in Gradio's upload route (idempotent)."""
    setattr(route_utils, "NamedTemporaryFile", _recorded_temporary_file)  # noqa: B010
    setattr(routes, "upload_fn", _upload_fn_deleting_on_error)  # noqa: B010
