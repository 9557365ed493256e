"""What the stream side stores: readings in batches, per-sensor checkpoints, events and
alerts. Timestamps are POSIX seconds (UTC); reading times are the sensor's own clock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from predictq.jobs import iso


@dataclass(frozen=True)
class Reading:
    t: float
    value: float
    seq: int | None = None


@dataclass(frozen=True)
class ReadingResult:
    """What the sensor's worker made of one reading."""

    smoothed: float
    score: float
    anomalous: bool


@dataclass
class Batch:
    """The readings of one accepted request, number `n` of its sensor (1, 2, …, no
    gaps). Storing a batch is what accepting its readings means; `published` says
    whether the broker confirmed its wake-up message."""

    sensor_id: str
    n: int
    readings: list[Reading]
    created_at: float
    published: bool = False
    results: list[ReadingResult] | None = None

    @property
    def first_t(self) -> float:
        return self.readings[0].t

    @property
    def last_t(self) -> float:
        return self.readings[-1].t


@dataclass(frozen=True)
class Appended:
    """The outcome of `SensorStore.append`: the new batch (None when every reading was
    a duplicate), and how many readings were new or duplicates."""

    batch: Batch | None
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class Checkpoint:
    """Where a sensor's worker is: batches up to `applied_n` applied, `state` after them
    (None before the first)."""

    applied_n: int = 0
    state: dict[str, Any] | None = None


@dataclass
class Event:
    event_id: str
    sensor_id: str
    start_t: float
    end_t: float
    readings: list[list[float]]  # [[t, value], ...] of the event itself
    context_before: list[list[float]]  # up to CONTEXT_S before start_t
    detector_version: str
    created_at: float
    tracking_id: str | None = None  # its classification job, if a model classifies it
    context_after: list[list[float]] | None = None  # filled in once CONTEXT_S have passed

    def to_public(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "sensor_id": self.sensor_id,
            "start_t": self.start_t,
            "end_t": self.end_t,
            "start": iso(self.start_t),
            "end": iso(self.end_t),
            "readings": self.readings,
            "context_before": self.context_before,
            "context_after": self.context_after or [],
            "tracking_id": self.tracking_id,
            "detector_version": self.detector_version,
            "created_at": iso(self.created_at),
        }


@dataclass
class Alert:
    alert_id: str
    sensor_id: str
    kind: str  # "anomaly" or "event"
    t: float  # the reading time that raised it
    created_at: float
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    delivered_at: float | None = None
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str | None = None

    def to_public(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "sensor_id": self.sensor_id,
            "kind": self.kind,
            "t": self.t,
            "time": iso(self.t),
            "message": self.message,
            "details": self.details,
            "created_at": iso(self.created_at),
            "delivered": self.delivered_at is not None,
            "delivery_attempts": self.attempts,
        }

    def webhook_body(self) -> dict[str, Any]:
        """What the webhook receives; `text` makes it a Slack incoming-webhook payload."""
        return {"text": f"predictq alert {self.alert_id}: {self.message}",
                **self.to_public()}


@dataclass
class StreamUpdate:
    """Everything one worker pass changes for one sensor, written together by
    `SensorStore.apply` only if the sensor's checkpoint is still at `from_n`."""

    sensor_id: str
    from_n: int
    to_n: int
    state: dict[str, Any]
    results: dict[int, list[ReadingResult]]  # batch n -> one result per reading
    events: list[Event] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    context_after: dict[str, list[list[float]]] = field(default_factory=dict)  # event id ->
    anomalies: int = 0  # anomalous readings among those applied


@dataclass(frozen=True)
class SensorInfo:
    sensor_id: str
    created_at: float
    last_t: float | None  # newest reading time accepted
    last_seq: int | None
    batches: int
    readings: int
    last_accepted_at: float | None  # wall clock of the last accepted request
    applied_n: int
    applied_t: float | None  # newest reading time applied by the worker
    events: int
    anomalies: int
    alerts: int
    versions: dict[str, str]

    def to_public(self) -> dict[str, Any]:
        return {
            "sensor_id": self.sensor_id,
            "created_at": iso(self.created_at),
            "last_reading_t": self.last_t,
            "last_reading": None if self.last_t is None else iso(self.last_t),
            "readings": self.readings,
            "readings_applied_until_t": self.applied_t,
            "pending_batches": self.batches - self.applied_n,
            "events": self.events,
            "anomalies": self.anomalies,
            "alerts": self.alerts,
            "versions": self.versions,
        }


def stable_id(prefix: str, *parts: object) -> str:
    """The same id for the same effect every time it is computed, so replaying a
    reading after a crash writes over an effect instead of adding a second one."""
    digest = hashlib.sha256("\x00".join(repr(p) for p in parts).encode()).hexdigest()
    return f"{prefix}_{digest[:24]}"
