"""SQLite job store: the embedded default, shared by API and worker processes on one host.

Several processes, each with several threads, write one file at once. WAL lets readers
run beside the single writer; every write transaction starts with BEGIN IMMEDIATE so
it queues on the busy timeout instead of failing when it later tries to upgrade a read
lock. `synchronous=FULL` because in WAL mode NORMAL may lose the last commits on power
loss, and a 202 promises the submission is durable. The threads of one process share
their write transactions (predictq.group_commit): one fsync and one turn at the lock
for everyone waiting, instead of one each; the processes queue for the file on a lock
file (predictq.store.writer_lock) rather than in SQLite's sleeping busy handler.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from predictq.group_commit import GroupCommit
from predictq.jobs import Job, Outcome, Status
from predictq.native_threads import thread_local
from predictq.store.base import FINAL_STATUSES, Store, conflict, final_outcomes
from predictq.store.latency import SqliteLatency
from predictq.store.sqlite_callbacks import SqliteCallbacks
from predictq.store.sqlite_errors import translated as _translated
from predictq.store.sqlite_keys import KEY_SCHEMA, SqliteKeys
from predictq.store.sqlite_models import MODEL_SCHEMA, SqliteModels
from predictq.store.sqlite_sensors import SENSOR_SCHEMA, SqliteSensors
from predictq.store.sqlite_service_alerts import SqliteServiceAlerts
from predictq.store.writer_lock import WriterLock

SCHEMA_VERSION = 6

R = TypeVar("R")

# The sweeper's work: processing jobs and unpublished queued ones, by lease age. Partial
# like jobs_unpublished, so it holds only jobs in flight, never the finished history.
SWEEP_INDEX = """CREATE INDEX IF NOT EXISTS jobs_sweep ON jobs (updated_at)
    WHERE status = 'processing' OR (status = 'queued' AND published = 0)"""

# Retention forgets Idempotency-Keys oldest first, a bounded batch at a time.
RETENTION_INDEX = "CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at)"

# A fresh file gets all of it at once.
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS jobs (
        tracking_id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        result TEXT,
        error TEXT,
        model_version TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        published INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        owner TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created_at)",
    "CREATE INDEX IF NOT EXISTS jobs_model_status_created ON jobs (model, status, created_at)",
    "CREATE INDEX IF NOT EXISTS jobs_updated ON jobs (updated_at)",
    # Partial: the sweeper's backlog is tiny next to the table, so the index stays tiny.
    """CREATE INDEX IF NOT EXISTS jobs_unpublished ON jobs (created_at)
        WHERE published = 0 AND status = 'queued'""",
    """CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY,
        request_hash TEXT,
        tracking_ids TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
    SWEEP_INDEX,
    *SENSOR_SCHEMA,
    *MODEL_SCHEMA,
    RETENTION_INDEX,
    *KEY_SCHEMA,
)

# Version 6: the API key that submitted a job (NULL: before keys, or keys off).
OWNER_COLUMN = "ALTER TABLE jobs ADD COLUMN owner TEXT"

# What brings a file at version N (the key) up to N + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0", SWEEP_INDEX),
    2: SENSOR_SCHEMA,
    3: MODEL_SCHEMA,
    4: (RETENTION_INDEX,),
    5: (OWNER_COLUMN, *KEY_SCHEMA),
}

COLUMNS = (
    "tracking_id, model, input, status, result, error, model_version, "
    "created_at, updated_at, published, attempts, owner"
)

# Connections a forked child inherited. SQLite forbids using them after fork() and
# closing one counts as using it (it may checkpoint and unlock the parent's WAL), so
# the child keeps them referenced and never lets them close.
_INHERITED: list[sqlite3.Connection] = []


class _Connection(sqlite3.Connection):
    """A connection that remembers its process (plain ones take no attributes)."""

    pid: int
    generation: int


