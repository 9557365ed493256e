"""The sensor-stream tables of the SQLite store (predictq.store.sensors for the rules).

Runs inside the job store's file and write path (`SqliteStore._commit`): one write
transaction, shared with concurrent threads, is what makes `append` all-or-nothing and
`apply` atomic, checkpoint included.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from predictq import jsoncodec
from predictq.store.sensors import SensorStore, split_new
from predictq.store.sqlite_errors import translated
from predictq.streams.records import (
    Alert,
    Appended,
    Batch,
    Checkpoint,
    Event,
    Reading,
    ReadingResult,
    SensorInfo,
    StreamUpdate,
)

if TYPE_CHECKING:
    from predictq.store.sqlite import SqliteStore

SENSOR_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sensors (
        sensor_id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        last_t REAL,
        last_seq INTEGER,
        batches INTEGER NOT NULL DEFAULT 0,
        readings INTEGER NOT NULL DEFAULT 0,
        last_accepted_at REAL,
        applied_n INTEGER NOT NULL DEFAULT 0,
        applied_t REAL,
        state TEXT,
        events INTEGER NOT NULL DEFAULT 0,
        anomalies INTEGER NOT NULL DEFAULT 0,
        alerts INTEGER NOT NULL DEFAULT 0,
        versions TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS sensor_batches (
        sensor_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        first_t REAL NOT NULL,
        last_t REAL NOT NULL,
        readings TEXT NOT NULL,
        results TEXT,
        created_at REAL NOT NULL,
        published INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (sensor_id, n)
    )""",
    "CREATE INDEX IF NOT EXISTS sensor_batches_time ON sensor_batches (sensor_id, last_t)",
    "CREATE INDEX IF NOT EXISTS sensor_batches_age ON sensor_batches (last_t)",
    """CREATE INDEX IF NOT EXISTS sensor_batches_unpublished ON sensor_batches (created_at)
        WHERE published = 0""",
    """CREATE TABLE IF NOT EXISTS events (
        event_id TEXT PRIMARY KEY,
        sensor_id TEXT NOT NULL,
        start_t REAL NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_sensor_start ON events (sensor_id, start_t)",
    "CREATE INDEX IF NOT EXISTS events_start ON events (start_t)",
    """CREATE TABLE IF NOT EXISTS alerts (
        alert_id TEXT PRIMARY KEY,
        sensor_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        doc TEXT NOT NULL,
        delivered_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created_at)",
    """CREATE INDEX IF NOT EXISTS alerts_due ON alerts (next_attempt_at)
        WHERE delivered_at IS NULL""",
)

SENSOR_COLUMNS = ("sensor_id, created_at, last_t, last_seq, batches, readings, "
                  "last_accepted_at, applied_n, applied_t, events, anomalies, alerts, versions")
BATCH_COLUMNS = "sensor_id, n, readings, results, created_at, published"
ALERT_COLUMNS = "doc, delivered_at, attempts, next_attempt_at, last_error"


