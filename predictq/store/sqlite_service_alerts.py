"""Service alerts in the SQLite store (predictq.store.service_alerts for the rules).

The tables are created on first use (`CREATE TABLE IF NOT EXISTS`, in the store's shared
write transaction) rather than by a schema migration: they are new, nothing else reads
them, and a file that never evaluates alerts never grows them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from predictq.store.service_alerts import (
    FIRING,
    PENDING,
    Notification,
    ServiceAlert,
    ServiceAlertStore,
)
from predictq.store.sqlite_errors import translated

if TYPE_CHECKING:
    from predictq.store.sqlite import SqliteStore

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS service_alerts (
        alert_id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        subject TEXT NOT NULL,
        state TEXT NOT NULL,
        since REAL NOT NULL,
        value REAL,
        threshold REAL,
        message TEXT NOT NULL,
        opened_at REAL,
        resolved_at REAL,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS service_alerts_state ON service_alerts (state, since)",
    "CREATE INDEX IF NOT EXISTS service_alerts_updated ON service_alerts (updated_at)",
    """CREATE TABLE IF NOT EXISTS service_alert_notifications (
        notification_id TEXT PRIMARY KEY,
        alert_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        delivered_at REAL,
        last_error TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS service_alert_notifications_due
        ON service_alert_notifications (next_attempt_at) WHERE delivered_at IS NULL""",
    """CREATE TABLE IF NOT EXISTS service_alert_rounds (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        next_at REAL NOT NULL
    )""",
)

ALERT_COLUMNS = ("alert_id, rule, subject, state, since, value, threshold, message,"
                 " opened_at, resolved_at, updated_at")
NOTE_COLUMNS = ("notification_id, alert_id, kind, body, created_at, attempts,"
                " next_attempt_at, delivered_at, last_error")


class SqliteServiceAlerts(ServiceAlertStore):
    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._ready = False

    def _ensure(self) -> None:
        if not self._ready:
            self._store._commit(lambda conn: [conn.execute(s) for s in SCHEMA])
            self._ready = True

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._ensure()
        return self._store._query(sql, params)

    def _commit(self, op):
        self._ensure()
        return self._store._commit(op)

    @translated()
    def claim_round(self, now: float, interval_s: float) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return conn.execute(
                "INSERT INTO service_alert_rounds (id, next_at) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET next_at = excluded.next_at"
                " WHERE service_alert_rounds.next_at <= ?",
                (now + interval_s, now)).rowcount == 1

        return self._commit(op)

    @translated()
    def active(self) -> list[ServiceAlert]:
        rows = self._query(f"SELECT {ALERT_COLUMNS} FROM service_alerts"
                           " WHERE state IN (?, ?) ORDER BY since", (PENDING, FIRING))
        return [_to_alert(row) for row in rows]

    @translated()
    def recent(self, limit: int = 50) -> list[ServiceAlert]:
        rows = self._query(f"SELECT {ALERT_COLUMNS} FROM service_alerts"
                           " WHERE state != ? ORDER BY updated_at DESC LIMIT ?",
                           (PENDING, limit))
        return [_to_alert(row) for row in rows]

    @translated()
    def apply(self, upserts: Sequence[ServiceAlert], deletes: Sequence[str],
              notifications: Sequence[Notification]) -> None:
        alerts = [(a.alert_id, a.rule, a.subject, a.state, a.since, a.value, a.threshold,
                   a.message, a.opened_at, a.resolved_at, a.updated_at) for a in upserts]
        notes = [(n.notification_id, n.alert_id, n.kind, json.dumps(n.body), n.created_at,
                  n.attempts, n.next_attempt_at, n.delivered_at, n.last_error)
                 for n in notifications]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(f"INSERT OR REPLACE INTO service_alerts ({ALERT_COLUMNS})"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", alerts)
            conn.executemany("DELETE FROM service_alerts WHERE alert_id = ?",
                             [(d,) for d in deletes])
            conn.executemany(
                f"INSERT OR IGNORE INTO service_alert_notifications ({NOTE_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", notes)

        self._commit(op)

    @translated()
    def notifications(self, limit: int = 50) -> list[Notification]:
        rows = self._query(f"SELECT {NOTE_COLUMNS} FROM service_alert_notifications"
                           " ORDER BY created_at DESC, notification_id DESC LIMIT ?",
                           (limit,))
        return [_to_note(row) for row in rows]

    @translated()
    def claim_due(self, now: float, lease_s: float, limit: int = 10) -> list[Notification]:
        def op(conn: sqlite3.Connection) -> list[Notification]:
            rows = conn.execute(
                f"SELECT {NOTE_COLUMNS} FROM service_alert_notifications"
                " WHERE delivered_at IS NULL AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?", (now, limit)).fetchall()
            claimed = [_to_note(row) for row in rows]
            conn.executemany(
                "UPDATE service_alert_notifications SET next_attempt_at = ?,"
                " attempts = attempts + 1 WHERE notification_id = ?",
                [(now + lease_s, n.notification_id) for n in claimed])
            for n in claimed:
                n.attempts += 1
                n.next_attempt_at = now + lease_s
            return claimed

        return self._commit(op)

    @translated()
    def delivered(self, notification_id: str, at: float) -> None:
        self._commit(lambda conn: conn.execute(
            "UPDATE service_alert_notifications SET delivered_at = ?, last_error = NULL"
            " WHERE notification_id = ?", (at, notification_id)))

    @translated()
    def failed(self, notification_id: str, error: str, retry_at: float) -> None:
        self._commit(lambda conn: conn.execute(
            "UPDATE service_alert_notifications SET next_attempt_at = ?, last_error = ?"
            " WHERE notification_id = ? AND delivered_at IS NULL",
            (retry_at, error[:500], notification_id)))


def _to_alert(row: tuple[Any, ...]) -> ServiceAlert:
    (_, rule, subject, state, since, value, threshold, message, opened, resolved,
     updated) = row
    return ServiceAlert(rule, subject, state, since, value, threshold, message, opened,
                        resolved, updated)


def _to_note(row: tuple[Any, ...]) -> Notification:
    nid, alert_id, kind, body, created, attempts, next_at, delivered, error = row
    return Notification(nid, alert_id, kind, json.loads(body), created, attempts, next_at,
                        delivered, error)
