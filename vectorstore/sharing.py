"""newsbot's Chroma collection (`NewsCollection`), and how processes that share a data dir see
each other's committed writes (docs/ARCHITECTURE.md, "Processes sharing a data dir").

Embedded Chroma keeps a collection's vector index in the memory of each process that loaded it and
has no call to refresh it, so `EmbeddedChroma` builds a new Chroma `System` for the folder when
another process has written the collection since this one loaded it. Writers hold `newsbot.lock`
exclusively around their Chroma calls and then bump the collection's counter in `newsbot-writes/`;
loaders hold the lock shared; a search compares the counter (one `pread`) before it reads. A
Chroma server holds the one index every client searches: `SharedChroma` has nothing to refresh.
A folder's `EmbeddedChroma` closes its clients, counter files and lock file when the last
`NewsCollection` of the folder is closed.

`NewsCollection.current()` is the collection object to call: fetched again from the reopened
client when another process has written it. A collection must record the embedder and dimension
that built it; one built by another embedder, or not by newsbot, is refused. An embedded index
that a killed write left unreadable is rebuilt when opened, or reopened, under the write lock
(`vectorstore.repair` holds the steps).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from chromadb.api import ClientAPI, ServerAPI
from chromadb.api.client import Client
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.api.models.Collection import Collection
from chromadb.config import System

from newsbot.errors import StoreError
from vectorstore.locks import FileLock
from vectorstore.repair import (
    Embed,
    embed_again,
    index_folder,
    rebuild_unfinished,
    remove_set_aside,
    set_aside,
    unreadable_index,
)

logger = logging.getLogger(__name__)

LOCK_FILE = "newsbot.lock"
WRITES_DIR = "newsbot-writes"
_COUNTER_BYTES = 21  # 20 digits and a newline


class SharedChroma:
    """A Chroma client that stays current with the writes of other processes; as is for a
    `chroma run` server (or an in-memory client), where every client sees every write at once.

    Get one with `shared_chroma(client)` and give the client back with `release`. `client` may
    change after a `refresh`; `epoch` counts the changes, so holders of a collection object know
    to fetch it again.
    """

    epoch: int = 0

    def __init__(self, client: ClientAPI) -> None:
        self.client = client

    def release(self, client: ClientAPI, *, keep: bool = False) -> None:
        """Done with `client`, the one given to `shared_chroma`: close it, unless `keep` (its
        giver still owns it: the collection failed to open)."""
        if not keep:
            close_client(client)

    def track(self, collection: str) -> None:
        """Start following `collection`; call before this process first reads it."""

    def stale(self, collection: str) -> bool:
        """True when another process has written `collection` since this one loaded it."""
        return False

    def refresh(self, collection: str, *, wait_for_writers: bool = False) -> None:
        """Reopen when `collection` is stale; `wait_for_writers` first waits for a write to end."""

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Hold while loading a collection's index for the first time."""
        yield

    @contextmanager
    def writing(self, collection: str) -> Iterator[None]:
        """Hold around the Chroma calls of one write to `collection`."""
        yield


