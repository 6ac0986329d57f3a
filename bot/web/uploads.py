"""Uploads leave nothing behind: a refused upload's files are deleted, and old uploads expire.

Gradio's upload route writes each file of a request to a temporary file in its upload folder
before it checks the file's name; a name it then refuses (`..`) fails the request but left the
temporary file there, where `file=` would serve it, and the files of the same request it had
already moved to their final names. `delete_refused_uploads` makes the route delete every file a
failed request wrote (names refused, a file over the size limit).

Uploads the Library never ingests (a form abandoned after the upload) are deleted by Gradio's
own `delete_cache` once UPLOAD_MAX_AGE old (`bot.web.ui`); ingested ones at once
(`bot.web.library`).
"""

from __future__ import annotations

import contextvars
import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from gradio import route_utils, routes

UPLOAD_MAX_AGE = 3600
"""Seconds an upload is kept when the Library does not ingest it."""

_written: contextvars.ContextVar[list[tuple[str, int, int]] | None] = contextvars.ContextVar(
    "newsbot_upload_files", default=None
)
"""The temporary files the running upload request wrote: path, device and inode (a file Gradio
already moved to its final name keeps its inode)."""
# Gradio's module attributes (imported names, not exported): set and read with setattr/getattr.
_temporary_file = getattr(route_utils, "NamedTemporaryFile")  # noqa: B009
_upload_fn = route_utils.upload_fn


def _recorded_temporary_file(*args: Any, **kwargs: Any) -> Any:
    """Gradio's `NamedTemporaryFile`, its name noted for the upload request writing it."""
    file = _temporary_file(*args, **kwargs)
    written = _written.get()
    if written is not None:
        stat = os.fstat(file.fileno())
        written.append((file.name, stat.st_dev, stat.st_ino))
    return file


async def _upload_fn_deleting_on_error(*args: Any, **kwargs: Any) -> Any:
    """Gradio's `upload_fn`; when it fails, the temporary files it wrote are deleted."""
    token = _written.set([])
    try:
        return await _upload_fn(*args, **kwargs)
    except BaseException:
        _delete(_written.get() or [])
        raise
    finally:
        _written.reset(token)


def _delete(written: list[tuple[str, int, int]]) -> None:
    """Delete the files a failed upload wrote, under their temporary names or the final ones
    Gradio moved the first files of the request to before it refused a later one."""
    moved = set()
    for name, device, inode in written:
        path = Path(name)
        if path.exists():
            path.unlink(missing_ok=True)
        else:
            moved.add((device, inode))
    if not moved:
        return
    for folder in Path(name).parent.iterdir():  # Gradio's upload folder: <sha256>/<name>
        if folder.is_dir() and not folder.is_symlink():
            for path in folder.iterdir():
                with suppress(OSError):
                    stat = path.lstat()
                    if (stat.st_dev, stat.st_ino) in moved:
                        path.unlink()


def delete_refused_uploads() -> None:
    """Install the wrappers in Gradio's upload route (idempotent)."""
    setattr(route_utils, "NamedTemporaryFile", _recorded_temporary_file)  # noqa: B010
    setattr(routes, "upload_fn", _upload_fn_deleting_on_error)  # noqa: B010
