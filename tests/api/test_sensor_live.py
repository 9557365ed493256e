"""The sensor pages' live views (issue 15): `GET /v1/sensors/<id>/live` and
`GET /v1/monitor/sensors`, server-sent events sent at once and then on change only."""

from __future__ import annotations

import json
import threading
import time

from tests.api.test_sensor_streams import create_app_client, post, series


def events(body: str) -> list[tuple[str, dict]]:
    out = []
    for block in body.split("\n\n"):
        if not block.startswith("event:"):
            continue
        name, data = block.split("\n", 1)
        out.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


def post_later(services, sensor: str, readings: list, delay: float) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        assert post(create_app_client(services), sensor, readings).status_code == 202

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_sensor_is_sent_at_once_and_again_only_when_it_changes(client, services) -> None:
    assert post(client, "plug-1", series(0, 100)).status_code == 202
    poster = post_later(services, "plug-1", series(100, 200), delay=1.5)
    r = client.get("/v1/sensors/plug-1/live?wait=5")
    poster.join(10)
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    got = events(r.get_data(as_text=True))  # the stream ends when its wait runs out
    # About five looks in 5 s, one change: two events, the sensor before and after.
    assert [name for name, _ in got] == ["sensor", "sensor"]
    assert [data["sensor"]["readings"] for _, data in got] == [100, 200]
    first = got[0][1]
    assert first["sensor"]["sensor_id"] == "plug-1" and first["alerts"] == []
    assert set(client.get("/v1/sensors/plug-1").json) == set(first["sensor"])


def test_the_sensor_list_shows_a_new_sensor_as_it_arrives(client, services) -> None:
    assert post(client, "plug-1", series(0, 10)).status_code == 202
    poster = post_later(services, "plug-2", series(0, 10), delay=1.5)
    r = client.get("/v1/monitor/sensors?wait=4")
    poster.join(10)
    got = events(r.get_data(as_text=True))
    assert [name for name, _ in got] == ["sensors", "sensors"]
    assert [sorted(s["sensor_id"] for s in data["sensors"]) for _, data in got] == [
        ["plug-1"], ["plug-1", "plug-2"]]
    assert got[0][1]["alerts"] == []


def test_an_unknown_sensor_is_404_before_any_stream(client) -> None:
    r = client.get("/v1/sensors/nobody/live?wait=1")
    assert r.status_code == 404 and r.mimetype == "application/json"
    assert client.get("/v1/sensors/bad%20id/live").status_code == 422


def test_a_bad_wait_is_400(client) -> None:
    assert post(client, "plug-1", series(0, 10)).status_code == 202
    for path in ("/v1/sensors/plug-1/live", "/v1/monitor/sensors"):
        r = client.get(f"{path}?wait=soon")
        assert r.status_code == 400 and "wait" in r.json["error"]["message"]
