"""MongoDB job store: one document per job in `jobs` (`_id` = tracking id) and one per
Idempotency-Key in `idempotency` (`_id` = key).

There are no multi-document transactions here (they need a replica set), so "all or
none" rests on unique `_id`s, ordered inserts and clean-up; the gaps are spelled out
where they are.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pymongo
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError

from predictq.errors import StoreUnavailable
from predictq.jobs import Job, Outcome, Status
from predictq.store.base import FINAL_STATUSES, Store, conflict, final_outcomes

DEFAULT_DATABASE = "predictq"
DUPLICATE_KEY = 11000

JOB_INDEXES = (
    [("status", ASCENDING), ("created_at", ASCENDING)],
    [("model", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)],
    [("updated_at", ASCENDING)],
    [("published", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)],
    # `sweep`: one index per branch of its $or, each already in updated_at order for
    # the equality fields before it, so the server merges instead of sorting.
    [("status", ASCENDING), ("published", ASCENDING), ("updated_at", ASCENDING)],
    [("status", ASCENDING), ("updated_at", ASCENDING)],
)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except ConnectionFailure as exc:  # includes ServerSelectionTimeoutError
        raise StoreUnavailable(f"MongoDB store unavailable: {exc}") from exc


class MongoStore(Store):
    """`connect` builds the client; it is called on first use and again in a forked
    child, because a MongoClient must not cross a fork."""

    def __init__(self, connect: Callable[[], Any], database: str = DEFAULT_DATABASE) -> None:
        self._connect = connect
        self.database_name = database
        self._client: Any = None
        self._pid = 0
        self._indexed = False
        self._lock = threading.Lock()
        self._retention: tuple[float | None, float | None] = (None, None)
        from predictq.store.mongo_sensors import MongoSensors  # it imports this module

        self.sensors = MongoSensors(self)
        from predictq.store.mongo_models import MongoModels

        self.models = MongoModels(self)
        from predictq.store.latency import MongoLatency
        from predictq.store.mongo_service_alerts import MongoServiceAlerts

        self.service_alerts = MongoServiceAlerts(self)
        self.latency = MongoLatency(self)
        from predictq.store.mongo_callbacks import MongoCallbacks

        self.callbacks = MongoCallbacks(self)
        from predictq.store.mongo_keys import MongoKeys

        self.keys = MongoKeys(self)

    @classmethod
    def from_url(cls, url: str) -> MongoStore:
        options: dict[str, Any] = {"connect": False}
        given = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
        # A keyword argument would override the URL, so only fill in what is missing.
        if "serverselectiontimeoutms" not in given:
            options["serverSelectionTimeoutMS"] = 3000
        # A 202 promises durability: acknowledged by a majority and in the journal,
        # unless the URL asks for something else.
        if "w" not in given:
            options["w"] = "majority"
        if "journal" not in given and "j" not in given:
            options["journal"] = True
        return cls(lambda: pymongo.MongoClient(url, **options), database_from_url(url))

    @property
    def database(self) -> Database:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = self._connect()
                self._pid = os.getpid()
                self._indexed = False
            return self._client[self.database_name]

    @property
    def _jobs(self) -> Collection:
        jobs = self.database["jobs"]
        if not self._indexed:
            for keys in JOB_INDEXES:
                jobs.create_index(keys)
            # TTL: the server deletes a document once its `expire_at` (a BSON date, set
            # only when a job finishes or a key is stored with a retention configured)
            # has passed — queued and processing jobs have none. `expire_*` sweeps
            # what TTL cannot express: documents from before a retention was set or
            # shortened, and deployments whose server runs no TTL monitor.
            jobs.create_index([("expire_at", ASCENDING)], expireAfterSeconds=0)
            self.database["idempotency"].create_index(
                [("expire_at", ASCENDING)], expireAfterSeconds=0)
            self.database["idempotency"].create_index([("created_at", ASCENDING)])
            self._indexed = True
        return jobs

    @property
    def _keys(self) -> Collection:
        self._jobs  # noqa: B018  (creates the indexes, the keys' included, once)
        return self.database["idempotency"]

    def set_retention(self, jobs_s: float | None, keys_s: float | None) -> None:
        self._retention = (jobs_s, keys_s)

    def _expire_at(self, now: float, retention_s: float | None) -> dict[str, Any]:
        if retention_s is None:
            return {}
        return {"expire_at": datetime.fromtimestamp(now + retention_s, UTC)}

    # -- writes -------------------------------------------------------------------

    @_translated()
    def create(
        self,
        jobs: Sequence[Job],
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> tuple[list[Job], bool]:
        if not jobs:
            return [], True
        if idempotency_key is None:
            self._insert_all_or_none([_to_doc(job) for job in jobs])
            return list(jobs), True
        ids = [job.tracking_id for job in jobs]
        try:
            # The unique _id makes the key the lock: exactly one request inserts it.
            now = time.time()
            self._keys.insert_one(
                {"_id": idempotency_key, "hash": request_hash, "tracking_ids": ids,
                 "created_at": now, **self._expire_at(now, self._retention[1])}
            )
        except DuplicateKeyError:
            return self._repeat(idempotency_key, request_hash, jobs)
        # Crash window: if we die (or lose the server) here, the key points at ids that
        # were never stored. A repeat with the same key and body notices that in
        # `_repeat` and stores the jobs it carries under those original ids.
        self._insert_tolerating_twins([_to_doc(job) for job in jobs])
        return list(jobs), True

    def _repeat(
        self, key: str, request_hash: str | None, jobs: Sequence[Job]
    ) -> tuple[list[Job], bool]:
        record = self._keys.find_one({"_id": key})
        if record is None:  # removed by someone since our insert failed: start afresh
            return self.create(jobs, key, request_hash)
        if record["hash"] != request_hash:
            raise conflict(key)
        original: list[str] = record["tracking_ids"]
        stored = {job.tracking_id for job in self.get_many(original)}
        missing = [i for i, tid in enumerate(original) if tid not in stored]
        if not missing:
            return self.get_many(original), False
        if len(jobs) != len(original):
            raise conflict(key)
        self._insert_tolerating_twins(
            [_to_doc(replace(jobs[i], tracking_id=original[i])) for i in missing]
        )
        return self.get_many(original), True

    def _insert_all_or_none(self, docs: list[dict[str, Any]]) -> None:
        try:
            self._jobs.insert_many(docs, ordered=True)
        except BulkWriteError as exc:
            # Ordered: exactly the first nInserted documents went in, and they are ours.
            # (A lost connection mid-insert can still leave a prefix behind: queued,
            # unpublished jobs nobody knows the id of, which the sweeper runs anyway.)
            done = exc.details.get("nInserted", 0)
            if done:
                self._jobs.delete_many({"_id": {"$in": [d["_id"] for d in docs[:done]]}})
            if _only_duplicates(exc):
                raise ValueError(f"a tracking id already exists: {exc}") from exc
            raise

    def _insert_tolerating_twins(self, docs: list[dict[str, Any]]) -> None:
        """Insert, treating an existing `_id` as the same job already stored by a
        concurrent request with the same Idempotency-Key and body."""
        try:
            self._jobs.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if not _only_duplicates(exc):
                raise

    @_translated()
    def mark_published(self, tracking_ids: Sequence[str]) -> None:
        self._jobs.update_many({"_id": {"$in": list(tracking_ids)}}, {"$set": {"published": True}})

    @_translated()
    def republish_unfinished(self) -> int:
        unfinished = [Status.QUEUED.value, Status.PROCESSING.value]
        return self._jobs.update_many(
            {"status": {"$in": unfinished}},
            {"$set": {"status": Status.QUEUED.value, "published": False}}).matched_count

    @_translated()
    def mark_processing(self, tracking_ids: Sequence[str]) -> dict[str, int]:
        # One find_one_and_update per job, not one update_many: the answer must hold
        # the count this call made, and a bulk update can only be read back through a
        # tag on the documents, which a concurrent call on the same job overwrites (its
        # caller would then take a live job for a duplicate). A worker's batch is small
        # (32 by default), so the round trips are affordable. Without transactions, a
        # connection lost mid-loop leaves the earlier jobs counted; the redelivery
        # counts them again, so `attempts` can overstate deliveries, never understate.
        now = time.time()
        attempts: dict[str, int] = {}
        for tid in dict.fromkeys(tracking_ids):
            doc = self._jobs.find_one_and_update(
                {"_id": tid, "status": {"$nin": list(FINAL_STATUSES)}},
                {"$set": {"status": Status.PROCESSING.value, "updated_at": now,
                          "published": True},
                 "$inc": {"attempts": 1}},
                projection={"attempts": 1},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                attempts[tid] = doc["attempts"]
        return attempts

    @_translated()
    def finish(self, outcomes: Sequence[Outcome]) -> list[str]:
        outcomes = final_outcomes(outcomes)
        if not outcomes:
            return []
        # A bulk result only counts matches; the token tells which ones this call won.
        token = secrets.token_hex(8)
        now = time.time()
        self._jobs.bulk_write(
            [
                UpdateOne(
                    {"_id": o.tracking_id, "status": {"$nin": list(FINAL_STATUSES)}},
                    {"$set": {"status": Status(o.status).value, "result": o.result,
                              "error": o.error, "model_version": o.model_version,
                              "updated_at": now, "finish_token": token,
                              **self._expire_at(now, self._retention[0])}},
                )
                for o in outcomes
            ],
            ordered=False,
        )
        won = {
            doc["_id"]
            for doc in self._jobs.find(
                {"_id": {"$in": [o.tracking_id for o in outcomes]}, "finish_token": token},
                {"_id": 1},
            )
        }
        return [o.tracking_id for o in outcomes if o.tracking_id in won]

    # -- reads --------------------------------------------------------------------

    @_translated()
    def get(self, tracking_id: str) -> Job | None:
        doc = self._jobs.find_one({"_id": tracking_id})
        return None if doc is None else _to_job(doc)

    @_translated()
    def get_many(self, tracking_ids: Sequence[str]) -> list[Job]:
        found = {
            doc["_id"]: _to_job(doc)
            for doc in self._jobs.find({"_id": {"$in": list(tracking_ids)}})
        }
        return [found[tid] for tid in tracking_ids if tid in found]

    @_translated()
    def list_recent(self, limit: int = 50, model: str | None = None) -> list[Job]:
        cursor = self._jobs.find(_filter(model)).sort("created_at", DESCENDING).limit(limit)
        return [_to_job(doc) for doc in cursor]

    @_translated()
    def count_by_status(self, model: str | None = None) -> dict[Status, int]:
        groups = self._jobs.aggregate(
            [{"$match": _filter(model)}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        )
        counts = dict.fromkeys(Status, 0)
        counts.update({Status(group["_id"]): group["n"] for group in groups})
        return counts

    @_translated()
    def oldest_created_at(self, status: Status, model: str | None = None) -> float | None:
        doc = self._jobs.find_one(
            _filter(model, status=Status(status).value),
            {"created_at": 1},
            sort=[("created_at", ASCENDING)],
        )
        return None if doc is None else doc["created_at"]

    @_translated()
    def count_created_since(self, since: float, model: str | None = None) -> int:
        return self._jobs.count_documents(_filter(model, created_at={"$gte": since}))

    @_translated()
    def count_finished_since(self, since: float, model: str | None = None) -> int:
        query = _filter(model, status={"$in": list(FINAL_STATUSES)}, updated_at={"$gte": since})
        return self._jobs.count_documents(query)

    @_translated()
    def finished_since(self, since: float, limit: int = 10_000) -> list[tuple[str, float]]:
        query = {"updated_at": {"$gte": since}, "status": {"$in": list(FINAL_STATUSES)}}
        cursor = self._jobs.find(query, {"_id": 1, "updated_at": 1}).sort(
            "updated_at", ASCENDING).limit(limit)
        return [(doc["_id"], doc["updated_at"]) for doc in cursor]

    @_translated()
    def unpublished(self, older_than: float, limit: int = 500) -> list[Job]:
        query = {"published": False, "status": Status.QUEUED.value,
                 "created_at": {"$lte": older_than}}
        cursor = self._jobs.find(query).sort("created_at", ASCENDING).limit(limit)
        return [_to_job(doc) for doc in cursor]

    @_translated()
    def sweep(self, stale_before: float, limit: int = 500) -> list[Job]:
        if limit <= 0:  # limit(0) would mean "no limit" to the server
            return []
        stale = {"$or": [
            {"status": Status.QUEUED.value, "published": False,
             "updated_at": {"$lte": stale_before}},
            {"status": Status.PROCESSING.value, "updated_at": {"$lte": stale_before}},
        ]}
        candidates = [
            doc["_id"]
            for doc in self._jobs.find(stale, {"_id": 1}).sort("updated_at", ASCENDING)
            .limit(limit)
        ]
        now = time.time()
        claimed = []
        for tid in candidates:
            # The claim repeats the staleness test, atomically with the update: a job a
            # concurrent sweeper claimed since our find now has a fresh lease and is
            # skipped. For an unpublished queued job the $set changes only the lease.
            doc = self._jobs.find_one_and_update(
                {"_id": tid, **stale},
                {"$set": {"status": Status.QUEUED.value, "published": False,
                          "updated_at": now}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                claimed.append(_to_job(doc))
        return claimed

    # -- retention ----------------------------------------------------------------

    @_translated()
    def expire_finished(self, before: float, limit: int = 1000) -> int:
        # Two steps (no delete-with-limit in MongoDB); a job cannot leave a final status,
        # so what was selected is still safe to delete.
        ids = [doc["_id"] for doc in self._jobs.find(
            {"status": {"$in": list(FINAL_STATUSES)}, "updated_at": {"$lt": before}},
            {"_id": 1}).sort("updated_at", ASCENDING).limit(limit)]
        if not ids:
            return 0
        return self._jobs.delete_many(
            {"_id": {"$in": ids}, "status": {"$in": list(FINAL_STATUSES)}}).deleted_count

    @_translated()
    def expire_idempotency_keys(self, before: float, limit: int = 1000) -> int:
        ids = [doc["_id"] for doc in self._keys.find(
            {"created_at": {"$lt": before}}, {"_id": 1}).sort("created_at", ASCENDING)
            .limit(limit)]
        if not ids:
            return 0
        return self._keys.delete_many({"_id": {"$in": ids}}).deleted_count

    # -- lifecycle ----------------------------------------------------------------

    @_translated()
    def ping(self) -> None:
        self.database.command("ping")

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._pid == os.getpid():
            client.close()

    def __repr__(self) -> str:
        return f"MongoStore(database={self.database_name!r})"


def database_from_url(url: str) -> str:
    """The database named in the URL's path, else `predictq`. Parsed by hand because
    pymongo's parser resolves `mongodb+srv` hosts over DNS."""
    return unquote(urlsplit(url).path.lstrip("/")) or DEFAULT_DATABASE


