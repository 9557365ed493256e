"""Waiting for jobs to become final: what `?wait=` and the event stream are built on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence

from predictq.completions.feeds import Feed, feed_for
from predictq.completions.waiters import Waiters
from predictq.jobs import Job
from predictq.settings import Settings
from predictq.store import Store

# A waiter reads the store at least this often even if it hears nothing: the safety net
# under a feed that missed an announcement.
REREAD_S = 5.0

Read = Callable[[Sequence[str]], list[Job]]


class Completions:
    """One per API process: its waiting requests and the feed that wakes them."""

    def __init__(self, settings: Settings, store: Store,
                 make_feed: Callable[[Settings, Store, Waiters], Feed] = feed_for) -> None:
        self.settings = settings
        self.store = store
        self.waiters = Waiters()
        self._make_feed = make_feed
        self._feed: Feed | None = None
        self._lock = threading.Lock()

    def wait(self, ids: Sequence[str], timeout: float, read: Read) -> list[Job]:
        """The jobs `ids` once all are final, or as they are when `timeout` runs out."""
        latest: list[Job] = []
        for latest, _ in self.follow(ids, timeout, read):  # noqa: B007 (the last one)
            pass
        return latest

    def follow(self, ids: Sequence[str], timeout: float,
               read: Read) -> Iterator[tuple[list[Job], list[Job]]]:
        """Yield (all jobs, the ones final since the last yield): at once, then each
        time more become final, until all are or `timeout` runs out. The first read
        happens after the watch is in place, so no completion falls in between."""
        deadline = time.monotonic() + timeout
        reported: set[str] = set()
        with self.waiters.watching(ids) as watch:
            self._ensure_feed()
            while True:
                jobs = read(ids)
                final = [j for j in jobs if j.status.is_final]
                yield jobs, [j for j in final if j.tracking_id not in reported]
                reported.update(j.tracking_id for j in final)
                left = deadline - time.monotonic()
                if len(final) == len(jobs) or left <= 0:
                    return
                watch.wait(min(left, REREAD_S))  # woken, or time to read anyway

    def _ensure_feed(self) -> None:
        if self._feed is None:
            with self._lock:
                if self._feed is None:
                    feed = self._make_feed(self.settings, self.store, self.waiters)
                    feed.start()
                    self._feed = feed

    def close(self) -> None:
        if self._feed is not None:
            self._feed.stop()
