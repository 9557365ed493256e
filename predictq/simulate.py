"""`predictq simulate`: real recordings replayed into a running predictq as live sensors.

Half the sensors are smart plugs replaying appliance streams (whole ACSF1 signatures
between real "off" stretches, models.streams.data), the other half are medical
monitors replaying the two labelled recordings of the `anomaly` model (KDD-TSAD 135
and an MIT-BIH ECG excerpt), each shortly before its labelled anomaly. Each sensor
first uploads a backlog (as a gateway does when it reconnects), timestamped in the
past, so its detectors are warmed up; then it sends `rate` readings per second, stamped
with the wall clock, in one request per sensor per tick, over keep-alive connections.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

TICK_S = 0.5
ANOMALY_LEAD_S = 45.0  # a monitor's labelled anomaly arrives this long after the start
EVENT_LEAD_S = 20.0  # a plug's next appliance switches on about this long after


@dataclass
class SimulatedSensor:
    sensor_id: str
    values: np.ndarray  # the recording, replayed in a loop
    position: int  # index of the next reading to send

    def take(self, n: int) -> list[float]:
        idx = (self.position + np.arange(n)) % len(self.values)
        self.position = int((self.position + n) % len(self.values))
        return [float(v) for v in self.values[idx]]


def build_sensors(count: int, rate: float, backfill: int, seed: int = 7
                  ) -> list[SimulatedSensor]:
    """`count` sensors, alternately plugs and monitors, positioned so that something
    happens within the first minute of live replay."""
    from models.anomaly.data import load as load_series
    from models.streams.data import build_streams

    plugs = (count + 1) // 2
    streams = build_streams(n_streams=max(plugs, 1), repeats=1, seed=seed)
    series = load_series()
    sensors = []
    for i in range(count):
        if i % 2 == 0:
            stream = streams[(i // 2) % len(streams)]
            event = stream.events[min(i // 2 // len(streams), len(stream.events) - 1)]
            start = event.start - backfill - int(EVENT_LEAD_S * rate)
            sensors.append(SimulatedSensor(f"plug-{i // 2 + 1:02d}", stream.values,
                                           start % len(stream.values)))
        else:
            s = series[(i // 2) % len(series)]
            first = int(np.flatnonzero(s.labels)[0])
            start = max(first - backfill - int(ANOMALY_LEAD_S * rate), 0)
            sensors.append(SimulatedSensor(f"{'icu' if s.name == 'kdd135' else 'ecg'}-"
                                           f"{i // 2 + 1:02d}", s.values, start))
    return sensors


class Client:
    """One keep-alive HTTP connection to the API; with `api_key` (PREDICTQ_API_KEY, a key
    with the submit scope) every request carries it."""

    def __init__(self, url: str, api_key: str = "") -> None:
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.root = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        for attempt in (1, 2):  # a keep-alive connection the server closed: once more
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self._conn.request("POST", self.root + path, json.dumps(body),
                                   self.headers)
                response = self._conn.getresponse()
                return response.status, json.loads(response.read() or b"{}")
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run(url: str, sensors: list[SimulatedSensor], rate: float, backfill: int,
        duration: float, echo: Callable[[str], None] = print) -> dict[str, int]:
    """Send the backlog, then live readings until `duration` seconds (0: forever)."""
    client = Client(url, os.environ.get("PREDICTQ_API_KEY", "").strip())
    totals = {"accepted": 0, "duplicates": 0, "refused": 0}

    def send(sensor: SimulatedSensor, ts: list[float]) -> None:
        values = sensor.take(len(ts))
        readings = [{"t": round(t, 3), "value": v} for t, v in zip(ts, values, strict=True)]
        for at in range(0, len(readings), 5000):
            status, body = client.post(f"/v1/sensors/{sensor.sensor_id}/readings",
                                       {"readings": readings[at:at + 5000]})
            if status == 202:
                totals["accepted"] += body["accepted"]
                totals["duplicates"] += body["duplicates"]
            else:
                totals["refused"] += 1
                echo(f"{sensor.sensor_id}: HTTP {status} {body.get('error', body)}")

    start = time.time()
    step = 1.0 / rate
    if backfill:
        for sensor in sensors:
            send(sensor, [start - (backfill - k) * step for k in range(backfill)])
        echo(f"sent a backlog of {backfill} readings for each of {len(sensors)} sensors")
    next_t = start
    while not duration or time.time() - start < duration:
        now = time.time()
        due = int((now - next_t) / step) + 1 if now >= next_t else 0
        if due:
            ts = [next_t + k * step for k in range(due)]
            for sensor in sensors:
                send(sensor, ts)
            next_t += due * step
        time.sleep(TICK_S)
    return totals
