"""SQLite-only promises: durability settings, many processes on one file, fork safety,
and lock or file trouble surfacing as StoreUnavailable."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable

import pytest

from predictq.errors import StoreUnavailable
from predictq.jobs import Job, Outcome, Status
from predictq.store import open_store
from predictq.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStore, _upgrade, _write
from predictq.streams.records import Reading

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


def _mark_each(args: tuple[str, list[str]]) -> list[dict[str, int]]:
    """One spawned process: mark every job processing, one call (one transaction) each."""
    url, tracking_ids = args
    assert _start_together is not None
    _start_together.wait(timeout=60)
    with open_store(url) as store:
        return [store.mark_processing([tid]) for tid in tracking_ids]


def test_processes_marking_the_same_jobs_both_count(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    jobs = [Job(model="language", input={"i": i}) for i in range(100)]
    with open_store(url) as store:
        store.create(jobs)
    ids = [j.tracking_id for j in jobs]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    with ctx.Pool(2, initializer=_init_writer, initargs=(barrier,)) as pool:
        answers = pool.map(_mark_each, [(url, ids)] * 2, chunksize=1)

    with open_store(url) as store:
        assert [j.attempts for j in store.get_many(ids)] == [2] * len(ids)
    # Each process saw its own count: one of them 1, the other 2, for every job.
    seen = {tid: sorted(a[tid] for mine in answers for a in mine if tid in a) for tid in ids}
    assert seen == {tid: [1, 2] for tid in ids}


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


def _plans(store: SqliteStore, call: Callable[[], object]) -> list[str]:
    """The query plan of every statement but BEGIN and COMMIT that `call` runs."""
    conn = store._connection()
    executed: list[str] = []
    conn.set_trace_callback(executed.append)  # receives the SQL with its values bound
    call()
    conn.set_trace_callback(None)
    return [
        str(conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
        for sql in executed if sql.split()[0] in ("SELECT", "UPDATE")
    ]


def test_mark_processing_looks_jobs_up_by_id(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    plans = _plans(store, lambda: store.mark_processing(["a", "b"]))
    assert len(plans) == 2
    for plan in plans:  # not a walk over every queued job
        assert "sqlite_autoindex_jobs_1 (tracking_id=?)" in plan
    store.close()


def test_the_claiming_sweep_reads_its_partial_index_in_order(tmp_path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    claim, update, read_back = _plans(store, lambda: store.sweep(stale_before=0.0, limit=10))
    assert "jobs_sweep" in claim
    assert "TEMP B-TREE" not in claim  # already in updated_at order: LIMIT stops early
    assert "sqlite_autoindex_jobs_1 (tracking_id=?)" in update
    assert "sqlite_autoindex_jobs_1 (tracking_id=?)" in read_back
    store.close()


# The schema as version 1 wrote it, before `attempts` and the jobs_sweep index.
V1_SCHEMA = """
CREATE TABLE jobs (
    tracking_id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    model_version TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_status_created ON jobs (status, created_at);
CREATE INDEX jobs_model_status_created ON jobs (model, status, created_at);
CREATE INDEX jobs_updated ON jobs (updated_at);
CREATE INDEX jobs_unpublished ON jobs (created_at) WHERE published = 0 AND status = 'queued';
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT,
    tracking_ids TEXT NOT NULL,
    created_at REAL NOT NULL
);
INSERT INTO jobs VALUES
    ('old-queued', 'language', '{"text":"hi"}', 'queued', NULL, NULL, NULL, 10.0, 10.0, 1),
    ('old-busy', 'language', '{"text":"yo"}', 'processing', NULL, NULL, NULL, 11.0, 12.0, 1),
    ('old-done', 'language', '{"text":"ok"}', 'done', '{"label":"en"}', NULL, 'v1', 9.0, 13.0,
     1);
