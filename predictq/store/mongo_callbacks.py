"""Completion callbacks in the MongoDB store (predictq.store.callbacks for the contract).

A job's callback lives in the job's own document, written by `MongoStore.create` with
it: `callback_url`, `cb_pending` (true until settled, then removed), `cb_next_at`,
`cb_attempts`, `cb_error`, `cb_delivered_at` / `cb_abandoned_at`. Due means pending,
`cb_next_at <= now` *and* the job final, all tested by one find-and-modify on one
document — so the write that makes a job final is the write that makes its callback
due, without multi-document transactions, and no sweep is needed. A callback goes with
its job when retention deletes the job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.collection import Collection

from predictq.jobs import Job
from predictq.store.base import FINAL_STATUSES
from predictq.store.callbacks import Callback, CallbackState, CallbackStore
from predictq.store.mongo import _to_job, _translated

if TYPE_CHECKING:
    from predictq.store.mongo import MongoStore

# Jobs without a callback have no `cb_pending`: the index's leading key is null for
# them, so the claim reads pending callbacks only.
INDEX = [("cb_pending", ASCENDING), ("status", ASCENDING), ("cb_next_at", ASCENDING)]


def callback_fields(job: Job) -> dict[str, Any]:
    """What `MongoStore.create` adds to the document of a job with a callback_url."""
    return {"callback_url": job.callback_url, "cb_pending": True, "cb_next_at": 0.0,
            "cb_attempts": 0, "cb_error": None}


class MongoCallbacks(CallbackStore):
    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._indexed = False

    @property
    def _jobs(self) -> Collection:
        jobs = self._store._jobs  # reconnects after a fork
        if not self._indexed:
            jobs.create_index(INDEX)
            self._indexed = True
        return jobs

    @_translated()
    def claim_due(self, now: float, lease_s: float, limit: int = 64) -> list[Callback]:
        jobs = self._jobs
        claimed: list[Callback] = []
        while len(claimed) < limit:
            due: dict[str, Any] = {"cb_pending": True, "status": {"$in": list(FINAL_STATUSES)},
                                   "cb_next_at": {"$lte": now}}
            if claimed:  # with a lease of 0 they would still be due
                due["_id"] = {"$nin": [c.tracking_id for c in claimed]}
            doc = jobs.find_one_and_update(
                due, {"$set": {"cb_next_at": now + lease_s}, "$inc": {"cb_attempts": 1}},
                return_document=ReturnDocument.AFTER)
            if doc is None:
                break
            claimed.append(Callback(doc["_id"], doc["callback_url"], doc["cb_attempts"],
                                    doc.get("cb_error"), _to_job(doc)))
        return claimed

    @_translated()
    def delivered(self, tracking_id: str, at: float) -> None:
        self._jobs.update_one({"_id": tracking_id, "cb_pending": True},
                              {"$unset": {"cb_pending": ""},
                               "$set": {"cb_delivered_at": at}})

    @_translated()
    def failed(self, tracking_id: str, error: str, retry_at: float) -> None:
        self._jobs.update_one({"_id": tracking_id, "cb_pending": True},
                              {"$set": {"cb_next_at": retry_at, "cb_error": error[:500]}})

    @_translated()
    def abandoned(self, tracking_id: str, reason: str, at: float) -> None:
        self._jobs.update_one({"_id": tracking_id, "cb_pending": True},
                              {"$unset": {"cb_pending": ""},
                               "$set": {"cb_abandoned_at": at, "cb_error": reason[:500]}})

    @_translated()
    def get(self, tracking_id: str) -> CallbackState | None:
        doc = self._jobs.find_one({"_id": tracking_id, "callback_url": {"$exists": True}})
        if doc is None:
            return None
        pending = doc.get("cb_pending") is True
        final = doc["status"] in FINAL_STATUSES
        return CallbackState(
            tracking_id, doc["callback_url"], doc.get("cb_attempts", 0),
            doc.get("cb_next_at") if pending and final else None, doc.get("cb_error"),
            doc.get("cb_delivered_at"), doc.get("cb_abandoned_at"))
