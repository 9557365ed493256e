"""Mongo-only promises: recovery from the crash window between the idempotency record
and the jobs, lazy clients, an unreachable or lost server surfacing as
StoreUnavailable, and the write concern every write carries."""

from __future__ import annotations

import functools
import multiprocessing
import sys
import time
from pathlib import Path

import pymongo
import pytest
from pymongo import monitoring

from predictq.errors import IdempotencyConflict, StoreUnavailable
from predictq.jobs import Job, Outcome, Status
from predictq.store import open_store
from predictq.store.mongo import MongoStore
from predictq.streams.records import Alert, Reading, StreamUpdate
from tests.mongo_wire import WireServer, start_or_skip

UNREACHABLE = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"


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


def test_the_client_is_built_on_first_use_and_again_after_a_fork(
    mongo_store: MongoStore,
) -> None:
    # Over a connection (mongowire, mongodb) the child really opens a client of its own:
    # a MongoClient must not cross a fork. On mongomock it is one shared object.
    connect = mongo_store._connect
    builds: list[int] = []

    def counting_connect() -> object:
        builds.append(1)
        return connect()

    store = MongoStore(counting_connect, mongo_store.database_name)
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
    store.close()


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


class _Commands(monitoring.CommandListener):
    """Every command pymongo sends, as sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture(params=["mongowire", "mongodb"])
def server_url(request: pytest.FixtureRequest) -> str:
    """A fresh database over a real connection (no mongomock: nothing goes on a wire)."""
    return request.getfixturevalue(f"{request.param}_url")


def test_every_write_goes_out_with_majority_and_journal(
    server_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the client sends, read off the wire protocol: the server under test may
    # ignore it (nx-27017 accepts any write concern, even w: 5), a replica set may not.
    commands = _Commands()
    monkeypatch.setattr(pymongo, "MongoClient",
                        functools.partial(pymongo.MongoClient, event_listeners=[commands]))
    with open_store(server_url) as store:
        plain, keyed = Job(model="language", input={"text": "a"}), Job(
            model="language", input={"text": "b"}, created_at=1.0)
        store.create([plain])
        store.create([keyed], "k", "h")
        store.mark_published([plain.tracking_id])
        store.mark_processing([plain.tracking_id])
        store.finish([Outcome(plain.tracking_id, Status.DONE, result={"label": "x"},
                              model_version="v1")])
        assert [j.tracking_id for j in store.sweep(stale_before=time.time())] == [
            keyed.tracking_id]
        sensors = store.sensors
        batch = sensors.append("s-1", [Reading(1.0, 0.5, 1)]).batch
        sensors.mark_batches_published([("s-1", batch.n)])
        alert = Alert(alert_id="a-1", sensor_id="s-1", kind="anomaly", t=1.0, created_at=1.0,
                      message="m", details={}, next_attempt_at=0.0)
        assert sensors.apply([StreamUpdate(sensor_id="s-1", from_n=0, to_n=1, state={},
                                           results={}, alerts=[alert])]) == [True]
        assert [a.alert_id for a in sensors.claim_alerts(now=2.0, lease_s=5.0)] == ["a-1"]
        sensors.alert_delivered("a-1", at=3.0)
        assert sensors.delete_readings_before(10.0) == 1

    writes = [(name, cmd) for name, cmd in commands.sent
              if name in ("insert", "update", "delete", "findAndModify", "createIndexes")]
    assert {name for name, _ in writes} == {"insert", "update", "delete", "findAndModify",
                                            "createIndexes"}
    wrong = [(name, cmd.get("writeConcern")) for name, cmd in writes
             if cmd.get("writeConcern") != {"w": "majority", "j": True}]
    assert wrong == []


def test_a_lost_server_is_store_unavailable_and_the_same_store_recovers(
    tmp_path: Path,
) -> None:
    server = start_or_skip(tmp_path)  # a server of its own: this test stops it
    store = open_store(f"{server.url}/predictq?serverSelectionTimeoutMS=1000")
    again: WireServer | None = None
    try:
        kept = Job(model="language", input={"text": "a"})
        store.create([kept])
        assert store.get(kept.tracking_id) == kept
        server.stop()

        started = time.monotonic()
        with pytest.raises(StoreUnavailable):  # the pooled connection is dead
            store.get(kept.tracking_id)
        with pytest.raises(StoreUnavailable):  # and no server can be selected
            store.create([Job(model="language", input={"text": "b"})], "k", "h")
        with pytest.raises(StoreUnavailable):
            store.sensors.append("s-1", [Reading(1.0, 0.5, None)])
        # Three calls, each bounded by the URL's 1 s selection timeout, not hanging.
        assert time.monotonic() - started < 8

        again = start_or_skip(tmp_path, port=server.port)
        deadline = time.monotonic() + 10
        while True:  # pymongo notices the server again on its own
            try:
                store.ping()
                break
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        later = Job(model="language", input={"text": "c"})
        store.create([later])  # (the restarted stand-in kept nothing: it is in memory)
        assert store.get(later.tracking_id) == later
    finally:
        store.close()
        server.stop()
        if again is not None:
            again.stop()


def test_ttl_indexes_expire_finished_jobs_and_keys_by_an_expire_at_date(
    mongo_store: MongoStore,
) -> None:
    # The server's TTL monitor deletes a document once `expire_at` (a BSON date) passed;
    # only finished jobs and keys get one, and only with a retention configured.
    mongo_store.set_retention(3600.0, 60.0)
    finished, waiting = (Job(model="language", input={"text": t}) for t in "ab")
    mongo_store.create([finished], "k", "h")
    mongo_store.create([waiting])
    mongo_store.finish([Outcome(finished.tracking_id, Status.DONE, result={"label": "fr"})])
    db = mongo_store.database

    def ttl(collection: str) -> dict:
        return {info["key"][0][0]: info.get("expireAfterSeconds")
                for info in db[collection].index_information().values()}

    assert ttl("jobs")["expire_at"] == 0 and ttl("idempotency")["expire_at"] == 0
    job_doc = db["jobs"].find_one({"_id": finished.tracking_id})
    assert abs(_date(job_doc["expire_at"]).timestamp() - job_doc["updated_at"] - 3600) < 1
    assert "expire_at" not in db["jobs"].find_one({"_id": waiting.tracking_id})
    key_doc = db["idempotency"].find_one({"_id": "k"})
    assert abs(_date(key_doc["expire_at"]).timestamp() - key_doc["created_at"] - 60) < 1


def _date(value):
    """A BSON date as read back: a datetime (MongoDB, mongomock), or the ISO text the
    nx-27017 stand-in returns for one (pymongo sent a BSON date either way)."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
