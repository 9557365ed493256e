import threading
import time

import pytest

from predictq.group_commit import GroupCommit


def test_a_lone_caller_runs_its_own_batch():
    batches = []
    group = GroupCommit(lambda items: batches.append(list(items)) or [i * 2 for i in items])
    assert group.submit(21) == 42
    assert batches == [[21]]


def test_callers_arriving_during_a_batch_share_the_next_one():
    batches = []
    release = threading.Event()

    def run(items):
        batches.append(list(items))
        if len(batches) == 1:
            release.wait(5)  # hold the first batch while the others queue up
        return [i + 100 for i in items]

    group = GroupCommit(run)
    results = {}

    def call(i):
        results[i] = group.submit(i)

    first = threading.Thread(target=call, args=(0,))
    first.start()
    while not batches:
        time.sleep(0.001)
    others = [threading.Thread(target=call, args=(i,)) for i in range(1, 6)]
    for t in others:
        t.start()
    time.sleep(0.2)  # all five are waiting behind the first batch
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert results == {i: i + 100 for i in range(6)}
    assert batches[0] == [0] and sorted(batches[1]) == [1, 2, 3, 4, 5] and len(batches) == 2


def test_an_item_failure_reaches_only_its_caller():
    group = GroupCommit(lambda items: [ValueError(i) if i < 0 else i for i in items])
    with pytest.raises(ValueError):
        group.submit(-1)
    assert group.submit(3) == 3


def test_a_failed_batch_fails_every_caller_and_the_next_batch_runs():
    calls = []

    def run(items):
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("down")
        return list(items)

    group = GroupCommit(run)
    with pytest.raises(ConnectionError):
        group.submit(1)
    assert group.submit(2) == 2


def test_many_callers_each_get_their_own_outcome_and_nobody_is_left_waiting():
    running = []

    def run(items):
        running.append(len(items))
        assert len(running) == 1, "two batches ran at once"
        time.sleep(0.0005)
        running.pop()
        return [i * 3 for i in items]

    group = GroupCommit(run)
    results: dict[int, int] = {}

    def call(base):
        for i in range(base, base + 200):
            results[i] = group.submit(i)

    threads = [threading.Thread(target=call, args=(k * 1000,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert results == {k * 1000 + i: (k * 1000 + i) * 3 for k in range(16) for i in range(200)}
