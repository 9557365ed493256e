"""The stream side's housekeeping, run by every worker's sweeper thread: publish again
the wake-ups of batches the broker never confirmed, and delete raw readings past the
retention period."""

from __future__ import annotations

import logging
import time

from predictq import metrics
from predictq.errors import PredictqError
from predictq.messaging import Publisher, stream_message
from predictq.settings import Settings
from predictq.store import Store

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 60.0


class StreamSweeper:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher) -> None:
        self.settings = settings
        self.store = store
        self.publisher = publisher
        self._retention_at = 0.0

    def __call__(self) -> int:
        published = self.republish()
        if time.monotonic() >= self._retention_at:
            self._retention_at = time.monotonic() + RETENTION_EVERY_S
            self.expire()
        return published

    def republish(self) -> int:
        """Publish the wake-ups of batches stored but never confirmed; return how many."""
        batches = self.store.sensors.unpublished_batches(
            time.time() - self.settings.sweep_after_s, limit=500)
        if not batches:
            return 0
        try:
            self.publisher.publish_stream([stream_message(b.sensor_id, b.n) for b in batches])
        except PredictqError as exc:
            log.info("sweeper could not publish %d stream batch(es): %s", len(batches),
                     exc.message)
            return 0
        self.store.sensors.mark_batches_published([(b.sensor_id, b.n) for b in batches])
        metrics.REPUBLISHED.inc(len(batches))
        log.info("sweeper published %d stream batch(es) again", len(batches))
        return len(batches)

    def expire(self, now: float | None = None) -> int:
        """Delete applied raw readings older than the retention period; return the
        number of batches deleted."""
        cutoff = (now or time.time()) - self.settings.readings_retention_s
        deleted = 0
        while True:
            n = self.store.sensors.delete_readings_before(cutoff, limit=1000)
            deleted += n
            if n < 1000:
                break
        if deleted:
            log.info("retention: deleted %d batch(es) of readings older than %ds",
                     deleted, self.settings.readings_retention_s)
        return deleted
