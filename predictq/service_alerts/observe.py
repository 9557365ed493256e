"""What the rules (and the dashboard) look at: one reading of the broker and the store.

A part that does not answer is reported as down with its error, and what only it could
tell is left out (None): the reading itself never fails.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from models.registry import REGISTRY
from predictq.errors import PredictqError
from predictq.jobs import Status
from predictq.messaging import DEAD_LETTER_FAMILY, FAMILIES, Publisher
from predictq.service_alerts.rules import (
    BROKER_DOWN,
    BROKER_RULES,
    DEAD_LETTERS,
    NO_CONSUMER,
    OLDEST_AGE,
    QUEUE_DEPTH,
    Condition,
    Rules,
)
from predictq.store import Store


@dataclass
class Snapshot:
    at: float
    store_error: str | None = None
    broker_error: str | None = None
    # Per job queue: queue, family, depth, consumers (None without the broker) and
    # oldest_age_seconds (None without the store, or when nothing waits).
    queues: list[dict[str, Any]] = field(default_factory=list)
    dead_letter: dict[str, Any] | None = None
    streams: dict[str, Any] | None = None  # depth (summed), consumers, partitions

    @property
    def store_ok(self) -> bool:
        return self.store_error is None

    @property
    def broker_ok(self) -> bool:
        return self.broker_error is None


def snapshot(store: Store, publisher: Publisher, now: float | None = None) -> Snapshot:
    now = time.time() if now is None else now
    snap = Snapshot(at=now)
    models_by_family: dict[str, list[str]] = defaultdict(list)
    for spec in REGISTRY.values():
        models_by_family[spec.family].append(spec.name)
    snap.queues = [{"queue": None, "family": f, "depth": None, "consumers": None,
                    "oldest_age_seconds": None} for f in FAMILIES]
    try:
        for entry, stats in zip(snap.queues, publisher.stats(FAMILIES), strict=True):
            entry.update(queue=stats.name, depth=stats.depth, consumers=stats.consumers)
        (dead,) = publisher.stats([DEAD_LETTER_FAMILY])
        snap.dead_letter = {"queue": dead.name, "depth": dead.depth}
        partitions = publisher.partition_stats()
        snap.streams = {"depth": sum(p.depth for p in partitions),
                        "consumers": max((p.consumers for p in partitions), default=0),
                        "partitions": len(partitions)}
    except PredictqError as exc:
        snap.broker_error = exc.message
    try:
        for entry in snap.queues:
            oldest = [t for name in models_by_family.get(entry["family"], [])
                      if (t := store.oldest_created_at(Status.QUEUED, name)) is not None]
            if oldest:
                entry["oldest_age_seconds"] = round(max(now - min(oldest), 0.0), 3)
    except PredictqError as exc:
        snap.store_error = exc.message
    return snap


def conditions(snap: Snapshot, rules: Rules, prefix: str) -> tuple[list[Condition], set[str]]:
    """The conditions holding in `snap`, and the rules it cannot tell about."""
    holding: list[Condition] = []
    unknown: set[str] = set()
    if not snap.broker_ok:
        unknown.update(BROKER_RULES)
        if rules.down_for_s is not None:
            holding.append(Condition(BROKER_DOWN, "broker", 1, 0, rules.down_for_s,
                                     f"broker unreachable: {snap.broker_error}"))
    if not snap.store_ok:
        unknown.add(OLDEST_AGE)
    for q in snap.queues:
        name = q["queue"] or f"{prefix}.{q['family']}"
        if rules.queue_depth is not None and (q["depth"] or 0) > rules.queue_depth:
            holding.append(Condition(
                QUEUE_DEPTH, name, q["depth"], rules.queue_depth, rules.queue_depth_for_s,
                f"queue {name} holds {q['depth']} messages (above {rules.queue_depth})"))
        if rules.no_consumer_for_s is not None and q["consumers"] == 0:
            holding.append(Condition(NO_CONSUMER, name, 0, 0, rules.no_consumer_for_s,
                                     f"queue {name} has no consumer"))
        age = q["oldest_age_seconds"]
        if rules.oldest_age_s is not None and age is not None and age > rules.oldest_age_s:
            holding.append(Condition(
                OLDEST_AGE, name, age, rules.oldest_age_s, 0,
                f"the oldest job waiting on {name} has waited {age:.0f} s "
                f"(above {rules.oldest_age_s:g} s)"))
    streams = snap.streams
    if (rules.queue_depth is not None and streams is not None
            and streams["depth"] > rules.queue_depth):
        name = f"{prefix}.stream"
        holding.append(Condition(
            QUEUE_DEPTH, name, streams["depth"], rules.queue_depth, rules.queue_depth_for_s,
            f"the stream partitions hold {streams['depth']} wake-ups "
            f"(above {rules.queue_depth})"))
    dead = snap.dead_letter
    if rules.dead_letters is not None and dead is not None and dead["depth"] > rules.dead_letters:
        holding.append(Condition(
            DEAD_LETTERS, dead["queue"], dead["depth"], rules.dead_letters, 0,
            f"{dead['depth']} message(s) in the dead-letter queue {dead['queue']}"))
    return holding, unknown