PRAGMA user_version = 1;
"""


def _version_1_file(path) -> None:
    raw = sqlite3.connect(path)
    raw.executescript(V1_SCHEMA)
    raw.close()


def _schema(path) -> tuple[list[tuple], list[tuple], int]:
    """Columns, indexes (with their SQL) and user_version, comparable between files."""
    raw = sqlite3.connect(path)
    columns = raw.execute("PRAGMA table_info(jobs)").fetchall()
    indexes = [
        (name, " ".join((sql or "").split()))  # autoindexes have no SQL
        for name, sql in raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
    ]
    version = raw.execute("PRAGMA user_version").fetchone()[0]
    raw.close()
    return columns, indexes, version


def ids_of(jobs: list[Job]) -> list[str]:
    return [j.tracking_id for j in jobs]


def test_a_version_1_file_is_migrated_and_keeps_its_jobs(tmp_path) -> None:
    path = tmp_path / "old.db"
    _version_1_file(path)
    store = SqliteStore(path)

    old = store.get("old-done")
    assert (old.status, old.result, old.model_version, old.attempts) == (
        Status.DONE, {"label": "en"}, "v1", 0)
    assert [j.attempts for j in store.get_many(["old-queued", "old-busy"])] == [0, 0]
    assert store.mark_processing(["old-queued", "old-busy", "old-done"]) == {
        "old-queued": 1, "old-busy": 1}
    assert ids_of(store.sweep(stale_before=time.time())) == ["old-queued", "old-busy"]
    store.close()

    fresh = tmp_path / "fresh.db"
    SqliteStore(fresh).ping()
    assert _schema(path) == _schema(fresh)  # same columns, same indexes, same version
    assert _schema(path)[2] == SCHEMA_VERSION == 6


def test_a_version_2_file_gains_the_sensor_tables_and_keeps_its_jobs(tmp_path) -> None:
    path = tmp_path / "old.db"
    _version_1_file(path)
    raw = sqlite3.connect(path)
    for statement in MIGRATIONS[1]:  # version 2: jobs with attempts, no sensors yet
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 2")
    raw.commit()
    assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sensors'"
                       ).fetchone() == (0,)
    raw.close()

    store = SqliteStore(path)
    assert store.get("old-done").result == {"label": "en"}
    assert store.sensors.append("s1", [Reading(1.0, 2.0)]).batch.n == 1
    assert store.sensors.sensor("s1").readings == 1
    store.close()

    fresh = tmp_path / "fresh.db"
    SqliteStore(fresh).ping()
    assert _schema(path) == _schema(fresh)
    assert _schema(path)[2] == SCHEMA_VERSION

    def tables(p) -> list[tuple]:
        conn = sqlite3.connect(p)
        names = ("sensors", "sensor_batches", "events", "alerts")
        found = [conn.execute(f"PRAGMA table_info({name})").fetchall() for name in names]
        conn.close()
        return found

    assert tables(path) == tables(fresh)
    assert all(tables(path))


def test_a_version_3_file_gains_the_model_lifecycle_tables_and_keeps_its_data(
        tmp_path) -> None:
    path = tmp_path / "old.db"
    _version_1_file(path)
    raw = sqlite3.connect(path)
    for step in (1, 2):  # version 3: jobs with attempts and the sensor tables
        for statement in MIGRATIONS[step]:
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 3")
    raw.commit()
    assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'feedback'"
                       ).fetchone() == (0,)
    raw.close()

    store = SqliteStore(path)
    assert store.get("old-done").result == {"label": "en"}
    assert store.models.serving() == {}
    assert store.models.prediction_counts("language")[0].version == "v1"
    store.close()
    fresh = tmp_path / "fresh.db"
    SqliteStore(fresh).ping()
    assert _schema(path) == _schema(fresh)



def test_a_version_5_file_gains_job_owners_and_the_key_table(tmp_path) -> None:
    from predictq.store.keys import ApiKey

    path = tmp_path / "old.db"
    _version_1_file(path)
    raw = sqlite3.connect(path)
    for step in (1, 2, 3, 4):  # version 5: everything before API keys
        for statement in MIGRATIONS[step]:
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 5")
    raw.commit()
    raw.close()

    store = SqliteStore(path)
    old = store.get("old-done")
    assert (old.result, old.owner) == ({"label": "en"}, None)  # readable with read-all only
    store.create([Job(model="language", input={"text": "x"}, tracking_id="new",
                      owner="k1")])
    assert store.get("new").owner == "k1"
    store.keys.add(ApiKey("k1", "h" * 64, ("submit",), created_at=1.0))
    assert store.keys.by_hash("h" * 64).key_id == "k1"
    store.close()
    fresh = tmp_path / "fresh.db"
    SqliteStore(fresh).ping()
    assert _schema(path) == _schema(fresh)
    assert _schema(path)[2] == SCHEMA_VERSION == 6

def test_an_upgrade_that_lost_the_race_changes_nothing(tmp_path) -> None:
    path = tmp_path / "old.db"
    _version_1_file(path)
    late = sqlite3.connect(path, isolation_level=None)
    assert late.execute("PRAGMA user_version").fetchone()[0] == 1  # it saw version 1...
    SqliteStore(path).ping()  # ...then another process migrated the file

    with _write(late):
        _upgrade(late)  # would fail on a second ADD COLUMN without its own re-check
    late.close()
    fresh = tmp_path / "fresh.db"
    SqliteStore(fresh).ping()
    assert _schema(path) == _schema(fresh)


def test_a_second_store_on_the_same_file_sees_the_data(tmp_path) -> None:
    first = SqliteStore(tmp_path / "jobs.db")
    job = Job(model="language", input={"text": "x"})
    first.create([job])
    second = SqliteStore(os.fspath(tmp_path / "jobs.db"))
    assert second.get(job.tracking_id) == job
    first.close()
    second.close()
