"""API keys in the SQLite store (predictq.store.keys for the record); the table comes
with schema version 6 (predictq.store.sqlite)."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from predictq.store.keys import ApiKey, KeyStore
from predictq.store.sqlite_errors import translated

if TYPE_CHECKING:
    from predictq.store.sqlite import SqliteStore

KEY_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS api_keys (
        key_id TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    )""",
)

COLUMNS = "key_id, key_hash, scopes, name, prefix, created_at, revoked_at"


class SqliteKeys(KeyStore):
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    @translated()
    def add(self, key: ApiKey) -> None:
        row = (key.key_id, key.key_hash, json.dumps(list(key.scopes)), key.name, key.prefix,
               key.created_at, key.revoked_at)

        def op(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(f"INSERT INTO api_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             row)
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"an API key with this id or secret exists: {exc}") from exc

        self._store._commit(op)

    @translated()
    def by_hash(self, key_hash: str) -> ApiKey | None:
        return self._one("key_hash", key_hash)

    @translated()
    def get(self, key_id: str) -> ApiKey | None:
        return self._one("key_id", key_id)

    def _one(self, column: str, value: str) -> ApiKey | None:
        rows = self._store._query(f"SELECT {COLUMNS} FROM api_keys WHERE {column} = ?",
                                  (value,))
        return _to_key(rows[0]) if rows else None

    @translated()
    def list(self) -> list[ApiKey]:
        rows = self._store._query(f"SELECT {COLUMNS} FROM api_keys ORDER BY created_at, key_id")
        return [_to_key(row) for row in rows]

    @translated()
    def revoke(self, key_id: str, at: float) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            conn.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?"
                         " AND revoked_at IS NULL", (at, key_id))
            return conn.execute("SELECT 1 FROM api_keys WHERE key_id = ?",
                                (key_id,)).fetchone() is not None

        return self._store._commit(op)


def _to_key(row: tuple[Any, ...]) -> ApiKey:
    key_id, key_hash, scopes, name, prefix, created_at, revoked_at = row
    return ApiKey(key_id=key_id, key_hash=key_hash, scopes=tuple(json.loads(scopes)),
                  name=name, prefix=prefix, created_at=created_at, revoked_at=revoked_at)
