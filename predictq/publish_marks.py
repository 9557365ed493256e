"""Marking jobs (and sensor batches) published, many per store write, off the request path.

The `published` flag only tells the sweeper not to publish a job again; a 202 does not
depend on it (the store write before the publish is the commitment). Writing it in its
own transaction per request doubled the store writes of a submission, and those
writes queue on one lock. So requests hand the tracking ids here and a background
thread writes them in one transaction every `INTERVAL_S`.

A mark lost to a crash costs one duplicate message, never a job: the sweeper publishes
the job again after `sweep_after_s` and the worker drops the duplicate (a job that is
already done or taken is not predicted twice). Workers also set the flag when they take
a job, so a job whose mark was lost is not republished once it is being processed. The
same holds for a sensor batch: a repeated wake-up finds the batch applied and changes
nothing (predictq.streams.processor).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from predictq.errors import StoreUnavailable

log = logging.getLogger(__name__)


K = TypeVar("K")


class PublishedMarks(Generic[K]):
    """`write(keys)` marks keys published in one store write: `store.mark_published`
    for jobs, `store.sensors.mark_batches_published` for sensor batches."""

    INTERVAL_S = 0.02

    def __init__(self, write: Callable[[list[K]], None], what: str = "job") -> None:
        self.write = write
        self.what = what
        self._pending: list[K] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False

    def add(self, keys: Iterable[K]) -> None:
        with self._cond:
            self._pending.extend(keys)
            self._ensure_thread()
            self._cond.notify()

    def flush(self) -> None:
        """Write every pending mark now (in the caller's thread)."""
        with self._cond:
            batch, self._pending = self._pending, []
        if batch:
            self._write(batch)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=5)
        self.flush()

    def _ensure_thread(self) -> None:
        # Started on first use, in the process that uses it: gunicorn forks its workers
        # after the app is built, and a thread does not survive a fork.
        if self._pid != os.getpid():
            self._pid, self._thread = os.getpid(), None
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="published-marks",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
            time.sleep(self.INTERVAL_S)  # let concurrent requests' ids join one write
            self.flush()

    def _write(self, batch: list[K]) -> None:
        try:
            self.write(batch)
        except StoreUnavailable as exc:
            # Not lost either way: unmarked ones are republished by the sweeper.
            log.info("could not mark %d %s(s) published, the sweeper will republish: %s",
                     len(batch), self.what, exc.message)
