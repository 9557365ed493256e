"""The outbox sweeper: publishes what was stored but never confirmed, and re-queues
what a vanished worker left in `processing`.

Every worker process runs one in a thread. The store's `sweep` claims jobs with a lease,
so any number of sweepers can run at once without publishing a job twice in a round;
a job published twice anyway (a slow worker, a lost confirm) is harmless, because
results are written only once and later deliveries are acked as duplicates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from models.errors import UnknownModelName
from models.registry import get_spec
from predictq import metrics, presence
from predictq.errors import PredictqError
from predictq.jobs import Job, Outcome, Status
from predictq.messaging import Publisher
from predictq.settings import Settings
from predictq.store import Store

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher,
                 tasks: Sequence[Callable[[], object]] = ()) -> None:
        self.settings = settings
        self.store = store
        self.publisher = publisher
        # Other capabilities' outboxes and housekeeping, run after each round.
        self.tasks = tuple(tasks)
        self.stop_event = threading.Event()

    def sweep_once(self) -> int:
        """One round; returns how many jobs were published again."""
        recovered = presence.recover_claimed(self.settings)
        if recovered:
            log.info("returned %d message(s) of a dead worker to the queue", recovered)
        stale_before = time.time() - self.settings.sweep_after_s
        jobs = self.store.sweep(stale_before, limit=500)
        if not jobs:
            return 0
        by_family: dict[str, list[Job]] = defaultdict(list)
        unknown: list[Outcome] = []
        for job in jobs:
            try:
                by_family[get_spec(job.model).family].append(job)
            except UnknownModelName:
                unknown.append(Outcome(job.tracking_id, Status.FAILED,
                                       error=f"model {job.model!r} is no longer served"))
        if unknown:
            self.store.finish(unknown)
        published = 0
        for family, group in by_family.items():
            try:
                self.publisher.publish(group, family)
            except PredictqError as exc:
                # Still claimed by its lease: the next round after sweep_after_s retries.
                log.info("sweeper could not publish %d job(s): %s", len(group), exc.message)
                continue
            self.store.mark_published([job.tracking_id for job in group])
            published += len(group)
        if published:
            metrics.REPUBLISHED.inc(published)
            log.info("sweeper published %d job(s) again", published)
        return published

    def run(self) -> None:
        while not self.stop_event.wait(self.settings.sweep_interval_s):
            for task in (self.sweep_once, *self.tasks):
                try:
                    task()
                except PredictqError as exc:
                    log.info("sweep skipped: %s", exc.message)
                except Exception:
                    log.error("sweep failed", exc_info=True)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="predictq-sweeper", daemon=True)
        thread.start()
        return thread
