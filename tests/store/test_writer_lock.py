"""The lock file that queues SQLite writers across processes."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from predictq.errors import StoreUnavailable
from predictq.store.writer_lock import WriterLock


def test_a_second_writer_waits_for_the_first_then_goes_at_once(tmp_path):
    # Two instances hold two descriptors, as two processes would.
    first, second = WriterLock(tmp_path / "db.lock", 5), WriterLock(tmp_path / "db.lock", 5)
    order: list[str] = []
    released = threading.Event()

    def hold() -> None:
        with first.held():
            order.append("first in")
            released.wait(5)
            time.sleep(0.05)
            order.append("first out")

    t = threading.Thread(target=hold)
    t.start()
    while not order:
        time.sleep(0.001)
    released.set()
    with second.held():
        order.append("second in")
    t.join()
    assert order == ["first in", "first out", "second in"]


def test_a_writer_held_up_past_the_timeout_gets_store_unavailable(tmp_path):
    holder, waiter = WriterLock(tmp_path / "db.lock", 5), WriterLock(tmp_path / "db.lock", 0.1)
    with holder.held():
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="held"), waiter.held():
            pass
        assert 0.1 <= time.monotonic() - started < 2


def _try_lock(lock: WriterLock, result) -> None:
    lock.timeout = 0.05
    try:
        with lock.held():
            result.put("got it")
    except StoreUnavailable:
        result.put("held elsewhere")


def test_a_forked_child_does_not_share_its_parents_lock(tmp_path):
    lock = WriterLock(tmp_path / "db.lock", 5)
    with lock.held():
        ctx = multiprocessing.get_context("fork")
        result = ctx.Queue()
        # The child uses the parent's object: an inherited descriptor would share the
        # parent's lock and let the child in.
        child = ctx.Process(target=_try_lock, args=(lock, result))
        child.start()
        child.join(10)
        assert result.get(timeout=1) == "held elsewhere"