class EmbeddedChroma(SharedChroma):
    """An embedded Chroma folder shared with other processes; see the module docstring."""

    def __init__(self, client: ClientAPI, folder: Path) -> None:
        super().__init__(client)
        self.folder = folder
        # Its thread lock also keeps this process's threads from reopening twice at once.
        self._lock = FileLock.at(folder / LOCK_FILE)
        self._counters: dict[str, int] = {}  # collection -> open descriptor of its counter file
        self._seen: dict[str, bytes] = {}
        # The clients its users gave (they share the folder's first `System`), closed with the
        # current one when the last user is done; retired reopens are left to `_collect_soon`.
        self._clients: list[ClientAPI] = []
        self._users = 0

    def _join(self, client: ClientAPI) -> None:
        """One more user, opened with `client` (under `_shared_lock`)."""
        self._users += 1
        self._clients.append(client)

    def release(self, client: ClientAPI, *, keep: bool = False) -> None:
        """Done with `client`; the folder's last user's release closes the clients (but `client`
        when `keep`), the counter files and the lock file, and a later `shared_chroma` starts
        afresh."""
        with _shared_lock:
            if keep:
                self._clients.remove(client)
            self._users -= 1
            if self._users > 0:
                return
            if _shared.get(str(self.folder)) is self:
                del _shared[str(self.folder)]
        closing = list(self._clients)
        if all(self.client is not each for each in closing) and not (
            keep and self.client is client
        ):
            closing.append(self.client)  # made by a reopen
        for each in closing:
            close_client(each)
        self._clients.clear()
        for fd in self._counters.values():
            os.close(fd)
        self._counters.clear()
        self._lock.close()

    def _counter(self, collection: str) -> int:
        fd = self._counters.get(collection)
        if fd is None:
            path = self.folder / WRITES_DIR / file_name(collection)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._counters[collection] = fd
        return fd

    def _read(self, collection: str) -> bytes:
        return os.pread(self._counter(collection), _COUNTER_BYTES, 0)

    def track(self, collection: str) -> None:
        if collection not in self._seen:
            self._seen[collection] = self._read(collection)

    def stale(self, collection: str) -> bool:
        return self._read(collection) != self._seen.get(collection)

    def refresh(self, collection: str, *, wait_for_writers: bool = False) -> None:
        if not (wait_for_writers or self.stale(collection)):
            return
        with self._lock.hold(shared=True, purpose="write"):
            if self.stale(collection):  # another thread may have reopened meanwhile
                self._reopen()

    @contextmanager
    def loading(self) -> Iterator[None]:
        with self._lock.hold(shared=True, purpose="write"):
            yield

    @contextmanager
    def writing(self, collection: str) -> Iterator[None]:
        with self._lock.hold(purpose="write"):
            if self.stale(collection):
                # Writing from a stale index would save it over the other process's writes.
                self._reopen()
            try:
                yield
            finally:
                self._seen[collection] = self._bump(collection)

    def _bump(self, collection: str) -> bytes:
        fd = self._counter(collection)
        text = os.pread(fd, _COUNTER_BYTES, 0).strip()
        value = f"{int(text or b'0') + 1:020d}\n".encode()
        os.pwrite(fd, value, 0)
        return value

    def _reopen(self) -> None:
        """A new Chroma `System` for the folder, with every tracked collection loaded again.

        Called with the lock held (shared or exclusive). `Client.from_system` also makes the new
        system the one later `PersistentClient`s of this folder get; the old one keeps serving
        the searches already running on it and is freed when the last of them lets go.
        """
        started = time.perf_counter()
        seen = {name: self._read(name) for name in self._seen}
        system = System(self.client.get_settings())
        system.instance(ServerAPI)  # type: ignore[type-abstract]  # as chromadb itself does
        system.start()
        client = Client.from_system(system)
        for name in seen:
            try:
                client.get_collection(name).count()  # loads its index now, under the lock
            except Exception:  # deleted meanwhile: its store reports that on its next call
                logger.debug("Collection %r is gone after a reopen", name)
        self.client, self._seen = client, seen
        self.epoch += 1
        _collect_soon()
        logger.info(
            "Reopened %s after another process wrote (%.0f ms)",
            self.folder,
            1000 * (time.perf_counter() - started),
        )


_shared: dict[str, EmbeddedChroma] = {}
_shared_lock = threading.Lock()


def shared_chroma(client: ClientAPI) -> SharedChroma:
    """The process's `SharedChroma` for `client`: one per embedded folder, one per server client.
    Give `client` back with its `release` when done."""
    settings = client.get_settings()
    if not (settings.is_persistent and settings.persist_directory):
        return SharedChroma(client)
    key = os.path.realpath(settings.persist_directory)
    with _shared_lock:
        shared = _shared.get(key)
        if shared is None:
            shared = _shared[key] = EmbeddedChroma(client, Path(key))
        shared._join(client)
        return shared


def close_client(client: ClientAPI) -> None:
    """Close `client`: chromadb stops a folder's `System` when its last client closes, but leaves
    a server client's HTTP connections open, so they are closed here."""
    if isinstance(client, Client):  # every client chromadb makes; `ClientAPI` declares no close
        client.close()
        # A server client and the admin client inside it each hold an HTTP session
        # (`chromadb.api.fastapi.FastAPI._session`) that chromadb's close leaves open.
        for part in (client, getattr(client, "_admin_client", None)):
            session = getattr(getattr(part, "_server", None), "_session", None)
            if session is not None:
                session.close()


_collecting = threading.Lock()


def _collect_soon() -> None:
    """Free retired systems (their threads, open files and index memory) in the background.

    A retired system sits in reference cycles, so only a full garbage collection frees it. That
    takes 0.1-0.6 s in a serving process, so it runs a moment after the reopen, off the search
    that triggered it, and once for several reopens in a row.
    """
    if not _collecting.acquire(blocking=False):
        return

    def collect() -> None:
        try:
            time.sleep(1.0)
            gc.collect()
        finally:
            _collecting.release()

    threading.Thread(target=collect, name="newsbot-chroma-gc", daemon=True).start()


