"""The sandbox's world in SQLite: one JSON document per object, keyed by (kind, key).

WAL mode and a busy timeout let separate CLI processes (a `sandbox serve`, a `plan` using
`base_url: sandbox`) share one file and see each other's writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def now() -> datetime:
    """The current time in UTC (one place, so the world's clock is consistent)."""
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 with microseconds and a Z suffix."""
    moment = moment or now()
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """Inverse of ``timestamp`` (accepts any RFC 3339 form Python can read)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Store:
    """Documents by kind and key. Every mutation happens inside ``transaction()``."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0
        # parsed documents per kind, valid while nobody (this or another process) has written;
        # listing thousands of automations page by page would otherwise re-parse them each time
        self._cache: dict[str, tuple[int, dict[str, dict[str, Any]]]] = {}

    def close(self) -> None:
        """Release the file."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """An IMMEDIATE transaction, so a read-modify-write is atomic across processes."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                self._cache.clear()
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """One document, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT doc FROM objects WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every document of a kind, in insertion order.

        The documents are shared with later calls: read them, and ``get`` one to change it.
        """
        with self._lock:
            version = self._data_version()
            cached = self._cache.get(kind)
            if cached is None or cached[0] != version:
                rows = self._db.execute(
                    "SELECT key, doc FROM objects WHERE kind = ? ORDER BY seq", (kind,)
                ).fetchall()
                cached = (version, {key: json.loads(doc) for key, doc in rows})
                self._cache[kind] = cached
            return list(cached[1].values())

    def with_prefix(self, kind: str, prefix: str) -> list[dict[str, Any]]:
        """The documents of a kind whose key starts with ``prefix``, in insertion order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT doc FROM objects WHERE kind = ? AND key >= ? AND key < ? ORDER BY seq",
                (kind, prefix, prefix + "\U0010ffff"),
            ).fetchall()
        return [json.loads(doc) for (doc,) in rows]

    def _data_version(self) -> int:
        """Changes whenever another connection (another process) commits."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def _wrote(self, kind: str, key: str, text: str | None) -> None:
        """Keep this kind's cache in step with our own write (others' writes reset it)."""
        cached = self._cache.get(kind)
        if cached is None:
            return
        if text is None:
            cached[1].pop(key, None)
        else:
            cached[1][key] = json.loads(text)  # detached from the caller's object

    def put(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        """Insert or replace, keeping the original insertion order."""
        text = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT INTO objects (kind, key, seq, doc) VALUES (?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM objects), ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc",
                (kind, key, text),
            )
            self._wrote(kind, key, text)

    def delete(self, kind: str, key: str) -> bool:
        """Remove a document; True if it existed."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM objects WHERE kind = ? AND key = ?", (kind, key))
            self._wrote(kind, key, None)
        return cursor.rowcount > 0

    def clear(self) -> None:
        """Forget the whole world (inside a transaction)."""
        with self._lock:
            self._db.execute("DELETE FROM objects")
            self._db.execute("DELETE FROM meta")
            self._cache.clear()

    def meta(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
