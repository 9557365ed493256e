from __future__ import annotations

import pytest

from worker.batcher import MicroBatcher


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_flushes_when_full():
    b = MicroBatcher(3, wait_ms=1000, clock=Clock())
    for i in range(2):
        b.add(i)
    assert not b.due()
    b.add(2)
    assert b.due()
    assert b.take() == [0, 1, 2] and len(b) == 0


def test_flushes_when_the_first_message_waited_long_enough():
    clock = Clock()
    b = MicroBatcher(10, wait_ms=50, clock=clock)
    b.add("a")
    clock.now += 0.03
    assert not b.due()
    assert b.time_left(idle=1.0) == pytest.approx(0.02)
    clock.now += 0.025
    assert b.due()


def test_size_one_is_one_by_one():
    b = MicroBatcher(1, wait_ms=1000, clock=Clock())
    b.add("x")
    assert b.due()


def test_idle_waits_the_idle_time():
    assert MicroBatcher(4, 5, clock=Clock()).time_left(idle=1.0) == 1.0


@pytest.mark.parametrize(("size", "wait"), [(0, 5), (1, -1)])
def test_rejects_nonsense(size, wait):
    with pytest.raises(ValueError):
        MicroBatcher(size, wait)
