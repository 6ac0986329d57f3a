"""The Chroma client: an embedded store in the data dir, or a `chroma run` server over HTTP.

Telemetry is always off. A server that cannot be reached is a `StoreError` that says how to start
it, not a connection traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings

from newsbot.errors import StoreError
from vectorstore.locks import FileLock

logger = logging.getLogger(__name__)

CHROMA_SUBDIR = "chroma"
OPEN_LOCK = "chroma-open.lock"


def make_chroma_client(
    data_dir: Path, host: str | None = None, port: int = 8000, ssl: bool = False
) -> ClientAPI:
    """A Chroma client: `PersistentClient` at `data_dir/chroma`, or `HttpClient` when `host` is set.

    Raises:
        StoreError: the server does not answer, or the embedded store cannot be opened.
    """
    settings = ChromaSettings(anonymized_telemetry=False)
    if host is None:
        path = data_dir / CHROMA_SUBDIR
        try:
            path.mkdir(parents=True, exist_ok=True)
            # Chroma creates and migrates its SQLite file on open; two processes opening a new
            # data dir at once (two `newsbot ingest` runs) collide there ("database is locked",
            # "table already exists"), so they open it one at a time.
            opening = FileLock.at(data_dir / OPEN_LOCK)
            try:
                with opening.hold(purpose="opening of the Chroma store"):
                    client = chromadb.PersistentClient(path=str(path), settings=settings)
            finally:
                opening.close()  # needed again only by another open: keep no descriptor
        except Exception as exc:  # chromadb raises many untyped errors for a bad folder
            raise StoreError(
                f"Cannot open the Chroma store at {path} ({exc}): check that the folder is "
                "writable and not used by another Chroma version, or set NEWSBOT_DATA_DIR"
            ) from exc
        logger.debug("Opened embedded Chroma at %s", path)
        return client
    fix = (
        f"start it with `chroma run --path {data_dir / CHROMA_SUBDIR} --port {port}` "
        "or unset NEWSBOT_CHROMA_HOST"
    )
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        client.heartbeat()
    except Exception as exc:  # httpx/chromadb errors differ by failure; all mean "unreachable"
        raise StoreError(f"Cannot reach Chroma at {host}:{port} ({exc}): {fix}") from exc
    logger.debug("Connected to Chroma at %s:%d", host, port)
    return client