class SqliteStore(Store):
    """A store in one SQLite file, with one connection per thread and process.

    `busy_timeout` is how long a write waits for another writer before giving up
    with `StoreUnavailable`.
    """

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = thread_local()  # per OS thread, also under gevent
        self._lock = threading.Lock()
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._generation = 0
        self._group: GroupCommit[Callable[[sqlite3.Connection], Any], Any] = GroupCommit(
            self._run_ops)
        self._writer = WriterLock(self.path.with_name(self.path.name + ".lock"), busy_timeout)
        self.sensors = SqliteSensors(self)
        self.models = SqliteModels(self)
        self.service_alerts = SqliteServiceAlerts(self)
        self.latency = SqliteLatency(self)
        self.callbacks = SqliteCallbacks(self)
        self.keys = SqliteKeys(self)

    # -- connections --------------------------------------------------------------

    def _connection(self) -> _Connection:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            if conn.pid == os.getpid() and conn.generation == self._generation:
                return conn
            if conn.pid != os.getpid():
                _INHERITED.append(conn)
        conn = self._connect()
        self._local.conn = conn
        return conn

    def _connect(self) -> _Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,  # we issue BEGIN IMMEDIATE ourselves
            check_same_thread=False,  # only so close() may close other threads' ones
            factory=_Connection,
        )
        try:
            self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        conn.pid = os.getpid()
        with self._lock:
            conn.generation = self._generation
            self._open.add(conn)
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL needs an exclusive lock and SQLite answers BUSY
        # at once instead of calling the busy handler, so processes that open a fresh
        # file together (API and workers under `predictq up`) retry here themselves.
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.005
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                if _version(conn) < SCHEMA_VERSION:
                    with _write(conn):
                        _upgrade(conn)
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _commit(self, op: Callable[[sqlite3.Connection], R]) -> R:
        """Run `op` in a write transaction, shared with other threads' concurrent ones.

        Each op runs under its own savepoint, so one that raises (a duplicate id, an
        idempotency conflict) is undone alone and its caller alone sees the error.
        """
        return self._group.submit(op)

    def _run_ops(self, ops: Sequence[Callable[[sqlite3.Connection], Any]]) -> list[Any]:
        conn = self._connection()
        outcomes: list[Any] = []
        with self._writer.held(), _write(conn):
            for op in ops:
                conn.execute("SAVEPOINT op")
                try:
                    outcomes.append(op(conn))
                except sqlite3.OperationalError:
                    raise  # the file or the connection is in trouble: the whole batch fails
                except Exception as exc:
                    conn.execute("ROLLBACK TO op")
                    outcomes.append(exc)
                conn.execute("RELEASE op")
        return outcomes

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection().execute(sql, params).fetchall()

    # -- writes -------------------------------------------------------------------

    @_translated()
    def create(
        self,
        jobs: Sequence[Job],
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> tuple[list[Job], bool]:
        rows = [_to_row(job) for job in jobs]
        ids = [job.tracking_id for job in jobs]
        if any(job.callback_url for job in jobs):
            self.callbacks.ensure()

        def op(conn: sqlite3.Connection) -> tuple[list[Job], bool]:
            if idempotency_key is not None:
                # Safe without a race: BEGIN IMMEDIATE holds the file's only write lock.
                seen = conn.execute(
                    "SELECT request_hash, tracking_ids FROM idempotency WHERE key = ?",
                    (idempotency_key,),
                ).fetchone()
                if seen is not None:
                    if seen[0] != request_hash:
                        raise conflict(idempotency_key)
                    return self._select(conn, json.loads(seen[1])), False
                conn.execute(
                    "INSERT INTO idempotency VALUES (?, ?, ?, ?)",
                    (idempotency_key, request_hash, json.dumps(ids), time.time()),
                )
            try:
                conn.executemany(f"INSERT INTO jobs ({COLUMNS}) VALUES ({_marks(12)})", rows)
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"a tracking id already exists: {exc}") from exc
            SqliteCallbacks.insert(conn, jobs)  # predictq.store.sqlite_callbacks
            return list(jobs), True

        return self._commit(op)

    @_translated()
    def mark_published(self, tracking_ids: Sequence[str]) -> None:
        self._commit(lambda conn: conn.executemany(
            "UPDATE jobs SET published = 1 WHERE tracking_id = ?",
            [(tid,) for tid in tracking_ids],
        ))

    @_translated()
    def republish_unfinished(self) -> int:
        return self._commit(lambda conn: conn.execute(
            "UPDATE jobs SET status = 'queued', published = 0"
            " WHERE status IN ('queued', 'processing')").rowcount)

    @_translated()
    def mark_processing(self, tracking_ids: Sequence[str]) -> dict[str, int]:
        listed = json.dumps(list(tracking_ids))
        # "NOT IN the final ones" rather than "IN ('queued', 'processing')": the planner
        # would take the latter to jobs_status_created and walk the whole backlog
        # instead of looking the ids up by primary key.
        def op(conn: sqlite3.Connection) -> dict[str, int]:
            # `attempts + 1` in SQL, under the write lock: no count is read stale.
            conn.execute(
                "UPDATE jobs SET status = 'processing', attempts = attempts + 1,"
                " published = 1, updated_at = ?"
                " WHERE tracking_id IN (SELECT value FROM json_each(?))"
                " AND status NOT IN ('done', 'failed')",
                (time.time(), listed),
            )
            # Still under the lock, the listed jobs not final are exactly the ones just
            # updated (RETURNING would do too, but needs SQLite 3.35).
            return dict(conn.execute(
                "SELECT tracking_id, attempts FROM jobs WHERE tracking_id IN"
                " (SELECT value FROM json_each(?)) AND status NOT IN ('done', 'failed')",
                (listed,),
            ).fetchall())

        return self._commit(op)

    @_translated()
    def finish(self, outcomes: Sequence[Outcome]) -> list[str]:
        outcomes = final_outcomes(outcomes)
        self.callbacks.ensure()  # its table must exist before a callback can be missed
        def op(conn: sqlite3.Connection) -> list[str]:
            # Stamped under the write lock, so finished jobs' times follow the order
            # they commit in: the change feed (`finished_since`) relies on it.
            now = time.time()
            # Read under the write lock, so nobody can finish these jobs in between.
            still_open = {
                row[0]
                for row in conn.execute(
                    "SELECT tracking_id FROM jobs WHERE tracking_id IN"
                    " (SELECT value FROM json_each(?)) AND status NOT IN ('done', 'failed')",
                    (json.dumps([o.tracking_id for o in outcomes]),),
                )
            }
            changing = [o for o in outcomes if o.tracking_id in still_open]
            conn.executemany(
                "UPDATE jobs SET status = ?, result = ?, error = ?, model_version = ?,"
                " updated_at = ? WHERE tracking_id = ? AND status NOT IN ('done', 'failed')",
                [
                    (Status(o.status).value, _dumps(o.result), o.error, o.model_version, now,
                     o.tracking_id)
                    for o in changing
                ],
            )
            # The same transaction makes their callbacks due: no final job without one.
            SqliteCallbacks.make_due(conn, [o.tracking_id for o in changing], now)
            return [o.tracking_id for o in changing]

        return self._commit(op)

    # -- reads --------------------------------------------------------------------

    @_translated()
    def get(self, tracking_id: str) -> Job | None:
        rows = self._query(f"SELECT {COLUMNS} FROM jobs WHERE tracking_id = ?", (tracking_id,))
        return _to_job(rows[0]) if rows else None

    @_translated()
    def get_many(self, tracking_ids: Sequence[str]) -> list[Job]:
        return self._select(self._connection(), tracking_ids)

    @staticmethod
    def _select(conn: sqlite3.Connection, tracking_ids: Sequence[str]) -> list[Job]:
        # json_each binds any number of ids as one parameter (no variable-count limit).
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM jobs WHERE tracking_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(tracking_ids)),),
        ).fetchall()
        found = {row[0]: _to_job(row) for row in rows}
        return [found[tid] for tid in tracking_ids if tid in found]

    @_translated()
    def list_recent(self, limit: int = 50, model: str | None = None) -> list[Job]:
        where, params = _model_filter(model)
        rows = self._query(
            f"SELECT {COLUMNS} FROM jobs {where} ORDER BY created_at DESC LIMIT ?",
            [*params, limit],
        )
        return [_to_job(row) for row in rows]

    @_translated()
    def count_by_status(self, model: str | None = None) -> dict[Status, int]:
        where, params = _model_filter(model)
        rows = self._query(f"SELECT status, COUNT(*) FROM jobs {where} GROUP BY status", params)
        counts = dict.fromkeys(Status, 0)
        counts.update({Status(status): n for status, n in rows})
        return counts

    @_translated()
    def oldest_created_at(self, status: Status, model: str | None = None) -> float | None:
        where, params = _model_filter(model, "status = ?")
        rows = self._query(f"SELECT MIN(created_at) FROM jobs {where}", [*params, status.value])
        return rows[0][0]

    @_translated()
    def count_created_since(self, since: float, model: str | None = None) -> int:
        where, params = _model_filter(model, "created_at >= ?")
        return self._query(f"SELECT COUNT(*) FROM jobs {where}", [*params, since])[0][0]

    @_translated()
    def count_finished_since(self, since: float, model: str | None = None) -> int:
        where, params = _model_filter(
            model, "status IN ('done', 'failed')", "updated_at >= ?"
        )
        return self._query(f"SELECT COUNT(*) FROM jobs {where}", [*params, since])[0][0]

    @_translated()
    def finished_since(self, since: float, limit: int = 10_000) -> list[tuple[str, float]]:
        return [(row[0], row[1]) for row in self._query(
            # `+status`: not by the status index, which would walk every finished job.
            "SELECT tracking_id, updated_at FROM jobs"
            " WHERE updated_at >= ? AND +status IN ('done', 'failed')"
            " ORDER BY updated_at LIMIT ?", [since, limit])]

    @_translated()
    def unpublished(self, older_than: float, limit: int = 500) -> list[Job]:
        # Without statistics the planner prefers (status, created_at), which walks the
        # whole queued backlog; the partial index holds only the few unpublished jobs.
        # It needs the literal conditions of its WHERE clause, not parameters.
        rows = self._query(
            f"SELECT {COLUMNS} FROM jobs INDEXED BY jobs_unpublished"
            " WHERE published = 0 AND status = 'queued'"
            " AND created_at <= ? ORDER BY created_at LIMIT ?",
            (older_than, limit),
        )
        return [_to_job(row) for row in rows]

    @_translated()
    def sweep(self, stale_before: float, limit: int = 500) -> list[Job]:
        if limit <= 0:  # a negative LIMIT would mean "no limit" to SQLite
            return []
        def op(conn: sqlite3.Connection) -> list[Job]:
            # Select and update under one write lock: a concurrent sweeper waits, then
            # finds these jobs' leases fresh. The WHERE repeats jobs_sweep's condition
            # word for word, which is what lets the planner use that partial index.
            claimed = [
                row[0]
                for row in conn.execute(
                    "SELECT tracking_id FROM jobs INDEXED BY jobs_sweep"
                    " WHERE (status = 'processing' OR (status = 'queued' AND published = 0))"
                    " AND updated_at <= ? ORDER BY updated_at LIMIT ?",
                    (stale_before, limit),
                )
            ]
            # One statement for both kinds: for an unpublished queued job, setting
            # queued and unpublished changes nothing but the lease.
            conn.execute(
                "UPDATE jobs SET status = 'queued', published = 0, updated_at = ?"
                " WHERE tracking_id IN (SELECT value FROM json_each(?))",
                (time.time(), json.dumps(claimed)),
            )
            return self._select(conn, claimed)

        return self._commit(op)

    # -- retention ----------------------------------------------------------------

    @_translated()
    def expire_finished(self, before: float, limit: int = 1000) -> int:
        self.callbacks.ensure()

        def op(conn: sqlite3.Connection) -> int:
            # jobs_updated walks the old end of the table; in-flight jobs there are few.
            expired = json.dumps([row[0] for row in conn.execute(
                "SELECT tracking_id FROM jobs INDEXED BY jobs_updated WHERE updated_at < ?"
                " AND status IN (?, ?) ORDER BY updated_at LIMIT ?",
                (before, *FINAL_STATUSES, limit))])
            SqliteCallbacks.forget(conn, expired)  # a job's callback goes with it
            return conn.execute("DELETE FROM jobs WHERE tracking_id IN"
                                " (SELECT value FROM json_each(?))", (expired,)).rowcount

        return self._commit(op)

    @_translated()
    def expire_idempotency_keys(self, before: float, limit: int = 1000) -> int:
        def op(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency"
                " INDEXED BY idempotency_created WHERE created_at < ?"
                " ORDER BY created_at LIMIT ?)", (before, limit)).rowcount

        return self._commit(op)

    # -- lifecycle ----------------------------------------------------------------

    @_translated()
    def ping(self) -> None:
        self._query("SELECT COUNT(*) FROM sqlite_master")

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            mine = [conn for conn in self._open if conn.pid == os.getpid()]
            self._open = weakref.WeakSet()
        for conn in mine:
            conn.close()
        self._writer.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"


