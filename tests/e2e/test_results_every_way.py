"""Issue 15, as a user meets it: `predictq up` started as the README starts it, on the
embedded defaults and on RabbitMQ, and a result reaching the client each way there is —
poll, wait, stream, callback."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from loadtest.callback_receiver import Receiver
from tests.e2e.test_up import broker_env, http, start_up  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "every-way-0123456789abcdef"
TEXTS = {
    "poll": "Kan du hjälpa mig att hitta vägen till järnvägsstationen?",
    "wait": "Voitko auttaa minua löytämään tien rautatieasemalle?",
    "callback": "¿Puedes ayudarme a encontrar el camino a la estación de tren?",
}


def submit(base: str, way: str, **extra) -> str:
    status, body = http("POST", f"{base}/v1/predictions",
                        {"model": "language", "input": {"text": TEXTS[way]}, **extra})
    assert status == 202, body
    return body["tracking_id"]


def stream(url: str) -> list[tuple[str, dict]]:
    with urllib.request.urlopen(url, timeout=40) as r:
        assert r.headers.get_content_type() == "text/event-stream"
        text = r.read().decode()
    out = []
    for block in text.split("\n\n"):
        if block.startswith("event:"):
            name, data = block.split("\n", 1)
            out.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


def test_a_result_reaches_the_client_every_way(tmp_path, model_dir, broker_env):  # noqa: F811
    with Receiver(SECRET) as receiver:
        up, base = start_up(tmp_path, model_dir, workers=1, env={
            "PREDICTQ_CALLBACK_ALLOW": "127.0.0.1:*", "PREDICTQ_CALLBACK_SECRET": SECRET,
            **broker_env})
        try:
            called = submit(base, "callback", callback_url=receiver.url)
            polled, waited = submit(base, "poll"), submit(base, "wait")

            # wait: one request, answered once the job is final.
            status, job = http("GET", f"{base}/v1/predictions/{waited}?wait=30")
            assert status == 200 and job["status"] == "done", job
            assert job["result"]["label"] == "fi"

            # poll: ask until it is final.
            deadline = time.monotonic() + 30
            while (job := http("GET", f"{base}/v1/predictions/{polled}")[1])[
                    "status"] not in ("done", "failed"):
                assert time.monotonic() < deadline, job
                time.sleep(0.05)
            assert job["result"]["label"] == "sv"

            # stream: one event per job as it becomes final, then the end.
            events = stream(f"{base}/v1/predictions/events?ids={called},{polled},{waited}")
            assert [name for name, _ in events] == ["prediction"] * 3 + ["end"]
            assert {data["tracking_id"] for _, data in events[:3]} == {called, polled,
                                                                        waited}
            assert events[-1][1] == {"pending": []}

            # callback: the job document, signed, POSTed to the receiver.
            deadline = time.monotonic() + 30
            while not receiver.arrivals:
                assert time.monotonic() < deadline, "no callback arrived"
                time.sleep(0.05)
            arrival = receiver.arrivals[0]
            assert arrival.signature_ok and arrival.tracking_id == called
            assert arrival.body["status"] == "done" and arrival.body["result"]["label"] == "es"
        finally:
            up.terminate()
            up.wait(30)
