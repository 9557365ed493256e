"""Applying a sensor's readings: detectors, events, alerts, the checkpoint.

Transport-free, like predictq.processing: the stream consumer hands in the wake-up
messages it received and acks them once `process` returns. For each sensor named, the
readings come from the store (batches after the checkpoint, by number), never from the
messages, so late, repeated or missing wake-ups change nothing. Each pass is written
with `SensorStore.apply`, fenced on the checkpoint it started from; events, alerts and
classification jobs have ids computed from what they are, so a pass replayed after a
crash writes the same records again instead of new ones: each reading's effect is
applied exactly once.

Between passes the processor keeps each sensor's state as live objects (`Live`), so a
pass over a few new readings does not parse and rebuild the whole checkpoint. The store
stays the truth: a kept state is used only while the stored checkpoint is still the one
it was written as (`applied_n` unchanged: no other worker applied anything since), and
it is dropped when a pass fails or is fenced.
"""

from __future__ import annotations

import itertools
import logging
import statistics
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from models.errors import InvalidModelInput, UnknownModelName
from models.registry import get_spec
from models.streams import StreamModel, appliance_window
from models.streams.types import ClosedEvent, Step
from predictq.errors import BrokerUnavailable
from predictq.jobs import Job, iso
from predictq.messaging import Publisher
from predictq.settings import Settings
from predictq.store import Store
from predictq.streams.records import (
    Alert,
    Batch,
    Checkpoint,
    Event,
    ReadingResult,
    StreamUpdate,
    stable_id,
)

log = logging.getLogger(__name__)

CONTEXT_S = 10.0  # the context kept around each event, before and after
MAX_BATCHES_PER_PASS = 200  # a sensor far behind catches up over several passes
MAX_PASSES = 50  # per call: bounded, so the consumer keeps heart-beating


@dataclass
class Live:
    """A sensor's state as objects, as of its checkpoint `applied_n`."""

    applied_n: int
    model: StreamModel
    last_anomalous: float | None
    pending: list[list[Any]]  # [event_id, end_t]: events waiting for their context

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> Live:
        state = checkpoint.state or {}
        model = (StreamModel.from_state(state["model"]) if "model" in state
                 else StreamModel())
        return cls(checkpoint.applied_n, model, state.get("last_anomalous_t"),
                   list(state.get("pending_context", [])))


@dataclass
class StreamReport:
    sensors: int = 0
    readings: int = 0
    events: int = 0
    alerts: int = 0
    duplicates: int = 0  # wake-ups for batches already applied
    fenced: int = 0  # passes another worker had already written
    malformed: int = 0
    jobs: list[Job] = field(default_factory=list)


