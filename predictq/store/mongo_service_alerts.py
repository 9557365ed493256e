"""Service alerts in the MongoDB store (predictq.store.service_alerts for the rules):
`service_alerts` (`_id` = alert id), `service_alert_notifications` (`_id` = notification
id) and `service_alert_rounds` (one document, `_id` "round", holding the next round's
time: the evaluation lease is a compare-and-set on it).

Without transactions, `apply` writes the notifications first (inserting an id that
exists is ignored), then the alerts: a crash between the two leaves the alerts as they
were, the next evaluation makes the same transition, and its notifications (same ids)
are not queued twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from predictq.store.mongo import DUPLICATE_KEY, _translated
from predictq.store.service_alerts import (
    FIRING,
    PENDING,
    Notification,
    ServiceAlert,
    ServiceAlertStore,
)

if TYPE_CHECKING:
    from predictq.store.mongo import MongoStore

INDEXES: dict[str, tuple[list[tuple[str, int]], ...]] = {
    "service_alerts": ([("state", ASCENDING), ("since", ASCENDING)],
                       [("updated_at", DESCENDING)]),
    "service_alert_notifications": ([("delivered_at", ASCENDING),
                                     ("next_attempt_at", ASCENDING)],
                                    [("created_at", DESCENDING)]),
}
ALERT_FIELDS = ("rule", "subject", "state", "since", "value", "threshold", "message",
                "opened_at", "resolved_at", "updated_at")


class MongoServiceAlerts(ServiceAlertStore):
    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._indexed = False

    def _collection(self, name: str) -> Collection:
        db = self._store.database  # reconnects after a fork
        if not self._indexed:
            for collection, indexes in INDEXES.items():
                for keys in indexes:
                    db[collection].create_index(keys)
            self._indexed = True
        return db[name]

    @_translated()
    def claim_round(self, now: float, interval_s: float) -> bool:
        rounds = self._collection("service_alert_rounds")
        if rounds.find_one_and_update({"_id": "round", "next_at": {"$lte": now}},
                                      {"$set": {"next_at": now + interval_s}}):
            return True
        try:
            rounds.insert_one({"_id": "round", "next_at": now + interval_s})
        except DuplicateKeyError:
            return False  # another process holds this round
        return True

    @_translated()
    def active(self) -> list[ServiceAlert]:
        docs = self._collection("service_alerts").find(
            {"state": {"$in": [PENDING, FIRING]}}).sort("since", ASCENDING)
        return [_to_alert(doc) for doc in docs]

    @_translated()
    def recent(self, limit: int = 50) -> list[ServiceAlert]:
        docs = self._collection("service_alerts").find(
            {"state": {"$ne": PENDING}}).sort("updated_at", DESCENDING).limit(limit)
        return [_to_alert(doc) for doc in docs]

    @_translated()
    def apply(self, upserts: Sequence[ServiceAlert], deletes: Sequence[str],
              notifications: Sequence[Notification]) -> None:
        if notifications:
            docs = [{"_id": n.notification_id, "alert_id": n.alert_id, "kind": n.kind,
                     "body": n.body, "created_at": n.created_at, "attempts": n.attempts,
                     "next_attempt_at": n.next_attempt_at, "delivered_at": n.delivered_at,
                     "last_error": n.last_error} for n in notifications]
            try:
                self._collection("service_alert_notifications").insert_many(
                    docs, ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != DUPLICATE_KEY for e in exc.details["writeErrors"]):
                    raise
        alerts = self._collection("service_alerts")
        for a in upserts:
            alerts.replace_one({"_id": a.alert_id}, {"_id": a.alert_id, **{
                f: getattr(a, f) for f in ALERT_FIELDS}}, upsert=True)
        if deletes:
            alerts.delete_many({"_id": {"$in": list(deletes)}})

    @_translated()
    def notifications(self, limit: int = 50) -> list[Notification]:
        docs = self._collection("service_alert_notifications").find().sort(
            [("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [_to_note(doc) for doc in docs]

    @_translated()
    def claim_due(self, now: float, lease_s: float, limit: int = 10) -> list[Notification]:
        # One find-and-modify per notification: the due test and the lease are one write.
        notes = self._collection("service_alert_notifications")
        claimed: list[Notification] = []
        while len(claimed) < limit:
            due: dict[str, Any] = {"delivered_at": None, "next_attempt_at": {"$lte": now}}
            if claimed:  # with a lease of 0 they would still be due
                due["_id"] = {"$nin": [n.notification_id for n in claimed]}
            doc = notes.find_one_and_update(
                due, {"$set": {"next_attempt_at": now + lease_s}, "$inc": {"attempts": 1}},
                sort=[("next_attempt_at", ASCENDING)], return_document=ReturnDocument.AFTER)
            if doc is None:
                break
            claimed.append(_to_note(doc))
        return claimed

    @_translated()
    def delivered(self, notification_id: str, at: float) -> None:
        self._collection("service_alert_notifications").update_one(
            {"_id": notification_id}, {"$set": {"delivered_at": at, "last_error": None}})

    @_translated()
    def failed(self, notification_id: str, error: str, retry_at: float) -> None:
        self._collection("service_alert_notifications").update_one(
            {"_id": notification_id, "delivered_at": None},
            {"$set": {"next_attempt_at": retry_at, "last_error": error[:500]}})


def _to_alert(doc: dict[str, Any]) -> ServiceAlert:
    return ServiceAlert(**{f: doc.get(f) for f in ALERT_FIELDS})


def _to_note(doc: dict[str, Any]) -> Notification:
    return Notification(doc["_id"], doc["alert_id"], doc["kind"], doc["body"],
                        doc["created_at"], doc.get("attempts", 0), doc["next_attempt_at"],
                        doc.get("delivered_at"), doc.get("last_error"))
