"""The model-lifecycle collections of the MongoDB store (predictq.store.models for the
rules): `model_serving` (`_id` = model), `model_switches` (one per decision, unique on
(model, generation)), `feedback` (`_id` = tracking id), `shadow_results` (`_id` =
"<tracking id>:<version>") and `learning_rounds` (`_id` = "<model>:<count>").

Without transactions, each rule rests on one document's atomicity: a switch is a
compare-and-set of the serving document on its generation, then its history line; a
feedback change is a compare-and-set on the stored label and time. Gap: a crash between
a switch and its history line leaves the switch in force with no line for it
(`history` shows a jump in generation).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from predictq.errors import StaleDecision
from predictq.lifecycle.records import (
    Action,
    Feedback,
    Serving,
    ShadowResult,
    Switch,
    VersionCount,
)
from predictq.store.models import ModelStore, apply_switch, merge_feedback
from predictq.store.mongo import DUPLICATE_KEY, _translated

if TYPE_CHECKING:
    from predictq.store.mongo import MongoStore

INDEXES: dict[str, tuple[tuple[list[tuple[str, int]], dict[str, Any]], ...]] = {
    "model_switches": (
        ([("model", ASCENDING), ("generation", DESCENDING)], {"unique": True}),
    ),
    "feedback": (([("model", ASCENDING), ("updated_at", DESCENDING)], {}),),
    "shadow_results": (
        ([("model", ASCENDING), ("version", ASCENDING), ("at", DESCENDING)], {}),
        ([("model", ASCENDING), ("tracking_id", ASCENDING)], {}),
    ),
    # prediction_counts: a version's results, in time order.
    "jobs": (([("model", ASCENDING), ("status", ASCENDING), ("model_version", ASCENDING),
               ("updated_at", ASCENDING)], {}),),
}

# Compare-and-set loops give up after this many lost races (only a storm of concurrent
# writers to one document could lose so often).
MAX_RACES = 100


class MongoModels(ModelStore):
    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._indexed = False

    def _collection(self, name: str) -> Collection:
        db = self._store.database  # reconnects after a fork
        if not self._indexed:
            for collection, indexes in INDEXES.items():
                for keys, options in indexes:
                    db[collection].create_index(keys, **options)
            self._indexed = True
        return db[name]

    @_translated()
    def serving(self) -> dict[str, Serving]:
        return {doc["_id"]: _to_serving(doc) for doc in self._collection("model_serving").find()}

    @_translated()
    def switch(self, model: str, action: Action, version: str | None,
               reason: str = "", expect_generation: int | None = None) -> Switch:
        action = Action(action)
        serving = self._collection("model_serving")
        for _ in range(MAX_RACES):
            doc = serving.find_one({"_id": model}) or {}
            generation = doc.get("generation", 0)
            if expect_generation is not None and expect_generation != generation:
                raise StaleDecision(
                    f"model {model!r} changed meanwhile (generation {generation}, "
                    f"expected {expect_generation}); look again and retry")
            new_version, shadow, previous = apply_switch(
                action, version, doc.get("version"), doc.get("shadow"))
            now = time.time()
            fields = {"version": new_version, "shadow": shadow,
                      "generation": generation + 1, "changed_at": now}
            if not doc:
                try:
                    serving.insert_one({"_id": model, **fields})
                except DuplicateKeyError:
                    continue
            elif serving.update_one({"_id": model, "generation": generation},
                                    {"$set": fields}).matched_count == 0:
                continue
            line = Switch(model, action, version, previous, now, reason)
            self._collection("model_switches").insert_one(
                {"model": model, "generation": generation + 1, "action": action.value,
                 "version": version, "previous": previous, "at": now, "reason": reason})
            return line
        raise StaleDecision(f"model {model!r} is being switched by others; retry")

    @_translated()
    def history(self, model: str, limit: int = 50) -> list[Switch]:
        docs = self._collection("model_switches").find({"model": model}).sort(
            "generation", DESCENDING).limit(limit)
        return [Switch(d["model"], Action(d["action"]), d["version"], d["previous"], d["at"],
                       d["reason"]) for d in docs]

    @_translated()
    def put_feedback(self, feedback: Feedback) -> Feedback:
        collection = self._collection("feedback")
        for _ in range(MAX_RACES):
            doc = collection.find_one({"_id": feedback.tracking_id})
            stored = None if doc is None else _to_feedback(doc)
            merged = merge_feedback(stored, feedback)
            if merged is stored:
                return merged
            if stored is None:
                try:
                    collection.insert_one(_feedback_doc(merged))
                except DuplicateKeyError:
                    continue
                return merged
            # `changes` (the history's length) only grows: it is the compare-and-set's
            # version number.
            won = collection.replace_one(
                {"_id": stored.tracking_id, "changes": len(stored.history)},
                _feedback_doc(merged))
            if won.matched_count:
                return merged
        raise StaleDecision(f"feedback on {feedback.tracking_id!r} keeps changing; retry")

    @_translated()
    def get_feedback(self, tracking_id: str) -> Feedback | None:
        doc = self._collection("feedback").find_one({"_id": tracking_id})
        return None if doc is None else _to_feedback(doc)

    @_translated()
    def feedback(self, model: str, limit: int = 100_000,
                 with_input: bool = True) -> list[Feedback]:
        projection = None if with_input else {"input": 0}
        docs = self._collection("feedback").find({"model": model}, projection).sort(
            [("updated_at", DESCENDING), ("_id", ASCENDING)]).limit(limit)
        return [_to_feedback(doc) for doc in docs][::-1]

    @_translated()
    def feedback_count(self, model: str) -> int:
        return self._collection("feedback").count_documents({"model": model})

    @_translated()
    def put_shadow(self, results: Sequence[ShadowResult]) -> None:
        if not results:
            return
        docs = [{"_id": f"{r.tracking_id}:{r.version}", "tracking_id": r.tracking_id,
                 "model": r.model, "version": r.version, "served_version": r.served_version,
                 "label": r.label, "served_label": r.served_label, "agrees": r.agrees,
                 "at": r.at} for r in results]
        try:
            self._collection("shadow_results").insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise

    @_translated()
    def shadow_results(self, model: str, version: str | None = None,
                       tracking_ids: Sequence[str] | None = None,
                       limit: int = 100_000) -> list[ShadowResult]:
        query: dict[str, Any] = {"model": model}
        if version is not None:
            query["version"] = version
        if tracking_ids is not None:
            query["tracking_id"] = {"$in": list(tracking_ids)}
        docs = self._collection("shadow_results").find(query).sort("at", DESCENDING).limit(limit)
        return [ShadowResult(d["tracking_id"], d["model"], d["version"], d["served_version"],
                             d["label"], d["served_label"], d["at"]) for d in docs]

    @_translated()
    def shadow_summary(self, model: str) -> dict[str, tuple[int, int]]:
        # Counts rather than an aggregation pipeline: every server that speaks the wire
        # protocol has them, and there are few shadow versions.
        shadows = self._collection("shadow_results")
        return {
            version: (shadows.count_documents({"model": model, "version": version}),
                      shadows.count_documents({"model": model, "version": version,
                                               "agrees": True}))
            for version in sorted(shadows.distinct("version", {"model": model}))
        }

    @_translated()
    def prediction_counts(self, model: str) -> list[VersionCount]:
        jobs = self._collection("jobs")
        counts = []
        for version in jobs.distinct("model_version", {"model": model, "status": "done"}):
            if version is None:
                continue
            query = {"model": model, "status": "done", "model_version": version}
            first = jobs.find(query, {"updated_at": 1}).sort("updated_at", ASCENDING).limit(1)
            last = jobs.find(query, {"updated_at": 1}).sort("updated_at", DESCENDING).limit(1)
            counts.append(VersionCount(version, jobs.count_documents(query),
                                       next(iter(first))["updated_at"],
                                       next(iter(last))["updated_at"]))
        return sorted(counts, key=lambda c: c.first_at)

    @_translated()
    def claim_learning(self, model: str, feedback_count: int) -> bool:
        try:
            self._collection("learning_rounds").insert_one(
                {"_id": f"{model}:{feedback_count}", "model": model,
                 "feedback_count": feedback_count, "claimed_at": time.time()})
        except DuplicateKeyError:
            return False
        return True


def _to_serving(doc: dict[str, Any]) -> Serving:
    return Serving(doc["_id"], doc.get("version"), doc.get("shadow"), doc["generation"],
                   doc["changed_at"])


def _feedback_doc(f: Feedback) -> dict[str, Any]:
    return {"_id": f.tracking_id, "model": f.model, "version": f.version, "label": f.label,
            "predicted": f.predicted, "input": f.input, "created_at": f.created_at,
            "updated_at": f.updated_at, "history": list(f.history),
            "changes": len(f.history)}


def _to_feedback(doc: dict[str, Any]) -> Feedback:
    return Feedback(doc["_id"], doc["model"], doc.get("version"), doc["label"],
                    doc.get("predicted"), doc.get("input", {}), doc["created_at"],
                    doc["updated_at"],
                    tuple(doc.get("history", ())))
