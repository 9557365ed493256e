"""Group commit: concurrent callers share one round of expensive work.

A store transaction costs an fsync and a broker publish costs a confirm round trip,
whether it carries one submission or forty. Under load, the threads of a process each
paying that price in turn, behind one lock, is what limits intake. Here the first
caller to find nothing running becomes the leader and runs the work of everyone
waiting in one batch; callers arriving meanwhile wait for that batch to end, and the
first of them whose work is still undone leads the next one. Nobody waits on a timer,
so a lone caller pays nothing extra.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Runs a batch of items; returns one outcome per item, in order: a result, or the
#: exception that item's caller should see.
BatchRunner = Callable[[Sequence[T]], Sequence[object]]


class _Slot:
    __slots__ = ("done", "item", "outcome", "wake")

    def __init__(self, item: object) -> None:
        self.item = item
        self.done = False
        self.outcome: object = None
        # Held until this caller is told something: its outcome is in, or it leads the
        # next batch. A bare lock per caller, not one condition for all, so a finished
        # batch wakes its own callers only, not every waiter to find it must wait on.
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommit(Generic[T, R]):
    def __init__(self, run_batch: BatchRunner) -> None:
        self._run_batch = run_batch
        self._lock = threading.Lock()
        self._waiting: list[_Slot] = []
        self._running = False

    def submit(self, item: T) -> R:
        """Run `item` in a batch (perhaps with others) and return its outcome."""
        slot = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            lead = not self._running
            self._running = True
        if not lead:
            slot.wake.acquire()  # done, or the next leader
        if not slot.done:
            with self._lock:
                batch, self._waiting = self._waiting, []
            self._lead(batch)
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome  # type: ignore[return-value]

    def _lead(self, batch: list[_Slot]) -> None:
        try:
            outcomes: Sequence[object] = self._run_batch([s.item for s in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} items")
        except BaseException as exc:  # every caller in the batch hears why it failed
            outcomes = [exc] * len(batch)
        for s, outcome in zip(batch, outcomes, strict=True):
            s.outcome, s.done = outcome, True
            s.wake.release()  # the leader's own lock too: it is held, and nobody waits
        with self._lock:
            # Whoever arrived meanwhile leads the next batch; the rest of them join it.
            if self._waiting:
                self._waiting[0].wake.release()
            else:
                self._running = False
