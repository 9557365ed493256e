"""Alerts reach the webhook: a receiver that is down, then failing, then up gets every
alert, each id at least once, and nothing is lost meanwhile."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from predictq.services import Services
from predictq.streams import webhook
from predictq.streams.processor import StreamProcessor
from predictq.streams.webhook import AlertDeliverer

T0 = 1_714_564_800.0


class Receiver:
    """A webhook receiver on a fixed port that can be down, answer 503, or take alerts."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.bodies: list[dict] = []
        self.failing = False
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.failing:
                    self.send_response(503)
                else:
                    receiver.bodies.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def spiky(sensor_index: int):
    """Quiet readings with a wild one every 400 readings: one alert per spike."""
    def value(i: int) -> float:
        if i > 300 and i % 400 == 17 + sensor_index:
            return 80.0
        return 1.0 + 0.02 * ((i * 31 + sensor_index) % 7)
    return value


def test_every_alert_arrives_after_the_receiver_comes_back(services: Services, settings,
                                                           monkeypatch) -> None:
    monkeypatch.setattr(webhook, "backoff", lambda attempts: 0.2)  # keep the test short
    receiver = Receiver()
    settings = settings.replace(alert_webhook_url=receiver.url, alert_gap_s=5)
    for k in range(3):
        readings = [{"t": T0 + i, "value": spiky(k)(i)} for i in range(2400)]
        services.readings.submit(f"pump-{k}", {"readings": readings})
    StreamProcessor(settings, services.store, None).process(
        [{"sensor_id": f"pump-{k}", "n": 1} for k in range(3)])
    alerts = services.store.sensors.alerts(limit=1000)
    assert len(alerts) >= 12  # five spikes per sensor, after the detector's warm-up

    deliverer = AlertDeliverer(settings, services.store)
    thread = threading.Thread(target=deliverer.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # down: connection refused, every attempt fails
        assert receiver.bodies == []
        receiver.failing = True
        receiver.up()
        time.sleep(1.0)  # up but failing: 503s are not deliveries
        assert receiver.bodies == []
        receiver.failing = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and \
                {b["alert_id"] for b in receiver.bodies} != {a.alert_id for a in alerts}:
            time.sleep(0.1)
    finally:
        deliverer.stop_event.set()
        thread.join(10)
        receiver.down()
    received = {b["alert_id"] for b in receiver.bodies}
    assert received == {a.alert_id for a in alerts}
    assert all(b["text"].startswith("predictq alert ") for b in receiver.bodies)
    stored = services.store.sensors.alerts(limit=1000)
    assert all(a.delivered_at is not None and a.attempts >= 2 for a in stored)
    assert deliverer.deliver_once() == 0  # delivered alerts are never sent again


def test_backoff_grows_and_is_capped() -> None:
    assert [webhook.backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert webhook.backoff(40) == webhook.MAX_BACKOFF_S
