"""The one predictions store: JSON lines appended one record at a time, read back by key.

Every evaluation writes through it: the multiple-choice predictions of `newsbot eval` (keyed by
question id) and the raw drafts of the grounding and follow-up suites (keyed by question, passages,
prompts and model), so a killed run resumes where it stopped and a changed answer check re-scores
the cached drafts without the model. A run killed mid-write leaves a torn last line: reading skips
it (with a warning) and the first append cuts it off, so the next record starts on its own line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Key = Hashable


def _freeze(value: Any) -> Any:
    """A hashable copy: lists become tuples (chunk ids in a key)."""
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def key_of(*fields: str) -> Callable[[Record], Key]:
    """A key function over these record fields (one field: its value; several: a tuple)."""
    if len(fields) == 1:
        (name,) = fields
        return lambda record: _freeze(record.get(name))
    return lambda record: tuple(_freeze(record.get(name)) for name in fields)


BY_ID = key_of("id")


def summary_path_for(out_path: Path) -> Path:
    """Where the summary of a predictions or drafts file goes: `x.jsonl` → `x.summary.json`."""
    return out_path.with_name(out_path.name.removesuffix(".jsonl") + ".summary.json")


class PredictionStore:
    """Records in a JSON-lines file, by key; `append` writes and flushes one line at once."""

    def __init__(self, path: Path, key: Callable[[Record], Key] | None = None) -> None:
        self.path = Path(path)
        self.key = key or BY_ID
        self._records: dict[Key, Record] | None = None
        self._tail_checked = False

    def read(self) -> dict[Key, Record]:
        """Every record in the file by key (a later line with the same key wins)."""
        if self._records is None:
            self._records = dict(self._read())
        return self._records

    def _read(self) -> Iterator[tuple[Key, Record]]:
        if not self.path.is_file():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    logger.warning("Ignoring a torn line in %s (a killed run)", self.path)
                    continue
                if isinstance(record, dict):
                    yield self.key(record), record

    def get(self, key: Key) -> Record | None:
        """The record under `key`, or None."""
        return self.read().get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.read()

    def __len__(self) -> int:
        return len(self.read())

    def append(self, record: Record) -> None:
        """Write one record as a line (cutting a torn tail first) and keep it in memory."""
        records = self.read()
        if not self._tail_checked:
            drop_torn_tail(self.path)
            self._tail_checked = True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
        records[self.key(record)] = record


def drop_torn_tail(path: Path) -> None:
    """Cut a last line a killed run left unfinished, so the next line does not run into it."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
