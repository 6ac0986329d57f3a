"""The keyword ranking held in memory (docs/ARCHITECTURE.md, "Searching"): Okapi BM25 over the
keyword index's rows as postings arrays scored with numpy, where the database scores every chunk
holding any word of the question (0.6 ms p50 against FTS5's 14 ms over 9,448 chunks).

The database stays the one truth. Before each search this copy reads the index's change journal
past the last entry it applied and re-reads those articles' rows (a re-read, not a delta, so
replaying one twice is harmless); an entry without an article rebuilds it. Building reads every
row (15 s at 61k chunks), so it runs on a thread started by the process's second distinct
question; until it is ready, and while it rebuilds after falling far behind, the database ranks.

Scoring is FTS5's `bm25()` (k1 1.2, b 0.75, idf floored at 1e-6, title and text one document)
over words split and Porter-stemmed as FTS5's `porter unicode61` tokenizer does, so the two rank
alike (their top 12 agree 99% on the mini questions over the full 2022 corpus).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final, Protocol

import numpy as np
import Stemmer

from vectorstore.filters import ChunkFilter
from vectorstore.records import KeywordChunk

logger = logging.getLogger(__name__)

K1: Final = 1.2
B: Final = 0.75
MIN_IDF: Final = 1e-6
#: Changed articles a search re-reads itself; more and it ranks in the database while a thread
#: rebuilds (re-reading many articles costs as much as a rebuild).
MAX_CATCH_UP: Final = 200
#: Pending postings (added since the last compaction) are scanned per query term; past this
#: share of the compacted ones (and at least `MIN_PENDING`) they are merged in, and so are the
#: dead slots past a quarter of all (at least `MIN_DEAD`).
PENDING_SHARE: Final = 0.05
MIN_PENDING: Final = 20_000
MIN_DEAD: Final = 1_000

_WORD = re.compile(r"[^\W_]+")


class Stems:
    """Words to the terms FTS5's `porter unicode61 remove_diacritics 2` tokenizer makes of them
    (case-folded, accents removed, Porter-stemmed). Not thread-safe (PyStemmer's stemmer)."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("porter")

    def term(self, word: str) -> str:
        """The term of one lower-case word."""
        if not word.isascii():
            decomposed = unicodedata.normalize("NFKD", word)
            word = "".join(c for c in decomposed if not unicodedata.combining(c))
        return str(self._stemmer.stemWord(word))

    @staticmethod
    def words(text: str) -> list[str]:
        """The lower-case words of `text`, as the tokenizer splits it."""
        return _WORD.findall(text.casefold())


class Journal(Protocol):
    """How the ranking reads its database: the change journal, and the rows of some articles or
    all (`vectorstore.keywords.KeywordIndex` is one)."""

    def latest_change(self) -> int:
        """The last journal entry's number (0: none)."""

    def changes_since(self, seq: int) -> list[tuple[int, str | None]]:
        """Entries after `seq`, in order: (number, article id; None: everything changed)."""

    def rows(self, article_ids: Sequence[str] | None = None) -> Iterable[KeywordChunk]:
        """The rows of these articles (None: every row)."""


class _Postings:
    """The postings of one version of the index; changed only under `MemoryKeywords._lock`.

    Documents (chunks) occupy slots; a deleted one is marked dead and skipped until the next
    compaction renumbers the live ones. Postings are compacted arrays (`offsets` per term id,
    `post_slot`, `post_tf`) plus pending ones appended since, scanned per query term.
    """

    def __init__(self) -> None:
        self.term_ids: dict[str, int] = {}  # term -> id, from 1
        self.word_ids: dict[str, int] = {}  # word as written (lower case) -> its term's id
        self.offsets = np.zeros(1, np.int64)
        self.post_slot = np.zeros(0, np.int32)
        self.post_tf = np.zeros(0, np.float32)
        self.pend_term = array("i")
        self.pend_slot = array("i")
        self.pend_tf = array("i")
        self.chunk_ids: list[str] = []
        self.alive = array("b")
        self.length = array("i")
        self.day = array("i")
        self.source = array("i")
        self.source_ids: dict[str, int] = {}
        self.slots_of: dict[str, list[int]] = {}
        self.live = 0
        self.live_length = 0

    # --- writes ----------------------------------------------------------------------------------

    def add(self, chunk: KeywordChunk, stems: Stems) -> None:
        words = stems.words(f"{chunk.title} {chunk.text}")
        ids = self.word_ids
        terms = Counter([ids.get(w) or self._term_id(w, stems) for w in words])
        length = len(words)
        slot = len(self.chunk_ids)
        self.chunk_ids.append(chunk.chunk_id)
        self.alive.append(1)
        self.length.append(length)
        self.day.append(chunk.day)
        self.source.append(self.source_ids.setdefault(chunk.source, len(self.source_ids)))
        self.slots_of.setdefault(chunk.article_id, []).append(slot)
        self.live += 1
        self.live_length += length
        self.pend_term.extend(terms.keys())
        self.pend_slot.extend([slot] * len(terms))
        self.pend_tf.extend(terms.values())

    def _term_id(self, word: str, stems: Stems) -> int:
        """The id of `word`'s term (new words and terms get the next ids; term ids start at 1
        so that `word_ids.get(w) or ...` never mistakes an id for a miss)."""
        term_id = self.term_ids.setdefault(stems.term(word), len(self.term_ids) + 1)
        self.word_ids[word] = term_id
        return term_id

    def remove(self, article_id: str) -> None:
        for slot in self.slots_of.pop(article_id, []):
            if self.alive[slot]:
                self.alive[slot] = 0
                self.live -= 1
                self.live_length -= self.length[slot]

    def needs_compaction(self) -> bool:
        dead = len(self.chunk_ids) - self.live
        return len(self.pend_term) > max(MIN_PENDING, PENDING_SHARE * len(self.post_slot)) or (
            dead > max(MIN_DEAD, len(self.chunk_ids) // 4)
        )

    def compact(self) -> None:
        """Merge the pending postings into the arrays and drop the dead slots."""
        alive = np.frombuffer(self.alive, np.int8).astype(bool)
        renumber = np.cumsum(alive, dtype=np.int64) - 1
        term = np.concatenate(
            [
                np.repeat(np.arange(len(self.offsets) - 1, dtype=np.int32), np.diff(self.offsets)),
                np.frombuffer(self.pend_term, np.int32),
            ]
        )
        slot = np.concatenate([self.post_slot, np.frombuffer(self.pend_slot, np.int32)])
        tf = np.concatenate([self.post_tf, np.frombuffer(self.pend_tf, np.int32)])
        kept = alive[slot]
        term, slot, tf = term[kept], renumber[slot[kept]].astype(np.int32), tf[kept]
        order = np.argsort(term, kind="stable")  # stable: slots stay ascending within a term
        self.post_slot = slot[order]
        self.post_tf = tf[order].astype(np.float32)
        self.offsets = np.searchsorted(term[order], np.arange(len(self.term_ids) + 2))
        self.pend_term, self.pend_slot, self.pend_tf = array("i"), array("i"), array("i")
        live = np.flatnonzero(alive)
        self.chunk_ids = [self.chunk_ids[i] for i in live]
        for name in ("length", "day", "source"):
            setattr(self, name, array("i", np.frombuffer(getattr(self, name), np.int32)[live]))
        self.alive = array("b", bytes([1]) * len(live))
        self.slots_of = {
            article: [int(renumber[slot]) for slot in slots if alive[slot]]
            for article, slots in self.slots_of.items()
        }

    # --- reads -----------------------------------------------------------------------------------

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """Each slot's BM25 score for `terms` (0: none of them, or dead)."""
        slots = len(self.chunk_ids)
        total = np.zeros(slots, np.float32)
        if not self.live:
            return total
        alive = np.frombuffer(self.alive, np.int8).astype(bool)
        average = self.live_length / self.live or 1.0  # every chunk empty: nothing matches
        norm = K1 * (1 - B + B * np.frombuffer(self.length, np.int32) / average)
        pend_term = np.frombuffer(self.pend_term, np.int32)
        for term in dict.fromkeys(terms):
            tid = self.term_ids.get(term)
            if tid is None:
                continue
            slot, tf = self._postings(tid, pend_term)
            slot, tf = slot[alive[slot]], tf[alive[slot]]
            df = len(slot)
            if not df:
                continue
            idf = max(float(np.log((self.live - df + 0.5) / (df + 0.5))), MIN_IDF)
            # A term's slots are distinct, so fancy-index accumulation adds each once.
            total[slot] += (idf * tf * (K1 + 1) / (tf + norm[slot])).astype(np.float32)
        total[~alive] = 0
        return total

    def _postings(self, tid: int, pend_term: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slot = self.post_slot[0:0]
        tf = self.post_tf[0:0]
        if tid + 1 < len(self.offsets):
            start, end = self.offsets[tid], self.offsets[tid + 1]
            slot, tf = self.post_slot[start:end], self.post_tf[start:end]
        if len(pend_term):
            hit = pend_term == tid
            if hit.any():
                slot = np.concatenate([slot, np.frombuffer(self.pend_slot, np.int32)[hit]])
                tf = np.concatenate(
                    [tf, np.frombuffer(self.pend_tf, np.int32)[hit].astype(np.float32)]
                )
        return slot, tf

    def keeps(self, where: ChunkFilter) -> np.ndarray:
        """Which slots `where` keeps (as `ChunkFilter.keeps_day`)."""
        day = np.frombuffer(self.day, np.int32)
        kept = np.ones(len(day), bool)
        if where.first_day is not None:
            kept &= day >= where.first_day
        if where.last_day is not None:
            kept &= day <= where.last_day
        if where.sources:
            wanted = [self.source_ids[s] for s in where.sources if s in self.source_ids]
            kept &= np.isin(np.frombuffer(self.source, np.int32), wanted)
        return kept


class MemoryKeywords:
    """One collection's keyword ranking in this process (see the module docstring)."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._stems = Stems()
        self._lock = threading.Lock()  # the postings and the journal position
        self._start_lock = threading.Lock()
        self._postings: _Postings | None = None
        self._applied = 0  # the last journal entry the postings reflect
        self._first_terms: tuple[str, ...] | None = None  # of this process's first search
        self._building: threading.Thread | None = None
        self.failed: str | None = None
        """Why the last build failed (the database ranks meanwhile); None when it did not."""

    def ready(self) -> bool:
        """True once built (it may still be behind the journal)."""
        return self._postings is not None

    def search(
        self, terms: Sequence[str], n: int, where: ChunkFilter | None
    ) -> list[tuple[str, float]] | None:
        """The `n` best chunks for the (unstemmed) query words `terms`, best first, as (chunk id,
        score), among those `where` keeps; None when this process cannot rank yet (not built,
        or far behind the journal: a rebuild has started) and the database must."""
        if self._postings is None or self.failed is not None:
            if self._first_terms is None:
                self._first_terms = tuple(terms)
            elif tuple(terms) != self._first_terms:
                self.start()
            return None
        with self._lock:
            stemmed = [self._stems.term(t) for t in terms]
            if not self._catch_up():
                return None
            postings = self._postings
            if postings is None:
                return None
            scores = postings.scores(stemmed)
            if where is not None:
                scores[~postings.keeps(where)] = 0
            hits = np.flatnonzero(scores > 0)
            if len(hits) > n:
                hits = hits[np.argpartition(-scores[hits], n - 1)[:n]]
            # Ties break by slot, which follows insertion order, as FTS5's rowid does.
            best = hits[np.lexsort((hits, -scores[hits]))]
            return [(postings.chunk_ids[i], float(scores[i])) for i in best]

    def build(self) -> None:
        """Read every row and index it (on the calling thread)."""
        # The journal's position first: a write landing during the read is replayed after.
        position = self._journal.latest_change()
        postings = _Postings()
        stems = Stems()  # its own: searches stem with theirs meanwhile
        for chunk in self._journal.rows(None):
            postings.add(chunk, stems)
        postings.compact()
        with self._lock:
            self._postings, self._applied = postings, position
        logger.debug("Keyword index in memory: %d chunks", postings.live)

    def release(self) -> None:
        """Forget the copy (the database ranks until a later search starts a build)."""
        with self._lock:
            self._postings = None
            self._first_terms = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a build in progress; True when built."""
        thread = self._building
        if thread is not None:
            thread.join(timeout)
        return self.ready()

    def start(self) -> None:
        """Start a build on a thread (as a process's second question does), unless one runs or
        one failed (the database ranks for the rest of this process then; the warning said
        why)."""
        with self._start_lock:
            if self.failed is not None or (self._building and self._building.is_alive()):
                return
            self._building = threading.Thread(
                target=self._build_logged, name="keyword-memory-build", daemon=True
            )
            self._building.start()

    def disable(self, error: BaseException) -> None:
        """Drop the copy for good after `error` (a failed build or search): the database ranks
        for the rest of this process, and the log says why, once."""
        with self._start_lock:
            if self.failed is None:
                self.failed = repr(error)
                logger.warning("Keyword ranking stays in the database from now on: %r", error)
        self._postings = None

    def _build_logged(self) -> None:
        try:
            self.build()
        except Exception as exc:  # the database keeps ranking
            self.disable(exc)

    def _catch_up(self) -> bool:
        """Apply the journal's entries since the last applied (holding the lock); False when
        too many have come to apply here (a rebuild starts)."""
        changes = self._journal.changes_since(self._applied)
        if not changes:
            return True
        articles = list(dict.fromkeys(a for _, a in changes if a is not None))
        if any(a is None for _, a in changes) or len(articles) > MAX_CATCH_UP:
            self._postings = None
            self.start()
            return False
        postings = self._postings
        assert postings is not None
        for article in articles:
            postings.remove(article)
        for chunk in self._journal.rows(articles):
            postings.add(chunk, self._stems)
        if postings.needs_compaction():
            postings.compact()
        self._applied = changes[-1][0]
        return True
