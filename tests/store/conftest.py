"""Store fixtures: every contract test runs once per backend.

`mongodb` runs against a real server only when PREDICTQ_TEST_MONGODB_URL is set; each
test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from predictq.store import Store, open_store

MONGODB_URL = os.environ.get("PREDICTQ_TEST_MONGODB_URL", "")


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name`, still authenticating where it did before
    (the path's database is also the default authSource)."""
    parts = urlsplit(url)
    query = parts.query
    if "@" in parts.netloc and "authsource=" not in query.lower():
        source = parts.path.strip("/") or "admin"
        query = f"{query}&authSource={source}" if query else f"authSource={source}"
    return urlunsplit(parts._replace(path="/" + name, query=query))


@pytest.fixture
def mongodb_url() -> Iterator[str]:
    """A URL naming a fresh database on the test server."""
    if not MONGODB_URL:
        pytest.skip("set PREDICTQ_TEST_MONGODB_URL to test against a real MongoDB")
    import pymongo

    name = f"predictq_test_{uuid.uuid4().hex[:12]}"
    yield with_database(MONGODB_URL, name)
    with pymongo.MongoClient(MONGODB_URL, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(name)


@pytest.fixture(params=["sqlite", "mongomock", "mongodb"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    if request.param == "mongomock":
        return "mongomock://"
    return request.getfixturevalue("mongodb_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as store:
        yield store
