"""Queues, messages and the publisher: the only module that knows about kombu topology.

One durable direct exchange, one durable queue per model family (`<prefix>.text`, …).
Messages are persistent JSON. On AMQP the publisher waits for the broker's confirm, so
a publish that returns has been taken by RabbitMQ; the embedded default is kombu's
file-system transport (see docs/EMBEDDED_BROKER.md for why and what it promises).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import amqp
from amqp.connection import NEGOTIATE_CAPABILITIES
from amqp.exceptions import MessageNacked
from kombu import Connection, Exchange, Producer, Queue
from kombu.exceptions import ChannelError
from kombu.transport import filesystem, pyamqp, virtual
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

from predictq import presence
from predictq.errors import BrokerUnavailable
from predictq.group_commit import GroupCommit
from predictq.jobs import Job
from predictq.settings import Settings

FAMILIES = ("text", "sensor")
DEAD_LETTER_FAMILY = "dead"  # routing key and queue suffix of the dead-letter queue


class _DurableChannel(filesystem.Channel):
    """kombu's file-system channel made safe to crash in.

    Publishing: the stock channel writes in place, so a consumer that renames the file
    between the writer's open() and write() reads an empty message, and it never
    fsyncs. Here a message file is written under a temporary name, fsynced and renamed
    into place, so it appears whole or not at all.

    Consuming: the stock channel deletes a message file as it hands it out, so a
    consumer killed before acking loses it. Here the file is renamed into a folder of
    the consuming process (`claimed/<host>-<pid>/`) and deleted only on ack; files of a
    process that died are moved back by `presence.recover_claimed`.
    """

    # While other queues still have listed names, how long a queue found empty waits
    # before the inbox is listed again for it.
    RELIST_S = 0.25

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._claimed: dict[str, Path] = {}
        # Names listed but not yet tried, oldest first, per queue: one listing of the
        # inbox serves many messages. Listing (and sorting) it for every message made
        # draining a backlog of n messages cost O(n^2).
        self._listed: dict[str, collections.deque[str]] = {}
        self._listed_at = 0.0
        self._mine: Path | None = None  # presence.claim_folder, made once
        self._renamed = False  # messages put whose rename is not yet made durable

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        folder = self.data_folder_out
        # Zero-padded so lexical order (what the consumer sorts by) is arrival order; the
        # counter orders one process's messages within the same millisecond.
        name = f"{_monotonic_ms():015d}_{next(_SEQUENCE):012d}_{os.urandom(4).hex()}.{queue}.msg"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(folder, name))
            self._renamed = True
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def sync_published(self) -> None:
        """Make the messages put since the last call survive a power loss, not only a
        process crash: their contents were fsynced as written, but a rename is durable
        only once its folder is. One fsync of the folder covers every rename before it;
        the publisher calls this where AMQP waits for confirms. Without it a message
        could vanish while the store already marks its job published, which the sweeper
        never republishes."""
        if not self._renamed:
            return
        fd = os.open(self.data_folder_out, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._renamed = False

    def _lookup(self, exchange: str, routing_key: str, default: Any = None) -> list[str]:
        # kombu drops a message no queue is bound for; a publish that returns must have
        # stored it, so here it fails and the job is left to the sweeper instead.
        if not exchange:
            return super()._lookup(exchange, routing_key, default)
        try:
            queues = self.typeof(exchange).lookup(
                self.get_table(exchange), exchange, routing_key, None)
        except KeyError:
            queues = []
        if not queues:
            raise ChannelError(f"no queue is bound to exchange {exchange!r} with routing "
                               f"key {routing_key!r}: the message would be lost")
        return queues

    def _get(self, queue: str) -> Any:
        inbox = Path(self.data_folder_in)
        if not self._listed.get(queue) and (
                not any(self._listed.values())
                or time.monotonic() - self._listed_at >= self.RELIST_S):
            self._relist(inbox)
        listed = self._listed.get(queue)
        mine = self._mine or presence.claim_folder(inbox.parent)
        self._mine = mine
        while listed:
            name = listed.popleft()
            claimed = mine / name
            try:
                os.rename(inbox / name, claimed)  # exactly one consumer wins the rename
            except FileNotFoundError:
                if not mine.is_dir():  # our folder was removed: make it again, retry
                    self._mine = mine = presence.claim_folder(inbox.parent)
                    listed.appendleft(name)
                continue  # else another consumer took this one
            payload = loads(bytes_to_str(claimed.read_bytes()))
            self._claimed[payload["properties"]["delivery_tag"]] = claimed
            return payload
        raise Empty()

    def _relist(self, inbox: Path) -> None:
        # Files that arrive later are seen at the next listing, after the names already
        # listed: arrival order (the names sort by it) holds within each queue.
        listed: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
        for name in sorted(os.listdir(inbox)):
            if not name.startswith(".") and name.endswith(".msg"):
                listed[name.partition(".")[2][:-len(".msg")]].append(name)
        self._listed, self._listed_at = listed, time.monotonic()

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple)
        self._release(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue)  # a requeue writes a new file first
        self._release(delivery_tag)

    def _restore(self, message: Any) -> None:
        super()._restore(message)
        self._release(message.delivery_tag)

    def _release(self, delivery_tag: str) -> None:
        path = self._claimed.pop(delivery_tag, None)
        if path is not None:
            path.unlink(missing_ok=True)


def _monotonic_ms() -> int:
    return int(time.monotonic() * 1000)


_SEQUENCE = itertools.count()


class EmbeddedTransport(filesystem.Transport):
    Channel = _DurableChannel

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        # kombu shares the file-system transport's declared bindings process-wide, so a
        # second connection to another queue folder skipped writing its binding there.
        self.state = virtual.BrokerState()


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


def connect(settings: Settings, *, confirm_each: bool = True) -> Connection:
    """A lazy kombu connection for the configured broker; nothing is opened yet.

    On AMQP each publish waits for its confirm, unless `confirm_each` is False: then
    the caller selects confirm mode and waits for confirms itself (the Publisher).
    """
    if settings.uses_embedded_broker:
        folder = settings.queue_dir.resolve()
        for sub in ("messages", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return Connection(
            "filesystem://",
            transport=EmbeddedTransport,
            transport_options={
                "data_folder_in": str(folder / "messages"),
                "data_folder_out": str(folder / "messages"),
                "control_folder": str(folder / "control"),
                "polling_interval": settings.poll_interval_ms / 1000,
            },
        )
    py_amqp = settings.resolved_broker_url.startswith(("amqp://", "pyamqp://"))
    return Connection(
        settings.resolved_broker_url,
        transport=_AmqpTransport if py_amqp else None,
        heartbeat=30,
        connect_timeout=5,
        # polling_interval only matters to polling transports (memory:// in the tests).
        transport_options={"confirm_publish": confirm_each,
                           "polling_interval": settings.poll_interval_ms / 1000},
    )


class _AmqpConnection(pyamqp.Connection):
    # Without the connection.blocked capability py-amqp skips the zero-timeout socket
    # read it makes before every basic_publish to look for a blocked notice: a third
    # of the publish's CPU (26 -> 15 us a message). Nothing here acts on the notice: a
    # blocked broker shows as confirms not arriving in time, and the jobs wait in the
    # store for the sweeper.
    negotiate_capabilities = {**NEGOTIATE_CAPABILITIES, "connection.blocked": False}


class _AmqpTransport(pyamqp.Transport):
    Connection = _AmqpConnection


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
        self._pid = os.getpid()
        self._group: GroupCommit[tuple[Sequence[Job], str], None] = GroupCommit(
            self._publish_batch)

    def publish(self, jobs: Sequence[Job], family: str) -> None:
        """Publish every job to its family's queue; raise BrokerUnavailable on failure.

        After a failure, publishes fail fast for BACKOFF_S instead of each request
        waiting out connection attempts: the jobs are stored and the sweeper retries.
        """
        self._group.submit((jobs, family))

    def _publish_batch(self, batch: Sequence[tuple[Sequence[Job], str]]) -> list[None]:
        with self._lock:
            if time.monotonic() < self._down_until:
                raise BrokerUnavailable("broker unavailable (retrying shortly)")
            # A connection that went stale while idle (broker restarted) fails on first
            # use: one retry on a fresh connection. Messages the broker took before the
            # failure are published twice; workers drop the duplicates.
            fresh = self._producer is None
            try:
                try:
                    self._publish_confirmed(batch)
                except Exception:
                    if fresh:
                        raise
                    self._reset()
                    self._publish_confirmed(batch)
            except Exception as exc:
                self._reset()
                self._down_until = time.monotonic() + self.BACKOFF_S
                names = sorted({queue_name(self.settings, family) for _, family in batch})
                raise BrokerUnavailable(f"could not publish to {', '.join(names)}: {exc}") \
                    from exc
        return [None] * len(batch)

    def _publish_confirmed(self, batch: Sequence[tuple[Sequence[Job], str]]) -> None:
        channel = self._ensure_producer().channel
        confirms = self._confirms
        for jobs, family in batch:
            queue = self._queues[family]
            if queue.name not in self._declared:
                queue(channel).declare()
                self._declared.add(queue.name)
            # What kombu's Producer.publish does, without its per-message generality
            # (serializer registry, compression, declare checks): 39 instead of 67 µs a
            # message on AMQP, most of a 1,000-input batch's time in the API.
            for job in jobs:
                message = channel.prepare_message(
                    json.dumps(message_body(job)), content_type="application/json",
                    content_encoding="utf-8", properties={"delivery_mode": 2})
                channel.basic_publish(message, exchange=queue.exchange.name,
                                      routing_key=family)
                if confirms is not None:
                    confirms.published()
        if confirms is not None:
            confirms.wait(self.CONFIRM_TIMEOUT_S)
        elif isinstance(channel, _DurableChannel):
            channel.sync_published()

    def stats(self, families: Iterable[str] = FAMILIES) -> list[QueueStats]:
        """Depth and consumer count per queue, as the broker reports them."""
        out = []
        with self._lock:
            try:
                channel = self._ensure_producer().channel
                for family in families:
                    queue = self._queues[family](channel)
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
        with self._lock:
            self._reset()

    def _ensure_producer(self) -> Producer:
        if self._pid != os.getpid():  # inherited across fork: the socket is not ours
            self._connection = self._producer = self._confirms = None
            self._declared.clear()
            self._pid = os.getpid()
        if self._producer is None:
            self._connection = connect(self.settings, confirm_each=False)
            self._connection.ensure_connection(max_retries=1, timeout=5)
            channel = self._connection.channel()
            if isinstance(channel, amqp.Channel):
                channel.confirm_select()
                self._confirms = _Confirms(channel)
            self._producer = Producer(channel)
        return self._producer

    def _reset(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                self._connection.release()
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