class SqliteSensors(SensorStore):
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    # -- intake -------------------------------------------------------------------

    @translated()
    def append(self, sensor_id: str, readings: Sequence[Reading]) -> Appended:
        now = time.time()

        def op(conn: sqlite3.Connection) -> Appended:
            # Under the file's write lock: no other append to this sensor in between.
            row = conn.execute("SELECT last_t, last_seq, batches FROM sensors"
                               " WHERE sensor_id = ?", (sensor_id,)).fetchone()
            last_t, last_seq, n = row if row else (None, None, 0)
            seen_t: set[float] = set()
            seen_seq: set[int] = set()
            if last_t is not None and readings[0].t <= last_t:
                for (text,) in conn.execute(
                        "SELECT readings FROM sensor_batches WHERE sensor_id = ?"
                        " AND last_t >= ?", (sensor_id, readings[0].t)):
                    for t, _, seq in jsoncodec.loads(text):
                        seen_t.add(t)
                        if seq is not None:
                            seen_seq.add(seq)
            if last_seq is not None and any(r.seq is not None and r.seq <= last_seq
                                            for r in readings):
                seen_seq |= self._seqs_from(conn, sensor_id, readings)
            new, duplicates = split_new(sensor_id, readings, last_t, last_seq,
                                        seen_t, seen_seq)
            if not new:
                return Appended(None, 0, duplicates)
            batch = Batch(sensor_id, n + 1, new, now)
            conn.execute(
                f"INSERT INTO sensor_batches ({BATCH_COLUMNS}, first_t, last_t)"
                " VALUES (?, ?, ?, NULL, ?, 0, ?, ?)",
                (sensor_id, batch.n, _dump_readings(new), now, batch.first_t, batch.last_t))
            seqs = [r.seq for r in new if r.seq is not None]
            new_seq = max(seqs) if seqs else last_seq
            if row is None:
                conn.execute(
                    "INSERT INTO sensors (sensor_id, created_at, last_t, last_seq, batches,"
                    " readings, last_accepted_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
                    (sensor_id, now, batch.last_t, new_seq, len(new), now))
            else:
                conn.execute(
                    "UPDATE sensors SET last_t = ?, last_seq = ?, batches = ?,"
                    " readings = readings + ?, last_accepted_at = ? WHERE sensor_id = ?",
                    (batch.last_t, new_seq, batch.n, len(new), now, sensor_id))
            return Appended(batch, len(new), duplicates)

        return self._store._commit(op)

    @staticmethod
    def _seqs_from(conn: sqlite3.Connection, sensor_id: str,
                   readings: Sequence[Reading]) -> set[int]:
        # A repeated seq may come with a new t: look in every batch (rare: only when a
        # client resends with seq numbers and changed times).
        wanted = {r.seq for r in readings if r.seq is not None}
        found: set[int] = set()
        for (text,) in conn.execute("SELECT readings FROM sensor_batches WHERE sensor_id = ?",
                                    (sensor_id,)):
            found |= {seq for _, _, seq in jsoncodec.loads(text) if seq in wanted}
        return found

    @translated()
    def mark_batches_published(self, keys: Sequence[tuple[str, int]]) -> None:
        self._store._commit(lambda conn: conn.executemany(
            "UPDATE sensor_batches SET published = 1 WHERE sensor_id = ? AND n = ?",
            list(keys)))

    @translated()
    def unpublished_batches(self, older_than: float, limit: int = 500) -> list[Batch]:
        rows = self._store._query(
            f"SELECT {BATCH_COLUMNS} FROM sensor_batches INDEXED BY sensor_batches_unpublished"
            " WHERE published = 0 AND created_at <= ? ORDER BY created_at LIMIT ?",
            (older_than, limit))
        return [_to_batch(row) for row in rows]

    @translated()
    def republish_unapplied(self) -> int:
        return self._store._commit(lambda conn: conn.execute(
            "UPDATE sensor_batches SET published = 0 WHERE published = 1 AND n > "
            "(SELECT applied_n FROM sensors WHERE sensors.sensor_id = sensor_batches.sensor_id)"
        ).rowcount)

    # -- the worker's side ----------------------------------------------------------

    @translated()
    def checkpoint(self, sensor_id: str) -> Checkpoint:
        rows = self._store._query("SELECT applied_n, state FROM sensors WHERE sensor_id = ?",
                                  (sensor_id,))
        if not rows:
            return Checkpoint()
        applied_n, state = rows[0]
        return Checkpoint(applied_n, None if state is None else jsoncodec.loads(state))

    @translated()
    def applied_n(self, sensor_id: str) -> int:
        rows = self._store._query("SELECT applied_n FROM sensors WHERE sensor_id = ?",
                                  (sensor_id,))
        return rows[0][0] if rows else 0

    @translated()
    def batches_after(self, sensor_id: str, n: int, limit: int = 100) -> list[Batch]:
        rows = self._store._query(
            f"SELECT {BATCH_COLUMNS} FROM sensor_batches WHERE sensor_id = ? AND n > ?"
            " ORDER BY n LIMIT ?", (sensor_id, n, limit))
        return [_to_batch(row) for row in rows]

    @translated()
    def readings_between(self, sensor_id: str, since: float, until: float,
                         limit: int = 100_000) -> list[tuple[Reading, ReadingResult | None]]:
        rows = self._store._query(
            f"SELECT {BATCH_COLUMNS} FROM sensor_batches INDEXED BY sensor_batches_time"
            " WHERE sensor_id = ? AND last_t >= ? AND first_t <= ? ORDER BY last_t",
            (sensor_id, since, until))
        return _clip([_to_batch(row) for row in rows], since, until, limit)

    @translated()
    def apply(self, updates: Sequence[StreamUpdate]) -> list[bool]:
        def op(conn: sqlite3.Connection) -> list[bool]:
            return [_apply_one(conn, update) for update in updates]

        return self._store._commit(op)

    # -- reads ----------------------------------------------------------------------

    @translated()
    def sensor(self, sensor_id: str) -> SensorInfo | None:
        rows = self._store._query(f"SELECT {SENSOR_COLUMNS} FROM sensors WHERE sensor_id = ?",
                                  (sensor_id,))
        return _to_sensor(rows[0]) if rows else None

    @translated()
    def list_sensors(self, limit: int = 1000) -> list[SensorInfo]:
        rows = self._store._query(
            f"SELECT {SENSOR_COLUMNS} FROM sensors ORDER BY sensor_id LIMIT ?", (limit,))
        return [_to_sensor(row) for row in rows]

    @translated()
    def events(self, sensor_id: str | None = None, since: float | None = None,
               limit: int = 100) -> list[Event]:
        clauses, params = ["start_t >= ?"], [since if since is not None else float("-inf")]
        if sensor_id is not None:
            clauses.append("sensor_id = ?")
            params.append(sensor_id)
        rows = self._store._query(
            f"SELECT doc FROM events WHERE {' AND '.join(clauses)}"
            " ORDER BY start_t DESC LIMIT ?", (*params, limit))
        return [Event(**jsoncodec.loads(doc)) for (doc,) in rows]

    @translated()
    def get_event(self, event_id: str) -> Event | None:
        rows = self._store._query("SELECT doc FROM events WHERE event_id = ?", (event_id,))
        return Event(**jsoncodec.loads(rows[0][0])) if rows else None

    @translated()
    def alerts(self, since: float | None = None, sensor_id: str | None = None,
               limit: int = 100) -> list[Alert]:
        clauses = ["created_at >= ?"]
        params: list[Any] = [since if since is not None else float("-inf")]
        if sensor_id is not None:
            clauses.append("sensor_id = ?")
            params.append(sensor_id)
        rows = self._store._query(
            f"SELECT {ALERT_COLUMNS} FROM alerts WHERE {' AND '.join(clauses)}"
            " ORDER BY created_at DESC, alert_id LIMIT ?", (*params, limit))
        return [_to_alert(row) for row in rows]

    # -- alert delivery -------------------------------------------------------------

    @translated()
    def claim_alerts(self, now: float, lease_s: float, limit: int = 50) -> list[Alert]:
        def op(conn: sqlite3.Connection) -> list[Alert]:
            rows = conn.execute(
                f"SELECT {ALERT_COLUMNS} FROM alerts INDEXED BY alerts_due"
                " WHERE delivered_at IS NULL AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?", (now, limit)).fetchall()
            claimed = [_to_alert(row) for row in rows]
            conn.executemany(
                "UPDATE alerts SET next_attempt_at = ?, attempts = attempts + 1"
                " WHERE alert_id = ?", [(now + lease_s, a.alert_id) for a in claimed])
            for alert in claimed:
                alert.attempts += 1
                alert.next_attempt_at = now + lease_s
            return claimed

        return self._store._commit(op)

    @translated()
    def alert_delivered(self, alert_id: str, at: float) -> None:
        self._store._commit(lambda conn: conn.execute(
            "UPDATE alerts SET delivered_at = ?, last_error = NULL WHERE alert_id = ?",
            (at, alert_id)))

    @translated()
    def alert_failed(self, alert_id: str, error: str, retry_at: float) -> None:
        self._store._commit(lambda conn: conn.execute(
            "UPDATE alerts SET next_attempt_at = ?, last_error = ? WHERE alert_id = ?"
            " AND delivered_at IS NULL", (retry_at, error[:500], alert_id)))

    # -- retention ------------------------------------------------------------------

    @translated()
    def delete_readings_before(self, t: float, limit: int = 1000) -> int:
        def op(conn: sqlite3.Connection) -> int:
            # Only batches their worker has applied: unapplied readings are still work.
            return conn.execute(
                "DELETE FROM sensor_batches WHERE rowid IN (SELECT b.rowid FROM"
                " sensor_batches b JOIN sensors s ON s.sensor_id = b.sensor_id"
                " WHERE b.last_t < ? AND b.n <= s.applied_n LIMIT ?)", (t, limit)).rowcount

        return self._store._commit(op)


