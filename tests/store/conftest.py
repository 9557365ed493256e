"""Store fixtures: every contract test runs once per backend.

- `sqlite`: a file of its own per test;
- `mongomock`: the in-process double (fast; pymongo's network code is never reached);
- `mongowire`: pymongo over a real connection to the session's nx-27017 wire-protocol
  server (tests/mongo_wire.py), so BSON, cursors, server errors and connection
  handling are exercised;
- `mongodb`: a real server, only when PREDICTQ_TEST_MONGODB_URL is set.

Every server-backed test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from predictq.store import Store, open_store
from predictq.store.mongo import MongoStore
from tests.mongo_wire import fresh_database

MONGODB_URL = os.environ.get("PREDICTQ_TEST_MONGODB_URL", "")
MONGO_BACKENDS = ["mongomock", "mongowire", "mongodb"]


@pytest.fixture
def mongodb_url() -> Iterator[str]:
    """A URL naming a fresh database on the real MongoDB under test."""
    if not MONGODB_URL:
        pytest.skip("set PREDICTQ_TEST_MONGODB_URL to test against a real MongoDB")
    with fresh_database(MONGODB_URL) as url:
        yield url


def mongo_url(request: pytest.FixtureRequest, backend: str) -> str:
    """The store URL of one of MONGO_BACKENDS, with a fresh database where it has one."""
    if backend == "mongomock":
        return "mongomock://"
    return request.getfixturevalue(f"{backend}_url")


@pytest.fixture(params=["sqlite", *MONGO_BACKENDS])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return mongo_url(request, request.param)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as store:
        yield store


@pytest.fixture(params=MONGO_BACKENDS)
def mongo_store(request: pytest.FixtureRequest) -> Iterator[MongoStore]:
    """For the MongoDB backend's own promises: a MongoStore on each Mongo backend."""
    with open_store(mongo_url(request, request.param)) as store:
        assert isinstance(store, MongoStore)
        yield store
