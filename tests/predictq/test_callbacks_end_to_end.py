"""End to end on the embedded defaults (file-system broker, SQLite store): a submission
with a callback_url, a real worker, the worker's callback deliverer, and a receiver
that gets the job document, correctly signed, once the job is done."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

from api.app import create_app
from loadtest.callback_receiver import Receiver
from predictq.services import Services
from tests.conftest import drain
from worker.factory import create_callback_deliverer

SECRET = "e2e-secret-0123456789abcdef"


def test_a_done_job_is_posted_signed_to_its_callback_url(settings):
    settings = settings.replace(broker_url="", callback_allow="127.0.0.1:*",
                                callback_secret=SECRET)
    assert settings.uses_embedded_broker
    services = Services.build(settings)
    client = create_app(services=services).test_client()
    bodies: list[tuple[dict, bytes]] = []
    with Receiver(SECRET) as receiver:
        original = receiver.record

        def keep(headers, body):
            bodies.append((dict(headers), body))
            return original(headers, body)

        receiver.record = keep
        response = client.post("/v1/predictions", json={
            "model": "language", "input": {"text": "Bonjour tout le monde, comment ça va ?"},
            "callback_url": receiver.url})
        assert response.status_code == 202
        tid = response.get_json()["tracking_id"]
        assert drain(settings, 1) == 1
        deliverer = create_callback_deliverer(settings)
        thread = threading.Thread(target=deliverer.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not receiver.arrivals and time.monotonic() < deadline:
            time.sleep(0.02)
        deliverer.stop_event.set()
        thread.join(10)
    assert len(receiver.arrivals) == 1 and receiver.arrivals[0].signature_ok
    headers, raw = bodies[0]
    # Verified here by hand, as a receiver would (docs/CALLBACKS.md).
    expected = hmac.new(SECRET.encode(), headers["X-Predictq-Timestamp"].encode() + b"."
                        + raw, hashlib.sha256).hexdigest()
    assert headers["X-Predictq-Signature"] == f"sha256={expected}"
    assert headers["X-Predictq-Tracking-Id"] == tid and headers["X-Predictq-Delivery"] == "1"
    assert abs(int(headers["X-Predictq-Timestamp"]) - time.time()) < 60
    document = json.loads(raw)
    assert document == client.get(f"/v1/predictions/{tid}").get_json()
    assert document["status"] == "done" and document["result"]["label"] == "fr"
    services.close()