def _apply_one(conn: sqlite3.Connection, u: StreamUpdate) -> bool:
    row = conn.execute("SELECT applied_n FROM sensors WHERE sensor_id = ?",
                       (u.sensor_id,)).fetchone()
    if row is None or row[0] != u.from_n:
        return False  # another pass got there first: this one is stale
    conn.executemany(
        "UPDATE sensor_batches SET results = ? WHERE sensor_id = ? AND n = ?",
        [(_dump_results(results), u.sensor_id, n) for n, results in u.results.items()])
    new_events = 0
    for event in u.events:
        new_events += conn.execute(
            "INSERT OR IGNORE INTO events (event_id, sensor_id, start_t, doc)"
            " VALUES (?, ?, ?, ?)",
            (event.event_id, event.sensor_id, event.start_t, _dumps(vars(event)))).rowcount
    new_alerts = 0
    for alert in u.alerts:
        new_alerts += conn.execute(
            "INSERT OR IGNORE INTO alerts (alert_id, sensor_id, created_at, doc,"
            " next_attempt_at) VALUES (?, ?, ?, ?, ?)",
            (alert.alert_id, alert.sensor_id, alert.created_at, _dumps(_alert_doc(alert)),
             alert.next_attempt_at)).rowcount
    for event_id, context in u.context_after.items():
        found = conn.execute("SELECT doc FROM events WHERE event_id = ?",
                             (event_id,)).fetchone()
        if found:
            doc = jsoncodec.loads(found[0])
            doc["context_after"] = context
            conn.execute("UPDATE events SET doc = ? WHERE event_id = ?",
                         (_dumps(doc), event_id))
    # The newest reading applied is the last of batch to_n (a sensor's batches are in
    # time order), not something the worker's opaque state may or may not carry. None
    # when retention already removed it (to_n == from_n): the stored value stays.
    found = conn.execute("SELECT last_t FROM sensor_batches WHERE sensor_id = ? AND n = ?",
                         (u.sensor_id, u.to_n)).fetchone()
    applied_t = found[0] if found else None
    conn.execute(
        "UPDATE sensors SET applied_n = ?, state = ?, applied_t = COALESCE(?, applied_t),"
        " events = events + ?, alerts = alerts + ?, anomalies = anomalies + ?,"
        " versions = ? WHERE sensor_id = ?",
        (u.to_n, _dumps(u.state), applied_t, new_events, new_alerts, u.anomalies,
         _dumps(u.state.get("versions", {})), u.sensor_id))
    return True


