"""newsbot's Chroma collection: opened, checked against the embedder, and kept current.

`NewsCollection.current()` is the collection object to call: when another process has written the
collection since this one loaded its index, it is fetched again from the reopened client (see
`vectorstore.sharing`). A collection must record the embedder and dimension that built it; one
built by another embedder, or not by newsbot, is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.api.models.Collection import Collection

from newsbot.errors import StoreError
from vectorstore.sharing import EmbeddedChroma, shared_chroma

SPACE: Final = "cosine"
#: Embedded collections save their index after every write, so that another process reopening
#: them loads it instead of replaying the write log (see `vectorstore.sharing`).
SYNC_THRESHOLD: Final = 1


class NewsCollection:
    """One collection of a Chroma client, shared with the other processes of the data dir.

    Raises:
        StoreError: the name is invalid, or the collection was built by another embedder or
            dimension, or not by newsbot.
    """

    def __init__(self, client: ClientAPI, name: str, embedder_name: str, dimension: int) -> None:
        self.name = name
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.shared = shared_chroma(client)
        self.embedded = isinstance(self.shared, EmbeddedChroma)
        self._swap_lock = threading.Lock()
        self.shared.track(name)
        with self.shared.loading():
            self._epoch = self.shared.epoch
            self._collection = self._open()
            self._collection.count()  # loads the index now, while no writer saves it

    @property
    def client(self) -> ClientAPI:
        """The Chroma client in use (a new one after another process's write was picked up)."""
        return self.shared.client

    def configuration(self) -> CreateCollectionConfiguration:
        """The configuration newsbot creates the collection with."""
        if self.embedded:
            return {"hnsw": {"space": SPACE, "sync_threshold": SYNC_THRESHOLD}}
        return {"hnsw": {"space": SPACE}}

    def current(self) -> Collection:
        """The collection, fetched again first when another process has written it."""
        self.shared.refresh(self.name)
        if self._epoch != self.shared.epoch:
            with self._swap_lock:
                epoch = self.shared.epoch
                if self._epoch != epoch:
                    self._collection = self._open()
                    self._epoch = epoch
        return self._collection

    def refresh(self, *, wait_for_writers: bool = False) -> None:
        """Take other processes' writes now; `wait_for_writers` waits for one underway first."""
        self.shared.refresh(self.name, wait_for_writers=wait_for_writers)

    @contextmanager
    def writing(self) -> Iterator[Collection]:
        """Hold around one write's Chroma calls; yields the (current) collection to write to."""
        with self.shared.writing(self.name):
            yield self.current()

    def _open(self) -> Collection:
        wanted = {"embedder": self.embedder_name, "dimension": self.dimension}
        try:
            collection = self.client.get_or_create_collection(
                self.name,
                configuration=self.configuration(),
                metadata=wanted,
                embedding_function=None,
            )
        except Exception as exc:  # chromadb validates names and talks to servers: untyped errors
            raise StoreError(
                f"Cannot open collection {self.name!r} ({exc}): use a name of 3-512 "
                "letters, digits, '.', '_' or '-' that starts and ends with a letter or digit"
            ) from exc
        have = collection.metadata or {}
        hnsw = collection.configuration_json.get("hnsw") or {}
        space = hnsw.get("space")
        if "embedder" not in have or space != SPACE:
            raise StoreError(
                f"Collection {self.name!r} was not created by newsbot (no embedder "
                f"recorded, or space {space!r} instead of {SPACE!r}): use another --collection"
            )
        if have.get("embedder") != self.embedder_name or have.get("dimension") != self.dimension:
            raise StoreError(
                f"Collection {self.name!r} was built with {have.get('embedder')} "
                f"(dim {have.get('dimension')}); you configured {self.embedder_name} "
                f"(dim {self.dimension}): use another --collection or re-ingest into a new one"
            )
        if self.embedded and hnsw.get("sync_threshold") != SYNC_THRESHOLD:
            # Made before newsbot shared data dirs: from now on its index is saved on every write.
            collection.modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})
        return collection
