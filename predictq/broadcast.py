"""One value computed per interval for every subscriber of a process: what a live page
follows instead of each browser polling for its own copy (the dashboard's samples).

A thread (a greenlet under gevent) produces while anyone subscribes, and stops when
the last one leaves; however many pages watch, the work is one `produce()` per
interval per API process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Broadcast(Generic[T]):
    def __init__(self, produce: Callable[[], T], every_s: float) -> None:
        self.produce = produce
        self.every_s = every_s
        self._cond = threading.Condition()
        self._subscribers = 0
        self._value: T | None = None
        self._serial = 0  # how many values have been produced
        self._running = False
        self.closed = threading.Event()

    def subscribe(self, timeout_s: float) -> Iterator[T]:
        """Yield each new value, the first as soon as there is one, for `timeout_s`."""
        with self._cond:
            self._subscribers += 1
            seen = 0  # the current value is fresh while the producer runs
            if not self._running:
                self._running = True
                seen = self._serial  # a value from before it stopped is stale: wait
                threading.Thread(target=self._run, name="broadcast", daemon=True).start()
        try:
            deadline = time.monotonic() + timeout_s
            while not self.closed.is_set():
                with self._cond:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    if self._serial == seen:
                        self._cond.wait(min(left, self.every_s * 2))
                    if self._serial == seen:
                        continue
                    seen, value = self._serial, self._value
                yield value  # type: ignore[misc]
        finally:
            with self._cond:
                self._subscribers -= 1

    def _run(self) -> None:
        while not self.closed.is_set():
            with self._cond:
                if self._subscribers == 0:
                    self._running = False
                    self._value = None  # stale from now on; an idle broadcast holds nothing
                    return
            try:
                value = self.produce()
            except Exception:  # a sample that fails is skipped; the next one may not
                log.warning("a broadcast value could not be produced", exc_info=True)
            else:
                with self._cond:
                    self._value, self._serial = value, self._serial + 1
                    self._cond.notify_all()
            self.closed.wait(self.every_s)

    def close(self) -> None:
        self.closed.set()
        with self._cond:
            self._cond.notify_all()


_SHARED_LOCK = threading.Lock()


def shared(registry: dict[str, Broadcast], key: str, produce: Callable[[], T],
           every_s: float) -> Broadcast[T]:
    """The broadcast `key` of `registry` (e.g. one per watched sensor in an API
    process), made on first use; idle, it holds no value."""
    with _SHARED_LOCK:
        if key not in registry:
            registry[key] = Broadcast(produce, every_s)
        return registry[key]
