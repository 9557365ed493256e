"""Submit→done latency of recently finished jobs, for the monitoring dashboard.

Every backend reaches it as `store.latency` (tests/store/test_service_alerts.py checks
it on each). A bounded read over the jobs' existing `updated_at` indexes: the newest
`limit` done jobs finished at or after `since`, never the whole history.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pymongo import DESCENDING

from predictq.jobs import Status

if TYPE_CHECKING:
    from predictq.store.mongo import MongoStore
    from predictq.store.sqlite import SqliteStore


class LatencyStore(ABC):
    @abstractmethod
    def finished_since(self, since: float, limit: int = 5000) -> list[float]:
        """`updated_at - created_at` (seconds) of the newest `limit` jobs done at or
        after `since`, newest first."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank `q` quantile (0..1) of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 1)))  # ceil(n*q), in 1..n
    return ordered[int(rank) - 1]


class SqliteLatency(LatencyStore):
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def finished_since(self, since: float, limit: int = 5000) -> list[float]:
        from predictq.store.sqlite_errors import translated

        with translated():
            rows = self._store._query(
                "SELECT updated_at - created_at FROM jobs INDEXED BY jobs_updated"
                " WHERE updated_at >= ? AND status = ? ORDER BY updated_at DESC LIMIT ?",
                (since, Status.DONE.value, limit))
        return [row[0] for row in rows]


class MongoLatency(LatencyStore):
    def __init__(self, store: MongoStore) -> None:
        self._store = store

    def finished_since(self, since: float, limit: int = 5000) -> list[float]:
        from predictq.store.mongo import _translated

        with _translated():
            docs = self._store._jobs.find(
                {"status": Status.DONE.value, "updated_at": {"$gte": since}},
                {"_id": 0, "created_at": 1, "updated_at": 1},
            ).sort("updated_at", DESCENDING).limit(limit)
            return [d["updated_at"] - d["created_at"] for d in docs]
