"""The evaluation loop's step: every worker's sweeper calls an `AlertMonitor` each
round, and `GET /v1/monitor` calls `evaluate_if_due` on each refresh.

Once per `PREDICTQ_SERVICE_ALERT_INTERVAL_S` across the fleet — whoever takes the
store's round first (`claim_round`) — the rules are evaluated over one `snapshot` and
the outcome written with its notifications; the others skip. So with no worker running
the rules still run while someone watches the dashboard, and with neither nothing
evaluates (the Prometheus rules in deploy/prometheus/ cover that, from outside).

The store being down cannot be recorded in the store. Each worker notices it on its
own (a failed ping), keeps that alert in memory, opens it after
`PREDICTQ_SERVICE_ALERT_DOWN_FOR_S` and POSTs the opening itself (retried with
backoff each round while the store stays down); when the store answers again it
resolves the alert and writes the episode — the alert and both notifications, those
not yet delivered left in the outbox for the deliverer. Its id carries the moment the
worker first saw the store fail (to the millisecond), so N workers send up to N
notifications of one outage, each with its own id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from predictq.errors import PredictqError
from predictq.messaging import Publisher
from predictq.service_alerts import observe
from predictq.service_alerts.delivery import webhook_url
from predictq.service_alerts.rules import STORE_DOWN, Rules, step
from predictq.settings import Settings
from predictq.store import Store
from predictq.store.service_alerts import FIRING, PENDING, RESOLVED, Notification, ServiceAlert
from predictq.streams.webhook import Post, backoff, post_json

log = logging.getLogger(__name__)


class AlertMonitor:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher,
                 post: Post = post_json, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.rules = Rules.from_settings(settings)
        self.store = store
        self.publisher = publisher
        self.post = post
        self.clock = clock
        self.url = webhook_url(settings)
        self.store_down: ServiceAlert | None = None  # this process's view of an outage
        self.unsent: list[Notification] = []  # its notifications, while the store is down

    def __call__(self) -> bool:
        return self.run_once()

    def run_once(self, now: float | None = None) -> bool:
        """One sweeper round; True when this process evaluated the rules."""
        now = self.clock() if now is None else now
        try:
            self.store.ping()
        except PredictqError as exc:
            self._while_store_down(now, exc.message)
            return False
        self._store_back(now)
        return evaluate_if_due(self.settings, self.store, self.publisher, now, self.rules)

    # -- the store outage, from memory ----------------------------------------------

    def _while_store_down(self, now: float, error: str) -> None:
        if self.rules.down_for_s is None:
            return
        alert = self.store_down
        if alert is None:
            alert = self.store_down = ServiceAlert(STORE_DOWN, "store", PENDING, since=now)
        alert.value, alert.threshold, alert.updated_at = now - alert.since, 0, now
        alert.message = f"store unreachable: {error}"
        if alert.state == PENDING and now - alert.since >= self.rules.down_for_s:
            alert.state, alert.opened_at = FIRING, now
            log.error("alert %s opened: %s", alert.alert_id, alert.message)
            self._queue(Notification.of(alert, "opened", now))
        self._send(now)

    def _store_back(self, now: float) -> None:
        alert = self.store_down
        if alert is None:
            return
        if alert.state == FIRING:
            alert.state, alert.resolved_at, alert.updated_at = RESOLVED, now, now
            alert.message = "store reachable again (it was unreachable since the alert opened)"
            log.info("alert %s resolved", alert.alert_id)
            self._queue(Notification.of(alert, "resolved", now))
            self._send(now)
            # Recorded now: delivered ones with their time, the rest due at once.
            self.store.service_alerts.apply([alert], [], self.unsent)
        self.store_down, self.unsent = None, []

    def _queue(self, note: Notification) -> None:
        if self.url:
            self.unsent.append(note)

    def _send(self, now: float) -> None:
        for note in self.unsent:
            if note.delivered_at is not None or note.next_attempt_at > now:
                continue
            note.attempts += 1
            try:
                status = self.post(self.url, note.webhook_body())
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except (OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                note.delivered_at = now
            else:
                note.last_error = error
                note.next_attempt_at = now + backoff(note.attempts)
                log.info("alert %s not delivered (attempt %d): %s", note.notification_id,
                         note.attempts, error)


def evaluate_if_due(settings: Settings, store: Store, publisher: Publisher,
                    now: float | None = None, rules: Rules | None = None) -> bool:
    """Evaluate the rules if this process takes the fleet's round; True if it did."""
    now = time.time() if now is None else now
    if not store.service_alerts.claim_round(now, settings.service_alert_interval_s):
        return False
    evaluate(settings, store, publisher, now, rules)
    return True


def evaluate(settings: Settings, store: Store, publisher: Publisher, now: float,
             rules: Rules | None = None) -> None:
    rules = rules or Rules.from_settings(settings)
    snap = observe.snapshot(store, publisher, now)
    holding, unknown = observe.conditions(snap, rules, settings.queue_prefix)
    outcome = step(holding, store.service_alerts.active(), unknown, now)
    for note in outcome.notifications:
        log.log(logging.ERROR if note.kind == "opened" else logging.INFO,
                "alert %s %s: %s", note.alert_id, note.kind, note.body["message"])
    notes = outcome.notifications if webhook_url(settings) else []
    store.service_alerts.apply(outcome.upserts, outcome.deletes, notes)
