"""The model-lifecycle tables of the SQLite store (predictq.store.models for the rules).

Writes run in the job store's shared write transaction (`SqliteStore._commit`), whose
file lock is what serialises two switches or two feedbacks on one job.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from predictq.errors import StaleDecision
from predictq.lifecycle.records import (
    Action,
    Feedback,
    Serving,
    ShadowResult,
    Switch,
    VersionCount,
)
from predictq.store.models import ModelStore, apply_switch, merge_feedback
from predictq.store.sqlite_errors import translated

if TYPE_CHECKING:
    from predictq.store.sqlite import SqliteStore

MODEL_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS model_serving (
        model TEXT PRIMARY KEY,
        version TEXT,
        shadow TEXT,
        generation INTEGER NOT NULL,
        changed_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS model_switches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        action TEXT NOT NULL,
        version TEXT,
        previous TEXT,
        at REAL NOT NULL,
        reason TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS model_switches_model ON model_switches (model, id)",
    """CREATE TABLE IF NOT EXISTS feedback (
        tracking_id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        version TEXT,
        label TEXT NOT NULL,
        predicted TEXT,
        input TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        history TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS feedback_model ON feedback (model, updated_at)",
    """CREATE TABLE IF NOT EXISTS shadow_results (
        tracking_id TEXT NOT NULL,
        version TEXT NOT NULL,
        model TEXT NOT NULL,
        served_version TEXT,
        label TEXT,
        served_label TEXT,
        at REAL NOT NULL,
        PRIMARY KEY (tracking_id, version)
    )""",
    "CREATE INDEX IF NOT EXISTS shadow_results_model ON shadow_results (model, version, at)",
    """CREATE TABLE IF NOT EXISTS learning_rounds (
        model TEXT NOT NULL,
        feedback_count INTEGER NOT NULL,
        claimed_at REAL NOT NULL,
        PRIMARY KEY (model, feedback_count)
    )""",
)

FEEDBACK_COLUMNS = ("tracking_id, model, version, label, predicted, input, created_at,"
                    " updated_at, history")
SHADOW_COLUMNS = "tracking_id, model, version, served_version, label, served_label, at"


