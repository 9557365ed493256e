"""The monitoring dashboard: its page, and `GET /v1/monitor`, everything one refresh
shows in one request.

The answer is a sample of now; the history the charts draw is kept by the browser
since the page opened (no ring on the server: under gunicorn each API process would
hold a different one, and a reload showing an empty chart for a minute is honest).
Each request also evaluates the service alert rules if the fleet's round is due, so
the rules run while someone watches even with no worker up.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template

from api import schemas, sse
from api.context import services
from api.declare import Reply, declare
from api.waiting import WAIT, wait_seconds
from predictq import monitoring, presence
from predictq.broadcast import Broadcast, shared
from predictq.errors import PredictqError
from predictq.service_alerts import monitor, observe
from predictq.service_alerts.delivery import webhook_url
from predictq.service_alerts.rules import Rules
from predictq.services import Services
from predictq.store.latency import percentile
from predictq.store.service_alerts import FIRING

bp = Blueprint("monitor", __name__)

RATE_WINDOW_S = 10.0  # short, so that a chart sampled every 2 s moves with the load
LATENCY_WINDOW_S = 60.0
LATENCY_SAMPLE = 5000  # the newest done jobs the percentiles are taken over, at most
SAMPLE_EVERY_S = 2.0  # the stream's interval, the dashboard's refresh


@bp.get("/dashboard")
def dashboard():
    return render_template("dashboard.html")


@bp.get("/v1/monitor")
@declare("Everything one refresh of the dashboard shows", tag="operations",
         ok={200: schemas.MONITOR})
def monitor_sample():
    return jsonify(sample(services()))


@bp.get("/v1/monitor/events")
@declare("The dashboard's samples as they are taken (server-sent events)", tag="operations",
         params=(WAIT,), errors=(400,),
         description="One `sample` event (data: what GET /v1/monitor answers) every 2 s, "
                     "for `wait` seconds (default and most: PREDICTQ_WAIT_MAX_S); then the "
                     "stream ends and the client opens another. One sample per interval "
                     "per API process, however many pages follow it.",
         ok={200: Reply(schemas.sse_event(["sample"], schemas.MONITOR),
                        "An event stream; each event's data is a sample.",
                        media_type="text/event-stream")})
def monitor_events():
    svc = services()
    seconds = wait_seconds(default=svc.settings.wait_max_s)
    samples = shared(broadcasts(), "monitor", lambda: sample(svc), SAMPLE_EVERY_S)
    return sse.response(sse.event("sample", value) for value in samples.subscribe(seconds))


def broadcasts() -> dict[str, Broadcast]:
    """This API process's live values (the dashboard's samples, the sensor views)."""
    return current_app.extensions.setdefault("predictq.broadcasts", {})


def sample(s: Services) -> dict[str, Any]:
    now = time.time()
    with contextlib.suppress(PredictqError):  # the snapshot says which part is down
        monitor.evaluate_if_due(s.settings, s.store, s.publisher, now)
    snap = observe.snapshot(s.store, s.publisher, now)
    out: dict[str, Any] = {
        "at": now,
        "health": {"store": _part(snap.store_error), "broker": _part(snap.broker_error)},
        "queues": snap.queues,
        "dead_letter": snap.dead_letter,
        "streams": snap.streams,
        "rates": None,
        "latency": None,
        "workers": _workers(s),
        "unavailable_models": {name: m["error"] for name, m in
                               monitoring.model_health(s).items() if not m["ok"]},
        "alerts": None,
        "rules": _rules(s),
    }
    if not snap.store_ok:
        return out
    try:
        store = s.store
        out["rates"] = {
            "window_s": RATE_WINDOW_S,
            "submitted_per_s": round(store.count_created_since(now - RATE_WINDOW_S)
                                     / RATE_WINDOW_S, 3),
            "completed_per_s": round(store.count_finished_since(now - RATE_WINDOW_S)
                                     / RATE_WINDOW_S, 3),
        }
        latencies = store.latency.finished_since(now - LATENCY_WINDOW_S, LATENCY_SAMPLE)
        out["latency"] = {"window_s": LATENCY_WINDOW_S, "jobs": len(latencies),
                          "p50_s": _round(percentile(latencies, 0.50)),
                          "p99_s": _round(percentile(latencies, 0.99))}
        active = store.service_alerts.active()
        out["alerts"] = {
            "firing": [a.to_public() for a in active if a.state == FIRING],
            "pending": [a.to_public() for a in active if a.state != FIRING],
            "recent": [a.to_public() for a in store.service_alerts.recent(20)],
        }
    except PredictqError as exc:
        out["health"]["store"] = _part(exc.message)
    return out


def _part(error: str | None) -> dict[str, Any]:
    return {"ok": True} if error is None else {"ok": False, "error": error}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _workers(s: Services) -> dict[str, Any]:
    """Each worker and the queues it consumes — known on the embedded transport only,
    where workers report themselves; RabbitMQ counts consumers per queue instead."""
    if not s.settings.uses_embedded_broker:
        return {"known": False, "list": []}
    beats = sorted(presence.reports(s.settings), key=lambda b: b["worker"])
    return {"known": True, "list": [
        {"worker": b["worker"], "families": list(b.get("families", ())),
         "unavailable": dict(b.get("unavailable") or {})} for b in beats]}


def _rules(s: Services) -> dict[str, Any]:
    rules = Rules.from_settings(s.settings)
    return {"queue_depth": rules.queue_depth, "queue_depth_for_s": rules.queue_depth_for_s,
            "oldest_age_s": rules.oldest_age_s, "dead_letters": rules.dead_letters,
            "no_consumer_for_s": rules.no_consumer_for_s, "down_for_s": rules.down_for_s,
            "interval_s": s.settings.service_alert_interval_s,
            "webhook": bool(webhook_url(s.settings))}
