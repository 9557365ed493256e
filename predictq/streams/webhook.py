"""Alert delivery: every alert POSTed to `PREDICTQ_ALERT_WEBHOOK_URL` until a 2xx.

The alerts table is the outbox: an alert is written with the pass that raised it, and
any worker's deliverer claims due ones with a lease (`SensorStore.claim_alerts`), POSTs
each as JSON and records the answer. A receiver that is down only delays its alerts:
each is retried with exponential backoff (1 s, 2 s, 4 s … at most 5 minutes) and never
dropped. Delivery is at least once — a worker killed between the POST and the record
sends that alert again — so the body carries `alert_id` for de-duplication, and a
`text` field, which is what a Slack incoming webhook reads.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from predictq.errors import PredictqError
from predictq.settings import Settings
from predictq.store import Store

log = logging.getLogger(__name__)

LEASE_S = 60.0  # longer than a claim (CLAIM alerts) can take to POST (TIMEOUT_S each)
TIMEOUT_S = 5.0
CLAIM = 10
MAX_BACKOFF_S = 300.0
IDLE_S = 0.5

Post = Callable[[str, dict[str, Any]], int]
# POSTs one claimed item its own way; returns the HTTP status (see `AlertDeliverer`).
Send = Callable[[Any], int]


class Undeliverable(Exception):
    """Raised by a `Send` for an item that no attempt will ever deliver (a target the
    operator's policy refuses, a record that is gone): the outbox settles it with the
    reason (`alert_abandoned`) instead of retrying it forever."""


def post_json(url: str, body: dict[str, Any]) -> int:
    """POST `body`; return the HTTP status (an error status is returned, not raised)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "predictq-alerts"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def backoff(attempts: int) -> float:
    return min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF_S)


class AlertDeliverer:
    """Delivers the sensor alerts (`store.sensors`), or any other outbox with the same
    three methods — `claim_alerts`, `alert_delivered`, `alert_failed` — to `url`.

    An outbox whose items each go somewhere of their own (completion callbacks) passes
    `send`, which POSTs one claimed item and may raise `Undeliverable` (the outbox then
    needs a fourth method, `alert_abandoned`); `threads` > 1 POSTs a claim's items that
    many at once, and `claim`, `lease_s` and `idle_s` size the rounds.
    """

    def __init__(self, settings: Settings, store: Store, post: Post = post_json, *,
                 url: str | None = None, outbox: Any = None, send: Send | None = None,
                 claim: int = CLAIM, threads: int = 1, lease_s: float = LEASE_S,
                 idle_s: float = IDLE_S, name: str = "alert") -> None:
        self.url = url or settings.alert_webhook_url
        self.store = store
        self.outbox = store.sensors if outbox is None else outbox
        self.post = post
        self.send: Send = send or (lambda alert: self.post(self.url, alert.webhook_body()))
        self.claim = claim
        self.threads = threads
        self.lease_s = lease_s
        self.idle_s = idle_s
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self.stop_event = threading.Event()
        self.delivered = 0

    def deliver_once(self, now: float | None = None) -> int:
        """Send every alert due now; return how many the receiver took."""
        now = time.time() if now is None else now
        claimed = self.outbox.claim_alerts(now, self.lease_s, limit=self.claim)
        if self.threads > 1 and len(claimed) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads,
                                                thread_name_prefix=f"predictq-{self.name}")
            taken = sum(self._pool.map(self._deliver, claimed))
        else:
            taken = sum(self._deliver(alert) for alert in claimed)
        self.delivered += taken
        return taken

    def _deliver(self, alert: Any) -> int:
        """One attempt at one claimed item, recorded; 1 if the receiver took it."""
        try:
            status = self.send(alert)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Undeliverable as exc:
            log.warning("%s %s abandoned (attempt %d): %s", self.name, alert.alert_id,
                        alert.attempts, exc)
            self.outbox.alert_abandoned(alert.alert_id, str(exc), time.time())
            return 0
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # refused, timed out, bad URL, a broken answer
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self.outbox.alert_delivered(alert.alert_id, time.time())
            return 1
        retry = backoff(alert.attempts)
        log.info("%s %s not delivered (attempt %d, retry in %.0f s): %s", self.name,
                 alert.alert_id, alert.attempts, retry, error)
        self.outbox.alert_failed(alert.alert_id, error, time.time() + retry)
        return 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.deliver_once()
            except PredictqError as exc:
                log.info("%s delivery paused: %s", self.name, exc.message)
                busy = 0
            except Exception:
                log.error("%s delivery failed", self.name, exc_info=True)
                busy = 0
            if not busy:
                self.stop_event.wait(self.idle_s)
        if self._pool is not None:
            self._pool.shutdown()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="predictq-alerts", daemon=True)
        thread.start()
        return thread
