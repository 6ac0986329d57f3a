"""Rebuilding an embedded collection's vector index that a killed process left unreadable.

Embedded Chroma saves a collection's HNSW index in place after every newsbot write: it rewrites
the index files and then `index_metadata.pickle` (chromadb 1.5, `rust/segment/src/local_hnsw.rs`,
`persist`), neither atomically. A process killed in that moment (SIGKILL, out of memory, power
loss) leaves a file empty or short, and every later read of the collection fails while loading
the index. The chunks themselves are safe: Chroma keeps their text and metadata in its SQLite
file, which a kill cannot tear. So the index is rebuilt from them: the damaged folder is moved
aside, Chroma starts the collection's index afresh, and every chunk is embedded again and
upserted (its text and metadata unchanged). A kill can also leave an index that loads but whose
searches fail (`damaged_elements`): `newsbot repair` sets it aside for the same rebuild.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

from chromadb.api.models.Collection import Collection

from newsbot.errors import StoreError

logger = logging.getLogger(__name__)

#: chromadb's errors for a saved index whose files cannot be parsed (not for one it cannot open:
#: a permission or a missing disk is the user's to fix, and rebuilding would not help).
_UNREADABLE_INDEX = ("Error deserializing pickle file", "Error loading hnsw index")

Embed = Callable[[list[str]], Sequence[Sequence[float]]]


def unreadable_index(error: Exception) -> bool:
    """True when `error` is chromadb's failure to load a collection's saved vector index."""
    return any(text in str(error) for text in _UNREADABLE_INDEX)


def damaged_elements(error: Exception) -> bool:
    """True when `error` is chromadb's failure to find an element that a loaded index counts:
    an index a kill left half-saved in a way that still loads (`newsbot repair`)."""
    return any(text in str(error) for text in ("Error finding id", "Error getting embedding"))


def index_folder(persist_directory: Path, collection: str) -> Path | None:
    """Where the vector index of the collection named `collection` lives (or will): Chroma names
    the folder by the id of the collection's vector segment, which only its SQLite file records.
    None when there is no such collection."""
    path = persist_directory / "chroma.sqlite3"
    if not path.exists():  # an empty data dir: nothing stored yet
        return None
    uri = f"{path.as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        row = db.execute(
            "SELECT segments.id FROM segments JOIN collections "
            "ON collections.id = segments.collection "
            "WHERE collections.name = ? AND segments.scope = 'VECTOR'",
            (collection,),
        ).fetchone()
    return persist_directory / row[0] if row else None


def set_aside_name(folder: Path) -> Path:
    """Where a damaged index `folder` is kept until its rebuild ends: while it exists, the
    rebuild is unfinished (a kill stopped it) and the next opening starts it again."""
    return folder.with_name(folder.name + ".damaged")


def rebuild_unfinished(persist_directory: Path, collection: str) -> bool:
    """True when a rebuild of `collection`'s index was stopped before it ended."""
    if not any(persist_directory.glob("*.damaged")):  # the usual case: no query
        return False
    folder = index_folder(persist_directory, collection)
    return folder is not None and set_aside_name(folder).is_dir()


def set_aside(folder: Path) -> None:
    """Move the damaged (or partly rebuilt) index `folder`, if there, out of Chroma's way; an
    earlier one set aside is replaced."""
    if folder.is_dir():
        aside = set_aside_name(folder)
        shutil.rmtree(aside, ignore_errors=True)
        try:
            folder.rename(aside)
        except OSError as exc:
            raise StoreError(
                f"The vector index in {folder} cannot be read, nor moved aside to rebuild it "
                f"({exc.strerror}): make the data dir writable and open it again"
            ) from exc


def remove_set_aside(folder: Path) -> None:
    """Delete the damaged index set aside for `folder`: its rebuild has ended."""
    aside = set_aside_name(folder)
    shutil.rmtree(aside, ignore_errors=True)
    if aside.exists():  # else every opening would rebuild again
        logger.warning("Could not delete %s after rebuilding its index: delete it by hand", aside)


def embed_again(collection: Collection, embed: Embed, batch: int) -> int:
    """Embed every chunk of `collection` again and upsert it, `batch` at a time; the number of
    chunks. Reads the text and metadata from Chroma's SQLite file, so it works while the index
    is empty."""
    ids = collection.get(include=[])["ids"]
    for start in range(0, len(ids), batch):
        rows = collection.get(ids=ids[start : start + batch], include=["documents", "metadatas"])
        documents = [text or "" for text in rows["documents"] or []]
        collection.upsert(
            ids=rows["ids"],
            embeddings=list(embed(documents)),
            documents=documents,
            metadatas=rows["metadatas"],
        )
    return len(ids)
