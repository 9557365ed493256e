"""An open-loop load generator: submissions at a fixed rate, whatever the server does.

Send times are fixed in advance (i / rate after the start). A dispatcher hands each
send to a pool of threads, each with its own keep-alive HTTP connection, so a slow
answer does not delay the sends after it (a closed loop would slow down with the
server and hide its queueing). Each send records the client's wall clock just before
the request (`time.time()`, the clock the workers stamp `updated_at` with) and how far
behind schedule it went out, which shows when the client itself could not keep up.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Send:
    due: float  # scheduled wall time
    sent: float = 0.0  # time.time() just before the request went out
    status: int = 0  # HTTP status; 0 = no answer (connection error, timeout)
    tracking_id: str | None = None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 202 and self.tracking_id is not None


class _Client(threading.local):
    """One keep-alive connection per pool thread."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        return self.request("POST", path, body)

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, path, body,
                                  {"Content-Type": "application/json"} if body else {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except Exception as exc:
                # Whatever went wrong, the connection's state is unknown: start afresh.
                self.conn.close()
                self.conn = None
                stale = isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError
                                   | BrokenPipeError)
                if attempt == 2 or not stale:
                    raise
        raise AssertionError("unreachable")


def run(url: str, bodies: list[bytes], rate: float, duration_s: float, *,
        pool_size: int = 64, timeout_s: float = 10.0, give_up_after_s: float = 15.0,
        stop: Callable[[], bool] = lambda: False,
        follow: Callable[[_Client, Send], None] | None = None) -> list[Send]:
    """POST `bodies` (round-robin) to `url` at `rate` per second for `duration_s`.

    Returns one `Send` per scheduled submission, in schedule order. A send still waiting
    for a free connection `give_up_after_s` after the scheduled end is not sent (it
    records an error), so a stalled server cannot stretch the run without bound.
    `stop()` ends the run early (checked before each send). `follow(client, send)`
    runs after each accepted send, on the same thread and connection: a client that
    waits for its result (loadtest/wait_bench.py).
    """
    parts = urlsplit(url)
    client = _Client(parts.hostname or "127.0.0.1", parts.port or 80, timeout_s)
    total = int(rate * duration_s)
    wall0, mono0 = time.time() + 0.05, time.monotonic() + 0.05
    sends = [Send(due=wall0 + i / rate) for i in range(total)]

    give_up = mono0 + duration_s + give_up_after_s

    def send(i: int) -> None:
        record = sends[i]
        if time.monotonic() > give_up:  # the pool was stuck so long the run would not end
            record.error = "not sent: every client connection busy"
            return
        record.sent = time.time()
        try:
            record.status, raw = client.post(parts.path, bodies[i % len(bodies)])
            if record.status == 202:
                record.tracking_id = json.loads(raw)["tracking_id"]
                if follow is not None:
                    follow(client, record)
        except Exception as exc:  # counted as a failure by the caller, never raised
            record.error = repr(exc)

    with ThreadPoolExecutor(pool_size, thread_name_prefix="openloop") as pool:
        for i in range(total):
            if stop():
                del sends[i:]
                break
            delay = mono0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i)
    return sends


def achieved_rate(sends: list[Send]) -> float:
    """Sends per second actually achieved, first to last send."""
    stamps = [s.sent for s in sends if s.sent]
    if len(stamps) < 2:
        return float("nan")
    return (len(stamps) - 1) / (max(stamps) - min(stamps))


def max_lag_ms(sends: list[Send]) -> float:
    """How far behind schedule the latest send went out, in ms (client saturation)."""
    return max((s.sent - s.due for s in sends if s.sent), default=0.0) * 1000
