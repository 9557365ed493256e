"""Waiting for jobs to become final (issue 15): the waiters, the store's change feed
and the wait loop, without a web server."""

from __future__ import annotations

import threading
import time

from predictq.completions.feeds import StoreFeed
from predictq.completions.waiters import Waiters
from predictq.completions.waiting import Completions
from predictq.jobs import Job, Outcome, Status
from predictq.store import open_store


def test_a_notification_wakes_only_the_watches_on_its_ids():
    waiters = Waiters()
    with waiters.watching(["a", "b"]) as ab, waiters.watching(["c"]) as c:
        assert len(waiters) == 3
        assert waiters.notify(["b", "zzz"]) == 1
        assert ab.wait(0) is True and c.wait(0) is False
        assert ab.wait(0) is False  # re-armed after waking
    assert len(waiters) == 0
    assert waiters.notify(["a"]) == 0


def test_a_wake_between_reads_is_not_lost():
    waiters = Waiters()
    with waiters.watching(["a"]) as watch:
        waiters.notify(["a"])  # arrives while the waiter is reading the store
        started = time.monotonic()
        assert watch.wait(5) is True
        assert time.monotonic() - started < 1


def store_with(tmp_path, n: int):
    store = open_store(f"sqlite:///{tmp_path}/feed.db")
    jobs = [Job(model="language", input={"text": str(i)}) for i in range(n)]
    store.create(jobs)
    return store, jobs


def finish(store, jobs, status=Status.DONE):
    store.finish([Outcome(j.tracking_id, status, result={"label": "en"} if
                          status is Status.DONE else None,
                          error=None if status is Status.DONE else "no")
                  for j in jobs])


def test_the_store_feed_announces_each_finished_job_once(tmp_path):
    store, jobs = store_with(tmp_path, 4)
    waiters = Waiters()
    feed = StoreFeed(store, waiters, poll_s=0.01)
    with waiters.watching([j.tracking_id for j in jobs]) as watch:
        since = time.time() - 1
        finish(store, jobs[:2])
        since = feed.poll(since, time.time())
        assert watch.wait(0)
        # Read again over the overlap: nothing new, nobody woken.
        since = feed.poll(since, time.time())
        assert not watch.wait(0)
        finish(store, jobs[2:3], Status.FAILED)
        feed.poll(since, time.time())
        assert watch.wait(0)
    store.close()


def store_completions(store) -> Completions:
    return Completions(None, store, make_feed=lambda _, st, waiters: StoreFeed(st, waiters,
                                                                              0.005))


def test_wait_returns_as_soon_as_the_job_is_final(tmp_path):
    store, jobs = store_with(tmp_path, 1)
    completions = store_completions(store)
    tid = jobs[0].tracking_id
    threading.Timer(0.3, finish, (store, jobs)).start()
    started = time.monotonic()
    [job] = completions.wait([tid], 10, store.get_many)
    waited = time.monotonic() - started
    assert job.status is Status.DONE
    assert 0.25 < waited < 5  # woken by the feed, not by the 10 s timeout
    completions.close()
    store.close()


def test_wait_gives_the_current_state_when_the_time_runs_out(tmp_path):
    store, jobs = store_with(tmp_path, 2)
    completions = store_completions(store)
    finish(store, jobs[:1])
    started = time.monotonic()
    got = completions.wait([j.tracking_id for j in jobs], 0.3, store.get_many)
    assert 0.25 < time.monotonic() - started < 3
    assert [j.status for j in got] == [Status.DONE, Status.QUEUED]
    completions.close()
    store.close()


def test_follow_yields_jobs_as_they_become_final(tmp_path):
    store, jobs = store_with(tmp_path, 3)
    completions = store_completions(store)
    finish(store, jobs[:1])
    threading.Timer(0.2, finish, (store, jobs[1:2])).start()
    threading.Timer(0.4, finish, (store, jobs[2:], Status.FAILED)).start()
    seen = [[j.tracking_id for j in new]
            for _, new in completions.follow([j.tracking_id for j in jobs], 10,
                                             store.get_many) if new]
    assert sorted(t for ids in seen for t in ids) == sorted(j.tracking_id for j in jobs)
    assert seen[0] == [jobs[0].tracking_id]
    completions.close()
    store.close()
