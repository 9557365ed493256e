"""Mongo-only promises: recovery from the crash window between the idempotency record
and the jobs, lazy clients, and an unreachable server surfacing as StoreUnavailable."""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Iterator

import pytest

from predictq.errors import IdempotencyConflict, StoreUnavailable
from predictq.jobs import Job, Status
from predictq.store import open_store
from predictq.store.mongo import MongoStore, mongomock_client

UNREACHABLE = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"


@pytest.fixture(params=["mongomock", "mongodb"])
def mongo_store(request: pytest.FixtureRequest) -> Iterator[MongoStore]:
    url = "mongomock://" if request.param == "mongomock" else request.getfixturevalue(
        "mongodb_url")
    with open_store(url) as store:
        assert isinstance(store, MongoStore)
        yield store


def _crash_after_key(store: MongoStore, key: str, request_hash: str, ids: list[str]) -> None:
    """Leave what a crash between the two inserts of a keyed create leaves behind."""
    store.database["idempotency"].insert_one(
        {"_id": key, "hash": request_hash, "tracking_ids": ids, "created_at": time.time()})


def _texts(jobs: list[Job]) -> list[str]:
    return [j.input["text"] for j in jobs]


def test_a_repeat_after_the_crash_window_stores_jobs_under_the_original_ids(
    mongo_store: MongoStore,
) -> None:
    _crash_after_key(mongo_store, "k", "h", ["orig-1", "orig-2"])
    assert mongo_store.count_by_status()[Status.QUEUED] == 0

    retry = [Job(model="language", input={"text": t}) for t in ("one", "two")]
    stored, created = mongo_store.create(retry, "k", "h")

    assert created is True  # nothing was ever published for them
    assert [j.tracking_id for j in stored] == ["orig-1", "orig-2"]
    assert _texts(stored) == ["one", "two"]
    assert _texts(mongo_store.get_many(["orig-1", "orig-2"])) == ["one", "two"]
    assert mongo_store.get(retry[0].tracking_id) is None

    again, created = mongo_store.create(retry, "k", "h")
    assert (again, created) == (stored, False)
    assert mongo_store.count_by_status()[Status.QUEUED] == 2


def test_a_repeat_fills_in_only_the_jobs_a_crash_left_out(mongo_store: MongoStore) -> None:
    _crash_after_key(mongo_store, "k", "h", ["orig-1", "orig-2"])
    survivor = Job(model="language", input={"text": "one"}, tracking_id="orig-1",
                   created_at=1.0)
    mongo_store.create([survivor])

    retry = [Job(model="language", input={"text": t}) for t in ("one", "two")]
    stored, created = mongo_store.create(retry, "k", "h")

    assert created is True
    assert stored[0] == survivor
    assert (stored[1].tracking_id, stored[1].input) == ("orig-2", {"text": "two"})
    assert mongo_store.count_by_status()[Status.QUEUED] == 2


def test_the_crash_window_still_refuses_another_body(mongo_store: MongoStore) -> None:
    _crash_after_key(mongo_store, "k", "h", ["orig-1"])
    with pytest.raises(IdempotencyConflict):
        mongo_store.create([Job(model="language", input={"text": "x"})], "k", "other")
    assert mongo_store.count_by_status()[Status.QUEUED] == 0


def test_an_unreachable_server_is_store_unavailable() -> None:
    store = open_store(UNREACHABLE)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        store.ping()
    assert time.monotonic() - started < 2.5  # the URL's timeout won over our default
    assert caught.value.__cause__ is not None
    with pytest.raises(StoreUnavailable):
        store.get("x")
    with pytest.raises(StoreUnavailable):
        store.create([Job(model="language", input={"text": "x"})], "k", "h")
    store.close()


def test_the_client_has_a_short_default_timeout_and_connects_lazily() -> None:
    store = open_store("mongodb://127.0.0.1:1/jobs")
    client = store.database.client
    assert client.options.server_selection_timeout == 3.0
    assert store.database.name == "jobs"
    store.close()


def test_the_client_is_built_on_first_use_and_again_after_a_fork() -> None:
    client = mongomock_client()
    builds: list[int] = []

    def connect() -> object:
        builds.append(1)
        return client

    store = MongoStore(connect, "predictq")
    assert builds == []
    store.ping()
    store.ping()
    assert builds == [1]

    def child() -> None:
        store.ping()
        sys.exit(len(builds))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(timeout=30)
    assert process.exitcode == 2
    assert builds == [1]


def test_a_job_stored_before_attempts_existed_counts_from_zero(mongo_store: MongoStore) -> None:
    mongo_store.database["jobs"].insert_one(
        {"_id": "legacy", "model": "language", "input": {"text": "x"}, "status": "queued",
         "result": None, "error": None, "model_version": None, "created_at": 1.0,
         "updated_at": 1.0, "published": True})
    assert mongo_store.get("legacy").attempts == 0
    assert mongo_store.mark_processing(["legacy"]) == {"legacy": 1}
    assert mongo_store.get("legacy").attempts == 1


def test_sweep_skips_a_job_another_sweeper_claimed_since_it_looked(
    mongo_store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (Job(model="language", input={"text": "x"}, created_at=1.0 + i)
                     for i in range(2))
    mongo_store.create([first, second])
    collection = type(mongo_store._jobs)
    claim = collection.find_one_and_update

    def rival_claims_second_first(self: object, *args: object, **kwargs: object) -> object:
        # Runs after sweep's find picked both candidates, before its first claim.
        monkeypatch.setattr(collection, "find_one_and_update", claim)
        mongo_store.database["jobs"].update_one(
            {"_id": second.tracking_id}, {"$set": {"updated_at": time.time()}})
        return claim(self, *args, **kwargs)

    monkeypatch.setattr(collection, "find_one_and_update", rival_claims_second_first)
    claimed = mongo_store.sweep(stale_before=100.0)

    assert [j.tracking_id for j in claimed] == [first.tracking_id]
    assert mongo_store.get(second.tracking_id).updated_at > 100.0


def test_writes_wait_for_a_majority_and_the_journal() -> None:
    store = MongoStore.from_url("mongodb://127.0.0.1:1/predictq")
    concern = store.database.client.write_concern
    assert concern.document == {"w": "majority", "j": True}
    explicit = MongoStore.from_url("mongodb://127.0.0.1:1/predictq?w=1")
    assert explicit.database.client.write_concern.document == {"w": 1, "j": True}