class SqliteModels(ModelStore):
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    @translated()
    def serving(self) -> dict[str, Serving]:
        rows = self._store._query(
            "SELECT model, version, shadow, generation, changed_at FROM model_serving")
        return {row[0]: Serving(*row) for row in rows}

    @translated()
    def switch(self, model: str, action: Action, version: str | None,
               reason: str = "", expect_generation: int | None = None) -> Switch:
        action = Action(action)
        now = time.time()

        def op(conn: sqlite3.Connection) -> Switch:
            row = conn.execute("SELECT version, shadow, generation FROM model_serving"
                               " WHERE model = ?", (model,)).fetchone()
            serving, shadow, generation = row if row else (None, None, 0)
            if expect_generation is not None and expect_generation != generation:
                raise StaleDecision(
                    f"model {model!r} changed meanwhile (generation {generation}, "
                    f"expected {expect_generation}); look again and retry")
            serving, shadow, previous = apply_switch(action, version, serving, shadow)
            conn.execute(
                "INSERT INTO model_serving (model, version, shadow, generation, changed_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (model) DO UPDATE SET"
                " version = excluded.version, shadow = excluded.shadow,"
                " generation = excluded.generation, changed_at = excluded.changed_at",
                (model, serving, shadow, generation + 1, now))
            conn.execute(
                "INSERT INTO model_switches (model, action, version, previous, at, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (model, action.value, version, previous, now, reason))
            return Switch(model, action, version, previous, now, reason)

        return self._store._commit(op)

    @translated()
    def history(self, model: str, limit: int = 50) -> list[Switch]:
        rows = self._store._query(
            "SELECT model, action, version, previous, at, reason FROM model_switches"
            " WHERE model = ? ORDER BY id DESC LIMIT ?", (model, limit))
        return [Switch(m, Action(a), v, p, at, r) for m, a, v, p, at, r in rows]

    @translated()
    def put_feedback(self, feedback: Feedback) -> Feedback:
        def op(conn: sqlite3.Connection) -> Feedback:
            row = conn.execute(f"SELECT {FEEDBACK_COLUMNS} FROM feedback"
                               " WHERE tracking_id = ?", (feedback.tracking_id,)).fetchone()
            stored = _to_feedback(row) if row else None
            merged = merge_feedback(stored, feedback)
            if merged is not stored:
                conn.execute(
                    f"INSERT OR REPLACE INTO feedback ({FEEDBACK_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _feedback_row(merged))
            return merged

        return self._store._commit(op)

    @translated()
    def get_feedback(self, tracking_id: str) -> Feedback | None:
        rows = self._store._query(f"SELECT {FEEDBACK_COLUMNS} FROM feedback"
                                  " WHERE tracking_id = ?", (tracking_id,))
        return _to_feedback(rows[0]) if rows else None

    @translated()
    def feedback(self, model: str, limit: int = 100_000,
                 with_input: bool = True) -> list[Feedback]:
        columns = FEEDBACK_COLUMNS if with_input else FEEDBACK_COLUMNS.replace(
            "input", "'{}'")
        rows = self._store._query(
            f"SELECT {columns} FROM feedback WHERE model = ?"
            " ORDER BY updated_at DESC, tracking_id LIMIT ?", (model, limit))
        return [_to_feedback(row) for row in reversed(rows)]

    @translated()
    def feedback_count(self, model: str) -> int:
        return self._store._query("SELECT COUNT(*) FROM feedback WHERE model = ?",
                                  (model,))[0][0]

    @translated()
    def put_shadow(self, results: Sequence[ShadowResult]) -> None:
        rows = [(r.tracking_id, r.model, r.version, r.served_version, r.label,
                 r.served_label, r.at) for r in results]
        if rows:
            self._store._commit(lambda conn: conn.executemany(
                f"INSERT OR IGNORE INTO shadow_results ({SHADOW_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", rows))

    @translated()
    def shadow_results(self, model: str, version: str | None = None,
                       tracking_ids: Sequence[str] | None = None,
                       limit: int = 100_000) -> list[ShadowResult]:
        where, params = ["model = ?"], [model]
        if version is not None:
            where.append("version = ?")
            params.append(version)
        if tracking_ids is not None:
            where.append("tracking_id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(tracking_ids)))
        rows = self._store._query(
            f"SELECT {SHADOW_COLUMNS} FROM shadow_results WHERE {' AND '.join(where)}"
            " ORDER BY at DESC LIMIT ?", [*params, limit])
        return [ShadowResult(*row) for row in rows]

    @translated()
    def shadow_summary(self, model: str) -> dict[str, tuple[int, int]]:
        rows = self._store._query(
            "SELECT version, COUNT(*), SUM(label IS served_label) FROM shadow_results"
            " WHERE model = ? GROUP BY version", (model,))
        return {version: (n, int(agree or 0)) for version, n, agree in rows}

    @translated()
    def prediction_counts(self, model: str) -> list[VersionCount]:
        rows = self._store._query(
            "SELECT model_version, COUNT(*), MIN(updated_at), MAX(updated_at) FROM jobs"
            " WHERE model = ? AND status = 'done' AND model_version IS NOT NULL"
            " GROUP BY model_version ORDER BY MIN(updated_at)", (model,))
        return [VersionCount(*row) for row in rows]

    @translated()
    def claim_learning(self, model: str, feedback_count: int) -> bool:
        return self._store._commit(lambda conn: conn.execute(
            "INSERT OR IGNORE INTO learning_rounds VALUES (?, ?, ?)",
            (model, feedback_count, time.time())).rowcount == 1)


def _feedback_row(f: Feedback) -> tuple[Any, ...]:
    return (f.tracking_id, f.model, f.version, f.label, f.predicted, json.dumps(f.input),
            f.created_at, f.updated_at, json.dumps(list(f.history)))


def _to_feedback(row: tuple[Any, ...]) -> Feedback:
    tid, model, version, label, predicted, input_, created, updated, history = row
    return Feedback(tid, model, version, label, predicted, json.loads(input_), created,
                    updated, tuple(json.loads(history)))
