"""The embedded broker: kombu's file-system transport made safe to crash in.

`predictq up` needs no server, so its queue is a folder. kombu's stock file-system
channel loses a message whose consumer dies before acking, writes in place (a consumer
may read half a message) and never fsyncs; this channel fixes all three (see
docs/EMBEDDED_BROKER.md). It also honours `x-single-active-consumer`, as RabbitMQ does:
of all the channels consuming such a queue, one at a time receives its messages, the
one holding the queue's lock file; when that process dies the operating system drops
its lock and the next consumer takes over. Sensor streams rely on that for per-sensor
order and single ownership on both brokers.
"""

from __future__ import annotations

import collections
import fcntl
import itertools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

from predictq import presence

SINGLE_ACTIVE = "x-single-active-consumer"


class DurableChannel(filesystem.Channel):
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
        self._single_active: set[str] = set()  # queues declared x-single-active-consumer
        self._locks: dict[str, int] = {}  # queue -> fd holding its active-consumer lock

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

    def queue_declare(self, queue: str | None = None, passive: bool = False,
                      **kwargs: Any) -> Any:
        if (kwargs.get("arguments") or {}).get(SINGLE_ACTIVE):
            self._single_active.add(queue)
        return super().queue_declare(queue, passive=passive, **kwargs)

    def _get(self, queue: str) -> Any:
        if queue in self._single_active and not self._hold(queue):
            raise Empty()  # another consumer is the active one
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

    def _hold(self, queue: str) -> bool:
        """Whether this channel is (or has just become) the queue's active consumer."""
        if queue in self._locks:
            return True
        folder = Path(self.data_folder_in).parent / "active"
        folder.mkdir(exist_ok=True)
        fd = os.open(folder / f"{queue}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._locks[queue] = fd
        return True

    def _let_go(self, queue: str) -> None:
        fd = self._locks.pop(queue, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    def basic_cancel(self, consumer_tag: str) -> Any:
        queue = self._tag_to_queue.get(consumer_tag)
        result = super().basic_cancel(consumer_tag)
        if queue is not None and queue not in self._tag_to_queue.values():
            self._let_go(queue)
        return result

    def close(self) -> None:
        try:
            super().close()  # gives unacked messages back first
        finally:
            for queue in list(self._locks):
                self._let_go(queue)

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
    Channel = DurableChannel

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        # kombu shares the file-system transport's declared bindings process-wide, so a
        # second connection to another queue folder skipped writing its binding there.
        self.state = virtual.BrokerState()
