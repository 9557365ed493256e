"""Rate-limit counters in a SQLite file, as a storage backend of the `limits` library
(`predictq+sqlite:////abs/path.limits`), so that every API process on one machine
counts against one limit.

A file of its own beside the store (`<store file>.limits`), not tables in the store's
file: a counter is bumped on every request, and in the store's file each bump would
queue behind the job writes' group commit and pay their fsync. Counters need no
durability (losing the last second of counts on power loss is harmless), so this file
runs with `synchronous=OFF`; each bump is one UPSERT … RETURNING, atomic under
SQLite's write lock. One connection per process, its statements taken in turn under a
lock (a few tens of microseconds each): not one per thread or greenlet, as under
gunicorn's gevent workers every request is a greenlet of its own. Only the
fixed-window strategy is provided (what predictq uses).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

from limits.storage import Storage

SCHEME = "predictq+sqlite"
PURGE_EVERY = 1000  # bumps between deletions of expired counters (per process)
_INHERITED: list[sqlite3.Connection] = []

SCHEMA = """CREATE TABLE IF NOT EXISTS limits (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
)"""

BUMP = """INSERT INTO limits (key, count, expires_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN expires_at <= ? THEN excluded.count ELSE count + excluded.count END,
        expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END
    RETURNING count"""


def storage_uri(path: str | os.PathLike[str]) -> str:
    return f"{SCHEME}://{os.path.abspath(path)}"


class SqliteLimitStorage(Storage):
    """`limits` finds it by its scheme once this module is imported."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri.split("://", 1)[1]
        if not self.path:
            raise ValueError(f"a {SCHEME} URI names a file: {SCHEME}:////abs/path")
        self.busy_timeout = float(options.get("busy_timeout", 5.0))
        self._lock = threading.Lock()
        self._conn_pid: tuple[sqlite3.Connection, int] | None = None
        self._bumps = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _execute(self, sql: str, params: tuple[Any, ...] = (), one: bool = True) -> Any:
        with self._lock:
            cursor = self._conn().execute(sql, params)
            return cursor.fetchone() if one else cursor.rowcount

    def _conn(self) -> sqlite3.Connection:
        if self._conn_pid is not None:
            if self._conn_pid[1] == os.getpid():
                return self._conn_pid[0]
            # Inherited across fork(): never used, and never closed (closing may unlock
            # the parent's file), so it stays referenced.
            _INHERITED.append(self._conn_pid[0])
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        deadline = time.monotonic() + self.busy_timeout
        while True:  # a fresh file's switch to WAL answers BUSY at once to a second process
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = OFF")
                conn.execute(SCHEMA)
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self._conn_pid = (conn, os.getpid())
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        count = self._execute(BUMP, (key, amount, now + expiry, now, now))[0]
        self._bumps += 1
        if self._bumps % PURGE_EVERY == 0:
            self._execute("DELETE FROM limits WHERE expires_at <= ?", (now,), one=False)
        return int(count)

    def get(self, key: str) -> int:
        row = self._execute("SELECT count FROM limits WHERE key = ? AND expires_at > ?",
                            (key, time.time()))
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._execute("SELECT expires_at FROM limits WHERE key = ? AND expires_at > ?",
                            (key, now))
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            self._execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._execute("DELETE FROM limits", one=False)

    def clear(self, key: str) -> None:
        self._execute("DELETE FROM limits WHERE key = ?", (key,), one=False)