def _version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION; call inside a write transaction."""
    # Read again under the lock: another process may have upgraded the file meanwhile,
    # and ALTER TABLE must not run twice.
    version = _version(conn)
    if version == 0:
        for statement in SCHEMA:
            conn.execute(statement)
    else:
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def _model_filter(model: str | None, *conditions: str) -> tuple[str, list[Any]]:
    """A WHERE clause; the model's parameter comes first, the caller appends the rest."""
    clauses, params = [], []
    if model is not None:
        clauses.append("model = ?")
        params.append(model)
    clauses.extend(conditions)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _to_row(job: Job) -> tuple[Any, ...]:
    return (
        job.tracking_id, job.model, _dumps(job.input), Status(job.status).value,
        _dumps(job.result), job.error, job.model_version, job.created_at, job.updated_at,
        int(job.published), job.attempts, job.owner,
    )


def _to_job(row: tuple[Any, ...]) -> Job:
    (tid, model, input_, status, result, error, version, created, updated, published,
     attempts, owner) = row
    return Job(
        model=model,
        input=json.loads(input_),
        tracking_id=tid,
        status=Status(status),
        result=None if result is None else json.loads(result),
        error=error,
        model_version=version,
        created_at=created,
        updated_at=updated,
        published=bool(published),
        attempts=attempts,
        owner=owner,
    )
