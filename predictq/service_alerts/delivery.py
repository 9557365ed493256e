"""The service alerts' webhook: their notifications outbox (`store.service_alerts`)
delivered by the sensor alerts' deliverer (predictq.streams.webhook) — the same
at-least-once POST, retried with backoff (1 s, 2 s, 4 s … at most 5 minutes) until a
2xx, never dropped. The body's `notification_id` (`<alert id>:opened` or
`:resolved`) is the receiver's de-duplication key; `text` is what Slack shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from predictq.settings import Settings
from predictq.store import Store
from predictq.store.service_alerts import Notification, ServiceAlertStore
from predictq.streams.webhook import AlertDeliverer, Post, post_json


def webhook_url(settings: Settings) -> str:
    """PREDICTQ_SERVICE_ALERT_WEBHOOK_URL, else PREDICTQ_ALERT_WEBHOOK_URL ('' = none)."""
    return settings.service_alert_webhook_url or settings.alert_webhook_url


@dataclass
class _Claimed:
    """A notification as the deliverer sees an alert: its outbox key is `alert_id`."""

    alert_id: str
    attempts: int
    note: Notification

    def webhook_body(self) -> dict[str, Any]:
        return self.note.webhook_body()


class Outbox:
    """`store.service_alerts` behind the three methods AlertDeliverer calls."""

    def __init__(self, alerts: ServiceAlertStore) -> None:
        self.alerts = alerts

    def claim_alerts(self, now: float, lease_s: float, limit: int = 10) -> list[_Claimed]:
        return [_Claimed(n.notification_id, n.attempts, n)
                for n in self.alerts.claim_due(now, lease_s, limit)]

    def alert_delivered(self, notification_id: str, at: float) -> None:
        self.alerts.delivered(notification_id, at)

    def alert_failed(self, notification_id: str, error: str, retry_at: float) -> None:
        self.alerts.failed(notification_id, error, retry_at)


def deliverer(settings: Settings, store: Store, post: Post = post_json) -> AlertDeliverer:
    return AlertDeliverer(settings, store, post, url=webhook_url(settings),
                          outbox=Outbox(store.service_alerts))
