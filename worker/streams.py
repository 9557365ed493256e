"""The stream consumer: owns sensor partitions, applies their readings, acks.

Ownership comes from the broker. Every stream worker subscribes to every partition
queue; each queue has a single active consumer (RabbitMQ's `x-single-active-consumer`,
emulated by the embedded transport with a lock file), so one worker at a time applies a
sensor's readings, and when it dies the broker hands its partitions to the next
consumer in line within seconds. Left alone, that would put every partition on the
first worker to start. So the spreading is deliberate: a worker that is active on more
than its share (partitions / stream consumers, rounded up) lets the excess go — it
closes those channels (unacked wake-ups return to the queue) and subscribes again a few
seconds later, at the back of the line — and the next worker in line takes them. A new
worker raises the consumer count, so the busiest ones give it their excess; one that
leaves lowers it. There is no coordinator of ours; see docs/STREAMS.md for the
measurements. Correctness never rests on the spreading: passes are fenced on the
checkpoint (predictq.streams.processor).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import math
import threading
import time
from dataclasses import dataclass

from kombu import Connection, Consumer
from kombu.message import Message

from predictq import presence, topology
from predictq.settings import Settings
from predictq.streams.processor import StreamProcessor
from worker.batcher import MicroBatcher
from worker.reconnect import consume_until_stopped

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0
ACTIVE_WINDOW_S = 5.0  # a partition that delivered within this long is one we own
REBALANCE_EVERY_S = 2.0
YIELD_COOLDOWN_S = 6.0  # between two rounds of letting partitions go
RESUBSCRIBE_AFTER_S = 3.0  # long enough for the next consumer in line to take over
PREFETCH = 8

_INSTANCES = itertools.count(1)


@dataclass
class _Subscription:
    channel: object
    consumer: Consumer


class StreamConsumer:
    def __init__(self, settings: Settings, processor: StreamProcessor,
                 batch_size: int | None = None, batch_wait_ms: int | None = None) -> None:
        self.settings = settings
        self.processor = processor
        self.batcher: MicroBatcher[Message] = MicroBatcher(
            batch_size or settings.batch_size,
            settings.batch_wait_ms if batch_wait_ms is None else batch_wait_ms)
        self.stop_event = threading.Event()
        # Unique per consumer, not per process: presence counts consumers by this id.
        self.worker_id = f"{presence.owner_id()}-stream-{next(_INSTANCES)}"
        self.processed = 0  # wake-ups acked
        self.readings = 0  # readings applied
        self._subs: dict[int, _Subscription] = {}
        self._roster: object | None = None  # channel of the roster subscription (AMQP)
        self._last_delivery: dict[int, float] = {}
        self._resubscribe_at: dict[int, float] = {}
        self._last_yield = 0.0
        self.yielded = 0

    @property
    def owned(self) -> list[int]:
        """Partitions that delivered to this worker lately: the ones it is active on."""
        now = time.monotonic()
        return sorted(p for p, at in self._last_delivery.items()
                      if now - at < ACTIVE_WINDOW_S and p in self._subs)

    def install_signal_handlers(self) -> None:
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())

    def run(self) -> None:
        consume_until_stopped(self.settings, self.stop_event, self._consume,
                              f"stream worker {self.worker_id}", self._reset)

    def _reset(self) -> None:
        self._subs.clear()
        self._roster = None
        self._last_delivery.clear()
        self.batcher.take()  # unacked: the broker gives them back
        log.info("stream worker %s stopped after %d wake-ups, %d readings", self.worker_id,
                 self.processed, self.readings)

    def _consume(self, connection: Connection) -> None:
        connection.ensure_connection(max_retries=3)
        if not self.settings.uses_embedded_broker:
            self._join_roster(connection)
        for partition in range(self.settings.stream_partitions):
            self._subscribe(connection, partition)
        log.info("stream worker %s subscribed to %d partitions", self.worker_id,
                 len(self._subs))
        last_beat = last_balance = 0.0
        try:
            while not self.stop_event.is_set():
                now = time.monotonic()
                if now - last_beat > presence.BEAT_INTERVAL_S:
                    presence.beat(self.settings, self.worker_id, [topology.STREAM_FAMILY])
                    last_beat = now
                connection.heartbeat_check()
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=self.batcher.time_left(IDLE_WAIT_S))
                if self.batcher.due():
                    self._flush()
                if now - last_balance > REBALANCE_EVERY_S:
                    self._rebalance(connection)
                    last_balance = now
            self._flush()
        finally:
            presence.leave(self.settings, self.worker_id)

    def _join_roster(self, connection: Connection) -> None:
        channel = connection.channel()
        Consumer(channel, queues=[topology.stream_roster_queue(self.settings)],
                 callbacks=[lambda body, message: message.ack()], accept=["json"]).consume()
        self._roster = channel

    def _subscribe(self, connection: Connection, partition: int) -> None:
        channel = connection.channel()
        channel.basic_qos(0, PREFETCH, False)
        consumer = Consumer(channel, queues=[topology.partition_queue(self.settings, partition)],
                            callbacks=[functools.partial(self._on_message, partition)],
                            accept=["json"], on_decode_error=self._on_decode_error)
        consumer.consume()
        self._subs[partition] = _Subscription(channel, consumer)

    def _on_message(self, partition: int, body: object, message: Message) -> None:
        sub = self._subs.get(partition)
        if sub is None or message.channel is not sub.channel:
            # Delivered just before we let the partition go: the broker took it back
            # with the channel, and acking it on a closed channel would fail.
            return
        self._last_delivery[partition] = time.monotonic()
        self.batcher.add(message)

    @staticmethod
    def _on_decode_error(message: Message, exc: Exception) -> None:
        log.info("dropping an undecodable stream message (%s): %s", message.content_type, exc)
        message.ack()  # a wake-up carries nothing the store does not have

    def _flush(self) -> None:
        messages = self.batcher.take()
        if not messages:
            return
        try:
            report = self.processor.process([m.decode() for m in messages])
        except Exception:
            for m in messages:
                with contextlib.suppress(Exception):
                    m.requeue()
            raise
        for m in messages:
            if _channel_open(m):
                m.ack()
            # else its channel closed meanwhile (a partition let go): the broker took
            # the wake-up back and delivers it again, which changes nothing.
        self.processed += len(messages)
        self.readings += report.readings

    # -- spreading partitions -------------------------------------------------------

    def consumers(self) -> int:
        """How many stream workers there are, as the broker (or presence) sees them."""
        if self.settings.uses_embedded_broker:
            return max(presence.count(self.settings, topology.STREAM_FAMILY), 1)
        if self._roster is None:
            return 1
        queue = topology.stream_roster_queue(self.settings)
        _, _, count = queue(self._roster).queue_declare(passive=True)
        return max(count, 1)

    def _rebalance(self, connection: Connection) -> None:
        now = time.monotonic()
        for partition, at in list(self._resubscribe_at.items()):
            if now >= at:
                del self._resubscribe_at[partition]
                self._subscribe(connection, partition)
        owned = self.owned
        share = math.ceil(self.settings.stream_partitions / self.consumers())
        excess = len(owned) - share
        if excess <= 0 or now - self._last_yield < YIELD_COOLDOWN_S:
            return
        self._flush()  # ack what we hold before giving partitions away
        for partition in owned[-excess:]:
            self._let_go(partition, now)
        self._last_yield = now
        log.info("stream worker %s let %d partition(s) go (owned %d, share %d)",
                 self.worker_id, excess, len(owned), share)

    def _let_go(self, partition: int, now: float) -> None:
        sub = self._subs.pop(partition)
        self._last_delivery.pop(partition, None)
        with contextlib.suppress(Exception):
            sub.channel.close()  # unacked wake-ups go back to the queue
        self._resubscribe_at[partition] = now + RESUBSCRIBE_AFTER_S
        self.yielded += 1


def _channel_open(message: Message) -> bool:
    channel = message.channel
    # py-amqp drops a channel's connection when the channel closes; kombu's virtual
    # channels say `closed`.
    return getattr(channel, "connection", None) is not None \
        and not getattr(channel, "closed", False) and getattr(channel, "is_open", True)
