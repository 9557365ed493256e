"""Completion callbacks in the SQLite store (predictq.store.callbacks for the contract).

One row per job submitted with a `callback_url`, inserted by `SqliteStore.create` in
the transaction that stores the job, with `due_at` NULL; `SqliteStore.finish` sets
`due_at` in the transaction that makes the job final. The table is created on first use
(`CREATE TABLE IF NOT EXISTS`, in the store's shared write transaction) rather than by
a schema migration, like the service alerts' tables: it is new and nothing else reads
it. `finish` makes sure it exists before its first write in a process, so a callback
stored by another process is never missed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from predictq.jobs import Job
from predictq.store.callbacks import Callback, CallbackState, CallbackStore
from predictq.store.sqlite_errors import translated

if TYPE_CHECKING:
    from predictq.store.sqlite import SqliteStore

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS callbacks (
        tracking_id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        created_at REAL NOT NULL,
        due_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at REAL,
        abandoned_at REAL
    )""",
    # Only what is owed now: final jobs whose callback is not settled.
    "CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks (due_at) WHERE due_at IS NOT NULL",
)

COLUMNS = "tracking_id, url, attempts, due_at, last_error, delivered_at, abandoned_at"


class SqliteCallbacks(CallbackStore):
    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._ready = False

    def ensure(self) -> None:
        """Create the table once per process (a no-op after the first call)."""
        if not self._ready:
            self._store._commit(lambda conn: [conn.execute(s) for s in SCHEMA])
            self._ready = True

    # -- called inside SqliteStore's own write transactions ---------------------------

    @staticmethod
    def insert(conn: sqlite3.Connection, jobs: Sequence[Job]) -> None:
        """`create`'s part: one row per job that has a callback_url, not yet due."""
        rows = [(job.tracking_id, job.callback_url, job.created_at)
                for job in jobs if job.callback_url]
        if rows:
            conn.executemany("INSERT INTO callbacks (tracking_id, url, created_at)"
                             " VALUES (?, ?, ?)", rows)

    @staticmethod
    def make_due(conn: sqlite3.Connection, tracking_ids: Sequence[str], now: float) -> None:
        """`finish`'s part: the callbacks of the jobs it just made final become due."""
        if tracking_ids:
            conn.execute(
                "UPDATE callbacks SET due_at = ? WHERE tracking_id IN"
                " (SELECT value FROM json_each(?)) AND due_at IS NULL"
                " AND delivered_at IS NULL AND abandoned_at IS NULL",
                (now, json.dumps(list(tracking_ids))))

    @staticmethod
    def forget(conn: sqlite3.Connection, listed: str) -> None:
        """`expire_finished`'s part: the callbacks of the jobs it deletes (a JSON list
        of ids) go with them, delivered or not."""
        conn.execute("DELETE FROM callbacks WHERE tracking_id IN"
                     " (SELECT value FROM json_each(?))", (listed,))

    # -- the outbox ---------------------------------------------------------------

    @translated()
    def claim_due(self, now: float, lease_s: float, limit: int = 64) -> list[Callback]:
        self.ensure()
        # A read first: an idle deliverer polls often and must not take the write lock.
        if not self._store._query("SELECT 1 FROM callbacks INDEXED BY callbacks_due"
                                  " WHERE due_at IS NOT NULL AND due_at <= ? LIMIT 1",
                                  (now,)):
            return []

        def op(conn: sqlite3.Connection) -> list[Callback]:
            rows = conn.execute(
                "SELECT tracking_id, url, attempts, last_error FROM callbacks"
                " INDEXED BY callbacks_due WHERE due_at IS NOT NULL AND due_at <= ?"
                " ORDER BY due_at LIMIT ?", (now, limit)).fetchall()
            conn.executemany(
                "UPDATE callbacks SET due_at = ?, attempts = attempts + 1"
                " WHERE tracking_id = ?", [(now + lease_s, row[0]) for row in rows])
            jobs = {job.tracking_id: job
                    for job in self._store._select(conn, [row[0] for row in rows])}
            return [Callback(tid, url, attempts + 1, error, jobs.get(tid))
                    for tid, url, attempts, error in rows]

        return self._store._commit(op)

    @translated()
    def delivered(self, tracking_id: str, at: float) -> None:
        self.ensure()
        self._store._commit(lambda conn: conn.execute(
            "UPDATE callbacks SET due_at = NULL, delivered_at = ? WHERE tracking_id = ?",
            (at, tracking_id)))

    @translated()
    def failed(self, tracking_id: str, error: str, retry_at: float) -> None:
        self.ensure()
        self._store._commit(lambda conn: conn.execute(
            "UPDATE callbacks SET due_at = ?, last_error = ? WHERE tracking_id = ?"
            " AND delivered_at IS NULL AND abandoned_at IS NULL",
            (retry_at, error[:500], tracking_id)))

    @translated()
    def abandoned(self, tracking_id: str, reason: str, at: float) -> None:
        self.ensure()
        self._store._commit(lambda conn: conn.execute(
            "UPDATE callbacks SET due_at = NULL, abandoned_at = ?, last_error = ?"
            " WHERE tracking_id = ? AND delivered_at IS NULL",
            (at, reason[:500], tracking_id)))

    @translated()
    def get(self, tracking_id: str) -> CallbackState | None:
        self.ensure()
        rows = self._store._query(f"SELECT {COLUMNS} FROM callbacks WHERE tracking_id = ?",
                                  (tracking_id,))
        return CallbackState(*rows[0]) if rows else None
