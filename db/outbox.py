"""The outbox: finished sessions kept on local disk until the database has them.

A finished session is written here first (SQLite in ``DATA_DIR``, WAL with
``synchronous=FULL``: the row is on disk when :meth:`Outbox.put` returns), then to the
database; it leaves the outbox only once the database holds it. A database outage, or a
crash between the two writes, therefore loses nothing: the entry is retried until the
database takes it, and replayed when the process starts again. Storing is idempotent on
the session key (a unique constraint in the database), so a replay never counts twice.

Several server processes on one machine may share one outbox file: each may store any
entry, and storing one twice is harmless.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from db.records import SessionRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_sessions (
    session_key TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    record TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class PendingSave:
    """One session waiting for the database."""

    user_id: int
    record: SessionRecord
    attempts: int


class Outbox:
    """Durable local queue of finished sessions (one SQLite file)."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the outbox file at ``path``."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: callers run on worker threads.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            # FULL: the WAL is fsync'd at every commit, so a put survives a power cut.
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def put(self, user_id: int, record: SessionRecord) -> None:
        """Keep ``record`` until :meth:`done`; putting the same session twice keeps one."""
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO pending_sessions (session_key, user_id, record, created_at)"
                " VALUES (?, ?, ?, ?)",
                (record.session_key, user_id, record.to_json(), time.time()),
            )

    def pending(self, limit: int = 100) -> list[PendingSave]:
        """Sessions still waiting for the database, oldest first (dead letters left out)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT user_id, record, attempts FROM pending_sessions WHERE dead = 0"
                " ORDER BY created_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [PendingSave(user_id, SessionRecord.from_json(text), n) for user_id, text, n in rows]

    def count(self) -> int:
        """How many sessions wait for the database."""
        with self._connect() as db:
            (n,) = db.execute("SELECT COUNT(*) FROM pending_sessions WHERE dead = 0").fetchone()
        return int(n)

    def dead_letters(self) -> int:
        """How many sessions the database refused for good (kept for an operator)."""
        with self._connect() as db:
            (n,) = db.execute("SELECT COUNT(*) FROM pending_sessions WHERE dead = 1").fetchone()
        return int(n)

    def done(self, session_key: str) -> None:
        """The database holds this session: forget it."""
        with self._connect() as db:
            db.execute("DELETE FROM pending_sessions WHERE session_key = ?", (session_key,))

    def failed(self, session_key: str, error: str) -> None:
        """Record a failed attempt (the entry stays and is retried)."""
        with self._connect() as db:
            db.execute(
                "UPDATE pending_sessions SET attempts = attempts + 1, last_error = ?"
                " WHERE session_key = ?",
                (error[:500], session_key),
            )

    def give_up(self, session_key: str, error: str) -> None:
        """The database refuses this session for good (its user is gone): keep it on disk
        as a dead letter for an operator, but stop retrying."""
        with self._connect() as db:
            db.execute(
                "UPDATE pending_sessions SET dead = 1, attempts = attempts + 1, last_error = ?"
                " WHERE session_key = ?",
                (error[:500], session_key),
            )

    def forget_user(self, user_id: int) -> int:
        """Delete every entry of ``user_id`` (the account was erased); how many."""
        with self._connect() as db:
            return db.execute("DELETE FROM pending_sessions WHERE user_id = ?", (user_id,)).rowcount
