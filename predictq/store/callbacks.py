"""Completion callbacks' outbox: where each job's `callback_url` waits for delivery.

Every backend reaches it as `store.callbacks` and passes tests/store/test_callbacks.py.
A job submitted with a `callback_url` (`Job.callback_url`, written by `Store.create`)
has a callback that is *owed* from the moment the job is final: becoming due is part
of the very write that makes the job done or failed (SQLite: the same transaction as
`finish`; MongoDB: the job's own document), so no job can be final with its callback
forgotten, and no sweep is needed to find one. The deliverer
(predictq.callbacks.delivery) claims due callbacks with a lease, as the alert outboxes
do, and settles each as delivered, failed (due again later) or abandoned (a target
that will never take it; the reason is kept). A callback goes with its job when
retention deletes the job (`Store.expire_finished`), delivered or not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from predictq.jobs import Job


@dataclass
class Callback:
    """One job's callback as its deliverer claimed it."""

    tracking_id: str
    url: str
    attempts: int  # including the one this claim starts
    last_error: str | None  # why the previous attempt failed (None on the first)
    job: Job | None  # the job as stored now; None if it was deleted (retention)


@dataclass
class CallbackState:
    """Where a job's callback stands, for tests and operators."""

    tracking_id: str
    url: str
    attempts: int = 0
    due_at: float | None = None  # None: the job is not final yet, or it is settled
    last_error: str | None = None
    delivered_at: float | None = None
    abandoned_at: float | None = None


class CallbackStore(ABC):
    @abstractmethod
    def claim_due(self, now: float, lease_s: float, limit: int = 64) -> list[Callback]:
        """Claim up to `limit` callbacks of final jobs, due at `now` and not settled:
        each gets `attempts + 1` and is not due again until `now + lease_s`, so
        concurrent deliverers never hold one at once within a lease."""

    @abstractmethod
    def delivered(self, tracking_id: str, at: float) -> None:
        """The receiver answered 2xx: settled, never due again."""

    @abstractmethod
    def failed(self, tracking_id: str, error: str, retry_at: float) -> None:
        """Not taken: due again at `retry_at` (unless settled meanwhile)."""

    @abstractmethod
    def abandoned(self, tracking_id: str, reason: str, at: float) -> None:
        """Will never be taken (its target is refused, its job is gone): settled with
        `reason` kept as the last error."""

    @abstractmethod
    def get(self, tracking_id: str) -> CallbackState | None:
        """The callback of this job, or None if it was submitted without one."""
