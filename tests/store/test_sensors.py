"""What every store's sensor side promises (predictq/store/sensors.py), run once per
backend, then the MongoDB backend's recovery from crashes between its writes."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from pymongo.errors import AutoReconnect

from predictq.errors import ReadingsOutOfOrder, StoreUnavailable
from predictq.store import Store, open_store
from predictq.store.mongo import MongoStore
from predictq.store.sensors import SensorStore
from predictq.store.sqlite import SqliteStore
from predictq.streams.records import (
    Alert,
    Batch,
    Checkpoint,
    Event,
    Reading,
    ReadingResult,
    SensorInfo,
    StreamUpdate,
    stable_id,
)

T0 = 1_700_000_000.0
S = "boiler-1"
UNREACHABLE = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"


def rs(*ts: float, seq: int | None = None, value: float = 0.5) -> list[Reading]:
    """Readings at T0 + t, with sequence numbers from `seq` on when given."""
    return [Reading(T0 + t, value + i, None if seq is None else seq + i)
            for i, t in enumerate(ts)]


def ts(readings: list[Reading]) -> list[float]:
    return [r.t - T0 for r in readings]


def ns(batches: list[Batch]) -> list[int]:
    return [b.n for b in batches]


def result(i: int, anomalous: bool = False) -> ReadingResult:
    return ReadingResult(smoothed=0.25 + i, score=1.5 * i, anomalous=anomalous)


def results_for(batch: Batch) -> list[ReadingResult]:
    return [result(i, anomalous=i == 0) for i in range(len(batch.readings))]


def event(start: float, sensor_id: str = S, **changes: object) -> Event:
    fields: dict = dict(
        event_id=stable_id("evt", sensor_id, start), sensor_id=sensor_id,
        start_t=T0 + start, end_t=T0 + start + 2.0,
        readings=[[T0 + start, 1.5], [T0 + start + 1, 2.5]],
        context_before=[[T0 + start - 1, 0.5]], detector_version="edges-1",
        created_at=T0 + 100, tracking_id=None)
    fields.update(changes)
    return Event(**fields)


def alert(t: float, sensor_id: str = S, **changes: object) -> Alert:
    fields: dict = dict(
        alert_id=stable_id("alr", sensor_id, t), sensor_id=sensor_id, kind="anomaly",
        t=T0 + t, created_at=T0 + t, message=f"spike at {t}", details={"score": 4.5},
        next_attempt_at=T0 + t)
    fields.update(changes)
    return Alert(**fields)


def update(from_n: int, to_n: int, sensor_id: str = S, **changes: object) -> StreamUpdate:
    fields: dict = dict(sensor_id=sensor_id, from_n=from_n, to_n=to_n,
                        state={"mean": 1.25, "versions": {"detector": "edges-1"}},
                        results={})
    fields.update(changes)
    return StreamUpdate(**fields)


@pytest.fixture
def sensors(store: Store) -> SensorStore:
    return store.sensors  # type: ignore[attr-defined]


@pytest.fixture
def atomic_sensors(sensors: SensorStore, store_url: str) -> SensorStore:
    """`sensors`, but not mongomock: its insert tests `_id in store` and then stores,
    and its find-and-modify finds a document and then updates it by `_id` alone, with
    no lock between threads; unlike the server, two threads can both win (rarely, at a
    thread switch between the two steps, so a run may pass by luck)."""
    if store_url.startswith("mongomock"):
        pytest.skip("mongomock's insert (check, then store) and find_one_and_update "
                    "(find, then update) are not atomic between threads")
    return sensors


def applied_through(sensors: SensorStore, sensor_id: str, to_n: int, **changes) -> None:
    """Apply every batch up to `to_n` in one pass, with results."""
    cp = sensors.checkpoint(sensor_id)
    batches = sensors.batches_after(sensor_id, cp.applied_n, limit=to_n - cp.applied_n)
    assert sensors.apply([update(cp.applied_n, to_n, sensor_id, results={
        b.n: results_for(b) for b in batches}, **changes)]) == [True]


# -- append ------------------------------------------------------------------------------


def test_a_first_request_creates_the_sensor(sensors: SensorStore) -> None:
    assert sensors.sensor(S) is None
    assert sensors.list_sensors() == []
    assert sensors.checkpoint(S) == Checkpoint()
    before = time.time()

    appended = sensors.append(S, rs(1, 2, 3, seq=7))

    assert (appended.accepted, appended.duplicates) == (3, 0)
    info = sensors.sensor(S)
    assert isinstance(info, SensorInfo)
    assert (info.sensor_id, info.batches, info.readings, info.last_t, info.last_seq) == (
        S, 1, 3, T0 + 3, 9)
    assert before <= info.created_at <= time.time()
    assert before <= info.last_accepted_at <= time.time()
    assert (info.applied_n, info.applied_t, info.events, info.anomalies, info.alerts,
            info.versions) == (0, None, 0, 0, 0, {})
    assert sensors.list_sensors() == [info]
    assert sensors.checkpoint(S) == Checkpoint()  # known, but never applied


def test_appends_are_numbered_one_two_three_and_kept_as_sent(sensors: SensorStore) -> None:
    sent = [rs(1, 2.5), rs(3.25, seq=1), rs(4, 5, 6)]
    got = [sensors.append(S, readings) for readings in sent]

    assert [a.batch.n for a in got] == [1, 2, 3]
    assert [a.accepted for a in got] == [2, 1, 3]
    stored = sensors.batches_after(S, 0)
    assert ns(stored) == [1, 2, 3]
    assert [b.readings for b in stored] == sent
    assert [b.readings for b in stored] == [a.batch.readings for a in got]
    assert all(type(r.t) is float and type(r.value) is float for b in stored
               for r in b.readings)
    assert all(b.results is None and b.published is False for b in stored)
    assert (stored[2].first_t, stored[2].last_t) == (T0 + 4, T0 + 6)
    info = sensors.sensor(S)
    assert (info.batches, info.readings, info.last_t, info.last_seq) == (3, 6, T0 + 6, 1)
    assert sensors.batches_after("other", 0) == []


def test_sensors_are_numbered_apart(sensors: SensorStore) -> None:
    assert sensors.append("a", rs(5)).batch.n == 1
    assert sensors.append("b", rs(1)).batch.n == 1  # older than a's: another sensor
    assert sensors.append("a", rs(6)).batch.n == 2
    assert [s.sensor_id for s in sensors.list_sensors()] == ["a", "b"]
    assert [s.sensor_id for s in sensors.list_sensors(limit=1)] == ["a"]


def test_readings_seen_by_time_are_counted_not_stored(sensors: SensorStore) -> None:
    sensors.append(S, rs(1, 2, 3))

    again = sensors.append(S, rs(2, 3, 4))
    assert (again.batch.n, ts(again.batch.readings), again.accepted, again.duplicates) == (
        2, [4], 1, 2)
    nothing = sensors.append(S, rs(1, 2))
    assert (nothing.batch, nothing.accepted, nothing.duplicates) == (None, 0, 2)

    assert [ts(b.readings) for b in sensors.batches_after(S, 0)] == [[1, 2, 3], [4]]
    info = sensors.sensor(S)
    assert (info.batches, info.readings, info.last_t) == (2, 4, T0 + 4)


def test_readings_seen_by_sequence_number_are_duplicates_even_at_a_new_time(
    sensors: SensorStore,
) -> None:
    sensors.append(S, rs(1, 2, seq=1))  # seq 1, 2
    sensors.append(S, rs(3, seq=3))
    sensors.append(S, rs(4, seq=4))

    # seq 1 (in the oldest batch, far from these times) and seq 4 resent, re-timed.
    got = sensors.append(S, [Reading(T0 + 10, 0.0, 1), Reading(T0 + 11, 0.0, 4),
                             Reading(T0 + 12, 0.0, 5)])
    assert (ts(got.batch.readings), got.accepted, got.duplicates) == ([12], 1, 2)
    info = sensors.sensor(S)
    assert (info.batches, info.readings, info.last_seq) == (4, 5, 5)


def test_an_out_of_order_reading_stores_nothing_of_its_request(sensors: SensorStore) -> None:
    sensors.append(S, rs(10, 11, seq=10))
    before = sensors.sensor(S)

    for late in (rs(5, 12, 13),  # older than the newest, and never seen
                 rs(10, 10.5, 12),  # a duplicate, then an older one, then a new one
                 rs(12, seq=3)):  # newer in time, older in sequence
        with pytest.raises(ReadingsOutOfOrder):
            sensors.append(S, late)

    assert sensors.sensor(S) == before
    assert [ts(b.readings) for b in sensors.batches_after(S, 0)] == [[10, 11]]
    assert sensors.unpublished_batches(older_than=time.time() + 60) == \
        sensors.batches_after(S, 0)
    assert sensors.append(S, rs(12, seq=12)).batch.n == 2  # and it goes on from there


def test_concurrent_appends_are_numbered_without_gaps_and_stored_once(
    atomic_sensors: SensorStore,
) -> None:
    sensors = atomic_sensors
    threads_n, requests = 8, 6
    barrier = threading.Barrier(threads_n)
    answers: list[tuple[list[Reading], object]] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        barrier.wait(timeout=10)
        for j in range(requests):
            # Thread i's own stretch of round j, overlapping the next thread's by two
            # readings; thread 0 also resends the previous round's end.
            start = j * 100 + i * 10 - (5 if i == 0 and j else 0)
            readings = rs(*range(start, j * 100 + i * 10 + 12))
            try:
                outcome: object = sensors.append(S, readings)
            except ReadingsOutOfOrder as exc:  # another thread got newer readings in
                outcome = exc
            with lock:
                answers.append((readings, outcome))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(answers) == threads_n * requests
    won = {a.batch.n: a.batch for _, a in answers
           if not isinstance(a, Exception) and a.batch is not None}
    stored = sensors.batches_after(S, 0, limit=1000)
    assert ns(stored) == list(range(1, len(stored) + 1))  # 1..N, no gap
    assert sorted(won) == ns(stored)  # each stored batch is exactly one caller's
    assert [b.readings for b in stored] == [won[n].readings for n in sorted(won)]
    times = [r.t for b in stored for r in b.readings]
    assert times == sorted(set(times))  # every reading once, increasing across n
    for readings, a in answers:
        if not isinstance(a, Exception):
            assert a.accepted + a.duplicates == len(readings)
    info = sensors.sensor(S)
    assert (info.batches, info.readings, info.last_t) == (len(stored), len(times), times[-1])
    assert len(stored) >= requests  # at least one request of each round got through


# -- outbox ------------------------------------------------------------------------------


def test_unpublished_batches_until_marked_published(sensors: SensorStore) -> None:
    before = time.time()
    sensors.append("a", rs(1))
    sensors.append("b", rs(1))
    sensors.append("a", rs(2))
    after = time.time()

    assert sensors.unpublished_batches(older_than=before - 1) == []
    pending = sensors.unpublished_batches(older_than=after)
    assert [(b.sensor_id, b.n) for b in pending] == [("a", 1), ("b", 1), ("a", 2)]
    assert ts(pending[0].readings) == [1]
    assert len(sensors.unpublished_batches(older_than=after, limit=2)) == 2

    sensors.mark_batches_published([("a", 1), ("b", 1), ("nope", 9)])
    assert [(b.sensor_id, b.n) for b in sensors.unpublished_batches(after)] == [("a", 2)]
    assert [b.published for b in sensors.batches_after("a", 0)] == [True, False]
    sensors.mark_batches_published([])


def test_republish_unapplied_marks_only_batches_not_yet_applied(
        sensors: SensorStore) -> None:
    for t in range(1, 4):
        sensors.append("a", rs(t))
    sensors.append("b", rs(1))
    sensors.mark_batches_published([("a", 1), ("a", 2), ("a", 3), ("b", 1)])
    applied_through(sensors, "a", 2)

    assert sensors.republish_unapplied() == 2

    pending = sensors.unpublished_batches(older_than=time.time())
    assert sorted((b.sensor_id, b.n) for b in pending) == [("a", 3), ("b", 1)]
    assert [b.published for b in sensors.batches_after("a", 0)] == [True, True, False]
    assert sensors.republish_unapplied() == 0  # already unpublished


# -- the worker's side -------------------------------------------------------------------


def test_batches_after_in_order_and_limited(sensors: SensorStore) -> None:
    for t in range(1, 6):
        sensors.append(S, rs(t))
    assert ns(sensors.batches_after(S, 0)) == [1, 2, 3, 4, 5]
    assert ns(sensors.batches_after(S, 2)) == [3, 4, 5]
    assert ns(sensors.batches_after(S, 1, limit=2)) == [2, 3]
    assert sensors.batches_after(S, 5) == []


def test_apply_writes_results_state_counters_and_the_checkpoint(sensors: SensorStore) -> None:
    first = sensors.append(S, rs(1, 2)).batch
    second = sensors.append(S, rs(3)).batch
    sensors.append(S, rs(4))
    state = {"mean": 1.25, "window": [[T0 + 2, 0.5]], "versions": {"detector": "edges-1"}}

    written = sensors.apply([update(0, 2, state=state, anomalies=2, results={
        1: results_for(first), 2: results_for(second)})])

    assert written == [True]
    assert sensors.checkpoint(S) == Checkpoint(2, state)
    assert sensors.applied_n(S) == 2 and sensors.applied_n("never-seen") == 0
    info = sensors.sensor(S)
    assert (info.applied_n, info.anomalies, info.versions) == (2, 2, {"detector": "edges-1"})
    assert info.applied_t == T0 + 3  # the newest reading of the batches applied
    assert [b.results for b in sensors.batches_after(S, 0)] == [
        results_for(first), results_for(second), None]
    assert sensors.batches_after(S, 0)[0].results[0] == ReadingResult(0.25, 0.0, True)


def test_apply_is_fenced_by_the_checkpoint(sensors: SensorStore) -> None:
    batch = sensors.append(S, rs(1, 2)).batch
    sensors.append(S, rs(3))
    winner = update(0, 1, results={1: results_for(batch)}, anomalies=1,
                    events=[event(1)], alerts=[alert(1)])
    assert sensors.apply([winner]) == [True]
    info, checkpoint = sensors.sensor(S), sensors.checkpoint(S)
    events, alerts = sensors.events(), sensors.alerts()

    # A stale pass from the same start, computing something else: nothing of it lands.
    stale = update(0, 2, state={"stale": True}, anomalies=5,
                   results={1: [result(9)] * 2, 2: [result(9)]},
                   events=[event(2)], alerts=[alert(2)],
                   context_after={event(1).event_id: [[T0 + 9, 9.0]]})
    assert sensors.apply([stale]) == [False]

    assert sensors.sensor(S) == info
    assert sensors.checkpoint(S) == checkpoint
    assert sensors.events() == events and sensors.alerts() == alerts
    assert [b.results for b in sensors.batches_after(S, 0)] == [results_for(batch), None]
    assert sensors.get_event(event(1).event_id).context_after is None


def test_apply_answers_per_update(sensors: SensorStore) -> None:
    sensors.append("a", rs(1))
    sensors.append("b", rs(1))
    assert sensors.apply([update(0, 1, "a"), update(3, 4, "b"), update(0, 1, "nobody"),
                          update(0, 1, "b")]) == [True, False, False, True]
    assert [sensors.checkpoint(s).applied_n for s in ("a", "b")] == [1, 1]
    assert sensors.sensor("nobody") is None
    assert sensors.apply([]) == []


def test_replayed_events_and_alerts_are_stored_and_counted_once(sensors: SensorStore) -> None:
    for t in (1, 2, 3):
        sensors.append(S, rs(t))
    assert sensors.apply([update(0, 1, events=[event(1)], alerts=[alert(1)])]) == [True]
    # A later pass re-finds the same effects (same ids), told differently, plus new ones.
    replay = update(1, 3, events=[event(1, end_t=T0 + 99), event(2)],
                    alerts=[alert(1, message="changed"), alert(2)])
    assert sensors.apply([replay]) == [True]

    assert [e.event_id for e in sensors.events()] == [event(2).event_id, event(1).event_id]
    assert sensors.get_event(event(1).event_id) == event(1)  # left as it was
    assert [a.alert_id for a in sensors.alerts()] == [alert(2).alert_id, alert(1).alert_id]
    assert sensors.alerts()[1].message == "spike at 1"
    info = sensors.sensor(S)
    assert (info.events, info.alerts) == (2, 2)


def test_late_context_is_added_to_a_stored_event(sensors: SensorStore) -> None:
    sensors.append(S, rs(1))
    sensors.append(S, rs(2))
    stored = event(1)
    sensors.apply([update(0, 1, events=[stored])])
    assert sensors.get_event(stored.event_id).context_after is None
    assert sensors.get_event(stored.event_id).to_public()["context_after"] == []

    after = [[T0 + 4, 1.0], [T0 + 5, 0.75]]
    assert sensors.apply([update(1, 2, context_after={stored.event_id: after,
                                                      "evt_unknown": after})]) == [True]

    got = sensors.get_event(stored.event_id)
    assert got.context_after == after
    assert got == Event(**{**vars(stored), "context_after": after})
    assert sensors.get_event("evt_unknown") is None
    assert sensors.sensor(S).events == 1


def test_readings_between_clips_to_the_range_with_results_once_applied(
    sensors: SensorStore,
) -> None:
    one = sensors.append(S, rs(1, 2, 3)).batch
    sensors.append(S, rs(4, 5))
    sensors.append(S, rs(6, 7))

    got = sensors.readings_between(S, T0 + 2, T0 + 6)
    assert [(r.t - T0, res) for r, res in got] == [(2, None), (3, None), (4, None),
                                                   (5, None), (6, None)]
    assert [r.value for r, _ in got] == [1.5, 2.5, 0.5, 1.5, 0.5]

    sensors.apply([update(0, 1, results={1: results_for(one)})])
    got = sensors.readings_between(S, T0 + 2, T0 + 4.5)
    assert [(r.t - T0, res) for r, res in got] == [
        (2, result(1)), (3, result(2)), (4, None)]
    assert [r.t - T0 for r, _ in sensors.readings_between(S, T0, T0 + 100, limit=4)] == [
        1, 2, 3, 4]
    assert sensors.readings_between(S, T0 + 3.5, T0 + 3.9) == []
    assert sensors.readings_between("other", T0, T0 + 100) == []


# -- events and alerts -------------------------------------------------------------------


def test_events_newest_first_by_sensor_and_since(sensors: SensorStore) -> None:
    for s in ("a", "b"):
        sensors.append(s, rs(1))
    sensors.apply([update(0, 1, "a", events=[event(10, "a"), event(30, "a")]),
                   update(0, 1, "b", events=[event(20, "b")])])

    def starts(events: list[Event]) -> list[float]:
        return [e.start_t - T0 for e in events]

    assert starts(sensors.events()) == [30, 20, 10]
    assert starts(sensors.events(sensor_id="a")) == [30, 10]
    assert starts(sensors.events(since=T0 + 20)) == [30, 20]
    assert starts(sensors.events(sensor_id="b", since=T0 + 20.5)) == []
    assert starts(sensors.events(limit=2)) == [30, 20]
    assert sensors.events(sensor_id="a")[0] == event(30, "a")
    assert (sensors.sensor("a").events, sensors.sensor("b").events) == (2, 1)


def test_alerts_newest_first_by_sensor_and_since(sensors: SensorStore) -> None:
    for s in ("a", "b"):
        sensors.append(s, rs(1))
    sensors.apply([update(0, 1, "a", alerts=[alert(10, "a"), alert(30, "a")]),
                   update(0, 1, "b", alerts=[alert(20, "b")])])

    def times(alerts: list[Alert]) -> list[float]:
        return [a.t - T0 for a in alerts]

    assert times(sensors.alerts()) == [30, 20, 10]
    assert times(sensors.alerts(sensor_id="a")) == [30, 10]
    assert times(sensors.alerts(since=T0 + 20)) == [30, 20]
    assert times(sensors.alerts(since=T0 + 20, sensor_id="a")) == [30]
    assert times(sensors.alerts(limit=1)) == [30]
    assert sensors.alerts(sensor_id="b") == [alert(20, "b")]
    assert (sensors.sensor("a").alerts, sensors.sensor("b").alerts) == (2, 1)

    # Raised at one moment: by id, whatever order the pass listed them in.
    twins = sorted([alert(40, "b", created_at=T0 + 40), alert(41, "b", created_at=T0 + 40)],
                   key=lambda a: a.alert_id, reverse=True)
    sensors.append("b", rs(2))
    assert sensors.apply([update(1, 2, "b", alerts=twins)]) == [True]
    assert [a.alert_id for a in sensors.alerts(sensor_id="b", limit=2)] == sorted(
        a.alert_id for a in twins)


def test_claimed_alerts_are_leased_retried_and_delivered_once(sensors: SensorStore) -> None:
    sensors.append(S, rs(1))
    first, second, later = alert(1), alert(2), alert(500)
    sensors.apply([update(0, 1, alerts=[second, later, first])])

    claimed = sensors.claim_alerts(now=T0 + 10, lease_s=60)
    assert [a.alert_id for a in claimed] == [first.alert_id, second.alert_id]  # oldest first
    assert [(a.attempts, a.next_attempt_at) for a in claimed] == [(1, T0 + 70)] * 2
    assert sensors.claim_alerts(now=T0 + 20, lease_s=60) == []  # within the lease

    sensors.alert_failed(first.alert_id, "HTTP 503", retry_at=T0 + 30)
    sensors.alert_delivered(second.alert_id, at=T0 + 25)
    sensors.alert_failed(second.alert_id, "late failure report", retry_at=T0 + 30)

    again = sensors.claim_alerts(now=T0 + 31, lease_s=60)
    assert [(a.alert_id, a.attempts, a.last_error) for a in again] == [
        (first.alert_id, 2, "HTTP 503")]
    sensors.alert_delivered(first.alert_id, at=T0 + 32)
    assert [a.alert_id for a in sensors.claim_alerts(now=T0 + 10_000, lease_s=60)] == [
        later.alert_id]
    assert sensors.claim_alerts(now=T0 + 10_020, lease_s=60, limit=10) == []  # leased
    delivered = {a.alert_id: a for a in sensors.alerts()}
    assert delivered[second.alert_id].delivered_at == T0 + 25
    assert delivered[first.alert_id].last_error is None


def test_claim_alerts_stops_at_the_limit(sensors: SensorStore) -> None:
    sensors.append(S, rs(1))
    sensors.apply([update(0, 1, alerts=[alert(t) for t in range(5)])])
    assert [a.t - T0 for a in sensors.claim_alerts(now=T0 + 10, lease_s=0, limit=3)] == [
        0, 1, 2]


def test_concurrent_claimers_never_share_an_alert(atomic_sensors: SensorStore) -> None:
    sensors = atomic_sensors
    sensors.append(S, rs(1))
    sensors.apply([update(0, 1, alerts=[alert(t) for t in range(40)])])
    barrier = threading.Barrier(4)
    got: list[str] = []

    def claim() -> None:
        barrier.wait(timeout=10)
        for _ in range(10):
            got.extend(a.alert_id for a in sensors.claim_alerts(T0 + 100, 60, limit=2))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(got) == sorted(alert(t).alert_id for t in range(40))


# -- retention ---------------------------------------------------------------------------


def test_delete_readings_before_keeps_unapplied_batches_events_and_totals(
    sensors: SensorStore,
) -> None:
    for t in (1, 2, 3, 4):
        sensors.append(S, rs(t))
    sensors.append("idle", rs(1))  # never applied
    applied_through(sensors, S, 3, events=[event(1)], alerts=[alert(1)])
    info = sensors.sensor(S)

    assert sensors.delete_readings_before(T0 + 2.5, limit=1) == 1
    assert sensors.delete_readings_before(T0 + 2.5) == 1
    assert ns(sensors.batches_after(S, 0)) == [3, 4]
    assert sensors.delete_readings_before(T0 + 100) == 1  # batch 3; 4 is not applied
    assert ns(sensors.batches_after(S, 0)) == [4]
    assert ns(sensors.batches_after("idle", 0)) == [1]
    assert sensors.delete_readings_before(T0 + 100) == 0

    assert sensors.sensor(S) == info
    assert len(sensors.events()) == 1 and len(sensors.alerts()) == 1
    assert [r.t - T0 for r, _ in sensors.readings_between(S, T0, T0 + 10)] == [4]
    # The numbering goes on after the batches it counted are gone.
    applied_through(sensors, S, 4)
    assert sensors.delete_readings_before(T0 + 100) == 1
    assert sensors.batches_after(S, 0) == []
    assert sensors.append(S, rs(5)).batch.n == 5
    with pytest.raises(ReadingsOutOfOrder):
        sensors.append(S, rs(4.5))


# -- unavailability ----------------------------------------------------------------------


def test_an_unreachable_mongodb_is_store_unavailable() -> None:
    store = open_store(UNREACHABLE)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        store.sensors.append(S, rs(1))
    assert time.monotonic() - started < 2.5
    assert caught.value.__cause__ is not None
    with pytest.raises(StoreUnavailable):
        store.sensors.checkpoint(S)
    store.close()


def test_a_held_sqlite_write_lock_is_store_unavailable(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db", busy_timeout=0.2)
    store.sensors.append(S, rs(1))
    holder = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.sensors.append(S, rs(2))
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert store.sensors.sensor(S).batches == 1  # readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.sensors.append(S, rs(2)).batch.n == 2
    store.close()


# -- MongoDB: crashes between its writes -------------------------------------------------


def _fail_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str,
               when=lambda *a, **k: True) -> None:
    """Make `owner.name` raise AutoReconnect (a ConnectionFailure) once `when` holds."""
    original = getattr(owner, name)

    def failing(*args: object, **kwargs: object) -> object:
        if when(*args, **kwargs):
            monkeypatch.setattr(owner, name, original)
            raise AutoReconnect("connection lost (test)")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


def test_a_crash_between_batch_and_sensor_update_loses_nothing(
    mongo_store: MongoStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sensors = mongo_store.sensors
    sensors.append(S, rs(1, 2))
    _fail_once(monkeypatch, type(sensors), "_advance")
    with pytest.raises(StoreUnavailable):
        sensors.append(S, rs(3, 4))  # batch 2 stored, the sensor document not updated

    info = sensors.sensor(S)
    assert (info.batches, info.readings, info.last_t) == (2, 4, T0 + 4)
    assert ns(sensors.batches_after(S, 0)) == [1, 2]
    assert [(b.sensor_id, b.n) for b in sensors.unpublished_batches(time.time())] == [
        (S, 1), (S, 2)]  # the sweeper will publish it
    retry = sensors.append(S, rs(3, 4, 5))  # the client's retry
    assert (retry.batch.n, ts(retry.batch.readings), retry.duplicates) == (3, [5], 2)
    with pytest.raises(ReadingsOutOfOrder):
        sensors.append(S, rs(4.5))
    assert sensors.sensor(S).readings == 5


def test_a_crash_before_the_first_batch_update_still_fences_and_checkpoints(
    mongo_store: MongoStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sensors = mongo_store.sensors
    _fail_once(monkeypatch, type(sensors), "_advance")
    with pytest.raises(StoreUnavailable):
        sensors.append(S, rs(1))
    assert sensors.checkpoint(S) == Checkpoint()
    assert sensors.apply([update(0, 1)]) == [True]  # the sensor exists to be fenced
    assert sensors.delete_readings_before(T0 + 10) == 1  # its batch is gone...
    with pytest.raises(ReadingsOutOfOrder):  # ...and still counted: its time,
        sensors.append(S, rs(0.5))
    assert sensors.append(S, rs(2)).batch.n == 2  # its number
    assert sensors.sensor(S).readings == 2  # its readings


def test_a_pass_that_died_before_its_checkpoint_is_counted_by_its_replay(
    mongo_store: MongoStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sensors = mongo_store.sensors
    sensors.append(S, rs(1))
    sensors.append(S, rs(2))
    assert sensors.apply([update(0, 1, events=[event(1)], alerts=[alert(1)])]) == [True]
    collection = type(sensors._sensors)
    _fail_once(monkeypatch, collection, "update_one",
               when=lambda self, query, *a, **k: "applied_n" in query)
    crashed = update(1, 2, events=[event(1), event(2)], alerts=[alert(2)], anomalies=1)
    with pytest.raises(StoreUnavailable):
        sensors.apply([crashed])  # events and alerts written, checkpoint not
    assert sensors.checkpoint(S).applied_n == 1

    assert sensors.apply([crashed]) == [True]
    assert sensors.apply([crashed]) == [False]
    info = sensors.sensor(S)
    assert (info.applied_n, info.events, info.alerts, info.anomalies) == (2, 2, 2, 1)
    assert len(sensors.events()) == 2 and len(sensors.alerts()) == 2
    assert "pending_n" not in mongo_store.database["events"].find_one(
        {"_id": event(2).event_id})
