"""Accepting readings: validate, store as the sensor's next batch, publish a wake-up.

The same order as jobs (predictq.intake): the store write is the commitment, the publish
follows with a broker confirm, and a batch whose publish failed waits in the store for
the sweeper (predictq.streams.sweeping). The batch's published mark is written in the
background with other requests' marks (predictq.publish_marks): one store write per
request instead of two. A request whose readings were all accepted before stores
nothing and publishes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from predictq.errors import BrokerUnavailable
from predictq.messaging import Publisher, stream_message
from predictq.publish_marks import PublishedMarks
from predictq.settings import Settings
from predictq.store import Store
from predictq.streams.validation import parse_readings, sensor_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    sensor_id: str
    accepted: int
    duplicates: int

    def to_public(self) -> dict[str, Any]:
        return {"sensor_id": self.sensor_id, "accepted": self.accepted,
                "duplicates": self.duplicates}


class ReadingsIntake:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher) -> None:
        self.settings = settings
        self.store = store
        self.publisher = publisher
        self.marks: PublishedMarks[tuple[str, int]] = PublishedMarks(
            store.sensors.mark_batches_published, "sensor batch")

    def submit(self, sensor: str, body: Any) -> Accepted:
        sensor = sensor_id(sensor)
        readings = parse_readings(body, self.settings.max_readings_per_request)
        appended = self.store.sensors.append(sensor, readings)
        batch = appended.batch
        if batch is not None:
            try:
                self.publisher.publish_stream([stream_message(sensor, batch.n)])
            except BrokerUnavailable as exc:
                log.info("broker unavailable, batch %s/%d left to the sweeper: %s",
                         sensor, batch.n, exc.message)
            else:
                self.marks.add([(sensor, batch.n)])
        return Accepted(sensor, appended.accepted, appended.duplicates)

    def close(self) -> None:
        """Write the pending published marks."""
        self.marks.close()
