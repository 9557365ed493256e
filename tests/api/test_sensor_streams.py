"""Sensor streams through the REST API: readings in, the stream worker, what comes out.

On kombu's in-memory broker with a fresh SQLite store per test (tests/conftest.py)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from api.app import create_app
from predictq.services import Services
from predictq.settings import Settings
from worker.factory import create_stream_consumer

T0 = 1_714_564_800.0


def create_app_client(services: Services):
    return create_app(services=services).test_client()


def post(client, sensor: str, readings, **kwargs):
    # A dict is sent as the whole body, a tuple ("raw", x) as x, a list as the readings.
    if isinstance(readings, tuple):
        body = readings[1]
    else:
        body = readings if isinstance(readings, dict) else {"readings": readings}
    return client.post(f"/v1/sensors/{sensor}/readings", data=json.dumps(body),
                       content_type="application/json", **kwargs)


def series(start: int, stop: int, value=lambda i: 0.5):
    return [{"t": T0 + i, "value": value(i)} for i in range(start, stop)]


def totals(services: Services, sensor: str) -> tuple[int, int]:
    info = services.store.sensors.sensor(sensor)
    return (0, 0) if info is None else (info.batches, info.readings)


def test_readings_are_accepted_and_counted(client, services) -> None:
    r = post(client, "plug-1", series(0, 100))
    assert r.status_code == 202
    assert r.json == {"sensor_id": "plug-1", "accepted": 100, "duplicates": 0}
    assert totals(services, "plug-1") == (1, 100)


def test_iso_times_and_seq_are_accepted(client, services) -> None:
    r = post(client, "plug-1", [{"t": "2024-05-01T12:00:00Z", "value": 1, "seq": 1},
                                {"t": "2024-05-01T12:00:01+00:00", "value": 2, "seq": 2}])
    assert r.status_code == 202, r.json
    (batch,) = services.store.sensors.batches_after("plug-1", 0)
    assert [(x.t, x.seq) for x in batch.readings] == [(T0, 1), (T0 + 1, 2)]


def test_a_resent_request_is_all_duplicates_and_stores_nothing(client, services) -> None:
    post(client, "plug-1", series(0, 50))
    r = post(client, "plug-1", series(0, 50))
    assert r.status_code == 202 and r.json["accepted"] == 0 and r.json["duplicates"] == 50
    assert totals(services, "plug-1") == (1, 50)


def test_an_overlapping_request_keeps_only_the_new_readings(client, services) -> None:
    post(client, "plug-1", series(0, 50))
    r = post(client, "plug-1", series(40, 60))
    assert (r.json["accepted"], r.json["duplicates"]) == (10, 10)
    assert totals(services, "plug-1") == (2, 60)


def test_a_reading_older_than_accepted_refuses_the_whole_request(client, services) -> None:
    post(client, "plug-1", series(0, 50))
    r = post(client, "plug-1", [{"t": T0 + 10.5, "value": 1}, {"t": T0 + 60, "value": 1}])
    assert r.status_code == 409
    assert r.json["error"]["code"] == "out_of_order"
    assert totals(services, "plug-1") == (1, 50)  # not even t=60 was kept


def test_sensors_do_not_share_an_order(client, services) -> None:
    post(client, "plug-1", series(100, 110))
    assert post(client, "plug-2", series(0, 10)).status_code == 202


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"readings": []}, 422, "non-empty"),
    ({"readings": [{"t": T0, "value": float("nan")}]}, 422, "finite"),
    ({"readings": [{"t": T0, "value": "1"}]}, 422, "finite number"),
    ({"readings": [{"t": T0, "value": True}]}, 422, "finite number"),
    ({"readings": [{"t": "yesterday", "value": 1}]}, 422, "ISO-8601"),
    ({"readings": [{"t": T0 * 1000, "value": 1}]}, 422, "between 1970 and 9999"),
    ({"readings": [{"t": T0, "value": 1, "unit": "W"}]}, 422, "unknown field"),
    ({"readings": [{"value": 1}]}, 422, "t is required"),
    ({"readings": [{"t": T0 + 1, "value": 1}, {"t": T0, "value": 1}]}, 422, "increasing"),
    ({"readings": [{"t": T0, "value": 1, "seq": -1}]}, 422, "seq"),
    ({"readings": series(0, 2), "extra": 1}, 422, "unexpected"),
    (("raw", [1, 2]), 400, "JSON object"),
])
def test_bad_readings_are_refused_and_change_nothing(client, services, body, status,
                                                     words) -> None:
    r = post(client, "plug-1", body)
    assert r.status_code == status, r.json
    assert words in r.json["error"]["message"]
    assert services.store.sensors.sensor("plug-1") is None


def test_malformed_json_and_content_type(client, services) -> None:
    r = client.post("/v1/sensors/plug-1/readings", data="{", content_type="application/json")
    assert r.status_code == 400
    r = client.post("/v1/sensors/plug-1/readings", data="t=1", content_type="text/plain")
    assert r.status_code == 415
    assert services.store.sensors.sensor("plug-1") is None


def test_readings_nested_too_deeply_are_400(client, services) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post("/v1/sensors/plug-1/readings", data=f'{{"readings": {deep}}}',
                    content_type="application/json")
    assert r.status_code == 400, r.json
    assert r.json["error"]["code"] == "invalid_request"
    assert services.store.sensors.sensor("plug-1") is None


def test_a_bad_sensor_id_is_refused(client, services) -> None:
    assert post(client, "-plug", series(0, 2)).status_code == 422
    assert post(client, "x" * 201, series(0, 2)).status_code == 422


def test_too_many_readings_in_one_request(settings, tmp_path) -> None:
    from api.app import create_app

    small = settings.replace(max_readings_per_request=10)
    services = Services.build(small)
    try:
        r = post(create_app(services=services).test_client(), "plug-1", series(0, 11))
        assert r.status_code == 422 and "at most 10" in r.json["error"]["message"]
    finally:
        services.close()


def test_a_body_over_the_limit_is_413(settings) -> None:
    from api.app import create_app

    services = Services.build(settings.replace(max_body_bytes=1000))
    try:
        r = post(create_app(services=services).test_client(), "plug-1", series(0, 100))
        assert r.status_code == 413
    finally:
        services.close()


def test_unknown_sensor_is_404(client) -> None:
    for path in ("/v1/sensors/nope", "/v1/sensors/nope/readings", "/v1/sensors/nope/events"):
        assert client.get(path).status_code == 404, path


def run_stream_worker(settings: Settings, services: Services, sensor: str,
                      timeout: float = 30.0) -> None:
    consumer = create_stream_consumer(settings)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            info = services.store.sensors.sensor(sensor)
            if info is not None and info.applied_n == info.batches:
                return
            time.sleep(0.05)
        raise AssertionError(f"the stream worker did not catch up with {sensor}")
    finally:
        consumer.stop_event.set()
        thread.join(10)


def step_and_spike(i: int) -> float:
    """A quiet line at 0.1 with a little ripple, an appliance on from 600 to 899, and one
    wild reading at 1500."""
    ripple = 0.01 * ((i * 7919) % 13 - 6) / 6
    if 600 <= i < 900:
        return 5.0 + 10 * ripple
    if i == 1500:
        return 60.0
    return 0.1 + ripple


def test_the_worker_finds_the_event_classifies_it_and_alerts(client, services,
                                                             settings) -> None:
    for start in range(0, 2000, 200):
        assert post(client, "plug-1", series(start, start + 200, step_and_spike)).status_code \
            == 202
    run_stream_worker(settings, services, "plug-1")

    info = client.get("/v1/sensors/plug-1").json
    assert info["readings"] == 2000 and info["pending_batches"] == 0
    assert info["events"] == 1 and info["alerts"] >= 1
    assert set(info["versions"]) == {"event_detector", "anomaly_detector"}
    assert info["event_model"]["name"] == "appliance"

    (event,) = client.get("/v1/sensors/plug-1/events").json["events"]
    assert abs(event["start_t"] - (T0 + 600)) <= 3 and abs(event["end_t"] - (T0 + 899)) <= 3
    assert len(event["context_before"]) == 10 and len(event["context_after"]) == 10
    job = client.get(f"/v1/predictions/{event['tracking_id']}").json
    assert job["model"] == "appliance"
    assert event["classification"]["status"] == job["status"]

    alerts = client.get("/v1/alerts").json["alerts"]
    assert any(a["kind"] == "anomaly" and 0 <= a["t"] - (T0 + 1500) <= 8 for a in alerts)

    rows = client.get(f"/v1/sensors/plug-1/readings?since={T0 + 1495}&until={T0 + 1505}"
                      ).json["readings"]
    assert [r["t"] - T0 for r in rows] == list(range(1495, 1506))
    spike = next(r for r in rows if r["t"] == T0 + 1500)
    assert spike["anomalous"] is True and spike["value"] == 60.0
    assert all(r["smoothed"] is not None for r in rows)


def test_replaying_the_wake_ups_changes_nothing(client, services, settings) -> None:
    from predictq.streams.processor import StreamProcessor

    for start in range(0, 2000, 500):
        post(client, "plug-1", series(start, start + 500, step_and_spike))
    processor = StreamProcessor(settings, services.store, services.publisher)
    first = processor.process([{"sensor_id": "plug-1", "n": 4}])
    before = services.store.sensors.sensor("plug-1")
    events = services.store.sensors.events()
    again = processor.process([{"sensor_id": "plug-1", "n": n} for n in (1, 2, 3, 4)])
    assert first.readings == 2000 and again.readings == 0 and again.duplicates == 1
    assert services.store.sensors.sensor("plug-1") == before
    assert services.store.sensors.events() == events


def test_a_stale_pass_is_fenced_and_its_effects_are_not_doubled(client, services,
                                                                settings) -> None:
    """Two workers computing the same pass (one lost its partition mid-way): the second
    write is refused, and the events, alerts and jobs are there once."""
    from predictq.streams.processor import Live, StreamProcessor, StreamReport

    for start in range(0, 2000, 500):
        post(client, "plug-1", series(start, start + 500, step_and_spike))
    a = StreamProcessor(settings, services.store, services.publisher)
    b = StreamProcessor(settings, services.store, services.publisher)
    checkpoint = services.store.sensors.checkpoint("plug-1")
    batches = services.store.sensors.batches_after("plug-1", 0)

    update_a = a._pass("plug-1", Live.from_checkpoint(checkpoint), batches, StreamReport())
    update_b = b._pass("plug-1", Live.from_checkpoint(checkpoint), batches, StreamReport())
    assert services.store.sensors.apply([update_a]) == [True]
    assert services.store.sensors.apply([update_b]) == [False]
    info = services.store.sensors.sensor("plug-1")
    assert info.events == 1 and len(services.store.sensors.events()) == 1
    assert info.alerts == len(services.store.sensors.alerts())
    assert sum(services.store.count_by_status(model="appliance").values()) == 1


def stream_outcome(services: Services, sensor: str) -> tuple:
    store = services.store.sensors
    results = [(b.n, b.results) for b in store.batches_after(sensor, 0, 1000)]
    return (store.checkpoint(sensor), results,
            [(e.event_id, e.start_t, e.end_t, e.readings) for e in store.events()],
            [(a.alert_id, a.t) for a in store.alerts()])


def test_state_kept_in_memory_is_not_used_once_another_worker_moved_on(
        settings, tmp_path) -> None:
    """A sensor's partition moves from worker a to b and back to a: a ends exactly where
    one worker alone ends, because the state a kept in memory is dropped, not reused,
    once b moved the checkpoint on without it."""
    from predictq.streams.processor import StreamProcessor

    outcomes = []
    for owners in ("a" * 20, "a" * 10 + "b" * 5 + "a" * 5):
        services = Services.build(settings.replace(data_dir=tmp_path / owners))
        client = create_app_client(services)
        workers = {w: StreamProcessor(settings, services.store, services.publisher)
                   for w in set(owners)}
        for n, (start, owner) in enumerate(zip(range(0, 2000, 100), owners, strict=True), start=1):
            post(client, "plug-1", series(start, start + 100, step_and_spike))
            report = workers[owner].process([{"sensor_id": "plug-1", "n": n}])
            assert report.fenced == 0
        outcomes.append(stream_outcome(services, "plug-1"))
        services.close()
    alone, moved = outcomes
    assert alone[0].applied_n == 20 and alone[2] and alone[3]  # events, alerts to compare
    assert moved == alone
