"""The requests of one API process that wait for jobs to become final."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager


class Watch:
    """One waiting request: woken when any job it watches may have become final."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = tuple(ids)
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until woken or `timeout` passes; True if woken. Re-arms itself, so a
        wake that comes while the caller reads the store is not lost but ends the
        next wait at once."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class Waiters:
    """tracking id -> the watches waiting on it; thread-safe (and greenlet-safe under
    gevent, whose monkey-patching turns these locks into greenlet locks)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, set[Watch]] = {}

    @contextmanager
    def watching(self, ids: Sequence[str]) -> Iterator[Watch]:
        watch = Watch(ids)
        with self._lock:
            for tid in watch.ids:
                self._by_id.setdefault(tid, set()).add(watch)
        try:
            yield watch
        finally:
            with self._lock:
                for tid in watch.ids:
                    watches = self._by_id.get(tid)
                    if watches is not None:
                        watches.discard(watch)
                        if not watches:
                            del self._by_id[tid]

    def notify(self, ids: Iterable[str]) -> int:
        """Wake the watches on any of `ids`; return how many were woken."""
        with self._lock:
            woken = {w for tid in ids for w in self._by_id.get(tid, ())}
        for watch in woken:
            watch.wake()
        return len(woken)

    def wake_all(self) -> None:
        with self._lock:
            woken = {w for watches in self._by_id.values() for w in watches}
        for watch in woken:
            watch.wake()

    def __len__(self) -> int:
        """How many jobs are watched."""
        with self._lock:
            return len(self._by_id)
