"""The job store: `open_store(url)` picks a backend by the URL's scheme.

    sqlite:///relative/path.db      SQLite file relative to the working directory
    sqlite:////absolute/path.db     SQLite file at an absolute path
    mongodb://host/db, mongodb+srv://host/db
                                    MongoDB; the database defaults to `predictq`
    mongomock://[db]                in-memory MongoDB stand-in, for tests only

Nothing connects here: every backend connects on first use.
"""

from __future__ import annotations

from predictq.store.base import Store

__all__ = ["Store", "open_store"]

SQLITE_PREFIX = "sqlite:///"


def open_store(url: str) -> Store:
    """Build the store `url` names; raise ValueError for a scheme we do not know."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        from predictq.store.sqlite import SqliteStore

        path = url[len(SQLITE_PREFIX):] if url.startswith(SQLITE_PREFIX) else ""
        if not path:
            raise ValueError(
                "a SQLite store URL looks like sqlite:///relative.db or "
                "sqlite:////absolute/path.db"
            )
        return SqliteStore(path)
    if scheme in ("mongodb", "mongodb+srv"):
        from predictq.store.mongo import MongoStore

        return MongoStore.from_url(url)
    if scheme == "mongomock":
        from predictq.store.mongo import MongoStore, database_from_url, mongomock_client

        client = mongomock_client()
        return MongoStore(lambda: client, database_from_url(url))
    # Only the scheme is echoed: the rest of the URL may hold a password.
    raise ValueError(
        f"unknown store URL scheme {scheme!r}: use sqlite:///…, mongodb://…, "
        "mongodb+srv://… or mongomock://"
    )
