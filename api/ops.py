"""Operational endpoints: models, queue, health, metrics, and the UI page."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from api import schemas
from api.context import services
from api.declare import Reply, declare
from predictq import metrics, monitoring

bp = Blueprint("ops", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/v1/models")
@declare("Each model, the version serving it, its evaluation metrics", tag="models",
         ok={200: schemas.MODELS}, errors=(503,))
def models():
    return jsonify({"models": monitoring.model_report(services())})


@bp.get("/v1/queue")
@declare("Per queue: depth, consumers, rates, oldest waiting age", tag="operations",
         ok={200: schemas.QUEUE}, errors=(503,))
def queue():
    return jsonify({"queues": monitoring.queue_report(services()),
                    "dead_letter": monitoring.dead_letter_report(services()),
                    "streams": monitoring.stream_report(services())})


@bp.get("/healthz")
@declare("Liveness, and the state of the broker, the store and each model",
         tag="operations", ok={200: schemas.HEALTH,
                               503: Reply(schemas.HEALTH, "The store or the broker is down.")})
def healthz():
    ok, report = monitoring.health(services())
    return jsonify(report), 200 if ok else 503


@bp.get("/metrics")
@declare("Prometheus metrics", tag="operations",
         ok={200: Reply(None, "Prometheus text format.", media_type="text/plain")})
def prometheus():
    body, content_type = metrics.exposition(monitoring.StoreCollector(services()))
    return Response(body, content_type=content_type)
