"""The callbacks' deliverer: the alerts' AlertDeliverer (predictq.streams.webhook) over
`store.callbacks`, with a thread pool and a per-callback URL.

Each worker process runs one (predictq.cli `worker`) when `PREDICTQ_CALLBACK_ALLOW` is
set. It claims up to CLAIM due callbacks with a lease, POSTs them
`PREDICTQ_CALLBACK_CONCURRENCY` at a time, and records each answer: a 2xx settles it;
anything else (an error status, a refused or timed-out connection) makes it due again
after a backoff of 1 s, 2 s, 4 s … at most 5 minutes, for as long as it takes; a target
the allow-list refuses, or a job deleted by retention, settles it as abandoned with the
reason logged and kept. A deliverer that dies mid-claim loses nothing: its lease runs
out and another claims the callbacks again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from predictq.callbacks.sender import Sender
from predictq.callbacks.targets import AllowList
from predictq.settings import Settings
from predictq.store import Store
from predictq.store.callbacks import Callback, CallbackStore
from predictq.streams.webhook import AlertDeliverer

CLAIM = 64
IDLE_S = 0.05  # how often an idle deliverer asks the store (a read, no write lock)


@dataclass
class _Claimed:
    """A callback as the deliverer sees an alert: its outbox key is `alert_id`."""

    callback: Callback

    @property
    def alert_id(self) -> str:
        return self.callback.tracking_id

    @property
    def attempts(self) -> int:
        return self.callback.attempts


class Outbox:
    """`store.callbacks` behind the four methods AlertDeliverer calls."""

    def __init__(self, callbacks: CallbackStore) -> None:
        self.callbacks = callbacks

    def claim_alerts(self, now: float, lease_s: float, limit: int = CLAIM) -> list[_Claimed]:
        return [_Claimed(c) for c in self.callbacks.claim_due(now, lease_s, limit)]

    def alert_delivered(self, tracking_id: str, at: float) -> None:
        self.callbacks.delivered(tracking_id, at)

    def alert_failed(self, tracking_id: str, error: str, retry_at: float) -> None:
        self.callbacks.failed(tracking_id, error, retry_at)

    def alert_abandoned(self, tracking_id: str, reason: str, at: float) -> None:
        self.callbacks.abandoned(tracking_id, reason, at)


def lease_s(settings: Settings, claim: int = CLAIM) -> float:
    """Longer than a claim can take: its POSTs in rounds of `concurrency`, each up to
    the timeout (twice, for a kept-alive connection found closed), plus a margin."""
    threads = max(settings.callback_concurrency, 1)
    return math.ceil(claim / threads) * 2 * settings.callback_timeout_s + 30.0


def deliverer(settings: Settings, store: Store, allow: AllowList | None = None
              ) -> AlertDeliverer:
    allow = AllowList.from_settings(settings) if allow is None else allow
    sender = Sender(allow, settings.callback_secret, settings.callback_timeout_s)
    return AlertDeliverer(
        settings, store, outbox=Outbox(store.callbacks),
        send=lambda claimed: sender(claimed.callback), claim=CLAIM,
        threads=max(settings.callback_concurrency, 1), lease_s=lease_s(settings),
        idle_s=IDLE_S, name="callback")
