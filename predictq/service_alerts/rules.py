"""The rules, and how one evaluation moves the alerts along.

A rule holds on a subject (a queue, "store", "broker") with an observed value. An
alert is pending from the first evaluation that sees its condition hold, opens (fires)
once the condition has held for the rule's `for_s` without a break, and resolves at
the first evaluation that sees it no longer hold. A pending alert whose condition
breaks is forgotten, so a condition that flaps faster than `for_s` never opens; a
condition that holds keeps one alert open however many evaluations see it. A rule the
evaluation could not look at (the broker did not answer, so queue depths are unknown)
leaves its alerts exactly as they were: an outage neither opens nor resolves them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from predictq.settings import Settings
from predictq.store.service_alerts import FIRING, PENDING, RESOLVED, Notification, ServiceAlert

QUEUE_DEPTH = "queue_depth"
OLDEST_AGE = "oldest_age"
DEAD_LETTERS = "dead_letters"
NO_CONSUMER = "no_consumer"
STORE_DOWN = "store_down"
BROKER_DOWN = "broker_down"
BROKER_RULES = (QUEUE_DEPTH, DEAD_LETTERS, NO_CONSUMER)  # unknown while it is down


@dataclass(frozen=True)
class Rules:
    """The thresholds; None means the rule is off."""

    queue_depth: int | None = 10_000
    queue_depth_for_s: float = 120
    oldest_age_s: float | None = 300
    dead_letters: int | None = 0
    no_consumer_for_s: float | None = 60
    down_for_s: float | None = 10

    @classmethod
    def from_settings(cls, s: Settings) -> Rules:
        return cls(
            queue_depth=s.service_alert_queue_depth or None,
            queue_depth_for_s=max(s.service_alert_queue_depth_for_s, 0),
            oldest_age_s=s.service_alert_oldest_age_s or None,
            dead_letters=None if s.service_alert_dead_letters < 0
            else s.service_alert_dead_letters,
            no_consumer_for_s=None if s.service_alert_no_consumer_for_s < 0
            else s.service_alert_no_consumer_for_s,
            down_for_s=None if s.service_alert_down_for_s < 0 else s.service_alert_down_for_s,
        )


@dataclass(frozen=True)
class Condition:
    """A rule holding on a subject right now."""

    rule: str
    subject: str
    value: float
    threshold: float
    for_s: float
    message: str


@dataclass
class Step:
    upserts: list[ServiceAlert] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


def step(holding: Iterable[Condition], alerts: Sequence[ServiceAlert],
         unknown: Iterable[str], now: float) -> Step:
    """The alert changes one evaluation at `now` makes, given the conditions holding,
    the pending and firing alerts on record, and the rules it could not evaluate."""
    out = Step()
    unknown = set(unknown)
    current = {a.key: a for a in alerts if a.state in (PENDING, FIRING)}
    seen = set()
    for c in holding:
        key = (c.rule, c.subject)
        seen.add(key)
        alert = current.get(key) or ServiceAlert(c.rule, c.subject, PENDING, since=now)
        alert = replace(alert, value=c.value, threshold=c.threshold, message=c.message,
                        updated_at=now)
        if alert.state == PENDING and now - alert.since >= c.for_s:
            alert.state, alert.opened_at = FIRING, now
            out.notifications.append(Notification.of(alert, "opened", now))
        out.upserts.append(alert)
    for key, alert in current.items():
        if key in seen or alert.rule in unknown:
            continue
        if alert.state == PENDING:
            out.deletes.append(alert.alert_id)
        else:
            alert = replace(alert, state=RESOLVED, resolved_at=now, updated_at=now,
                            message=f"{alert.message} — resolved")
            out.upserts.append(alert)
            out.notifications.append(Notification.of(alert, "resolved", now))
    return out
