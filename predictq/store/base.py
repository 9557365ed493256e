"""The job store interface: where submissions wait and results land.

The store is the single source of truth for a job's status. Status moves forward
(queued → processing → done | failed) through `mark_processing` and `finish`, and back
from processing to queued only through `sweep`, when a worker vanished; none of them
touches a final record, so a redelivered message cannot flip a result.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType

from predictq.errors import IdempotencyConflict
from predictq.jobs import Job, Outcome, Status

FINAL_STATUSES = (Status.DONE.value, Status.FAILED.value)


class Store(ABC):
    """A durable home for jobs. Every backend passes `tests/store/test_contract.py`.

    Timestamps are POSIX seconds. Any error that means "the database cannot be reached
    or stayed locked too long" is raised as `StoreUnavailable`, the cause chained.
    Instances are safe to share between threads and survive a fork.
    """

    @abstractmethod
    def create(
        self,
        jobs: Sequence[Job],
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> tuple[list[Job], bool]:
        """Store `jobs` all together and return `(jobs, True)`.

        With an `idempotency_key` that was used before with the same `request_hash`,
        store nothing and return `(the jobs stored then, in their order, False)`; with a
        different hash raise `IdempotencyConflict`. Concurrent requests with one key
        store one set of jobs. The flag is True whenever this call stored jobs, i.e.
        whenever the caller still has to publish them. A tracking id that already
        exists raises `ValueError` and stores nothing.
        """

    @abstractmethod
    def mark_published(self, tracking_ids: Sequence[str]) -> None:
        """Record that the broker confirmed these jobs' messages."""

    @abstractmethod
    def republish_unfinished(self) -> int:
        """Make every queued or processing job queued and unpublished, and return how
        many there were; done and failed jobs are left alone.

        For queues rebuilt without their messages (`predictq queues migrate`): the
        sweeper then publishes each such job again once its `updated_at` is older than
        `sweep_after_s`. `attempts` and `updated_at` are kept.
        """

    @abstractmethod
    def mark_processing(self, tracking_ids: Sequence[str]) -> dict[str, int]:
        """Count a delivery of each listed job that is not final, and return
        `{tracking_id: attempts after this one}` for exactly those jobs.

        A queued or processing job becomes processing and published (a worker holds
        its message), its `attempts` grows by one and its `updated_at` becomes now.
        Final and unknown ids are left alone and absent from the answer: that absence
        is how a worker recognises a duplicate delivery.
        An id listed twice counts once. Each job's increment is atomic, so concurrent
        calls on one job never lose a count.
        """

    @abstractmethod
    def finish(self, outcomes: Sequence[Outcome]) -> list[str]:
        """Write final outcomes in one transaction and return the ids actually changed.

        A job already done or failed is left as it is (a redelivered message must not
        overwrite a result), so repeating a call returns []. Unknown ids are ignored.
        Each outcome's status must be final (`ValueError` otherwise); when one id
        appears twice, the first outcome wins.
        """

    @abstractmethod
    def get(self, tracking_id: str) -> Job | None:
        """The job with this id, or None."""

    @abstractmethod
    def get_many(self, tracking_ids: Sequence[str]) -> list[Job]:
        """The jobs with these ids in the order asked for; unknown ids are skipped."""

    @abstractmethod
    def list_recent(self, limit: int = 50, model: str | None = None) -> list[Job]:
        """The newest jobs first, optionally of one model only."""

    @abstractmethod
    def count_by_status(self, model: str | None = None) -> dict[Status, int]:
        """How many jobs are in each status; every status is present, zeros included."""

    @abstractmethod
    def oldest_created_at(self, status: Status, model: str | None = None) -> float | None:
        """When the oldest job in `status` was created, or None if there is none."""

    @abstractmethod
    def count_created_since(self, since: float, model: str | None = None) -> int:
        """Jobs created at or after `since` (the publish rate's numerator)."""

    @abstractmethod
    def count_finished_since(self, since: float, model: str | None = None) -> int:
        """Jobs done or failed with `updated_at` at or after `since` (the ack rate's)."""

    @abstractmethod
    def finished_since(self, since: float, limit: int = 10_000) -> list[tuple[str, float]]:
        """(tracking_id, updated_at) of the jobs done or failed at or after `since`,
        oldest first: the change feed an API process waits on without a broker
        (predictq.completions.feeds.StoreFeed)."""

    @abstractmethod
    def unpublished(self, older_than: float, limit: int = 500) -> list[Job]:
        """Queued jobs never confirmed by the broker, created at or before `older_than`,
        oldest first. Only reads: a sweeper claims work with `sweep`."""

    @abstractmethod
    def sweep(self, stale_before: float, limit: int = 500) -> list[Job]:
        """Claim up to `limit` stale jobs, oldest `updated_at` first, for republishing.

        Stale means `updated_at <= stale_before` and either queued but never confirmed
        published (the outbox) or processing (its worker vanished). Each claimed job
        becomes queued and unpublished with `updated_at` = now, and is returned as it
        is after that. The new `updated_at` is a lease: the job is not claimed again
        until it is stale again, so concurrent sweepers never claim one job twice
        (given a `stale_before` earlier than the moment of the claim). `attempts` is
        kept: the caller may fail a job that has had enough.
        """

    @abstractmethod
    def expire_finished(self, before: float, limit: int = 1000) -> int:
        """Delete up to `limit` done or failed jobs whose `updated_at` (when they
        finished) is before `before`, oldest first; return how many. Queued and
        processing jobs are never deleted, however old. Feedback, shadow answers and
        model decisions (`self.models`) are kept."""

    @abstractmethod
    def expire_idempotency_keys(self, before: float, limit: int = 1000) -> int:
        """Forget up to `limit` Idempotency-Keys created before `before`; return how
        many. A forgotten key may be used again, and then stores new jobs."""

    def set_retention(self, jobs_s: float | None, keys_s: float | None) -> None:  # noqa: B027
        """How long finished jobs and Idempotency-Keys are kept, for a backend that can
        also expire them by itself (MongoDB's TTL indexes); `expire_*` remain the
        guarantee. None: kept until expired by a call."""

    @abstractmethod
    def ping(self) -> None:
        """Return if the database answers; raise `StoreUnavailable` otherwise."""

    @abstractmethod
    def close(self) -> None:
        """Release connections. Using the store again later reconnects."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def conflict(idempotency_key: str) -> IdempotencyConflict:
    return IdempotencyConflict(
        f"Idempotency-Key {idempotency_key!r} was used with a different request body"
    )


def final_outcomes(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Check that every outcome is final and keep the first one per tracking id, so
    every backend resolves a batch that names a job twice the same way."""
    unique: dict[str, Outcome] = {}
    for outcome in outcomes:
        if not Status(outcome.status).is_final:
            raise ValueError(
                f"finish() needs a final status, got {outcome.status!r} for "
                f"{outcome.tracking_id!r}"
            )
        unique.setdefault(outcome.tracking_id, outcome)
    return list(unique.values())
