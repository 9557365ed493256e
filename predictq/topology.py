"""Exchange and queue names: the broker's shape, declared the same way everywhere.

One durable direct exchange. Jobs: one durable queue per model family (`<prefix>.text`,
`<prefix>.sensor`) and the dead-letter queue. Sensor streams: `stream_partitions`
queues `<prefix>.stream.<i>`, each with a single active consumer; a sensor's messages
always go to the partition its id hashes to, so one worker at a time handles a sensor
and sees its messages in order.

Queue type (`PREDICTQ_QUEUE_TYPE`): on RabbitMQ every queue is a quorum queue by
default (replicated with Raft across a cluster's nodes) or a classic one. The store's
attempt counter (`max_attempts`, predictq.processing) stays the one source of truth for
giving up on a job: it fails the job with a reason a poller sees, which the broker
cannot do. A quorum job queue also gets the broker's own `x-delivery-limit` as a
backstop well above it (`delivery_limit`), dead-lettering at-least-once into the
dead-letter queue, for a message that somehow escapes the counter. docs/DEPLOYMENT.md
says why and how existing classic queues move over (`predictq queues migrate`).
"""

from __future__ import annotations

import zlib
from typing import Any

from kombu import Exchange, Producer, Queue

from predictq.embedded import SINGLE_ACTIVE
from predictq.settings import Settings

QUEUE_TYPES = ("classic", "quorum")
FAMILIES = ("text", "sensor")
DEAD_LETTER_FAMILY = "dead"  # routing key and queue suffix of the dead-letter queue
STREAM_FAMILY = "stream"  # the prefix of the partitions' routing keys and queue names


def exchange(settings: Settings) -> Exchange:
    return Exchange(settings.queue_prefix, type="direct", durable=True)


def queue_name(settings: Settings, family: str) -> str:
    return f"{settings.queue_prefix}.{family}"


def queue_type(settings: Settings) -> str:
    """The queue type in force: the setting on RabbitMQ; `classic` (no arguments) for
    the embedded transport, which has one kind of queue."""
    if settings.queue_type not in QUEUE_TYPES:
        raise ValueError(f"PREDICTQ_QUEUE_TYPE={settings.queue_type!r}: expected one of "
                         f"{', '.join(QUEUE_TYPES)}")
    return "classic" if settings.uses_embedded_broker else settings.queue_type


def delivery_limit(settings: Settings) -> int:
    """The broker's backstop on redeliveries of one message: far enough above
    `max_attempts` that the store's counter always acts first (the worker dead-letters
    after max_attempts deliveries; a broker count only grows when a consumer's
    connection drops or it requeues), and finite, so a message that loops without
    reaching the counter cannot loop forever."""
    return max(4 * settings.max_attempts, 20)


def type_arguments(settings: Settings, *, backstop: bool = False) -> dict[str, Any]:
    """The `x-` arguments every declaration of a queue must repeat (RabbitMQ refuses a
    redeclaration whose arguments differ); `backstop` adds the delivery limit."""
    if queue_type(settings) != "quorum":
        return {}
    arguments: dict[str, Any] = {"x-queue-type": "quorum"}
    if backstop:
        arguments.update({
            "x-delivery-limit": delivery_limit(settings),
            "x-dead-letter-exchange": settings.queue_prefix,
            "x-dead-letter-routing-key": DEAD_LETTER_FAMILY,
            # At-least-once dead-lettering needs the queue to refuse publishes rather
            # than drop its head when full; with no length limit set it never is.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        })
    return arguments


def queue_for(settings: Settings, family: str) -> Queue:
    return Queue(
        queue_name(settings, family),
        exchange(settings),
        routing_key=family,
        durable=True,
        queue_arguments=type_arguments(settings, backstop=family in FAMILIES) or None,
    )


def dead_letter_queue(settings: Settings) -> Queue:
    """Where messages go that can never succeed; nothing consumes it, people read it.
    No backstop of its own: it is the end of the line."""
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


def completions_exchange(settings: Settings) -> Exchange:
    """Where workers announce the jobs they finished; every API process binds a queue
    of its own (predictq.completions). Transient: an announcement is only a hint."""
    return Exchange(f"{settings.queue_prefix}.completions", type="fanout", durable=False)


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
        # No delivery limit: a wake-up carries nothing the store lacks, and the stream
        # processor settles a bad batch itself (predictq.streams.processor).
        queue_arguments={SINGLE_ACTIVE: True, **type_arguments(settings)},
    )


def partition_queues(settings: Settings) -> list[Queue]:
    return [partition_queue(settings, p) for p in range(settings.stream_partitions)]


def stream_roster_queue(settings: Settings) -> Queue:
    """A queue every stream worker consumes and nothing is published to: its consumer
    count is the number of stream workers. The partitions cannot tell it: a quorum
    queue with a single active consumer counts only the active one."""
    key = f"{STREAM_FAMILY}.roster"
    return Queue(queue_name(settings, key), exchange(settings), routing_key=key,
                 durable=True, queue_arguments=type_arguments(settings) or None)


def all_queues(settings: Settings) -> list[Queue]:
    """Every queue predictq declares on the broker, dead letters and roster included."""
    return [*(queue_for(settings, f) for f in FAMILIES), dead_letter_queue(settings),
            *partition_queues(settings), stream_roster_queue(settings)]


def stream_message(sensor_id: str, n: int) -> dict[str, Any]:
    """A wake-up for a sensor's owner: batch `n` of its readings is in the store. The
    readings themselves are read from the store, in order, so a message that arrives
    late, twice, or never (a later one covers it) changes nothing."""
    return {"sensor_id": sensor_id, "n": n}

