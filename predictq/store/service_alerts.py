"""Alerts on the service itself (queue depth, oldest age, dead letters, consumers, store
and broker): their state, the evaluation lease and the webhook outbox.

Every backend reaches it as `store.service_alerts` and passes
tests/store/test_service_alerts.py. The rules live in predictq.service_alerts; this is
only where their outcome is kept, so every API and worker process sees one answer.

An alert is one episode of one condition on one subject (a queue, "store", "broker"):
`pending` while the condition has held for less than its rule's duration, `firing`
once it has, `resolved` when it stopped holding after firing (a pending one that
clears is deleted: nobody was told). Opening and resolving each put one notification
in the outbox, whose id (`<alert id>:opened` / `:resolved`) is what the webhook
receiver de-duplicates on: delivery is at least once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

PENDING, FIRING, RESOLVED = "pending", "firing", "resolved"


@dataclass
class ServiceAlert:
    rule: str  # queue_depth, oldest_age, dead_letters, no_consumer, store_down, broker_down
    subject: str  # a queue's name, or "store" / "broker"
    state: str
    since: float  # when the condition was first seen holding
    value: float | None = None  # the last value observed
    threshold: float | None = None
    message: str = ""
    opened_at: float | None = None
    resolved_at: float | None = None
    updated_at: float = 0.0

    @property
    def alert_id(self) -> str:
        """Unique per episode and the same in every process that evaluates it."""
        return f"{self.rule}:{self.subject}:{int(self.since * 1000)}"

    @property
    def key(self) -> tuple[str, str]:
        return self.rule, self.subject

    def to_public(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, **asdict(self)}


@dataclass
class Notification:
    """One opening or resolving, waiting for (or done with) the webhook."""

    notification_id: str  # "<alert id>:opened" or "<alert id>:resolved"
    alert_id: str
    kind: str  # "opened" | "resolved"
    body: dict[str, Any]
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0
    delivered_at: float | None = None
    last_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, alert: ServiceAlert, kind: str, at: float) -> Notification:
        what = "resolved" if kind == "resolved" else "FIRING"
        body = {"text": f"predictq {what}: {alert.message}",
                "notification_id": f"{alert.alert_id}:{kind}", "event": kind,
                **alert.to_public()}
        return cls(f"{alert.alert_id}:{kind}", alert.alert_id, kind, body, at,
                   next_attempt_at=at)

    def webhook_body(self) -> dict[str, Any]:
        return self.body


class ServiceAlertStore(ABC):
    @abstractmethod
    def claim_round(self, now: float, interval_s: float) -> bool:
        """True for exactly one caller per `interval_s` across the fleet: that caller
        evaluates the rules now; the others skip this round."""

    @abstractmethod
    def active(self) -> list[ServiceAlert]:
        """Pending and firing alerts, oldest first."""

    @abstractmethod
    def recent(self, limit: int = 50) -> list[ServiceAlert]:
        """Firing and resolved alerts (not pending ones), the latest change first."""

    @abstractmethod
    def apply(self, upserts: Sequence[ServiceAlert], deletes: Sequence[str],
              notifications: Sequence[Notification]) -> None:
        """Write an evaluation's outcome: alerts by `alert_id` (replaced whole),
        pending alerts that cleared (`deletes`, ids), and new notifications. A
        notification whose id is already stored is ignored, so an evaluation repeated
        after a crash never queues one twice."""

    @abstractmethod
    def notifications(self, limit: int = 50) -> list[Notification]:
        """The newest notifications first, delivered or not."""

    @abstractmethod
    def claim_due(self, now: float, lease_s: float, limit: int = 10) -> list[Notification]:
        """Claim undelivered notifications due at `now` (`next_attempt_at <= now`),
        oldest due first: each gets `attempts + 1` and `next_attempt_at = now +
        lease_s`, so concurrent deliverers never hold one at once within a lease."""

    @abstractmethod
    def delivered(self, notification_id: str, at: float) -> None:
        """The receiver took it: never due again."""

    @abstractmethod
    def failed(self, notification_id: str, error: str, retry_at: float) -> None:
        """Not taken: due again at `retry_at` (unless meanwhile delivered)."""
