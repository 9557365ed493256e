"""A lock file that queues the processes writing one SQLite file.

SQLite's busy handler makes a writer that finds the file locked sleep 1, 2, 5, 10, …
ms before it looks again. Under steady writes from several processes (the API's
gunicorn processes and the workers under `predictq up`) those sleeps became the
latency tail: most submissions took 20 ms, some 300–900 ms. Taking this lock before
`BEGIN IMMEDIATE` makes a writer wait for the one ahead of it with sub-millisecond
polls instead, so SQLite's own lock is free whenever a writer asks for it.

The lock is an aid, not what keeps the data consistent: SQLite's lock still does
that, for writers that do not take this one too (an older predictq, the sqlite3
shell).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from predictq.errors import StoreUnavailable

_POLLS_S = (0.0002, 0.0005, 0.001)  # then every 1 ms until the timeout


class WriterLock:
    """An exclusive `flock` on `<path>`, opened once per process."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None
        self._pid = 0
        self._open_lock = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        fd = self._descriptor()
        deadline = time.monotonic() + self.timeout
        polls = iter(_POLLS_S)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"another process has held {self.path} for over "
                        f"{self.timeout:g} s") from None
                time.sleep(next(polls, _POLLS_S[-1]))
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._open_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None

    def _descriptor(self) -> int:
        # A descriptor inherited across fork() shares its lock with the parent's: each
        # process opens its own.
        with self._open_lock:
            if self._fd is None or self._pid != os.getpid():
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                self._pid = os.getpid()
            return self._fd