class StreamProcessor:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher | None) -> None:
        self.settings = settings
        self.store = store
        self.publisher = publisher
        self._live: OrderedDict[str, Live] = OrderedDict()  # least recently used first

    def process(self, bodies: Sequence[Any]) -> StreamReport:
        """Apply every sensor the wake-ups name up to the newest batch they name.

        Raises only when the store cannot be read or written: then nothing may be acked.
        """
        report = StreamReport()
        wanted: dict[str, int] = {}
        for body in bodies:
            sensor, n = _parse(body)
            if sensor is None:
                report.malformed += 1
                log.info("dropping a malformed stream message: %r", body)
                continue
            wanted[sensor] = max(n, wanted.get(sensor, 0))
        report.sensors = len(wanted)
        for _ in range(MAX_PASSES):
            updates, lives = [], []
            for sensor, n in list(wanted.items()):
                live = self._take(sensor)
                if n <= live.applied_n:
                    report.duplicates += 1
                    del wanted[sensor]
                    self._keep(sensor, live)
                    continue
                batches = self.store.sensors.batches_after(sensor, live.applied_n,
                                                           MAX_BATCHES_PER_PASS)
                if not batches:
                    del wanted[sensor]
                    self._keep(sensor, live)
                    continue
                updates.append(self._pass(sensor, live, batches, report))
                lives.append(live)
            if not updates:
                break
            written = self.store.sensors.apply(updates)
            for update, live, ok in zip(updates, lives, written, strict=True):
                if ok:
                    report.readings += sum(len(r) for r in update.results.values())
                    report.events += len(update.events)
                    report.alerts += len(update.alerts)
                    live.applied_n = update.to_n
                    self._keep(update.sensor_id, live)
                else:
                    report.fenced += 1
                    wanted.pop(update.sensor_id, None)  # someone else owns it now
        self._publish(report.jobs)
        return report

    # -- the states kept between passes ----------------------------------------------

    def _take(self, sensor: str) -> Live:
        """The sensor's state as of its stored checkpoint, removed from the kept ones
        while a pass changes it (a pass that fails must not leave it half-changed)."""
        live = self._live.pop(sensor, None)
        if live is not None and live.applied_n == self.store.sensors.applied_n(sensor):
            return live
        return Live.from_checkpoint(self.store.sensors.checkpoint(sensor))

    def _keep(self, sensor: str, live: Live) -> None:
        self._live[sensor] = live
        while len(self._live) > self.settings.stream_state_cache:
            self._live.popitem(last=False)

    # -- one pass over one sensor ---------------------------------------------------

    def _pass(self, sensor: str, live: Live, batches: list[Batch],
              report: StreamReport) -> StreamUpdate:
        model, last_anomalous, pending = live.model, live.last_anomalous, live.pending
        update = StreamUpdate(sensor, live.applied_n, batches[-1].n, {}, {})
        for batch in batches:
            readings = batch.readings
            steps = model.steps([r.t for r in readings], [r.value for r in readings])
            update.results[batch.n] = [ReadingResult(s.smoothed, s.score, s.anomalous)
                                       for s in steps]
            for reading, step in zip(readings, steps, strict=True):
                if step.anomalous:
                    update.anomalies += 1
                    gap = self.settings.alert_gap_s
                    if last_anomalous is None or reading.t - last_anomalous > gap:
                        update.alerts.append(_anomaly_alert(sensor, reading.t,
                                                            reading.value, step))
                    last_anomalous = reading.t
                if step.closed is not None:
                    event = self._event(sensor, step.closed, model, report)
                    update.events.append(event)
                    pending.append([event.event_id, event.end_t])
                    if self.settings.alert_on_events:
                        update.alerts.append(_event_alert(event))
        last_t = batches[-1].last_t
        still_pending = []
        for event_id, end_t in pending:
            if last_t >= end_t + CONTEXT_S:
                update.context_after[event_id] = [
                    [r.t, r.value] for r, _ in self.store.sensors.readings_between(
                        sensor, end_t, end_t + CONTEXT_S) if r.t > end_t]
            else:
                still_pending.append([event_id, end_t])
        live.last_anomalous, live.pending = last_anomalous, still_pending
        update.state = {"model": model.to_state(), "last_anomalous_t": last_anomalous,
                        "pending_context": still_pending, "last_t": last_t,
                        "versions": model.versions}
        return update

    def _event(self, sensor: str, closed: ClosedEvent, model: StreamModel,
               report: StreamReport) -> Event:
        around = self.store.sensors.readings_between(sensor, closed.start_t - CONTEXT_S,
                                                     closed.end_t)
        inside = [[r.t, r.value] for r, _ in around if r.t >= closed.start_t]
        before = [[r.t, r.value] for r, _ in around if r.t < closed.start_t]
        event = Event(
            event_id=stable_id("ev", sensor, closed.start_t),
            sensor_id=sensor, start_t=closed.start_t, end_t=closed.end_t,
            readings=inside, context_before=before,
            detector_version=model.versions["event_detector"], created_at=time.time())
        job = self._classification_job(event)
        if job is not None:
            event.tracking_id = job.tracking_id
            if not job.published:
                report.jobs.append(job)
        return event

    def _classification_job(self, event: Event) -> Job | None:
        """The event's job for the configured model: created once, whatever the number
        of passes that compute this event (its idempotency key is the event id)."""
        name = self.settings.event_model
        try:
            spec = get_spec(name)
        except UnknownModelName:
            log.warning("PREDICTQ_EVENT_MODEL=%r is not a model; events are not "
                        "classified", name)
            return None
        values = [v for _, v in event.readings]
        times = [t for t, _ in event.readings]
        period = statistics.median(b - a for a, b in itertools.pairwise(times)) \
            if len(times) > 1 else 1.0
        raw = {"sensor_id": event.sensor_id, "timestamp": event.start_t,
               "sampling_period_ms": max(period * 1000, 1e-3),
               "readings": appliance_window(values) if name == "appliance" else values}
        try:
            item = spec.validate(raw, max_chars=self.settings.max_text_chars)
        except InvalidModelInput as exc:
            log.info("event %s cannot be classified by %s: %s", event.event_id, name, exc)
            return None
        stored, _ = self.store.create([Job(model=name, input=item)],
                                      idempotency_key=f"event:{event.event_id}",
                                      request_hash=event.event_id)
        return stored[0]

    def _publish(self, jobs: list[Job]) -> None:
        if not jobs or self.publisher is None:
            return
        family = get_spec(jobs[0].model).family
        try:
            self.publisher.publish(jobs, family)
        except BrokerUnavailable as exc:
            # Stored: the sweeper publishes them once the broker is back.
            log.info("broker unavailable, %d event job(s) left to the sweeper: %s",
                     len(jobs), exc.message)
            return
        self.store.mark_published([job.tracking_id for job in jobs])


def _parse(body: Any) -> tuple[str | None, int]:
    if not isinstance(body, dict):
        return None, 0
    sensor, n = body.get("sensor_id"), body.get("n")
    if not isinstance(sensor, str) or not sensor or isinstance(n, bool) \
            or not isinstance(n, int) or n < 1:
        return None, 0
    return sensor, n


def _anomaly_alert(sensor: str, t: float, value: float, step: Step) -> Alert:
    now = time.time()
    return Alert(
        alert_id=stable_id("al", sensor, "anomaly", t), sensor_id=sensor, kind="anomaly",
        t=t, created_at=now, next_attempt_at=now,
        message=(f"sensor {sensor}: anomalous reading {value:.6g} at {iso(t)} "
                 f"(score {step.score:.2f})"),
        details={"value": value, "score": step.score, "smoothed": step.smoothed})


def _event_alert(event: Event) -> Alert:
    now = time.time()
    return Alert(
        alert_id=stable_id("al", event.sensor_id, "event", event.start_t),
        sensor_id=event.sensor_id, kind="event", t=event.start_t, created_at=now,
        next_attempt_at=now,
        message=(f"sensor {event.sensor_id}: event from {iso(event.start_t)} to "
                 f"{iso(event.end_t)} ({len(event.readings)} readings)"),
        details={"event_id": event.event_id, "tracking_id": event.tracking_id,
                 "start_t": event.start_t, "end_t": event.end_t})
