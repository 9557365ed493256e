"""Operational endpoints: models, queue, health, metrics, and the UI page."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from api.context import services
from predictq import metrics, monitoring

bp = Blueprint("ops", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/v1/models")
def models():
    return jsonify({"models": monitoring.model_report(services())})


@bp.get("/v1/queue")
def queue():
    return jsonify({"queues": monitoring.queue_report(services()),
                    "dead_letter": monitoring.dead_letter_report(services()),
                    "streams": monitoring.stream_report(services())})


@bp.get("/healthz")
def healthz():
    ok, report = monitoring.health(services())
    return jsonify(report), 200 if ok else 503


@bp.get("/metrics")
def prometheus():
    body, content_type = metrics.exposition(monitoring.StoreCollector(services()))
    return Response(body, content_type=content_type)