def file_name(collection: str) -> str:
    """A file name for `collection`: itself (names use only [A-Za-z0-9._-]), hashed when long."""
    return collection if len(collection) <= 100 else hashlib.sha256(collection.encode()).hexdigest()


SPACE: Final = "cosine"
#: Embedded collections save their index after every write, so that another process reopening
#: them loads it instead of replaying the write log (see `vectorstore.sharing`).
SYNC_THRESHOLD: Final = 1


class NewsCollection:
    """One collection of a Chroma client, shared with the other processes of the data dir.

    An embedded collection whose saved index a killed process left unreadable is rebuilt on
    opening, with `embed` (`vectorstore.repair`).

    Raises:
        StoreError: the name is invalid, or the collection was built by another embedder or
            dimension, or not by newsbot.
    """

    def __init__(
        self,
        client: ClientAPI,
        name: str,
        embedder_name: str,
        dimension: int,
        embed: Embed | None = None,
    ) -> None:
        self.name = name
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._embed = embed
        self.rebuilt = False  # whether opening rebuilt the index
        self.shared = shared_chroma(client)
        self.embedded = isinstance(self.shared, EmbeddedChroma)
        self._given = client
        self._closed = False
        self._swap_lock = threading.Lock()
        try:
            self.shared.track(name)
            with self.shared.loading():
                self._epoch = self.shared.epoch
                self._collection = self._open()
                loaded = self._load()
            if not loaded:
                self._rebuild()
        except BaseException:
            self.close(keep_client=True)  # the caller still owns the client it gave
            raise

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
                    if not self._load():  # another process's rebuild stopped midway
                        self._rebuild()
        return self._collection

    def refresh(self, *, wait_for_writers: bool = False) -> None:
        """Take other processes' writes now; `wait_for_writers` waits for one underway first."""
        self.shared.refresh(self.name, wait_for_writers=wait_for_writers)

    def close(self, *, keep_client: bool = False) -> None:
        """Give back the client this collection was opened with (see `SharedChroma.release`),
        closed unless `keep_client`; a second close does nothing."""
        with self._swap_lock:
            if self._closed:
                return
            self._closed = True
        self.shared.release(self._given, keep=keep_client)

    @contextmanager
    def writing(self) -> Iterator[Collection]:
        """Hold around one write's Chroma calls; yields the (current) collection to write to."""
        with self.shared.writing(self.name):
            yield self.current()

    def _load(self) -> bool:
        """Load the index now, while no writer saves it; False when it is an embedded index that
        a killed write left unreadable, or whose rebuild was stopped."""
        try:
            self._collection.count()
        except Exception as exc:  # chromadb's InternalError
            if self.embedded and unreadable_index(exc):
                return False
            raise
        shared = self.shared
        return not (
            isinstance(shared, EmbeddedChroma) and rebuild_unfinished(shared.folder, self.name)
        )

    def rebuild(self) -> None:
        """Rebuild the embedded index from the stored chunks now (`newsbot repair`: an index that
        loads but whose searches fail)."""
        self._rebuild(force=True)

    def _rebuild(self, *, force: bool = False) -> None:
        """Rebuild the index from the stored chunks under the write lock (other processes wait,
        then reopen), unless it is not `force`d and loads (another process rebuilt it first)."""
        shared = self.shared
        if not isinstance(shared, EmbeddedChroma) or self._embed is None:
            raise StoreError(
                f"The vector index of collection {self.name!r} can only be rebuilt in an "
                "embedded store (a Chroma server keeps its own)"
            )
        with shared.writing(self.name):
            self._collection = self._open()
            if not force and self._load():
                return
            logger.warning(
                "Rebuilding the vector index of collection %r from the stored chunks (%s), which "
                "takes as long as embedding them did",
                self.name,
                "asked for"
                if force
                else "it cannot be read, or its rebuild was stopped: a process was probably "
                "killed while saving it",
            )
            started = time.perf_counter()
            folder = index_folder(shared.folder, self.name)
            if folder is not None:
                set_aside(folder)
            shared._reopen()  # a Chroma that starts the index afresh
            self._epoch = shared.epoch
            self._collection = self._open()
            batch = min(256, self.client.get_max_batch_size())
            chunks = embed_again(self._collection, self._embed, batch)
            if folder is not None:
                remove_set_aside(folder)  # done: a later opening need not rebuild
        self.rebuilt = True
        logger.warning(
            "Rebuilt the vector index of collection %r from its %d stored chunks in %.1f s",
            self.name,
            chunks,
            time.perf_counter() - started,
        )

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