def _clip(batches: list[Batch], since: float, until: float,
          limit: int) -> list[tuple[Reading, ReadingResult | None]]:
    out: list[tuple[Reading, ReadingResult | None]] = []
    for batch in sorted(batches, key=lambda b: b.n):
        results = batch.results or [None] * len(batch.readings)
        for reading, result in zip(batch.readings, results, strict=True):
            if since <= reading.t <= until:
                out.append((reading, result))
                if len(out) >= limit:
                    return out
    return out


def _dumps(value: Any) -> str:
    return jsoncodec.dumps(value)


def _dump_readings(readings: Sequence[Reading]) -> str:
    return _dumps([[r.t, r.value, r.seq] for r in readings])


def _dump_results(results: Sequence[ReadingResult]) -> str:
    return _dumps([[r.smoothed, r.score, int(r.anomalous)] for r in results])


def load_readings(text: str) -> list[Reading]:
    return [Reading(t, value, seq) for t, value, seq in jsoncodec.loads(text)]


def load_results(text: str | None) -> list[ReadingResult] | None:
    if text is None:
        return None
    return [ReadingResult(s, score, bool(a)) for s, score, a in jsoncodec.loads(text)]


def _to_batch(row: tuple[Any, ...]) -> Batch:
    sensor_id, n, readings, results, created_at, published = row
    return Batch(sensor_id, n, load_readings(readings), created_at, bool(published),
                 load_results(results))


def _to_sensor(row: tuple[Any, ...]) -> SensorInfo:
    (sensor_id, created_at, last_t, last_seq, batches, readings, last_accepted_at,
     applied_n, applied_t, events, anomalies, alerts, versions) = row
    return SensorInfo(sensor_id, created_at, last_t, last_seq, batches, readings,
                      last_accepted_at, applied_n, applied_t, events, anomalies, alerts,
                      jsoncodec.loads(versions) if versions else {})


def _alert_doc(alert: Alert) -> dict[str, Any]:
    return {"alert_id": alert.alert_id, "sensor_id": alert.sensor_id, "kind": alert.kind,
            "t": alert.t, "created_at": alert.created_at, "message": alert.message,
            "details": alert.details}


def _to_alert(row: tuple[Any, ...]) -> Alert:
    doc, delivered_at, attempts, next_attempt_at, last_error = row
    return Alert(**jsoncodec.loads(doc), delivered_at=delivered_at, attempts=attempts,
                 next_attempt_at=next_attempt_at, last_error=last_error)
