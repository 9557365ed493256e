"""SQLite-only promises: durability settings, many processes on one file, fork safety,
and lock or file trouble surfacing as StoreUnavailable."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading

import pytest

from predictq.errors import StoreUnavailable
from predictq.jobs import Job, Outcome, Status
from predictq.store import open_store
from predictq.store.sqlite import SqliteStore

_start_together: multiprocessing.synchronize.Barrier | None = None


def _init_writer(barrier: multiprocessing.synchronize.Barrier) -> None:
    global _start_together
    _start_together = barrier


def _write_jobs(args: tuple[str, int]) -> int:
    """One spawned process: create, start and finish 200 jobs one transaction at a time."""
    url, worker = args
    assert _start_together is not None
    _start_together.wait(timeout=60)
    finished = 0
    with open_store(url) as store:
        for i in range(200):
            (job,), _ = store.create([Job(model="language", input={"w": worker, "i": i})])
            store.mark_published([job.tracking_id])
            store.mark_processing([job.tracking_id])
            finished += len(store.finish(
                [Outcome(job.tracking_id, Status.DONE, result={"i": i}, model_version="v")]))
    return finished


@pytest.mark.slow
def test_processes_write_one_file_at_once(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # a fresh file: they race to create it
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    with ctx.Pool(4, initializer=_init_writer, initargs=(barrier,)) as pool:
        finished = pool.map(_write_jobs, [(url, w) for w in range(4)], chunksize=1)

    assert finished == [200] * 4
    with open_store(url) as store:
        assert store.count_by_status() == {
            Status.QUEUED: 0, Status.PROCESSING: 0, Status.DONE: 800, Status.FAILED: 0}
        assert len(store.list_recent(limit=1000)) == 800
        assert store.unpublished(older_than=float("inf")) == []


def test_file_is_in_wal_mode_with_full_sync(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    store.ping()
    raw = sqlite3.connect(tmp_path / "jobs.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    # synchronous is per connection, so ask the store's own.
    assert store._connection().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_each_thread_and_each_forked_child_gets_its_own_connection(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    store.ping()
    mine = id(store._connection())
    in_thread: list[int] = []
    thread = threading.Thread(target=lambda: in_thread.append(id(store._connection())))
    thread.start()
    thread.join(timeout=30)
    assert in_thread and in_thread[0] != mine

    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()

    def child() -> None:
        store.create([Job(model="language", input={"text": "from the child"})])
        child_end.send(id(store._connection()))

    process = ctx.Process(target=child)
    process.start()
    process.join(timeout=30)
    assert process.exitcode == 0
    assert parent_end.recv() != mine
    assert id(store._connection()) == mine
    assert store.count_by_status()[Status.QUEUED] == 1  # the child's write is visible
    store.close()


def test_a_held_write_lock_becomes_store_unavailable(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db", busy_timeout=0.2)
    store.ping()
    holder = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.create([Job(model="language", input={"text": "x"})])
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert store.count_by_status()[Status.QUEUED] == 0  # readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.create([Job(model="language", input={"text": "x"})])  # and it recovers
    store.close()


def test_an_unopenable_file_becomes_store_unavailable(tmp_path) -> None:
    (tmp_path / "a-directory.db").mkdir()
    store = SqliteStore(tmp_path / "a-directory.db")
    with pytest.raises(StoreUnavailable):
        store.ping()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(StoreUnavailable):
        SqliteStore(tmp_path / "a-file" / "sub" / "x.db").ping()  # mkdir fails


def test_a_programming_error_is_not_disguised_as_unavailability(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    store.ping()
    store._connection().execute("DROP TABLE jobs")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        store.get("x")
    store.close()


def test_the_sweeper_query_uses_the_partial_index(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    conn = store._connection()
    executed: list[str] = []
    conn.set_trace_callback(executed.append)  # receives the SQL with its values bound
    store.unpublished(older_than=0.0, limit=10)
    conn.set_trace_callback(None)
    plan = conn.execute("EXPLAIN QUERY PLAN " + executed[-1]).fetchall()
    assert "jobs_unpublished" in str(plan)
    store.close()


def test_a_second_store_on_the_same_file_sees_the_data(tmp_path) -> None:
    first = SqliteStore(tmp_path / "jobs.db")
    job = Job(model="language", input={"text": "x"})
    first.create([job])
    second = SqliteStore(os.fspath(tmp_path / "jobs.db"))
    assert second.get(job.tracking_id) == job
    first.close()
    second.close()
