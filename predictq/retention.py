"""Retention of finished jobs and Idempotency-Keys: the store must not only grow.

A task of every worker's sweeper (predictq.sweeper), like the readings' retention in
predictq.streams.sweeping: once a minute it deletes, in batches of BATCH, the jobs
finished more than `job_retention_s` ago and the keys first used more than
`idempotency_retention_s` ago. Queued and processing jobs are never deleted. On MongoDB
a TTL index does the same by itself (the store sets `expire_at` when a job finishes or
a key is stored); this sweep is what holds on every backend, and what applies a
shortened retention to documents already stored.

A key is never kept longer than its jobs: a key whose jobs are gone would answer a
repeat with nothing (SQLite) or store its body again under the old ids (MongoDB).
Feedback, shadow answers and model decisions are not expired; `GET /v1/models/<name>`
counts results from the jobs still stored, so its counts shrink as jobs expire.
"""

from __future__ import annotations

import logging
import time

from predictq.settings import Settings
from predictq.store import Store

log = logging.getLogger(__name__)

EVERY_S = 60.0
BATCH = 1000
# Batches per round and kind: a backlog (retention just switched on) is worked off over
# several rounds instead of holding the store's writer for one long round.
MAX_BATCHES = 50


def key_retention_s(settings: Settings) -> float | None:
    """How long keys are kept: the shorter of the two retentions; None for ever."""
    given = [s for s in (settings.idempotency_retention_s, settings.job_retention_s) if s > 0]
    return float(min(given)) if given else None


def job_retention_s(settings: Settings) -> float | None:
    return float(settings.job_retention_s) if settings.job_retention_s > 0 else None


def configure(settings: Settings, store: Store) -> None:
    """Tell the store the retention, for a backend that expires by itself too."""
    store.set_retention(job_retention_s(settings), key_retention_s(settings))


class Retention:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._due = 0.0

    def __call__(self) -> tuple[int, int]:
        if time.monotonic() < self._due:
            return 0, 0
        self._due = time.monotonic() + EVERY_S
        return self.expire()

    def expire(self, now: float | None = None) -> tuple[int, int]:
        """Delete what is past retention; return (jobs, keys) deleted."""
        now = time.time() if now is None else now
        jobs_s, keys_s = job_retention_s(self.settings), key_retention_s(self.settings)
        # Keys first: a key must never outlive its jobs, even for a moment.
        keys = (0 if keys_s is None else
                _drain(lambda: self.store.expire_idempotency_keys(now - keys_s, BATCH)))
        jobs = 0 if jobs_s is None else _drain(
            lambda: self.store.expire_finished(now - jobs_s, BATCH))
        if jobs or keys:
            log.info("retention: deleted %d finished job(s) and %d Idempotency-Key(s)",
                     jobs, keys)
        return jobs, keys


def _drain(step) -> int:
    total = 0
    for _ in range(MAX_BATCHES):
        n = step()
        total += n
        if n < BATCH:
            break
    return total
