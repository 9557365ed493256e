"""The publisher: how messages reach the broker.

On AMQP the publisher waits for the broker's confirm, so a publish that returns has
been taken by RabbitMQ; the embedded default is kombu's file-system transport made
crash-safe (predictq.embedded, docs/EMBEDDED_BROKER.md). Connections live in
predictq.connection, queue names and shapes in predictq.topology; both are re-exported
here for the callers that predate the split.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import amqp
from amqp.exceptions import MessageNacked
from kombu import Connection, Producer, Queue

from predictq import connection as connections
from predictq import presence
from predictq.connection import broker_urls, connect
from predictq.embedded import DurableChannel
from predictq.errors import BrokerUnavailable
from predictq.group_commit import GroupCommit
from predictq.jobs import Job
from predictq.settings import Settings
from predictq.topology import (  # noqa: F401 (re-exported)
    DEAD_LETTER_FAMILY,
    FAMILIES,
    STREAM_FAMILY,
    dead_letter,
    dead_letter_queue,
    exchange,
    partition_of,
    partition_queues,
    queue_for,
    queue_name,
    stream_message,
)


def message_body(job: Job) -> dict[str, Any]:
    return {
        "tracking_id": job.tracking_id,
        "model": job.model,
        "input": job.input,
        "created_at": job.created_at,
    }


@dataclass(frozen=True)
class QueueStats:
    name: str
    depth: int
    consumers: int


class Publisher:
    """Publishes jobs with confirms; one per process, shared by its threads.

    kombu connections are not thread-safe, so one thread at a time uses the connection.
    Concurrent publishes are grouped (predictq.group_commit): the leader publishes
    everyone's messages, then waits once for the broker to confirm them all, instead
    of one confirm round trip per message in turn.
    """

    BACKOFF_S = 1.0
    CONFIRM_TIMEOUT_S = 10.0
    RETRY_WITHIN_S = 2.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms: _Confirms | None = None  # on AMQP only; the others have no confirms
        self._declared: set[str] = set()
        # Built once: making kombu's Queue and Exchange objects took 6% of a request.
        self._queues = {family: queue_for(settings, family)
                        for family in (*FAMILIES, DEAD_LETTER_FAMILY)}
        self._partitions = partition_queues(settings)
        self._pid = os.getpid()
        self.connects = 0  # connections opened (one while nothing fails)
        self._closed = threading.Event()
        self._heartbeats: threading.Thread | None = None
        self._group: GroupCommit[tuple[Queue, Sequence[dict[str, Any]]], None] = GroupCommit(
            self._publish_batch)

    def publish(self, jobs: Sequence[Job], family: str) -> None:
        """Publish every job to its family's queue; raise BrokerUnavailable on failure.

        After a failure, publishes fail fast for BACKOFF_S instead of each request
        waiting out connection attempts: the jobs are stored and the sweeper retries.
        """
        self._group.submit((self._queues[family], [message_body(job) for job in jobs]))

    def republish(self, bodies: Sequence[dict[str, Any]], family: str) -> None:
        """Publish job messages as they were received (`message_body` of their jobs)
        to their family's queue again, confirmed; the same failure rules as `publish`."""
        self._group.submit((self._queues[family], bodies))

    def publish_stream(self, messages: Sequence[dict[str, Any]]) -> None:
        """Publish sensor wake-ups (`topology.stream_message`), each to its sensor's
        partition; the same failure rules as `publish`."""
        by_queue: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for message in messages:
            by_queue[partition_of(self.settings, message["sensor_id"])].append(message)
        for partition, bodies in by_queue.items():
            self._group.submit((self._partitions[partition], bodies))

    def _publish_batch(
            self, batch: Sequence[tuple[Queue, Sequence[dict[str, Any]]]]) -> list[None]:
        with self._lock:
            if time.monotonic() < self._down_until:
                raise BrokerUnavailable("broker unavailable (retrying shortly)")
            # A connection that went stale while idle (broker restarted) fails on first
            # use: one retry on a fresh connection. Messages the broker took before the
            # failure are published twice; workers drop the duplicates.
            # Only a failure that came at once is retried: one that took a confirm or
            # connect timeout (a silent node) already made the requests wait, and a
            # second wait could outlast the client's; the sweeper republishes instead.
            fresh = self._producer is None
            began = time.monotonic()
            try:
                try:
                    self._publish_confirmed(batch)
                except Exception:
                    if fresh or time.monotonic() - began > self.RETRY_WITHIN_S:
                        raise
                    self._reset()
                    self._publish_confirmed(batch)
            except Exception as exc:
                self._reset()
                self._down_until = time.monotonic() + self.BACKOFF_S
                names = sorted({queue.name for queue, _ in batch})
                raise BrokerUnavailable(f"could not publish to {', '.join(names)}: {exc}") \
                    from exc
        return [None] * len(batch)

    def _publish_confirmed(self, batch: Sequence[tuple[Queue, Sequence[dict[str, Any]]]]
                           ) -> None:
        channel = self._ensure_producer().channel
        confirms = self._confirms
        for queue, bodies in batch:
            if queue.name not in self._declared:
                queue(channel).declare()
                self._declared.add(queue.name)
            # What kombu's Producer.publish does, without its per-message generality
            # (serializer registry, compression, declare checks): 39 instead of 67 µs a
            # message on AMQP, most of a 1,000-input batch's time in the API.
            for body in bodies:
                message = channel.prepare_message(
                    json.dumps(body), content_type="application/json",
                    content_encoding="utf-8", properties={"delivery_mode": 2})
                channel.basic_publish(message, exchange=queue.exchange.name,
                                      routing_key=queue.routing_key)
                if confirms is not None:
                    confirms.published()
        if confirms is not None:
            confirms.wait(self.CONFIRM_TIMEOUT_S)
        elif isinstance(channel, DurableChannel):
            channel.sync_published()

    def stats(self, families: Iterable[str] = FAMILIES) -> list[QueueStats]:
        """Depth and consumer count per queue, as the broker reports them."""
        return self._stats([(family, self._queues[family]) for family in families])

    def partition_stats(self) -> list[QueueStats]:
        """The same for each sensor-stream partition, in partition order."""
        return self._stats([(STREAM_FAMILY, queue) for queue in self._partitions])

    def _stats(self, queues: Sequence[tuple[str, Queue]]) -> list[QueueStats]:
        out = []
        with self._lock:
            try:
                channel = self._ensure_producer().channel
                for family, template in queues:
                    queue = template(channel)
                    queue.declare()
                    _, depth, consumers = queue.queue_declare(passive=True)
                    if self.settings.uses_embedded_broker:
                        consumers = presence.count(self.settings, family)
                    out.append(QueueStats(queue.name, depth, consumers))
            except Exception as exc:
                self._reset()
                raise BrokerUnavailable(f"could not read queue depth: {exc}") from exc
        return out

    def ping(self) -> None:
        with self._lock:
            try:
                self._ensure_producer()
            except Exception as exc:
                self._reset()
                raise BrokerUnavailable(f"broker unreachable: {exc}") from exc

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._reset(graceful=True)

    def _ensure_producer(self) -> Producer:
        if self._pid != os.getpid():  # inherited across fork: the socket is not ours
            self._connection = self._producer = self._confirms = None
            self._declared.clear()
            self._pid = os.getpid()
        if self._producer is None:
            self._connection = connect(self.settings, confirm_each=False)
            # Each of a cluster's nodes once, no pause between (kombu moves to the next
            # URL after each failure): a request waits at most one connect timeout per
            # node, then the jobs are left to the sweeper.
            nodes = len(broker_urls(self.settings))
            self._connection.ensure_connection(max_retries=max(nodes, 1), interval_start=0,
                                               timeout=5 * nodes)
            channel = self._connection.channel()
            if isinstance(channel, amqp.Channel):
                channel.confirm_select()
                self._confirms = _Confirms(channel)
                self._keep_alive()
            self._producer = Producer(channel)
            self.connects += 1
        return self._producer

    def _keep_alive(self) -> None:
        """One thread per process (started with the first AMQP connection) that reads
        and sends heartbeats while no publish does: an idle connection was dropped by
        RabbitMQ after two heartbeat intervals ("missed heartbeats from client" in its
        log), and the next publish paid a failed attempt and a reconnect (~12 ms)."""
        if self._heartbeats is not None and self._heartbeats.is_alive():
            return
        self._heartbeats = threading.Thread(target=self._beat, args=(os.getpid(),),
                                            name="publisher-heartbeats", daemon=True)
        self._heartbeats.start()

    def _beat(self, pid: int) -> None:
        while not self._closed.wait(connections.HEARTBEAT_S / 4):
            if os.getpid() != pid:  # a fork's copy: the parent's connection is not ours
                return
            with self._lock:
                if self._connection is None or self._confirms is None:
                    continue
                try:
                    # The broker's heartbeats are only counted once read; a late ack
                    # goes to _Confirms' listeners, which ignore what they don't track.
                    with contextlib.suppress(TimeoutError):
                        self._connection.drain_events(timeout=0.001)
                    self._connection.heartbeat_check()
                except Exception:  # gone: the next publish connects afresh at once
                    self._reset()

    def _reset(self, graceful: bool = False) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                if graceful:
                    self._connection.release()
                else:
                    # After a failure, drop the socket without AMQP's close handshake:
                    # a node that is paused or cut off never answers it, and waiting
                    # for its close-ok held the publish lock (and every request) forever.
                    self._connection.collect()
        self._connection = self._producer = self._confirms = None
        self._declared.clear()


class _Confirms:
    """Tracks publisher confirms on one AMQP channel in confirm mode.

    The broker numbers a channel's publishes 1, 2, … and acks them, one by one or many
    at once (`multiple`), possibly out of order; a nack means it lost the message.
    """

    def __init__(self, channel: amqp.Channel) -> None:
        self.channel = channel
        self.outstanding: set[int] = set()
        self.nacked: list[int] = []
        self.next_tag = 1  # every publish on the channel must go through published()
        # Listeners, not a one-shot wait: an ack that arrives while the channel waits
        # for something else (a queue declare) is dispatched to these and not lost.
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def published(self) -> None:
        self.outstanding.add(self.next_tag)
        self.next_tag += 1

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.outstanding and not self.nacked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(self.outstanding)} publish(es) not confirmed")
            self.channel.connection.drain_events(timeout=left)
        if self.nacked:
            nacked, self.nacked = self.nacked, []
            self.outstanding.clear()
            raise MessageNacked(f"the broker refused publish(es) up to {max(nacked)}")

    def _settle(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self.outstanding = {tag for tag in self.outstanding if tag > delivery_tag}
        else:
            self.outstanding.discard(delivery_tag)

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)
        self.nacked.append(delivery_tag)
