"""Exchange and queue names: the broker's shape, declared the same way everywhere.

One durable direct exchange. Jobs: one durable queue per model family (`<prefix>.text`,
`<prefix>.sensor`) and the dead-letter queue. Sensor streams: `stream_partitions`
queues `<prefix>.stream.<i>`, each with a single active consumer; a sensor's messages
always go to the partition its id hashes to, so one worker at a time handles a sensor
and sees its messages in order.
"""

from __future__ import annotations

import zlib
from typing import Any

from kombu import Exchange, Producer, Queue

from predictq.embedded import SINGLE_ACTIVE
from predictq.settings import Settings

FAMILIES = ("text", "sensor")
DEAD_LETTER_FAMILY = "dead"  # routing key and queue suffix of the dead-letter queue
STREAM_FAMILY = "stream"  # the prefix of the partitions' routing keys and queue names


def exchange(settings: Settings) -> Exchange:
    return Exchange(settings.queue_prefix, type="direct", durable=True)


def queue_name(settings: Settings, family: str) -> str:
    return f"{settings.queue_prefix}.{family}"


def queue_for(settings: Settings, family: str) -> Queue:
    return Queue(
        queue_name(settings, family),
        exchange(settings),
        routing_key=family,
        durable=True,
    )


def dead_letter_queue(settings: Settings) -> Queue:
    """Where messages go that can never succeed; nothing consumes it, people read it."""
    return queue_for(settings, DEAD_LETTER_FAMILY)


def dead_letter(producer: Producer, settings: Settings, body: Any, *, reason: str,
                content_type: str | None = None, content_encoding: str | None = None) -> None:
    queue = dead_letter_queue(settings)
    producer.publish(
        body,
        exchange=queue.exchange,
        routing_key=DEAD_LETTER_FAMILY,
        serializer=None if content_type else "json",
        content_type=content_type,
        content_encoding=content_encoding,
        delivery_mode=2,
        headers={"x-predictq-reason": reason[:500]},
        declare=[queue],
    )


def partition_of(settings: Settings, sensor_id: str) -> int:
    """The partition a sensor belongs to: stable across processes and restarts (crc32,
    not Python's salted hash). Changing `stream_partitions` moves sensors; see
    docs/STREAMS.md."""
    return zlib.crc32(sensor_id.encode()) % settings.stream_partitions


def partition_key(partition: int) -> str:
    return f"{STREAM_FAMILY}.{partition}"


def partition_queue(settings: Settings, partition: int) -> Queue:
    key = partition_key(partition)
    return Queue(
        queue_name(settings, key),
        exchange(settings),
        routing_key=key,
        durable=True,
        queue_arguments={SINGLE_ACTIVE: True},
    )


def partition_queues(settings: Settings) -> list[Queue]:
    return [partition_queue(settings, p) for p in range(settings.stream_partitions)]


def stream_message(sensor_id: str, n: int) -> dict[str, Any]:
    """A wake-up for a sensor's owner: batch `n` of its readings is in the store. The
    readings themselves are read from the store, in order, so a message that arrives
    late, twice, or never (a later one covers it) changes nothing."""
    return {"sensor_id": sensor_id, "n": n}

