"""The sensor-stream collections of the MongoDB store (predictq.store.sensors for the
rules): `sensors` (`_id` = sensor id: totals, checkpoint, state), `sensor_batches`
(`_id` = "<sensor id>:<n>", unique on (sensor_id, n)), `events` (`_id` = event id) and
`alerts` (`_id` = alert id).

Without multi-document transactions the two rules rest on single-document atomicity:

- `append`: batch n + 1 is inserted under the unique (sensor_id, n) index, which is the
  lock: of two concurrent appends that read the same head, one insert wins and the other
  gets DuplicateKeyError, reads the head again (now seeing the winner's readings as
  accepted) and retries. The sensor document is created (empty) before its first batch
  and updated after each one with `$max` of cumulative values the batch itself carries
  (n, last_t, last_seq, readings so far), so the update is idempotent and a crash
  between the two writes loses nothing: the head is the newer of the sensor document and
  the sensor's newest batch, and retention folds a batch into the sensor document before
  deleting it.
- `apply`: the idempotent writes go first (results, then events and alerts inserted
  under their deterministic ids, context_after), the checkpoint last as one conditional
  update on `applied_n == from_n` that also carries the counters, so a fenced-out pass
  counts nothing. Events and alerts are inserted tagged `pending_n = from_n` and a
  winning pass counts those of its ids still tagged with its `from_n` (inserted by it,
  or by an earlier attempt at the same step that crashed or lost the race), then drops
  the tag.

Remaining gaps:

- A stale pass that passes the cheap fence pre-check just before the winner moves the
  checkpoint still writes its results, events, alerts and context_after before its
  conditional update fails. With a deterministic worker these are the winner's own
  values; a worker that computes different events leaves them stored and uncounted.
- A crash after a winning checkpoint but before its `pending_n` tags are dropped, then
  a later pass with the same `from_n` (possible only when `to_n == from_n`) that
  re-emits those ids, counts them a second time.
- Until the sensor document catches up after such a crash (the sensor's next request,
  or retention), `list_sensors` shows its old totals; `sensor` looks at the newest
  batch and does not.
- `apply` is atomic per update, not per call: a connection lost midway leaves the first
  updates applied; replaying them is fenced out (returns False).
- `claim_alerts` claims one alert per round trip; a connection lost midway leaves the
  alerts already claimed pushed by the lease and their attempt counted without anyone
  holding them: they are sent once the lease ends.
- A request whose batch insert reached the server but whose answer was lost raises
  StoreUnavailable; its retry finds the readings accepted and counts them as duplicates.
- `delete_readings_before` has no join: it walks at most 10 x `limit` old batches and
  looks each sensor's checkpoint up; many old unapplied batches (a stalled worker) can
  make one call delete fewer than it could, never one it should not.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from predictq import jsoncodec
from predictq.store.mongo import DUPLICATE_KEY, _translated
from predictq.store.sensors import SensorStore, split_new
from predictq.streams.records import (
    Alert,
    Appended,
    Batch,
    Checkpoint,
    Event,
    Reading,
    ReadingResult,
    SensorInfo,
    StreamUpdate,
)

if TYPE_CHECKING:
    from predictq.store.mongo import MongoStore

INDEXES: dict[str, tuple[tuple[list[tuple[str, int]], dict[str, Any]], ...]] = {
    "sensor_batches": (
        # The numbering lock, and batches_after / the newest batch of a sensor.
        ([("sensor_id", ASCENDING), ("n", ASCENDING)], {"unique": True}),
        # readings_between and the duplicate check by time, in time order.
        ([("sensor_id", ASCENDING), ("last_t", ASCENDING)], {}),
        # The duplicate check by sequence number (multikey).
        ([("sensor_id", ASCENDING), ("seqs", ASCENDING)], {}),
        ([("published", ASCENDING), ("created_at", ASCENDING)], {}),  # the outbox
        ([("last_t", ASCENDING)], {}),  # retention
    ),
    "events": (
        ([("start_t", DESCENDING)], {}),
        ([("sensor_id", ASCENDING), ("start_t", DESCENDING)], {}),
    ),
    "alerts": (
        # alert_id (a copy of _id) rather than _id: some servers that speak the wire
        # protocol (nx-27017) cannot put _id in a compound index.
        ([("created_at", DESCENDING), ("alert_id", ASCENDING)], {}),
        ([("sensor_id", ASCENDING), ("created_at", DESCENDING), ("alert_id", ASCENDING)], {}),
        ([("delivered_at", ASCENDING), ("next_attempt_at", ASCENDING)], {}),  # claiming
    ),
}

SENSOR_DEFAULTS = {"batches": 0, "readings": 0, "applied_n": 0,
                   "state": None, "events": 0, "anomalies": 0, "alerts": 0, "versions": {}}
HEAD_FIELDS = ("last_t", "last_seq", "batches", "readings")
BATCH_FIELDS = ("sensor_id", "n", "readings", "results", "created_at", "published")


class MongoSensors(SensorStore):
    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._indexed = False

    def _collection(self, name: str) -> Collection:
        db = self._store.database  # reconnects after a fork
        if not self._indexed:
            # All of them before any write: append's numbering relies on the unique one.
            for collection, indexes in INDEXES.items():
                for keys, options in indexes:
                    db[collection].create_index(keys, **options)
            self._indexed = True
        return db[name]

    @property
    def _sensors(self) -> Collection:
        return self._collection("sensors")

    @property
    def _batches(self) -> Collection:
        return self._collection("sensor_batches")

    @property
    def _events(self) -> Collection:
        return self._collection("events")

    @property
    def _alerts(self) -> Collection:
        return self._collection("alerts")

    # -- intake -------------------------------------------------------------------

    @_translated()
    def append(self, sensor_id: str, readings: Sequence[Reading]) -> Appended:
        if not readings:
            return Appended(None, 0, 0)
        while True:  # each retry means another append to this sensor got in first
            now = time.time()
            exists, last_t, last_seq, n, total = self._head(sensor_id)
            seen_t: set[float] = set()
            seen_seq: set[int] = set()
            if last_t is not None and readings[0].t <= last_t:
                for doc in self._batches.find(
                        {"sensor_id": sensor_id, "last_t": {"$gte": readings[0].t}},
                        {"readings": 1}):
                    for t, _, seq in doc["readings"]:
                        seen_t.add(t)
                        if seq is not None:
                            seen_seq.add(seq)
            wanted = [r.seq for r in readings if r.seq is not None]
            if last_seq is not None and any(seq <= last_seq for seq in wanted):
                for doc in self._batches.find(
                        {"sensor_id": sensor_id, "seqs": {"$in": wanted}}, {"seqs": 1}):
                    seen_seq |= set(doc["seqs"]) & set(wanted)
            new, duplicates = split_new(sensor_id, readings, last_t, last_seq,
                                        seen_t, seen_seq)
            if not new:
                return Appended(None, 0, duplicates)
            if not exists:
                # Before the batch: whoever finds a batch finds its sensor (checkpoint,
                # apply's fence) even if we die right after inserting it.
                self._create_sensor(sensor_id, now)
            batch = Batch(sensor_id, n + 1, new, now)
            seqs = [r.seq for r in new if r.seq is not None]
            new_seq = max(seqs) if seqs else last_seq
            try:
                self._batches.insert_one({
                    "_id": _batch_id(sensor_id, batch.n), "sensor_id": sensor_id,
                    "n": batch.n, "readings": [[r.t, r.value, r.seq] for r in new],
                    "seqs": seqs, "first_t": batch.first_t, "last_t": batch.last_t,
                    # Cumulative, so that the sensor's head can be read off this batch.
                    "last_seq": new_seq, "readings_total": total + len(new),
                    "created_at": now, "published": False, "results": None,
                })
            except DuplicateKeyError:
                continue
            self._advance(sensor_id, batch.n, batch.last_t, new_seq, total + len(new), now)
            return Appended(batch, len(new), duplicates)

    def _head(self, sensor_id: str) -> tuple[bool, float | None, int | None, int, int]:
        """(sensor exists, last_t, last_seq, batches, readings): the newer of the sensor
        document and its newest batch, which a crash may have left ahead of it."""
        doc = self._sensors.find_one({"_id": sensor_id}, _fields(HEAD_FIELDS))
        head = (doc.get("last_t"), doc.get("last_seq"), doc.get("batches", 0),
                doc.get("readings", 0)) if doc else (None, None, 0, 0)
        newest = self._batches.find_one(
            {"sensor_id": sensor_id},
            {"n": 1, "last_t": 1, "last_seq": 1, "readings_total": 1},
            sort=[("n", DESCENDING)])
        if newest is not None and newest["n"] > head[2]:
            head = (newest["last_t"], newest["last_seq"], newest["n"],
                    newest["readings_total"])
        return (doc is not None, *head)

    def _create_sensor(self, sensor_id: str, now: float) -> None:
        with suppress(DuplicateKeyError):  # a concurrent first request created it
            self._sensors.update_one(
                {"_id": sensor_id},
                {"$setOnInsert": {"created_at": now, **SENSOR_DEFAULTS}},
                upsert=True)

    def _advance(self, sensor_id: str, n: int, last_t: float, last_seq: int | None,
                 total: int, now: float | None) -> None:
        """Bring the sensor document up to batch `n` (idempotent: `$max` only)."""
        highest: dict[str, Any] = {"batches": n, "last_t": last_t, "readings": total}
        if last_seq is not None:
            highest["last_seq"] = last_seq
        if now is not None:
            highest["last_accepted_at"] = now
        self._sensors.update_one({"_id": sensor_id}, {"$max": highest})

    @_translated()
    def mark_batches_published(self, keys: Sequence[tuple[str, int]]) -> None:
        if keys:
            self._batches.update_many({"_id": {"$in": [_batch_id(s, n) for s, n in keys]}},
                                      {"$set": {"published": True}})

    @_translated()
    def unpublished_batches(self, older_than: float, limit: int = 500) -> list[Batch]:
        if limit <= 0:  # limit(0) would mean "no limit" to the server
            return []
        cursor = self._batches.find(
            {"published": False, "created_at": {"$lte": older_than}}, _fields(BATCH_FIELDS),
        ).sort("created_at", ASCENDING).limit(limit)
        return [_to_batch(doc) for doc in cursor]

    @_translated()
    def republish_unapplied(self) -> int:
        # Sensor by sensor: a comparison of two fields of one document ($expr) is not
        # something every server speaking the wire protocol does. Migrations are rare.
        changed = 0
        for doc in self._sensors.find({}, {"applied_n": 1}):
            changed += self._batches.update_many(
                {"sensor_id": doc["_id"], "n": {"$gt": doc.get("applied_n", 0)},
                 "published": True},
                {"$set": {"published": False}}).modified_count
        return changed

    # -- the worker's side ----------------------------------------------------------

    @_translated()
    def checkpoint(self, sensor_id: str) -> Checkpoint:
        doc = self._sensors.find_one({"_id": sensor_id}, {"applied_n": 1, "state": 1})
        if doc is None:
            return Checkpoint()
        state = doc.get("state")
        return Checkpoint(doc.get("applied_n", 0),
                          None if state is None else jsoncodec.loads(state))

    @_translated()
    def applied_n(self, sensor_id: str) -> int:
        doc = self._sensors.find_one({"_id": sensor_id}, {"applied_n": 1})
        return 0 if doc is None else doc.get("applied_n", 0)

    @_translated()
    def batches_after(self, sensor_id: str, n: int, limit: int = 100) -> list[Batch]:
        if limit <= 0:
            return []
        cursor = self._batches.find({"sensor_id": sensor_id, "n": {"$gt": n}},
                                    _fields(BATCH_FIELDS)).sort("n", ASCENDING).limit(limit)
        return [_to_batch(doc) for doc in cursor]

    @_translated()
    def readings_between(self, sensor_id: str, since: float, until: float,
                         limit: int = 100_000) -> list[tuple[Reading, ReadingResult | None]]:
        out: list[tuple[Reading, ReadingResult | None]] = []
        if limit <= 0:
            return out
        # A sensor's batches are in time order: last_t order is n order.
        cursor = self._batches.find(
            {"sensor_id": sensor_id, "last_t": {"$gte": since}, "first_t": {"$lte": until}},
            _fields(BATCH_FIELDS)).sort("last_t", ASCENDING)
        for doc in cursor:
            batch = _to_batch(doc)
            results = batch.results or [None] * len(batch.readings)
            for reading, result in zip(batch.readings, results, strict=True):
                if since <= reading.t <= until:
                    out.append((reading, result))
                    if len(out) >= limit:
                        return out
        return out

    @_translated()
    def apply(self, updates: Sequence[StreamUpdate]) -> list[bool]:
        return [self._apply_one(update) for update in updates]

    def _apply_one(self, u: StreamUpdate) -> bool:
        # Cheap pre-check: a pass already fenced out writes nothing at all.
        doc = self._sensors.find_one({"_id": u.sensor_id}, {"applied_n": 1})
        if doc is None or doc.get("applied_n", 0) != u.from_n:
            return False
        if u.results:
            self._batches.bulk_write([
                UpdateOne({"_id": _batch_id(u.sensor_id, n)},
                          {"$set": {"results": [[r.smoothed, r.score, bool(r.anomalous)]
                                                for r in results]}})
                for n, results in u.results.items()], ordered=False)
        event_ids = self._insert_new(self._events, u.from_n, {
            e.event_id: vars(e) for e in u.events})
        alert_ids = self._insert_new(self._alerts, u.from_n, {
            a.alert_id: _alert_doc(a) for a in u.alerts})
        for event_id, context in u.context_after.items():
            self._events.update_one({"_id": event_id}, {"$set": {"context_after": context}})
        new_events = self._pending(self._events, event_ids, u.from_n)
        new_alerts = self._pending(self._alerts, alert_ids, u.from_n)
        newest = self._batches.find_one({"_id": _batch_id(u.sensor_id, u.to_n)},
                                        {"last_t": 1})
        changes: dict[str, Any] = {
            "$set": {"applied_n": u.to_n, "state": _dumps(u.state),
                     "versions": u.state.get("versions", {})},
            "$inc": {"events": new_events, "alerts": new_alerts, "anomalies": u.anomalies},
        }
        if newest is not None:
            changes["$max"] = {"applied_t": newest["last_t"]}
        won = self._sensors.update_one({"_id": u.sensor_id, "applied_n": u.from_n},
                                       changes).matched_count == 1
        if won:
            for collection, ids in ((self._events, event_ids), (self._alerts, alert_ids)):
                if ids:  # counted now: drop the tag (a crash here leaves it, harmlessly)
                    collection.update_many({"_id": {"$in": ids}, "pending_n": u.from_n},
                                           {"$unset": {"pending_n": ""}})
        return won

    @staticmethod
    def _insert_new(collection: Collection, from_n: int,
                    docs: dict[str, dict[str, Any]]) -> list[str]:
        """Insert each document whose id is not stored yet, tagged `pending_n`; an
        existing one is left as it is. Returns the ids."""
        if not docs:
            return []
        operations = [
            UpdateOne({"_id": _id},
                      {"$setOnInsert": {**_plain(doc), "pending_n": from_n}}, upsert=True)
            for _id, doc in docs.items()]
        try:
            collection.bulk_write(operations, ordered=False)
        except BulkWriteError as exc:  # concurrent upserts of one id: one of them wins
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
        return list(docs)

    @staticmethod
    def _pending(collection: Collection, ids: list[str], from_n: int) -> int:
        """How many of `ids` no pass has counted yet: tagged by a pass from `from_n`."""
        if not ids:
            return 0
        return collection.count_documents({"_id": {"$in": ids}, "pending_n": from_n})

    # -- reads ----------------------------------------------------------------------

    @_translated()
    def sensor(self, sensor_id: str) -> SensorInfo | None:
        doc = self._sensors.find_one({"_id": sensor_id})
        if doc is None:
            return None
        newest = self._batches.find_one(
            {"sensor_id": sensor_id}, {"n": 1, "last_t": 1, "last_seq": 1,
                                       "readings_total": 1, "created_at": 1},
            sort=[("n", DESCENDING)])
        if newest is not None and newest["n"] > doc.get("batches", 0):
            # An append died between its batch and the sensor update: count its batch.
            doc.update(batches=newest["n"], last_t=newest["last_t"],
                       last_seq=newest["last_seq"], readings=newest["readings_total"],
                       last_accepted_at=newest["created_at"])
        return _to_sensor(doc)

    @_translated()
    def list_sensors(self, limit: int = 1000) -> list[SensorInfo]:
        if limit <= 0:
            return []
        cursor = self._sensors.find().sort("_id", ASCENDING).limit(limit)
        return [_to_sensor(doc) for doc in cursor]

    @_translated()
    def events(self, sensor_id: str | None = None, since: float | None = None,
               limit: int = 100) -> list[Event]:
        if limit <= 0:
            return []
        query: dict[str, Any] = {}
        if sensor_id is not None:
            query["sensor_id"] = sensor_id
        if since is not None:
            query["start_t"] = {"$gte": since}
        cursor = self._events.find(query).sort("start_t", DESCENDING).limit(limit)
        return [_to_event(doc) for doc in cursor]

    @_translated()
    def get_event(self, event_id: str) -> Event | None:
        doc = self._events.find_one({"_id": event_id})
        return None if doc is None else _to_event(doc)

    @_translated()
    def alerts(self, since: float | None = None, sensor_id: str | None = None,
               limit: int = 100) -> list[Alert]:
        if limit <= 0:
            return []
        query: dict[str, Any] = {}
        if sensor_id is not None:
            query["sensor_id"] = sensor_id
        if since is not None:
            query["created_at"] = {"$gte": since}
        cursor = self._alerts.find(query).sort(
            [("created_at", DESCENDING), ("alert_id", ASCENDING)]).limit(limit)
        return [_to_alert(doc) for doc in cursor]

    # -- alert delivery -------------------------------------------------------------

    @_translated()
    def claim_alerts(self, now: float, lease_s: float, limit: int = 50) -> list[Alert]:
        # One atomic find-and-modify per alert: the due test and the lease are one
        # write, so two deliverers never hold the same alert within a lease.
        claimed: list[Alert] = []
        while len(claimed) < limit:
            due: dict[str, Any] = {"delivered_at": None, "next_attempt_at": {"$lte": now}}
            if claimed:  # with a lease of 0 they would still be due
                due["_id"] = {"$nin": [a.alert_id for a in claimed]}
            doc = self._alerts.find_one_and_update(
                due,
                {"$set": {"next_attempt_at": now + lease_s}, "$inc": {"attempts": 1}},
                sort=[("next_attempt_at", ASCENDING)],
                return_document=ReturnDocument.AFTER)
            if doc is None:
                break
            claimed.append(_to_alert(doc))
        return claimed

    @_translated()
    def alert_delivered(self, alert_id: str, at: float) -> None:
        self._alerts.update_one({"_id": alert_id},
                                {"$set": {"delivered_at": at, "last_error": None}})

    @_translated()
    def alert_failed(self, alert_id: str, error: str, retry_at: float) -> None:
        self._alerts.update_one({"_id": alert_id, "delivered_at": None},
                                {"$set": {"next_attempt_at": retry_at,
                                          "last_error": error[:500]}})

    # -- retention ------------------------------------------------------------------

    @_translated()
    def delete_readings_before(self, t: float, limit: int = 1000) -> int:
        if limit <= 0:
            return 0
        applied: dict[str, int] = {}
        doomed: list[dict[str, Any]] = []
        fields = {"sensor_id": 1, "n": 1, "last_t": 1, "last_seq": 1, "readings_total": 1}
        # Only batches their worker has applied: unapplied readings are still work.
        # Unapplied old batches (a stalled worker) are walked past, at most 10 x limit.
        for doc in self._batches.find({"last_t": {"$lt": t}}, fields).limit(limit * 10):
            sensor_id = doc["sensor_id"]
            if sensor_id not in applied:
                sensor = self._sensors.find_one({"_id": sensor_id}, {"applied_n": 1})
                applied[sensor_id] = sensor.get("applied_n", 0) if sensor else 0
            if doc["n"] <= applied[sensor_id]:
                doomed.append(doc)
                if len(doomed) >= limit:
                    break
        if not doomed:
            return 0
        newest: dict[str, dict[str, Any]] = {}
        for doc in doomed:
            if doc["n"] > newest.get(doc["sensor_id"], {"n": 0})["n"]:
                newest[doc["sensor_id"]] = doc
        for sensor_id, doc in newest.items():
            # The head must survive its batch (see _head): fold it in first.
            self._advance(sensor_id, doc["n"], doc["last_t"], doc["last_seq"],
                          doc["readings_total"], None)
        return self._batches.delete_many(
            {"_id": {"$in": [doc["_id"] for doc in doomed]}}).deleted_count


def _fields(names: tuple[str, ...]) -> dict[str, int]:
    """A projection of its own for each call: mongomock edits the one it is given."""
    return dict.fromkeys(names, 1)


def _batch_id(sensor_id: str, n: int) -> str:
    return f"{sensor_id}:{n}"  # sensor ids hold no ':' (predictq.streams.validation)


def _dumps(value: Any) -> str:
    return jsoncodec.dumps(value)


def _plain(value: Any) -> Any:
    """What JSON makes of `value` (tuples as lists, keys as strings), as SQLite stores it."""
    return jsoncodec.loads(_dumps(value))


def _to_batch(doc: dict[str, Any]) -> Batch:
    results = doc.get("results")
    return Batch(
        doc["sensor_id"], doc["n"],
        [Reading(t, value, seq) for t, value, seq in doc["readings"]],
        doc["created_at"], bool(doc.get("published")),
        None if results is None else [ReadingResult(s, score, bool(a))
                                      for s, score, a in results])


def _to_sensor(doc: dict[str, Any]) -> SensorInfo:
    return SensorInfo(
        sensor_id=doc["_id"], created_at=doc["created_at"], last_t=doc.get("last_t"),
        last_seq=doc.get("last_seq"), batches=doc.get("batches", 0),
        readings=doc.get("readings", 0), last_accepted_at=doc.get("last_accepted_at"),
        applied_n=doc.get("applied_n", 0), applied_t=doc.get("applied_t"),
        events=doc.get("events", 0), anomalies=doc.get("anomalies", 0),
        alerts=doc.get("alerts", 0), versions=doc.get("versions") or {})


EVENT_FIELDS = ("event_id", "sensor_id", "start_t", "end_t", "readings", "context_before",
                "detector_version", "created_at", "tracking_id", "context_after")


def _to_event(doc: dict[str, Any]) -> Event:
    return Event(**{name: doc.get(name) for name in EVENT_FIELDS})


def _alert_doc(alert: Alert) -> dict[str, Any]:
    return {"alert_id": alert.alert_id, "sensor_id": alert.sensor_id, "kind": alert.kind,
            "t": alert.t, "created_at": alert.created_at, "message": alert.message,
            "details": alert.details, "delivered_at": None, "attempts": 0,
            "next_attempt_at": alert.next_attempt_at, "last_error": None}


def _to_alert(doc: dict[str, Any]) -> Alert:
    return Alert(
        alert_id=doc["_id"], sensor_id=doc["sensor_id"], kind=doc["kind"], t=doc["t"],
        created_at=doc["created_at"], message=doc["message"], details=doc.get("details") or {},
        delivered_at=doc.get("delivered_at"), attempts=doc.get("attempts", 0),
        next_attempt_at=doc.get("next_attempt_at", 0.0), last_error=doc.get("last_error"))
