"""Results without polling (issue 15): `?wait=` on the reads and the event stream, on the
in-memory broker (announced by the worker over a fanout) and on the embedded defaults
(read from the store's change feed)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from api.app import create_app
from predictq.jobs import Status
from predictq.services import Services
from tests.conftest import drain

TEXT = {"model": "language", "input": {"text": "Wo ist der Bahnhof, bitte?"}}


@pytest.fixture(params=["memory", "embedded"])
def waiting(request, settings):
    """(services, client, settings) on the in-memory broker or the embedded one."""
    if request.param == "embedded":
        settings = settings.replace(broker_url="", wait_poll_ms=5)
    services = Services.build(settings)
    yield services, create_app(services=services).test_client(), settings
    services.close()


def submit(client, n: int = 1) -> list[str]:
    body = {"model": "language", "inputs": [TEXT["input"]] * n}
    r = client.post("/v1/predictions/batch", data=json.dumps(body),
                    content_type="application/json")
    assert r.status_code == 202, r.get_json()
    return r.get_json()["tracking_ids"]


def drain_later(settings, n: int, delay: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), drain(settings, n)),
                              daemon=True)
    thread.start()
    return thread


def test_wait_answers_when_the_job_is_final(waiting):
    _, client, settings = waiting
    [tid] = submit(client)
    worker = drain_later(settings, 1, delay=0.5)
    started = time.monotonic()
    r = client.get(f"/v1/predictions/{tid}?wait=20")
    took = time.monotonic() - started
    assert r.status_code == 200
    assert r.get_json()["status"] == "done" and r.get_json()["result"]["label"] == "de"
    assert took < 15  # woken by the completion, not by the end of the wait
    worker.join(30)


def test_wait_answers_with_the_current_state_when_it_runs_out(waiting):
    _, client, _ = waiting
    [tid] = submit(client)
    started = time.monotonic()
    r = client.get(f"/v1/predictions/{tid}?wait=0.4")
    assert r.status_code == 200 and r.get_json()["status"] == "queued"
    assert time.monotonic() - started >= 0.35


def test_many_ids_wait_on_one_request(waiting):
    _, client, settings = waiting
    ids = submit(client, 5)
    worker = drain_later(settings, 5, delay=0.3)
    r = client.get(f"/v1/predictions?ids={','.join(ids)}&wait=20")
    assert r.status_code == 200
    jobs = r.get_json()["predictions"]
    assert [j["tracking_id"] for j in jobs] == ids
    assert {j["status"] for j in jobs} == {"done"}
    worker.join(30)


def test_the_event_stream_sends_each_result_then_end(waiting):
    _, client, settings = waiting
    ids = submit(client, 3)
    worker = drain_later(settings, 3, delay=0.3)
    r = client.get(f"/v1/predictions/events?ids={','.join(ids)}&wait=20")
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    events = [block for block in r.get_data(as_text=True).split("\n\n") if "event:" in block]
    names = [line.split(": ", 1)[1] for block in events for line in block.splitlines()
             if line.startswith("event:")]
    data = [json.loads(line.split(": ", 1)[1]) for block in events
            for line in block.splitlines() if line.startswith("data:")]
    assert names == ["prediction"] * 3 + ["end"]
    assert sorted(d["tracking_id"] for d in data[:3]) == sorted(ids)
    assert all(d["status"] == "done" for d in data[:3]) and data[3] == {"pending": []}
    worker.join(30)


@pytest.mark.parametrize("query, message", [
    ("wait=soon", "wait must be a number"),
    ("wait=-1", "wait must be 0 or more"),
    ("wait=nan", "wait must be 0 or more"),
])
def test_a_bad_wait_is_a_400(client, query, message):
    [tid] = submit(client)
    for path in (f"/v1/predictions/{tid}?{query}", f"/v1/predictions?ids={tid}&{query}",
                 f"/v1/predictions/events?ids={tid}&{query}"):
        r = client.get(path)
        assert r.status_code == 400, path
        assert message in r.get_json()["error"]["message"]


def test_unknown_ids_are_a_404_before_any_wait(client):
    [tid] = submit(client)
    for path in (f"/v1/predictions?ids={tid},nope&wait=10",
                 "/v1/predictions/events?ids=nope&wait=10"):
        started = time.monotonic()
        r = client.get(path)
        assert r.status_code == 404 and "'nope'" in r.get_json()["error"]["message"]
        assert time.monotonic() - started < 5


def test_ids_are_required_and_bounded(client, services):
    assert client.get("/v1/predictions").status_code == 400
    too_many = ",".join(f"id{i}" for i in range(services.settings.max_batch_inputs + 1))
    r = client.get(f"/v1/predictions?ids={too_many}")
    assert r.status_code == 400 and "at most" in r.get_json()["error"]["message"]


def test_a_long_wait_is_cut_to_the_maximum(client, services):
    services.settings = services.settings.replace(wait_max_s=0.3)
    [tid] = submit(client)
    started = time.monotonic()
    r = client.get(f"/v1/predictions/{tid}?wait=3600")
    assert r.get_json()["status"] == Status.QUEUED.value
    assert time.monotonic() - started < 5
