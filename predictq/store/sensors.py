"""The sensor-stream side of the store: batches of readings, checkpoints, events, alerts.

Every backend reaches it as `store.sensors` and passes tests/store/test_sensors.py.
Two rules make a stream trustworthy:

- `append` accepts a request's readings all together or not at all, as batch n + 1 of
  its sensor, only if they are newer than everything accepted before; so a sensor's
  batches are numbered without gaps, in reading-time order, and a worker that applies
  batches by number sees every reading once and in order.
- `apply` writes a worker's pass (results, events, alerts, the new checkpoint) only if
  the sensor's checkpoint is still where the worker started, and events and alerts
  carry ids computed from what they are (records.stable_id), so a pass replayed after a
  crash, or run by a worker that lost its partition, changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from predictq.errors import ReadingsOutOfOrder
from predictq.streams.records import (
    Alert,
    Appended,
    Batch,
    Checkpoint,
    Event,
    Reading,
    SensorInfo,
    StreamUpdate,
)


class SensorStore(ABC):
    @abstractmethod
    def append(self, sensor_id: str, readings: Sequence[Reading]) -> Appended:
        """Store `readings` (strictly increasing `t`, and `seq` where given) as the
        sensor's next batch, creating the sensor on its first request.

        A reading whose `t` or `seq` was already accepted for this sensor is a
        duplicate: counted, not stored again. Every other reading must be newer (in `t`,
        and in `seq` when both carry one) than all accepted ones; otherwise raise
        `ReadingsOutOfOrder` and store nothing. Concurrent appends to one sensor are
        serialised: each sees the other's readings as accepted.
        """

    @abstractmethod
    def mark_batches_published(self, keys: Sequence[tuple[str, int]]) -> None:
        """Record that the broker confirmed these (sensor_id, n) batches' messages."""

    @abstractmethod
    def unpublished_batches(self, older_than: float, limit: int = 500) -> list[Batch]:
        """Batches never confirmed published, created at or before `older_than`,
        oldest first (the outbox the sweeper empties)."""

    @abstractmethod
    def republish_unapplied(self) -> int:
        """Mark unpublished every batch its sensor has not applied yet (`n` above the
        sensor's `applied_n`), so the sweeper publishes their wake-ups again; return how
        many batches changed. For partition queues rebuilt without their messages."""

    @abstractmethod
    def checkpoint(self, sensor_id: str) -> Checkpoint:
        """Where the sensor's worker is; `Checkpoint()` for a sensor never applied."""

    @abstractmethod
    def applied_n(self, sensor_id: str) -> int:
        """`checkpoint(sensor_id).applied_n` without reading the state: a worker holding
        the state in memory checks it is still current (0 for an unknown sensor)."""

    @abstractmethod
    def batches_after(self, sensor_id: str, n: int, limit: int = 100) -> list[Batch]:
        """The sensor's batches numbered above `n`, in order, at most `limit`."""

    @abstractmethod
    def readings_between(self, sensor_id: str, since: float, until: float,
                         limit: int = 100_000) -> list[tuple[Reading, object]]:
        """Stored readings with since <= t <= until in time order, each with its
        `ReadingResult` (None while not yet applied), at most `limit` (the oldest)."""

    @abstractmethod
    def apply(self, updates: Sequence[StreamUpdate]) -> list[bool]:
        """Write each update whose sensor's checkpoint is still at `from_n`; return, per
        update, whether it was written. Within one update: each batch's results, the
        events and alerts (an id already present is left as it is), the events'
        late context, the counters, and last the checkpoint (`to_n`, `state`)."""

    @abstractmethod
    def sensor(self, sensor_id: str) -> SensorInfo | None:
        """The sensor's totals and versions, or None if it never sent a reading."""

    @abstractmethod
    def list_sensors(self, limit: int = 1000) -> list[SensorInfo]:
        """Known sensors, by id."""

    @abstractmethod
    def events(self, sensor_id: str | None = None, since: float | None = None,
               limit: int = 100) -> list[Event]:
        """Events (of one sensor, or all) that started at or after `since`, newest
        first."""

    @abstractmethod
    def get_event(self, event_id: str) -> Event | None:
        """The event with this id, or None."""

    @abstractmethod
    def alerts(self, since: float | None = None, sensor_id: str | None = None,
               limit: int = 100) -> list[Alert]:
        """Alerts created at or after `since`, newest first."""

    @abstractmethod
    def claim_alerts(self, now: float, lease_s: float, limit: int = 50) -> list[Alert]:
        """Claim undelivered alerts due at `now` (`next_attempt_at <= now`), oldest
        first, pushing their `next_attempt_at` to now + lease_s so that no other
        deliverer claims them meanwhile, and counting the attempt."""

    @abstractmethod
    def alert_delivered(self, alert_id: str, at: float) -> None:
        """The receiver answered 2xx: never send this alert again."""

    @abstractmethod
    def alert_failed(self, alert_id: str, error: str, retry_at: float) -> None:
        """The receiver failed: try again at `retry_at`."""

    @abstractmethod
    def delete_readings_before(self, t: float, limit: int = 1000) -> int:
        """Delete up to `limit` applied batches whose newest reading is older than `t`;
        return how many. Events, alerts and sensor totals stay."""


def out_of_order(sensor_id: str, reading: Reading, last_t: float,
                 last_seq: int | None) -> ReadingsOutOfOrder:
    seq = "" if reading.seq is None else f" (seq {reading.seq})"
    newest = f"t={last_t!r}" + ("" if last_seq is None else f", seq {last_seq}")
    return ReadingsOutOfOrder(
        f"sensor {sensor_id!r}: reading t={reading.t!r}{seq} is older than the newest "
        f"already accepted ({newest}) and is not one of the accepted readings; nothing "
        "of this request was stored")


def split_new(sensor_id: str, readings: Sequence[Reading], last_t: float | None,
              last_seq: int | None, seen_t: set[float], seen_seq: set[int]
              ) -> tuple[list[Reading], int]:
    """Every backend's duplicate rule: (new readings, duplicates), or raise
    `ReadingsOutOfOrder`. `seen_t`/`seen_seq` hold the accepted readings' times and
    sequence numbers from `min(t)` of the request on."""
    new: list[Reading] = []
    duplicates = 0
    for r in readings:
        if r.t in seen_t or (r.seq is not None and r.seq in seen_seq):
            duplicates += 1
            continue
        newer = last_t is None or (
            r.t > last_t and (r.seq is None or last_seq is None or r.seq > last_seq))
        if not newer:
            raise out_of_order(sensor_id, r, last_t, last_seq)
        new.append(r)
    return new, duplicates
