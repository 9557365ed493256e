"""SQLite errors that mean "the store cannot be reached", as `StoreUnavailable`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from predictq.errors import StoreUnavailable

# Primary result codes that mean "cannot reach or lock the file", not "bad SQL".
UNAVAILABLE_CODES = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", -1) & 0xFF in UNAVAILABLE_CODES:
            raise StoreUnavailable(f"SQLite store unavailable: {exc}") from exc
        raise
    except OSError as exc:
        raise StoreUnavailable(f"SQLite store unavailable: {exc}") from exc


