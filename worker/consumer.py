"""The kombu consumer: receives, micro-batches, hands batches to the processor, acks.

Ack policy: a message is acked only after its outcome is in the store. If the store
cannot be reached the worker holds the batch and tries again until it can (a requeue
per try would count a broker delivery each time, and a quorum queue's delivery limit
would then dead-letter jobs the store never saw fail); on a shutdown or any other
error the batch is requeued. If the broker connection drops, unacked messages go back
to the queue on the broker's side.

A message for a model this worker cannot load is handed back as a confirmed copy at
the queue's tail, the original acked after the confirm (`_hand_back`), not requeued: a
quorum queue counts every requeue as a delivery, and after `topology.delivery_limit`
of them dead-letters the message while its job stays `queued` with no reason.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Sequence

import amqp
from kombu import Connection, Consumer, Producer
from kombu.message import Message

from predictq import messaging, metrics, presence, topology
from predictq.completions.announce import Announcer
from predictq.errors import BrokerUnavailable, StoreUnavailable
from predictq.jobs import Status
from predictq.lifecycle.serving import ModelServer
from predictq.messaging import Publisher
from predictq.processing import BatchProcessor, Delivery
from predictq.settings import Settings
from predictq.sweeper import Sweeper
from worker.availability import ServableModels
from worker.batcher import MicroBatcher
from worker.reconnect import consume_until_stopped

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0
# How often a worker that cannot serve some model looks again (a `predictq train` may
# have put the artifact there since).
RECHECK_S = 5.0
# After handing back messages it cannot serve, a worker pauses, so that it does not take
# the same messages again at once while a worker that can serve them waits for them.
LEFT_PAUSE_S = 1.0
STORE_RETRY_MAX_S = 5.0


class Worker:
    def __init__(
        self,
        settings: Settings,
        processor: BatchProcessor,
        families: Sequence[str] = messaging.FAMILIES,
        batch_size: int | None = None,
        batch_wait_ms: int | None = None,
        sweeper: Sweeper | None = None,
        model_server: ModelServer | None = None,
        servable: ServableModels | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        self.settings = settings
        self.processor = processor
        self.families = tuple(families)
        self.batcher: MicroBatcher[Message] = MicroBatcher(
            batch_size or settings.batch_size,
            settings.batch_wait_ms if batch_wait_ms is None else batch_wait_ms,
        )
        self.stop_event = threading.Event()
        self.sweeper = sweeper
        self.model_server = model_server
        self.servable = servable
        self.publisher = publisher
        self.announcer = Announcer(settings)
        self.processed = 0
        self.left = 0  # deliveries handed back for a model this worker cannot serve
        self.duplicates = 0
        self._producer: Producer | None = None
        self._connection: Connection | None = None
        self.worker_id = presence.owner_id()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT finish the current batch, ack it and exit."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())

    def run(self) -> None:
        """Consume until stopped, reconnecting after broker failures."""
        if self.sweeper is not None:
            self.sweeper.start()
        if self.model_server is not None:
            self.model_server.start()
        try:
            self._run()
        finally:
            if self.sweeper is not None:
                self.sweeper.stop_event.set()
            if self.model_server is not None:
                self.model_server.stop_event.set()

    def _run(self) -> None:
        # A bug, not an outage, also restarts the consumer: the batch was requeued and
        # its attempts counted, so a message that always fails ends in the dead letters.
        consume_until_stopped(self.settings, self.stop_event, self._consume,
                              f"worker {self.worker_id}")
        log.info("worker %s stopped after %d messages (%d duplicates suppressed)",
                 self.worker_id, self.processed, self.duplicates)

    def _consume(self, connection: Connection) -> None:
        connection.ensure_connection(max_retries=3)
        channel = connection.channel()
        # Prefetch two batches so the next batch is already local while one is predicted.
        channel.basic_qos(0, max(2 * self.batcher.size, 10), False)
        families = self.consumed
        queues = [messaging.queue_for(self.settings, f) for f in families]
        # A quorum queue dead-letters into this queue by itself (the delivery-limit
        # backstop), which needs it to exist before anything is published there.
        topology.dead_letter_queue(self.settings)(channel).declare()
        self._producer = Producer(channel)
        self._connection = connection
        consumer = Consumer(
            channel,
            queues=queues,
            callbacks=[self._on_message],
            accept=["json"],
            on_decode_error=self._on_decode_error,
        )
        if queues:
            log.info("worker %s consuming %s (batch %d, wait %d ms)", self.worker_id,
                     ", ".join(q.name for q in queues), self.batcher.size,
                     int(self.batcher.wait_s * 1000))
        else:
            log.error("worker %s can serve no model of %s: consuming nothing until one "
                      "can be loaded", self.worker_id, ", ".join(self.families))
        with consumer if queues else contextlib.nullcontext():
            last_beat = last_check = time.monotonic()
            presence.beat(self.settings, self.worker_id, families, self._unavailable())
            try:
                while not self.stop_event.is_set():
                    now = time.monotonic()
                    if now - last_beat > presence.BEAT_INTERVAL_S:
                        presence.beat(self.settings, self.worker_id, families,
                                      self._unavailable())
                        last_beat = now
                    if now - last_check > RECHECK_S:
                        last_check = now
                        if self._recheck():
                            break  # subscribe again, to the families it can now serve
                    connection.heartbeat_check()  # AMQP heartbeats; a no-op elsewhere
                    wait = self.batcher.time_left(IDLE_WAIT_S)
                    if queues:
                        with contextlib.suppress(TimeoutError):  # nothing arrived
                            connection.drain_events(timeout=wait)
                    else:
                        self.stop_event.wait(wait)
                    if self.batcher.due():
                        self._flush()
                self._flush()  # graceful stop, or a resubscription: finish what was received
            finally:
                presence.leave(self.settings, self.worker_id)

    @property
    def consumed(self) -> tuple[str, ...]:
        """The families this worker consumes: those it can serve a model of."""
        return self.families if self.servable is None else self.servable.consumed

    def _unavailable(self) -> dict[str, str]:
        return {} if self.servable is None else dict(self.servable.unavailable)

    def _recheck(self) -> bool:
        if self.servable is None or not self.servable.unavailable:
            return False
        return self.servable.check()

    def _on_message(self, body: object, message: Message) -> None:
        self.batcher.add(message)

    def _on_decode_error(self, message: Message, exc: Exception) -> None:
        # Not JSON (or not allowed, e.g. pickle): it can never succeed, so it goes
        # straight to the dead-letter queue, as it came, for a person to look at.
        log.info("dead-lettering an undecodable message (%s): %s", message.content_type, exc)
        messaging.dead_letter(self._producer, self.settings, message.body,
                              content_type=message.content_type,
                              content_encoding=message.content_encoding,
                              reason=f"undecodable: {exc}")
        message.ack()

    def _flush(self) -> None:
        messages = self.batcher.take()
        if not messages:
            return
        deliveries = [Delivery(m.decode()) for m in messages]
        try:
            report = self._process_through_store_outages(deliveries)
            for d in report.dead:
                messaging.dead_letter(self._producer, self.settings, d.body,
                                      reason="see the job's error")
        except Exception:
            for m in messages:
                m.requeue()
            raise
        if report.left:
            # Handed back before the acks: a rejected delivery is no longer outstanding,
            # so the `multiple` ack below cannot cover it.
            left = {id(d) for d in report.left}
            self._hand_back([(m, d) for m, d in zip(messages, deliveries, strict=True)
                             if id(d) in left])
            messages = [m for m, d in zip(messages, deliveries, strict=True)
                        if id(d) not in left]
            self.left += len(left)
        if messages:
            _ack_all(messages)
        # After the acks: a waiting client re-reads the store, where these are final.
        self.announcer.announce(self._producer, [o.tracking_id for o in report.outcomes
                                                 if Status(o.status).is_final])
        metrics.REDELIVERIES.inc(sum(1 for m in messages if m.delivery_info.get("redelivered")))
        self.processed += len(messages)
        self.duplicates += report.duplicates
        if report.left:
            self.stop_event.wait(LEFT_PAUSE_S)

    def _hand_back(self, handed: Sequence[tuple[Message, Delivery]]) -> None:
        """Put messages this worker cannot serve back in their queue for another worker
        without counting a delivery (see the module's doc). Should the copy not be
        confirmed, a requeue still hands the message back, counted."""
        by_family: dict[str, list] = {}
        for m, d in handed:
            by_family.setdefault(m.delivery_info.get("routing_key", ""), []).append(d.body)
        if self.publisher is not None and all(f in messaging.FAMILIES for f in by_family):
            try:
                for family, bodies in by_family.items():
                    self.publisher.republish(bodies, family)
            except BrokerUnavailable as exc:
                log.info("could not hand %d message(s) back as copies, requeueing: %s",
                         len(handed), exc.message)
            else:
                for m, _ in handed:
                    m.ack()
                return
        for m, _ in handed:
            m.requeue()

    def _process_through_store_outages(self, deliveries: list[Delivery]):
        """`processor.process`, tried again while the store is unavailable, the
        messages held meanwhile. The connection keeps being read (heartbeats; new
        deliveries wait in the batcher, bounded by the prefetch), so the broker does not
        drop a worker that is only waiting."""
        delay = 0.5
        while True:
            try:
                return self.processor.process(deliveries)
            except StoreUnavailable as exc:
                if self.stop_event.is_set() or self._connection is None:
                    raise
                log.warning("store unavailable, holding %d message(s) and retrying in "
                            "%.1f s: %s", len(deliveries), delay, exc)
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline and not self.stop_event.is_set():
                    self._connection.heartbeat_check()
                    with contextlib.suppress(TimeoutError):
                        self._connection.drain_events(
                            timeout=max(0.05, deadline - time.monotonic()))
                delay = min(delay * 2, STORE_RETRY_MAX_S)


def _ack_all(messages: Sequence[Message]) -> None:
    """Ack a batch: on AMQP with one `basic.ack` (`multiple`) instead of one per message.

    Safe because the batch is exactly the deliveries up to its last one still unacked on
    this channel: the batcher hands messages out in delivery order, and the ones it
    never held (undecodable ones) were acked as they came. The embedded transport has
    no `multiple`, so it acks one by one.
    """
    last = messages[-1]
    if len(messages) > 1 and isinstance(last.channel, amqp.Channel):
        last.ack(multiple=True)
    else:
        for m in messages:
            m.ack()
