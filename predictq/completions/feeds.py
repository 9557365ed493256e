"""How an API process hears of finished jobs: a broker fanout, or the store itself.

Each feed is one daemon thread per API process, started by the first wait (nothing
connects at import or build time) and woken for nothing else.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from kombu import Consumer, Queue

from predictq import presence, topology
from predictq.completions.waiters import Waiters
from predictq.connection import connect
from predictq.settings import Settings
from predictq.store import Store

log = logging.getLogger(__name__)

RETRY_S = 1.0
# A store feed re-reads this far behind its last read: a job's `updated_at` is stamped
# under the store's write lock, so completions appear in time order, give or take the
# clock's steps. What it reads twice is skipped (`_seen`).
OVERLAP_S = 0.25


class Feed:
    """A daemon thread that wakes `waiters` as jobs finish, until `stop()`."""

    def __init__(self, waiters: Waiters) -> None:
        self.waiters = waiters
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="completions-feed",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        raise NotImplementedError


class BrokerFeed(Feed):
    """On RabbitMQ: an exclusive, auto-deleted queue of this process bound to the
    completions fanout exchange; each message names the jobs a worker's batch finished
    (`announce`)."""

    def __init__(self, settings: Settings, waiters: Waiters) -> None:
        super().__init__(waiters)
        self.settings = settings
        self.connected = threading.Event()
        self.heard = 0  # completions announced to this process
        self.connections = 0  # how many times it has connected (1 while nothing failed)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                with connect(self.settings) as connection:
                    self._consume(connection)
            except Exception as exc:  # a broker outage: retry; waiters re-read meanwhile
                log.info("completions feed lost the broker, retrying in %g s: %s",
                         RETRY_S, exc)
                self.connected.clear()
                self.waiters.wake_all()
                self.stopping.wait(RETRY_S)

    def _consume(self, connection) -> None:
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        queue = Queue(f"{topology.completions_exchange(self.settings).name}."
                      f"{presence.owner_id()}",
                      topology.completions_exchange(self.settings),
                      exclusive=True, auto_delete=True, durable=False)
        with Consumer(channel, queues=[queue], callbacks=[self._on_message],
                      accept=["json"], no_ack=True):
            self.connections += 1
            self.connected.set()
            # Whatever finished while this feed was away was not heard: every waiter
            # reads the store once more.
            self.waiters.wake_all()
            while not self.stopping.is_set():
                # Before every read, not only when a read times out: under a steady
                # flow of announcements no read times out, no heartbeat went out, and
                # the broker dropped the connection every ~30 s (a 1 s stall of every
                # waiter each time).
                connection.heartbeat_check()
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=1.0)

    def _on_message(self, body: object, message: object) -> None:
        ids = body.get("ids") if isinstance(body, dict) else None
        if isinstance(ids, list):
            self.heard += len(ids)
            self.waiters.notify(tid for tid in ids if isinstance(tid, str))


class StoreFeed(Feed):
    """On the embedded defaults: reads the jobs finished since its last read, every
    `poll_s` while some request waits — one query per tick for the whole process,
    however many requests wait."""

    def __init__(self, store: Store, waiters: Waiters, poll_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(waiters)
        self.store = store
        self.poll_s = poll_s
        self.clock = clock
        self._seen: dict[str, float] = {}

    def _run(self) -> None:
        since = self.clock() - OVERLAP_S
        while not self.stopping.wait(self.poll_s):
            if not len(self.waiters):
                # Nobody waits: a request that starts waiting reads the store itself
                # first, so what finishes before it needs no announcing.
                since = self.clock() - OVERLAP_S
                self._seen.clear()
                continue
            started = self.clock()
            try:
                since = self.poll(since, started)
            except Exception as exc:  # the store unreachable: waiters time out or retry
                log.info("completions feed cannot read the store: %s", exc)
                self.waiters.wake_all()
                self.stopping.wait(RETRY_S)

    def poll(self, since: float, now: float) -> float:
        """Announce the jobs finished at or after `since` not announced yet; return the
        next `since`."""
        fresh = []
        for tid, at in self.store.finished_since(since):
            if tid not in self._seen:
                self._seen[tid] = at
                fresh.append(tid)
        if fresh:
            self.waiters.notify(fresh)
        horizon = now - OVERLAP_S
        for tid in [t for t, at in self._seen.items() if at < horizon]:
            del self._seen[tid]  # older than the next read's window: cannot come again
        return horizon


def feed_for(settings: Settings, store: Store, waiters: Waiters) -> Feed:
    if settings.uses_embedded_broker:
        return StoreFeed(store, waiters, settings.wait_poll_ms / 1000)
    return BrokerFeed(settings, waiters)