def mongomock_client() -> Any:
    """An in-memory client for tests. mongomock 4.3 predates the `sort` argument that
    pymongo ≥ 4.11 passes for every UpdateOne in a bulk_write; drop it when unset."""
    import mongomock.collection

    builder = mongomock.collection.BulkOperationBuilder
    if not getattr(builder.add_update, "_predictq_shim", False):
        original = builder.add_update

        def add_update(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
            if sort is not None:
                raise NotImplementedError("mongomock cannot sort an UpdateOne")
            return original(self, *args, **kwargs)

        add_update._predictq_shim = True  # type: ignore[attr-defined]
        builder.add_update = add_update
    return mongomock.MongoClient()


def _only_duplicates(exc: BulkWriteError) -> bool:
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)


def _filter(model: str | None, **conditions: Any) -> dict[str, Any]:
    return conditions if model is None else {"model": model, **conditions}


def _to_doc(job: Job) -> dict[str, Any]:
    return {
        "_id": job.tracking_id,
        "model": job.model,
        "input": job.input,
        "status": Status(job.status).value,
        "result": job.result,
        "error": job.error,
        "model_version": job.model_version,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "published": job.published,
        "attempts": job.attempts,
        "owner": job.owner,
        **_callback_fields(job),
    }


def _callback_fields(job: Job) -> dict[str, Any]:
    """The job's callback, kept in its own document (predictq.store.mongo_callbacks)."""
    if not job.callback_url:
        return {}
    from predictq.store.mongo_callbacks import callback_fields  # it imports this module

    return callback_fields(job)


def _to_job(doc: dict[str, Any]) -> Job:
    return Job(
        model=doc["model"],
        input=doc["input"],
        tracking_id=doc["_id"],
        status=Status(doc["status"]),
        result=doc.get("result"),
        error=doc.get("error"),
        model_version=doc.get("model_version"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        published=bool(doc.get("published")),
        attempts=doc.get("attempts", 0),  # documents stored before the field existed
        owner=doc.get("owner"),
    )
