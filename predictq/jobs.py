"""The job record: one submission, its status and its result.

Status moves only forward (queued → processing → done | failed) and only through the
store's few transition functions, so a redelivered message cannot flip a final state.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (Status.DONE, Status.FAILED)


def new_tracking_id() -> str:
    """128 random bits, URL-safe: unguessable, so a tracking id is also a read capability."""
    return secrets.token_urlsafe(16)


@dataclass
class Job:
    """A submission as stored. Timestamps are POSIX seconds (UTC)."""

    model: str
    input: dict[str, Any]
    tracking_id: str = field(default_factory=new_tracking_id)
    status: Status = Status.QUEUED
    result: dict[str, Any] | None = None
    error: str | None = None
    model_version: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    published: bool = False
    # Deliveries a worker has started (`Store.mark_processing`); internal, not public.
    attempts: int = 0
    # The id of the API key that submitted it (None: keys off, or stored before keys);
    # internal, not public: it decides who may read the job (predictq.apikeys).
    owner: str | None = None
    # Where to POST the job once final (predictq.callbacks); written by `Store.create`
    # beside the job, kept by the callback outbox (`store.callbacks`), not public, and
    # None on jobs read back.
    callback_url: str | None = None

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        if not self.updated_at:
            self.updated_at = self.created_at

    def to_public(self) -> dict[str, Any]:
        """The shape `GET /v1/predictions/<id>` answers with (DESIGN.md §2)."""
        return {
            "tracking_id": self.tracking_id,
            "model": self.model,
            "status": self.status.value,
            "result": self.result,
            "error": self.error,
            "model_version": self.model_version,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True)
class Outcome:
    """What a worker learned about one job: a result, or the reason it failed."""

    tracking_id: str
    status: Status
    result: dict[str, Any] | None = None
    error: str | None = None
    model_version: str | None = None


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
